//! certrail: digital product conformity certificates (产品合格证), signed QR labels and
//! their verification.
//!
//! Layers, each importing only its own and those below it (`tests/api/layout.rs` checks this,
//! and that no modules import each other round a loop):
//! `startup → openapi → routes / web / cli → http → pilot → service → error → crypto / db /
//! print → config / metrics / qr → domain`. ARCHITECTURE.md says where each capability lives.

pub mod cli;
pub mod config;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod metrics;
pub mod openapi;
pub mod pilot;
pub mod print;
pub mod qr;
pub mod routes;
pub mod service;
pub mod startup;
pub mod web;

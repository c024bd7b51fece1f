//! certrail: digital product conformity certificates (产品合格证), signed QR labels and
//! their verification.
//!
//! Layers, imported strictly top to bottom:
//! `startup → openapi → routes / web / cli → http → pilot → service → crypto, db → domain, qr,
//! print, error, config, metrics`.

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

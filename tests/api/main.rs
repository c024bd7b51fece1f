//! End-to-end tests through the real application: one binary, a fresh database per test
//! (temp-file SQLite, or a fresh PostgreSQL schema when `TEST_DATABASE_URL` is set).

// A failed expectation is the test's (or the benchmark's) answer: unwrap and expect are fine here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;
mod keys;
mod pg_cluster;
mod process;

mod admin;
mod auth;
mod authz;
mod bad_input;
mod bulk;
mod cases;
mod claims;
mod cli;
mod cluster;
mod complaints;
mod console;
mod credentials;
mod custody;
mod deploy;
mod digital_link;
mod exports;
mod faults;
mod front_door;
mod labels;
mod layout;
mod marks;
mod merkle;
mod migrations;
mod offline;
mod ops;
mod oversight;
mod pages;
mod promises;
mod reports;
mod restore;
mod running;
mod scans;
mod stories;
mod tampering;
mod tokens;
mod trail;
mod transparency;
mod trust;
mod webhooks;
mod workflow_pages;
mod xss;

//! Row structs, one file per table, each with the queries that table answers.

pub mod accreditation;
pub mod audit;
pub mod case;
pub mod certificate;
pub mod change;
pub mod claim;
pub mod complaint;
pub mod credential;
pub mod draft;
pub mod event;
pub mod gtin_owner;
pub mod idempotency;
pub mod lineage;
pub mod log_hashes;
pub mod mark;
pub mod organization;
pub mod platform;
pub mod product;
pub mod recall;
pub mod sanction;
pub mod scan;
pub mod shipment;
pub mod signing_key;
pub mod statistics;
pub mod tlog;
pub mod token;
pub mod user;
pub mod warning;
pub mod webhook;

pub use accreditation::Accreditation;
pub use complaint::Complaint;
pub use event::EventRow;
pub use idempotency::IdempotencyKey;
pub use mark::MarkRecord;
pub use recall::Recall;
pub use scan::{ScanBatch, StoredSignals};

pub use certificate::Certificate;
pub use organization::Organization;
pub use product::Product;
pub use signing_key::SigningKeyRow;
pub use token::ApiToken;
pub use user::{Session, User};
pub use warning::SeenWarning;

/// Rows per multi-row INSERT: 14 columns × 500 stays well under SQLite's 32,766 bound
/// parameters (and PostgreSQL's 65,535).
const INSERT_CHUNK: usize = 500;

/// The current UTC time, truncated to whole seconds (as stored).
pub fn now() -> chrono::NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    now - chrono::Duration::nanoseconds(i64::from(chrono::Timelike::nanosecond(&now)))
}

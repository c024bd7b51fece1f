//! Warnings kept for regulators: the region's list of labels that look copied or forged. The
//! verification answer computes
//! warnings afresh on every scan; the ones that point at copied labels (and scans of forged
//! labels) are also stored by the scan writer, once per label and signal, so the region's
//! dashboard can list them until the certificate is acted on (suspended, revoked or recalled).

use crate::db::models::scan::forged_in_region;
use crate::db::models::warning::OpenWarningRow;
use crate::db::models::SeenWarning;
use crate::db::DbConn;
use crate::error::AppResult;

/// An open warning as a regulator's list shows it.
#[derive(Debug, Clone)]
pub struct OpenWarning {
    pub certificate_id: String,
    /// The unit serial, for a unit label.
    pub serial: Option<i64>,
    pub code: String,
    pub first_seen: String,
    pub batch_no: String,
    pub producer: String,
}

impl From<OpenWarningRow> for OpenWarning {
    fn from(row: OpenWarningRow) -> Self {
        OpenWarning {
            certificate_id: row.certificate_id,
            serial: (row.serial > 0).then_some(row.serial),
            code: row.code,
            first_seen: row.first_seen.format("%Y-%m-%d %H:%M").to_string(),
            batch_no: row.batch_no,
            producer: row.producer,
        }
    }
}

/// Open warnings in a region (by region-code prefix): how many, and the newest `limit`.
pub fn open_in_region(
    conn: &mut DbConn,
    prefix: &str,
    limit: i64,
) -> AppResult<(i64, Vec<OpenWarning>)> {
    let (count, rows) = SeenWarning::open_in_region(conn, prefix, limit)?;
    Ok((count, rows.into_iter().map(OpenWarning::from).collect()))
}

/// A certificate whose forged labels consumers scanned: someone is counterfeiting it.
#[derive(Debug, Clone)]
pub struct Counterfeited {
    pub certificate_id: String,
    pub batch_no: String,
    pub producer: String,
    /// Scans of forged labels in the period.
    pub scans: i64,
}

/// Days of forged-label scans the dashboard counts.
pub const COUNTERFEIT_DAYS: i64 = 7;

/// Certificates of the region whose forged labels were scanned in the last
/// [`COUNTERFEIT_DAYS`] days, most scans first.
pub fn counterfeited_in_region(
    conn: &mut DbConn,
    prefix: &str,
    limit: usize,
) -> AppResult<Vec<Counterfeited>> {
    let from = crate::db::models::now() - chrono::Duration::days(COUNTERFEIT_DAYS);
    Ok(forged_in_region(conn, prefix, from, limit)?
        .into_iter()
        .map(
            |(certificate_id, batch_no, producer, scans)| Counterfeited {
                certificate_id,
                batch_no,
                producer,
                scans,
            },
        )
        .collect())
}

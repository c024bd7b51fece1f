//! Copy signals from consumers' scans, kept for regulators. The verification answer computes
//! warnings afresh on every scan; the ones that point at copied labels are also remembered
//! (once per label and signal) so the region's dashboard can list them until the certificate
//! is acted on (suspended, revoked or recalled).

use crate::db::models::warning::OpenWarningRow;
use crate::db::models::{now, SeenWarning};
use crate::error::{AppError, AppResult};

use super::AppState;

/// Warnings that say nothing about copying (a chain of custody that was never recorded is
/// common while sellers adopt the platform) are not kept.
const NOT_KEPT: [&str; 1] = ["no_intake_recorded"];

/// Remembers the copy signals a consumer's scan of a label raised. Reads first, so a copied
/// label scanned thousands of times writes its warning once.
pub fn remember(
    state: &AppState,
    certificate_id: &str,
    serial: Option<i64>,
    codes: &[&str],
) -> AppResult<()> {
    let serial = serial.unwrap_or(0);
    let codes: Vec<&str> = codes
        .iter()
        .copied()
        .filter(|c| !NOT_KEPT.contains(c))
        .collect();
    if codes.is_empty() {
        return Ok(());
    }
    let mut new = Vec::new();
    {
        let mut conn = state.db.reader()?;
        for code in codes {
            if !SeenWarning::exists(&mut conn, certificate_id, serial, code)? {
                new.push(code);
            }
        }
    }
    for code in new {
        let row = SeenWarning {
            certificate_id: certificate_id.to_string(),
            serial,
            code: code.to_string(),
            first_seen: now(),
        };
        match state.write(|conn| row.insert(conn).map_err(AppError::from)) {
            // Another scan of the same label got there first.
            Ok(()) | Err(AppError::Conflict { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

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
    state: &AppState,
    prefix: &str,
    limit: i64,
) -> AppResult<(i64, Vec<OpenWarning>)> {
    let (count, rows) = SeenWarning::open_in_region(&mut *state.db.reader()?, prefix, limit)?;
    Ok((count, rows.into_iter().map(OpenWarning::from).collect()))
}

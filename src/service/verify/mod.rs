//! Verifying a scanned label (contract §4): is the label's signature the producer's, is the
//! stored record (payload and trail) intact, what is the certificate's status, and do the scans
//! look like a copied label.
//!
//! The path every consumer's phone takes, built to stay fast however popular a label is:
//! - the certificate's record (payload, its signature check, key, status, trail, marks) is read
//!   once into [`cache::VerifyCache`] and dropped when a write changes it;
//! - copy signals come from per-label counters ([`scan_counters`]), never from scan history;
//! - a scan counts only once its label verified; a failed label is counted apart as an
//!   attempted fake of that certificate;
//! - the scan is handed to the group-commit writer, never waited for.
//!
//! [`verify_cached`] answers from memory alone (no connection, no waiting) and is tried first
//! on the async worker; [`verify`] is the same use case allowed to read the database.

pub mod bundle;
pub mod cache;
pub mod invalidation;
pub mod lineage;
pub mod offline;
pub mod record;
pub mod scan_counters;
pub mod scan_writer;
pub mod trail_page;
pub mod trust;
pub mod warm;

use std::sync::Arc;

use chrono::{Duration, NaiveDateTime, Timelike};

use crate::crypto::verification as rules;
use crate::db::models::now;
use crate::db::models::scan::{StoredSignals, ALL_LABELS, BATCH_LABEL};
use crate::db::{PooledConn, ReadFrom};
use crate::domain::copy::{self};
use crate::domain::validate::is_id;
use crate::domain::verdict::{Findings, Verdict};
use crate::error::{AppError, AppResult};

use super::AppState;
use crate::service::tlog::inclusion::{self};
use crate::service::verify::scan_counters::{LabelSignals, Snapshot};
use crate::service::verify::scan_writer::{Forged, Genuine};
use record::Record;

mod answer;
use answer::answer;
pub use answer::{
    marks_today, Answer, CertificateView, LogView, MarkStatus, SharedProof, UnitView, Warning,
};

/// What a label claims: certificate id, unit serial (unit labels) and the `s` parameter.
#[derive(Debug, Clone)]
pub struct Label<'a> {
    pub id: &'a str,
    pub serial: Option<i64>,
    pub signature: Option<&'a str>,
}

/// How the label reached us.
#[derive(Debug, Clone)]
pub enum Source<'a> {
    /// A consumer scan, recorded as an observation (hour and optional region code only).
    Consumer { region: Option<&'a str> },
    /// A seller's intake or another recorded check: not a consumer observation.
    Check,
}

/// The record of certificate `id` (the public lookup by number), from the verification cache
/// or read into it; `None` for an unknown id.
pub fn record(state: &AppState, id: &str) -> AppResult<Option<Arc<Record>>> {
    match is_id(id) {
        true => cached_or_load(state, &mut None, id),
        false => Ok(None),
    }
}

/// The cached record of `id`, or read into the cache on `conn` (checked out if needed).
fn cached_or_load(
    state: &AppState,
    conn: &mut Option<PooledConn>,
    id: &str,
) -> AppResult<Option<Arc<Record>>> {
    if let Some(record) = state.verify.record(id) {
        return Ok(Some(record));
    }
    let epoch = state.verify.epoch();
    let mut loaded = match connection(state, conn).and_then(|c| Record::load(state, c, id)) {
        Err(AppError::Unavailable(cause)) => {
            return state
                .verify
                .last_known(id)
                .map(Some)
                .ok_or(AppError::Unavailable(cause))
        }
        read => read?,
    };
    if loaded.is_none() && crate::db::last_read() == ReadFrom::Replica {
        // Issued on another instance since the replica's last known position: ask the primary
        // before answering `unknown`.
        *conn = None;
        *conn = Some(state.db.reader()?);
        loaded = Record::load(state, connection(state, conn)?, id)?;
    }
    let Some(mut loaded) = loaded else {
        return Ok(None);
    };
    // Read from a replica while the primary was away: said in the answer, and not kept.
    let stale = crate::db::last_read() == ReadFrom::StaleReplica;
    if stale {
        loaded.warnings.push(record::STATUS_NOT_CURRENT);
    }
    let record = Arc::new(loaded);
    if !stale {
        state.verify.keep(epoch, record.clone());
    }
    Ok(Some(record))
}

/// Verifies a label from memory alone: `None` when that needs the database (the record or
/// the label's signals are not cached) or a wait (the scan queue is full). Never blocks.
pub fn verify_cached(state: &AppState, label: &Label<'_>, source: &Source<'_>) -> Option<Answer> {
    if !is_id(label.id) {
        return Some(finish(state, Answer::unknown()));
    }
    let record = state.verify.record(label.id)?;
    let label_findings = check_label(&record, label);
    let serial = label.serial.unwrap_or(BATCH_LABEL);
    let observed = observation(&record, &label_findings, source);
    let consumer_scan = !matches!(observed, Observation::None);
    let snapshot = match observed {
        Observation::None => None,
        Observation::Forged(region) => {
            state.scans.record_forged(forged_scan(&record, region));
            None
        }
        Observation::Genuine(region) => {
            let signals = (
                state.verify.signals.get(&record.id, serial)?,
                state.verify.signals.get(&record.id, ALL_LABELS)?,
            );
            let (scan, snapshot) = count_scan(state, &record, serial, region, signals);
            if let Err(scan) = state.scans.try_record(scan) {
                scan.label.forget_one();
                scan.total.forget_one();
                return None;
            }
            Some(snapshot)
        }
    };
    Some(finish(
        state,
        answer(
            state,
            &record,
            label,
            label_findings,
            snapshot,
            consumer_scan,
        ),
    ))
}

/// Verifies a label, reading the database for what is not cached. Never fails for a bad
/// label: the answer says what is wrong. Holds at most one connection, and none while it
/// hands the scan to the writer.
pub fn verify(state: &AppState, label: &Label<'_>, source: Source<'_>) -> AppResult<Answer> {
    if !is_id(label.id) {
        return Ok(finish(state, Answer::unknown()));
    }
    let mut conn: Option<PooledConn> = None;
    let Some(record) = cached_or_load(state, &mut conn, label.id)? else {
        let deleted = inclusion::deleted(state, connection(state, &mut conn)?, label.id)?;
        return Ok(finish(
            state,
            match deleted {
                Some(proof) => Answer::deleted(&proof)?,
                None => Answer::unknown(),
            },
        ));
    };
    let label_findings = check_label(&record, label);
    let serial = label.serial.unwrap_or(BATCH_LABEL);
    let observed = observation(&record, &label_findings, &source);
    let consumer_scan = !matches!(observed, Observation::None);
    // A counted scan needs the label's signals; so does a seller's check of an intact record
    // (it shows the counts and copy warnings too).
    let needs_signals = match observed {
        Observation::Genuine(_) => true,
        Observation::Forged(_) => false,
        Observation::None => record.intact() && label_findings.verdict() != Verdict::Forged,
    };
    let signals = match needs_signals {
        true => Some(signals(state, &mut conn, &record, serial)?),
        false => None,
    };
    drop(conn);
    let snapshot = match observed {
        Observation::None => None,
        Observation::Forged(region) => {
            state.scans.record_forged(forged_scan(&record, region));
            None
        }
        Observation::Genuine(region) => {
            let Some(signals) = signals else {
                return Err(crate::error::AppError::internal(
                    "a genuine scan without its label's signals",
                ));
            };
            let (scan, snapshot) = count_scan(state, &record, serial, region, signals);
            if let Err(dropped) = state.scans.record(scan) {
                dropped.label.forget_one();
                dropped.total.forget_one();
            }
            Some(snapshot)
        }
    };
    Ok(finish(
        state,
        answer(
            state,
            &record,
            label,
            label_findings,
            snapshot,
            consumer_scan,
        ),
    ))
}

fn connection<'c>(
    state: &AppState,
    conn: &'c mut Option<PooledConn>,
) -> AppResult<&'c mut crate::db::DbConn> {
    match conn {
        Some(conn) => Ok(conn),
        None => Ok(conn.insert(state.db.replica_reader()?)),
    }
}

/// The label's and the certificate's signals, loading them (one read) when not cached.
fn signals(
    state: &AppState,
    conn: &mut Option<PooledConn>,
    record: &Record,
    serial: i64,
) -> AppResult<(Arc<LabelSignals>, Arc<LabelSignals>)> {
    let cached = &state.verify.signals;
    if let (Some(label), Some(total)) = (
        cached.get(&record.id, serial),
        cached.get(&record.id, ALL_LABELS),
    ) {
        return Ok((label, total));
    }
    let stored = StoredSignals::load(connection(state, conn)?, &record.id, &[serial])?;
    let label = cached.insert(
        &record.id,
        serial,
        LabelSignals::from_stored(&stored, serial),
    );
    let total = cached.insert(
        &record.id,
        ALL_LABELS,
        LabelSignals::from_stored(&stored, ALL_LABELS),
    );
    Ok((label, total))
}

/// What a scan of this label is, for the copy signals.
enum Observation {
    /// Not a consumer scan, or a record that cannot say whether the label is genuine.
    None,
    /// A consumer scan whose label did not verify: an attempted fake.
    Forged(Option<String>),
    /// A consumer scan of a label that verified.
    Genuine(Option<String>),
}

fn observation(record: &Record, label: &Findings, source: &Source<'_>) -> Observation {
    let Source::Consumer { region } = source else {
        return Observation::None;
    };
    // Only a known region code is kept, and only to the prefecture (`430700` for `430702`):
    // coarse enough to say nothing of a person, and a bounded set of keys per label and hour.
    let region = region.and_then(crate::domain::region::scan_region);
    if label.verdict() == Verdict::Forged {
        Observation::Forged(region)
    } else if record.intact() {
        Observation::Genuine(region)
    } else {
        Observation::None
    }
}

/// The current hour, as scans are stored (never finer: an observation, not a tracking record).
pub(super) fn this_hour() -> NaiveDateTime {
    let at = now();
    at.date().and_hms_opt(at.hour(), 0, 0).unwrap_or(at)
}

fn forged_scan(record: &Record, region: Option<String>) -> Forged {
    Forged {
        certificate_id: record.id.clone(),
        hour: this_hour(),
        region,
    }
}

/// Counts a genuine scan in memory; returns the scan for the writer and the label's signals.
fn count_scan(
    state: &AppState,
    record: &Record,
    serial: i64,
    region: Option<String>,
    (label, total): (Arc<LabelSignals>, Arc<LabelSignals>),
) -> (Genuine, Snapshot) {
    let hour = this_hour();
    let window_start = hour - Duration::hours(state.config.copy.window_hours);
    let snapshot = label.record(hour, region.as_deref(), window_start);
    let certificate_total = total.record(hour, None, window_start).scans;
    let scan = Genuine {
        certificate_id: record.id.clone(),
        serial,
        hour,
        region,
        label,
        total,
    };
    (
        scan,
        Snapshot {
            certificate_total,
            ..snapshot
        },
    )
}

fn finish(state: &AppState, answer: Answer) -> Answer {
    state.metrics.verified(answer.verdict);
    answer
}

/// Hands the copy warnings a consumer's scan raised to the scan writer, once per label and
/// code in this process (the table keeps the first). Warnings that say nothing about copying
/// are not kept; a forged label keeps only that it was forged, and warnings about the whole
/// certificate are kept under its batch label, so a client-chosen serial adds nothing.
pub(super) fn remember(
    state: &AppState,
    record: &Record,
    serial: i64,
    verdict: Verdict,
    warnings: &[Warning],
) {
    for warning in warnings {
        let Some(code) = copy::KEPT.iter().find(|c| **c == warning.code) else {
            continue;
        };
        let forged = *code == copy::FORGED_LABEL_SCANNED;
        if forged != (verdict == Verdict::Forged) {
            continue;
        }
        let per_label = matches!(
            *code,
            "scanned_far_apart" | "scanned_too_often" | "received_by_several_retailers"
        );
        let serial = if per_label { serial } else { BATCH_LABEL };
        let key = (serial, *code);
        let mut remembered = record.remembered.lock().unwrap_or_else(|e| e.into_inner());
        if !remembered.contains(&key) && state.scans.remember(record.id.clone(), serial, code) {
            remembered.insert(key);
        }
    }
}

/// Is the label's signature the producer's? Returns the `forged` findings.
fn check_label(record: &Record, label: &Label<'_>) -> Findings {
    let canonical = match label.serial {
        // Only a well-formed batch signature that differs from the stored one needs the
        // payload (a malformed one is judged without it: floods of those cost no JSON).
        None => label
            .signature
            .and_then(|s| crate::crypto::b64url_decode(s.trim()))
            .filter(|sig| sig.len() == 64 && sig.as_slice() != record.signature.as_slice())
            .and_then(|_| record.canonical()),
        Some(_) => None,
    };
    rules::judge_label(
        rules::LabelFacts {
            serial: label.serial,
            signature: label.signature,
        },
        &record.id,
        record.units,
        record.key.as_ref(),
        canonical.as_deref(),
        record.payload_sha256.as_deref(),
        Some(&record.signature),
    )
}

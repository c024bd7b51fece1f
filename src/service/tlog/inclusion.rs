//! What verification learns from the log about one certificate: whether it and each of its
//! trail events were sequenced (or still wait), and whether each entry, as computed from the
//! rows now stored, is included in a checkpoint, preferring one a witness cosigned. An edit to
//! a row, to the log's entries or to its hashes makes the inclusion check fail.

use std::collections::HashMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::NaiveDateTime;
use serde::Serialize;
use tlog_tiles::{check_record, record_hash, Hash};

use crate::db::models::tlog::{self as logdb, CheckpointRow, LogEntry};
use crate::db::models::{Certificate, EventRow, Organization};
use crate::db::DbConn;
use crate::error::AppResult;
use crate::service::AppState;

use super::note::{self, CosignatureVerifier};
use super::tree::StoredHashes;
use super::{entry, witnesses};

/// A certificate's entry in the log with its inclusion proof (contract §9 `log`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Proof {
    /// Leaf index of the certificate's entry.
    pub index: u64,
    /// Size of the tree the proof is for.
    pub tree_size: u64,
    /// RFC 6962 inclusion proof, base64 hashes, leaf to root.
    pub inclusion: Vec<String>,
    /// The signed checkpoint of `tree_size` (with witness cosignatures, if any).
    pub checkpoint: String,
    #[serde(skip)]
    pub sequenced_at: NaiveDateTime,
    /// The witness that cosigned the checkpoint, and when (for pages).
    #[serde(skip)]
    pub confirmed: Option<Confirmation>,
}

/// A witness's cosignature, in words.
#[derive(Debug, Clone)]
pub struct Confirmation {
    /// The regulator's name, or the witness's key name.
    pub by: String,
    pub at: NaiveDateTime,
}

/// Where a certificate stands in the log.
#[derive(Debug, Clone)]
pub enum Position {
    /// Written with the certificate; the sequencer has not reached it yet.
    Pending,
    /// Neither sequenced nor waiting: the certificate never went through the platform's
    /// issuance, or its entry was removed.
    Missing,
    Sequenced(Box<Proof>),
}

impl Position {
    pub fn proof(&self) -> Option<&Proof> {
        match self {
            Position::Sequenced(p) => Some(p),
            _ => None,
        }
    }
}

/// The log's view of a certificate and its trail.
#[derive(Debug, Clone)]
pub struct LogCheck {
    pub position: Position,
    /// `tampered` reasons: `log_mismatch`, `log_rewritten`, `trail_event_not_in_log`,
    /// `trail_event_log_mismatch`.
    pub faults: Vec<&'static str>,
    /// Some event still waits for the sequencer.
    pub events_pending: bool,
    /// Witnesses are registered (so a confirmation is to be expected).
    pub witnessed_log: bool,
}

/// Checks `cert` and its trail `events` against the log.
pub fn check(
    state: &AppState,
    conn: &mut DbConn,
    cert: &Certificate,
    events: &[EventRow],
) -> AppResult<LogCheck> {
    // The queue first: an entry the sequencer moves in between is then found in the log
    // (read second), never missed by both reads.
    let waiting = logdb::pending_for(conn, &cert.id)?;
    let witnessed_log = logdb::has_witnesses(conn)?;
    let entries = logdb::entries_for(conn, &cert.id)?;
    let mut by_seq: HashMap<i64, &LogEntry> = HashMap::new();
    for e in &entries {
        by_seq.entry(e.seq).or_insert(e);
    }
    let mut faults = vec![];
    // Every entry expected, with the bytes the stored rows give now.
    let mut expected: Vec<(i64, String)> = vec![(0, entry::of_certificate(cert))];
    expected.extend(events.iter().map(|e| (e.seq, entry::of_event(e))));
    let mut events_pending = false;
    let mut logged: Vec<(&LogEntry, String)> = vec![];
    for (seq, bytes) in expected {
        match by_seq.get(&seq) {
            Some(found) => logged.push((found, bytes)),
            None if waiting.contains(&seq) => events_pending |= seq > 0,
            // The verdict rules say what a missing certificate entry means.
            None if seq == 0 => {}
            None => faults.push("trail_event_not_in_log"),
        }
    }
    let Some(max_index) = logged.iter().map(|(e, _)| e.idx).max() else {
        let position = match waiting.contains(&0) {
            true => Position::Pending,
            false => Position::Missing,
        };
        return Ok(LogCheck {
            position,
            faults,
            events_pending,
            witnessed_log,
        });
    };
    let Some(Covering {
        row: checkpoint,
        confirmed,
        rewritten,
    }) = checkpoint_covering(conn, max_index)?
    else {
        faults.push("log_mismatch");
        return Ok(LogCheck {
            position: Position::Missing,
            faults,
            events_pending,
            witnessed_log,
        });
    };
    if rewritten {
        faults.push("log_rewritten");
    }
    let root = parse_root(state, &checkpoint.note);
    let size = checkpoint.tree_size as u64;
    let tree = StoredHashes::new(conn);
    let indexes: Vec<u64> = logged.iter().map(|(e, _)| e.idx as u64).collect();
    tree.prefetch_inclusions(&indexes, size)?;
    let mut position = Position::Missing;
    for (found, bytes) in &logged {
        let index = found.idx as u64;
        let proof = tree.inclusion(index, size)?.ok();
        let included = match (&proof, root) {
            (Some(p), Some(root)) => {
                check_record(p, size, root, index, record_hash(bytes.as_bytes())).is_ok()
            }
            _ => false,
        };
        if !included {
            faults.push(match found.seq {
                0 => "log_mismatch",
                _ => "trail_event_log_mismatch",
            });
        }
        if found.seq == 0 {
            position = Position::Sequenced(Box::new(Proof {
                index,
                tree_size: size,
                inclusion: proof
                    .unwrap_or_default()
                    .iter()
                    .map(|h| STANDARD.encode(h.0))
                    .collect(),
                checkpoint: String::new(),
                sequenced_at: found.sequenced_at,
                confirmed: confirmed.clone(),
            }));
        }
    }
    drop(tree);
    if let Position::Sequenced(p) = &mut position {
        p.checkpoint = witnesses::with_cosignatures(conn, &checkpoint.note, checkpoint.tree_size)?;
    }
    faults.dedup();
    Ok(LogCheck {
        position,
        faults,
        events_pending,
        witnessed_log,
    })
}

/// The sequenced entry of a certificate no longer stored, with its proof: the log remembers
/// what the platform lost (or had removed).
pub fn deleted(conn: &mut DbConn, id: &str) -> AppResult<Option<Proof>> {
    let Some(found) = logdb::entries_for(conn, id)?
        .into_iter()
        .find(|e| e.seq == 0)
    else {
        return Ok(None);
    };
    let Some(Covering {
        row: checkpoint,
        confirmed,
        ..
    }) = checkpoint_covering(conn, found.idx)?
    else {
        return Ok(None);
    };
    let size = checkpoint.tree_size as u64;
    let proof = StoredHashes::new(conn)
        .inclusion(found.idx as u64, size)?
        .unwrap_or_default();
    Ok(Some(Proof {
        index: found.idx as u64,
        tree_size: size,
        inclusion: proof.iter().map(|h| STANDARD.encode(h.0)).collect(),
        checkpoint: witnesses::with_cosignatures(conn, &checkpoint.note, checkpoint.tree_size)?,
        sequenced_at: found.sequenced_at,
        confirmed,
    }))
}

/// The checkpoint an entry is proved against.
struct Covering {
    row: CheckpointRow,
    confirmed: Option<Confirmation>,
    /// A registered witness cosigned a checkpoint of this size whose stored text no longer
    /// matches what it signed: the log was rewritten after the witness saw it.
    rewritten: bool,
}

/// The checkpoint to prove `index` against: the newest one a witness cosigned that covers it,
/// else the newest checkpoint (if it covers it).
fn checkpoint_covering(conn: &mut DbConn, index: i64) -> AppResult<Option<Covering>> {
    let mut rewritten = false;
    if let Some(cosigned) = logdb::latest_cosigned_above(conn, index)? {
        match confirmation(conn, &cosigned)? {
            Cosigned::Confirmed(c) => {
                return Ok(Some(Covering {
                    row: cosigned,
                    confirmed: Some(c),
                    rewritten: false,
                }))
            }
            Cosigned::Broken => rewritten = true,
            Cosigned::Unverifiable => {}
        }
    }
    Ok(logdb::latest_checkpoint(conn)?
        .filter(|c| c.tree_size > index)
        .map(|row| Covering {
            row,
            confirmed: None,
            rewritten,
        }))
}

enum Cosigned {
    Confirmed(Confirmation),
    /// A registered witness's cosignature does not verify on the stored checkpoint.
    Broken,
    /// Only cosignatures of witnesses no longer registered.
    Unverifiable,
}

/// The first valid witness cosignature on `checkpoint`, in words.
fn confirmation(conn: &mut DbConn, checkpoint: &CheckpointRow) -> AppResult<Cosigned> {
    let Some(text) = note::note_text(&checkpoint.note) else {
        return Ok(Cosigned::Broken);
    };
    let mut broken = false;
    for c in logdb::cosignatures(conn, checkpoint.tree_size)? {
        let Some(w) = logdb::witness(conn, &c.witness)? else {
            continue;
        };
        let Some(key) = crate::crypto::signing::verifying_key(&w.public_key) else {
            continue;
        };
        if CosignatureVerifier::new(&w.name, key)
            .check(text.as_bytes(), &c.line)
            .is_none()
        {
            broken = true;
            continue;
        }
        let by = match &w.organization_id {
            Some(id) => Organization::find(conn, id)?.map_or(w.name.clone(), |o| o.name),
            None => w.name.clone(),
        };
        return Ok(Cosigned::Confirmed(Confirmation {
            by,
            at: c.signed_at,
        }));
    }
    Ok(match broken {
        true => Cosigned::Broken,
        false => Cosigned::Unverifiable,
    })
}

/// The root a stored checkpoint states, if the log's signature on it verifies.
fn parse_root(state: &AppState, note_text: &str) -> Option<Hash> {
    let verified = note::verify_checkpoint(note_text, state.log.verifier_key()).ok()?;
    Some(*verified.checkpoint.hash())
}

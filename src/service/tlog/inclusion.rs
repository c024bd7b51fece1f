//! What verification learns from the log about one certificate: whether it and each of its
//! trail events were sequenced (or still wait), and whether each entry, as computed from the
//! rows now stored, is included in a checkpoint, preferring one a witness cosigned. An edit to
//! a row, to the log's entries or to its hashes makes the inclusion check fail.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

use super::{entry, witnesses};
use crate::service::tlog::note::{self, CosignatureVerifier};
use crate::service::tlog::tree::StoredHashes;

/// A certificate's entry in the log with its inclusion proof (contract §9 `log`). Kept in
/// every cached record, so compact: hashes as bytes, the checkpoint text shared.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Proof {
    /// Leaf index of the certificate's entry.
    pub index: u64,
    /// Size of the tree the proof is for.
    pub tree_size: u64,
    /// RFC 6962 inclusion proof, base64 hashes, leaf to root.
    #[serde(serialize_with = "base64_hashes")]
    #[schema(value_type = Vec<String>)]
    pub inclusion: Vec<[u8; 32]>,
    /// The signed checkpoint of `tree_size` (with witness cosignatures, if any).
    #[schema(value_type = String)]
    #[serde(serialize_with = "shared_text")]
    pub checkpoint: Arc<str>,
    #[serde(skip)]
    pub sequenced_at: NaiveDateTime,
    /// The witness that cosigned the checkpoint, and when (for pages).
    #[serde(skip)]
    pub confirmed: Option<Confirmation>,
}

fn shared_text<S: serde::Serializer>(text: &Arc<str>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(text)
}

fn base64_hashes<S: serde::Serializer>(hashes: &[[u8; 32]], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(hashes.len()))?;
    for h in hashes {
        seq.serialize_element(&STANDARD.encode(h))?;
    }
    seq.end()
}

impl Proof {
    /// Bytes it keeps besides the shared checkpoint.
    pub fn weight(&self) -> usize {
        64 + self.inclusion.len() * 32
    }
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
    Sequenced(Arc<Proof>),
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
    let entries = logdb::entries_for(conn, &cert.id)?;
    let mut heads = state.log_heads.get(state, conn, false)?;
    let witnessed_log = heads.witnessed_log;
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
    // Heads read before this entry was sequenced: read them again.
    if heads
        .latest
        .as_ref()
        .is_none_or(|h| h.tree_size <= max_index as u64)
    {
        heads = state.log_heads.get(state, conn, true)?;
    }
    let Some((head, rewritten)) = heads.covering(max_index as u64) else {
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
    let (root, size) = (head.root, head.tree_size);
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
            position = Position::Sequenced(Arc::new(Proof {
                index,
                tree_size: size,
                inclusion: proof.unwrap_or_default().iter().map(|h| h.0).collect(),
                checkpoint: head.served.clone(),
                sequenced_at: found.sequenced_at,
                confirmed: head.confirmed.clone(),
            }));
        }
    }
    drop(tree);
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
pub fn deleted(state: &AppState, conn: &mut DbConn, id: &str) -> AppResult<Option<Proof>> {
    let Some(found) = logdb::entries_for(conn, id)?
        .into_iter()
        .find(|e| e.seq == 0)
    else {
        return Ok(None);
    };
    let heads = state.log_heads.get(state, conn, true)?;
    let Some((head, _)) = heads.covering(found.idx as u64) else {
        return Ok(None);
    };
    let proof = StoredHashes::new(conn)
        .inclusion(found.idx as u64, head.tree_size)?
        .unwrap_or_default();
    Ok(Some(Proof {
        index: found.idx as u64,
        tree_size: head.tree_size,
        inclusion: proof.iter().map(|h| h.0).collect(),
        checkpoint: head.served.clone(),
        sequenced_at: found.sequenced_at,
        confirmed: head.confirmed.clone(),
    }))
}

/// A checkpoint proofs are made against.
#[derive(Debug)]
pub struct Head {
    pub tree_size: u64,
    /// The root, if the log's signature on the stored checkpoint verifies.
    pub root: Option<Hash>,
    /// The checkpoint as served (note and cosignature lines), shared by every proof.
    pub served: Arc<str>,
    pub confirmed: Option<Confirmation>,
}

/// The log's newest checkpoint and newest witness-confirmed one: the same for every record,
/// so read at most once a second (and at once when a record's entry is newer).
#[derive(Debug, Default)]
pub struct Heads {
    pub latest: Option<Head>,
    pub cosigned: Option<Head>,
    /// The newest cosigned checkpoint's stored text no longer matches what its witness signed.
    pub rewritten: bool,
    pub witnessed_log: bool,
}

impl Heads {
    /// The checkpoint to prove leaf `index` against, and whether the log was rewritten.
    fn covering(&self, index: u64) -> Option<(&Head, bool)> {
        let covers = |h: &&Head| h.tree_size > index;
        match self.cosigned.as_ref().filter(covers) {
            Some(head) => Some((head, false)),
            None => self
                .latest
                .as_ref()
                .filter(covers)
                .map(|h| (h, self.rewritten)),
        }
    }

    fn read(state: &AppState, conn: &mut DbConn) -> AppResult<Self> {
        let head = |conn: &mut DbConn, row: CheckpointRow, confirmed| -> AppResult<Head> {
            Ok(Head {
                tree_size: row.tree_size as u64,
                root: parse_root(state, &row.note),
                served: Arc::from(witnesses::with_cosignatures(
                    conn,
                    &row.note,
                    row.tree_size,
                )?),
                confirmed,
            })
        };
        let mut heads = Heads {
            witnessed_log: logdb::has_witnesses(conn)?,
            ..Default::default()
        };
        if let Some(cosigned) = logdb::latest_cosigned_above(conn, -1)? {
            match confirmation(conn, &cosigned)? {
                Cosigned::Confirmed(c) => heads.cosigned = Some(head(conn, cosigned, Some(c))?),
                Cosigned::Broken => heads.rewritten = true,
                Cosigned::Unverifiable => {}
            }
        }
        if let Some(latest) = logdb::latest_checkpoint(conn)? {
            heads.latest = Some(head(conn, latest, None)?);
        }
        Ok(heads)
    }
}

/// [`Heads`], cached for a second.
#[derive(Default)]
pub struct HeadsCache(Mutex<Option<(Instant, Arc<Heads>)>>);

/// How long heads are reused.
const HEADS_FRESH: Duration = Duration::from_secs(1);

impl HeadsCache {
    /// Forgets the heads (after the log's tables were edited directly, as tests do).
    pub fn clear(&self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// The heads, read again when older than a second or when `refresh` says so.
    pub fn get(&self, state: &AppState, conn: &mut DbConn, refresh: bool) -> AppResult<Arc<Heads>> {
        if !refresh {
            let cached = self.0.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((at, heads)) = cached.as_ref() {
                if at.elapsed() < HEADS_FRESH {
                    return Ok(heads.clone());
                }
            }
        }
        let heads = Arc::new(Heads::read(state, conn)?);
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), heads.clone()));
        Ok(heads)
    }
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

//! The witness's rules (contract §9): accept a log's new checkpoint only if the log signed it
//! and a consistency proof shows it extends the last one this witness cosigned; then cosign
//! it. Pure decisions over what was fetched; `certrail witness` does the fetching and keeps
//! [`WitnessState`] on disk.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use tlog_tiles::{check_tree, Hash};

use crate::service::tlog::note::{self, Cosigner};

/// What a witness remembers of one log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WitnessState {
    /// The log's note verifier key, pinned at the first contact (or given).
    pub log_key: String,
    /// The largest tree this witness cosigned, and its root (base64).
    pub size: u64,
    pub root: String,
}

impl WitnessState {
    /// A witness that has seen nothing of the log with `log_key` yet.
    pub fn new(log_key: &str) -> Self {
        Self {
            log_key: log_key.into(),
            size: 0,
            root: STANDARD.encode(tlog_tiles::EMPTY_HASH.0),
        }
    }
}

/// Why a checkpoint was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the checkpoint is not signed by the log's key: {0}")]
    BadSignature(String),
    #[error("the log shrank: it showed {seen} entries, now {now} (history was rolled back)")]
    Rollback { seen: u64, now: u64 },
    #[error("the log shows two different trees of {size} entries (a fork)")]
    Fork { size: u64 },
    #[error("the tree of {to} entries does not extend the tree of {from} this witness cosigned (history was rewritten)")]
    Inconsistent { from: u64, to: u64 },
}

/// A checkpoint whose log signature verified.
#[derive(Debug, Clone)]
pub struct Observed {
    pub size: u64,
    pub root: Hash,
    /// The note text a cosignature covers.
    pub text: Vec<u8>,
}

impl Observed {
    /// The tree size a consistency proof must start from, if one is needed.
    pub fn proof_from(&self, state: &WitnessState) -> Option<u64> {
        (state.size > 0 && state.size < self.size).then_some(state.size)
    }
}

/// Checks the log's signature and that the tree did not shrink or fork.
pub fn observe(state: &WitnessState, checkpoint: &str) -> Result<Observed, Refusal> {
    let verified =
        note::verify_checkpoint(checkpoint, &state.log_key).map_err(Refusal::BadSignature)?;
    let observed = Observed {
        size: verified.checkpoint.size(),
        root: *verified.checkpoint.hash(),
        text: verified.text,
    };
    if observed.size < state.size {
        return Err(Refusal::Rollback {
            seen: state.size,
            now: observed.size,
        });
    }
    if observed.size == state.size && STANDARD.encode(observed.root.0) != state.root {
        return Err(Refusal::Fork {
            size: observed.size,
        });
    }
    Ok(observed)
}

/// Checks the consistency `proof` from the cosigned tree to `observed`; returns the state to
/// keep once it holds.
pub fn extend(
    state: &WitnessState,
    observed: &Observed,
    proof: &[Hash],
) -> Result<WitnessState, Refusal> {
    if let Some(from) = observed.proof_from(state) {
        let old_root = STANDARD
            .decode(&state.root)
            .ok()
            .and_then(|r| <[u8; 32]>::try_from(r).ok())
            .map(Hash);
        let holds = old_root.is_some_and(|old| {
            check_tree(&proof.to_vec(), observed.size, observed.root, from, old).is_ok()
        });
        if !holds {
            return Err(Refusal::Inconsistent {
                from,
                to: observed.size,
            });
        }
    }
    Ok(WitnessState {
        log_key: state.log_key.clone(),
        size: observed.size,
        root: STANDARD.encode(observed.root.0),
    })
}

/// The cosignature line on `observed`, stating `timestamp` (POSIX seconds).
pub fn cosign(name: &str, key: &SigningKey, observed: &Observed, timestamp: u64) -> String {
    Cosigner::new(name, key.clone(), timestamp).cosign(&observed.text)
}

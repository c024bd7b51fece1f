//! What every server instance of one platform must agree on, settled before it serves: the
//! transparency log's name (from `CERTRAIL_PUBLIC_URL`, or `CERTRAIL_LOG_ORIGIN` for a platform
//! that moved) and its key (derived from the master key). The first instance writes them into
//! the database; one that disagrees refuses to start and says why, instead of answering
//! `tampered` for the entries another instance sequenced, or 500 for every issuance.

use crate::db::models::{now, platform, tlog as logdb};
use crate::db::Db;
use crate::service::tlog::note::verify_checkpoint;
use crate::service::tlog::note::LogKey;

/// Why an instance may not serve this database.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Mismatch {
    #[error(
        "this database's transparency log is named {stored}, but this instance's \
         CERTRAIL_PUBLIC_URL gives {ours}: every instance of one platform needs the same \
         CERTRAIL_PUBLIC_URL (a platform that moved to another address keeps its log's name: \
         set CERTRAIL_LOG_ORIGIN={stored})"
    )]
    Origin { stored: String, ours: String },
    #[error(
        "CERTRAIL_MASTER_KEY (or the data directory's master.key) is not the master key this \
         database was created with: the log's key differs, and the producers' signing keys \
         would not unseal. Start every instance with the same master key"
    )]
    MasterKey,
}

/// Whether `ours` is the log `stored` (a note verifier key, `origin+hash+key`) names.
pub fn check(stored: &str, ours: &LogKey) -> Result<(), Mismatch> {
    let origin = stored.split('+').next().unwrap_or_default();
    if origin != ours.origin() {
        return Err(Mismatch::Origin {
            stored: origin.to_string(),
            ours: ours.origin().to_string(),
        });
    }
    if stored != ours.verifier_key() {
        return Err(Mismatch::MasterKey);
    }
    Ok(())
}

/// What the instance being opened is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// `certrail serve`: its public URL goes into every label it issues, so it must name the
    /// database's log.
    Serve,
    /// A command (`admin`, `demo`, `issue`, `check`): takes the database's log name, saying so
    /// when its own configuration gives another.
    Tool,
}

/// Settles this instance's log key against the database's and returns the key to use: writes
/// it if no instance has (for a database from before the identity row, once its newest
/// checkpoint verifies under it), else checks it. `write` false only checks.
pub fn settle(
    db: &Db,
    origin: String,
    seed: &[u8; 32],
    purpose: Use,
    write: bool,
) -> Result<LogKey, String> {
    let mut ours = LogKey::with_origin(origin, seed)?;
    let mut conn = db.writer().map_err(|e| e.to_string())?;
    // Checking a database its first start has not migrated yet: no identity row can exist.
    let row = match platform::log_vkey(&mut conn) {
        Ok(row) => row,
        Err(_) if !write => None,
        Err(e) => return Err(e.to_string()),
    };
    // A log from before the identity row is named by its newest checkpoint (none on a
    // database not migrated yet).
    let latest = match (&row, logdb::latest_checkpoint(&mut conn)) {
        (Some(_), _) => None,
        (None, Ok(latest)) => latest,
        (None, Err(_)) if !write => None,
        (None, Err(e)) => return Err(e.to_string()),
    };
    let stored = match (&row, &latest) {
        (Some(vkey), _) => Some(vkey.split('+').next().unwrap_or_default().to_string()),
        (None, Some(c)) => Some(c.note.lines().next().unwrap_or_default().to_string()),
        (None, None) => None,
    };
    if let Some(stored) = stored.filter(|s| s != ours.origin()) {
        let mismatch = Mismatch::Origin {
            stored: stored.clone(),
            ours: ours.origin().to_string(),
        };
        if purpose == Use::Serve {
            return Err(mismatch.to_string());
        }
        log::warn!("using the database's log name {stored}: {mismatch}");
        ours = LogKey::with_origin(stored, seed)?;
    }
    match row {
        Some(stored) => check(&stored, &ours).map_err(|e| e.to_string())?,
        None => {
            if let Some(latest) = latest {
                verify_checkpoint(&latest.note, ours.verifier_key())
                    .map_err(|_| Mismatch::MasterKey.to_string())?;
            }
            if write {
                let kept = platform::settle_log_vkey(&mut conn, ours.verifier_key(), now())
                    .map_err(|e| e.to_string())?;
                // Another instance may have written its own first.
                check(&kept, &ours).map_err(|e| e.to_string())?;
            }
        }
    }
    Ok(ours)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_origin_and_key_agree_and_either_difference_is_named() {
        let ours = LogKey::with_origin("a.example/log".into(), &[7; 32]).unwrap();
        assert_eq!(check(ours.verifier_key(), &ours), Ok(()));
        let moved = LogKey::with_origin("b.example/log".into(), &[7; 32]).unwrap();
        assert_eq!(
            check(moved.verifier_key(), &ours),
            Err(Mismatch::Origin {
                stored: "b.example/log".into(),
                ours: "a.example/log".into()
            })
        );
        let other_key = LogKey::with_origin("a.example/log".into(), &[8; 32]).unwrap();
        assert_eq!(
            check(other_key.verifier_key(), &ours),
            Err(Mismatch::MasterKey)
        );
    }
}

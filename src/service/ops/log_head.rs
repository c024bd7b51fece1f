//! A copy of the newest log checkpoint kept outside the database, beside it in the data
//! directory (`log-checkpoint`), so that a database restored to an earlier point is noticed
//! however it was restored: from a dump, a point-in-time recovery, or a backup file copied into
//! place. The log is append-only and public; a database whose log is shorter than, or differs
//! from, a checkpoint this instance saw has lost entries that verifiers may already hold
//! proofs for, and must not quietly hand their positions to other contents.

use std::path::{Path, PathBuf};

use crate::db::models::tlog as logdb;
use crate::db::{Db, DbConn};
use crate::service::tlog::note::verify_checkpoint;
use crate::service::tlog::note::LogKey;
use crate::service::tlog::tree::StoredHashes;

/// The file's name in the data directory.
pub const FILE: &str = "log-checkpoint";

/// What a start-up check found.
#[derive(Debug, PartialEq, Eq)]
pub enum Finding {
    /// No copy yet, or the database's log extends it.
    Consistent,
    /// The database's log has `now` entries; the copy saw `seen`.
    RolledBack { now: u64, seen: u64 },
    /// The database's log has at least `seen` entries, but its first `seen` are not the ones
    /// the copy's checkpoint signed.
    Forked { seen: u64 },
}

/// The newest checkpoint this instance saw, in `data_dir`.
pub struct HeadFile {
    path: PathBuf,
}

impl HeadFile {
    pub fn new(data_dir: &Path) -> Self {
        Self {
            path: data_dir.join(FILE),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The kept checkpoint's note, if there is one.
    pub fn read(&self) -> Result<Option<String>, String> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{}: {e}", self.path.display())),
        }
    }

    /// The size of the kept checkpoint (0 when there is none, or it does not verify).
    pub fn kept_size(&self, key: &LogKey) -> u64 {
        self.read()
            .ok()
            .flatten()
            .and_then(|note| verify_checkpoint(&note, key.verifier_key()).ok())
            .map_or(0, |kept| kept.checkpoint.size())
    }

    /// Keeps `note` (a checkpoint of `size` entries) unless the kept one is as large. The
    /// caller has checked that the database's log extends the kept checkpoint.
    pub fn keep(&self, note: &str, size: u64, key: &LogKey) -> Result<(), String> {
        if self.kept_size(key) >= size {
            return Ok(());
        }
        self.replace(note)
    }

    /// Writes `note` to a new file of its own, synced, and renames it over the kept one, so a
    /// crash leaves one or the other, and instances sharing a data directory do not mix theirs.
    fn replace(&self, note: &str) -> Result<(), String> {
        use std::io::Write;
        let cannot = |e: std::io::Error| format!("{}: {e}", self.path.display());
        let partial = self.path.with_extension(format!(
            "partial.{}.{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&partial)
            .map_err(cannot)?;
        file.write_all(note.as_bytes())
            .and_then(|()| file.sync_all())
            .and_then(|()| std::fs::rename(&partial, &self.path))
            .map_err(|e| {
                let _ = std::fs::remove_file(&partial);
                cannot(e)
            })
    }

    /// Keeps the database's newest checkpoint.
    pub fn keep_latest(&self, conn: &mut DbConn, key: &LogKey) -> Result<(), String> {
        match logdb::latest_checkpoint(conn).map_err(|e| e.to_string())? {
            Some(latest) => self.keep(&latest.note, latest.tree_size as u64, key),
            None => Ok(()),
        }
    }
}

/// Compares the database's log with the kept checkpoint.
pub fn examine(db: &Db, head: &HeadFile, key: &LogKey) -> Result<Finding, String> {
    let Some(note) = head.read()? else {
        return Ok(Finding::Consistent);
    };
    let seen = verify_checkpoint(&note, key.verifier_key())
        .map_err(|e| format!("{}: {e}", head.path().display()))?
        .checkpoint;
    let mut conn = db.reader().map_err(|e| e.to_string())?;
    let now = logdb::entry_count(&mut conn).map_err(|e| e.to_string())? as u64;
    if now < seen.size() {
        return Ok(Finding::RolledBack {
            now,
            seen: seen.size(),
        });
    }
    let root = StoredHashes::new(&mut conn)
        .root(seen.size())
        .map_err(|e| e.to_string())?;
    match root {
        Ok(root) if root == *seen.hash() => Ok(Finding::Consistent),
        _ => Ok(Finding::Forked { seen: seen.size() }),
    }
}

/// Whether `finding` lets the instance start: `Ok(None)` for a consistent log, `Ok(Some(what))`
/// when `accepted` names the kept checkpoint's size (`CERTRAIL_LOG_ROLLBACK_ACCEPTED`), else
/// `Err` saying what was lost and how to go on. Changes nothing.
pub fn judge(
    head: &HeadFile,
    finding: Finding,
    accepted: Option<u64>,
) -> Result<Option<String>, String> {
    let (seen, what) = match finding {
        Finding::Consistent => return Ok(None),
        Finding::RolledBack { now, seen } => (
            seen,
            format!(
                "the database's transparency log has {now} entries, but this instance saw a \
                 checkpoint of {seen} ({}): the database was restored to an earlier point, and \
                 log entries {now}..{seen} (the certificates and trail events made after it) are \
                 lost from it",
                head.path().display()
            ),
        ),
        Finding::Forked { seen } => (
            seen,
            format!(
                "the database's transparency log differs, in its first {seen} entries, from the \
                 checkpoint this instance saw ({}): the database was restored to an earlier \
                 point and then written to",
                head.path().display()
            ),
        ),
    };
    match accepted == Some(seen) {
        true => Ok(Some(format!(
            "accepted (CERTRAIL_LOG_ROLLBACK_ACCEPTED={seen}): {what}"
        ))),
        false => Err(format!(
            "{what}. Verifiers and witnesses may hold proofs for the lost entries; witnesses' \
             cosigned checkpoints and any copy of the log's tiles name them. Restore a newer \
             backup if there is one; to go on with this database anyway, start with \
             CERTRAIL_LOG_ROLLBACK_ACCEPTED={seen}"
        )),
    }
}

/// Refuses a database whose log went back in time, unless `accepted` names the size of the
/// kept checkpoint: then says so loudly, keeps the old checkpoint as
/// `log-checkpoint.rolled-back.<unix time>` and the database's own newest from now on.
pub fn check(db: &Db, head: &HeadFile, key: &LogKey, accepted: Option<u64>) -> Result<(), String> {
    let Some(what) = judge(head, examine(db, head, key)?, accepted)? else {
        return Ok(());
    };
    log::error!("LOG ROLLBACK {what}");
    let mut conn = db.reader().map_err(|e| e.to_string())?;
    let evidence = head
        .path()
        .with_extension(format!("rolled-back.{}", chrono::Utc::now().timestamp()));
    std::fs::copy(head.path(), &evidence).map_err(|e| format!("{}: {e}", evidence.display()))?;
    let latest =
        crate::db::models::tlog::latest_checkpoint(&mut conn).map_err(|e| e.to_string())?;
    match latest {
        Some(latest) => head.replace(&latest.note),
        None => {
            std::fs::remove_file(head.path()).map_err(|e| format!("{}: {e}", head.path().display()))
        }
    }
}

//! `certrail backup DEST`: a consistent copy of the embedded SQLite database, taken while the
//! server runs. SQLite's `VACUUM INTO` reads one snapshot (WAL mode lets the writer go on) and
//! writes a compact file; the copy is then checked. PostgreSQL is backed up with its own tools
//! (`scripts/pg-backup.sh`: a base backup and WAL archiving, for point-in-time restores).
//!
//! The master key is not in the copy: it is a secret kept apart (the data directory's
//! `master.key`, or `CERTRAIL_MASTER_KEY`), and a copy without it cannot unseal the producers'
//! signing keys.

use std::path::Path;

use diesel::sql_types::Text;
use diesel::RunQueryDsl;

use crate::db::{Db, DbConn};

/// Copies the database to `dest` (which must not exist), readable by its owner only; returns
/// the copy's size in bytes.
pub fn sqlite(db: &Db, dest: &Path) -> Result<u64, String> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(dest)
        .map_err(|e| format!("{}: {e}", dest.display()))?;
    let copied = (|| {
        let mut pooled = db.reader().map_err(|e| e.to_string())?;
        let DbConn::Sqlite(conn) = &mut *pooled else {
            return Err(
                "certrail backup copies the embedded SQLite database; back up PostgreSQL with \
                 scripts/pg-backup.sh (a base backup and WAL archiving)"
                    .to_string(),
            );
        };
        let path = dest.to_str().ok_or("the destination is not valid UTF-8")?;
        diesel::sql_query("VACUUM INTO ?")
            .bind::<Text, _>(path)
            .execute(conn)
            .map_err(|e| format!("VACUUM INTO {}: {e}", dest.display()))?;
        check_copy(path)
    })();
    if copied.is_err() {
        let _ = std::fs::remove_file(dest);
    }
    copied?;
    std::fs::metadata(dest)
        .map(|m| m.len())
        .map_err(|e| format!("{}: {e}", dest.display()))
}

/// Opens the copy on its own: SQLite's integrity check, and a schema this binary's migrations
/// made (an empty or foreign file is no backup); then syncs it to disk.
fn check_copy(path: &str) -> Result<(), String> {
    use diesel::Connection;
    #[derive(diesel::QueryableByName)]
    struct Check {
        #[diesel(sql_type = Text)]
        integrity_check: String,
    }
    let mut copy = diesel::SqliteConnection::establish(path).map_err(|e| e.to_string())?;
    let rows: Vec<Check> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut copy)
        .map_err(|e| e.to_string())?;
    match rows.first().map(|r| r.integrity_check.as_str()) {
        Some("ok") => {}
        other => return Err(format!("the copy failed its integrity check: {other:?}")),
    }
    let mut copy = DbConn::Sqlite(copy);
    if crate::db::schema_state(&mut copy)? != crate::db::SchemaState::Current {
        return Err("the copy is not a database of this certrail's schema".into());
    }
    drop(copy);
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    file.sync_all().map_err(|e| e.to_string())?;
    if let Some(dir) = Path::new(path).parent() {
        if let Ok(dir) = std::fs::File::open(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        }) {
            let _ = dir.sync_all();
        }
    }
    Ok(())
}

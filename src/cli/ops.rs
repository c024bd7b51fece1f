//! `certrail check` (is this instance fit to start, and why not) and `certrail backup DEST`.

use std::path::Path;
use std::time::Duration;

use crate::config::Config;
use crate::db::{Backend, Db, DbConn, DbUrl, SchemaState};
use crate::service::ops::{backup, identity, log_head};
use crate::service::tlog::note::origin_of;

/// One line of `certrail check`: what was checked and `Err` with the problem.
type Line = (&'static str, Result<String, String>);

/// `certrail check`: configuration, database, schema, identity, the log's kept checkpoint,
/// key file modes and the clock, one line each; `Err` (a non-zero exit) on any problem.
/// Applies no migration and writes no key, identity or kept checkpoint (diesel creates its
/// empty table of applied migrations if the database has none).
pub fn check(config: &Config) -> Result<(), String> {
    let lines = lines(config);
    let mut problems = 0;
    for (what, outcome) in &lines {
        match outcome {
            Ok(detail) => println!("ok       {what}: {detail}"),
            Err(problem) => {
                problems += 1;
                println!("PROBLEM  {what}: {problem}");
            }
        }
    }
    match problems {
        0 => Ok(()),
        n => Err(format!(
            "{n} problem(s): this instance must not start as it is"
        )),
    }
}

fn lines(config: &Config) -> Vec<Line> {
    let mut lines: Vec<Line> = vec![("data directory", data_dir(&config.data_dir))];
    let master = crate::service::master_key(config);
    lines.push((
        "master key",
        match &master {
            Ok(Some(_)) => Ok("readable".to_string()),
            Ok(None) => Ok("none yet: the first start creates one in the data directory".into()),
            Err(e) => Err(e.clone()),
        },
    ));
    let origin = match &config.ops.log_origin {
        Some(origin) => Ok(origin.clone()),
        None => origin_of(&config.public_url),
    };
    let url = match DbUrl::parse(&config.database_url) {
        Ok(url) => url,
        Err(e) => {
            lines.push(("database", Err(e)));
            return lines;
        }
    };
    if url.backend == Backend::Sqlite && !Path::new(url.target()).exists() {
        lines.push((
            "database",
            Ok("no SQLite file yet: the first start creates it".into()),
        ));
        return lines;
    }
    let db = match Db::connect_as_is(&config.database_url, Duration::from_secs(5)) {
        Ok(db) => db,
        Err(e) => {
            lines.push(("database", Err(e)));
            return lines;
        }
    };
    lines.push(("database", reachable(&db)));
    lines.push(("schema", schema(&db)));
    let key = match (master, origin) {
        (Ok(Some(master)), Ok(origin)) => {
            identity::settle(&db, origin, master.log_seed(), identity::Use::Serve, false)
        }
        (Ok(None), _) => match platform_exists(&db) {
            false => {
                lines.push((
                    "platform identity",
                    Ok("none yet: the first start writes it".into()),
                ));
                lines.push(("clock", clock(&db)));
                return lines;
            }
            true => Err(
                "this instance has no master key, but the database belongs to a \
                         platform: give it that platform's key (CERTRAIL_MASTER_KEY, the \
                         credential master-key, or the data directory's master.key)"
                    .into(),
            ),
        },
        (Err(_), _) => Err("needs the master key".into()),
        (_, Err(e)) => Err(e),
    };
    match key {
        Ok(key) => {
            lines.push((
                "platform identity",
                Ok(format!(
                    "the log {} and this master key are the database's",
                    key.origin()
                )),
            ));
            let head = log_head::HeadFile::new(&config.data_dir);
            lines.push((
                "log checkpoint kept beside the data",
                log_head::examine(&db, &head, &key)
                    .and_then(|finding| {
                        log_head::judge(&head, finding, config.ops.rollback_accepted)
                    })
                    .map(|accepted| {
                        accepted.unwrap_or_else(|| {
                            "the database's log extends it (or none kept yet)".into()
                        })
                    }),
            ));
        }
        Err(e) => lines.push(("platform identity", Err(e))),
    }
    lines.push(("clock", clock(&db)));
    for replica in &config.ops.replica_urls {
        lines.push((
            "replica",
            Db::connect_as_is(replica, Duration::from_secs(5))
                .and_then(|r| reachable(&r))
                .map_err(|e| format!("{}: {e}", crate::config::redact_url(replica))),
        ));
    }
    lines
}

/// Whether the database already has a platform's identity or log (then a new master key would
/// not be its key).
fn platform_exists(db: &Db) -> bool {
    let Ok(mut conn) = db.reader() else {
        return false;
    };
    let identity = crate::db::models::platform::log_vkey(&mut conn)
        .ok()
        .flatten();
    let checkpoint = crate::db::models::tlog::latest_checkpoint(&mut conn)
        .ok()
        .flatten();
    identity.is_some() || checkpoint.is_some()
}

/// Nobody but its owner may write in the data directory (it holds the key file, the SQLite
/// file and the kept checkpoint; the files themselves are created 0600).
fn data_dir(dir: &Path) -> Result<String, String> {
    let meta = match std::fs::metadata(dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(format!("{} will be created (mode 0700)", dir.display()))
        }
        Err(e) => return Err(format!("{}: {e}", dir.display())),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o022 != 0 {
            return Err(format!(
                "{} has mode {mode:o}: others may replace the files in it; chmod 700",
                dir.display()
            ));
        }
    }
    Ok(dir.display().to_string())
}

fn reachable(db: &Db) -> Result<String, String> {
    let mut conn = db.reader().map_err(|e| e.to_string())?;
    use diesel::r2d2::R2D2Connection;
    conn.ping().map_err(|e| e.to_string())?;
    Ok(match db.backend {
        Backend::Sqlite => "SQLite answers".into(),
        Backend::Postgres => "PostgreSQL answers".into(),
    })
}

fn schema(db: &Db) -> Result<String, String> {
    let mut conn = db.reader().map_err(|e| e.to_string())?;
    match crate::db::schema_state(&mut conn)? {
        SchemaState::Current => Ok("current".into()),
        SchemaState::Behind(n) => Ok(format!(
            "{n} migration(s) to apply: the next start applies them"
        )),
        SchemaState::Ahead(unknown) => Err(format!(
            "migrated by a newer certrail ({}): run that version",
            unknown.join(", ")
        )),
    }
}

/// Most time-based rules (deadlines, copy windows, log timestamps) compare this machine's
/// clock with times other instances wrote: they must agree within a second.
fn clock(db: &Db) -> Result<String, String> {
    const MAX_SKEW_MS: i64 = 1_000;
    let mut conn = db.reader().map_err(|e| e.to_string())?;
    let DbConn::Pg(pg) = &mut *conn else {
        return Ok("one machine (SQLite)".into());
    };
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Now {
        #[diesel(sql_type = diesel::sql_types::Timestamp)]
        now: chrono::NaiveDateTime,
    }
    let before = chrono::Utc::now().naive_utc();
    let theirs: Now = diesel::sql_query("SELECT (now() AT TIME ZONE 'UTC') AS now")
        .get_result(pg)
        .map_err(|e| e.to_string())?;
    let after = chrono::Utc::now().naive_utc();
    let ours = before + (after - before) / 2;
    let skew = (theirs.now - ours).num_milliseconds();
    // The database's now() is its transaction's start, within the round trip.
    let slack = (after - before).num_milliseconds();
    if skew.abs() > MAX_SKEW_MS + slack {
        return Err(format!(
            "this machine's clock is {skew} ms from the database server's: synchronize both \
             (NTP) within {MAX_SKEW_MS} ms"
        ));
    }
    Ok(format!("within {} ms of the database server's", skew.abs()))
}

/// `certrail backup DEST`.
pub fn backup(config: &Config, dest: &Path) -> Result<(), String> {
    let url = DbUrl::parse(&config.database_url)?;
    if url.backend == Backend::Sqlite && !Path::new(url.target()).exists() {
        // Opening it would create an empty database, and back that up.
        return Err(format!(
            "no database at {}: check DATABASE_URL and CERTRAIL_DATA_DIR",
            url.target()
        ));
    }
    let db = Db::connect_as_is(&config.database_url, Duration::from_secs(5))?;
    let bytes = backup::sqlite(&db, dest)?;
    println!(
        "backed up {bytes} bytes to {} (consistent, integrity checked). The master key is not \
         in it: keep {} (or CERTRAIL_MASTER_KEY) apart, as the secret it is; without it the \
         backup's signing keys cannot be unsealed.",
        dest.display(),
        config.data_dir.join("master.key").display()
    );
    Ok(())
}

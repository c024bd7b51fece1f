//! Running several instances for real, against the binary: readiness apart from liveness,
//! draining on SIGTERM, instances whose configuration disagrees with the database refusing to
//! start (and `certrail check` saying why), backups while serving, and a database restored to
//! an earlier point noticed through the checkpoint kept beside it.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::{batch, code, skipped, TestDb};
use crate::process::{
    count, free_port, get, post, producer, serve, settled_log, Server, DEFAULT_ORIGIN,
};

const ADMIN: &str = "running-test-admin-token";

fn on_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty())
}

/// `certrail ARGS` on `db` with `env` on top, as the process tests' servers are configured.
fn certrail(db: &TestDb, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_certrail"))
        .args(args)
        .env("CERTRAIL_DATA_DIR", db.dir())
        .env("DATABASE_URL", &db.url)
        .env("CERTRAIL_BIND", format!("127.0.0.1:{}", free_port()))
        .env("CERTRAIL_LOG_ORIGIN", DEFAULT_ORIGIN)
        .env_remove("CERTRAIL_MASTER_KEY")
        .env_remove("CERTRAIL_PUBLIC_URL")
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run certrail")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Issues one certificate; returns its verify URL.
fn issue(server: &Server, token: &str, product: &str, batch_no: &str) -> String {
    let mut body = batch(product);
    body["batch_no"] = Value::from(batch_no);
    let issued = post(&server.api("/certificates"), token, &body, &[]);
    assert_eq!(issued.status, 201, "{}", issued.body);
    issued.json()["verify_url"].as_str().unwrap().to_string()
}

fn verify(url: &str) -> (u16, String) {
    let answer = get(url, None, &[("Accept", "application/json")]);
    let verdict = serde_json::from_str::<Value>(&answer.body)
        .map(|v| v["verdict"].as_str().unwrap_or_default().to_string())
        .unwrap_or_default();
    (answer.status, verdict)
}

#[test]
fn readyz_turns_503_on_sigterm_while_requests_are_still_answered_and_scans_are_kept() {
    let db = TestDb::new();
    let mut server = serve(&db.url, db.dir(), ADMIN, &[("CERTRAIL_DRAIN_SECS", "2")]);
    let ready = get(&format!("{}/readyz", server.url), None, &[]);
    assert_eq!(ready.status, 200, "{}", ready.body);
    assert_eq!(ready.json()["status"], "ready");
    let (_, token, product) = producer(&server, ADMIN, &code(9101));
    let url = issue(&server, &token, &product, "R-1");
    // Three consumer scans, the last one just before the signal.
    for _ in 0..3 {
        assert_eq!(verify(&url), (200, "genuine".into()));
    }
    let sent = Command::new("kill")
        .args(["-TERM", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    std::thread::sleep(Duration::from_millis(300));
    // Draining: not ready, still alive, still answering.
    let ready = get(&format!("{}/readyz", server.url), None, &[]);
    assert_eq!(ready.status, 503, "{}", ready.body);
    let error = &ready.json()["error"];
    assert_eq!(error["code"], "not_ready");
    assert!(error["message"].as_str().unwrap().contains("draining"));
    assert_eq!(ready.retry_after.as_deref(), Some("1"));
    assert_eq!(
        get(&format!("{}/healthz", server.url), None, &[]).status,
        200
    );
    assert_eq!(verify(&url), (200, "genuine".into()));
    let status = server.terminate(Duration::from_secs(15));
    assert!(status.success(), "exit after draining: {status}");
    // Every scan answered before the exit is stored.
    let stored = count(
        &db.url,
        "SELECT CAST(COALESCE(SUM(scans), 0) AS BIGINT) AS n FROM scan_hours",
    );
    assert_eq!(stored, 4);
}

/// `certrail_verify_cache_records` from `/metrics`.
fn cached_records(server: &Server) -> u64 {
    let metrics = get(&format!("{}/metrics", server.url), None, &[]).body;
    metrics
        .lines()
        .find_map(|l| l.strip_prefix("certrail_verify_cache_records "))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no cache figure in {metrics}"))
}

#[test]
fn a_restarted_instance_is_ready_only_once_its_cache_holds_the_newest_records() {
    let db = TestDb::new();
    let mut server = serve(&db.url, db.dir(), ADMIN, &[]);
    let (_, token, product) = producer(&server, ADMIN, &code(9102));
    let urls: Vec<String> = (0..3)
        .map(|i| issue(&server, &token, &product, &format!("W-{i}")))
        .collect();
    settled_log(&server);
    let first_url = server.url.clone();
    server.kill();
    // Ready, and before any scan the three records are in the cache.
    let mut server = serve(&db.url, db.dir(), ADMIN, &[]);
    assert_eq!(
        get(&format!("{}/readyz", server.url), None, &[]).status,
        200
    );
    assert_eq!(cached_records(&server), 3);
    let label = urls[0].replace(&first_url, &server.url);
    assert_eq!(verify(&label), (200, "genuine".into()));
    server.kill();
    // At most CERTRAIL_WARM_RECORDS, newest first; none with 0.
    let mut server = serve(&db.url, db.dir(), ADMIN, &[("CERTRAIL_WARM_RECORDS", "1")]);
    assert_eq!(cached_records(&server), 1);
    let label = |i: usize| urls[i].replace(&first_url, &server.url);
    assert_eq!(verify(&label(2)), (200, "genuine".into()));
    assert_eq!(
        cached_records(&server),
        1,
        "the newest was read at the start"
    );
    assert_eq!(verify(&label(0)), (200, "genuine".into()));
    assert_eq!(cached_records(&server), 2, "the oldest was not");
    server.kill();
    let mut server = serve(&db.url, db.dir(), ADMIN, &[("CERTRAIL_WARM_RECORDS", "0")]);
    assert_eq!(cached_records(&server), 0);
    server.kill();
    let refused = certrail(&db, &["serve"], &[("CERTRAIL_WARM_RECORDS", "-1")]);
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("CERTRAIL_WARM_RECORDS"),
        "{}",
        text(&refused)
    );
}

#[test]
fn readyz_is_503_when_the_database_was_migrated_by_a_newer_certrail_and_such_a_database_is_refused_at_start(
) {
    let db = TestDb::new();
    let mut server = serve(
        &db.url,
        db.dir(),
        ADMIN,
        &[("CERTRAIL_CHANGE_POLL_MS", "50")],
    );
    assert_eq!(
        get(&format!("{}/readyz", server.url), None, &[]).status,
        200
    );
    let mut conn = certrail::db::DbUrl::parse(&db.url)
        .unwrap()
        .establish()
        .unwrap();
    let insert = "INSERT INTO __diesel_schema_migrations (version) VALUES ('20991231000099')";
    match &mut conn {
        certrail::db::DbConn::Sqlite(c) => {
            diesel::RunQueryDsl::execute(diesel::sql_query(insert), c)
        }
        certrail::db::DbConn::Pg(c) => diesel::RunQueryDsl::execute(diesel::sql_query(insert), c),
    }
    .unwrap();
    // The change poller reads the schema every ten polls (here 0.5 s).
    let started = Instant::now();
    let ready = loop {
        let ready = get(&format!("{}/readyz", server.url), None, &[]);
        if ready.status != 200 || started.elapsed() > Duration::from_secs(10) {
            break ready;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(ready.status, 503, "{}", ready.body);
    assert!(ready.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("schema"));
    server.kill();
    let out = certrail(&db, &["serve"], &[]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("20991231000099") && text(&out).contains("newer version"),
        "{}",
        text(&out)
    );
    let out = certrail(&db, &["check"], &[]);
    assert!(!out.status.success());
    assert!(text(&out).contains("PROBLEM  schema"), "{}", text(&out));
}

#[test]
fn an_instance_whose_public_url_or_master_key_disagrees_with_the_database_refuses_to_start() {
    let db = TestDb::new();
    let server = serve(&db.url, db.dir(), ADMIN, &[]);
    let (_, token, product) = producer(&server, ADMIN, &code(9102));
    let url = issue(&server, &token, &product, "R-2");
    settled_log(&server);
    // The same configuration: every check passes.
    let ok = certrail(&db, &["check"], &[]);
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(
        text(&ok).contains("ok       platform identity"),
        "{}",
        text(&ok)
    );
    // Another public address, as when two instances are started with different settings.
    let moved = [
        ("CERTRAIL_LOG_ORIGIN", ""),
        ("CERTRAIL_PUBLIC_URL", "https://elsewhere.example"),
    ];
    let out = certrail(&db, &["serve"], &moved);
    assert!(!out.status.success());
    assert!(
        text(&out).contains(&format!("CERTRAIL_LOG_ORIGIN={DEFAULT_ORIGIN}")),
        "{}",
        text(&out)
    );
    let out = certrail(&db, &["check"], &moved);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("PROBLEM  platform identity"),
        "{}",
        text(&out)
    );
    // Another master key.
    let other_key = [(
        "CERTRAIL_MASTER_KEY",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    )];
    let out = certrail(&db, &["serve"], &other_key);
    assert!(!out.status.success());
    assert!(text(&out).contains("not the master key"), "{}", text(&out));
    let out = certrail(&db, &["check"], &other_key);
    assert!(!out.status.success());
    assert!(text(&out).contains("not the master key"), "{}", text(&out));
    // The running instance still answers for what it issued.
    assert_eq!(verify(&url), (200, "genuine".into()));
}

#[test]
fn a_database_restored_to_an_earlier_point_is_refused_until_the_loss_is_accepted() {
    if on_postgres() {
        return skipped(
            "SQLite's file copy; PostgreSQL's restore drill is restore::a_point_in_time_restore_brings_back_what_was_before_and_the_lost_log_entries_are_named",
        );
    }
    let db = TestDb::new();
    let mut server = serve(&db.url, db.dir(), ADMIN, &[]);
    let (_, token, product) = producer(&server, ADMIN, &code(9103));
    let kept = issue(&server, &token, &product, "R-3a");
    let before = settled_log(&server);
    let backup = db.dir().join("backup.db");
    let out = certrail(&db, &["backup", backup.to_str().unwrap()], &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("master key is not in it"),
        "{}",
        text(&out)
    );
    assert_private(&backup);
    // A second backup to the same place is refused, the first left as it was.
    let again = certrail(&db, &["backup", backup.to_str().unwrap()], &[]);
    assert!(!again.status.success());
    let lost = issue(&server, &token, &product, "R-3b");
    issue(&server, &token, &product, "R-3c");
    let after = settled_log(&server);
    // The head file follows the log within a sequencer round.
    std::thread::sleep(Duration::from_millis(300));
    assert!(server.terminate(Duration::from_secs(15)).success());
    // The backup copied into place, as an operator restoring it would.
    let file = certrail::db::DbUrl::parse(&db.url).unwrap();
    let path = file.target().to_string();
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{path}{suffix}"));
    }
    std::fs::copy(&backup, &path).unwrap();
    let out = certrail(&db, &["serve"], &[]);
    assert!(!out.status.success());
    let said = text(&out);
    assert!(
        said.contains("restored to an earlier point")
            && said.contains(&format!("entries {before}..{after}")),
        "{said}"
    );
    assert!(
        said.contains(&format!("CERTRAIL_LOG_ROLLBACK_ACCEPTED={after}")),
        "{said}"
    );
    let out = certrail(&db, &["check"], &[]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("PROBLEM  log checkpoint"),
        "{}",
        text(&out)
    );
    // Accepting another size does not do.
    let other = (after - 1).to_string();
    let out = certrail(
        &db,
        &["serve"],
        &[("CERTRAIL_LOG_ROLLBACK_ACCEPTED", &other)],
    );
    assert!(!out.status.success());
    let accepted = after.to_string();
    let server = serve(
        &db.url,
        db.dir(),
        ADMIN,
        &[("CERTRAIL_LOG_ROLLBACK_ACCEPTED", &accepted)],
    );
    assert_eq!(verify(&rebase(&kept, &server)), (200, "genuine".into()));
    assert_eq!(verify(&rebase(&lost, &server)).1, "unknown");
    // The checkpoint that was kept stays as evidence.
    assert!(std::fs::read_dir(db.dir()).unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with("log-checkpoint.rolled-back.")));
    drop(server);
    // Accepted once: the next start is an ordinary one.
    let server = serve(&db.url, db.dir(), ADMIN, &[]);
    assert_eq!(verify(&rebase(&kept, &server)), (200, "genuine".into()));
}

/// `url` (a label issued by another run of the server) on `server`'s address.
fn rebase(url: &str, server: &Server) -> String {
    let path = &url[url.find("/v/").expect("a verify URL")..];
    format!("{}{path}", server.url)
}

fn assert_private(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{}", path.display());
}

/// Runs `sql` on the database at `url` (behind the server's back).
fn execute(url: &str, sql: &str) {
    use diesel::connection::SimpleConnection;
    let mut conn = certrail::db::DbUrl::parse(url)
        .unwrap()
        .establish()
        .unwrap();
    match &mut conn {
        certrail::db::DbConn::Sqlite(c) => c.batch_execute(sql),
        certrail::db::DbConn::Pg(c) => c.batch_execute(sql),
    }
    .unwrap();
}

#[test]
fn a_log_that_goes_back_in_time_while_instances_run_stops_the_sequencer_and_is_kept_as_evidence() {
    let db = TestDb::new();
    let mut server = serve(&db.url, db.dir(), ADMIN, &[]);
    let (_, token, product) = producer(&server, ADMIN, &code(9104));
    issue(&server, &token, &product, "R-4a");
    issue(&server, &token, &product, "R-4b");
    let seen = settled_log(&server);
    // The sequencer keeps each new checkpoint within its round; give it one more.
    std::thread::sleep(Duration::from_millis(300));
    // The database loses the newest entries, as an asynchronous failover or a restore under
    // running instances would make it.
    let now = seen - 2;
    execute(
        &db.url,
        &format!(
            "DELETE FROM log_entries WHERE idx >= {now}; \
             DELETE FROM log_checkpoints WHERE tree_size > {now};"
        ),
    );
    let lost = issue(&server, &token, &product, "R-4c");
    let started = Instant::now();
    while get(&format!("{}/metrics", server.url), None, &[])
        .body
        .lines()
        .all(|l| l != "certrail_log_rollback_detected 1")
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the rollback was not detected"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Nothing is appended at the lost positions: the new entries wait.
    std::thread::sleep(Duration::from_millis(500));
    let info = get(&server.api("/log"), None, &[]).json();
    assert!(info["pending"].as_u64().unwrap() > 0, "{info}");
    assert_eq!(
        count(&db.url, "SELECT COUNT(*) AS n FROM log_entries"),
        now as i64
    );
    // The kept checkpoint was not overwritten: a restart names what was lost.
    assert!(server.terminate(Duration::from_secs(15)).success());
    let out = certrail(&db, &["serve"], &[]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains(&format!("log entries {now}..{seen}")),
        "{}",
        text(&out)
    );
    drop(lost);
}

#[test]
fn check_passes_on_a_database_no_instance_has_started_on() {
    let db = TestDb::new();
    let out = certrail(&db, &["check"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("ok       master key: none yet"),
        "{}",
        text(&out)
    );
    // No key was made, and on SQLite no database file either.
    assert!(!db.dir().join("master.key").exists());
    if !on_postgres() {
        assert!(!db.dir().join("certrail.db").exists());
    }
    // With a key but no start yet: the identity is written by the first start.
    let key = [(
        "CERTRAIL_MASTER_KEY",
        "Y2x1c3Rlci1kcmlsbC1tYXN0ZXIta2V5LTMyYnl0ZXM",
    )];
    let out = certrail(&db, &["check"], &key);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn backup_refuses_a_database_that_is_not_there_instead_of_copying_an_empty_one() {
    if on_postgres() {
        return skipped("certrail backup copies SQLite; PostgreSQL has scripts/pg-backup.sh");
    }
    let db = TestDb::new();
    let dest = db.dir().join("copy.db");
    let out = certrail(&db, &["backup", dest.to_str().unwrap()], &[]);
    assert!(!out.status.success());
    assert!(text(&out).contains("no database at"), "{}", text(&out));
    assert!(!dest.exists());
    assert!(!db.dir().join("certrail.db").exists());
}

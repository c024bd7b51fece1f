//! The PostgreSQL restore drill: WAL archiving, a base backup taken while certrail serves, a
//! point-in-time restore with `scripts/pg-backup.sh`, and the restored database's log noticed
//! as gone back in time by the checkpoint kept beside the data.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{batch, skipped, CODES};
use crate::pg_cluster::{backup_script, postgres_dir, Cluster};
use crate::process::{get, post, producer, serve, settled_log, Server, DEFAULT_ORIGIN};

const ADMIN: &str = "restore-drill-admin-token";

fn issue(server: &Server, token: &str, product: &str, batch_no: &str) -> String {
    let mut body = batch(product);
    body["batch_no"] = json!(batch_no);
    let issued = post(&server.api("/certificates"), token, &body, &[]);
    assert_eq!(issued.status, 201, "{}", issued.body);
    let url = issued.json()["verify_url"].as_str().unwrap().to_string();
    url[url.find("/v/").unwrap()..].to_string()
}

fn verdict(server: &Server, path: &str) -> String {
    let answer = get(
        &format!("{}{path}", server.url),
        None,
        &[("Accept", "application/json")],
    );
    serde_json::from_str::<Value>(&answer.body).unwrap()["verdict"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn a_point_in_time_restore_brings_back_what_was_before_and_the_lost_log_entries_are_named() {
    if !std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
        return skipped(
            "runs in the PostgreSQL pass, on throwaway clusters of its own (SQLite's restore: \
             tests/api/running.rs)",
        );
    }
    let archive = postgres_dir();
    let backups = postgres_dir();
    let primary = Cluster::new();
    primary.archive_to(archive.path());
    let data = tempfile::tempdir().unwrap();
    let env = [("CERTRAIL_LOG_ORIGIN", DEFAULT_ORIGIN)];
    let mut server = serve(&primary.url(), data.path(), ADMIN, &env);
    let (_, token, product) = producer(&server, ADMIN, CODES[2]);
    let before_backup = issue(&server, &token, &product, "PITR-1");
    settled_log(&server);
    let base = backups.path().join("base");
    backup_script(&["base", &primary.url(), base.to_str().unwrap()]);
    let before_target = issue(&server, &token, &product, "PITR-2");
    let kept = settled_log(&server);
    std::thread::sleep(Duration::from_millis(1100));
    let target = primary.value("SELECT now()");
    std::thread::sleep(Duration::from_millis(1100));
    let after_target = issue(&server, &token, &product, "PITR-3");
    let seen = settled_log(&server);
    assert!(seen > kept);
    // Let the sequencer keep its newest checkpoint beside the data, then stop.
    std::thread::sleep(Duration::from_millis(500));
    assert!(server.terminate(Duration::from_secs(20)).success());
    // The WAL up to here is archived.
    let segment = primary.value("SELECT pg_walfile_name(pg_switch_wal())");
    let started = Instant::now();
    while !archive.path().join(&segment).exists() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{segment} archived"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    primary.stop();

    let restored = Cluster::restored(&base, archive.path(), &target);
    // The restored database's log ends before what this instance saw: it refuses to start.
    let out = Command::new(env!("CARGO_BIN_EXE_certrail"))
        .arg("serve")
        .env("CERTRAIL_DATA_DIR", data.path())
        .env("DATABASE_URL", restored.url())
        .env("CERTRAIL_LOG_ORIGIN", DEFAULT_ORIGIN)
        .env("CERTRAIL_BIND", "127.0.0.1:0")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains(&format!("log entries {kept}..{seen}")),
        "entries {kept}..{seen}: {said}"
    );
    let accepted = seen.to_string();
    let server = serve(
        &restored.url(),
        data.path(),
        ADMIN,
        &[
            ("CERTRAIL_LOG_ORIGIN", DEFAULT_ORIGIN),
            ("CERTRAIL_LOG_ROLLBACK_ACCEPTED", &accepted),
        ],
    );
    assert_eq!(verdict(&server, &before_backup), "genuine");
    assert_eq!(verdict(&server, &before_target), "genuine");
    assert_eq!(verdict(&server, &after_target), "unknown");
}

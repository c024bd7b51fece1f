//! The binary: admin token, demo, and a database URL typo that fails fast.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::helpers::TestDb;

fn certrail(db: &TestDb, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_certrail"))
        .args(args)
        .env("CERTRAIL_DATA_DIR", db.dir())
        .env("DATABASE_URL", &db.url)
        .env_remove("CERTRAIL_ADMIN_TOKEN")
        .env_remove("CERTRAIL_MASTER_KEY")
        .env("RUST_LOG", "info")
        .output()
        .expect("run certrail")
}

#[test]
fn admin_token_prints_a_token_and_logs_no_secret() {
    let db = TestDb::new();
    let out = certrail(&db, &["admin", "token"]);
    assert!(
        out.status.success(),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(token.starts_with("ctr_") && token.len() == 47, "{token}");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(!log.contains(&token));
    assert!(db.dir().join("master.key").exists());
}

#[test]
fn demo_prints_tokens_and_verify_urls() {
    let db = TestDb::new();
    let out = certrail(&db, &["demo"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.matches("ctr_").count(), 8, "{text}");
    assert_eq!(
        text.matches("http://127.0.0.1:8080/v/").count(),
        6,
        "{text}"
    );
    assert!(text.contains("常德市德山酱板鸭食品有限公司"));
}

#[test]
fn mistyped_or_unreachable_database_url_fails_fast() {
    let db = TestDb::new();
    let start = Instant::now();
    for url in [
        "postgress://127.0.0.1/x",
        "./data/certrail.db",
        "postgres://nobody@127.0.0.1:1/x",
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_certrail"))
            .args(["admin", "token"])
            .env("CERTRAIL_DATA_DIR", db.dir())
            .env("DATABASE_URL", url)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{url}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("DATABASE_URL") || err.contains("cannot open database"),
            "{url}: {err}"
        );
    }
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "failing took {:?}",
        start.elapsed()
    );
    let created: Vec<_> = std::fs::read_dir(db.dir())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        !created.iter().any(|n| n.to_string_lossy().ends_with(".db")),
        "{created:?}"
    );
}

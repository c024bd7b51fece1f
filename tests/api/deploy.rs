//! The deployment files in `assets/deploy` are checked, not just shown: the systemd unit
//! verifies and is hardened (systemd-analyze), the alert rules are valid (promtool) and name
//! only metrics certrail serves.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use crate::helpers::{skipped, spawn_with};

const DEPLOY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/deploy");

/// Whether `tool` can run here; under CI it must.
fn have(tool: &str, package: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{tool} ({package}; scripts/setup.sh installs it)"
        );
        skipped(&format!("{tool} is not installed ({package})"));
    }
    found
}

#[test]
fn the_systemd_unit_verifies_and_its_exposure_is_low() {
    if !have("systemd-analyze", "systemd") {
        return;
    }
    // The unit as installed, with this checkout's binary and scratch files in place of /etc.
    let dir = tempfile::tempdir().unwrap();
    let unit = std::fs::read_to_string(Path::new(DEPLOY).join("certrail.service")).unwrap();
    let env = dir.path().join("certrail.env");
    std::fs::copy(Path::new(DEPLOY).join("certrail.env"), &env).unwrap();
    let unit = unit
        .replace("/usr/local/bin/certrail", env!("CARGO_BIN_EXE_certrail"))
        .replace("/etc/certrail/certrail.env", env.to_str().unwrap())
        .replace(
            "/etc/certrail/master.key",
            dir.path().join("master.key").to_str().unwrap(),
        );
    let path = dir.path().join("certrail.service");
    std::fs::write(&path, unit).unwrap();
    let verify = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    // verify exits 0 on a directive it could not parse, and says so: both must be clean.
    let said = String::from_utf8_lossy(&verify.stderr);
    assert!(verify.status.success() && said.trim().is_empty(), "{said}");
    // Exposure on systemd's 0..10 scale, times ten: at most 2.0 ("OK").
    let security = Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--threshold=20"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        security.status.success(),
        "{}",
        String::from_utf8_lossy(&security.stdout)
    );
}

/// Metric family names (`certrail_…`) an expression text names, without the suffixes the
/// exposition adds to counters and histograms.
fn families_named(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (i, _) in text.match_indices("certrail_") {
        let name: String = text[i..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        let base = ["_total", "_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .unwrap_or(&name);
        names.insert(base.to_string());
    }
    names
}

#[actix_web::test]
async fn the_alert_rules_are_valid_and_name_only_metrics_certrail_serves() {
    let rules = Path::new(DEPLOY).join("alerts.yml");
    let text = std::fs::read_to_string(&rules).unwrap();
    // On PostgreSQL with a replica configured (the test database itself: only the metrics'
    // presence matters here), so the replica figures show; SQLite has no replicas.
    let on_postgres = std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty());
    let app = spawn_with(|c| {
        if on_postgres {
            c.ops.replica_urls = vec![c.database_url.clone()];
        }
    })
    .await;
    // A request, so the per-request figures have a sample.
    app.get("/api/v1/keys", None).await;
    let served: BTreeSet<String> = app
        .get("/metrics", None)
        .await
        .text()
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .map(String::from)
        .collect();
    let named = families_named(&text);
    assert!(named.len() >= 10, "{named:?}");
    let missing: Vec<&String> = named
        .iter()
        .filter(|n| on_postgres || !n.starts_with("certrail_db_replica_"))
        .filter(|n| !served.contains(*n))
        .collect();
    if !on_postgres {
        skipped("the replica figures are checked in the PostgreSQL pass");
    }
    assert!(missing.is_empty(), "not in /metrics: {missing:?}");
    if have("promtool", "prometheus") {
        let check = Command::new("promtool")
            .args(["check", "rules"])
            .arg(&rules)
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "{}{}",
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr)
        );
    }
}

//! The binary: admin token, demo, and a database URL typo that fails fast.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::helpers::TestDb;
use crate::process::Server;

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
fn admin_onboard_prints_csv_whose_cells_cannot_be_formulas() {
    use crate::helpers::code;
    let db = TestDb::new();
    let file = db.dir().join("orgs.csv");
    std::fs::write(
        &file,
        format!(
            "kind,name,credit_code,region_code,address\n\
             producer,\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",{},430702,武陵区一号\n\
             retailer,@SUM(1+1),{},430702,武陵区二号\n\
             retailer,\"常德, 武陵\",{},430702,武陵区三号\n",
            code(1),
            code(2),
            code(3)
        ),
    )
    .unwrap();
    let out = certrail(&db, &["admin", "onboard", "--csv", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap(),
        vec!["id", "kind", "credit_code", "name"]
    );
    let names: Vec<String> = reader
        .records()
        .map(|r| r.unwrap()[3].to_string())
        .collect();
    assert_eq!(
        names,
        [r#"'=HYPERLINK("http://x","y")"#, "'@SUM(1+1)", "常德, 武陵"],
        "{text}"
    );
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
    assert_eq!(text.matches("ctr_").count(), 12, "{text}");
    assert_eq!(
        text.matches("http://127.0.0.1:8080/v/").count(),
        6,
        "{text}"
    );
    assert!(text.contains("常德市德山酱板鸭食品有限公司"));

    // The admin resets a forgotten password: a new one, printed once; unknown users fail.
    let out = certrail(&db, &["admin", "reset-password", "--username", "producer1"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let password = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert_eq!(password.len(), 20);
    assert!(!text.contains(&password), "a new password");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains(&password),
        "never logged"
    );
    let out = certrail(&db, &["admin", "reset-password", "--username", "nobody"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("user not found"));
}

#[test]
fn pilot_issues_into_an_empty_database_waits_for_the_log_and_reports_what_it_measured() {
    let db = TestDb::new();
    let out = certrail(&db, &["pilot", "--count", "450"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let figure = |label: &str| -> f64 {
        let line = text
            .lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no {label} in {text}"));
        line[label.len()..]
            .split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{line}"))
    };
    assert_eq!(figure("certificates "), 450.0);
    // Shipped every 200th (0, 200, 400), every second of those taken in: 3 + 2 events.
    assert_eq!(figure("trail events after"), 5.0);
    assert!(figure("bytes per certificate") > 300.0, "{text}");
    assert!(figure("verify p50 / p99 cold") > 0.0 && figure("verify p50 / p99 warm") > 0.0);
    // The log took all of it (the pilot returns once nothing waits): 450 certificates, their
    // `issued` events, and then the 5 custody events, sequenced or queued.
    let (entries, pending) = (
        crate::process::count(&db.url, "SELECT COUNT(*) AS n FROM log_entries"),
        crate::process::count(&db.url, "SELECT COUNT(*) AS n FROM log_pending"),
    );
    assert!(
        entries >= 900 && entries + pending == 905,
        "{entries} + {pending}"
    );
    let again = certrail(&db, &["pilot", "--count", "10"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("empty database"));
}

#[test]
fn mistyped_or_unreachable_database_url_fails_fast() {
    let db = TestDb::new();
    for url in [
        "postgress://127.0.0.1/x",
        "./data/certrail.db",
        "postgres://nobody@127.0.0.1:1/x",
        "postgres://nobody:hunter2@127.0.0.1:1/x?password=sekrit",
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
        assert!(
            !err.contains("hunter2") && !err.contains("sekrit"),
            "a password reached the output: {err}"
        );
    }
    // How fast it fails is the connect timeout's job (db::tests::url_schemes checks that every
    // PostgreSQL URL gets one), not a wall-clock assertion here.
    let created: Vec<_> = std::fs::read_dir(db.dir())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        !created.iter().any(|n| n.to_string_lossy().ends_with(".db")),
        "{created:?}"
    );
}

/// Runs `certrail issue --csv` against the test app's database.
fn issue_csv<S>(app: &crate::helpers::TestApp<S>, token: &str, csv: &str) -> std::process::Output {
    csv_command(app, "issue", token, csv)
}

/// Runs `certrail {command} --csv` against the test app's database.
fn csv_command<S>(
    app: &crate::helpers::TestApp<S>,
    command: &str,
    token: &str,
    csv: &str,
) -> std::process::Output {
    let file = app.state.config.data_dir.join("export.csv");
    std::fs::write(&file, csv).unwrap();
    Command::new(env!("CARGO_BIN_EXE_certrail"))
        .args([command, "--csv", file.to_str().unwrap()])
        .env("CERTRAIL_DATA_DIR", &app.state.config.data_dir)
        .env("DATABASE_URL", &app.state.config.database_url)
        .env("CERTRAIL_PUBLIC_URL", crate::helpers::PUBLIC_URL)
        .env("CERTRAIL_TOKEN", token)
        .env("RUST_LOG", "info")
        .output()
        .expect("run certrail")
}

#[actix_web::test]
async fn promise_csv_issues_lots_and_split_children_all_or_nothing() {
    use serde_json::json;
    let app = crate::helpers::spawn().await;
    let (token, product) = app.producer_with_product(crate::helpers::CODES[0]).await;
    let (market_id, market) = app
        .org("market_operator", crate::helpers::CODES[1], "430702")
        .await;
    let out = csv_command(
        &app,
        "promise",
        &token,
        &format!(
            "产品编号,批号,数量,单位,产地代码,产地,主体类型,联系方式\n\
             {product},DX-1,1000,千克,430721,安乡县稻田基地,cooperative,0736-1\n"
        ),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let row = text.lines().nth(1).expect(&text).to_string();
    let fields: Vec<&str> = row.split(',').collect();
    let (parent, url) = (fields[1], fields[3]);
    let answer = app.get_json(&crate::helpers::path_of(url)).await.json();
    assert_eq!(answer["certificate"]["payload"]["type"], "promise");

    let events = format!("/api/v1/certificates/{parent}/events");
    app.post(
        &events,
        Some(&token),
        &json!({"type": "shipped", "consignee": market_id}),
    )
    .await;
    app.post(
        &events,
        Some(&market),
        &json!({"type": "received", "label_url": url}),
    )
    .await;
    // One bad row issues nothing, and names its line.
    let children = |second: &str| {
        format!("来源合格证,批号,数量,联系方式\n{parent},DX-1-A,600,市场 1\n{parent},DX-1-B,{second},市场 1\n")
    };
    let out = csv_command(&app, "promise", &market, &children("401"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("lot") && err.contains("nothing was issued"),
        "{err}"
    );
    let out = csv_command(&app, "promise", &market, &children("0"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 3"), "{err}");
    let out = csv_command(&app, "promise", &market, &children("400"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Another process wrote: this instance may hold the parent's record from the intake
    // above, and drops it within one change poll (1 s here).
    let mut parent_answer = serde_json::Value::Null;
    for _ in 0..50 {
        parent_answer = app.get_json(&crate::helpers::path_of(url)).await.json();
        if parent_answer["lineage"]["children"]
            .as_array()
            .map(Vec::len)
            == Some(2)
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(
        parent_answer["lineage"]["children"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "{parent_answer}"
    );
}

#[actix_web::test]
async fn issue_csv_from_an_erp_export_all_or_nothing_and_once() {
    let app = crate::helpers::spawn().await;
    let (token, product) = app.producer_with_product(crate::helpers::CODES[0]).await;
    let today = chrono::Utc::now().date_naive();
    let d = |n: u64| {
        (today - chrono::Days::new(n))
            .format("%Y/%m/%d")
            .to_string()
    };
    let rows = |second_inspection: &str| {
        format!(
            "\u{feff}产品编号,批次号,数量,单位,生产日期,检验日期,检验员,检验结果,保质期至\n\
             {product},CSV-1,100,箱,{p},{i},张三,合格,\n\
             {product},\"CSV-2, 夜班\",200,袋,{p},{second_inspection},李四,合格,{e}\n\
             {product},CSV-3,300,袋,{p},{i},王五,pass,\n",
            p = d(3),
            i = d(2),
            e = (today + chrono::Days::new(90)).format("%Y-%m-%d"),
        )
    };
    let before = app.counts();

    // A row inspected before it was produced: the line is named and nothing is issued.
    let bad = issue_csv(&app, &token, &rows(&d(5)));
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("line 3: inspection_date"), "{err}");
    assert!(err.contains("nothing was issued"), "{err}");
    assert_eq!(app.counts(), before);

    // A wrong token issues nothing either.
    let unknown = issue_csv(&app, "ctr_not_a_token", &rows(&d(2)));
    assert!(!unknown.status.success());
    assert_eq!(app.counts(), before);

    let good = rows(&d(2));
    let out = issue_csv(&app, &token, &good);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let issued: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(issued.len(), 3, "{text}");
    assert_eq!(&issued[1][0], "3");
    assert_eq!(&issued[1][2], "CSV-2, 夜班");
    for record in &issued {
        let res = app.get_json(&crate::helpers::path_of(&record[3])).await;
        assert_eq!(res.json()["verdict"], "genuine", "{}", res.text());
    }
    let res = app.get_json(&crate::helpers::path_of(&issued[1][3])).await;
    assert_eq!(
        res.json()["certificate"]["payload"]["batch"]["quantity"],
        200
    );
    let after = app.counts();
    assert_eq!(after[4], before[4] + 3);
    assert_eq!(after[5], before[5] + 3);

    // The same file again issues nothing.
    let again = issue_csv(&app, &token, &good);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already issued"));
    assert_eq!(app.counts(), after);
}

#[actix_web::test]
async fn the_issued_list_neutralises_cells_that_look_like_formulas() {
    let app = crate::helpers::spawn().await;
    let (token, product) = app.producer_with_product(crate::helpers::CODES[0]).await;
    let day = |n: u64| {
        (chrono::Utc::now().date_naive() - chrono::Days::new(n))
            .format("%Y/%m/%d")
            .to_string()
    };
    let (p, i) = (day(3), day(2));
    let file = format!(
        "产品编号,批次号,数量,单位,生产日期,检验日期,检验员,检验结果,保质期至\n\
         {product},\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",1,箱,{p},{i},张三,合格,\n\
         {product},@SUM(1+1),1,箱,{p},{i},张三,合格,\n\
         {product},-2+3,1,箱,{p},{i},张三,合格,\n"
    );
    let out = issue_csv(&app, &token, &file);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let issued: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let batches: Vec<&str> = issued.iter().map(|r| &r[2]).collect();
    assert_eq!(
        batches,
        [r#"'=HYPERLINK("http://x","y")"#, "'@SUM(1+1)", "'-2+3"],
        "{text}"
    );
    // The certificate itself carries the batch number as given.
    let res = app.get_json(&crate::helpers::path_of(&issued[1][3])).await;
    assert_eq!(
        res.json()["certificate"]["payload"]["batch"]["no"],
        "@SUM(1+1)"
    );
}

fn serve(db: &TestDb, admin: &str) -> Server {
    crate::process::serve(&db.url, db.dir(), admin, &[])
}

fn post(url: &str, token: &str, body: serde_json::Value) -> serde_json::Value {
    ureq::post(url)
        .header("Authorization", &format!("Bearer {token}"))
        .send_json(body)
        .unwrap_or_else(|e| panic!("POST {url}: {e}"))
        .body_mut()
        .read_json()
        .unwrap()
}

fn get_text(url: &str) -> String {
    ureq::get(url)
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap()
}

/// Waits until the log holds `size` entries.
fn sequenced(server: &Server, size: u64) {
    let started = Instant::now();
    loop {
        let info: serde_json::Value =
            serde_json::from_str(&get_text(&format!("{}/api/v1/log", server.url))).unwrap();
        if info["tree_size"].as_u64() >= Some(size) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "log stuck at {info}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_regulators_witness_cosigns_over_http_and_refuses_a_rolled_back_log() {
    let db = TestDb::new();
    let admin = "witness-test-admin-token";
    let server = serve(&db, admin);
    let api = format!("{}/api/v1", server.url);
    let org = |kind: &str, code: &str| {
        let body = serde_json::json!({"kind": kind, "name": format!("{kind} 常德"), "credit_code": code,
            "region_code": "430700", "address": "湖南省常德市"});
        let id = post(&format!("{api}/organizations"), admin, body)["id"]
            .as_str()
            .unwrap()
            .to_string();
        let token = post(
            &format!("{api}/organizations/{id}/tokens"),
            admin,
            serde_json::json!({}),
        )["token"]
            .as_str()
            .unwrap()
            .to_string();
        (id, token)
    };
    let (regulator, _) = org("regulator", crate::helpers::CODES[3]);
    let (_, producer) = org("producer", crate::helpers::CODES[0]);
    let product = post(
        &format!("{api}/products"),
        &producer,
        serde_json::json!({"name": "酱板鸭", "model": "500g/袋", "standard": "GB/T 23586-2022"}),
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    let issue = || {
        post(
            &format!("{api}/certificates"),
            &producer,
            crate::helpers::batch(&product),
        )
    };
    issue();
    sequenced(&server, 2);

    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("witness.key");
    let state = dir.path().join("state");
    let out = certrail(
        &db,
        &[
            "witness",
            "init",
            "--name",
            "scjg.example/w",
            "--key",
            key.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let vkey = String::from_utf8(out.stdout).unwrap().trim().to_string();
    post(
        &format!("{api}/log/witnesses"),
        admin,
        serde_json::json!({"verifier_key": vkey, "organization_id": regulator}),
    );
    let log_key: serde_json::Value =
        serde_json::from_str(&get_text(&format!("{api}/log"))).unwrap();
    let log_key = log_key["verifier_key"].as_str().unwrap().to_string();
    let run = || {
        certrail(
            &db,
            &[
                "witness",
                "run",
                "--once",
                "--log",
                &server.url,
                "--key",
                key.to_str().unwrap(),
                "--state",
                state.to_str().unwrap(),
                "--log-key",
                &log_key,
            ],
        )
    };
    let out = run();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(get_text(&format!("{}/log/checkpoint", server.url)).contains("— scjg.example/w "));

    issue();
    sequenced(&server, 4);
    let out = run();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let saved = std::fs::read_to_string(state.join("state.json")).unwrap();
    assert!(saved.contains("\"size\": 4"), "{saved}");

    // The operator rolls the log back to two entries behind everyone's back.
    let mut conn = certrail::db::DbUrl::parse(&db.url)
        .unwrap()
        .establish()
        .unwrap();
    let rollback = "DELETE FROM log_checkpoints WHERE tree_size > 2";
    match &mut conn {
        certrail::db::DbConn::Sqlite(c) => {
            diesel::connection::SimpleConnection::batch_execute(c, rollback).unwrap()
        }
        certrail::db::DbConn::Pg(c) => {
            diesel::connection::SimpleConnection::batch_execute(c, rollback).unwrap()
        }
    }
    let out = run();
    assert_eq!(
        out.status.code(),
        Some(3),
        "refused: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let refusals = std::fs::read_to_string(state.join("refusals.log")).unwrap();
    assert!(
        refusals.contains("REFUSED") && refusals.contains("rolled back"),
        "{refusals}"
    );
    // The witness keeps what it saw: it still refuses after a restart.
    assert_eq!(run().status.code(), Some(3));
}

#[test]
fn data_dir_database_and_keys_are_private_and_an_open_key_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let base = tempfile::tempdir().unwrap();
    let data = base.path().join("fresh").join("data");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_certrail"))
            .args(args)
            .env("CERTRAIL_DATA_DIR", &data)
            .env_remove("DATABASE_URL")
            .env_remove("CERTRAIL_MASTER_KEY")
            .output()
            .expect("run certrail")
    };
    let out = run(&["admin", "token"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "a new data directory");
    assert_eq!(mode(&data.join("certrail.db")), 0o600, "the database file");
    assert_eq!(mode(&data.join("master.key")), 0o600, "the master key");
    // A key file others may read is not used.
    std::fs::set_permissions(
        data.join("master.key"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let out = run(&["admin", "token"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("chmod 600") && stderr.contains("644"),
        "{stderr}"
    );
    std::fs::set_permissions(
        data.join("master.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    assert!(run(&["admin", "token"]).status.success());
}

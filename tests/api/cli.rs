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

/// Runs `certrail issue --csv` against the test app's database.
fn issue_csv<S>(app: &crate::helpers::TestApp<S>, token: &str, csv: &str) -> std::process::Output {
    let file = app.state.config.data_dir.join("export.csv");
    std::fs::write(&file, csv).unwrap();
    Command::new(env!("CARGO_BIN_EXE_certrail"))
        .args(["issue", "--csv", file.to_str().unwrap()])
        .env("CERTRAIL_DATA_DIR", &app.state.config.data_dir)
        .env("DATABASE_URL", &app.state.config.database_url)
        .env("CERTRAIL_PUBLIC_URL", crate::helpers::PUBLIC_URL)
        .env("CERTRAIL_TOKEN", token)
        .env("RUST_LOG", "info")
        .output()
        .expect("run certrail")
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

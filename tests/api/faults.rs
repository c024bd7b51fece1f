//! Faults, against the real binary: the database stopped and restarted under traffic, SQLite
//! locked from outside and on a full filesystem, and the server (or the CLI) killed with
//! SIGKILL in the middle of bulk issuance, CSV issuance and trail writes. Every case checks that
//! answers were 503 `database_unavailable` with `Retry-After` (never a 500) while storage was
//! gone, that nothing was half-written, and that service resumed without a restart.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{batch, skipped, TestDb, CODES};
use crate::pg_cluster::Cluster;
use crate::process::{count, get, post, producer, serve, Answer, Server};

const ADMIN: &str = "faults-test-admin-token";

fn on_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty())
}

/// `batch(product)` under its own batch number.
fn numbered(product: &str, batch_no: &str) -> Value {
    let mut body = batch(product);
    body["batch_no"] = json!(batch_no);
    body
}

/// Every certificate's trail checks (hashes, links, signatures, recorded head).
fn assert_trails_intact(server: &Server, token: &str, ids: &[String]) {
    for id in ids {
        let trail = get(
            &server.api(&format!("/certificates/{id}/trail")),
            Some(token),
            &[],
        );
        assert_eq!(trail.status, 200, "{}", trail.body);
        assert_eq!(trail.json()["intact"], true, "{id}: {}", trail.body);
    }
}

/// Waits until the transparency log has sequenced every entry written.
fn assert_log_catches_up(server: &Server, url: &str) {
    let written = count(
        url,
        "SELECT COUNT(*) AS n FROM (SELECT idx FROM log_entries UNION ALL \
         SELECT id FROM log_pending) AS w",
    );
    let started = Instant::now();
    loop {
        let log = get(&server.api("/log"), None, &[]);
        if log.status == 200 && log.json()["tree_size"].as_i64() == Some(written) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the log did not reach {written}: {}",
            log.body
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// An answer seen in a phase (0 up, 1 storage away, 2 back), for a kind of request.
type Observed = (u8, &'static str, Answer);

/// No answer was a 5xx other than 503, and every 503 is the envelope with `Retry-After`.
fn assert_no_500(answers: &[Observed]) {
    for (phase, what, a) in answers {
        assert!(
            a.status != 0 && (a.status < 500 || a.status == 503),
            "phase {phase}, {what}: {} {}",
            a.status,
            a.body
        );
        if a.status == 503 {
            assert_eq!(a.code(), "database_unavailable", "{what}: {}", a.body);
            assert!(a.retry_after.is_some(), "{what}: 503 without Retry-After");
        }
    }
}

#[test]
fn postgresql_stopped_under_traffic_is_503_and_the_server_heals_when_it_returns() {
    if !on_postgres() {
        skipped(
            "runs in the PostgreSQL pass (TEST_DATABASE_URL set), on its own throwaway cluster",
        );
        return;
    }
    let cluster = Cluster::new();
    let data = tempfile::tempdir().unwrap();
    let server = Arc::new(serve(
        &cluster.url(),
        data.path(),
        ADMIN,
        &[("CERTRAIL_DB_WAIT_MS", "300")],
    ));
    let (org, token, product) = producer(&server, ADMIN, CODES[0]);
    let first = post(
        &server.api("/certificates"),
        &token,
        &numbered(&product, "UP-0"),
        &[],
    );
    assert_eq!(first.status, 201, "{}", first.body);
    let label = first.json()["verify_url"]
        .as_str()
        .unwrap()
        .strip_prefix(&server.url)
        .unwrap()
        .to_string();

    // Traffic: issuance, a read, a scan, over and over, in phases 0 (up), 1 (down), 2 (back).
    let phase = Arc::new(AtomicU8::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let answers: Arc<Mutex<Vec<Observed>>> = Arc::default();
    let traffic = {
        let (server, phase, stop, answers) =
            (server.clone(), phase.clone(), stop.clone(), answers.clone());
        let (token, product) = (token.clone(), product.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let p = phase.load(Ordering::Relaxed);
                let issued = post(
                    &server.api("/certificates"),
                    &token,
                    &numbered(&product, &format!("T-{n}")),
                    &[],
                );
                let read = get(&server.api(&format!("/organizations/{org}")), None, &[]);
                let scan = get(
                    &format!("{}{label}", server.url),
                    None,
                    &[("Accept", "application/json")],
                );
                let mut all = answers.lock().unwrap();
                all.extend([(p, "issue", issued), (p, "read", read), (p, "scan", scan)]);
                drop(all);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    std::thread::sleep(Duration::from_secs(1));
    cluster.stop();
    phase.store(1, Ordering::Relaxed);
    std::thread::sleep(Duration::from_secs(3));
    cluster.start();
    phase.store(2, Ordering::Relaxed);
    // Service resumes by itself: the first successful issuance after the restart…
    let back = Instant::now();
    let healed = loop {
        let ok = answers
            .lock()
            .unwrap()
            .iter()
            .any(|(p, what, a)| *p == 2 && *what == "issue" && a.status == 201);
        if ok {
            break back.elapsed();
        }
        assert!(
            back.elapsed() < Duration::from_secs(30),
            "no issuance succeeded within 30 s of the restart"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    // …and from then on every request succeeds (every dead pooled connection was replaced).
    std::thread::sleep(Duration::from_secs(1));
    let settled = answers.lock().unwrap().len();
    std::thread::sleep(Duration::from_secs(2));
    stop.store(true, Ordering::Relaxed);
    traffic.join().unwrap();
    let answers = answers.lock().unwrap().clone();
    eprintln!(
        "{} answers; healed {healed:?} after the restart",
        answers.len()
    );
    assert_no_500(&answers);
    let down: Vec<_> = answers.iter().filter(|(p, ..)| *p == 1).collect();
    assert!(
        down.iter()
            .any(|(_, what, a)| *what == "issue" && a.status == 503),
        "issuance was answered 503 while the database was down"
    );
    assert!(
        down.iter()
            .all(|(_, what, a)| *what != "issue" || matches!(a.status, 201 | 503)),
        "issuance while down: 201 (before the stop took) or 503"
    );
    // The label scanned all along is answered from memory while the database is away: from
    // its cached record, or, once that is due for a re-read (its log entry still pending), from
    // the record last read, saying its status may not be current.
    for (_, _, a) in down.iter().filter(|(_, what, _)| *what == "scan") {
        assert_eq!(a.status, 200, "scan while down: {}", a.body);
    }
    assert!(
        down.iter().any(|(_, what, _)| *what == "scan"),
        "no scan while down"
    );
    let after = &answers[settled..];
    assert!(after.len() >= 9, "traffic went on: {}", after.len());
    for (_, what, a) in after {
        assert!(
            matches!(a.status, 200 | 201),
            "{what}: {} {}",
            a.status,
            a.body
        );
    }
    // Nothing half-written: every certificate answered 201 has an intact trail, and the log's
    // sequencer (which lost its connection too) sequences every entry written.
    let issued: Vec<String> = answers
        .iter()
        .filter(|(_, what, a)| *what == "issue" && a.status == 201)
        .map(|(_, _, a)| a.json()["id"].as_str().unwrap().to_string())
        .collect();
    assert_trails_intact(&server, &token, &issued);
    assert_log_catches_up(&server, &cluster.url());
}

/// Runs in both passes: it makes its own SQLite file whatever `TEST_DATABASE_URL` says.
#[test]
fn sqlite_locked_from_outside_is_503_for_writes_while_reads_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("certrail.db").display());
    let server = serve(&url, dir.path(), ADMIN, &[]);
    let (org, token, product) = producer(&server, ADMIN, CODES[0]);
    let issue = |n: &str| {
        post(
            &server.api("/certificates"),
            &token,
            &numbered(&product, n),
            &[],
        )
    };
    assert_eq!(issue("L-1").status, 201);
    // Another process (a backup tool, a stray sqlite3 shell) takes the write lock and holds it.
    let mut outside = certrail::db::DbUrl::parse(&url)
        .unwrap()
        .establish()
        .unwrap();
    let certrail::db::DbConn::Sqlite(lock) = &mut outside else {
        unreachable!()
    };
    diesel::connection::SimpleConnection::batch_execute(lock, "BEGIN EXCLUSIVE").unwrap();
    let started = Instant::now();
    let refused = issue("L-2");
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert_eq!(refused.code(), "database_unavailable");
    assert!(refused.retry_after.is_some());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "answered after the lock wait"
    );
    // Readers are not held up by a writer (WAL).
    let read = get(&server.api(&format!("/organizations/{org}")), None, &[]);
    assert_eq!(read.status, 200, "{}", read.body);
    diesel::connection::SimpleConnection::batch_execute(lock, "ROLLBACK").unwrap();
    drop(outside);
    let resumed = issue("L-2");
    assert_eq!(resumed.status, 201, "{}", resumed.body);
    assert_eq!(
        count(
            &url,
            "SELECT COUNT(*) AS n FROM certificates WHERE batch_no LIKE 'L-%'"
        ),
        2
    );
}

/// A tmpfs of `size` mounted on a fresh directory, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .is_ok_and(|o| o.status.success());
        ok.then_some(SmallDisk { dir })
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

/// Runs in both passes: it makes its own SQLite file whatever `TEST_DATABASE_URL` says.
#[test]
fn sqlite_on_a_full_disk_is_503_and_writes_resume_when_space_returns() {
    let Some(disk) = SmallDisk::mount("8m") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI runs as root and must mount a small tmpfs for this test"
        );
        skipped("mounting a tmpfs needs root");
        return;
    };
    let dir = disk.dir.path();
    let url = format!("sqlite://{}", dir.join("certrail.db").display());
    let server = serve(&url, dir, ADMIN, &[]);
    let (_, token, product) = producer(&server, ADMIN, CODES[0]);
    // Fill the disk but for a little room.
    let filler = dir.join("filler");
    let free = {
        let stat = free_bytes(dir);
        stat.saturating_sub(256 * 1024)
    };
    std::fs::write(&filler, vec![0u8; free as usize]).unwrap();
    let mut answers = Vec::new();
    let mut issued = Vec::new();
    for n in 0..400 {
        let a = post(
            &server.api("/certificates"),
            &token,
            &numbered(&product, &format!("F-{n}")),
            &[],
        );
        if a.status == 201 {
            issued.push(a.json()["id"].as_str().unwrap().to_string());
        }
        let full = a.status != 201;
        answers.push((1, "issue", a));
        if full
            && answers.len() > 3
            && answers[answers.len() - 3..]
                .iter()
                .all(|x| x.2.status != 201)
        {
            break;
        }
    }
    assert_no_500(&answers);
    assert!(
        answers.iter().any(|(_, _, a)| a.status == 503),
        "the disk filled up within 400 certificates"
    );
    std::fs::remove_file(&filler).unwrap();
    let resumed = post(
        &server.api("/certificates"),
        &token,
        &numbered(&product, "F-after"),
        &[],
    );
    assert_eq!(resumed.status, 201, "{}", resumed.body);
    issued.push(resumed.json()["id"].as_str().unwrap().to_string());
    assert_trails_intact(&server, &token, &issued);
    assert_eq!(
        count(
            &url,
            "SELECT COUNT(*) AS n FROM certificates WHERE batch_no LIKE 'F-%'"
        ),
        issued.len() as i64,
        "exactly the certificates answered 201 exist"
    );
    assert_log_catches_up(&server, &url);
}

/// Free bytes on the filesystem holding `dir`.
#[allow(unsafe_code)]
fn free_bytes(dir: &Path) -> u64 {
    let path = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: statvfs is plain old data; all zeroes is a valid value of it.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `path` is a NUL-terminated string and `stat` a valid, writable statvfs.
    assert_eq!(unsafe { libc::statvfs(path.as_ptr(), &mut stat) }, 0);
    stat.f_bavail as u64 * stat.f_frsize as u64
}

/// Runs `work` in a thread and SIGKILLs `server` `after` it started; returns the work's result
/// (an answer with status 0 when the kill cut it off).
fn kill_during<T: Send + 'static>(
    server: &mut Server,
    after: Duration,
    work: impl FnOnce() -> T + Send + 'static,
) -> T {
    let worker = std::thread::spawn(work);
    std::thread::sleep(after);
    server.kill();
    worker.join().unwrap()
}

#[test]
fn sigkill_during_bulk_csv_and_trail_writes_leaves_nothing_half_written() {
    let db = TestDb::new();
    let mut server = serve(&db.url, db.dir(), ADMIN, &[]);
    let (_, token, product) = producer(&server, ADMIN, CODES[0]);
    const N: usize = 2000;
    let bulk = |prefix: &str| json!({"certificates": (0..N).map(|i| numbered(&product, &format!("{prefix}-{i}"))).collect::<Vec<_>>()});
    let in_bulk = |prefix: &str| {
        count(
            &db.url,
            &format!("SELECT COUNT(*) AS n FROM certificates WHERE batch_no LIKE '{prefix}-%'"),
        )
    };

    // Bulk issuance: how long one takes, then others killed at points through it (signing
    // comes first, the one transaction last: the later kills land in or after it).
    let started = Instant::now();
    let whole = post(&server.api("/certificates/bulk"), &token, &bulk("B0"), &[]);
    assert_eq!(whole.status, 201, "{}", whole.body);
    let took = started.elapsed();
    for (round, percent) in [60u32, 85, 100, 115, 140].into_iter().enumerate() {
        let prefix = format!("B{}", round + 1);
        let key = format!("bulk-{prefix}");
        let body = bulk(&prefix);
        let (url, t, b, k) = (
            server.api("/certificates/bulk"),
            token.clone(),
            body.clone(),
            key.clone(),
        );
        let cut = kill_during(&mut server, took * percent / 100, move || {
            post(&url, &t, &b, &[("Idempotency-Key", &k)])
        });
        let written = in_bulk(&prefix);
        eprintln!(
            "bulk of {N} ({took:?}) killed at {percent}%: answer {}, {written} written",
            cut.status
        );
        assert!(written == 0 || written == N as i64, "{written} of {N}");
        // Restarted, the client's retry with the same key completes it exactly once.
        server = serve(&db.url, db.dir(), ADMIN, &[]);
        let retry = post(
            &server.api("/certificates/bulk"),
            &token,
            &body,
            &[("Idempotency-Key", &key)],
        );
        assert_eq!(retry.status, 201, "{}", retry.body);
        assert_eq!(in_bulk(&prefix), N as i64);
    }

    // CSV issuance from the CLI: one whole run timed, then runs killed at points through it.
    let csv = |prefix: &str| {
        let mut rows = String::from(
            "product_id,batch_no,quantity,unit,production_date,inspection_date,inspector,result\n",
        );
        let today = chrono::Utc::now().date_naive();
        let d = |n: u64| {
            (today - chrono::Days::new(n))
                .format("%Y-%m-%d")
                .to_string()
        };
        for i in 0..N {
            rows.push_str(&format!(
                "{product},{prefix}-{i},100,箱,{},{},张三,pass\n",
                d(3),
                d(2)
            ));
        }
        let file = db.dir().join(format!("{prefix}.csv"));
        std::fs::write(&file, rows).unwrap();
        file
    };
    let run_csv = |file: &Path| {
        let mut cli = Command::new(env!("CARGO_BIN_EXE_certrail"));
        cli.args(["issue", "--csv", file.to_str().unwrap()])
            .arg("--out")
            .arg(file.with_extension("out"))
            .env("CERTRAIL_DATA_DIR", db.dir())
            .env("DATABASE_URL", &db.url)
            .env("CERTRAIL_PUBLIC_URL", &server.url)
            .env("CERTRAIL_TOKEN", &token)
            .env("RUST_LOG", "warn");
        cli
    };
    let started = Instant::now();
    assert!(run_csv(&csv("C0")).status().unwrap().success());
    let took = started.elapsed();
    for (round, percent) in [60u32, 85, 100, 115, 140].into_iter().enumerate() {
        let prefix = format!("C{}", round + 1);
        let file = csv(&prefix);
        let mut cli = run_csv(&file).spawn().unwrap();
        std::thread::sleep(took * percent / 100);
        cli.kill().unwrap();
        cli.wait().unwrap();
        let written = in_bulk(&prefix);
        eprintln!("CSV run of {N} ({took:?}) killed at {percent}%: {written} written");
        assert!(written == 0 || written == N as i64, "{written} of {N}");
        // PostgreSQL finishes a COMMIT its client sent before it was killed, maybe after the
        // count above: a rerun after "0 written" may find the file issued. Either way it is
        // issued once, whole.
        let rerun = run_csv(&file).output().unwrap();
        let said = String::from_utf8_lossy(&rerun.stderr);
        assert!(
            rerun.status.success() || said.contains("this file was already issued"),
            "{said}"
        );
        if written == N as i64 {
            assert!(!rerun.status.success(), "a rerun issues the file once");
        }
        assert_eq!(in_bulk(&prefix), N as i64, "a rerun issues the file once");
    }

    // Trail writes from four clients at once, the server killed among them.
    let ids: Vec<String> = (0..20)
        .map(|i| {
            let a = post(
                &server.api("/certificates"),
                &token,
                &numbered(&product, &format!("E-{i}")),
                &[],
            );
            assert_eq!(a.status, 201, "{}", a.body);
            a.json()["id"].as_str().unwrap().to_string()
        })
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (stop, ids, token, base) =
                (stop.clone(), ids.clone(), token.clone(), server.api(""));
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) && n < 200 {
                    let id = &ids[(w * 5 + n) % ids.len()];
                    let a = post(
                        &format!("{base}/certificates/{id}/events"),
                        &token,
                        &json!({"type": "shipped", "note": format!("w{w} n{n}")}),
                        &[],
                    );
                    if a.status == 0 {
                        break;
                    }
                    n += 1;
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(700));
    server.kill();
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    let server = serve(&db.url, db.dir(), ADMIN, &[]);
    assert_trails_intact(&server, &token, &ids);
    assert_log_catches_up(&server, &db.url);
    // And the trail takes writes again.
    let again = post(
        &server.api(&format!("/certificates/{}/events", ids[0])),
        &token,
        &json!({"type": "shipped"}),
        &[],
    );
    assert_eq!(again.status, 201, "{}", again.body);
}

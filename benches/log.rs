//! The transparency log under load: how long issued certificates wait to be sequenced while
//! 100,000 are issued in bulk (target under 5 s), the sequencer's rate, and inclusion and
//! consistency proofs (size and time) in a log of 2,000,000 entries.
//!
//! `cargo bench --bench log` (SQLite in a temp dir; `BENCH_DATABASE_URL=postgres://…` for
//! PostgreSQL, in a fresh schema). `LOG_BENCH_ISSUE` and `LOG_BENCH_ENTRIES` scale it down
//! (the test-mode run in CI uses 2,000 and 20,000).

// A failed expectation is the test's (or the benchmark's) answer: unwrap and expect are fine here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use certrail::config::Config;
use certrail::db::models::tlog;
use certrail::service::issuance::issue::{issue_bulk, MAX_BULK};
use certrail::service::tlog::sequencer::sequence_once;
use certrail::service::tlog::tree::StoredHashes;
use certrail::service::AppState;
use diesel::connection::SimpleConnection;
use diesel::Connection;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A fresh database: SQLite in `dir`, or a new schema in `BENCH_DATABASE_URL`.
fn database(dir: &std::path::Path, name: &str) -> (String, Option<(String, String)>) {
    match std::env::var("BENCH_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        Some(base) => {
            let schema = format!("bench_{name}_{}", std::process::id());
            let mut conn = diesel::PgConnection::establish(&base).expect("BENCH_DATABASE_URL");
            conn.batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
            ))
            .expect("schema");
            let sep = if base.contains('?') { '&' } else { '?' };
            (
                format!("{base}{sep}options=-csearch_path%3D{schema}"),
                Some((base, schema)),
            )
        }
        None => (
            format!("sqlite://{}", dir.join(format!("{name}.db")).display()),
            None,
        ),
    }
}

fn drop_schema(pg: Option<(String, String)>) {
    if let Some((base, schema)) = pg {
        if let Ok(mut conn) = diesel::PgConnection::establish(&base) {
            let _ = conn.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"));
        }
    }
}

/// A server's state on `url`, its own sequencer running every `log_interval`.
fn state(dir: &std::path::Path, url: String, log_interval: Duration) -> AppState {
    AppState::open(Config {
        bind: "127.0.0.1:0".into(),
        public_url: "https://certrail.example.cn".into(),
        data_dir: dir.to_path_buf(),
        database_url: url,
        admin_token: None,
        master_key: None,
        pool_size: 8,
        trusted_proxies: Vec::new(),
        label_font: None,
        copy: Default::default(),
        tuning: certrail::config::Tuning {
            log_interval,
            ..Default::default()
        },
        ops: Default::default(),
        workflow: Default::default(),
    })
    .expect("state")
}

/// Issues `total` certificates in bulks of 10,000 while the real sequencer runs; reports how
/// long each bulk's entries waited after its commit until the log held them.
fn lag_under_bulk(total: usize) {
    let dir = tempfile::tempdir().unwrap();
    let (url, pg) = database(dir.path(), "lag");
    let state = state(dir.path(), url, Duration::from_millis(250));
    let (actor, product) = certrail::pilot::setup(&state).expect("setup");
    let sizes: Arc<Mutex<Vec<(Instant, u64)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (sizes, stop, db) = (sizes.clone(), stop.clone(), state.db.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if let Ok(mut conn) = db.reader() {
                    if let Ok(Some(c)) = tlog::latest_checkpoint(&mut conn) {
                        sizes
                            .lock()
                            .unwrap()
                            .push((Instant::now(), c.tree_size as u64));
                    }
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let started = Instant::now();
    let mut commits = vec![];
    let mut issued = 0;
    while issued < total {
        let n = MAX_BULK.min(total - issued);
        let reqs = (0..n)
            .map(|i| certrail::pilot::request(&product, issued + i))
            .collect();
        issue_bulk(&state, &actor, reqs).expect("bulk issuance");
        issued += n;
        // Each certificate and its `issued` event: two entries.
        commits.push((Instant::now(), 2 * issued as u64));
    }
    let issuing = started.elapsed();
    let target = 2 * total as u64;
    let deadline = Instant::now() + Duration::from_secs(120);
    while sizes.lock().unwrap().last().map_or(0, |s| s.1) < target && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, Ordering::Relaxed);
    watcher.join().unwrap();
    let sizes = sizes.lock().unwrap();
    let lags: Vec<Duration> = commits
        .iter()
        .map(|(at, entries)| {
            sizes
                .iter()
                .find(|(seen, size)| seen >= at && size >= entries)
                .map_or(Duration::from_secs(120), |(seen, _)| *seen - *at)
        })
        .collect();
    let max = lags.iter().max().copied().unwrap_or_default();
    let mean = lags.iter().sum::<Duration>() / lags.len().max(1) as u32;
    let done = sizes.last().map_or(started, |s| s.0) - started;
    println!(
        "log_lag_under_bulk: {total} certificates ({target} entries) issued in {:.1} s ({:.0} cert/s); \
         lag after each bulk commit: max {:.2} s, mean {:.2} s; all sequenced {:.1} s after the start",
        issuing.as_secs_f64(),
        total as f64 / issuing.as_secs_f64(),
        max.as_secs_f64(),
        mean.as_secs_f64(),
        done.as_secs_f64()
    );
    drop(state);
    drop_schema(pg);
}

/// Issues certificates for `entries` entries, sequencing each bulk's as fast as the sequencer
/// goes (the entries' bytes rebuilt from the rows, as in a server), then times proofs.
fn proofs_at_size(entries: usize) {
    let dir = tempfile::tempdir().unwrap();
    let (url, pg) = database(dir.path(), "proofs");
    // The state's own sequencer stays asleep: this loop sequences, and is timed.
    let state = state(dir.path(), url, Duration::from_secs(3600));
    let (actor, product) = certrail::pilot::setup(&state).expect("setup");
    let started = Instant::now();
    let mut queued = 0;
    let mut sequencing = Duration::ZERO;
    while queued < entries {
        // Each certificate and its `issued` event: two entries, rebuilt from their rows.
        let n = MAX_BULK.min((entries - queued).div_ceil(2));
        let reqs = (0..n)
            .map(|i| certrail::pilot::request(&product, queued / 2 + i))
            .collect();
        issue_bulk(&state, &actor, reqs).expect("bulk issuance");
        let n = 2 * n;
        queued += n;
        let t = Instant::now();
        while sequence_once(
            &state.db,
            &state.log,
            certrail::service::tlog::sequencer::batch(&state.db),
        )
        .unwrap()
        .is_some_and(|(round, _)| round.sequenced > 0)
        {}
        sequencing += t.elapsed();
    }
    let size = queued as u64;
    println!(
        "log_sequencing: {size} entries sequenced in {:.1} s ({:.0} entries/s; {:.1} s including issuance)",
        sequencing.as_secs_f64(),
        size as f64 / sequencing.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    let mut conn = state.db.reader().unwrap();
    let samples = 2_000u64;
    let mut hashes = 0;
    let t = Instant::now();
    for k in 0..samples {
        let index = (k * 7_919_993) % size;
        let proof = StoredHashes::new(&mut conn)
            .inclusion(index, size)
            .unwrap()
            .unwrap();
        hashes += proof.len();
    }
    let per = t.elapsed() / samples as u32;
    let avg = hashes as f64 / samples as f64;
    println!(
        "log_inclusion_proof at {size}: {per:?} each (one query, cold reader), {avg:.1} hashes = {:.0} bytes ({:.0} base64 characters in JSON)",
        avg * 32.0,
        avg * 44.0 + avg * 3.0
    );
    let t = Instant::now();
    let mut hashes = 0;
    for k in 1..=200u64 {
        let from = (k * 9_973) % size + 1;
        hashes += StoredHashes::new(&mut conn)
            .consistency(from, size)
            .unwrap()
            .unwrap()
            .len();
    }
    println!(
        "log_consistency_proof at {size}: {:?} each, {:.1} hashes",
        t.elapsed() / 200,
        hashes as f64 / 200.0
    );
    drop(conn);
    drop(state);
    drop_schema(pg);
}

fn main() {
    // `cargo test --benches` runs this in test mode: keep it small there.
    let quick =
        std::env::args().any(|a| a == "--test") || !std::env::args().any(|a| a == "--bench");
    let (issue, entries) = match quick {
        true => (2_000, 20_000),
        false => (100_000, 2_000_000),
    };
    lag_under_bulk(env_usize("LOG_BENCH_ISSUE", issue));
    proofs_at_size(env_usize("LOG_BENCH_ENTRIES", entries));
}

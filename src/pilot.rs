//! `certrail pilot`: the pilot-scale run. Issues millions of certificates through the same
//! bulk use case the API calls, into an empty database, then reports the rate, the bytes each
//! certificate takes on disk (with its first trail event and every index) and the latency of
//! verifying random certificates at that size. Also the machine's own limit to compare with:
//! raw Ed25519 signatures and verifications per second on all cores.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{Days, Utc};

use crate::db::disk_bytes;
use crate::db::models::Organization;
use crate::domain::verdict::Verdict;
use crate::service::access::organizations::{create, NewOrganization};
use crate::service::custody::events::{self, NewEvent};
use crate::service::issuance::issue::{issue_bulk, IssueRequest, MAX_BULK};
use crate::service::issuance::products::{create as create_product, NewProduct};
use crate::service::oversight::statistics;
use crate::service::verify::{verify, Label, Source};
use crate::service::{Actor, AppState};

/// Certificates verified to measure latency.
const VERIFY_SAMPLES: usize = 2_000;
/// Every this many certificates is shipped, and every second of those taken in by a retailer
/// (every `count / SHIPPED`th in larger runs, so the trail stays 15,000 events at any size).
const SHIP_EVERY: usize = 200;
/// Certificates shipped at most.
const SHIPPED: usize = 10_000;

/// What a pilot run measured.
#[derive(Debug, Clone)]
pub struct Report {
    pub certificates: usize,
    /// Until every certificate and its first event are in the log (sequenced, checkpointed).
    pub elapsed: Duration,
    /// Until the last bulk was issued (the log may still be catching up).
    pub issuance: Duration,
    pub bytes_per_certificate: f64,
    /// Verifying sampled certificates once each, with nothing of them cached.
    pub verify_p50: Duration,
    pub verify_p99: Duration,
    /// The same certificates again, answered from the verification cache.
    pub warm_p50: Duration,
    pub warm_p99: Duration,
    /// Trail events recorded after issuance (shipments and intakes), for the report.
    pub trail_events: usize,
    /// Building the region's report over the last 30 days (all certificates).
    pub report: Duration,
    /// Writing it as CSV and as .xlsx.
    pub report_files: Duration,
}

impl Report {
    pub fn per_second(&self) -> f64 {
        self.certificates as f64 / self.elapsed.as_secs_f64()
    }
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// A producer and one product to issue for, in an empty database.
pub fn setup(state: &AppState) -> Result<(Actor, String), String> {
    if Organization::count(&mut *state.db.reader().map_err(err)?).map_err(err)? > 0 {
        return Err(
            "the pilot run needs an empty database (a fresh CERTRAIL_DATA_DIR or DATABASE_URL)"
                .into(),
        );
    }
    let view = create(
        state,
        &Actor::Admin,
        NewOrganization {
            market_id: None,
            kind: "producer".into(),
            name: "常德市德山酱板鸭食品有限公司".into(),
            credit_code: "91430700MA4Q1W2E3X".into(),
            region_code: "430702".into(),
            address: "湖南省常德市武陵区德山大道18号".into(),
        },
    )
    .map_err(err)?;
    let org = Organization::find(&mut *state.db.reader().map_err(err)?, &view.id)
        .map_err(err)?
        .ok_or("the producer vanished")?;
    let actor = Actor::Org(org);
    let product = NewProduct {
        name: "酱板鸭（香辣味）".into(),
        model: "500g/袋".into(),
        standard: "GB/T 23586-2022".into(),
        gtin: Some("6901234567892".into()),
        category: None,
        marks: None,
    };
    let product = create_product(state, &actor, product).map_err(err)?;
    Ok((actor, product.id))
}

/// A typical batch: realistic lengths, Chinese text, a unique batch number.
pub fn request(product_id: &str, n: usize) -> IssueRequest {
    let today = Utc::now().date_naive();
    let day = |ago| (today - Days::new(ago)).format("%Y-%m-%d").to_string();
    IssueRequest {
        product_id: product_id.into(),
        batch_no: format!("20261121-{n:08}"),
        quantity: 1200,
        unit: "袋".into(),
        production_date: day(2),
        inspection_date: day(1),
        inspector: "质检员07".into(),
        result: "pass".into(),
        items: None,
        lab_report_no: Some(format!("CDJC-2026-{n:08}")),
        expiry_date: Some((today + Days::new(180)).format("%Y-%m-%d").to_string()),
        units: None,
        lab_id: None,
    }
}

/// Certificates picked while issuing: samples to verify (id, signature) and certificates to
/// ship (id, label URL).
type Picked = (Vec<(String, String)>, Vec<(String, String)>);

/// Bulks in flight at once: one is signed while another is stored (with one, a core idled
/// through every bulk's write transaction).
const WORKERS: usize = 2;

/// Issues `count` certificates in bulks of up to 10,000, [`WORKERS`] at a time, calling
/// `progress` with the number issued so far after each bulk, then measures size and verify
/// latency.
pub fn run(
    state: &AppState,
    count: usize,
    progress: impl FnMut(usize) + Send,
) -> Result<Report, String> {
    let (actor, product_id) = setup(state)?;
    let before = disk_bytes(&mut *state.db.writer().map_err(err)?).map_err(err)?;
    let stride = (count / VERIFY_SAMPLES).max(1);
    let ship_every = (count / SHIPPED).max(SHIP_EVERY);
    let picked: Mutex<Picked> = Mutex::default();
    let (next, done, progress) = (
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        Mutex::new(progress),
    );
    let worker = || -> Result<(), String> {
        loop {
            let from = next.fetch_add(MAX_BULK, Ordering::Relaxed);
            if from >= count {
                return Ok(());
            }
            let n = MAX_BULK.min(count - from);
            let reqs = (from..from + n).map(|i| request(&product_id, i)).collect();
            let issued = issue_bulk(state, &actor, reqs).map_err(|e| format!("{e:?}"))?;
            {
                let mut picked = picked.lock().map_err(err)?;
                for (i, cert) in issued.into_iter().enumerate() {
                    if (from + i) % ship_every == 0 {
                        picked.1.push((cert.id.clone(), cert.verify_url.clone()));
                    }
                    if (from + i) % stride == 0 {
                        picked.0.push((cert.id, cert.signature));
                    }
                }
            }
            let total = done.fetch_add(n, Ordering::Relaxed) + n;
            (progress.lock().map_err(err)?)(total);
        }
    };
    let started = Instant::now();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..WORKERS).map(|_| scope.spawn(worker)).collect();
        workers.into_iter().try_for_each(|w| {
            w.join()
                .map_err(|_| "a pilot worker panicked".to_string())?
        })
    })?;
    let (samples, shipped) = picked.into_inner().map_err(err)?;
    let issuance = started.elapsed();
    wait_for_log(state)?;
    let elapsed = started.elapsed();
    let mut conn = state.db.writer().map_err(err)?;
    let after = disk_bytes(&mut conn).map_err(err)?;
    // Planner statistics, as after any bulk load (without them PostgreSQL may scan a whole
    // table per lookup when autovacuum is off).
    crate::db::analyze(&mut conn).map_err(err)?;
    drop(conn);
    let cold = latencies(state, &samples)?;
    let warm = latencies(state, &samples)?;
    let trail_events = custody(state, &actor, &shipped)?;
    let started = Instant::now();
    let report = statistics::build(state, &Actor::Admin, &Default::default()).map_err(err)?;
    let report_time = started.elapsed();
    if report.totals.certificates_issued != count as i64 {
        return Err(format!(
            "the report counted {} certificates of {count}",
            report.totals.certificates_issued
        ));
    }
    let started = Instant::now();
    crate::print::statistics::csv(&report).map_err(err)?;
    crate::print::statistics::xlsx(&report).map_err(err)?;
    let report_files = started.elapsed();
    Ok(Report {
        trail_events,
        report: report_time,
        report_files,
        certificates: count,
        elapsed,
        issuance,
        bytes_per_certificate: (after - before) as f64 / count as f64,
        verify_p50: percentile(&cold, 0.50),
        verify_p99: percentile(&cold, 0.99),
        warm_p50: percentile(&warm, 0.50),
        warm_p99: percentile(&warm, 0.99),
    })
}

/// Waits until the log's sequencer (running in this process, as in a server) has taken
/// every queued entry.
fn wait_for_log(state: &AppState) -> Result<(), String> {
    loop {
        let (waiting, _) =
            crate::db::models::tlog::backlog(&mut *state.db.reader().map_err(err)?).map_err(err)?;
        if waiting == 0 {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Verifies each of `samples` (id, signature) in turn; every answer must be genuine. Returns
/// the latencies, sorted.
fn latencies(state: &AppState, samples: &[(String, String)]) -> Result<Vec<Duration>, String> {
    let mut out = Vec::with_capacity(samples.len());
    for (id, signature) in samples {
        let label = Label {
            id,
            serial: None,
            signature: Some(signature),
        };
        let t = Instant::now();
        let answer = verify(state, &label, Source::Check).map_err(err)?;
        out.push(t.elapsed());
        if answer.verdict != Verdict::Genuine {
            return Err(format!(
                "certificate {id} verified as {}",
                answer.verdict.as_str()
            ));
        }
    }
    out.sort();
    Ok(out)
}

/// The `q` quantile of sorted `values` (zero when there are none).
fn percentile(values: &[Duration], q: f64) -> Duration {
    match values.len() {
        0 => Duration::ZERO,
        n => values[((n - 1) as f64 * q) as usize],
    }
}

/// The pilot's supermarket: a retailer of Wuling district, as an acting organization.
pub fn retailer(state: &AppState) -> Result<Actor, String> {
    let view = create(
        state,
        &Actor::Admin,
        NewOrganization {
            market_id: None,
            kind: "retailer".into(),
            name: "常德市武陵区步行街超市".into(),
            credit_code: "91430702MA4R5T6Y7H".into(),
            region_code: "430702".into(),
            address: "湖南省常德市武陵区步行街1号".into(),
        },
    )
    .map_err(err)?;
    Organization::find(&mut *state.db.reader().map_err(err)?, &view.id)
        .map_err(err)?
        .map(Actor::Org)
        .ok_or_else(|| "the retailer vanished".to_string())
}

/// Ships `certificates` and has a retailer take every second one in; returns the events made.
fn custody(
    state: &AppState,
    producer: &Actor,
    certificates: &[(String, String)],
) -> Result<usize, String> {
    let retailer = retailer(state)?;
    let Actor::Org(shop) = &retailer else {
        return Err("the retailer is an organization".into());
    };
    let mut made = 0;
    for (i, (id, url)) in certificates.iter().enumerate() {
        let event = |kind: &str| NewEvent {
            kind: kind.into(),
            serial: None,
            label_url: Some(url.clone()),
            ..Default::default()
        };
        let shipped = NewEvent {
            consignee: Some(shop.id.clone()),
            ..event("shipped")
        };
        events::record(state, producer, id, shipped).map_err(err)?;
        made += 1;
        if i % 2 == 0 {
            events::record(state, &retailer, id, event("received")).map_err(err)?;
            made += 1;
        }
    }
    Ok(made)
}

/// Raw Ed25519 operations per second on all cores, on a typical certificate message.
#[derive(Debug, Clone, Copy)]
pub struct CryptoLimits {
    pub sign_per_second: f64,
    pub verify_per_second: f64,
    pub threads: usize,
}

/// Measures [`CryptoLimits`], spending about `seconds` on each operation.
pub fn crypto_limits(seconds: f64) -> CryptoLimits {
    use crate::crypto::signing::{certificate_message, sign, verify};
    use rayon::prelude::*;
    let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let public = key.verifying_key();
    let message = certificate_message(&"x".repeat(560));
    let signature = sign(&key, &message);
    let threads = rayon::current_num_threads();
    let rate = |op: &(dyn Fn() + Sync)| {
        let budget = Duration::from_secs_f64(seconds);
        let started = Instant::now();
        let count: u64 = (0..threads)
            .into_par_iter()
            .map(|_| {
                let mut n = 0u64;
                while started.elapsed() < budget {
                    for _ in 0..64 {
                        op();
                    }
                    n += 64;
                }
                n
            })
            .sum();
        count as f64 / started.elapsed().as_secs_f64()
    };
    CryptoLimits {
        sign_per_second: rate(&|| {
            std::hint::black_box(sign(&key, std::hint::black_box(&message)));
        }),
        verify_per_second: rate(&|| {
            std::hint::black_box(verify(&public, std::hint::black_box(&message), &signature));
        }),
        threads,
    }
}

//! Criterion benchmarks of the hot paths: canonicalize + sign, verify, QR matrix and rendering,
//! issuance into SQLite, point lookup, full label verification and trail read.
//!
//! `cargo bench --bench core`; figures go to docs/src/performance.md with the machine they ran on.

// A failed expectation is the test's (or the benchmark's) answer: unwrap and expect are fine here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};

use certrail::config::Config;
use certrail::crypto::signing::{certificate_message, sign, verify};
use certrail::db::models::Certificate;
use certrail::domain::payload::canonicalize;
use certrail::pilot::request;
use certrail::print::PrintLabel;
use certrail::service::issuance::issue::issue;
use certrail::service::verify::{verify as verify_label, Label, Source};
use certrail::service::{Actor, AppState};

const LABEL: &str = "https://certrail.example.cn/v/Xk3vQ9mT2pLr8WzA?s=o3RfybnmzpjwZOe6kfu8zrH1qBMzWiHRTK-jQjzXW4AmjKsfMjPLdBnBSyqdXfXsuE2YsyJgTOGHvea7xz89Cw";

fn payload() -> serde_json::Value {
    serde_json::json!({
        "v": 1, "id": "Xk3vQ9mT2pLr8WzA", "kid": "tgAwbPp2cj8", "issued_at": "2026-11-21T08:00:00Z",
        "producer": {"name": "常德市德山酱板鸭食品有限公司", "credit_code": "91350200776049653A", "address": "湖南省常德市武陵区德山大道18号"},
        "product": {"name": "酱板鸭（香辣味）", "model": "500g/袋", "standard": "GB/T 23586-2022", "gtin": "6901234567892"},
        "batch": {"no": "20261121-01", "quantity": 1200, "unit": "袋", "production_date": "2026-11-19", "expiry_date": "2027-05-20"},
        "inspection": {"date": "2026-11-20", "inspector": "QC-07", "result": "pass",
            "items": [{"name": "菌落总数", "requirement": "≤ 10000 CFU/g", "measured": "3200 CFU/g", "verdict": "pass"}]}
    })
}

fn crypto(c: &mut Criterion) {
    let key = ed25519_dalek::SigningKey::from_bytes(&[42u8; 32]);
    let value = payload();
    c.bench_function("canonicalize_and_sign", |b| {
        b.iter(|| sign(&key, &certificate_message(&canonicalize(black_box(&value)))))
    });
    let message = certificate_message(&canonicalize(&value));
    let signature = sign(&key, &message);
    let public = key.verifying_key();
    c.bench_function("verify_signature", |b| {
        b.iter(|| verify(&public, black_box(&message), &signature))
    });
}

fn labels(c: &mut Criterion) {
    c.bench_function("qr_matrix", |b| {
        b.iter(|| certrail::qr::version(black_box(LABEL)))
    });
    c.bench_function("qr_matrix_fixed_mask", |b| {
        b.iter(|| certrail::qr::Matrix::new(black_box(LABEL), certrail::qr::Mask::Fixed))
    });
    c.bench_function("qr_png", |b| b.iter(|| certrail::qr::png(black_box(LABEL))));
    c.bench_function("qr_svg", |b| b.iter(|| certrail::qr::svg(black_box(LABEL))));
}

/// Print runs of 10,000 labels (long unit-label URLs), as the export endpoints render them.
fn print_runs(c: &mut Criterion) {
    let labels: Vec<PrintLabel> = (0..10_000)
        .map(|n| PrintLabel {
            url: format!("{}{n:05}", &LABEL[..LABEL.len() - 5]),
            caption: vec![format!("Xk3vQ9mT2pLr8WzA #{n}"), "20261120-01".into()],
            file_name: format!("Xk3vQ9mT2pLr8WzA-{n:06}.png"),
        })
        .collect();
    let mut group = c.benchmark_group("print_10000");
    group.sample_size(10);
    group.bench_function("pdf", |b| {
        b.iter(|| certrail::print::pdf::render(black_box(&labels)).expect("pdf"))
    });
    group.bench_function("zip_png", |b| {
        b.iter(|| certrail::print::zip::write(black_box(&labels), std::io::sink()).expect("zip"))
    });
    group.finish();
}

/// A fresh SQLite-backed state with one producer and product.
fn setup() -> (tempfile::TempDir, AppState, Actor, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config {
        bind: "127.0.0.1:0".into(),
        public_url: "http://bench".into(),
        data_dir: dir.path().to_path_buf(),
        database_url: format!("sqlite://{}", dir.path().join("bench.db").display()),
        admin_token: None,
        master_key: None,
        pool_size: 4,
        trusted_proxies: Vec::new(),
        label_font: None,
        copy: Default::default(),
        tuning: Default::default(),
        ops: Default::default(),
        workflow: Default::default(),
    };
    let state = AppState::open(config).expect("state");
    let (actor, product) = certrail::pilot::setup(&state).expect("producer and product");
    (dir, state, actor, product)
}

fn storage(c: &mut Criterion) {
    let (_dir, state, actor, product) = setup();
    let mut group = c.benchmark_group("sqlite");
    group.sample_size(10);
    let mut n = 0;
    group.bench_function("issue_one", |b| {
        b.iter(|| {
            n += 1;
            issue(&state, &actor, request(&product, n)).expect("issued")
        })
    });
    group.bench_function("issue_1000_one_by_one", |b| {
        b.iter(|| {
            for _ in 0..1000 {
                n += 1;
                issue(&state, &actor, request(&product, n)).expect("issued");
            }
        })
    });
    group.bench_function("issue_bulk_1000", |b| {
        b.iter(|| {
            let reqs = (0..1000)
                .map(|_| {
                    n += 1;
                    request(&product, n)
                })
                .collect();
            certrail::service::issuance::issue::issue_bulk(&state, &actor, reqs)
                .map_err(|_| "bulk failed")
                .expect("issued")
        })
    });
    let issued = issue(&state, &actor, request(&product, 0)).expect("issued");
    let signature = issued.signature.clone();
    group.bench_function("point_lookup", |b| {
        b.iter(|| {
            Certificate::find(&mut state.db.reader().expect("conn"), black_box(&issued.id))
                .expect("row")
        })
    });
    group.bench_function("verify_label", |b| {
        b.iter(|| {
            let label = Label {
                id: &issued.id,
                serial: None,
                signature: Some(&signature),
            };
            verify_label(&state, &label, Source::Check).expect("answer")
        })
    });
    group.bench_function("trail_read", |b| {
        b.iter(|| {
            certrail::service::verify::trail_page::get(
                &state,
                black_box(&issued.id),
                Default::default(),
            )
            .expect("trail")
        })
    });
    group.finish();
}

/// A consumer's scan of a label scanned once before and of one scanned 1,000,000 times: the
/// cost must not grow with the count, from memory (cached record and signals) or from the
/// database (cache dropped before each scan: record and per-label aggregates read again).
fn popular_label(c: &mut Criterion) {
    use certrail::service::verify::verify_cached;
    let (_dir, state, actor, product) = setup();
    let mut req = request(&product, 1);
    req.units = Some(10);
    let issued = issue(&state, &actor, req).expect("issued");
    let certrail::service::Actor::Org(org) = &actor else {
        unreachable!("the pilot producer is an organization")
    };
    let signer = state
        .keys
        .signer(&mut state.db.reader().expect("conn"), &org.id)
        .expect("signer");
    let canonical = certrail::domain::payload::canonicalize(&issued.payload);
    let unit_signature = |serial: i64| {
        certrail::crypto::b64url(&signer.sign(&certrail::crypto::signing::unit_message(
            &issued.id, serial, &canonical,
        )))
    };
    let (hot, once) = (unit_signature(1), unit_signature(2));
    let scan = |signature: &str, serial: i64| {
        let label = Label {
            id: &issued.id,
            serial: Some(serial),
            signature: Some(signature),
        };
        let source = Source::Consumer {
            region: Some("430702"),
        };
        match verify_cached(&state, &label, &source) {
            Some(answer) => answer,
            None => verify_label(&state, &label, source).expect("answer"),
        }
    };
    // `cargo test` runs each bench once as a smoke test: a smaller preload there.
    let preload: i64 = match std::env::args().any(|a| a == "--bench") {
        true => 1_000_000,
        false => 1_000,
    };
    for _ in 0..preload {
        scan(&hot, 1);
    }
    scan(&once, 2);
    assert!(state.scans.flush(), "scans stored");
    assert_eq!(
        scan(&hot, 1).unit.expect("unit").scans,
        preload + 1,
        "the preload was counted"
    );
    let mut group = c.benchmark_group("consumer_scan");
    for (name, signature, serial) in [("scanned_once", &once, 2), ("scanned_1000000", &hot, 1)] {
        group.bench_function(format!("memory/{name}"), |b| {
            b.iter(|| scan(black_box(signature), serial))
        });
        group.bench_function(format!("database/{name}"), |b| {
            b.iter(|| {
                state.verify.clear();
                scan(black_box(signature), serial)
            })
        });
    }
    group.finish();
}

/// A certificate with a trail of 2,000 events (1,000 units shipped to a retailer, 999 taken in):
/// the first verification after a change reads and checks the whole chain once; a page of the
/// trail then reads 100 rows beside the cached check.
fn long_trail(c: &mut Criterion) {
    use certrail::service::custody::events::{record, NewEvent};
    let (_dir, state, actor, product) = setup();
    // `cargo test --benches` runs this in test mode: a short trail there.
    let units: i64 = match std::env::args().any(|a| a == "--bench") {
        true => 1_000,
        false => 10,
    };
    let mut req = request(&product, 1);
    req.units = Some(units);
    let issued = issue(&state, &actor, req).expect("issued");
    let shop_actor = certrail::pilot::retailer(&state).expect("retailer");
    let Actor::Org(shop) = &shop_actor else {
        unreachable!("the pilot retailer is an organization")
    };
    for serial in 1..=units {
        let shipped = NewEvent {
            kind: "shipped".into(),
            serial: Some(serial),
            consignee: Some(shop.id.clone()),
            ..Default::default()
        };
        record(&state, &actor, &issued.id, shipped).expect("shipped");
    }
    // Received events need the unit labels: the cap of 1,000 unit-level events per party keeps
    // one party's share at 1,000; the 999 intakes make the trail 2,000 events long.
    let Actor::Org(org) = &actor else {
        unreachable!("the pilot producer is an organization")
    };
    let signer = state
        .keys
        .signer(&mut state.db.reader().expect("conn"), &org.id)
        .expect("signer");
    let canonical = canonicalize(&issued.payload);
    for serial in 1..units {
        let signature = certrail::crypto::b64url(&signer.sign(
            &certrail::crypto::signing::unit_message(&issued.id, serial, &canonical),
        ));
        let received = NewEvent {
            kind: "received".into(),
            label_url: Some(format!(
                "http://bench/v/{}/{serial}?s={signature}",
                issued.id
            )),
            ..Default::default()
        };
        record(&state, &shop_actor, &issued.id, received).expect("received");
    }
    let signature = issued.signature.clone();
    let mut group = c.benchmark_group("trail_2000");
    group.sample_size(20);
    group.bench_function("first_verification_after_a_change", |b| {
        b.iter(|| {
            state.verify.clear();
            let label = Label {
                id: &issued.id,
                serial: None,
                signature: Some(&signature),
            };
            verify_label(&state, &label, Source::Check).expect("answer")
        })
    });
    group.bench_function("page_of_100", |b| {
        b.iter(|| {
            certrail::service::verify::trail_page::get(
                &state,
                black_box(&issued.id),
                Default::default(),
            )
            .expect("trail")
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    crypto,
    labels,
    print_runs,
    storage,
    popular_label,
    long_trail
);
criterion_main!(benches);

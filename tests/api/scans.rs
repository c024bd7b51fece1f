//! Consumer scans under load and attack: only labels that verify count, copy signals come from
//! aggregates, the answer stays small, a request never waits on a second connection, and
//! several server instances agree.

use actix_web::test::TestRequest;
use futures_util::future::join_all;
use serde_json::{json, Value};

use crate::helpers::{batch, path_of, second_instance, spawn, spawn_with, CODES};

/// A unit label's path (decoded from the producer's PNG, as a printer would get it).
async fn unit_label<S, B>(
    t: &crate::helpers::TestApp<S>,
    token: &str,
    id: &str,
    serial: i64,
) -> String
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let png = t
        .get(
            &format!("/api/v1/certificates/{id}/units/{serial}/qr.png"),
            Some(token),
        )
        .await;
    path_of(&crate::labels::decode_png(&png.body))
}

fn codes(answer: &Value) -> Vec<String> {
    answer["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap().to_string())
        .collect()
}

#[actix_web::test]
async fn unsigned_scans_never_count_toward_a_genuine_label() {
    let t = spawn().await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    let mut body = batch(&product);
    body["units"] = json!(50);
    let issued = t.issue(&token, &body).await;
    let id = issued["id"].as_str().unwrap();

    // Anyone knows the id and a serial: unsigned scans from two provinces, more than the
    // copy threshold.
    for region in ["110000", "440100"] {
        for _ in 0..15 {
            let answer = t
                .get_json(&format!("/v/{id}/7?s=AAAA&region={region}"))
                .await
                .json();
            assert_eq!(answer["verdict"], "forged");
            assert!(codes(&answer).contains(&"forged_label_scanned".to_string()));
        }
    }
    // A label that did not verify is not answered with the certificate's signature (the
    // batch label's `s`); the rest of the record is there.
    for path in [
        format!("/v/{id}"),
        format!("/v/{id}?s=AAAA"),
        format!("/v/{id}/7"),
    ] {
        let answer = t.get_json(&path).await.json();
        assert_eq!(answer["verdict"], "forged", "{path}");
        assert!(answer["certificate"]["payload"].is_object(), "{answer}");
        assert_eq!(answer["certificate"].get("signature"), None, "{answer}");
        assert!(!answer
            .to_string()
            .contains(issued["signature"].as_str().unwrap()));
    }
    let forged_sig = "A".repeat(86);
    let answer = t
        .get_json(&format!("/v/{id}/7?s={forged_sig}&region=110000"))
        .await
        .json();
    assert_eq!(answer["reasons"], json!(["label_signature_invalid"]));

    // The genuine unit 7 is untouched: its first scan, no copy warning.
    let label = unit_label(&t, &token, id, 7).await;
    let answer = t.get_json(&format!("{label}&region=430702")).await.json();
    assert_eq!(answer["verdict"], "genuine", "{answer}");
    assert_eq!(answer["certificate"]["signature"], issued["signature"]);
    assert_eq!(answer["unit"]["scans"], 1);
    assert_eq!(answer["certificate"]["scans"], 1);
    assert!(
        !codes(&answer).iter().any(|c| c.starts_with("scanned_")),
        "{answer}"
    );

    // The fakes are counted apart, per certificate, for the regulator: one row an hour and
    // region, however many scans.
    t.flush();
    let mut conn = t.state.db.reader().unwrap();
    let counterfeited =
        certrail::service::oversight::warnings::counterfeited_in_region(&mut conn, "4307", 10)
            .unwrap();
    assert_eq!(counterfeited.len(), 1);
    assert_eq!(counterfeited[0].certificate_id, id);
    assert_eq!(counterfeited[0].scans, 34);
    let (open, warnings) =
        certrail::service::oversight::warnings::open_in_region(&mut conn, "4307", 10).unwrap();
    assert_eq!(open, 1, "{warnings:?}");
    assert_eq!(warnings[0].code, "forged_label_scanned");
    drop(conn);
    assert_eq!(
        rows(&t, "SELECT COUNT(*) AS n FROM forged_scans"),
        3,
        "one row per hour and region (two, and none)"
    );
}

fn rows<S>(t: &crate::helpers::TestApp<S>, query: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    use certrail::db::DbConn;
    use diesel::RunQueryDsl;
    let mut conn = t.state.db.reader().unwrap();
    let found: Vec<N> = match &mut *conn {
        DbConn::Sqlite(c) => diesel::sql_query(query).load(c).unwrap(),
        DbConn::Pg(c) => diesel::sql_query(query).load(c).unwrap(),
    };
    found[0].n
}

/// Rows and scans of `table` for certificate `id`, as `(rows, scans)`.
fn rows_and_scans<S>(t: &crate::helpers::TestApp<S>, table: &str, id: &str) -> (i64, i64) {
    let filter = format!("FROM {table} WHERE certificate_id = '{id}'");
    (
        rows(t, &format!("SELECT COUNT(*) AS n {filter}")),
        rows(
            t,
            &format!("SELECT CAST(SUM(scans) AS BIGINT) AS n {filter}"),
        ),
    )
}

#[actix_web::test]
async fn region_codes_cannot_multiply_scan_rows() {
    use certrail::db::models::scan::MAX_REGIONS_PER_HOUR;
    let bound = MAX_REGIONS_PER_HOUR as i64;
    let t = spawn().await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    let mut body = batch(&product);
    body["units"] = json!(10);
    let issued = t.issue(&token, &body).await;
    let id = issued["id"].as_str().unwrap();
    // 300 known prefectures, far more than the bound, sent as county codes (`…01`).
    let counties: Vec<String> = certrail::domain::region::prefecture_codes()
        .take(300)
        .map(|p| format!("{}01", &p[..4]))
        .collect();
    assert!(counties.len() as i64 > bound);

    // A region the server cannot use is no region, never an error: the answer is the same.
    let forged = format!("/v/{id}/7?s=AAAA");
    let plain = t.get_json(&forged).await.json();
    for junk in ["abc", "999999", "439900", "4307021", "%E5%9B%9B"] {
        let answer = t.get_json(&format!("{forged}&region={junk}")).await.json();
        assert_eq!(answer, plain, "{junk}");
    }
    // Forged scans spraying region codes: 20, stored, then 280 more.
    for (n, county) in counties.iter().enumerate() {
        let answer = t
            .get_json(&format!("{forged}&region={county}"))
            .await
            .json();
        assert_eq!(answer["verdict"], "forged");
        if n == 19 {
            t.flush();
        }
    }
    t.flush();
    assert_eq!(
        rows_and_scans(&t, "forged_scans", id),
        (bound + 2, 306),
        "the bounded places, none and other; every scan counted"
    );
    assert_eq!(
        rows(
            &t,
            &format!("SELECT scans AS n FROM forged_scans WHERE certificate_id = '{id}' AND region_code = 'other'")
        ),
        300 - bound
    );

    // Genuine scans of one unit label likewise, and a county is kept as its prefecture.
    let label = unit_label(&t, &token, id, 3).await;
    for (n, county) in counties.iter().enumerate() {
        let answer = t.get_json(&format!("{label}&region={county}")).await.json();
        assert_eq!(answer["verdict"], "genuine");
        if n == 19 {
            t.flush();
        }
    }
    t.flush();
    assert_eq!(rows_and_scans(&t, "scan_hours", id), (bound + 1, 300));
    let kept = |code: &str| {
        rows(
            &t,
            &format!("SELECT COUNT(*) AS n FROM scan_hours WHERE certificate_id = '{id}' AND region_code = '{code}'"),
        )
    };
    let first = &counties[0];
    assert_eq!(
        (kept(first), kept(&format!("{}00", &first[..4]))),
        (0, 1),
        "{first} kept as its prefecture"
    );
}

#[actix_web::test]
async fn copy_signals_come_from_per_label_counters() {
    let t = spawn().await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    let mut body = batch(&product);
    body["units"] = json!(10);
    let issued = t.issue(&token, &body).await;
    let id = issued["id"].as_str().unwrap();

    // One unit scanned in Hunan, then in Guangdong: a copy, on that unit only.
    let three = unit_label(&t, &token, id, 3).await;
    let answer = t.get_json(&format!("{three}&region=430702")).await.json();
    assert!(!codes(&answer).contains(&"scanned_far_apart".into()));
    let answer = t.get_json(&format!("{three}&region=430100")).await.json();
    assert!(
        !codes(&answer).contains(&"scanned_far_apart".into()),
        "same province"
    );
    let answer = t.get_json(&format!("{three}&region=440100")).await.json();
    assert!(
        codes(&answer).contains(&"scanned_far_apart".into()),
        "{answer}"
    );
    let four = unit_label(&t, &token, id, 4).await;
    let answer = t.get_json(&format!("{four}&region=440100")).await.json();
    assert!(!codes(&answer).contains(&"scanned_far_apart".into()));

    // Twenty scans of a unit are plausible, the twenty-first is not.
    let five = unit_label(&t, &token, id, 5).await;
    for n in 1..=20 {
        let answer = t.get_json(&five).await.json();
        assert_eq!(answer["unit"]["scans"], n);
        assert!(!codes(&answer).contains(&"scanned_too_often".into()));
    }
    let answer = t.get_json(&five).await.json();
    assert_eq!(answer["unit"]["scans"], 21);
    assert!(codes(&answer).contains(&"scanned_too_often".into()));
    // Every label of the certificate counts toward its total.
    assert_eq!(answer["certificate"]["scans"], 3 + 1 + 21);

    // Stored as aggregates: one counter per label, not a row per scan.
    t.flush();
    assert_eq!(
        rows(
            &t,
            &format!(
                "SELECT scans AS n FROM label_scans WHERE certificate_id = '{id}' AND serial = 5"
            )
        ),
        21
    );
    assert_eq!(
        rows(
            &t,
            &format!(
                "SELECT scans AS n FROM label_scans WHERE certificate_id = '{id}' AND serial = -1"
            )
        ),
        25
    );
    // A restart reads the counters back: the next scan of unit 5 is the 22nd.
    t.state.verify.clear();
    let answer = t.get_json(&five).await.json();
    assert_eq!(answer["unit"]["scans"], 22);
}

#[actix_web::test]
async fn the_answer_stays_small_and_intakes_are_idempotent() {
    let t = spawn().await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    let mut body = batch(&product);
    body["units"] = json!(100);
    let issued = t.issue(&token, &body).await;
    let id = issued["id"].as_str().unwrap();
    let (retailer_id, retailer) = t.org("retailer", CODES[1], "430702").await;
    t.ship(&token, id, &retailer_id, Some(1)).await;

    let one = format!(
        "http://certrail.test{}",
        unit_label(&t, &token, id, 1).await
    );
    let intake = json!({"type": "received", "serial": 1, "label_url": one});
    let first = t
        .post(
            &format!("/api/v1/certificates/{id}/events"),
            Some(&retailer),
            &intake,
        )
        .await;
    assert_eq!(first.status, 201, "{}", first.text());
    for _ in 0..3 {
        let again = t
            .post(
                &format!("/api/v1/certificates/{id}/events"),
                Some(&retailer),
                &intake,
            )
            .await;
        assert_eq!(again.status, 200, "{}", again.text());
        assert_eq!(again.json()["event"]["seq"], first.json()["event"]["seq"]);
        assert_eq!(again.json()["created"], false);
    }
    // A unit is sold by a retailer once: selling it again returns the earlier sale.
    let events = format!("/api/v1/certificates/{id}/events");
    let sale = json!({"type": "sold", "serial": 1});
    assert_eq!(t.post(&events, Some(&retailer), &sale).await.status, 201);
    let again = t.post(&events, Some(&retailer), &sale).await;
    assert_eq!(
        (again.status.as_u16(), again.json()["created"].clone()),
        (200, json!(false))
    );

    // Batch-level events: one retailer cannot grow the trail without bound.
    let batch_url = issued["verify_url"].as_str().unwrap();
    t.ship(&token, id, &retailer_id, None).await;
    let intake = json!({"type": "received", "label_url": batch_url});
    assert_eq!(t.post(&events, Some(&retailer), &intake).await.status, 201);
    for n in 2..=50 {
        let res = t
            .post(
                &events,
                Some(&retailer),
                &json!({"type": "sold", "note": format!("售出 {n}")}),
            )
            .await;
        assert_eq!(res.status, 201, "batch-level event {n}: {}", res.text());
    }
    let res = t
        .post(&events, Some(&retailer), &json!({"type": "sold"}))
        .await;
    res.error(409, "too_many_events");

    let answer = t
        .get_json(&path_of(issued["verify_url"].as_str().unwrap()))
        .await
        .json();
    let trail = answer["trail"].as_array().unwrap();
    assert_eq!(trail.len(), 20);
    assert_eq!(answer["trail_total"], 55);
    assert_eq!(trail.last().unwrap()["seq"], 55, "the latest events");
    assert_eq!(
        answer["trail_url"],
        format!("http://certrail.test/api/v1/certificates/{id}/trail")
    );
    let full = t
        .get(&format!("/api/v1/certificates/{id}/trail"), None)
        .await
        .json();
    assert_eq!(full["events"].as_array().unwrap().len(), 55);
    assert_eq!(full["total"], 55);
    assert!(full.get("next").is_none(), "one page holds 55 events");
}

#[actix_web::test]
async fn a_change_shows_in_the_very_next_verification() {
    let t = spawn().await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    let issued = t.issue(&token, &batch(&product)).await;
    let id = issued["id"].as_str().unwrap();
    let label = path_of(issued["verify_url"].as_str().unwrap());
    assert_eq!(t.get_json(&label).await.json()["verdict"], "genuine");
    let res = t
        .post(
            &format!("/api/v1/certificates/{id}/suspend"),
            Some(&token),
            &json!({"reason": "待查"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let answer = t.get_json(&label).await.json();
    assert_eq!(answer["verdict"], "suspended");
    assert_eq!(answer["trail_total"], 2);
    // A failed write changes nothing: the cached record stays right.
    let res = t
        .post(
            &format!("/api/v1/certificates/{id}/suspend"),
            Some(&token),
            &json!({"reason": "again"}),
        )
        .await;
    res.error(409, "invalid_transition");
    assert_eq!(t.get_json(&label).await.json()["verdict"], "suspended");
}

/// Many requests at once against one reader and one writer connection: consumer scans past
/// the copy thresholds, forged scans, label pages, intakes, issuance and trails. A request
/// that waited for a second connection while holding one would deadlock the pool; here
/// every answer must come, none a 5xx.
#[actix_web::test]
async fn a_pool_of_one_serves_concurrent_traffic_without_waiting_on_itself() {
    let t = spawn_with(|c| {
        c.pool_size = 1;
        c.tuning.db_wait = std::time::Duration::from_secs(10);
    })
    .await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    let mut body = batch(&product);
    body["units"] = json!(20);
    body["quantity"] = json!(20);
    let issued = t.issue(&token, &body).await;
    let id = issued["id"].as_str().unwrap().to_string();
    let batch_label = path_of(issued["verify_url"].as_str().unwrap());
    let unit = unit_label(&t, &token, &id, 2).await;
    let (_, retailer) = t.org("retailer", CODES[1], "430702").await;
    let (_, regulator) = t.org("regulator", CODES[2], "430700").await;

    for round in 0..4 {
        let mut requests: Vec<TestRequest> = Vec::new();
        for n in 0..40 {
            let json = || TestRequest::get().insert_header(("Accept", "application/json"));
            requests.push(json().uri(&batch_label));
            requests.push(json().uri(&format!("{unit}&region={}", ["430702", "440100"][n % 2])));
            requests.push(json().uri(&format!("/v/{id}/3?s=AAAA")));
            requests.push(TestRequest::get().uri(&batch_label));
            if n % 8 == 0 {
                requests.push(
                    TestRequest::post()
                        .uri(&format!("/api/v1/certificates/{id}/events"))
                        .insert_header(("Authorization", format!("Bearer {retailer}")))
                        .set_json(json!({"type": "received",
                            "label_url": format!("http://certrail.test{batch_label}")})),
                );
                let mut fresh = batch(&product);
                fresh["batch_no"] = json!(format!("POOL-{round}-{n}"));
                requests.push(
                    TestRequest::post()
                        .uri("/api/v1/certificates")
                        .insert_header(("Authorization", format!("Bearer {token}")))
                        .set_json(fresh),
                );
                requests.push(TestRequest::get().uri(&format!("/api/v1/certificates/{id}/trail")));
            }
        }
        if round == 2 {
            requests.push(
                TestRequest::post()
                    .uri(&format!("/api/v1/certificates/{id}/inspections"))
                    .insert_header(("Authorization", format!("Bearer {regulator}")))
                    .set_json(json!({"result": "conformant", "findings": "抽检合格"})),
            );
        }
        let answers = join_all(requests.into_iter().map(|r| t.send(r))).await;
        for res in &answers {
            assert!(res.status.is_success(), "{}: {}", res.status, res.text());
        }
    }
    // Past the thresholds, the copy warnings were raised and kept once.
    let answer = t.get_json(&batch_label).await.json();
    assert!(
        codes(&answer).contains(&"scanned_too_often".into()),
        "{answer}"
    );
    let answer = t.get_json(&unit).await.json();
    assert!(
        codes(&answer).contains(&"scanned_far_apart".into()),
        "{answer}"
    );
    t.flush();
    let kept = rows(
        &t,
        &format!("SELECT COUNT(*) AS n FROM warnings WHERE certificate_id = '{id}'"),
    );
    assert_eq!(kept, 4, "too often (batch, unit), far apart, forged");
    let metrics = t.get("/metrics", None).await.text();
    assert!(
        metrics.contains("certrail_db_pool_timeouts_total 0"),
        "{metrics}"
    );
}

/// With no free connection within the configured wait, a request is answered 503 with
/// `Retry-After`, in the error envelope, and `/metrics` counts it.
#[actix_web::test]
async fn overload_is_answered_with_503_and_retry_after() {
    let t = spawn_with(|c| {
        c.pool_size = 1;
        c.tuning.db_wait = std::time::Duration::from_millis(200);
    })
    .await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    let issued = t.issue(&token, &batch(&product)).await;
    let label = path_of(issued["verify_url"].as_str().unwrap());
    t.state.verify.clear();
    // Hold the only reader (and, on PostgreSQL, the only connection) on another thread.
    let (release, held) = std::sync::mpsc::channel::<()>();
    let (taken, wait_taken) = std::sync::mpsc::channel::<()>();
    let state = t.state.clone();
    let holder = std::thread::spawn(move || {
        let _conn = state.db.reader().unwrap();
        taken.send(()).unwrap();
        let _ = held.recv();
    });
    wait_taken.recv().unwrap();
    let res = t.get_json(&label).await;
    res.error(503, "database_unavailable");
    assert_eq!(res.header("retry-after"), "1");
    release.send(()).unwrap();
    holder.join().unwrap();
    let metrics = t.get("/metrics", None).await.text();
    assert!(
        metrics.contains("certrail_db_pool_timeouts_total 1"),
        "{metrics}"
    );
    // Once the connection is back, the same label answers.
    assert_eq!(t.get_json(&label).await.json()["verdict"], "genuine");
}

/// Two server instances on one database: scan counters add up, and a status change made on
/// one is seen by the other within its change poll.
#[actix_web::test]
async fn two_instances_share_counters_and_changes() {
    let a = spawn_with(|c| c.tuning.change_poll = std::time::Duration::from_millis(100)).await;
    let b = second_instance(&a).await;
    let (token, product) = a.producer_with_product(CODES[0]).await;
    let mut body = batch(&product);
    body["units"] = json!(10);
    let issued = a.issue(&token, &body).await;
    let id = issued["id"].as_str().unwrap();
    let label = unit_label(&a, &token, id, 1).await;
    let batch_label = path_of(issued["verify_url"].as_str().unwrap());

    for _ in 0..3 {
        a.get_json(&label).await;
    }
    a.flush();
    for n in 4..=5 {
        assert_eq!(b.get_json(&label).await.json()["unit"]["scans"], n);
    }
    b.flush();
    // A's next scan is counted and stored; after its commit A has read back B's scans too.
    a.get_json(&label).await;
    a.flush();
    assert_eq!(a.get_json(&label).await.json()["unit"]["scans"], 7);

    // Both instances have the record cached; B revokes; A sees it within its poll.
    assert_eq!(a.get_json(&batch_label).await.json()["verdict"], "genuine");
    let res = b
        .post(
            &format!("/api/v1/certificates/{id}/revoke"),
            Some(&token),
            &json!({"reason": "召回"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(b.get_json(&batch_label).await.json()["verdict"], "revoked");
    let mut seen = String::new();
    for _ in 0..50 {
        seen = a.get_json(&batch_label).await.json()["verdict"]
            .as_str()
            .unwrap()
            .to_string();
        if seen == "revoked" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(seen, "revoked");
}

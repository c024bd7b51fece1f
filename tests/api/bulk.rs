//! Bulk issuance: all or nothing, per-item errors, idempotent retries.

use actix_web::test::TestRequest;
use serde_json::{json, Value};

use crate::helpers::{batch, path_of, spawn, with_token, CODES};

fn bulk_request(body: &Value, token: &str, key: Option<&str>) -> TestRequest {
    let req = with_token(
        TestRequest::post().uri("/api/v1/certificates/bulk"),
        Some(token),
    )
    .set_json(body);
    match key {
        Some(k) => req.insert_header(("Idempotency-Key", k)),
        None => req,
    }
}

#[actix_web::test]
async fn bulk_issues_all_or_nothing_and_names_every_bad_item() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(CODES[0]).await;
    let (_, other_product) = t.producer_with_product(CODES[1]).await;
    let items: Vec<Value> = (0..5)
        .map(|i| {
            let mut b = batch(&product);
            b["batch_no"] = json!(format!("B-{i}"));
            b
        })
        .collect();
    let res = t
        .send(bulk_request(
            &json!({"certificates": items}),
            &producer,
            None,
        ))
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let issued = res.json()["certificates"].as_array().unwrap().clone();
    assert_eq!(issued.len(), 5);
    for (i, cert) in issued.iter().enumerate() {
        assert_eq!(cert["payload"]["batch"]["no"], format!("B-{i}"));
        let answer = t
            .get_json(&path_of(cert["verify_url"].as_str().unwrap()))
            .await
            .json();
        assert_eq!(answer["verdict"], "genuine");
        assert_eq!(answer["trail"][0]["type"], "issued");
    }

    let before = t.counts();
    let mut bad = items.clone();
    bad[1]["quantity"] = json!(0);
    bad[3]["product_id"] = json!(other_product);
    bad[4]["inspection_date"] = json!("2000-01-01");
    let res = t
        .send(bulk_request(&json!({"certificates": bad}), &producer, None))
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
    let body = res.json();
    assert_eq!(body["error"]["code"], "invalid_items");
    let rejected: Vec<(i64, String)> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["index"].as_i64().unwrap(),
                i["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        rejected,
        [
            (1, "out_of_range".into()),
            (3, "forbidden".into()),
            (4, "inspection_before_production".into())
        ]
    );
    assert_eq!(body["items"][0]["field"], "quantity");
    assert_eq!(t.counts(), before, "nothing of a rejected bulk was issued");

    let res = t
        .send(bulk_request(&json!({"certificates": []}), &producer, None))
        .await;
    res.error(422, "out_of_range");
    let (_, retailer) = t.org("retailer", CODES[2], "430702").await;
    let res = t
        .send(bulk_request(
            &json!({"certificates": items}),
            &retailer,
            None,
        ))
        .await;
    res.error(403, "forbidden");
    assert_eq!(
        t.counts()[4..6],
        before[4..6],
        "no certificates or events written"
    );
}

#[actix_web::test]
async fn a_retry_with_the_same_idempotency_key_issues_nothing_twice() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(CODES[0]).await;
    let body = json!({"certificates": [batch(&product), batch(&product)]});
    let first = t
        .send(bulk_request(&body, &producer, Some("erp-2026-11-21-0001")))
        .await;
    assert_eq!(first.status, 201);
    let after_first = t.counts();
    let retry = t
        .send(bulk_request(&body, &producer, Some("erp-2026-11-21-0001")))
        .await;
    assert_eq!(retry.status, 201);
    assert_eq!(
        retry.json(),
        first.json(),
        "the first answer, byte for byte the same content"
    );
    assert_eq!(t.counts(), after_first, "nothing issued twice");

    let other = json!({"certificates": [batch(&product)]});
    t.send(bulk_request(&other, &producer, Some("erp-2026-11-21-0001")))
        .await
        .error(409, "idempotency_key_reused");
    // Another producer may use the same key text: keys are per organization.
    let (producer_b, product_b) = t.producer_with_product(CODES[1]).await;
    let theirs = json!({"certificates": [batch(&product_b)]});
    assert_eq!(
        t.send(bulk_request(
            &theirs,
            &producer_b,
            Some("erp-2026-11-21-0001")
        ))
        .await
        .status,
        201
    );
    // Without a key every call issues.
    assert_eq!(
        t.send(bulk_request(&other, &producer, None)).await.status,
        201
    );
    assert_eq!(t.counts()[4], after_first[4] + 2);
}

#[actix_web::test]
async fn bulk_accepts_ten_thousand_and_refuses_more() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(CODES[0]).await;
    let one = batch(&product);
    let too_many: Vec<Value> = std::iter::repeat_n(one, 10_001).collect();
    let res = t
        .send(bulk_request(
            &json!({"certificates": too_many}),
            &producer,
            None,
        ))
        .await;
    let err = res.error(422, "out_of_range");
    assert_eq!(err["field"], "certificates");
    assert_eq!(t.counts()[4], 0, "nothing issued");

    // Exactly ten thousand: one transaction, ten thousand signed certificates.
    let ten_thousand: Vec<Value> = (0..10_000)
        .map(|i| {
            let mut one = batch(&product);
            one["batch_no"] = json!(format!("TT-{i}"));
            one
        })
        .collect();
    let res = t
        .send(bulk_request(
            &json!({"certificates": ten_thousand}),
            &producer,
            None,
        ))
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let issued = res.json()["certificates"].as_array().unwrap().clone();
    assert_eq!(issued.len(), 10_000);
    assert_eq!(issued[9_999]["payload"]["batch"]["no"], "TT-9999");
    assert_eq!(t.counts()[4], 10_000);
    // The last one verifies like any other.
    let last = t
        .get_json(&crate::helpers::path_of(
            issued[9_999]["verify_url"].as_str().unwrap(),
        ))
        .await
        .json();
    assert_eq!(last["verdict"], "genuine");
}

//! 先行赔付: a consumer's report becomes a case against the producer or a seller, which the
//! named party accepts and answers, the consumer follows by number and confirms, and a
//! regulator decides once it is overdue. Every step is on the trail.

use serde_json::{json, Value};

use crate::helpers::{batch, code, spawn, spawn_with};

fn case_steps(trail: &Value) -> Vec<String> {
    trail["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "case_updated")
        .map(|e| e["details"]["state"].as_str().unwrap().to_string())
        .collect()
}

#[actix_web::test]
async fn a_seller_compensates_and_the_consumer_closes_the_case() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(&code(1)).await;
    let (shop_id, shop) = t.org("retailer", &code(2), "430702").await;
    let (stranger_id, stranger) = t.org("retailer", &code(3), "430702").await;
    let (_, regulator) = t.org("regulator", &code(4), "430700").await;
    let issued = t.issue(&producer, &batch(&product)).await;
    let id = issued["id"].as_str().unwrap();
    t.ship(&producer, id, &shop_id, None).await;
    t.post(
        &format!("/api/v1/certificates/{id}/events"),
        Some(&shop),
        &json!({"type": "received", "label_url": issued["verify_url"]}),
    )
    .await;
    let report = format!("/api/v1/certificates/{id}/complaints");
    let complaint = |respondent: &str| {
        json!({"category": "quality", "message": "鸭肉有异味", "contact": "138****0000",
               "case": {"respondent_id": respondent, "claim": "退款 39.8 元"}})
    };
    // Only the producer or a seller that took the goods in can be named.
    t.post(&report, None, &complaint(&stranger_id))
        .await
        .error(422, "invalid_respondent");
    let before = t.counts();
    t.post(&report, None, &complaint("nobody"))
        .await
        .error(422, "invalid_respondent");
    assert_eq!(t.counts(), before, "a refused case stores no report either");
    let res = t.post(&report, None, &complaint(&shop_id)).await;
    assert_eq!(res.status, 201, "{}", res.text());
    let case = res.json()["case"].clone();
    let number = case["number"].as_str().unwrap().to_string();
    assert!(number.starts_with("PF-") && number.len() == 17, "{number}");
    assert_eq!(case["state"], "reported");
    assert_eq!(case["overdue"], false);
    // The parties act on the case by its id; only the consumer holds the number.
    let case_id = case["id"].as_str().unwrap().to_string();
    let url = |step: &str| format!("/api/v1/cases/{case_id}/{step}");
    let confirm = format!("/api/v1/cases/{number}/confirm");

    // The consumer follows it by number, without an account; the contact is not shown.
    let public = t.get(&format!("/api/v1/cases/{number}"), None).await;
    assert_eq!(public.status, 200);
    assert!(!public.text().contains("138****0000"));
    assert_eq!(
        t.get(&format!("/api/v1/cases/{}", number.to_lowercase()), None)
            .await
            .json()["state"],
        "reported"
    );
    t.get("/api/v1/cases/PF-AAAA-AAAA-AAAA", None)
        .await
        .error(404, "not_found");

    // Only the named seller acts; the producer sees the case with the report.
    t.post(&url("accept"), Some(&producer), &json!({}))
        .await
        .error(403, "forbidden");
    // Who may act is checked before what was sent: a stranger's bad answer is 403, not 422.
    t.post(
        &url("answer"),
        Some(&stranger),
        &json!({"outcome": "lost", "text": ""}),
    )
    .await
    .error(403, "forbidden");
    let mine = t.get("/api/v1/cases", Some(&producer)).await.json();
    assert_eq!(mine[0]["id"], case_id.as_str());
    assert!(
        mine[0].get("number").is_none(),
        "the number is the consumer's alone"
    );
    assert!(
        mine[0].get("contact").is_none(),
        "the contact is for the party that answers"
    );
    let named = t.get("/api/v1/cases", Some(&shop)).await.json();
    assert_eq!(named[0]["contact"], "138****0000");
    assert_eq!(
        t.get("/api/v1/cases", Some(&stranger)).await.json(),
        json!([])
    );
    let res = t.post(&url("accept"), Some(&shop), &json!({})).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["state"], "accepted");
    t.post(&url("accept"), Some(&shop), &json!({}))
        .await
        .error(409, "invalid_transition");
    // A consumer cannot close a case nobody answered.
    t.post(&confirm, None, &json!({}))
        .await
        .error(409, "invalid_transition");

    for (body, code) in [
        (
            json!({"outcome": "compensated", "text": "已退款"}),
            "required",
        ),
        (
            json!({"outcome": "compensated", "amount_fen": 0, "text": "已退款"}),
            "out_of_range",
        ),
        (
            json!({"outcome": "refused", "amount_fen": 5, "text": "x"}),
            "amount_not_allowed",
        ),
        (
            json!({"outcome": "apology", "text": "x"}),
            "invalid_outcome",
        ),
    ] {
        t.post(&url("answer"), Some(&shop), &body)
            .await
            .error(422, code);
    }
    let res = t
        .post(
            &url("answer"),
            Some(&shop),
            &json!({"outcome": "compensated", "amount_fen": 3980, "text": "已原路退款"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["amount_fen"], 3980);
    // Not overdue: a regulator does not decide it.
    t.post(
        &url("decision"),
        Some(&regulator),
        &json!({"outcome": "refused", "text": "x"}),
    )
    .await
    .error(409, "not_overdue");
    let res = t.post(&confirm, None, &json!({})).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["state"], "closed");

    let trail = t
        .get(&format!("/api/v1/certificates/{id}/trail"), None)
        .await
        .json();
    assert_eq!(trail["intact"], true);
    assert_eq!(
        case_steps(&trail),
        ["reported", "accepted", "answered", "closed"]
    );
    assert!(
        !trail.to_string().contains(&number),
        "the number is the consumer's, never public"
    );
    let regional = t.get("/api/v1/cases", Some(&regulator)).await.json();
    assert_eq!(regional[0]["outcome"], "compensated");
}

#[actix_web::test]
async fn an_overdue_case_is_decided_by_the_regulator() {
    let t = spawn_with(|c| c.workflow.case_deadline = chrono::Duration::zero()).await;
    let (producer_id, producer) = t.org("producer", &code(1), "430702").await;
    let (_, regulator) = t.org("regulator", &code(2), "430700").await;
    let (_, far_regulator) = t.org("regulator", &code(3), "110000").await;
    let product = t
        .post(
            "/api/v1/products",
            Some(&producer),
            &json!({"name": "酱板鸭", "model": "500g/袋", "standard": "GB/T 23586-2022"}),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let issued = t.issue(&producer, &batch(&product)).await;
    let id = issued["id"].as_str().unwrap();
    let res = t
        .post(
            &format!("/api/v1/certificates/{id}/complaints"),
            None,
            &json!({"category": "quality", "message": "胀袋", "case": {"respondent_id": producer_id, "claim": "更换"}}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let number = res.json()["case"]["number"].as_str().unwrap().to_string();
    let case_id = res.json()["case"]["id"].as_str().unwrap().to_string();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let case = t.get(&format!("/api/v1/cases/{number}"), None).await.json();
    assert_eq!(case["overdue"], true, "{case}");
    let decision = json!({"outcome": "replaced", "text": "责令生产者更换"});
    let url = format!("/api/v1/cases/{case_id}/decision");
    t.post(&url, Some(&far_regulator), &decision)
        .await
        .error(403, "forbidden");
    t.post(&url, Some(&producer), &decision)
        .await
        .error(403, "forbidden");
    let res = t.post(&url, Some(&regulator), &decision).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let decided = res.json();
    assert_eq!(decided["state"], "closed");
    assert_eq!(decided["decided_by_regulator"], true);
    assert_eq!(decided["overdue"], false);
    let audit = t.get("/api/v1/audit", Some(&regulator)).await.json();
    assert_eq!(audit[0]["action"], "case.decide");
    // A report without a case opens none.
    let res = t
        .post(
            &format!("/api/v1/certificates/{id}/complaints"),
            None,
            &json!({"category": "other", "message": "包装破损", "serial": 7}),
        )
        .await;
    res.error(422, "not_serialized");
}

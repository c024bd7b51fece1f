//! Certification marks and lab accreditations.

use serde_json::json;

use crate::helpers::{batch, path_of, spawn, CODES};

fn days(n: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(n))
        .format("%Y-%m-%d")
        .to_string()
}

#[actix_web::test]
async fn a_certificate_may_claim_only_recorded_valid_marks() {
    let t = spawn().await;
    let (_, producer) = t.org("producer", CODES[0], "430725").await;
    let (_, body) = t.org("certification_body", CODES[1], "110000").await;
    let (_, other_body) = t.org("certification_body", CODES[2], "110000").await;
    let res = t
        .post(
            "/api/v1/products",
            Some(&producer),
            &json!({"name": "桃源工夫红茶", "model": "250g", "standard": "GB/T 13738.2-2017",
            "marks": [{"scheme": "organic", "cert_no": "1240P2300123"}]}),
        )
        .await;
    let product = res.json()["id"].as_str().unwrap().to_string();

    let err = t
        .post("/api/v1/certificates", Some(&producer), &batch(&product))
        .await
        .error(422, "mark_not_valid");
    assert_eq!(err["field"], "marks.0");
    let mark = json!({"product_id": product, "scheme": "organic", "cert_no": "1240P2300123", "valid_from": days(-30), "valid_until": days(335)});
    t.post("/api/v1/marks", Some(&producer), &mark)
        .await
        .error(403, "forbidden");
    let res = t.post("/api/v1/marks", Some(&body), &mark).await;
    assert_eq!(res.status, 201, "{}", res.text());
    let mark_id = res.json()["id"].as_str().unwrap().to_string();

    let issued = t.issue(&producer, &batch(&product)).await;
    assert_eq!(
        issued["payload"]["marks"],
        json!([{"scheme": "organic", "cert_no": "1240P2300123"}])
    );
    let label = path_of(issued["verify_url"].as_str().unwrap());
    assert_eq!(
        t.get_json(&label).await.json()["marks"],
        json!([{"scheme": "organic", "cert_no": "1240P2300123", "status": "valid"}])
    );
    // EPCIS: the issuing event's certificationInfo names the mark's public record.
    let doc = t
        .get(
            &format!(
                "/api/v1/certificates/{}/epcis",
                issued["id"].as_str().unwrap()
            ),
            None,
        )
        .await
        .json();
    let info = doc["epcisBody"]["eventList"][0]["certificationInfo"].clone();
    assert!(
        info.as_array().unwrap().iter().any(|u| u
            .as_str()
            .unwrap()
            .ends_with("/marks?scheme=organic&cert_no=1240P2300123")),
        "{info}"
    );
    let errors = crate::helpers::epcis_errors(&doc);
    assert!(errors.is_empty(), "{errors:#?}");

    t.post(
        &format!("/api/v1/marks/{mark_id}/suspend"),
        Some(&other_body),
        &json!({}),
    )
    .await
    .error(403, "forbidden");
    assert_eq!(
        t.post(
            &format!("/api/v1/marks/{mark_id}/suspend"),
            Some(&body),
            &json!({})
        )
        .await
        .status,
        200
    );
    let answer = t.get_json(&label).await.json();
    assert_eq!(answer["marks"][0]["status"], "suspended");
    // The label's page shows the mark with its status, in words.
    let html = t.get(&label, None).await.text();
    assert!(
        html.contains("1240P2300123") && html.contains("已暂停或撤销"),
        "{html}"
    );
    let html = t.get(&format!("{label}&lang=en"), None).await.text();
    assert!(html.contains("Suspended or withdrawn"), "{html}");
    assert_eq!(
        answer["verdict"], "genuine",
        "a mark's status is shown, the certificate stands"
    );
    t.post("/api/v1/certificates", Some(&producer), &batch(&product))
        .await
        .error(422, "mark_not_valid");
    let listed = t
        .get(&format!("/api/v1/products/{product}/marks"), None)
        .await
        .json();
    assert_eq!(listed["marks"][0]["status"], "suspended");

    let backwards = json!({"product_id": product, "scheme": "CCC", "cert_no": "2024011", "valid_from": days(1), "valid_until": days(0)});
    t.post("/api/v1/marks", Some(&body), &backwards)
        .await
        .error(422, "invalid_period");
}

#[actix_web::test]
async fn citing_a_lab_without_dual_accreditation_warns() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(CODES[0]).await;
    let (lab_id, lab) = t.org("lab", CODES[1], "430700").await;
    let (_, regulator) = t.org("regulator", CODES[2], "430700").await;
    let cma = json!({"scheme": "CMA", "number": "231812050123", "scope": "食品微生物", "valid_from": days(-100), "valid_until": days(900)});
    assert_eq!(
        t.post("/api/v1/labs/accreditations", Some(&lab), &cma)
            .await
            .status,
        201
    );
    t.post("/api/v1/labs/accreditations", Some(&producer), &cma)
        .await
        .error(403, "forbidden");
    let mut bad = cma.clone();
    bad["scheme"] = json!("ISO");
    t.post("/api/v1/labs/accreditations", Some(&lab), &bad)
        .await
        .error(422, "invalid_scheme");

    let mut body = batch(&product);
    body["lab_id"] = json!(lab_id);
    let issued = t.issue(&producer, &body).await;
    let label = path_of(issued["verify_url"].as_str().unwrap());
    let codes = |a: &serde_json::Value| {
        a["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["code"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert!(codes(&t.get_json(&label).await.json()).contains(&"lab_not_accredited".to_string()));
    let id = issued["id"].as_str().unwrap();
    let res = t
        .post(
            &format!("/api/v1/certificates/{id}/inspections"),
            Some(&regulator),
            &json!({"result": "conformant", "findings": "合格", "lab_id": lab_id}),
        )
        .await;
    assert_eq!(res.json()["warnings"], json!(["lab_not_accredited"]));

    let catl = json!({"scheme": "CATL", "number": "[2023]农质检核(湘)字第0123号", "scope": "农产品", "valid_from": days(-100), "valid_until": days(900)});
    let claimed = t
        .post("/api/v1/labs/accreditations", Some(&lab), &catl)
        .await;
    assert_eq!(claimed.status, 201);
    assert_eq!(claimed.json()["status"], "pending");
    // A lab's own claims count for nothing until a regulator of its region confirms them.
    assert!(codes(&t.get_json(&label).await.json()).contains(&"lab_not_accredited".to_string()));
    let (_, far_regulator) = t.org("regulator", CODES[3], "110000").await;
    let pending = t
        .get("/api/v1/accreditations/pending", Some(&regulator))
        .await
        .json();
    assert_eq!(pending.as_array().unwrap().len(), 2);
    assert_eq!(
        t.get("/api/v1/accreditations/pending", Some(&far_regulator))
            .await
            .json(),
        json!([])
    );
    for a in pending.as_array().unwrap() {
        let url = format!(
            "/api/v1/accreditations/{}/confirm",
            a["id"].as_str().unwrap()
        );
        t.post(&url, Some(&lab), &json!({}))
            .await
            .error(403, "forbidden");
        t.post(&url, Some(&far_regulator), &json!({}))
            .await
            .error(403, "forbidden");
        let res = t.post(&url, Some(&regulator), &json!({})).await;
        assert_eq!(res.status, 200, "{}", res.text());
        assert_eq!(res.json()["status"], "confirmed");
        t.post(&url, Some(&regulator), &json!({}))
            .await
            .error(409, "not_pending");
    }
    let answer = t.get_json(&label).await.json();
    assert!(!codes(&answer).contains(&"lab_not_accredited".to_string()));
    // The batch cites 菌落总数, which neither accredited scope names.
    let scope = answer["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["code"] == "lab_scope_mismatch")
        .unwrap_or_else(|| panic!("{answer}"));
    assert!(scope["message"].as_str().unwrap().contains("菌落总数"));
    assert_eq!(
        t.get(&format!("/api/v1/labs/{lab_id}/accreditations"), None)
            .await
            .json()["accreditations"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Delisted (摘牌): nothing counts any more.
    let delist = format!("/api/v1/labs/{lab_id}/delist");
    t.post(&delist, Some(&far_regulator), &json!({"reason": "x"}))
        .await
        .error(403, "forbidden");
    let res = t
        .post(
            &delist,
            Some(&regulator),
            &json!({"reason": "出具虚假报告"}),
        )
        .await;
    assert_eq!(res.json()["delisted"], 2);
    assert!(codes(&t.get_json(&label).await.json()).contains(&"lab_not_accredited".to_string()));

    body["lab_id"] = json!("nope");
    t.post("/api/v1/certificates", Some(&producer), &body)
        .await
        .error(422, "unknown_lab");
}

#[actix_web::test]
async fn anyone_looks_up_a_mark_and_a_regulator_suspends_it() {
    let t = spawn().await;
    let (_, producer) = t.org("producer", CODES[0], "430725").await;
    let (_, body) = t.org("certification_body", CODES[1], "430700").await;
    let (_, regulator) = t.org("regulator", CODES[2], "430700").await;
    let (_, far_regulator) = t.org("regulator", CODES[3], "110000").await;
    let product = t
        .post(
            "/api/v1/products",
            Some(&producer),
            &json!({"name": "电热水壶", "model": "SH-1500", "standard": "GB 4706.19-2008"}),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut mark = json!({"product_id": product, "scheme": "CCC", "cert_no": "20240107012345", "valid_from": days(-30), "valid_until": days(335)});
    t.post("/api/v1/marks", Some(&body), &mark)
        .await
        .error(422, "invalid_cert_no");
    mark["cert_no"] = json!("2024010701234567");
    let res = t.post("/api/v1/marks", Some(&body), &mark).await;
    assert_eq!(res.status, 201, "{}", res.text());
    let mark_id = res.json()["id"].as_str().unwrap().to_string();

    let found = t
        .get(
            "/api/v1/marks/lookup?scheme=CCC&cert_no=2024010701234567",
            None,
        )
        .await;
    assert_eq!(found.status, 200, "{}", found.text());
    let found = found.json();
    assert_eq!(found[0]["status"], "valid");
    assert!(found[0]["holder"].as_str().unwrap().contains(CODES[0]));
    assert_eq!(found[0]["product"], "电热水壶 SH-1500");
    t.get(
        "/api/v1/marks/lookup?scheme=CCC&cert_no=0000000000000000",
        None,
    )
    .await
    .error(404, "not_found");
    t.get("/api/v1/marks/lookup?scheme=CCC", None)
        .await
        .error(422, "required");

    let suspend = format!("/api/v1/marks/{mark_id}/suspend");
    t.post(&suspend, Some(&far_regulator), &json!({}))
        .await
        .error(403, "forbidden");
    let res = t.post(&suspend, Some(&regulator), &json!({})).await;
    assert_eq!(res.status, 200, "{}", res.text());
    // The body cannot undo a regulator's suspension.
    let reinstate = format!("/api/v1/marks/{mark_id}/reinstate");
    t.post(&reinstate, Some(&body), &json!({}))
        .await
        .error(403, "suspended_by_regulator");
    let page = t
        .get("/marks?scheme=CCC&cert_no=2024010701234567", None)
        .await
        .text();
    assert!(
        page.contains("已暂停") && page.contains("电热水壶"),
        "{page}"
    );
    let missing = t.get("/marks?scheme=CCC&cert_no=1", None).await.text();
    assert!(missing.contains("没有找到"), "{missing}");
    let audit = t.get("/api/v1/audit", Some(&regulator)).await.json();
    assert_eq!(audit[0]["action"], "mark.suspend");
    assert_eq!(
        t.post(&reinstate, Some(&regulator), &json!({}))
            .await
            .status,
        200
    );
    let found = t
        .get(
            "/api/v1/marks/lookup?scheme=CCC&cert_no=2024010701234567",
            None,
        )
        .await
        .json();
    assert_eq!(found[0]["status"], "valid");
    // A mark whose period has not begun is not shown as expired.
    let mut later = mark.clone();
    later["cert_no"] = json!("2024010709999999");
    later["valid_from"] = json!(days(10));
    t.post("/api/v1/marks", Some(&body), &later).await;
    let found = t
        .get(
            "/api/v1/marks/lookup?scheme=CCC&cert_no=2024010709999999",
            None,
        )
        .await
        .json();
    assert_eq!(found[0]["status"], "not_yet_valid");
}

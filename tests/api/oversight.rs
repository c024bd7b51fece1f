//! Regulators' authority: a regulator's suspension is the regulator's to lift (the producer
//! asks with evidence), a producer's right to issue can be suspended and restored, and every
//! such action is on the audit log.

use serde_json::{json, Value};

use crate::helpers::{batch, code, path_of, spawn};

fn types(trail: &Value) -> Vec<String> {
    trail
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

#[actix_web::test]
async fn a_regulators_suspension_is_lifted_by_a_regulator_after_a_request() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(&code(1)).await;
    let (_, regulator) = t.org("regulator", &code(2), "430700").await;
    let (_, far_regulator) = t.org("regulator", &code(3), "110000").await;
    let issued = t.issue(&producer, &batch(&product)).await;
    let id = issued["id"].as_str().unwrap();
    let label = path_of(issued["verify_url"].as_str().unwrap());

    // A regulator's manual suspension needs its legal basis.
    let url = format!("/api/v1/certificates/{id}/suspend");
    t.post(&url, Some(&regulator), &json!({"reason": "标签不符"}))
        .await
        .error(422, "required");
    let res = t
        .post(
            &url,
            Some(&regulator),
            &json!({"reason": "标签不符", "legal_basis": "《产品质量法》第二十七条"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(t.get_json(&label).await.json()["verdict"], "suspended");

    // The producer cannot lift it, with its own code, and nothing changed.
    let reinstate = format!("/api/v1/certificates/{id}/reinstate");
    t.post(&reinstate, Some(&producer), &json!({"reason": "已整改"}))
        .await
        .error(403, "suspended_by_regulator");
    assert_eq!(t.get_json(&label).await.json()["verdict"], "suspended");

    // It asks with evidence; one pending request at a time.
    let ask = format!("/api/v1/certificates/{id}/reinstatement-requests");
    t.post(&ask, Some(&regulator), &json!({"evidence": "x"}))
        .await
        .error(403, "forbidden");
    let res = t
        .post(
            &ask,
            Some(&producer),
            &json!({"evidence": "标签已更换", "lab_report_no": "CD-LAB-2026-0202"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let first = res.json();
    assert_eq!(first["state"], "pending");
    t.post(&ask, Some(&producer), &json!({"evidence": "again"}))
        .await
        .error(409, "request_pending");

    // Only a regulator of the region decides; a refusal keeps it suspended.
    let decide = |rid: &str| format!("/api/v1/reinstatement-requests/{rid}/decision");
    let rid = first["id"].as_str().unwrap();
    let refuse = json!({"decision": "refuse", "note": "报告未覆盖全部项目"});
    t.post(&decide(rid), Some(&producer), &refuse)
        .await
        .error(403, "forbidden");
    t.post(&decide(rid), Some(&far_regulator), &refuse)
        .await
        .error(403, "forbidden");
    t.post(
        &decide(rid),
        Some(&regulator),
        &json!({"decision": "maybe", "note": "x"}),
    )
    .await
    .error(422, "invalid_decision");
    let res = t.post(&decide(rid), Some(&regulator), &refuse).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["state"], "refused");
    t.post(&decide(rid), Some(&regulator), &refuse)
        .await
        .error(409, "already_decided");
    assert_eq!(t.get_json(&label).await.json()["verdict"], "suspended");

    // A second request is approved: active again, the sanction closed.
    let res = t
        .post(&ask, Some(&producer), &json!({"evidence": "全项复检合格"}))
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let rid = res.json()["id"].as_str().unwrap().to_string();
    let res = t
        .post(
            &decide(&rid),
            Some(&regulator),
            &json!({"decision": "approve", "note": "复检合格"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let answer = t.get_json(&label).await.json();
    assert_eq!(answer["verdict"], "genuine");
    let trail = t
        .get(&format!("/api/v1/certificates/{id}/trail"), None)
        .await
        .json();
    assert_eq!(trail["intact"], true);
    assert_eq!(
        types(&trail["events"]),
        [
            "issued",
            "suspended",
            "reinstatement_requested",
            "reinstatement_refused",
            "reinstatement_requested",
            "reinstated"
        ]
    );
    assert_eq!(
        trail["events"][1]["details"]["legal_basis"],
        "《产品质量法》第二十七条"
    );
    // No suspension in force: a new request is refused.
    t.post(&ask, Some(&producer), &json!({"evidence": "x"}))
        .await
        .error(409, "not_suspended_by_regulator");

    let sanctions = t.get("/api/v1/sanctions", Some(&regulator)).await.json();
    assert_eq!(sanctions.as_array().unwrap().len(), 1, "{sanctions}");
    assert_eq!(sanctions[0]["kind"], "certificate_suspended");
    assert_eq!(sanctions[0]["open"], false);
    assert_eq!(sanctions[0]["lift_reason"], "复检合格");
    let far = t
        .get("/api/v1/sanctions", Some(&far_regulator))
        .await
        .json();
    assert_eq!(far, json!([]));

    // The producer's own suspension stays its own to lift.
    let res = t
        .post(&url, Some(&producer), &json!({"reason": "自查"}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let res = t
        .post(&reinstate, Some(&producer), &json!({"reason": "自查完毕"}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());

    // The audit log: the regulator's actions, readable by the region and the admin only
    // (the region's log also holds the admin's registration of its organizations).
    let on_certificates = |audit: serde_json::Value| -> Vec<serde_json::Value> {
        audit
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"].as_str().unwrap().starts_with("certificate."))
            .cloned()
            .collect()
    };
    let audit = on_certificates(t.get("/api/v1/audit", Some(&regulator)).await.json());
    let actions: Vec<&str> = audit
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "certificate.reinstate",
            "certificate.refuse_reinstatement",
            "certificate.suspend"
        ]
    );
    assert_eq!(
        on_certificates(t.get("/api/v1/audit", Some(&far_regulator)).await.json()),
        Vec::<serde_json::Value>::new()
    );
    assert_eq!(
        on_certificates(t.get("/api/v1/audit", Some(&t.admin)).await.json()),
        audit
    );
    t.get("/api/v1/audit", Some(&producer))
        .await
        .error(403, "forbidden");
}

#[actix_web::test]
async fn a_spot_check_suspension_needs_a_regulator_too() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(&code(1)).await;
    let (_, regulator) = t.org("regulator", &code(2), "430700").await;
    let issued = t.issue(&producer, &batch(&product)).await;
    let id = issued["id"].as_str().unwrap();
    let res = t
        .post(
            &format!("/api/v1/certificates/{id}/inspections"),
            Some(&regulator),
            &json!({"result": "non_conformant", "findings": "菌落总数超标"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    t.post(
        &format!("/api/v1/certificates/{id}/reinstate"),
        Some(&producer),
        &json!({"reason": "已整改"}),
    )
    .await
    .error(403, "suspended_by_regulator");
    let sanctions = t.get("/api/v1/sanctions", Some(&producer)).await.json();
    assert_eq!(sanctions[0]["reason"], "non_conformant_inspection");
    assert_eq!(
        sanctions[0]["legal_basis"],
        "《中华人民共和国产品质量法》第十七条"
    );
    // Lifting the sanction reinstates the certificate.
    let sid = sanctions[0]["id"].as_str().unwrap();
    let lift = format!("/api/v1/sanctions/{sid}/lift");
    t.post(&lift, Some(&producer), &json!({"reason": "x"}))
        .await
        .error(403, "forbidden");
    let res = t
        .post(&lift, Some(&regulator), &json!({"reason": "复检合格"}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["open"], false);
    let label = path_of(issued["verify_url"].as_str().unwrap());
    assert_eq!(t.get_json(&label).await.json()["verdict"], "genuine");
    t.post(&lift, Some(&regulator), &json!({"reason": "again"}))
        .await
        .error(409, "already_lifted");
}

#[actix_web::test]
async fn a_suspended_right_to_issue_refuses_new_certificates_and_warns_on_old_ones() {
    let t = spawn().await;
    let (producer_id, producer) = t.org("producer", &code(1), "430702").await;
    let (_, regulator) = t.org("regulator", &code(2), "430700").await;
    let (_, far_regulator) = t.org("regulator", &code(3), "110000").await;
    let (retailer_id, _) = t.org("retailer", &code(4), "430702").await;
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
    let old = t.issue(&producer, &batch(&product)).await;
    let label = path_of(old["verify_url"].as_str().unwrap());

    let url = format!("/api/v1/organizations/{producer_id}/sanctions");
    let body = json!({"kind": "issuance_suspended", "reason": "多次抽检不合格", "legal_basis": "《食用农产品市场销售质量安全监督管理办法》"});
    t.post(&url, Some(&far_regulator), &body)
        .await
        .error(403, "forbidden");
    t.post(&url, Some(&producer), &body)
        .await
        .error(403, "forbidden");
    t.post(
        &url,
        Some(&regulator),
        &json!({"kind": "fine", "reason": "x", "legal_basis": "y"}),
    )
    .await
    .error(422, "invalid_kind");
    t.post(
        &format!("/api/v1/organizations/{retailer_id}/sanctions"),
        Some(&regulator),
        &body,
    )
    .await
    .error(422, "not_a_producer");
    let res = t.post(&url, Some(&regulator), &body).await;
    assert_eq!(res.status, 201, "{}", res.text());
    let sanction = res.json();
    assert_eq!(sanction["open"], true);
    t.post(&url, Some(&regulator), &body)
        .await
        .error(409, "already_suspended");

    // New issuance is refused, single and bulk alike; nothing was stored.
    let before = t.counts();
    t.post("/api/v1/certificates", Some(&producer), &batch(&product))
        .await
        .error(403, "issuance_suspended");
    let bulk = t
        .post(
            "/api/v1/certificates/bulk",
            Some(&producer),
            &json!({"certificates": [batch(&product)]}),
        )
        .await;
    assert_eq!(bulk.status, 403, "{}", bulk.text());
    assert_eq!(bulk.json()["error"]["code"], "issuance_suspended");
    assert_eq!(t.counts(), before);

    // The old certificate keeps its verdict, with a warning.
    let answer = t.get_json(&label).await.json();
    assert_eq!(answer["verdict"], "genuine");
    let codes: Vec<&str> = answer["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"producer_issuance_suspended"), "{answer}");
    let page = t.get(&label, None).await.text();
    assert!(page.contains("暂停该生产者开具新合格证"), "{page}");

    // Lifted: issuing works again and the warning is gone.
    let lift = format!(
        "/api/v1/sanctions/{}/lift",
        sanction["id"].as_str().unwrap()
    );
    let res = t
        .post(&lift, Some(&regulator), &json!({"reason": "整改验收合格"}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    t.issue(&producer, &batch(&product)).await;
    let answer = t.get_json(&label).await.json();
    assert!(
        !answer.to_string().contains("producer_issuance_suspended"),
        "{answer}"
    );
    let audit = t.get("/api/v1/audit", Some(&regulator)).await.json();
    assert_eq!(audit[0]["action"], "organization.restore_issuance");
    assert_eq!(audit[1]["action"], "organization.suspend_issuance");
    assert_eq!(audit[1]["detail"]["legal_basis"], body["legal_basis"]);
}

#[actix_web::test]
async fn a_producer_cannot_step_round_a_regulators_suspension() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(&code(1)).await;
    let (_, regulator) = t.org("regulator", &code(2), "430700").await;
    let issued = t.issue(&producer, &batch(&product)).await;
    let id = issued["id"].as_str().unwrap();
    let url = |step: &str| format!("/api/v1/certificates/{id}/{step}");
    // Suspended by its producer first: the regulator's suspension still takes hold.
    let res = t
        .post(&url("suspend"), Some(&producer), &json!({"reason": "自查"}))
        .await;
    assert_eq!(res.status, 200);
    let hold = json!({"reason": "抽检不合格", "legal_basis": "《产品质量法》第十七条"});
    let res = t.post(&url("suspend"), Some(&regulator), &hold).await;
    assert_eq!(res.status, 200, "{}", res.text());
    t.post(&url("suspend"), Some(&regulator), &hold)
        .await
        .error(409, "invalid_transition");
    t.post(
        &url("reinstate"),
        Some(&producer),
        &json!({"reason": "自查完毕"}),
    )
    .await
    .error(403, "suspended_by_regulator");
    // Nor can it issue the same batch again while the hold stands; another batch is fine.
    t.post("/api/v1/certificates", Some(&producer), &batch(&product))
        .await
        .error(403, "batch_suspended");
    let mut other = batch(&product);
    other["batch_no"] = json!("20261120-99");
    t.issue(&producer, &other).await;

    // A pending request ends when the suspension is lifted another way.
    let res = t
        .post(
            &url("reinstatement-requests"),
            Some(&producer),
            &json!({"evidence": "已整改"}),
        )
        .await;
    let rid = res.json()["id"].as_str().unwrap().to_string();
    let sanctions = t.get("/api/v1/sanctions", Some(&regulator)).await.json();
    let sid = sanctions[0]["id"].as_str().unwrap();
    let res = t
        .post(
            &format!("/api/v1/sanctions/{sid}/lift"),
            Some(&regulator),
            &json!({"reason": "复检合格"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    t.post(
        &format!("/api/v1/reinstatement-requests/{rid}/decision"),
        Some(&regulator),
        &json!({"decision": "approve", "note": "x"}),
    )
    .await
    .error(409, "already_decided");
    let requests = t
        .get("/api/v1/reinstatement-requests", Some(&producer))
        .await
        .json();
    assert_eq!(requests[0]["state"], "closed");
    t.issue(&producer, &batch(&product)).await;

    // Revoking a held certificate closes its hold: nothing is left open to lift.
    let issued = t
        .issue(&producer, &{
            let mut b = batch(&product);
            b["batch_no"] = json!("20261120-77");
            b
        })
        .await;
    let id2 = issued["id"].as_str().unwrap();
    t.post(
        &format!("/api/v1/certificates/{id2}/suspend"),
        Some(&regulator),
        &hold,
    )
    .await;
    let res = t
        .post(
            &format!("/api/v1/certificates/{id2}/revoke"),
            Some(&regulator),
            &json!({"reason": "虚假标注"}),
        )
        .await;
    assert_eq!(res.status, 200);
    let open: Vec<Value> = t
        .get("/api/v1/sanctions", Some(&regulator))
        .await
        .json()
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["open"] == true)
        .cloned()
        .collect();
    assert!(open.is_empty(), "{open:?}");
}

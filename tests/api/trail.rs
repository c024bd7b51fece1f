//! The trail: shipment, intake, sale, spot-checks, status changes, recalls, tamper evidence,
//! copy warnings and EPCIS.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{batch, path_of, spawn, CODES, PUBLIC_URL};

const MORE: [&str; 2] = ["91110000600037341L", "91310000132200821H"];

fn types(trail: &Value) -> Vec<String> {
    trail
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

#[actix_web::test]
async fn goods_travel_from_producer_to_shelf_and_every_step_is_in_the_trail() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(CODES[0]).await;
    let (retailer_id, retailer) = t.org("retailer", CODES[1], "430702").await;
    let mut body = batch(&product);
    body["units"] = json!(4);
    let issued = t.issue(&producer, &body).await;
    let id = issued["id"].as_str().unwrap();
    let events = format!("/api/v1/certificates/{id}/events");

    let res = t
        .post(
            &events,
            Some(&producer),
            &json!({"type": "shipped", "note": "发往步步高", "consignee": retailer_id}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.json()["event"]["seq"], 2);

    // Intake: the retailer scans the unit label it got.
    let unit_png = t
        .get(
            &format!("/api/v1/certificates/{id}/units/2/qr.png"),
            Some(&producer),
        )
        .await
        .body;
    let unit_url = crate::labels::decode_png(&unit_png);
    let res = t
        .post(
            &events,
            Some(&retailer),
            &json!({"type": "received", "label_url": unit_url}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let recorded = res.json();
    assert_eq!(recorded["label"]["verdict"], "genuine");
    assert_eq!(recorded["event"]["serial"], 2);
    assert_eq!(recorded["event"]["details"]["label_verdict"], "genuine");
    assert_eq!(recorded["event"]["actor"]["kind"], "retailer");

    let res = t
        .post(
            &events,
            Some(&retailer),
            &json!({"type": "sold", "serial": 2}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    // Selling a unit never taken in is refused.
    t.post(
        &events,
        Some(&retailer),
        &json!({"type": "sold", "serial": 3}),
    )
    .await
    .error(409, "not_received");

    let answer = t
        .get_json(&format!("{}&region=430702", path_of(&unit_url)))
        .await
        .json();
    assert_eq!(answer["verdict"], "genuine");
    assert_eq!(answer["warnings"], json!([]), "custody was recorded");
    assert_eq!(answer["unit"], json!({"serial": 2, "scans": 1}));
    assert_eq!(
        types(&answer["trail"]),
        ["issued", "shipped", "received", "sold"]
    );
    let again = t.get_json(&path_of(&unit_url)).await.json();
    assert_eq!(again["unit"]["scans"], 2);
    assert_eq!(
        again["certificate"]["scans"], 2,
        "counted per certificate too"
    );
    let page = t.get(&path_of(&unit_url), None).await.text();
    assert!(
        page.contains("<strong>进货查验</strong>") && page.contains("<strong>售出</strong>"),
        "the page shows the trail"
    );

    let trail = t
        .get(&format!("/api/v1/certificates/{id}/trail"), None)
        .await
        .json();
    assert_eq!(trail["intact"], true);
    assert_eq!(
        types(&trail["events"]),
        ["issued", "shipped", "received", "sold"]
    );
}

#[actix_web::test]
async fn intake_of_a_forged_label_is_recorded_with_its_verdict() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(CODES[0]).await;
    let (retailer_id, retailer) = t.org("retailer", CODES[1], "430702").await;
    let issued = t.issue(&producer, &batch(&product)).await;
    let id = issued["id"].as_str().unwrap();
    t.ship(&producer, id, &retailer_id, None).await;
    let forged = format!("http://elsewhere.example/v/{id}?s=AAAA");
    let res = t
        .post(
            &format!("/api/v1/certificates/{id}/events"),
            Some(&retailer),
            &json!({"type": "received", "label_url": forged, "note": "外包装破损"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let body = res.json();
    assert_eq!(body["label"]["verdict"], "forged");
    assert_eq!(body["event"]["details"]["label_verdict"], "forged");
    assert_eq!(body["event"]["details"]["note"], "外包装破损");

    // A label naming another certificate, or no label at all, is not an intake record.
    let other = t.issue(&producer, &batch(&product)).await;
    let wrong = other["verify_url"].as_str().unwrap();
    t.post(
        &format!("/api/v1/certificates/{id}/events"),
        Some(&retailer),
        &json!({"type": "received", "label_url": wrong}),
    )
    .await
    .error(422, "label_mismatch");
    t.post(
        &format!("/api/v1/certificates/{id}/events"),
        Some(&retailer),
        &json!({"type": "received"}),
    )
    .await
    .error(422, "required");
    t.post(
        &format!("/api/v1/certificates/{id}/events"),
        Some(&retailer),
        &json!({"type": "stolen"}),
    )
    .await
    .error(422, "invalid_event_type");
}

#[actix_web::test]
async fn spot_check_suspends_and_status_changes_follow_the_rules() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(CODES[0]).await;
    let (_, regulator) = t.org("regulator", CODES[2], "430700").await;
    let (_, far_regulator) = t.org("regulator", CODES[3], "440100").await;
    let issued = t.issue(&producer, &batch(&product)).await;
    let id = issued["id"].as_str().unwrap();
    let label = path_of(issued["verify_url"].as_str().unwrap());
    let inspection = json!({"result": "non_conformant", "findings": "菌落总数超标 (12000 CFU/g)", "lab_report_no": "CD-2026-77"});

    t.post(
        &format!("/api/v1/certificates/{id}/inspections"),
        Some(&far_regulator),
        &inspection,
    )
    .await
    .error(403, "forbidden");
    t.post(
        &format!("/api/v1/certificates/{id}/inspections"),
        Some(&producer),
        &inspection,
    )
    .await
    .error(403, "forbidden");
    let res = t
        .post(
            &format!("/api/v1/certificates/{id}/inspections"),
            Some(&regulator),
            &inspection,
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.json()["status"], "suspended");
    let answer = t.get_json(&label).await.json();
    assert_eq!(answer["verdict"], "suspended");
    assert_eq!(answer["reasons"], json!(["certificate_suspended"]));
    assert_eq!(
        answer["certificate"]["status_reason"],
        "non_conformant_inspection"
    );
    assert_eq!(
        types(&answer["trail"]),
        ["issued", "inspected", "suspended"]
    );

    // A regulator's suspension is the regulator's to lift (tests/api/oversight.rs).
    let reason = json!({"reason": "复检合格"});
    t.post(
        &format!("/api/v1/certificates/{id}/reinstate"),
        Some(&producer),
        &reason,
    )
    .await
    .error(403, "suspended_by_regulator");
    let res = t
        .post(
            &format!("/api/v1/certificates/{id}/reinstate"),
            Some(&regulator),
            &reason,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(t.get_json(&label).await.json()["verdict"], "genuine");
    t.post(
        &format!("/api/v1/certificates/{id}/reinstate"),
        Some(&producer),
        &reason,
    )
    .await
    .error(409, "invalid_transition");

    let res = t
        .post(
            &format!("/api/v1/certificates/{id}/revoke"),
            Some(&regulator),
            &json!({"reason": "虚假标注"}),
        )
        .await;
    assert_eq!(res.status, 200);
    let answer = t.get_json(&label).await.json();
    assert_eq!(answer["verdict"], "revoked");
    t.post(
        &format!("/api/v1/certificates/{id}/suspend"),
        Some(&producer),
        &reason,
    )
    .await
    .error(409, "invalid_transition");
    t.post(
        &format!("/api/v1/certificates/{id}/revoke"),
        Some(&producer),
        &json!({"reason": " "}),
    )
    .await
    .error(422, "required");
}

#[actix_web::test]
async fn recall_reaches_the_retailers_that_took_the_goods_in() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(CODES[0]).await;
    let (shop_a_id, shop_a) = t.org("retailer", CODES[1], "430702").await;
    let (shop_b_id, shop_b) = t.org("retailer", CODES[2], "430702").await;
    let first = t.issue(&producer, &batch(&product)).await;
    let mut other_batch = batch(&product);
    other_batch["batch_no"] = json!("20261120-02");
    let second = t.issue(&producer, &other_batch).await;
    for (shop, shop_id, cert) in [
        (&shop_a, &shop_a_id, &first),
        (&shop_b, &shop_b_id, &second),
    ] {
        let id = cert["id"].as_str().unwrap();
        t.ship(&producer, id, shop_id, None).await;
        let res = t
            .post(
                &format!("/api/v1/certificates/{id}/events"),
                Some(shop),
                &json!({"type": "received", "label_url": cert["verify_url"]}),
            )
            .await;
        assert_eq!(res.status, 201);
    }

    let res = t
        .post(
            "/api/v1/recalls",
            Some(&producer),
            &json!({"product_id": product, "batch_no": "20261120-01", "reason": "金属异物"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let recall = res.json();
    assert_eq!(recall["certificates"], json!([first["id"]]));
    assert_eq!(recall["retailers"].as_array().unwrap().len(), 1);
    assert!(recall["retailers"][0]["name"]
        .as_str()
        .unwrap()
        .contains(CODES[1]));

    let answer = t
        .get_json(&path_of(first["verify_url"].as_str().unwrap()))
        .await
        .json();
    assert_eq!(answer["verdict"], "recalled");
    assert_eq!(
        t.get_json(&path_of(second["verify_url"].as_str().unwrap()))
            .await
            .json()["verdict"],
        "genuine"
    );

    let mine = t.get("/api/v1/recalls", Some(&shop_a)).await.json();
    assert_eq!(mine["recalls"].as_array().unwrap().len(), 1);
    assert_eq!(mine["recalls"][0]["id"], recall["id"]);
    assert_eq!(
        t.get("/api/v1/recalls", Some(&shop_b)).await.json()["recalls"],
        json!([])
    );
    // One recall: for those it concerns, not for anyone.
    let one = format!("/api/v1/recalls/{}", recall["id"].as_str().unwrap());
    assert_eq!(t.get(&one, Some(&shop_a)).await.status, 200);
    assert_eq!(t.get(&one, Some(&producer)).await.status, 200);
    t.get(&one, Some(&shop_b)).await.error(403, "forbidden");
    t.get(&one, None).await.error(401, "unauthorized");

    // A whole-product recall takes the rest; nothing matching is a 422.
    let res = t
        .post(
            "/api/v1/recalls",
            Some(&producer),
            &json!({"product_id": product, "reason": "全部召回"}),
        )
        .await;
    assert_eq!(res.json()["certificates"].as_array().unwrap().len(), 2);
    assert_eq!(
        t.get("/api/v1/recalls", Some(&shop_b)).await.json()["recalls"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    t.post(
        "/api/v1/recalls",
        Some(&producer),
        &json!({"product_id": product, "batch_no": "none", "reason": "x"}),
    )
    .await
    .error(422, "nothing_to_recall");
    t.post(
        "/api/v1/recalls",
        Some(&shop_a),
        &json!({"product_id": product, "reason": "x"}),
    )
    .await
    .error(403, "forbidden");
}

#[actix_web::test]
async fn edited_or_deleted_events_are_detected() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(CODES[0]).await;
    let issued = t.issue(&producer, &batch(&product)).await;
    let id = issued["id"].as_str().unwrap();
    let label = path_of(issued["verify_url"].as_str().unwrap());
    for note in ["一", "二"] {
        let res = t
            .post(
                &format!("/api/v1/certificates/{id}/events"),
                Some(&producer),
                &json!({"type": "shipped", "note": note}),
            )
            .await;
        assert_eq!(res.status, 201);
    }
    assert_eq!(t.get_json(&label).await.json()["verdict"], "genuine");

    t.sql(&format!("UPDATE events SET body = replace(body, '\"note\":\"一\"', '\"note\":\"三\"') WHERE certificate_id = '{id}' AND seq = 2"));
    let answer = t.get_json(&label).await.json();
    assert_eq!(answer["verdict"], "tampered");
    assert_eq!(answer["reasons"], json!(["trail_event_altered"]));
    let trail = t
        .get(&format!("/api/v1/certificates/{id}/trail"), None)
        .await
        .json();
    assert_eq!(
        (trail["intact"].as_bool(), trail["fault"].as_str()),
        (Some(false), Some("trail_event_altered"))
    );

    t.sql(&format!("UPDATE events SET body = replace(body, '\"note\":\"三\"', '\"note\":\"一\"') WHERE certificate_id = '{id}' AND seq = 2"));
    assert_eq!(t.get_json(&label).await.json()["verdict"], "genuine");
    t.sql(&format!(
        "DELETE FROM events WHERE certificate_id = '{id}' AND seq = 3"
    ));
    let answer = t.get_json(&label).await.json();
    assert_eq!(
        (answer["verdict"].as_str(), answer["reasons"][0].as_str()),
        (Some("tampered"), Some("trail_head_mismatch"))
    );
}

#[actix_web::test]
async fn a_verifier_can_recompute_the_chain_and_check_every_signature() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(CODES[0]).await;
    let (retailer_id, retailer) = t.org("retailer", CODES[1], "430702").await;
    let issued = t.issue(&producer, &batch(&product)).await;
    let id = issued["id"].as_str().unwrap();
    t.post(
        &format!("/api/v1/certificates/{id}/events"),
        Some(&producer),
        &json!({"type": "shipped", "consignee": retailer_id}),
    )
    .await;
    t.post(
        &format!("/api/v1/certificates/{id}/events"),
        Some(&retailer),
        &json!({"type": "received", "label_url": issued["verify_url"]}),
    )
    .await;

    let keys = t.get("/api/v1/keys", None).await.json();
    let trail = t
        .get(&format!("/api/v1/certificates/{id}/trail"), None)
        .await
        .json();
    let mut prev = "0".repeat(64);
    for event in trail["events"].as_array().unwrap() {
        let mut body = event.clone();
        let obj = body.as_object_mut().unwrap();
        let hash = obj.remove("hash").unwrap();
        let kid = obj.remove("kid").unwrap();
        let signature = obj.remove("signature").unwrap();
        // serde_json's map is sorted: RFC 8785 for this ASCII-keyed, float-free body.
        let canonical = serde_json::to_string(&body).unwrap();
        assert_eq!(
            format!("{:x}", Sha256::digest(canonical.as_bytes())),
            hash.as_str().unwrap()
        );
        assert_eq!(body["prev_hash"], prev.as_str());
        prev = hash.as_str().unwrap().to_string();
        let key = keys["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == kid)
            .expect("signer in trust list");
        let public = ed25519_compact::PublicKey::from_slice(
            &URL_SAFE_NO_PAD
                .decode(key["public_key"].as_str().unwrap())
                .unwrap(),
        )
        .unwrap();
        let sig = ed25519_compact::Signature::from_slice(
            &URL_SAFE_NO_PAD.decode(signature.as_str().unwrap()).unwrap(),
        )
        .unwrap();
        public
            .verify(
                format!("CERTRAIL-EVENT-V1\n{}", hash.as_str().unwrap()),
                &sig,
            )
            .expect("event signature");
        assert_eq!(key["credit_code"], body["actor"]["credit_code"]);
    }
    assert_eq!(trail["events"].as_array().unwrap().len(), 3);
}

#[actix_web::test]
async fn copied_labels_raise_warnings_but_never_change_the_verdict() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(CODES[0]).await;
    let (shop_a_id, shop_a) = t.org("retailer", CODES[1], "430702").await;
    let (shop_b_id, shop_b) = t.org("retailer", CODES[2], "440100").await;
    let mut body = batch(&product);
    body["units"] = json!(3);
    let issued = t.issue(&producer, &body).await;
    let id = issued["id"].as_str().unwrap();
    let unit_url = crate::labels::decode_png(
        &t.get(
            &format!("/api/v1/certificates/{id}/units/1/qr.png"),
            Some(&producer),
        )
        .await
        .body,
    );
    // Each shop was shipped part of the batch, and both take in unit 1 by its label: one of
    // the two labels is a copy.
    for (shop, shop_id) in [(&shop_a, &shop_a_id), (&shop_b, &shop_b_id)] {
        let shipped = t
            .post(
                &format!("/api/v1/certificates/{id}/events"),
                Some(&producer),
                &json!({"type": "shipped", "consignee": shop_id, "quantity": 1}),
            )
            .await;
        assert_eq!(shipped.status, 201, "{}", shipped.text());
        let res = t
            .post(
                &format!("/api/v1/certificates/{id}/events"),
                Some(shop),
                &json!({"type": "received", "label_url": unit_url}),
            )
            .await;
        assert_eq!(res.status, 201);
    }
    t.get_json(&format!("{}&region=430702", path_of(&unit_url)))
        .await;
    let answer = t
        .get_json(&format!("{}&region=440100", path_of(&unit_url)))
        .await
        .json();
    assert_eq!(answer["verdict"], "genuine");
    let codes: Vec<&str> = answer["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["scanned_far_apart", "received_by_several_retailers"]
    );
    assert!(answer["warnings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("province"));
}

#[actix_web::test]
async fn epcis_document_maps_the_trail_to_cbv() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(CODES[0]).await;
    let (retailer_id, retailer) = t.org("retailer", CODES[1], "430702").await;
    let (_, regulator) = t.org("regulator", CODES[2], "430700").await;
    let issued = t.issue(&producer, &batch(&product)).await;
    let id = issued["id"].as_str().unwrap();
    t.post(
        &format!("/api/v1/certificates/{id}/events"),
        Some(&producer),
        &json!({"type": "shipped", "consignee": retailer_id}),
    )
    .await;
    t.post(
        &format!("/api/v1/certificates/{id}/events"),
        Some(&retailer),
        &json!({"type": "received", "label_url": issued["verify_url"]}),
    )
    .await;
    t.post(
        &format!("/api/v1/certificates/{id}/events"),
        Some(&retailer),
        &json!({"type": "sold"}),
    )
    .await;
    t.post(
        &format!("/api/v1/certificates/{id}/inspections"),
        Some(&regulator),
        &json!({"result": "conformant", "findings": "抽检合格"}),
    )
    .await;
    for step in ["suspend", "reinstate"] {
        let res = t
            .post(
                &format!("/api/v1/certificates/{id}/{step}"),
                Some(&producer),
                &json!({"reason": "自查"}),
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
    }
    t.post(
        "/api/v1/recalls",
        Some(&producer),
        &json!({"product_id": product, "reason": "预防性召回"}),
    )
    .await;
    let res = t
        .post(
            &format!("/api/v1/certificates/{id}/revoke"),
            Some(&regulator),
            &json!({"reason": "撤销"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());

    let res = t
        .get(&format!("/api/v1/certificates/{id}/epcis"), None)
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-type"), "application/ld+json");
    let doc = res.json();
    assert_eq!(doc["type"], "EPCISDocument");
    assert_eq!(doc["schemaVersion"], "2.0");
    let events = doc["epcisBody"]["eventList"].as_array().unwrap();
    let steps: Vec<(Value, Value)> = events
        .iter()
        .map(|e| (e["bizStep"].clone(), e["disposition"].clone()))
        .collect();
    assert_eq!(
        steps,
        vec![
            (json!("creating_class_instance"), json!("active")),
            (json!("shipping"), json!("in_transit")),
            (json!("receiving"), json!("sellable_accessible")),
            (json!("retail_selling"), json!("retail_sold")),
            (json!("inspecting"), json!("conformant")),
            (Value::Null, json!("non_sellable_other")),
            (Value::Null, json!("sellable_accessible")),
            (Value::Null, json!("recalled")),
            (Value::Null, json!("non_sellable_other")),
        ]
    );
    assert_eq!(events[0]["action"], "ADD");
    assert_eq!(events[0]["quantityList"][0]["quantity"], 1200);
    // 袋 is counted, not measured: no `uom` (the schema takes only UN/ECE Rec 20 codes).
    assert!(events[0]["quantityList"][0].get("uom").is_none());
    assert_eq!(events[0]["certrail:unit"], "袋");

    // Every event type produced, a unit's event (epcList) and a measured unit included,
    // validates against GS1's own EPCIS 2.0 JSON Schema.
    let mut measured = batch(&product);
    measured["batch_no"] = json!("KG-1");
    measured["unit"] = json!("千克");
    measured["units"] = json!(2);
    let kg = t.issue(&producer, &measured).await;
    let kg_id = kg["id"].as_str().unwrap();
    let res = t
        .post(
            &format!("/api/v1/certificates/{kg_id}/events"),
            Some(&producer),
            &json!({"type": "shipped", "serial": 1}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let kg_doc = t
        .get(&format!("/api/v1/certificates/{kg_id}/epcis"), None)
        .await
        .json();
    let kg_events = kg_doc["epcisBody"]["eventList"].as_array().unwrap();
    assert_eq!(kg_events[0]["quantityList"][0]["uom"], "KGM");
    // The certificate certifies the goods; serialized units are commissioned one by one.
    let info = kg_events[0]["certificationInfo"].as_array().unwrap();
    assert!(info[1]
        .as_str()
        .unwrap()
        .ends_with(&format!("/api/v1/certificates/{kg_id}/credential")));
    assert_eq!(kg_events[1]["bizStep"], "commissioning");
    assert_eq!(kg_events[1]["action"], "ADD");
    assert_eq!(
        kg_events[1]["epcList"],
        json!([
            format!("{PUBLIC_URL}/v/{kg_id}/1"),
            format!("{PUBLIC_URL}/v/{kg_id}/2")
        ])
    );
    assert!(kg_events[2]["epcList"].is_array(), "the unit's shipment");
    for document in [&doc, &kg_doc] {
        let errors = crate::helpers::epcis_errors(document);
        assert!(errors.is_empty(), "{errors:#?}");
    }
    // The check bites: the export as it was (a Chinese unit in `uom`) fails it.
    let mut old = doc.clone();
    old["epcisBody"]["eventList"][0]["quantityList"][0]["uom"] = json!("袋");
    assert!(!crate::helpers::epcis_errors(&old).is_empty());
    assert!(events
        .iter()
        .all(|e| e["type"] == "ObjectEvent" && e["eventTime"].as_str().unwrap().ends_with('Z')));
}

#[actix_web::test]
async fn parallel_intakes_leave_a_linear_complete_chain() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(CODES[0]).await;
    let mut shops = Vec::new();
    for (i, code) in [CODES[1], CODES[2], CODES[3], MORE[0], MORE[1]]
        .iter()
        .enumerate()
    {
        let (id, _) = t.org("retailer", code, "430702").await;
        let mut conn = t.state.db.reader().unwrap();
        shops.push((
            i,
            certrail::db::models::Organization::find(&mut conn, &id)
                .unwrap()
                .unwrap(),
        ));
    }
    let issued = t.issue(&producer, &batch(&product)).await;
    let id = issued["id"].as_str().unwrap().to_string();
    let url = issued["verify_url"].as_str().unwrap().to_string();
    for (_, shop) in &shops {
        let leg = json!({"type": "shipped", "consignee": shop.id, "quantity": 10});
        let res = t
            .post(
                &format!("/api/v1/certificates/{id}/events"),
                Some(&producer),
                &leg,
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
    let state = t.state.clone();
    std::thread::scope(|scope| {
        for (_, shop) in &shops {
            for _ in 0..4 {
                let (state, id, url) = (&state, &id, &url);
                let actor = certrail::service::Actor::Org(shop.clone());
                scope.spawn(move || {
                    let event = certrail::service::custody::events::NewEvent {
                        kind: "received".into(),
                        serial: None,
                        label_url: Some(url.clone()),
                        ..Default::default()
                    };
                    certrail::service::custody::events::record(state, &actor, id, event)
                        .expect("intake recorded");
                    let sale = certrail::service::custody::events::NewEvent {
                        kind: "sold".into(),
                        serial: None,
                        label_url: None,
                        ..Default::default()
                    };
                    certrail::service::custody::events::record(state, &actor, id, sale)
                        .expect("sale recorded");
                    let label = certrail::service::verify::Label {
                        id,
                        serial: None,
                        signature: url.split("s=").nth(1),
                    };
                    certrail::service::verify::verify(
                        state,
                        &label,
                        certrail::service::verify::Source::Consumer { region: None },
                    )
                    .expect("scan");
                });
            }
        }
    });
    let trail = t
        .get(&format!("/api/v1/certificates/{id}/trail"), None)
        .await
        .json();
    assert_eq!(trail["intact"], true, "{trail}");
    let seqs: Vec<i64> = trail["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    // A leg to each shop; each shop's four identical intakes are one event; each of its four
    // sales is one.
    assert_eq!(seqs, (1..=31).collect::<Vec<_>>());
    let intakes = trail["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "received")
        .count();
    assert_eq!(intakes, 5);
    let answer = t.get_json(&path_of(&url)).await.json();
    assert_eq!(answer["verdict"], "genuine");
}

#[actix_web::test]
async fn the_trail_and_its_epcis_document_come_in_pages() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(CODES[0]).await;
    let (retailer_id, _) = t.org("retailer", CODES[1], "430702").await;
    let mut body = batch(&product);
    body["units"] = json!(120);
    let issued = t.issue(&producer, &body).await;
    let id = issued["id"].as_str().unwrap();
    for serial in 1..=120 {
        t.ship(&producer, id, &retailer_id, Some(serial)).await;
    }
    let trail = format!("/api/v1/certificates/{id}/trail");
    let first = t.get(&trail, None).await.json();
    assert_eq!(first["intact"], true);
    assert_eq!(first["total"], 121);
    assert_eq!(first["events"].as_array().unwrap().len(), 100);
    assert_eq!(first["events"][0]["seq"], 1);
    assert_eq!(first["next"], 100);
    let second = t.get(&format!("{trail}?after=100"), None).await.json();
    let seqs: Vec<i64> = second["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, (101..=121).collect::<Vec<_>>());
    assert!(second.get("next").is_none(), "{second}");
    // A page of exactly what is left has no next; one short of it has.
    let exact = t
        .get(&format!("{trail}?after=100&limit=21"), None)
        .await
        .json();
    assert!(exact.get("next").is_none());
    let short = t
        .get(&format!("{trail}?after=100&limit=20"), None)
        .await
        .json();
    assert_eq!(short["next"], 120);
    let most = t.get(&format!("{trail}?limit=500"), None).await.json();
    assert_eq!(most["events"].as_array().unwrap().len(), 121);
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("after=-1", "after"),
    ] {
        let res = t.get(&format!("{trail}?{query}"), None).await;
        assert_eq!(res.error(422, "out_of_range")["field"], field, "{query}");
    }

    // EPCIS pages the same way; the next page is named in a Link header.
    let epcis = format!("/api/v1/certificates/{id}/epcis");
    let doc = t.get(&epcis, None).await;
    let link = doc.header("link");
    assert_eq!(
        link,
        format!("<http://certrail.test{epcis}?after=100>; rel=\"next\"")
    );
    let list = doc.json()["epcisBody"]["eventList"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(list, 101, "100 trail events and the units' commissioning");
    let rest = t.get(&format!("{epcis}?after=100"), None).await;
    assert!(rest.header("link").is_empty());
    let rest = rest.json();
    assert_eq!(rest["epcisBody"]["eventList"].as_array().unwrap().len(), 21);
    assert_eq!(crate::helpers::epcis_errors(&rest), Vec::<String>::new());
}

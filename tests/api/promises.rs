//! 承诺达标合格证: a second signed payload type under its own context; lots split and merged
//! by their holders are re-issued as children naming their parents; verification checks the
//! ancestry; recalling a parent reaches every descendant and everyone who took one in.

use base64::Engine;
use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::{json, Value};

use crate::helpers::{path_of, spawn, CODES};

fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap()
}

/// A cooperative with a rice product; returns (token, product id).
pub async fn cooperative<S, B>(t: &crate::helpers::TestApp<S>) -> (String, String)
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let (_, token) = t.org("producer", CODES[0], "430721").await;
    let product = t
        .post(
            "/api/v1/products",
            Some(&token),
            &json!({"name": "大米", "model": "散装", "standard": "GB/T 1354-2018"}),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    (token, product)
}

pub fn lot(product: &str, quantity: i64) -> Value {
    json!({
        "product_id": product, "batch_no": "DX-2026-11-A", "quantity": quantity, "unit": "千克",
        "origin_region_code": "430721", "origin_place": "安乡县安障乡稻田基地",
        "issuer_kind": "cooperative", "contact": "0736-4321000", "basis": ["self_test"]
    })
}

#[actix_web::test]
async fn a_promise_is_signed_under_its_own_context_and_verifies() {
    let t = spawn().await;
    let (coop, product) = cooperative(&t).await;
    let res = t
        .post("/api/v1/promises", Some(&coop), &lot(&product, 1000))
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let issued = res.json();
    let payload = &issued["payload"];
    assert_eq!(payload["type"], "promise");
    assert_eq!(payload["v"], 1);
    assert_eq!(payload["issuer"]["kind"], "cooperative");
    assert_eq!(payload["issuer"]["contact"], "0736-4321000");
    assert_eq!(payload["origin"]["region_code"], "430721");
    assert_eq!(
        payload["promise"][0],
        "不使用禁用农药兽药、停用兽药和非法添加物"
    );
    assert_eq!(payload["batch"]["quantity"], 1000);

    // An outside verifier: JCS of the payload under "CERTRAIL-PROMISE-V1\n", and not under
    // the conformity certificate's context.
    let keys = t.get("/api/v1/keys", None).await.json();
    let key = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == issued["kid"])
        .unwrap();
    let key =
        VerifyingKey::from_bytes(&b64(key["public_key"].as_str().unwrap()).try_into().unwrap())
            .unwrap();
    let sig = Signature::from_bytes(
        &b64(issued["signature"].as_str().unwrap())
            .try_into()
            .unwrap(),
    );
    let canonical = serde_json_canonicalizer::to_string(payload).unwrap();
    let promise_message = format!("CERTRAIL-PROMISE-V1\n{canonical}");
    let cert_message = format!("CERTRAIL-CERT-V1\n{canonical}");
    assert!(key.verify_strict(promise_message.as_bytes(), &sig).is_ok());
    assert!(key.verify_strict(cert_message.as_bytes(), &sig).is_err());

    let url = issued["verify_url"].as_str().unwrap();
    let answer = t.get_json(&path_of(url)).await.json();
    assert_eq!(answer["verdict"], "genuine", "{answer}");
    assert!(answer.get("lineage").is_none());
    let page = t.get(&path_of(url), None).await.text();
    assert!(
        page.contains("承诺达标合格证"),
        "the page names the certificate"
    );
    assert!(page.contains("安乡县安障乡稻田基地"));
    assert!(page.contains("常规农药兽药残留不超标"));

    // Bad input is 422 with the field; a retailer cannot promise a new lot.
    for (field, value, code) in [
        ("issuer_kind", json!("wholesaler"), "invalid_issuer_kind"),
        ("origin_region_code", json!("999999"), "invalid_region_code"),
        ("contact", json!(" "), "required"),
        ("basis", json!(["hearsay"]), "invalid_basis"),
        ("quantity", json!(0), "out_of_range"),
    ] {
        let mut body = lot(&product, 10);
        body[field] = value;
        let res = t.post("/api/v1/promises", Some(&coop), &body).await;
        let err = res.error(422, code);
        assert!(err["field"].as_str().unwrap().starts_with(field), "{err}");
    }
    let (_, shop) = t.org("retailer", CODES[1], "430702").await;
    t.post("/api/v1/promises", Some(&shop), &lot(&product, 10))
        .await
        .error(403, "forbidden");
}

#[actix_web::test]
async fn splitting_a_lot_that_does_not_exist_is_404() {
    let t = spawn().await;
    let (_, market) = t.org("market_operator", CODES[1], "430702").await;
    // One child or several, the unknown lot is the answer (not a 422 about `parents.0.id`,
    // a field the request does not have).
    for children in [
        json!([{"batch_no": "A", "quantity": 1}]),
        json!([{"batch_no": "A", "quantity": 1}, {"batch_no": "B", "quantity": 1}]),
    ] {
        let body = json!({"contact": "x", "children": children});
        t.post(
            "/api/v1/certificates/NoSuchLot123/split",
            Some(&market),
            &body,
        )
        .await
        .error(404, "not_found");
    }
}

#[actix_web::test]
async fn a_market_splits_a_lot_merges_lots_and_a_recall_of_the_parent_reaches_every_child() {
    let t = spawn().await;
    let (coop, product) = cooperative(&t).await;
    let (market_id, market) = t.org("market_operator", CODES[1], "430702").await;
    let (stall_a_id, stall_a) = t.org("retailer", CODES[2], "430702").await;
    let (_, outsider) = t.org("wholesaler", CODES[3], "430702").await;
    let parent = t
        .post("/api/v1/promises", Some(&coop), &lot(&product, 1000))
        .await
        .json();
    let parent_id = parent["id"].as_str().unwrap();
    let parent_url = parent["verify_url"].as_str().unwrap();
    let events = format!("/api/v1/certificates/{parent_id}/events");
    let split_path = format!("/api/v1/certificates/{parent_id}/split");
    let split =
        |children: Value| json!({"contact": "市场管理处 0736-7001234", "children": children});

    // Only a holder splits: the market must take the lot in first.
    t.post(
        &split_path,
        Some(&market),
        &split(json!([{"batch_no": "A", "quantity": 400}])),
    )
    .await
    .error(403, "forbidden");
    t.post(
        &events,
        Some(&coop),
        &json!({"type": "shipped", "consignee": market_id}),
    )
    .await;
    let res = t
        .post(
            &events,
            Some(&market),
            &json!({"type": "received", "label_url": parent_url}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());

    // Children may take the whole lot (all the market holds), never more.
    t.post(
        &split_path,
        Some(&market),
        &split(json!([{"batch_no": "A", "quantity": 600}, {"batch_no": "B", "quantity": 401}])),
    )
    .await
    .error(409, "exceeds_holding");
    let res = t
        .post(
            &split_path,
            Some(&market),
            &split(json!([{"batch_no": "A", "quantity": 600}, {"batch_no": "B", "quantity": 400}])),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let children = res.json();
    let child_a = &children[0];
    let child_b = &children[1];
    assert_eq!(
        child_a["payload"]["parents"],
        json!([{"id": parent_id, "quantity": 600}])
    );
    assert_eq!(child_a["payload"]["issuer"]["kind"], "market_operator");
    assert_eq!(
        child_a["payload"]["origin"]["place"], "安乡县安障乡稻田基地",
        "origin inherited"
    );
    assert_eq!(child_a["payload"]["batch"]["unit"], "千克");
    t.post(
        &split_path,
        Some(&market),
        &split(json!([{"batch_no": "C", "quantity": 1}])),
    )
    .await
    .error(409, "nothing_held");
    // An outsider cannot re-issue what it never took in.
    let merge = json!({"batch_no": "M", "quantity": 10, "contact": "x",
                       "parents": [{"id": child_a["id"], "quantity": 10}]});
    t.post("/api/v1/promises", Some(&outsider), &merge)
        .await
        .error(403, "forbidden");

    // The child's answer shows and checks its ancestry; the parent shows its children.
    let child_url = child_a["verify_url"].as_str().unwrap();
    let answer = t.get_json(&path_of(child_url)).await.json();
    assert_eq!(answer["verdict"], "genuine");
    assert_eq!(answer["lineage"]["parents"][0]["id"], parent_id);
    assert_eq!(answer["lineage"]["parents"][0]["verdict"], "genuine");
    assert_eq!(answer["lineage"]["parents"][0]["quantity"], 600);
    let parent_answer = t.get_json(&path_of(parent_url)).await.json();
    let kids: Vec<&str> = parent_answer["lineage"]["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["batch_no"].as_str().unwrap())
        .collect();
    assert_eq!(kids, ["A", "B"]);

    // Stallholder A takes child A in and merges part of it with nothing else: a merge of one
    // parent must take exactly the quantity it states.
    let child_events = format!(
        "/api/v1/certificates/{}/events",
        child_a["id"].as_str().unwrap()
    );
    t.post(
        &child_events,
        Some(&market),
        &json!({"type": "shipped", "consignee": stall_a_id}),
    )
    .await;
    t.post(
        &child_events,
        Some(&stall_a),
        &json!({"type": "received", "label_url": child_url}),
    )
    .await;
    let mut mismatch = merge.clone();
    mismatch["quantity"] = json!(11);
    t.post("/api/v1/promises", Some(&stall_a), &mismatch)
        .await
        .error(422, "quantity_mismatch");
    let merged = t.post("/api/v1/promises", Some(&stall_a), &merge).await;
    assert_eq!(merged.status, 201, "{}", merged.text());
    let grandchild_url = merged.json()["verify_url"].as_str().unwrap().to_string();

    // In EPCIS the re-issues are TransformationEvents, the same in the parent's and the
    // child's documents, and both validate against GS1's schema.
    let epcis = |id: String| {
        let t = &t;
        async move {
            t.get(&format!("/api/v1/certificates/{id}/epcis"), None)
                .await
                .json()
        }
    };
    let parent_doc = epcis(parent_id.to_string()).await;
    let child_doc = epcis(child_a["id"].as_str().unwrap().to_string()).await;
    let transformations = |doc: &Value| -> Vec<Value> {
        doc["epcisBody"]["eventList"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "TransformationEvent")
            .cloned()
            .collect()
    };
    assert_eq!(transformations(&parent_doc).len(), 2);
    let made = transformations(&child_doc);
    assert_eq!(
        made.len(),
        2,
        "the child's own making and the merge taken from it"
    );
    let own = made
        .iter()
        .find(|e| {
            e["outputQuantityList"][0]["epcClass"]
                .as_str()
                .unwrap()
                .ends_with(child_a["id"].as_str().unwrap())
        })
        .unwrap();
    assert_eq!(own["inputQuantityList"][0]["quantity"], 600);
    assert_eq!(own["inputQuantityList"][0]["uom"], "KGM");
    assert!(own["inputQuantityList"][0]["epcClass"]
        .as_str()
        .unwrap()
        .ends_with(parent_id));
    assert!(transformations(&parent_doc).contains(own));
    for doc in [&parent_doc, &child_doc] {
        let errors = crate::helpers::epcis_errors(doc);
        assert!(errors.is_empty(), "{errors:#?}");
    }

    // Suspending the parent warns on every descendant, and the verdicts stay their own.
    let res = t
        .post(
            &format!("/api/v1/certificates/{parent_id}/suspend"),
            Some(&coop),
            &json!({"reason": "待复检"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    for url in [child_url, grandchild_url.as_str()] {
        let answer = t.get_json(&path_of(url)).await.json();
        assert_eq!(answer["verdict"], "genuine", "{answer}");
        assert!(
            answer["warnings"]
                .to_string()
                .contains("ancestor_not_genuine"),
            "{answer}"
        );
    }
    t.post(
        &format!("/api/v1/certificates/{parent_id}/reinstate"),
        Some(&coop),
        &json!({"reason": "复检合格"}),
    )
    .await;
    let answer = t.get_json(&path_of(child_url)).await.json();
    assert!(!answer["warnings"]
        .to_string()
        .contains("ancestor_not_genuine"));

    // Recalling the parent's batch recalls every descendant and reaches the stallholder.
    let recall = t
        .post(
            "/api/v1/recalls",
            Some(&coop),
            &json!({"product_id": product, "batch_no": "DX-2026-11-A", "reason": "镉超标"}),
        )
        .await;
    assert_eq!(recall.status, 201, "{}", recall.text());
    let recall = recall.json();
    assert_eq!(
        recall["certificates"].as_array().unwrap().len(),
        4,
        "{recall}"
    );
    let receivers: Vec<&str> = recall["retailers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(receivers.contains(&stall_a_id.as_str()) && receivers.contains(&market_id.as_str()));
    for url in [
        parent_url,
        child_url,
        child_b["verify_url"].as_str().unwrap(),
        grandchild_url.as_str(),
    ] {
        assert_eq!(
            t.get_json(&path_of(url)).await.json()["verdict"],
            "recalled",
            "{url}"
        );
    }
    let recall_id = recall["id"].as_str().unwrap();
    let ack = t
        .post(
            &format!("/api/v1/recalls/{recall_id}/acknowledgements"),
            Some(&stall_a),
            &json!({"quantity_removed": 10}),
        )
        .await;
    assert_eq!(ack.status, 201, "{}", ack.text());
    let kept = t.get("/api/v1/promises/kept", Some(&stall_a)).await.json();
    assert_eq!(kept[0]["batch_no"], "A", "{kept}");
    assert!(kept[0]["keep_until"].as_str().unwrap() > kept[0]["received_on"].as_str().unwrap());
}

#[actix_web::test]
async fn the_consoles_promise_split_and_list_what_to_keep() {
    use crate::console::{field, form, page, sign_in, signed_in_producer};
    let t = spawn().await;
    let (coop_session, product, coop) = signed_in_producer(&t, CODES[0], "coop.chen").await;
    let (market_id, _) = t.org("market_operator", CODES[1], "430702").await;
    let market_session = sign_in(&t, &market_id, "gate.wang").await;

    let console = t.send(page(&coop_session, "/console")).await.text();
    assert!(console.contains("开具承诺达标合格证"));
    let csrf = field(&console, "csrf_token");
    let res = t
        .send(form(
            &coop_session,
            "/console/promises",
            &[
                ("csrf_token", &csrf),
                ("product_id", &product),
                ("batch_no", "DX-9"),
                ("quantity", "500"),
                ("unit", "千克"),
                ("origin_region_code", "430721"),
                ("origin_place", "安乡县稻田基地"),
                ("issuer_kind", "cooperative"),
                ("contact", "0736-1"),
            ],
        ))
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let record = res.header("location");
    let parent_id = record.trim_start_matches("/c/").to_string();
    let public = t.get(&record, None).await.text();
    assert!(
        public.contains("承诺达标合格证") && public.contains("DX-9"),
        "{public}"
    );

    let parent = t
        .get_json(&format!("/api/v1/certificates/{parent_id}/trail"))
        .await;
    assert_eq!(parent.status, 200);
    let events = format!("/api/v1/certificates/{parent_id}/events");
    t.post(
        &events,
        Some(&coop),
        &json!({"type": "shipped", "consignee": market_id}),
    )
    .await;
    let label = format!("/api/v1/certificates/{parent_id}/qr.svg");
    assert_eq!(t.get(&label, None).await.status, 200);
    // The market takes the lot in from its console and splits it there.
    let gate = t.send(page(&market_session, "/console")).await.text();
    let gate_csrf = field(&gate, "csrf_token");
    // The batch label as printed (an answer without `s` does not hand out the signature).
    let png = t
        .get(&format!("/api/v1/certificates/{parent_id}/qr.png"), None)
        .await;
    let url = crate::labels::decode_png(&png.body);
    let res = t
        .send(form(
            &market_session,
            "/console/intake",
            &[("csrf_token", &gate_csrf), ("label_url", &url)],
        ))
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let res = t
        .send(form(
            &market_session,
            "/console/split",
            &[
                ("csrf_token", &gate_csrf),
                ("certificate", &url),
                ("children", "DX-9-A, 300\nDX-9-B，200"),
                ("contact", "市场管理处"),
            ],
        ))
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let gate = t
        .send(page(&market_session, "/console?done=split"))
        .await
        .text();
    assert!(gate.contains("已重新开具"));
    assert!(
        gate.contains("DX-9"),
        "the keeping list names the lot taken in"
    );
    let record = t.get(&format!("/c/{parent_id}"), None).await.text();
    assert!(
        record.contains("DX-9-A") && record.contains("DX-9-B"),
        "the parent shows its children"
    );
}

#[actix_web::test]
async fn only_real_holders_re_issue_and_a_re_issue_keeps_what_its_parents_said() {
    let t = spawn().await;
    let (coop, product) = cooperative(&t).await;
    let (market_id, market) = t.org("market_operator", CODES[1], "430702").await;
    let (_, squatter) = t.org("wholesaler", CODES[2], "430702").await;
    let parent = t
        .post("/api/v1/promises", Some(&coop), &lot(&product, 1000))
        .await
        .json();
    let parent_id = parent["id"].as_str().unwrap();
    let events = format!("/api/v1/certificates/{parent_id}/events");
    let split_path = format!("/api/v1/certificates/{parent_id}/split");
    let split = json!({"contact": "x", "children": [{"batch_no": "S", "quantity": 10}]});

    // Recording an intake of a guessed id (no signature) is kept, as a failed check in a claim
    // nobody can confirm, and makes nobody a holder: no split, no onward shipment.
    let guessed = format!("{}/v/{parent_id}", crate::helpers::PUBLIC_URL);
    let res = t
        .post(
            &events,
            Some(&squatter),
            &json!({"type": "received", "label_url": guessed}),
        )
        .await;
    assert_eq!(res.status, 202, "{}", res.text());
    assert_eq!(res.json()["label"]["verdict"], "forged");
    t.post(&split_path, Some(&squatter), &split)
        .await
        .error(403, "forbidden");
    t.post(
        &events,
        Some(&squatter),
        &json!({"type": "shipped", "consignee": market_id}),
    )
    .await
    .error(403, "forbidden");

    // The market takes the lot in along a shipment: it holds it.
    t.post(
        &events,
        Some(&coop),
        &json!({"type": "shipped", "consignee": market_id}),
    )
    .await;
    t.post(
        &events,
        Some(&market),
        &json!({"type": "received", "label_url": parent["verify_url"]}),
    )
    .await;
    let merge = |extra: Value| {
        let mut body = json!({"batch_no": "M", "quantity": 10, "contact": "x",
                              "parents": [{"id": parent_id, "quantity": 10}]});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    for (extra, code) in [
        (json!({"unit": "吨"}), "unit_mismatch"),
        (json!({"product_name": "优质大米"}), "product_mismatch"),
        (json!({"issuer_kind": "farm"}), "invalid_issuer_kind"),
    ] {
        t.post("/api/v1/promises", Some(&market), &merge(extra))
            .await
            .error(422, code);
    }
    let ok = t
        .post(
            "/api/v1/promises",
            Some(&market),
            &merge(json!({"unit": "千克"})),
        )
        .await;
    assert_eq!(ok.status, 201, "{}", ok.text());
    assert_eq!(ok.json()["payload"]["issuer"]["kind"], "market_operator");
}

#[actix_web::test]
async fn lineages_stop_at_sixteen_generations_and_a_recall_reaches_the_deepest() {
    let t = spawn().await;
    let (coop, product) = cooperative(&t).await;
    let root = t
        .post("/api/v1/promises", Some(&coop), &lot(&product, 1000))
        .await
        .json();
    let mut lots = vec![root["id"].as_str().unwrap().to_string()];
    for generation in 1..=16 {
        let res = t
            .post(
                &format!("/api/v1/certificates/{}/split", lots.last().unwrap()),
                Some(&coop),
                &json!({"contact": "x", "children": [{"batch_no": format!("G{generation}"), "quantity": 1}]}),
            )
            .await;
        assert_eq!(res.status, 201, "generation {generation}: {}", res.text());
        lots.push(res.json()[0]["id"].as_str().unwrap().to_string());
    }
    t.post(
        &format!("/api/v1/certificates/{}/split", lots.last().unwrap()),
        Some(&coop),
        &json!({"contact": "x", "children": [{"batch_no": "G17", "quantity": 1}]}),
    )
    .await
    .error(409, "too_many_generations");
    let recall = t
        .post(
            "/api/v1/recalls",
            Some(&coop),
            &json!({"product_id": product, "batch_no": "DX-2026-11-A", "reason": "镉超标"}),
        )
        .await;
    assert_eq!(recall.status, 201, "{}", recall.text());
    assert_eq!(recall.json()["certificates"].as_array().unwrap().len(), 17);
    let deepest = t
        .get_json(&format!("/v/{}", lots.last().unwrap()))
        .await
        .json();
    assert_eq!(deepest["certificate"]["status"], "recalled");
}

//! Custody is given, never taken: a party holds goods only along a leg shipped to it, or
//! through an intake its previous holder (or a regulator) confirms; what each holder re-issues
//! or ships on is bounded by what it took in less what it passed on; a stranger's intake (a
//! claim) changes no consumer's answer and shows none of its words in public.

use serde_json::{json, Value};

use crate::helpers::{code, path_of, spawn, PUBLIC_URL};
use crate::promises::{cooperative, lot};

fn split(quantity: i64) -> Value {
    json!({"contact": "x", "children": [{"batch_no": "S", "quantity": quantity}]})
}

#[actix_web::test]
async fn a_lot_cannot_be_taken_over_with_its_public_label() {
    let t = spawn().await;
    let (coop, product) = cooperative(&t).await;
    let (market_id, market) = t.org("market_operator", &code(1), "430702").await;
    let (_, thief) = t.org("wholesaler", &code(2), "430702").await;
    let parent = t
        .post("/api/v1/promises", Some(&coop), &lot(&product, 1000))
        .await
        .json();
    let id = parent["id"].as_str().unwrap();
    let label = parent["verify_url"].as_str().unwrap();
    let events = format!("/api/v1/certificates/{id}/events");
    let split_path = format!("/api/v1/certificates/{id}/split");

    // The thief scans the genuine public label in: a claim, not custody, and not on the trail.
    let res = t
        .post(
            &events,
            Some(&thief),
            &json!({"type": "received", "label_url": label, "note": "bought it"}),
        )
        .await;
    assert_eq!(res.status, 202, "{}", res.text());
    let body = res.json();
    assert!(body.get("event").is_none(), "{body}");
    assert_eq!(body["claim"]["status"], "pending");
    assert_eq!(body["label"]["verdict"], "genuine");
    let trail = t
        .get_json(&format!("/api/v1/certificates/{id}/trail"))
        .await
        .json();
    assert_eq!(trail["events"].as_array().unwrap().len(), 1, "{trail}");
    // Scanning again is the same claim.
    let again = t
        .post(
            &events,
            Some(&thief),
            &json!({"type": "received", "label_url": label}),
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json()["claim"]["id"], body["claim"]["id"]);

    // It holds nothing: no split, no onward shipment.
    t.post(&split_path, Some(&thief), &split(10))
        .await
        .error(403, "forbidden");
    t.post(
        &events,
        Some(&thief),
        &json!({"type": "shipped", "consignee": market_id, "quantity": 10}),
    )
    .await
    .error(403, "forbidden");

    // The real consignee's split is never blocked by anyone else's.
    let shipped = t
        .post(
            &events,
            Some(&coop),
            &json!({"type": "shipped", "consignee": market_id, "quantity": 600}),
        )
        .await;
    assert_eq!(shipped.status, 201, "{}", shipped.text());
    t.post(
        &events,
        Some(&market),
        &json!({"type": "received", "label_url": label}),
    )
    .await;
    t.post(&split_path, Some(&market), &split(601))
        .await
        .error(409, "exceeds_holding");
    let ok = t.post(&split_path, Some(&market), &split(600)).await;
    assert_eq!(ok.status, 201, "{}", ok.text());
    t.post(&split_path, Some(&market), &split(1))
        .await
        .error(409, "nothing_held");

    // The issuer holds what it kept (400): neither its split nor its shipments go beyond.
    t.post(&split_path, Some(&coop), &split(401))
        .await
        .error(409, "exceeds_holding");
    let (other_id, _) = t.org("retailer", &code(3), "430702").await;
    t.post(
        &events,
        Some(&coop),
        &json!({"type": "shipped", "consignee": other_id, "quantity": 401}),
    )
    .await
    .error(409, "exceeds_holding");
    // A shipment without a quantity carries all the shipper holds, and then nothing is left.
    let rest = t
        .post(
            &events,
            Some(&coop),
            &json!({"type": "shipped", "consignee": other_id}),
        )
        .await;
    assert_eq!(rest.status, 201, "{}", rest.text());
    assert_eq!(rest.json()["event"]["details"]["quantity"], 400);
    t.post(&split_path, Some(&coop), &split(1))
        .await
        .error(409, "nothing_held");
}

#[actix_web::test]
async fn a_refused_leg_returns_the_goods_to_the_shipper() {
    let t = spawn().await;
    let (coop, product) = cooperative(&t).await;
    let (market_id, market) = t.org("market_operator", &code(1), "430702").await;
    let parent = t
        .post("/api/v1/promises", Some(&coop), &lot(&product, 100))
        .await
        .json();
    let id = parent["id"].as_str().unwrap();
    let events = format!("/api/v1/certificates/{id}/events");
    let split_path = format!("/api/v1/certificates/{id}/split");
    t.post(
        &events,
        Some(&coop),
        &json!({"type": "shipped", "consignee": market_id, "quantity": 100}),
    )
    .await;
    // In transit: the shipper holds none of it.
    t.post(&split_path, Some(&coop), &split(1))
        .await
        .error(409, "nothing_held");
    t.post(
        &events,
        Some(&market),
        &json!({"type": "rejected", "reason": "包装破损"}),
    )
    .await;
    let back = t.post(&split_path, Some(&coop), &split(100)).await;
    assert_eq!(back.status, 201, "{}", back.text());
}

#[actix_web::test]
async fn a_hand_over_nobody_recorded_counts_once_its_source_confirms_it() {
    let t = spawn().await;
    let (coop, product) = cooperative(&t).await;
    let (stall_id, stall) = t.org("retailer", &code(1), "430702").await;
    let (_, stranger) = t.org("retailer", &code(2), "430702").await;
    let (_, regulator) = t.org("regulator", &code(3), "430700").await;
    let parent = t
        .post("/api/v1/promises", Some(&coop), &lot(&product, 1000))
        .await
        .json();
    let id = parent["id"].as_str().unwrap();
    let label = parent["verify_url"].as_str().unwrap();
    let events = format!("/api/v1/certificates/{id}/events");

    let res = t
        .post(
            &events,
            Some(&stall),
            &json!({"type": "received", "label_url": label, "quantity": 100, "note": "早市现货"}),
        )
        .await;
    assert_eq!(res.status, 202, "{}", res.text());
    let claim = res.json()["claim"].clone();
    let claim_id = claim["id"].as_str().unwrap();
    assert_eq!(claim["claimant"]["id"], stall_id);
    assert_eq!(claim["quantity"], 100);

    // The source (the issuer, by default) sees it waiting, with the note; a stranger does not.
    let pending = t
        .get("/api/v1/claims?status=pending", Some(&coop))
        .await
        .json();
    assert_eq!(pending[0]["id"], claim_id, "{pending}");
    assert_eq!(pending[0]["note"], "早市现货");
    let none = t.get("/api/v1/claims", Some(&stranger)).await.json();
    assert_eq!(none, json!([]));
    t.get("/api/v1/claims?status=maybe", Some(&coop))
        .await
        .error(422, "invalid_status");

    // Only the source or a regulator of the region decides it.
    let confirm = format!("/api/v1/claims/{claim_id}/confirm");
    t.post(&confirm, Some(&stranger), &json!({}))
        .await
        .error(403, "forbidden");
    t.post(&confirm, Some(&stall), &json!({}))
        .await
        .error(403, "forbidden");
    t.post(&confirm, Some(&coop), &json!({"quantity": 1001}))
        .await
        .error(422, "out_of_range");
    let done = t.post(&confirm, Some(&coop), &json!({})).await;
    assert_eq!(done.status, 200, "{}", done.text());
    assert_eq!(done.json()["status"], "confirmed");
    t.post(&confirm, Some(&regulator), &json!({}))
        .await
        .error(409, "claim_decided");

    // The intake is on the trail now, on a leg from the coop; the note stays private.
    let trail = t
        .get_json(&format!("/api/v1/certificates/{id}/trail"))
        .await;
    let text = trail.text();
    assert!(!text.contains("早市现货"), "{text}");
    let last = trail.json()["events"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["type"], "received");
    assert_eq!(last["actor"]["id"], stall_id);
    assert_eq!(last["details"]["quantity"], 100);
    assert_eq!(
        last["details"]["confirmed_by_name"],
        last["details"]["from_name"]
    );

    // The stall holds 100 and the coop 900.
    let stall_split = format!("/api/v1/certificates/{id}/split");
    t.post(&stall_split, Some(&stall), &split(101))
        .await
        .error(409, "exceeds_holding");
    assert_eq!(
        t.post(&stall_split, Some(&stall), &split(100)).await.status,
        201
    );
    t.post(&stall_split, Some(&coop), &split(901))
        .await
        .error(409, "exceeds_holding");

    // A claim beyond what the source holds cannot be confirmed.
    let big = t
        .post(
            &events,
            Some(&stranger),
            &json!({"type": "received", "label_url": label, "quantity": 950}),
        )
        .await
        .json()["claim"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    t.post(
        &format!("/api/v1/claims/{big}/confirm"),
        Some(&regulator),
        &json!({}),
    )
    .await
    .error(409, "source_not_holding");
}

#[actix_web::test]
async fn a_disputed_claim_is_kept_for_the_issuer_and_the_regulator() {
    let t = spawn().await;
    let (coop, product) = cooperative(&t).await;
    let (_, stall) = t.org("retailer", &code(1), "430702").await;
    let (_, regulator) = t.org("regulator", &code(3), "430700").await;
    let (_, far_regulator) = t.org("regulator", &code(4), "110000").await;
    let parent = t
        .post("/api/v1/promises", Some(&coop), &lot(&product, 1000))
        .await
        .json();
    let id = parent["id"].as_str().unwrap();
    let claim = t
        .post(
            &format!("/api/v1/certificates/{id}/events"),
            Some(&stall),
            &json!({"type": "received", "label_url": parent["verify_url"]}),
        )
        .await
        .json()["claim"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // It named no quantity: confirming it needs one, never "all the source holds".
    t.post(
        &format!("/api/v1/claims/{claim}/confirm"),
        Some(&regulator),
        &json!({}),
    )
    .await
    .error(422, "required");
    let dispute = format!("/api/v1/claims/{claim}/dispute");
    t.post(&dispute, Some(&far_regulator), &json!({"reason": "x"}))
        .await
        .error(403, "forbidden");
    t.post(&dispute, Some(&coop), &json!({}))
        .await
        .error(422, "required");
    let res = t
        .post(
            &dispute,
            Some(&coop),
            &json!({"reason": "我们没有卖给这家"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["status"], "disputed");
    t.post(
        &format!("/api/v1/claims/{claim}/confirm"),
        Some(&regulator),
        &json!({}),
    )
    .await
    .error(409, "claim_decided");
    let seen = t
        .get("/api/v1/claims?status=disputed", Some(&regulator))
        .await
        .json();
    assert_eq!(seen[0]["id"], claim, "{seen}");
    assert_eq!(seen[0]["reason"], "我们没有卖给这家");
    let far = t.get("/api/v1/claims", Some(&far_regulator)).await.json();
    assert_eq!(far, json!([]));
    let issuer = t
        .get("/api/v1/claims?status=disputed", Some(&coop))
        .await
        .json();
    assert_eq!(issuer[0]["id"], claim);
}

#[actix_web::test]
async fn strangers_never_change_what_consumers_see() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(&code(0)).await;
    let (_, stranger) = t.org("retailer", &code(1), "430702").await;
    let (_, other) = t.org("retailer", &code(2), "430702").await;
    let mut body = crate::helpers::batch(&product);
    body["units"] = json!(10);
    let cert = t.issue(&producer, &body).await;
    let id = cert["id"].as_str().unwrap();
    let label = cert["verify_url"].as_str().unwrap();
    let events = format!("/api/v1/certificates/{id}/events");
    let before = t.get_json(&path_of(label)).await.json();

    // A failed label and a slur; then an absent signature.
    let forged = format!("{PUBLIC_URL}/v/{id}?s={}", "A".repeat(86));
    let res = t
        .post(
            &events,
            Some(&stranger),
            &json!({"type": "received", "label_url": forged, "note": "Counterfeit batch, do not buy"}),
        )
        .await;
    assert_eq!(res.status, 202, "{}", res.text());
    let claim = res.json()["claim"]["id"].as_str().unwrap().to_string();
    let bare = format!("{PUBLIC_URL}/v/{id}");
    assert_eq!(
        t.post(
            &events,
            Some(&other),
            &json!({"type": "received", "label_url": bare, "note": "Counterfeit"})
        )
        .await
        .status,
        202
    );
    // Unit intakes need the unit's own label: the public batch label with a serial is refused.
    for who in [&stranger, &other] {
        t.post(
            &events,
            Some(who),
            &json!({"type": "received", "label_url": label, "serial": 5}),
        )
        .await
        .error(422, "unit_label_required");
    }
    // A claim whose label failed is never turned into custody.
    let (_, regulator) = t.org("regulator", &code(3), "430700").await;
    t.post(
        &format!("/api/v1/claims/{claim}/confirm"),
        Some(&regulator),
        &json!({}),
    )
    .await
    .error(409, "label_not_genuine");

    // The consumer's answer, the trail, the public record and the page are as before.
    let after = t.get_json(&path_of(label)).await;
    let answer = after.json();
    assert_eq!(answer["verdict"], "genuine");
    assert_eq!(answer["warnings"], before["warnings"], "{answer}");
    assert_eq!(answer["trail"], before["trail"]);
    for path in [
        path_of(label),
        format!("/api/v1/certificates/{id}/trail"),
        format!("/api/v1/certificates/{id}/epcis"),
    ] {
        let text = t.get(&path, None).await.text();
        assert!(!text.contains("Counterfeit"), "{path}: {text}");
    }
}

#[actix_web::test]
async fn a_merged_lot_keeps_the_origin_its_parents_share() {
    let t = spawn().await;
    let (coop, product) = cooperative(&t).await;
    let parent = t
        .post("/api/v1/promises", Some(&coop), &lot(&product, 100))
        .await
        .json();
    let id = parent["id"].as_str().unwrap();
    let child = |extra: Value| {
        let mut body = json!({"batch_no": "M", "quantity": 10, "contact": "x",
                              "parents": [{"id": id, "quantity": 10}]});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    t.post(
        "/api/v1/promises",
        Some(&coop),
        &child(json!({"origin_region_code": "430102", "origin_place": "长沙"})),
    )
    .await
    .error(422, "origin_mismatch");
    let same = t
        .post(
            "/api/v1/promises",
            Some(&coop),
            &child(json!({"origin_region_code": "430721", "origin_place": "安乡县安障乡稻田基地"})),
        )
        .await;
    assert_eq!(same.status, 201, "{}", same.text());
    let kept = t
        .post("/api/v1/promises", Some(&coop), &child(json!({})))
        .await;
    assert_eq!(kept.status, 201, "{}", kept.text());
    assert_eq!(kept.json()["payload"]["origin"]["region_code"], "430721");
}

#[actix_web::test]
async fn the_consoles_show_claims_to_their_source_and_regulator_who_decide_them() {
    use crate::console::{field, form, page, sign_in, signed_in_producer};
    let t = spawn().await;
    let (farm, product, farm_token) = signed_in_producer(&t, &code(0), "farm.desk").await;
    let (stall_id, stall) = t.org("retailer", &code(1), "430702").await;
    let (regulator_id, _) = t.org("regulator", &code(3), "430700").await;
    let cert = t.issue(&farm_token, &crate::helpers::batch(&product)).await;
    let id = cert["id"].as_str().unwrap();
    let mut claim_ids = Vec::new();
    for note in ["早市 <b>现货</b>", "second"] {
        let other = t.issue(&farm_token, &crate::helpers::batch(&product)).await;
        let target = if note == "second" {
            other
        } else {
            cert.clone()
        };
        let res = t
            .post(
                &format!(
                    "/api/v1/certificates/{}/events",
                    target["id"].as_str().unwrap()
                ),
                Some(&stall),
                &json!({"type": "received", "label_url": target["verify_url"], "note": note}),
            )
            .await;
        claim_ids.push(res.json()["claim"]["id"].as_str().unwrap().to_string());
    }

    // The farm (the source) sees both with their notes, escaped, and a button for each.
    let html = t.send(page(&farm, "/console")).await.text();
    assert!(html.contains("早市 &#60;b&#62;现货"), "{html}");
    assert!(!html.contains("<b>现货"), "escaped");
    for claim in &claim_ids {
        assert!(
            html.contains(&format!("/console/claims/{claim}/confirm")),
            "{html}"
        );
    }
    let csrf = field(&html, "csrf_token");
    let res = t
        .send(form(
            &farm,
            &format!("/console/claims/{}/confirm", claim_ids[0]),
            &[("csrf_token", &csrf), ("quantity", "100")],
        ))
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let trail = t
        .get(&format!("/api/v1/certificates/{id}/trail"), None)
        .await
        .json();
    assert_eq!(trail["events"][1]["type"], "received");
    assert_eq!(trail["events"][1]["actor"]["id"], stall_id);

    // The stall sees its claims but decides none of them.
    let stall_html = t
        .send(page(
            &sign_in(&t, &stall_id, "stall.desk").await,
            "/console",
        ))
        .await;
    let stall_html = stall_html.text();
    assert!(stall_html.contains("已确认"), "{stall_html}");
    assert!(!stall_html.contains("/console/claims/"), "{stall_html}");

    // The regulator disputes the other on its oversight page, with a reason.
    let regulator = sign_in(&t, &regulator_id, "inspector").await;
    let html = t.send(page(&regulator, "/console/oversight")).await.text();
    let dispute = format!("/console/claims/{}/dispute", claim_ids[1]);
    assert!(html.contains(&dispute), "{html}");
    let csrf = field(&html, "csrf_token");
    let res = t
        .send(form(
            &regulator,
            &dispute,
            &[("csrf_token", &csrf), ("reason", "无交易凭证")],
        ))
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let listed = t
        .get("/api/v1/claims?status=disputed", Some(&farm_token))
        .await
        .json();
    assert_eq!(listed[0]["reason"], "无交易凭证", "{listed}");
}

#[actix_web::test]
async fn units_shipped_from_a_share_count_against_it() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(&code(0)).await;
    let (wholesaler_id, wholesaler) = t.org("wholesaler", &code(1), "430702").await;
    let (shop_id, shop) = t.org("retailer", &code(2), "430702").await;
    let (other_id, other) = t.org("retailer", &code(3), "430702").await;
    let mut body = crate::helpers::batch(&product);
    body["units"] = json!(10);
    body["quantity"] = json!(10);
    let cert = t.issue(&producer, &body).await;
    let id = cert["id"].as_str().unwrap();
    let events = format!("/api/v1/certificates/{id}/events");
    let ship = |holder: &str, body: Value| {
        let (t, events, holder) = (&t, events.clone(), holder.to_string());
        async move { t.post(&events, Some(&holder), &body).await }
    };

    // The wholesaler is given one of the ten: it ships one unit from its share, not two.
    let one = ship(
        &producer,
        json!({"type": "shipped", "consignee": wholesaler_id, "quantity": 1}),
    )
    .await;
    assert_eq!(one.status, 201, "{}", one.text());
    let intake = t
        .post(
            &events,
            Some(&wholesaler),
            &json!({"type": "received", "label_url": cert["verify_url"]}),
        )
        .await;
    assert_eq!(intake.status, 201, "{}", intake.text());
    let first = ship(
        &wholesaler,
        json!({"type": "shipped", "serial": 1, "consignee": shop_id}),
    )
    .await;
    assert_eq!(first.status, 201, "{}", first.text());
    ship(
        &wholesaler,
        json!({"type": "shipped", "serial": 2, "consignee": shop_id}),
    )
    .await
    .error(409, "nothing_held");

    // The shop holds unit 1 and ships that unit on, and no other.
    let unit1 = crate::labels::decode_png(
        &t.get(
            &format!("/api/v1/certificates/{id}/units/1/qr.png"),
            Some(&producer),
        )
        .await
        .body,
    );
    let took = t
        .post(
            &events,
            Some(&shop),
            &json!({"type": "received", "label_url": unit1}),
        )
        .await;
    assert_eq!(took.status, 201, "{}", took.text());
    ship(
        &shop,
        json!({"type": "shipped", "serial": 3, "consignee": other_id}),
    )
    .await
    .error(403, "forbidden");
    let on = ship(
        &shop,
        json!({"type": "shipped", "serial": 1, "consignee": other_id}),
    )
    .await;
    assert_eq!(on.status, 201, "{}", on.text());

    // The issuer ships the other nine from its share; then none is left, unit or lot.
    let nine = ship(
        &producer,
        json!({"type": "shipped", "consignee": other_id, "quantity": 9}),
    )
    .await;
    assert_eq!(nine.status, 201, "{}", nine.text());
    ship(
        &producer,
        json!({"type": "shipped", "serial": 4, "consignee": shop_id}),
    )
    .await
    .error(409, "nothing_held");

    // A holder of the lot records its units one by one without a leg each: events, not claims;
    // a unit taken in with a failed label never counts as taken in by it.
    let forged = format!("{PUBLIC_URL}/v/{id}/5?s={}", "A".repeat(86));
    let res = t
        .post(
            &events,
            Some(&other),
            &json!({"type": "received", "label_url": cert["verify_url"]}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    for who in [&other, &wholesaler] {
        let res = t
            .post(
                &events,
                Some(who),
                &json!({"type": "received", "label_url": forged}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
        assert_eq!(res.json()["label"]["verdict"], "forged");
    }
    let unit5 = crate::labels::decode_png(
        &t.get(
            &format!("/api/v1/certificates/{id}/units/5/qr.png"),
            Some(&producer),
        )
        .await
        .body,
    );
    let answer = t.get_json(&path_of(&unit5)).await.json();
    let warned = answer["warnings"].to_string();
    assert!(
        !warned.contains("received_by_several_retailers"),
        "{answer}"
    );
}

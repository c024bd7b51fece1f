//! Every link of the chain: wholesalers and market operators take goods in and ship them on,
//! each leg closed by the named consignee's intake or refusal; an intake nobody shipped to is
//! a copy signal; the consumer page shows where the goods went; reports count each tier.

use serde_json::{json, Value};

use crate::console::{field, form, page, sign_in, signed_in_producer};
use crate::helpers::{batch, code, path_of, spawn, CODES};

fn event(kind: &str) -> Value {
    json!({"type": kind})
}

#[actix_web::test]
async fn goods_travel_through_a_wholesaler_and_a_market_each_leg_closed_by_its_consignee() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(CODES[0]).await;
    let (wholesaler_id, wholesaler) = t.org("wholesaler", CODES[1], "430702").await;
    let (market_id, market) = t.org("market_operator", CODES[2], "430703").await;
    let cert = t.issue(&producer, &batch(&product)).await;
    let id = cert["id"].as_str().unwrap();
    let url = cert["verify_url"].as_str().unwrap();
    let events = format!("/api/v1/certificates/{id}/events");

    // A stallholder sells under the market; the admin names the market when registering it.
    let res = t
        .post(
            "/api/v1/organizations",
            Some(&t.admin),
            &json!({"kind": "retailer", "name": "摊位 A12", "credit_code": CODES[3],
                    "region_code": "430703", "address": "常德农产品批发市场 A12", "market_id": market_id}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.json()["market_id"], market_id);
    let stall_id = res.json()["id"].as_str().unwrap().to_string();
    let stall = t
        .post(
            &format!("/api/v1/organizations/{stall_id}/tokens"),
            Some(&t.admin),
            &json!({}),
        )
        .await
        .json()["token"]
        .as_str()
        .unwrap()
        .to_string();

    // Producer → wholesaler, 600 of the 1,200 bags.
    let shipped = t
        .post(
            &events,
            Some(&producer),
            &json!({"type": "shipped", "consignee": wholesaler_id, "quantity": 600}),
        )
        .await;
    assert_eq!(shipped.status, 201, "{}", shipped.text());
    let details = &shipped.json()["event"]["details"];
    assert_eq!(details["consignee"], wholesaler_id);
    assert_eq!(details["quantity"], 600);
    let incoming = t.get("/api/v1/shipments", Some(&wholesaler)).await.json();
    assert_eq!(incoming["incoming"][0]["certificate_id"], id);
    assert_eq!(incoming["incoming"][0]["quantity"], 600);

    // The wholesaler cannot ship on what it has not taken in.
    let early = t
        .post(
            &events,
            Some(&wholesaler),
            &json!({"type": "shipped", "consignee": market_id}),
        )
        .await;
    early.error(403, "forbidden");

    let received = t
        .post(
            &events,
            Some(&wholesaler),
            &json!({"type": "received", "label_url": url}),
        )
        .await;
    assert_eq!(received.status, 201, "{}", received.text());
    assert_eq!(received.json()["event"]["details"]["shipped_seq"], 2);
    let legs = t.get("/api/v1/shipments", Some(&wholesaler)).await.json();
    assert_eq!(legs["incoming"], json!([]), "the intake closed the leg");

    // Wholesaler → market: the market refuses the goods, and the wholesaler sees why.
    t.post(
        &events,
        Some(&wholesaler),
        &json!({"type": "shipped", "consignee": market_id, "quantity": 300}),
    )
    .await;
    let unreasoned = t
        .post(&events, Some(&market), &json!({"type": "rejected"}))
        .await;
    assert_eq!(unreasoned.error(422, "required")["field"], "reason");
    let refused = t
        .post(
            &events,
            Some(&market),
            &json!({"type": "rejected", "label_url": url, "reason": "包装破损，数量不符"}),
        )
        .await;
    assert_eq!(refused.status, 201, "{}", refused.text());
    assert_eq!(refused.json()["label"]["verdict"], "genuine");
    let again = t
        .post(
            &events,
            Some(&market),
            &json!({"type": "rejected", "reason": "again"}),
        )
        .await;
    again.error(409, "no_open_shipment");
    let sender = t.get("/api/v1/shipments", Some(&wholesaler)).await.json();
    assert_eq!(sender["rejected"][0]["reason"], "包装破损，数量不符");
    assert_eq!(
        sender["rejected"][0]["party"],
        format!("market_operator 常德 {}", CODES[2])
    );

    // Wholesaler → stallholder, who takes it in and sells.
    t.post(
        &events,
        Some(&wholesaler),
        &json!({"type": "shipped", "consignee": stall_id}),
    )
    .await;
    let stall_in = t
        .post(
            &events,
            Some(&stall),
            &json!({"type": "received", "label_url": url}),
        )
        .await;
    assert_eq!(stall_in.status, 201, "{}", stall_in.text());
    assert!(stall_in.json()["event"]["details"]
        .get("unexpected")
        .is_none());
    let sold = t.post(&events, Some(&stall), &event("sold")).await;
    assert_eq!(sold.status, 201, "{}", sold.text());

    let answer = t.get_json(&path_of(url)).await.json();
    assert_eq!(answer["verdict"], "genuine");
    let kinds: Vec<&str> = answer["trail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["issued", "shipped", "received", "shipped", "rejected", "shipped", "received", "sold"]
    );
    let codes: Vec<&str> = answer["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap())
        .collect();
    assert!(!codes.contains(&"received_without_shipment"), "{codes:?}");

    // In EPCIS each shipment names its consignee, a refusal is an arrival not taken in, and
    // the document validates against GS1's schema.
    let doc = t
        .get(&format!("/api/v1/certificates/{id}/epcis"), None)
        .await
        .json();
    let list = doc["epcisBody"]["eventList"].as_array().unwrap().clone();
    assert!(list[1]["destinationList"][0]["destination"]
        .as_str()
        .unwrap()
        .ends_with(&wholesaler_id));
    assert_eq!(list[4]["bizStep"], "arriving");
    let errors = crate::helpers::epcis_errors(&doc);
    assert!(errors.is_empty(), "{errors:#?}");

    // The consumer's page shows the chain as places and names.
    let html = t.get(&path_of(url), None).await.text();
    assert!(html.contains("拒收"), "{html}");
    assert!(html.contains(&format!("发往 wholesaler 常德 {}", CODES[1])));
    assert!(
        html.contains("常德农产品批发市场 A12"),
        "the stallholder's place"
    );

    // The regulator's report counts each tier's legs.
    let (_, regulator) = t.org("regulator", &code(40), "430700").await;
    let report = t.get("/api/v1/reports", Some(&regulator)).await;
    assert_eq!(report.status, 200, "{}", report.text());
    let tiers = report.json()["by_tier"].clone();
    let tier = |name: &str| {
        tiers
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["tier"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(tier("wholesale")["legs_shipped"], 1);
    assert_eq!(tier("wholesale")["legs_received"], 1);
    assert_eq!(tier("market")["legs_rejected"], 1);
    assert_eq!(tier("retail")["legs_received"], 1);
}

#[actix_web::test]
async fn an_intake_nobody_shipped_to_waits_as_a_claim_and_warns_no_consumer() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(CODES[0]).await;
    let (wholesaler_id, _) = t.org("wholesaler", CODES[1], "430702").await;
    let (stranger_id, stranger) = t.org("retailer", CODES[2], "440106").await;

    let cert = t.issue(&producer, &batch(&product)).await;
    let id = cert["id"].as_str().unwrap();
    let url = cert["verify_url"].as_str().unwrap();
    let events = format!("/api/v1/certificates/{id}/events");
    t.ship(&producer, id, &wholesaler_id, None).await;
    let before = t.get_json(&path_of(url)).await.json();
    let res = t
        .post(
            &events,
            Some(&stranger),
            &json!({"type": "received", "label_url": url}),
        )
        .await;
    assert_eq!(res.status, 202, "{}", res.text());
    assert_eq!(res.json()["claim"]["status"], "pending");
    let answer = t.get_json(&path_of(url)).await.json();
    assert_eq!(answer["verdict"], "genuine");
    assert_eq!(answer["warnings"], before["warnings"], "{answer}");
    assert_eq!(answer["trail"], before["trail"]);
    // The producer (the claim's source) sees who says it took the goods in.
    let claims = t.get("/api/v1/claims", Some(&producer)).await.json();
    assert_eq!(claims[0]["claimant"]["id"], stranger_id, "{claims}");
}

#[actix_web::test]
async fn shipments_name_a_real_consignee_and_a_quantity_within_the_batch() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(CODES[0]).await;
    let (wholesaler_id, wholesaler) = t.org("wholesaler", CODES[1], "430702").await;
    let (other_producer, _) = t.org("producer", CODES[2], "430702").await;
    let (_, regulator) = t.org("regulator", CODES[3], "430700").await;
    let cert = t.issue(&producer, &batch(&product)).await;
    let events = format!(
        "/api/v1/certificates/{}/events",
        cert["id"].as_str().unwrap()
    );
    let ship = |body: Value| {
        let (t, events, producer) = (&t, &events, &producer);
        async move { t.post(events, Some(producer), &body).await }
    };
    for (consignee, why) in [
        ("nobody-at-all", "unknown id"),
        (other_producer.as_str(), "a producer takes nothing in"),
    ] {
        let res = ship(json!({"type": "shipped", "consignee": consignee})).await;
        assert_eq!(
            res.error(422, "unknown_consignee")["field"],
            "consignee",
            "{why}"
        );
    }
    for quantity in [0, 1201] {
        let res =
            ship(json!({"type": "shipped", "consignee": wholesaler_id, "quantity": quantity}))
                .await;
        res.error(422, "out_of_range");
    }
    let res = ship(json!({"type": "shipped", "quantity": 5})).await;
    assert_eq!(res.error(422, "required")["field"], "consignee");
    let whole =
        ship(json!({"type": "shipped", "consignee": wholesaler_id, "quantity": 1200})).await;
    assert_eq!(
        whole.status,
        201,
        "the whole batch is a valid quantity: {}",
        whole.text()
    );
    // Everything is on its way: nothing is left to ship.
    ship(json!({"type": "shipped", "consignee": wholesaler_id, "quantity": 1}))
        .await
        .error(409, "nothing_held");

    // Receiving is for the links of the chain, not for regulators; a producer cannot refuse.
    t.post(
        &events,
        Some(&regulator),
        &json!({"type": "received", "label_url": cert["verify_url"]}),
    )
    .await
    .error(403, "forbidden");
    t.post(
        &events,
        Some(&producer),
        &json!({"type": "rejected", "reason": "x"}),
    )
    .await
    .error(403, "forbidden");
    t.post(&events, Some(&wholesaler), &json!({"type": "lost"}))
        .await
        .error(422, "invalid_event_type");

    // A stallholder's market must be a market operator, and only a retailer has one.
    let org = |kind: &str, market: &str, n: u32| {
        json!({"kind": kind, "name": "x", "credit_code": code(n), "region_code": "430702",
               "address": "x", "market_id": market})
    };
    t.post(
        "/api/v1/organizations",
        Some(&t.admin),
        &org("retailer", &wholesaler_id, 1),
    )
    .await
    .error(422, "unknown_market");
    t.post(
        "/api/v1/organizations",
        Some(&t.admin),
        &org("wholesaler", &wholesaler_id, 2),
    )
    .await
    .error(422, "not_a_stallholder");
    let bad_kind = t
        .post("/api/v1/organizations", Some(&t.admin), &org("shop", "", 3))
        .await;
    let message = bad_kind.error(422, "invalid_kind")["message"].clone();
    assert!(
        message.as_str().unwrap().contains("market_operator"),
        "{message}"
    );
}

#[actix_web::test]
async fn the_consoles_ship_refuse_and_list_legs() {
    let t = spawn().await;
    let (producer_session, product, producer) =
        signed_in_producer(&t, CODES[0], "shipper.li").await;
    let (market_id, _) = t.org("market_operator", CODES[1], "430703").await;
    let cert = t.issue(&producer, &batch(&product)).await;
    let url = cert["verify_url"].as_str().unwrap();
    let market_session = sign_in(&t, &market_id, "gate.wang").await;

    let console = t.send(page(&producer_session, "/console")).await.text();
    let csrf = field(&console, "csrf_token");
    let res = t
        .send(form(
            &producer_session,
            "/console/ship",
            &[
                ("csrf_token", &csrf),
                ("certificate", url),
                ("consignee", CODES[1]),
                ("quantity", "40"),
            ],
        ))
        .await;
    assert_eq!(res.status, 303, "{}", res.text());

    let gate = t.send(page(&market_session, "/console")).await.text();
    assert!(
        gate.contains(cert["payload"]["batch"]["no"].as_str().unwrap()),
        "incoming leg listed"
    );
    let gate_csrf = field(&gate, "csrf_token");
    let res = t
        .send(form(
            &market_session,
            "/console/reject",
            &[
                ("csrf_token", &gate_csrf),
                ("label_url", url),
                ("reason", "没有承诺达标合格证原件"),
            ],
        ))
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let back = t
        .send(page(&producer_session, "/console?done=shipped"))
        .await
        .text();
    assert!(
        back.contains("没有承诺达标合格证原件"),
        "the refusal shows on the sender's console"
    );
    assert!(back.contains("已记录发货"));
}

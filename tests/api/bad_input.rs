//! Bad input, one test per class: the right 4xx envelope, and nothing written.

use actix_web::test::TestRequest;
use serde_json::json;

use crate::helpers::{batch, path_of, spawn, with_token, CODES};

#[actix_web::test]
async fn malformed_json_is_400() {
    let t = spawn().await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    let before = t.counts();
    let trailing = format!("{} x", batch(&product));
    for raw in [
        "{",
        "{\"product_id\": }",
        "not json",
        "",
        "\u{0}",
        trailing.as_str(),
    ] {
        let req = with_token(
            TestRequest::post().uri("/api/v1/certificates"),
            Some(&token),
        )
        .insert_header(("Content-Type", "application/json"))
        .set_payload(raw.to_string());
        t.send(req).await.error(400, "malformed_json");
    }
    assert_eq!(t.counts(), before);
}

#[actix_web::test]
async fn wrong_types_missing_and_unknown_fields_are_422_with_the_field() {
    let t = spawn().await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    let before = t.counts();

    let mut body = batch(&product);
    body["quantity"] = json!("many");
    let err = t
        .post("/api/v1/certificates", Some(&token), &body)
        .await
        .error(422, "invalid_type");
    assert_eq!(err["field"], "quantity");

    let mut body = batch(&product);
    body["items"][0]["verdict"] = json!(1);
    let err = t
        .post("/api/v1/certificates", Some(&token), &body)
        .await
        .error(422, "invalid_type");
    assert_eq!(err["field"], "items[0].verdict");

    let mut body = batch(&product);
    body.as_object_mut().unwrap().remove("batch_no");
    let err = t
        .post("/api/v1/certificates", Some(&token), &body)
        .await
        .error(422, "missing_field");
    assert_eq!(err["field"], "batch_no");

    let mut body = batch(&product);
    body["colour"] = json!("red");
    let err = t
        .post("/api/v1/certificates", Some(&token), &body)
        .await
        .error(422, "unknown_field");
    assert_eq!(err["field"], "colour");

    let mut body = batch(&product);
    body["quantity"] = json!(1.5);
    t.post("/api/v1/certificates", Some(&token), &body)
        .await
        .error(422, "invalid_type");
    assert_eq!(t.counts(), before);
}

#[actix_web::test]
async fn bad_query_and_path_values_are_named_in_plain_words() {
    let t = spawn().await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    let mut body = batch(&product);
    body["units"] = json!(5);
    let issued = t.issue(&token, &body).await;
    let id = issued["id"].as_str().unwrap();

    let err = t
        .get("/api/v1/log/consistency?from=abc&to=1", None)
        .await
        .error(400, "invalid_query");
    assert_eq!(
        (err["field"].as_str(), err["message"].as_str()),
        (Some("from"), Some("from must be a whole number"))
    );
    let err = t
        .get("/api/v1/log/consistency?to=1", None)
        .await
        .error(400, "invalid_query");
    assert_eq!(
        (err["field"].as_str(), err["message"].as_str()),
        (Some("from"), Some("from is required"))
    );
    let err = t
        .get(
            &format!("/api/v1/certificates/{id}/units/abc/qr.png"),
            Some(&token),
        )
        .await
        .error(404, "not_found");
    assert_eq!(err["message"], "serial must be a whole number");
    // A signed-in page: the same words, on the English error page.
    let (org, _) = t.org("producer", CODES[1], "430702").await;
    let password = crate::console::new_user(&t, &org, "qc.wang").await;
    let session = crate::console::log_in(&t, "qc.wang", &password)
        .await
        .expect("signed in");
    let page = t
        .send(crate::console::page(
            &session,
            "/console?q=x&page=abc&lang=en",
        ))
        .await;
    assert_eq!(page.status, 400);
    let text = page.text();
    assert!(text.contains("page must be a whole number"), "{text}");
    assert!(!text.contains("invalid digit"), "{text}");
}

#[actix_web::test]
async fn oversized_body_is_413_and_wrong_content_type_415() {
    let t = spawn().await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    let before = t.counts();
    let mut body = batch(&product);
    body["inspector"] = json!("x".repeat(200_000));
    t.post("/api/v1/certificates", Some(&token), &body)
        .await
        .error(413, "payload_too_large");
    let req = with_token(
        TestRequest::post().uri("/api/v1/certificates"),
        Some(&token),
    )
    .insert_header(("Content-Type", "text/plain"))
    .set_payload(batch(&product).to_string());
    t.send(req).await.error(415, "unsupported_media_type");
    assert_eq!(t.counts(), before);
}

#[actix_web::test]
async fn invalid_credit_and_region_codes_are_422() {
    let t = spawn().await;
    let org = |credit: &str, region: &str| json!({"kind": "producer", "name": "常德某公司", "credit_code": credit, "region_code": region, "address": "常德"});
    let err = t
        .post(
            "/api/v1/organizations",
            Some(&t.admin),
            &org("91350200776049653B", "430700"),
        )
        .await
        .error(422, "invalid_credit_code");
    assert_eq!(err["field"], "credit_code");
    t.post(
        "/api/v1/organizations",
        Some(&t.admin),
        &org("9135020077604965", "430700"),
    )
    .await
    .error(422, "invalid_credit_code");
    let err = t
        .post(
            "/api/v1/organizations",
            Some(&t.admin),
            &org(CODES[0], "4307"),
        )
        .await
        .error(422, "invalid_region_code");
    assert_eq!(err["field"], "region_code");
    t.post(
        "/api/v1/organizations",
        Some(&t.admin),
        &org(CODES[0], "990000"),
    )
    .await
    .error(422, "invalid_region_code");
    let mut bad_kind = org(CODES[0], "430700");
    bad_kind["kind"] = json!("wholesale_market");
    t.post("/api/v1/organizations", Some(&t.admin), &bad_kind)
        .await
        .error(422, "invalid_kind");
    assert!(t.counts().iter().all(|n| *n == 0));

    // Lower case is accepted and upper-cased; a duplicate is a conflict.
    let res = t
        .post(
            "/api/v1/organizations",
            Some(&t.admin),
            &org("91440101ma5cjq4n59", "430700"),
        )
        .await;
    assert_eq!(res.status, 201);
    assert_eq!(res.json()["credit_code"], "91440101MA5CJQ4N59");
    t.post(
        "/api/v1/organizations",
        Some(&t.admin),
        &org("91440101MA5CJQ4N59", "430700"),
    )
    .await
    .error(409, "duplicate_credit_code");
    assert_eq!(t.counts()[..2], [1, 1]);
}

#[actix_web::test]
async fn impossible_dates_and_batch_rules_are_422() {
    let t = spawn().await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    let before = t.counts();
    let cases = [
        ("production_date", json!("2026-02-30"), "invalid_date"),
        ("production_date", json!("2026/11/01"), "invalid_date"),
        (
            "inspection_date",
            json!("2000-01-01"),
            "inspection_before_production",
        ),
        (
            "production_date",
            json!("2999-01-01"),
            "production_date_in_future",
        ),
        (
            "expiry_date",
            json!("2000-01-01"),
            "expiry_before_production",
        ),
        ("quantity", json!(0), "out_of_range"),
        ("quantity", json!(-5), "out_of_range"),
        ("units", json!(0), "out_of_range"),
        ("units", json!(1201), "out_of_range"),
        ("result", json!("fail"), "result_not_pass"),
        ("product_id", json!(""), "not_found"),
    ];
    for (field, value, code) in cases {
        let mut body = batch(&product);
        body[field] = value.clone();
        let res = t.post("/api/v1/certificates", Some(&token), &body).await;
        let status = if code == "not_found" { 404 } else { 422 };
        let err = res.error(status, code);
        if status == 422 {
            assert_eq!(err["field"], field, "{field}={value}");
        }
    }
    let mut body = batch(&product);
    body["items"][0]["verdict"] = json!("fail");
    let err = t
        .post("/api/v1/certificates", Some(&token), &body)
        .await
        .error(422, "item_failed");
    assert_eq!(err["field"], "items.0.verdict");
    assert_eq!(t.counts(), before);
}

#[actix_web::test]
async fn ten_thousand_character_strings_are_422() {
    let t = spawn().await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    let before = t.counts();
    let long = "长".repeat(10_000);
    for field in ["batch_no", "unit", "inspector", "lab_report_no"] {
        let mut body = batch(&product);
        body[field] = json!(long);
        let err = t
            .post("/api/v1/certificates", Some(&token), &body)
            .await
            .error(422, "too_long");
        assert_eq!(err["field"], field);
    }
    let product_body = json!({"name": long, "model": "m", "standard": "GB 1"});
    t.post("/api/v1/products", Some(&token), &product_body)
        .await
        .error(422, "too_long");
    let blank = json!({"name": "  ", "model": "m", "standard": "GB 1"});
    t.post("/api/v1/products", Some(&token), &blank)
        .await
        .error(422, "required");
    let gtin = json!({"name": "n", "model": "m", "standard": "GB 1", "gtin": "6901234567891"});
    t.post("/api/v1/products", Some(&token), &gtin)
        .await
        .error(422, "invalid_gtin");
    assert_eq!(t.counts(), before);
}

#[actix_web::test]
async fn direction_overrides_and_invisible_only_text_are_422() {
    let t = spawn().await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    let before = t.counts();
    // "Trojan Source": the label would read 批次exe.gpj while the payload holds the reverse.
    for (field, value, code) in [
        ("batch_no", "20261120\u{202E}exe.gpj", "invalid_characters"),
        ("inspector", "QC\u{2067}-07", "invalid_characters"),
        ("unit", "\u{FEFF}袋", "invalid_characters"),
        ("inspector", "\u{3164}", "invisible_text"),
        ("lab_report_no", "\u{200B}\u{FEFF}", "invalid_characters"),
        ("batch_no", "\u{200D} \u{180E}", "invisible_text"),
        // A zero-width space or word joiner inside: text that prints as another's.
        ("inspector", "质检员\u{200B}07", "invalid_characters"),
        ("batch_no", "2026\u{2060}1120", "invalid_characters"),
    ] {
        let mut body = batch(&product);
        body[field] = json!(value);
        let err = t
            .post("/api/v1/certificates", Some(&token), &body)
            .await
            .error(422, code);
        assert_eq!(err["field"], field, "{value:?}");
    }
    let product_body = json!({"name": "\u{200C}\u{200D}", "model": "m", "standard": "GB 1"});
    t.post("/api/v1/products", Some(&token), &product_body)
        .await
        .error(422, "invisible_text");
    // A product named like another but for a zero-width space, and an organization likewise.
    let product_body =
        json!({"name": "酱板鸭\u{200B}（香辣味）", "model": "m", "standard": "GB 1"});
    let err = t
        .post("/api/v1/products", Some(&token), &product_body)
        .await
        .error(422, "invalid_characters");
    assert_eq!(err["field"], "name");
    let org = json!({"kind": "retailer", "name": "常德\u{200B}米粉店", "credit_code": CODES[1],
        "region_code": "430702", "address": "湖南省常德市"});
    let err = t
        .post("/api/v1/organizations", Some(&t.admin), &org)
        .await
        .error(422, "invalid_characters");
    assert_eq!(err["field"], "name");
    assert_eq!(t.counts(), before);
    // Uyghur (right to left, with a right-to-left mark) is product text like any other.
    let uyghur =
        "\u{0626}\u{06C7}\u{064A}\u{063A}\u{06C7}\u{0631} \u{0646}\u{0627}\u{0646}\u{200F}";
    let body = json!({"name": uyghur, "model": "m", "standard": "GB 1"});
    let created = t.post("/api/v1/products", Some(&token), &body).await;
    assert_eq!(created.status.as_u16(), 201, "{}", created.text());
    assert_eq!(created.json()["name"], uyghur);
}

#[actix_web::test]
async fn sql_metacharacters_and_html_are_stored_verbatim_and_escaped_in_pages() {
    let t = spawn().await;
    let (token, _) = t.producer_with_product(CODES[0]).await;
    let nasty = "<script>alert('x')</script>\"; DROP TABLE certificates; --";
    let res = t
        .post(
            "/api/v1/products",
            Some(&token),
            &json!({"name": nasty, "model": "' OR '1'='1", "standard": "GB/T 1 & <b>"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let product = res.json();
    assert_eq!(product["name"], nasty);
    let mut body = batch(product["id"].as_str().unwrap());
    body["inspector"] = json!("<img src=x onerror=alert(1)>");
    let issued = t.issue(&token, &body).await;
    assert_eq!(issued["payload"]["product"]["name"], nasty);

    let answer = t
        .get_json(&path_of(issued["verify_url"].as_str().unwrap()))
        .await
        .json();
    assert_eq!(answer["verdict"], "genuine");
    assert_eq!(
        answer["certificate"]["payload"]["product"]["model"],
        "' OR '1'='1"
    );
    let html = t
        .get(&path_of(issued["verify_url"].as_str().unwrap()), None)
        .await
        .text();
    assert!(
        !html.contains("<script>alert") && !html.contains("<img src=x"),
        "unescaped HTML"
    );
    assert!(
        html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"),
        "{html}"
    );
    assert!(
        html.contains("没有发货或进货查验记录"),
        "warnings are shown in plain language"
    );
    assert_eq!(t.counts()[4], 1, "the certificates table survived");
}

#[actix_web::test]
async fn bad_paths_unknown_routes_and_methods_get_the_envelope() {
    let t = spawn().await;
    let res = t.get("/no/such/route", None).await;
    assert_eq!(res.status, 404);
    assert_eq!(res.header("content-type"), "application/json");
    assert_eq!(
        res.text(),
        r#"{"error":{"code":"not_found","message":"no such route"}}"#
    );
    t.get("/api/v1/organizations/%ZZ", None)
        .await
        .error(404, "not_found");
    t.get("/api/v1/products/%E0%A4%A", None)
        .await
        .error(404, "not_found");
    // An id that is not even percent-encoding names no certificate: the verification
    // answer for an unknown id (404, unknown_certificate, verdict unknown).
    let res = t.get_json("/v/%ZZ%00?s=%GG").await;
    res.error(404, "unknown_certificate");
    assert_eq!(res.json()["verdict"], "unknown");
    t.get_json("/v/abc/not-a-number")
        .await
        .error(404, "not_found");
    t.send(TestRequest::delete().uri("/api/v1/keys"))
        .await
        .error(405, "method_not_allowed");
    t.send(TestRequest::put().uri("/api/v1/certificates"))
        .await
        .error(405, "method_not_allowed");
}

/// The methods a 405's `Allow` header names, sorted.
fn allowed(res: &crate::helpers::Resp) -> Vec<String> {
    let mut methods: Vec<String> = res
        .header("allow")
        .split(',')
        .map(|m| m.trim().to_string())
        .filter(|m| !m.is_empty())
        .collect();
    methods.sort();
    methods
}

#[actix_web::test]
async fn a_wrong_method_is_405_with_allow_naming_the_resources_methods() {
    let t = spawn().await;
    // API resources: the envelope, with or without a token, and the resource's own methods.
    let res = t
        .send(with_token(
            TestRequest::delete().uri("/api/v1/organizations"),
            Some(&t.admin),
        ))
        .await;
    res.error(405, "method_not_allowed");
    assert_eq!(allowed(&res), ["GET", "POST"]);
    let res = t.send(TestRequest::put().uri("/api/v1/certificates")).await;
    res.error(405, "method_not_allowed");
    assert_eq!(allowed(&res), ["POST"]);
    let res = t
        .send(TestRequest::post().uri("/api/v1/log/consistency?from=1"))
        .await;
    res.error(405, "method_not_allowed");
    assert_eq!(allowed(&res), ["GET"]);
    let res = t.send(TestRequest::post().uri("/healthz")).await;
    res.error(405, "method_not_allowed");
    assert_eq!(allowed(&res), ["GET", "HEAD"]);
    // A page: its error page, with the same header; a client asking for JSON gets the envelope.
    let res = t.send(TestRequest::delete().uri("/login")).await;
    assert_eq!(res.status, 405);
    assert!(res.header("content-type").starts_with("text/html"));
    assert_eq!(allowed(&res), ["GET", "POST"]);
    let res = t
        .send(
            TestRequest::put()
                .uri("/console/products")
                .insert_header(("Accept", "application/json")),
        )
        .await;
    res.error(405, "method_not_allowed");
    assert_eq!(allowed(&res), ["GET", "POST"]);
    let res = t.send(TestRequest::post().uri("/v/anything")).await;
    assert_eq!(res.status, 405);
    assert_eq!(allowed(&res), ["GET"]);
    // A static file.
    let res = t.send(TestRequest::post().uri("/robots.txt")).await;
    res.error(405, "method_not_allowed");
    assert_eq!(allowed(&res), ["GET"]);
}

#[actix_web::test]
async fn trail_endpoints_reject_bad_input_and_write_nothing() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(CODES[0]).await;
    let (_, retailer) = t.org("retailer", CODES[1], "430702").await;
    let (_, regulator) = t.org("regulator", CODES[2], "430700").await;
    let mut body = batch(&product);
    body["units"] = json!(3);
    let issued = t.issue(&producer, &body).await;
    let id = issued["id"].as_str().unwrap();
    let before = t.counts();
    let events = format!("/api/v1/certificates/{id}/events");

    let req = with_token(TestRequest::post().uri(&events), Some(&retailer))
        .insert_header(("Content-Type", "application/json"))
        .set_payload("{\"type\": ");
    t.send(req).await.error(400, "malformed_json");
    t.post(
        &events,
        Some(&producer),
        &json!({"type": "shipped", "when": "now"}),
    )
    .await
    .error(422, "unknown_field");
    t.post(
        &events,
        Some(&producer),
        &json!({"type": "shipped", "serial": 4}),
    )
    .await
    .error(422, "out_of_range");
    t.post(
        &events,
        Some(&producer),
        &json!({"type": "shipped", "serial": "1"}),
    )
    .await
    .error(422, "invalid_type");
    t.post(
        &events,
        Some(&producer),
        &json!({"type": "shipped", "note": "x".repeat(10_000)}),
    )
    .await
    .error(422, "too_long");
    t.post(
        &events,
        Some(&retailer),
        &json!({"type": "received", "label_url": "javascript:alert(1)"}),
    )
    .await
    .error(422, "invalid_label");
    t.post(
        "/api/v1/certificates/AAAAAAAAAAAAAAAA/events",
        Some(&producer),
        &json!({"type": "shipped"}),
    )
    .await
    .error(404, "not_found");
    let inspections = format!("/api/v1/certificates/{id}/inspections");
    t.post(
        &inspections,
        Some(&regulator),
        &json!({"result": "maybe", "findings": "x"}),
    )
    .await
    .error(422, "invalid_result");
    t.post(
        &inspections,
        Some(&regulator),
        &json!({"result": "conformant"}),
    )
    .await
    .error(422, "missing_field");
    t.post(
        &inspections,
        Some(&regulator),
        &json!({"result": "conformant", "findings": "x", "lab_id": "%00"}),
    )
    .await
    .error(422, "unknown_lab");
    t.post(
        &format!("/api/v1/certificates/{id}/revoke"),
        Some(&producer),
        &json!({}),
    )
    .await
    .error(422, "missing_field");
    t.post(
        "/api/v1/recalls",
        Some(&producer),
        &json!({"product_id": "AAAAAAAAAAAAAAAA", "reason": "r"}),
    )
    .await
    .error(404, "not_found");
    t.post(
        "/api/v1/recalls",
        Some(&producer),
        &json!({"product_id": product, "batch_no": "none", "reason": "r"}),
    )
    .await
    .error(422, "nothing_to_recall");
    t.get("/api/v1/certificates/%ZZ/trail", None)
        .await
        .error(404, "not_found");
    t.get("/api/v1/certificates/AAAAAAAAAAAAAAAA/epcis", None)
        .await
        .error(404, "not_found");
    assert_eq!(t.counts(), before, "no failed request wrote anything");
}

/// What the OpenAPI document allows is what the server takes: an integer written with a zero
/// fraction is an integer (JSON Schema says so), a fraction is not; a text's length counts
/// what was sent, white space and all (as the document's `maxLength`); a token request's body
/// may be `null`.
#[actix_web::test]
async fn integers_lengths_and_null_bodies_as_the_document_says() {
    let t = spawn().await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    let mut body = batch(&product);
    body["quantity"] = json!(1020.0);
    body["units"] = json!(1.2e1);
    let issued = t.issue(&token, &body).await;
    assert_eq!(issued["payload"]["batch"]["quantity"], 1020);
    assert_eq!(issued["payload"]["units"], 12);

    let before = t.counts();
    for (field, value, code) in [
        ("quantity", json!(10.5), "invalid_type"),
        ("quantity", json!(9007199254740994.0), "invalid_type"),
        ("units", json!(0.5), "invalid_type"),
        (
            "batch_no",
            json!(format!(" {}", "a".repeat(64))),
            "too_long",
        ),
    ] {
        let mut body = batch(&product);
        body[field] = value.clone();
        let err = t
            .post("/api/v1/certificates", Some(&token), &body)
            .await
            .error(422, code);
        assert_eq!(err["field"], field, "{field}={value}");
    }
    assert_eq!(t.counts(), before);
    let mut body = batch(&product);
    body["batch_no"] = json!(format!(" {} ", "a".repeat(62)));
    assert_eq!(
        t.issue(&token, &body).await["payload"]["batch"]["no"],
        "a".repeat(62)
    );

    let (producer, admin) = t.org("producer", CODES[1], "430702").await;
    let tokens = format!("/api/v1/organizations/{producer}/tokens");
    let made = t.post(&tokens, Some(&admin), &json!(null)).await;
    assert_eq!(made.status, 201, "{}", made.text());
    assert_eq!(made.json()["name"], "token");
}

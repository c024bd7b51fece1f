//! GS1 Digital Link: labels of products with a GTIN carry `/01/{gtin}/10/{batch}?s=…` on the
//! platform's domain; the platform resolves them (and unit links) to the certificate and
//! answers a resolver's linkset request; GS1's own parser (digital-link.js) accepts them.

use std::process::Command;

use serde_json::{json, Value};

use crate::helpers::{batch, code, path_of, spawn, CODES, PUBLIC_URL};

/// What zbar reads from a PNG label.
fn decode(png: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("label.png");
    std::fs::write(&file, png).unwrap();
    let out = Command::new("zbarimg")
        .args(["--raw", "-q"])
        .arg(&file)
        .output()
        .expect("zbarimg (zbar-tools; scripts/setup.sh installs it)");
    String::from_utf8_lossy(&out.stdout).trim_end().to_string()
}

/// GS1's digital-link.js on `uris` (scripts/test.sh installs it with `npm ci`).
fn gs1_parse(uris: &[&str]) -> Vec<Value> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    assert!(
        dir.join("node_modules/digital-link.js").exists(),
        "GS1's parser is missing: run (cd tests/browser && npm ci), as scripts/test.sh does"
    );
    let out = Command::new("node")
        .arg("digital-link-check.mjs")
        .args(uris)
        .current_dir(&dir)
        .output()
        .expect("node (scripts/setup.sh installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[actix_web::test]
async fn digital_link_labels_resolve_to_their_certificate_and_pass_gs1s_parser() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(CODES[0]).await;
    let mut body = batch(&product);
    body["units"] = json!(3);
    let cert = t.issue(&producer, &body).await;
    let id = cert["id"].as_str().unwrap();
    let signature = cert["signature"].as_str().unwrap();

    // The batch label's QR holds the Digital Link, GTIN-13 written as GTIN-14.
    let png = t
        .get(&format!("/api/v1/certificates/{id}/dl-qr.png"), None)
        .await;
    assert_eq!(png.status, 200);
    let link = decode(&png.body);
    assert_eq!(
        link,
        format!("{PUBLIC_URL}/01/06901234567892/10/20261120-01?s={signature}")
    );
    let answer = t.get_json(&path_of(&link)).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let answer = answer.json();
    assert_eq!(answer["verdict"], "genuine");
    assert_eq!(answer["certificate"]["payload"]["id"], id);
    let page = t.get(&path_of(&link), None).await.text();
    assert!(page.contains("20261120-01"), "the consumer's page");

    // A unit label as a Digital Link: AI 21 is the serial, `s` the unit signature.
    let unit = t
        .get(
            &format!("/api/v1/certificates/{id}/units/2/qr.png"),
            Some(&producer),
        )
        .await;
    let unit_url = decode(&unit.body);
    let unit_sig = unit_url.split("?s=").nth(1).unwrap();
    let unit_link = format!("{PUBLIC_URL}/01/06901234567892/10/20261120-01/21/2?s={unit_sig}");
    let answer = t.get_json(&path_of(&unit_link)).await.json();
    assert_eq!(answer["verdict"], "genuine", "{answer}");
    assert_eq!(answer["unit"]["serial"], 2);
    let forged = unit_link.replace("/21/2?", "/21/3?");
    assert_eq!(
        t.get_json(&path_of(&forged)).await.json()["verdict"],
        "forged"
    );

    // A resolver's linkset request.
    let res = t
        .get(&format!("{}&linkType=linkset", path_of(&link)), None)
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-type"), "application/linkset+json");
    let set = res.json();
    let entry = &set["linkset"][0];
    assert_eq!(
        entry["anchor"],
        format!("{PUBLIC_URL}/01/06901234567892/10/20261120-01")
    );
    let default = entry["https://gs1.org/voc/defaultLink"][0]["href"]
        .as_str()
        .unwrap();
    assert_eq!(default, format!("{PUBLIC_URL}/v/{id}?s={signature}"));
    assert!(entry["https://gs1.org/voc/traceability"][0]["href"]
        .as_str()
        .unwrap()
        .ends_with("/epcis"));

    // GS1's own parser: our links are valid (grammar, GTIN check digit), with the right
    // identifier, qualifiers and the signature as an attribute; a wrong check digit is not.
    let wrong = link.replace("06901234567892", "06901234567893");
    let parsed = gs1_parse(&[&link, &unit_link, &wrong]);
    assert_eq!(parsed[0]["valid"], true, "{parsed:?}");
    assert_eq!(parsed[0]["identifier"]["01"], "06901234567892");
    assert_eq!(parsed[0]["keyQualifiers"]["10"], "20261120-01");
    assert_eq!(parsed[0]["attributes"]["s"], signature);
    assert_eq!(parsed[1]["valid"], true, "{parsed:?}");
    assert_eq!(parsed[1]["keyQualifiers"]["21"], "2");
    assert_eq!(parsed[2]["valid"], false, "a wrong check digit");

    // Unknown links answer as unknown certificates do.
    let unknown = t
        .get_json("/01/06901234567892/10/NO-SUCH-BATCH?s=abc")
        .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json()["verdict"], "unknown");
    assert_eq!(
        t.get("/01/06901234567892/10/NO-SUCH-BATCH?linkType=linkset", None)
            .await
            .status,
        404
    );
}

#[actix_web::test]
async fn the_signature_picks_the_certificate_among_batches_sharing_gtin_and_number() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(CODES[0]).await;
    let first = t.issue(&producer, &batch(&product)).await;
    let second = t.issue(&producer, &batch(&product)).await;
    for cert in [&first, &second] {
        let link = format!(
            "/01/06901234567892/10/20261120-01?s={}",
            cert["signature"].as_str().unwrap()
        );
        let answer = t.get_json(&link).await.json();
        assert_eq!(answer["certificate"]["payload"]["id"], cert["id"]);
        assert_eq!(answer["verdict"], "genuine");
    }
    // A batch number outside GS1's character set 82, or a product without a GTIN, has no
    // Digital Link label.
    let mut chinese = batch(&product);
    chinese["batch_no"] = json!("批次一");
    let odd = t.issue(&producer, &chinese).await;
    t.get(
        &format!(
            "/api/v1/certificates/{}/dl-qr.png",
            odd["id"].as_str().unwrap()
        ),
        None,
    )
    .await
    .error(422, "no_digital_link");
    let (_, other) = t.org("producer", CODES[1], "430702").await;
    let plain = t
        .post(
            "/api/v1/products",
            Some(&other),
            &json!({"name": "米粉", "model": "1kg", "standard": "Q/CD 0001S-2026"}),
        )
        .await
        .json();
    let cert = t.issue(&other, &batch(plain["id"].as_str().unwrap())).await;
    t.get(
        &format!(
            "/api/v1/certificates/{}/dl-qr.svg",
            cert["id"].as_str().unwrap()
        ),
        None,
    )
    .await
    .error(422, "no_digital_link");
}

#[actix_web::test]
async fn a_batch_number_with_percent_signs_resolves_decoded_once() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(CODES[0]).await;
    // `%41` in a batch number is three characters, not an escaped `A`; `/` is escaped too.
    let mut body = batch(&product);
    body["batch_no"] = json!("L%41/7%");
    let cert = t.issue(&producer, &body).await;
    let id = cert["id"].as_str().unwrap();
    let png = t
        .get(&format!("/api/v1/certificates/{id}/dl-qr.png"), None)
        .await;
    let link = decode(&png.body);
    assert!(link.contains("/10/L%2541%2F7%25?s="), "{link}");
    let answer = t.get_json(&path_of(&link)).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let answer = answer.json();
    assert_eq!(answer["verdict"], "genuine", "{answer}");
    assert_eq!(answer["certificate"]["payload"]["id"], id);
}

#[actix_web::test]
async fn a_gtin_belongs_to_one_organization_until_a_regulator_reassigns_it() {
    let t = spawn().await;
    let (owner, product) = t.producer_with_product(CODES[0]).await;
    let (squatter_id, squatter) = t.org("producer", CODES[1], "430702").await;
    let (_, regulator) = t.org("regulator", CODES[2], "430700").await;
    let (_, far_regulator) = t.org("regulator", CODES[3], "110000").await;
    let cert = t.issue(&owner, &batch(&product)).await;
    let signature = cert["signature"].as_str().unwrap();
    let link = format!("/01/06901234567892/10/20261120-01?s={signature}");
    assert_eq!(t.get_json(&link).await.json()["verdict"], "genuine");

    // Another producer cannot register it, in any of its forms, nor the prefix covering it.
    let product_with = |gtin: &str| json!({"name": "仿冒酱板鸭", "model": "500g/袋", "standard": "GB/T 23586-2022", "gtin": gtin});
    for gtin in ["6901234567892", "06901234567892"] {
        t.post("/api/v1/products", Some(&squatter), &product_with(gtin))
            .await
            .error(409, "gtin_taken");
    }
    for prefix in ["690123", "6901234567"] {
        t.post(
            "/api/v1/gtin-prefixes",
            Some(&squatter),
            &json!({"prefix": prefix}),
        )
        .await
        .error(409, "gtin_taken");
    }
    t.post(
        "/api/v1/gtin-prefixes",
        Some(&squatter),
        &json!({"prefix": "69x"}),
    )
    .await
    .error(422, "invalid_company_prefix");
    // Its own company prefix claims every GTIN under it, against everyone else.
    let res = t
        .post(
            "/api/v1/gtin-prefixes",
            Some(&squatter),
            &json!({"prefix": "692000"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    t.post(
        "/api/v1/products",
        Some(&owner),
        &product_with("6920000000012"),
    )
    .await
    .error(409, "gtin_taken");
    let own = t
        .post(
            "/api/v1/products",
            Some(&squatter),
            &product_with("6920000000012"),
        )
        .await;
    assert_eq!(own.status, 201, "{}", own.text());
    let mine = t.get("/api/v1/gtin-prefixes", Some(&squatter)).await.json();
    assert_eq!(mine[0]["prefix"], "692000", "{mine}");
    // Nobody squats the number space: five prefixes at most.
    for n in 1..=4 {
        let res = t
            .post(
                "/api/v1/gtin-prefixes",
                Some(&squatter),
                &json!({"prefix": format!("69300{n}")}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
    t.post(
        "/api/v1/gtin-prefixes",
        Some(&squatter),
        &json!({"prefix": "693009"}),
    )
    .await
    .error(409, "too_many_prefixes");

    // Only the admin or a regulator of the former and the new owner's region reassigns, with
    // a reason: a far regulator cannot pull a GTIN to a producer of its own region.
    let reassign = "/api/v1/gtin-owners/6901234567892";
    let (far_producer, _) = t.org("producer", &code(40), "110101").await;
    let res = t
        .send(
            actix_web::test::TestRequest::put()
                .uri(reassign)
                .insert_header(("Authorization", format!("Bearer {far_regulator}")))
                .set_json(json!({"organization_id": far_producer, "reason": "x"})),
        )
        .await;
    res.error(403, "forbidden");
    let to = json!({"organization_id": squatter_id, "reason": "商标权属裁定"});
    for who in [&owner, &far_regulator] {
        t.send(
            actix_web::test::TestRequest::put()
                .uri(reassign)
                .insert_header(("Authorization", format!("Bearer {who}")))
                .set_json(&to),
        )
        .await
        .error(403, "forbidden");
    }
    let res = t
        .send(
            actix_web::test::TestRequest::put()
                .uri(reassign)
                .insert_header(("Authorization", format!("Bearer {regulator}")))
                .set_json(&to),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["organization_id"], squatter_id);
    // Now the link no longer answers for the former owner's certificate.
    assert_eq!(t.get_json(&link).await.status, 404);
    let audit = t.get("/api/v1/audit", Some(&t.admin)).await.json();
    assert_eq!(audit[0]["action"], "gtin.reassign", "{audit}");
}

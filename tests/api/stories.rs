//! User stories: a producer issues, a label is scanned, anyone verifies.

use serde_json::json;

use crate::helpers::{batch, path_of, spawn, CODES};

#[actix_web::test]
async fn producer_issues_and_anyone_verifies_the_batch_label() {
    let t = spawn().await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    let issued = t.issue(&token, &batch(&product)).await;

    let id = issued["id"].as_str().unwrap();
    assert!(id.len() <= 20 && id.len() >= 11, "{id}");
    assert_eq!(issued["status"], "active");
    assert_eq!(issued["signature"].as_str().unwrap().len(), 86);
    assert_eq!(issued["kid"].as_str().unwrap().len(), 11);
    let payload = &issued["payload"];
    assert_eq!(payload["v"], 1);
    assert_eq!(payload["id"], id);
    assert_eq!(payload["kid"], issued["kid"]);
    assert_eq!(payload["product"]["name"], "酱板鸭");
    assert_eq!(payload["product"]["gtin"], "6901234567892");
    assert_eq!(payload["producer"]["credit_code"], CODES[0]);
    assert_eq!(payload["inspection"]["result"], "pass");
    assert_eq!(payload["inspection"]["items"][0]["measured"], "3200 CFU/g");
    assert!(
        payload.get("units").is_none(),
        "absent fields are omitted, never null"
    );
    let issued_at = payload["issued_at"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(issued_at).is_ok()
            && issued_at.ends_with('Z')
            && issued_at.len() == 20
    );
    let verify_url = issued["verify_url"].as_str().unwrap();
    assert_eq!(
        verify_url,
        format!(
            "http://certrail.test/v/{id}?s={}",
            issued["signature"].as_str().unwrap()
        )
    );
    assert_eq!(
        issued["qr_png_url"],
        format!("http://certrail.test/api/v1/certificates/{id}/qr.png")
    );
    assert_eq!(
        issued["qr_svg_url"],
        format!("http://certrail.test/api/v1/certificates/{id}/qr.svg")
    );

    // A scanner asks for JSON.
    let res = t.get_json(&path_of(verify_url)).await;
    assert_eq!(res.status, 200);
    let answer = res.json();
    assert_eq!(answer["verdict"], "genuine", "{answer}");
    assert_eq!(answer["reasons"], json!([]));
    // Scanned before any shipment or intake was recorded: a warning, not a verdict.
    assert_eq!(answer["warnings"][0]["code"], "no_intake_recorded");
    assert_eq!(answer["certificate"]["payload"], *payload);
    let trail = answer["trail"].as_array().unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(
        (trail[0]["seq"].as_i64(), trail[0]["type"].as_str()),
        (Some(1), Some("issued"))
    );
    assert_eq!(trail[0]["actor"]["credit_code"], CODES[0]);
    assert_eq!(answer["certificate"]["signature"], issued["signature"]);
    assert_eq!(answer["certificate"]["kid"], issued["kid"]);
    assert_eq!(answer["certificate"]["status"], "active");
    assert!(answer.get("unit").is_none());

    // A phone camera gets a page.
    let res = t.get(&path_of(verify_url), None).await;
    assert_eq!(res.status, 200);
    assert!(res.header("content-type").starts_with("text/html"));
    let html = res.text();
    assert!(html.contains("真品") && html.contains("Genuine"));
    assert!(
        html.contains("酱板鸭") && html.contains("GB/T 23586-2022") && html.contains("3200 CFU/g")
    );
    assert!(html.contains(r#"lang="zh-CN""#));
}

#[actix_web::test]
async fn serialized_certificate_has_verifiable_unit_labels() {
    let t = spawn().await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    let mut body = batch(&product);
    body["units"] = json!(5);
    let issued = t.issue(&token, &body).await;
    assert_eq!(issued["payload"]["units"], 5);
    let id = issued["id"].as_str().unwrap();

    let res = t
        .get(
            &format!("/api/v1/certificates/{id}/units/3/qr.svg"),
            Some(&token),
        )
        .await;
    assert_eq!(res.status, 200);
    let from_svg = crate::labels::decode_svg(&res.text());

    let url = crate::labels::decode_png(
        &t.get(
            &format!("/api/v1/certificates/{id}/units/3/qr.png"),
            Some(&token),
        )
        .await
        .body,
    );
    assert_eq!(
        from_svg, url,
        "the SVG and PNG unit labels hold the same URL"
    );
    assert!(
        url.starts_with(&format!("http://certrail.test/v/{id}/3?s=")),
        "{url}"
    );
    let answer = t.get_json(&path_of(&url)).await.json();
    assert_eq!(answer["verdict"], "genuine", "{answer}");
    assert_eq!(answer["unit"]["serial"], 3);

    // The unit signature is bound to its serial: moved to another serial it is forged.
    let moved = path_of(&url).replacen("/3?s=", "/4?s=", 1);
    let answer = t.get_json(&moved).await.json();
    assert_eq!(answer["verdict"], "forged");
    assert_eq!(answer["reasons"], json!(["label_signature_invalid"]));

    // Serials outside 1..=units do not exist.
    let beyond = path_of(&url).replacen("/3?s=", "/6?s=", 1);
    assert_eq!(
        t.get_json(&beyond).await.json()["reasons"],
        json!(["serial_out_of_range"])
    );
    let res = t
        .get(
            &format!("/api/v1/certificates/{id}/units/6/qr.png"),
            Some(&token),
        )
        .await;
    res.error(404, "not_found");
    // The batch signature is not a unit signature.
    let batch_sig = issued["signature"].as_str().unwrap();
    let answer = t.get_json(&format!("/v/{id}/1?s={batch_sig}")).await.json();
    assert_eq!(answer["verdict"], "forged");
}

#[actix_web::test]
async fn unknown_certificate_is_404_with_verdict_unknown() {
    let t = spawn().await;
    let res = t.get_json("/v/AAAAAAAAAAAAAAAA?s=abc").await;
    assert_eq!(res.status, 404);
    let body = res.json();
    assert_eq!(body["verdict"], "unknown");
    assert_eq!(body["reasons"], json!(["unknown_certificate"]));
    assert_eq!(body["error"]["code"], "unknown_certificate");
    let page = t.get("/v/AAAAAAAAAAAAAAAA", None).await;
    assert_eq!(page.status, 404);
    assert!(page.text().contains("未找到"));
}

#[actix_web::test]
async fn expired_batch_says_expired() {
    let t = spawn().await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    let today = chrono::Utc::now().date_naive();
    let d = |n: u64| {
        (today - chrono::Days::new(n))
            .format("%Y-%m-%d")
            .to_string()
    };
    let mut body = batch(&product);
    body["production_date"] = json!(d(400));
    body["inspection_date"] = json!(d(399));
    body["expiry_date"] = json!(d(35));
    let issued = t.issue(&token, &body).await;
    let answer = t
        .get_json(&path_of(issued["verify_url"].as_str().unwrap()))
        .await
        .json();
    assert_eq!(answer["verdict"], "expired");
    assert_eq!(answer["reasons"], json!(["past_expiry_date"]));
}

#[actix_web::test]
async fn demo_dataset_is_realistic_and_verifies() {
    let t = spawn().await;
    let state = t.state.clone();
    let data = actix_web::web::block(move || certrail::cli::demo::load(&state))
        .await
        .unwrap()
        .unwrap();
    let kinds: Vec<_> = data.organizations.iter().map(|o| o.kind.as_str()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "producer").count(), 4);
    assert_eq!(kinds.iter().filter(|k| **k == "retailer").count(), 4);
    assert_eq!(kinds.iter().filter(|k| **k == "market_operator").count(), 1);
    assert_eq!(kinds.iter().filter(|k| **k == "regulator").count(), 1);
    assert_eq!(
        kinds.iter().filter(|k| **k == "certification_body").count(),
        1
    );
    assert_eq!(kinds.iter().filter(|k| **k == "lab").count(), 1);
    assert_eq!(data.certificates.len(), 6);
    for (_, _, url) in &data.certificates {
        let answer = t.get_json(&path_of(url)).await.json();
        assert_eq!(answer["verdict"], "genuine", "{url}: {answer}");
        assert_eq!(
            answer["certificate"]["payload"]["producer"]["credit_code"]
                .as_str()
                .unwrap()
                .len(),
            18
        );
    }
    let first = t.get_json(&path_of(&data.certificates[0].2)).await.json();
    let steps: Vec<&str> = first["trail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["issued", "shipped", "received"]);
    assert_eq!(first["trail"][2]["details"]["label_verdict"], "genuine");
    assert_eq!(
        first["warnings"],
        json!([]),
        "intake recorded and the lab is accredited"
    );
    let tea = t.get_json(&path_of(&data.certificates[2].2)).await.json();
    assert_eq!(tea["marks"][0]["status"], "valid");
    // Demo tokens work.
    let producer = &data.organizations[0];
    let res = t.get("/api/v1/products", Some(&producer.token)).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["products"].as_array().unwrap().len(), 1);
    // A second run refuses to mix demo data into a used database.
    let state = t.state.clone();
    let again = actix_web::web::block(move || certrail::cli::demo::load(&state))
        .await
        .unwrap();
    assert_eq!(again.unwrap_err().code(), "not_empty");
}

#[actix_web::test]
async fn health_and_public_reads() {
    let t = spawn().await;
    let res = t.get("/healthz", None).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["status"], "ok");
    let (org, _) = t.org("retailer", CODES[1], "430702").await;
    let res = t.get(&format!("/api/v1/organizations/{org}"), None).await;
    assert_eq!(res.status, 200);
    let body = res.json();
    assert_eq!(body["credit_code"], CODES[1]);
    assert_eq!(body["public_key"].as_str().unwrap().len(), 43);
    assert!(body.get("sealed_private_key").is_none() && !res.text().contains("private"));
}

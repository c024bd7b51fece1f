//! Tampering: edited records say `tampered`, bad labels say `forged`.

use serde_json::json;

use crate::helpers::{batch, path_of, spawn, CODES};

#[actix_web::test]
async fn payload_edited_in_the_database_says_tampered() {
    let t = spawn().await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    let issued = t.issue(&token, &batch(&product)).await;
    let id = issued["id"].as_str().unwrap();
    let label = path_of(issued["verify_url"].as_str().unwrap());
    t.sequence();

    t.sql(&format!("UPDATE certificates SET payload = replace(payload, '\"quantity\":1200', '\"quantity\":9200') WHERE id = '{id}'"));
    let answer = t.get_json(&label).await.json();
    assert_eq!(answer["verdict"], "tampered", "{answer}");
    // The signature no longer covers the payload, and the payload is not what the log holds.
    assert_eq!(
        answer["reasons"],
        json!(["payload_signature_invalid", "log_mismatch"])
    );
    assert_eq!(answer["certificate"]["payload"]["batch"]["quantity"], 9200);
    let page = t.get(&label, None).await.text();
    assert!(page.contains("数据异常") && page.contains("Tampered"));
}

#[actix_web::test]
async fn label_signature_changed_by_one_character_says_forged() {
    let t = spawn().await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    let issued = t.issue(&token, &batch(&product)).await;
    let id = issued["id"].as_str().unwrap();
    let sig = issued["signature"].as_str().unwrap();

    // Change one character in the middle (the last one can carry unused bits).
    let mut chars: Vec<char> = sig.chars().collect();
    chars[40] = if chars[40] == 'A' { 'B' } else { 'A' };
    let altered: String = chars.into_iter().collect();
    let answer = t.get_json(&format!("/v/{id}?s={altered}")).await.json();
    assert_eq!(answer["verdict"], "forged");
    assert_eq!(answer["reasons"], json!(["label_signature_invalid"]));

    let answer = t.get_json(&format!("/v/{id}")).await.json();
    assert_eq!(
        (answer["verdict"].as_str(), answer["reasons"][0].as_str()),
        (Some("forged"), Some("signature_missing"))
    );
    let answer = t.get_json(&format!("/v/{id}?s=not*base64")).await.json();
    assert_eq!(
        (answer["verdict"].as_str(), answer["reasons"][0].as_str()),
        (Some("forged"), Some("signature_malformed"))
    );
    let page = t.get(&format!("/v/{id}?s={altered}"), None).await.text();
    assert!(page.contains("疑似伪造"));
}

#[actix_web::test]
async fn another_producers_valid_signature_on_this_id_says_forged() {
    let t = spawn().await;
    let (token_a, product_a) = t.producer_with_product(CODES[0]).await;
    let (token_b, product_b) = t.producer_with_product(CODES[1]).await;
    let a = t.issue(&token_a, &batch(&product_a)).await;
    let b = t.issue(&token_b, &batch(&product_b)).await;
    let a_id = a["id"].as_str().unwrap();

    // B signs A's exact payload with B's own key: a valid Ed25519 signature, wrong signer.
    let canonical = certrail::domain::payload::canonicalize(&a["payload"]);
    let b_signer = {
        let mut conn = t.state.db.reader().unwrap();
        let b_org = certrail::db::models::Certificate::find(&mut conn, b["id"].as_str().unwrap())
            .unwrap()
            .unwrap()
            .organization_id;
        t.state.keys.signer(&mut conn, &b_org).unwrap()
    };
    let sig = b_signer.sign(&certrail::crypto::signing::certificate_message(&canonical));
    let answer = t
        .get_json(&format!("/v/{a_id}?s={}", certrail::crypto::b64url(&sig)))
        .await
        .json();
    assert_eq!(answer["verdict"], "forged");

    // B's genuine label signature presented on A's id.
    let answer = t
        .get_json(&format!("/v/{a_id}?s={}", b["signature"].as_str().unwrap()))
        .await
        .json();
    assert_eq!(answer["verdict"], "forged");
}

#[actix_web::test]
async fn tampered_record_outranks_status_and_forged_outranks_tampered() {
    let t = spawn().await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    let issued = t.issue(&token, &batch(&product)).await;
    let id = issued["id"].as_str().unwrap();
    t.sequence();
    t.sql(&format!("UPDATE certificates SET payload = replace(payload, '酱板鸭', '假冒鸭'), status = 'suspended' WHERE id = '{id}'"));
    let label = path_of(issued["verify_url"].as_str().unwrap());
    let answer = t.get_json(&label).await.json();
    assert_eq!(answer["verdict"], "tampered");
    assert_eq!(
        answer["reasons"],
        json!([
            "payload_signature_invalid",
            "log_mismatch",
            "certificate_suspended"
        ])
    );
    let answer = t.get_json(&format!("/v/{id}?s=AAAA")).await.json();
    assert_eq!(answer["verdict"], "forged");
}

//! Roles and ownership on every write endpoint of the core API.

use serde_json::json;

use crate::helpers::{batch, spawn, CODES};

#[actix_web::test]
async fn tokens_are_required_and_checked() {
    let t = spawn().await;
    let body = json!({"kind": "producer", "name": "x", "credit_code": CODES[0], "region_code": "430700", "address": "a"});
    let res = t.post("/api/v1/organizations", None, &body).await;
    res.error(401, "unauthorized");
    assert_eq!(res.header("www-authenticate"), "Bearer");
    t.post("/api/v1/organizations", Some("ctr_not-a-real-token"), &body)
        .await
        .error(401, "unauthorized");
    let basic = actix_web::test::TestRequest::post()
        .uri("/api/v1/organizations")
        .insert_header(("Authorization", "Basic YWRtaW46YWRtaW4="))
        .set_json(&body);
    t.send(basic).await.error(401, "unauthorized");
    assert_eq!(t.counts()[0], 0);
}

#[actix_web::test]
async fn authentication_is_answered_before_the_body_is_judged() {
    use actix_web::test::TestRequest;
    let t = spawn().await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    let mut invalid = batch(&product);
    invalid["quantity"] = json!("many");
    let post = |token: Option<&str>| {
        crate::helpers::with_token(TestRequest::post().uri("/api/v1/certificates"), token)
    };
    for token in [None, Some("ctr_not-a-real-token")] {
        // A body that breaks a rule, one that is not JSON, one of the wrong type.
        t.send(post(token).set_json(&invalid))
            .await
            .error(401, "unauthorized");
        t.send(
            post(token)
                .insert_header(("Content-Type", "application/json"))
                .set_payload("{"),
        )
        .await
        .error(401, "unauthorized");
        t.send(post(token).set_payload("quantity=1"))
            .await
            .error(401, "unauthorized");
    }
    // With a good token the body's fault is named, as before.
    t.send(post(Some(&token)).set_json(&invalid))
        .await
        .error(422, "invalid_type");
    t.send(
        post(Some(&token))
            .insert_header(("Content-Type", "application/json"))
            .set_payload("{"),
    )
    .await
    .error(400, "malformed_json");
}

#[actix_web::test]
async fn roles_and_ownership() {
    let t = spawn().await;
    let (producer_a, product_a) = t.producer_with_product(CODES[0]).await;
    let (producer_b, _) = t.producer_with_product(CODES[1]).await;
    let (_, retailer) = t.org("retailer", CODES[2], "430702").await;
    let (regulator_id, regulator) = t.org("regulator", CODES[3], "430700").await;
    let before = t.counts();

    // Only the admin manages organizations.
    let org = json!({"kind": "producer", "name": "x", "credit_code": "91350200776049653A", "region_code": "430700", "address": "a"});
    for token in [&producer_a, &retailer, &regulator] {
        t.post("/api/v1/organizations", Some(token), &org)
            .await
            .error(403, "forbidden");
    }
    // Each organization makes tokens for itself only.
    for token in [&producer_a, &retailer] {
        t.post(
            &format!("/api/v1/organizations/{regulator_id}/tokens"),
            Some(token),
            &json!({}),
        )
        .await
        .error(403, "forbidden");
    }
    // Only producers register products and issue.
    let product = json!({"name": "n", "model": "m", "standard": "GB 1"});
    for token in [&retailer, &regulator, &t.admin] {
        t.post("/api/v1/products", Some(token), &product)
            .await
            .error(403, "forbidden");
        t.post("/api/v1/certificates", Some(token), &batch(&product_a))
            .await
            .error(403, "forbidden");
    }
    // A producer cannot issue on another producer's product.
    t.post(
        "/api/v1/certificates",
        Some(&producer_b),
        &batch(&product_a),
    )
    .await
    .error(403, "forbidden");
    assert_eq!(t.counts(), before, "denied requests wrote nothing");
    // An organization makes its own tokens.
    let own = t
        .post(
            &format!("/api/v1/organizations/{regulator_id}/tokens"),
            Some(&regulator),
            &json!({"name": "reports", "scope": "read"}),
        )
        .await;
    assert_eq!(own.status, 201, "{}", own.text());

    // Unit labels only for the issuing producer.
    let mut body = batch(&product_a);
    body["units"] = json!(2);
    let issued = t.issue(&producer_a, &body).await;
    let path = format!(
        "/api/v1/certificates/{}/units/1/qr.png",
        issued["id"].as_str().unwrap()
    );
    t.get(&path, None).await.error(401, "unauthorized");
    t.get(&path, Some(&producer_b))
        .await
        .error(403, "forbidden");
    t.get(&path, Some(&retailer)).await.error(403, "forbidden");
    assert_eq!(t.get(&path, Some(&producer_a)).await.status, 200);

    // Tokens for an unknown organization.
    t.post(
        "/api/v1/organizations/nope/tokens",
        Some(&t.admin),
        &json!({}),
    )
    .await
    .error(404, "not_found");
}

#[actix_web::test]
async fn stored_admin_token_from_the_cli_path_works() {
    let t = spawn().await;
    let state = t.state.clone();
    let token =
        actix_web::web::block(move || certrail::service::access::auth::create_admin_token(&state))
            .await
            .unwrap()
            .unwrap();
    assert!(token.starts_with("ctr_"));
    let body = json!({"kind": "lab", "name": "常德市检验检测中心", "credit_code": CODES[0], "region_code": "430700", "address": "常德"});
    assert_eq!(
        t.post("/api/v1/organizations", Some(&token), &body)
            .await
            .status,
        201
    );
    // Only the hash is stored.
    let mut conn = t.state.db.reader().unwrap();
    let hash = certrail::crypto::random::token_hash(&token);
    assert!(certrail::db::models::ApiToken::find(&mut conn, &hash)
        .unwrap()
        .is_some());
    assert!(certrail::db::models::ApiToken::find(&mut conn, &token)
        .unwrap()
        .is_none());
}

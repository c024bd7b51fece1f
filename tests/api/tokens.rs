//! API tokens with a name, a scope, an expiry and a last use: an organization lists and revokes
//! its own, and a revoked or expired token is refused at once, on every instance.

use serde_json::json;

use crate::helpers::{batch, second_instance, spawn, CODES};

#[actix_web::test]
async fn scoped_tokens_do_only_what_their_scope_allows_and_revocation_is_immediate() {
    let t = spawn().await;
    let (producer, admin_token) = t.org("producer", CODES[0], "430702").await;
    let tokens = format!("/api/v1/organizations/{producer}/tokens");
    let made = |scope: &str| json!({"name": format!("{scope} job"), "scope": scope});

    // The organization's admin-scoped token makes tokens for itself.
    let mut by_scope = std::collections::HashMap::new();
    for scope in ["read", "issue", "trail"] {
        let res = t.post(&tokens, Some(&admin_token), &made(scope)).await;
        assert_eq!(res.status, 201, "{}", res.text());
        let body = res.json();
        assert_eq!(
            (body["scope"].as_str(), body["name"].as_str()),
            (Some(scope), Some(format!("{scope} job").as_str()))
        );
        assert!(body.get("last_used_at").is_none());
        by_scope.insert(
            scope,
            (
                body["token"].as_str().unwrap().to_string(),
                body["id"].as_str().unwrap().to_string(),
            ),
        );
    }
    let (read, _) = &by_scope["read"];
    let (issue, issue_id) = &by_scope["issue"];
    let (trail, _) = &by_scope["trail"];

    let product = json!({"name": "酱板鸭", "model": "500g/袋", "standard": "GB/T 23586-2022"});
    t.post("/api/v1/products", Some(read), &product)
        .await
        .error(403, "forbidden");
    let created = t.post("/api/v1/products", Some(issue), &product).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let product_id = created.json()["id"].as_str().unwrap().to_string();
    assert_eq!(t.get("/api/v1/products", Some(read)).await.status, 200);
    let cert = t.issue(issue, &batch(&product_id)).await;
    let id = cert["id"].as_str().unwrap();
    let event = json!({"type": "shipped"});
    let events = format!("/api/v1/certificates/{id}/events");
    t.post(&events, Some(issue), &event)
        .await
        .error(403, "forbidden");
    t.post("/api/v1/certificates", Some(trail), &batch(&product_id))
        .await
        .error(403, "forbidden");
    assert_eq!(t.post(&events, Some(trail), &event).await.status, 201);
    // Tokens and keys are the admin scope's.
    t.get(&tokens, Some(issue)).await.error(403, "forbidden");
    t.post(&tokens, Some(trail), &made("admin"))
        .await
        .error(403, "forbidden");

    // The list shows names, scopes and last use, never a token.
    let list = t.get(&tokens, Some(&admin_token)).await;
    assert_eq!(list.status, 200);
    let text = list.text();
    assert!(!text.contains(issue.as_str()) && !text.contains(admin_token.as_str()));
    let listed = list.json();
    let issue_row = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == issue_id.as_str())
        .unwrap();
    assert_eq!(issue_row["scope"], "issue");
    assert!(issue_row["last_used_at"].is_string(), "{issue_row}");

    // Revoked: refused at once, here and on another instance.
    let other = second_instance(&t).await;
    assert_eq!(other.get("/api/v1/products", Some(issue)).await.status, 200);
    let res = t
        .send(
            actix_web::test::TestRequest::delete()
                .uri(&format!("{tokens}/{issue_id}"))
                .insert_header(("Authorization", format!("Bearer {admin_token}"))),
        )
        .await;
    assert_eq!(res.status, 204);
    t.get("/api/v1/products", Some(issue))
        .await
        .error(401, "unauthorized");
    other
        .get("/api/v1/products", Some(issue))
        .await
        .error(401, "unauthorized");
    let again = t
        .send(
            actix_web::test::TestRequest::delete()
                .uri(&format!("{tokens}/{issue_id}"))
                .insert_header(("Authorization", format!("Bearer {admin_token}"))),
        )
        .await;
    assert_eq!(again.status.as_u16(), 404);

    // Another organization manages only its own tokens.
    let (_, stranger) = t.org("producer", CODES[1], "430702").await;
    t.get(&tokens, Some(&stranger))
        .await
        .error(403, "forbidden");
}

#[actix_web::test]
async fn expired_tokens_are_refused_and_bad_requests_named() {
    let t = spawn().await;
    let (producer, admin_token) = t.org("producer", CODES[0], "430702").await;
    let tokens = format!("/api/v1/organizations/{producer}/tokens");
    t.post(&tokens, Some(&admin_token), &json!({"scope": "write"}))
        .await
        .error(422, "invalid_scope");
    t.post(
        &tokens,
        Some(&admin_token),
        &json!({"expires_at": "2020-01-01T00:00:00Z"}),
    )
    .await
    .error(422, "invalid_expiry");
    t.post(&tokens, Some(&admin_token), &json!({"expires_at": "soon"}))
        .await
        .error(422, "invalid_expiry");
    t.post(&tokens, Some(&admin_token), &json!({"colour": "red"}))
        .await
        .error(422, "unknown_field");
    let res = t
        .post(
            &tokens,
            Some(&admin_token),
            &json!({"name": "nightly", "scope": "read", "expires_at": "2099-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let body = res.json();
    assert_eq!(body["expires_at"], "2099-01-01T00:00:00Z");
    let token = body["token"].as_str().unwrap();
    assert_eq!(t.get("/api/v1/products", Some(token)).await.status, 200);
    let hash = certrail::crypto::random::token_hash(token);
    t.sql(&format!(
        "UPDATE api_tokens SET expires_at = created_at WHERE token_hash = '{hash}'"
    ));
    let res = t.get("/api/v1/products", Some(token)).await;
    let error = res.error(401, "unauthorized");
    assert!(error["message"].as_str().unwrap().contains("expired"));
}

#[actix_web::test]
async fn the_console_rotates_keys_registers_a_producer_key_and_manages_tokens() {
    use crate::console::{field, form, page, signed_in_producer};
    let t = spawn().await;
    let (session, _, _) = signed_in_producer(&t, CODES[0], "it.admin").await;
    let shown = t.send(page(&session, "/console/access?lang=en")).await;
    assert_eq!(shown.status, 200);
    let html = shown.text();
    assert!(
        html.contains("Signing keys") && html.contains("the platform") && html.contains("active")
    );
    let csrf = field(&html, "csrf_token");

    // Without the form's token nothing happens.
    let res = t
        .send(form(
            &session,
            "/console/access/rotate",
            &[("csrf_token", "x")],
        ))
        .await;
    assert_eq!(res.status, 403);
    let res = t
        .send(form(
            &session,
            "/console/access/rotate",
            &[("csrf_token", &csrf)],
        ))
        .await;
    assert_eq!(res.status, 303);
    let html = t
        .send(page(&session, "/console/access?lang=en&done=rotated"))
        .await
        .text();
    assert!(
        html.contains("retired") && html.contains("A new signing key is in use"),
        "{html}"
    );

    // A token made on the page is shown once; a bad expiry comes back as a problem.
    let res = t
        .send(form(
            &session,
            "/console/access/tokens?lang=en",
            &[
                ("csrf_token", &csrf),
                ("name", "ERP <nightly>"),
                ("scope", "issue"),
                ("expires", "2001-01-01"),
            ],
        ))
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
    let res = t
        .send(form(
            &session,
            "/console/access/tokens",
            &[
                ("csrf_token", &csrf),
                ("name", "ERP <nightly>"),
                ("scope", "issue"),
                ("expires", "2099-12-31"),
            ],
        ))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let html = res.text();
    assert!(html.contains("ERP &#60;nightly&#62;") && !html.contains("ERP <nightly>"));
    let start = html.find("ctr_").expect("the new token is shown");
    let token: String = html[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    assert_eq!(t.get("/api/v1/products", Some(&token)).await.status, 200);
    assert!(
        !t.send(page(&session, "/console/access"))
            .await
            .text()
            .contains(&token),
        "shown once"
    );

    // Revoked from the page: refused at once.
    let hash = certrail::crypto::random::token_hash(&token);
    let res = t
        .send(form(
            &session,
            &format!("/console/access/tokens/{}/revoke", &hash[..16]),
            &[("csrf_token", &csrf)],
        ))
        .await;
    assert_eq!(res.status, 303);
    t.get("/api/v1/products", Some(&token))
        .await
        .error(401, "unauthorized");

    // Registering the producer's own key from the page.
    let own = ed25519_dalek::SigningKey::from_bytes(&[5u8; 32]);
    let public = certrail::crypto::b64url(own.verifying_key().as_bytes());
    let res = t
        .send(form(
            &session,
            "/console/access/keys",
            &[("csrf_token", &csrf), ("public_key", "nonsense")],
        ))
        .await;
    assert_eq!(res.status, 422);
    let res = t
        .send(form(
            &session,
            "/console/access/keys",
            &[("csrf_token", &csrf), ("public_key", &public)],
        ))
        .await;
    assert_eq!(res.status, 303);
    let html = t
        .send(page(&session, "/console/access?lang=en"))
        .await
        .text();
    assert!(html.contains("this organization"), "{html}");
}

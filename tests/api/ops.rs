//! Operations endpoints: Prometheus metrics and the OpenAPI document.

use crate::helpers::{batch, path_of, spawn, CODES};

#[actix_web::test]
async fn metrics_count_requests_issuance_and_verdicts() {
    let t = spawn().await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    let issued = t.issue(&token, &batch(&product)).await;
    t.get_json(&path_of(issued["verify_url"].as_str().unwrap()))
        .await;
    t.get_json("/v/AAAAAAAAAAAAAAAA?s=x").await;

    let res = t.get("/metrics", None).await;
    assert_eq!(res.status, 200);
    assert!(res
        .header("content-type")
        .starts_with("application/openmetrics-text"));
    let text = res.text();
    assert!(
        text.contains("certrail_certificates_issued_total 1"),
        "{text}"
    );
    assert!(
        text.contains(r#"certrail_verifications_total{verdict="genuine"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"certrail_verifications_total{verdict="unknown"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(
            r#"certrail_http_requests_total{method="GET",route="/v/{id}",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/api/v1/certificates",status="201""#),
        "{text}"
    );
    assert!(!text.contains(&token), "no secrets in metrics");
}

#[actix_web::test]
async fn openapi_document_lists_the_core_api() {
    let t = spawn().await;
    let res = t.get("/api-docs/openapi.json", None).await;
    assert_eq!(res.status, 200);
    let doc = res.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/api/v1/organizations",
        "/api/v1/organizations/{id}/tokens",
        "/api/v1/products",
        "/api/v1/certificates",
        "/api/v1/certificates/{id}/qr.{format}",
        "/api/v1/certificates/{id}/units/{serial}/qr.{format}",
        "/api/v1/keys",
        "/v/{id}",
        "/v/{id}/{serial}",
        "/healthz",
    ] {
        assert!(paths.contains_key(path), "{path} missing");
    }
    let schemas = &doc["components"]["schemas"];
    for name in ["ErrorEnvelope", "Payload", "Answer", "Issued", "TrustList"] {
        assert!(schemas.get(name).is_some(), "{name} missing");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let verdicts = &schemas["Verdict"]["enum"];
    assert_eq!(verdicts.as_array().unwrap().len(), 8, "{verdicts}");
}

#[actix_web::test]
async fn metrics_labels_stay_bounded_whatever_methods_clients_send() {
    let t = crate::helpers::spawn().await;
    for i in 0..200 {
        let method = actix_web::http::Method::from_bytes(format!("X{i}").as_bytes()).unwrap();
        t.send(
            actix_web::test::TestRequest::default()
                .method(method)
                .uri("/healthz"),
        )
        .await;
    }
    let text = t.get("/metrics", None).await.text();
    assert!(!text.contains("method=\"X1\""), "{text}");
    assert!(text.contains("method=\"OTHER\""), "{text}");
    let series = text
        .lines()
        .filter(|l| l.starts_with("certrail_http_requests_total{"))
        .count();
    assert!(series < 10, "{series} series: {text}");
}

#[actix_web::test]
async fn head_healthz_answers_like_get() {
    let t = crate::helpers::spawn().await;
    let res = t
        .send(
            actix_web::test::TestRequest::default()
                .method(actix_web::http::Method::HEAD)
                .uri("/healthz"),
        )
        .await;
    assert_eq!(res.status, 200);
}

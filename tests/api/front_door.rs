//! The front door: the landing page, first-run guidance, public lookup by certificate number,
//! browser 404 pages, robots.txt and the favicon.

use actix_web::test::TestRequest;
use serde_json::json;

use crate::helpers::{batch, path_of, spawn, CODES};

fn browser(uri: &str) -> TestRequest {
    TestRequest::get()
        .uri(uri)
        .insert_header(("Accept", "text/html,application/xhtml+xml"))
}

/// The text of `html` from the element with `id` on (the section it heads).
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in {html}"));
    &html[start..]
}

#[actix_web::test]
async fn the_landing_page_says_what_this_is_and_how_to_begin_on_a_fresh_platform() {
    let t = spawn().await;
    let res = t.send(browser("/")).await;
    assert_eq!(res.status, 200);
    assert!(res.header("content-type").starts_with("text/html"));
    let html = res.text();
    assert!(html.contains("<html lang=\"zh-CN\""), "{html}");
    assert!(html.contains("数字产品合格证"));
    let begin = section(&html, "begin");
    assert!(begin.contains("certrail demo") && begin.contains("certrail admin token"));
    let lookup = section(&html, "lookup");
    assert!(lookup.contains("action=\"/lookup\"") && lookup.contains("id=\"camera\""));
    for link in ["/login", "/api/v1/keys", "/api-docs/openapi.json"] {
        assert!(html.contains(&format!("href=\"{link}\"")), "{link}");
    }
    let english = t.send(browser("/?lang=en")).await.text();
    assert!(english.contains("<html lang=\"en\"") && english.contains("How to begin"));

    // Once an organization exists, the first-run guidance is gone.
    t.org("producer", CODES[0], "430702").await;
    let html = t.send(browser("/")).await.text();
    assert!(!html.contains("id=\"begin\""), "{html}");
    assert!(html.contains("id=\"lookup\""));
}

#[actix_web::test]
async fn a_certificate_number_finds_its_record_and_never_its_signature() {
    let t = spawn().await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    let issued = t.issue(&token, &batch(&product)).await;
    let id = issued["id"].as_str().unwrap();
    let signature = issued["signature"].as_str().unwrap();

    // Typed into the front page: the number, or a label's address.
    let res = t.send(browser(&format!("/lookup?q=+{id}+"))).await;
    assert_eq!(res.status, 303);
    assert_eq!(res.header("location"), format!("/c/{id}"));
    let label = issued["verify_url"].as_str().unwrap();
    let res = t
        .send(browser(&format!("/lookup?q={}", urlencode(label))))
        .await;
    assert_eq!(res.header("location"), path_of(label));
    let res = t.send(browser("/lookup?q=%3Cscript%3E")).await;
    assert_eq!(res.status, 422);
    let html = res.text();
    assert!(
        html.contains("aria-invalid=\"true\"") && html.contains("&#60;script&#62;"),
        "{html}"
    );

    // The record page: headed as a record, the content and status, no signature.
    let html = t.send(browser(&format!("/c/{id}"))).await.text();
    assert!(html.contains("<h1>合格证记录</h1>"), "{html}");
    assert!(html.contains("只有扫描商品上的标签才能验证标签"));
    assert!(html.contains("酱板鸭") && html.contains("20261120-01") && html.contains("有效"));
    assert!(
        !html.contains(signature),
        "the record never shows the signature"
    );
    let english = t.send(browser(&format!("/c/{id}?lang=en"))).await.text();
    assert!(english.contains("<h1>Certificate record</h1>") && english.contains("Active"));

    // JSON: the same record, no signature anywhere.
    let res = t.get_json(&format!("/c/{id}")).await;
    assert_eq!(res.status, 200);
    let record = res.json();
    assert_eq!(record["id"], id);
    assert_eq!(record["status"], "active");
    assert_eq!(record["payload"]["batch"]["no"], "20261120-01");
    assert_eq!(record["trail_total"], 1);
    assert!(record["notice"]
        .as_str()
        .unwrap()
        .contains("only scanning the label"));
    assert!(!res.text().contains(signature));

    // A status change shows at once.
    let res = t
        .post(
            &format!("/api/v1/certificates/{id}/revoke"),
            Some(&token),
            &json!({"reason": "标签印错"}),
        )
        .await;
    assert_eq!(res.status, 200);
    let record = t.get_json(&format!("/c/{id}")).await.json();
    assert_eq!(record["status"], "revoked");
    assert_eq!(record["status_reason"], "标签印错");

    // Unknown numbers: a clear not-found, as a page or as the envelope.
    let res = t.send(browser("/c/NoSuchCertificate1")).await;
    assert_eq!(res.status, 404);
    assert!(res.text().contains("找不到"));
    t.get_json("/c/NoSuchCertificate1")
        .await
        .error(404, "not_found");
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[actix_web::test]
async fn browsers_get_a_404_page_and_api_clients_the_envelope() {
    let t = spawn().await;
    let res = t.send(browser("/no/such/page")).await;
    assert_eq!(res.status, 404);
    let html = res.text();
    assert!(res.header("content-type").starts_with("text/html"));
    assert!(
        html.contains("role=\"alert\"") && html.contains("找不到"),
        "{html}"
    );
    assert!(
        html.contains("href=\"/\""),
        "back to the front page: {html}"
    );
    let english = t.send(browser("/no/such/page?lang=en")).await.text();
    assert!(english.contains("Not found"));
    // curl and scanners: the contract's envelope, byte for byte as before.
    t.get("/no/such/page", None).await.error(404, "not_found");
    t.send(browser("/api/v1/nothing-here"))
        .await
        .error(404, "not_found");
}

#[actix_web::test]
async fn robots_keep_out_of_label_pages_and_there_is_a_favicon() {
    let t = spawn().await;
    let res = t.get("/robots.txt", None).await;
    assert_eq!(res.status, 200);
    assert!(
        res.text().lines().any(|l| l == "Disallow: /v/"),
        "{}",
        res.text()
    );
    for path in ["/favicon.svg", "/favicon.ico"] {
        let res = t.get(path, None).await;
        assert_eq!(res.status, 200, "{path}");
        assert_eq!(res.header("content-type"), "image/svg+xml");
        assert!(res.text().starts_with("<svg"));
    }
    let html = t.send(browser("/")).await.text();
    assert!(html.contains("rel=\"icon\" href=\"/favicon.svg\""));
}

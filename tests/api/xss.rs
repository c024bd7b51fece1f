//! Every free-text field, and every reflected query parameter, renders as text on every page
//! that shows it: `<script>`, quotes and an `onerror` image are escaped, never markup.

use serde_json::json;

use crate::console::{field, form, page, sign_in};
use crate::helpers::{path_of, spawn, CODES};

const HOSTILE: &str = "<script>alert(\"x\")</script>'\"><img src=x onerror=alert(1)>";
/// For fields of at most 16 characters.
const SHORT: &str = "<b>\"'&</b>";

#[track_caller]
fn assert_inert(what: &str, html: &str) {
    for raw in [
        "<script>alert",
        "<img src=x",
        "\"><img",
        "onerror=alert(1)>",
    ] {
        assert!(
            !html.contains(raw),
            "{what}: {raw:?} came through unescaped"
        );
    }
    assert!(
        html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"),
        "{what}: the hostile text is not shown (escaped) at all"
    );
}

fn query(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[actix_web::test]
async fn hostile_text_renders_as_text_on_every_page() {
    let t = spawn().await;
    let org = |kind: &str, code: &str, region: &str| json!({"kind": kind, "name": HOSTILE, "credit_code": code, "region_code": region, "address": HOSTILE});
    let create = |body: serde_json::Value| {
        let t = &t;
        async move {
            let res = t.post("/api/v1/organizations", Some(&t.admin), &body).await;
            assert_eq!(res.status, 201, "{}", res.text());
            let id = res.json()["id"].as_str().unwrap().to_string();
            let token = t
                .post(
                    &format!("/api/v1/organizations/{id}/tokens"),
                    Some(&t.admin),
                    &json!({}),
                )
                .await
                .json()["token"]
                .as_str()
                .unwrap()
                .to_string();
            (id, token)
        }
    };
    let (producer, token) = create(org("producer", CODES[0], "430702")).await;
    let (retailer, retailer_token) = create(org("retailer", CODES[1], "430702")).await;
    let (regulator, _) = create(org("regulator", CODES[2], "430700")).await;
    let product = t
        .post(
            "/api/v1/products",
            Some(&token),
            &json!({"name": HOSTILE, "model": HOSTILE, "standard": HOSTILE, "category": HOSTILE}),
        )
        .await;
    assert_eq!(product.status, 201, "{}", product.text());
    let product = product.json()["id"].as_str().unwrap().to_string();
    let mut body = crate::helpers::batch(&product);
    for key in ["batch_no", "inspector", "lab_report_no"] {
        body[key] = json!(HOSTILE);
    }
    body["unit"] = json!(SHORT);
    body["items"] =
        json!([{"name": HOSTILE, "requirement": HOSTILE, "measured": HOSTILE, "verdict": "pass"}]);
    let issued = t.issue(&token, &body).await;
    let id = issued["id"].as_str().unwrap().to_string();
    let verify = path_of(issued["verify_url"].as_str().unwrap());
    t.ship(&token, &id, &retailer, None).await;
    let intake = t
        .post(
            &format!("/api/v1/certificates/{id}/events"),
            Some(&retailer_token),
            &json!({"type": "received", "label_url": issued["verify_url"], "note": HOSTILE}),
        )
        .await;
    assert_eq!(intake.status, 201, "{}", intake.text());

    // The consumer page, and a problem report with hostile text.
    let consumer = t.get(&verify, None).await;
    assert_inert("consumer page", &consumer.text());
    let csrf = field(&consumer.text(), "csrf_token");
    let cookie = consumer
        .headers
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("certrail_form_csrf="))
        .map(|v| v.split(';').next().unwrap().to_string())
        .unwrap();
    let report = actix_web::test::TestRequest::post()
        .uri(&format!("/v/{id}/report"))
        .cookie(actix_web::cookie::Cookie::new("certrail_form_csrf", cookie))
        .set_form([
            ("csrf_token", csrf.as_str()),
            ("category", "other"),
            ("message", HOSTILE),
            ("contact", HOSTILE),
        ]);
    assert_eq!(t.send(report).await.status, 200);

    // The consoles, with the hostile text also reflected through the query string.
    let producer_session = sign_in(&t, &producer, "maker").await;
    let retailer_session = sign_in(&t, &retailer, "shop").await;
    let regulator_session = sign_in(&t, &regulator, "inspector").await;
    let pages = [
        (
            "producer console",
            &producer_session,
            format!("/console?q={}", query(HOSTILE)),
        ),
        (
            "certificate page",
            &producer_session,
            format!("/console/certificates/{id}"),
        ),
        (
            "issue form",
            &producer_session,
            "/console/issue".to_string(),
        ),
        (
            "retailer console",
            &retailer_session,
            format!("/console?label={}", query(HOSTILE)),
        ),
        (
            "retailer check",
            &retailer_session,
            format!(
                "/console?label={}",
                query(issued["verify_url"].as_str().unwrap())
            ),
        ),
        (
            "regulator console",
            &regulator_session,
            format!("/console?q={}", query("常德")),
        ),
        (
            "regulator search",
            &regulator_session,
            format!("/console?q={}", query(HOSTILE)),
        ),
        (
            "regulator certificate page",
            &regulator_session,
            format!("/console/certificates/{id}"),
        ),
    ];
    for (what, session, uri) in pages {
        let res = t.send(page(session, &uri)).await;
        assert_eq!(res.status, 200, "{what}: {}", res.text());
        assert_inert(what, &res.text());
    }

    // A refused form shows the hostile values it kept as text too.
    let issue_page = t
        .send(page(&producer_session, "/console/issue"))
        .await
        .text();
    let csrf = field(&issue_page, "csrf_token");
    let refused = t
        .send(form(
            &producer_session,
            "/console/issue",
            &[
                ("csrf_token", csrf.as_str()),
                ("product_id", product.as_str()),
                ("batch_no", HOSTILE),
                ("quantity", "x"),
            ],
        ))
        .await;
    assert_eq!(refused.status, 422);
    assert_inert("refused issue form", &refused.text());
}

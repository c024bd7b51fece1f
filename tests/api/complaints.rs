//! Consumers report problems from a label's page without signing in; the producer and the
//! regulators of its region read them; reports are CSRF-checked, validated and rate limited.

use actix_web::cookie::Cookie;
use actix_web::test::TestRequest;
use serde_json::Value;

use crate::helpers::{batch, path_of, spawn, CODES};

/// The CSRF field of the report form and the cookie the page set with it.
fn form_tokens(res: &crate::helpers::Resp) -> (String, String) {
    let html = res.text();
    let start = html
        .find("name=\"csrf_token\" value=\"")
        .expect("a report form")
        + 25;
    let field = html[start..start + html[start..].find('"').unwrap()].to_string();
    let cookie = res
        .headers
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("certrail_form_csrf="))
        .map(|v| v.split(';').next().unwrap().to_string())
        .expect("a form cookie");
    (field, cookie)
}

fn report(path: &str, cookie: &str, field: &str, category: &str, message: &str) -> TestRequest {
    TestRequest::post()
        .uri(path)
        .cookie(Cookie::new("certrail_form_csrf", cookie.to_string()))
        .set_form([
            ("csrf_token", field),
            ("category", category),
            ("message", message),
            ("contact", ""),
        ])
}

#[actix_web::test]
async fn a_consumer_reports_and_the_producer_and_regulator_read_it() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(CODES[0]).await;
    let (other, _) = t.producer_with_product(CODES[1]).await;
    let (_, regulator) = t.org("regulator", CODES[2], "430700").await;
    let (_, far_regulator) = t.org("regulator", CODES[3], "110000").await;
    let issued = t.issue(&producer, &batch(&product)).await;
    let id = issued["id"].as_str().unwrap();
    let page = t
        .get(&path_of(issued["verify_url"].as_str().unwrap()), None)
        .await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains(&format!("action=\"/v/{id}/report?s=")));
    let (field, cookie) = form_tokens(&page);
    let action = format!("/v/{id}/report");
    let hostile = "<script>alert(\"x\")</script> 假冒 'quoted'";

    let res = t
        .send(report(&action, &cookie, "forged", "quality", "x"))
        .await;
    assert_eq!(res.status, 403);
    let html = t
        .send(report(&action, &cookie, &field, "lottery", "x"))
        .await
        .page_error(422, "请选择问题类型");
    assert!(
        html.contains(&format!("href=\"/v/{id}?")),
        "back to the certificate"
    );
    t.send(report(&action, &cookie, &field, "quality", "   "))
        .await
        .page_error(422, "必须填写");
    t.send(report(
        "/v/AAAAAAAAAAAAAAAA/report",
        &cookie,
        &field,
        "quality",
        "x",
    ))
    .await
    .page_error(404, "找不到");
    let res = t
        .send(report(&action, &cookie, &field, "suspected_fake", hostile))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(res.text().contains("感谢您的反馈"));

    let list = |token: String| {
        let t = &t;
        async move { t.get("/api/v1/complaints", Some(&token)).await }
    };
    let mine = list(producer.clone()).await;
    assert_eq!(mine.status, 200, "{}", mine.text());
    let mine: Value = mine.json();
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["message"], hostile, "stored verbatim");
    assert_eq!(mine[0]["category"], "suspected_fake");
    assert_eq!(mine[0]["certificate_id"], id);
    assert_eq!(list(regulator).await.json().as_array().unwrap().len(), 1);
    assert_eq!(list(other).await.json().as_array().unwrap().len(), 0);
    assert_eq!(
        list(far_regulator).await.json().as_array().unwrap().len(),
        0
    );
    t.get("/api/v1/complaints", None)
        .await
        .error(401, "unauthorized");
}

#[actix_web::test]
async fn reports_are_rate_limited_per_client() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(CODES[0]).await;
    let issued = t.issue(&producer, &batch(&product)).await;
    let page = t
        .get(&path_of(issued["verify_url"].as_str().unwrap()), None)
        .await;
    let (field, cookie) = form_tokens(&page);
    let action = format!("/v/{}/report", issued["id"].as_str().unwrap());
    let from = |ip: &str| {
        report(&action, &cookie, &field, "quality", "包装破损")
            .peer_addr(format!("{ip}:40000").parse().unwrap())
    };
    for _ in 0..5 {
        assert_eq!(t.send(from("203.0.113.7")).await.status, 200);
    }
    t.send(from("203.0.113.7"))
        .await
        .page_error(429, "提交太频繁");
    // A client asking for JSON still gets the envelope.
    t.send(from("203.0.113.7").insert_header(("accept", "application/json")))
        .await
        .error(429, "rate_limited");
    assert_eq!(t.send(from("198.51.100.2")).await.status, 200);
}

#[actix_web::test]
async fn a_report_names_one_of_the_certificates_units_or_none() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(CODES[0]).await;
    let mut body = batch(&product);
    body["units"] = serde_json::json!(50);
    let issued = t.issue(&producer, &body).await;
    let id = issued["id"].as_str().unwrap();
    let page = t
        .get(&path_of(issued["verify_url"].as_str().unwrap()), None)
        .await;
    let (field, cookie) = form_tokens(&page);
    // Each report comes from its own address: the per-client limit is not what is tested.
    let from = |n: u8| std::net::SocketAddr::from(([10, 0, 0, n], 4000));
    for (n, serial) in ["999999", "-5", "0", "51"].into_iter().enumerate() {
        t.send(
            report(
                &format!("/v/{id}/{serial}/report"),
                &cookie,
                &field,
                "quality",
                "x",
            )
            .peer_addr(from(n as u8)),
        )
        .await
        .page_error(422, "数值超出允许范围");
    }
    let api = format!("/api/v1/certificates/{id}/complaints");
    let complain = |n: u8, serial: i64| {
        TestRequest::post()
            .uri(&api)
            .peer_addr(from(n))
            .set_json(serde_json::json!({"category": "quality", "message": "x", "serial": serial}))
    };
    for (n, serial) in [999_999, -5, 0, 51].into_iter().enumerate() {
        let err = t
            .send(complain(10 + n as u8, serial))
            .await
            .error(422, "out_of_range");
        assert_eq!(err["field"], "serial");
    }
    let none = t.get("/api/v1/complaints", Some(&producer)).await.json();
    assert_eq!(none.as_array().unwrap().len(), 0, "nothing stored: {none}");
    // The first and the last unit are real ones.
    for (n, serial) in [(20, 1), (21, 50)] {
        let res = t.send(complain(n, serial)).await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
    let stored = t.get("/api/v1/complaints", Some(&producer)).await.json();
    let serials: Vec<_> = stored
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["serial"].clone())
        .collect();
    assert!(serials.contains(&serde_json::json!(1)) && serials.contains(&serde_json::json!(50)));

    // A certificate without unit labels takes no serial.
    let mut plain = batch(&product);
    plain["batch_no"] = serde_json::json!("20261120-02");
    let plain = t.issue(&producer, &plain).await;
    let plain = plain["id"].as_str().unwrap();
    t.post(
        &format!("/api/v1/certificates/{plain}/complaints"),
        None,
        &serde_json::json!({"category": "quality", "message": "x", "serial": 1}),
    )
    .await
    .error(422, "not_serialized");
}

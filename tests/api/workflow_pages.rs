//! The regulatory workflows through the pages: a consumer asks for 先行赔付 and follows the
//! case without an account, a seller answers it from its console, a producer asks a regulator
//! to lift its suspension and the regulator decides, a retailer acknowledges a recall, and an
//! organization registers a webhook.

use actix_web::cookie::Cookie;
use actix_web::test::TestRequest;
use serde_json::json;

use crate::console::{field, form, page, sign_in};
use crate::helpers::{batch, code, path_of, spawn};

/// The form CSRF field of a public page and the cookie set with it.
fn public_tokens(res: &crate::helpers::Resp) -> (String, String) {
    let cookie = res
        .headers
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("certrail_form_csrf="))
        .map(|v| v.split(';').next().unwrap().to_string())
        .expect("a form cookie");
    (field(&res.text(), "csrf_token"), cookie)
}

#[actix_web::test]
async fn a_consumer_claims_a_seller_answers_and_the_consumer_closes() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(&code(1)).await;
    let (shop_id, shop) = t.org("retailer", &code(2), "430702").await;
    let issued = t.issue(&producer, &batch(&product)).await;
    let id = issued["id"].as_str().unwrap();
    t.ship(&producer, id, &shop_id, None).await;
    t.post(
        &format!("/api/v1/certificates/{id}/events"),
        Some(&shop),
        &json!({"type": "received", "label_url": issued["verify_url"]}),
    )
    .await;
    let label = path_of(issued["verify_url"].as_str().unwrap());
    let html = t.get(&label, None).await.text();
    let claim_link = format!("/v/{id}/claim?s=");
    assert!(html.contains(&claim_link), "the label page offers 先行赔付");
    assert!(html.contains("action=\"/cases\""), "and a case lookup");

    let start = html.find(&claim_link).unwrap();
    let href = html[start..start + html[start..].find('"').unwrap()].replace("&amp;", "&");
    let claim = t.get(&href, None).await;
    assert_eq!(claim.status, 200);
    let claim_html = claim.text();
    assert!(
        claim_html.contains(&format!("value=\"{shop_id}\"")),
        "the seller can be named"
    );
    let (csrf, cookie) = public_tokens(&claim);
    let post = |fields: Vec<(&'static str, String)>| {
        TestRequest::post()
            .uri(&href)
            .cookie(Cookie::new("certrail_form_csrf", cookie.clone()))
            .set_form(fields)
    };
    let fields = |respondent: &str| {
        vec![
            ("csrf_token", csrf.clone()),
            ("respondent_id", respondent.to_string()),
            ("category", "quality".to_string()),
            ("message", "<b>鸭肉</b>有异味".to_string()),
            ("claim", "退款".to_string()),
            ("contact", String::new()),
        ]
    };
    let refused = t.send(post(fields("someone-else"))).await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.text().contains("申请先行赔付"),
        "the form again, with the problem"
    );
    let res = t.send(post(fields(&shop_id))).await;
    assert_eq!(res.status, 303, "{}", res.text());
    let case_url = res.header("location");
    assert!(case_url.starts_with("/cases/PF-"), "{case_url}");
    let number = case_url.trim_start_matches("/cases/").to_string();
    let case_page = t.get(&case_url, None).await;
    assert_eq!(case_page.status, 200);
    assert!(case_page.text().contains("等待对方受理"));
    let lookup = t
        .get(&format!("/cases?number={}", number.to_lowercase()), None)
        .await;
    assert_eq!(lookup.status, 303);
    assert_eq!(lookup.header("location"), case_url);

    // The seller answers from its console: escaped, and the amount in yuan.
    let session = sign_in(&t, &shop_id, "shop.wang").await;
    let console = t.send(page(&session, "/console/cases")).await.text();
    assert!(
        console.contains("&#60;b&#62;鸭肉") && !console.contains("<b>鸭肉"),
        "{console}"
    );
    assert!(
        !console.contains(&number),
        "the number is the consumer's alone"
    );
    let csrf = field(&console, "csrf_token");
    let at = console.find("/console/cases/").unwrap() + "/console/cases/".len();
    let case_id = console[at..at + console[at..].find('/').unwrap()].to_string();
    let res = t
        .send(form(
            &session,
            &format!("/console/cases/{case_id}/accept"),
            &[("csrf_token", &csrf)],
        ))
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let res = t
        .send(form(
            &session,
            &format!("/console/cases/{case_id}/answer"),
            &[
                ("csrf_token", &csrf),
                ("outcome", "compensated"),
                ("amount", "12.3x"),
                ("text", "已退款"),
            ],
        ))
        .await;
    assert_eq!(
        res.status, 422,
        "an unreadable amount is refused on the page"
    );
    let res = t
        .send(form(
            &session,
            &format!("/console/cases/{case_id}/answer"),
            &[
                ("csrf_token", &csrf),
                ("outcome", "compensated"),
                ("amount", "39.8"),
                ("text", "已退款"),
            ],
        ))
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let case_page = t.get(&case_url, None).await;
    let html = case_page.text();
    assert!(html.contains("¥39.80"), "{html}");
    let (csrf, cookie) = public_tokens(&case_page);
    let res = t
        .send(
            TestRequest::post()
                .uri(&format!("{case_url}/confirm"))
                .cookie(Cookie::new("certrail_form_csrf", cookie))
                .set_form([("csrf_token", csrf.as_str())]),
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert!(t.get(&case_url, None).await.text().contains("已结案"));
}

#[actix_web::test]
async fn a_producer_asks_and_the_regulator_lifts_its_suspension_on_the_pages() {
    let t = spawn().await;
    let (producer_org, producer) = t.org("producer", &code(1), "430702").await;
    let (regulator_org, _) = t.org("regulator", &code(2), "430700").await;
    let product = t
        .post(
            "/api/v1/products",
            Some(&producer),
            &json!({"name": "酱板鸭", "model": "500g/袋", "standard": "GB/T 23586-2022"}),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let issued = t.issue(&producer, &batch(&product)).await;
    let id = issued["id"].as_str().unwrap();
    let label = path_of(issued["verify_url"].as_str().unwrap());
    let inspector = sign_in(&t, &regulator_org, "inspector.li").await;
    let owner = sign_in(&t, &producer_org, "qc.zhang").await;
    let cert_page = format!("/console/certificates/{id}");

    let html = t.send(page(&inspector, &cert_page)).await.text();
    assert!(
        html.contains("name=\"legal_basis\""),
        "a regulator's suspension names its basis"
    );
    let csrf = field(&html, "csrf_token");
    let res = t
        .send(form(
            &inspector,
            &format!("{cert_page}/suspend"),
            &[
                ("csrf_token", &csrf),
                ("reason", "标签不符"),
                ("legal_basis", "《产品质量法》第二十七条"),
            ],
        ))
        .await;
    assert_eq!(res.status, 303, "{}", res.text());

    // The producer sees why, and can only ask.
    let html = t.send(page(&owner, &cert_page)).await.text();
    assert!(
        html.contains("《产品质量法》第二十七条") && html.contains("申请恢复"),
        "{html}"
    );
    assert!(
        !html.contains(&format!("{cert_page}/reinstate\"")),
        "no reinstate button"
    );
    let csrf = field(&html, "csrf_token");
    let res = t
        .send(form(
            &owner,
            &format!("{cert_page}/reinstatement"),
            &[
                ("csrf_token", &csrf),
                ("evidence", "已更换标签"),
                ("lab_report_no", ""),
            ],
        ))
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert!(t
        .send(page(&owner, &cert_page))
        .await
        .text()
        .contains("等待监管部门决定"));

    // The regulator decides on its oversight page.
    let html = t.send(page(&inspector, "/console/oversight")).await.text();
    assert!(
        html.contains("已更换标签") && html.contains("certificate.suspend"),
        "{html}"
    );
    let start = html.find("/console/oversight/requests/").unwrap();
    let action = &html[start..start + html[start..].find('"').unwrap()];
    let csrf = field(&html, "csrf_token");
    let res = t
        .send(form(
            &inspector,
            action,
            &[
                ("csrf_token", &csrf),
                ("decision", "approve"),
                ("note", "复查合格"),
            ],
        ))
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(t.get_json(&label).await.json()["verdict"], "genuine");
    let owner_view = t.send(page(&owner, "/console/oversight")).await.text();
    assert!(
        owner_view.contains("已批准") && !owner_view.contains("批准恢复"),
        "read only for the producer"
    );

    // Suspending the right to issue from the page, by credit code.
    let res = t
        .send(form(
            &inspector,
            "/console/oversight/sanctions",
            &[
                ("csrf_token", &csrf),
                ("credit_code", &code(1)),
                ("reason", "多次不合格"),
                ("legal_basis", "《办法》第三十条"),
            ],
        ))
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    t.post("/api/v1/certificates", Some(&producer), &batch(&product))
        .await
        .error(403, "issuance_suspended");
}

#[actix_web::test]
async fn a_retailer_acknowledges_a_recall_and_registers_a_webhook_on_the_pages() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(&code(1)).await;
    let (shop_id, shop) = t.org("retailer", &code(2), "430702").await;
    let issued = t.issue(&producer, &batch(&product)).await;
    let id = issued["id"].as_str().unwrap();
    t.ship(&producer, id, &shop_id, None).await;
    t.post(
        &format!("/api/v1/certificates/{id}/events"),
        Some(&shop),
        &json!({"type": "received", "label_url": issued["verify_url"]}),
    )
    .await;
    let recall = t
        .post(
            "/api/v1/recalls",
            Some(&producer),
            &json!({"product_id": product, "reason": "金属异物"}),
        )
        .await
        .json();
    let recall_id = recall["id"].as_str().unwrap();
    let session = sign_in(&t, &shop_id, "shop.li").await;
    let home = t.send(page(&session, "/console")).await.text();
    assert!(home.contains(&format!("/console/recalls/{recall_id}")) && home.contains("请确认下架"));
    let detail = t
        .send(page(&session, &format!("/console/recalls/{recall_id}")))
        .await
        .text();
    assert!(
        detail.contains("待确认") && detail.contains("确认下架"),
        "{detail}"
    );
    let csrf = field(&detail, "csrf_token");
    let ack = format!("/console/recalls/{recall_id}/acknowledge");
    let res = t
        .send(form(
            &session,
            &ack,
            &[
                ("csrf_token", &csrf),
                ("quantity_removed", "many"),
                ("note", ""),
            ],
        ))
        .await;
    assert_eq!(res.status, 422);
    let res = t
        .send(form(
            &session,
            &ack,
            &[
                ("csrf_token", &csrf),
                ("quantity_removed", "12"),
                ("note", "已封存"),
            ],
        ))
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let detail = t
        .send(page(&session, &format!("/console/recalls/{recall_id}")))
        .await
        .text();
    assert!(
        detail.contains("已确认") && detail.contains("12 · 已封存"),
        "{detail}"
    );
    assert!(!detail.contains("name=\"quantity_removed\""), "once only");

    let access = t.send(page(&session, "/console/access")).await.text();
    let csrf = field(&access, "csrf_token");
    let res = t
        .send(form(
            &session,
            "/console/access/webhooks",
            &[
                ("csrf_token", &csrf),
                ("url", "https://erp.example.cn/hooks"),
                ("recall_created", "1"),
            ],
        ))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let html = res.text();
    assert!(
        html.contains("whsec_") && html.contains("https://erp.example.cn/hooks"),
        "{html}"
    );
    let listed = t.get("/api/v1/webhooks", Some(&shop)).await.json();
    assert_eq!(listed[0]["events"], json!(["recall.created"]));
    let again = t.send(page(&session, "/console/access")).await.text();
    assert!(!again.contains("whsec_"), "the secret is shown once");
    assert_eq!(
        again.matches("aria-labelledby=\"webhooks\"").count(),
        1,
        "one webhooks section"
    );
}

//! The producer's console through its pages: issue with inline validation, find, print, revoke;
//! free text is escaped; another producer's certificate is out of reach.

use actix_web::cookie::Cookie;
use actix_web::test::TestRequest;
use serde_json::json;

use crate::helpers::{spawn, Resp, TestApp, CODES};

/// Creates page user `username` for organization `org`; returns the generated password.
pub async fn new_user<S, B>(t: &TestApp<S>, org: &str, username: &str) -> String
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let created = t
        .post(
            &format!("/api/v1/organizations/{org}/users"),
            Some(&t.admin),
            &json!({"username": username}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    created.json()["password"].as_str().unwrap().to_string()
}

/// Signs `username` in through the sign-in form; the session cookie, or the refused response.
pub async fn log_in<S, B>(t: &TestApp<S>, username: &str, password: &str) -> Result<String, Resp>
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    log_in_via(t, username, password, |req| req).await
}

/// [`log_in`] with the form's POST adjusted first (a peer address, forwarded headers).
pub async fn log_in_via<S, B>(
    t: &TestApp<S>,
    username: &str,
    password: &str,
    adjust: impl FnOnce(TestRequest) -> TestRequest,
) -> Result<String, Resp>
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let login_page = t.get("/login", None).await;
    let csrf = field(&login_page.text(), "csrf_token");
    let signed = login_page
        .headers
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("certrail_login_csrf="))
        .map(|v| v.split(';').next().unwrap().to_string())
        .expect("the sign-in form's cookie");
    let res = t
        .send(adjust(
            TestRequest::post()
                .uri("/login")
                .cookie(Cookie::new("certrail_login_csrf", signed))
                .set_form([
                    ("csrf_token", csrf.as_str()),
                    ("username", username),
                    ("password", password),
                ]),
        ))
        .await;
    let session = res
        .headers
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("certrail_session="))
        .map(|v| v.split(';').next().unwrap().to_string());
    match session {
        Some(session) if res.status == 303 => Ok(session),
        _ => Err(res),
    }
}

/// Creates page user `username` for organization `org` and signs them in; returns the
/// session cookie.
pub async fn sign_in<S, B>(t: &TestApp<S>, org: &str, username: &str) -> String
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let password = new_user(t, org, username).await;
    log_in(t, username, &password).await.expect("signed in")
}

/// A producer with a product and a page user signed in; returns (session cookie, product id,
/// API token).
pub async fn signed_in_producer<S, B>(
    t: &TestApp<S>,
    code: &str,
    username: &str,
) -> (String, String, String)
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let (org, token) = t.org("producer", code, "430702").await;
    let product = t
        .post(
            "/api/v1/products",
            Some(&token),
            &json!({"name": "酱板鸭", "model": "500g/袋", "standard": "GB/T 23586-2022"}),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    (sign_in(t, &org, username).await, product, token)
}

/// The value attribute of the first input named `name`.
pub fn field(html: &str, name: &str) -> String {
    let at = html.find(&format!("name=\"{name}\"")).expect("the field");
    let start = at + html[at..].find("value=\"").unwrap() + 7;
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

pub fn page(session: &str, uri: &str) -> TestRequest {
    TestRequest::get()
        .uri(uri)
        .cookie(Cookie::new("certrail_session", session.to_string()))
}

pub fn form(session: &str, uri: &str, fields: &[(&str, &str)]) -> TestRequest {
    TestRequest::post()
        .uri(uri)
        .cookie(Cookie::new("certrail_session", session.to_string()))
        .set_form(fields)
}

fn day(ago: i64) -> String {
    (chrono::Utc::now().date_naive() - chrono::Duration::days(ago))
        .format("%Y-%m-%d")
        .to_string()
}

#[actix_web::test]
async fn a_producer_issues_finds_prints_and_revokes_through_the_console() {
    let t = spawn().await;
    let (session, product, _) = signed_in_producer(&t, CODES[0], "qc.lead").await;
    let home: Resp = t.send(page(&session, "/console")).await;
    assert_eq!(home.status, 200);
    assert!(home.text().contains("href=\"/console/issue\""));
    assert!(home.text().contains("没有合格证"));
    // A page far past the last is an empty page, not an overflowing offset.
    for far in ["9223372036854775807", "-9223372036854775808", "0"] {
        let res = t
            .send(page(&session, &format!("/console?page={far}")))
            .await;
        assert_eq!(res.status, 200, "page={far}: {}", res.text());
    }

    let issue_form = t.send(page(&session, "/console/issue")).await;
    assert_eq!(issue_form.status, 200);
    let csrf = field(&issue_form.text(), "csrf_token");
    assert!(issue_form.text().contains(&format!("value=\"{product}\"")));
    let (production, inspection, before) = (day(3), day(2), day(5));
    let hostile = "<script>alert(\"x\")</script>";
    let mut fields = vec![
        ("csrf_token", csrf.as_str()),
        ("product_id", product.as_str()),
        ("batch_no", hostile),
        ("quantity", "120"),
        ("unit", "箱"),
        ("production_date", production.as_str()),
        ("inspection_date", before.as_str()),
        ("inspector", "张三"),
        ("units", "4"),
    ];

    // Inspection before production: the form comes back with the message at the field.
    let res = t.send(form(&session, "/console/issue", &fields)).await;
    assert_eq!(res.status, 422);
    let html = res.text();
    assert!(
        html.contains(
            "aria-describedby=\"form-error\">\n<p class=\"error\" role=\"alert\" id=\"form-error\">检验日期不能早于生产日期。</p>"
        ),
        "the message right under its field: {html}"
    );
    assert!(html.contains("id=\"inspection_date\" name=\"inspection_date\" type=\"date\""));
    assert!(html.contains("aria-invalid=\"true\""));
    assert!(
        html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"),
        "escaped value kept"
    );
    assert!(!html.contains(hostile));
    // In English, the service's own message.
    let english = t
        .send(form(&session, "/console/issue", &fields).cookie(Cookie::new("lang", "en")))
        .await
        .text();
    assert!(
        english.contains(">inspection_date is before production_date</p>"),
        "{english}"
    );
    // A forged form token: refused, as a page in the visitor's language.
    let res = t
        .send(form(
            &session,
            "/console/issue",
            &[("csrf_token", "forged")],
        ))
        .await;
    res.page_error(403, "表单已过期");

    fields[6] = ("inspection_date", inspection.as_str());
    // An inspection item in the third row without its requirement: the message is at that row.
    fields.push(("items.2.name", "菌落总数"));
    fields.push(("items.2.measured", "3200 CFU/g"));
    let res = t.send(form(&session, "/console/issue", &fields)).await;
    assert_eq!(res.status, 422);
    let html = res.text();
    assert!(
        html.contains("id=\"items.2.requirement\" name=\"items.2.requirement\" type=\"text\" value=\"\" aria-invalid=\"true\""),
        "{html}"
    );
    assert!(html.contains("value=\"菌落总数\""), "the row is kept");
    fields.push(("items.2.requirement", "≤ 10000 CFU/g"));
    let res = t.send(form(&session, "/console/issue", &fields)).await;
    assert_eq!(res.status, 303, "{}", res.text());
    let location = res.header("location");
    assert!(location.ends_with("?done=issued"), "{location}");
    let id = location
        .trim_start_matches("/console/certificates/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let label = t.get_json(&format!("/v/{id}")).await.json();
    assert_eq!(
        label["certificate"]["payload"]["inspection"]["items"],
        json!([{"name": "菌落总数", "requirement": "≤ 10000 CFU/g", "measured": "3200 CFU/g", "verdict": "pass"}])
    );
    let cert_page = t.send(page(&session, &location)).await;
    assert_eq!(cert_page.status, 200);
    let html = cert_page.text();
    assert!(html.contains("合格证已签发") && html.contains("有效"));
    assert!(
        html.contains("召回此批次"),
        "the producer may recall its batch"
    );
    assert!(!html.contains(hostile));

    // Found by batch number, escaped in the list; not found by another.
    let list = t.send(page(&session, "/console?q=%3Cscript")).await.text();
    assert!(list.contains(&format!("/console/certificates/{id}")));
    assert!(!list.contains(hostile));
    let none = t.send(page(&session, "/console?q=B-9")).await.text();
    assert!(none.contains("没有合格证"));

    // The A4 sheet of the four unit labels.
    let csrf = field(&html, "csrf_token");
    let pdf = t
        .send(form(
            &session,
            &format!("/console/certificates/{id}/labels.pdf"),
            &[("csrf_token", csrf.as_str()), ("units", "true")],
        ))
        .await;
    assert_eq!(pdf.status, 200);
    assert_eq!(pdf.header("content-type"), "application/pdf");
    assert!(pdf.body.starts_with(b"%PDF-"));
    let (pages, urls) = crate::exports::decode_pdf(&pdf.body);
    assert_eq!(pages, 1);
    assert!(
        !urls.is_empty() && urls.iter().all(|u| u.contains(&format!("/v/{id}"))),
        "{urls:?}"
    );

    // Revoking needs the form token; then the label verifies as revoked.
    let revoke = format!("/console/certificates/{id}/revoke");
    let res = t
        .send(form(
            &session,
            &revoke,
            &[("csrf_token", "forged"), ("reason", "x")],
        ))
        .await;
    assert_eq!(res.status, 403);
    let res = t
        .send(form(
            &session,
            &revoke,
            &[("csrf_token", csrf.as_str()), ("reason", "标签印错")],
        ))
        .await;
    assert_eq!(res.status, 303);
    let cert = t
        .get(&format!("/api/v1/certificates/{id}/trail"), None)
        .await
        .json();
    assert_eq!(
        cert["events"].as_array().unwrap().last().unwrap()["type"],
        "revoked"
    );
    let shown = t
        .send(page(&session, &format!("/console/certificates/{id}")))
        .await
        .text();
    assert!(shown.contains("已撤销"));
}

#[actix_web::test]
async fn another_producers_certificate_is_out_of_reach() {
    let t = spawn().await;
    let (_, product, token) = signed_in_producer(&t, CODES[0], "first").await;
    let (session, _, _) = signed_in_producer(&t, CODES[1], "second").await;
    let mut body = crate::helpers::batch(&product);
    body["batch_no"] = json!("B-1");
    let issued = t.issue(&token, &body).await;
    let id = issued["id"].as_str().unwrap();
    let res = t
        .send(page(&session, &format!("/console/certificates/{id}")))
        .await;
    assert_eq!(res.status, 403);
    let list = t.send(page(&session, "/console")).await.text();
    assert!(!list.contains(id));
}

#[actix_web::test]
async fn a_retailer_checks_a_label_and_records_the_intake_in_one_tap() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(CODES[0]).await;
    let issued = t.issue(&producer, &crate::helpers::batch(&product)).await;
    let url = issued["verify_url"].as_str().unwrap().to_string();
    let (retailer, _) = t.org("retailer", CODES[1], "430702").await;
    let session = sign_in(&t, &retailer, "intake.desk").await;
    let query = |label: &str| {
        format!(
            "/console?label={}",
            url::form_urlencoded::byte_serialize(label.as_bytes()).collect::<String>()
        )
    };

    let html = t.send(page(&session, &query(&url))).await.text();
    assert!(html.contains("真品") && html.contains("记录进货"), "{html}");
    assert!(html.contains("<script src=\"/assets/intake.js\" defer></script>"));
    let garbage = t.send(page(&session, &query("hello <b>"))).await.text();
    assert!(garbage.contains("无法识别") && !garbage.contains("<b>"));
    let forged = url.replace("?s=", "?s=A");
    let forged = t.send(page(&session, &query(&forged))).await.text();
    assert!(forged.contains("疑似伪造"));

    let csrf = field(&html, "csrf_token");
    let res = t
        .send(form(
            &session,
            "/console/intake",
            &[("csrf_token", "forged"), ("label_url", &url)],
        ))
        .await;
    assert_eq!(res.status, 403);
    // Nothing was shipped to it yet: the intake waits as a claim for the producer to confirm.
    let intake = || {
        form(
            &session,
            "/console/intake",
            &[("csrf_token", &csrf), ("label_url", &url)],
        )
    };
    let res = t.send(intake()).await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(res.header("location"), "/console?done=claimed");
    let notice = t.send(page(&session, "/console?done=claimed")).await.text();
    assert!(notice.contains("待上一持有方"), "{notice}");
    t.ship(&producer, issued["id"].as_str().unwrap(), &retailer, None)
        .await;
    let res = t.send(intake()).await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(res.header("location"), "/console?done=received");
    let trail = t
        .get(
            &format!(
                "/api/v1/certificates/{}/trail",
                issued["id"].as_str().unwrap()
            ),
            None,
        )
        .await
        .json();
    let last = trail["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["type"], "received");
    assert_eq!(last["actor"]["id"], retailer.as_str());
    let script = t.get("/assets/intake.js", None).await;
    assert_eq!(script.status, 200);
    assert!(script.text().contains("BarcodeDetector"));
}

#[actix_web::test]
async fn a_regulator_searches_spot_checks_and_recalls_in_its_region_only() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(CODES[0]).await;
    let mut body = crate::helpers::batch(&product);
    body["batch_no"] = json!("CD-2026-77");
    let issued = t.issue(&producer, &body).await;
    let id = issued["id"].as_str().unwrap().to_string();
    let (regulator, _) = t.org("regulator", CODES[1], "430700").await;
    let (far, _) = t.org("regulator", CODES[2], "110000").await;
    let session = sign_in(&t, &regulator, "inspector.wang").await;
    let far_session = sign_in(&t, &far, "inspector.li").await;

    let home = t.send(page(&session, "/console")).await;
    assert_eq!(home.status, 200);
    let html = home.text();
    assert!(
        html.contains("辖区概况") && html.contains("<svg role=\"img\""),
        "{html}"
    );
    assert_eq!(
        html.matches("fill=\"#0b5cad\"").count(),
        8,
        "eight weekly bars"
    );
    assert!(html.contains("进货查验结论") && html.contains("监督抽检结果"));
    let found = t.send(page(&session, "/console?q=CD-2026")).await.text();
    assert!(found.contains(&format!("/console/certificates/{id}")));
    let elsewhere = t
        .send(page(&far_session, "/console?q=CD-2026"))
        .await
        .text();
    assert!(elsewhere.contains("没有找到"));
    let res = t
        .send(page(&far_session, &format!("/console/certificates/{id}")))
        .await;
    assert_eq!(res.status, 403);

    let cert_page = t
        .send(page(&session, &format!("/console/certificates/{id}")))
        .await;
    assert_eq!(cert_page.status, 200);
    let html = cert_page.text();
    assert!(html.contains("监督抽检") && html.contains("召回此批次"));
    assert!(!html.contains("labels.pdf"), "labels are the producer's");
    let csrf = field(&html, "csrf_token");
    let res = t
        .send(form(
            &session,
            &format!("/console/certificates/{id}/inspect"),
            &[
                ("csrf_token", csrf.as_str()),
                ("result", "non_conformant"),
                ("findings", "净含量不足"),
            ],
        ))
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let url = crate::helpers::path_of(issued["verify_url"].as_str().unwrap());
    assert_eq!(t.get_json(&url).await.json()["verdict"], "suspended");
    // Re-inspected and passed: reinstated from the page; twice is refused on the page.
    let suspended = t
        .send(page(&session, &format!("/console/certificates/{id}")))
        .await
        .text();
    assert!(suspended.contains("恢复合格证"), "{suspended}");
    let reinstate = form(
        &session,
        &format!("/console/certificates/{id}/reinstate"),
        &[("csrf_token", csrf.as_str()), ("reason", "复检合格")],
    );
    let res = t.send(reinstate).await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert!(res.header("location").ends_with("?done=reinstated"));
    assert_eq!(t.get_json(&url).await.json()["verdict"], "genuine");
    let again = t
        .send(form(
            &session,
            &format!("/console/certificates/{id}/reinstate"),
            &[("csrf_token", csrf.as_str()), ("reason", "复检合格")],
        ))
        .await;
    assert_eq!(again.status, 409);
    assert!(again.text().contains("合格证当前的状态不允许此操作"));
    let res = t
        .send(form(
            &session,
            "/console/recalls",
            &[
                ("csrf_token", csrf.as_str()),
                ("product_id", product.as_str()),
                ("batch_no", "CD-2026-77"),
                ("certificate_id", id.as_str()),
                ("reason", "净含量不足"),
            ],
        ))
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(t.get_json(&url).await.json()["verdict"], "recalled");
    let home = t.send(page(&session, "/console")).await.text();
    assert!(
        home.contains("不合格 1"),
        "the dashboard counts the spot-check"
    );
}

#[actix_web::test]
async fn copy_warnings_stay_on_the_regulators_dashboard_until_the_certificate_is_acted_on() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(CODES[0]).await;
    let mut body = crate::helpers::batch(&product);
    body["batch_no"] = json!("CD-COPY-1");
    body["quantity"] = json!(2);
    let issued = t.issue(&producer, &body).await;
    let id = issued["id"].as_str().unwrap().to_string();
    let url = crate::helpers::path_of(issued["verify_url"].as_str().unwrap());
    let (regulator, _) = t.org("regulator", CODES[1], "430700").await;
    let (far, _) = t.org("regulator", CODES[2], "110000").await;
    let session = sign_in(&t, &regulator, "inspector.zhao").await;
    let far_session = sign_in(&t, &far, "inspector.qian").await;
    let dashboard = |session: &str| t.send(page(session, "/console"));

    // Two scans of a two-bag batch label are plausible; no warning is kept. The scan writer
    // stores warnings in the background: wait for it, so a warning kept by mistake is seen.
    for _ in 0..2 {
        let answer = t.get_json(&url).await.json();
        assert!(
            !answer["warnings"].to_string().contains("scanned_too_often"),
            "{answer}"
        );
    }
    t.flush();
    let open = || {
        certrail::service::oversight::warnings::open_in_region(
            &mut t.state.db.reader().unwrap(),
            "4307",
            10,
        )
        .unwrap()
        .0
    };
    assert_eq!(open(), 0, "no warning kept for two scans of two bags");
    // The copy-warnings section itself says none (other sections say 暂无 too).
    let warnings_section = |html: &str| {
        let start = html
            .find("<h2 id=\"warnings\">")
            .expect("the warnings section");
        let end = start + html[start..].find("</section>").unwrap();
        html[start..end].to_string()
    };
    let html = dashboard(&session).await.text();
    assert!(html.contains("未处理的复制预警</dt><dd>0</dd>"), "{html}");
    let section = warnings_section(&html);
    assert!(
        section.contains("暂无") && !section.contains("<table>"),
        "{section}"
    );
    // More scans than bags: the answer warns, and the dashboard keeps it once.
    for _ in 0..3 {
        let answer = t.get_json(&url).await.json();
        assert_eq!(answer["warnings"][0]["code"], "scanned_too_often");
    }
    t.flush();
    assert_eq!(open(), 1, "one row per label and signal");
    let html = dashboard(&session).await.text();
    assert!(html.contains("未处理的复制预警</dt><dd>1</dd>"), "{html}");
    assert!(warnings_section(&html).contains("扫描次数过多"), "{html}");
    assert!(html.contains(&format!(
        "href=\"/console/certificates/{id}\">CD-COPY-1</a>"
    )));
    assert!(!dashboard(&far_session).await.text().contains("CD-COPY-1"));

    // Revoked: the warning is no longer open.
    let res = t
        .post(
            &format!("/api/v1/certificates/{id}/revoke"),
            Some(&producer),
            &json!({"reason": "标签被复制"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(!dashboard(&session).await.text().contains("CD-COPY-1"));
}

#[actix_web::test]
async fn a_producer_adds_a_product_from_the_console() {
    let t = spawn().await;
    let (session, _, _) = signed_in_producer(&t, CODES[0], "qc.lead").await;
    let blank = t.send(page(&session, "/console/products")).await;
    assert_eq!(blank.status, 200);
    let csrf = field(&blank.text(), "csrf_token");
    assert!(blank
        .text()
        .contains("<label for=\"standard\">执行标准</label>"));
    let hostile = "<script>alert(\"x\")</script>";
    let mut fields = vec![
        ("csrf_token", csrf.as_str()),
        ("name", hostile),
        ("model", "250g/罐"),
        ("standard", "GB/T 13738.2-2017"),
        ("gtin", "6901234567891"),
    ];
    // A wrong check digit: the form comes back with the message under the GTIN, values kept.
    let res = t.send(form(&session, "/console/products", &fields)).await;
    assert_eq!(res.status, 422);
    let html = res.text();
    assert!(
        html.contains("aria-describedby=\"form-error\">\n<p class=\"error\" role=\"alert\" id=\"form-error\">商品条码无效"),
        "{html}"
    );
    assert!(!html.contains(hostile) && html.contains("&#60;script&#62;"));
    fields[1] = ("name", "桃源工夫红茶");
    fields[4] = ("gtin", "6901234567892");
    let res = t.send(form(&session, "/console/products", &fields)).await;
    assert_eq!(res.status, 303, "{}", res.text());
    let home = t.send(page(&session, &res.header("location"))).await.text();
    assert!(home.contains("产品已添加") && home.contains("<td>桃源工夫红茶</td>"));
    // And it can be issued against right away.
    let issue = t.send(page(&session, "/console/issue")).await.text();
    assert!(issue.contains("桃源工夫红茶 · 250g/罐"));
    t.send(form(
        &session,
        "/console/products",
        &[("csrf_token", "forged")],
    ))
    .await
    .page_error(403, "表单已过期");
}

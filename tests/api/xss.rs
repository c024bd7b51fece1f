//! Every free-text field a user can write, and every reflected query parameter, renders as
//! text on every page kind that shows it: each field holds its own hostile text (`<script>`,
//! quotes and an `onerror` image, or a shorter tag where the field is short), each page is
//! checked to show each of its fields escaped, and no page shows any of them raw.

use actix_web::cookie::Cookie;
use actix_web::test::TestRequest;
use serde_json::{json, Value};

use crate::console::{field, form, log_in, page, sign_in};
use crate::helpers::{batch, code, gtin_of, path_of, spawn, CODES};

/// The hostile texts stored, each under the name of the field it went into.
#[derive(Default)]
struct Hostile(Vec<(&'static str, String)>);

impl Hostile {
    /// A hostile text of its own for `field`: a script, a quote that ends an attribute and an
    /// image whose error handler runs.
    fn long(&mut self, field: &'static str) -> String {
        let n = self.0.len();
        let text =
            format!("<script>alert(\"x{n:02}\")</script>'\"><img src=x onerror=alert('x{n:02}')>");
        self.0.push((field, text.clone()));
        text
    }

    /// For fields of at most 16 characters: a quote that ends an attribute and a tag.
    fn short(&mut self, field: &'static str) -> String {
        let n = self.0.len();
        let text = format!("\"><b>x{n:02}");
        self.0.push((field, text.clone()));
        text
    }

    fn value(&self, field: &str) -> &str {
        &self.0.iter().find(|(f, _)| *f == field).unwrap().1
    }
}

/// What a certificate's label page shows of what its producer and its trail wrote.
const LABEL: &[&str] = &[
    "producer name",
    "producer address",
    "retailer name",
    "retailer address",
    "regulator name",
    "product name",
    "product model",
    "product standard",
    "batch number",
    "inspector",
    "lab report number",
    "unit",
    "item name",
    "item requirement",
    "item measured",
];

/// Askama's escaping of HTML text and attribute values.
fn escaped(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

fn query(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[actix_web::test]
async fn hostile_text_renders_as_text_on_every_page() {
    let t = spawn().await;
    let mut h = Hostile::default();
    // Stores something; its answer.
    let post = |path: String, token: String, body: Value| {
        let t = &t;
        async move {
            let res = t.post(&path, Some(&token), &body).await;
            assert!(
                res.status.is_success(),
                "{path}: {} {}",
                res.status,
                res.text()
            );
            res.json()
        }
    };

    // Organizations, named and placed by the admin.
    let mut orgs = Vec::new();
    for (kind, credit_code, region, name, address) in [
        (
            "producer",
            CODES[0],
            "430702",
            "producer name",
            "producer address",
        ),
        (
            "retailer",
            CODES[1],
            "430702",
            "retailer name",
            "retailer address",
        ),
        (
            "regulator",
            CODES[2],
            "430700",
            "regulator name",
            "regulator address",
        ),
        (
            "certification_body",
            CODES[3],
            "430700",
            "certification body name",
            "certification body address",
        ),
        ("lab", &code(1), "430700", "lab name", "lab address"),
        (
            "wholesaler",
            &code(2),
            "430702",
            "wholesaler name",
            "wholesaler address",
        ),
    ] {
        let body = json!({"kind": kind, "name": h.long(name), "credit_code": credit_code,
                          "region_code": region, "address": h.long(address)});
        let org = post("/api/v1/organizations".into(), t.admin.clone(), body).await;
        let id = org["id"].as_str().unwrap().to_string();
        let name = if kind == "producer" {
            h.long("token name")
        } else {
            "t".into()
        };
        let token = post(
            format!("/api/v1/organizations/{id}/tokens"),
            t.admin.clone(),
            json!({ "name": name }),
        )
        .await["token"]
            .as_str()
            .unwrap()
            .to_string();
        orgs.push((id, token));
    }
    let [(producer_id, producer), (retailer_id, retailer), (regulator_id, regulator), (_, cert_body), (lab_id, lab), (_, wholesaler)] =
        <[(String, String); 6]>::try_from(orgs).unwrap();

    // A product and a certificate with hostile text in every free-text field.
    let product = post(
        "/api/v1/products".into(),
        producer.clone(),
        json!({"name": h.long("product name"), "model": h.long("product model"),
               "standard": h.long("product standard"), "category": h.long("product category"),
               "gtin": gtin_of(CODES[0])}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut body = batch(&product);
    body["batch_no"] = json!(h.long("batch number"));
    body["inspector"] = json!(h.long("inspector"));
    body["lab_report_no"] = json!(h.long("lab report number"));
    body["unit"] = json!(h.short("unit"));
    body["units"] = json!(2);
    body["lab_id"] = json!(lab_id);
    body["items"] = json!([{"name": h.long("item name"), "requirement": h.long("item requirement"),
                            "measured": h.long("item measured"), "verdict": "pass"}]);
    let issued = t.issue(&producer, &body).await;
    let id = issued["id"].as_str().unwrap().to_string();
    let label = path_of(issued["verify_url"].as_str().unwrap());
    let events = format!("/api/v1/certificates/{id}/events");
    post(
        events.clone(),
        producer.clone(),
        json!({"type": "shipped", "consignee": retailer_id, "note": h.long("shipment note")}),
    )
    .await;
    post(
        events.clone(),
        retailer.clone(),
        json!({"type": "received", "label_url": issued["verify_url"], "note": h.long("intake note")}),
    )
    .await;
    post(
        format!("/api/v1/certificates/{id}/inspections"),
        regulator.clone(),
        json!({"result": "conformant", "findings": h.long("inspection findings"),
               "lab_report_no": h.long("inspection lab report number")}),
    )
    .await;

    // Custody: goods on their way to the retailer, goods it refused, and an intake nobody
    // shipped (a claim, with the claimant's note).
    let issue_numbered = |n: &'static str| {
        let t = &t;
        let producer = producer.clone();
        let mut body = batch(&product);
        body["batch_no"] = json!(n);
        body["units"] = json!(2);
        async move { t.issue(&producer, &body).await }
    };
    let pending = issue_numbered("B-PENDING").await;
    let pending_id = pending["id"].as_str().unwrap().to_string();
    t.ship(&producer, &pending_id, &retailer_id, None).await;
    let refused = issue_numbered("B-REFUSED").await;
    let refused_id = refused["id"].as_str().unwrap().to_string();
    t.ship(&producer, &refused_id, &retailer_id, None).await;
    post(
        format!("/api/v1/certificates/{refused_id}/events"),
        retailer.clone(),
        json!({"type": "rejected", "label_url": refused["verify_url"], "reason": h.long("refusal reason")}),
    )
    .await;
    let claimed = issue_numbered("B-CLAIMED").await;
    let res = t.post(
        &format!("/api/v1/certificates/{}/events", claimed["id"].as_str().unwrap()),
        Some(&wholesaler),
        &json!({"type": "received", "label_url": claimed["verify_url"], "note": h.long("claim note")}),
    )
    .await;
    assert_eq!(res.status, 202, "{}", res.text());
    // A 承诺达标合格证, taken in by the retailer.
    let promise = post(
        "/api/v1/promises".into(),
        producer.clone(),
        json!({"product_id": product, "batch_no": h.long("promise lot number"), "quantity": 100,
               "unit": h.short("promise unit"), "origin_region_code": "430702",
               "origin_place": h.long("promise origin place"), "issuer_kind": "cooperative",
               "contact": h.long("promise contact"), "basis": ["self_test"]}),
    )
    .await;
    let promise_id = promise["id"].as_str().unwrap().to_string();
    t.ship(&producer, &promise_id, &retailer_id, None).await;
    post(
        format!("/api/v1/certificates/{promise_id}/events"),
        retailer.clone(),
        json!({"type": "received", "label_url": promise["verify_url"]}),
    )
    .await;

    // A consumer's report and two 先行赔付 cases: one answered, one decided.
    let report = |message: String, contact: String, case: Option<Value>| {
        let t = &t;
        let id = id.clone();
        async move {
            let mut body = json!({"category": "quality", "message": message, "contact": contact});
            if let Some(case) = case {
                body["case"] = case;
            }
            let res = t
                .send(
                    TestRequest::post()
                        .uri(&format!("/api/v1/certificates/{id}/complaints"))
                        .peer_addr(std::net::SocketAddr::from(([10, 0, 0, 1], 1)))
                        .set_json(body),
                )
                .await;
            assert_eq!(res.status, 201, "{}", res.text());
            res.json()
        }
    };
    report(h.long("report message"), h.long("report contact"), None).await;
    let answered = report(
        h.long("case report message"),
        "138".into(),
        Some(json!({"respondent_id": producer_id, "claim": h.long("case claim")})),
    )
    .await["case"]
        .clone();
    let decided = report(
        "m".into(),
        "139".into(),
        Some(json!({"respondent_id": retailer_id, "claim": "退款"})),
    )
    .await["case"]
        .clone();
    let case =
        |c: &Value, step: &str| format!("/api/v1/cases/{}/{step}", c["id"].as_str().unwrap());
    post(case(&answered, "accept"), producer.clone(), json!({})).await;
    post(
        case(&answered, "answer"),
        producer.clone(),
        json!({"outcome": "compensated", "amount_fen": 3980, "text": h.long("case answer")}),
    )
    .await;
    // The retailer let its case run out: a regulator decides it.
    t.sql(&format!(
        "UPDATE cases SET deadline_at = '2020-01-01 00:00:00' WHERE id = '{}'",
        decided["id"].as_str().unwrap()
    ));
    post(
        case(&decided, "decision"),
        regulator.clone(),
        json!({"outcome": "refused", "text": h.long("case decision")}),
    )
    .await;

    // Oversight: a suspension with its basis, a reinstatement request and its refusal, a
    // sanction and its lifting, a recall and its acknowledgement.
    let held = issue_numbered("B-HELD").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    post(
        format!("/api/v1/certificates/{held}/suspend"),
        regulator.clone(),
        json!({"reason": h.long("suspension reason"), "legal_basis": h.long("suspension legal basis")}),
    )
    .await;
    let request = post(
        format!("/api/v1/certificates/{held}/reinstatement-requests"),
        producer.clone(),
        json!({"evidence": h.long("reinstatement evidence"), "lab_report_no": h.long("reinstatement lab report number")}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    post(
        format!("/api/v1/reinstatement-requests/{request}/decision"),
        regulator.clone(),
        json!({"decision": "refuse", "note": h.long("reinstatement decision note")}),
    )
    .await;
    let revoked = issue_numbered("B-REVOKED").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    post(
        format!("/api/v1/certificates/{revoked}/revoke"),
        producer.clone(),
        json!({"reason": h.long("revocation reason")}),
    )
    .await;
    let sanction = post(
        format!("/api/v1/organizations/{producer_id}/sanctions"),
        regulator.clone(),
        json!({"kind": "issuance_suspended", "reason": h.long("sanction reason"), "legal_basis": h.long("sanction legal basis")}),
    )
    .await["id"].as_str().unwrap().to_string();
    post(
        format!("/api/v1/sanctions/{sanction}/lift"),
        regulator.clone(),
        json!({"reason": h.long("sanction lift reason")}),
    )
    .await;
    let recall = post(
        "/api/v1/recalls".into(),
        producer.clone(),
        json!({"product_id": product, "batch_no": h.value("batch number"), "reason": h.long("recall reason")}),
    )
    .await["id"].as_str().unwrap().to_string();
    post(
        format!("/api/v1/recalls/{recall}/acknowledgements"),
        retailer.clone(),
        json!({"quantity_removed": 3, "note": h.long("recall acknowledgement note")}),
    )
    .await;

    // Marks and labs.
    post(
        "/api/v1/marks".into(),
        cert_body.clone(),
        json!({"product_id": product, "scheme": "green_product", "cert_no": h.short("mark number"),
               "valid_from": "2026-01-01", "valid_until": "2030-12-31"}),
    )
    .await;
    post(
        "/api/v1/labs/accreditations".into(),
        lab.clone(),
        json!({"scheme": "CMA", "number": h.short("accreditation number"), "scope": h.long("accreditation scope"),
               "valid_from": "2026-01-01", "valid_until": "2030-12-31"}),
    )
    .await;

    // Page users.
    let admin = post(
        format!("/api/v1/organizations/{regulator_id}/users"),
        t.admin.clone(),
        json!({"username": "platform.ops", "platform_admin": true}),
    )
    .await;
    let admin_session = log_in(&t, "platform.ops", admin["password"].as_str().unwrap())
        .await
        .expect("signed in");
    let retailer_session = sign_in(&t, &retailer_id, "shop").await;
    let regulator_session = sign_in(&t, &regulator_id, "inspector").await;
    let lab_session = sign_in(&t, &lab_id, "tester").await;
    post(
        format!("/api/v1/organizations/{producer_id}/deactivate"),
        t.admin.clone(),
        json!({"reason": h.long("deactivation reason")}),
    )
    .await;
    post(
        format!("/api/v1/organizations/{producer_id}/reactivate"),
        t.admin.clone(),
        json!({"reason": h.long("reactivation reason")}),
    )
    .await;
    let producer_session = sign_in(&t, &producer_id, "maker").await;

    // Every page kind, and what each must show.
    let number = answered["number"].as_str().unwrap().to_string();
    let reflected = h.long("reflected query");
    let q = query(&reflected);
    let recall_path = format!("/console/recalls/{recall}");
    let unit_png = t
        .get(
            &format!("/api/v1/certificates/{id}/units/1/qr.png"),
            Some(&producer),
        )
        .await;
    assert_eq!(unit_png.status, 200);
    let unit_label = path_of(&crate::labels::decode_png(&unit_png.body));
    let dl_png = t
        .get(
            &format!("/api/v1/certificates/{pending_id}/dl-qr.png"),
            None,
        )
        .await;
    assert_eq!(dl_png.status, 200, "{}", dl_png.text());
    let digital_link = path_of(&crate::labels::decode_png(&dl_png.body));
    assert!(digital_link.starts_with("/01/"), "{digital_link}");
    let unit_png = t
        .get(
            &format!("/api/v1/certificates/{pending_id}/units/1/qr.png"),
            Some(&producer),
        )
        .await;
    // A unit label as a Digital Link: AI 21 is the serial, `s` the unit signature.
    let unit_label_url = crate::labels::decode_png(&unit_png.body);
    let unit_signature = unit_label_url.split("?s=").nth(1).unwrap();
    let unit_link = format!(
        "{}/21/1?s={unit_signature}",
        digital_link.split('?').next().unwrap()
    );
    let pages: Vec<(&str, Option<&String>, String, Vec<&str>)> = vec![
        ("home", None, "/".into(), vec![]),
        (
            "lookup",
            None,
            format!("/lookup?q={q}"),
            vec!["reflected query"],
        ),
        ("transparency", None, "/transparency".into(), vec![]),
        (
            "marks",
            None,
            format!(
                "/marks?scheme=green_product&cert_no={}",
                query(h.value("mark number"))
            ),
            vec![
                "producer name",
                "certification body name",
                "product name",
                "product model",
                "mark number",
            ],
        ),
        (
            "marks, reflected",
            None,
            format!("/marks?scheme={q}&cert_no={q}"),
            vec!["reflected query"],
        ),
        (
            "record",
            None,
            format!("/c/{id}"),
            [LABEL, &["recall reason"]].concat(),
        ),
        ("label", None, label.clone(), LABEL.to_vec()),
        ("unit label", None, unit_label, LABEL.to_vec()),
        (
            "digital link",
            None,
            digital_link.clone(),
            vec![
                "producer name",
                "producer address",
                "retailer name",
                "product name",
                "product model",
                "product standard",
            ],
        ),
        (
            "unit digital link",
            None,
            unit_link,
            vec![
                "producer name",
                "producer address",
                "retailer name",
                "product name",
                "product model",
                "product standard",
            ],
        ),
        (
            "claim form",
            None,
            format!("/v/{id}/claim"),
            vec!["producer name", "retailer name"],
        ),
        (
            "promise label",
            None,
            path_of(promise["verify_url"].as_str().unwrap()),
            vec![
                "producer name",
                "producer address",
                "retailer name",
                "retailer address",
                "product name",
                "promise lot number",
                "promise unit",
                "promise origin place",
                "promise contact",
            ],
        ),
        (
            "revoked label",
            None,
            format!("/c/{revoked}"),
            vec![
                "producer name",
                "producer address",
                "product name",
                "product model",
                "product standard",
                "revocation reason",
            ],
        ),
        ("error page", None, format!("/c/{q}"), vec![]),
        ("case lookup", None, format!("/cases?number={q}"), vec![]),
        (
            "case",
            None,
            format!("/cases/{number}"),
            vec!["producer name", "case claim", "case answer"],
        ),
        ("login", None, "/login".into(), vec![]),
        (
            "producer console",
            Some(&producer_session),
            format!("/console?q={q}"),
            vec![
                "producer name",
                "retailer name",
                "wholesaler name",
                "product name",
                "product model",
                "product standard",
                "refusal reason",
                "claim note",
                "report message",
                "case report message",
                "reflected query",
            ],
        ),
        (
            "producer certificate",
            Some(&producer_session),
            format!("/console/certificates/{id}"),
            vec![
                "producer name",
                "retailer name",
                "regulator name",
                "product name",
                "batch number",
                "unit",
            ],
        ),
        (
            "producer held certificate",
            Some(&producer_session),
            format!("/console/certificates/{held}"),
            vec![
                "producer name",
                "regulator name",
                "product name",
                "suspension reason",
                "suspension legal basis",
            ],
        ),
        (
            "producer revoked certificate",
            Some(&producer_session),
            format!("/console/certificates/{revoked}"),
            vec!["producer name", "product name"],
        ),
        (
            "issue form",
            Some(&producer_session),
            "/console/issue".into(),
            vec!["producer name", "product name", "product model"],
        ),
        (
            "products",
            Some(&producer_session),
            "/console/products".into(),
            vec!["producer name"],
        ),
        (
            "producer cases",
            Some(&producer_session),
            "/console/cases".into(),
            vec![
                "producer name",
                "retailer name",
                "case report message",
                "case claim",
                "case answer",
                "case decision",
            ],
        ),
        (
            "access",
            Some(&producer_session),
            "/console/access".into(),
            vec!["producer name", "token name"],
        ),
        (
            "password",
            Some(&producer_session),
            "/console/password".into(),
            vec!["producer name"],
        ),
        (
            "producer recalls",
            Some(&producer_session),
            "/console/recalls".into(),
            vec!["producer name", "batch number", "recall reason"],
        ),
        (
            "retailer console",
            Some(&retailer_session),
            format!("/console?label={q}"),
            vec![
                "producer name",
                "retailer name",
                "batch number",
                "promise lot number",
                "recall reason",
                "reflected query",
            ],
        ),
        (
            "retailer check",
            Some(&retailer_session),
            format!(
                "/console?label={}",
                query(issued["verify_url"].as_str().unwrap())
            ),
            vec![
                "producer name",
                "retailer name",
                "product name",
                "batch number",
                "promise lot number",
                "recall reason",
            ],
        ),
        (
            "retailer recalls",
            Some(&retailer_session),
            "/console/recalls".into(),
            vec!["retailer name", "batch number", "recall reason"],
        ),
        (
            "retailer recall",
            Some(&retailer_session),
            recall_path.clone(),
            vec![
                "retailer name",
                "batch number",
                "recall reason",
                "recall acknowledgement note",
            ],
        ),
        (
            "regulator console",
            Some(&regulator_session),
            "/console".into(),
            vec!["regulator name", "report message", "case report message"],
        ),
        (
            "regulator search",
            Some(&regulator_session),
            format!("/console?q={q}"),
            vec![
                "regulator name",
                "report message",
                "case report message",
                "reflected query",
            ],
        ),
        (
            "regulator certificate",
            Some(&regulator_session),
            format!("/console/certificates/{id}"),
            vec![
                "producer name",
                "retailer name",
                "regulator name",
                "product name",
                "batch number",
                "unit",
            ],
        ),
        (
            "regulator cases",
            Some(&regulator_session),
            "/console/cases".into(),
            vec![
                "producer name",
                "retailer name",
                "regulator name",
                "case report message",
                "case claim",
                "case answer",
                "case decision",
            ],
        ),
        (
            "oversight",
            Some(&regulator_session),
            "/console/oversight".into(),
            vec![
                "producer name",
                "regulator name",
                "wholesaler name",
                "claim note",
                "suspension reason",
                "suspension legal basis",
                "reinstatement evidence",
                "reinstatement lab report number",
                "reinstatement decision note",
                "sanction reason",
                "sanction legal basis",
                "sanction lift reason",
                "accreditation number",
                "accreditation scope",
            ],
        ),
        (
            "reports",
            Some(&regulator_session),
            "/console/reports".into(),
            vec![
                "producer name",
                "retailer name",
                "regulator name",
                "wholesaler name",
            ],
        ),
        (
            "regulator recall",
            Some(&regulator_session),
            recall_path.clone(),
            vec![
                "retailer name",
                "regulator name",
                "batch number",
                "recall reason",
                "recall acknowledgement note",
            ],
        ),
        (
            "lab console",
            Some(&lab_session),
            "/console".into(),
            vec!["lab name"],
        ),
        (
            "admin",
            Some(&admin_session),
            "/console/admin".into(),
            vec![
                "producer name",
                "retailer name",
                "regulator name",
                "certification body name",
                "lab name",
                "wholesaler name",
            ],
        ),
        (
            "admin organization",
            Some(&admin_session),
            format!("/console/admin/organizations/{producer_id}"),
            vec!["producer name", "regulator name"],
        ),
    ];
    let mut seen: Vec<(String, String, Vec<&str>)> = Vec::new();
    for (what, session, uri, shows) in &pages {
        let req = match session {
            // What the label pages' scans raised is on the consoles once stored.
            Some(s) => {
                t.flush();
                page(s, uri)
            }
            None => TestRequest::get().uri(uri),
        };
        let res = t.send(req).await;
        // The hostile lookups answer error pages, which are pages too.
        let refused = ["lookup", "error page", "case lookup"].contains(what);
        assert!(
            res.status.is_success() || (refused && res.status.is_client_error()),
            "{what} ({uri}): {} {}",
            res.status,
            res.text()
        );
        seen.push((what.to_string(), res.text(), shows.clone()));
    }

    // Forms refused, and a problem report, show what was sent back as text too.
    let csrf = |html: &str| field(html, "csrf_token");
    let issue_page = t
        .send(page(&producer_session, "/console/issue"))
        .await
        .text();
    let issue_batch = h.long("issue form batch number");
    let issue_inspector = h.long("issue form inspector");
    let refused_issue = t
        .send(form(
            &producer_session,
            "/console/issue",
            &[
                ("csrf_token", csrf(&issue_page).as_str()),
                ("product_id", product.as_str()),
                ("batch_no", issue_batch.as_str()),
                ("inspector", issue_inspector.as_str()),
                ("quantity", "x"),
            ],
        ))
        .await;
    assert_eq!(refused_issue.status, 422, "{}", refused_issue.text());
    seen.push((
        "refused issue form".into(),
        refused_issue.text(),
        vec![
            "producer name",
            "product name",
            "product model",
            "issue form batch number",
            "issue form inspector",
        ],
    ));
    let products_page = t
        .send(page(&producer_session, "/console/products"))
        .await
        .text();
    let product_name = h.long("product form name");
    let refused_product = t
        .send(form(
            &producer_session,
            "/console/products",
            &[
                ("csrf_token", csrf(&products_page).as_str()),
                ("name", product_name.as_str()),
            ],
        ))
        .await;
    assert_eq!(refused_product.status, 422, "{}", refused_product.text());
    seen.push((
        "refused product form".into(),
        refused_product.text(),
        vec!["producer name", "product form name"],
    ));
    let login_page = t.get("/login", None).await;
    let cookie = |res: &crate::helpers::Resp, name: &str| {
        res.headers
            .get_all("set-cookie")
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix(&format!("{name}=")))
            .map(|v| v.split(';').next().unwrap().to_string())
            .unwrap()
    };
    let username = h.long("sign-in username");
    let refused_login = t
        .send(
            TestRequest::post()
                .uri("/login")
                .cookie(Cookie::new(
                    "certrail_login_csrf",
                    cookie(&login_page, "certrail_login_csrf"),
                ))
                .set_form([
                    ("csrf_token", csrf(&login_page.text()).as_str()),
                    ("username", username.as_str()),
                    ("password", "not the password"),
                ]),
        )
        .await;
    assert!(
        refused_login.status.is_client_error(),
        "{}",
        refused_login.status
    );
    seen.push((
        "refused sign-in".into(),
        refused_login.text(),
        vec!["sign-in username"],
    ));
    let consumer = t.get(&label, None).await;
    let message = h.long("label form report message");
    let done = t
        .send(
            TestRequest::post()
                .uri(&format!("/v/{id}/report"))
                .peer_addr(std::net::SocketAddr::from(([10, 0, 0, 2], 1)))
                .cookie(Cookie::new(
                    "certrail_form_csrf",
                    cookie(&consumer, "certrail_form_csrf"),
                ))
                .set_form([
                    ("csrf_token", csrf(&consumer.text()).as_str()),
                    ("category", "other"),
                    ("message", message.as_str()),
                ]),
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.text());
    seen.push(("report sent".into(), done.text(), vec![]));
    let console = t.send(page(&producer_session, "/console")).await.text();
    seen.push((
        "producer console after the report".into(),
        console,
        vec![
            "producer name",
            "retailer name",
            "wholesaler name",
            "product name",
            "product model",
            "product standard",
            "batch number",
            "promise lot number",
            "refusal reason",
            "claim note",
            "report message",
            "case report message",
            "label form report message",
        ],
    ));

    // Each page shows each of its fields escaped, and nothing else of what was stored; no
    // page shows any of it raw.
    let mut wrong = Vec::new();
    for (what, html, shows) in &seen {
        for (field, text) in &h.0 {
            if html.contains(text.as_str()) {
                wrong.push(format!("{what}: {field} is shown raw"));
            }
            let shown = html.contains(&escaped(text));
            if shown != shows.contains(field) {
                wrong.push(format!(
                    "{what}: {field} is {}",
                    if shown {
                        "shown, but not listed for this page"
                    } else {
                        "not shown escaped"
                    }
                ));
            }
        }
        for raw in ["<script>alert", "<img src=x", "<b>x"] {
            if html.contains(raw) {
                wrong.push(format!("{what}: {raw:?} came through unescaped"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Every field written is shown by some page, or is one no page shows (stored, and checked
    // never to come through raw).
    let not_shown = [
        "regulator address",
        "certification body address",
        "lab address",
        "wholesaler address",
        "product category",
        "shipment note",
        "intake note",
        "inspection findings",
        "inspection lab report number",
        "report contact",
        "deactivation reason",
        "reactivation reason",
    ];
    for (field, _) in &h.0 {
        let on_a_page = seen.iter().any(|(_, _, shows)| shows.contains(field));
        assert!(
            on_a_page != not_shown.contains(field),
            "{field}: {}",
            if on_a_page {
                "listed as shown nowhere, but a page shows it"
            } else {
                "no page shows it"
            }
        );
    }
}

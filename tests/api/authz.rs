//! Every write endpoint × every actor: the expected allow or deny.

use serde_json::{json, Value};

use crate::helpers::{batch, spawn, CODES};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Anonymous,
    Admin,
    Owner,
    OtherProducer,
    Retailer,
    Regulator,
    FarRegulator,
    CertBody,
    Lab,
}

const EVERYONE: [Who; 9] = [
    Who::Anonymous,
    Who::Admin,
    Who::Owner,
    Who::OtherProducer,
    Who::Retailer,
    Who::Regulator,
    Who::FarRegulator,
    Who::CertBody,
    Who::Lab,
];

#[actix_web::test]
async fn every_write_endpoint_checks_role_and_ownership() {
    let t = spawn().await;
    let (owner, product) = t.producer_with_product(CODES[0]).await;
    let (other, _) = t.producer_with_product(CODES[1]).await;
    let (org_id, retailer) = t.org("retailer", CODES[2], "430702").await;
    let (_, regulator) = t.org("regulator", CODES[3], "430700").await;
    let (_, far) = t.org("regulator", "91110000600037341L", "440100").await;
    let (_, cert_body) = t
        .org("certification_body", "91310000132200821H", "110000")
        .await;
    let (_, lab) = t.org("lab", "91430700MA4Q1W2E3X", "430700").await;
    let token = |who: Who| -> Option<String> {
        match who {
            Who::Anonymous => None,
            Who::Admin => Some(t.admin.clone()),
            Who::Owner => Some(owner.clone()),
            Who::OtherProducer => Some(other.clone()),
            Who::Retailer => Some(retailer.clone()),
            Who::Regulator => Some(regulator.clone()),
            Who::FarRegulator => Some(far.clone()),
            Who::CertBody => Some(cert_body.clone()),
            Who::Lab => Some(lab.clone()),
        }
    };
    let mut unit_batch = batch(&product);
    unit_batch["units"] = json!(2);
    let cert = t.issue(&owner, &unit_batch).await;
    let id = cert["id"].as_str().unwrap().to_string();
    let label = cert["verify_url"].as_str().unwrap().to_string();
    let mark_id = {
        let mark = json!({"product_id": product, "scheme": "green_product", "cert_no": "GF1", "valid_from": "2026-01-01", "valid_until": "2027-12-31"});
        t.post("/api/v1/marks", Some(&cert_body), &mark)
            .await
            .json()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };

    let cases: Vec<(&str, String, Value, Vec<Who>)> = vec![
        (
            "POST",
            "/api/v1/organizations".into(),
            json!({"kind": "lab", "name": "n", "credit_code": "913502000728319549", "region_code": "430700", "address": "a"}),
            vec![Who::Admin],
        ),
        (
            "POST",
            format!("/api/v1/organizations/{org_id}/tokens"),
            json!({}),
            vec![Who::Admin, Who::Retailer],
        ),
        (
            "GET",
            format!("/api/v1/organizations/{org_id}/tokens"),
            json!({}),
            vec![Who::Admin, Who::Retailer],
        ),
        (
            "GET",
            format!("/api/v1/organizations/{org_id}/keys"),
            json!({}),
            vec![Who::Admin, Who::Retailer],
        ),
        (
            "POST",
            format!("/api/v1/organizations/{org_id}/keys/rotate"),
            json!({}),
            vec![Who::Admin, Who::Retailer],
        ),
        (
            "POST",
            "/api/v1/keys/AAAAAAAAAAA/compromise".into(),
            json!({"since": "2026-01-01T00:00:00Z"}),
            vec![Who::Admin],
        ),
        (
            "POST",
            "/api/v1/log/witnesses".into(),
            json!({"verifier_key": "w+00000000+AAAA"}),
            vec![Who::Admin],
        ),
        (
            "POST",
            "/api/v1/certificates/drafts".into(),
            json!({"product_id": product, "batch_no": "B", "quantity": 1, "unit": "袋", "production_date": "2026-11-01", "inspection_date": "2026-11-02", "inspector": "QC", "result": "pass"}),
            vec![Who::Owner],
        ),
        (
            "POST",
            "/api/v1/products".into(),
            json!({"name": "n", "model": "m", "standard": "GB 1"}),
            vec![Who::Owner, Who::OtherProducer],
        ),
        (
            "POST",
            "/api/v1/certificates".into(),
            batch(&product),
            vec![Who::Owner],
        ),
        (
            "GET",
            format!("/api/v1/certificates/{id}/units/1/qr.png"),
            Value::Null,
            vec![Who::Owner],
        ),
        (
            "POST",
            format!("/api/v1/certificates/{id}/events"),
            json!({"type": "shipped"}),
            vec![Who::Owner],
        ),
        (
            "POST",
            format!("/api/v1/certificates/{id}/events"),
            json!({"type": "received", "label_url": label}),
            vec![Who::Retailer],
        ),
        (
            "POST",
            format!("/api/v1/certificates/{id}/events"),
            json!({"type": "sold"}),
            vec![Who::Retailer],
        ),
        (
            "POST",
            format!("/api/v1/certificates/{id}/inspections"),
            json!({"result": "conformant", "findings": "ok"}),
            vec![Who::Regulator],
        ),
        (
            "POST",
            format!("/api/v1/certificates/{id}/suspend"),
            json!({"reason": "r"}),
            vec![Who::Owner, Who::Regulator],
        ),
        (
            "POST",
            format!("/api/v1/certificates/{id}/reinstate"),
            json!({"reason": "r"}),
            vec![Who::Owner, Who::Regulator],
        ),
        (
            "POST",
            "/api/v1/marks".into(),
            json!({"product_id": product, "scheme": "CCC", "cert_no": "1", "valid_from": "2026-01-01", "valid_until": "2027-01-01"}),
            vec![Who::CertBody],
        ),
        (
            "POST",
            format!("/api/v1/marks/{mark_id}/suspend"),
            json!({}),
            // The test's regulator is outside the body's region (tests/api/marks.rs has one
            // inside it).
            vec![Who::CertBody],
        ),
        (
            "POST",
            "/api/v1/labs/accreditations".into(),
            json!({"scheme": "CMA", "number": "1", "scope": "s", "valid_from": "2026-01-01", "valid_until": "2027-01-01"}),
            vec![Who::Lab],
        ),
        (
            "POST",
            "/api/v1/recalls".into(),
            json!({"product_id": product, "batch_no": "20261120-01", "reason": "r"}),
            vec![Who::Owner, Who::Regulator],
        ),
        (
            "POST",
            format!("/api/v1/certificates/{id}/revoke"),
            json!({"reason": "r"}),
            vec![Who::Owner, Who::Regulator],
        ),
    ];
    for (method, path, body, allowed) in &cases {
        for who in EVERYONE {
            let req = match *method {
                "GET" => actix_web::test::TestRequest::get().uri(path),
                _ => actix_web::test::TestRequest::post()
                    .uri(path)
                    .set_json(body),
            };
            let res = t
                .send(crate::helpers::with_token(req, token(who).as_deref()))
                .await;
            let status = res.status.as_u16();
            let expected_allowed = allowed.contains(&who);
            if expected_allowed {
                // Done (2xx), or refused by a rule of the workflow rather than of authority:
                // 409 when an earlier allowed actor already changed the state, 422 when the
                // body breaks a rule for this actor. Never 401, 403, 404 or a 5xx.
                // The compromise case names a key that does not exist: past authority, 404.
                let unknown_key = path.contains("/keys/AAAAAAAAAAA/") && status == 404;
                assert!(
                    res.status.is_success() || matches!(status, 409 | 422) || unknown_key,
                    "{method} {path} as {who:?}: {status} {}",
                    res.text()
                );
                if !res.status.is_success() {
                    let code = res.json()["error"]["code"].clone();
                    assert!(
                        code.is_string() && code != "forbidden" && code != "unauthorized",
                        "{method} {path} as {who:?}: {}",
                        res.text()
                    );
                }
            } else if who == Who::Anonymous {
                assert_eq!(status, 401, "{method} {path} anonymous: {}", res.text());
            } else {
                assert_eq!(status, 403, "{method} {path} as {who:?}: {}", res.text());
            }
        }
    }
}

//! Every write endpoint × every actor: the expected allow or deny. The endpoints are the
//! document's: every POST, PUT, PATCH and DELETE under `/api/v1` in the OpenAPI document the
//! server serves needs a row here, and a row for a route the document does not have fails too.

use std::collections::BTreeSet;

use actix_web::test::TestRequest;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{json, Value};

use crate::helpers::{batch, code, gtin_of, with_token, CODES};

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
    /// A producer that signs its own certificates (drafts).
    SelfSigner,
}

const EVERYONE: [Who; 10] = [
    Who::Anonymous,
    Who::Admin,
    Who::Owner,
    Who::OtherProducer,
    Who::Retailer,
    Who::Regulator,
    Who::FarRegulator,
    Who::CertBody,
    Who::Lab,
    Who::SelfSigner,
];

/// One write route, and who may call it. Everyone else is refused: without a token 401, with
/// a token 403, or 404 for those in `hidden` (someone else's resource, not shown to exist).
struct Row {
    method: &'static str,
    /// The route as the OpenAPI document names it.
    route: &'static str,
    /// Concrete paths: the refused actors and the first allowed one use the first; the n-th
    /// allowed actor the n-th (or the last), for routes whose success uses its target up.
    paths: Vec<String>,
    body: Value,
    allowed: Vec<Who>,
    hidden: Vec<Who>,
    /// Refused actors answered otherwise, each for a reason the row gives.
    special: Vec<(Who, u16)>,
    /// Whether the first allowed actor's call must succeed (2xx). Where no fixture can make it
    /// succeed, allowed callers are refused by a rule of the workflow (409, 422) instead.
    succeeds: bool,
}

fn row(method: &'static str, route: &'static str, path: String, body: Value) -> Row {
    Row {
        method,
        route,
        paths: vec![path],
        body,
        allowed: vec![],
        hidden: vec![],
        special: vec![],
        succeeds: true,
    }
}

impl Row {
    fn allow(mut self, who: &[Who]) -> Self {
        self.allowed = who.to_vec();
        self
    }
    fn hide_from(mut self, who: &[Who]) -> Self {
        self.hidden = who.to_vec();
        self
    }
    fn answers(mut self, who: Who, status: u16) -> Self {
        self.special.push((who, status));
        self
    }
    fn targets(mut self, paths: Vec<String>) -> Self {
        self.paths = paths;
        self
    }
    /// Allowed callers get past authority but a workflow rule refuses them (the row says why).
    fn refused_by_workflow(mut self) -> Self {
        self.succeeds = false;
        self
    }
}

/// The document's write routes under `/api/v1`, as "METHOD /path".
fn documented_write_routes(doc: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        if !path.starts_with("/api/v1/") {
            continue;
        }
        for method in ["post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                out.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    out
}

/// The write routes `src/routes/mod.rs` registers under `/api/v1`, as "METHOD /path" with
/// the document's parameter names left out (`{}`), read from its source.
fn registered_write_routes() -> BTreeSet<String> {
    let source = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/routes/mod.rs"),
    )
    .expect("src/routes/mod.rs");
    let scope = source
        .split("fn api_v1()")
        .nth(1)
        .expect("the /api/v1 scope");
    let mut out = BTreeSet::new();
    for resource in scope.split("resource(\"").skip(1) {
        let path = &resource[..resource.find('"').unwrap()];
        for (call, method) in [
            ("post()", "POST"),
            ("put()", "PUT"),
            ("patch()", "PATCH"),
            ("delete()", "DELETE"),
        ] {
            if resource.contains(&format!(".route({call}"))
                || resource.contains(&format!(".route(web::{call}"))
            {
                out.insert(format!("{method} /api/v1{}", unnamed(path)));
            }
        }
    }
    out
}

/// `/a/{id}/b` → `/a/{}/b`: routes compared without their parameters' names.
fn unnamed(route: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in route.chars() {
        match c {
            '{' => {
                inside = true;
                out.push_str("{}");
            }
            '}' => inside = false,
            _ if inside => {}
            _ => out.push(c),
        }
    }
    out
}

#[actix_web::test]
async fn every_write_endpoint_of_the_document_checks_role_and_ownership() {
    let t = crate::helpers::spawn().await;
    let doc = t.get("/api-docs/openapi.json", None).await.json();
    let documented = documented_write_routes(&doc);
    assert!(documented.len() >= 46, "{documented:?}");
    // A write route registered but left out of the document would escape the rows.
    let registered = registered_write_routes();
    let documented_unnamed: BTreeSet<String> = documented.iter().map(|r| unnamed(r)).collect();
    let undocumented: Vec<_> = registered.difference(&documented_unnamed).collect();
    let unregistered: Vec<_> = documented_unnamed.difference(&registered).collect();
    assert!(
        undocumented.is_empty() && unregistered.is_empty(),
        "write routes src/routes/mod.rs registers that the document lacks: {undocumented:?}; \
         documented ones it does not register: {unregistered:?}"
    );

    // The actors.
    let (owner_id, owner) = t.org("producer", CODES[0], "430702").await;
    let (_, other) = t.org("producer", CODES[1], "430702").await;
    let (retailer_id, retailer) = t.org("retailer", CODES[2], "430702").await;
    let (_, regulator) = t.org("regulator", CODES[3], "430700").await;
    let (_, far) = t.org("regulator", &code(1), "440100").await;
    let (_, cert_body) = t.org("certification_body", &code(2), "110000").await;
    let (lab_id, lab) = t.org("lab", &code(3), "430700").await;
    let (signer_id, signer) = t.org("producer", &code(8), "430702").await;
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
            Who::SelfSigner => Some(signer.clone()),
        }
    };
    // Organizations no actor speaks for, for measures aimed at an organization.
    let (spare_id, _) = t.org("producer", &code(4), "430702").await;
    let (sanctioned_id, _) = t.org("producer", &code(5), "430702").await;

    // Fixtures, made by whoever may make them.
    let post = |path: String, who: Who, body: Value| {
        let t = &t;
        let token = token(who);
        async move {
            let res = t.post(&path, token.as_deref(), &body).await;
            assert!(res.status.is_success(), "{path}: {}", res.text());
            res.json()
        }
    };
    let id_of = |v: &Value| v["id"].as_str().unwrap().to_string();
    let product = id_of(
        &post(
            "/api/v1/products".into(),
            Who::Owner,
            json!({"name": "酱板鸭", "model": "500g/袋", "standard": "GB/T 23586-2022", "gtin": gtin_of(CODES[0])}),
        )
        .await,
    );
    post(
        "/api/v1/products".into(),
        Who::OtherProducer,
        json!({"name": "米粉", "model": "1kg", "standard": "GB 1", "gtin": gtin_of(CODES[1])}),
    )
    .await;
    let numbered = |n: &str| {
        let mut b = batch(&product);
        b["batch_no"] = json!(n);
        b
    };
    let issue = |n: &'static str| {
        let post = &post;
        let body = numbered(n);
        async move { post("/api/v1/certificates".into(), Who::Owner, body).await }
    };
    // The certificate most rows act on: two units, shipped to and received by the retailer.
    let mut unit_batch = numbered("20261120-01");
    unit_batch["units"] = json!(2);
    let cert = post("/api/v1/certificates".into(), Who::Owner, unit_batch).await;
    let id = id_of(&cert);
    let label = cert["verify_url"].as_str().unwrap().to_string();
    t.ship(&owner, &id, &retailer_id, None).await;
    post(
        format!("/api/v1/certificates/{id}/events"),
        Who::Retailer,
        json!({"type": "received", "label_url": label}),
    )
    .await;
    // One the rows ship, take in and sell; one each to revoke, to ask reinstatement of, to
    // decide a request on, and to claim custody of.
    let moving = issue("MOVE-1").await;
    let moving_id = id_of(&moving);
    let revoked = id_of(&issue("REVOKE-1").await);
    let suspend_by_regulator = |cid: String| {
        let post = &post;
        async move {
            post(
                format!("/api/v1/certificates/{cid}/suspend"),
                Who::Regulator,
                json!({"reason": "标签不符", "legal_basis": "《产品质量法》第二十七条"}),
            )
            .await;
            cid
        }
    };
    let held = suspend_by_regulator(id_of(&issue("HELD-1").await)).await;
    let asked = suspend_by_regulator(id_of(&issue("HELD-2").await)).await;
    let request = id_of(
        &post(
            format!("/api/v1/certificates/{asked}/reinstatement-requests"),
            Who::Owner,
            json!({"evidence": "标签已更换"}),
        )
        .await,
    );
    let mut claims = Vec::new();
    for n in ["CLAIM-1", "CLAIM-2"] {
        let c = issue(n).await;
        let res = t
            .post(
                &format!("/api/v1/certificates/{}/events", id_of(&c)),
                Some(&retailer),
                &json!({"type": "received", "label_url": c["verify_url"]}),
            )
            .await;
        assert_eq!(res.status, 202, "{}", res.text());
        claims.push(res.json()["claim"]["id"].as_str().unwrap().to_string());
    }
    let case = post(
        format!("/api/v1/certificates/{id}/complaints"),
        Who::Anonymous,
        json!({"category": "quality", "message": "胀袋", "case": {"respondent_id": owner_id, "claim": "退款"}}),
    )
    .await["case"]
        .clone();
    let (case_id, case_number) = (id_of(&case), case["number"].as_str().unwrap().to_string());
    let mark = id_of(
        &post(
            "/api/v1/marks".into(),
            Who::CertBody,
            json!({"product_id": product, "scheme": "green_product", "cert_no": "GF1", "valid_from": "2026-01-01", "valid_until": "2027-12-31"}),
        )
        .await,
    );
    let accreditation = id_of(
        &post(
            "/api/v1/labs/accreditations".into(),
            Who::Lab,
            json!({"scheme": "CMA", "number": "231812050123", "scope": "食品微生物", "valid_from": "2026-01-01", "valid_until": "2028-01-01"}),
        )
        .await,
    );
    let recalled = issue("RECALL-1").await;
    t.ship(&owner, &id_of(&recalled), &retailer_id, None).await;
    post(
        format!("/api/v1/certificates/{}/events", id_of(&recalled)),
        Who::Retailer,
        json!({"type": "received", "label_url": recalled["verify_url"]}),
    )
    .await;
    let recall = id_of(
        &post(
            "/api/v1/recalls".into(),
            Who::Owner,
            json!({"product_id": product, "batch_no": "RECALL-1", "reason": "胀袋"}),
        )
        .await,
    );
    let sanction = id_of(
        &post(
            format!("/api/v1/organizations/{sanctioned_id}/sanctions"),
            Who::Regulator,
            json!({"kind": "issuance_suspended", "reason": "多次抽检不合格", "legal_basis": "《产品质量法》"}),
        )
        .await,
    );
    let promise = id_of(
        &post(
            "/api/v1/promises".into(),
            Who::Owner,
            json!({"product_id": product, "batch_no": "DX-1", "quantity": 1000, "unit": "千克",
                   "origin_region_code": "430702", "origin_place": "基地", "issuer_kind": "cooperative",
                   "contact": "0736-4321000", "basis": ["self_test"]}),
        )
        .await,
    );
    // The self-signing producer has a draft waiting for its signature.
    let own_key = SigningKey::from_bytes(&[7u8; 32]);
    post(
        format!("/api/v1/organizations/{signer_id}/keys"),
        Who::SelfSigner,
        json!({"public_key": certrail::crypto::b64url(own_key.verifying_key().as_bytes())}),
    )
    .await;
    let signer_product = id_of(
        &post(
            "/api/v1/products".into(),
            Who::SelfSigner,
            json!({"name": "腊肉", "model": "1kg", "standard": "GB 2"}),
        )
        .await,
    );
    let signer_batch = batch(&signer_product);
    let draft = post(
        "/api/v1/certificates/drafts".into(),
        Who::SelfSigner,
        signer_batch.clone(),
    )
    .await;
    let canonical = serde_json_canonicalizer::to_string(&draft["payload"]).unwrap();
    let draft_signature = certrail::crypto::b64url(
        &own_key
            .sign(&certrail::crypto::signing::certificate_message(&canonical))
            .to_bytes(),
    );
    let draft_id = id_of(&draft);
    // The spare producer's platform key, and tokens and a user of the retailer's to revoke.
    let spare_kid = t
        .get(
            &format!("/api/v1/organizations/{spare_id}/keys"),
            Some(&t.admin),
        )
        .await
        .json()[0]["kid"]
        .as_str()
        .unwrap()
        .to_string();
    let mut retailer_tokens = Vec::new();
    for _ in 0..2 {
        let made = post(
            format!("/api/v1/organizations/{retailer_id}/tokens"),
            Who::Admin,
            json!({}),
        )
        .await;
        retailer_tokens.push(format!(
            "/api/v1/organizations/{retailer_id}/tokens/{}",
            id_of(&made)
        ));
    }
    post(
        format!("/api/v1/organizations/{retailer_id}/users"),
        Who::Admin,
        json!({"username": "shop.li"}),
    )
    .await;
    let webhook = json!({"url": "http://127.0.0.1:9/hooks", "events": ["recall.created"]});
    let webhook_id = id_of(&post("/api/v1/webhooks".into(), Who::Retailer, webhook.clone()).await);
    let witness = SigningKey::from_bytes(&[9u8; 32]);
    let witness_key = certrail::service::tlog::note::witness_verifier_key(
        "witness.example/w",
        &witness.verifying_key(),
    );
    let other_witness = certrail::service::tlog::note::witness_verifier_key(
        "witness.example/v",
        &SigningKey::from_bytes(&[10u8; 32]).verifying_key(),
    );

    use Who::*;
    let producers = [Owner, OtherProducer, SelfSigner];
    let rows: Vec<Row> = vec![
        // Organizations, tokens, users, keys: the platform admin, or the organization itself.
        row("POST", "/api/v1/organizations", "/api/v1/organizations".into(),
            json!({"kind": "lab", "name": "n", "credit_code": code(6), "region_code": "430700", "address": "a"}))
            .allow(&[Admin]),
        row("POST", "/api/v1/organizations/import", "/api/v1/organizations/import".into(),
            json!(format!("kind,name,credit_code,region_code,address\nlab,常德检测,{},430700,武陵区一号\n", code(7))))
            .allow(&[Admin]),
        row("POST", "/api/v1/organizations/{id}/deactivate", format!("/api/v1/organizations/{spare_id}/deactivate"),
            json!({"reason": "注销"}))
            .allow(&[Admin]),
        row("POST", "/api/v1/organizations/{id}/reactivate", format!("/api/v1/organizations/{spare_id}/reactivate"),
            json!({"reason": "恢复"}))
            .allow(&[Admin]),
        row("POST", "/api/v1/organizations/{id}/tokens", format!("/api/v1/organizations/{retailer_id}/tokens"), json!({}))
            .allow(&[Admin, Retailer]),
        row("DELETE", "/api/v1/organizations/{id}/tokens/{token_id}", String::new(), Value::Null)
            .targets(retailer_tokens)
            .allow(&[Admin, Retailer]),
        row("POST", "/api/v1/organizations/{id}/users", format!("/api/v1/organizations/{retailer_id}/users"),
            json!({"username": "shop.wang"}))
            .allow(&[Admin]),
        row("POST", "/api/v1/users/{username}/{action}", "/api/v1/users/shop.li/password".into(), json!({}))
            .allow(&[Admin]),
        row("POST", "/api/v1/organizations/{id}/keys/rotate", format!("/api/v1/organizations/{retailer_id}/keys/rotate"), json!({}))
            .allow(&[Admin, Retailer]),
        row("POST", "/api/v1/keys/{kid}/compromise", format!("/api/v1/keys/{spare_kid}/compromise"),
            json!({"since": "2026-01-01T00:00:00Z"}))
            .allow(&[Admin]),
        row("POST", "/api/v1/log/witnesses", "/api/v1/log/witnesses".into(), json!({"verifier_key": witness_key}))
            .allow(&[Admin]),
        // The cosignature is its own credential (checked in transparency.rs): a token adds
        // nothing and is not needed, so this one, unsigned by a registered witness, is refused
        // to all alike.
        row("POST", "/api/v1/log/cosignatures", "/api/v1/log/cosignatures".into(),
            json!({"tree_size": 1, "cosignature": format!("— witness.example/v {}", other_witness)}))
            .allow(&EVERYONE)
            .refused_by_workflow(),
        row("POST", "/api/v1/webhooks", "/api/v1/webhooks".into(), webhook)
            .allow(&[Retailer, Owner, OtherProducer, Regulator, FarRegulator, CertBody, Lab, SelfSigner]),
        // Another organization's webhook, and the admin (who has none), are told it is not there.
        row("DELETE", "/api/v1/webhooks/{id}", format!("/api/v1/webhooks/{webhook_id}"), Value::Null)
            .allow(&[Retailer])
            .hide_from(&[Admin, Owner, OtherProducer, Regulator, FarRegulator, CertBody, Lab, SelfSigner]),
        // Issuance: producers, each with its own products and certificates.
        row("POST", "/api/v1/products", "/api/v1/products".into(),
            json!({"name": "n", "model": "m", "standard": "GB 1"}))
            .allow(&producers),
        row("POST", "/api/v1/gtin-prefixes", "/api/v1/gtin-prefixes".into(), json!({"prefix": "692000"}))
            .allow(&producers),
        row("PUT", "/api/v1/gtin-owners/{prefix}", format!("/api/v1/gtin-owners/{}", gtin_of(CODES[1])),
            json!({"organization_id": spare_id, "reason": "商标权属裁定"}))
            .allow(&[Admin, Regulator]),
        row("POST", "/api/v1/certificates", "/api/v1/certificates".into(), numbered("NEW-1"))
            .allow(&[Owner]),
        // Bulk issuance answers item by item: another's product is item 0's `forbidden`, in
        // the 422 that says nothing was issued.
        row("POST", "/api/v1/certificates/bulk", "/api/v1/certificates/bulk".into(),
            json!({"certificates": [numbered("BULK-1")]}))
            .allow(&[Owner])
            .answers(OtherProducer, 422)
            .answers(SelfSigner, 422),
        row("POST", "/api/v1/certificates/drafts", "/api/v1/certificates/drafts".into(), signer_batch)
            .allow(&[SelfSigner]),
        row("POST", "/api/v1/certificates/drafts/{id}/signature", format!("/api/v1/certificates/drafts/{draft_id}/signature"),
            json!({"signature": draft_signature}))
            .allow(&[SelfSigner]),
        // After the draft is signed: a new key makes waiting drafts stale.
        row("POST", "/api/v1/organizations/{id}/keys", format!("/api/v1/organizations/{signer_id}/keys"),
            json!({"public_key": certrail::crypto::b64url(SigningKey::from_bytes(&[8u8; 32]).verifying_key().as_bytes())}))
            .allow(&[Admin, SelfSigner]),
        row("POST", "/api/v1/labels.pdf", "/api/v1/labels.pdf".into(), json!({"certificates": [id]}))
            .allow(&[Owner]),
        row("POST", "/api/v1/labels.zip", "/api/v1/labels.zip".into(), json!({"certificates": [id]}))
            .allow(&[Owner]),
        row("POST", "/api/v1/promises", "/api/v1/promises".into(),
            json!({"product_id": product, "batch_no": "DX-2", "quantity": 10, "unit": "千克",
                   "origin_region_code": "430702", "origin_place": "基地", "issuer_kind": "cooperative",
                   "contact": "0736-4321000", "basis": ["self_test"]}))
            .allow(&[Owner])
            // 承诺达标合格证 are signed by the platform: a producer that signs its own
            // certificates issues none, whose product it names.
            .answers(SelfSigner, 409),
        row("POST", "/api/v1/certificates/{id}/split", format!("/api/v1/certificates/{promise}/split"),
            json!({"contact": "x", "children": [{"batch_no": "S", "quantity": 10}]}))
            .allow(&[Owner])
            .answers(SelfSigner, 409),
        // Custody: whoever holds the goods passes them on.
        row("POST", "/api/v1/certificates/{id}/events", format!("/api/v1/certificates/{moving_id}/events"),
            json!({"type": "shipped", "consignee": retailer_id}))
            .allow(&[Owner])
            // Shipping to itself is refused before custody is looked at (claims.rs has a
            // holder-less shipment).
            .answers(Retailer, 422),
        row("POST", "/api/v1/certificates/{id}/events", format!("/api/v1/certificates/{moving_id}/events"),
            json!({"type": "received", "label_url": moving["verify_url"]}))
            .allow(&[Retailer]),
        row("POST", "/api/v1/certificates/{id}/events", format!("/api/v1/certificates/{moving_id}/events"),
            json!({"type": "sold"}))
            .allow(&[Retailer]),
        row("POST", "/api/v1/claims/{id}/confirm", format!("/api/v1/claims/{}/confirm", claims[0]), json!({"quantity": 1}))
            .allow(&[Owner, Regulator]),
        row("POST", "/api/v1/claims/{id}/dispute", format!("/api/v1/claims/{}/dispute", claims[1]),
            json!({"reason": "未发货"}))
            .allow(&[Owner, Regulator]),
        // Oversight: the owner of the goods, or a regulator of its region.
        row("POST", "/api/v1/certificates/{id}/inspections", format!("/api/v1/certificates/{id}/inspections"),
            json!({"result": "conformant", "findings": "ok"}))
            .allow(&[Regulator]),
        row("POST", "/api/v1/certificates/{id}/suspend", format!("/api/v1/certificates/{id}/suspend"),
            json!({"reason": "r", "legal_basis": "b"}))
            .allow(&[Owner, Regulator]),
        row("POST", "/api/v1/certificates/{id}/reinstate", format!("/api/v1/certificates/{id}/reinstate"),
            json!({"reason": "r"}))
            // The regulator's suspension (taken over from the owner's) is the regulator's to
            // lift; the owner then finds nothing to reinstate.
            .allow(&[Regulator, Owner]),
        row("POST", "/api/v1/certificates/{id}/revoke", format!("/api/v1/certificates/{revoked}/revoke"),
            json!({"reason": "r"}))
            .allow(&[Owner, Regulator]),
        row("POST", "/api/v1/certificates/{id}/reinstatement-requests", format!("/api/v1/certificates/{held}/reinstatement-requests"),
            json!({"evidence": "标签已更换"}))
            .allow(&[Owner]),
        row("POST", "/api/v1/reinstatement-requests/{id}/decision", format!("/api/v1/reinstatement-requests/{request}/decision"),
            json!({"decision": "refuse", "note": "报告未覆盖全部项目"}))
            .allow(&[Regulator]),
        row("POST", "/api/v1/organizations/{id}/sanctions", format!("/api/v1/organizations/{spare_id}/sanctions"),
            json!({"kind": "issuance_suspended", "reason": "r", "legal_basis": "b"}))
            .allow(&[Regulator]),
        row("POST", "/api/v1/sanctions/{id}/lift", format!("/api/v1/sanctions/{sanction}/lift"), json!({"reason": "整改完成"}))
            .allow(&[Regulator]),
        row("POST", "/api/v1/recalls", "/api/v1/recalls".into(),
            json!({"product_id": product, "batch_no": "MOVE-1", "reason": "r"}))
            .allow(&[Owner, Regulator]),
        row("POST", "/api/v1/recalls/{id}/acknowledgements", format!("/api/v1/recalls/{recall}/acknowledgements"),
            json!({"quantity_removed": 3}))
            .allow(&[Retailer]),
        // Certification marks and labs.
        row("POST", "/api/v1/marks", "/api/v1/marks".into(),
            json!({"product_id": product, "scheme": "green_product", "cert_no": "GF2", "valid_from": "2026-01-01", "valid_until": "2027-01-01"}))
            .allow(&[CertBody]),
        // The test's regulator is outside the body's region (tests/api/marks.rs has one inside).
        row("POST", "/api/v1/marks/{id}/suspend", format!("/api/v1/marks/{mark}/suspend"), json!({}))
            .allow(&[CertBody]),
        row("POST", "/api/v1/marks/{id}/reinstate", format!("/api/v1/marks/{mark}/reinstate"), json!({}))
            .allow(&[CertBody]),
        row("POST", "/api/v1/labs/accreditations", "/api/v1/labs/accreditations".into(),
            json!({"scheme": "CATL", "number": "1", "scope": "s", "valid_from": "2026-01-01", "valid_until": "2027-01-01"}))
            .allow(&[Lab]),
        row("POST", "/api/v1/accreditations/{id}/confirm", format!("/api/v1/accreditations/{accreditation}/confirm"), json!({}))
            .allow(&[Regulator]),
        row("POST", "/api/v1/labs/{id}/delist", format!("/api/v1/labs/{lab_id}/delist"), json!({"reason": "出具虚假报告"}))
            .allow(&[Regulator]),
        // 先行赔付: a consumer reports without an account; the respondent acts on the case.
        row("POST", "/api/v1/certificates/{id}/complaints", format!("/api/v1/certificates/{id}/complaints"),
            json!({"category": "quality", "message": "胀袋"}))
            .allow(&EVERYONE),
        row("POST", "/api/v1/cases/{id}/accept", format!("/api/v1/cases/{case_id}/accept"), json!({}))
            .allow(&[Owner]),
        row("POST", "/api/v1/cases/{id}/answer", format!("/api/v1/cases/{case_id}/answer"),
            json!({"outcome": "compensated", "amount_fen": 3980, "text": "已退款"}))
            .allow(&[Owner]),
        // The consumer holds the number; it is the credential.
        row("POST", "/api/v1/cases/{number}/confirm", format!("/api/v1/cases/{case_number}/confirm"), json!({}))
            .allow(&EVERYONE),
        // A regulator decides a case only once it is overdue: this one is not (cases.rs has one).
        row("POST", "/api/v1/cases/{id}/decision", format!("/api/v1/cases/{case_id}/decision"),
            json!({"outcome": "replaced", "text": "责令更换"}))
            .allow(&[Regulator])
            .refused_by_workflow(),
    ];

    // Reads that need a token are held to the same rules (not counted against the document).
    let reads = vec![
        row(
            "GET",
            "",
            format!("/api/v1/organizations/{retailer_id}/tokens"),
            Value::Null,
        )
        .allow(&[Admin, Retailer]),
        row(
            "GET",
            "",
            format!("/api/v1/organizations/{retailer_id}/keys"),
            Value::Null,
        )
        .allow(&[Admin, Retailer]),
        row(
            "GET",
            "",
            format!("/api/v1/certificates/{id}/units/1/qr.png"),
            Value::Null,
        )
        .allow(&[Owner]),
    ];

    // Rows and the document name the same routes.
    let covered: BTreeSet<String> = rows
        .iter()
        .map(|r| format!("{} {}", r.method, r.route))
        .collect();
    let missing: Vec<_> = documented.difference(&covered).collect();
    let unknown: Vec<_> = covered.difference(&documented).collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "documented write routes without a row: {missing:?}; rows for routes the document \
         does not have: {unknown:?}"
    );

    let mut wrong = Vec::new();
    for r in rows.iter().chain(&reads) {
        let send = |path: &str, who: Who| {
            let req = match (r.method, &r.body) {
                ("GET", _) => TestRequest::get().uri(path),
                ("POST", Value::String(csv)) => TestRequest::post()
                    .uri(path)
                    .insert_header(("content-type", "text/csv"))
                    .set_payload(csv.clone()),
                ("POST", body) => TestRequest::post().uri(path).set_json(body),
                ("PUT", body) => TestRequest::put().uri(path).set_json(body),
                ("DELETE", _) => TestRequest::delete().uri(path),
                (m, _) => panic!("{m}"),
            };
            // Each actor from its own address: limits per device (problem reports) apply to
            // each alone.
            let n = EVERYONE.iter().position(|w| *w == who).unwrap() as u8;
            let req = req.peer_addr(std::net::SocketAddr::from(([10, 0, 0, n + 1], 40000)));
            t.send(with_token(req, token(who).as_deref()))
        };
        // The refused first: they must change nothing the allowed ones then act on.
        for who in EVERYONE.into_iter().filter(|w| !r.allowed.contains(w)) {
            let expected = if let Some((_, status)) = r.special.iter().find(|(w, _)| *w == who) {
                *status
            } else if who == Anonymous {
                401
            } else if r.hidden.contains(&who) {
                404
            } else {
                403
            };
            let res = send(&r.paths[0], who).await;
            if res.status.as_u16() != expected {
                wrong.push(format!(
                    "{} {} as {who:?}: {} (expected {expected}) {}",
                    r.method,
                    r.paths[0],
                    res.status.as_u16(),
                    res.text()
                ));
            }
        }
        for (n, who) in r.allowed.iter().enumerate() {
            let path = &r.paths[n.min(r.paths.len() - 1)];
            let res = send(path, *who).await;
            let status = res.status.as_u16();
            // Done (2xx), or refused by a rule of the workflow rather than of authority: 409
            // when an earlier allowed actor already changed the state, 422 when the body breaks
            // a rule for this actor. Never 401, 403, 404 or a 5xx.
            let done = res.status.is_success();
            let workflow = matches!(status, 409 | 422)
                && !matches!(
                    res.json()["error"]["code"].as_str(),
                    Some("forbidden" | "unauthorized")
                );
            let first = n == 0;
            let ok = if first && r.succeeds {
                done
            } else if first {
                workflow
            } else {
                done || workflow
            };
            if !ok {
                wrong.push(format!(
                    "{} {path} as {who:?} (allowed): {status} {}",
                    r.method,
                    res.text()
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

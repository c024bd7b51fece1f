//! A certificate as a W3C Verifiable Credential 2.0 (UNTP Digital Conformity Credential), its
//! `vc+jwt` signature checked with an independent library (jose), and its status in the
//! Bitstring Status Lists the platform publishes.

use std::process::Command;

use serde_json::{json, Value};

use crate::helpers::{batch, spawn, CODES, PUBLIC_URL};

/// panva's jose on a JWT, with the status bits at `indexes` for a status list.
fn check(jwks: &str, jwt: &str, indexes: &[i64]) -> Value {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    assert!(
        dir.join("node_modules/jose").exists(),
        "jose is missing: run (cd tests/browser && npm ci), as scripts/test.sh does"
    );
    let out = Command::new("node")
        .arg("credential-check.mjs")
        .arg(jwks)
        .arg(jwt)
        .args(indexes.iter().map(|i| i.to_string()))
        .current_dir(&dir)
        .output()
        .expect("node (scripts/setup.sh installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[actix_web::test]
async fn a_certificate_is_a_verifiable_credential_with_its_status_in_bitstring_lists() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(CODES[0]).await;
    let cert = t.issue(&producer, &batch(&product)).await;
    let other = t.issue(&producer, &batch(&product)).await;
    let id = cert["id"].as_str().unwrap();
    let jwks = t.get("/api/v1/credentials/jwks.json", None).await.text();

    let res = t
        .get(&format!("/api/v1/certificates/{id}/credential"), None)
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.header("content-type"), "application/vc+jwt");
    let jwt = res.text();
    let checked = check(&jwks, &jwt, &[]);
    assert_eq!(checked["verified"], true, "{checked}");
    assert_eq!(checked["header"]["typ"], "vc+jwt");
    let vc = &checked["payload"];
    assert_eq!(vc["@context"][0], "https://www.w3.org/ns/credentials/v2");
    assert_eq!(
        vc["type"],
        json!(["VerifiableCredential", "DigitalConformityCredential"])
    );
    let subject = &vc["credentialSubject"];
    assert_eq!(subject["issuedToParty"]["registeredId"], CODES[0]);
    assert_eq!(
        subject["assessment"][0]["specifiedCondition"],
        "GB/T 23586-2022"
    );
    assert_eq!(
        subject["assessment"][0]["assessedProduct"][0]["registeredId"],
        "6901234567892"
    );
    assert_eq!(subject["certificate"]["signature"], cert["signature"]);
    assert_eq!(subject["certificate"]["payload"], cert["payload"]);
    let statuses = vc["credentialStatus"].as_array().unwrap();
    assert_eq!(statuses.len(), 2);
    assert_eq!(statuses[0]["type"], "BitstringStatusListEntry");
    assert_eq!(statuses[0]["statusPurpose"], "revocation");
    assert_eq!(statuses[1]["statusPurpose"], "suspension");

    // A credential whose claims were changed (the signature kept) fails the independent check.
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = jwt.split('.').collect();
    let mut claims: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    claims["credentialSubject"]["assessment"][0]["conformance"] = json!(false);
    let altered = format!(
        "{}.{}.{}",
        parts[0],
        b64.encode(claims.to_string()),
        parts[2]
    );
    let refused = check(&jwks, &altered, &[]);
    assert_eq!(refused["verified"], false, "{refused}");
    assert!(
        refused["error"].as_str().unwrap().contains("signature"),
        "{refused}"
    );

    // Index of each certificate, from its credential (the second gets the next index).
    let index = |jwt: &str| -> (i64, String, String) {
        let vc = check(&jwks, jwt, &[])["payload"].clone();
        let entry = |n: usize| vc["credentialStatus"][n].clone();
        (
            entry(0)["statusListIndex"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap(),
            entry(0)["statusListCredential"]
                .as_str()
                .unwrap()
                .to_string(),
            entry(1)["statusListCredential"]
                .as_str()
                .unwrap()
                .to_string(),
        )
    };
    let (mine, revocation, suspension) = index(&jwt);
    let other_jwt = t
        .get(
            &format!(
                "/api/v1/certificates/{}/credential",
                other["id"].as_str().unwrap()
            ),
            None,
        )
        .await
        .text();
    let (theirs, _, _) = index(&other_jwt);
    assert_eq!((mine, theirs), (0, 1));
    assert_eq!(index(&jwt).0, 0, "an index is given once");
    assert_eq!(
        revocation,
        format!("{PUBLIC_URL}/api/v1/status/revocation/0")
    );

    let bits = |url: String| {
        let t = &t;
        let jwks = jwks.clone();
        async move {
            let list = t.get(url.strip_prefix(PUBLIC_URL).unwrap(), None).await;
            assert_eq!(list.status, 200, "{}", list.text());
            let checked = check(&jwks, &list.text(), &[0, 1]);
            assert_eq!(checked["verified"], true, "{checked}");
            assert_eq!(
                checked["payload"]["credentialSubject"]["type"],
                "BitstringStatusList"
            );
            assert_eq!(checked["length"], 131072);
            checked["bits"].clone()
        }
    };
    assert_eq!(bits(revocation.clone()).await, json!([0, 0]));
    assert_eq!(bits(suspension.clone()).await, json!([0, 0]));

    let res = t
        .post(
            &format!("/api/v1/certificates/{id}/suspend"),
            Some(&producer),
            &json!({"reason": "复检"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(bits(suspension.clone()).await, json!([1, 0]));
    assert_eq!(bits(revocation.clone()).await, json!([0, 0]));
    t.post(
        &format!("/api/v1/certificates/{id}/revoke"),
        Some(&producer),
        &json!({"reason": "标签错误"}),
    )
    .await;
    assert_eq!(bits(revocation).await, json!([1, 0]));
    assert_eq!(bits(suspension).await, json!([0, 0]));

    t.get("/api/v1/status/expiry/0", None)
        .await
        .error(404, "not_found");
    t.get("/api/v1/certificates/nosuchcertificate/credential", None)
        .await
        .error(404, "not_found");
}

//! Key lifecycle (contract §11): rotation keeps old certificates genuine, a compromised key
//! spares only what the log saw before `since`, and a producer may hold its own key.

use ed25519_dalek::SigningKey;
use serde_json::json;

use crate::helpers::{batch, path_of, spawn, CODES};

#[actix_web::test]
async fn rotation_retires_the_old_key_and_keeps_its_certificates_genuine() {
    let t = spawn().await;
    let (producer, token) = t.org("producer", CODES[0], "430702").await;
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
    let mut serialized = batch(&product);
    serialized["units"] = json!(3);
    let old = t.issue(&token, &serialized).await;
    let old_kid = old["kid"].as_str().unwrap().to_string();

    let (_, other) = t.org("producer", CODES[1], "430702").await;
    t.post(
        &format!("/api/v1/organizations/{producer}/keys/rotate"),
        Some(&other),
        &json!({}),
    )
    .await
    .error(403, "forbidden");
    let rotated = t
        .post(
            &format!("/api/v1/organizations/{producer}/keys/rotate"),
            Some(&token),
            &json!({}),
        )
        .await;
    assert_eq!(rotated.status, 201, "{}", rotated.text());
    let new_kid = rotated.json()["kid"].as_str().unwrap().to_string();
    assert_ne!(new_kid, old_kid);

    let keys = t.get("/api/v1/keys", None).await.json();
    let status_of = |kid: &str| {
        keys["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == kid)
            .map(|k| (k["status"].clone(), k.get("valid_until").is_some()))
            .unwrap()
    };
    assert_eq!(status_of(&old_kid), (json!("retired"), true));
    assert_eq!(status_of(&new_kid), (json!("active"), false));
    let listed = t
        .get(
            &format!("/api/v1/organizations/{producer}/keys"),
            Some(&token),
        )
        .await
        .json();
    assert_eq!(listed[0]["kid"], new_kid.as_str());
    assert_eq!(listed[0]["held_by"], "platform");

    // Signed before: still genuine; its unit labels still print (with the retired key).
    t.sequence();
    let answer = t
        .get_json(&path_of(old["verify_url"].as_str().unwrap()))
        .await
        .json();
    assert_eq!(answer["verdict"], "genuine", "{answer}");
    let id = old["id"].as_str().unwrap();
    let unit = t
        .get(
            &format!("/api/v1/certificates/{id}/units/2/qr.png"),
            Some(&token),
        )
        .await;
    assert_eq!(unit.status, 200);
    // New certificates use the new key.
    let new = t.issue(&token, &batch(&product)).await;
    assert_eq!(new["kid"], new_kid.as_str());
    // A shipment is signed with the new key and the old certificate stays intact.
    let shipped = t
        .post(
            &format!("/api/v1/certificates/{id}/events"),
            Some(&token),
            &json!({"type": "shipped"}),
        )
        .await;
    assert_eq!(shipped.status, 201, "{}", shipped.text());
    assert_eq!(shipped.json()["event"]["kid"], new_kid.as_str());
    t.sequence();
    let answer = t
        .get_json(&path_of(old["verify_url"].as_str().unwrap()))
        .await
        .json();
    assert_eq!(answer["verdict"], "genuine", "{answer}");
}

#[actix_web::test]
async fn a_compromised_key_spares_only_certificates_logged_before_since() {
    let t = spawn().await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    let early = t.issue(&token, &batch(&product)).await;
    t.sequence();
    // The early certificate was logged an hour ago.
    t.sql(
        "UPDATE log_entries SET sequenced_at = sequenced_at - INTERVAL '1 hour'"
            .replace(
                "sequenced_at - INTERVAL '1 hour'",
                match t.state.db.backend {
                    certrail::db::Backend::Sqlite => "datetime(sequenced_at, '-1 hour')",
                    certrail::db::Backend::Postgres => "sequenced_at - INTERVAL '1 hour'",
                },
            )
            .as_str(),
    );
    let late = t.issue(&token, &batch(&product)).await;
    t.sequence();
    let kid = early["kid"].as_str().unwrap().to_string();
    let since = (chrono::Utc::now() - chrono::Duration::minutes(10))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();

    let path = format!("/api/v1/keys/{kid}/compromise");
    t.post(&path, Some(&token), &json!({"since": since}))
        .await
        .error(403, "forbidden");
    t.post(&path, Some(&t.admin), &json!({"since": "yesterday"}))
        .await
        .error(422, "invalid_since");
    t.post(
        &path,
        Some(&t.admin),
        &json!({"since": "2999-01-01T00:00:00Z"}),
    )
    .await
    .error(422, "invalid_since");
    t.post(
        "/api/v1/keys/AAAAAAAAAAA/compromise",
        Some(&t.admin),
        &json!({"since": since}),
    )
    .await
    .error(404, "not_found");
    let res = t
        .post(&path, Some(&t.admin), &json!({"since": since}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["status"], "compromised");
    t.post(&path, Some(&t.admin), &json!({"since": since}))
        .await
        .error(409, "key_compromised");

    let answer = t
        .get_json(&path_of(early["verify_url"].as_str().unwrap()))
        .await
        .json();
    assert_eq!(answer["verdict"], "genuine", "{answer}");
    let codes: Vec<&str> = answer["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"signing_key_compromised_later"),
        "{codes:?}"
    );
    let answer = t
        .get_json(&path_of(late["verify_url"].as_str().unwrap()))
        .await
        .json();
    assert_eq!(answer["verdict"], "forged", "{answer}");
    assert_eq!(answer["reasons"], json!(["key_compromised"]));
    let keys = t.get("/api/v1/keys", None).await.json();
    let listed = keys["keys"].as_array().unwrap();
    let entry = listed.iter().find(|k| k["kid"] == kid.as_str()).unwrap();
    assert_eq!(entry["compromised_since"], since.as_str());
    // The producer goes on issuing with a fresh key.
    let fresh = t.issue(&token, &batch(&product)).await;
    assert_ne!(fresh["kid"], kid.as_str());
    t.sequence();
    let answer = t
        .get_json(&path_of(fresh["verify_url"].as_str().unwrap()))
        .await
        .json();
    assert_eq!(answer["verdict"], "genuine");
}

#[actix_web::test]
async fn a_producer_holding_its_own_key_registers_only_the_public_half() {
    let t = spawn().await;
    let (producer, token) = t.org("producer", CODES[0], "430702").await;
    let own = SigningKey::from_bytes(&[9u8; 32]);
    let public = certrail::crypto::b64url(own.verifying_key().as_bytes());
    let path = format!("/api/v1/organizations/{producer}/keys");
    t.post(&path, Some(&token), &json!({"public_key": "short"}))
        .await
        .error(422, "invalid_public_key");
    let res = t
        .post(&path, Some(&token), &json!({"public_key": public}))
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.json()["held_by"], "producer");
    assert_eq!(
        res.json()["kid"],
        certrail::crypto::kid_of(&own.verifying_key()).as_str()
    );
    t.post(&path, Some(&token), &json!({"public_key": public}))
        .await
        .error(409, "key_exists");
    let (_, retailer) = t.org("retailer", CODES[1], "430702").await;
    t.post(&path, Some(&retailer), &json!({"public_key": public}))
        .await
        .error(403, "forbidden");
}

fn certrail(args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_certrail"))
        .args(args)
        .output()
        .expect("run certrail");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[actix_web::test]
async fn a_producer_with_its_own_key_issues_drafts_it_signs_with_certrail_sign() {
    let t = spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("producer.key");
    let (ok, out) = certrail(&["sign", "new-key", "--key", key_file.to_str().unwrap()]);
    assert!(ok, "{out}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let public = out
        .lines()
        .find_map(|l| l.strip_prefix("public_key: "))
        .unwrap()
        .to_string();

    let (producer, token) = t.org("producer", CODES[0], "430702").await;
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
    let before = t.issue(&token, &batch(&product)).await;
    let res = t
        .post(
            &format!("/api/v1/organizations/{producer}/keys"),
            Some(&token),
            &json!({"public_key": public}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let own_kid = res.json()["kid"].as_str().unwrap().to_string();

    let mut body = batch(&product);
    body["units"] = json!(5);
    t.post("/api/v1/certificates", Some(&token), &body)
        .await
        .error(409, "key_held_by_producer");
    let draft = t
        .post("/api/v1/certificates/drafts", Some(&token), &body)
        .await;
    assert_eq!(draft.status, 201, "{}", draft.text());
    let draft = draft.json();
    assert_eq!(draft["kid"], own_kid.as_str());
    assert_eq!(draft["payload"]["kid"], own_kid.as_str());
    let draft_file = dir.path().join("draft.json");
    std::fs::write(&draft_file, draft.to_string()).unwrap();
    let (ok, out) = certrail(&[
        "sign",
        "draft",
        "--key",
        key_file.to_str().unwrap(),
        draft_file.to_str().unwrap(),
    ]);
    assert!(ok, "{out}");
    let signed: serde_json::Value =
        serde_json::from_str(out.lines().find(|l| l.starts_with('{')).unwrap()).unwrap();
    let target = path_of(draft["signature_url"].as_str().unwrap());

    // A wrong signature, or another producer, is refused; the right one issues.
    let wrong = certrail::crypto::b64url(&[1u8; 64]);
    t.post(&target, Some(&token), &json!({"signature": wrong}))
        .await
        .error(422, "invalid_signature");
    let (_, other) = t.org("producer", CODES[1], "430702").await;
    t.post(&target, Some(&other), &signed)
        .await
        .error(403, "forbidden");
    let issued = t.post(&target, Some(&token), &signed).await;
    assert_eq!(issued.status, 201, "{}", issued.text());
    let issued = issued.json();
    assert_eq!(issued["kid"], own_kid.as_str());
    t.post(&target, Some(&token), &signed)
        .await
        .error(404, "not_found");

    // The platform cannot print its unit labels; the producer signs them locally.
    let id = issued["id"].as_str().unwrap();
    t.get(
        &format!("/api/v1/certificates/{id}/units/1/qr.png"),
        Some(&token),
    )
    .await
    .error(409, "key_held_by_producer");
    let issued_file = dir.path().join("issued.json");
    std::fs::write(&issued_file, issued.to_string()).unwrap();
    let (ok, out) = certrail(&[
        "sign",
        "units",
        "--key",
        key_file.to_str().unwrap(),
        "--base",
        "http://certrail.test",
        "--from",
        "1",
        "--to",
        "2",
        issued_file.to_str().unwrap(),
    ]);
    assert!(ok, "{out}");
    let units: Vec<&str> = out.lines().filter(|l| l.starts_with("http")).collect();
    assert_eq!(units.len(), 2);

    // A shipment is signed by the platform-held key the producer had, and everything checks.
    let shipped = t
        .post(
            &format!("/api/v1/certificates/{id}/events"),
            Some(&token),
            &json!({"type": "shipped"}),
        )
        .await;
    assert_eq!(shipped.status, 201, "{}", shipped.text());
    assert_ne!(shipped.json()["event"]["kid"], own_kid.as_str());
    t.sequence();
    for label in [
        issued["verify_url"].as_str().unwrap(),
        units[0],
        units[1],
        before["verify_url"].as_str().unwrap(),
    ] {
        let answer = t.get_json(&path_of(label)).await.json();
        assert_eq!(answer["verdict"], "genuine", "{label}: {answer}");
    }
}

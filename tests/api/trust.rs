//! The trust list lets an outside verifier check a certificate offline, with an independent
//! Ed25519 implementation (ed25519-compact) and serde_json's own sorted-key serializer.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::helpers::{batch, spawn, CODES};

#[actix_web::test]
async fn payload_signature_checks_with_nothing_but_the_trust_list() {
    let t = spawn().await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    t.org("retailer", CODES[1], "430702").await;
    let issued = t.issue(&token, &batch(&product)).await;

    let list = t.get("/api/v1/keys", None).await.json();
    let keys = list["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "one key per organization");
    let entry = keys
        .iter()
        .find(|k| k["kid"] == issued["kid"])
        .expect("issuer's key listed");
    assert_eq!(entry["algorithm"], "Ed25519");
    assert_eq!(entry["status"], "active");
    assert_eq!(entry["credit_code"], CODES[0]);
    assert!(entry["organization"].as_str().unwrap().contains("producer"));
    assert!(chrono::DateTime::parse_from_rfc3339(entry["valid_from"].as_str().unwrap()).is_ok());

    let public = URL_SAFE_NO_PAD
        .decode(entry["public_key"].as_str().unwrap())
        .unwrap();
    assert_eq!(public.len(), 32);
    // kid = base64url(first 8 bytes of SHA-256(public key)).
    assert_eq!(
        URL_SAFE_NO_PAD.encode(&Sha256::digest(&public)[..8]),
        entry["kid"].as_str().unwrap()
    );

    // serde_json's Map is sorted by key; with ASCII keys and no floats this is RFC 8785.
    let canonical = serde_json::to_string(&issued["payload"]).unwrap();
    let message = [b"CERTRAIL-CERT-V1\n".as_slice(), canonical.as_bytes()].concat();
    let signature = URL_SAFE_NO_PAD
        .decode(issued["signature"].as_str().unwrap())
        .unwrap();
    let key = ed25519_compact::PublicKey::from_slice(&public).unwrap();
    let sig = ed25519_compact::Signature::from_slice(&signature).unwrap();
    key.verify(&message, &sig)
        .expect("signature verifies independently");

    let mut altered = issued["payload"].clone();
    altered["batch"]["quantity"] = serde_json::json!(99999);
    let forged = [
        b"CERTRAIL-CERT-V1\n".as_slice(),
        serde_json::to_string(&altered).unwrap().as_bytes(),
    ]
    .concat();
    assert!(key.verify(&forged, &sig).is_err());
}

#[actix_web::test]
async fn golden_payload_signature() {
    // A fixed key and payload with Chinese text: canonical bytes and signature are pinned so a
    // verifier in another language can test against them.
    use certrail::crypto::signing::{certificate_message, sign};
    use certrail::domain::payload::canonicalize;
    let key = ed25519_dalek::SigningKey::from_bytes(&[42u8; 32]);
    let payload = serde_json::json!({
        "v": 1, "id": "Xk3vQ9mT2pLr8WzA", "kid": certrail::crypto::kid_of(&key.verifying_key()),
        "issued_at": "2026-11-21T08:00:00Z",
        "producer": {"name": "常德市德山食品有限公司", "credit_code": "91350200776049653A", "address": "湖南省常德市"},
        "product": {"name": "酱板鸭", "model": "500g/袋", "standard": "GB/T 23586-2022"},
        "batch": {"no": "B1", "quantity": 10, "unit": "袋", "production_date": "2026-11-20"},
        "inspection": {"date": "2026-11-21", "inspector": "QC-07", "result": "pass"}
    });
    let canonical = canonicalize(&payload);
    assert_eq!(
        canonical,
        r#"{"batch":{"no":"B1","production_date":"2026-11-20","quantity":10,"unit":"袋"},"id":"Xk3vQ9mT2pLr8WzA","inspection":{"date":"2026-11-21","inspector":"QC-07","result":"pass"},"issued_at":"2026-11-21T08:00:00Z","kid":"GOLDEN_KID","producer":{"address":"湖南省常德市","credit_code":"91350200776049653A","name":"常德市德山食品有限公司"},"product":{"model":"500g/袋","name":"酱板鸭","standard":"GB/T 23586-2022"},"v":1}"#
            .replace("GOLDEN_KID", payload["kid"].as_str().unwrap())
    );
    let signature = URL_SAFE_NO_PAD.encode(sign(&key, &certificate_message(&canonical)));
    assert_eq!(payload["kid"], "tgAwbPp2cj8");
    assert_eq!(
        signature,
        "6vZiUVtxKgcsF85bv27MU_vn5h5oMviHGTSNtS6TntpUvFkDivtaPKQ0_lWxCJqF0ufeGZd3X48xNXcLnwwACg"
    );
    // The same seed in an independent implementation gives the same key and signature.
    let other = ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new([42u8; 32]));
    assert_eq!(other.pk.as_ref(), key.verifying_key().as_bytes());
    let other_sig = other.sk.sign(certificate_message(&canonical), None);
    assert_eq!(URL_SAFE_NO_PAD.encode(other_sig.as_ref()), signature);
}

//! Offline verification (contract §10): the trust bundle and offline labels taken along, the
//! server gone, and `certrail verify` still telling genuine from revoked, forged and
//! compromised-key labels, from photos (PNG) of the codes.

use std::process::Command;

use serde_json::json;

use crate::helpers::{batch, spawn, CODES};

/// Runs `certrail verify LABEL --bundle FILE`; returns (exit code, output).
fn verify(label: &str, bundle: &std::path::Path, extra: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_certrail"))
        .arg("verify")
        .arg(label)
        .arg("--bundle")
        .arg(bundle)
        .args(extra)
        .env_remove("DATABASE_URL")
        .output()
        .expect("run certrail verify");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[actix_web::test]
async fn labels_verify_from_the_bundle_alone_with_the_server_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let (bundle_path, log_key, labels, forged_url) = {
        let t = spawn().await;
        let (a_token, a_product) = t.producer_with_product(CODES[0]).await;
        let (b_token, b_product) = t.producer_with_product(CODES[1]).await;
        let genuine = t.issue(&a_token, &batch(&a_product)).await;
        let revoked = t.issue(&a_token, &batch(&a_product)).await;
        let early = t.issue(&b_token, &batch(&b_product)).await;
        t.sequence();
        t.sql(&format!(
            "UPDATE log_entries SET sequenced_at = {} WHERE certificate_id = '{}'",
            match t.state.db.backend {
                certrail::db::Backend::Sqlite => "datetime(sequenced_at, '-1 hour')",
                certrail::db::Backend::Postgres => "sequenced_at - INTERVAL '1 hour'",
            },
            early["id"].as_str().unwrap()
        ));
        let late = t.issue(&b_token, &batch(&b_product)).await;
        t.sequence();
        let res = t
            .post(
                &format!(
                    "/api/v1/certificates/{}/revoke",
                    revoked["id"].as_str().unwrap()
                ),
                Some(&a_token),
                &json!({"reason": "批次检出不合格"}),
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
        let since = (chrono::Utc::now() - chrono::Duration::minutes(10))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let res = t
            .post(
                &format!("/api/v1/keys/{}/compromise", late["kid"].as_str().unwrap()),
                Some(&t.admin),
                &json!({"since": since}),
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.text());

        let bundle = t.get("/api/v1/bundle", None).await;
        assert_eq!(bundle.status, 200);
        let path = dir.path().join("bundle.json");
        std::fs::write(&path, &bundle.body).unwrap();
        let log_key = t.get("/api/v1/log", None).await.json()["verifier_key"]
            .as_str()
            .unwrap()
            .to_string();
        let mut labels = vec![];
        for (name, cert) in [
            ("genuine", &genuine),
            ("revoked", &revoked),
            ("early", &early),
            ("late", &late),
        ] {
            let id = cert["id"].as_str().unwrap();
            let png = t
                .get(&format!("/api/v1/certificates/{id}/offline-qr.png"), None)
                .await;
            assert_eq!(png.status, 200);
            let file = dir.path().join(format!("{name}.png"));
            std::fs::write(&file, &png.body).unwrap();
            labels.push(file);
        }
        // A counterfeit: the genuine label's URL and payload with another certificate's
        // valid signature.
        let content = {
            let img = image::load_from_memory(&std::fs::read(&labels[0]).unwrap())
                .unwrap()
                .to_luma8();
            let mut prepared = rqrr::PreparedImage::prepare(img);
            let (meta, content) = prepared.detect_grids()[0].decode().unwrap();
            // Level M or higher, and small enough to print (docs/src/trust.md says 20 to 25).
            assert!(meta.ecc_level != 1, "not level L");
            assert!(
                (15..=25).contains(&meta.version.0),
                "version {}",
                meta.version.0
            );
            eprintln!("offline label: QR version {}", meta.version.0);
            content
        };
        assert!(content.contains("&p="), "{content}");
        // zbar reads the printed code too (contract §10).
        let zbar = Command::new("zbarimg")
            .args(["--raw", "-q"])
            .arg(&labels[0])
            .output()
            .expect("zbarimg (zbar-tools; scripts/setup.sh installs it)");
        assert_eq!(String::from_utf8_lossy(&zbar.stdout).trim_end(), content);
        let forged = content.replace(
            genuine["signature"].as_str().unwrap(),
            revoked["signature"].as_str().unwrap(),
        );
        (path, log_key, labels, forged)
        // The server and its database are dropped here.
    };

    let (code, out) = verify(
        labels[0].to_str().unwrap(),
        &bundle_path,
        &["--log-key", &log_key],
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("verdict: genuine (真品)") && out.contains("log key pinned"),
        "{out}"
    );
    assert!(out.contains("酱板鸭"), "{out}");

    let (code, out) = verify(labels[1].to_str().unwrap(), &bundle_path, &[]);
    assert_eq!(code, 1, "an unpinned log key is refused: {out}");
    assert!(
        out.contains("--log-key") && !out.contains("verdict"),
        "{out}"
    );
    let (code, out) = verify(
        labels[1].to_str().unwrap(),
        &bundle_path,
        &["--trust-bundle-key"],
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("verdict: revoked") && out.contains("certificate_revoked"),
        "{out}"
    );
    assert!(out.contains("NOT pinned"), "{out}");
    let pin = ["--log-key", log_key.as_str()];

    let (code, out) = verify(labels[2].to_str().unwrap(), &bundle_path, &pin);
    assert_eq!(code, 0, "logged before the compromise: {out}");
    assert!(out.contains("signing_key_compromised_later"), "{out}");

    let (code, out) = verify(labels[3].to_str().unwrap(), &bundle_path, &pin);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("verdict: forged") && out.contains("key_compromised"),
        "{out}"
    );

    let (code, out) = verify(&forged_url, &bundle_path, &pin);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("verdict: forged") && out.contains("label_signature_invalid"),
        "{out}"
    );

    // An online label carries no payload: no verdict offline.
    let online = forged_url.split("&p=").next().unwrap();
    let (code, out) = verify(online, &bundle_path, &pin);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("payload_not_on_label"), "{out}");

    // An altered bundle, or one signed by another log key than the pinned one, is refused.
    let text = std::fs::read_to_string(&bundle_path).unwrap();
    let altered = dir.path().join("altered.json");
    std::fs::write(&altered, text.replace("\"revoked\"", "\"active\"")).unwrap();
    let (code, out) = verify(labels[1].to_str().unwrap(), &altered, &pin);
    assert_ne!(code, 0);
    assert!(out.contains("altered"), "{out}");
    let other_key = log_key.replace(&log_key[log_key.len() - 6..], "AAAAA=");
    let (code, out) = verify(
        labels[0].to_str().unwrap(),
        &bundle_path,
        &["--log-key", &other_key],
    );
    assert_ne!(code, 0, "{out}");
}

#[actix_web::test]
async fn offline_labels_are_the_same_image_whatever_the_status() {
    let t = spawn().await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    let one = t.issue(&token, &batch(&product)).await;
    let two = t.issue(&token, &batch(&product)).await;
    let (one, two) = (one["id"].as_str().unwrap(), two["id"].as_str().unwrap());
    let png = |id: &str| format!("/api/v1/certificates/{id}/offline-qr.png");
    let first = t.get(&png(one), None).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.header("content-type"), "image/png");
    assert_eq!(first.header("cache-control"), "public, max-age=86400");
    // Kept once rendered: the same bytes again.
    assert_eq!(t.get(&png(one), None).await.body, first.body);
    // The label holds id, signature and payload, never the status (the bundle carries that):
    // a suspension leaves the printed label as it was.
    let res = t
        .post(
            &format!("/api/v1/certificates/{one}/suspend"),
            Some(&token),
            &json!({"reason": "待复检"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(t.get(&png(one), None).await.body, first.body);
    // Another certificate, another image.
    let other = t.get(&png(two), None).await;
    assert_eq!(other.status, 200);
    assert_ne!(other.body, first.body);
}

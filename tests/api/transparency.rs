//! The transparency log (contract §9), checked from outside: checkpoints, inclusion and
//! consistency proofs and tiles fetched over the API and verified with the tests' own RFC 6962
//! code (`merkle`) and another Ed25519 library (`ed25519-compact`); witnesses cosign what
//! extends their view and refuse a log whose history was edited behind its back.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use certrail::service::tlog::note::witness_verifier_key;
use certrail::service::tlog::witness::{self, Refusal, WitnessState};
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{batch, path_of, spawn, spawn_with, TestApp, CODES};
use crate::merkle::{self, H};

/// RFC 8785 for the JSON the platform signs (objects, arrays, strings, integers, booleans).
fn jcs(v: &Value) -> String {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let members: Vec<String> = keys
                .iter()
                .map(|k| format!("{}:{}", Value::String((*k).clone()), jcs(&map[*k])))
                .collect();
            format!("{{{}}}", members.join(","))
        }
        Value::Array(items) => format!("[{}]", items.iter().map(jcs).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn hash_of(b64: &str) -> H {
    STANDARD.decode(b64).unwrap().try_into().unwrap()
}

/// A checkpoint as a client reads it: the body, size, root and signature lines.
struct Checkpoint {
    body: String,
    size: u64,
    root: H,
    signatures: Vec<(String, Vec<u8>)>,
}

fn parse_checkpoint(text: &str) -> Checkpoint {
    let (body, sigs) = text.split_once("\n\n").expect("a signed note");
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    Checkpoint {
        body: format!("{body}\n"),
        size: lines[1].parse().unwrap(),
        root: hash_of(lines[2]),
        signatures: sigs
            .lines()
            .map(|l| {
                let (name, b64) = l.strip_prefix("— ").unwrap().split_once(' ').unwrap();
                (name.to_string(), STANDARD.decode(b64).unwrap())
            })
            .collect(),
    }
}

/// Checks the log's own signature line with `ed25519-compact`, given its verifier key.
fn check_log_signature(cp: &Checkpoint, vkey: &str) {
    let parts: Vec<&str> = vkey.splitn(3, '+').collect();
    let (name, id, key) = (parts[0], parts[1], STANDARD.decode(parts[2]).unwrap());
    assert_eq!(key[0], 0x01);
    let expected_id = Sha256::new()
        .chain_update(name.as_bytes())
        .chain_update(b"\n")
        .chain_update(&key)
        .finalize();
    let id_hex: String = expected_id[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(id, id_hex);
    let (sig_name, sig) = &cp.signatures[0];
    assert_eq!(sig_name, name, "the log's signature comes first");
    assert_eq!(&sig[..4], &expected_id[..4]);
    let public = ed25519_compact::PublicKey::from_slice(&key[1..]).unwrap();
    public
        .verify(
            cp.body.as_bytes(),
            &ed25519_compact::Signature::from_slice(&sig[4..]).unwrap(),
        )
        .expect("the log signed the checkpoint");
}

/// The certificate entry a verifier rebuilds from the verification answer alone.
fn certificate_entry(answer: &Value) -> String {
    let c = &answer["certificate"];
    format!(
        r#"{{"id":"{}","kid":"{}","payload_sha256":"{}","signature":"{}","type":"certificate"}}"#,
        c["payload"]["id"].as_str().unwrap(),
        c["kid"].as_str().unwrap(),
        sha256_hex(jcs(&c["payload"]).as_bytes()),
        c["signature"].as_str().unwrap(),
    )
}

fn event_entry(id: &str, event: &Value) -> String {
    format!(
        r#"{{"certificate_id":"{id}","hash":"{}","kid":"{}","seq":{},"signature":"{}","type":"event"}}"#,
        event["hash"].as_str().unwrap(),
        event["kid"].as_str().unwrap(),
        event["seq"],
        event["signature"].as_str().unwrap(),
    )
}

/// Checks the answer's inclusion proof against its own (log-signed) checkpoint.
fn check_inclusion(answer: &Value, vkey: &str) -> u64 {
    let log = &answer["log"];
    let cp = parse_checkpoint(log["checkpoint"].as_str().unwrap());
    check_log_signature(&cp, vkey);
    assert_eq!(log["tree_size"].as_u64(), Some(cp.size));
    let proof: Vec<H> = log["inclusion"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| hash_of(h.as_str().unwrap()))
        .collect();
    let index = log["index"].as_u64().unwrap();
    let leaf = merkle::leaf_hash(certificate_entry(answer).as_bytes());
    assert!(
        merkle::verify_inclusion(index, cp.size, &leaf, &proof, &cp.root),
        "inclusion of {index} in {}",
        cp.size
    );
    index
}

#[actix_web::test]
async fn an_independent_verifier_checks_checkpoints_proofs_and_tiles() {
    let t = spawn().await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    let mut labels = vec![];
    for _ in 0..3 {
        labels.push(t.issue(&token, &batch(&product)).await);
    }
    let first = labels[0]["id"].as_str().unwrap().to_string();
    let res = t
        .post(
            &format!("/api/v1/certificates/{first}/events"),
            Some(&token),
            &json!({"type": "shipped", "note": "发往常德"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    // Issuance does not wait for the log: until the sequencer runs, the answer says pending.
    let label = path_of(labels[1]["verify_url"].as_str().unwrap());
    t.sql("SELECT 1");
    let answer = t.get_json(&label).await.json();
    if answer["log"].get("pending").is_some() {
        assert_eq!(answer["log"], json!({"pending": true}));
        assert_eq!(answer["verdict"], "genuine");
    }

    t.sequence();
    let info = t.get("/api/v1/log", None).await.json();
    assert_eq!(info["origin"], "certrail.test/log");
    // Three certificates, their three `issued` events and one `shipped`.
    assert_eq!(info["tree_size"], 7, "{info}");
    let vkey = info["verifier_key"].as_str().unwrap().to_string();
    assert!(vkey.starts_with("certrail.test/log+"));

    let res = t.get("/log/checkpoint", None).await;
    assert_eq!(res.status, 200);
    assert!(res.header("content-type").starts_with("text/plain"));
    let first_checkpoint = parse_checkpoint(&res.text());
    assert_eq!(first_checkpoint.size, 7);
    check_log_signature(&first_checkpoint, &vkey);

    for issued in &labels {
        let answer = t
            .get_json(&path_of(issued["verify_url"].as_str().unwrap()))
            .await
            .json();
        assert_eq!(answer["verdict"], "genuine", "{answer}");
        check_inclusion(&answer, &vkey);
    }

    // The whole log from its tiles: every entry bundle entry hashes to the level-0 tile's
    // hash, the tile's hashes make the checkpoint's root, and each certificate and event of
    // the trail is there as the verifier rebuilds it.
    let bundle = t.get("/log/tile/entries/000.p/7", None).await;
    assert!(bundle.header("cache-control").contains("immutable"));
    let entries = entry_bundle(&t, 7).await;
    assert_eq!(entries.len(), 7);
    let tile = t.get("/log/tile/0/000.p/7", None).await;
    assert_eq!(tile.body.len(), 7 * 32);
    let hashes: Vec<H> = tile
        .body
        .chunks(32)
        .map(|c| c.try_into().unwrap())
        .collect();
    for (entry, hash) in entries.iter().zip(&hashes) {
        assert_eq!(merkle::leaf_hash(entry.as_bytes()), *hash);
    }
    assert_eq!(merkle::root(&hashes), first_checkpoint.root);
    let trail = t
        .get(&format!("/api/v1/certificates/{first}/trail"), None)
        .await
        .json();
    for event in trail["events"].as_array().unwrap() {
        assert!(entries.contains(&event_entry(&first, event)), "{event}");
    }

    // The log grows; a consistency proof links the two checkpoints.
    t.issue(&token, &batch(&product)).await;
    t.sequence();
    let second = parse_checkpoint(&t.get("/log/checkpoint", None).await.text());
    assert_eq!(second.size, 9);
    let proof: Vec<H> = t
        .get("/api/v1/log/consistency?from=7&to=9", None)
        .await
        .json()["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| hash_of(h.as_str().unwrap()))
        .collect();
    assert!(merkle::verify_consistency(
        7,
        9,
        &first_checkpoint.root,
        &second.root,
        &proof
    ));
    assert!(!merkle::verify_consistency(
        7,
        9,
        &second.root,
        &second.root,
        &proof
    ));

    // Bad requests get the envelope.
    t.get("/api/v1/log/consistency?from=9&to=7", None)
        .await
        .error(422, "invalid_tree_size");
    t.get("/api/v1/log/consistency?from=1&to=10", None)
        .await
        .error(422, "invalid_tree_size");
    t.get("/api/v1/log/consistency?from=x&to=1", None)
        .await
        .error(400, "invalid_query");
    for beyond in [
        "/log/tile/0/000",
        "/log/tile/0/000.p/10",
        "/log/tile/1/000.p/1",
        "/log/tile/0/0",
        "/log/tile/entries/001.p/1",
    ] {
        t.get(beyond, None).await.error(404, "not_found");
    }
}

/// The entries of tile 0 (the first `width`), as the bundle serves them.
async fn entry_bundle<S, B>(t: &TestApp<S>, width: usize) -> Vec<String>
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let bundle = t
        .get(&format!("/log/tile/entries/000.p/{width}"), None)
        .await;
    assert_eq!(bundle.status, 200);
    let mut entries = vec![];
    let mut rest: &[u8] = &bundle.body;
    while !rest.is_empty() {
        let len = u16::from_be_bytes([rest[0], rest[1]]) as usize;
        entries.push(String::from_utf8(rest[2..2 + len].to_vec()).unwrap());
        rest = &rest[2 + len..];
    }
    entries
}

#[actix_web::test]
async fn an_entry_whose_row_was_deleted_before_sequencing_leaves_the_queue_unlogged() {
    let t = spawn().await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    let gone = t.issue(&token, &batch(&product)).await;
    let gone = gone["id"].as_str().unwrap();
    t.sql(&format!(
        "DELETE FROM events WHERE certificate_id = '{gone}'; DELETE FROM certificates WHERE id = '{gone}'"
    ));
    t.sequence();
    assert_eq!(t.get("/api/v1/log", None).await.json()["tree_size"], 0);
    // The queue is empty and the log goes on with what comes next.
    let kept = t.issue(&token, &batch(&product)).await;
    t.sequence();
    let info = t.get("/api/v1/log", None).await.json();
    assert_eq!(
        (info["tree_size"].as_u64(), info["pending"].as_u64()),
        (Some(2), Some(0)),
        "{info}"
    );
    let entries = entry_bundle(&t, 2).await;
    assert!(entries[0].contains(kept["id"].as_str().unwrap()));
}

#[actix_web::test]
async fn an_entry_rebuilt_from_a_row_edited_behind_the_logs_back_no_longer_matches_its_leaf() {
    // The log keeps each entry as a reference to its row and the tree's leaf hash: the bytes
    // served in a tile are rebuilt from the row, so an edited row shows to anyone who checks
    // the bundle against the hash tile (as every tlog-tiles client does).
    let t = spawn().await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    let issued = t.issue(&token, &batch(&product)).await;
    let id = issued["id"].as_str().unwrap();
    t.sequence();
    let leaves: Vec<H> = t
        .get("/log/tile/0/000.p/2", None)
        .await
        .body
        .chunks(32)
        .map(|c| c.try_into().unwrap())
        .collect();
    let before = entry_bundle(&t, 2).await;
    assert_eq!(merkle::leaf_hash(before[0].as_bytes()), leaves[0]);
    assert_eq!(merkle::leaf_hash(before[1].as_bytes()), leaves[1]);
    assert!(before[0].contains(id) && before[0].contains(r#""type":"certificate""#));

    t.sql(&format!(
        "UPDATE certificates SET payload = replace(payload, '酱板鸭', '假冒鸭') WHERE id = '{id}'"
    ));
    t.sql(&format!(
        "UPDATE events SET hash = '{}' WHERE certificate_id = '{id}'",
        "ab".repeat(32)
    ));
    let after = entry_bundle(&t, 2).await;
    assert_ne!(merkle::leaf_hash(after[0].as_bytes()), leaves[0]);
    assert_ne!(merkle::leaf_hash(after[1].as_bytes()), leaves[1]);
    assert!(after[1].contains(&"ab".repeat(32)));
}

/// Registers a witness run by `regulator` (admin); returns its name and key.
async fn register_witness<S, B>(t: &TestApp<S>, regulator: &str) -> (String, SigningKey)
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let name = "scjg.changde.example/witness".to_string();
    let key = SigningKey::from_bytes(&[42u8; 32]);
    let vkey = witness_verifier_key(&name, &key.verifying_key());
    let body = json!({"verifier_key": vkey, "organization_id": regulator});
    let res = t.post("/api/v1/log/witnesses", Some(&t.admin), &body).await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.json()["verifier_key"], vkey);
    t.post("/api/v1/log/witnesses", Some(&t.admin), &body)
        .await
        .error(409, "witness_exists");
    (name, key)
}

/// One witness round in-process, as `certrail witness run --once` does it over HTTP: returns
/// the new state, or the refusal.
async fn witness_round<S, B>(
    t: &TestApp<S>,
    state: &WitnessState,
    name: &str,
    key: &SigningKey,
) -> Result<WitnessState, Refusal>
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let checkpoint = t.get("/log/checkpoint", None).await.text();
    let observed = witness::observe(state, &checkpoint)?;
    let proof = match observed.proof_from(state) {
        Some(from) => t
            .get(
                &format!("/api/v1/log/consistency?from={from}&to={}", observed.size),
                None,
            )
            .await
            .json()["proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| tlog_tiles::Hash(hash_of(h.as_str().unwrap())))
            .collect(),
        None => vec![],
    };
    let next = witness::extend(state, &observed, &proof)?;
    let line = witness::cosign(name, key, &observed, 1_800_000_000);
    let res = t
        .post(
            "/api/v1/log/cosignatures",
            None,
            &json!({"tree_size": observed.size, "cosignature": line}),
        )
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    Ok(next)
}

#[actix_web::test]
async fn a_witness_cosigns_what_extends_its_view_and_the_label_page_says_so() {
    let t = spawn().await;
    let (regulator, _) = t.org("regulator", CODES[3], "430700").await;
    let (name, key) = register_witness(&t, &regulator).await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    let issued = t.issue(&token, &batch(&product)).await;
    let label = path_of(issued["verify_url"].as_str().unwrap());
    t.sequence();
    let vkey = t.get("/api/v1/log", None).await.json()["verifier_key"]
        .as_str()
        .unwrap()
        .to_string();
    let state = witness_round(&t, &WitnessState::new(&vkey), &name, &key)
        .await
        .expect("a fresh log is accepted");
    assert_eq!(state.size, 2);

    // The served checkpoint carries the cosignature after the log's own signature; a client
    // checks it with the witness's key (key id over 0x04, C2SP tlog-cosignature).
    let cp = parse_checkpoint(&t.get("/log/checkpoint", None).await.text());
    check_log_signature(&cp, &vkey);
    let (witness_name, sig) = &cp.signatures[1];
    assert_eq!(witness_name, &name);
    let key_id = Sha256::new()
        .chain_update(name.as_bytes())
        .chain_update(b"\n\x04")
        .chain_update(key.verifying_key().as_bytes())
        .finalize();
    assert_eq!(&sig[..4], &key_id[..4]);
    let time = u64::from_be_bytes(sig[4..12].try_into().unwrap());
    assert_eq!(time, 1_800_000_000);
    let signed = format!("cosignature/v1\ntime {time}\n{}", cp.body);
    ed25519_compact::PublicKey::from_slice(key.verifying_key().as_bytes())
        .unwrap()
        .verify(
            signed.as_bytes(),
            &ed25519_compact::Signature::from_slice(&sig[12..]).unwrap(),
        )
        .expect("the witness cosigned this checkpoint");

    // The label's answer proves inclusion in the cosigned checkpoint; its page says so.
    let answer = t.get_json(&label).await.json();
    assert_eq!(check_inclusion(&answer, &vkey), 0);
    assert!(answer["log"]["checkpoint"]
        .as_str()
        .unwrap()
        .contains(&name));
    let page = t.get(&format!("{label}&lang=en"), None).await.text();
    assert!(
        page.contains("Recorded in the public log, entry 0, confirmed by regulator 常德"),
        "{page}"
    );
    assert!(t
        .get(&label, None)
        .await
        .text()
        .contains("已记录在公开日志中，第 0 条，由regulator 常德"));

    // The public page says what the log holds and who confirmed it, and how to go offline.
    let page = t.get("/transparency?lang=en", None).await;
    assert_eq!(page.status, 200);
    let page = page.text();
    for words in [
        "The public log",
        "<dd>2</dd>",
        "regulator 常德",
        "confirmed the first 2 entries",
        "href=\"/api/v1/bundle\"",
        "certrail verify photo.jpg --bundle",
        "certrail witness run --log http://certrail.test",
    ] {
        assert!(page.contains(words), "{words}: {page}");
    }

    // A cosignature is accepted only from a registered witness, on the checkpoint it names.
    let stranger = SigningKey::from_bytes(&[7u8; 32]);
    let observed = witness::observe(
        &WitnessState::new(&vkey),
        &t.get("/log/checkpoint", None).await.text(),
    )
    .unwrap();
    for (line, size) in [
        (
            witness::cosign("someone.else/w", &stranger, &observed, 1),
            2,
        ),
        (witness::cosign(&name, &stranger, &observed, 1), 2),
        (witness::cosign(&name, &key, &observed, 1), 1),
        ("not a signature line".to_string(), 2),
    ] {
        t.post(
            "/api/v1/log/cosignatures",
            None,
            &json!({"tree_size": size, "cosignature": line}),
        )
        .await
        .error(422, "invalid_cosignature");
    }
    // Only the admin registers witnesses.
    t.post(
        "/api/v1/log/witnesses",
        Some(&token),
        &json!({"verifier_key": witness_verifier_key("x.example/w", &stranger.verifying_key())}),
    )
    .await
    .error(403, "forbidden");
    t.post(
        "/api/v1/log/witnesses",
        Some(&t.admin),
        &json!({"verifier_key": "x.example/w+00000000+AAAA"}),
    )
    .await
    .error(422, "invalid_verifier_key");
}

#[actix_web::test]
async fn history_edited_behind_the_logs_back_is_refused_by_the_witness_and_reported() {
    let t = spawn().await;
    let (regulator, _) = t.org("regulator", CODES[3], "430700").await;
    let (name, key) = register_witness(&t, &regulator).await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    let a = t.issue(&token, &batch(&product)).await;
    let b = t.issue(&token, &batch(&product)).await;
    let (a_label, b_label) = (
        path_of(a["verify_url"].as_str().unwrap()),
        path_of(b["verify_url"].as_str().unwrap()),
    );
    t.sequence();
    let vkey = t.get("/api/v1/log", None).await.json()["verifier_key"]
        .as_str()
        .unwrap()
        .to_string();
    let seen = witness_round(&t, &WitnessState::new(&vkey), &name, &key)
        .await
        .unwrap();
    assert_eq!(seen.size, 4);

    // 1. A certificate deleted from the platform: the log still holds it.
    let b_id = b["id"].as_str().unwrap();
    t.sql(&format!(
        "DELETE FROM events WHERE certificate_id = '{b_id}'; DELETE FROM certificates WHERE id = '{b_id}'"
    ));
    let answer = t.get_json(&b_label).await;
    assert_eq!(answer.status, 200);
    let answer = answer.json();
    assert_eq!(answer["verdict"], "tampered");
    assert_eq!(answer["reasons"], json!(["certificate_deleted"]));
    assert_eq!(answer["log"]["index"], 2);
    // Its entries cannot be rebuilt: the tile serves them empty, which no leaf hash matches.
    let entries = entry_bundle(&t, 4).await;
    assert_eq!(
        (entries[1].is_empty(), &entries[2], &entries[3]),
        (false, &String::new(), &String::new())
    );

    // 2. The tree rolled back by two entries (A's stay): the witness refuses, and A's entries
    // that are gone from the log make A tampered.
    t.sql(
        "DELETE FROM log_cosignatures; DELETE FROM log_checkpoints; \
         DELETE FROM log_entries WHERE idx >= 2; \
         UPDATE log_hash_runs SET hashes = substr(hashes, 1, 96) WHERE run = 0; \
         DELETE FROM log_hash_runs WHERE run > 0",
    );
    resign_checkpoint(&t, 2);
    let refusal = witness_round(&t, &seen, &name, &key).await.unwrap_err();
    assert_eq!(refusal, Refusal::Rollback { seen: 4, now: 2 });
    let a_answer = t.get_json(&a_label).await.json();
    assert_eq!(
        a_answer["verdict"], "genuine",
        "A's own entries are still there"
    );

    // 3. History rewritten: A's certificate changed and re-signed with the producer's key (as
    // someone holding the database and the master key could), the log rebuilt to match and
    // grown past what the witness saw. The witness refuses; A's answer says tampered.
    let a_id = a["id"].as_str().unwrap();
    let payload = a["payload"]
        .to_string()
        .replace("\"quantity\":1200", "\"quantity\":9200");
    let canonical =
        certrail::domain::payload::canonicalize(&serde_json::from_str::<Value>(&payload).unwrap());
    let signer = {
        let mut conn = t.state.db.reader().unwrap();
        let org = certrail::db::models::Certificate::find(&mut conn, a_id)
            .unwrap()
            .unwrap()
            .organization_id;
        t.state.keys.signer(&mut conn, &org).unwrap()
    };
    let sig = signer.sign(&certrail::crypto::signing::certificate_message(&canonical));
    let hex: String = sig.iter().map(|b| format!("{b:02x}")).collect();
    let blob = match t.state.db.backend {
        certrail::db::Backend::Sqlite => format!("X'{hex}'"),
        certrail::db::Backend::Postgres => format!("'\\x{hex}'::bytea"),
    };
    t.sql(&format!(
        "UPDATE certificates SET payload = '{canonical}', signature = {blob} WHERE id = '{a_id}'; \
         DELETE FROM log_entries; DELETE FROM log_hash_runs; DELETE FROM log_checkpoints"
    ));
    requeue(&t, a_id);
    t.issue(&token, &batch(&product)).await;
    t.issue(&token, &batch(&product)).await;
    t.sequence();
    let size = t.get("/api/v1/log", None).await.json()["tree_size"]
        .as_u64()
        .unwrap();
    assert_eq!(size, 6);
    let refusal = witness_round(&t, &seen, &name, &key).await.unwrap_err();
    assert_eq!(refusal, Refusal::Inconsistent { from: 4, to: 6 });
    // The server itself cannot see this rewrite (the cosignature rows are gone too), but the
    // witness keeps refusing, and any verifier holding the checkpoint the witness cosigned
    // finds the tree A's answer is proved in does not extend it.
    let answer = t.get_json(&a_label).await.json();
    assert_eq!(answer["certificate"]["payload"]["batch"]["quantity"], 9200);
    let answered = parse_checkpoint(answer["log"]["checkpoint"].as_str().unwrap());
    let proof: Vec<H> = t
        .get(
            &format!("/api/v1/log/consistency?from=4&to={}", answered.size),
            None,
        )
        .await
        .json()["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| hash_of(h.as_str().unwrap()))
        .collect();
    let witnessed_root = hash_of(&seen.root);
    assert!(!merkle::verify_consistency(
        4,
        answered.size,
        &witnessed_root,
        &answered.root,
        &proof
    ));
}

/// Queues certificate `id` and its trail for the log again, as they are stored now (what
/// rebuilding the log after editing rows takes).
fn requeue<S>(t: &TestApp<S>, id: &str) {
    use certrail::db::models::{tlog, EventRow};
    let mut conn = t.state.db.writer().unwrap();
    let events = EventRow::trail(&mut conn, id).unwrap();
    let rows: Vec<tlog::NewPending> = std::iter::once(0)
        .chain(events.iter().map(|e| e.seq))
        .map(|seq| tlog::NewPending {
            certificate_id: id.to_string(),
            seq,
            created_at: certrail::db::models::now(),
        })
        .collect();
    tlog::enqueue(&mut conn, &rows).unwrap();
}

/// Signs a checkpoint for the first `size` entries as they are stored now (what an operator
/// holding the master key could do after editing the tables).
fn resign_checkpoint<S>(t: &TestApp<S>, size: u64) {
    use certrail::service::tlog::tree::StoredHashes;
    let mut conn = t.state.db.writer().unwrap();
    let root = StoredHashes::new(&mut conn).root(size).unwrap().unwrap();
    let note = t.state.log.sign_checkpoint(size, root);
    certrail::db::models::tlog::insert_checkpoint(
        &mut conn,
        &certrail::db::models::tlog::CheckpointRow {
            tree_size: size as i64,
            root: root.0.to_vec(),
            note,
            created_at: certrail::db::models::now(),
        },
    )
    .unwrap();
    drop(conn);
    t.state.verify.clear();
    t.state.log_heads.clear();
}

#[actix_web::test]
async fn a_rewrite_under_a_kept_cosignature_makes_the_answer_tampered() {
    let t = spawn().await;
    let (regulator, _) = t.org("regulator", CODES[3], "430700").await;
    let (name, key) = register_witness(&t, &regulator).await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    let a = t.issue(&token, &batch(&product)).await;
    t.sequence();
    let vkey = t.get("/api/v1/log", None).await.json()["verifier_key"]
        .as_str()
        .unwrap()
        .to_string();
    witness_round(&t, &WitnessState::new(&vkey), &name, &key)
        .await
        .unwrap();
    // The log's entries and checkpoint are rebuilt with a different entry 1 (the `issued`
    // event's signature replaced), while the witness's cosignature on size 2 stays.
    let a_id = a["id"].as_str().unwrap();
    t.sql(&format!(
        "DELETE FROM log_entries; DELETE FROM log_hash_runs; DELETE FROM log_checkpoints; \
         UPDATE events SET kid = 'rewritten' WHERE certificate_id = '{a_id}'"
    ));
    requeue(&t, a_id);
    t.sequence();
    let answer = t
        .get_json(&path_of(a["verify_url"].as_str().unwrap()))
        .await
        .json();
    assert_eq!(answer["verdict"], "tampered");
    let reasons = answer["reasons"].to_string();
    assert!(reasons.contains("log_rewritten"), "{reasons}");
}

#[actix_web::test]
async fn certificates_issued_before_the_log_are_queued_for_it_once() {
    let t = spawn().await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    let issued = t.issue(&token, &batch(&product)).await;
    let label = path_of(issued["verify_url"].as_str().unwrap());
    // As a database from before the log: nothing logged, the migration's mark set.
    t.sql("DELETE FROM log_pending; INSERT INTO log_backfill (due) VALUES (TRUE)");
    let answer = t.get_json(&label).await.json();
    assert_eq!(
        answer["reasons"],
        json!(["not_in_log", "trail_event_not_in_log"])
    );
    let backfill = |t: &TestApp<_>| certrail::service::tlog::entry::backfill(&t.state.db).unwrap();
    assert_eq!(backfill(&t), 1);
    assert_eq!(backfill(&t), 0, "once");
    t.sequence();
    let answer = t.get_json(&label).await.json();
    assert_eq!(answer["verdict"], "genuine", "{answer}");
    assert_eq!(answer["log"]["tree_size"], 2);
}

/// The figure `CertrailWitnessSilent` watches: 0 while no witness is registered, then the time
/// since a witness last cosigned, or since the first was registered when none has yet.
#[actix_web::test]
async fn the_cosignature_age_counts_from_registration_while_no_witness_has_cosigned() {
    let t = spawn_with(|c| c.tuning.log_interval = std::time::Duration::from_millis(10)).await;
    let age = |text: String| -> i64 {
        text.lines()
            .find_map(|l| l.strip_prefix("certrail_log_cosignature_age_seconds "))
            .and_then(|v| v.parse().ok())
            .unwrap_or(-1)
    };
    // The sequencer refreshes the figure every 20 rounds (here 0.2 s).
    std::thread::sleep(std::time::Duration::from_millis(400));
    assert_eq!(age(t.get("/metrics", None).await.text()), 0);
    let (regulator, _) = t.org("regulator", CODES[3], "430700").await;
    register_witness(&t, &regulator).await;
    let two_hours_ago = (chrono::Utc::now() - chrono::Duration::hours(2)).naive_utc();
    t.sql(&format!(
        "UPDATE log_witnesses SET created_at = '{}'",
        two_hours_ago.format("%Y-%m-%d %H:%M:%S")
    ));
    std::thread::sleep(std::time::Duration::from_millis(400));
    let silent = age(t.get("/metrics", None).await.text());
    assert!((7_190..7_300).contains(&silent), "{silent}");
}

//! Operations endpoints: Prometheus metrics and the OpenAPI document.

use crate::helpers::{batch, path_of, spawn, CODES};

#[actix_web::test]
async fn metrics_count_requests_issuance_and_verdicts() {
    let t = spawn().await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    let issued = t.issue(&token, &batch(&product)).await;
    t.get_json(&path_of(issued["verify_url"].as_str().unwrap()))
        .await;
    t.get_json("/v/AAAAAAAAAAAAAAAA?s=x").await;

    let res = t.get("/metrics", None).await;
    assert_eq!(res.status, 200);
    assert!(res
        .header("content-type")
        .starts_with("application/openmetrics-text"));
    let text = res.text();
    assert!(
        text.contains("certrail_certificates_issued_total 1"),
        "{text}"
    );
    assert!(
        text.contains(r#"certrail_verifications_total{verdict="genuine"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"certrail_verifications_total{verdict="unknown"} 1"#),
        "{text}"
    );
    // The scanned record is cached, and the gauge weighs it (JSON, trail, log proof).
    assert!(text.contains("certrail_verify_cache_records 1\n"), "{text}");
    let bytes: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("certrail_verify_cache_bytes "))
        .and_then(|v| v.parse().ok())
        .expect("cache bytes gauge");
    assert!((1000..20_000).contains(&bytes), "{bytes}");
    assert!(
        text.contains(
            r#"certrail_http_requests_total{method="GET",route="/v/{id}",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/api/v1/certificates",status="201""#),
        "{text}"
    );
    assert!(!text.contains(&token), "no secrets in metrics");
}

#[actix_web::test]
async fn openapi_document_lists_the_core_api() {
    let t = spawn().await;
    let res = t.get("/api-docs/openapi.json", None).await;
    assert_eq!(res.status, 200);
    let doc = res.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/api/v1/organizations",
        "/api/v1/organizations/{id}/tokens",
        "/api/v1/products",
        "/api/v1/certificates",
        "/api/v1/certificates/{id}/qr.{format}",
        "/api/v1/certificates/{id}/units/{serial}/qr.{format}",
        "/api/v1/keys",
        "/v/{id}",
        "/v/{id}/{serial}",
        "/healthz",
    ] {
        assert!(paths.contains_key(path), "{path} missing");
    }
    let schemas = &doc["components"]["schemas"];
    for name in ["ErrorEnvelope", "Payload", "Answer", "Issued", "TrustList"] {
        assert!(schemas.get(name).is_some(), "{name} missing");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let verdicts = &schemas["Verdict"]["enum"];
    assert_eq!(verdicts.as_array().unwrap().len(), 8, "{verdicts}");
}

#[actix_web::test]
async fn openapi_parameters_are_where_the_server_reads_them() {
    let t = spawn().await;
    let doc = t.get("/api-docs/openapi.json", None).await.json();
    // A parameter is `in: path` exactly when the path has its segment; query strings read
    // through the API's own extractor were documented as path parameters.
    let mut misplaced = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for param in op["parameters"].as_array().into_iter().flatten() {
                let name = param["name"].as_str().unwrap();
                if (param["in"] == "path") != path.contains(&format!("{{{name}}}")) {
                    misplaced.push(format!("{method} {path} {name} in {}", param["in"]));
                }
            }
        }
    }
    assert_eq!(misplaced, Vec::<String>::new());
    let consistency = doc["paths"]["/api/v1/log/consistency"]["get"]["parameters"]
        .as_array()
        .unwrap();
    for param in consistency {
        assert_eq!(param["in"], "query", "{param}");
        assert_eq!(param["required"], true, "{param}");
    }
}

#[actix_web::test]
async fn metrics_labels_stay_bounded_whatever_methods_clients_send() {
    let t = crate::helpers::spawn().await;
    for i in 0..200 {
        let method = actix_web::http::Method::from_bytes(format!("X{i}").as_bytes()).unwrap();
        t.send(
            actix_web::test::TestRequest::default()
                .method(method)
                .uri("/healthz"),
        )
        .await;
    }
    let text = t.get("/metrics", None).await.text();
    assert!(!text.contains("method=\"X1\""), "{text}");
    assert!(text.contains("method=\"OTHER\""), "{text}");
    let series = text
        .lines()
        .filter(|l| l.starts_with("certrail_http_requests_total{"))
        .count();
    assert!(series < 10, "{series} series: {text}");
}

#[actix_web::test]
async fn head_healthz_answers_like_get() {
    let t = crate::helpers::spawn().await;
    let res = t
        .send(
            actix_web::test::TestRequest::default()
                .method(actix_web::http::Method::HEAD)
                .uri("/healthz"),
        )
        .await;
    assert_eq!(res.status, 200);
}

#[actix_web::test]
async fn housekeeping_deletes_expired_sessions_and_old_idempotency_answers_only() {
    use actix_web::test::TestRequest;
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(CODES[0]).await;
    let (org, _) = t.org("regulator", CODES[2], "430700").await;
    let password = crate::console::new_user(&t, &org, "inspector").await;
    let stale = crate::console::log_in(&t, "inspector", &password)
        .await
        .unwrap();
    let live = crate::console::log_in(&t, "inspector", &password)
        .await
        .unwrap();
    t.sql(&format!(
        "UPDATE sessions SET expires_at = '2020-01-01 00:00:00' WHERE token_hash = '{}'",
        certrail::crypto::random::token_hash(&stale)
    ));
    for key in ["old-key", "new-key"] {
        let mut body = batch(&product);
        body["batch_no"] = serde_json::json!(key);
        let res = t
            .send(
                crate::helpers::with_token(
                    TestRequest::post().uri("/api/v1/certificates/bulk"),
                    Some(&producer),
                )
                .insert_header(("Idempotency-Key", key))
                .set_json(serde_json::json!({"certificates": [body]})),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
    let now = chrono::Utc::now().naive_utc();
    let at = |age: chrono::Duration| (now - age).format("%Y-%m-%d %H:%M:%S").to_string();
    t.sql(&format!(
        "UPDATE idempotency_keys SET created_at = '{}' WHERE key = 'old-key'",
        at(chrono::Duration::hours(25))
    ));
    t.sql(&format!(
        "UPDATE idempotency_keys SET created_at = '{}' WHERE key = 'new-key'",
        at(chrono::Duration::hours(23))
    ));
    for (key, days) in [("file:aaaa", 91), ("file:bbbb", 89)] {
        t.sql(&format!(
            "INSERT INTO idempotency_keys (organization_id, key, request_hash, response, created_at) \
             SELECT organization_id, '{key}', 'h', '{{}}', '{}' FROM idempotency_keys WHERE key = 'new-key'",
            at(chrono::Duration::days(days))
        ));
    }
    let state = t.state.clone();
    let purged = actix_web::web::block(move || {
        let mut conn = state.db.writer().unwrap();
        let now = chrono::Utc::now().naive_utc();
        certrail::service::ops::housekeeping::purge(
            &mut conn,
            now,
            now - chrono::Duration::hours(1),
        )
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(purged.sessions, 1, "{purged:?}");
    assert_eq!(purged.idempotency, 2, "{purged:?}");
    let kept = |key: &str| {
        let state = t.state.clone();
        let key = key.to_string();
        async move {
            actix_web::web::block(move || {
                use certrail::db::schema::idempotency_keys::dsl;
                use diesel::prelude::*;
                let mut conn = state.db.reader().unwrap();
                let n: i64 = match &mut *conn {
                    certrail::db::DbConn::Sqlite(c) => dsl::idempotency_keys
                        .filter(dsl::key.eq(&key))
                        .count()
                        .get_result(c),
                    certrail::db::DbConn::Pg(c) => dsl::idempotency_keys
                        .filter(dsl::key.eq(&key))
                        .count()
                        .get_result(c),
                }
                .unwrap();
                n
            })
            .await
            .unwrap()
        }
    };
    assert_eq!(kept("old-key").await, 0);
    assert_eq!(kept("new-key").await, 1);
    assert_eq!(kept("file:aaaa").await, 0);
    assert_eq!(kept("file:bbbb").await, 1);
    // The live session still opens the console; the expired one was already refused.
    let console = |session: &str| {
        TestRequest::get()
            .uri("/console")
            .cookie(actix_web::cookie::Cookie::new(
                "certrail_session",
                session.to_string(),
            ))
    };
    assert_eq!(t.send(console(&live)).await.status, 200);
    assert_eq!(t.send(console(&stale)).await.status, 303);
}

/// What the real server answers to `raw`, sent over a fresh connection (read until it closes).
fn raw_exchange(url: &str, raw: &[u8]) -> String {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    stream.write_all(raw).unwrap();
    let mut answer = Vec::new();
    // The server closes after a parse error; a reset after the answer is fine too.
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

/// The error envelope of the last answer in `text`, and its status line.
fn last_envelope(text: &str) -> (String, serde_json::Value) {
    let start = text.rfind("HTTP/1.1 ").expect(text);
    let (head, body) = text[start..].split_once("\r\n\r\n").expect(text);
    assert!(head.contains("content-type: application/json"), "{head}");
    let status = head.lines().next().unwrap().to_string();
    (status, serde_json::from_str(body).expect(body))
}

#[test]
fn the_access_log_keeps_paths_but_not_signatures_or_case_numbers() {
    use crate::process::{get, post, producer};
    let db = crate::helpers::TestDb::new();
    let admin = "admin-token-for-the-access-log-0123";
    let log_path = db.dir().join("access.log");
    let server = crate::process::serve_logged(
        &db.url,
        db.dir(),
        admin,
        &[("RUST_LOG", "info")],
        std::fs::File::create(&log_path).unwrap(),
    );
    let (_, token, product) = producer(&server, admin, crate::helpers::CODES[0]);
    let issued = post(
        &server.api("/certificates"),
        &token,
        &crate::helpers::batch(&product),
        &[],
    );
    assert_eq!(issued.status, 201, "{}", issued.body);
    let issued = issued.json();
    let (id, signature) = (
        issued["id"].as_str().unwrap(),
        issued["signature"].as_str().unwrap(),
    );
    let label = get(
        &format!("{}/v/{id}?s={signature}&region=430702", server.url),
        None,
        &[],
    );
    assert_eq!(label.status, 200);
    // A case number in every place one travels: the lookup form, the page, the API.
    let number = "PF-7K3M-9Q2X-H4TW";
    for path in [
        format!("/cases?number={number}"),
        format!("/cases/{number}"),
        format!("/api/v1/cases/{number}"),
    ] {
        get(&format!("{}{path}", server.url), None, &[]);
    }
    let confirm = post(
        &server.api(&format!("/cases/{number}/confirm")),
        "",
        &serde_json::json!({}),
        &[],
    );
    assert_eq!(confirm.status, 404, "{}", confirm.body);
    drop(server);
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        log.contains(&format!(
            "\"GET /v/{id}?s=[redacted]&region=430702 HTTP/1.1\" 200"
        )),
        "{log}"
    );
    for line in [
        "\"GET /cases?number=[redacted] HTTP/1.1\"",
        "\"GET /cases/[redacted] HTTP/1.1\"",
        "\"GET /api/v1/cases/[redacted] HTTP/1.1\"",
        "\"POST /api/v1/cases/[redacted]/confirm HTTP/1.1\" 404",
    ] {
        assert!(log.contains(line), "{line} in {log}");
    }
    assert!(!log.contains(signature), "{log}");
    assert!(!log.contains(number), "{log}");
    assert!(!log.contains(&token) && !log.contains(admin), "{log}");
}

#[test]
fn request_heads_the_parser_refuses_are_answered_in_the_envelope() {
    let db = crate::helpers::TestDb::new();
    let server = crate::process::serve(&db.url, db.dir(), "admin-token-for-heads-0123456789", &[]);
    let long = |n: usize| format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(n));

    // A 100 KB URI: longer than the http crate's 65,534 bytes.
    let (status, body) = last_envelope(&raw_exchange(&server.url, long(100_000).as_bytes()));
    assert_eq!(status, "HTTP/1.1 400 Bad Request");
    assert_eq!(body["error"]["code"], "malformed_request", "{body}");

    // A header line without a colon.
    let bad = "GET /healthz HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n";
    let (status, body) = last_envelope(&raw_exchange(&server.url, bad.as_bytes()));
    assert_eq!(status, "HTTP/1.1 400 Bad Request");
    assert_eq!(body["error"]["code"], "malformed_request", "{body}");

    // A head over 128 KB.
    let (status, body) = last_envelope(&raw_exchange(&server.url, long(140_000).as_bytes()));
    assert_eq!(status, "HTTP/1.1 431 Request Header Fields Too Large");
    assert_eq!(body["error"]["code"], "request_head_too_large", "{body}");
    // 100 short header fields: well under 128 KB, and the same answer, whose message names
    // both causes (actix-http does not say which it was).
    let many: String = (0..100).map(|n| format!("X-H{n}: 1\r\n")).collect();
    let raw = format!("GET /healthz HTTP/1.1\r\nHost: x\r\n{many}\r\n");
    let (status, many_body) = last_envelope(&raw_exchange(&server.url, raw.as_bytes()));
    assert_eq!(status, "HTTP/1.1 431 Request Header Fields Too Large");
    assert_eq!(many_body, body);
    assert_eq!(
        body["error"]["message"],
        "request head too large: too many header fields (at most 96) or over 128 KB in all"
    );

    // A good request pipelined before a bad one keeps its own answer.
    let both = format!("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n{}", long(100_000));
    let text = raw_exchange(&server.url, both.as_bytes());
    assert!(
        text.starts_with("HTTP/1.1 200 OK\r\n") && text.contains("{\"status\":\"ok\"}"),
        "{text}"
    );
    assert_eq!(last_envelope(&text).1["error"]["code"], "malformed_request");

    // And the server goes on serving.
    let ok = raw_exchange(
        &server.url,
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
}

/// Sends `head`, then `body` a byte every 100 ms (as a slow-body attack does) until the server
/// closes the connection or the body runs out; returns what the server answered and whether it
/// closed the connection (rather than the 15 s read timeout running out).
fn trickled_exchange(url: &str, head: &str, body: &[u8]) -> (String, bool) {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(15)))
        .unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let body = body.to_vec();
    let trickle = std::thread::spawn(move || {
        for byte in body {
            if writer.write_all(&[byte]).is_err() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    });
    let mut answer = Vec::new();
    let read = stream.read_to_end(&mut answer);
    let closed = match &read {
        Ok(_) => true,
        Err(e) => !matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
    };
    drop(stream);
    trickle.join().unwrap();
    (String::from_utf8_lossy(&answer).into_owned(), closed)
}

#[test]
fn a_body_trickled_past_the_body_timeout_is_answered_408_and_its_connection_closed() {
    let db = crate::helpers::TestDb::new();
    let admin = "admin-token-for-bodies-0123456789";
    let env = [("CERTRAIL_BODY_TIMEOUT_SECS", "1")];
    let server = crate::process::serve(&db.url, db.dir(), admin, &env);
    // 300 bytes announced, a byte every 100 ms: 30 s if the server waited for it all.
    let body = format!("{{\"name\": \"{}\"}}", "x".repeat(288));
    assert_eq!(body.len(), 300);
    let head = format!(
        "POST /api/v1/organizations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {admin}\r\n\
         Content-Type: application/json\r\nContent-Length: 300\r\n\r\n"
    );
    let (text, closed) = trickled_exchange(&server.url, &head, body.as_bytes());
    assert!(closed, "the connection is closed: {text}");
    let (status, envelope) = last_envelope(&text);
    assert_eq!(status, "HTTP/1.1 408 Request Timeout");
    assert_eq!(envelope["error"]["code"], "request_timeout", "{envelope}");
    assert!(text.contains("connection: close"), "{text}");

    // A chunked body is cut off the same way.
    let head = format!(
        "POST /api/v1/organizations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {admin}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    let chunks = "1\r\n{\r\n".repeat(300);
    let (text, closed) = trickled_exchange(&server.url, &head, chunks.as_bytes());
    assert!(closed, "the connection is closed: {text}");
    assert_eq!(last_envelope(&text).1["error"]["code"], "request_timeout");

    // A body no handler reads, which the server would drain for as long as it kept coming:
    // the answer goes out, and the connection still ends at the deadline.
    let head = "GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    let (text, closed) = trickled_exchange(&server.url, head, "1\r\na\r\n".repeat(300).as_bytes());
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(closed, "the connection is closed: {text}");

    // A body that arrives in time is answered as usual, and the connection is kept alive for
    // the next request, past the body timeout.
    use std::io::{Read, Write};
    let mut stream =
        std::net::TcpStream::connect(server.url.trim_start_matches("http://")).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(15)))
        .unwrap();
    let request = format!(
        "POST /api/v1/organizations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {admin}\r\n\
         Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{{}}"
    );
    stream.write_all(request.as_bytes()).unwrap();
    // The whole first answer (its head says how long its body is), nothing more.
    let mut first = Vec::new();
    let mut byte = [0u8; 1];
    let complete = |text: &[u8]| {
        let text = String::from_utf8_lossy(text);
        text.split_once("\r\n\r\n").is_some_and(|(head, body)| {
            head.lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .is_some_and(|n| n.parse::<usize>().unwrap() == body.len())
        })
    };
    while !complete(&first) {
        stream.read_exact(&mut byte).unwrap();
        first.push(byte[0]);
    }
    let first = String::from_utf8_lossy(&first).into_owned();
    assert!(first.starts_with("HTTP/1.1 422 "), "{first}");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut second = String::new();
    let _ = stream.read_to_string(&mut second);
    assert!(second.starts_with("HTTP/1.1 200 OK\r\n"), "{second}");
}

//! Webhooks (contract §12) against a real HTTP receiver on loopback: deliveries are signed as
//! Standard Webhooks says (checked with its published Rust library), survive a receiver that
//! is down for a while, keep their id across retries, and retailers acknowledge recalls.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::{json, Value};

use crate::helpers::{batch, code, spawn, spawn_with};

/// What the receiver saw: (webhook-id, headers, body) per request.
type Seen = Arc<Mutex<Vec<(String, http::HeaderMap, String)>>>;

/// A free loopback port, not yet listened on.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the receiver on `port`: it answers 500 to the first `fail_first` requests, then 204.
fn receiver(port: u16, seen: Seen, fail_first: usize) -> actix_web::dev::ServerHandle {
    let server = HttpServer::new(move || {
        let seen = seen.clone();
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
            let seen = seen.clone();
            async move {
                let mut headers = http::HeaderMap::new();
                for (name, value) in req.headers() {
                    headers.insert(
                        http::HeaderName::from_bytes(name.as_str().as_bytes()).unwrap(),
                        http::HeaderValue::from_bytes(value.as_bytes()).unwrap(),
                    );
                }
                let id = headers
                    .get("webhook-id")
                    .map(|v| v.to_str().unwrap().to_string())
                    .unwrap_or_default();
                let mut all = seen.lock().unwrap();
                all.push((id, headers, String::from_utf8(body.to_vec()).unwrap()));
                match all.len() <= fail_first {
                    true => HttpResponse::InternalServerError().finish(),
                    false => HttpResponse::NoContent().finish(),
                }
            }
        }))
    })
    .workers(1)
    .bind(("127.0.0.1", port))
    .unwrap()
    .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    handle
}

/// Waits until `done` holds for the receiver's log (at most 30 s).
async fn wait_for(seen: &Seen, done: impl Fn(&[(String, http::HeaderMap, String)]) -> bool) {
    for _ in 0..300 {
        if done(&seen.lock().unwrap()) {
            return;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the receiver never saw what was expected: {:?}",
        seen.lock()
            .unwrap()
            .iter()
            .map(|s| &s.2)
            .collect::<Vec<_>>()
    );
}

#[actix_web::test]
async fn a_recall_reaches_a_receiver_that_was_down_and_is_acknowledged() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(&code(1)).await;
    let (shop_a_id, shop_a) = t.org("retailer", &code(2), "430702").await;
    let (shop_b_id, shop_b) = t.org("retailer", &code(3), "430702").await;
    let (_, far_shop) = t.org("retailer", &code(4), "430702").await;
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/hooks/certrail");

    // Registration: checked, and the secret is shown once.
    t.post(
        "/api/v1/webhooks",
        Some(&shop_a),
        &json!({"url": "ftp://x/y", "events": ["recall.created"]}),
    )
    .await
    .error(422, "invalid_url");
    t.post(
        "/api/v1/webhooks",
        Some(&shop_a),
        &json!({"url": url, "events": ["recall.made"]}),
    )
    .await
    .error(422, "invalid_event_type");
    t.post(
        "/api/v1/webhooks",
        Some(&t.admin),
        &json!({"url": url, "events": ["recall.created"]}),
    )
    .await
    .error(403, "forbidden");
    let res = t
        .post(
            "/api/v1/webhooks",
            Some(&shop_a),
            &json!({"url": url, "events": ["recall.created", "certificate.status_changed"]}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let hook = res.json();
    let secret = hook["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let listed = t.get("/api/v1/webhooks", Some(&shop_a)).await.json();
    assert_eq!(listed[0]["id"], hook["id"]);
    assert!(
        !listed.to_string().contains(&secret[6..]),
        "never shown again"
    );
    assert_eq!(
        t.get("/api/v1/webhooks", Some(&shop_b)).await.json(),
        json!([])
    );

    let issued = t.issue(&producer, &batch(&product)).await;
    let id = issued["id"].as_str().unwrap();
    for (shop, shop_id) in [(&shop_a, &shop_a_id), (&shop_b, &shop_b_id)] {
        let leg = json!({"type": "shipped", "consignee": shop_id, "quantity": 1});
        let shipped = t
            .post(
                &format!("/api/v1/certificates/{id}/events"),
                Some(&producer),
                &leg,
            )
            .await;
        assert_eq!(shipped.status, 201, "{}", shipped.text());
        let res = t
            .post(
                &format!("/api/v1/certificates/{id}/events"),
                Some(shop),
                &json!({"type": "received", "label_url": issued["verify_url"]}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
    }

    // The receiver is down when the recall is made.
    let res = t
        .post(
            "/api/v1/recalls",
            Some(&producer),
            &json!({"product_id": product, "reason": "金属异物"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let recall = res.json();
    let recall_id = recall["id"].as_str().unwrap().to_string();
    let states: Vec<&str> = recall["retailers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["pending", "pending"]);
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    let log = t
        .get("/api/v1/webhooks/deliveries", Some(&shop_a))
        .await
        .json();
    assert_eq!(log[0]["type"], "recall.created", "{log}");
    assert_eq!(log[0]["state"], "pending", "{log}");
    assert!(log[0]["attempts"].as_i64().unwrap() >= 1, "{log}");
    assert!(log[0]["last_error"].is_string(), "{log}");

    // It comes back, answers 500 once, then accepts.
    let seen: Seen = Arc::default();
    let handle = receiver(port, seen.clone(), 1);
    wait_for(&seen, |s| s.len() >= 2).await;
    handle.stop(true).await;
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "one failure, one success, nothing more");
    assert_eq!(seen[0].0, seen[1].0, "a retry keeps the message id");
    assert_eq!(seen[0].2, seen[1].2, "and the body");
    let verifier = standardwebhooks::Webhook::new(&secret).unwrap();
    for (_, headers, body) in &seen {
        verifier
            .verify(body.as_bytes(), headers)
            .expect("signed as Standard Webhooks says");
    }
    let other = standardwebhooks::Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    assert!(other.verify(seen[1].2.as_bytes(), &seen[1].1).is_err());
    let body: Value = serde_json::from_str(&seen[1].2).unwrap();
    assert_eq!(body["type"], "recall.created");
    assert_eq!(body["data"]["recall_id"], recall_id.as_str());
    assert_eq!(body["data"]["certificate_ids"], json!([id]));
    assert_eq!(body["data"]["reason"], "金属异物");
    assert_eq!(body["data"]["product"]["name"], "酱板鸭");
    assert!(body["timestamp"].as_str().unwrap().ends_with('Z'));

    let log = t
        .get("/api/v1/webhooks/deliveries", Some(&shop_a))
        .await
        .json();
    assert_eq!(log[0]["state"], "delivered", "{log}");
    assert_eq!(log[0]["id"], seen[1].0.as_str());
    assert_eq!(log[0]["last_status"], 204);

    // Acknowledgements: only retailers that took the goods in, once each.
    let ack = format!("/api/v1/recalls/{recall_id}/acknowledgements");
    t.post(&ack, Some(&far_shop), &json!({"quantity_removed": 3}))
        .await
        .error(403, "forbidden");
    t.post(&ack, Some(&producer), &json!({"quantity_removed": 3}))
        .await
        .error(403, "forbidden");
    t.post(&ack, Some(&shop_a), &json!({"quantity_removed": -1}))
        .await
        .error(422, "out_of_range");
    let res = t
        .post(
            &ack,
            Some(&shop_a),
            &json!({"quantity_removed": 36, "note": "已下架封存"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    t.post(&ack, Some(&shop_a), &json!({"quantity_removed": 1}))
        .await
        .error(409, "already_acknowledged");
    let view = t
        .get(&format!("/api/v1/recalls/{recall_id}"), Some(&producer))
        .await
        .json();
    let by_id = |rid: &str| {
        view["retailers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == rid)
            .cloned()
            .unwrap()
    };
    let a = by_id(&shop_a_id);
    assert_eq!(a["state"], "acknowledged");
    assert_eq!(a["quantity_removed"], 36);
    assert!(a["delivered_at"].is_string());
    assert_eq!(
        by_id(&shop_b_id)["state"],
        "pending",
        "no endpoint, no delivery"
    );
}

#[actix_web::test]
async fn unacknowledged_recalls_turn_overdue_and_status_changes_are_pushed() {
    let t = spawn_with(|c| c.workflow.recall_ack_deadline = chrono::Duration::zero()).await;
    let (producer, product) = t.producer_with_product(&code(1)).await;
    let (shop_id, shop) = t.org("retailer", &code(2), "430702").await;
    let port = free_port();
    let seen: Seen = Arc::default();
    let handle = receiver(port, seen.clone(), 0);
    let res = t
        .post(
            "/api/v1/webhooks",
            Some(&shop),
            &json!({"url": format!("http://127.0.0.1:{port}/"), "events": ["certificate.status_changed"]}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let issued = t.issue(&producer, &batch(&product)).await;
    let id = issued["id"].as_str().unwrap();
    t.ship(&producer, id, &shop_id, None).await;
    t.post(
        &format!("/api/v1/certificates/{id}/events"),
        Some(&shop),
        &json!({"type": "received", "label_url": issued["verify_url"]}),
    )
    .await;
    let res = t
        .post(
            &format!("/api/v1/certificates/{id}/suspend"),
            Some(&producer),
            &json!({"reason": "待查"}),
        )
        .await;
    assert_eq!(res.status, 200);
    wait_for(&seen, |s| !s.is_empty()).await;
    let body: Value = serde_json::from_str(&seen.lock().unwrap()[0].2).unwrap();
    assert_eq!(body["type"], "certificate.status_changed");
    assert_eq!(body["data"]["certificate_id"], id);
    assert_eq!(body["data"]["status"], "suspended");
    assert_eq!(body["data"]["previous_status"], "active");

    let recall = t
        .post(
            "/api/v1/recalls",
            Some(&producer),
            &json!({"product_id": product, "reason": "金属异物"}),
        )
        .await
        .json();
    assert_eq!(recall["retailers"][0]["state"], "pending", "{recall}");
    std::thread::sleep(Duration::from_millis(1100));
    let recall = t
        .get(
            &format!("/api/v1/recalls/{}", recall["id"].as_str().unwrap()),
            Some(&producer),
        )
        .await
        .json();
    assert_eq!(recall["retailers"][0]["state"], "overdue", "{recall}");
    // The shop subscribed to status changes only: the recall was not sent to it.
    actix_web::rt::time::sleep(Duration::from_millis(800)).await;
    assert!(seen
        .lock()
        .unwrap()
        .iter()
        .all(|s| !s.2.contains("recall.created")));

    // A deactivated organization is sent nothing.
    let deactivate = format!("/api/v1/organizations/{shop_id}/deactivate");
    t.post(&deactivate, Some(&t.admin), &json!({"reason": "停业"}))
        .await;
    let res = t
        .post(
            &format!("/api/v1/certificates/{id}/revoke"),
            Some(&producer),
            &json!({"reason": "x"}),
        )
        .await;
    assert_eq!(res.status, 200);
    let sent = seen.lock().unwrap().len();
    actix_web::rt::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        seen.lock().unwrap().len(),
        sent,
        "nothing sent to a deactivated organization"
    );
    let reactivate = format!("/api/v1/organizations/{shop_id}/reactivate");
    t.post(&reactivate, Some(&t.admin), &json!({"reason": "复业"}))
        .await;
    let log = t
        .get("/api/v1/webhooks/deliveries", Some(&shop))
        .await
        .json();
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .all(|d| d["state"] == "delivered"),
        "{log}"
    );

    // Deleting the endpoint stops deliveries; another organization cannot delete it.
    let hook_id = t.get("/api/v1/webhooks", Some(&shop)).await.json()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    t.send(crate::helpers::with_token(
        actix_web::test::TestRequest::delete().uri(&format!("/api/v1/webhooks/{hook_id}")),
        Some(&producer),
    ))
    .await
    .error(404, "not_found");
    let res = t
        .send(crate::helpers::with_token(
            actix_web::test::TestRequest::delete().uri(&format!("/api/v1/webhooks/{hook_id}")),
            Some(&shop),
        ))
        .await;
    assert_eq!(res.status, 204);
    assert_eq!(
        t.get("/api/v1/webhooks", Some(&shop)).await.json(),
        json!([])
    );
    handle.stop(true).await;
}

/// What the slow receiver saw: requests arrived, requests answered.
#[derive(Default)]
struct Slow {
    arrived: std::sync::atomic::AtomicUsize,
    answered: std::sync::atomic::AtomicUsize,
    released: std::sync::atomic::AtomicBool,
}

/// A receiver that holds every request open until the test releases it, then answers 204.
fn slow_receiver(port: u16, slow: Arc<Slow>) -> actix_web::dev::ServerHandle {
    use std::sync::atomic::Ordering::SeqCst;
    let server = HttpServer::new(move || {
        let slow = slow.clone();
        App::new().default_service(web::to(move || {
            let slow = slow.clone();
            async move {
                slow.arrived.fetch_add(1, SeqCst);
                while !slow.released.load(SeqCst) {
                    actix_web::rt::time::sleep(Duration::from_millis(20)).await;
                }
                slow.answered.fetch_add(1, SeqCst);
                HttpResponse::NoContent().finish()
            }
        }))
    })
    .workers(1)
    .bind(("127.0.0.1", port))
    .unwrap()
    .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    handle
}

#[actix_web::test]
async fn a_slow_endpoint_holds_up_only_its_own_messages() {
    use std::sync::atomic::Ordering::SeqCst;
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(&code(1)).await;
    let (slow_id, slow_shop) = t.org("retailer", &code(2), "430702").await;
    let (fast_id, fast_shop) = t.org("retailer", &code(3), "430702").await;
    let (slow_port, fast_port) = (free_port(), free_port());
    let slow = Arc::new(Slow::default());
    let slow_handle = slow_receiver(slow_port, slow.clone());
    let seen: Seen = Arc::default();
    let fast_handle = receiver(fast_port, seen.clone(), 0);
    let mut certificates = Vec::new();
    for (shop, shop_id, port) in [
        (&slow_shop, &slow_id, slow_port),
        (&fast_shop, &fast_id, fast_port),
    ] {
        let res = t
            .post(
                "/api/v1/webhooks",
                Some(shop),
                &json!({"url": format!("http://127.0.0.1:{port}/"), "events": ["certificate.status_changed"]}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
        let issued = t.issue(&producer, &batch(&product)).await;
        t.ship(&producer, issued["id"].as_str().unwrap(), shop_id, None)
            .await;
        let res = t
            .post(
                &format!(
                    "/api/v1/certificates/{}/events",
                    issued["id"].as_str().unwrap()
                ),
                Some(shop),
                &json!({"type": "received", "label_url": issued["verify_url"]}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
        certificates.push(issued["id"].as_str().unwrap().to_string());
    }
    let suspend = |id: &str| format!("/api/v1/certificates/{id}/suspend");

    // The slow endpoint's message is being sent, and held open.
    let res = t
        .post(
            &suspend(&certificates[0]),
            Some(&producer),
            &json!({"reason": "待查"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    for _ in 0..300 {
        if slow.arrived.load(SeqCst) > 0 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        slow.arrived.load(SeqCst),
        1,
        "the slow endpoint was sent its message"
    );

    // Another organization's message arrives while that request is still open.
    let res = t
        .post(
            &suspend(&certificates[1]),
            Some(&producer),
            &json!({"reason": "待查"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    wait_for(&seen, |s| !s.is_empty()).await;
    assert_eq!(
        slow.answered.load(SeqCst),
        0,
        "the slow request is still held"
    );
    let body: Value = serde_json::from_str(&seen.lock().unwrap()[0].2).unwrap();
    assert_eq!(body["data"]["certificate_id"], certificates[1].as_str());

    // Released, the slow endpoint's first attempt is the one that delivers: the sender was
    // still waiting on it when the other message went out.
    slow.released.store(true, SeqCst);
    let mut log = Value::Null;
    for _ in 0..300 {
        log = t
            .get("/api/v1/webhooks/deliveries", Some(&slow_shop))
            .await
            .json();
        if log[0]["state"] == "delivered" {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(log[0]["state"], "delivered", "{log}");
    assert_eq!(log[0]["attempts"], 1, "{log}");
    assert_eq!(log[0]["last_status"], 204, "{log}");
    assert_eq!(slow.arrived.load(SeqCst), 1);
    slow_handle.stop(false).await;
    fast_handle.stop(true).await;
}

#[actix_web::test]
async fn a_refused_endpoint_is_not_told_what_its_name_resolved_to() {
    let t = spawn_with(|c| c.workflow.webhook_allow_private = false).await;
    let (producer, product) = t.producer_with_product(&code(1)).await;
    let (shop_id, shop) = t.org("retailer", &code(2), "430702").await;
    for url in ["http://localhost:9/hook", "http://[::127.0.0.1]:9/hook"] {
        let res = t
            .post(
                "/api/v1/webhooks",
                Some(&shop),
                &json!({"url": url, "events": ["certificate.status_changed"]}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
    let issued = t.issue(&producer, &batch(&product)).await;
    let id = issued["id"].as_str().unwrap();
    t.ship(&producer, id, &shop_id, None).await;
    t.post(
        &format!("/api/v1/certificates/{id}/events"),
        Some(&shop),
        &json!({"type": "received", "label_url": issued["verify_url"]}),
    )
    .await;
    let res = t
        .post(
            &format!("/api/v1/certificates/{id}/suspend"),
            Some(&producer),
            &json!({"reason": "待查"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let mut log = Value::Null;
    for _ in 0..300 {
        log = t
            .get("/api/v1/webhooks/deliveries", Some(&shop))
            .await
            .json();
        let tried = log.as_array().unwrap();
        if tried.len() == 2 && tried.iter().all(|d| d["attempts"].as_i64() >= Some(1)) {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    let tried = log.as_array().unwrap();
    assert_eq!(tried.len(), 2, "{log}");
    for d in tried {
        assert_eq!(d["state"], "pending", "{log}");
        assert_eq!(d["last_error"], "not a public address", "{log}");
    }
    // The console's delivery list shows the same field (webhooks::deliveries).
    for address in ["127.0.0.1", "::1", "7f00"] {
        assert!(!log.to_string().contains(address), "{log}");
    }
}

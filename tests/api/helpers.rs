//! Test harness: builds the app on a fresh database and offers request helpers.

use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::test::{self, TestRequest};
use actix_web::web;
use certrail::config::Config;
use certrail::db::DbConn;
use certrail::service::AppState;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, RunQueryDsl};
use serde_json::{json, Value};

/// A database that exists for one test and is removed afterwards.
pub struct TestDb {
    pub url: String,
    pg: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

impl TestDb {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        match std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            Some(base) => {
                let schema = format!(
                    "t_{}",
                    certrail::crypto::random::new_id()
                        .to_lowercase()
                        .replace(['-', '_'], "x")
                );
                let mut conn = PgConnection::establish(&base).expect("TEST_DATABASE_URL reachable");
                conn.batch_execute(&format!("CREATE SCHEMA {schema}"))
                    .expect("create schema");
                let sep = if base.contains('?') { '&' } else { '?' };
                let url = format!("{base}{sep}options=-csearch_path%3D{schema}");
                Self {
                    url,
                    pg: Some((base, schema)),
                    _dir: dir,
                }
            }
            None => {
                let url = format!("sqlite://{}", dir.path().join("certrail.db").display());
                Self {
                    url,
                    pg: None,
                    _dir: dir,
                }
            }
        }
    }

    pub fn dir(&self) -> &std::path::Path {
        self._dir.path()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((base, schema)) = &self.pg {
            if let Ok(mut conn) = PgConnection::establish(base) {
                let _ = conn.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"));
            }
        }
    }
}

/// Says on the terminal that the running test checks nothing in this pass, and why. It writes
/// to the process's standard error itself: the harness keeps what `eprintln!` prints to itself
/// when a test passes, and a skipped test would then look like one that passed.
pub fn skipped(reason: &str) {
    use std::io::Write;
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    let _ = writeln!(std::io::stderr().lock(), "SKIPPED {test}: {reason}");
}

/// A response with its body read.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: actix_web::http::header::HeaderMap,
    pub body: web::Bytes,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// A header's value ("" when absent).
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts the status and the contract's error envelope; returns the error member.
    #[track_caller]
    pub fn error(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text());
        let body = self.json();
        let error = body["error"].clone();
        assert_eq!(error["code"], code, "body: {body}");
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "body: {body}"
        );
        let keys: Vec<_> = body.as_object().unwrap().keys().cloned().collect();
        assert!(keys.contains(&"error".to_string()));
        error
    }

    /// Asserts the status and an HTML error page that says `words`; returns the page.
    #[track_caller]
    pub fn page_error(&self, status: u16, words: &str) -> String {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text());
        assert!(
            self.header("content-type").starts_with("text/html"),
            "{}",
            self.header("content-type")
        );
        let html = self.text();
        assert!(
            html.contains("role=\"alert\"") && html.contains(words),
            "{html}"
        );
        html
    }
}

pub struct TestApp<S> {
    pub app: S,
    pub state: web::Data<AppState>,
    pub admin: String,
    /// Kept for its Drop: the database is removed after the test (by the first instance).
    _db: Option<TestDb>,
    /// The configuration it runs with (a second instance reuses it).
    pub config: Config,
}

pub const PUBLIC_URL: &str = "http://certrail.test";

/// The app on a fresh database, with an environment admin token.
pub async fn spawn() -> TestApp<
    impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error>,
> {
    spawn_with(|_| {}).await
}

/// The app on a fresh database, with `adjust` applied to its configuration.
pub async fn spawn_with(
    adjust: impl FnOnce(&mut Config),
) -> TestApp<
    impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error>,
> {
    let db = TestDb::new();
    let admin = certrail::crypto::random::new_token().0;
    let config = Config {
        bind: "127.0.0.1:0".into(),
        public_url: PUBLIC_URL.into(),
        data_dir: db.dir().to_path_buf(),
        database_url: db.url.clone(),
        admin_token: Some(admin.clone()),
        master_key: None,
        pool_size: 4,
        trusted_proxies: Vec::new(),
        label_font: None,
        copy: Default::default(),
        tuning: Default::default(),
        ops: Default::default(),
        workflow: certrail::config::Workflow {
            webhook_allow_private: true,
            webhook_retry_scale: 0.001,
            ..Default::default()
        },
    };
    let mut config = config;
    adjust(&mut config);
    instance(config, Some(db), admin).await
}

/// Another server instance on the same database and master key as `first`.
pub async fn second_instance<S>(
    first: &TestApp<S>,
) -> TestApp<
    impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error>,
> {
    instance(first.config.clone(), None, first.admin.clone()).await
}

async fn instance(
    config: Config,
    db: Option<TestDb>,
    admin: String,
) -> TestApp<
    impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error>,
> {
    let state = web::Data::new(AppState::open(config.clone()).expect("app state"));
    let app = test::init_service(certrail::startup::app(state.clone())).await;
    TestApp {
        app,
        state,
        admin,
        _db: db,
        config,
    }
}

impl<S, B> TestApp<S>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    pub async fn send(&self, req: TestRequest) -> Resp {
        let res = test::call_service(&self.app, req.to_request()).await;
        let status = res.status();
        let headers = res.headers().clone();
        let body = test::read_body(res).await;
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.send(with_token(TestRequest::get().uri(path), token))
            .await
    }

    pub async fn get_json(&self, path: &str) -> Resp {
        self.send(
            TestRequest::get()
                .uri(path)
                .insert_header(("Accept", "application/json")),
        )
        .await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Resp {
        self.send(with_token(
            TestRequest::post().uri(path).set_json(body),
            token,
        ))
        .await
    }

    /// Creates an organization of `kind` and a token for it; returns (id, token).
    pub async fn org(&self, kind: &str, credit_code: &str, region: &str) -> (String, String) {
        let res = self
            .post(
                "/api/v1/organizations",
                Some(&self.admin),
                &json!({"kind": kind, "name": format!("{kind} 常德 {credit_code}"), "credit_code": credit_code,
                        "region_code": region, "address": "湖南省常德市武陵区人民路1号"}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
        let id = res.json()["id"].as_str().unwrap().to_string();
        let res = self
            .post(
                &format!("/api/v1/organizations/{id}/tokens"),
                Some(&self.admin),
                &json!({}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
        (id, res.json()["token"].as_str().unwrap().to_string())
    }

    /// A producer with one product; returns (producer token, product id). The product's GTIN
    /// is the producer's own ([`gtin_of`]): a GTIN belongs to one organization.
    pub async fn producer_with_product(&self, credit_code: &str) -> (String, String) {
        let (_, token) = self.org("producer", credit_code, "430702").await;
        let res = self
            .post(
                "/api/v1/products",
                Some(&token),
                &json!({"name": "酱板鸭", "model": "500g/袋", "standard": "GB/T 23586-2022", "gtin": gtin_of(credit_code)}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
        (token, res.json()["id"].as_str().unwrap().to_string())
    }

    /// Ships certificate `id`'s goods (unit `serial`, or the batch) from `holder` to
    /// `consignee`: custody is given along a leg, so an intake needs one.
    pub async fn ship(&self, holder: &str, id: &str, consignee: &str, serial: Option<i64>) {
        let mut body = json!({"type": "shipped", "consignee": consignee});
        if let Some(serial) = serial {
            body["serial"] = json!(serial);
        }
        let res = self
            .post(
                &format!("/api/v1/certificates/{id}/events"),
                Some(holder),
                &body,
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
    }

    /// Issues a certificate; returns the 201 body.
    pub async fn issue(&self, token: &str, body: &Value) -> Value {
        let res = self.post("/api/v1/certificates", Some(token), body).await;
        assert_eq!(res.status, 201, "{}", res.text());
        res.json()
    }

    /// Runs raw SQL against the test database (for tampering with it). The edit is made
    /// behind the platform's back, which a running server sees when its cached record
    /// expires; the test drops the cache at once instead of waiting for that.
    pub fn sql(&self, statement: &str) {
        self.flush();
        {
            let mut conn = self.state.db.writer().unwrap();
            match &mut *conn {
                DbConn::Sqlite(c) => c.batch_execute(statement).unwrap(),
                DbConn::Pg(c) => c.batch_execute(statement).unwrap(),
            }
        }
        self.state.verify.clear();
        self.state.log_heads.clear();
    }

    /// Sequences every log entry written so far (as the background sequencer would within
    /// a fraction of a second) and drops cached records, so answers show the log position.
    pub fn sequence(&self) {
        // The background sequencer may hold the log's lock for a moment: wait for it, then
        // sequence what is left.
        let mut tries = 0;
        while certrail::service::tlog::sequencer::sequence_once(
            &self.state.db,
            &self.state.log,
            i64::MAX,
        )
        .expect("sequencing succeeds")
        .is_none()
        {
            tries += 1;
            assert!(tries < 500, "the log's lock was held for 10 s");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        self.state.verify.clear();
        self.state.log_heads.clear();
    }

    /// Waits until every consumer scan so far is stored (the scan writer commits in the
    /// background).
    pub fn flush(&self) {
        assert!(self.state.scans.flush(), "scans stored");
    }

    /// Row counts of every table, to prove a failed request wrote nothing.
    pub fn counts(&self) -> Vec<i64> {
        self.flush();
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = self.state.db.reader().unwrap();
        [
            "organizations",
            "signing_keys",
            "api_tokens",
            "products",
            "certificates",
            "events",
            "scan_hours",
            "recalls",
            "marks",
            "accreditations",
            // Log entries written, whether the sequencer took them yet or not.
            "(SELECT idx FROM log_entries UNION ALL SELECT id FROM log_pending) AS written",
        ]
        .iter()
        .map(|t| {
            let q = format!("SELECT COUNT(*) AS n FROM {t}");
            let rows: Vec<N> = match &mut *conn {
                DbConn::Sqlite(c) => diesel::sql_query(&q).load(c).unwrap(),
                DbConn::Pg(c) => diesel::sql_query(&q).load(c).unwrap(),
            };
            rows[0].n
        })
        .collect()
    }
}

pub fn with_token(req: TestRequest, token: Option<&str>) -> TestRequest {
    match token {
        Some(t) => req.insert_header(("Authorization", format!("Bearer {t}"))),
        None => req,
    }
}

/// A valid batch for `product_id`, dated a few days back.
pub fn batch(product_id: &str) -> Value {
    let today = chrono::Utc::now().date_naive();
    let d = |n: u64| {
        (today - chrono::Days::new(n))
            .format("%Y-%m-%d")
            .to_string()
    };
    json!({
        "product_id": product_id,
        "batch_no": "20261120-01",
        "quantity": 1200,
        "unit": "袋",
        "production_date": d(3),
        "inspection_date": d(2),
        "inspector": "QC-07",
        "result": "pass",
        "items": [{"name": "菌落总数", "requirement": "≤ 10000 CFU/g", "measured": "3200 CFU/g", "verdict": "pass"}],
        "lab_report_no": "CD-LAB-2026-0101",
        "expiry_date": (today + chrono::Days::new(180)).format("%Y-%m-%d").to_string(),
    })
}

/// Known-good credit codes from the contract.
pub const CODES: [&str; 4] = [
    "91350200776049653A",
    "91350213678251743X",
    "913502000728319549",
    "91440101MA5CJQ4N59",
];

/// Path and query of a full label URL.
pub fn path_of(url: &str) -> String {
    url.strip_prefix(PUBLIC_URL)
        .unwrap_or_else(|| panic!("{url} is not under {PUBLIC_URL}"))
        .to_string()
}

/// The GTIN-13 of [`TestApp::producer_with_product`]'s product: 6901234567892 for the first of
/// [`CODES`], else one made from the credit code (with a valid check digit).
pub fn gtin_of(credit_code: &str) -> String {
    if credit_code == CODES[0] {
        return "6901234567892".into();
    }
    let hash = credit_code.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    });
    let body = format!("69{:010}", hash % 10_000_000_000);
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

/// The `n`th generated credit code (valid check character), for tests needing more
/// organizations than [`CODES`].
pub fn code(n: u32) -> String {
    let first = format!("91430700MA{n:07}");
    let check = certrail::domain::credit_code::check_char(&first).expect("17 valid characters");
    format!("{first}{check}")
}

/// What GS1's own EPCIS 2.0 JSON Schema (kept in `tests/standards/epcis`, with its source)
/// finds wrong with `document`.
pub fn epcis_errors(document: &Value) -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/standards/epcis/EPCIS-JSON-Schema.json");
    let schema: Value = serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (the standard's schema, in the repository)",
            path.display()
        )
    }))
    .unwrap();
    let validator = jsonschema::draft7::new(&schema).expect("GS1's schema compiles");
    validator
        .iter_errors(document)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

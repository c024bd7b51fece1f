//! The certrail binary as a separate process on a free loopback port, for tests that talk to
//! it over real HTTP, kill it, restart it, or take its database away.

use std::path::Path;

use diesel::RunQueryDsl;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server; killed when dropped.
pub struct Server {
    child: Child,
    pub url: String,
}

impl Server {
    /// SIGKILL: no shutdown code runs, as when the machine loses power or the OOM killer
    /// strikes.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, as systemd or an orchestrator stops a server; waits up to `within` for it to
    /// exit and returns how it did.
    pub fn terminate(&mut self, within: Duration) -> std::process::ExitStatus {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM failed");
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for the server") {
                return status;
            }
            assert!(
                started.elapsed() < within,
                "the server did not exit within {within:?} of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `{url}/api/v1{path}`.
    pub fn api(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.url)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The log origin of a platform configured with no public URL (`http://127.0.0.1:8080`).
pub const DEFAULT_ORIGIN: &str = "127.0.0.1:8080/log";

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `certrail serve` on `database_url` with `data_dir`, `admin` as the admin token and `env`
/// on top; returns once `/healthz` answers.
pub fn serve(database_url: &str, data_dir: &Path, admin: &str, env: &[(&str, &str)]) -> Server {
    start_at(
        free_port(),
        database_url,
        data_dir,
        admin,
        env,
        Stdio::inherit(),
    )
}

/// Like [`serve`], with the server's log (its standard error) written to `log`.
pub fn serve_logged(
    database_url: &str,
    data_dir: &Path,
    admin: &str,
    env: &[(&str, &str)],
    log: std::fs::File,
) -> Server {
    start_at(
        free_port(),
        database_url,
        data_dir,
        admin,
        env,
        Stdio::from(log),
    )
}

/// Like [`serve`], on `port` (a restarted instance comes back where its load balancer
/// expects it).
pub fn serve_at(
    port: u16,
    database_url: &str,
    data_dir: &Path,
    admin: &str,
    env: &[(&str, &str)],
) -> Server {
    start_at(port, database_url, data_dir, admin, env, Stdio::inherit())
}

fn start_at(
    port: u16,
    database_url: &str,
    data_dir: &Path,
    admin: &str,
    env: &[(&str, &str)],
    stderr: Stdio,
) -> Server {
    let url = format!("http://127.0.0.1:{port}");
    let child = Command::new(env!("CARGO_BIN_EXE_certrail"))
        .arg("serve")
        .env("CERTRAIL_DATA_DIR", data_dir)
        .env("DATABASE_URL", database_url)
        .env("CERTRAIL_BIND", format!("127.0.0.1:{port}"))
        .env("CERTRAIL_PUBLIC_URL", &url)
        // One platform whatever port a test gives it: the log keeps one name (the one commands
        // run without a public URL give it).
        .env("CERTRAIL_LOG_ORIGIN", DEFAULT_ORIGIN)
        .env("CERTRAIL_ADMIN_TOKEN", admin)
        .env("CERTRAIL_LOG_INTERVAL_MS", "50")
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("start certrail serve");
    let mut child = child;
    let started = Instant::now();
    while ureq::get(format!("{url}/healthz")).call().is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the server exited at start: {status}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Started means listening and done filling the verification cache (`/readyz` no longer
    // says "warming"); other reasons not to be ready are the tests' to see.
    while get(&format!("{url}/readyz"), None, &[])
        .body
        .contains("warming")
    {
        assert!(
            started.elapsed() < Duration::from_secs(70),
            "the verification cache was still being filled"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Server { child, url }
}

/// An HTTP answer: status, `Retry-After`, body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<String>,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// The error envelope's code ("" if the body is not an envelope).
    pub fn code(&self) -> String {
        serde_json::from_str::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| v["error"]["code"].as_str().map(str::to_string))
            .unwrap_or_default()
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

fn answer(res: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
    match res {
        Ok(mut res) => Answer {
            status: res.status().as_u16(),
            retry_after: res
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            body: res.body_mut().read_to_string().unwrap_or_default(),
        },
        // The connection failed (the server is down): status 0.
        Err(e) => Answer {
            status: 0,
            retry_after: None,
            body: e.to_string(),
        },
    }
}

/// GET with an optional bearer token and extra headers.
pub fn get(url: &str, token: Option<&str>, headers: &[(&str, &str)]) -> Answer {
    let mut req = agent().get(url);
    if let Some(t) = token {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    answer(req.call())
}

/// POST a JSON body with a bearer token and extra headers.
pub fn post(url: &str, token: &str, body: &serde_json::Value, headers: &[(&str, &str)]) -> Answer {
    let mut req = agent()
        .post(url)
        .header("Authorization", &format!("Bearer {token}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    answer(req.send_json(body))
}

/// A producer with a token and a product on `server` (admin token `admin`): (org id, token,
/// product id).
pub fn producer(server: &Server, admin: &str, code: &str) -> (String, String, String) {
    let org = post(
        &server.api("/organizations"),
        admin,
        &serde_json::json!({"kind": "producer", "name": "常德食品", "credit_code": code,
            "region_code": "430702", "address": "湖南省常德市武陵区"}),
        &[],
    );
    assert_eq!(org.status, 201, "{}", org.body);
    let id = org.json()["id"].as_str().unwrap().to_string();
    let token = post(
        &server.api(&format!("/organizations/{id}/tokens")),
        admin,
        &serde_json::json!({}),
        &[],
    );
    assert_eq!(token.status, 201, "{}", token.body);
    let token = token.json()["token"].as_str().unwrap().to_string();
    let product = post(
        &server.api("/products"),
        &token,
        &serde_json::json!({"name": "酱板鸭", "model": "500g/袋", "standard": "GB/T 23586-2022"}),
        &[],
    );
    assert_eq!(product.status, 201, "{}", product.body);
    let product = product.json()["id"].as_str().unwrap().to_string();
    (id, token, product)
}

/// Rows of `sql` (`SELECT COUNT(*) AS n …`) on the database at `url`.
pub fn count(url: &str, sql: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = certrail::db::DbUrl::parse(url)
        .unwrap()
        .establish()
        .expect("connect to the test database");
    let rows: Vec<N> = match &mut conn {
        certrail::db::DbConn::Sqlite(c) => diesel::sql_query(sql).load(c).unwrap(),
        certrail::db::DbConn::Pg(c) => diesel::sql_query(sql).load(c).unwrap(),
    };
    rows[0].n
}

/// Waits until the log has sequenced everything written so far (the sequencer runs every
/// 50 ms in these tests); returns its size.
pub fn settled_log(server: &Server) -> u64 {
    let started = Instant::now();
    loop {
        let info = get(&server.api("/log"), None, &[]);
        if info.status == 200 && info.json()["pending"] == 0 {
            return info.json()["tree_size"].as_u64().unwrap();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "log: {}",
            info.body
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

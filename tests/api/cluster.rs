//! The cluster drill: a PostgreSQL primary and a streaming standby (throwaway clusters of their
//! own), three certrail instances reading from the standby, and HAProxy in front with the
//! configuration shipped in `assets/deploy/haproxy.cfg`. Under bounded load through HAProxy:
//! an instance killed with SIGKILL, a rolling restart, the standby stopped, a revoke while the
//! standby's replay is paused, and the primary crashed and the standby promoted.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{batch, skipped, CODES};
use crate::pg_cluster::Cluster;
use crate::process::{free_port, get, post, producer, serve_at, Answer, Server, DEFAULT_ORIGIN};

const ADMIN: &str = "cluster-drill-admin-token";
/// base64url of the 32 bytes "cluster-drill-master-key-32bytes": one master key for all.
const MASTER_KEY: &str = "Y2x1c3Rlci1kcmlsbC1tYXN0ZXIta2V5LTMyYnl0ZXM";
/// No load loop runs longer than this, whatever happens.
const LOAD_LIMIT: Duration = Duration::from_secs(120);

fn on_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty())
}

/// One certrail instance: where it listens and its data directory, kept across restarts.
struct Instance {
    port: u16,
    data: tempfile::TempDir,
    server: Option<Server>,
}

impl Instance {
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

struct Platform {
    database_url: String,
    replica_url: String,
    instances: Vec<Instance>,
}

impl Platform {
    fn start(&mut self, i: usize) {
        let env = [
            ("CERTRAIL_MASTER_KEY", MASTER_KEY),
            ("CERTRAIL_DATABASE_REPLICA_URLS", self.replica_url.as_str()),
            ("CERTRAIL_CHANGE_POLL_MS", "250"),
            ("CERTRAIL_DRAIN_SECS", "2"),
            ("CERTRAIL_DB_WAIT_MS", "500"),
            ("CERTRAIL_LOG_ORIGIN", DEFAULT_ORIGIN),
        ];
        let instance = &mut self.instances[i];
        instance.server = Some(serve_at(
            instance.port,
            &self.database_url,
            instance.data.path(),
            ADMIN,
            &env,
        ));
    }

    fn server(&self, i: usize) -> &Server {
        self.instances[i].server.as_ref().expect("instance running")
    }
}

/// HAProxy with the shipped configuration, the instances' addresses from the environment.
struct Haproxy {
    child: Child,
    url: String,
}

impl Haproxy {
    fn start(instances: &[Instance]) -> Self {
        let port = free_port();
        let config = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/deploy/haproxy.cfg");
        let child = Command::new("haproxy")
            .args(["-db", "-f", config])
            .env("CERTRAIL_LISTEN", format!("127.0.0.1:{port}"))
            .env("CERTRAIL_A", format!("127.0.0.1:{}", instances[0].port))
            .env("CERTRAIL_B", format!("127.0.0.1:{}", instances[1].port))
            .env("CERTRAIL_C", format!("127.0.0.1:{}", instances[2].port))
            .stdout(Stdio::null())
            .spawn()
            .expect("haproxy (scripts/setup.sh installs it)");
        let mut child = child;
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while get(&format!("{url}/readyz"), None, &[]).status != 200 {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("haproxy exited: {status}");
            }
            assert!(started.elapsed() < Duration::from_secs(20), "haproxy up");
            std::thread::sleep(Duration::from_millis(100));
        }
        Haproxy { child, url }
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Requests sent in a loop by a few threads until stopped, with every failed one kept.
struct Load {
    stop: Arc<AtomicBool>,
    workers: Vec<std::thread::JoinHandle<(u64, Vec<String>)>>,
}

impl Load {
    /// Verifies `labels` (each must answer `genuine`) and, with `trust_list`, reads the trust
    /// list (which reads the database each time, from a fresh replica when there is one),
    /// through `base`.
    fn start(base: &str, labels: &[String], trust_list: bool) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let workers = (0..4)
            .map(|w| {
                let stop = stop.clone();
                let base = base.to_string();
                let labels = labels.to_vec();
                std::thread::spawn(move || {
                    let started = Instant::now();
                    let (mut ok, mut failures) = (0u64, Vec::new());
                    let mut n = w;
                    while !stop.load(Ordering::Relaxed) && started.elapsed() < LOAD_LIMIT {
                        n += 1;
                        let (what, answer) = match n % 4 {
                            0 if trust_list => {
                                ("trust list", get(&format!("{base}/api/v1/keys"), None, &[]))
                            }
                            _ => {
                                let label = &labels[n % labels.len()];
                                let path = &label[label.find("/v/").unwrap()..];
                                let url = format!("{base}{path}");
                                ("verify", get(&url, None, &[("Accept", "application/json")]))
                            }
                        };
                        let fine = answer.status == 200
                            && (what != "verify" || answer.json()["verdict"] == "genuine");
                        if fine {
                            ok += 1;
                        } else {
                            failures.push(format!("{what}: {} {}", answer.status, answer.body));
                        }
                    }
                    (ok, failures)
                })
            })
            .collect();
        Load { stop, workers }
    }

    /// Stops the load; returns how many requests succeeded, failing the test on any failure.
    fn finish(self, phase: &str) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        let mut ok = 0;
        let mut failures = Vec::new();
        for worker in self.workers {
            let (n, f) = worker.join().unwrap();
            ok += n;
            failures.extend(f);
        }
        assert!(
            failures.is_empty(),
            "{phase}: {} failed of {}, first: {:?}",
            failures.len(),
            ok + failures.len() as u64,
            &failures[..failures.len().min(3)]
        );
        assert!(ok > 0, "{phase}: no request answered");
        ok
    }
}

/// Waits until `f` holds, at most `limit`.
fn eventually(limit: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let started = Instant::now();
    while !f() {
        assert!(started.elapsed() < limit, "{what} within {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The sum of a counter's samples in an instance's `/metrics` whose line starts with `prefix`.
fn metric(server: &Server, prefix: &str) -> f64 {
    get(&format!("{}/metrics", server.url), None, &[])
        .body
        .lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn verdict(answer: &Answer) -> String {
    serde_json::from_str::<Value>(&answer.body)
        .map(|v| v["verdict"].as_str().unwrap_or_default().to_string())
        .unwrap_or_default()
}

/// Issues a certificate of batch `batch_no` through `base`; returns the answer.
fn issue(base: &str, token: &str, product: &str, batch_no: &str) -> Value {
    let mut body = batch(product);
    body["batch_no"] = json!(batch_no);
    let issued = post(&format!("{base}/api/v1/certificates"), token, &body, &[]);
    assert_eq!(issued.status, 201, "{}", issued.body);
    issued.json()
}

#[test]
fn three_instances_behind_haproxy_survive_kills_restarts_a_lagging_replica_and_a_failover() {
    if !on_postgres() {
        return skipped(
            "runs in the PostgreSQL pass (TEST_DATABASE_URL set), on throwaway clusters of its own",
        );
    }
    let primary = Cluster::new();
    let standby = primary.standby();
    let mut platform = Platform {
        // libpq tries each host and keeps the one that takes writes: after a promotion the
        // instances find the new primary by themselves.
        database_url: format!(
            "postgres://postgres@127.0.0.1:{},127.0.0.1:{}/postgres?target_session_attrs=read-write",
            primary.port, standby.port
        ),
        replica_url: standby.url(),
        instances: (0..3)
            .map(|_| Instance {
                port: free_port(),
                data: tempfile::tempdir().unwrap(),
                server: None,
            })
            .collect(),
    };
    for i in 0..3 {
        platform.start(i);
    }
    let haproxy = Haproxy::start(&platform.instances);
    let (_, token, product) = producer(platform.server(0), ADMIN, CODES[0]);
    let labels: Vec<String> = (0..12)
        .map(|n| issue(&haproxy.url, &token, &product, &format!("HA-{n}")))
        .map(|issued| issued["verify_url"].as_str().unwrap().to_string())
        .collect();

    // 1. An instance killed with SIGKILL: HAProxy retries its requests on the others.
    let load = Load::start(&haproxy.url, &labels, true);
    std::thread::sleep(Duration::from_secs(1));
    platform.instances[1].server.as_mut().unwrap().kill();
    std::thread::sleep(Duration::from_secs(2));
    platform.start(1);
    std::thread::sleep(Duration::from_millis(1500));
    let served = load.finish("SIGKILL of one instance");
    eprintln!("SIGKILL of one instance: {served} requests, none failed");
    let replica_reads: f64 = (0..3)
        .map(|i| {
            metric(
                platform.server(i),
                "certrail_db_reads_total{target=\"replica\"}",
            )
        })
        .sum();
    assert!(
        replica_reads > 0.0,
        "the trust list was read from the replica"
    );

    // 2. A rolling restart: each instance drains (SIGTERM) and comes back.
    let load = Load::start(&haproxy.url, &labels, true);
    for i in 0..3 {
        let status = platform.instances[i]
            .server
            .as_mut()
            .unwrap()
            .terminate(Duration::from_secs(20));
        assert!(status.success(), "instance {i} exit: {status}");
        platform.start(i);
        // Two health checks bring it back into rotation.
        std::thread::sleep(Duration::from_millis(1500));
    }
    let served = load.finish("rolling restart");
    eprintln!("rolling restart: {served} requests, none failed");

    // 3. The standby stopped: reads go to the primary.
    let load = Load::start(&haproxy.url, &labels, true);
    std::thread::sleep(Duration::from_millis(500));
    standby.stop();
    std::thread::sleep(Duration::from_secs(1));
    let primary_reads = |i| {
        metric(
            platform.server(i),
            "certrail_db_reads_total{target=\"primary\"}",
        )
    };
    let before: Vec<f64> = (0..3).map(primary_reads).collect();
    std::thread::sleep(Duration::from_secs(2));
    let served = load.finish("standby stopped");
    eprintln!("standby stopped: {served} requests, none failed");
    for (i, before) in before.into_iter().enumerate() {
        assert!(
            primary_reads(i) > before,
            "instance {i} reads from the primary"
        );
        assert_eq!(
            metric(
                platform.server(i),
                "certrail_db_replica_fresh{replica=\"0\"}"
            ),
            0.0,
            "instance {i} no longer counts the stopped standby as fresh"
        );
    }
    standby.start();

    // 4. A revoke while the standby's replay is paused: the standby still says active, and no
    // instance answers genuine 2 s after the revoke committed.
    eventually(Duration::from_secs(20), "the standby replays again", || {
        standby.value("SELECT pg_is_in_recovery()") == "t"
            && (0..3).all(|i| {
                metric(
                    platform.server(i),
                    "certrail_db_replica_fresh{replica=\"0\"}",
                ) == 1.0
            })
    });
    let revoked = &labels[0];
    let path = &revoked[revoked.find("/v/").unwrap()..];
    let id = path[3..path.find('?').unwrap()].to_string();
    let answer_of = |i: usize| {
        get(
            &format!("{}{path}", platform.instances[i].url()),
            None,
            &[("Accept", "application/json")],
        )
    };
    for i in 0..3 {
        assert_eq!(
            verdict(&answer_of(i)),
            "genuine",
            "instance {i} has it cached"
        );
    }
    standby.sql("SELECT pg_wal_replay_pause()");
    let answer = post(
        &format!(
            "{}/api/v1/certificates/{id}/revoke",
            platform.instances[0].url()
        ),
        &token,
        &json!({"reason": "drill: revoked while the replica lags"}),
        &[],
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    let committed = Instant::now();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        standby.value(&format!(
            "SELECT status FROM certificates WHERE id = '{id}'"
        )),
        "active",
        "the paused standby does not have the revoke yet"
    );
    for i in 0..3 {
        let answer = answer_of(i);
        assert_eq!(
            verdict(&answer),
            "revoked",
            "instance {i}, {:?} after the revoke: {}",
            committed.elapsed(),
            answer.body
        );
    }
    standby.sql("SELECT pg_wal_replay_resume()");

    // 5. Failover. Synchronous replication first: an acknowledged write is on the standby.
    primary.sql("ALTER SYSTEM SET synchronous_standby_names = '*'");
    primary.sql("SELECT pg_reload_conf()");
    eventually(
        Duration::from_secs(20),
        "the standby is synchronous",
        || primary.value("SELECT sync_state FROM pg_stat_replication") == "sync",
    );
    let acknowledged: Vec<Value> = (0..5)
        .map(|n| issue(&haproxy.url, &token, &product, &format!("SYNC-{n}")))
        .collect();
    let load = Load::start(&haproxy.url, &labels[1..], false);
    primary.crash();
    let mut body = batch(&product);
    body["batch_no"] = json!("DURING-FAILOVER");
    let refused = post(
        &format!("{}/api/v1/certificates", platform.instances[0].url()),
        &token,
        &body,
        &[],
    );
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert!(
        refused.body.contains("database_unavailable"),
        "{}",
        refused.body
    );
    assert!(refused.retry_after.is_some());
    // Three polls without the primary: it counts as away. The instances stay ready (a replica
    // answers), and a label no instance has cached is answered from the replica, saying that
    // its status may not be current.
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(
        get(&format!("{}/readyz", haproxy.url), None, &[]).status,
        200
    );
    let cold = acknowledged[0]["verify_url"].as_str().unwrap();
    let answer = get(
        &format!(
            "{}{}",
            platform.instances[0].url(),
            &cold[cold.find("/v/").unwrap()..]
        ),
        None,
        &[("Accept", "application/json")],
    );
    assert_eq!(verdict(&answer), "genuine", "{}", answer.body);
    assert!(
        answer.body.contains("status_not_current"),
        "{}",
        answer.body
    );
    standby.promote();
    let started = Instant::now();
    eventually(
        Duration::from_secs(30),
        "writes resume on the promoted standby",
        || {
            post(
                &format!("{}/api/v1/certificates", haproxy.url),
                &token,
                &body,
                &[("Idempotency-Key", "after-failover")],
            )
            .status
                == 201
        },
    );
    eprintln!("writes resumed {:?} after the promotion", started.elapsed());
    let served = load.finish("failover");
    eprintln!("failover: {served} verifications, none failed");
    for issued in &acknowledged {
        let id = issued["id"].as_str().unwrap();
        let trail = get(
            &format!("{}/api/v1/certificates/{id}/trail", haproxy.url),
            None,
            &[],
        );
        assert_eq!(trail.status, 200, "acknowledged {id} kept: {}", trail.body);
    }
}

/// nginx with the shipped configuration, filled in as its header says (envsubst naming the
/// variables), run in the foreground.
struct Nginx {
    child: Child,
    url: String,
    _prefix: tempfile::TempDir,
}

impl Nginx {
    fn start(instances: &[Server]) -> Self {
        let prefix = tempfile::tempdir().unwrap();
        let port = free_port();
        let config = prefix.path().join("nginx.conf");
        let template = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/deploy/nginx.conf");
        let address = |s: &Server| s.url.trim_start_matches("http://").to_string();
        let filled = Command::new("envsubst")
            .arg("$CERTRAIL_LISTEN $CERTRAIL_A $CERTRAIL_B $CERTRAIL_C $NGINX_PREFIX")
            .env("CERTRAIL_LISTEN", format!("127.0.0.1:{port}"))
            .env("CERTRAIL_A", address(&instances[0]))
            .env("CERTRAIL_B", address(&instances[1]))
            .env("CERTRAIL_C", address(&instances[2]))
            .env("NGINX_PREFIX", prefix.path())
            .stdin(std::fs::File::open(template).unwrap())
            .output()
            .expect("envsubst (gettext-base)");
        assert!(filled.status.success());
        std::fs::write(&config, &filled.stdout).unwrap();
        let mut child = Command::new("nginx")
            .arg("-p")
            .arg(prefix.path())
            .arg("-c")
            .arg(&config)
            .args(["-g", "daemon off;"])
            .spawn()
            .expect("nginx (scripts/setup.sh installs nginx-light)");
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while get(&format!("{url}/healthz"), None, &[]).status != 200 {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("nginx exited: {status}");
            }
            assert!(started.elapsed() < Duration::from_secs(20), "nginx up");
            std::thread::sleep(Duration::from_millis(100));
        }
        Nginx {
            child,
            url,
            _prefix: prefix,
        }
    }
}

impl Drop for Nginx {
    /// SIGTERM, nginx's fast shutdown, on which its master stops its workers (a SIGKILLed
    /// master leaves them running, holding the port and the test runner's output pipe).
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let started = Instant::now();
        while matches!(self.child.try_wait(), Ok(None)) {
            if started.elapsed() > Duration::from_secs(10) {
                let _ = self.child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.wait();
    }
}

#[test]
fn nginx_in_front_sends_reads_to_another_instance_when_one_is_killed_or_drains() {
    let db = crate::helpers::TestDb::new();
    let data: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let env = [
        ("CERTRAIL_MASTER_KEY", MASTER_KEY),
        ("CERTRAIL_DRAIN_SECS", "1"),
    ];
    let mut servers: Vec<Server> = data
        .iter()
        .map(|d| crate::process::serve(&db.url, d.path(), ADMIN, &env))
        .collect();
    let nginx = Nginx::start(&servers);
    let (_, token, product) = producer(&servers[0], ADMIN, CODES[1]);
    let labels: Vec<String> = (0..6)
        .map(|n| issue(&nginx.url, &token, &product, &format!("NG-{n}")))
        .map(|issued| issued["verify_url"].as_str().unwrap().to_string())
        .collect();
    let load = Load::start(&nginx.url, &labels, true);
    std::thread::sleep(Duration::from_millis(500));
    servers[1].kill();
    std::thread::sleep(Duration::from_secs(1));
    let status = servers[2].terminate(Duration::from_secs(20));
    assert!(status.success());
    std::thread::sleep(Duration::from_secs(1));
    let served = load.finish("nginx: one instance killed, another drained");
    eprintln!("nginx: {served} requests, none failed");
}

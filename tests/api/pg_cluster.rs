//! Throwaway PostgreSQL clusters on their own ports (never the shared server), started as the
//! `postgres` user: a primary, a streaming standby made from it with `pg_basebackup -R`, and
//! the stops, kills and promotions the fault and cluster drills need. Each is stopped and
//! removed when dropped.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A throwaway PostgreSQL cluster on its own port (never the shared server), stopped and
/// removed when dropped.
pub struct Cluster {
    dir: tempfile::TempDir,
    pub port: u16,
}

pub fn pg_bin(name: &str) -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL's server binaries (/usr/lib/postgresql/*/bin)")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin").join(name)))
        .filter(|p| p.exists())
        .collect();
    versions.sort();
    versions.pop().expect("initdb and pg_ctl")
}

/// Whether this process runs as root.
#[allow(unsafe_code)]
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// A command run as the `postgres` user when this process is root (initdb refuses root).
pub fn as_postgres(bin: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin);
        c
    } else {
        Command::new(bin)
    }
}

/// A temporary directory the `postgres` user owns.
pub fn postgres_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    if is_root() {
        let status = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(status.success());
    }
    dir
}

/// Runs `command`, failing the test with its error output if it fails.
fn run(mut command: Command, what: &str) {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `scripts/pg-backup.sh ARGS` as the `postgres` user (read from standard input, so the
/// checkout need not be readable by that user).
pub fn backup_script(args: &[&str]) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/pg-backup.sh");
    let mut bash = as_postgres(Path::new("/bin/bash"));
    bash.args(["-s", "--"])
        .args(args)
        .current_dir("/")
        .stdin(std::fs::File::open(script).unwrap());
    run(bash, &format!("scripts/pg-backup.sh {args:?}"));
}

impl Cluster {
    pub fn new() -> Self {
        let dir = postgres_dir();
        let data = dir.path().join("data");
        let out = as_postgres(&pg_bin("initdb"))
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
            .arg(&data)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let cluster = Cluster {
            dir,
            port: crate::process::free_port(),
        };
        cluster.start();
        cluster
    }

    /// Archives this cluster's WAL into `archive` (a directory the `postgres` user owns), as
    /// `scripts/pg-backup.sh` says to configure it; restarts the cluster.
    pub fn archive_to(&self, archive: &Path) {
        let conf = self.dir.path().join("data/postgresql.auto.conf");
        let mut text = std::fs::read_to_string(&conf).unwrap();
        text.push_str(&format!(
            "archive_mode = on\narchive_command = 'test ! -f {0}/%f && cp %p {0}/%f'\n",
            archive.display()
        ));
        std::fs::write(&conf, text).unwrap();
        self.stop();
        self.start();
    }

    /// A cluster restored with `scripts/pg-backup.sh restore` from the base backup `base` and
    /// the WAL `archive`, up to `target` (a timestamp), started once it has been promoted.
    pub fn restored(base: &Path, archive: &Path, target: &str) -> Self {
        let dir = postgres_dir();
        let data = dir.path().join("data");
        backup_script(&[
            "restore",
            base.to_str().unwrap(),
            archive.to_str().unwrap(),
            data.to_str().unwrap(),
            target,
        ]);
        let cluster = Cluster {
            dir,
            port: crate::process::free_port(),
        };
        cluster.start();
        let started = std::time::Instant::now();
        while cluster.value("SELECT pg_is_in_recovery()") != "f" {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(60),
                "the restored cluster was not promoted"
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        cluster
    }

    /// A streaming standby of this cluster (`pg_basebackup -R`: it follows this one's WAL and
    /// answers reads), started on its own port.
    pub fn standby(&self) -> Self {
        let dir = postgres_dir();
        let mut backup = as_postgres(&pg_bin("pg_basebackup"));
        backup
            .args([
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-X",
                "stream",
                "-R",
                "--no-sync",
            ])
            .args(["-p", &self.port.to_string(), "-D"])
            .arg(dir.path().join("data"));
        run(backup, "pg_basebackup");
        let standby = Cluster {
            dir,
            port: crate::process::free_port(),
        };
        standby.start();
        standby
    }

    /// Makes this standby a primary.
    pub fn promote(&self) {
        self.pg_ctl(&["-w", "promote"]);
    }

    /// Stops the server at once, as a crash would (no shutdown checkpoint, no WAL sent on).
    pub fn crash(&self) {
        self.pg_ctl(&["-m", "immediate", "stop"]);
    }

    /// Runs `sql` on this cluster's `postgres` database.
    pub fn sql(&self, sql: &str) {
        let mut psql = Command::new("psql");
        psql.args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            &self.url(),
            "-c",
            sql,
        ]);
        run(psql, sql);
    }

    /// The first value of `sql`'s answer, as text.
    pub fn value(&self, sql: &str) -> String {
        let out = Command::new("psql")
            .args(["-X", "-A", "-t", "-d", &self.url(), "-c", sql])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub fn pg_ctl(&self, args: &[&str]) {
        let out = as_postgres(&pg_bin("pg_ctl"))
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_ctl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log");
        self.pg_ctl(&["-w", "-o", &options, "-l", log.to_str().unwrap(), "start"]);
    }

    pub fn stop(&self) {
        self.pg_ctl(&["-w", "-m", "fast", "stop"]);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = as_postgres(&pg_bin("pg_ctl"))
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-w", "-m", "immediate", "stop"])
            .output();
    }
}

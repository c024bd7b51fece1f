//! Command line: `certrail [serve]`, `certrail admin token`, `certrail demo`,
//! `certrail issue --csv`, `certrail pilot`, `certrail limits`, `certrail witness`,
//! `certrail verify`, `certrail sign`, `certrail check`, `certrail backup`.

pub mod admin;
pub mod csv_in;
pub mod demo;
pub mod erp_csv;
pub mod measure;
pub mod ops;
pub mod promise_csv;
pub mod sign;
pub mod verify;
pub mod witness;

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use crate::config::{Config, Overrides};
use crate::service::{access::auth, AppState};

#[derive(Debug, Parser)]
#[command(
    name = "certrail",
    version,
    about = "Digital product conformity certificates with signed QR labels"
)]
pub struct Cli {
    /// Listen address.
    #[arg(long, global = true, env = "CERTRAIL_BIND")]
    pub bind: Option<String>,
    /// Base of every URL put in a QR code.
    #[arg(long, global = true, env = "CERTRAIL_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// SQLite file, generated key file, exports.
    #[arg(long, global = true, env = "CERTRAIL_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// sqlite://PATH or postgres://…
    #[arg(long, global = true, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default).
    Serve,
    /// Platform administration.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Fill an empty database with a small Changde dataset and print tokens and verify URLs.
    Demo,
    /// Issue one certificate per row of an ERP export (CSV, UTF-8, English or Chinese
    /// headers), all or none, and print each certificate's id and verify URL as CSV.
    Issue {
        /// The CSV file.
        #[arg(long)]
        csv: PathBuf,
        /// The producer's API token.
        #[arg(long, env = "CERTRAIL_TOKEN", hide_env_values = true)]
        token: String,
        /// Write the result CSV here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Issue 承诺达标合格证 from a CSV file, one lot per row (a row naming a `parent` is a
    /// child lot split from it), all or none; prints each id and verify URL as CSV.
    Promise {
        /// The CSV file.
        #[arg(long)]
        csv: PathBuf,
        /// The issuing organization's API token.
        #[arg(long, env = "CERTRAIL_TOKEN", hide_env_values = true)]
        token: String,
        /// Write the result CSV here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The machine's raw limits: Ed25519 signatures and verifications per second on all
    /// cores (the load script compares the server with these).
    Limits {
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
    },
    /// The load script's reference: a bare actix-web handler (`GET /` answers `ok`) with
    /// actix's defaults and none of certrail's middleware, on ADDR.
    #[command(hide = true)]
    Bare {
        #[arg(long)]
        bind: String,
    },
    /// Pilot-scale run: issue COUNT certificates into an empty database and report the rate,
    /// bytes per certificate on disk and verify latency.
    Pilot {
        #[arg(long, default_value_t = 2_000_000)]
        count: usize,
    },
    /// A producer that holds its own key: make it, sign drafts and unit labels with it.
    Sign {
        #[command(subcommand)]
        command: sign::SignCommand,
    },
    /// Check a label with no network, from a trust bundle (exit 0 only for genuine).
    Verify(verify::VerifyArgs),
    /// Whether this instance may start: configuration, database, schema, the platform's
    /// identity (log name, master key), the log checkpoint kept beside the data, key file
    /// modes and the clock. Applies no migration and writes no key or identity; exits
    /// non-zero on any problem.
    Check,
    /// A consistent copy of the SQLite database to DEST while the server runs (the master
    /// key is not in it: keep it apart).
    Backup {
        /// Where the copy goes; must not exist.
        dest: PathBuf,
    },
    /// A regulator's witness of the platform's transparency log.
    Witness {
        #[command(subcommand)]
        command: witness::WitnessCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Print a new platform admin token (shown once; only its hash is stored).
    Token,
    /// Create a user who signs in to the pages for an organization; prints the password once.
    User {
        #[arg(long)]
        organization: String,
        #[arg(long)]
        username: String,
        /// The user signs in to the admin console and acts as the platform admin.
        #[arg(long)]
        platform_admin: bool,
    },
    /// Register the organizations of a CSV file (kind, name, credit_code, region_code,
    /// address), all or none; prints each one's id, or every problem by line.
    Onboard {
        #[arg(long)]
        csv: PathBuf,
    },
    /// Deactivate an organization: its tokens and sessions are refused at once.
    Deactivate {
        #[arg(long)]
        organization: String,
        #[arg(long)]
        reason: String,
    },
    /// Give a page user a new generated password (printed once) and end their sessions.
    ResetPassword {
        #[arg(long)]
        username: String,
    },
    /// Declare a signing key compromised from SINCE (RFC 3339): certificates the log saw
    /// from then on verify as forged; an active key is replaced by a fresh one.
    CompromiseKey {
        #[arg(long)]
        kid: String,
        #[arg(long)]
        since: String,
    },
}

impl Cli {
    /// The configuration these flags and the environment describe.
    pub fn config(&self) -> Result<Config, String> {
        Config::from_env(Overrides {
            bind: self.bind.clone(),
            public_url: self.public_url.clone(),
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
        })
    }
}

/// `certrail demo`: loads the demo dataset and prints tokens and verify URLs.
pub fn demo(config: Config) -> Result<(), String> {
    let state = AppState::open(config)?;
    let data = demo::load(&state).map_err(|e| e.to_string())?;
    println!("Demo data loaded. Tokens and passwords are shown once; keep them.\n");
    for org in &data.organizations {
        println!(
            "{:<18} {:<18} {}  {}",
            org.kind, org.id, org.token, org.name
        );
    }
    println!("\nSign in at /login (user / password):");
    for org in &data.organizations {
        println!("  {:<22} {}", org.username, org.password);
    }
    println!(
        "\nCertificates (open a URL in a browser, or curl -H 'Accept: application/json' URL):"
    );
    for (product, batch, url) in &data.certificates {
        println!("  {product} {batch}\n    {url}");
    }
    Ok(())
}

/// A progress bar on stderr for `total` items (hidden when stderr is not a terminal).
pub(crate) fn progress_bar(total: usize) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(total as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{elapsed_precise} [{wide_bar}] {human_pos}/{human_len} ({per_sec}, {eta} left)",
    ) {
        bar.set_style(style);
    }
    bar
}

/// `certrail issue --csv FILE`: issues every row of an ERP export, all or none.
pub fn issue_csv(
    config: Config,
    file: &Path,
    token: &str,
    out: Option<&Path>,
) -> Result<(), String> {
    use crate::service::issuance::issue::{issue_file, BulkError};
    let data = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let rows = erp_csv::parse(&data).map_err(|errors| errors.join("\n"))?;
    let state = AppState::open(config)?;
    let actor = auth::authenticate(&state, token, crate::domain::role::Scope::Issue)
        .map_err(|e| e.to_string())?;
    let bar = progress_bar(rows.requests.len());
    let hash = crate::domain::hash::sha256_hex(&data);
    let result = issue_file(&state, &actor, &hash, rows.requests, |done| {
        bar.set_position(done as u64)
    });
    bar.finish_and_clear();
    let issued = result.map_err(|e| match e {
        BulkError::Request(e) => e.to_string(),
        BulkError::Items(items) => {
            let mut lines: Vec<String> = items
                .iter()
                .map(|(index, e)| {
                    let line = rows.lines.get(*index).copied().unwrap_or_default();
                    match e.field() {
                        Some(field) => format!("line {line}: {field}: {e}"),
                        None => format!("line {line}: {e}"),
                    }
                })
                .collect();
            lines.push(format!(
                "{} row(s) rejected; nothing was issued",
                items.len()
            ));
            lines.join("\n")
        }
    })?;
    write_issued(
        out,
        issued.iter().zip(&rows.lines).map(|(c, line)| {
            (
                *line,
                c.id.as_str(),
                c.batch_no.as_str(),
                c.verify_url.as_str(),
            )
        }),
    )?;
    eprintln!("issued {} certificate(s)", issued.len());
    Ok(())
}

/// `certrail promise --csv FILE`: issues every lot of the file, all or none.
pub fn promise_csv(
    config: Config,
    file: &Path,
    token: &str,
    out: Option<&Path>,
) -> Result<(), String> {
    let data = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let rows = promise_csv::parse(&data).map_err(|errors| errors.join("\n"))?;
    let state = AppState::open(config)?;
    let actor = auth::authenticate(&state, token, crate::domain::role::Scope::Issue)
        .map_err(|e| e.to_string())?;
    let issued = crate::service::issuance::promise::issue_many(&state, &actor, rows.requests)
        .map_err(|e| {
            // `certificates.{index}.{field}` names the row.
            let field = e.field().unwrap_or_default().to_string();
            let mut parts = field.splitn(3, '.');
            match (
                parts.next(),
                parts.next().and_then(|i| i.parse::<usize>().ok()),
                parts.next(),
            ) {
                (Some("certificates"), Some(i), rest) => format!(
                    "line {}: {}: {e}; nothing was issued",
                    rows.lines.get(i).copied().unwrap_or_default(),
                    rest.unwrap_or_default()
                ),
                _ if rows.lines.len() == 1 => {
                    format!("line {}: {field}: {e}; nothing was issued", rows.lines[0])
                }
                _ => format!("{e}; nothing was issued"),
            }
        })?;
    write_issued(
        out,
        issued.iter().zip(&rows.lines).map(|(c, line)| {
            (
                *line,
                c.id.as_str(),
                c.payload.batch.no.as_str(),
                c.verify_url.as_str(),
            )
        }),
    )?;
    eprintln!("issued {} 承诺达标合格证", issued.len());
    Ok(())
}

/// Writes what a CSV command issued: `line, id, batch_no, verify_url` per certificate, to
/// `out` or standard output.
fn write_issued<'a>(
    out: Option<&Path>,
    rows: impl Iterator<Item = (u64, &'a str, &'a str, &'a str)>,
) -> Result<(), String> {
    let sink: Box<dyn Write> = match out {
        Some(path) => Box::new(
            std::fs::File::create(path)
                .map_err(|e| format!("cannot create {}: {e}", path.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut writer = crate::print::csv_out::Writer::from_writer(sink);
    let write_err = |e: csv::Error| format!("cannot write the result: {e}");
    writer
        .write_record(["line", "id", "batch_no", "verify_url"])
        .map_err(write_err)?;
    for (line, id, batch_no, url) in rows {
        writer
            .write_record([line.to_string().as_str(), id, batch_no, url])
            .map_err(write_err)?;
    }
    writer.flush().map_err(|e| e.to_string())
}

/// `certrail bare`: what the load script measures the server against.
pub async fn bare(bind: &str) -> Result<(), String> {
    use actix_web::{web, App, HttpServer};
    HttpServer::new(|| App::new().route("/", web::get().to(|| async { "ok" })))
        .bind(bind)
        .map_err(|e| format!("cannot listen on {bind}: {e}"))?
        .run()
        .await
        .map_err(|e| e.to_string())
}

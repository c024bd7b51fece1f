//! Command line: `certrail [serve]`, `certrail admin token`, `certrail demo`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::{Config, Overrides};
use crate::service::{auth, demo, AppState};

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
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Print a new platform admin token (shown once; only its hash is stored).
    Token,
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

/// `certrail admin token`: prints a new platform admin token.
pub fn admin_token(config: Config) -> Result<(), String> {
    let state = AppState::open(config)?;
    let token = auth::create_admin_token(&state).map_err(|e| e.to_string())?;
    println!("{token}");
    Ok(())
}

/// `certrail demo`: loads the demo dataset and prints tokens and verify URLs.
pub fn demo(config: Config) -> Result<(), String> {
    let state = AppState::open(config)?;
    let data = demo::load(&state).map_err(|e| e.to_string())?;
    println!("Demo data loaded. Tokens are shown once; keep them.\n");
    for org in &data.organizations {
        println!(
            "{:<18} {:<18} {}  {}",
            org.kind, org.id, org.token, org.name
        );
    }
    println!(
        "\nCertificates (open a URL in a browser, or curl -H 'Accept: application/json' URL):"
    );
    for (product, batch, url) in &data.certificates {
        println!("  {product} {batch}\n    {url}");
    }
    Ok(())
}

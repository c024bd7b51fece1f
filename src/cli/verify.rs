//! `certrail verify LABEL --bundle FILE`: an inspector's check with no network (contract
//! §10). LABEL is the QR's URL or a PNG/JPEG photo of the code (decoded with `rqrr`); the
//! verdict comes from the offline label's payload and the trust bundle, by the server's own
//! rules. Exits 0 only for `genuine`.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::domain::label;
use crate::domain::verdict::Verdict;
use crate::service::verify::bundle;
use crate::service::verify::offline;

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The label: the URL its QR code holds, or a PNG/JPEG photo of the code.
    pub label: String,
    /// The trust bundle (`GET /api/v1/bundle`), downloaded while online.
    #[arg(long)]
    pub bundle: PathBuf,
    /// The log's verifier key (from the platform's /transparency page or `GET /api/v1/log`):
    /// the bundle must be signed with it. Without it the key the bundle names is trusted,
    /// which only `--trust-bundle-key` allows (the verdict then says so).
    #[arg(long)]
    pub log_key: Option<String>,
    /// Trust the key named inside the bundle (anyone can make a bundle that names their own).
    #[arg(long)]
    pub trust_bundle_key: bool,
}

/// A bundle older than this is reported as stale (statuses may have changed since).
const STALE_DAYS: i64 = 7;

/// Runs the check and prints it; returns the exit code.
pub fn run(args: &VerifyArgs) -> Result<u8, String> {
    let text = std::fs::read_to_string(&args.bundle)
        .map_err(|e| format!("cannot read {}: {e}", args.bundle.display()))?;
    if args.log_key.is_none() && !args.trust_bundle_key {
        return Err(
            "pin the log's key with --log-key (shown on the platform's /transparency page), \
             or accept the bundle's own with --trust-bundle-key"
                .into(),
        );
    }
    let verified = bundle::verify(&text, args.log_key.as_deref())?;
    let content = label_content(&args.label)?;
    let scanned = label::parse("label", &content).map_err(|e| e.message)?;
    let now = chrono::Utc::now().naive_utc();
    let answer = offline::verify(&scanned, &verified.bundle, now.date());
    println!(
        "verdict: {} ({})",
        answer.verdict.as_str(),
        crate::web::words::verdict(answer.verdict).zh
    );
    if !answer.reasons.is_empty() {
        println!("reasons: {}", answer.reasons.join(", "));
    }
    if !answer.warnings.is_empty() {
        println!("warnings: {}", answer.warnings.join(", "));
    }
    println!("certificate: {}", scanned.id);
    if let Some(p) = &answer.payload {
        println!(
            "product: {} {} ({}), batch {} of {} {}, made {}",
            p.product.name,
            p.product.model,
            p.product.standard,
            p.batch.no,
            p.batch.quantity,
            p.batch.unit,
            p.batch.production_date
        );
        println!("producer: {} ({})", p.producer.name, p.producer.credit_code);
    }
    println!("status in the bundle: {}", answer.status);
    let age = now - verified.created_at;
    println!(
        "bundle: made {} ({} hours ago), log of {} entries at {}{}",
        verified.bundle.created_at,
        age.num_hours(),
        verified.tree_size,
        verified.bundle.origin,
        match args.log_key {
            Some(_) => ", log key pinned",
            None => ", log key NOT pinned: taken from the bundle itself (pin it with --log-key)",
        }
    );
    if age.num_days() >= STALE_DAYS {
        println!(
            "note: the bundle is {} days old; statuses may have changed since: download a fresh one",
            age.num_days()
        );
    }
    Ok(match answer.verdict {
        Verdict::Genuine => 0,
        _ => 1,
    })
}

/// The label's text: the argument itself, or what the QR code in the photo at that path says.
fn label_content(label: &str) -> Result<String, String> {
    let path = Path::new(label);
    if !path.is_file() {
        return Ok(label.to_string());
    }
    let image = image::open(path)
        .map_err(|e| format!("cannot read the photo {label}: {e}"))?
        .to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    prepared
        .detect_grids()
        .iter()
        .find_map(|grid| grid.decode().ok().map(|(_, content)| content))
        .ok_or_else(|| format!("no readable QR code in {label}"))
}

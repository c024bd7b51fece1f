//! `certrail witness`: a regulator's witness of the platform's transparency log. `init` makes
//! its key; `run` fetches each new checkpoint, checks it extends the last one it cosigned (a
//! consistency proof), cosigns it and hands the cosignature to the log. Its state lives in a
//! directory it owns, so a log that rolls back or rewrites history is refused even after a
//! restart; refusals are printed and appended to `refusals.log` there.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use clap::Subcommand;
use ed25519_dalek::SigningKey;
use serde::Deserialize;
use tlog_tiles::Hash;

use crate::crypto::random::new_secret;
use crate::crypto::{b64url, b64url_decode};
use crate::service::tlog::note;
use crate::service::tlog::witness::{self, Refusal, WitnessState};

#[derive(Debug, Subcommand)]
pub enum WitnessCommand {
    /// Make a witness key (a file readable only by you) and print its verifier key, which the
    /// platform's admin registers (`POST /api/v1/log/witnesses`).
    Init {
        /// The witness's name, e.g. `scjg.changde.gov.cn/witness` (no spaces or `+`).
        #[arg(long)]
        name: String,
        /// Where to write the key.
        #[arg(long)]
        key: PathBuf,
    },
    /// Watch a log and cosign each checkpoint that extends the last one cosigned.
    Run {
        /// The platform's base URL (its `CERTRAIL_PUBLIC_URL`).
        #[arg(long)]
        log: String,
        #[arg(long)]
        key: PathBuf,
        /// The directory holding what this witness saw.
        #[arg(long)]
        state: PathBuf,
        /// The log's verifier key, to pin it instead of trusting the first answer.
        #[arg(long)]
        log_key: Option<String>,
        /// Check once and exit (0 cosigned, 3 refused, 1 could not reach the log).
        #[arg(long)]
        once: bool,
        /// Seconds between checks.
        #[arg(long, default_value_t = 10)]
        every: u64,
    },
}

/// Exit code of a refused checkpoint.
pub const REFUSED: u8 = 3;

const KEY_HEADER: &str = "certrail-witness-key-v1";

/// Runs a witness command; returns the process exit code.
pub fn run(command: &WitnessCommand) -> Result<u8, String> {
    match command {
        WitnessCommand::Init { name, key } => init(name, key).map(|()| 0),
        WitnessCommand::Run {
            log,
            key,
            state,
            log_key,
            once,
            every,
        } => {
            let (name, key) = read_key(key)?;
            let log = log.trim_end_matches('/');
            loop {
                match check(log, &name, &key, state, log_key.as_deref()) {
                    Ok(Outcome::Cosigned(size)) => eprintln!("witness: cosigned tree of {size}"),
                    Ok(Outcome::Refused(refusal)) => {
                        record_refusal(state, log, &refusal)?;
                        if *once {
                            return Ok(REFUSED);
                        }
                    }
                    Err(e) if *once => return Err(e),
                    Err(e) => eprintln!("witness: {e} (trying again)"),
                }
                if *once {
                    return Ok(0);
                }
                std::thread::sleep(Duration::from_secs((*every).max(1)));
            }
        }
    }
}

fn init(name: &str, path: &Path) -> Result<(), String> {
    if !note::is_key_name(name) {
        return Err("the witness name must be short, with no spaces or +".into());
    }
    let seed = zeroize::Zeroizing::new(new_secret());
    let key = SigningKey::from_bytes(&seed);
    let text = zeroize::Zeroizing::new(format!("{KEY_HEADER}\n{name}\n{}\n", b64url(&*seed)));
    crate::crypto::seal::create_secret_file(path, text.as_bytes())?;
    println!("{}", note::witness_verifier_key(name, &key.verifying_key()));
    Ok(())
}

fn read_key(path: &Path) -> Result<(String, SigningKey), String> {
    let text = crate::crypto::seal::read_secret_file(path)?;
    let mut lines = text.lines();
    let (Some(KEY_HEADER), Some(name), Some(seed)) = (lines.next(), lines.next(), lines.next())
    else {
        return Err(format!("{} is not a witness key", path.display()));
    };
    let seed = zeroize::Zeroizing::new(b64url_decode(seed).unwrap_or_default());
    let seed: [u8; 32] = seed
        .as_slice()
        .try_into()
        .map_err(|_| format!("{} holds a malformed key", path.display()))?;
    Ok((name.to_string(), SigningKey::from_bytes(&seed)))
}

enum Outcome {
    Cosigned(u64),
    Refused(Refusal),
}

#[derive(Deserialize)]
struct LogDescription {
    verifier_key: String,
}

#[derive(Deserialize)]
struct ConsistencyProof {
    proof: Vec<String>,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// One round: fetch, check, cosign, hand back; the state moves only past a checked tree.
fn check(
    log: &str,
    name: &str,
    key: &SigningKey,
    dir: &Path,
    pinned: Option<&str>,
) -> Result<Outcome, String> {
    let http = agent();
    let get = |path: &str| -> Result<String, String> {
        http.get(format!("{log}{path}"))
            .call()
            .and_then(|mut r| r.body_mut().read_to_string())
            .map_err(|e| format!("GET {log}{path}: {e}"))
    };
    let state_file = dir.join("state.json");
    let state = match fs::read_to_string(&state_file) {
        Ok(text) => serde_json::from_str::<WitnessState>(&text)
            .map_err(|e| format!("{}: {e}", state_file.display()))?,
        // Only a witness that never saw the log starts afresh; any other read error stops it.
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(format!("cannot read {}: {e}", state_file.display()))
        }
        Err(_) => {
            let log_key = match pinned {
                Some(k) => k.to_string(),
                None => {
                    let described: LogDescription = serde_json::from_str(&get("/api/v1/log")?)
                        .map_err(|e| format!("{log}/api/v1/log: {e}"))?;
                    eprintln!(
                        "witness: first contact, pinning the log key {}",
                        described.verifier_key
                    );
                    described.verifier_key
                }
            };
            WitnessState::new(&log_key)
        }
    };
    let checkpoint = get("/log/checkpoint")?;
    let observed = match witness::observe(&state, &checkpoint) {
        Ok(o) => o,
        Err(refusal) => return Ok(Outcome::Refused(refusal)),
    };
    let proof = match observed.proof_from(&state) {
        Some(from) => {
            let text = get(&format!(
                "/api/v1/log/consistency?from={from}&to={}",
                observed.size
            ))?;
            let parsed: ConsistencyProof =
                serde_json::from_str(&text).map_err(|e| format!("consistency proof: {e}"))?;
            parsed
                .proof
                .iter()
                .map(|h| {
                    STANDARD
                        .decode(h)
                        .ok()
                        .and_then(|b| <[u8; 32]>::try_from(b).ok())
                        .map(Hash)
                })
                .collect::<Option<Vec<Hash>>>()
                .ok_or("the consistency proof holds a malformed hash")?
        }
        None => vec![],
    };
    let next = match witness::extend(&state, &observed, &proof) {
        Ok(next) => next,
        Err(refusal) => return Ok(Outcome::Refused(refusal)),
    };
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let tmp = dir.join("state.json.tmp");
    fs::File::create(&tmp)
        .and_then(|mut f| {
            f.write_all(&serde_json::to_vec_pretty(&next).unwrap_or_default())?;
            f.sync_all()
        })
        .and_then(|()| fs::rename(&tmp, &state_file))
        .map_err(|e| format!("cannot save {}: {e}", state_file.display()))?;
    if observed.size == 0 {
        return Ok(Outcome::Cosigned(0));
    }
    let now = chrono::Utc::now().timestamp().max(0) as u64;
    let line = witness::cosign(name, key, &observed, now);
    http.post(format!("{log}/api/v1/log/cosignatures"))
        .send_json(serde_json::json!({"tree_size": observed.size, "cosignature": line}))
        .map_err(|e| format!("handing the cosignature to {log}: {e}"))?;
    Ok(Outcome::Cosigned(observed.size))
}

fn record_refusal(dir: &Path, log: &str, refusal: &Refusal) -> Result<(), String> {
    let line = format!(
        "{} REFUSED {log}: {refusal}\n",
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ")
    );
    eprint!("witness: {line}");
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("refusals.log"))
        .and_then(|mut f| f.write_all(line.as_bytes()))
        .map_err(|e| format!("cannot record the refusal: {e}"))
}

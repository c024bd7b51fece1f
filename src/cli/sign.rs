//! `certrail sign`: a producer that holds its own key signs where the key lives, never on the
//! platform (contract §11). `new-key` makes the key and prints the public half to register;
//! `draft` signs a draft's payload; `units` signs unit labels of an issued certificate.

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::Subcommand;
use ed25519_dalek::SigningKey;

use crate::crypto::random::new_secret;
use crate::crypto::signing::{certificate_message, sign, unit_message};
use crate::crypto::{b64url, b64url_decode, kid_of};
use crate::domain::payload::recanonicalize;

#[derive(Debug, Subcommand)]
pub enum SignCommand {
    /// Make a producer key (a file only you can read) and print its public key, to register
    /// with `POST /api/v1/organizations/{id}/keys`.
    NewKey {
        #[arg(long)]
        key: PathBuf,
    },
    /// Sign a draft: reads the JSON `POST /api/v1/certificates/drafts` answered (a file, or
    /// `-` for standard input) and prints the body to post to its `signature_url`.
    Draft {
        #[arg(long)]
        key: PathBuf,
        draft: String,
    },
    /// Print the unit label URLs of serials FROM..=TO of an issued certificate, given its
    /// payload (the draft or issuance answer, a file or `-`).
    Units {
        #[arg(long)]
        key: PathBuf,
        /// The platform's public URL (`CERTRAIL_PUBLIC_URL`).
        #[arg(long)]
        base: String,
        #[arg(long)]
        from: i64,
        #[arg(long)]
        to: i64,
        answer: String,
    },
}

const KEY_HEADER: &str = "certrail-producer-key-v1";

pub fn run(command: &SignCommand) -> Result<u8, String> {
    match command {
        SignCommand::NewKey { key } => {
            let seed = zeroize::Zeroizing::new(new_secret());
            let signing = SigningKey::from_bytes(&seed);
            let text =
                zeroize::Zeroizing::new(format!("{KEY_HEADER}\n{}\n", b64url(seed.as_ref())));
            crate::crypto::seal::create_secret_file(key, text.as_bytes())?;
            println!("public_key: {}", b64url(signing.verifying_key().as_bytes()));
            println!("kid: {}", kid_of(&signing.verifying_key()));
        }
        SignCommand::Draft { key, draft } => {
            let key = read_key(key)?;
            let (id, canonical) = payload_of(draft)?;
            check_kid(&key, &canonical)?;
            let signature = sign(&key, &certificate_message(&canonical));
            eprintln!("signed certificate {id}");
            println!("{}", serde_json::json!({"signature": b64url(&signature)}));
        }
        SignCommand::Units {
            key,
            base,
            from,
            to,
            answer,
        } => {
            let key = read_key(key)?;
            let (id, canonical) = payload_of(answer)?;
            check_kid(&key, &canonical)?;
            let units = serde_json::from_str::<serde_json::Value>(&canonical)
                .ok()
                .and_then(|v| v["units"].as_i64())
                .ok_or("the certificate is not serialized (no units)")?;
            if *from < 1 || to < from || *to > units {
                return Err(format!("serials run from 1 to {units}"));
            }
            for serial in *from..=*to {
                let signature = sign(&key, &unit_message(&id, serial, &canonical));
                println!(
                    "{}/v/{id}/{serial}?s={}",
                    base.trim_end_matches('/'),
                    b64url(&signature)
                );
            }
        }
    }
    Ok(0)
}

fn read_key(path: &Path) -> Result<SigningKey, String> {
    let text = crate::crypto::seal::read_secret_file(path)?;
    let mut lines = text.lines();
    let (Some(KEY_HEADER), Some(seed)) = (lines.next(), lines.next()) else {
        return Err(format!("{} is not a producer key", path.display()));
    };
    let seed = zeroize::Zeroizing::new(b64url_decode(seed).unwrap_or_default());
    let seed: [u8; 32] = seed
        .as_slice()
        .try_into()
        .map_err(|_| format!("{} holds a malformed key", path.display()))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// The certificate id and canonical payload of an API answer (`{"payload": …}`).
fn payload_of(source: &str) -> Result<(String, String), String> {
    let mut text = String::new();
    match source {
        "-" => std::io::stdin()
            .read_to_string(&mut text)
            .map(drop)
            .map_err(|e| format!("standard input: {e}"))?,
        path => {
            text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?
        }
    }
    let answer: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))?;
    let payload = answer.get("payload").unwrap_or(&answer);
    let (value, canonical) =
        recanonicalize(&payload.to_string()).ok_or("no payload object in the answer")?;
    let id = value["id"]
        .as_str()
        .ok_or("the payload has no id")?
        .to_string();
    Ok((id, canonical))
}

/// Refuses to sign a payload that names another key.
fn check_kid(key: &SigningKey, canonical: &str) -> Result<(), String> {
    let kid = kid_of(&key.verifying_key());
    let named = serde_json::from_str::<serde_json::Value>(canonical)
        .ok()
        .and_then(|v| v["kid"].as_str().map(str::to_string));
    match named {
        Some(named) if named == kid => Ok(()),
        _ => Err(format!(
            "the payload names another key than this one ({kid}): register it first"
        )),
    }
}

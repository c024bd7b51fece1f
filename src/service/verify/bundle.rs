//! The trust bundle (contract §10): everything a verifier needs to reach the platform's verdict
//! with no network, signed by the log key: the trust list with key statuses, the status list,
//! the latest checkpoint, and for each compromised key the certificates the log holds from
//! before it was compromised.
//!
//! Signature: Ed25519 by the log key over `"CERTRAIL-BUNDLE-V1\n"` ‖ JCS(the bundle without
//! its `signature` member), base64url without padding, checked against `log_key` (a note
//! verifier key; pin it with `certrail verify --log-key`).

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::crypto::signing::{b64url, b64url_decode, verify as verify_sig};
use crate::db::models::tlog as logdb;
use crate::db::models::{now, Certificate, SigningKeyRow};
use crate::domain::payload::{canonicalize, rfc3339_seconds};
use crate::error::AppResult;

use crate::service::tlog::{note, witnesses};
use crate::service::verify::trust::{trust_list_on, TrustedKey};
use crate::service::AppState;

const CONTEXT: &[u8] = b"CERTRAIL-BUNDLE-V1\n";

/// A certificate that is not `active`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StatusEntry {
    pub id: String,
    /// `suspended`, `revoked` or `recalled`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A certificate of a compromised key that the log sequenced before the compromise.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LoggedEntry {
    pub id: String,
    pub kid: String,
    /// RFC 3339.
    pub sequenced_at: String,
}

/// `GET /api/v1/bundle`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Bundle {
    /// 1.
    pub version: u32,
    /// When the bundle was made (RFC 3339): verifiers say how old it is.
    pub created_at: String,
    /// The log's checkpoint origin and note verifier key (which signs this bundle).
    pub origin: String,
    pub log_key: String,
    /// The latest checkpoint (C2SP signed note, with witness cosignatures).
    pub checkpoint: String,
    /// The trust list (contract §5) with key statuses.
    pub keys: Vec<TrustedKey>,
    /// Every suspended, revoked or recalled certificate.
    pub statuses: Vec<StatusEntry>,
    /// Certificates of compromised keys logged before `compromised_since` (still genuine).
    pub logged_before_compromise: Vec<LoggedEntry>,
    /// See the module docs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// How long a built bundle is served before it is built again.
const FRESH_FOR: std::time::Duration = std::time::Duration::from_secs(60);

/// The last bundle built, kept for [`FRESH_FOR`]: building reads the whole status list.
#[derive(Default)]
pub struct BundleCache(std::sync::Mutex<Option<(std::time::Instant, std::sync::Arc<Bundle>)>>);

/// The current bundle: the cached one while fresh, else built again (one builder at a time;
/// the others wait for it).
pub fn current(state: &AppState) -> AppResult<std::sync::Arc<Bundle>> {
    let mut cached = state.bundle.0.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((at, bundle)) = cached.as_ref() {
        if at.elapsed() < FRESH_FOR {
            return Ok(bundle.clone());
        }
    }
    let bundle = std::sync::Arc::new(build(state)?);
    *cached = Some((std::time::Instant::now(), bundle.clone()));
    Ok(bundle)
}

/// Builds and signs the bundle.
pub fn build(state: &AppState) -> AppResult<Bundle> {
    let mut conn = state.db.fresh_reader()?;
    let checkpoint = match witnesses::served_checkpoint(&mut conn)? {
        Some(text) => text,
        None => state.log.sign_checkpoint(0, tlog_tiles::EMPTY_HASH),
    };
    let keys = trust_list_on(&mut conn)?.keys;
    let mut logged = vec![];
    for key in SigningKeyRow::all_with_organizations(&mut conn)? {
        if let (true, Some(since)) = (key.0.status == "compromised", key.0.compromised_since) {
            for (id, at) in logdb::logged_before(&mut conn, &key.0.kid, since)? {
                logged.push(LoggedEntry {
                    id,
                    kid: key.0.kid.clone(),
                    sequenced_at: rfc3339_seconds(at.and_utc()),
                });
            }
        }
    }
    let statuses = Certificate::not_active(&mut conn)?
        .into_iter()
        .map(|(id, status, reason)| StatusEntry { id, status, reason })
        .collect();
    let mut bundle = Bundle {
        version: 1,
        created_at: rfc3339_seconds(now().and_utc()),
        origin: state.log.origin().to_string(),
        log_key: state.log.verifier_key().to_string(),
        checkpoint,
        keys,
        statuses,
        logged_before_compromise: logged,
        signature: None,
    };
    let signature = state.log.sign(&signed_bytes(&bundle));
    bundle.signature = Some(b64url(&signature));
    Ok(bundle)
}

fn signed_bytes(bundle: &Bundle) -> Vec<u8> {
    let unsigned = Bundle {
        signature: None,
        ..bundle.clone()
    };
    [CONTEXT, canonicalize(&unsigned).as_bytes()].concat()
}

/// A bundle whose signature verified.
#[derive(Debug)]
pub struct Verified {
    pub bundle: Bundle,
    pub created_at: NaiveDateTime,
    /// The checkpoint's tree size (its log signature verified too).
    pub tree_size: u64,
}

/// Parses a bundle and checks its signature (and its checkpoint's) with `log_key`, or with
/// the key it names when none is pinned.
pub fn verify(text: &str, pinned: Option<&str>) -> Result<Verified, String> {
    let bundle: Bundle =
        serde_json::from_str(text).map_err(|e| format!("not a trust bundle: {e}"))?;
    let log_key = pinned.unwrap_or(&bundle.log_key);
    if log_key.trim() != bundle.log_key {
        return Err("the bundle is signed by another log key than the one pinned".into());
    }
    let (_, key) = note::parse_verifier_key(log_key)?;
    let signature = bundle
        .signature
        .as_deref()
        .and_then(b64url_decode)
        .ok_or("the bundle has no signature")?;
    if !verify_sig(&key, &signed_bytes(&bundle), &signature) {
        return Err("the bundle's signature does not verify: it was altered".into());
    }
    let checkpoint = note::verify_checkpoint(&bundle.checkpoint, log_key)?;
    let created_at = chrono::DateTime::parse_from_rfc3339(&bundle.created_at)
        .map_err(|e| format!("created_at: {e}"))?
        .naive_utc();
    Ok(Verified {
        tree_size: checkpoint.checkpoint.size(),
        created_at,
        bundle,
    })
}

//! The public trust list (contract §5): every signing key with its organization.

use serde::{Deserialize, Serialize};

use crate::crypto::b64url;
use crate::db::models::SigningKeyRow;
use crate::domain::payload::rfc3339_seconds;
use crate::error::AppResult;

use crate::service::AppState;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TrustedKey {
    pub kid: String,
    pub algorithm: String,
    /// Raw Ed25519 public key, base64url without padding (43 characters).
    pub public_key: String,
    pub credit_code: String,
    pub organization: String,
    /// `active`, `retired` or `compromised`.
    pub status: String,
    pub valid_from: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
    /// For a `compromised` key: from when its signatures are not trusted (contract §11).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compromised_since: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TrustList {
    pub keys: Vec<TrustedKey>,
}

pub fn trust_list(state: &AppState) -> AppResult<TrustList> {
    let mut conn = state.db.fresh_reader()?;
    trust_list_on(&mut conn)
}

/// The trust list, read on `conn`.
pub fn trust_list_on(conn: &mut crate::db::DbConn) -> AppResult<TrustList> {
    let keys = SigningKeyRow::all_with_organizations(conn)?
        .into_iter()
        .map(|(key, org)| TrustedKey {
            kid: key.kid,
            algorithm: "Ed25519".into(),
            public_key: b64url(&key.public_key),
            credit_code: org.credit_code,
            organization: org.name,
            status: key.status,
            valid_from: rfc3339_seconds(key.valid_from.and_utc()),
            valid_until: key.valid_until.map(|t| rfc3339_seconds(t.and_utc())),
            compromised_since: key.compromised_since.map(|t| rfc3339_seconds(t.and_utc())),
        })
        .collect();
    Ok(TrustList { keys })
}

//! Key lifecycle (contract §11): an organization rotates its signing key, the admin declares a
//! key compromised from a time, and a producer may hold its own certificate key (the platform
//! stores only the public half). Every change drops cached verification records, so answers
//! honour the new status at once (other instances within a poll).

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::crypto::signing::{self, b64url_decode, kid_of};
use crate::db::models::{now, Organization, SigningKeyRow};
use crate::db::DbConn;
use crate::domain::payload::rfc3339_seconds;
use crate::error::{AppError, AppResult};

use crate::service::{changes, checked_id, Actor, AppState};

/// A key as its organization sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct KeyView {
    pub kid: String,
    /// Raw Ed25519 public key, base64url without padding.
    pub public_key: String,
    /// `active`, `retired` or `compromised`.
    pub status: String,
    /// `platform` (sealed on the platform) or `producer` (only the producer has it).
    pub held_by: &'static str,
    pub valid_from: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compromised_since: Option<String>,
}

impl From<SigningKeyRow> for KeyView {
    fn from(row: SigningKeyRow) -> Self {
        KeyView {
            held_by: if row.held_by_platform() {
                "platform"
            } else {
                "producer"
            },
            public_key: crate::crypto::b64url(&row.public_key),
            valid_from: rfc3339_seconds(row.valid_from.and_utc()),
            valid_until: row.valid_until.map(|t| rfc3339_seconds(t.and_utc())),
            compromised_since: row.compromised_since.map(|t| rfc3339_seconds(t.and_utc())),
            kid: row.kid,
            status: row.status,
        }
    }
}

/// The organization itself or the admin.
fn require_self_or_admin(actor: &Actor, organization_id: &str) -> AppResult<()> {
    match actor {
        Actor::Admin => Ok(()),
        Actor::Org(org) if org.id == organization_id => Ok(()),
        Actor::Org(_) => Err(AppError::Forbidden(
            "only the organization itself or the admin may manage its keys".into(),
        )),
    }
}

fn organization(conn: &mut DbConn, id: &str) -> AppResult<Organization> {
    Organization::find(conn, checked_id(id, "organization")?)?
        .ok_or_else(|| AppError::not_found("organization"))
}

/// `GET /api/v1/organizations/{id}/keys`: the organization's keys, newest first.
pub fn list(state: &AppState, actor: &Actor, organization_id: &str) -> AppResult<Vec<KeyView>> {
    require_self_or_admin(actor, organization_id)?;
    let mut conn = state.db.reader()?;
    organization(&mut conn, organization_id)?;
    Ok(SigningKeyRow::of_organization(&mut conn, organization_id)?
        .into_iter()
        .map(KeyView::from)
        .collect())
}

/// Retires the active key (valid until now) and makes `new` the active one.
fn replace_active(conn: &mut DbConn, organization_id: &str, new: &SigningKeyRow) -> AppResult<()> {
    Organization::lock(conn, organization_id)?;
    if let Some(old) = SigningKeyRow::active_for(conn, organization_id)? {
        SigningKeyRow::set_status(conn, &old.kid, "retired", Some(new.valid_from), None)?;
    }
    new.insert(conn)?;
    changes::everything(conn)
}

/// `POST /api/v1/organizations/{id}/keys/rotate`: a new platform-held key becomes active.
pub fn rotate(state: &AppState, actor: &Actor, organization_id: &str) -> AppResult<KeyView> {
    require_self_or_admin(actor, organization_id)?;
    let new = state.keys.generate(organization_id);
    state.write(|conn| {
        organization(conn, organization_id)?;
        replace_active(conn, organization_id, &new)?;
        Ok(KeyView::from(new))
    })
}

/// `POST /api/v1/organizations/{id}/keys` (a producer holding its own key).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterKey {
    /// The raw 32-byte Ed25519 public key, base64url without padding (43 characters), as
    /// `certrail sign --new-key` prints it.
    #[schema(pattern = "^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$")]
    pub public_key: String,
}

/// Registers a producer's own public key as its active certificate key. The platform keeps
/// its held key, retired, for the trail events it signs on the producer's behalf.
pub fn register(
    state: &AppState,
    actor: &Actor,
    organization_id: &str,
    req: RegisterKey,
) -> AppResult<KeyView> {
    require_self_or_admin(actor, organization_id)?;
    let raw = b64url_decode(req.public_key.trim())
        .filter(|k| k.len() == 32)
        .and_then(|k| signing::verifying_key(&k))
        .ok_or_else(|| {
            AppError::invalid(
                "invalid_public_key",
                "public_key",
                "not an Ed25519 public key (32 bytes, base64url without padding)",
            )
        })?;
    state.write(|conn| {
        let org = organization(conn, organization_id)?;
        if org.kind != "producer" {
            return Err(AppError::invalid(
                "not_a_producer",
                "public_key",
                "only producers sign certificates",
            ));
        }
        let kid = kid_of(&raw);
        if SigningKeyRow::find(conn, &kid)?.is_some() {
            return Err(AppError::Conflict {
                code: "key_exists",
                message: "this key is registered already".into(),
            });
        }
        let new = SigningKeyRow {
            kid,
            organization_id: organization_id.to_string(),
            public_key: raw.as_bytes().to_vec(),
            // Empty: the platform never has this private key.
            sealed_private_key: vec![],
            status: "active".into(),
            valid_from: now(),
            valid_until: None,
            compromised_since: None,
        };
        replace_active(conn, organization_id, &new)?;
        Ok(KeyView::from(new))
    })
}

/// `POST /api/v1/keys/{kid}/compromise` (admin).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Compromise {
    /// From when the key may have been in other hands (RFC 3339).
    #[schema(format = DateTime)]
    pub since: String,
}

/// Declares a key compromised from `since`. If it was its organization's active key, a fresh
/// platform-held key becomes active, so the organization can go on issuing.
pub fn compromise(
    state: &AppState,
    actor: &Actor,
    kid: &str,
    req: Compromise,
) -> AppResult<KeyView> {
    actor.require_admin()?;
    let since = parse_since(&req.since)?;
    state.write(|conn| {
        let row = SigningKeyRow::find(conn, kid)?.ok_or_else(|| AppError::not_found("key"))?;
        if row.status == "compromised" {
            return Err(AppError::Conflict {
                code: "key_compromised",
                message: "this key is declared compromised already".into(),
            });
        }
        Organization::lock(conn, &row.organization_id)?;
        let until = row.valid_until.unwrap_or_else(now);
        SigningKeyRow::set_status(conn, kid, "compromised", Some(until), Some(since))?;
        // The organization keeps a key the platform signs with: a fresh active one if the
        // compromised key was active; if it holds its own active key and lost the
        // platform-held one its trail events were signed with, a fresh one for those only.
        if row.status == "active" {
            state.keys.generate(&row.organization_id).insert(conn)?;
        } else if SigningKeyRow::platform_key_for(conn, &row.organization_id)?.is_none() {
            let mut fresh = state.keys.generate(&row.organization_id);
            fresh.status = "retired".into();
            fresh.valid_until = Some(fresh.valid_from);
            fresh.insert(conn)?;
        }
        changes::everything(conn)?;
        let updated = SigningKeyRow::find(conn, kid)?.ok_or_else(|| AppError::not_found("key"))?;
        Ok(KeyView::from(updated))
    })
}

fn parse_since(text: &str) -> AppResult<NaiveDateTime> {
    let bad = |m: &str| AppError::invalid("invalid_since", "since", m.to_string());
    let at = chrono::DateTime::parse_from_rfc3339(text.trim())
        .map_err(|_| bad("since must be an RFC 3339 time, e.g. 2026-11-30T08:00:00Z"))?
        .naive_utc();
    // Whole seconds, as every stored time (the trust list and bundle say it so).
    let at = at - chrono::Duration::nanoseconds(i64::from(chrono::Timelike::nanosecond(&at)));
    if at > now() + chrono::Duration::minutes(5) {
        return Err(bad("since cannot be in the future"));
    }
    Ok(at)
}

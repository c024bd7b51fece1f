//! Who a GTIN belongs to. A trade item number names one organization's product: the first to
//! register it (with a product) owns it, or the first to record the GS1 company prefix that
//! covers it, until a regulator or the platform admin reassigns it. Nobody else registers a
//! product under it, and a Digital Link resolves only to its owner's certificates.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::models::gtin_owner::GtinOwner;
use crate::db::models::{now, Organization};
use crate::db::DbConn;
use crate::domain::gtin::{self, gtin14, owner_keys};
use crate::domain::region;
use crate::domain::role::OrgKind;
use crate::error::{AppError, AppResult};

use crate::service::{audit, checked_id, Actor, AppState};

fn taken(what: &str) -> AppError {
    AppError::Conflict {
        code: "gtin_taken",
        message: format!(
            "{what} belongs to another organization; a regulator or the platform admin reassigns GTINs"
        ),
    }
}

/// The owner of GTIN `gtin` (any form), the most specific record first.
pub fn owner_of(conn: &mut DbConn, gtin: &str) -> AppResult<Option<String>> {
    let keys = owner_keys(&gtin14(gtin));
    let rows = GtinOwner::any_of(conn, &keys)?;
    Ok(keys
        .iter()
        .find_map(|k| rows.iter().find(|r| &r.prefix == k))
        .map(|r| r.organization_id.clone()))
}

/// Takes GTIN `gtin` for `org` when it registers a product under it (inside that write): its
/// own already, or free (then recorded as its), else 409 `gtin_taken`.
pub fn take_for_product(conn: &mut DbConn, org: &str, gtin: &str) -> AppResult<()> {
    match owner_of(conn, gtin)? {
        Some(owner) if owner == org => Ok(()),
        Some(_) => Err(taken("this GTIN")),
        None => Ok(GtinOwner {
            prefix: gtin14(gtin),
            kind: "gtin".into(),
            organization_id: org.to_string(),
            assigned_at: now(),
        }
        .insert(conn)?),
    }
}

/// `POST /api/v1/gtin-prefixes`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPrefix {
    /// The GS1 company prefix the producer was licensed (6 to 12 digits).
    #[schema(pattern = "^[0-9]{6,12}$")]
    pub prefix: String,
}

/// A GTIN or company prefix and its owner.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GtinOwnerView {
    /// A GTIN (14 digits) or a company prefix.
    pub prefix: String,
    /// `gtin` or `company_prefix`.
    pub kind: String,
    pub organization_id: String,
    /// RFC 3339 UTC.
    pub assigned_at: String,
}

impl From<GtinOwner> for GtinOwnerView {
    fn from(row: GtinOwner) -> Self {
        GtinOwnerView {
            prefix: row.prefix,
            kind: row.kind,
            organization_id: row.organization_id,
            assigned_at: crate::domain::payload::rfc3339_seconds(row.assigned_at.and_utc()),
        }
    }
}

/// Most company prefixes one organization records (GS1 licenses a firm one, rarely a few): a
/// producer cannot squat the number space.
pub const MAX_PREFIXES: usize = 5;

/// A producer records its GS1 company prefix: every GTIN under it is then its own. 409
/// `gtin_taken` when another organization owns the prefix, a wider one, or a GTIN inside it;
/// 409 `too_many_prefixes` beyond [`MAX_PREFIXES`].
pub fn register_prefix(
    state: &AppState,
    actor: &Actor,
    req: NewPrefix,
) -> AppResult<GtinOwnerView> {
    let org = actor.require_kind(&[OrgKind::Producer])?;
    let prefix = gtin::company_prefix("prefix", &req.prefix)?;
    let row = GtinOwner {
        prefix: prefix.clone(),
        kind: "company_prefix".into(),
        organization_id: org.id.clone(),
        assigned_at: now(),
    };
    state.write(|conn| {
        let wider: Vec<String> = gtin::PREFIX_DIGITS
            .filter(|n| *n <= prefix.len())
            .map(|n| prefix[..n].to_string())
            .collect();
        let mut clash = GtinOwner::any_of(conn, &wider)?;
        clash.extend(GtinOwner::inside(conn, &prefix)?);
        if clash.iter().any(|r| r.organization_id != org.id) {
            return Err(taken("this company prefix (or a GTIN under it)"));
        }
        if clash.iter().any(|r| r.prefix == prefix) {
            return Ok(());
        }
        let held = GtinOwner::of(conn, &org.id)?;
        if held.iter().filter(|r| r.kind == "company_prefix").count() >= MAX_PREFIXES {
            return Err(AppError::Conflict {
                code: "too_many_prefixes",
                message: format!(
                    "an organization records at most {MAX_PREFIXES} company prefixes; a regulator reassigns more"
                ),
            });
        }
        row.insert(conn)?;
        Ok(())
    })?;
    Ok(row.into())
}

/// The GTINs and company prefixes the caller's organization owns.
pub fn list_own(state: &AppState, actor: &Actor) -> AppResult<Vec<GtinOwnerView>> {
    let org = actor.require_kind(&[OrgKind::Producer])?;
    Ok(GtinOwner::of(&mut *state.db.reader()?, &org.id)?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// `PUT /api/v1/gtin-owners/{prefix}`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reassign {
    /// The producer the GTIN or prefix belongs to from now on.
    pub organization_id: String,
    /// Why (audited).
    #[schema(value_type = crate::domain::request::Text500)]
    pub reason: String,
    /// `gtin` or `company_prefix` (default: a GTIN for 8, 13 and 14 digits, else a prefix).
    #[schema(value_type = Option<GtinKeyKind>)]
    pub kind: Option<String>,
}

/// What a reassigned key is: a whole GTIN or a GS1 company prefix.
const KEY_KINDS: [&str; 2] = ["gtin", "company_prefix"];

crate::domain::request::named_schema!(
    /// What a reassigned key is.
    GtinKeyKind = crate::domain::request::one_of(&KEY_KINDS)
);

/// The platform admin, or a regulator whose region covers the new owner, gives a GTIN (or a
/// company prefix) to the producer it belongs to. Audited.
pub fn reassign(
    state: &AppState,
    actor: &Actor,
    key: &str,
    req: Reassign,
) -> AppResult<GtinOwnerView> {
    let reason = crate::domain::validate::text("reason", &req.reason, 500)?;
    let key = key.trim();
    let kind = (req.kind.as_deref())
        .map(|k| crate::domain::validate::one_of("kind", "invalid_kind", k, &KEY_KINDS))
        .transpose()?;
    let key = match (kind, key.len()) {
        (Some("gtin"), _) | (None, 8 | 13 | 14) => {
            gtin::parse("prefix", key).map(|g| gtin14(&g))?
        }
        _ => gtin::company_prefix("prefix", key)?,
    };
    let mut conn = state.db.reader()?;
    let new_owner =
        Organization::find(&mut conn, checked_id(&req.organization_id, "organization")?)?
            .filter(|o| o.kind() == OrgKind::Producer && o.deactivated_at.is_none())
            .ok_or_else(|| {
                AppError::invalid(
                    "unknown_organization",
                    "organization_id",
                    "organization_id must name an active producer",
                )
            })?;
    drop(conn);
    let at = now();
    state.write(|conn| {
        let before = GtinOwner::find(conn, &key)?;
        // A regulator moves a GTIN only between producers of its own region; anything across
        // regions is the platform admin's.
        let former_region = match &before {
            Some(b) => Organization::find(conn, &b.organization_id)?.map(|o| o.region_code),
            None => None,
        };
        let covers = |org: &Organization| {
            region::within(&org.region_code, &new_owner.region_code)
                && former_region
                    .as_deref()
                    .is_none_or(|r| region::within(&org.region_code, r))
        };
        match actor {
            Actor::Admin => {}
            Actor::Org(org) if org.kind() == OrgKind::Regulator && covers(org) => {}
            _ => {
                return Err(AppError::Forbidden(
                    "only the platform admin, or a regulator whose region holds both the former and the new owner, reassigns GTINs"
                        .into(),
                ))
            }
        }
        match &before {
            Some(_) => {
                GtinOwner::reassign(conn, &key, &new_owner.id, at)?;
            }
            None => GtinOwner {
                prefix: key.clone(),
                kind: if key.len() == 14 { "gtin" } else { "company_prefix" }.into(),
                organization_id: new_owner.id.clone(),
                assigned_at: at,
            }
            .insert(conn)?,
        }
        audit::record(
            conn,
            actor,
            &new_owner.region_code,
            "gtin.reassign",
            &key,
            json!({"from": before.map(|b| b.organization_id), "to": new_owner.id, "reason": reason}),
        )
    })?;
    let row = GtinOwner::find(&mut *state.db.reader()?, &key)?
        .ok_or_else(|| AppError::not_found("gtin owner"))?;
    Ok(row.into())
}

//! Registering organizations (each with its own signing key) and their API tokens.

use serde::{Deserialize, Serialize};

use crate::crypto::b64url;
use crate::crypto::random::new_id;
use crate::db::models::{now, Organization, SigningKeyRow};
use crate::domain::role::OrgKind;
use crate::domain::{credit_code, region, validate};
use crate::error::{AppError, AppResult};

use crate::service::{checked_id, Actor, AppState};

/// `POST /api/v1/organizations`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrganization {
    /// producer, retailer, regulator, certification_body, lab, wholesaler or market_operator.
    #[schema(value_type = crate::domain::role::OrgKindName)]
    pub kind: String,
    #[schema(value_type = crate::domain::request::Text200)]
    pub name: String,
    /// 18-character unified social credit code.
    pub credit_code: String,
    /// 6-digit GB/T 2260 region code.
    #[schema(value_type = crate::domain::region::RegionCode)]
    pub region_code: String,
    #[schema(value_type = crate::domain::request::Text300)]
    pub address: String,
    /// For a stallholder (kind `retailer`): the id of the market operator it sells under.
    #[serde(default)]
    pub market_id: Option<String>,
}

/// An organization as shown to anyone, with its current public key.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrganizationView {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub credit_code: String,
    pub region_code: String,
    pub address: String,
    /// The market operator a stallholder sells under.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub market_id: Option<String>,
    pub kid: Option<String>,
    /// base64url, no padding, 43 characters.
    pub public_key: Option<String>,
    pub created_at: String,
}

impl OrganizationView {
    /// The view of a stored organization and its active key.
    pub fn from_parts(org: Organization, key: Option<&SigningKeyRow>) -> Self {
        Self::new(org, key)
    }

    fn new(org: Organization, key: Option<&SigningKeyRow>) -> Self {
        Self {
            id: org.id,
            kind: org.kind,
            name: org.name,
            credit_code: org.credit_code,
            region_code: org.region_code,
            address: org.address,
            market_id: org.market_id,
            kid: key.map(|k| k.kid.clone()),
            public_key: key.map(|k| b64url(&k.public_key)),
            created_at: crate::domain::payload::rfc3339_seconds(org.created_at.and_utc()),
        }
    }
}

/// Admin only: registers an organization and generates its signing key, in one transaction.
pub fn create(
    state: &AppState,
    actor: &Actor,
    input: NewOrganization,
) -> AppResult<OrganizationView> {
    actor.require_admin()?;
    let kind = OrgKind::parse_field("kind", &input.kind)?;
    let market_id = match input.market_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(_) if kind != OrgKind::Retailer => {
            return Err(AppError::invalid(
                "not_a_stallholder",
                "market_id",
                "only a retailer sells under a market",
            ))
        }
        Some(id) => Some(checked_id(id, "market")?.to_string()),
    };
    let org = Organization {
        id: new_id(),
        kind: kind.as_str().to_string(),
        name: validate::text("name", &input.name, 200)?,
        credit_code: credit_code::parse("credit_code", &input.credit_code)?,
        region_code: region::parse("region_code", &input.region_code)?,
        address: validate::text("address", &input.address, 300)?,
        created_at: now(),
        deactivated_at: None,
        market_id,
    };
    let key = state.keys.generate(&org.id);
    state.write(|conn| {
        if let Some(market) = &org.market_id {
            let operator = Organization::find(conn, market)?;
            if operator.map(|o| o.kind()) != Some(OrgKind::MarketOperator) {
                return Err(AppError::invalid(
                    "unknown_market",
                    "market_id",
                    "market_id must name a market operator",
                ));
            }
        }
        if Organization::find_by_credit_code(conn, &org.credit_code)?.is_some() {
            return Err(AppError::Conflict {
                code: "duplicate_credit_code",
                message: format!(
                    "an organization with credit code {} exists",
                    org.credit_code
                ),
            });
        }
        org.insert(conn)?;
        key.insert(conn)?;
        crate::service::audit::record(
            conn,
            actor,
            &org.region_code,
            "organization.create",
            &format!("organization:{}", org.id),
            serde_json::json!({"kind": org.kind, "name": org.name, "credit_code": org.credit_code}),
        )
    })?;
    Ok(OrganizationView::new(org, Some(&key)))
}

/// Public: one organization with its current key.
pub fn get(state: &AppState, organization_id: &str) -> AppResult<OrganizationView> {
    let mut conn = state.db.reader()?;
    let org = Organization::find(&mut conn, checked_id(organization_id, "organization")?)?
        .ok_or_else(|| AppError::not_found("organization"))?;
    let key = SigningKeyRow::active_for(&mut conn, &org.id)?;
    Ok(OrganizationView::new(org, key.as_ref()))
}

/// Whether no organization exists yet: a fresh platform, whose front page says how to begin.
pub fn first_run(state: &AppState) -> AppResult<bool> {
    Ok(Organization::count(&mut *state.db.reader()?)? == 0)
}

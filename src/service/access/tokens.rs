//! An organization's API tokens: made with a name, a scope and an optional expiry, shown once,
//! listed (never the token itself) with when each was last used, and revoked by the admin or
//! by the organization itself through an `admin`-scoped token or its console.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::db::models::{now, ApiToken, Organization};
use crate::domain::payload::rfc3339_seconds;
use crate::domain::role::Scope;
use crate::domain::validate;
use crate::error::{AppError, AppResult};

use crate::service::access::auth::issue_token;
use crate::service::audit;
use crate::service::{checked_id, Actor, AppState};

/// `POST /api/v1/organizations/{id}/tokens` (every field optional).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// What the token is for, e.g. `ERP export` (default `token`).
    #[schema(value_type = Option<crate::domain::request::Text100>)]
    pub name: Option<String>,
    /// `read`, `issue`, `trail` or `admin` (default).
    #[schema(value_type = Option<TokenScope>)]
    pub scope: Option<String>,
    /// When it stops working (RFC 3339, in the future).
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
}

crate::domain::request::named_schema!(
    /// A token's scope.
    TokenScope = crate::domain::request::one_of(&Scope::ALL.map(Scope::as_str))
);

/// A new token, shown once.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NewToken {
    pub token: String,
    pub organization_id: String,
    #[serde(flatten)]
    pub info: TokenView,
}

/// A token as its organization lists it (never the token itself).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenView {
    /// The token's public id (revoke with it).
    pub id: String,
    pub name: String,
    pub scope: Scope,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<String>,
}

impl From<&ApiToken> for TokenView {
    fn from(t: &ApiToken) -> Self {
        let time = |t: NaiveDateTime| rfc3339_seconds(t.and_utc());
        TokenView {
            id: t.id().to_string(),
            name: t.name.clone(),
            scope: Scope::parse(&t.scope).unwrap_or(Scope::Read),
            created_at: time(t.created_at),
            expires_at: t.expires_at.map(time),
            last_used_at: t.last_used_at.map(time),
        }
    }
}

/// The admin, or the organization itself.
fn require_manager(actor: &Actor, organization_id: &str) -> AppResult<()> {
    match actor {
        Actor::Admin => Ok(()),
        Actor::Org(org) if org.id == organization_id => Ok(()),
        Actor::Org(_) => Err(AppError::Forbidden(
            "only the organization itself or the admin manages its tokens".into(),
        )),
    }
}

pub fn create(
    state: &AppState,
    actor: &Actor,
    organization_id: &str,
    req: TokenRequest,
) -> AppResult<NewToken> {
    require_manager(actor, organization_id)?;
    let name = validate::text("name", req.name.as_deref().unwrap_or("token"), 100)?;
    let scope = match req.scope.as_deref() {
        None => Scope::Admin,
        Some(s) => validate::pick("scope", "invalid_scope", s, &Scope::ALL, Scope::as_str)?,
    };
    let expires_at = match req.expires_at.as_deref() {
        None => None,
        Some(text) => {
            let at = chrono::DateTime::parse_from_rfc3339(text.trim())
                .map_err(|_| {
                    AppError::invalid(
                        "invalid_expiry",
                        "expires_at",
                        "expires_at must be an RFC 3339 time, e.g. 2027-01-01T00:00:00Z",
                    )
                })?
                .naive_utc();
            if at <= now() {
                return Err(AppError::invalid(
                    "invalid_expiry",
                    "expires_at",
                    "expires_at must be in the future",
                ));
            }
            Some(at)
        }
    };
    let (token, row) = state.write(|conn| {
        Organization::find(conn, checked_id(organization_id, "organization")?)?
            .ok_or_else(|| AppError::not_found("organization"))?;
        let (token, row) = issue_token(
            conn,
            Some(organization_id.to_string()),
            &name,
            scope,
            expires_at,
        )?;
        // The token's public id and settings; never the token.
        let view = TokenView::from(&row);
        let detail = serde_json::json!({"id": view.id, "name": view.name, "scope": view.scope,
            "expires_at": view.expires_at});
        audit::record(
            conn,
            actor,
            "",
            "token.create",
            &target(organization_id),
            detail,
        )?;
        Ok((token, row))
    })?;
    Ok(NewToken {
        token,
        organization_id: organization_id.to_string(),
        info: TokenView::from(&row),
    })
}

pub fn list(state: &AppState, actor: &Actor, organization_id: &str) -> AppResult<Vec<TokenView>> {
    require_manager(actor, organization_id)?;
    let mut conn = state.db.reader()?;
    Organization::find(&mut conn, checked_id(organization_id, "organization")?)?
        .ok_or_else(|| AppError::not_found("organization"))?;
    Ok(ApiToken::of_organization(&mut conn, organization_id)?
        .iter()
        .map(TokenView::from)
        .collect())
}

/// Deletes the token: the next request with it is 401, on every instance.
pub fn revoke(
    state: &AppState,
    actor: &Actor,
    organization_id: &str,
    token_id: &str,
) -> AppResult<()> {
    require_manager(actor, organization_id)?;
    state.write(|conn| {
        if !ApiToken::revoke(conn, organization_id, token_id)? {
            return Err(AppError::not_found("token"));
        }
        let detail = serde_json::json!({"id": token_id});
        audit::record(
            conn,
            actor,
            "",
            "token.revoke",
            &target(organization_id),
            detail,
        )
    })
}

/// The audit log's name for an organization's tokens. Credentials are the admin's business:
/// their entries have no region, so no regulator reads them.
fn target(organization_id: &str) -> String {
    format!("organization:{organization_id}")
}

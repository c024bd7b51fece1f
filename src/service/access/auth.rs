//! Who is calling: bearer tokens resolved to the platform admin or an organization, and the
//! role and ownership checks every write goes through.

use crate::crypto::random::{new_token, token_hash};
use crate::db::models::{now, ApiToken, Organization};
use crate::domain::role::{OrgKind, Scope};
use crate::error::{AppError, AppResult};

use crate::service::AppState;

/// An authenticated caller.
#[derive(Debug, Clone)]
pub enum Actor {
    /// The platform admin: manages organizations and tokens, issues nothing.
    Admin,
    /// A member of an organization; its kind is its role.
    Org(Organization),
}

impl Actor {
    /// Allows only the platform admin.
    pub fn require_admin(&self) -> AppResult<()> {
        match self {
            Actor::Admin => Ok(()),
            Actor::Org(_) => Err(AppError::Forbidden(
                "only the platform admin may do this".into(),
            )),
        }
    }

    /// Allows only organizations of one of `kinds`; returns the organization.
    pub fn require_kind(&self, kinds: &[OrgKind]) -> AppResult<&Organization> {
        match self {
            Actor::Org(org) if kinds.contains(&org.kind()) => Ok(org),
            _ => {
                let names: Vec<_> = kinds.iter().map(|k| k.as_str()).collect();
                Err(AppError::Forbidden(format!(
                    "this needs the role {}",
                    names.join(" or ")
                )))
            }
        }
    }
}

/// How stale a token's `last_used_at` may get before a use records it again (a write per
/// request would cost more than the request).
const LAST_USED_EVERY: chrono::Duration = chrono::Duration::minutes(1);

/// Resolves a bearer token for something that needs `needed`. The environment admin token is
/// compared by hash, like stored ones. Read from the database on every request, so a revoked
/// or expired token is refused at once, on every instance.
pub fn authenticate(state: &AppState, token: &str, needed: Scope) -> AppResult<Actor> {
    let hash = token_hash(token);
    if let Some(admin) = &state.config.admin_token {
        if token_hash(admin) == hash {
            return Ok(Actor::Admin);
        }
    }
    let mut conn = state.db.reader()?;
    let Some(row) = ApiToken::find(&mut conn, &hash)? else {
        return Err(AppError::Unauthorized("unknown or revoked token".into()));
    };
    let at = now();
    if row.expires_at.is_some_and(|until| until <= at) {
        return Err(AppError::Unauthorized("the token has expired".into()));
    }
    let scope = Scope::parse(&row.scope).unwrap_or(Scope::Read);
    if !scope.allows(needed) {
        return Err(AppError::Forbidden(format!(
            "this token's scope ({}) does not allow {}",
            scope.as_str(),
            needed.as_str()
        )));
    }
    if row
        .last_used_at
        .is_none_or(|last| at - last >= LAST_USED_EVERY)
    {
        drop(conn);
        // Bookkeeping only: skipped when the writer is busy.
        if let Ok(mut writer) = state.db.writer() {
            let _ = ApiToken::touch(&mut writer, &hash, at);
        }
        conn = state.db.reader()?;
    }
    match row.organization_id {
        None => Ok(Actor::Admin),
        Some(org_id) => match Organization::find(&mut conn, &org_id)? {
            None => Err(AppError::Unauthorized(
                "the token's organization no longer exists".into(),
            )),
            Some(org) if org.deactivated_at.is_some() => Err(AppError::Unauthorized(
                "the token's organization is deactivated".into(),
            )),
            Some(org) => Ok(Actor::Org(org)),
        },
    }
}

/// Creates a token for `organization_id` (`None`: a platform admin token). Returns the token,
/// which is shown once, and its row; only its hash is stored.
pub fn issue_token(
    conn: &mut crate::db::DbConn,
    organization_id: Option<String>,
    name: &str,
    scope: Scope,
    expires_at: Option<chrono::NaiveDateTime>,
) -> AppResult<(String, ApiToken)> {
    let (token, hash) = new_token();
    let row = ApiToken {
        token_hash: hash,
        organization_id,
        created_at: now(),
        name: name.to_string(),
        scope: scope.as_str().to_string(),
        expires_at,
        last_used_at: None,
    };
    row.insert(conn)?;
    Ok((token, row))
}

/// `certrail admin token`: a fresh platform admin token.
pub fn create_admin_token(state: &AppState) -> AppResult<String> {
    let mut conn = state.db.writer()?;
    crate::db::write_transaction(&mut conn, |conn| {
        issue_token(conn, None, "admin", Scope::Admin, None).map(|(t, _)| t)
    })
}

/// Allows the producer that owns the goods, or a regulator whose jurisdiction (region code
/// prefix) covers that producer; returns the acting organization.
pub fn require_owner_or_regulator<'a>(
    actor: &'a Actor,
    producer: &Organization,
) -> AppResult<&'a Organization> {
    let org = actor.require_kind(&[OrgKind::Producer, OrgKind::Regulator])?;
    let allowed = match org.kind() {
        OrgKind::Producer => org.id == producer.id,
        _ => crate::domain::region::within(&org.region_code, &producer.region_code),
    };
    if allowed {
        Ok(org)
    } else {
        Err(AppError::Forbidden(
            "only the owning producer or a regulator of its region may do this".into(),
        ))
    }
}

/// Allows only regulators whose jurisdiction covers `producer`.
pub fn require_regulator_of<'a>(
    actor: &'a Actor,
    producer: &Organization,
) -> AppResult<&'a Organization> {
    let org = actor.require_kind(&[OrgKind::Regulator])?;
    if crate::domain::region::within(&org.region_code, &producer.region_code) {
        Ok(org)
    } else {
        Err(AppError::Forbidden(
            "this producer is outside the regulator's region".into(),
        ))
    }
}

//! The audit log: every admin and regulator action, who, what and when, written in the
//! transaction of the action itself. The admin reads all of it; a regulator its region's.

use serde::Serialize;
use serde_json::Value;

use crate::crypto::random::new_id;
use crate::db::models::audit::AuditEntry;
use crate::db::DbConn;
use crate::domain::payload::rfc3339_seconds;
use crate::domain::region::prefix;
use crate::domain::role::OrgKind;
use crate::error::AppResult;
use chrono::Timelike;

use super::{Actor, AppState};

/// Entries a list shows at most.
pub const LIST_LIMIT: i64 = 500;

/// Records `action` on `target` (in region `region_code`) by `actor`.
pub fn record(
    conn: &mut DbConn,
    actor: &Actor,
    region_code: &str,
    action: &str,
    target: &str,
    detail: Value,
) -> AppResult<()> {
    let (actor_id, actor_kind) = match actor {
        Actor::Admin => (None, "admin".to_string()),
        Actor::Org(org) => (Some(org.id.clone()), org.kind.clone()),
    };
    // Microseconds (the finest both backends keep), so entries of one second keep their order.
    let at = chrono::Utc::now().naive_utc();
    let at = at - chrono::Duration::nanoseconds(i64::from(at.nanosecond() % 1000));
    AuditEntry {
        id: new_id(),
        at,
        actor_id,
        actor_kind,
        region_code: region_code.to_string(),
        action: action.to_string(),
        target: target.to_string(),
        detail: detail.to_string(),
    }
    .insert(conn)?;
    Ok(())
}

/// One entry as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditView {
    /// RFC 3339 UTC.
    pub at: String,
    /// The acting organization (absent for the platform admin).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<String>,
    pub actor_kind: String,
    pub region_code: String,
    pub action: String,
    pub target: String,
    #[schema(value_type = Object)]
    pub detail: Value,
}

/// The admin: every entry; a regulator: its region's. Newest first.
pub fn list(state: &AppState, actor: &Actor) -> AppResult<Vec<AuditView>> {
    let scope = match actor {
        Actor::Admin => String::new(),
        Actor::Org(_) => {
            let org = actor.require_kind(&[OrgKind::Regulator])?;
            prefix(&org.region_code).to_string()
        }
    };
    let rows = AuditEntry::list(&mut *state.db.reader()?, &scope, LIST_LIMIT)?;
    Ok(rows
        .into_iter()
        .map(|e| AuditView {
            at: rfc3339_seconds(e.at.and_utc()),
            actor_id: e.actor_id,
            actor_kind: e.actor_kind,
            region_code: e.region_code,
            action: e.action,
            target: e.target,
            detail: serde_json::from_str(&e.detail).unwrap_or(Value::Null),
        })
        .collect())
}

//! `audit_log`: every admin and regulator action, who, what and when.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::audit_log;
use crate::db::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_log)]
pub struct AuditEntry {
    pub id: String,
    pub at: NaiveDateTime,
    /// The acting organization; `None` for the platform admin.
    pub actor_id: Option<String>,
    /// `admin` or the organization's kind.
    pub actor_kind: String,
    /// The region the action concerns (the target's), so regulators read their region's.
    pub region_code: String,
    pub action: String,
    /// What was acted on, e.g. `certificate:<id>`, `organization:<id>`.
    pub target: String,
    /// A short JSON object with the action's facts.
    pub detail: String,
}

impl AuditEntry {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(audit_log::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }

    /// Entries whose region starts with `prefix` (all for ""), newest first.
    pub fn list(conn: &mut DbConn, prefix: &str, limit: i64) -> QueryResult<Vec<Self>> {
        audit_log::table
            .filter(audit_log::region_code.like(format!("{prefix}%")))
            .order((audit_log::at.desc(), audit_log::id.desc()))
            .limit(limit)
            .select(Self::as_select())
            .load(conn)
    }
}

//! `complaints`: problems consumers report from a label's page, seen by the producer and the
//! regulators of its region.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{certificates, complaints, organizations};
use crate::db::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = complaints)]
pub struct Complaint {
    pub certificate_id: String,
    pub id: String,
    /// The unit label scanned, if it was one.
    pub serial: Option<i64>,
    /// `suspected_fake`, `quality`, `label_damaged` or `other`.
    pub category: String,
    pub message: String,
    /// How to reach the reporter, if they chose to say.
    pub contact: Option<String>,
    pub created_at: NaiveDateTime,
}

impl Complaint {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(complaints::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }

    pub fn find(conn: &mut DbConn, certificate_id: &str, id: &str) -> QueryResult<Option<Self>> {
        complaints::table
            .find((certificate_id, id))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Reports about certificates issued by `organization_id`, newest first.
    pub fn for_producer(
        conn: &mut DbConn,
        organization_id: &str,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        complaints::table
            .inner_join(certificates::table)
            .filter(certificates::organization_id.eq(organization_id))
            .order(complaints::created_at.desc())
            .limit(limit)
            .select(Self::as_select())
            .load(conn)
    }

    /// Reports about certificates of producers whose region code starts with `prefix`.
    pub fn for_region(conn: &mut DbConn, prefix: &str, limit: i64) -> QueryResult<Vec<Self>> {
        complaints::table
            .inner_join(certificates::table.inner_join(organizations::table))
            .filter(organizations::region_code.like(format!("{prefix}%")))
            .order(complaints::created_at.desc())
            .limit(limit)
            .select(Self::as_select())
            .load(conn)
    }

    /// Reports made about one certificate since `from` (for rate limiting).
    pub fn count_since(
        conn: &mut DbConn,
        certificate_id: &str,
        from: NaiveDateTime,
    ) -> QueryResult<i64> {
        complaints::table
            .filter(complaints::certificate_id.eq(certificate_id))
            .filter(complaints::created_at.ge(from))
            .count()
            .get_result(conn)
    }
}

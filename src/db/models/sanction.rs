//! `sanctions` and `reinstatement_requests`: regulators' measures against a certificate or a
//! producer's right to issue, and producers' requests to lift them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{organizations, reinstatement_requests, sanctions};
use crate::db::DbConn;

/// One certificate suspended by a regulator.
pub const CERTIFICATE_SUSPENDED: &str = "certificate_suspended";
/// A producer may not issue new certificates.
pub const ISSUANCE_SUSPENDED: &str = "issuance_suspended";

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sanctions)]
pub struct Sanction {
    pub id: String,
    /// [`CERTIFICATE_SUSPENDED`] or [`ISSUANCE_SUSPENDED`].
    pub kind: String,
    /// The producer concerned.
    pub organization_id: String,
    pub certificate_id: Option<String>,
    pub regulator_id: String,
    pub reason: String,
    pub legal_basis: String,
    pub starts_at: NaiveDateTime,
    pub lifted_at: Option<NaiveDateTime>,
    pub lifted_by: Option<String>,
    pub lift_reason: Option<String>,
}

impl Sanction {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(sanctions::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }

    pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Self>> {
        sanctions::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// The open suspension of certificate `id` by a regulator, if any.
    pub fn open_on_certificate(conn: &mut DbConn, id: &str) -> QueryResult<Option<Self>> {
        sanctions::table
            .filter(sanctions::certificate_id.eq(id))
            .filter(sanctions::kind.eq(CERTIFICATE_SUSPENDED))
            .filter(sanctions::lifted_at.is_null())
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// The open suspension of `organization_id`'s right to issue, if any.
    pub fn issuance_suspended(
        conn: &mut DbConn,
        organization_id: &str,
    ) -> QueryResult<Option<Self>> {
        sanctions::table
            .filter(sanctions::organization_id.eq(organization_id))
            .filter(sanctions::kind.eq(ISSUANCE_SUSPENDED))
            .filter(sanctions::lifted_at.is_null())
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Open suspensions of `organization_id`'s certificates.
    pub fn open_certificate_holds(
        conn: &mut DbConn,
        organization_id: &str,
    ) -> QueryResult<Vec<Self>> {
        sanctions::table
            .filter(sanctions::organization_id.eq(organization_id))
            .filter(sanctions::kind.eq(CERTIFICATE_SUSPENDED))
            .filter(sanctions::lifted_at.is_null())
            .select(Self::as_select())
            .load(conn)
    }

    /// Marks the sanction lifted; `false` if it was already.
    pub fn lift(
        conn: &mut DbConn,
        id: &str,
        by: &str,
        reason: &str,
        at: NaiveDateTime,
    ) -> QueryResult<bool> {
        diesel::update(
            sanctions::table
                .find(id)
                .filter(sanctions::lifted_at.is_null()),
        )
        .set((
            sanctions::lifted_at.eq(at),
            sanctions::lifted_by.eq(by),
            sanctions::lift_reason.eq(reason),
        ))
        .execute(conn)
        .map(|n| n == 1)
    }

    /// Sanctions on producers whose region code starts with `prefix` (all for ""), or on one
    /// producer; newest first.
    pub fn list(
        conn: &mut DbConn,
        prefix: &str,
        organization_id: Option<&str>,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        let mut query = sanctions::table
            .inner_join(organizations::table.on(organizations::id.eq(sanctions::organization_id)))
            .filter(organizations::region_code.like(format!("{prefix}%")))
            .into_boxed();
        if let Some(org) = organization_id {
            query = query.filter(sanctions::organization_id.eq(org.to_string()));
        }
        query
            .order((sanctions::starts_at.desc(), sanctions::id.asc()))
            .limit(limit)
            .select(Self::as_select())
            .load(conn)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = reinstatement_requests)]
pub struct ReinstatementRequest {
    pub id: String,
    pub certificate_id: String,
    pub sanction_id: String,
    pub organization_id: String,
    pub evidence: String,
    pub lab_report_no: Option<String>,
    /// `pending`, `approved`, `refused` or `closed` (its suspension ended another way).
    pub state: String,
    pub created_at: NaiveDateTime,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub decision_note: Option<String>,
}

impl ReinstatementRequest {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(reinstatement_requests::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }

    pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Self>> {
        reinstatement_requests::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Records the decision of a pending request; `false` if it was no longer pending.
    pub fn decide(
        conn: &mut DbConn,
        id: &str,
        state: &str,
        by: &str,
        note: &str,
        at: NaiveDateTime,
    ) -> QueryResult<bool> {
        diesel::update(
            reinstatement_requests::table
                .find(id)
                .filter(reinstatement_requests::state.eq("pending")),
        )
        .set((
            reinstatement_requests::state.eq(state),
            reinstatement_requests::decided_by.eq(by),
            reinstatement_requests::decided_at.eq(at),
            reinstatement_requests::decision_note.eq(note),
        ))
        .execute(conn)
        .map(|n| n == 1)
    }

    /// Ends the pending request of a certificate (its suspension was lifted another way, or the
    /// certificate was revoked or recalled), recording why.
    pub fn close_pending(
        conn: &mut DbConn,
        certificate_id: &str,
        by: &str,
        note: &str,
        at: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(
            reinstatement_requests::table
                .filter(reinstatement_requests::certificate_id.eq(certificate_id))
                .filter(reinstatement_requests::state.eq("pending")),
        )
        .set((
            reinstatement_requests::state.eq("closed"),
            reinstatement_requests::decided_by.eq(by),
            reinstatement_requests::decided_at.eq(at),
            reinstatement_requests::decision_note.eq(note),
        ))
        .execute(conn)
    }

    /// Requests about certificates of producers whose region starts with `prefix`, or of one
    /// producer; pending first, then newest.
    pub fn list(
        conn: &mut DbConn,
        prefix: &str,
        organization_id: Option<&str>,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        let mut query = reinstatement_requests::table
            .inner_join(
                organizations::table
                    .on(organizations::id.eq(reinstatement_requests::organization_id)),
            )
            .filter(organizations::region_code.like(format!("{prefix}%")))
            .into_boxed();
        if let Some(org) = organization_id {
            query = query.filter(reinstatement_requests::organization_id.eq(org.to_string()));
        }
        query
            .order((
                reinstatement_requests::decided_at.is_not_null(),
                reinstatement_requests::created_at.desc(),
            ))
            .limit(limit)
            .select(Self::as_select())
            .load(conn)
    }
}

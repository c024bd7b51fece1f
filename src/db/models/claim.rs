//! `custody_claims`: intakes no shipment led to, kept off the public trail until the party
//! named as the previous holder (or a regulator) confirms them, or disputed.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{certificates, custody_claims, organizations};
use crate::db::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = custody_claims)]
pub struct ClaimRow {
    pub id: String,
    pub certificate_id: String,
    /// The unit claimed, for a unit label.
    pub serial: Option<i64>,
    /// Who says it took the goods in.
    pub claimant_id: String,
    /// Who it says handed them over (the issuer unless it named another holder).
    pub source_id: String,
    pub quantity: Option<i64>,
    /// The verdict of the label it scanned at intake.
    pub label_verdict: String,
    /// Its note: seen by the parties and regulators, never by consumers.
    pub note: Option<String>,
    /// `pending`, `confirmed` or `disputed`.
    pub status: String,
    pub created_at: NaiveDateTime,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    /// Why it was disputed.
    pub reason: Option<String>,
    /// The `received` event a confirmation wrote.
    pub received_seq: Option<i64>,
}

/// A claim as lists show it: the claim and its certificate's batch.
#[derive(Debug, Clone, Queryable)]
pub struct ClaimListRow {
    pub claim: ClaimRow,
    pub batch_no: String,
}

/// Whose claims a list holds.
#[derive(Debug, Clone)]
pub enum ClaimScope<'a> {
    /// Claims an organization made, and those whose label verified that name it as source or
    /// are about goods it issued.
    Party(&'a str),
    /// Claims about goods issued by producers of a region (code prefix).
    Region(&'a str),
}

impl ClaimRow {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(custody_claims::table)
            .values(self)
            .execute(conn)
            .map(drop)
    }

    pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Self>> {
        custody_claims::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// The pending claim `claimant` made on this certificate (and unit).
    pub fn pending_of(
        conn: &mut DbConn,
        certificate_id: &str,
        claimant: &str,
        serial: Option<i64>,
    ) -> QueryResult<Option<Self>> {
        let q = custody_claims::table
            .filter(custody_claims::certificate_id.eq(certificate_id))
            .filter(custody_claims::claimant_id.eq(claimant))
            .filter(custody_claims::status.eq("pending"))
            .select(Self::as_select())
            .into_boxed();
        match serial {
            Some(s) => q.filter(custody_claims::serial.eq(s)).first(conn),
            None => q.filter(custody_claims::serial.is_null()).first(conn),
        }
        .optional()
    }

    /// How many claims `claimant` has waiting.
    pub fn pending_count(conn: &mut DbConn, claimant: &str) -> QueryResult<i64> {
        custody_claims::table
            .filter(custody_claims::claimant_id.eq(claimant))
            .filter(custody_claims::status.eq("pending"))
            .count()
            .get_result(conn)
    }

    /// Records the decision on a pending claim; `false` when it was no longer pending.
    pub fn decide(
        conn: &mut DbConn,
        id: &str,
        status: &str,
        by: &str,
        at: NaiveDateTime,
        reason: Option<&str>,
        received_seq: Option<i64>,
    ) -> QueryResult<bool> {
        diesel::update(
            custody_claims::table
                .find(id)
                .filter(custody_claims::status.eq("pending")),
        )
        .set((
            custody_claims::status.eq(status),
            custody_claims::decided_by.eq(Some(by)),
            custody_claims::decided_at.eq(Some(at)),
            custody_claims::reason.eq(reason),
            custody_claims::received_seq.eq(received_seq),
        ))
        .execute(conn)
        .map(|n| n == 1)
    }

    /// Claims in `scope` with `status` (any when `None`), newest first.
    pub fn list(
        conn: &mut DbConn,
        scope: ClaimScope<'_>,
        status: Option<&str>,
        limit: i64,
    ) -> QueryResult<Vec<ClaimListRow>> {
        let mut q = custody_claims::table
            .inner_join(certificates::table.on(certificates::id.eq(custody_claims::certificate_id)))
            .inner_join(
                organizations::table.on(organizations::id.eq(certificates::organization_id)),
            )
            .select((Self::as_select(), certificates::batch_no))
            .order(custody_claims::created_at.desc())
            .limit(limit)
            .into_boxed();
        if let Some(status) = status {
            q = q.filter(custody_claims::status.eq(status));
        }
        match scope {
            // A claim whose label did not verify is a matter for the regulator: it never fills
            // the issuer's or the source's list.
            ClaimScope::Party(org) => q
                .filter(
                    custody_claims::claimant_id
                        .eq(org)
                        .or(custody_claims::label_verdict.eq("genuine").and(
                            custody_claims::source_id
                                .eq(org)
                                .or(certificates::organization_id.eq(org)),
                        )),
                )
                .load(conn),
            ClaimScope::Region(prefix) => q
                .filter(organizations::region_code.like(format!("{prefix}%")))
                .load(conn),
        }
    }
}

//! The aggregate queries behind regulators' reports: each counts one figure per producer (or
//! per retailer) of a region over a date range, in the database, so a report over millions of
//! certificates moves only one row per organization.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::dsl::{count, count_star, exists};
use diesel::prelude::*;

use crate::db::schema::{certificates, complaints, events, organizations, shipments, warnings};
use crate::db::DbConn;
use crate::domain::status::CertStatus;

diesel::alias!(events as other_events: OtherEvents);

/// A half-open time range `[from, to)` and a region-code prefix.
#[derive(Debug, Clone)]
pub struct Scope {
    pub like: String,
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
}

impl Scope {
    pub fn new(prefix: &str, from: NaiveDateTime, to: NaiveDateTime) -> Self {
        Scope {
            like: format!("{prefix}%"),
            from,
            to,
        }
    }
}

/// Certificates issued per producer.
pub fn issued(conn: &mut DbConn, s: &Scope) -> QueryResult<Vec<(String, i64)>> {
    certificates::table
        .inner_join(organizations::table)
        .filter(organizations::region_code.like(&s.like))
        .filter(certificates::issued_at.ge(s.from))
        .filter(certificates::issued_at.lt(s.to))
        .group_by(certificates::organization_id)
        .select((certificates::organization_id, count_star()))
        .load(conn)
}

/// Trail events other than issuance, per producer and type: (producer, type, events,
/// distinct certificates).
pub fn events_by_type(
    conn: &mut DbConn,
    s: &Scope,
) -> QueryResult<Vec<(String, String, i64, i64)>> {
    events::table
        .inner_join(certificates::table.inner_join(organizations::table))
        .filter(organizations::region_code.like(&s.like))
        .filter(events::kind.ne("issued"))
        .filter(events::at.ge(s.from))
        .filter(events::at.lt(s.to))
        .group_by((certificates::organization_id, events::kind))
        .select((
            certificates::organization_id,
            events::kind,
            count_star(),
            count(events::certificate_id).aggregate_distinct(),
        ))
        .load(conn)
}

/// Conformant spot-checks per producer.
pub fn conformant_checks(conn: &mut DbConn, s: &Scope) -> QueryResult<Vec<(String, i64)>> {
    events::table
        .inner_join(certificates::table.inner_join(organizations::table))
        .filter(organizations::region_code.like(&s.like))
        .filter(events::kind.ne("issued"))
        .filter(events::kind.eq("inspected"))
        .filter(events::body.like("%\"result\":\"conformant\"%"))
        .filter(events::at.ge(s.from))
        .filter(events::at.lt(s.to))
        .group_by(certificates::organization_id)
        .select((certificates::organization_id, count_star()))
        .load(conn)
}

/// Certificates shipped in the range that some party took in (at any time), per producer.
pub fn shipped_and_received(conn: &mut DbConn, s: &Scope) -> QueryResult<Vec<(String, i64)>> {
    let received = other_events
        .filter(
            other_events
                .field(events::certificate_id)
                .eq(events::certificate_id),
        )
        .filter(other_events.field(events::kind).eq("received"));
    events::table
        .inner_join(certificates::table.inner_join(organizations::table))
        .filter(organizations::region_code.like(&s.like))
        .filter(events::kind.ne("issued"))
        .filter(events::kind.eq("shipped"))
        .filter(events::at.ge(s.from))
        .filter(events::at.lt(s.to))
        .filter(exists(received))
        .group_by(certificates::organization_id)
        .select((
            certificates::organization_id,
            count(events::certificate_id).aggregate_distinct(),
        ))
        .load(conn)
}

/// Legs of custody shipped in the range to consignees of the region, per consignee kind and
/// leg status (`open`, `received`, `rejected`).
pub fn legs_by_consignee_kind(
    conn: &mut DbConn,
    s: &Scope,
) -> QueryResult<Vec<(String, String, i64)>> {
    shipments::table
        .inner_join(organizations::table.on(organizations::id.eq(shipments::consignee_id)))
        .filter(organizations::region_code.like(&s.like))
        .filter(shipments::shipped_at.ge(s.from))
        .filter(shipments::shipped_at.lt(s.to))
        .group_by((organizations::kind, shipments::status))
        .select((organizations::kind, shipments::status, count_star()))
        .load(conn)
}

/// Intakes recorded per retailer of the region.
pub fn intakes(conn: &mut DbConn, s: &Scope) -> QueryResult<Vec<(String, i64)>> {
    events::table
        .inner_join(organizations::table)
        .filter(organizations::region_code.like(&s.like))
        .filter(events::kind.ne("issued"))
        .filter(events::kind.eq("received"))
        .filter(events::at.ge(s.from))
        .filter(events::at.lt(s.to))
        .group_by(events::actor_id)
        .select((events::actor_id, count_star()))
        .load(conn)
}

/// The producer and status of each of `ids` (looked up by primary key, in chunks).
pub fn owners(conn: &mut DbConn, ids: &[String]) -> QueryResult<HashMap<String, (String, String)>> {
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(super::INSERT_CHUNK) {
        let rows: Vec<(String, String, String)> = certificates::table
            .filter(certificates::id.eq_any(chunk))
            .select((
                certificates::id,
                certificates::organization_id,
                certificates::status,
            ))
            .load(conn)?;
        out.extend(
            rows.into_iter()
                .map(|(id, org, status)| (id, (org, status))),
        );
    }
    Ok(out)
}

/// Counts rows per producer, given each row's certificate; `keep` filters on the status.
fn per_producer(
    conn: &mut DbConn,
    certificate_ids: Vec<String>,
    keep: impl Fn(&str) -> bool,
) -> QueryResult<Vec<(String, i64)>> {
    let mut distinct = certificate_ids.clone();
    distinct.sort();
    distinct.dedup();
    let owners = owners(conn, &distinct)?;
    let mut counts: HashMap<String, i64> = HashMap::new();
    for id in &certificate_ids {
        if let Some((org, status)) = owners.get(id) {
            if keep(status) {
                *counts.entry(org.clone()).or_default() += 1;
            }
        }
    }
    Ok(counts.into_iter().collect())
}

/// Consumers' reports per producer. Reports are few next to certificates: they are read first
/// and their certificates looked up by key, so the count never walks the certificates.
pub fn complaints(conn: &mut DbConn, s: &Scope) -> QueryResult<Vec<(String, i64)>> {
    let ids: Vec<String> = complaints::table
        .filter(complaints::created_at.ge(s.from))
        .filter(complaints::created_at.lt(s.to))
        .select(complaints::certificate_id)
        .load(conn)?;
    per_producer(conn, ids, |_| true)
}

/// Copy warnings still open (their certificate active), per producer; read like
/// [`complaints`].
pub fn open_warnings(conn: &mut DbConn) -> QueryResult<Vec<(String, i64)>> {
    let ids: Vec<String> = warnings::table
        .select(warnings::certificate_id)
        .load(conn)?;
    per_producer(conn, ids, |status| {
        CertStatus::from_stored(status) == CertStatus::Active
    })
}

//! `webhooks` (an organization's endpoints) and `webhook_deliveries` (the outbox: one row per
//! message and endpoint, written in the transaction of the change it reports).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{webhook_deliveries, webhooks};
use crate::db::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhooks)]
pub struct Webhook {
    pub id: String,
    pub organization_id: String,
    pub url: String,
    /// Event types, comma-separated.
    pub events: String,
    /// The signing secret's bytes, sealed with the master key.
    pub secret: Vec<u8>,
    pub created_at: NaiveDateTime,
}

impl Webhook {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(webhooks::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }

    pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Self>> {
        webhooks::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    pub fn of(conn: &mut DbConn, organization_id: &str) -> QueryResult<Vec<Self>> {
        webhooks::table
            .filter(webhooks::organization_id.eq(organization_id))
            .order((webhooks::created_at.asc(), webhooks::id.asc()))
            .select(Self::as_select())
            .load(conn)
    }

    /// Endpoints of any of `organizations` that are not deactivated.
    pub fn of_any(conn: &mut DbConn, organizations: &[String]) -> QueryResult<Vec<Self>> {
        use crate::db::schema::organizations as orgs;
        webhooks::table
            .inner_join(orgs::table.on(orgs::id.eq(webhooks::organization_id)))
            .filter(orgs::deactivated_at.is_null())
            .filter(webhooks::organization_id.eq_any(organizations))
            .order(webhooks::id.asc())
            .select(Self::as_select())
            .load(conn)
    }

    /// Deletes the endpoint and its deliveries; `false` if it did not exist.
    pub fn delete(conn: &mut DbConn, id: &str) -> QueryResult<bool> {
        diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::webhook_id.eq(id)))
            .execute(conn)?;
        diesel::delete(webhooks::table.find(id))
            .execute(conn)
            .map(|n| n == 1)
    }

    pub fn subscribes(&self, event_type: &str) -> bool {
        self.events.split(',').any(|e| e == event_type)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_deliveries)]
pub struct Delivery {
    /// The `webhook-id` header: the same on every attempt.
    pub id: String,
    pub webhook_id: String,
    pub organization_id: String,
    pub event_type: String,
    /// What the message is about (a recall, certificate or case id).
    pub subject_id: String,
    /// The exact body sent on every attempt.
    pub body: String,
    pub created_at: NaiveDateTime,
    pub attempts: i32,
    /// `None` once delivered or given up.
    pub next_attempt_at: Option<NaiveDateTime>,
    pub delivered_at: Option<NaiveDateTime>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
}

impl Delivery {
    pub fn insert_all(conn: &mut DbConn, rows: &[Self]) -> QueryResult<()> {
        for chunk in rows.chunks(super::INSERT_CHUNK) {
            crate::db::insert_rows!(conn, webhook_deliveries::table, chunk);
        }
        Ok(())
    }

    /// Endpoints with deliveries due at `at`, the one whose oldest due delivery has waited
    /// longest first: the sender gives each its own lane in this order.
    pub fn due_endpoints(
        conn: &mut DbConn,
        at: NaiveDateTime,
        limit: i64,
    ) -> QueryResult<Vec<String>> {
        use diesel::dsl::min;
        webhook_deliveries::table
            .filter(webhook_deliveries::next_attempt_at.le(at))
            .group_by(webhook_deliveries::webhook_id)
            .select((
                webhook_deliveries::webhook_id,
                min(webhook_deliveries::next_attempt_at),
            ))
            .order_by(min(webhook_deliveries::next_attempt_at).asc())
            .limit(limit)
            .load::<(String, Option<NaiveDateTime>)>(conn)
            .map(|rows| rows.into_iter().map(|(id, _)| id).collect())
    }

    /// The delivery of endpoint `webhook_id` due longest at `at` (then the oldest message).
    pub fn next_due(
        conn: &mut DbConn,
        webhook_id: &str,
        at: NaiveDateTime,
    ) -> QueryResult<Option<Self>> {
        webhook_deliveries::table
            .filter(webhook_deliveries::webhook_id.eq(webhook_id))
            .filter(webhook_deliveries::next_attempt_at.le(at))
            .order((
                webhook_deliveries::next_attempt_at.asc(),
                webhook_deliveries::created_at.asc(),
                webhook_deliveries::id.asc(),
            ))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Takes a due delivery for one attempt by moving its next attempt to `lease_until`;
    /// `false` if another instance took it first.
    pub fn claim(
        conn: &mut DbConn,
        id: &str,
        due: NaiveDateTime,
        lease_until: NaiveDateTime,
    ) -> QueryResult<bool> {
        diesel::update(
            webhook_deliveries::table
                .find(id)
                .filter(webhook_deliveries::next_attempt_at.eq(due)),
        )
        .set(webhook_deliveries::next_attempt_at.eq(lease_until))
        .execute(conn)
        .map(|n| n == 1)
    }

    /// Records an attempt's outcome, if this sender still holds the claim (`claimed_until`).
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        conn: &mut DbConn,
        id: &str,
        claimed_until: NaiveDateTime,
        attempts: i32,
        status: Option<i32>,
        error: Option<&str>,
        delivered_at: Option<NaiveDateTime>,
        next_attempt_at: Option<NaiveDateTime>,
    ) -> QueryResult<()> {
        diesel::update(
            webhook_deliveries::table
                .find(id)
                .filter(webhook_deliveries::next_attempt_at.eq(claimed_until)),
        )
        .set((
            webhook_deliveries::attempts.eq(attempts),
            webhook_deliveries::last_status.eq(status),
            webhook_deliveries::last_error.eq(error),
            webhook_deliveries::delivered_at.eq(delivered_at),
            webhook_deliveries::next_attempt_at.eq(next_attempt_at),
        ))
        .execute(conn)
        .map(|_| ())
    }

    /// An organization's deliveries, newest first.
    pub fn of(conn: &mut DbConn, organization_id: &str, limit: i64) -> QueryResult<Vec<Self>> {
        webhook_deliveries::table
            .filter(webhook_deliveries::organization_id.eq(organization_id))
            .order((
                webhook_deliveries::created_at.desc(),
                webhook_deliveries::id.asc(),
            ))
            .limit(limit)
            .select(Self::as_select())
            .load(conn)
    }

    /// Organizations a message about `subject_id` was delivered to, with when.
    pub fn delivered_about(
        conn: &mut DbConn,
        subject_id: &str,
    ) -> QueryResult<Vec<(String, NaiveDateTime)>> {
        webhook_deliveries::table
            .filter(webhook_deliveries::subject_id.eq(subject_id))
            .filter(webhook_deliveries::delivered_at.is_not_null())
            .select((
                webhook_deliveries::organization_id,
                webhook_deliveries::delivered_at.assume_not_null(),
            ))
            .load(conn)
    }
}

//! `events`: each certificate's trail, append-only and hash-chained.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{certificates, events, organizations};
use crate::db::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = events)]
pub struct EventRow {
    pub certificate_id: String,
    /// 1-based position in the certificate's trail.
    pub seq: i64,
    /// The event type (`issued`, `shipped`, …).
    pub kind: String,
    pub actor_id: String,
    pub serial: Option<i64>,
    pub at: NaiveDateTime,
    /// Canonical JSON of the hashed event body.
    pub body: String,
    /// Lower-case hex SHA-256 of `body`.
    pub hash: String,
    pub kid: String,
    /// Raw 64-byte Ed25519 signature over the event message.
    pub signature: Vec<u8>,
}

/// The head of a certificate's chain, claimed for one append.
pub struct ClaimedHead {
    pub seq: i64,
    pub prev_hash: String,
}

/// What an event's log entry is made of: certificate id, seq, hash, kid, signature.
pub type EventEntryParts = (String, i64, String, String, Vec<u8>);

impl EventRow {
    /// Reserves the next sequence number of `certificate_id`'s trail. The UPDATE takes the row
    /// lock first, so concurrent appenders on PostgreSQL queue here instead of racing for the
    /// same `seq`; SQLite has a single writer anyway.
    pub fn claim_next(conn: &mut DbConn, certificate_id: &str) -> QueryResult<ClaimedHead> {
        diesel::update(certificates::table.find(certificate_id))
            .set(certificates::trail_seq.eq(certificates::trail_seq + 1))
            .execute(conn)?;
        let (seq, prev_hash) = certificates::table
            .find(certificate_id)
            .select((certificates::trail_seq, certificates::trail_hash))
            .first::<(i64, String)>(conn)?;
        Ok(ClaimedHead { seq, prev_hash })
    }

    /// Stores the event and moves the certificate's head hash to it.
    pub fn append(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(events::table)
            .values(self)
            .execute(conn)?;
        diesel::update(certificates::table.find(&self.certificate_id))
            .set(certificates::trail_hash.eq(&self.hash))
            .execute(conn)?;
        Ok(())
    }

    /// Stores the first events of many new certificates (see [`Certificate::insert_all`]).
    ///
    /// [`Certificate::insert_all`]: super::Certificate::insert_all
    pub fn insert_all_first(conn: &mut DbConn, rows: &[Self]) -> QueryResult<()> {
        for chunk in rows.chunks(super::INSERT_CHUNK) {
            crate::db::insert_rows!(conn, events::table, chunk);
        }
        Ok(())
    }

    /// Events of `kind` on certificates of producers in the region `prefix`, optionally only
    /// those whose canonical body contains `fragment` (e.g. `"result":"conformant"`).
    pub fn count_in_region(
        conn: &mut DbConn,
        prefix: &str,
        kind: &str,
        fragment: Option<&str>,
    ) -> QueryResult<i64> {
        let mut query = events::table
            .inner_join(certificates::table.inner_join(
                organizations::table.on(organizations::id.eq(certificates::organization_id)),
            ))
            .filter(organizations::region_code.like(format!("{prefix}%")))
            .filter(events::kind.eq(kind))
            .into_boxed();
        if let Some(fragment) = fragment {
            query = query.filter(events::body.like(format!("%{fragment}%")));
        }
        query.count().get_result(conn)
    }

    /// The whole trail, in order.
    pub fn trail(conn: &mut DbConn, certificate_id: &str) -> QueryResult<Vec<Self>> {
        events::table
            .filter(events::certificate_id.eq(certificate_id))
            .order(events::seq.asc())
            .select(Self::as_select())
            .load(conn)
    }

    /// At most `limit` events of a trail after position `after`, in order.
    pub fn trail_page(
        conn: &mut DbConn,
        certificate_id: &str,
        after: i64,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        events::table
            .filter(events::certificate_id.eq(certificate_id))
            .filter(events::seq.gt(after))
            .order(events::seq.asc())
            .limit(limit)
            .select(Self::as_select())
            .load(conn)
    }

    /// What the log entries of the events of `certificate_ids` whose seq is among `seqs` are
    /// made of: certificate id, seq, hash, kid, signature (a superset of the pairs wanted
    /// when several certificates are asked at once).
    pub fn entry_parts(
        conn: &mut DbConn,
        certificate_ids: &[&str],
        seqs: &[i64],
    ) -> QueryResult<Vec<EventEntryParts>> {
        let mut out = Vec::with_capacity(certificate_ids.len());
        for chunk in certificate_ids.chunks(super::INSERT_CHUNK * 10) {
            out.extend(
                events::table
                    .filter(events::certificate_id.eq_any(chunk))
                    .filter(events::seq.eq_any(seqs))
                    .select((
                        events::certificate_id,
                        events::seq,
                        events::hash,
                        events::kid,
                        events::signature,
                    ))
                    .load::<EventEntryParts>(conn)?,
            );
        }
        Ok(out)
    }

    /// The whole trails of `certificate_ids`, by certificate and position.
    pub fn trails(conn: &mut DbConn, certificate_ids: &[String]) -> QueryResult<Vec<Self>> {
        events::table
            .filter(events::certificate_id.eq_any(certificate_ids))
            .order((events::certificate_id.asc(), events::seq.asc()))
            .select(Self::as_select())
            .load(conn)
    }

    /// The events `actor_id` recorded on one certificate, in order.
    pub fn by_actor(
        conn: &mut DbConn,
        certificate_id: &str,
        actor_id: &str,
    ) -> QueryResult<Vec<Self>> {
        events::table
            .filter(events::certificate_id.eq(certificate_id))
            .filter(events::actor_id.eq(actor_id))
            .order(events::seq.asc())
            .select(Self::as_select())
            .load(conn)
    }

    /// Certificate ids that `actor_id` recorded an event of `kind` for.
    pub fn certificates_with(
        conn: &mut DbConn,
        actor_id: &str,
        kind: &str,
    ) -> QueryResult<Vec<String>> {
        events::table
            .filter(events::actor_id.eq(actor_id))
            .filter(events::kind.eq(kind))
            .select(events::certificate_id)
            .distinct()
            .load(conn)
    }

    /// Organizations that recorded intake (`received`) of any of `certificate_ids`.
    pub fn receivers(conn: &mut DbConn, certificate_ids: &[String]) -> QueryResult<Vec<String>> {
        let mut out = Vec::new();
        for chunk in certificate_ids.chunks(super::INSERT_CHUNK) {
            let ids: Vec<String> = events::table
                .filter(events::certificate_id.eq_any(chunk))
                .filter(events::kind.eq("received"))
                .select(events::actor_id)
                .distinct()
                .load(conn)?;
            out.extend(ids);
        }
        out.sort();
        out.dedup();
        Ok(out)
    }
}

//! `certificates`: the signed payload exactly as issued, its signature and current status.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{certificates, organizations, products};
use crate::db::DbConn;
use crate::domain::status::CertStatus;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = certificates)]
pub struct Certificate {
    pub id: String,
    /// The issuing producer.
    pub organization_id: String,
    pub product_id: String,
    pub batch_no: String,
    pub kid: String,
    /// Canonical (RFC 8785) JSON of the signed payload.
    pub payload: String,
    /// Raw 64-byte Ed25519 signature.
    pub signature: Vec<u8>,
    /// `active`, `suspended`, `revoked` or `recalled`: read it through [`Self::current_status`].
    pub status: String,
    pub status_reason: Option<String>,
    pub units: Option<i64>,
    pub issued_at: NaiveDateTime,
    /// Sequence number of the last trail event (0 before the first).
    pub trail_seq: i64,
    /// Hash of the last trail event.
    pub trail_hash: String,
    /// The testing lab the certificate cites, if any (not part of the signed payload).
    pub lab_id: Option<String>,
    /// `conformity` (产品合格证) or `promise` (承诺达标合格证): which payload type it signs.
    pub kind: String,
}

/// What a certificate's log entry is made of: id, kid, canonical payload, signature.
pub type CertificateEntryParts = (String, String, String, Vec<u8>);

impl Certificate {
    /// The stored status as the domain type (a damaged value reads as suspended).
    pub fn current_status(&self) -> CertStatus {
        CertStatus::from_stored(&self.status)
    }

    /// Locks the certificate's row until the transaction ends (PostgreSQL; SQLite has one
    /// writer at a time already), so checks made before an append see every earlier append.
    pub fn lock(conn: &mut DbConn, id: &str) -> QueryResult<()> {
        match conn {
            DbConn::Sqlite(_) => Ok(()),
            DbConn::Pg(c) => certificates::table
                .find(id)
                .select(certificates::id)
                // Not FOR UPDATE: the scan writer's inserts only need the key to stay.
                .for_no_key_update()
                .first::<String>(c)
                .map(drop),
        }
    }

    /// Stores many rows with multi-row INSERTs, in chunks under SQLite's bound-parameter limit.
    pub fn insert_all(conn: &mut DbConn, rows: &[Self]) -> QueryResult<()> {
        for chunk in rows.chunks(super::INSERT_CHUNK) {
            crate::db::insert_rows!(conn, certificates::table, chunk);
        }
        Ok(())
    }

    /// A producer's certificates, newest first; `search` matches the batch number's start.
    pub fn list_for_producer(
        conn: &mut DbConn,
        organization_id: &str,
        search: Option<&str>,
        offset: i64,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        let mut query = certificates::table
            .filter(certificates::organization_id.eq(organization_id))
            .into_boxed();
        if let Some(search) = search {
            let escaped = search
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            query = query.filter(
                certificates::batch_no
                    .like(format!("{escaped}%"))
                    .escape('\\'),
            );
        }
        query
            .order((certificates::issued_at.desc(), certificates::id.desc()))
            .offset(offset)
            .limit(limit)
            .select(Self::as_select())
            .load(conn)
    }

    /// Certificates issued in `[from, to)` by producers whose region starts with `prefix`.
    pub fn count_in_region(
        conn: &mut DbConn,
        prefix: &str,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> QueryResult<i64> {
        certificates::table
            .inner_join(
                organizations::table.on(organizations::id.eq(certificates::organization_id)),
            )
            .filter(organizations::region_code.like(format!("{prefix}%")))
            .filter(certificates::issued_at.ge(from))
            .filter(certificates::issued_at.lt(to))
            .count()
            .get_result(conn)
    }

    /// Certificates of producers in the region `prefix` whose batch number, product name,
    /// producer name or credit code matches `text`; newest first.
    pub fn search_in_region(
        conn: &mut DbConn,
        prefix: &str,
        text: &str,
        limit: i64,
        offset: i64,
    ) -> QueryResult<Vec<Self>> {
        let escaped = text
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let anywhere = format!("%{escaped}%");
        certificates::table
            .inner_join(
                organizations::table.on(organizations::id.eq(certificates::organization_id)),
            )
            .inner_join(products::table.on(products::id.eq(certificates::product_id)))
            .filter(organizations::region_code.like(format!("{prefix}%")))
            .filter(
                certificates::batch_no
                    .like(anywhere.clone())
                    .escape('\\')
                    .or(products::name.like(anywhere.clone()).escape('\\'))
                    .or(organizations::name.like(anywhere).escape('\\'))
                    .or(organizations::credit_code.eq(text.to_uppercase())),
            )
            .order((certificates::issued_at.desc(), certificates::id.desc()))
            .limit(limit)
            .offset(offset)
            .select(Self::as_select())
            .load(conn)
    }

    /// The rows among `ids` that exist, in no particular order.
    /// Up to `limit` certificates with ids after `after`, by id (to walk the whole table).
    pub fn page_after(conn: &mut DbConn, after: &str, limit: i64) -> QueryResult<Vec<Self>> {
        certificates::table
            .filter(certificates::id.gt(after))
            .order(certificates::id.asc())
            .limit(limit)
            .select(Self::as_select())
            .load(conn)
    }

    pub fn find_many(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<Self>> {
        let mut rows = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(super::INSERT_CHUNK * 10) {
            rows.extend(
                certificates::table
                    .filter(certificates::id.eq_any(chunk))
                    .select(Self::as_select())
                    .load(conn)?,
            );
        }
        Ok(rows)
    }

    /// What the log entries of the certificates among `ids` are made of: id, kid, canonical
    /// payload, signature (of those that exist).
    pub fn entry_parts(conn: &mut DbConn, ids: &[&str]) -> QueryResult<Vec<CertificateEntryParts>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(super::INSERT_CHUNK * 10) {
            out.extend(
                certificates::table
                    .filter(certificates::id.eq_any(chunk))
                    .select((
                        certificates::id,
                        certificates::kid,
                        certificates::payload,
                        certificates::signature,
                    ))
                    .load::<CertificateEntryParts>(conn)?,
            );
        }
        Ok(out)
    }

    pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Self>> {
        certificates::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Sets the status and its reason.
    pub fn set_status(
        conn: &mut DbConn,
        id: &str,
        status: CertStatus,
        reason: &str,
    ) -> QueryResult<usize> {
        diesel::update(certificates::table.find(id))
            .set((
                certificates::status.eq(status.as_str()),
                certificates::status_reason.eq(reason),
            ))
            .execute(conn)
    }

    /// (id, status, reason) of every certificate that is not `active`: the status list.
    pub fn not_active(conn: &mut DbConn) -> QueryResult<Vec<(String, String, Option<String>)>> {
        certificates::table
            .filter(certificates::status.ne(CertStatus::Active.as_str()))
            .order(certificates::id.asc())
            .select((
                certificates::id,
                certificates::status,
                certificates::status_reason,
            ))
            .load(conn)
    }

    pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
        certificates::table.count().get_result(conn)
    }

    /// 承诺达标合格证 lots `org` took in since `since`, newest first, with the intake time and
    /// the issuer's name (the buyer's keeping list).
    pub fn promises_received(
        conn: &mut DbConn,
        org: &str,
        since: NaiveDateTime,
        limit: i64,
    ) -> QueryResult<Vec<(String, String, NaiveDateTime, String)>> {
        use crate::db::schema::events;
        events::table
            .inner_join(certificates::table.on(certificates::id.eq(events::certificate_id)))
            .inner_join(
                organizations::table.on(organizations::id.eq(certificates::organization_id)),
            )
            .filter(events::actor_id.eq(org))
            .filter(events::kind.eq("received"))
            .filter(events::at.ge(since))
            .filter(certificates::kind.eq("promise"))
            .order(events::at.desc())
            .limit(limit)
            .select((
                certificates::id,
                certificates::batch_no,
                events::at,
                organizations::name,
            ))
            .load(conn)
    }

    /// Certificates of a product registered under any of `gtins` with batch `batch_no`,
    /// newest first (a GS1 Digital Link's resolution).
    pub fn by_gtin_and_batch(
        conn: &mut DbConn,
        gtins: &[String],
        batch_no: &str,
        limit: i64,
    ) -> QueryResult<Vec<String>> {
        certificates::table
            .inner_join(products::table)
            .filter(products::gtin.eq_any(gtins))
            .filter(certificates::batch_no.eq(batch_no))
            .order(certificates::issued_at.desc())
            .limit(limit)
            .select(certificates::id)
            .load(conn)
    }
}

//! `credential_status`: each certificate's index in the Bitstring Status Lists.

use diesel::dsl::max;
use diesel::prelude::*;

use crate::db::schema::{certificates, credential_status};
use crate::db::DbConn;

/// The index of `certificate_id`, if it has one.
pub fn index_of(conn: &mut DbConn, certificate_id: &str) -> QueryResult<Option<i64>> {
    credential_status::table
        .find(certificate_id)
        .select(credential_status::list_index)
        .first(conn)
        .optional()
}

/// Gives `certificate_id` the next free index (call inside a write transaction).
pub fn assign(conn: &mut DbConn, certificate_id: &str) -> QueryResult<i64> {
    let next = credential_status::table
        .select(max(credential_status::list_index))
        .first::<Option<i64>>(conn)?
        .map_or(0, |m| m + 1);
    diesel::insert_into(credential_status::table)
        .values((
            credential_status::certificate_id.eq(certificate_id),
            credential_status::list_index.eq(next),
        ))
        .execute(conn)?;
    Ok(next)
}

/// Indexes in `[from, to)` whose certificate has one of `statuses`.
pub fn flagged(conn: &mut DbConn, from: i64, to: i64, statuses: &[&str]) -> QueryResult<Vec<i64>> {
    credential_status::table
        .inner_join(certificates::table.on(certificates::id.eq(credential_status::certificate_id)))
        .filter(credential_status::list_index.ge(from))
        .filter(credential_status::list_index.lt(to))
        .filter(certificates::status.eq_any(statuses))
        .select(credential_status::list_index)
        .load(conn)
}

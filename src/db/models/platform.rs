//! The platform's identity row: what every server instance on this database must agree on.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error};

use crate::db::schema::platform_identity;
use crate::db::DbConn;

/// The transparency log's verifier key (`origin+hash+key`), as the first instance wrote it.
pub fn log_vkey(conn: &mut DbConn) -> QueryResult<Option<String>> {
    platform_identity::table
        .find(1i64)
        .select(platform_identity::log_vkey)
        .first(conn)
        .optional()
}

/// Writes `vkey` unless another instance wrote one first; returns the one kept.
pub fn settle_log_vkey(conn: &mut DbConn, vkey: &str, at: NaiveDateTime) -> QueryResult<String> {
    let inserted = diesel::insert_into(platform_identity::table)
        .values((
            platform_identity::id.eq(1i64),
            platform_identity::log_vkey.eq(vkey),
            platform_identity::created_at.eq(at),
        ))
        .execute(conn);
    match inserted {
        Ok(_) | Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            log_vkey(conn)?.ok_or(Error::NotFound)
        }
        Err(e) => Err(e),
    }
}

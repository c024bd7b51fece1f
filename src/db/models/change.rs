//! `changes`: what was changed and when, so every server instance can drop what it cached
//! about it (see `service::changes`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::changes;
use crate::db::DbConn;

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = changes)]
struct NewChange<'a> {
    at: NaiveDateTime,
    kind: &'a str,
    key: &'a str,
}

/// One recorded change: (row id, kind, key).
pub type ChangeRow = (i64, String, String);

/// Records a change of `kind` (`certificate` or `all`) to `key`. Call inside the transaction
/// that makes the change.
pub fn record(conn: &mut DbConn, at: NaiveDateTime, kind: &str, key: &str) -> QueryResult<()> {
    diesel::insert_into(changes::table)
        .values(NewChange { at, kind, key })
        .execute(conn)
        .map(drop)
}

/// Changes recorded at or after `from`, oldest first.
pub fn since(conn: &mut DbConn, from: NaiveDateTime) -> QueryResult<Vec<ChangeRow>> {
    changes::table
        .filter(changes::at.ge(from))
        .order(changes::id)
        .select((changes::id, changes::kind, changes::key))
        .load(conn)
}

/// Deletes changes recorded before `before`.
pub fn prune(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(changes::table.filter(changes::at.lt(before))).execute(conn)
}

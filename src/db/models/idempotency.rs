//! `idempotency_keys`: the first answer to a request sent with an `Idempotency-Key`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::idempotency_keys;
use crate::db::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys)]
pub struct IdempotencyKey {
    pub organization_id: String,
    pub key: String,
    /// Lower-case hex SHA-256 of the request body.
    pub request_hash: String,
    /// The JSON answer given the first time.
    pub response: String,
    pub created_at: NaiveDateTime,
}

impl IdempotencyKey {
    pub fn find(conn: &mut DbConn, organization_id: &str, key: &str) -> QueryResult<Option<Self>> {
        idempotency_keys::table
            .find((organization_id, key))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(idempotency_keys::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }
}

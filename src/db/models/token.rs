//! `api_tokens`: bearer tokens, stored only as SHA-256 hashes.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::api_tokens;
use crate::db::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_tokens)]
pub struct ApiToken {
    /// Lower-case hex SHA-256 of the token.
    pub token_hash: String,
    /// The organization the token acts for; `None` for a platform admin token.
    pub organization_id: Option<String>,
    pub created_at: NaiveDateTime,
}

impl ApiToken {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(api_tokens::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }

    pub fn find(conn: &mut DbConn, token_hash: &str) -> QueryResult<Option<Self>> {
        api_tokens::table
            .find(token_hash)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }
}

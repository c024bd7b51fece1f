//! `api_tokens`: bearer tokens, stored only as SHA-256 hashes, each with a name, a scope, an
//! optional expiry and when it was last used.

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
    pub name: String,
    /// `read`, `issue`, `trail` or `admin`.
    pub scope: String,
    pub expires_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
}

/// Characters of the hash that name a token in lists (not secret: a hash prefix).
const ID_LEN: usize = 16;

impl ApiToken {
    /// The token's public id: the start of its hash.
    pub fn id(&self) -> &str {
        &self.token_hash[..ID_LEN.min(self.token_hash.len())]
    }

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

    /// The organization's tokens, newest first.
    pub fn of_organization(conn: &mut DbConn, organization_id: &str) -> QueryResult<Vec<Self>> {
        api_tokens::table
            .filter(api_tokens::organization_id.eq(organization_id))
            .order((api_tokens::created_at.desc(), api_tokens::token_hash.asc()))
            .select(Self::as_select())
            .load(conn)
    }

    /// Deletes the organization's token with public id `id`; `false` if there was none.
    pub fn revoke(conn: &mut DbConn, organization_id: &str, id: &str) -> QueryResult<bool> {
        if id.len() != ID_LEN || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(false);
        }
        diesel::delete(
            api_tokens::table
                .filter(api_tokens::organization_id.eq(organization_id))
                .filter(api_tokens::token_hash.like(format!("{id}%"))),
        )
        .execute(conn)
        .map(|n| n > 0)
    }

    /// Records a use at `at`.
    pub fn touch(conn: &mut DbConn, token_hash: &str, at: NaiveDateTime) -> QueryResult<()> {
        diesel::update(api_tokens::table.find(token_hash))
            .set(api_tokens::last_used_at.eq(at))
            .execute(conn)
            .map(drop)
    }
}

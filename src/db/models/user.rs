//! `users` and `sessions`: people who sign in to the pages, and their signed-in sessions.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{sessions, users};
use crate::db::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: String,
    /// The organization the person acts for; its kind is their role.
    pub organization_id: String,
    pub username: String,
    /// PHC string (argon2id). Never shown.
    pub password_hash: String,
    pub created_at: NaiveDateTime,
    /// Set when the admin deactivated the user: no sign-in, no session.
    pub deactivated_at: Option<NaiveDateTime>,
    /// Signs in to the admin console and acts as the platform admin.
    pub platform_admin: bool,
}

impl User {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(users::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }

    pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Self>> {
        users::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    pub fn set_password_hash(conn: &mut DbConn, id: &str, hash: &str) -> QueryResult<()> {
        diesel::update(users::table.find(id))
            .set(users::password_hash.eq(hash))
            .execute(conn)
            .map(|_| ())
    }

    /// An organization's users, by name.
    pub fn of(conn: &mut DbConn, organization_id: &str) -> QueryResult<Vec<Self>> {
        users::table
            .filter(users::organization_id.eq(organization_id))
            .order(users::username.asc())
            .select(Self::as_select())
            .load(conn)
    }

    /// Sets or clears `deactivated_at`.
    pub fn set_deactivated(
        conn: &mut DbConn,
        id: &str,
        at: Option<NaiveDateTime>,
    ) -> QueryResult<()> {
        diesel::update(users::table.find(id))
            .set(users::deactivated_at.eq(at))
            .execute(conn)
            .map(|_| ())
    }

    pub fn find_by_username(conn: &mut DbConn, username: &str) -> QueryResult<Option<Self>> {
        users::table
            .filter(users::username.eq(username))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct Session {
    /// Lower-case hex SHA-256 of the cookie value.
    pub token_hash: String,
    pub user_id: String,
    /// Sent back in every form and compared on submit.
    pub csrf_token: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

impl Session {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(sessions::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }

    /// The session if it exists and has not expired at `now`.
    pub fn find_live(
        conn: &mut DbConn,
        token_hash: &str,
        now: NaiveDateTime,
    ) -> QueryResult<Option<Self>> {
        sessions::table
            .find(token_hash)
            .filter(sessions::expires_at.gt(now))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Ends every session of `user_id` but `keep`, if given (after a password change).
    pub fn delete_others(
        conn: &mut DbConn,
        user_id: &str,
        keep: Option<&str>,
    ) -> QueryResult<usize> {
        diesel::delete(
            sessions::table
                .filter(sessions::user_id.eq(user_id))
                .filter(sessions::token_hash.ne(keep.unwrap_or_default())),
        )
        .execute(conn)
    }

    pub fn delete(conn: &mut DbConn, token_hash: &str) -> QueryResult<()> {
        diesel::delete(sessions::table.find(token_hash))
            .execute(conn)
            .map(|_| ())
    }
}

//! `organizations`: producers, retailers, regulators, certification bodies and labs.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::organizations;
use crate::db::DbConn;
use crate::domain::role::OrgKind;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = organizations)]
pub struct Organization {
    pub id: String,
    /// One of [`OrgKind`]'s snake_case names.
    pub kind: String,
    pub name: String,
    pub credit_code: String,
    pub region_code: String,
    pub address: String,
    pub created_at: NaiveDateTime,
    /// Set when the admin deactivated it: its tokens and sessions are refused.
    pub deactivated_at: Option<NaiveDateTime>,
    /// For a stallholder (a retailer selling in a wholesale or farmers' market): the market
    /// operator it sells under.
    pub market_id: Option<String>,
}

impl Organization {
    /// The organization's kind; rows are constrained by a CHECK, so an unknown value is
    /// treated as the least privileged kind.
    pub fn kind(&self) -> OrgKind {
        OrgKind::parse(&self.kind).unwrap_or(OrgKind::Lab)
    }

    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(organizations::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }

    /// Locks the organization's row until the transaction ends (PostgreSQL; SQLite has one
    /// writer), so changes to its keys run one after another.
    pub fn lock(conn: &mut DbConn, id: &str) -> QueryResult<()> {
        match conn {
            DbConn::Sqlite(_) => Ok(()),
            DbConn::Pg(c) => organizations::table
                .find(id)
                .select(organizations::id)
                .for_update()
                .load::<String>(c)
                .map(drop),
        }
    }

    pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Self>> {
        organizations::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// The addresses of the organizations in `ids`, by id (one query).
    pub fn addresses(
        conn: &mut DbConn,
        ids: &[&str],
    ) -> QueryResult<std::collections::HashMap<String, String>> {
        organizations::table
            .filter(organizations::id.eq_any(ids))
            .select((organizations::id, organizations::address))
            .load::<(String, String)>(conn)
            .map(|rows| rows.into_iter().collect())
    }

    pub fn find_by_credit_code(conn: &mut DbConn, credit_code: &str) -> QueryResult<Option<Self>> {
        organizations::table
            .filter(organizations::credit_code.eq(credit_code))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Organizations whose region code starts with `prefix` (all for ""), by region and name.
    pub fn in_region(conn: &mut DbConn, prefix: &str) -> QueryResult<Vec<Self>> {
        organizations::table
            .filter(organizations::region_code.like(format!("{prefix}%")))
            .order((organizations::region_code.asc(), organizations::name.asc()))
            .select(Self::as_select())
            .load(conn)
    }

    /// Organizations whose name or credit code contains `text` (all for ""), newest first.
    pub fn search(conn: &mut DbConn, text: &str, limit: i64) -> QueryResult<Vec<Self>> {
        let pattern = format!("%{}%", text.replace(['%', '_'], ""));
        organizations::table
            .filter(
                organizations::name
                    .like(pattern.clone())
                    .or(organizations::credit_code.like(pattern)),
            )
            .order((organizations::created_at.desc(), organizations::id.asc()))
            .limit(limit)
            .select(Self::as_select())
            .load(conn)
    }

    /// Sets or clears `deactivated_at`; `false` if no such organization.
    pub fn set_deactivated(
        conn: &mut DbConn,
        id: &str,
        at: Option<NaiveDateTime>,
    ) -> QueryResult<bool> {
        diesel::update(organizations::table.find(id))
            .set(organizations::deactivated_at.eq(at))
            .execute(conn)
            .map(|n| n == 1)
    }

    pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
        organizations::table.count().get_result(conn)
    }
}

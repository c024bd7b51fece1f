//! `accreditations`: a lab's CMA and CATL accreditations (双认证).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::accreditations;
use crate::db::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = accreditations)]
pub struct Accreditation {
    pub id: String,
    pub lab_id: String,
    /// `CMA` or `CATL`.
    pub scheme: String,
    pub number: String,
    pub scope: String,
    /// `YYYY-MM-DD`.
    pub valid_from: String,
    /// `YYYY-MM-DD`.
    pub valid_until: String,
    pub created_at: NaiveDateTime,
    /// `pending` (the lab's claim), `confirmed` (by a regulator) or `delisted`.
    pub status: String,
    /// The regulator that confirmed or delisted it.
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
}

impl Accreditation {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(accreditations::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }

    pub fn for_lab(conn: &mut DbConn, lab_id: &str) -> QueryResult<Vec<Self>> {
        accreditations::table
            .filter(accreditations::lab_id.eq(lab_id))
            .order(accreditations::created_at.asc())
            .select(Self::as_select())
            .load(conn)
    }

    pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Self>> {
        accreditations::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Moves accreditation `id` from `from` to `to`; `false` if it was not in `from`.
    pub fn decide(
        conn: &mut DbConn,
        id: &str,
        from: &str,
        to: &str,
        by: &str,
        at: NaiveDateTime,
    ) -> QueryResult<bool> {
        diesel::update(
            accreditations::table
                .find(id)
                .filter(accreditations::status.eq(from)),
        )
        .set((
            accreditations::status.eq(to),
            accreditations::decided_by.eq(by),
            accreditations::decided_at.eq(at),
        ))
        .execute(conn)
        .map(|n| n == 1)
    }

    /// Delists every accreditation of `lab_id`; returns how many.
    pub fn delist_lab(
        conn: &mut DbConn,
        lab_id: &str,
        by: &str,
        at: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(
            accreditations::table
                .filter(accreditations::lab_id.eq(lab_id))
                .filter(accreditations::status.ne("delisted")),
        )
        .set((
            accreditations::status.eq("delisted"),
            accreditations::decided_by.eq(by),
            accreditations::decided_at.eq(at),
        ))
        .execute(conn)
    }

    /// Pending accreditations of labs whose region starts with `prefix`.
    pub fn pending_in_region(conn: &mut DbConn, prefix: &str) -> QueryResult<Vec<Self>> {
        use crate::db::schema::organizations;
        accreditations::table
            .inner_join(organizations::table.on(organizations::id.eq(accreditations::lab_id)))
            .filter(organizations::region_code.like(format!("{prefix}%")))
            .filter(accreditations::status.eq("pending"))
            .order(accreditations::created_at.asc())
            .select(Self::as_select())
            .load(conn)
    }
}

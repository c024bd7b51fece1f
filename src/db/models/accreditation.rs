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
}

//! `marks`: certification marks a certification body recorded for a product.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::marks;
use crate::db::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = marks)]
pub struct MarkRecord {
    pub id: String,
    pub product_id: String,
    /// The certification body that recorded it.
    pub body_id: String,
    pub scheme: String,
    pub cert_no: String,
    /// `YYYY-MM-DD`.
    pub valid_from: String,
    /// `YYYY-MM-DD`.
    pub valid_until: String,
    /// `valid` or `suspended`.
    pub status: String,
    pub created_at: NaiveDateTime,
    /// Who suspended it (the body or a regulator), while suspended.
    pub suspended_by: Option<String>,
}

impl MarkRecord {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(marks::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }

    pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Self>> {
        marks::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    pub fn for_product(conn: &mut DbConn, product_id: &str) -> QueryResult<Vec<Self>> {
        marks::table
            .filter(marks::product_id.eq(product_id))
            .order(marks::created_at.asc())
            .select(Self::as_select())
            .load(conn)
    }

    /// Marks with this scheme and certificate number.
    pub fn by_number(conn: &mut DbConn, scheme: &str, cert_no: &str) -> QueryResult<Vec<Self>> {
        marks::table
            .filter(marks::scheme.eq(scheme))
            .filter(marks::cert_no.eq(cert_no))
            .order(marks::created_at.asc())
            .select(Self::as_select())
            .load(conn)
    }

    pub fn set_status(
        conn: &mut DbConn,
        id: &str,
        status: &str,
        suspended_by: Option<&str>,
    ) -> QueryResult<usize> {
        diesel::update(marks::table.find(id))
            .set((
                marks::status.eq(status),
                marks::suspended_by.eq(suspended_by),
            ))
            .execute(conn)
    }
}

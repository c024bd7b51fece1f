//! `products`: what a producer makes; certificates are issued per product batch.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::products;
use crate::db::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = products)]
pub struct Product {
    pub id: String,
    pub organization_id: String,
    pub name: String,
    pub model: String,
    pub standard: String,
    pub gtin: Option<String>,
    pub category: Option<String>,
    /// JSON array of `{scheme, cert_no}`.
    pub marks: String,
    pub created_at: NaiveDateTime,
}

impl Product {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(products::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }

    pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Self>> {
        products::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// The organization's products, newest first.
    pub fn list_for(conn: &mut DbConn, organization_id: &str) -> QueryResult<Vec<Self>> {
        products::table
            .filter(products::organization_id.eq(organization_id))
            .order((products::created_at.desc(), products::id.asc()))
            .select(Self::as_select())
            .load(conn)
    }
}

//! `certificate_drafts`: certificates waiting for the signature of a producer that holds its
//! own key.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::certificate_drafts;
use crate::db::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = certificate_drafts)]
pub struct Draft {
    /// The certificate id the payload names.
    pub id: String,
    pub organization_id: String,
    pub product_id: String,
    /// The producer's key that must sign it.
    pub kid: String,
    /// Canonical (RFC 8785) JSON of the payload to sign.
    pub payload: String,
    pub units: Option<i64>,
    pub lab_id: Option<String>,
    pub created_at: NaiveDateTime,
}

impl Draft {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(certificate_drafts::table)
            .values(self)
            .execute(conn)
            .map(drop)
    }

    pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Self>> {
        certificate_drafts::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Removes the draft; `false` if it was gone already (issued by a concurrent request).
    pub fn delete(conn: &mut DbConn, id: &str) -> QueryResult<bool> {
        diesel::delete(certificate_drafts::table.find(id))
            .execute(conn)
            .map(|n| n == 1)
    }
}

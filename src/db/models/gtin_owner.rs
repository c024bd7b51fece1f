//! `gtin_owners`: which organization a GTIN, or a whole GS1 company prefix, belongs to.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::gtin_owners;
use crate::db::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = gtin_owners)]
pub struct GtinOwner {
    /// A GTIN's 14-digit form, or a company prefix (6 to 12 digits of the GTIN-13 form).
    pub prefix: String,
    /// `gtin` or `company_prefix`.
    pub kind: String,
    pub organization_id: String,
    pub assigned_at: NaiveDateTime,
}

impl GtinOwner {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(gtin_owners::table)
            .values(self)
            .execute(conn)
            .map(drop)
    }

    pub fn find(conn: &mut DbConn, prefix: &str) -> QueryResult<Option<Self>> {
        gtin_owners::table
            .find(prefix)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// The rows whose key is one of `keys`.
    pub fn any_of(conn: &mut DbConn, keys: &[String]) -> QueryResult<Vec<Self>> {
        gtin_owners::table
            .filter(gtin_owners::prefix.eq_any(keys))
            .select(Self::as_select())
            .load(conn)
    }

    /// Rows inside a company prefix: GTINs (by their GTIN-13 part) and longer prefixes.
    pub fn inside(conn: &mut DbConn, company_prefix: &str) -> QueryResult<Vec<Self>> {
        gtin_owners::table
            .filter(
                gtin_owners::prefix
                    .like(format!("_{company_prefix}%"))
                    .and(gtin_owners::kind.eq("gtin"))
                    .or(gtin_owners::prefix
                        .like(format!("{company_prefix}%"))
                        .and(gtin_owners::kind.eq("company_prefix"))),
            )
            .select(Self::as_select())
            .load(conn)
    }

    /// Gives `prefix` to `organization_id`.
    pub fn reassign(
        conn: &mut DbConn,
        prefix: &str,
        organization_id: &str,
        at: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(gtin_owners::table.find(prefix))
            .set((
                gtin_owners::organization_id.eq(organization_id),
                gtin_owners::assigned_at.eq(at),
            ))
            .execute(conn)
    }

    /// The organization's rows.
    pub fn of(conn: &mut DbConn, organization_id: &str) -> QueryResult<Vec<Self>> {
        gtin_owners::table
            .filter(gtin_owners::organization_id.eq(organization_id))
            .order(gtin_owners::prefix.asc())
            .select(Self::as_select())
            .load(conn)
    }
}

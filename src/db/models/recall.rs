//! `recalls`: a product, or one batch of it, called back.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{certificates, recalls};
use crate::db::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = recalls)]
pub struct Recall {
    pub id: String,
    pub product_id: String,
    /// `None`: every batch of the product.
    pub batch_no: Option<String>,
    pub reason: String,
    pub actor_id: String,
    pub created_at: NaiveDateTime,
}

impl Recall {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(recalls::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }

    pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Self>> {
        recalls::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// The certificates a recall covers: the product's (or the batch's), and every lot
    /// re-issued from them.
    pub fn certificate_ids(&self, conn: &mut DbConn) -> QueryResult<Vec<String>> {
        let query = certificates::table
            .filter(certificates::product_id.eq(&self.product_id))
            .into_boxed();
        let query = match &self.batch_no {
            Some(batch) => query.filter(certificates::batch_no.eq(batch)),
            None => query,
        };
        let mut ids: Vec<String> = query
            .order(certificates::id.asc())
            .select(certificates::id)
            .load(conn)?;
        // Lots re-issued from these (split or merged) are recalled with them.
        let descendants = super::lineage::CertificateParent::descendants(conn, &ids)?;
        ids.extend(descendants);
        ids.sort();
        ids.dedup();
        Ok(ids)
    }

    /// Recalls of any of `product_ids`, newest first.
    pub fn for_products(conn: &mut DbConn, product_ids: &[String]) -> QueryResult<Vec<Self>> {
        recalls::table
            .filter(recalls::product_id.eq_any(product_ids))
            .order(recalls::created_at.desc())
            .select(Self::as_select())
            .load(conn)
    }

    /// Recalls made in `[from, to)`.
    pub fn made_between(
        conn: &mut DbConn,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> QueryResult<Vec<Self>> {
        recalls::table
            .filter(recalls::created_at.ge(from))
            .filter(recalls::created_at.lt(to))
            .order(recalls::created_at.asc())
            .select(Self::as_select())
            .load(conn)
    }

    /// Every recall, newest first.
    pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Self>> {
        recalls::table
            .order(recalls::created_at.desc())
            .select(Self::as_select())
            .load(conn)
    }
}

/// A retailer's confirmation that recalled goods left its shelves.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::db::schema::recall_acknowledgements)]
pub struct RecallAck {
    pub recall_id: String,
    pub retailer_id: String,
    pub quantity_removed: i64,
    pub note: Option<String>,
    pub created_at: NaiveDateTime,
}

impl RecallAck {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(crate::db::schema::recall_acknowledgements::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }

    pub fn of(conn: &mut DbConn, recall_id: &str) -> QueryResult<Vec<Self>> {
        use crate::db::schema::recall_acknowledgements as acks;
        acks::table
            .filter(acks::recall_id.eq(recall_id))
            .select(Self::as_select())
            .load(conn)
    }
}

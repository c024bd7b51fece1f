//! `certificate_parents`: which lots a re-issued lot (split or merged) came from, and how much
//! it took from each.

use diesel::prelude::*;

use crate::db::schema::{certificate_parents, certificates, organizations};
use crate::db::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = certificate_parents)]
pub struct CertificateParent {
    pub child_id: String,
    pub parent_id: String,
    pub quantity: i64,
}

/// A related lot as pages and answers list it: (link, its issuer's name, its batch number).
pub type Related = (CertificateParent, String, String);

/// Most generations an ancestry walk or a recall follows.
pub const MAX_DEPTH: usize = 16;

impl CertificateParent {
    pub fn insert_all(conn: &mut DbConn, rows: &[Self]) -> QueryResult<()> {
        for row in rows {
            diesel::insert_into(certificate_parents::table)
                .values(row)
                .execute(conn)?;
        }
        Ok(())
    }

    /// How much of `parent` earlier children already took.
    pub fn allocated(conn: &mut DbConn, parent: &str) -> QueryResult<i64> {
        // Few children per lot: summed here (SUM of BIGINT is NUMERIC on PostgreSQL).
        certificate_parents::table
            .filter(certificate_parents::parent_id.eq(parent))
            .select(certificate_parents::quantity)
            .load::<i64>(conn)
            .map(|q| q.iter().sum())
    }

    /// The parents of `child`, with each parent's issuer and batch.
    pub fn parents_of(conn: &mut DbConn, child: &str) -> QueryResult<Vec<Related>> {
        certificate_parents::table
            .inner_join(certificates::table.on(certificates::id.eq(certificate_parents::parent_id)))
            .inner_join(
                organizations::table.on(organizations::id.eq(certificates::organization_id)),
            )
            .filter(certificate_parents::child_id.eq(child))
            .order(certificate_parents::parent_id.asc())
            .select((
                Self::as_select(),
                organizations::name,
                certificates::batch_no,
            ))
            .load(conn)
    }

    /// The children of `parent`, with each child's issuer and batch.
    pub fn children_of(conn: &mut DbConn, parent: &str) -> QueryResult<Vec<Related>> {
        certificate_parents::table
            .inner_join(certificates::table.on(certificates::id.eq(certificate_parents::child_id)))
            .inner_join(
                organizations::table.on(organizations::id.eq(certificates::organization_id)),
            )
            .filter(certificate_parents::parent_id.eq(parent))
            .order(certificates::issued_at.asc())
            .select((
                Self::as_select(),
                organizations::name,
                certificates::batch_no,
            ))
            .load(conn)
    }

    /// Every descendant of `roots` (children, their children, …, at most [`MAX_DEPTH`]
    /// generations), each once.
    pub fn descendants(conn: &mut DbConn, roots: &[String]) -> QueryResult<Vec<String>> {
        let mut seen: std::collections::HashSet<String> = roots.iter().cloned().collect();
        let mut out = Vec::new();
        let mut frontier = roots.to_vec();
        for _ in 0..MAX_DEPTH {
            if frontier.is_empty() {
                break;
            }
            let next: Vec<String> = certificate_parents::table
                .filter(certificate_parents::parent_id.eq_any(&frontier))
                .select(certificate_parents::child_id)
                .load(conn)?;
            frontier = next
                .into_iter()
                .filter(|c| seen.insert(c.clone()))
                .collect();
            out.extend(frontier.iter().cloned());
        }
        Ok(out)
    }
}

//! `certificate_parents`: which lots a re-issued lot (split or merged) came from, and how much
//! it took from each.

use diesel::prelude::*;

use crate::db::schema::{certificate_parents, certificates, organizations};
use crate::db::DbConn;
use crate::domain::status::CertStatus;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = certificate_parents)]
pub struct CertificateParent {
    pub child_id: String,
    pub parent_id: String,
    pub quantity: i64,
}

/// A related lot as pages and answers list it: (link, its issuer's name, its batch number).
pub type Related = (CertificateParent, String, String);

/// Most lots one lot is split into.
pub const MAX_CHILDREN: i64 = 1_000;

/// Most generations a lineage may have: re-issue refuses deeper ones, so ancestry walks and
/// recalls following at most this many reach every lot.
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

    /// How much of `parent` the children that `org` issued took.
    pub fn reissued_by(conn: &mut DbConn, parent: &str, org: &str) -> QueryResult<i64> {
        certificate_parents::table
            .inner_join(certificates::table.on(certificates::id.eq(certificate_parents::child_id)))
            .filter(certificate_parents::parent_id.eq(parent))
            .filter(certificates::organization_id.eq(org))
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

    /// The children of `parent` (the first `limit`), with each child's issuer and batch.
    pub fn children_of(conn: &mut DbConn, parent: &str, limit: i64) -> QueryResult<Vec<Related>> {
        certificate_parents::table
            .inner_join(certificates::table.on(certificates::id.eq(certificate_parents::child_id)))
            .inner_join(
                organizations::table.on(organizations::id.eq(certificates::organization_id)),
            )
            .filter(certificate_parents::parent_id.eq(parent))
            .order(certificates::issued_at.asc())
            .limit(limit)
            .select((
                Self::as_select(),
                organizations::name,
                certificates::batch_no,
            ))
            .load(conn)
    }

    /// How many children `parent` has.
    pub fn count_children(conn: &mut DbConn, parent: &str) -> QueryResult<i64> {
        certificate_parents::table
            .filter(certificate_parents::parent_id.eq(parent))
            .count()
            .get_result(conn)
    }

    /// The number of generations above `lots` (0: they have no parents), counting each lot
    /// once and stopping past [`MAX_DEPTH`].
    pub fn generations_above(conn: &mut DbConn, lots: &[String]) -> QueryResult<usize> {
        let mut seen: std::collections::HashSet<String> = lots.iter().cloned().collect();
        let mut frontier = lots.to_vec();
        let mut depth = 0;
        while depth <= MAX_DEPTH {
            frontier = Self::parents_of_all(conn, &frontier)?
                .into_iter()
                .filter(|p| seen.insert(p.clone()))
                .collect();
            if frontier.is_empty() {
                break;
            }
            depth += 1;
        }
        Ok(depth)
    }

    /// Whether every one of `lots` and their ancestors is active, walked generation by
    /// generation, each lot once, at most [`MAX_DEPTH`] generations.
    pub fn ancestors_all_active(conn: &mut DbConn, lots: &[String]) -> QueryResult<bool> {
        let mut seen: std::collections::HashSet<String> = lots.iter().cloned().collect();
        let mut frontier = lots.to_vec();
        for _ in 0..=MAX_DEPTH {
            if frontier.is_empty() {
                break;
            }
            for chunk in frontier.chunks(super::INSERT_CHUNK) {
                let inactive: i64 = certificates::table
                    .filter(certificates::id.eq_any(chunk))
                    .filter(certificates::status.ne(CertStatus::Active.as_str()))
                    .count()
                    .get_result(conn)?;
                if inactive > 0 {
                    return Ok(false);
                }
            }
            frontier = Self::parents_of_all(conn, &frontier)?
                .into_iter()
                .filter(|p| seen.insert(p.clone()))
                .collect();
        }
        Ok(true)
    }

    /// The parent ids of every lot in `lots` (in chunks under the bound-parameter limits).
    fn parents_of_all(conn: &mut DbConn, lots: &[String]) -> QueryResult<Vec<String>> {
        let mut out = Vec::new();
        for chunk in lots.chunks(super::INSERT_CHUNK) {
            out.extend(
                certificate_parents::table
                    .filter(certificate_parents::child_id.eq_any(chunk))
                    .select(certificate_parents::parent_id)
                    .load::<String>(conn)?,
            );
        }
        Ok(out)
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
            let mut next: Vec<String> = Vec::new();
            for chunk in frontier.chunks(super::INSERT_CHUNK) {
                next.extend(
                    certificate_parents::table
                        .filter(certificate_parents::parent_id.eq_any(chunk))
                        .select(certificate_parents::child_id)
                        .load::<String>(conn)?,
                );
            }
            frontier = next
                .into_iter()
                .filter(|c| seen.insert(c.clone()))
                .collect();
            out.extend(frontier.iter().cloned());
        }
        Ok(out)
    }
}

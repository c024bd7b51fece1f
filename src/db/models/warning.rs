//! `warnings`: copy signals consumers' scans raised, for the regulators of the producer's
//! region. A warning is open while its certificate is still active.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{certificates, organizations, warnings};
use crate::db::DbConn;
use crate::domain::status::CertStatus;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = warnings)]
pub struct SeenWarning {
    pub certificate_id: String,
    /// The unit serial; 0 for the batch label.
    pub serial: i64,
    pub code: String,
    pub first_seen: NaiveDateTime,
}

/// An open warning with what a list shows of its certificate.
#[derive(Debug, Clone, Queryable)]
pub struct OpenWarningRow {
    pub certificate_id: String,
    pub serial: i64,
    pub code: String,
    pub first_seen: NaiveDateTime,
    pub batch_no: String,
    pub producer: String,
}

impl SeenWarning {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(warnings::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }

    /// Stores the warnings not stored yet (a label's signal is kept once, from its first
    /// scan); the others are left as they are.
    pub fn insert_new(conn: &mut DbConn, rows: &[Self]) -> QueryResult<()> {
        for chunk in rows.chunks(super::INSERT_CHUNK) {
            match conn {
                DbConn::Sqlite(c) => {
                    for row in chunk {
                        diesel::insert_into(warnings::table)
                            .values(row)
                            .on_conflict_do_nothing()
                            .execute(c)?;
                    }
                    0
                }
                DbConn::Pg(c) => diesel::insert_into(warnings::table)
                    .values(chunk)
                    .on_conflict_do_nothing()
                    .execute(c)?,
            };
        }
        Ok(())
    }

    /// Open warnings (certificate still active) of producers whose region code starts with
    /// `prefix`: how many, and the newest `limit`.
    pub fn open_in_region(
        conn: &mut DbConn,
        prefix: &str,
        limit: i64,
    ) -> QueryResult<(i64, Vec<OpenWarningRow>)> {
        let open = || {
            warnings::table
                .inner_join(certificates::table.inner_join(organizations::table))
                .filter(organizations::region_code.like(format!("{prefix}%")))
                .filter(certificates::status.eq(CertStatus::Active.as_str()))
        };
        let count = open().count().get_result(conn)?;
        let rows = open()
            .order(warnings::first_seen.desc())
            .limit(limit)
            .select((
                warnings::certificate_id,
                warnings::serial,
                warnings::code,
                warnings::first_seen,
                certificates::batch_no,
                organizations::name,
            ))
            .load(conn)?;
        Ok((count, rows))
    }
}

//! `scans`: consumer scans of labels, stored coarse (hour and region only, never personal data).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::scans;
use crate::db::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = scans)]
pub struct Scan {
    pub certificate_id: String,
    pub id: String,
    pub serial: Option<i64>,
    /// The scan time truncated to the hour.
    pub hour: NaiveDateTime,
    pub region_code: Option<String>,
}

impl Scan {
    /// Stores many scans with multi-row INSERTs.
    pub fn insert_all(conn: &mut DbConn, rows: &[Self]) -> QueryResult<()> {
        for chunk in rows.chunks(super::INSERT_CHUNK) {
            crate::db::insert_rows!(conn, scans::table, chunk);
        }
        Ok(())
    }

    /// Scans of the certificate's batch label (`serial` None) or of one unit.
    pub fn count(conn: &mut DbConn, certificate_id: &str, serial: Option<i64>) -> QueryResult<i64> {
        let query = scans::table
            .filter(scans::certificate_id.eq(certificate_id))
            .into_boxed();
        let query = match serial {
            Some(s) => query.filter(scans::serial.eq(s)),
            None => query.filter(scans::serial.is_null()),
        };
        query.count().get_result(conn)
    }

    /// Scans of every label of the certificate.
    pub fn count_all(conn: &mut DbConn, certificate_id: &str) -> QueryResult<i64> {
        scans::table
            .filter(scans::certificate_id.eq(certificate_id))
            .count()
            .get_result(conn)
    }

    /// All scans of the certificate (every label), for totals and copy detection.
    pub fn since(
        conn: &mut DbConn,
        certificate_id: &str,
        from: NaiveDateTime,
    ) -> QueryResult<Vec<Self>> {
        scans::table
            .filter(scans::certificate_id.eq(certificate_id))
            .filter(scans::hour.ge(from))
            .select(Self::as_select())
            .load(conn)
    }
}

//! Consumer scans as aggregates (`label_scans`, `label_regions`, `scan_hours`, `forged_scans`):
//! stored coarse (hour and region only, never personal data) and folded into per-label
//! counters as they are written, so reading a label's signals never reads its scan history.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::upsert::excluded;

use crate::db::schema::{forged_scans, label_regions, label_scans, scan_hours};
use crate::db::DbConn;

/// The `serial` of a certificate's batch label in the scan tables.
pub const BATCH_LABEL: i64 = 0;
/// The `serial` under which `label_scans` keeps the total over all of a certificate's labels.
pub const ALL_LABELS: i64 = -1;

/// Scans of one label in one hour and region (`""` when the scanner gave none).
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = scan_hours)]
pub struct ScanHour {
    pub certificate_id: String,
    pub serial: i64,
    pub hour: NaiveDateTime,
    pub region_code: String,
    pub scans: i64,
}

/// Scans added to one label's counter (or to the certificate's total, serial [`ALL_LABELS`]).
#[derive(Debug, Clone, Insertable, Queryable)]
#[diesel(table_name = label_scans)]
pub struct LabelCount {
    pub certificate_id: String,
    pub serial: i64,
    pub scans: i64,
}

/// The last hour a label was scanned in a province (first two digits of a region code).
#[derive(Debug, Clone, Insertable, Queryable)]
#[diesel(table_name = label_regions)]
pub struct LabelRegion {
    pub certificate_id: String,
    pub serial: i64,
    pub province: String,
    pub last_hour: NaiveDateTime,
}

/// Scans of forged labels naming a certificate, in one hour and region.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = forged_scans)]
pub struct ForgedHour {
    pub certificate_id: String,
    pub hour: NaiveDateTime,
    pub region_code: String,
    pub scans: i64,
}

/// A group of aggregated scans to store in one transaction. Keys must be unique within each
/// list (the scan writer sums before it stores).
#[derive(Debug, Default)]
pub struct ScanBatch {
    pub hours: Vec<ScanHour>,
    pub counts: Vec<LabelCount>,
    pub regions: Vec<LabelRegion>,
    pub forged: Vec<ForgedHour>,
}

/// Adds to counters that may not exist yet, on PostgreSQL: diesel's `MultiConnection` has no
/// upsert, so the statement is written for the backend's own connection.
macro_rules! pg_upsert {
    ($conn:expr, $rows:expr, $table:ident, ($($key:ident),+), $set:expr) => {
        for chunk in $rows.chunks(super::INSERT_CHUNK) {
            diesel::insert_into($table::table)
                .values(chunk)
                .on_conflict(($($table::$key),+))
                .do_update()
                .set($set)
                .execute($conn)?;
        }
    };
}

/// A bound value of a SQLite upsert row.
enum Bind<'a> {
    Text(&'a str),
    Int(i64),
    Hour(NaiveDateTime),
}

/// A multi-row upsert on SQLite, where diesel has none: `head` is `INSERT INTO t (cols)`,
/// `tail` the `ON CONFLICT … DO UPDATE …` clause; one statement (one prepare) per 500 rows
/// instead of one per row.
fn sqlite_upsert(
    conn: &mut diesel::SqliteConnection,
    head: &str,
    tail: &str,
    rows: &[Vec<Bind<'_>>],
) -> QueryResult<()> {
    use diesel::sql_types::{BigInt, Text, Timestamp};
    for chunk in rows.chunks(super::INSERT_CHUNK) {
        let Some(width) = chunk.first().map(Vec::len) else {
            continue;
        };
        let tuple = format!("({})", vec!["?"; width].join(", "));
        let sql = format!(
            "{head} VALUES {} {tail}",
            vec![tuple.as_str(); chunk.len()].join(", ")
        );
        let mut query = diesel::sql_query(sql).into_boxed::<diesel::sqlite::Sqlite>();
        for value in chunk.iter().flatten() {
            query = match value {
                Bind::Text(t) => query.bind::<Text, _>(*t),
                Bind::Int(n) => query.bind::<BigInt, _>(*n),
                Bind::Hour(h) => query.bind::<Timestamp, _>(*h),
            };
        }
        query.execute(conn)?;
    }
    Ok(())
}

/// The last hour per province only moves forward (another instance may have stored a later
/// one already).
const LATER_HOUR_EXPR: &str = "CASE WHEN excluded.last_hour > label_regions.last_hour \
     THEN excluded.last_hour ELSE label_regions.last_hour END";
const LATER_HOUR: &str = "ON CONFLICT (certificate_id, serial, province) DO UPDATE SET \
     last_hour = CASE WHEN excluded.last_hour > label_regions.last_hour \
     THEN excluded.last_hour ELSE label_regions.last_hour END";

impl ScanBatch {
    pub fn is_empty(&self) -> bool {
        self.hours.is_empty() && self.forged.is_empty()
    }

    /// Puts every list in key order (writers then lock rows in one order).
    pub fn sort(&mut self) {
        self.hours.sort_by(|a, b| {
            (&a.certificate_id, a.serial, a.hour, &a.region_code).cmp(&(
                &b.certificate_id,
                b.serial,
                b.hour,
                &b.region_code,
            ))
        });
        self.counts
            .sort_by(|a, b| (&a.certificate_id, a.serial).cmp(&(&b.certificate_id, b.serial)));
        self.regions.sort_by(|a, b| {
            (&a.certificate_id, a.serial, &a.province).cmp(&(
                &b.certificate_id,
                b.serial,
                &b.province,
            ))
        });
        self.forged.sort_by(|a, b| {
            (&a.certificate_id, a.hour, &a.region_code).cmp(&(
                &b.certificate_id,
                b.hour,
                &b.region_code,
            ))
        });
    }

    /// Adds the batch to the stored aggregates. Call inside a transaction. Counters are added
    /// to, never overwritten, so several server instances can store at once.
    pub fn store(&self, conn: &mut DbConn) -> QueryResult<()> {
        match conn {
            DbConn::Sqlite(c) => self.store_sqlite(c),
            DbConn::Pg(c) => self.store_pg(c),
        }
    }

    fn store_sqlite(&self, c: &mut diesel::SqliteConnection) -> QueryResult<()> {
        use Bind::{Hour, Int, Text};
        let hours: Vec<_> = self
            .hours
            .iter()
            .map(|r| {
                vec![
                    Text(&r.certificate_id),
                    Int(r.serial),
                    Hour(r.hour),
                    Text(&r.region_code),
                    Int(r.scans),
                ]
            })
            .collect();
        sqlite_upsert(
            c,
            "INSERT INTO scan_hours (certificate_id, serial, hour, region_code, scans)",
            "ON CONFLICT (certificate_id, serial, hour, region_code) \
             DO UPDATE SET scans = scan_hours.scans + excluded.scans",
            &hours,
        )?;
        let counts: Vec<_> = self
            .counts
            .iter()
            .map(|r| vec![Text(&r.certificate_id), Int(r.serial), Int(r.scans)])
            .collect();
        sqlite_upsert(
            c,
            "INSERT INTO label_scans (certificate_id, serial, scans)",
            "ON CONFLICT (certificate_id, serial) \
             DO UPDATE SET scans = label_scans.scans + excluded.scans",
            &counts,
        )?;
        let forged: Vec<_> = self
            .forged
            .iter()
            .map(|r| {
                vec![
                    Text(&r.certificate_id),
                    Hour(r.hour),
                    Text(&r.region_code),
                    Int(r.scans),
                ]
            })
            .collect();
        sqlite_upsert(
            c,
            "INSERT INTO forged_scans (certificate_id, hour, region_code, scans)",
            "ON CONFLICT (certificate_id, hour, region_code) \
             DO UPDATE SET scans = forged_scans.scans + excluded.scans",
            &forged,
        )?;
        let regions: Vec<_> = self
            .regions
            .iter()
            .map(|r| {
                vec![
                    Text(&r.certificate_id),
                    Int(r.serial),
                    Text(&r.province),
                    Hour(r.last_hour),
                ]
            })
            .collect();
        sqlite_upsert(
            c,
            "INSERT INTO label_regions (certificate_id, serial, province, last_hour)",
            LATER_HOUR,
            &regions,
        )
    }

    fn store_pg(&self, conn: &mut diesel::PgConnection) -> QueryResult<()> {
        use diesel::dsl::sql;
        pg_upsert!(
            conn,
            self.hours,
            scan_hours,
            (certificate_id, serial, hour, region_code),
            scan_hours::scans.eq(scan_hours::scans + excluded(scan_hours::scans))
        );
        pg_upsert!(
            conn,
            self.counts,
            label_scans,
            (certificate_id, serial),
            label_scans::scans.eq(label_scans::scans + excluded(label_scans::scans))
        );
        pg_upsert!(
            conn,
            self.forged,
            forged_scans,
            (certificate_id, hour, region_code),
            forged_scans::scans.eq(forged_scans::scans + excluded(forged_scans::scans))
        );
        let later = sql::<diesel::sql_types::Timestamp>(LATER_HOUR_EXPR);
        pg_upsert!(
            conn,
            self.regions,
            label_regions,
            (certificate_id, serial, province),
            label_regions::last_hour.eq(later.clone())
        );
        Ok(())
    }
}

/// Stored signals of some labels of one certificate.
#[derive(Debug, Default)]
pub struct StoredSignals {
    /// (serial, scans), including [`ALL_LABELS`].
    pub counts: Vec<(i64, i64)>,
    /// (serial, province, last hour).
    pub regions: Vec<(i64, String, NaiveDateTime)>,
}

impl StoredSignals {
    /// The counters and provinces of `serials` (plus the certificate's total): two index
    /// lookups whose size does not depend on how often the labels were scanned.
    pub fn load(conn: &mut DbConn, certificate_id: &str, serials: &[i64]) -> QueryResult<Self> {
        let mut wanted = serials.to_vec();
        wanted.push(ALL_LABELS);
        let (counts, regions) = signals_of(conn, &[certificate_id], &wanted)?;
        Ok(Self {
            counts: counts.into_iter().map(|c| (c.serial, c.scans)).collect(),
            regions: regions
                .into_iter()
                .map(|r| (r.serial, r.province, r.last_hour))
                .collect(),
        })
    }
}

/// Stored counters and provinces of the labels `serials` of `certificate_ids` (a superset of
/// the pairs asked for), for the scan writer's read-back after a commit: two queries for up to
/// 500 certificates.
pub fn signals_of(
    conn: &mut DbConn,
    certificate_ids: &[&str],
    serials: &[i64],
) -> QueryResult<(Vec<LabelCount>, Vec<LabelRegion>)> {
    let (mut counts, mut regions) = (Vec::new(), Vec::new());
    for chunk in certificate_ids.chunks(super::INSERT_CHUNK) {
        counts.extend(
            label_scans::table
                .filter(label_scans::certificate_id.eq_any(chunk))
                .filter(label_scans::serial.eq_any(serials))
                .select((
                    label_scans::certificate_id,
                    label_scans::serial,
                    label_scans::scans,
                ))
                .load::<LabelCount>(conn)?,
        );
        regions.extend(
            label_regions::table
                .filter(label_regions::certificate_id.eq_any(chunk))
                .filter(label_regions::serial.eq_any(serials))
                .select((
                    label_regions::certificate_id,
                    label_regions::serial,
                    label_regions::province,
                    label_regions::last_hour,
                ))
                .load::<LabelRegion>(conn)?,
        );
    }
    Ok((counts, regions))
}

/// Forged-label scans of certificates whose producer is in a region, since `from`:
/// (certificate id, batch number, producer name, scans), most scans first. Reads one row per
/// certificate, hour and region, however many forged scans there were.
pub fn forged_in_region(
    conn: &mut DbConn,
    prefix: &str,
    from: NaiveDateTime,
    limit: usize,
) -> QueryResult<Vec<(String, String, String, i64)>> {
    use crate::db::schema::{certificates, organizations};
    let rows: Vec<(String, String, String, i64)> = forged_scans::table
        .inner_join(certificates::table.inner_join(organizations::table))
        .filter(forged_scans::hour.ge(from))
        .filter(organizations::region_code.like(format!("{prefix}%")))
        .select((
            forged_scans::certificate_id,
            certificates::batch_no,
            organizations::name,
            forged_scans::scans,
        ))
        .load(conn)?;
    let mut totals: std::collections::BTreeMap<String, (String, String, i64)> = Default::default();
    for (id, batch, name, n) in rows {
        totals.entry(id).or_insert((batch, name, 0)).2 += n;
    }
    let mut out: Vec<_> = totals
        .into_iter()
        .map(|(id, (batch, name, n))| (id, batch, name, n))
        .collect();
    out.sort_by(|a, b| b.3.cmp(&a.3).then_with(|| a.0.cmp(&b.0)));
    out.truncate(limit);
    Ok(out)
}

//! Consumer scans as aggregates (`label_scans`, `label_regions`, `scan_hours`, `forged_scans`):
//! stored coarse (hour and region only, never personal data) and folded into per-label
//! counters as they are written, so reading a label's signals never reads its scan history.
//!
//! Longer than 400 lines because the scan aggregates are upserted once per backend (SQLite and PostgreSQL differ in upsert and array syntax) and read back the same way.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::upsert::excluded;

use crate::db::schema::{forged_scans, label_regions, label_scans, scan_hours};
use crate::db::DbConn;

/// The `serial` of a certificate's batch label in the scan tables.
pub const BATCH_LABEL: i64 = 0;
/// The `serial` under which `label_scans` keeps the total over all of a certificate's labels.
pub const ALL_LABELS: i64 = -1;

/// The region code under which a label's scans (or a certificate's forged scans) of one hour
/// are counted beyond [`MAX_REGIONS_PER_HOUR`] distinct regions.
pub const OTHER_REGIONS: &str = "other";

/// Most distinct regions one label's scans (or one certificate's forged scans) are kept under
/// in one hour; with `""` (no region) and [`OTHER_REGIONS`], at most 34 rows an hour.
pub const MAX_REGIONS_PER_HOUR: usize = 32;

/// Whether `region` is a place (not `""`, none given, nor [`OTHER_REGIONS`]).
pub fn is_place(region: &str) -> bool {
    !region.is_empty() && region != OTHER_REGIONS
}

/// Scans of one label in one hour and region (`""` when the scanner gave none,
/// [`OTHER_REGIONS`] past [`MAX_REGIONS_PER_HOUR`]).
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

    /// Keeps every label (and every certificate's forged scans) to [`MAX_REGIONS_PER_HOUR`]
    /// distinct regions an hour, counting the regions already stored: a row that would add one
    /// more is added to the hour's [`OTHER_REGIONS`] row instead. Call inside the transaction
    /// that stores the batch; leaves the lists in key order.
    pub fn bound_regions(&mut self, conn: &mut DbConn) -> QueryResult<()> {
        self.sort();
        if self.hours.iter().any(|r| is_place(&r.region_code)) {
            let known = stored_hour_regions(conn, &self.hours)?;
            self.hours = fold_regions(std::mem::take(&mut self.hours), known);
        }
        if self.forged.iter().any(|r| is_place(&r.region_code)) {
            let known = stored_forged_regions(conn, &self.forged)?;
            self.forged = fold_regions(std::mem::take(&mut self.forged), known);
        }
        self.sort();
        Ok(())
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

/// A row counted per hour and region, for [`fold_regions`].
trait RegionRow {
    type Group: std::hash::Hash + Eq + Clone;
    /// The label (or certificate) and hour whose distinct regions are bounded.
    fn group(&self) -> Self::Group;
    fn region(&mut self) -> &mut String;
    fn scans(&mut self) -> &mut i64;
}

impl RegionRow for ScanHour {
    type Group = (String, i64, NaiveDateTime);
    fn group(&self) -> Self::Group {
        (self.certificate_id.clone(), self.serial, self.hour)
    }
    fn region(&mut self) -> &mut String {
        &mut self.region_code
    }
    fn scans(&mut self) -> &mut i64 {
        &mut self.scans
    }
}

impl RegionRow for ForgedHour {
    type Group = (String, NaiveDateTime);
    fn group(&self) -> Self::Group {
        (self.certificate_id.clone(), self.hour)
    }
    fn region(&mut self) -> &mut String {
        &mut self.region_code
    }
    fn scans(&mut self) -> &mut i64 {
        &mut self.scans
    }
}

type Known<G> = HashMap<G, HashSet<String>>;

/// `rows` (unique keys), with those that would take their group past
/// [`MAX_REGIONS_PER_HOUR`] distinct places (`known`: the places stored already) summed into
/// the group's [`OTHER_REGIONS`] row. Rows come in key order, so the lower codes are kept.
fn fold_regions<R: RegionRow>(rows: Vec<R>, mut known: Known<R::Group>) -> Vec<R> {
    let mut out: Vec<R> = Vec::with_capacity(rows.len());
    let mut other: HashMap<R::Group, usize> = HashMap::new();
    for mut row in rows {
        if is_place(row.region()) {
            let places = known.entry(row.group()).or_default();
            if places.contains(row.region().as_str()) || places.len() < MAX_REGIONS_PER_HOUR {
                places.insert(row.region().clone());
                out.push(row);
                continue;
            }
            *row.region() = OTHER_REGIONS.to_string();
        }
        if row.region() != OTHER_REGIONS {
            out.push(row);
            continue;
        }
        match other.get(&row.group()) {
            Some(&at) => *out[at].scans() += *row.scans(),
            None => {
                other.insert(row.group(), out.len());
                out.push(row);
            }
        }
    }
    out
}

fn sorted<T: Ord + Clone>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut items: Vec<T> = items.collect();
    items.sort_unstable();
    items.dedup();
    items
}

/// The places stored for the labels and hours of `rows` (a superset: every pair of their
/// certificates and serials).
fn stored_hour_regions(
    conn: &mut DbConn,
    rows: &[ScanHour],
) -> QueryResult<Known<(String, i64, NaiveDateTime)>> {
    let wanted = rows.iter().filter(|r| is_place(&r.region_code));
    let ids = sorted(wanted.clone().map(|r| r.certificate_id.as_str()));
    let serials = sorted(wanted.clone().map(|r| r.serial));
    let hours = sorted(wanted.map(|r| r.hour));
    let mut known = Known::new();
    for ids in ids.chunks(super::INSERT_CHUNK) {
        for serials in serials.chunks(super::INSERT_CHUNK) {
            let stored: Vec<(String, i64, NaiveDateTime, String)> = scan_hours::table
                .filter(scan_hours::certificate_id.eq_any(ids))
                .filter(scan_hours::serial.eq_any(serials))
                .filter(scan_hours::hour.eq_any(&hours))
                .filter(scan_hours::region_code.ne(""))
                .filter(scan_hours::region_code.ne(OTHER_REGIONS))
                .select((
                    scan_hours::certificate_id,
                    scan_hours::serial,
                    scan_hours::hour,
                    scan_hours::region_code,
                ))
                .load(conn)?;
            for (id, serial, hour, region) in stored {
                known
                    .entry((id, serial, hour))
                    .or_insert_with(HashSet::new)
                    .insert(region);
            }
        }
    }
    Ok(known)
}

/// The places stored for the certificates and hours of `rows`.
fn stored_forged_regions(
    conn: &mut DbConn,
    rows: &[ForgedHour],
) -> QueryResult<Known<(String, NaiveDateTime)>> {
    let wanted = rows.iter().filter(|r| is_place(&r.region_code));
    let ids = sorted(wanted.clone().map(|r| r.certificate_id.as_str()));
    let hours = sorted(wanted.map(|r| r.hour));
    let mut known = Known::new();
    for ids in ids.chunks(super::INSERT_CHUNK) {
        let stored: Vec<(String, NaiveDateTime, String)> = forged_scans::table
            .filter(forged_scans::certificate_id.eq_any(ids))
            .filter(forged_scans::hour.eq_any(&hours))
            .filter(forged_scans::region_code.ne(""))
            .filter(forged_scans::region_code.ne(OTHER_REGIONS))
            .select((
                forged_scans::certificate_id,
                forged_scans::hour,
                forged_scans::region_code,
            ))
            .load(conn)?;
        for (id, hour, region) in stored {
            known
                .entry((id, hour))
                .or_insert_with(HashSet::new)
                .insert(region);
        }
    }
    Ok(known)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn row(serial: i64, region: &str, scans: i64) -> ScanHour {
        ScanHour {
            certificate_id: "c".into(),
            serial,
            hour: NaiveDateTime::default(),
            region_code: region.into(),
            scans,
        }
    }

    #[test]
    fn regions_past_the_bound_are_summed_into_one_row() {
        let codes: Vec<String> = (0..40).map(|n| format!("43{n:02}00")).collect();
        let mut rows: Vec<ScanHour> = codes.iter().map(|c| row(7, c, 2)).collect();
        rows.push(row(7, "", 5));
        rows.push(row(8, "430100", 1));
        // Three places already stored for unit 7 this hour, one of them again in the batch.
        let mut known = Known::new();
        let stored: HashSet<String> = ["510100", "520100", "430000"].map(String::from).into();
        known.insert(("c".to_string(), 7, NaiveDateTime::default()), stored);
        let out = fold_regions(rows, known);
        let of_7: Vec<&ScanHour> = out.iter().filter(|r| r.serial == 7).collect();
        let places = of_7.iter().filter(|r| is_place(&r.region_code)).count();
        // 430000 was stored already: 2 more stored places leave room for 30 new ones.
        assert_eq!(places, MAX_REGIONS_PER_HOUR - 2);
        let other = of_7
            .iter()
            .find(|r| r.region_code == OTHER_REGIONS)
            .unwrap();
        assert_eq!(other.scans, 2 * (40 - places as i64));
        assert_eq!(of_7.iter().map(|r| r.scans).sum::<i64>(), 40 * 2 + 5);
        assert_eq!(of_7.len(), places + 2, "places, none and other");
        assert_eq!(
            out.iter().filter(|r| r.serial == 8).count(),
            1,
            "another label"
        );
    }
}

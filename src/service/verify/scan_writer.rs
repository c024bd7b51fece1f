//! Group commit of consumer scans. A verification never waits for storage: it adds its scan
//! to an in-memory batch of aggregates (scans per label, hour and region; per-label counters;
//! last hour per province; forged scans per certificate and hour; newly raised copy warnings)
//! and returns. A label keeps at most `MAX_REGIONS_PER_HOUR` distinct regions an hour (the
//! rest are counted as `OTHER_REGIONS`), so no choice of region codes multiplies its rows.
//! One writer thread stores whatever has gathered in one transaction, reads the
//! touched counters back (so several server instances converge), and starts again.
//!
//! The batch is bounded by distinct keys, not by scans: a flood on one label adds to one
//! counter. When `capacity` distinct keys wait, callers wait for the writer (back-pressure,
//! counted in `/metrics`) up to the configured database wait; a scan that still finds no room
//! is dropped and counted. On a crash, the scans of the batch being gathered (a quarter of a
//! second of traffic, up to a second while commits are slow) are lost; committed aggregates
//! are not.
//!
//! Longer than 400 lines because the queue, its bounds and the writer thread share one lock's invariants.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use chrono::NaiveDateTime;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;

use crate::db::models::scan::{
    is_place, signals_of, ForgedHour, LabelCount, LabelRegion, ScanBatch, ScanHour, ALL_LABELS,
    MAX_REGIONS_PER_HOUR, OTHER_REGIONS,
};
use crate::db::models::{now, SeenWarning};
use crate::db::{Db, DbConn};
use crate::domain::region::province;

use crate::service::verify::scan_counters::LabelSignals;

/// Figures for `/metrics`.
#[derive(Clone, Default)]
pub struct ScanMetrics {
    /// Distinct keys waiting to be stored.
    pub queued: Gauge,
    /// Callers that found the queue full and waited for the writer.
    pub waits: Counter,
    /// Scans dropped because the queue stayed full (storage down or far behind).
    pub dropped: Counter,
    /// Scans committed.
    pub stored: Counter,
    /// Transactions the writer committed.
    pub commits: Counter,
    /// Transactions that failed (retried).
    pub failures: Counter,
}

/// A consumer scan of a label that verified.
pub struct Genuine {
    pub certificate_id: Arc<str>,
    /// The unit serial, or `BATCH_LABEL`.
    pub serial: i64,
    pub hour: NaiveDateTime,
    pub region: Option<String>,
    /// The label's signals and the certificate's total, told when the scan is committed.
    pub label: Arc<LabelSignals>,
    pub total: Arc<LabelSignals>,
}

/// Least time between the starts of two commits: scans gathered meanwhile are summed into one
/// transaction, so a busy label costs one upsert per interval, not one per scan. A flush
/// (tests, shutdown) does not wait for it.
const GATHER: Duration = Duration::from_millis(250);

/// The most that interval grows to while commits are slow: scans of many distinct labels (a
/// province's shoppers, not one popular label) make each commit long, and the writer then
/// waits [`DUTY`] times its last commit's duration, so that it stores more scans per row
/// written instead of taking the cores the verifications need.
const MAX_GATHER: Duration = Duration::from_secs(1);

/// The writer spends about one part in `DUTY` of its time storing, at most.
const DUTY: u32 = 8;

/// The interval before the next commit, after one that took `stored_in`.
fn gather_after(stored_in: Duration) -> Duration {
    stored_in.saturating_mul(DUTY).clamp(GATHER, MAX_GATHER)
}

/// A scan of a label that named a certificate but did not verify.
pub struct Forged {
    pub certificate_id: Arc<str>,
    pub hour: NaiveDateTime,
    pub region: Option<String>,
}

type LabelKey = (Arc<str>, i64);
/// The in-memory signals that counted a label's waiting scans, and how many each.
type CountedBy = Vec<(Arc<LabelSignals>, i64)>;

#[derive(Default)]
struct Gathered {
    hours: HashMap<(Arc<str>, i64, NaiveDateTime, String), i64>,
    /// Scans per label, and which in-memory signals counted them (a label's signals may be
    /// evicted and loaded again while its scans wait: each is told what it counted).
    counts: HashMap<LabelKey, (i64, CountedBy)>,
    regions: HashMap<(Arc<str>, i64, String), NaiveDateTime>,
    forged: HashMap<(Arc<str>, NaiveDateTime, String), i64>,
    warnings: HashSet<(Arc<str>, i64, &'static str)>,
    scans: u64,
    /// Distinct places each label (serial [`FORGED`]: each certificate's forged scans) has in
    /// this batch per hour: past [`MAX_REGIONS_PER_HOUR`], scans wait as [`OTHER_REGIONS`], so
    /// a spray of region codes adds few keys. The store bounds again with what is stored.
    places: HashMap<(Arc<str>, i64, NaiveDateTime), usize>,
}

/// The serial under which [`Gathered::places`] counts a certificate's forged scans.
const FORGED: i64 = i64::MIN;

impl Gathered {
    fn keys(&self) -> usize {
        self.hours.len() + self.forged.len() + self.warnings.len()
    }

    fn is_empty(&self) -> bool {
        self.keys() == 0
    }

    /// `region`, or [`OTHER_REGIONS`] when it would be one place too many for the label
    /// (`serial`) and hour in this batch; `known`: whether the batch holds it already.
    fn bounded(
        &mut self,
        id: &Arc<str>,
        serial: i64,
        hour: NaiveDateTime,
        region: &str,
        known: bool,
    ) -> String {
        if !is_place(region) || known {
            return region.to_string();
        }
        let places = self.places.entry((id.clone(), serial, hour)).or_default();
        if *places >= MAX_REGIONS_PER_HOUR {
            return OTHER_REGIONS.to_string();
        }
        *places += 1;
        region.to_string()
    }

    fn add(&mut self, scan: Genuine) {
        let region = scan.region.unwrap_or_default();
        let mut key = (
            scan.certificate_id.clone(),
            scan.serial,
            scan.hour,
            region.clone(),
        );
        let known = self.hours.contains_key(&key);
        key.3 = self.bounded(&scan.certificate_id, scan.serial, scan.hour, &region, known);
        *self.hours.entry(key).or_default() += 1;
        for (serial, signals) in [(scan.serial, scan.label), (ALL_LABELS, scan.total)] {
            let (n, counted_by) = self
                .counts
                .entry((scan.certificate_id.clone(), serial))
                .or_default();
            *n += 1;
            match counted_by
                .iter_mut()
                .find(|(s, _)| Arc::ptr_eq(s, &signals))
            {
                Some((_, k)) => *k += 1,
                None => counted_by.push((signals, 1)),
            }
        }
        if !region.is_empty() {
            let last = self
                .regions
                .entry((
                    scan.certificate_id,
                    scan.serial,
                    province(&region).to_string(),
                ))
                .or_insert(scan.hour);
            *last = (*last).max(scan.hour);
        }
        self.scans += 1;
    }

    fn add_forged(&mut self, scan: Forged) {
        let mut key = (
            scan.certificate_id.clone(),
            scan.hour,
            scan.region.unwrap_or_default(),
        );
        let known = self.forged.contains_key(&key);
        key.2 = self.bounded(&scan.certificate_id, FORGED, scan.hour, &key.2, known);
        *self.forged.entry(key).or_default() += 1;
        self.scans += 1;
    }
}

struct Queue {
    gathered: Gathered,
    /// Sequence of the last item added, and of the last item committed (or given up on).
    added: u64,
    done: u64,
    stop: bool,
    /// A caller waits for a flush: commit without waiting for [`GATHER`].
    urgent: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    /// The writer waits here for work.
    work: Condvar,
    /// Callers wait here for room or for a flush.
    progress: Condvar,
    capacity: usize,
    wait: Duration,
    metrics: ScanMetrics,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The handle callers record scans through; the writer thread ends when it is dropped.
pub struct ScanWriter {
    shared: Arc<Shared>,
}

/// What a caller offers the queue.
enum Item {
    Genuine(Genuine),
    Forged(Forged),
    Warning(Arc<str>, i64, &'static str),
}

impl ScanWriter {
    /// Starts the writer thread. `capacity` bounds distinct waiting keys; a caller waits at
    /// most `wait` for room.
    #[expect(
        clippy::expect_used,
        reason = "runs once at start-up: a server that cannot start its worker thread cannot run"
    )]
    pub fn start(db: Db, capacity: usize, wait: Duration, metrics: ScanMetrics) -> Self {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue {
                gathered: Gathered::default(),
                added: 0,
                done: 0,
                stop: false,
                urgent: false,
            }),
            work: Condvar::new(),
            progress: Condvar::new(),
            capacity: capacity.max(1),
            wait,
            metrics,
        });
        let writer = shared.clone();
        std::thread::Builder::new()
            .name("scan-writer".into())
            .spawn(move || run(&db, &writer))
            .expect("spawn the scan writer thread");
        Self { shared }
    }

    /// Adds a verified scan without waiting; `Err` gives it back when the queue is full.
    pub fn try_record(&self, scan: Genuine) -> Result<(), Genuine> {
        self.offer(Item::Genuine(scan), false)
            .map_err(|item| match item {
                Item::Genuine(g) => g,
                _ => unreachable!("offer returns what it was given"),
            })
    }

    /// Adds a verified scan, waiting for room if the queue is full (blocking callers only);
    /// `Err` gives it back when it was dropped after the wait.
    pub fn record(&self, scan: Genuine) -> Result<(), Genuine> {
        self.offer(Item::Genuine(scan), true)
            .map_err(|item| match item {
                Item::Genuine(g) => g,
                _ => unreachable!("offer returns what it was given"),
            })
    }

    /// Counts a forged scan if there is room; never waits (a flood must not hold anyone up),
    /// and a forged scan that finds the queue full is dropped and counted.
    pub fn record_forged(&self, scan: Forged) {
        if self.offer(Item::Forged(scan), false).is_err() {
            self.shared.metrics.dropped.inc();
        }
    }

    /// Keeps a copy warning a scan raised (stored once per label and code); `false` if the
    /// queue is full (the next scan that raises it tries again).
    pub fn remember(&self, certificate_id: Arc<str>, serial: i64, code: &'static str) -> bool {
        self.offer(Item::Warning(certificate_id, serial, code), false)
            .is_ok()
    }

    fn offer(&self, item: Item, wait: bool) -> Result<(), Item> {
        let shared = &self.shared;
        let mut queue = shared.lock();
        if queue.gathered.keys() >= shared.capacity {
            if !wait {
                return Err(item);
            }
            shared.metrics.waits.inc();
            let (q, timeout) = shared
                .progress
                .wait_timeout_while(queue, shared.wait, |q| q.gathered.keys() >= shared.capacity)
                .unwrap_or_else(|e| e.into_inner());
            queue = q;
            if timeout.timed_out() {
                shared.metrics.dropped.inc();
                log::warn!("scan queue full for {:?}: a scan was dropped", shared.wait);
                return Err(item);
            }
        }
        match item {
            Item::Genuine(scan) => queue.gathered.add(scan),
            Item::Forged(scan) => queue.gathered.add_forged(scan),
            Item::Warning(id, serial, code) => {
                queue.gathered.warnings.insert((id, serial, code));
            }
        }
        queue.added += 1;
        shared.metrics.queued.set(queue.gathered.keys() as i64);
        drop(queue);
        shared.work.notify_one();
        Ok(())
    }

    /// Waits until everything added before this call is committed (tests, shutdown), at most
    /// 30 s (storage that is down does not hang the caller); `false` if it was not.
    pub fn flush(&self) -> bool {
        self.flush_within(Duration::from_secs(30))
    }

    fn flush_within(&self, limit: Duration) -> bool {
        let shared = &self.shared;
        let mut queue = shared.lock();
        let target = queue.added;
        queue.urgent = true;
        shared.work.notify_all();
        let (queue, _) = shared
            .progress
            .wait_timeout_while(queue, limit, |q| q.done < target && !q.stop)
            .unwrap_or_else(|e| e.into_inner());
        queue.done >= target
    }
}

impl Drop for ScanWriter {
    fn drop(&mut self) {
        if !self.flush_within(Duration::from_secs(5)) {
            log::warn!("scans not yet stored at shutdown were lost");
        }
        self.shared.lock().stop = true;
        self.shared.work.notify_all();
    }
}

fn run(db: &Db, shared: &Shared) {
    let mut last_commit = std::time::Instant::now() - GATHER;
    let mut gather = GATHER;
    loop {
        let (gathered, upto) = {
            let queue = shared.lock();
            let queue = shared
                .work
                .wait_while(queue, |q| q.gathered.is_empty() && !q.stop)
                .unwrap_or_else(|e| e.into_inner());
            // Let scans gather until `gather` has passed since the last commit began.
            let rest = gather.saturating_sub(last_commit.elapsed());
            let (mut queue, _) = shared
                .work
                .wait_timeout_while(queue, rest, |q| {
                    !q.urgent && !q.stop && q.gathered.keys() < shared.capacity
                })
                .unwrap_or_else(|e| e.into_inner());
            if queue.gathered.is_empty() && queue.stop {
                return;
            }
            queue.urgent = false;
            last_commit = std::time::Instant::now();
            let gathered = std::mem::take(&mut queue.gathered);
            shared.metrics.queued.set(0);
            (gathered, queue.added)
        };
        // Room again: callers waiting for it may go on while this batch is stored.
        shared.progress.notify_all();
        let scans = gathered.scans;
        let mut delay = Duration::from_millis(50);
        loop {
            match store(db, &gathered) {
                Ok(()) => {
                    shared.metrics.stored.inc_by(scans);
                    shared.metrics.commits.inc();
                    break;
                }
                Err(e) => {
                    shared.metrics.failures.inc();
                    crate::db::storage_failed();
                    log::error!("storing {scans} scans failed (retrying in {delay:?}): {e}");
                    if shared.lock().stop {
                        shared.metrics.dropped.inc_by(scans);
                        break;
                    }
                    std::thread::sleep(delay);
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        }
        gather = gather_after(last_commit.elapsed());
        let mut queue = shared.lock();
        queue.done = upto;
        drop(queue);
        shared.progress.notify_all();
    }
}

/// Stores one batch in one transaction, then tells each label's signals what is committed.
fn store(db: &Db, gathered: &Gathered) -> Result<(), String> {
    let mut batch = ScanBatch {
        hours: gathered
            .hours
            .iter()
            .map(|((id, serial, hour, region), n)| ScanHour {
                certificate_id: id.to_string(),
                serial: *serial,
                hour: *hour,
                region_code: region.clone(),
                scans: *n,
            })
            .collect(),
        counts: gathered
            .counts
            .iter()
            .map(|((id, serial), (n, _))| LabelCount {
                certificate_id: id.to_string(),
                serial: *serial,
                scans: *n,
            })
            .collect(),
        regions: gathered
            .regions
            .iter()
            .map(|((id, serial, province), hour)| LabelRegion {
                certificate_id: id.to_string(),
                serial: *serial,
                province: province.clone(),
                last_hour: *hour,
            })
            .collect(),
        forged: gathered
            .forged
            .iter()
            .map(|((id, hour, region), n)| ForgedHour {
                certificate_id: id.to_string(),
                hour: *hour,
                region_code: region.clone(),
                scans: *n,
            })
            .collect(),
    };
    let seen = now();
    let mut warnings: Vec<&(Arc<str>, i64, &'static str)> = gathered.warnings.iter().collect();
    warnings.sort();
    let warnings: Vec<SeenWarning> = warnings
        .into_iter()
        .map(|(id, serial, code)| SeenWarning {
            certificate_id: id.to_string(),
            serial: *serial,
            code: code.to_string(),
            first_seen: seen,
        })
        .collect();
    {
        let mut pooled = db.writer().map_err(|e| e.to_string())?;
        let conn: &mut DbConn = &mut pooled;
        crate::db::write_transaction(conn, |conn| {
            // Also puts the rows in one order for every writer, so two instances never lock
            // the same rows in opposite orders (PostgreSQL would abort one as a deadlock).
            batch.bound_regions(conn)?;
            batch.store(conn)?;
            SeenWarning::insert_new(conn, &warnings)
        })
        .map_err(|e: diesel::result::Error| e.to_string())?;
    }
    // Read back on a reader, so SQLite's one writer is free for other writes meanwhile.
    let stored = db
        .reader()
        .map_err(|e| e.to_string())
        .and_then(|mut conn| read_back(&mut conn, gathered).map_err(|e| e.to_string()));
    for (key, (_, counted_by)) in &gathered.counts {
        let now_stored = stored.as_ref().ok().and_then(|s| s.get(key));
        for (signals, n) in counted_by {
            signals.committed(
                *n,
                now_stored.map(|(count, provinces)| (*count, provinces.as_slice())),
            );
        }
    }
    if let Err(e) = stored {
        log::warn!("reading scan counters back failed: {e}");
    }
    Ok(())
}

type ReadBack = HashMap<LabelKey, (i64, Vec<(String, NaiveDateTime)>)>;

/// The committed counters and provinces of the labels in `gathered`, as the database holds
/// them now (other instances' scans included): two queries per 500 certificates.
fn read_back(conn: &mut DbConn, gathered: &Gathered) -> diesel::QueryResult<ReadBack> {
    let mut ids: Vec<&str> = gathered.counts.keys().map(|(id, _)| id.as_ref()).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut serials: Vec<i64> = gathered.counts.keys().map(|(_, serial)| *serial).collect();
    serials.sort_unstable();
    serials.dedup();
    let (counts, regions) = signals_of(conn, &ids, &serials)?;
    let mut out = ReadBack::new();
    let wanted = |id: &str, serial: i64| -> Option<LabelKey> {
        let key = (Arc::<str>::from(id), serial);
        gathered.counts.contains_key(&key).then_some(key)
    };
    for row in counts {
        if let Some(key) = wanted(&row.certificate_id, row.serial) {
            out.entry(key).or_default().0 = row.scans;
        }
    }
    for row in regions {
        if let Some(key) = wanted(&row.certificate_id, row.serial) {
            out.entry(key)
                .or_default()
                .1
                .push((row.province, row.last_hour));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interval_grows_with_slow_commits_between_its_bounds() {
        let ms = Duration::from_millis;
        assert_eq!(gather_after(ms(1)), GATHER);
        assert_eq!(gather_after(ms(31)), GATHER);
        assert_eq!(gather_after(ms(32)), ms(256));
        assert_eq!(gather_after(ms(100)), ms(800));
        assert_eq!(gather_after(ms(125)), MAX_GATHER);
        assert_eq!(gather_after(Duration::from_secs(30)), MAX_GATHER);
    }
}

//! The verification cache: certificate records (bounded by bytes) and label signals (bounded
//! by entries), in process memory. A record is dropped when a write in this process changes
//! it (right after the commit), when another instance's change is polled, or at the latest
//! after `CERTRAIL_VERIFY_CACHE_TTL_SECS`, so an edit made behind the platform's back still
//! shows then.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::metrics::gauge::Gauge;
use quick_cache::sync::Cache;
use quick_cache::Weighter;

use crate::service::changes::Changed;
use crate::service::verify::scan_counters::SignalCache;

use crate::service::verify::record::{Record, STATUS_NOT_CURRENT};

#[derive(Clone)]
struct RecordWeight;

impl Weighter<Arc<str>, Arc<Record>> for RecordWeight {
    fn weight(&self, _key: &Arc<str>, record: &Arc<Record>) -> u64 {
        record.weight()
    }
}

/// Cached records and label signals.
pub struct VerifyCache {
    records: Cache<Arc<str>, Arc<Record>, RecordWeight>,
    pub signals: SignalCache,
    ttl: Duration,
    /// Bumped by every invalidation: a record read while it changed is not kept.
    epoch: AtomicU64,
    pub metrics: CacheMetrics,
}

/// Figures for `/metrics`, set as records come and go.
#[derive(Clone, Default)]
pub struct CacheMetrics {
    /// Records held.
    pub records: Gauge,
    /// What they weigh (approximate bytes, the figure `CERTRAIL_VERIFY_CACHE_MB` bounds).
    pub bytes: Gauge,
}

impl CacheMetrics {
    pub fn register(&self, metrics: &mut crate::metrics::Metrics) {
        metrics.register(
            "verify_cache_records",
            "Certificate records in the verification cache",
            self.records.clone(),
        );
        metrics.register(
            "verify_cache_bytes",
            "Approximate bytes of the records in the verification cache",
            self.bytes.clone(),
        );
    }
}

/// Label signals take about this many bytes each (key, counters, a province or two).
const SIGNAL_BYTES: u64 = 160;

impl VerifyCache {
    /// A cache of about `bytes` (records get six sevenths, label signals the rest: two
    /// entries, the label and the certificate's total, per certificate scanned).
    pub fn new(bytes: u64, ttl: Duration) -> Self {
        let record_bytes = bytes / 7 * 6;
        let estimated = usize::try_from(record_bytes / 3000)
            .unwrap_or(usize::MAX)
            .max(16);
        Self {
            records: Cache::with_weighter(estimated, record_bytes.max(1 << 16), RecordWeight),
            signals: SignalCache::new(usize::try_from(bytes / 7 / SIGNAL_BYTES).unwrap_or(16)),
            ttl,
            epoch: AtomicU64::new(0),
            metrics: CacheMetrics::default(),
        }
    }

    fn measure(&self) {
        let to_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        self.metrics.records.set(to_i64(self.records.len() as u64));
        self.metrics.bytes.set(to_i64(self.records.weight()));
    }

    /// The cached record of `id`, if it is there and fresh.
    pub fn record(&self, id: &str) -> Option<Arc<Record>> {
        let record = self.records.get(id)?;
        (record.loaded.elapsed() < self.ttl.min(record.fresh_for)).then_some(record)
    }

    /// While the database cannot be read (before the change poller counts the primary as
    /// away, or with no replica), the record of `id` last read if still cached, however old:
    /// a copy marked [`STATUS_NOT_CURRENT`], for one answer, not kept.
    pub fn last_known(&self, id: &str) -> Option<Arc<Record>> {
        let mut record = Record::clone(&*self.records.get(id)?);
        if !record.warnings.contains(&STATUS_NOT_CURRENT) {
            record.warnings.push(STATUS_NOT_CURRENT);
        }
        Some(Arc::new(record))
    }

    /// Whether the records held weigh nine tenths of what the cache may hold (filling it
    /// further would only push records out).
    pub fn nearly_full(&self) -> bool {
        self.records.weight() >= self.records.capacity() / 10 * 9
    }

    /// Records held.
    pub fn held(&self) -> usize {
        self.records.len()
    }

    /// The current epoch; pass it to [`Self::keep`] with what was read after taking it.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Keeps `record`, read since `epoch`, unless something was invalidated meanwhile (then
    /// it may be stale; the next request reads it again). Inserted first and checked after,
    /// so an invalidation landing in between still removes it.
    pub fn keep(&self, epoch: u64, record: Arc<Record>) {
        let id = record.id.clone();
        self.records.insert(id.clone(), record);
        if self.epoch() != epoch {
            self.records.remove(&id);
        }
        self.measure();
    }

    /// Drops what `changed` makes stale.
    pub fn invalidate(&self, changed: &Changed) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        match changed {
            Changed::Certificate(id) => {
                self.records.remove(id.as_str());
            }
            Changed::Everything => self.records.clear(),
        }
        self.measure();
    }

    /// Drops every record and label signal (tests that edit the database directly).
    pub fn clear(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.records.clear();
        self.signals.clear();
        self.measure();
    }
}

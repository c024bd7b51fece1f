//! Scan counters of labels in memory, which copy detection's rules ([`crate::domain::copy`])
//! read: each label's scan count and the last hour it was scanned
//! in each province, loaded once from the stored aggregates and then kept current as this
//! process records scans (and corrected by what the scan writer reads back after each commit,
//! which includes other server instances' scans). A verification reads these, never the
//! database, so its cost does not depend on how often a label was scanned.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use chrono::NaiveDateTime;

use crate::db::models::scan::StoredSignals;
use crate::domain::region::province;

/// One label's scans (or, under serial `ALL_LABELS`, a certificate's total).
#[derive(Debug, Default)]
pub struct LabelSignals {
    state: Mutex<SignalState>,
}

#[derive(Debug, Default, Clone)]
struct SignalState {
    /// Scans committed to the database, as last read or written by this process.
    stored: i64,
    /// Scans this process recorded that the scan writer has not committed yet.
    pending: i64,
    /// (province, last hour scanned there); at most one entry per province.
    provinces: Vec<(String, NaiveDateTime)>,
}

/// A snapshot for copy detection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Scans so far, this one included.
    pub scans: i64,
    /// Provinces scanned in at or after the start of the copy window.
    pub provinces_in_window: usize,
    /// Scans of all the certificate's labels (filled in by the caller that knows it).
    pub certificate_total: i64,
}

impl LabelSignals {
    /// Signals as stored: `serial`'s counter and provinces from `stored`.
    pub fn from_stored(stored: &StoredSignals, serial: i64) -> Self {
        let count = stored
            .counts
            .iter()
            .find(|(s, _)| *s == serial)
            .map_or(0, |(_, n)| *n);
        let provinces = stored
            .regions
            .iter()
            .filter(|(s, _, _)| *s == serial)
            .map(|(_, p, at)| (p.clone(), *at))
            .collect();
        Self {
            state: Mutex::new(SignalState {
                stored: count,
                pending: 0,
                provinces,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SignalState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts one scan at `hour` (in `region`, if known) and returns the label's signals with
    /// the copy window starting at `window_start`.
    pub fn record(
        &self,
        hour: NaiveDateTime,
        region: Option<&str>,
        window_start: NaiveDateTime,
    ) -> Snapshot {
        let mut state = self.lock();
        state.pending += 1;
        if let Some(region) = region {
            merge_province(&mut state.provinces, province(region), hour);
        }
        snapshot(&state, window_start)
    }

    /// Takes back one scan counted by [`Self::record`] that could not be queued (the caller
    /// records it again on the waiting path).
    pub fn forget_one(&self) {
        let mut state = self.lock();
        state.pending = (state.pending - 1).max(0);
    }

    /// The signals without counting a scan.
    pub fn peek(&self, window_start: NaiveDateTime) -> Snapshot {
        snapshot(&self.lock(), window_start)
    }

    /// The scan writer committed `n` of this label's pending scans; `stored` is what the
    /// database holds now (including other instances' scans), if it was read back.
    pub fn committed(&self, n: i64, stored: Option<(i64, &[(String, NaiveDateTime)])>) {
        let mut state = self.lock();
        state.pending = (state.pending - n).max(0);
        match stored {
            Some((count, provinces)) => {
                state.stored = count;
                for (p, at) in provinces {
                    merge_province(&mut state.provinces, p, *at);
                }
            }
            None => state.stored += n,
        }
    }
}

fn merge_province(provinces: &mut Vec<(String, NaiveDateTime)>, code: &str, at: NaiveDateTime) {
    match provinces.iter_mut().find(|(p, _)| p == code) {
        Some((_, last)) => *last = (*last).max(at),
        None => provinces.push((code.to_string(), at)),
    }
}

fn snapshot(state: &SignalState, window_start: NaiveDateTime) -> Snapshot {
    Snapshot {
        scans: state.stored + state.pending,
        provinces_in_window: state
            .provinces
            .iter()
            .filter(|(_, at)| *at >= window_start)
            .count(),
        certificate_total: 0,
    }
}

/// Signals of recently seen labels, keyed by (certificate id, serial), bounded in entries.
pub struct SignalCache {
    cache: quick_cache::sync::Cache<(Arc<str>, i64), Arc<LabelSignals>>,
}

impl SignalCache {
    pub fn new(entries: usize) -> Self {
        Self {
            cache: quick_cache::sync::Cache::new(entries.max(16)),
        }
    }

    pub fn get(&self, id: &Arc<str>, serial: i64) -> Option<Arc<LabelSignals>> {
        self.cache.get(&(id.clone(), serial))
    }

    /// Keeps `loaded` for `serial`, unless another request loaded it first (then that one
    /// is kept, with any scans it already counted).
    pub fn insert(&self, id: &Arc<str>, serial: i64, loaded: LabelSignals) -> Arc<LabelSignals> {
        let key = (id.clone(), serial);
        match self
            .cache
            .get_or_insert_with(&key, || Ok::<_, ()>(Arc::new(loaded)))
        {
            Ok(found) => found,
            Err(()) => unreachable!("the loader cannot fail"),
        }
    }

    pub fn clear(&self) {
        self.cache.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 30)
            .unwrap()
            .and_hms_opt(h, 0, 0)
            .unwrap()
    }

    #[test]
    fn counts_and_provinces_are_kept_without_history() {
        let s = LabelSignals::default();
        assert_eq!(s.record(at(1), Some("430702"), at(0)).scans, 1);
        // Same province again: still one province.
        let snap = s.record(at(2), Some("430100"), at(0));
        assert_eq!((snap.scans, snap.provinces_in_window), (2, 1));
        let snap = s.record(at(3), Some("110000"), at(0));
        assert_eq!(snap.provinces_in_window, 2);
        // A window starting after the Hunan scans leaves Beijing only.
        assert_eq!(s.peek(at(3)).provinces_in_window, 1);
        // The window's start is inclusive.
        assert_eq!(s.peek(at(2)).provinces_in_window, 2);
        // No region: counted, no province.
        assert_eq!(s.record(at(4), None, at(0)).scans, 4);
    }

    #[test]
    fn commits_move_pending_to_stored_and_read_back_wins() {
        let s = LabelSignals::default();
        for _ in 0..5 {
            s.record(at(1), None, at(0));
        }
        s.committed(3, None);
        assert_eq!(s.peek(at(0)).scans, 5);
        // Read back: the database holds 10 (another instance stored 7), 2 still pending.
        s.committed(0, Some((10, &[("44".to_string(), at(5))])));
        let snap = s.peek(at(0));
        assert_eq!((snap.scans, snap.provinces_in_window), (12, 1));
    }
}

/// Copy warnings a record's process already handed to the scan writer: (serial, code). A
/// clone holds what the original held then.
#[derive(Default)]
pub struct Remembered(Mutex<HashSet<(i64, &'static str)>>);

impl std::ops::Deref for Remembered {
    type Target = Mutex<HashSet<(i64, &'static str)>>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl Clone for Remembered {
    fn clone(&self) -> Self {
        Self(Mutex::new(
            self.0.lock().unwrap_or_else(|e| e.into_inner()).clone(),
        ))
    }
}

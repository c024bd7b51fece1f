//! Copied-label signals. They raise warnings and never change a verdict: a label is never
//! "bricked" by being scanned.

use chrono::{Duration, NaiveDateTime};

use super::region::province;
use super::text::Bilingual;

/// Limits beyond which scans look like copies (configurable, see `Config`).
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    /// Scans of one unit in two provinces within this many hours look like a copy.
    pub window_hours: i64,
    /// More scans than this of one unit label look like a copy.
    pub max_unit_scans: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            window_hours: 24,
            max_unit_scans: 20,
        }
    }
}

/// What is known about one label when it is verified.
#[derive(Debug, Clone, Default)]
pub struct LabelFacts {
    /// The unit serial, for unit labels.
    pub serial: Option<i64>,
    /// Units in the batch (the batch quantity).
    pub quantity: i64,
    /// Consumer scans of this label so far, this one included.
    pub scans: i64,
    /// (hour, region) of this label's consumer scans.
    pub scan_places: Vec<(NaiveDateTime, Option<String>)>,
    /// Distinct retailers that recorded intake of this unit.
    pub unit_receivers: usize,
    /// Whether any shipment or intake was recorded for this label's goods.
    pub custody_recorded: bool,
}

/// A warning: snake_case code and plain-language message in both languages.
pub type Warning = (&'static str, Bilingual);

/// The copy signals `facts` show.
pub fn warnings(facts: &LabelFacts, limits: Thresholds) -> Vec<Warning> {
    let mut out = Vec::new();
    if facts.serial.is_some() && far_apart(&facts.scan_places, limits.window_hours) {
        out.push((
            "scanned_far_apart",
            Bilingual::new(
                format!("这个单品标签在{}小时内于不同省份被扫描，可能是复制标签。", limits.window_hours),
                format!("This unit label was scanned in different provinces within {} hours: it may be copied.", limits.window_hours),
            ),
        ));
    }
    let too_many = match facts.serial {
        Some(_) => facts.scans > limits.max_unit_scans,
        None => facts.scans > facts.quantity,
    };
    if too_many {
        out.push((
            "scanned_too_often",
            Bilingual::new(
                format!("此标签已被扫描{}次，超出合理次数。", facts.scans),
                format!(
                    "This label was scanned {} times, more than plausible.",
                    facts.scans
                ),
            ),
        ));
    }
    if facts.unit_receivers > 1 {
        out.push((
            "received_by_several_retailers",
            Bilingual::new(
                format!("同一单品被{}家销售者登记进货。", facts.unit_receivers),
                format!(
                    "The same unit was received by {} retailers.",
                    facts.unit_receivers
                ),
            ),
        ));
    }
    if facts.scans > 0 && !facts.custody_recorded {
        out.push((
            "no_intake_recorded",
            Bilingual::new(
                "没有发货或进货查验记录。",
                "No shipment or seller intake was ever recorded for these goods.",
            ),
        ));
    }
    out
}

/// Two scans in different provinces within `window_hours` of each other.
fn far_apart(places: &[(NaiveDateTime, Option<String>)], window_hours: i64) -> bool {
    let mut known: Vec<(NaiveDateTime, &str)> = places
        .iter()
        .filter_map(|(at, region)| region.as_deref().map(|r| (*at, province(r))))
        .collect();
    known.sort();
    let window = Duration::hours(window_hours);
    known.iter().enumerate().any(|(i, (at, prov))| {
        known[i + 1..]
            .iter()
            .take_while(|(later, _)| *later - *at <= window)
            .any(|(_, p)| p != prov)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 21)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            + Duration::hours(h.into())
    }

    fn codes(facts: &LabelFacts) -> Vec<&'static str> {
        warnings(facts, Thresholds::default())
            .into_iter()
            .map(|(c, _)| c)
            .collect()
    }

    #[test]
    fn signals() {
        let base = LabelFacts {
            serial: Some(1),
            quantity: 10,
            scans: 1,
            custody_recorded: true,
            ..Default::default()
        };
        assert!(codes(&base).is_empty());
        let far = LabelFacts {
            scan_places: vec![
                (at(0), Some("430702".into())),
                (at(5), Some("440100".into())),
            ],
            ..base.clone()
        };
        assert_eq!(codes(&far), vec!["scanned_far_apart"]);
        let slow = LabelFacts {
            scan_places: vec![
                (at(0), Some("430702".into())),
                (at(30), Some("440100".into())),
            ],
            ..base.clone()
        };
        assert!(codes(&slow).is_empty());
        let near = LabelFacts {
            scan_places: vec![
                (at(0), Some("430702".into())),
                (at(1), Some("430100".into())),
                (at(2), None),
            ],
            ..base.clone()
        };
        assert!(codes(&near).is_empty());
        assert_eq!(
            codes(&LabelFacts {
                scans: 21,
                ..base.clone()
            }),
            vec!["scanned_too_often"]
        );
        assert_eq!(
            codes(&LabelFacts {
                serial: None,
                scans: 11,
                ..base.clone()
            }),
            vec!["scanned_too_often"]
        );
        assert_eq!(
            codes(&LabelFacts {
                unit_receivers: 2,
                ..base.clone()
            }),
            vec!["received_by_several_retailers"]
        );
        assert_eq!(
            codes(&LabelFacts {
                custody_recorded: false,
                ..base
            }),
            vec!["no_intake_recorded"]
        );
    }
}

//! The rules of copy detection: which scan patterns of a label raise which warning. Warnings
//! never change a verdict: a label is never
//! "bricked" by being scanned.

use super::text::Bilingual;

/// The warning on a label whose signature failed: an attempted fake of the certificate it
/// names, counted apart and kept for the regulator.
pub const FORGED_LABEL_SCANNED: &str = "forged_label_scanned";

/// Warnings kept for the regulators of the producer's region (once per label and code).
/// `no_intake_recorded` is not: while sellers adopt the platform it says little.
pub const KEPT: [&str; 5] = [
    "scanned_far_apart",
    "scanned_too_often",
    "received_by_several_retailers",
    "lab_not_accredited",
    FORGED_LABEL_SCANNED,
];

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
    /// Provinces this label was scanned in within the copy window (from per-label
    /// aggregates, never from the scan history).
    pub provinces_in_window: usize,
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
    if facts.serial.is_some() && facts.provinces_in_window > 1 {
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

#[cfg(test)]
mod tests {
    use super::*;

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
            provinces_in_window: 2,
            ..base.clone()
        };
        assert_eq!(codes(&far), vec!["scanned_far_apart"]);
        let one = LabelFacts {
            provinces_in_window: 1,
            ..base.clone()
        };
        assert!(codes(&one).is_empty());
        // A batch label travels: provinces say nothing about copying.
        assert!(codes(&LabelFacts {
            serial: None,
            ..far.clone()
        })
        .is_empty());
        // At the limit is plausible; one more is not.
        assert!(codes(&LabelFacts {
            scans: 20,
            ..base.clone()
        })
        .is_empty());
        assert!(codes(&LabelFacts {
            serial: None,
            scans: 10,
            ..base.clone()
        })
        .is_empty());
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

    #[test]
    fn one_receiver_and_no_scan_are_no_signal() {
        let quiet = LabelFacts {
            serial: Some(1),
            quantity: 10,
            scans: 1,
            unit_receivers: 1,
            custody_recorded: true,
            ..Default::default()
        };
        assert!(codes(&quiet).is_empty());
        let unscanned = LabelFacts {
            scans: 0,
            custody_recorded: false,
            ..quiet
        };
        assert!(codes(&unscanned).is_empty());
    }
}

//! A regulator's report as data: the figures of a region, a county, a producer or a retailer
//! over a date range. `service::oversight::statistics` counts them; `print::statistics` writes
//! them as CSV or a workbook.

use serde::Serialize;

use super::role::OrgKind;

/// The figures of one row (a county, a producer, or everything).
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Figures {
    pub certificates_issued: i64,
    pub producers_active: i64,
    /// Certificates with a shipment recorded in the range.
    pub batches_shipped: i64,
    /// Of those, the ones some party recorded intake of.
    pub batches_shipped_received: i64,
    pub spot_checks: i64,
    pub spot_checks_conformant: i64,
    pub suspensions: i64,
    pub recalls: i64,
    /// Retailers that took recalled goods in (one per recall and retailer).
    pub recall_retailers: i64,
    pub recall_acknowledged: i64,
    pub complaints: i64,
    pub cases: i64,
    pub cases_open: i64,
    pub cases_overdue: i64,
    pub compensated_fen: i64,
    pub open_warnings: i64,
}

impl Figures {
    pub fn add(&mut self, o: &Figures) {
        self.certificates_issued += o.certificates_issued;
        self.producers_active += o.producers_active;
        self.batches_shipped += o.batches_shipped;
        self.batches_shipped_received += o.batches_shipped_received;
        self.spot_checks += o.spot_checks;
        self.spot_checks_conformant += o.spot_checks_conformant;
        self.suspensions += o.suspensions;
        self.recalls += o.recalls;
        self.recall_retailers += o.recall_retailers;
        self.recall_acknowledged += o.recall_acknowledged;
        self.complaints += o.complaints;
        self.cases += o.cases;
        self.cases_open += o.cases_open;
        self.cases_overdue += o.cases_overdue;
        self.compensated_fen += o.compensated_fen;
        self.open_warnings += o.open_warnings;
    }

    /// Intake coverage in percent, one decimal (`None` with nothing shipped).
    pub fn intake_coverage(&self) -> Option<f64> {
        percent(self.batches_shipped_received, self.batches_shipped)
    }

    /// Spot-check pass rate in percent, one decimal.
    pub fn pass_rate(&self) -> Option<f64> {
        percent(self.spot_checks_conformant, self.spot_checks)
    }
}

pub fn percent(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

/// A row about one organization.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrgRow {
    pub id: String,
    pub name: String,
    pub credit_code: String,
    pub region_code: String,
    #[serde(flatten)]
    pub figures: Figures,
}

/// A row about one county (a 6-digit region code).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CountyRow {
    pub region_code: String,
    #[serde(flatten)]
    pub figures: Figures,
}

/// A retailer's part: intakes, recalls it had to act on, cases naming it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RetailerFigures {
    pub intakes: i64,
    pub recalls: i64,
    pub recall_acknowledged: i64,
    pub cases: i64,
    pub cases_open: i64,
    pub cases_overdue: i64,
    pub compensated_fen: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RetailerRow {
    pub id: String,
    pub name: String,
    pub credit_code: String,
    pub region_code: String,
    #[serde(flatten)]
    pub figures: RetailerFigures,
}

/// Intake coverage at one tier of the chain: legs shipped to its consignees in the range,
/// and how they ended.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TierRow {
    /// `wholesale`, `market` or `retail`.
    pub tier: &'static str,
    pub legs_shipped: i64,
    pub legs_received: i64,
    pub legs_rejected: i64,
}

impl TierRow {
    /// Share of legs the consignee took in, in percent, one decimal.
    pub fn coverage(&self) -> Option<f64> {
        percent(self.legs_received, self.legs_shipped)
    }
}

/// The tiers of the chain, counted from the legs shipped to them.
pub fn tiers(rows: Vec<(String, String, i64)>) -> Vec<TierRow> {
    let mut out: Vec<TierRow> = OrgKind::RECEIVERS
        .iter()
        .filter_map(|k| k.tier())
        .map(|tier| TierRow {
            tier,
            ..Default::default()
        })
        .collect();
    for (kind, status, n) in rows {
        let Some(tier) = OrgKind::parse(&kind).and_then(OrgKind::tier) else {
            continue;
        };
        if let Some(row) = out.iter_mut().find(|r| r.tier == tier) {
            row.legs_shipped += n;
            match status.as_str() {
                "received" => row.legs_received += n,
                "rejected" => row.legs_rejected += n,
                _ => {}
            }
        }
    }
    out
}

/// `GET /api/v1/reports`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Report {
    pub region: String,
    /// First day, included.
    pub from: String,
    /// Last day, included.
    pub to: String,
    pub totals: Figures,
    pub by_county: Vec<CountyRow>,
    pub by_producer: Vec<OrgRow>,
    /// Receivers of every tier: retailers, wholesalers and market operators.
    pub by_retailer: Vec<RetailerRow>,
    /// Intake coverage per tier of the chain (wholesale, market, retail).
    pub by_tier: Vec<TierRow>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_round_to_one_decimal_and_need_a_whole() {
        assert_eq!(percent(1, 3), Some(33.3));
        assert_eq!(percent(2, 3), Some(66.7));
        assert_eq!(percent(0, 5), Some(0.0));
        assert_eq!(percent(5, 5), Some(100.0));
        assert_eq!(percent(0, 0), None);
    }

    #[test]
    fn tiers_count_legs_by_consignee_kind_and_outcome() {
        let rows = tiers(vec![
            ("wholesaler".into(), "received".into(), 3),
            ("wholesaler".into(), "open".into(), 1),
            ("market_operator".into(), "rejected".into(), 2),
            ("retailer".into(), "received".into(), 4),
            ("producer".into(), "received".into(), 9),
        ]);
        let tier = |t: &str| rows.iter().find(|r| r.tier == t).cloned().unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(
            (
                tier("wholesale").legs_shipped,
                tier("wholesale").legs_received
            ),
            (4, 3)
        );
        assert_eq!(tier("wholesale").coverage(), Some(75.0));
        assert_eq!(
            (tier("market").legs_shipped, tier("market").legs_rejected),
            (2, 2)
        );
        assert_eq!(tier("market").coverage(), Some(0.0));
        assert_eq!(tier("retail").legs_received, 4);
    }

    /// Field i (from 1) is `base + step * i`: every field its own value, so that a field added
    /// to the wrong one, or not added, shows.
    fn numbered(base: i64, step: i64) -> Figures {
        Figures {
            certificates_issued: base + step,
            producers_active: base + step * 2,
            batches_shipped: base + step * 3,
            batches_shipped_received: base + step * 4,
            spot_checks: base + step * 5,
            spot_checks_conformant: base + step * 6,
            suspensions: base + step * 7,
            recalls: base + step * 8,
            recall_retailers: base + step * 9,
            recall_acknowledged: base + step * 10,
            complaints: base + step * 11,
            cases: base + step * 12,
            cases_open: base + step * 13,
            cases_overdue: base + step * 14,
            compensated_fen: base + step * 15,
            open_warnings: base + step * 16,
        }
    }

    #[test]
    fn figures_add_field_by_field() {
        let mut total = numbered(100, 1);
        total.add(&numbered(1000, 1));
        assert_eq!(total, numbered(1100, 2));
    }

    #[test]
    fn coverage_and_pass_rate_read_their_own_fields() {
        let f = Figures {
            batches_shipped: 8,
            batches_shipped_received: 2,
            spot_checks: 5,
            spot_checks_conformant: 4,
            ..Default::default()
        };
        assert_eq!(f.intake_coverage(), Some(25.0));
        assert_eq!(f.pass_rate(), Some(80.0));
        assert_eq!(Figures::default().intake_coverage(), None);
        assert_eq!(Figures::default().pass_rate(), None);
        assert_eq!(percent(1, 1), Some(100.0));
        assert_eq!(percent(3, 8), Some(37.5));
        assert_eq!(percent(1, -1), None);
    }
}

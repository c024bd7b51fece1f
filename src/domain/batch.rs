//! The batch rules of a certificate request, before anything is looked up or signed: dates in
//! order and not in the future, a pass result with passing items, quantities and unit counts in
//! range, text fields within their lengths. Pure: the service layer checks who may issue what.

use chrono::{Days, NaiveDate};
use serde::Deserialize;

use super::payload::{Batch, Inspection, InspectionItem, PASS};
use super::validate::{self, ValidationError};

/// Most serialized units one certificate may carry.
pub const MAX_UNITS: i64 = 1_000_000;
/// Largest batch quantity accepted.
pub const MAX_QUANTITY: i64 = 1_000_000_000;

/// `POST /api/v1/certificates`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    pub product_id: String,
    #[schema(value_type = crate::domain::request::Text64)]
    pub batch_no: String,
    #[serde(deserialize_with = "crate::domain::request::whole_number")]
    #[schema(minimum = 1, maximum = 1000000000)]
    pub quantity: i64,
    #[schema(value_type = crate::domain::request::Text16)]
    pub unit: String,
    /// `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub production_date: String,
    /// `YYYY-MM-DD`, not before the production date.
    #[schema(format = Date)]
    pub inspection_date: String,
    #[schema(value_type = crate::domain::request::Text64)]
    pub inspector: String,
    /// Must be `pass`.
    #[schema(value_type = crate::domain::payload::PassOnly)]
    pub result: String,
    #[schema(max_items = 100)]
    pub items: Option<Vec<InspectionItem>>,
    #[schema(value_type = Option<crate::domain::request::OptionalText64>)]
    pub lab_report_no: Option<String>,
    /// `YYYY-MM-DD`, after the production date.
    #[schema(format = Date)]
    pub expiry_date: Option<String>,
    /// Serialize the batch into this many unit labels (1..=quantity).
    #[serde(
        default,
        deserialize_with = "crate::domain::request::optional_whole_number"
    )]
    #[schema(minimum = 1, maximum = 1000000)]
    pub units: Option<i64>,
    /// The testing lab whose report is cited (an organization of kind `lab`); a warning is shown
    /// if it was not accredited (CMA and CATL) on the inspection date. Not part of the payload.
    pub lab_id: Option<String>,
}

/// The batch part of a request once every rule holds.
pub struct CheckedBatch {
    pub batch: Batch,
    pub inspection: Inspection,
    pub units: Option<i64>,
}

pub fn iso(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// Checks the request against the batch rules; `today` is the issuing day (UTC). Dates may be
/// up to one day ahead of UTC to allow for time zones east of Greenwich (China is UTC+8).
pub fn check(req: &IssueRequest, today: NaiveDate) -> Result<CheckedBatch, ValidationError> {
    let latest = today.checked_add_days(Days::new(1)).unwrap_or(today);
    let quantity = validate::count("quantity", req.quantity, 1, MAX_QUANTITY)?;
    let production = validate::date("production_date", &req.production_date)?;
    let inspection = validate::date("inspection_date", &req.inspection_date)?;
    if production > latest {
        return Err(ValidationError::new(
            "production_date_in_future",
            "production_date",
            "production_date lies in the future",
        ));
    }
    if inspection < production {
        return Err(ValidationError::new(
            "inspection_before_production",
            "inspection_date",
            "inspection_date is before production_date",
        ));
    }
    if inspection > latest {
        return Err(ValidationError::new(
            "inspection_date_in_future",
            "inspection_date",
            "inspection_date lies in the future",
        ));
    }
    let expiry = req
        .expiry_date
        .as_deref()
        .map(|d| validate::date("expiry_date", d))
        .transpose()?;
    if expiry.is_some_and(|e| e <= production) {
        return Err(ValidationError::new(
            "expiry_before_production",
            "expiry_date",
            "expiry_date must be after production_date",
        ));
    }
    if req.result.trim() != PASS {
        return Err(ValidationError::new(
            "result_not_pass",
            "result",
            "a conformity certificate can only be issued for result \"pass\"",
        ));
    }
    let items = req.items.clone().unwrap_or_default();
    if items.len() > 100 {
        return Err(ValidationError::new(
            "too_many",
            "items",
            "at most 100 inspection items",
        ));
    }
    let items = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let f = |name: &str| format!("items.{i}.{name}");
            let verdict = item.verdict.trim();
            if verdict == "fail" {
                return Err(ValidationError::new(
                    "item_failed",
                    &f("verdict"),
                    "an inspected item failed: the batch cannot be certified",
                ));
            }
            if verdict != PASS {
                return Err(ValidationError::new(
                    "invalid_verdict",
                    &f("verdict"),
                    "verdict must be pass or fail",
                ));
            }
            Ok(InspectionItem {
                name: validate::text(&f("name"), &item.name, 100)?,
                requirement: validate::text(&f("requirement"), &item.requirement, 200)?,
                measured: validate::text(&f("measured"), &item.measured, 200)?,
                verdict: verdict.to_string(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let units = req
        .units
        .map(|u| validate::count("units", u, 1, quantity.min(MAX_UNITS)))
        .transpose()?;
    Ok(CheckedBatch {
        batch: Batch {
            no: validate::text("batch_no", &req.batch_no, 64)?,
            quantity,
            unit: validate::text("unit", &req.unit, 16)?,
            production_date: iso(production),
            expiry_date: expiry.map(iso),
        },
        inspection: Inspection {
            date: iso(inspection),
            inspector: validate::text("inspector", &req.inspector, 64)?,
            result: "pass".into(),
            items,
            lab_report_no: validate::optional_text(
                "lab_report_no",
                req.lab_report_no.as_deref(),
                64,
            )?,
        },
        units,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> IssueRequest {
        IssueRequest {
            product_id: "p".into(),
            batch_no: "B1".into(),
            quantity: 10,
            unit: "箱".into(),
            production_date: "2026-11-01".into(),
            inspection_date: "2026-11-02".into(),
            inspector: "QC-1".into(),
            result: "pass".into(),
            items: None,
            lab_report_no: None,
            expiry_date: None,
            units: None,
            lab_id: None,
        }
    }

    fn code(req: IssueRequest) -> &'static str {
        check(&req, NaiveDate::from_ymd_opt(2026, 11, 21).unwrap())
            .err()
            .map(|e| e.code)
            .unwrap_or("ok")
    }

    #[test]
    fn batch_rules() {
        assert_eq!(code(request()), "ok");
        assert_eq!(
            code(IssueRequest {
                quantity: 0,
                ..request()
            }),
            "out_of_range"
        );
        assert_eq!(
            code(IssueRequest {
                production_date: "2026-02-30".into(),
                ..request()
            }),
            "invalid_date"
        );
        assert_eq!(
            code(IssueRequest {
                inspection_date: "2026-10-31".into(),
                ..request()
            }),
            "inspection_before_production"
        );
        assert_eq!(
            code(IssueRequest {
                production_date: "2026-11-25".into(),
                inspection_date: "2026-11-25".into(),
                ..request()
            }),
            "production_date_in_future"
        );
        assert_eq!(
            code(IssueRequest {
                expiry_date: Some("2026-11-01".into()),
                ..request()
            }),
            "expiry_before_production"
        );
        assert_eq!(
            code(IssueRequest {
                result: "fail".into(),
                ..request()
            }),
            "result_not_pass"
        );
        assert_eq!(
            code(IssueRequest {
                units: Some(11),
                ..request()
            }),
            "out_of_range"
        );
        assert_eq!(
            code(IssueRequest {
                units: Some(10),
                ..request()
            }),
            "ok"
        );
        let failed = InspectionItem {
            name: "n".into(),
            requirement: "r".into(),
            measured: "m".into(),
            verdict: "fail".into(),
        };
        assert_eq!(
            code(IssueRequest {
                items: Some(vec![failed]),
                ..request()
            }),
            "item_failed"
        );
    }

    /// Today is 2026-11-21: dates up to the 22nd (a day ahead, for UTC+8) pass, the 23rd not;
    /// inspection may be on the production day.
    #[test]
    fn date_boundaries() {
        let dated = |production: &str, inspection: &str| {
            code(IssueRequest {
                production_date: production.into(),
                inspection_date: inspection.into(),
                ..request()
            })
        };
        assert_eq!(dated("2026-11-22", "2026-11-22"), "ok");
        assert_eq!(
            dated("2026-11-23", "2026-11-23"),
            "production_date_in_future"
        );
        assert_eq!(dated("2026-11-20", "2026-11-20"), "ok");
        assert_eq!(dated("2026-11-20", "2026-11-22"), "ok");
        assert_eq!(
            dated("2026-11-20", "2026-11-23"),
            "inspection_date_in_future"
        );
        assert_eq!(
            dated("2026-11-20", "2026-11-19"),
            "inspection_before_production"
        );
    }

    #[test]
    fn the_checked_batch_carries_iso_dates() {
        let req = IssueRequest {
            expiry_date: Some("2027-05-01".into()),
            ..request()
        };
        let checked = check(&req, NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()).unwrap();
        assert_eq!(checked.batch.production_date, "2026-11-01");
        assert_eq!(checked.batch.expiry_date.as_deref(), Some("2027-05-01"));
        assert_eq!(checked.inspection.date, "2026-11-02");
    }

    #[test]
    fn at_most_a_hundred_inspection_items() {
        let item = InspectionItem {
            name: "水分".into(),
            requirement: "≤ 15%".into(),
            measured: "12%".into(),
            verdict: "pass".into(),
        };
        let with = |n: usize| {
            code(IssueRequest {
                items: Some(vec![item.clone(); n]),
                ..request()
            })
        };
        assert_eq!(with(100), "ok");
        assert_eq!(with(101), "too_many");
        assert_eq!(with(0), "ok");
    }
}

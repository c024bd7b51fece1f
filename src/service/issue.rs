//! Issuing a certificate: validate the batch, build the payload, sign it with the producer's
//! cached key and store it — no image work on this path (labels are rendered on demand).

use chrono::{Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::crypto::b64url;
use crate::crypto::random::new_id;
use crate::crypto::signing::certificate_message;
use crate::db::models::{now, Certificate, Organization, Product};
use crate::domain::payload::{self, Batch, Inspection, InspectionItem, Payload, PAYLOAD_VERSION};
use crate::domain::role::OrgKind;
use crate::domain::trail::EventType;
use crate::domain::validate::{self, ValidationError};
use crate::error::{AppError, AppResult};

use super::products::parse_marks;
use super::{checked_id, labs, marks, trail, Actor, AppState};

/// Most serialized units one certificate may carry.
pub const MAX_UNITS: i64 = 1_000_000;
/// Largest batch quantity accepted.
pub const MAX_QUANTITY: i64 = 1_000_000_000;

/// `POST /api/v1/certificates`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    pub product_id: String,
    pub batch_no: String,
    pub quantity: i64,
    pub unit: String,
    /// `YYYY-MM-DD`.
    pub production_date: String,
    /// `YYYY-MM-DD`, not before the production date.
    pub inspection_date: String,
    pub inspector: String,
    /// Must be `pass`.
    pub result: String,
    pub items: Option<Vec<InspectionItem>>,
    pub lab_report_no: Option<String>,
    /// `YYYY-MM-DD`, after the production date.
    pub expiry_date: Option<String>,
    /// Serialize the batch into this many unit labels (1..=quantity).
    pub units: Option<i64>,
    /// The testing lab whose report is cited (an organization of kind `lab`); a warning is shown
    /// if it was not accredited (CMA and CATL) on the inspection date. Not part of the payload.
    pub lab_id: Option<String>,
}

/// What issuing answers (201).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Issued {
    pub id: String,
    pub payload: Payload,
    /// base64url, no padding, 86 characters.
    pub signature: String,
    pub kid: String,
    pub status: String,
    pub verify_url: String,
    pub qr_png_url: String,
    pub qr_svg_url: String,
}

/// The batch part of a request once every rule holds.
struct CheckedBatch {
    batch: Batch,
    inspection: Inspection,
    units: Option<i64>,
}

fn iso(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// Checks the request against the batch rules; `today` is the issuing day (UTC). Dates may be
/// up to one day ahead of UTC to allow for time zones east of Greenwich (China is UTC+8).
fn check(req: &IssueRequest, today: NaiveDate) -> Result<CheckedBatch, ValidationError> {
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
    if req.result.trim() != "pass" {
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
            if verdict != "pass" {
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

/// Producer only: issues a signed certificate for a batch of one of its own products.
pub fn issue(state: &AppState, actor: &Actor, req: IssueRequest) -> AppResult<Issued> {
    let org = actor.require_kind(&[OrgKind::Producer])?;
    let issued_at = Utc::now();
    let checked = check(&req, issued_at.date_naive())?;
    let signer = {
        let mut conn = state.db.reader()?;
        state.keys.signer(&mut conn, &org.id)?
    };
    let certificate = state.write(|conn| {
        let product = Product::find(conn, checked_id(req.product_id.trim(), "product")?)?
            .ok_or_else(|| AppError::not_found("product"))?;
        if product.organization_id != org.id {
            return Err(AppError::Forbidden(
                "the product belongs to another producer".into(),
            ));
        }
        let marks = parse_marks(&product.marks);
        marks::check_claims(conn, &product.id, &marks, &iso(issued_at.date_naive()))?;
        let lab_id = match req
            .lab_id
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            Some(lab) => Some(labs::find_lab(conn, lab)?.id),
            None => None,
        };
        // Re-read the producer so the payload carries its registered name and address.
        let producer = Organization::find(conn, &org.id)?
            .ok_or_else(|| AppError::not_found("organization"))?;
        let producer_fields = payload::Producer {
            name: producer.name.clone(),
            credit_code: producer.credit_code.clone(),
            address: producer.address.clone(),
        };
        let id = new_id();
        let payload = Payload {
            v: PAYLOAD_VERSION,
            id: id.clone(),
            kid: signer.kid.clone(),
            issued_at: payload::rfc3339_seconds(issued_at),
            producer: producer_fields,
            product: payload::Product {
                name: product.name,
                model: product.model,
                standard: product.standard,
                gtin: product.gtin,
            },
            batch: checked.batch,
            inspection: checked.inspection,
            marks,
            units: checked.units,
        };
        let canonical = payload.canonical();
        let signature = signer.sign(&certificate_message(&canonical));
        let row = Certificate {
            id,
            organization_id: org.id.clone(),
            product_id: product.id,
            batch_no: payload.batch.no.clone(),
            kid: signer.kid.clone(),
            payload: canonical,
            signature: signature.to_vec(),
            status: "active".into(),
            status_reason: None,
            units: checked.units,
            issued_at: now(),
            trail_seq: 0,
            trail_hash: String::new(),
            lab_id,
        };
        row.insert(conn)?;
        let details =
            serde_json::Map::from_iter([("batch_no".to_string(), payload.batch.no.clone().into())]);
        trail::append(
            state,
            conn,
            &row.id,
            &producer,
            EventType::Issued,
            None,
            details,
        )?;
        Ok((row, payload))
    })?;
    let (row, payload) = certificate;
    state.metrics.certificate_issued();
    let signature = b64url(&row.signature);
    Ok(Issued {
        verify_url: state.batch_label_url(&row.id, &signature),
        qr_png_url: state.public_url(&format!("/api/v1/certificates/{}/qr.png", row.id)),
        qr_svg_url: state.public_url(&format!("/api/v1/certificates/{}/qr.svg", row.id)),
        id: row.id,
        payload,
        signature,
        kid: row.kid,
        status: row.status,
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
}

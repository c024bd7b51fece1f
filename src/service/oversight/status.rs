//! Status changes and spot-checks: suspend, reinstate, revoke, and regulators' inspections
//! (a non-conformant result suspends the certificate).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::db::models::{Certificate, Organization};
use crate::db::DbConn;
use crate::domain::status::CertStatus;
use crate::domain::trail::EventType;
use crate::domain::validate;
use crate::error::{AppError, AppResult};

use crate::db::models::sanction::Sanction;
use crate::db::models::EventRow;
use crate::domain::role::OrgKind;
use crate::service::access::auth::{require_owner_or_regulator, require_regulator_of};
use crate::service::certificate_with_producer;
use crate::service::trail::{self, TrailEvent};
use crate::service::{audit, certification::labs, oversight::holds, webhooks, Actor, AppState};

/// `POST /api/v1/certificates/{id}/suspend`, `/reinstate`, `/revoke`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    #[schema(value_type = crate::domain::request::Text500)]
    pub reason: String,
    /// The provision a regulator's suspension rests on (required from regulators).
    #[serde(default)]
    #[schema(value_type = Option<crate::domain::request::OptionalText500>)]
    pub legal_basis: Option<String>,
}

/// The certificate's new status and the event that recorded it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatusChanged {
    pub id: String,
    pub status: CertStatus,
    pub events: Vec<TrailEvent>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// `POST /api/v1/certificates/{id}/inspections`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInspection {
    /// `conformant` or `non_conformant`.
    #[schema(value_type = SpotCheckResult)]
    pub result: String,
    #[schema(value_type = crate::domain::request::Text2000)]
    pub findings: String,
    #[schema(value_type = Option<crate::domain::request::OptionalText64>)]
    pub lab_report_no: Option<String>,
    /// The lab that tested the sample; warned about if not accredited (CMA and CATL) today.
    pub lab_id: Option<String>,
}

/// A spot-check's results: the first passes.
const RESULTS: [&str; 2] = ["conformant", "non_conformant"];

crate::domain::request::named_schema!(
    /// A spot-check's result.
    SpotCheckResult = crate::domain::request::one_of(&RESULTS)
);

/// Moves `cert` to the status `kind` leads to and records the event; `Conflict` if the current
/// status does not allow it.
pub fn apply(
    state: &AppState,
    conn: &mut DbConn,
    cert_id: &str,
    actor: &Organization,
    kind: EventType,
    details: Map<String, Value>,
) -> AppResult<(EventRow, CertStatus)> {
    let cert =
        Certificate::find(conn, cert_id)?.ok_or_else(|| AppError::not_found("certificate"))?;
    if !matches!(
        kind,
        EventType::Suspended | EventType::Reinstated | EventType::Revoked
    ) {
        // A recall changes status through `recalls::create`, which records the recall too.
        return Err(AppError::internal(format!(
            "{kind:?} is not a status change"
        )));
    }
    let from = CertStatus::parse(&cert.status).ok_or_else(|| {
        AppError::internal(format!("certificate {cert_id} has an unknown status"))
    })?;
    let to = from.after(kind).ok_or_else(|| AppError::Conflict {
        code: "invalid_transition",
        message: format!("a {from} certificate cannot be {}", kind.as_str()),
    })?;
    let reason = details
        .get("reason")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    Certificate::set_status(conn, cert_id, to, &reason)?;
    if to == CertStatus::Revoked {
        // Nothing is left to lift: the certificate's sanction and requests end with it.
        holds::close_on_certificate(conn, cert_id, actor, "revoked")?;
    }
    let mut recipients = EventRow::receivers(conn, std::slice::from_ref(&cert.id))?;
    recipients.push(cert.organization_id.clone());
    webhooks::enqueue(
        conn,
        webhooks::STATUS_CHANGED,
        &recipients,
        &cert.id,
        serde_json::json!({
            "certificate_id": cert.id,
            "batch_no": cert.batch_no,
            "status": to,
            "previous_status": from,
            "reason": reason,
        }),
    )?;
    let row = trail::append(state, conn, cert_id, actor, kind, None, details)?;
    Ok((row, to))
}

/// Owning producer or a regulator of its region: suspend, reinstate or revoke. A regulator's
/// suspension is a sanction only a regulator of the region lifts.
pub fn change(
    state: &AppState,
    actor: &Actor,
    id: &str,
    kind: EventType,
    input: StatusChange,
) -> AppResult<StatusChanged> {
    let reason = validate::text("reason", &input.reason, 500)?;
    let (cert, producer) = certificate_with_producer(&mut *state.db.reader()?, id)?;
    let org = require_owner_or_regulator(actor, &producer)?;
    let by_regulator = org.kind() == OrgKind::Regulator;
    let legal_basis = match (kind, by_regulator) {
        (EventType::Suspended, true) => Some(validate::text(
            "legal_basis",
            input.legal_basis.as_deref().unwrap_or(""),
            500,
        )?),
        _ => validate::optional_text("legal_basis", input.legal_basis.as_deref(), 500)?,
    };
    let mut details = Map::from_iter([("reason".to_string(), Value::String(reason.clone()))]);
    if let Some(basis) = &legal_basis {
        details.insert("legal_basis".into(), Value::String(basis.clone()));
    }
    let (row, status) = state.write(|conn| {
        // A certificate its producer suspended itself still takes a regulator's suspension: the
        // hold becomes the regulator's (recorded on the trail), so a producer cannot pre-empt it.
        let current = Certificate::find(conn, &cert.id)?.and_then(|c| CertStatus::parse(&c.status));
        let (row, status) = match (kind, by_regulator, current) {
            (EventType::Suspended, true, Some(CertStatus::Suspended)) => {
                if Sanction::open_on_certificate(conn, &cert.id)?.is_some() {
                    return Err(AppError::Conflict {
                        code: "invalid_transition",
                        message: "a regulator's suspension of this certificate is already in force"
                            .into(),
                    });
                }
                let row = trail::append(state, conn, &cert.id, org, kind, None, details)?;
                (row, CertStatus::Suspended)
            }
            _ => apply(state, conn, &cert.id, org, kind, details)?,
        };
        match kind {
            EventType::Suspended if by_regulator => holds::record_certificate_suspension(
                conn,
                actor,
                &producer,
                &cert.id,
                &reason,
                legal_basis.as_deref().unwrap_or_default(),
            )?,
            EventType::Reinstated => {
                holds::lift_for_reinstatement(conn, actor, &producer, &cert.id, &reason)?
            }
            EventType::Revoked if by_regulator => audit::record(
                conn,
                actor,
                &producer.region_code,
                "certificate.revoke",
                &format!("certificate:{}", cert.id),
                serde_json::json!({"reason": reason}),
            )?,
            _ => {}
        }
        Ok((row, status))
    })?;
    Ok(StatusChanged {
        id: cert.id,
        status,
        events: trail::present(&[row]),
        warnings: vec![],
    })
}

/// Regulators of the producer's region: a spot-check. `non_conformant` suspends an active
/// certificate in the same transaction.
pub fn inspect(
    state: &AppState,
    actor: &Actor,
    id: &str,
    input: NewInspection,
) -> AppResult<StatusChanged> {
    let conformant =
        validate::one_of("result", "invalid_result", &input.result, &RESULTS)? == RESULTS[0];
    let findings = validate::text("findings", &input.findings, 2000)?;
    let report = validate::optional_text("lab_report_no", input.lab_report_no.as_deref(), 64)?;
    let mut conn = state.db.reader()?;
    let (cert, producer) = certificate_with_producer(&mut conn, id)?;
    let org = require_regulator_of(actor, &producer)?;
    let mut warnings = Vec::new();
    if let Some(lab_id) = input.lab_id.as_deref() {
        let lab = labs::find_lab(&mut conn, lab_id)?;
        let today = chrono::Utc::now()
            .date_naive()
            .format("%Y-%m-%d")
            .to_string();
        if !labs::accredited(&mut conn, &lab.id, &today)? {
            warnings.push("lab_not_accredited".to_string());
        }
    }
    drop(conn);
    let mut details = Map::new();
    details.insert("result".into(), Value::String(input.result.trim().into()));
    details.insert("findings".into(), Value::String(findings));
    if let Some(report) = report {
        details.insert("lab_report_no".into(), Value::String(report));
    }
    if let Some(lab_id) = &input.lab_id {
        details.insert("lab_id".into(), Value::String(lab_id.clone()));
    }
    if !warnings.is_empty() {
        details.insert("warnings".into(), warnings.clone().into());
    }
    let rows = state.write(|conn| {
        let inspected = trail::append(
            state,
            conn,
            &cert.id,
            org,
            EventType::Inspected,
            None,
            details,
        )?;
        audit::record(
            conn,
            actor,
            &producer.region_code,
            "certificate.inspect",
            &format!("certificate:{}", cert.id),
            serde_json::json!({"result": if conformant { "conformant" } else { "non_conformant" }}),
        )?;
        let current = Certificate::find(conn, &cert.id)?.and_then(|c| CertStatus::parse(&c.status));
        let current = match current {
            Some(status @ (CertStatus::Active | CertStatus::Suspended)) if !conformant => status,
            _ => return Ok(vec![inspected]),
        };
        if current == CertStatus::Suspended {
            // Suspended by its producer already: the hold becomes the regulator's.
            if Sanction::open_on_certificate(conn, &cert.id)?.is_none() {
                holds::record_certificate_suspension(
                    conn,
                    actor,
                    &producer,
                    &cert.id,
                    "non_conformant_inspection",
                    holds::SPOT_CHECK_BASIS,
                )?;
            }
            return Ok(vec![inspected]);
        }
        let reason = Map::from_iter([(
            "reason".to_string(),
            Value::String("non_conformant_inspection".into()),
        )]);
        let (suspended, _) = apply(state, conn, &cert.id, org, EventType::Suspended, reason)?;
        holds::record_certificate_suspension(
            conn,
            actor,
            &producer,
            &cert.id,
            "non_conformant_inspection",
            holds::SPOT_CHECK_BASIS,
        )?;
        Ok(vec![inspected, suspended])
    })?;
    let status = Certificate::find(&mut *state.db.reader()?, &cert.id)?
        .ok_or_else(|| AppError::not_found("certificate"))?
        .current_status();
    Ok(StatusChanged {
        id: cert.id,
        status,
        events: trail::present(&rows),
        warnings,
    })
}

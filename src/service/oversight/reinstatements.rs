//! Reinstatement requests: a producer whose certificate a regulator suspended asks for it to
//! be lifted, with evidence (e.g. a new lab report number); a regulator of the producer's
//! region approves (the certificate is reinstated and the sanction closed) or refuses. Every
//! step is on the certificate's trail and approvals and refusals on the audit log.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::crypto::random::new_id;
use crate::db::models::sanction::{ReinstatementRequest, Sanction};
use crate::db::models::{now, Certificate, Organization};
use crate::domain::payload::rfc3339_seconds;
use crate::domain::region::prefix;
use crate::domain::role::OrgKind;
use crate::domain::trail::EventType;
use crate::domain::validate;
use crate::error::{AppError, AppResult};

use crate::service::access::auth::require_regulator_of;
use crate::service::certificate_with_producer;
use crate::service::{audit, checked_id, oversight::status, trail, Actor, AppState};

const LIST_LIMIT: i64 = 500;

/// `POST /api/v1/certificates/{id}/reinstatement-requests`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReinstatementRequest {
    /// What was put right, in words.
    #[schema(value_type = crate::domain::request::Text2000)]
    pub evidence: String,
    /// The report of the new test, if there is one.
    #[schema(value_type = Option<crate::domain::request::OptionalText64>)]
    pub lab_report_no: Option<String>,
}

/// `POST /api/v1/reinstatement-requests/{id}/decision`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// `approve` or `refuse`.
    #[schema(value_type = ReinstatementDecision)]
    pub decision: String,
    #[schema(value_type = crate::domain::request::Text1000)]
    pub note: String,
}

/// A regulator's decisions on a request: the first reinstates.
const DECISIONS: [&str; 2] = ["approve", "refuse"];

crate::domain::request::named_schema!(
    /// A regulator's decision on a request.
    ReinstatementDecision = crate::domain::request::one_of(&DECISIONS)
);

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReinstatementView {
    pub id: String,
    pub certificate_id: String,
    pub sanction_id: String,
    pub organization_id: String,
    pub evidence: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lab_report_no: Option<String>,
    /// `pending`, `approved`, `refused` or `closed` (its suspension ended another way).
    pub state: String,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_note: Option<String>,
}

impl From<ReinstatementRequest> for ReinstatementView {
    fn from(r: ReinstatementRequest) -> Self {
        ReinstatementView {
            created_at: rfc3339_seconds(r.created_at.and_utc()),
            decided_at: r.decided_at.map(|t| rfc3339_seconds(t.and_utc())),
            id: r.id,
            certificate_id: r.certificate_id,
            sanction_id: r.sanction_id,
            organization_id: r.organization_id,
            evidence: r.evidence,
            lab_report_no: r.lab_report_no,
            state: r.state,
            decided_by: r.decided_by,
            decision_note: r.decision_note,
        }
    }
}

/// The owning producer asks for a regulator's suspension of certificate `id` to be lifted.
pub fn request(
    state: &AppState,
    actor: &Actor,
    id: &str,
    input: NewReinstatementRequest,
) -> AppResult<ReinstatementView> {
    let org = actor.require_kind(&[OrgKind::Producer])?;
    let evidence = validate::text("evidence", &input.evidence, 2000)?;
    let report = validate::optional_text("lab_report_no", input.lab_report_no.as_deref(), 64)?;
    let (cert, _) = certificate_with_producer(&mut *state.db.reader()?, id)?;
    if cert.organization_id != org.id {
        return Err(AppError::Forbidden(
            "only the owning producer may ask for its certificate to be reinstated".into(),
        ));
    }
    state.write(|conn| {
        let sanction =
            Sanction::open_on_certificate(conn, &cert.id)?.ok_or_else(|| AppError::Conflict {
                code: "not_suspended_by_regulator",
                message: "no regulator's suspension of this certificate is in force".into(),
            })?;
        let row = ReinstatementRequest {
            id: new_id(),
            certificate_id: cert.id.clone(),
            sanction_id: sanction.id,
            organization_id: org.id.clone(),
            evidence: evidence.clone(),
            lab_report_no: report.clone(),
            state: "pending".into(),
            created_at: now(),
            decided_by: None,
            decided_at: None,
            decision_note: None,
        };
        row.insert(conn).map_err(|e| match AppError::from(e) {
            AppError::Conflict { .. } => AppError::Conflict {
                code: "request_pending",
                message: "a reinstatement request for this certificate is already pending".into(),
            },
            other => other,
        })?;
        let mut details = Map::new();
        details.insert("request_id".into(), Value::String(row.id.clone()));
        details.insert("evidence".into(), Value::String(evidence.clone()));
        if let Some(report) = &report {
            details.insert("lab_report_no".into(), Value::String(report.clone()));
        }
        trail::append(
            state,
            conn,
            &cert.id,
            org,
            EventType::ReinstatementRequested,
            None,
            details,
        )?;
        Ok(row.into())
    })
}

/// A regulator of the producer's region approves (reinstating the certificate) or refuses.
pub fn decide(
    state: &AppState,
    actor: &Actor,
    id: &str,
    input: Decision,
) -> AppResult<ReinstatementView> {
    let approve = validate::one_of("decision", "invalid_decision", &input.decision, &DECISIONS)?
        == DECISIONS[0];
    let note = validate::text("note", &input.note, 1000)?;
    let mut conn = state.db.reader()?;
    let found = ReinstatementRequest::find(&mut conn, checked_id(id, "request")?)?
        .ok_or_else(|| AppError::not_found("request"))?;
    let producer = Organization::find(&mut conn, &found.organization_id)?
        .ok_or_else(|| AppError::not_found("organization"))?;
    drop(conn);
    let regulator = require_regulator_of(actor, &producer)?;
    state.write(|conn| {
        // The request must still be about the suspension in force.
        let open = Sanction::open_on_certificate(conn, &found.certificate_id)?;
        if open.is_none_or(|o| o.id != found.sanction_id) && found.state == "pending" {
            return Err(AppError::Conflict {
                code: "request_stale",
                message: "the suspension this request was about is no longer in force".into(),
            });
        }
        let state_name = if approve { "approved" } else { "refused" };
        if !ReinstatementRequest::decide(conn, &found.id, state_name, &regulator.id, &note, now())?
        {
            return Err(AppError::Conflict {
                code: "already_decided",
                message: "this request was already decided".into(),
            });
        }
        let mut details = Map::new();
        details.insert("request_id".into(), Value::String(found.id.clone()));
        details.insert("reason".into(), Value::String(note.clone()));
        if approve {
            status::apply(
                state,
                conn,
                &found.certificate_id,
                regulator,
                EventType::Reinstated,
                details,
            )?;
            crate::service::oversight::holds::lift_for_reinstatement(
                conn,
                actor,
                &producer,
                &found.certificate_id,
                &note,
            )?;
        } else {
            trail::append(
                state,
                conn,
                &found.certificate_id,
                regulator,
                EventType::ReinstatementRefused,
                None,
                details,
            )?;
            audit::record(
                conn,
                actor,
                &producer.region_code,
                "certificate.refuse_reinstatement",
                &format!("certificate:{}", found.certificate_id),
                json!({"request_id": found.id, "note": note}),
            )?;
        }
        Ok(())
    })?;
    let row = ReinstatementRequest::find(&mut *state.db.reader()?, &found.id)?
        .ok_or_else(|| AppError::not_found("request"))?;
    Ok(row.into())
}

/// Requests the caller may read: a producer its own, a regulator its region's, the admin all;
/// pending first, then newest.
pub fn list(state: &AppState, actor: &Actor) -> AppResult<Vec<ReinstatementView>> {
    let (scope, only) = match actor {
        Actor::Admin => (String::new(), None),
        Actor::Org(_) => {
            let org = actor.require_kind(&[OrgKind::Producer, OrgKind::Regulator])?;
            match org.kind() {
                OrgKind::Producer => (String::new(), Some(org.id.clone())),
                _ => (prefix(&org.region_code).to_string(), None),
            }
        }
    };
    let rows = ReinstatementRequest::list(
        &mut *state.db.reader()?,
        &scope,
        only.as_deref(),
        LIST_LIMIT,
    )?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// The pending request of certificate `id`, if any (for its page).
pub fn pending_for(state: &AppState, id: &str) -> AppResult<Option<ReinstatementView>> {
    let mut conn = state.db.reader()?;
    let Some(cert) = Certificate::find(&mut conn, id)? else {
        return Ok(None);
    };
    let rows = ReinstatementRequest::list(&mut conn, "", Some(&cert.organization_id), LIST_LIMIT)?;
    Ok(rows
        .into_iter()
        .find(|r| r.certificate_id == cert.id && r.state == "pending")
        .map(Into::into))
}

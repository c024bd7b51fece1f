//! Regulators' sanctions: a certificate suspended by a regulator (which only a regulator of
//! the producer's region lifts), and a producer's right to issue suspended (new issuance is
//! refused with `issuance_suspended`; existing certificates keep their verdicts, with a
//! warning). Each is a record with its reason, legal basis and dates, and on the audit log.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::crypto::random::new_id;
use crate::db::models::sanction::{
    ReinstatementRequest, Sanction, CERTIFICATE_SUSPENDED, ISSUANCE_SUSPENDED,
};
use crate::db::models::{now, Organization};
use crate::db::DbConn;
use crate::domain::payload::rfc3339_seconds;
use crate::domain::region::prefix;
use crate::domain::role::OrgKind;
use crate::domain::validate;
use crate::error::{AppError, AppResult};

use super::auth::require_regulator_of;
use super::{audit, changes, checked_id, Actor, AppState};

/// The legal basis recorded when a non-conformant spot-check suspends a certificate:
/// products found non-conformant in a supervisory spot-check are ordered to rectify.
pub const SPOT_CHECK_BASIS: &str = "《中华人民共和国产品质量法》第十七条";

/// Sanctions a list shows at most.
const LIST_LIMIT: i64 = 500;

/// `POST /api/v1/organizations/{id}/sanctions`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSanction {
    /// `issuance_suspended` (certificates are suspended through their own endpoint).
    pub kind: String,
    pub reason: String,
    /// The provision the measure rests on, as text.
    pub legal_basis: String,
}

/// `POST /api/v1/sanctions/{id}/lift`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LiftSanction {
    pub reason: String,
}

/// A sanction as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SanctionView {
    pub id: String,
    /// `certificate_suspended` or `issuance_suspended`.
    pub kind: String,
    /// The producer concerned.
    pub organization_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_id: Option<String>,
    pub regulator_id: String,
    pub reason: String,
    pub legal_basis: String,
    /// RFC 3339 UTC.
    pub starts_at: String,
    /// `true` until lifted.
    pub open: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifted_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifted_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lift_reason: Option<String>,
}

impl From<Sanction> for SanctionView {
    fn from(s: Sanction) -> Self {
        SanctionView {
            open: s.lifted_at.is_none(),
            starts_at: rfc3339_seconds(s.starts_at.and_utc()),
            lifted_at: s.lifted_at.map(|t| rfc3339_seconds(t.and_utc())),
            id: s.id,
            kind: s.kind,
            organization_id: s.organization_id,
            certificate_id: s.certificate_id,
            regulator_id: s.regulator_id,
            reason: s.reason,
            legal_basis: s.legal_basis,
            lifted_by: s.lifted_by,
            lift_reason: s.lift_reason,
        }
    }
}

/// Refuses issuance while `producer_id`'s right to issue is suspended.
pub fn check_issuance(conn: &mut DbConn, producer_id: &str) -> AppResult<()> {
    match Sanction::issuance_suspended(conn, producer_id)? {
        None => Ok(()),
        Some(s) => Err(AppError::Denied {
            code: "issuance_suspended",
            message: format!(
                "a regulator suspended this producer's right to issue certificates on {} ({}); \
                 existing certificates are unaffected",
                s.starts_at.format("%Y-%m-%d"),
                s.reason
            ),
        }),
    }
}

/// Records a regulator's suspension of certificate `certificate_id` (inside the transaction
/// that suspends it).
pub fn record_certificate_suspension(
    conn: &mut DbConn,
    regulator: &Actor,
    producer: &Organization,
    certificate_id: &str,
    reason: &str,
    legal_basis: &str,
) -> AppResult<()> {
    let Actor::Org(org) = regulator else {
        return Err(AppError::internal("a suspension without a regulator"));
    };
    Sanction {
        id: new_id(),
        kind: CERTIFICATE_SUSPENDED.into(),
        organization_id: producer.id.clone(),
        certificate_id: Some(certificate_id.to_string()),
        regulator_id: org.id.clone(),
        reason: reason.to_string(),
        legal_basis: legal_basis.to_string(),
        starts_at: now(),
        lifted_at: None,
        lifted_by: None,
        lift_reason: None,
    }
    .insert(conn)?;
    audit::record(
        conn,
        regulator,
        &producer.region_code,
        "certificate.suspend",
        &format!("certificate:{certificate_id}"),
        json!({"reason": reason, "legal_basis": legal_basis}),
    )
}

/// Before certificate `certificate_id` is reinstated: a regulator's open suspension may be
/// lifted only by a regulator of the producer's region (it is then closed); the producer gets
/// `suspended_by_regulator` and may file a reinstatement request instead.
pub fn lift_for_reinstatement(
    conn: &mut DbConn,
    actor: &Actor,
    producer: &Organization,
    certificate_id: &str,
    reason: &str,
) -> AppResult<()> {
    let Some(open) = Sanction::open_on_certificate(conn, certificate_id)? else {
        return Ok(());
    };
    let regulator = match actor {
        Actor::Org(org) if org.kind() == OrgKind::Regulator => {
            require_regulator_of(actor, producer)?
        }
        _ => {
            return Err(AppError::Denied {
                code: "suspended_by_regulator",
                message: "a regulator suspended this certificate: only a regulator of the \
                          producer's region can lift it; file a reinstatement request with \
                          your evidence"
                    .into(),
            })
        }
    };
    Sanction::lift(conn, &open.id, &regulator.id, reason, now())?;
    // A request still pending was about this suspension: it is answered by the lift.
    ReinstatementRequest::close_pending(conn, certificate_id, &regulator.id, reason, now())?;
    audit::record(
        conn,
        actor,
        &producer.region_code,
        "certificate.reinstate",
        &format!("certificate:{certificate_id}"),
        json!({"reason": reason, "sanction_id": open.id}),
    )
}

/// Closes the open sanction of a certificate that is revoked or recalled (nothing is left to
/// lift), and ends its pending reinstatement requests.
pub fn close_on_certificate(
    conn: &mut DbConn,
    certificate_id: &str,
    by: &Organization,
    why: &str,
) -> AppResult<()> {
    if let Some(open) = Sanction::open_on_certificate(conn, certificate_id)? {
        Sanction::lift(conn, &open.id, &by.id, why, now())?;
    }
    ReinstatementRequest::close_pending(conn, certificate_id, &by.id, why, now())?;
    Ok(())
}

/// Refuses issuing batches of a producer's whose certificate a regulator holds suspended:
/// a new certificate for the same product and batch would step round the suspension.
pub fn suspended_batches(
    conn: &mut DbConn,
    producer_id: &str,
) -> AppResult<std::collections::HashSet<(String, String)>> {
    let mut out = std::collections::HashSet::new();
    for sanction in Sanction::open_certificate_holds(conn, producer_id)? {
        if let Some(cert) = sanction
            .certificate_id
            .as_deref()
            .map(|id| crate::db::models::Certificate::find(conn, id))
            .transpose()?
            .flatten()
        {
            out.insert((cert.product_id, cert.batch_no));
        }
    }
    Ok(out)
}

/// A regulator of the producer's region suspends its right to issue.
pub fn impose(
    state: &AppState,
    actor: &Actor,
    organization_id: &str,
    input: NewSanction,
) -> AppResult<SanctionView> {
    if input.kind.trim() != ISSUANCE_SUSPENDED {
        return Err(AppError::invalid(
            "invalid_kind",
            "kind",
            "kind must be issuance_suspended (suspend a certificate through its own endpoint)",
        ));
    }
    let reason = validate::text("reason", &input.reason, 500)?;
    let legal_basis = validate::text("legal_basis", &input.legal_basis, 500)?;
    let producer = Organization::find(
        &mut *state.db.reader()?,
        checked_id(organization_id, "organization")?,
    )?
    .ok_or_else(|| AppError::not_found("organization"))?;
    let regulator = require_regulator_of(actor, &producer)?;
    if producer.kind() != OrgKind::Producer {
        return Err(AppError::invalid(
            "not_a_producer",
            "organization_id",
            "only a producer's right to issue can be suspended",
        ));
    }
    let sanction = Sanction {
        id: new_id(),
        kind: ISSUANCE_SUSPENDED.into(),
        organization_id: producer.id.clone(),
        certificate_id: None,
        regulator_id: regulator.id.clone(),
        reason: reason.clone(),
        legal_basis: legal_basis.clone(),
        starts_at: now(),
        lifted_at: None,
        lifted_by: None,
        lift_reason: None,
    };
    state.write(|conn| {
        if Sanction::issuance_suspended(conn, &producer.id)?.is_some() {
            return Err(AppError::Conflict {
                code: "already_suspended",
                message: "this producer's right to issue is already suspended".into(),
            });
        }
        sanction.insert(conn)?;
        audit::record(
            conn,
            actor,
            &producer.region_code,
            "organization.suspend_issuance",
            &format!("organization:{}", producer.id),
            json!({"reason": reason, "legal_basis": legal_basis, "sanction_id": sanction.id}),
        )?;
        // Every certificate of the producer now carries a warning.
        changes::everything(conn)
    })?;
    Ok(sanction.into())
}

/// A regulator of the producer's region lifts a sanction. Lifting a certificate's suspension
/// reinstates the certificate.
pub fn lift(
    state: &AppState,
    actor: &Actor,
    id: &str,
    input: LiftSanction,
) -> AppResult<SanctionView> {
    let reason = validate::text("reason", &input.reason, 500)?;
    let mut conn = state.db.reader()?;
    let sanction = Sanction::find(&mut conn, checked_id(id, "sanction")?)?
        .ok_or_else(|| AppError::not_found("sanction"))?;
    let producer = Organization::find(&mut conn, &sanction.organization_id)?
        .ok_or_else(|| AppError::not_found("organization"))?;
    drop(conn);
    require_regulator_of(actor, &producer)?;
    if sanction.lifted_at.is_some() {
        return Err(AppError::Conflict {
            code: "already_lifted",
            message: "this sanction was already lifted".into(),
        });
    }
    if let Some(certificate_id) = &sanction.certificate_id {
        super::status::change(
            state,
            actor,
            certificate_id,
            crate::domain::trail::EventType::Reinstated,
            super::status::StatusChange {
                reason,
                legal_basis: None,
            },
        )?;
    } else {
        state.write(|conn| {
            let org = match actor {
                Actor::Org(org) => org.id.clone(),
                Actor::Admin => String::new(),
            };
            if !Sanction::lift(conn, &sanction.id, &org, &reason, now())? {
                return Err(AppError::Conflict {
                    code: "already_lifted",
                    message: "this sanction was already lifted".into(),
                });
            }
            audit::record(
                conn,
                actor,
                &producer.region_code,
                "organization.restore_issuance",
                &format!("organization:{}", producer.id),
                json!({"reason": reason, "sanction_id": sanction.id}),
            )?;
            changes::everything(conn)
        })?;
    }
    let lifted = Sanction::find(&mut *state.db.reader()?, &sanction.id)?
        .ok_or_else(|| AppError::not_found("sanction"))?;
    Ok(lifted.into())
}

/// Sanctions the caller may read: a producer its own, a regulator its region's, the admin
/// all; optionally of one producer. Newest first.
pub fn list(
    state: &AppState,
    actor: &Actor,
    organization_id: Option<&str>,
) -> AppResult<Vec<SanctionView>> {
    let (scope, only) = match actor {
        Actor::Admin => (String::new(), organization_id.map(str::to_string)),
        Actor::Org(_) => {
            let org = actor.require_kind(&[OrgKind::Producer, OrgKind::Regulator])?;
            match org.kind() {
                OrgKind::Producer => (String::new(), Some(org.id.clone())),
                _ => (
                    prefix(&org.region_code).to_string(),
                    organization_id.map(str::to_string),
                ),
            }
        }
    };
    let rows = Sanction::list(
        &mut *state.db.reader()?,
        &scope,
        only.as_deref(),
        LIST_LIMIT,
    )?;
    Ok(rows.into_iter().map(SanctionView::from).collect())
}

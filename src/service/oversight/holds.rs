//! What sanctions hold back, checked and recorded inside other use cases' transactions:
//! issuance refused while a producer's right to issue is suspended, batches held by a
//! regulator's suspension, and the records a suspension, a reinstatement or a revocation
//! opens or closes. Lower than both [`super::status`] and [`super::sanctions`], which use it.

use serde_json::json;

use crate::crypto::random::new_id;
use crate::db::models::sanction::{ReinstatementRequest, Sanction, CERTIFICATE_SUSPENDED};
use crate::db::models::{now, Organization};
use crate::db::DbConn;
use crate::domain::role::OrgKind;
use crate::error::{AppError, AppResult};
use crate::service::access::auth::require_regulator_of;
use crate::service::{audit, Actor};

/// The legal basis recorded when a non-conformant spot-check suspends a certificate:
/// products found non-conformant in a supervisory spot-check are ordered to rectify.
pub const SPOT_CHECK_BASIS: &str = "《中华人民共和国产品质量法》第十七条";

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

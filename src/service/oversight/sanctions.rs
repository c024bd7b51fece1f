//! Regulators' sanctions: a certificate suspended by a regulator (which only a regulator of
//! the producer's region lifts), and a producer's right to issue suspended (new issuance is
//! refused with `issuance_suspended`; existing certificates keep their verdicts, with a
//! warning). Each is a record with its reason, legal basis and dates, and on the audit log.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::crypto::random::new_id;
use crate::db::models::sanction::{Sanction, ISSUANCE_SUSPENDED};
use crate::db::models::{now, Organization};
use crate::domain::payload::rfc3339_seconds;
use crate::domain::region::prefix;
use crate::domain::role::OrgKind;
use crate::domain::validate;
use crate::error::{AppError, AppResult};

use crate::service::access::auth::require_regulator_of;
use crate::service::{audit, changes, checked_id, Actor, AppState};

/// Sanctions a list shows at most.
const LIST_LIMIT: i64 = 500;

/// `POST /api/v1/organizations/{id}/sanctions`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSanction {
    /// `issuance_suspended` (certificates are suspended through their own endpoint).
    #[schema(value_type = SanctionKind)]
    pub kind: String,
    #[schema(value_type = crate::domain::request::Text500)]
    pub reason: String,
    /// The provision the measure rests on, as text.
    #[schema(value_type = crate::domain::request::Text500)]
    pub legal_basis: String,
}

crate::domain::request::named_schema!(
    /// The sanctions placed through this endpoint.
    SanctionKind = crate::domain::request::one_of(&[ISSUANCE_SUSPENDED])
);

/// `POST /api/v1/sanctions/{id}/lift`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LiftSanction {
    #[schema(value_type = crate::domain::request::Text500)]
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
        crate::service::oversight::status::change(
            state,
            actor,
            certificate_id,
            crate::domain::trail::EventType::Reinstated,
            crate::service::oversight::status::StatusChange {
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

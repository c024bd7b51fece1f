//! Bulk issuance over the API with an optional `Idempotency-Key`: a retry gets the first
//! answer again and issues nothing twice.

use serde::{Deserialize, Serialize};

use crate::db::models::{now, IdempotencyKey};
use crate::db::DbConn;
use crate::domain::validate;
use crate::error::AppError;

use crate::domain::batch::IssueRequest;

use crate::service::{Actor, AppState};

use super::{check_and_sign, store, BulkError, Issued};

/// `POST /api/v1/certificates/bulk`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRequest {
    /// 1 to 10,000 certificates, each as for single issuance.
    #[schema(min_items = 1, max_items = 10000)]
    pub certificates: Vec<IssueRequest>,
}

/// What bulk issuance answers (201).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BulkIssued {
    pub certificates: Vec<Issued>,
}

/// Bulk issuance with an optional `Idempotency-Key`: a retry with the same key and body gets
/// the first answer (JSON text) again and issues nothing; the same key with another body is a
/// conflict. The key is stored in the issuing transaction, so nothing is ever issued twice.
pub fn issue_bulk_once(
    state: &AppState,
    actor: &Actor,
    key: Option<&str>,
    body_hash: &str,
    req: BulkRequest,
) -> Result<String, BulkError> {
    let org_id = match actor {
        Actor::Org(org) => org.id.clone(),
        Actor::Admin => {
            return Err(AppError::Forbidden("this needs the role producer".into()).into())
        }
    };
    if let Some(key) = key {
        validate::text("Idempotency-Key", key, 200).map_err(AppError::from)?;
        // `file:…` names the CSV files the CLI issued (kept 90 days, not 24 hours).
        if key
            .get(..5)
            .is_some_and(|p| p.eq_ignore_ascii_case("file:"))
        {
            return Err(AppError::invalid(
                "invalid_idempotency_key",
                "Idempotency-Key",
                "an Idempotency-Key may not start with file:",
            )
            .into());
        }
    }
    let replay = |conn: &mut DbConn| -> Result<Option<String>, BulkError> {
        let Some(key) = key else { return Ok(None) };
        match IdempotencyKey::find(conn, &org_id, key)? {
            Some(found) if found.request_hash == body_hash => Ok(Some(found.response)),
            Some(_) => Err(AppError::Conflict {
                code: "idempotency_key_reused",
                message: "this Idempotency-Key was used with a different body".into(),
            }
            .into()),
            None => Ok(None),
        }
    };
    if let Some(answer) = replay(&mut *state.db.reader().map_err(AppError::from)?)? {
        return Ok(answer);
    }
    let signed = check_and_sign(state, actor, req.certificates)?;
    let mut pooled = state.db.writer().map_err(AppError::from)?;
    let conn: &mut DbConn = &mut pooled;
    let result = crate::db::write_transaction(conn, |conn| {
        if let Some(answer) = replay(conn)? {
            return Ok(answer);
        }
        let issued = store(state, conn, signed)?;
        let answer = serde_json::to_string(&BulkIssued {
            certificates: issued,
        })
        .map_err(|e| AppError::internal_from("bulk answer", e))?;
        if let Some(key) = key {
            let row = IdempotencyKey {
                organization_id: org_id.clone(),
                key: key.to_string(),
                request_hash: body_hash.to_string(),
                response: answer.clone(),
                created_at: now(),
            };
            row.insert(conn)?;
        }
        Ok(answer)
    });
    match result {
        // A concurrent request with the same key committed first (PostgreSQL): answer as it did.
        Err(BulkError::Request(AppError::Conflict {
            code: "conflict", ..
        })) if key.is_some() => {
            replay(conn)?.ok_or_else(|| AppError::internal("idempotency key vanished").into())
        }
        other => other,
    }
}

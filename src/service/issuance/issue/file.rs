//! Issuing an ERP export file from the CLI: all rows or none, signed and stored 10,000 at a
//! time, each file (by its SHA-256) once per producer.

use crate::db::models::{now, IdempotencyKey};
use crate::db::DbConn;
use crate::domain::role::OrgKind;
use crate::error::AppError;

use crate::domain::batch::IssueRequest;

use crate::service::{Actor, AppState};

use super::{prepare, sign_all, store, BulkError, MAX_BULK};

/// One certificate issued from a file, as the CLI reports it.
#[derive(Debug, Clone)]
pub struct FileIssued {
    pub id: String,
    pub batch_no: String,
    pub verify_url: String,
}

/// Issues every request of an ERP export in one transaction, all or none, signing and
/// storing 10,000 at a time and calling `progress` with the count stored so far. A file
/// (by its SHA-256) is issued once per producer: issuing it again is a conflict.
pub fn issue_file(
    state: &AppState,
    actor: &Actor,
    file_hash: &str,
    reqs: Vec<IssueRequest>,
    mut progress: impl FnMut(usize),
) -> Result<Vec<FileIssued>, BulkError> {
    let org_id = actor.require_kind(&[OrgKind::Producer])?.id.clone();
    let key = format!("file:{file_hash}");
    let mut pooled = state.db.writer().map_err(AppError::from)?;
    let conn: &mut DbConn = &mut pooled;
    crate::db::write_transaction(conn, |conn| {
        if let Some(first) = IdempotencyKey::find(conn, &org_id, &key)? {
            return Err(AppError::Conflict {
                code: "file_already_issued",
                message: format!(
                    "this file was already issued at {} UTC ({}); nothing was issued again",
                    first.created_at, first.response
                ),
            }
            .into());
        }
        let mut prepared = prepare(state, conn, actor, &reqs)?;
        let signer = prepared.key.platform()?;
        let mut ready = std::mem::take(&mut prepared.ready);
        let mut out = Vec::with_capacity(ready.len());
        while !ready.is_empty() {
            let rest = ready.split_off(MAX_BULK.min(ready.len()));
            let built = sign_all(
                signer,
                &prepared.producer,
                std::mem::replace(&mut ready, rest),
                prepared.issued_at,
            );
            let issued = store(state, conn, built)?;
            out.extend(issued.into_iter().map(|i| FileIssued {
                id: i.id,
                batch_no: i.payload.batch.no,
                verify_url: i.verify_url,
            }));
            progress(out.len());
        }
        IdempotencyKey {
            organization_id: org_id.clone(),
            key: key.clone(),
            request_hash: file_hash.to_string(),
            response: format!("{} certificates", out.len()),
            created_at: now(),
        }
        .insert(conn)?;
        Ok(out)
    })
}

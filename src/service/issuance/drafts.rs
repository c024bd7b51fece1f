//! Issuance for a producer that holds its own key (contract §11): the platform checks the
//! request and builds the payload as for any issuance, the producer signs it where its key
//! lives (`certrail sign`), and the platform checks that signature before storing the
//! certificate. The platform never sees the private key.

use serde::{Deserialize, Serialize};

use crate::crypto::b64url_decode;
use crate::crypto::random::new_id;
use crate::crypto::signing::{certificate_message, verify as verify_sig};
use crate::db::models::draft::Draft;
use crate::db::models::{now, SigningKeyRow};
use crate::domain::payload::{recanonicalize, Payload};
use crate::domain::role::OrgKind;
use crate::error::{AppError, AppResult};

use crate::service::issuance::issue::{self, ActiveKey, BulkError, IssueRequest, Issued, RowFacts};
use crate::service::{checked_id, Actor, AppState};

/// `POST /api/v1/certificates/drafts` answers (201).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DraftView {
    /// The certificate id the payload names.
    pub id: String,
    /// The payload to sign (contract §2).
    pub payload: Payload,
    pub kid: String,
    /// Where to `POST {"signature"}` once signed.
    pub signature_url: String,
}

/// Checks the request and keeps the payload for the producer to sign.
pub fn create(state: &AppState, actor: &Actor, req: IssueRequest) -> AppResult<DraftView> {
    let mut conn = state.db.reader()?;
    let prepared =
        issue::prepare(state, &mut conn, actor, std::slice::from_ref(&req)).map_err(single)?;
    drop(conn);
    let ActiveKey::Producer(kid) = &prepared.key else {
        return Err(AppError::Conflict {
            code: "key_held_by_platform",
            message: "the platform holds this producer's key: issue with POST /api/v1/certificates"
                .into(),
        });
    };
    let ready = prepared
        .ready
        .first()
        .ok_or_else(|| AppError::internal("a checked request went missing"))?;
    let facts = ready.row_facts();
    let payload = issue::payload_of(ready, new_id(), kid, &prepared.producer, prepared.issued_at);
    let draft = Draft {
        id: payload.id.clone(),
        organization_id: prepared.producer.id.clone(),
        product_id: facts.product_id,
        kid: kid.clone(),
        payload: payload.canonical(),
        units: facts.units,
        lab_id: facts.lab_id,
        created_at: now(),
    };
    state.write(|conn| draft.insert(conn).map_err(AppError::from))?;
    Ok(DraftView {
        signature_url: state.public_url(&format!(
            "/api/v1/certificates/drafts/{}/signature",
            draft.id
        )),
        id: draft.id,
        kid: draft.kid,
        payload,
    })
}

fn single(e: BulkError) -> AppError {
    match e {
        BulkError::Items(mut items) => items.remove(0).1,
        BulkError::Request(e) => e,
    }
}

/// `POST /api/v1/certificates/drafts/{id}/signature`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftSignature {
    /// Ed25519 over `"CERTRAIL-CERT-V1\n"` ‖ JCS(payload) by the producer's key, base64url
    /// without padding (86 characters), as `certrail sign` prints it.
    #[schema(pattern = "^[A-Za-z0-9_-]{85}[AQgw]$")]
    pub signature: String,
}

/// Issues the draft once its signature verifies under the producer's active key.
pub fn submit(state: &AppState, actor: &Actor, id: &str, req: DraftSignature) -> AppResult<Issued> {
    let org = actor.require_kind(&[OrgKind::Producer])?;
    let id = checked_id(id, "draft")?;
    let signature = b64url_decode(req.signature.trim())
        .filter(|s| s.len() == 64)
        .ok_or_else(|| {
            AppError::invalid(
                "invalid_signature",
                "signature",
                "not an Ed25519 signature (64 bytes, base64url without padding)",
            )
        })?;
    state.write(|conn| {
        crate::service::oversight::holds::check_issuance(conn, &org.id)?;
        let draft = Draft::find(conn, id)?.ok_or_else(|| AppError::not_found("draft"))?;
        if draft.organization_id != org.id {
            return Err(AppError::Forbidden(
                "the draft belongs to another producer".into(),
            ));
        }
        let active = SigningKeyRow::active_for(conn, &org.id)?;
        let key = active
            .filter(|k| k.kid == draft.kid && !k.held_by_platform())
            .and_then(|k| crate::crypto::signing::verifying_key(&k.public_key))
            .ok_or_else(|| AppError::Conflict {
                code: "key_changed",
                message: "the producer's key changed since the draft was made: make a new draft"
                    .into(),
            })?;
        if !verify_sig(&key, &certificate_message(&draft.payload), &signature) {
            return Err(AppError::invalid(
                "invalid_signature",
                "signature",
                "the signature does not verify for this draft's payload under the producer's key",
            ));
        }
        let payload: Payload = recanonicalize(&draft.payload)
            .and_then(|(v, _)| serde_json::from_value(v).ok())
            .ok_or_else(|| AppError::internal("a stored draft does not parse"))?;
        if !Draft::delete(conn, id)? {
            return Err(AppError::not_found("draft"));
        }
        let event_signer = state.keys.signer(conn, &org.id)?;
        let facts = RowFacts {
            product_id: draft.product_id,
            units: draft.units,
            lab_id: draft.lab_id,
        };
        let built = issue::stored(
            &event_signer,
            org,
            &facts,
            payload,
            draft.payload,
            signature,
        );
        issue::store(state, conn, vec![built])
            .map_err(single)?
            .pop()
            .ok_or_else(|| AppError::internal("nothing was stored"))
    })
}

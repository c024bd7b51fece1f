//! GS1 Digital Link on the platform's domain: a certificate of a product with a GTIN has a
//! batch label whose QR holds `{PUBLIC_URL}/01/{GTIN-14}/10/{batch}?s={signature}`, and the
//! platform resolves such URIs (and unit ones, `/21/{serial}`) to the certificate, or answers
//! a GS1 resolver's linkset request for them (RFC 9264, GS1 link types).

use serde_json::{json, Value};

use crate::crypto::b64url;
use crate::db::models::{Certificate, Product};
use crate::domain::digital_link::{gtin14, path, registered_forms};
use crate::error::{AppError, AppResult};

use crate::service::verify::{verify, Label, Source};
use crate::service::{checked_id, AppState};

/// Most certificates one GTIN and batch are tried against.
const MAX_CANDIDATES: i64 = 8;

/// The Digital Link batch label of certificate `id` (public, like the batch label).
pub fn batch_label(state: &AppState, id: &str) -> AppResult<String> {
    let mut conn = state.db.replica_reader()?;
    let cert = Certificate::find(&mut conn, checked_id(id, "certificate")?)?
        .ok_or_else(|| AppError::not_found("certificate"))?;
    let product = Product::find(&mut conn, &cert.product_id)?
        .ok_or_else(|| AppError::not_found("product"))?;
    let link = product
        .gtin
        .as_deref()
        .and_then(|gtin| path(gtin, &cert.batch_no, None))
        .ok_or_else(|| {
            AppError::invalid(
                "no_digital_link",
                "id",
                "a GS1 Digital Link label needs a product GTIN and a batch number of at most 20 \
                 characters of GS1's character set 82",
            )
        })?;
    Ok(state.public_url(&format!("{link}?s={}", b64url(&cert.signature))))
}

/// The certificate a Digital Link names: of the certificates of that GTIN and batch (newest
/// first), the first whose label `signature` verifies, else the newest. `None` if there is
/// none.
pub fn resolve(
    state: &AppState,
    gtin: &str,
    batch: &str,
    serial: Option<i64>,
    signature: Option<&str>,
) -> AppResult<Option<String>> {
    let Some(gtin) = gtin14(gtin) else {
        return Ok(None);
    };
    let mut conn = state.db.replica_reader()?;
    let candidates =
        Certificate::by_gtin_and_batch(&mut conn, &registered_forms(&gtin), batch, MAX_CANDIDATES)?;
    // Only the GTIN's owner's certificates answer for it (products registered under it by
    // anyone else before ownership was recorded stay unreachable by its Digital Link).
    let owner = crate::service::issuance::gtins::owner_of(&mut conn, &gtin)?;
    let mut candidates = candidates;
    if let Some(owner) = owner {
        let mut owned = Vec::with_capacity(candidates.len());
        for id in candidates {
            if Certificate::find(&mut conn, &id)?.is_some_and(|c| c.organization_id == owner) {
                owned.push(id);
            }
        }
        candidates = owned;
    }
    drop(conn);
    if candidates.len() > 1 {
        for id in &candidates {
            let label = Label {
                id,
                serial,
                signature,
            };
            if verify(state, &label, Source::Check)?.verdict
                != crate::domain::verdict::Verdict::Forged
            {
                return Ok(Some(id.clone()));
            }
        }
    }
    Ok(candidates.into_iter().next())
}

/// The linkset (RFC 9264) a GS1 resolver asks for: the verification page as the default
/// link and as certification information, the EPCIS trail, and the public record.
pub fn linkset(state: &AppState, anchor: &str, id: &str, query: &str) -> Value {
    let label = match query.is_empty() {
        true => format!("/v/{id}"),
        false => format!("/v/{id}?{query}"),
    };
    let link = |href: String, title: &str, kind: &str| json!([{ "href": href, "title": title, "type": kind, "hreflang": ["zh", "en"] }]);
    json!({
        "linkset": [{
            "anchor": anchor,
            "https://gs1.org/voc/defaultLink": link(state.public_url(&label), "产品合格证验证 Certificate check", "text/html"),
            "https://gs1.org/voc/certificationInfo": link(state.public_url(&label), "产品合格证 Conformity certificate", "application/json"),
            "https://gs1.org/voc/traceability": link(state.public_url(&format!("/api/v1/certificates/{id}/epcis")), "EPCIS 2.0", "application/ld+json"),
            "https://gs1.org/voc/pip": link(state.public_url(&format!("/c/{id}")), "公开记录 Public record", "text/html"),
        }]
    })
}

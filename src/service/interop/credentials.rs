//! A certificate as a W3C Verifiable Credential 2.0 in the shape of a UN Transparency Protocol
//! Digital Conformity Credential, secured as `vc+jwt` (VC-JOSE-COSE: a compact JWS, EdDSA),
//! with its status in W3C Bitstring Status Lists the platform publishes (revocation: revoked
//! or recalled; suspension: suspended).
//!
//! The platform attests the credential with its log key (the key of the transparency log and
//! the trust bundle), published as a JWK set; the certificate's own signature and payload ride
//! inside, so the producer's signature can still be checked against the trust list.

use std::io::Write;

use chrono::Utc;
use serde_json::{json, Value};

use crate::crypto::{b64url, signing::kid_of};
use crate::db::models::credential;
use crate::db::models::{Certificate, Organization, Product};
use crate::domain::payload::rfc3339_seconds;
use crate::domain::status::CertStatus;
use crate::error::{AppError, AppResult};

use crate::service::{checked_id, AppState};

/// Entries per status list: W3C's minimum (16 KiB of bits), so no list tells much about any one
/// certificate.
pub const LIST_SIZE: i64 = 131_072;

/// The purposes of the lists, with the certificate statuses each flags.
pub const PURPOSES: [(&str, &[&str]); 2] = [
    (
        "revocation",
        &[CertStatus::Revoked.as_str(), CertStatus::Recalled.as_str()],
    ),
    ("suspension", &[CertStatus::Suspended.as_str()]),
];

/// The platform's key as a JWK set (`kid`: the log key's kid).
pub fn jwks(state: &AppState) -> Value {
    let key = state.log.public_key();
    json!({"keys": [{
        "kty": "OKP", "crv": "Ed25519", "x": b64url(key.as_bytes()),
        "kid": kid_of(&key), "alg": "EdDSA", "use": "sig",
    }]})
}

/// A compact JWS (`typ` `vc+jwt`) of `claims`, signed with the log key.
fn secure(state: &AppState, claims: &Value) -> String {
    let header = json!({
        "alg": "EdDSA",
        "typ": "vc+jwt",
        "cty": "vc",
        "kid": kid_of(&state.log.public_key()),
    });
    let signing_input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let signature = state.log.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", b64url(&signature))
}

/// The status list index of certificate `id`, given on first use.
fn index_of(state: &AppState, id: &str) -> AppResult<i64> {
    if let Some(index) = credential::index_of(&mut *state.db.replica_reader()?, id)? {
        return Ok(index);
    }
    // Two certificates asking at once on PostgreSQL may both pick the next index: the later
    // insert fails on the unique index and tries again with the index after.
    let mut last = None;
    for _ in 0..5 {
        let assigned = state.write(|conn| match credential::index_of(conn, id)? {
            Some(index) => Ok(index),
            None => Ok(credential::assign(conn, id)?),
        });
        match assigned {
            Err(e @ AppError::Conflict { .. }) => last = Some(e),
            other => return other,
        }
    }
    Err(last.unwrap_or_else(|| AppError::internal("no status index")))
}

fn status_list_url(state: &AppState, purpose: &str, list: i64) -> String {
    state.public_url(&format!("/api/v1/status/{purpose}/{list}"))
}

/// The credential of certificate `id`, as `vc+jwt`.
pub fn credential(state: &AppState, id: &str) -> AppResult<String> {
    let id = checked_id(id, "certificate")?;
    let (cert, product, producer) = {
        let mut conn = state.db.replica_reader()?;
        let cert =
            Certificate::find(&mut conn, id)?.ok_or_else(|| AppError::not_found("certificate"))?;
        let product = Product::find(&mut conn, &cert.product_id)?
            .ok_or_else(|| AppError::not_found("product"))?;
        let producer = Organization::find(&mut conn, &cert.organization_id)?
            .ok_or_else(|| AppError::not_found("organization"))?;
        (cert, product, producer)
    };
    let index = index_of(state, &cert.id)?;
    let payload: Value = serde_json::from_str(&cert.payload)
        .map_err(|e| AppError::internal_from(format!("payload of {}", cert.id), e))?;
    let promise = cert.kind == crate::domain::promise::PROMISE_TYPE;
    let statuses: Vec<Value> = PURPOSES
        .iter()
        .map(|(purpose, _)| {
            let list = status_list_url(state, purpose, index / LIST_SIZE);
            json!({
                "id": format!("{list}#{index}"),
                "type": "BitstringStatusListEntry",
                "statusPurpose": purpose,
                "statusListIndex": index.to_string(),
                "statusListCredential": list,
            })
        })
        .collect();
    let organization = |org: &Organization| {
        json!({
            "type": ["Party"],
            "id": state.public_url(&format!("/api/v1/organizations/{}", org.id)),
            "name": org.name,
            "registeredId": org.credit_code,
            "idScheme": {"type": ["IdentifierScheme"], "id": "https://www.gsxt.gov.cn", "name": "统一社会信用代码 (GB 32100-2015)"},
        })
    };
    let mut assessed = json!({
        "type": ["Product"],
        "id": state.public_url(&format!("/api/v1/products/{}", product.id)),
        "name": payload["product"]["name"],
        "batchNumber": cert.batch_no,
    });
    if let Some(gtin) = &product.gtin {
        assessed["registeredId"] = json!(gtin);
        assessed["idScheme"] =
            json!({"type": ["IdentifierScheme"], "id": "https://id.gs1.org/01", "name": "GTIN"});
    }
    let standard = match promise {
        true => "农业农村部令2025年第4号 承诺达标合格证".to_string(),
        false => payload["product"]["standard"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    };
    let assessment_date = match promise {
        true => payload["issued_at"].clone(),
        false => payload["inspection"]["date"].clone(),
    };
    let verify_url = state.batch_label_url(&cert.id, &b64url(&cert.signature));
    let mut vc = json!({
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://test.uncefact.org/vocabulary/untp/dcc/0.5.0/"
        ],
        "type": ["VerifiableCredential", "DigitalConformityCredential"],
        "id": state.public_url(&format!("/api/v1/certificates/{}/credential", cert.id)),
        "issuer": {
            "type": ["CredentialIssuer"],
            "id": state.public_url("/"),
            "name": "certrail",
        },
        "validFrom": payload["issued_at"],
        "credentialStatus": statuses,
        "credentialSubject": {
            "type": ["ConformityAttestation"],
            "id": verify_url,
            "name": if promise { "承诺达标合格证" } else { "产品合格证" },
            "assessorLevel": "Self",
            "attestationType": if promise { "declaration" } else { "certification" },
            "issuedToParty": organization(&producer),
            "assessment": [{
                "type": ["ConformityAssessment"],
                "assessedProduct": [assessed],
                "specifiedCondition": standard,
                "conformance": true,
                "assessmentDate": assessment_date,
            }],
            "certificate": {
                "payload": payload,
                "signature": b64url(&cert.signature),
                "kid": cert.kid,
                "trustList": state.public_url("/api/v1/keys"),
            },
        },
    });
    if let Some(expiry) = payload["batch"]["expiry_date"].as_str() {
        vc["validUntil"] = json!(format!("{expiry}T23:59:59Z"));
    }
    Ok(secure(state, &vc))
}

/// Status list `list` of `purpose`, as a `vc+jwt` Bitstring Status List credential.
pub fn status_list(state: &AppState, purpose: &str, list: i64) -> AppResult<String> {
    let Some((purpose, statuses)) = PURPOSES.iter().find(|(p, _)| *p == purpose) else {
        return Err(AppError::not_found("status list"));
    };
    if !(0..=i64::MAX / LIST_SIZE - 1).contains(&list) {
        return Err(AppError::not_found("status list"));
    }
    let from = list * LIST_SIZE;
    let flagged = credential::flagged(
        &mut *state.db.fresh_reader()?,
        from,
        from + LIST_SIZE,
        statuses,
    )?;
    let mut bits = vec![0u8; (LIST_SIZE / 8) as usize];
    for index in flagged {
        let at = (index - from) as usize;
        // Index 0 is the left-most (most significant) bit of the first byte.
        bits[at / 8] |= 0x80 >> (at % 8);
    }
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(&bits)
        .and_then(|()| gzip.flush())
        .map_err(|e| AppError::internal_from("gzip", e))?;
    let compressed = gzip
        .finish()
        .map_err(|e| AppError::internal_from("gzip", e))?;
    let url = status_list_url(state, purpose, list);
    let vc = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": {"id": state.public_url("/"), "name": "certrail"},
        "validFrom": rfc3339_seconds(Utc::now()),
        "credentialSubject": {
            "id": format!("{url}#list"),
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": format!("u{}", b64url(&compressed)),
        },
    });
    Ok(secure(state, &vc))
}

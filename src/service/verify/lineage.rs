//! A re-issued lot's ancestry and a lot's re-issued children, as verification shows them:
//! each parent with its verdict now (status and signature), each child with the quantity it
//! took. A child whose
//! ancestry holds a lot that is not genuine (suspended, revoked, recalled, tampered, …) warns
//! `ancestor_not_genuine`; the verdict stays the child's own.

use std::sync::Arc;

use serde::Serialize;

use crate::crypto::signing;
use crate::db::models::lineage::{CertificateParent, Related};
use crate::db::models::{Certificate, SigningKeyRow};
use crate::db::DbConn;
use crate::domain::payload::recanonicalize;
use crate::domain::promise::PROMISE_TYPE;
use crate::domain::status::CertStatus;
use crate::domain::verdict::Verdict;
use crate::error::AppResult;
use crate::service::AppState;

/// The warning on a lot whose ancestry is not all genuine.
pub const ANCESTOR_NOT_GENUINE: &str = "ancestor_not_genuine";

/// Parents and children of a lot.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Lineage {
    /// The lots this one was split or merged from.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<Link>,
    /// The lots re-issued from this one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Link>,
}

/// A related lot.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Link {
    pub id: String,
    pub batch_no: String,
    /// The organization that issued it.
    pub issuer: String,
    /// How much the child took from the parent.
    pub quantity: i64,
    /// A parent's verdict now (its own labels aside).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
}

fn link((row, issuer, batch_no): Related, id: String, verdict: Option<Verdict>) -> Link {
    Link {
        id,
        batch_no,
        issuer,
        quantity: row.quantity,
        verdict,
    }
}

/// Most children an answer lists (the newest are left out beyond it).
pub const CHILDREN_SHOWN: i64 = 100;

/// A lot's verdict from its row alone: its status, and whether its payload still verifies
/// under its key (no trail or log checks: those are its own answer's).
fn verdict_of(conn: &mut DbConn, cert: &Certificate) -> AppResult<Verdict> {
    let signed = match (
        SigningKeyRow::find(conn, &cert.kid)?,
        recanonicalize(&cert.payload),
    ) {
        (Some(row), Some((_, canonical))) => {
            signing::verifying_key(&row.public_key).is_some_and(|key| {
                signing::verify(
                    &key,
                    &signing::certificate_message(&canonical),
                    &cert.signature,
                )
            })
        }
        _ => false,
    };
    Ok(match (signed, cert.current_status()) {
        (false, _) => Verdict::Tampered,
        (true, CertStatus::Revoked) => Verdict::Revoked,
        (true, CertStatus::Recalled) => Verdict::Recalled,
        (true, CertStatus::Suspended) => Verdict::Suspended,
        (true, CertStatus::Active) => Verdict::Genuine,
    })
}

/// The lineage of `cert` (`None` for a lot with neither parents nor children) and whether
/// some ancestor is not genuine. Parents are judged from their rows (status and signature);
/// ancestors further up by their status, walked generation by generation, each lot once, at
/// most [`MAX_DEPTH`] generations (re-issue refuses deeper lineages).
pub fn load(
    _state: &AppState,
    conn: &mut DbConn,
    cert: &Certificate,
) -> AppResult<(Option<Arc<Lineage>>, bool)> {
    if cert.kind != PROMISE_TYPE {
        return Ok((None, false));
    }
    let parents = CertificateParent::parents_of(conn, &cert.id)?;
    let children = CertificateParent::children_of(conn, &cert.id, CHILDREN_SHOWN)?;
    if parents.is_empty() && children.is_empty() {
        return Ok((None, false));
    }
    let mut tainted = false;
    let mut parent_links = Vec::with_capacity(parents.len());
    for related in parents {
        let id = related.0.parent_id.clone();
        let verdict = match Certificate::find(conn, &id)? {
            Some(parent) => verdict_of(conn, &parent)?,
            None => Verdict::Unknown,
        };
        tainted |= verdict != Verdict::Genuine;
        parent_links.push(link(related, id, Some(verdict)));
    }
    if !tainted {
        let roots: Vec<String> = parent_links.iter().map(|l| l.id.clone()).collect();
        tainted = !CertificateParent::ancestors_all_active(conn, &roots)?;
    }
    let children = children
        .into_iter()
        .map(|related| {
            let id = related.0.child_id.clone();
            link(related, id, None)
        })
        .collect();
    Ok((
        Some(Arc::new(Lineage {
            parents: parent_links,
            children,
        })),
        tainted,
    ))
}

impl Lineage {
    /// Approximate bytes, for the cache's bound.
    pub fn weight(&self) -> usize {
        self.parents
            .iter()
            .chain(&self.children)
            .map(|l| l.id.len() + l.batch_no.len() + l.issuer.len() + 64)
            .sum()
    }
}

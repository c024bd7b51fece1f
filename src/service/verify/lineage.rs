//! A re-issued lot's ancestry and a lot's re-issued children, as verification shows them:
//! each parent with its verdict now, each child with the quantity it took. A child whose
//! ancestry holds a lot that is not genuine (suspended, revoked, recalled, tampered, …) warns
//! `ancestor_not_genuine`; the verdict stays the child's own.

use std::sync::Arc;

use serde::Serialize;

use crate::db::models::lineage::{CertificateParent, Related};
use crate::db::models::Certificate;
use crate::db::DbConn;
use crate::domain::promise::PROMISE_TYPE;
use crate::domain::verdict::Verdict;
use crate::error::AppResult;
use crate::service::AppState;

use super::record::Record;

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

/// The lineage of `cert` (`None` for a lot with neither parents nor children) and whether
/// some ancestor is not genuine.
pub fn load(
    state: &AppState,
    conn: &mut DbConn,
    cert: &Certificate,
) -> AppResult<(Option<Arc<Lineage>>, bool)> {
    if cert.kind != PROMISE_TYPE {
        return Ok((None, false));
    }
    let parents = CertificateParent::parents_of(conn, &cert.id)?;
    let children = CertificateParent::children_of(conn, &cert.id)?;
    if parents.is_empty() && children.is_empty() {
        return Ok((None, false));
    }
    let mut tainted = false;
    let mut parent_links = Vec::with_capacity(parents.len());
    for related in parents {
        let id = related.0.parent_id.clone();
        let record = match state.verify.record(&id) {
            Some(r) => Some(r),
            None => Record::load(state, conn, &id)?.map(Arc::new),
        };
        let verdict = record
            .as_ref()
            .map_or(Verdict::Unknown, |r| r.findings.verdict());
        tainted |= verdict != Verdict::Genuine
            || record
                .as_ref()
                .is_some_and(|r| r.warnings.contains(&ANCESTOR_NOT_GENUINE));
        parent_links.push(link(related, id, Some(verdict)));
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

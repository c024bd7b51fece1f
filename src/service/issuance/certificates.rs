//! A producer's own certificates: listed, searched by batch number and paged.

use serde::Serialize;

use crate::db::models::{Certificate, Product};
use crate::db::DbConn;
use crate::domain::role::OrgKind;
use crate::domain::validate;
use crate::error::{AppError, AppResult};

use crate::service::{checked_id, Actor, AppState};

/// Certificates a page shows.
pub const PAGE_SIZE: i64 = 20;

/// One line of the list.
#[derive(Debug, Clone, Serialize)]
pub struct CertificateLine {
    pub id: String,
    pub batch_no: String,
    pub product: String,
    pub status: String,
    /// UTC, `YYYY-MM-DD HH:MM`.
    pub issued_at: String,
}

/// One page of the list, and whether another follows.
#[derive(Debug, Clone)]
pub struct CertificatePage {
    pub lines: Vec<CertificateLine>,
    pub page: i64,
    pub more: bool,
}

/// The last page a producer's list reaches (50 million certificates).
pub const MAX_PAGE: i64 = 1_000_000;

/// Producer only: its certificates, newest first, `PAGE_SIZE` a page (`page` from 1).
pub fn list_own(
    state: &AppState,
    actor: &Actor,
    search: Option<&str>,
    page: i64,
) -> AppResult<CertificatePage> {
    let org = actor.require_kind(&[OrgKind::Producer])?;
    let search = search
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| validate::text("q", s, 64))
        .transpose()?;
    // Past the last page is an empty page (never an overflowing offset).
    let page = page.clamp(1, MAX_PAGE);
    let mut conn = state.db.reader()?;
    let mut rows = Certificate::list_for_producer(
        &mut conn,
        &org.id,
        search.as_deref(),
        (page - 1) * PAGE_SIZE,
        PAGE_SIZE + 1,
    )?;
    let more = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    Ok(CertificatePage {
        lines: lines(&mut conn, rows)?,
        page,
        more,
    })
}

/// List lines for `rows`, with their product names.
pub(crate) fn lines(conn: &mut DbConn, rows: Vec<Certificate>) -> AppResult<Vec<CertificateLine>> {
    let mut lines = Vec::with_capacity(rows.len());
    for row in rows {
        let product = Product::find(conn, &row.product_id)?
            .map(|p| p.name)
            .unwrap_or_default();
        lines.push(CertificateLine {
            id: row.id,
            batch_no: row.batch_no,
            product,
            status: row.status,
            issued_at: row.issued_at.format("%Y-%m-%d %H:%M").to_string(),
        });
    }
    Ok(lines)
}

/// The owning producer or a regulator of its region: the certificate, and whether the
/// actor is its producer.
pub fn viewable(state: &AppState, actor: &Actor, id: &str) -> AppResult<(Certificate, bool)> {
    let (cert, producer) = crate::service::certificate_with_producer(&mut *state.db.reader()?, id)?;
    let org = crate::service::access::auth::require_owner_or_regulator(actor, &producer)?;
    let owner = org.id == producer.id;
    Ok((cert, owner))
}

/// Producer only: one of its own certificates.
pub fn own(state: &AppState, actor: &Actor, id: &str) -> AppResult<Certificate> {
    let org = actor.require_kind(&[OrgKind::Producer])?;
    let cert = Certificate::find(&mut *state.db.reader()?, checked_id(id, "certificate")?)?
        .ok_or_else(|| AppError::not_found("certificate"))?;
    if cert.organization_id != org.id {
        return Err(AppError::Forbidden(
            "the certificate belongs to another producer".into(),
        ));
    }
    Ok(cert)
}

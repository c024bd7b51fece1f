//! The regulator's view of its region: a dashboard (certificates issued per week, intake
//! checks, spot-check results, open copy warnings, consumers' reports) and search across its producers'
//! certificates.

use chrono::{Datelike, Days, Utc};

use crate::db::models::{Certificate, EventRow};
use crate::domain::region::{prefix, within};
use crate::domain::role::OrgKind;
use crate::domain::validate;
use crate::error::AppResult;

use crate::service::issuance::certificates::CertificateLine;
use crate::service::oversight::warnings::{self, OpenWarning};
use crate::service::redress::complaints::{self, ComplaintView};
use crate::service::{Actor, AppState};

/// Weeks the issuance chart covers.
pub const WEEKS: u64 = 8;

/// What the dashboard shows.
#[derive(Debug, Clone)]
pub struct Dashboard {
    /// (Monday of the week, `MM-DD`; certificates issued that week), oldest first.
    pub issued_per_week: Vec<(String, i64)>,
    pub intakes: i64,
    pub intakes_genuine: i64,
    pub checks_conformant: i64,
    pub checks_non_conformant: i64,
    pub complaints: Vec<ComplaintView>,
    /// Open copy warnings in the region, and the newest of them.
    pub open_warnings: i64,
    pub warnings: Vec<OpenWarning>,
    /// Certificates whose forged labels were scanned lately.
    pub counterfeited: Vec<warnings::Counterfeited>,
}

/// Regulators only: the dashboard of their region.
pub fn dashboard(state: &AppState, actor: &Actor) -> AppResult<Dashboard> {
    let org = actor.require_kind(&[OrgKind::Regulator])?;
    let region = prefix(&org.region_code);
    let mut conn = state.db.reader()?;
    let today = Utc::now().date_naive();
    let monday = today - Days::new(u64::from(today.weekday().num_days_from_monday()));
    let mut issued_per_week = Vec::with_capacity(WEEKS as usize);
    for back in (0..WEEKS).rev() {
        let start = monday - Days::new(7 * back);
        let end = start + Days::new(7);
        let count = Certificate::count_in_region(
            &mut conn,
            region,
            start.and_hms_opt(0, 0, 0).unwrap_or_default(),
            end.and_hms_opt(0, 0, 0).unwrap_or_default(),
        )?;
        issued_per_week.push((start.format("%m-%d").to_string(), count));
    }
    let count =
        |conn: &mut _, kind, fragment| EventRow::count_in_region(conn, region, kind, fragment);
    let (open_warnings, warnings) = warnings::open_in_region(&mut conn, region, 20)?;
    Ok(Dashboard {
        open_warnings,
        warnings,
        counterfeited: warnings::counterfeited_in_region(&mut conn, region, 10)?,
        issued_per_week,
        intakes: count(&mut conn, "received", None)?,
        intakes_genuine: count(&mut conn, "received", Some("\"label_verdict\":\"genuine\""))?,
        checks_conformant: count(&mut conn, "inspected", Some("\"result\":\"conformant\""))?,
        checks_non_conformant: count(
            &mut conn,
            "inspected",
            Some("\"result\":\"non_conformant\""),
        )?,
        complaints: complaints::list_on(&mut conn, actor, 20)?,
    })
}

/// Regulators only: certificates in their region matching a batch number, product, producer
/// name or credit code, or of producers in a region code inside theirs; at most 50, newest
/// first.
/// Search results on one page.
pub const SEARCH_PAGE: i64 = 50;
/// The last page a search reaches (50,000 results; a report covers more).
pub const SEARCH_PAGES: i64 = 1000;

pub fn search(
    state: &AppState,
    actor: &Actor,
    text: &str,
    page: i64,
) -> AppResult<Vec<CertificateLine>> {
    let page = validate::count("page", page, 1, SEARCH_PAGES)?;
    let offset = (page - 1) * SEARCH_PAGE;
    let org = actor.require_kind(&[OrgKind::Regulator])?;
    let text = validate::text("q", text, 64)?;
    let mut conn = state.db.reader()?;
    // A region code inside the jurisdiction narrows the search to that region.
    let is_region = text.len() == 6 && text.bytes().all(|b| b.is_ascii_digit());
    let rows = if is_region && within(&org.region_code, &text) {
        Certificate::search_in_region(&mut conn, prefix(&text), "", SEARCH_PAGE, offset)?
    } else {
        Certificate::search_in_region(
            &mut conn,
            prefix(&org.region_code),
            &text,
            SEARCH_PAGE,
            offset,
        )?
    };
    crate::service::issuance::certificates::lines(&mut conn, rows)
}

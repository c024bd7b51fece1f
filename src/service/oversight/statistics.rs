//! Regulators' reports: for a region (the regulator's own or any region inside it) and a date
//! range, the figures a regulator hands up: certificates issued, producers active, intake
//! coverage (share of shipped batches some party took in), spot-checks and their pass rate,
//! suspensions, recalls and their acknowledgement, consumers' reports and 先行赔付 cases
//! (open, overdue, compensated amount) and open copy warnings; in total, by county, by
//! producer and by retailer. Every per-certificate figure is counted in the database
//! (`db::models::statistics`), so the report moves one row per organization, not per certificate.

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, NaiveDateTime};
use serde::Deserialize;

use crate::db::models::case::Case;
use crate::db::models::recall::RecallAck;
use crate::db::models::statistics::{self as q, Scope};
use crate::db::models::{now, EventRow, Organization, Product, Recall};
use crate::domain::case::CaseState;
use crate::domain::region::{prefix, within};
use crate::domain::role::OrgKind;
use crate::domain::statistics::{
    tiers, CountyRow, Figures, OrgRow, Report, RetailerFigures, RetailerRow,
};
use crate::domain::validate;
use crate::error::{AppError, AppResult};

use crate::service::{Actor, AppState};

/// The longest range one report covers.
const MAX_DAYS: i64 = 3660;
/// The range when none is given.
const DEFAULT_DAYS: u64 = 30;

/// `GET /api/v1/reports?region=&from=&to=`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// A 6-digit region code inside the caller's jurisdiction (default: the jurisdiction).
    #[param(value_type = Option<RegionOrBlank>, inline)]
    pub region: Option<String>,
    /// First day, YYYY-MM-DD (default: 30 days before `to`).
    #[param(value_type = Option<crate::domain::request::DateOrBlank>, inline)]
    pub from: Option<String>,
    /// Last day, YYYY-MM-DD, included (default: today, UTC).
    #[param(value_type = Option<crate::domain::request::DateOrBlank>, inline)]
    pub to: Option<String>,
}

crate::domain::request::named_schema!(
    /// A region code or blank (the report form's field left empty), for the OpenAPI document.
    RegionOrBlank = crate::domain::request::or_blank(
        &crate::domain::region::pattern(),
        "A region code such as 430700",
    )
);

/// The region and days a query asks for, checked against the caller's jurisdiction.
fn scope_of(actor: &Actor, query: &ReportQuery) -> AppResult<(String, NaiveDate, NaiveDate)> {
    let jurisdiction = match actor {
        Actor::Admin => String::new(),
        Actor::Org(_) => actor
            .require_kind(&[OrgKind::Regulator])?
            .region_code
            .clone(),
    };
    let region = match query
        .region
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        None => jurisdiction.clone(),
        Some(r) => {
            let r = crate::domain::region::parse("region", r)?;
            if !jurisdiction.is_empty() && !within(&jurisdiction, &r) {
                return Err(AppError::Forbidden(
                    "this region is outside the regulator's jurisdiction".into(),
                ));
            }
            r
        }
    };
    let today = chrono::Utc::now().date_naive();
    let to = match query.to.as_deref().filter(|d| !d.trim().is_empty()) {
        Some(d) => validate::date("to", d)?,
        None => today,
    };
    let from = match query.from.as_deref().filter(|d| !d.trim().is_empty()) {
        Some(d) => validate::date("from", d)?,
        None => to - chrono::Days::new(DEFAULT_DAYS - 1),
    };
    if from > to {
        return Err(AppError::invalid(
            "invalid_period",
            "from",
            "from must not be after to",
        ));
    }
    if (to - from).num_days() > MAX_DAYS {
        return Err(AppError::invalid(
            "period_too_long",
            "from",
            format!("a report covers at most {MAX_DAYS} days"),
        ));
    }
    Ok((region, from, to))
}

fn start_of(day: NaiveDate) -> NaiveDateTime {
    day.and_hms_opt(0, 0, 0).unwrap_or_default()
}

/// Builds the report the caller asks for.
pub fn build(state: &AppState, actor: &Actor, query: &ReportQuery) -> AppResult<Report> {
    let (region, from_day, to_day) = scope_of(actor, query)?;
    let from = start_of(from_day);
    let to = start_of(to_day + chrono::Days::new(1));
    let scope = Scope::new(prefix(&region), from, to);
    let mut conn = state.db.replica_reader()?;
    let conn = &mut *conn;
    let orgs = Organization::in_region(conn, prefix(&region))?;
    let mut producers: BTreeMap<String, Figures> = orgs
        .iter()
        .filter(|o| o.kind() == OrgKind::Producer)
        .map(|o| (o.id.clone(), Figures::default()))
        .collect();
    let mut retailers: BTreeMap<String, RetailerFigures> = orgs
        .iter()
        .filter(|o| OrgKind::RECEIVERS.contains(&o.kind()))
        .map(|o| (o.id.clone(), RetailerFigures::default()))
        .collect();
    let mut each = |rows: Vec<(String, i64)>, set: fn(&mut Figures, i64)| {
        for (org, n) in rows {
            if let Some(f) = producers.get_mut(&org) {
                set(f, n);
            }
        }
    };
    each(q::issued(conn, &scope)?, |f, n| {
        f.certificates_issued = n;
        f.producers_active = i64::from(n > 0);
    });
    each(q::conformant_checks(conn, &scope)?, |f, n| {
        f.spot_checks_conformant = n
    });
    each(q::shipped_and_received(conn, &scope)?, |f, n| {
        f.batches_shipped_received = n
    });
    each(q::complaints(conn, &scope)?, |f, n| f.complaints = n);
    each(q::open_warnings(conn)?, |f, n| f.open_warnings = n);
    for (org, kind, events, certificates) in q::events_by_type(conn, &scope)? {
        if let Some(f) = producers.get_mut(&org) {
            match kind.as_str() {
                "shipped" => f.batches_shipped = certificates,
                "inspected" => f.spot_checks = events,
                "suspended" => f.suspensions = events,
                _ => {}
            }
        }
    }
    for (org, n) in q::intakes(conn, &scope)? {
        if let Some(r) = retailers.get_mut(&org) {
            r.intakes = n;
        }
    }
    let at = now();
    let opened = Case::opened_between(conn, from, to)?;
    let ids: Vec<String> = opened.iter().map(|c| c.certificate_id.clone()).collect();
    let owners = q::owners(conn, &ids)?;
    for case in opened {
        let producer = owners
            .get(&case.certificate_id)
            .map(|(org, _)| org.clone())
            .unwrap_or_default();
        let case_state = CaseState::from_stored(&case.state);
        let open = case_state != CaseState::Closed;
        let overdue = case_state.awaits_answer() && at > case.deadline_at;
        let fen = match case.outcome.as_deref() {
            Some("compensated") => case.amount_fen.unwrap_or(0),
            _ => 0,
        };
        if let Some(f) = producers.get_mut(&producer) {
            f.cases += 1;
            f.cases_open += i64::from(open);
            f.cases_overdue += i64::from(overdue);
            f.compensated_fen += fen;
        }
        if let Some(r) = retailers.get_mut(&case.respondent_id) {
            r.cases += 1;
            r.cases_open += i64::from(open);
            r.cases_overdue += i64::from(overdue);
            r.compensated_fen += fen;
        }
    }
    let mut product_owner: HashMap<String, Option<String>> = HashMap::new();
    for recall in Recall::made_between(conn, from, to)? {
        let owner = match product_owner.get(&recall.product_id) {
            Some(o) => o.clone(),
            None => {
                let o = Product::find(conn, &recall.product_id)?.map(|p| p.organization_id);
                product_owner.insert(recall.product_id.clone(), o.clone());
                o
            }
        };
        let Some(f) = owner.and_then(|o| producers.get_mut(&o)) else {
            continue;
        };
        let certificates = recall.certificate_ids(conn)?;
        let receivers = EventRow::receivers(conn, &certificates)?;
        let acks = RecallAck::of(conn, &recall.id)?;
        f.recalls += 1;
        f.recall_retailers += receivers.len() as i64;
        f.recall_acknowledged += acks.len() as i64;
        for retailer in &receivers {
            if let Some(r) = retailers.get_mut(retailer) {
                r.recalls += 1;
                r.recall_acknowledged += i64::from(acks.iter().any(|a| &a.retailer_id == retailer));
            }
        }
    }
    let by_id: HashMap<&str, &Organization> = orgs.iter().map(|o| (o.id.as_str(), o)).collect();
    let mut totals = Figures::default();
    let mut counties: BTreeMap<String, Figures> = BTreeMap::new();
    let mut by_producer = Vec::with_capacity(producers.len());
    for (id, figures) in producers {
        let Some(org) = by_id.get(id.as_str()) else {
            continue;
        };
        totals.add(&figures);
        counties
            .entry(org.region_code.clone())
            .or_default()
            .add(&figures);
        by_producer.push(OrgRow {
            id,
            name: org.name.clone(),
            credit_code: org.credit_code.clone(),
            region_code: org.region_code.clone(),
            figures,
        });
    }
    by_producer.sort_by(|a, b| {
        b.figures
            .certificates_issued
            .cmp(&a.figures.certificates_issued)
            .then_with(|| a.name.cmp(&b.name))
    });
    let by_retailer = retailers
        .into_iter()
        .filter_map(|(id, figures)| {
            let org = by_id.get(id.as_str())?;
            Some(RetailerRow {
                id,
                name: org.name.clone(),
                credit_code: org.credit_code.clone(),
                region_code: org.region_code.clone(),
                figures,
            })
        })
        .collect();
    Ok(Report {
        region,
        from: from_day.format("%Y-%m-%d").to_string(),
        to: to_day.format("%Y-%m-%d").to_string(),
        totals,
        by_county: counties
            .into_iter()
            .map(|(region_code, figures)| CountyRow {
                region_code,
                figures,
            })
            .collect(),
        by_producer,
        by_retailer,
        by_tier: tiers(q::legs_by_consignee_kind(conn, &scope)?),
    })
}

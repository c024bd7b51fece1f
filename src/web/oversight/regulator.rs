//! The regulator's console: search the region's certificates, a dashboard (server-drawn SVG
//! charts, no script: weekly issuance, intake verdicts, spot-check results; open copy
//! warnings and consumers' reports), spot-checks and recalls from a certificate's
//! page (suspension and revocation share the producer's handlers).

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::error::AppResult;
use crate::http::extract::blocking;
use crate::service::access::accounts::SessionUser;
use crate::service::issuance::certificates::CertificateLine;
use crate::service::oversight::dashboard;
use crate::service::oversight::recalls::{self, NewRecall};
use crate::service::oversight::status::{self, NewInspection};
use crate::service::redress::complaints::ComplaintView;
use crate::service::AppState;

use crate::web::issuance::certificate::after_action;
use crate::web::page::{render, Chrome, Lang, SignedForm};
use crate::web::words;

/// One bar of the weekly chart, in SVG units.
struct Bar {
    x: i64,
    height: i64,
    count: i64,
    label: String,
}

/// A horizontal bar split into parts (a share chart), in SVG units of a 300-wide bar.
struct Split {
    parts: Vec<Part>,
    total: i64,
}

struct Part {
    x: i64,
    width: i64,
    count: i64,
    name: &'static str,
    /// Fill colour class (`ok`, `bad`).
    tone: &'static str,
}

impl Split {
    const WIDTH: i64 = 300;

    fn new(parts: &[(i64, &'static str, &'static str)]) -> Self {
        let total: i64 = parts.iter().map(|p| p.0).sum();
        let mut x = 0;
        let parts = parts
            .iter()
            .map(|&(count, name, tone)| {
                let width = if total == 0 {
                    0
                } else {
                    count * Self::WIDTH / total
                };
                let part = Part {
                    x,
                    width,
                    count,
                    name,
                    tone,
                };
                x += width;
                part
            })
            .collect();
        Split { parts, total }
    }
}

/// An open warning as listed.
struct WarningLine {
    certificate_id: String,
    label: String,
    what: String,
    producer: String,
    first_seen: String,
}

#[derive(Template)]
#[template(path = "regulator.html", config = "assets/askama.toml")]
struct RegulatorPage {
    lang: Lang,
    chrome: Chrome,
    organization: String,
    search: String,
    results: Option<Vec<CertificateLine>>,
    /// The results' page, and links to the previous and next page (query strings).
    page: i64,
    previous: Option<String>,
    next: Option<String>,
    bars: Vec<Bar>,
    chart_width: i64,
    intakes: Split,
    intake_rate: String,
    checks: Split,
    open_warnings: i64,
    warnings: Vec<WarningLine>,
    counterfeited: Vec<crate::service::oversight::warnings::Counterfeited>,
    counterfeit_days: i64,
    complaints: Vec<ComplaintView>,
}

#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
    /// 1-based page of results (50 a page).
    page: Option<i64>,
}

/// The regulator's home page (`/console` for a regulator).
pub async fn home(
    state: web::Data<AppState>,
    query: SearchQuery,
    req: HttpRequest,
    user: SessionUser,
) -> AppResult<HttpResponse> {
    let actor = user.actor.clone();
    let search = query.q.unwrap_or_default();
    let text = search.trim().to_string();
    let page = query.page.unwrap_or(1).clamp(1, dashboard::SEARCH_PAGES);
    let (dashboard, results) = blocking(&state, move |s| {
        let results = match text.as_str() {
            "" => None,
            t => Some(dashboard::search(s, &actor, t, page)?),
        };
        Ok((dashboard::dashboard(s, &actor)?, results))
    })
    .await?;
    let max = dashboard
        .issued_per_week
        .iter()
        .map(|w| w.1)
        .max()
        .unwrap_or(0)
        .max(1);
    let bars: Vec<Bar> = dashboard
        .issued_per_week
        .iter()
        .enumerate()
        .map(|(i, (label, count))| Bar {
            x: 10 + 46 * i as i64,
            height: count * 90 / max,
            count: *count,
            label: label.clone(),
        })
        .collect();
    let intake_rate = match dashboard.intakes {
        0 => "–".to_string(),
        n => format!(
            "{:.0}%",
            dashboard.intakes_genuine as f64 * 100.0 / n as f64
        ),
    };
    let lang = Lang::of(&req);
    let intakes = Split::new(&[
        (
            dashboard.intakes_genuine,
            lang.pick("真品", "genuine"),
            "ok",
        ),
        (
            dashboard.intakes - dashboard.intakes_genuine,
            lang.pick("其他结论", "other verdicts"),
            "bad",
        ),
    ]);
    let checks = Split::new(&[
        (
            dashboard.checks_conformant,
            lang.pick("合格", "conformant"),
            "ok",
        ),
        (
            dashboard.checks_non_conformant,
            lang.pick("不合格", "non-conformant"),
            "bad",
        ),
    ]);
    let warnings = dashboard
        .warnings
        .into_iter()
        .map(|w| WarningLine {
            label: match w.serial {
                Some(serial) => format!("{} #{serial}", w.batch_no),
                None => w.batch_no,
            },
            what: words::warning(lang, &w.code).to_string(),
            certificate_id: w.certificate_id,
            producer: w.producer,
            first_seen: w.first_seen,
        })
        .collect();
    let link = |p: i64| {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("q", &search)
            .append_pair("page", &p.to_string())
            .finish()
    };
    let full = results
        .as_ref()
        .is_some_and(|r| r.len() as i64 == dashboard::SEARCH_PAGE);
    let previous = (results.is_some() && page > 1).then(|| link(page - 1));
    let next = (full && page < dashboard::SEARCH_PAGES).then(|| link(page + 1));
    let page = RegulatorPage {
        lang,
        chrome: Chrome::new(&req, Some(&user)),
        organization: user.organization.name.clone(),
        page,
        previous,
        next,
        search,
        results,
        chart_width: 20 + 46 * bars.len() as i64,
        bars,
        intakes,
        intake_rate,
        checks,
        open_warnings: dashboard.open_warnings,
        warnings,
        counterfeited: dashboard.counterfeited,
        counterfeit_days: crate::service::oversight::warnings::COUNTERFEIT_DAYS,
        complaints: dashboard.complaints,
    };
    render(&req, &page)
}

#[derive(Debug, Deserialize)]
pub struct InspectForm {
    result: String,
    findings: String,
}

/// `POST /console/certificates/{id}/inspect`: a spot-check (non-conformant suspends).
pub async fn inspect(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    SignedForm(user, form): SignedForm<InspectForm>,
) -> AppResult<HttpResponse> {
    let (id, form) = (id.into_inner(), form);
    let actor = user.actor.clone();
    let target = id.clone();
    let input = NewInspection {
        result: form.result,
        findings: form.findings,
        lab_report_no: None,
        lab_id: None,
    };
    let result = blocking(&state, move |s| status::inspect(s, &actor, &target, input)).await;
    after_action(&state, &req, &user, id, "inspected", result.map(|_| ())).await
}

#[derive(Debug, Deserialize)]
pub struct RecallForm {
    product_id: String,
    batch_no: String,
    certificate_id: String,
    reason: String,
}

/// `POST /console/recalls`: recalls a batch from one of its certificates' page.
pub async fn recall(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedForm(user, form): SignedForm<RecallForm>,
) -> AppResult<HttpResponse> {
    let actor = user.actor.clone();
    let input = NewRecall {
        product_id: form.product_id,
        batch_no: Some(form.batch_no),
        reason: form.reason,
    };
    let result = blocking(&state, move |s| recalls::create(s, &actor, input)).await;
    after_action(
        &state,
        &req,
        &user,
        form.certificate_id,
        "recalled",
        result.map(|_| ()),
    )
    .await
}

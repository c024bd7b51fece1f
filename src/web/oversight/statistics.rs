//! `/console/reports`: a regulator's report for its region or a county inside it over a date
//! range: the figures, bar charts drawn on the server (SVG, no script), tables by county,
//! producer and retailer, and the same report as CSV and .xlsx downloads.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use crate::domain::statistics::Report;
use crate::error::{AppError, AppResult};
use crate::http::download::report_file;
use crate::http::extract::blocking;
use crate::service::oversight::statistics::{self, ReportQuery};
use crate::service::AppState;

use crate::web::page::{render, Chrome, Lang, SignedIn};
use crate::web::words;

/// Rows of the page's tables (the downloads hold every row).
const PAGE_ROWS: usize = 50;
/// Width of a full bar, in SVG units.
const BAR: f64 = 300.0;

/// One bar of a chart.
struct BarRow {
    label: String,
    value: String,
    width: i64,
}

/// Bars for `(label, value)` pairs, scaled to the largest (or to `max` when given).
fn bars(rows: impl Iterator<Item = (String, f64, String)>, max: Option<f64>) -> Vec<BarRow> {
    let rows: Vec<_> = rows.collect();
    let top = max.unwrap_or_else(|| rows.iter().map(|r| r.1).fold(0.0, f64::max));
    rows.into_iter()
        .map(|(label, v, value)| BarRow {
            label,
            value,
            width: if top > 0.0 {
                (v / top * BAR).round() as i64
            } else {
                0
            },
        })
        .collect()
}

#[derive(Template)]
#[template(path = "reports.html", config = "assets/askama.toml")]
struct ReportsPage {
    lang: Lang,
    chrome: Chrome,
    report: Option<Report>,
    issued_bars: Vec<BarRow>,
    coverage_bars: Vec<BarRow>,
    region: String,
    from: String,
    to: String,
    /// The query string of the downloads.
    download_query: String,
    page_rows: usize,
    problem: Option<String>,
}

fn pct(p: Option<f64>) -> String {
    p.map_or_else(|| "—".to_string(), |p| format!("{p:.1}%"))
}

/// `GET /console/reports`.
pub async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedIn(user): SignedIn,
    query: web::Query<ReportQuery>,
) -> AppResult<HttpResponse> {
    let query = query.into_inner();
    let actor = user.actor.clone();
    let asked = query.clone();
    let result = blocking(&state, move |s| statistics::build(s, &actor, &asked)).await;
    let lang = Lang::of(&req);
    let (report, problem) = match result {
        Ok(report) => (Some(report), None),
        Err(e @ AppError::Invalid(_)) => (None, Some(words::app_error(lang, &e))),
        Err(e) => return Err(e),
    };
    let issued_bars = report.as_ref().map_or_else(Vec::new, |r| {
        bars(
            r.by_county.iter().map(|c| {
                let n = c.figures.certificates_issued;
                (c.region_code.clone(), n as f64, n.to_string())
            }),
            None,
        )
    });
    let coverage_bars = report.as_ref().map_or_else(Vec::new, |r| {
        bars(
            r.by_county.iter().map(|c| {
                let p = c.figures.intake_coverage();
                (c.region_code.clone(), p.unwrap_or(0.0), pct(p))
            }),
            Some(100.0),
        )
    });
    let (region, from, to) = match &report {
        Some(r) => (r.region.clone(), r.from.clone(), r.to.clone()),
        None => (
            query.region.clone().unwrap_or_default(),
            query.from.clone().unwrap_or_default(),
            query.to.clone().unwrap_or_default(),
        ),
    };
    let download_query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("region", &region)
        .append_pair("from", &from)
        .append_pair("to", &to)
        .finish();
    let page = ReportsPage {
        lang,
        chrome: Chrome::new(&req, Some(&user)),
        report,
        issued_bars,
        coverage_bars,
        region,
        from,
        to,
        download_query,
        page_rows: PAGE_ROWS,
        problem,
    };
    render(&req, &page)
}

/// `GET /console/reports.{csv|xlsx}`.
pub async fn download(
    state: web::Data<AppState>,
    SignedIn(user): SignedIn,
    format: web::Path<String>,
    query: web::Query<ReportQuery>,
) -> AppResult<HttpResponse> {
    let query = query.into_inner();
    let actor = user.actor.clone();
    let report = blocking(&state, move |s| statistics::build(s, &actor, &query)).await?;
    report_file(&report, &format)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_or_to_a_fixed_top() {
        let rows = || {
            vec![
                ("a".to_string(), 50.0, "50".to_string()),
                ("b".to_string(), 100.0, "100".to_string()),
                ("c".to_string(), 0.0, "0".to_string()),
            ]
            .into_iter()
        };
        let widths: Vec<i64> = bars(rows(), None).iter().map(|b| b.width).collect();
        assert_eq!(widths, [150, 300, 0]);
        let widths: Vec<i64> = bars(rows(), Some(200.0)).iter().map(|b| b.width).collect();
        assert_eq!(widths, [75, 150, 0]);
        assert!(bars(std::iter::empty(), None).is_empty());
        let zeros = bars(std::iter::once(("z".into(), 0.0, "0".into())), None);
        assert_eq!(zeros[0].width, 0);
    }
}

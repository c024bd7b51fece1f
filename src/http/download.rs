//! A regulator's report as a file to download (CSV or an Excel workbook), for the API and the
//! console alike.

use actix_web::http::header;
use actix_web::HttpResponse;

use crate::domain::statistics::Report;
use crate::error::{AppError, AppResult};
use crate::print;

/// A report as a downloadable file: `csv` or `xlsx`.
pub fn report_file(report: &Report, format: &str) -> AppResult<HttpResponse> {
    let (bytes, content_type) = match format {
        "csv" => (
            print::statistics::csv(report).map_err(|e| AppError::internal_from("csv", e))?,
            "text/csv; charset=utf-8",
        ),
        "xlsx" => (
            print::statistics::xlsx(report).map_err(|e| AppError::internal_from("xlsx", e))?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        _ => return Err(AppError::not_found("format")),
    };
    let name = format!(
        "certrail-report-{}-{}-{}.{format}",
        report.region, report.from, report.to
    );
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(bytes))
}

//! Server-rendered pages: the verification page a phone opens from a label, sign-in, and the
//! organizations' console. Styles are served from `assets/static`; nothing is fetched from
//! another origin.

pub mod console;
pub mod page;
pub mod producer;
pub mod report;
pub mod signin;
pub mod verify;

use actix_web::http::header;
use actix_web::{web, HttpResponse};

/// The stylesheet, compiled in.
const APP_CSS: &str = include_str!("../../assets/static/app.css");

async fn app_css() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(APP_CSS)
}

/// Registers the page routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    // `/v/{id}/report` before `/v/{id}/{serial}`, which would otherwise take it.
    cfg.service(web::resource("/v/{id}").route(web::get().to(verify::batch)))
        .service(web::resource("/v/{id}/report").route(web::post().to(report::batch)))
        .service(web::resource("/v/{id}/{serial}").route(web::get().to(verify::unit)))
        .service(web::resource("/v/{id}/{serial}/report").route(web::post().to(report::unit)))
        .service(web::resource("/assets/app.css").route(web::get().to(app_css)))
        .service(
            web::resource("/login")
                .route(web::get().to(signin::show))
                .route(web::post().to(signin::submit)),
        )
        .service(web::resource("/logout").route(web::post().to(signin::logout)))
        .service(web::resource("/console").route(web::get().to(console::home)))
        .service(
            web::resource("/console/issue")
                .route(web::get().to(producer::issue_form))
                .route(web::post().to(producer::issue_submit)),
        )
        .service(
            web::resource("/console/certificates/{id}").route(web::get().to(producer::certificate)),
        )
        .service(
            web::resource("/console/certificates/{id}/revoke")
                .route(web::post().to(producer::revoke)),
        )
        .service(
            web::resource("/console/certificates/{id}/labels.pdf")
                .route(web::post().to(producer::labels_pdf)),
        );
}

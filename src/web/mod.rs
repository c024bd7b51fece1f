//! Server-rendered pages. For now: the verification page a phone opens from a label.

pub mod verify;

use actix_web::web;

/// Registers the page routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v/{id}").route(web::get().to(verify::batch)))
        .service(web::resource("/v/{id}/{serial}").route(web::get().to(verify::unit)));
}

//! The JSON API under `/api/v1` and health; the plumbing it shares with the pages is in
//! [`crate::http`].

pub mod access;
pub mod certification;
pub mod custody;
pub mod interop;
pub mod issuance;
pub mod keys;
pub mod log;
pub mod ops;
pub mod oversight;
pub mod redress;
pub mod verify;

use actix_web::web;
use actix_web::web::get;
use actix_web::web::post;
use actix_web::web::put;
use actix_web::web::resource;

/// The application state as handlers take it.
pub(crate) type State = web::Data<crate::service::AppState>;

/// A `201 Created` answer with `body` as JSON.
pub(crate) fn created<T: serde::Serialize>(body: &T) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Created().json(body)
}

/// Largest JSON body accepted by the single-item endpoints.
pub const JSON_LIMIT_BYTES: usize = 64 * 1024;
/// Largest body of a bulk issuance (10,000 certificates of about 1 KiB each, with room).
pub const BULK_LIMIT_BYTES: usize = 16 * 1024 * 1024;

/// Registers the API routes. Each path is one resource, so a wrong method is a 405.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/healthz")
            .route(get().to(ops::healthz))
            .route(web::head().to(ops::healthz)),
    )
    .service(resource("/readyz").route(get().to(ops::readyz)))
    .service(resource("/metrics").route(get().to(ops::metrics)))
    // One scope: a request elsewhere (a label's `/v/…`) is turned away by one prefix
    // comparison instead of being tried against every API path pattern.
    .service(
        web::scope("/log")
            .service(resource("/checkpoint").route(get().to(log::checkpoint)))
            .service(resource("/tile/{path:.*}").route(get().to(log::tile))),
    )
    .service(api_v1());
}

/// The `/api/v1` resources.
fn api_v1() -> actix_web::Scope {
    web::scope("/api/v1")
        .service(resource("/keys").route(get().to(verify::keys)))
        .service(resource("/log").route(get().to(log::info)))
        .service(resource("/log/consistency").route(get().to(log::consistency)))
        .service(resource("/log/witnesses").route(post().to(log::add_witness)))
        .service(resource("/log/cosignatures").route(post().to(log::add_cosignature)))
        .service(
            resource("/organizations")
                .route(post().to(access::create_organization))
                .route(get().to(access::admin::list_organizations)),
        )
        .service(
            resource("/organizations/import")
                .app_data(web::PayloadConfig::new(BULK_LIMIT_BYTES))
                .route(post().to(access::admin::onboard)),
        )
        .service(resource("/organizations/{id}").route(get().to(access::get_organization)))
        .service(
            resource("/organizations/{id}/tokens")
                .route(post().to(access::create_token))
                .route(get().to(access::list_tokens)),
        )
        .service(
            resource("/organizations/{id}/tokens/{token_id}")
                .route(web::delete().to(access::revoke_token)),
        )
        .service(
            resource("/organizations/{id}/users")
                .route(post().to(access::create_user))
                .route(get().to(access::admin::list_users)),
        )
        .service(
            resource("/organizations/{id}/deactivate").route(post().to(access::admin::deactivate)),
        )
        .service(
            resource("/organizations/{id}/reactivate").route(post().to(access::admin::reactivate)),
        )
        .service(
            resource("/users/{username}/{action}").route(post().to(access::admin::user_action)),
        )
        .service(
            resource("/organizations/{id}/sanctions").route(post().to(oversight::impose_sanction)),
        )
        .service(resource("/sanctions").route(get().to(oversight::list_sanctions)))
        .service(resource("/sanctions/{id}/lift").route(post().to(oversight::lift_sanction)))
        .service(
            resource("/certificates/{id}/reinstatement-requests")
                .route(post().to(oversight::request_reinstatement)),
        )
        .service(
            resource("/reinstatement-requests").route(get().to(oversight::list_reinstatements)),
        )
        .service(
            resource("/reinstatement-requests/{id}/decision")
                .route(post().to(oversight::decide_reinstatement)),
        )
        .service(resource("/audit").route(get().to(oversight::audit_log)))
        .service(resource("/reports").route(get().to(oversight::report_json)))
        .service(resource("/reports.{format}").route(get().to(oversight::report_download)))
        .service(
            resource("/webhooks")
                .route(post().to(access::webhooks::create_webhook))
                .route(get().to(access::webhooks::list_webhooks)),
        )
        .service(
            resource("/webhooks/deliveries").route(get().to(access::webhooks::list_deliveries)),
        )
        .service(
            resource("/webhooks/{id}").route(web::delete().to(access::webhooks::delete_webhook)),
        )
        .service(resource("/certificates/{id}/complaints").route(post().to(redress::report)))
        .service(resource("/cases").route(get().to(redress::list_cases)))
        .service(resource("/cases/{number}").route(get().to(redress::get_case)))
        .service(resource("/cases/{id}/accept").route(post().to(redress::accept_case)))
        .service(resource("/cases/{id}/answer").route(post().to(redress::answer_case)))
        .service(resource("/cases/{id}/decision").route(post().to(redress::decide_case)))
        .service(resource("/cases/{number}/confirm").route(post().to(redress::confirm_case)))
        .service(
            resource("/organizations/{id}/keys")
                .route(get().to(keys::list))
                .route(post().to(keys::register)),
        )
        .service(resource("/organizations/{id}/keys/rotate").route(post().to(keys::rotate)))
        .service(resource("/keys/{kid}/compromise").route(post().to(keys::compromise)))
        .service(
            resource("/products")
                .route(post().to(issuance::create_product))
                .route(get().to(issuance::list_products)),
        )
        .service(resource("/products/{id}").route(get().to(issuance::get_product)))
        .service(
            resource("/gtin-prefixes")
                .route(post().to(issuance::register_prefix))
                .route(get().to(issuance::list_gtins)),
        )
        .service(resource("/gtin-owners/{prefix}").route(put().to(issuance::reassign_gtin)))
        .service(resource("/complaints").route(get().to(redress::list_complaints)))
        .service(resource("/certificates").route(post().to(issuance::issue_certificate)))
        .service(resource("/certificates/drafts").route(post().to(keys::create_draft)))
        .service(resource("/certificates/drafts/{id}/signature").route(post().to(keys::sign_draft)))
        .service(
            resource("/certificates/bulk")
                .app_data(web::PayloadConfig::new(BULK_LIMIT_BYTES))
                .route(post().to(issuance::issue_bulk)),
        )
        .service(
            resource("/certificates/{id}/qr.{format}").route(get().to(issuance::labels::batch_qr)),
        )
        .service(
            resource("/certificates/{id}/offline-qr.png")
                .route(get().to(issuance::labels::offline_qr)),
        )
        .service(
            resource("/certificates/{id}/dl-qr.{format}")
                .route(get().to(issuance::labels::digital_link_qr)),
        )
        .service(resource("/certificates/{id}/credential").route(get().to(interop::credential)))
        .service(resource("/status/{purpose}/{list}").route(get().to(interop::status_list)))
        .service(resource("/credentials/jwks.json").route(get().to(interop::credential_keys)))
        .service(resource("/bundle").route(get().to(verify::bundle)))
        .service(
            resource("/certificates/{id}/units/{serial}/qr.{format}")
                .route(get().to(issuance::labels::unit_qr)),
        )
        .service(
            resource("/labels.pdf")
                .app_data(web::PayloadConfig::new(
                    issuance::labels::EXPORT_LIMIT_BYTES,
                ))
                .route(post().to(issuance::labels::export_pdf)),
        )
        .service(
            resource("/labels.zip")
                .app_data(web::PayloadConfig::new(
                    issuance::labels::EXPORT_LIMIT_BYTES,
                ))
                .route(post().to(issuance::labels::export_zip)),
        )
        .service(resource("/certificates/{id}/events").route(post().to(custody::record_event)))
        .service(resource("/shipments").route(get().to(custody::list_shipments)))
        .service(resource("/claims").route(get().to(custody::list_claims)))
        .service(resource("/claims/{id}/confirm").route(post().to(custody::confirm_claim)))
        .service(resource("/claims/{id}/dispute").route(post().to(custody::dispute_claim)))
        .service(resource("/promises").route(post().to(issuance::issue_promise)))
        .service(resource("/promises/kept").route(get().to(issuance::kept_promises)))
        .service(resource("/certificates/{id}/split").route(post().to(issuance::split)))
        .service(resource("/certificates/{id}/inspections").route(post().to(oversight::inspect)))
        .service(resource("/certificates/{id}/suspend").route(post().to(oversight::suspend)))
        .service(resource("/certificates/{id}/reinstate").route(post().to(oversight::reinstate)))
        .service(resource("/certificates/{id}/revoke").route(post().to(oversight::revoke)))
        .service(resource("/certificates/{id}/trail").route(get().to(verify::get_trail)))
        .service(resource("/certificates/{id}/epcis").route(get().to(interop::get_epcis)))
        .service(
            resource("/recalls")
                .route(post().to(oversight::create_recall))
                .route(get().to(oversight::list_recalls)),
        )
        .service(resource("/recalls/{id}").route(get().to(oversight::get_recall)))
        .service(
            resource("/recalls/{id}/acknowledgements")
                .route(post().to(oversight::acknowledge_recall)),
        )
        .service(resource("/marks").route(post().to(certification::create_mark)))
        .service(resource("/marks/lookup").route(get().to(certification::lookup_mark)))
        .service(
            resource("/accreditations/pending")
                .route(get().to(certification::pending_accreditations)),
        )
        .service(
            resource("/accreditations/{id}/confirm")
                .route(post().to(certification::confirm_accreditation)),
        )
        .service(resource("/labs/{id}/delist").route(post().to(certification::delist_lab)))
        .service(resource("/marks/{id}/suspend").route(post().to(certification::suspend_mark)))
        .service(resource("/marks/{id}/reinstate").route(post().to(certification::reinstate_mark)))
        .service(resource("/products/{id}/marks").route(get().to(certification::product_marks)))
        .service(
            resource("/labs/accreditations").route(post().to(certification::add_accreditation)),
        )
        .service(
            resource("/labs/{id}/accreditations")
                .route(get().to(certification::lab_accreditations)),
        )
}

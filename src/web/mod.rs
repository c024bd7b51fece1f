//! Server-rendered pages: the verification page a phone opens from a label, sign-in, and the
//! organizations' console. Styles are served from `assets/static`; nothing is fetched from
//! another origin.

pub mod access;
pub mod console;
pub mod custody;
pub mod digital_link;
pub mod error_page;
pub mod form;
pub mod form_token;
pub mod home;
pub mod issuance;
pub mod marks;
pub mod oversight;
pub mod page;
pub mod redress;
pub mod verify;
pub mod words;

use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::{web, HttpResponse};

/// Label pages carry signatures in their URLs: search engines keep out of them.
const ROBOTS: &str =
    "User-agent: *\nDisallow: /v/\nDisallow: /console\nDisallow: /lookup\nDisallow: /cases\n";

/// Static files, compiled in: (path, content type, body).
const STATIC: [(&str, &str, &str); 6] = [
    ("/robots.txt", "text/plain; charset=utf-8", ROBOTS),
    (
        "/favicon.svg",
        "image/svg+xml",
        include_str!("../../assets/static/favicon.svg"),
    ),
    (
        // Browsers ask for this path by themselves; an SVG answers it in every current one.
        "/favicon.ico",
        "image/svg+xml",
        include_str!("../../assets/static/favicon.svg"),
    ),
    (
        "/assets/app.css",
        "text/css; charset=utf-8",
        include_str!("../../assets/static/app.css"),
    ),
    (
        "/assets/intake.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/static/intake.js"),
    ),
    (
        // jsQR 1.4.0 (Apache-2.0), for browsers without BarcodeDetector; see its README.
        "/assets/jsQR.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/static/vendor/jsQR.js"),
    ),
];

fn static_file(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(body)
}

/// A page route: its errors render as pages.
fn page(
    path: &str,
) -> actix_web::Resource<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<EitherBody<BoxBody>>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    web::resource(path).wrap(error_page::html())
}

/// Registers the page routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    // `/v/{id}/report` before `/v/{id}/{serial}`, which would otherwise take it.
    for (path, content_type, body) in STATIC {
        cfg.service(
            web::resource(path)
                .route(web::get().to(move || async move { static_file(content_type, body) })),
        );
    }
    cfg.service(page("/").route(web::get().to(home::home)))
        .service(page("/lookup").route(web::get().to(home::lookup)))
        .service(page("/transparency").route(web::get().to(verify::transparency::show)))
        .service(page("/marks").route(web::get().to(marks::show)))
        .service(
            web::scope("/c").service(page("/{id}").route(web::get().to(verify::record::show))),
        );
    // GS1 Digital Link URIs (a label's QR for products with a GTIN).
    cfg.service(
        web::scope("/01")
            .service(page("/{gtin}/10/{batch}").route(web::get().to(digital_link::batch)))
            .service(
                page("/{gtin}/10/{batch}/21/{serial}").route(web::get().to(digital_link::unit)),
            ),
    );
    // Labels in one scope: other paths pass it with one prefix comparison.
    cfg.service(
        web::scope("/v")
            .service(page("/{id}").route(web::get().to(verify::label::batch)))
            .service(page("/{id}/report").route(web::post().to(redress::complaint::batch)))
            .service(
                page("/{id}/claim")
                    .route(web::get().to(redress::cases::claim_form))
                    .route(web::post().to(redress::cases::claim_submit)),
            )
            .service(page("/{id}/{serial}").route(web::get().to(verify::label::unit)))
            .service(page("/{id}/{serial}/report").route(web::post().to(redress::complaint::unit))),
    )
    .service(
        page("/login")
            .route(web::get().to(access::signin::show))
            .route(web::post().to(access::signin::submit)),
    )
    .service(page("/logout").route(web::post().to(access::signin::logout)))
    .service(page("/cases").route(web::get().to(redress::cases::lookup)))
    .service(page("/cases/{number}").route(web::get().to(redress::cases::show)))
    .service(page("/cases/{number}/confirm").route(web::post().to(redress::cases::confirm)))
    .service(page("/console/cases").route(web::get().to(redress::cases::console)))
    .service(page("/console/admin").route(web::get().to(access::admin::show)))
    .service(page("/console/admin/organizations").route(web::post().to(access::admin::create)))
    .service(
        page("/console/admin/import")
            // A pasted onboarding file of up to 5,000 organizations.
            .app_data(web::FormConfig::default().limit(4 << 20))
            .route(web::post().to(access::admin::import)),
    )
    .service(page("/console/admin/organizations/{id}").route(web::get().to(access::admin::organization)))
    .service(
        page("/console/admin/organizations/{id}/{action:deactivate|reactivate|users}")
            .route(web::post().to(access::admin::organization_action)),
    )
    .service(
        page("/console/admin/organizations/{id}/users/{username}/{action:password|deactivate|reactivate}")
            .route(web::post().to(access::admin::user_action)),
    )
    .service(page("/console/oversight").route(web::get().to(oversight::sanctions::show)))
    .service(page("/console/reports").route(web::get().to(oversight::statistics::show)))
    .service(page("/console/reports.{format:csv|xlsx}").route(web::get().to(oversight::statistics::download)))
    .service(page("/console/oversight/requests/{id}").route(web::post().to(oversight::sanctions::decide)))
    .service(
        page("/console/oversight/accreditations/{id}/confirm")
            .route(web::post().to(oversight::sanctions::confirm_accreditation)),
    )
    .service(
        page("/console/oversight/labs/{id}/delist").route(web::post().to(oversight::sanctions::delist_lab)),
    )
    .service(page("/console/oversight/sanctions").route(web::post().to(oversight::sanctions::impose)))
    .service(page("/console/oversight/sanctions/{id}/lift").route(web::post().to(oversight::sanctions::lift)))
    .service(
        page("/console/cases/{id}/{step:accept|answer|decision}")
            .route(web::post().to(redress::cases::act)),
    )
    .service(page("/console").route(web::get().to(console::home)))
    .service(
        page("/console/password")
            .route(web::get().to(access::password::show))
            .route(web::post().to(access::password::submit)),
    )
    .service(page("/console/intake").route(web::post().to(custody::retailer::record)))
    .service(page("/console/ship").route(web::post().to(custody::legs::ship)))
    .service(
        page("/console/claims/{id}/{action:confirm|dispute}").route(web::post().to(custody::claims::decide)),
    )
    .service(page("/console/promises").route(web::post().to(issuance::promise::issue)))
    .service(page("/console/split").route(web::post().to(issuance::promise::split)))
    .service(page("/console/reject").route(web::post().to(custody::legs::reject)))
    .service(page("/console/access").route(web::get().to(access::settings::show)))
    .service(page("/console/access/rotate").route(web::post().to(access::settings::rotate)))
    .service(page("/console/access/keys").route(web::post().to(access::settings::register)))
    .service(page("/console/access/tokens").route(web::post().to(access::settings::create_token)))
    .service(page("/console/access/tokens/{id}/revoke").route(web::post().to(access::settings::revoke_token)))
    .service(page("/console/access/webhooks").route(web::post().to(access::settings::create_webhook)))
    .service(
        page("/console/access/webhooks/{id}/delete").route(web::post().to(access::settings::delete_webhook)),
    )
    .service(
        page("/console/products")
            .route(web::get().to(issuance::products::show))
            .route(web::post().to(issuance::products::submit)),
    )
    .service(
        page("/console/issue")
            .route(web::get().to(issuance::issue_form::issue_form))
            .route(web::post().to(issuance::issue_form::issue_submit)),
    )
    .service(page("/console/certificates/{id}").route(web::get().to(issuance::certificate::certificate)))
    .service(
        page("/console/certificates/{id}/{change:suspend|reinstate|revoke}")
            .route(web::post().to(issuance::certificate::change_status)),
    )
    .service(page("/console/certificates/{id}/inspect").route(web::post().to(oversight::regulator::inspect)))
    .service(
        page("/console/certificates/{id}/reinstatement")
            .route(web::post().to(issuance::certificate::request_reinstatement)),
    )
    .service(
        page("/console/recalls")
            .route(web::get().to(oversight::recalls::list))
            .route(web::post().to(oversight::regulator::recall)),
    )
    .service(page("/console/recalls/{id}").route(web::get().to(oversight::recalls::show)))
    .service(page("/console/recalls/{id}/acknowledge").route(web::post().to(oversight::recalls::acknowledge)))
    .service(
        page("/console/certificates/{id}/labels.pdf").route(web::post().to(issuance::producer::labels_pdf)),
    );
}

//! The OpenAPI 3 document at `/api-docs/openapi.json`, generated from the handlers' annotations.

use actix_web::HttpResponse;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::domain::payload::{Batch, Inspection, InspectionItem, Mark, Payload, Producer, Product};
use crate::domain::trail::{EventActor, EventBody, EventType};
use crate::domain::verdict::Verdict;
use crate::service::events::{LabelCheck, NewEvent, Recorded};
use crate::service::issue::{BulkIssued, BulkRequest, IssueRequest, Issued, ItemError};
use crate::service::labs::{AccreditationView, NewAccreditation};
use crate::service::marks::{MarkView, NewMark};
use crate::service::organizations::{NewOrganization, OrganizationView};
use crate::service::products::{NewProduct, ProductView};
use crate::service::recalls::{AffectedRetailer, NewRecall, RecallView};
use crate::service::status::{NewInspection, StatusChange, StatusChanged};
use crate::service::tlog::witnesses::{Cosigned, LogInfo, NewWitness, WitnessInfo};
use crate::service::tokens::{NewToken, TokenRequest, TokenView};
use crate::service::trail::{Trail, TrailEvent};
use crate::service::trust::{TrustList, TrustedKey};
use crate::service::verify::{Answer, CertificateView, MarkStatus, UnitView, Warning};

/// The error envelope every non-2xx answer carries (contract §7): the one type the service
/// answers with, documented under these names.
pub use crate::error::{Envelope as ErrorEnvelope, ErrorBody as ErrorDetail};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// Error answers every operation may give, in the envelope: declared once here rather than
/// on each path. 400 (a malformed query or body), 404 (an unknown id), 422 (a broken rule),
/// 429 and 503 anywhere; 401 and 403 where a token is needed; 409, 413 and 415 where a body is
/// sent.
struct StandardErrors;

impl Modify for StandardErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let envelope = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("ErrorEnvelope")))
                            .build(),
                    )
                    .build(),
            )
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let page = !path.starts_with("/api/") && path != "/healthz" && path != "/metrics";
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                let mut codes = vec![
                    ("400", "malformed request"),
                    ("404", "not found"),
                    ("422", "a rule is broken"),
                    ("429", "rate limited (Retry-After)"),
                    (
                        "503",
                        "the database is unavailable, or the server is busy (Retry-After)",
                    ),
                ];
                if op.security.is_some() {
                    codes.push(("401", "no or an unknown bearer token"));
                    codes.push(("403", "wrong role or someone else's data"));
                }
                if op.request_body.is_some() {
                    codes.push(("409", "conflicts with the current state"));
                    codes.push(("408", "the body did not arrive in time"));
                    codes.push(("413", "body too large"));
                    codes.push(("415", "send application/json"));
                }
                for (code, description) in codes {
                    op.responses
                        .responses
                        .entry(code.to_string())
                        .or_insert_with(|| envelope(description));
                }
                if page {
                    add_html(&mut op.responses);
                }
            }
        }
    }
}

/// Pages answer HTML unless the client asks for JSON (`Accept: application/json`): each
/// JSON answer of such a path is documented as HTML too.
fn add_html(responses: &mut utoipa::openapi::Responses) {
    use utoipa::openapi::{ContentBuilder, ObjectBuilder, RefOr, Type};
    for response in responses.responses.values_mut() {
        if let RefOr::T(response) = response {
            if response.content.contains_key("application/json") {
                let html = ContentBuilder::new()
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                    .build();
                response
                    .content
                    .entry("text/html; charset=utf-8".to_string())
                    .or_insert(html);
            }
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "certrail",
        version = "1",
        description = "Digital product conformity certificates (产品合格证): signed QR labels, verification and trust list. Contract v1."
    ),
    paths(
        crate::routes::api::healthz,
        crate::routes::api::keys,
        crate::routes::keys::list,
        crate::routes::keys::rotate,
        crate::routes::keys::register,
        crate::routes::keys::compromise,
        crate::routes::keys::create_draft,
        crate::routes::keys::sign_draft,
        crate::routes::log::checkpoint,
        crate::routes::log::tile,
        crate::routes::log::info,
        crate::routes::log::consistency,
        crate::routes::log::add_witness,
        crate::routes::log::add_cosignature,
        crate::routes::api::create_organization,
        crate::routes::api::get_organization,
        crate::routes::api::create_token,
        crate::routes::api::list_tokens,
        crate::routes::api::revoke_token,
        crate::routes::api::create_user,
        crate::routes::api::list_complaints,
        crate::routes::api::create_product,
        crate::routes::api::list_products,
        crate::routes::api::get_product,
        crate::routes::api::issue_certificate,
        crate::routes::api::issue_bulk,
        crate::routes::api::batch_qr,
        crate::routes::api::unit_qr,
        crate::routes::api::offline_qr,
        crate::routes::api::digital_link_qr,
        crate::routes::api::credential,
        crate::routes::api::status_list,
        crate::routes::api::credential_keys,
        crate::web::digital_link::batch,
        crate::web::digital_link::unit,
        crate::routes::api::bundle,
        crate::routes::labels::export_pdf,
        crate::routes::labels::export_zip,
        crate::routes::trail::record_event,
        crate::routes::trail::list_shipments,
        crate::routes::trail::list_claims,
        crate::routes::api::register_prefix,
        crate::routes::api::list_gtins,
        crate::routes::api::reassign_gtin,
        crate::routes::trail::confirm_claim,
        crate::routes::trail::dispute_claim,
        crate::routes::api::issue_promise,
        crate::routes::api::split,
        crate::routes::api::kept_promises,
        crate::routes::trail::inspect,
        crate::routes::trail::suspend,
        crate::routes::trail::reinstate,
        crate::routes::trail::revoke,
        crate::routes::trail::get_trail,
        crate::routes::trail::get_epcis,
        crate::routes::trail::create_recall,
        crate::routes::trail::list_recalls,
        crate::routes::trail::get_recall,
        crate::routes::marks::create_mark,
        crate::routes::marks::suspend_mark,
        crate::routes::marks::reinstate_mark,
        crate::routes::marks::product_marks,
        crate::routes::marks::add_accreditation,
        crate::routes::marks::lab_accreditations,
        crate::routes::marks::confirm_accreditation,
        crate::routes::marks::pending_accreditations,
        crate::routes::marks::delist_lab,
        crate::routes::marks::lookup_mark,
        crate::routes::oversight::impose_sanction,
        crate::routes::oversight::list_sanctions,
        crate::routes::oversight::lift_sanction,
        crate::routes::oversight::request_reinstatement,
        crate::routes::oversight::list_reinstatements,
        crate::routes::oversight::decide_reinstatement,
        crate::routes::oversight::audit_log,
        crate::routes::oversight::acknowledge_recall,
        crate::routes::oversight::create_webhook,
        crate::routes::oversight::list_webhooks,
        crate::routes::oversight::delete_webhook,
        crate::routes::oversight::list_deliveries,
        crate::routes::oversight::report,
        crate::routes::oversight::list_cases,
        crate::routes::oversight::get_case,
        crate::routes::oversight::accept_case,
        crate::routes::oversight::answer_case,
        crate::routes::oversight::decide_case,
        crate::routes::oversight::confirm_case,
        crate::routes::oversight::report_json,
        crate::routes::admin::list_organizations,
        crate::routes::admin::deactivate,
        crate::routes::admin::reactivate,
        crate::routes::admin::list_users,
        crate::routes::admin::user_action,
        crate::routes::admin::onboard,
        crate::routes::oversight::report_download,
        crate::web::verify::batch,
        crate::web::record::show,
        crate::web::verify::unit,
    ),
    components(schemas(
        crate::service::custody::Legs,
        crate::service::promise::PromiseRequest,
        crate::service::promise::SplitRequest,
        crate::service::promise::SplitChild,
        crate::service::promise::PromiseIssued,
        crate::service::promise::Kept,
        crate::domain::promise::PromisePayload,
        crate::domain::promise::Issuer,
        crate::domain::promise::PromiseProduct,
        crate::domain::promise::PromiseBatch,
        crate::domain::promise::Origin,
        crate::domain::promise::ParentRef,
        crate::service::verify::lineage::Lineage,
        crate::service::verify::lineage::Link,
        crate::service::custody::Leg,
        crate::service::gtins::NewPrefix, crate::service::gtins::GtinOwnerView, crate::service::gtins::Reassign,
        crate::service::claims::ClaimView, crate::service::claims::ClaimDecision, crate::service::claims::Party,
        ErrorEnvelope, ErrorDetail, Payload, Producer, Product, Batch, Inspection, InspectionItem, Mark,
        Verdict, NewOrganization, OrganizationView, NewToken, TokenRequest, TokenView, crate::domain::role::Scope, NewProduct, ProductView, IssueRequest,
        Issued, Answer, CertificateView, UnitView, Warning, TrustList, TrustedKey, MarkStatus,
        crate::web::record::CertificateRecord,
        NewEvent, Recorded, LabelCheck, NewInspection, StatusChange, StatusChanged, Trail, TrailEvent,
        EventBody, EventActor, EventType, NewRecall, RecallView, AffectedRetailer, NewMark, MarkView,
        NewAccreditation, AccreditationView, BulkRequest, BulkIssued, ItemError, crate::routes::api::BulkRejected,
        crate::service::verify::LogView, crate::service::tlog::inclusion::Proof, LogInfo, WitnessInfo,
        NewWitness, Cosigned, crate::routes::log::ConsistencyProof,
        crate::service::bundle::Bundle, crate::service::bundle::StatusEntry, crate::service::bundle::LoggedEntry,
        crate::service::keys::KeyView, crate::service::drafts::DraftView, crate::service::drafts::DraftSignature, crate::service::keys::RegisterKey, crate::service::keys::Compromise,
        crate::service::sanctions::NewSanction, crate::service::sanctions::LiftSanction, crate::service::sanctions::SanctionView,
        crate::service::reinstatements::NewReinstatementRequest, crate::service::reinstatements::Decision,
        crate::service::reinstatements::ReinstatementView, crate::service::audit::AuditView,
        crate::service::recalls::NewAcknowledgement, crate::service::webhooks::NewWebhook,
        crate::service::webhooks::WebhookView, crate::service::webhooks::CreatedWebhook, crate::service::webhooks::DeliveryView,
        crate::routes::oversight::ComplaintRequest, crate::service::cases::NewCase, crate::service::cases::CaseAnswer,
        crate::service::cases::CaseView, crate::service::cases::PartyCaseView,
        crate::service::reports::Report, crate::service::reports::Figures, crate::service::reports::OrgRow,
        crate::service::reports::CountyRow, crate::service::reports::RetailerRow, crate::service::reports::RetailerFigures,
        crate::service::admin::AdminOrganization, crate::service::admin::AdminUser, crate::service::admin::RowError,
        crate::routes::admin::Reason, crate::routes::admin::OnboardRejected,
        crate::service::marks::MarkLookup
    )),
    modifiers(&BearerAuth, &StandardErrors)
)]
pub struct ApiDoc;

/// `GET /api-docs/openapi.json`.
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}

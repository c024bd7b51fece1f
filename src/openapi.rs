//! The OpenAPI 3 document at `/api-docs/openapi.json`, generated from the handlers' annotations.

use actix_web::HttpResponse;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::domain::payload::{Batch, Inspection, InspectionItem, Mark, Payload, Producer, Product};
use crate::domain::trail::{EventActor, EventBody, EventType};
use crate::domain::verdict::Verdict;
use crate::service::access::organizations::{NewOrganization, OrganizationView};
use crate::service::access::tokens::{NewToken, TokenRequest, TokenView};
use crate::service::certification::labs::{AccreditationView, NewAccreditation};
use crate::service::certification::marks::{MarkView, NewMark};
use crate::service::custody::events::{LabelCheck, NewEvent, Recorded};
use crate::service::issuance::issue::{BulkIssued, BulkRequest, IssueRequest, Issued, ItemError};
use crate::service::issuance::products::{NewProduct, ProductView};
use crate::service::oversight::recalls::{AffectedRetailer, NewRecall, RecallView};
use crate::service::oversight::status::{NewInspection, StatusChange, StatusChanged};
use crate::service::tlog::witnesses::{Cosigned, LogInfo, NewWitness, WitnessInfo};
use crate::service::trail::{Trail, TrailEvent};
use crate::service::verify::trust::{TrustList, TrustedKey};
use crate::service::verify::{Answer, CertificateView, MarkStatus, UnitView, Warning};

use crate::error::{ErrorDetail, ErrorEnvelope};

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
            let page = !path.starts_with("/api/")
                && path != "/healthz"
                && path != "/readyz"
                && path != "/metrics";
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
        crate::routes::ops::healthz,
        crate::routes::ops::readyz,
        crate::routes::verify::keys,
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
        crate::routes::access::create_organization,
        crate::routes::access::get_organization,
        crate::routes::access::create_token,
        crate::routes::access::list_tokens,
        crate::routes::access::revoke_token,
        crate::routes::access::create_user,
        crate::routes::redress::list_complaints,
        crate::routes::issuance::create_product,
        crate::routes::issuance::list_products,
        crate::routes::issuance::get_product,
        crate::routes::issuance::issue_certificate,
        crate::routes::issuance::issue_bulk,
        crate::routes::issuance::labels::batch_qr,
        crate::routes::issuance::labels::unit_qr,
        crate::routes::issuance::labels::offline_qr,
        crate::routes::issuance::labels::digital_link_qr,
        crate::routes::interop::credential,
        crate::routes::interop::status_list,
        crate::routes::interop::credential_keys,
        crate::web::digital_link::batch,
        crate::web::digital_link::unit,
        crate::routes::verify::bundle,
        crate::routes::issuance::labels::export_pdf,
        crate::routes::issuance::labels::export_zip,
        crate::routes::custody::record_event,
        crate::routes::custody::list_shipments,
        crate::routes::custody::list_claims,
        crate::routes::issuance::register_prefix,
        crate::routes::issuance::list_gtins,
        crate::routes::issuance::reassign_gtin,
        crate::routes::custody::confirm_claim,
        crate::routes::custody::dispute_claim,
        crate::routes::issuance::issue_promise,
        crate::routes::issuance::split,
        crate::routes::issuance::kept_promises,
        crate::routes::oversight::inspect,
        crate::routes::oversight::suspend,
        crate::routes::oversight::reinstate,
        crate::routes::oversight::revoke,
        crate::routes::verify::get_trail,
        crate::routes::interop::get_epcis,
        crate::routes::oversight::create_recall,
        crate::routes::oversight::list_recalls,
        crate::routes::oversight::get_recall,
        crate::routes::certification::create_mark,
        crate::routes::certification::suspend_mark,
        crate::routes::certification::reinstate_mark,
        crate::routes::certification::product_marks,
        crate::routes::certification::add_accreditation,
        crate::routes::certification::lab_accreditations,
        crate::routes::certification::confirm_accreditation,
        crate::routes::certification::pending_accreditations,
        crate::routes::certification::delist_lab,
        crate::routes::certification::lookup_mark,
        crate::routes::oversight::impose_sanction,
        crate::routes::oversight::list_sanctions,
        crate::routes::oversight::lift_sanction,
        crate::routes::oversight::request_reinstatement,
        crate::routes::oversight::list_reinstatements,
        crate::routes::oversight::decide_reinstatement,
        crate::routes::oversight::audit_log,
        crate::routes::oversight::acknowledge_recall,
        crate::routes::access::webhooks::create_webhook,
        crate::routes::access::webhooks::list_webhooks,
        crate::routes::access::webhooks::delete_webhook,
        crate::routes::access::webhooks::list_deliveries,
        crate::routes::redress::report,
        crate::routes::redress::list_cases,
        crate::routes::redress::get_case,
        crate::routes::redress::accept_case,
        crate::routes::redress::answer_case,
        crate::routes::redress::decide_case,
        crate::routes::redress::confirm_case,
        crate::routes::oversight::report_json,
        crate::routes::access::admin::list_organizations,
        crate::routes::access::admin::deactivate,
        crate::routes::access::admin::reactivate,
        crate::routes::access::admin::list_users,
        crate::routes::access::admin::user_action,
        crate::routes::access::admin::onboard,
        crate::routes::oversight::report_download,
        crate::web::verify::label::batch,
        crate::web::verify::record::show,
        crate::web::verify::label::unit,
    ),
    components(schemas(
        crate::service::custody::legs::Legs,
        crate::service::issuance::promise::PromiseRequest,
        crate::service::issuance::promise::SplitRequest,
        crate::service::issuance::promise::SplitChild,
        crate::service::issuance::promise::PromiseIssued,
        crate::service::issuance::promise::Kept,
        crate::domain::promise::PromisePayload,
        crate::domain::promise::Issuer,
        crate::domain::promise::PromiseProduct,
        crate::domain::promise::PromiseBatch,
        crate::domain::promise::Origin,
        crate::domain::promise::ParentRef,
        crate::service::verify::lineage::Lineage,
        crate::service::verify::lineage::Link,
        crate::service::custody::legs::Leg,
        crate::service::issuance::gtins::NewPrefix, crate::service::issuance::gtins::GtinOwnerView, crate::service::issuance::gtins::Reassign,
        crate::service::custody::claims::ClaimView, crate::service::custody::claims::ClaimDecision, crate::service::custody::claims::Party,
        ErrorEnvelope, ErrorDetail, Payload, Producer, Product, Batch, Inspection, InspectionItem, Mark,
        Verdict, NewOrganization, OrganizationView, NewToken, TokenRequest, TokenView, crate::domain::role::Scope, NewProduct, ProductView, IssueRequest,
        Issued, Answer, CertificateView, UnitView, Warning, TrustList, TrustedKey, MarkStatus,
        crate::web::verify::record::CertificateRecord,
        NewEvent, Recorded, LabelCheck, NewInspection, StatusChange, StatusChanged, Trail, TrailEvent,
        EventBody, EventActor, EventType, NewRecall, RecallView, AffectedRetailer, NewMark, MarkView,
        NewAccreditation, AccreditationView, BulkRequest, BulkIssued, ItemError, crate::routes::issuance::BulkRejected,
        crate::service::verify::LogView, crate::service::tlog::inclusion::Proof, LogInfo, WitnessInfo,
        NewWitness, Cosigned, crate::routes::log::ConsistencyProof,
        crate::service::verify::bundle::Bundle, crate::service::verify::bundle::StatusEntry, crate::service::verify::bundle::LoggedEntry,
        crate::service::keys::lifecycle::KeyView, crate::service::issuance::drafts::DraftView, crate::service::issuance::drafts::DraftSignature, crate::service::keys::lifecycle::RegisterKey, crate::service::keys::lifecycle::Compromise,
        crate::service::oversight::sanctions::NewSanction, crate::service::oversight::sanctions::LiftSanction, crate::service::oversight::sanctions::SanctionView,
        crate::service::oversight::reinstatements::NewReinstatementRequest, crate::service::oversight::reinstatements::Decision,
        crate::service::oversight::reinstatements::ReinstatementView, crate::service::audit::AuditView,
        crate::service::oversight::recalls::NewAcknowledgement, crate::service::webhooks::NewWebhook,
        crate::service::webhooks::WebhookView, crate::service::webhooks::CreatedWebhook, crate::service::webhooks::DeliveryView,
        crate::routes::redress::ComplaintRequest, crate::service::redress::cases::NewCase, crate::service::redress::cases::CaseAnswer,
        crate::service::redress::cases::CaseView, crate::service::redress::cases::PartyCaseView,
        crate::domain::statistics::Report, crate::domain::statistics::Figures, crate::domain::statistics::OrgRow,
        crate::domain::statistics::CountyRow, crate::domain::statistics::RetailerRow, crate::domain::statistics::RetailerFigures,
        crate::service::access::admin::AdminOrganization, crate::service::access::admin::AdminUser, crate::service::access::admin::RowError,
        crate::routes::access::admin::Reason, crate::routes::access::admin::OnboardRejected,
        crate::service::certification::marks::MarkLookup
    )),
    modifiers(&BearerAuth, &StandardErrors)
)]
pub struct ApiDoc;

/// `GET /api-docs/openapi.json`.
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}

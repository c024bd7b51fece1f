//! The OpenAPI 3 document at `/api-docs/openapi.json`, generated from the handlers' annotations.

use actix_web::HttpResponse;
use serde::Serialize;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

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

/// The error envelope every non-2xx answer carries (contract §7).
#[derive(Serialize, ToSchema)]
pub struct ErrorEnvelope {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// snake_case, stable.
    pub code: String,
    pub message: String,
    /// The request field at fault, if any.
    pub field: Option<String>,
}

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

#[derive(OpenApi)]
#[openapi(
    info(
        title = "certrail",
        version = "1",
        description = "Digital product conformity certificates (产品合格证): signed QR labels, verification and trust list. Contract v1."
    ),
    paths(
        super::api::healthz,
        super::api::keys,
        super::keys::list,
        super::keys::rotate,
        super::keys::register,
        super::keys::compromise,
        super::keys::create_draft,
        super::keys::sign_draft,
        super::log::checkpoint,
        super::log::tile,
        super::log::info,
        super::log::consistency,
        super::log::add_witness,
        super::log::add_cosignature,
        super::api::create_organization,
        super::api::get_organization,
        super::api::create_token,
        super::api::list_tokens,
        super::api::revoke_token,
        super::api::create_user,
        super::api::list_complaints,
        super::api::create_product,
        super::api::list_products,
        super::api::get_product,
        super::api::issue_certificate,
        super::api::issue_bulk,
        super::api::batch_qr,
        super::api::unit_qr,
        super::api::offline_qr,
        super::api::digital_link_qr,
        super::api::credential,
        super::api::status_list,
        super::api::credential_keys,
        crate::web::digital_link::batch,
        crate::web::digital_link::unit,
        super::api::bundle,
        super::labels::export_pdf,
        super::labels::export_zip,
        super::trail::record_event,
        super::trail::list_shipments,
        super::api::issue_promise,
        super::api::split,
        super::api::kept_promises,
        super::trail::inspect,
        super::trail::suspend,
        super::trail::reinstate,
        super::trail::revoke,
        super::trail::get_trail,
        super::trail::get_epcis,
        super::trail::create_recall,
        super::trail::list_recalls,
        super::trail::get_recall,
        super::marks::create_mark,
        super::marks::suspend_mark,
        super::marks::reinstate_mark,
        super::marks::product_marks,
        super::marks::add_accreditation,
        super::marks::lab_accreditations,
        super::marks::confirm_accreditation,
        super::marks::pending_accreditations,
        super::marks::delist_lab,
        super::marks::lookup_mark,
        super::oversight::impose_sanction,
        super::oversight::list_sanctions,
        super::oversight::lift_sanction,
        super::oversight::request_reinstatement,
        super::oversight::list_reinstatements,
        super::oversight::decide_reinstatement,
        super::oversight::audit_log,
        super::oversight::acknowledge_recall,
        super::oversight::create_webhook,
        super::oversight::list_webhooks,
        super::oversight::delete_webhook,
        super::oversight::list_deliveries,
        super::oversight::report,
        super::oversight::list_cases,
        super::oversight::get_case,
        super::oversight::accept_case,
        super::oversight::answer_case,
        super::oversight::decide_case,
        super::oversight::confirm_case,
        super::oversight::report_json,
        super::admin::list_organizations,
        super::admin::deactivate,
        super::admin::reactivate,
        super::admin::list_users,
        super::admin::user_action,
        super::admin::onboard,
        super::oversight::report_download,
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
        ErrorEnvelope, ErrorDetail, Payload, Producer, Product, Batch, Inspection, InspectionItem, Mark,
        Verdict, NewOrganization, OrganizationView, NewToken, TokenRequest, TokenView, crate::domain::role::Scope, NewProduct, ProductView, IssueRequest,
        Issued, Answer, CertificateView, UnitView, Warning, TrustList, TrustedKey, MarkStatus,
        crate::web::record::CertificateRecord,
        NewEvent, Recorded, LabelCheck, NewInspection, StatusChange, StatusChanged, Trail, TrailEvent,
        EventBody, EventActor, EventType, NewRecall, RecallView, AffectedRetailer, NewMark, MarkView,
        NewAccreditation, AccreditationView, BulkRequest, BulkIssued, ItemError, super::api::BulkRejected,
        crate::service::verify::LogView, crate::service::tlog::inclusion::Proof, LogInfo, WitnessInfo,
        NewWitness, Cosigned, super::log::ConsistencyProof,
        crate::service::bundle::Bundle, crate::service::bundle::StatusEntry, crate::service::bundle::LoggedEntry,
        crate::service::keys::KeyView, crate::service::drafts::DraftView, crate::service::drafts::DraftSignature, crate::service::keys::RegisterKey, crate::service::keys::Compromise,
        crate::service::sanctions::NewSanction, crate::service::sanctions::LiftSanction, crate::service::sanctions::SanctionView,
        crate::service::reinstatements::NewReinstatementRequest, crate::service::reinstatements::Decision,
        crate::service::reinstatements::ReinstatementView, crate::service::audit::AuditView,
        crate::service::recalls::NewAcknowledgement, crate::service::webhooks::NewWebhook,
        crate::service::webhooks::WebhookView, crate::service::webhooks::CreatedWebhook, crate::service::webhooks::DeliveryView,
        super::oversight::ComplaintRequest, crate::service::cases::NewCase, crate::service::cases::CaseAnswer,
        crate::service::cases::CaseView, crate::service::cases::PartyCaseView,
        crate::service::reports::Report, crate::service::reports::Figures, crate::service::reports::OrgRow,
        crate::service::reports::CountyRow, crate::service::reports::RetailerRow, crate::service::reports::RetailerFigures,
        crate::service::admin::AdminOrganization, crate::service::admin::AdminUser, crate::service::admin::RowError,
        super::admin::Reason, super::admin::OnboardRejected,
        crate::service::marks::MarkLookup
    )),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// `GET /api-docs/openapi.json`.
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}

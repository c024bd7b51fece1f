//! Problems consumers report from a label's page (no login): stored for the producer and the
//! regulators of its region, rate limited per client and per certificate.

use chrono::Duration;
use serde::Serialize;

use crate::crypto::random::new_id;
use crate::db::models::{now, Certificate, Complaint};
use crate::db::DbConn;
use crate::domain::region::prefix;
use crate::domain::role::OrgKind;
use crate::domain::validate;
use crate::error::{AppError, AppResult};

use crate::service::redress::cases::{self, CaseView, NewCase};
use crate::service::{checked_id, webhooks, Actor, AppState};

/// Categories a consumer chooses from: (code, 中文, English).
pub const CATEGORIES: [(&str, &str, &str); 4] = [
    ("suspected_fake", "疑似假冒", "Suspected fake"),
    ("quality", "质量问题", "Quality problem"),
    (
        "label_damaged",
        "标签损坏或无法识别",
        "Label damaged or unreadable",
    ),
    ("other", "其他", "Other"),
];

/// Reports one certificate accepts per hour from everyone together.
const PER_CERTIFICATE_HOURLY: i64 = 30;

/// A report as the form sends it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct NewComplaint {
    pub category: String,
    pub message: String,
    pub contact: Option<String>,
}

crate::domain::request::named_schema!(
    /// A report's category.
    ComplaintCategory = crate::domain::request::one_of(&CATEGORIES.map(|c| c.0))
);

/// A report as the producer and regulators see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ComplaintView {
    pub id: String,
    pub certificate_id: String,
    pub serial: Option<i64>,
    pub category: String,
    pub message: String,
    pub contact: Option<String>,
    /// UTC, RFC 3339.
    pub created_at: String,
}

impl ComplaintView {
    /// When, to the minute, for lists.
    pub fn minute(&self) -> String {
        crate::domain::text::minute(&self.created_at)
    }
}

/// Stores a consumer's report about certificate `id` (unit `serial`, if a unit label), and
/// opens a 先行赔付 case from it if the consumer asks for one.
pub fn report(
    state: &AppState,
    client: &str,
    id: &str,
    serial: Option<i64>,
    new: NewComplaint,
    case: Option<NewCase>,
) -> AppResult<Option<CaseView>> {
    state.limits.reports.check(client)?;
    let category = new.category.trim();
    if !CATEGORIES.iter().any(|c| c.0 == category) {
        return Err(AppError::invalid(
            "invalid_category",
            "category",
            "choose one of the listed problems",
        ));
    }
    let complaint = Complaint {
        certificate_id: checked_id(id, "certificate")?.to_string(),
        id: new_id(),
        serial,
        category: category.to_string(),
        message: validate::text("message", &new.message, 1000)?,
        contact: validate::optional_text("contact", new.contact.as_deref(), 100)?,
        created_at: now(),
    };
    state.write(|conn| {
        let certificate = Certificate::find(conn, &complaint.certificate_id)?
            .ok_or_else(|| AppError::not_found("certificate"))?;
        crate::service::custody::events::check_serial(&certificate, complaint.serial)?;
        let recent =
            Complaint::count_since(conn, &complaint.certificate_id, now() - Duration::hours(1))?;
        if recent >= PER_CERTIFICATE_HOURLY {
            return Err(AppError::too_many(
                "this certificate received many reports in the last hour; try again later",
                std::time::Duration::from_secs(600),
            ));
        }
        complaint.insert(conn)?;
        let producer = Certificate::find(conn, &complaint.certificate_id)?
            .map(|c| c.organization_id)
            .unwrap_or_default();
        webhooks::enqueue(
            conn,
            webhooks::COMPLAINT_CREATED,
            &[producer],
            &complaint.id,
            serde_json::json!({
                "complaint_id": complaint.id,
                "certificate_id": complaint.certificate_id,
                "serial": complaint.serial,
                "category": complaint.category,
            }),
        )?;
        case.map(|c| cases::open(state, conn, &complaint, c))
            .transpose()
    })
}

/// Reports the actor may read: a producer its own certificates', a regulator those of
/// producers in its region; newest first, at most `limit`.
pub fn list(state: &AppState, actor: &Actor, limit: i64) -> AppResult<Vec<ComplaintView>> {
    list_on(&mut *state.db.reader()?, actor, limit)
}

/// [`list`] on a connection the caller holds.
pub fn list_on(conn: &mut DbConn, actor: &Actor, limit: i64) -> AppResult<Vec<ComplaintView>> {
    let org = actor.require_kind(&[OrgKind::Producer, OrgKind::Regulator])?;
    let rows = match org.kind() {
        OrgKind::Producer => Complaint::for_producer(conn, &org.id, limit)?,
        _ => Complaint::for_region(conn, prefix(&org.region_code), limit)?,
    };
    Ok(rows
        .into_iter()
        .map(|c| ComplaintView {
            id: c.id,
            certificate_id: c.certificate_id,
            serial: c.serial,
            category: c.category,
            message: c.message,
            contact: c.contact,
            created_at: c.created_at.and_utc().to_rfc3339(),
        })
        .collect())
}

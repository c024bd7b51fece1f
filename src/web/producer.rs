//! The producer's console: its certificates (searched, paged), products and consumers'
//! reports; issuing with inline validation messages; a certificate's page with its label,
//! the A4 label sheet and revocation.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use std::collections::HashMap;

use serde::Deserialize;

use crate::db::models::sanction::Sanction;
use crate::domain::payload::InspectionItem;
use crate::domain::trail::EventType;
use crate::error::{AppError, AppResult};
use crate::http::extract::blocking;
use crate::print;
use crate::service::accounts::SessionUser;
use crate::service::certificates::{self, CertificateLine};
use crate::service::complaints::{self, ComplaintView};
use crate::service::custody;
use crate::service::issue::{self, IssueRequest};
use crate::service::labels::{self, ExportRequest};
use crate::service::products::{self, ProductView};
use crate::service::reinstatements::{self, NewReinstatementRequest};
use crate::service::status::{self, StatusChange};
use crate::service::verify::{verify, Label, Source};
use crate::service::AppState;

use super::form::{Field, FormError, Problem};
use super::page::{check_csrf, render, see_other, Chrome, Lang, SignedIn};
use super::words;

#[derive(Template)]
#[template(path = "producer.html", config = "assets/askama.toml")]
struct ProducerPage {
    notice: Option<String>,
    lang: Lang,
    chrome: Chrome,
    organization: String,
    search: String,
    lines: Vec<CertificateLine>,
    page: i64,
    more: bool,
    products: Vec<ProductView>,
    complaints: Vec<ComplaintView>,
    csrf_token: String,
    legs: custody::Legs,
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    page: Option<i64>,
    done: Option<String>,
}

/// The producer's home page (`/console` for a producer).
pub async fn home(
    state: web::Data<AppState>,
    query: ListQuery,
    req: HttpRequest,
    user: SessionUser,
) -> AppResult<HttpResponse> {
    let actor = user.actor.clone();
    let search = query.q.clone().unwrap_or_default();
    let (q, page) = (query.q.clone(), query.page.unwrap_or(1));
    let org = user.organization.id.clone();
    let (list, products, complaints, legs) = blocking(&state, move |s| {
        Ok((
            certificates::list_own(s, &actor, q.as_deref(), page)?,
            products::list_own(s, &actor)?,
            complaints::list(s, &actor, 20)?,
            custody::legs(&mut *s.db.reader()?, &org)?,
        ))
    })
    .await?;
    let lang = Lang::of(&req);
    let notice = match query.done.as_deref() {
        Some("product") => Some(
            lang.pick("产品已添加。", "The product was added.")
                .to_string(),
        ),
        done => words::done(lang, done),
    };
    let page = ProducerPage {
        notice,
        lang,
        chrome: Chrome::new(&req, Some(&user)),
        organization: user.organization.name.clone(),
        search,
        lines: list.lines,
        page: list.page,
        more: list.more,
        products,
        complaints,
        csrf_token: user.csrf_token.clone(),
        legs,
    };
    render(&req, &page)
}

#[derive(Debug, Default, Deserialize)]
pub struct IssueForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    product_id: String,
    #[serde(default)]
    batch_no: String,
    #[serde(default)]
    quantity: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    production_date: String,
    #[serde(default)]
    inspection_date: String,
    #[serde(default)]
    inspector: String,
    #[serde(default)]
    lab_report_no: String,
    #[serde(default)]
    expiry_date: String,
    #[serde(default)]
    units: String,
    /// The inspection item rows: `items.{row}.{name|requirement|measured}`.
    #[serde(flatten)]
    items: HashMap<String, String>,
}

/// Inspection item rows the form offers, and the parts of each, with their labels.
const ITEM_ROWS: usize = 3;
const ITEM_PARTS: [&str; 3] = ["name", "requirement", "measured"];
const ITEM_LABELS: [[(&str, &str); 3]; ITEM_ROWS] = [
    [
        ("项目 1", "Item 1"),
        ("要求 1", "Requirement 1"),
        ("实测 1", "Measured 1"),
    ],
    [
        ("项目 2", "Item 2"),
        ("要求 2", "Requirement 2"),
        ("实测 2", "Measured 2"),
    ],
    [
        ("项目 3", "Item 3"),
        ("要求 3", "Requirement 3"),
        ("实测 3", "Measured 3"),
    ],
];

impl IssueForm {
    fn item(&self, row: usize, part: &str) -> &str {
        self.items
            .get(&format!("items.{row}.{part}"))
            .map_or("", String::as_str)
    }

    /// The rows with anything in them, as passed items, and which row each came from.
    fn inspection_items(&self) -> (Vec<InspectionItem>, Vec<usize>) {
        (0..ITEM_ROWS)
            .filter(|&row| {
                ITEM_PARTS
                    .iter()
                    .any(|p| !self.item(row, p).trim().is_empty())
            })
            .map(|row| {
                let item = InspectionItem {
                    name: self.item(row, "name").to_string(),
                    requirement: self.item(row, "requirement").to_string(),
                    measured: self.item(row, "measured").to_string(),
                    verdict: "pass".into(),
                };
                (item, row)
            })
            .unzip()
    }
}

fn item_fields(form: &IssueForm) -> Vec<Field> {
    (0..ITEM_ROWS)
        .flat_map(|row| {
            ITEM_PARTS
                .iter()
                .zip(ITEM_LABELS[row])
                .map(move |(part, label)| {
                    let name = format!("items.{row}.{part}");
                    let value = form.item(row, part).to_string();
                    Field::new(name, label, "text", &value, false)
                })
        })
        .collect()
}

#[derive(Template)]
#[template(path = "issue.html", config = "assets/askama.toml")]
struct IssuePage {
    lang: Lang,
    chrome: Chrome,
    csrf_token: String,
    products: Vec<ProductView>,
    form: IssueForm,
    fields: Vec<Field>,
    item_fields: Vec<Field>,
    problem: Problem,
}

fn fields(form: &IssueForm) -> Vec<Field> {
    vec![
        Field::new(
            "batch_no",
            ("批号", "Batch number"),
            "text",
            &form.batch_no,
            true,
        ),
        Field::new(
            "quantity",
            ("数量", "Quantity"),
            "number",
            &form.quantity,
            true,
        ),
        Field::new("unit", ("单位", "Unit"), "text", &form.unit, true),
        Field::new(
            "production_date",
            ("生产日期", "Production date"),
            "date",
            &form.production_date,
            true,
        ),
        Field::new(
            "inspection_date",
            ("检验日期", "Inspection date"),
            "date",
            &form.inspection_date,
            true,
        ),
        Field::new(
            "inspector",
            ("检验员", "Inspector"),
            "text",
            &form.inspector,
            true,
        ),
        Field::new(
            "lab_report_no",
            ("检验报告编号（可选）", "Lab report no. (optional)"),
            "text",
            &form.lab_report_no,
            false,
        ),
        Field::new(
            "expiry_date",
            ("保质期至（可选）", "Expiry date (optional)"),
            "date",
            &form.expiry_date,
            false,
        ),
        Field::new(
            "units",
            ("单品码数量（可选）", "Unit labels (optional)"),
            "number",
            &form.units,
            false,
        ),
    ]
}

async fn issue_page(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    user: &SessionUser,
    form: IssueForm,
    error: Option<FormError>,
) -> AppResult<HttpResponse> {
    let lang = Lang::of(req);
    let actor = user.actor.clone();
    let products = blocking(state, move |s| products::list_own(s, &actor)).await?;
    let fields = fields(&form);
    let item_fields = item_fields(&form);
    let product = [("product_id", "产品", "Product")];
    let problem = Problem::new(lang, fields.iter().chain(&item_fields), &product, error);
    let page = IssuePage {
        lang,
        chrome: Chrome::new(req, Some(user)),
        csrf_token: user.csrf_token.clone(),
        products,
        fields,
        item_fields,
        form,
        problem,
    };
    let mut response = render(req, &page)?;
    if page.problem.is_some() {
        *response.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

pub async fn issue_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedIn(user): SignedIn,
) -> AppResult<HttpResponse> {
    issue_page(&state, &req, &user, IssueForm::default(), None).await
}

/// `items.{k}.{part}` of the k-th item sent, as the form row it came from.
fn item_row_field(field: &str, rows: &[usize]) -> String {
    let mut parts = field.splitn(3, '.');
    match (
        parts.next(),
        parts.next().and_then(|k| k.parse::<usize>().ok()),
        parts.next(),
    ) {
        (Some("items"), Some(k), Some(part)) if k < rows.len() => {
            format!("items.{}.{part}", rows[k])
        }
        _ => field.to_string(),
    }
}

/// A whole number from a form field.
fn number(field: &str, value: &str) -> Result<Option<i64>, FormError> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    value
        .trim()
        .parse()
        .map(Some)
        .map_err(|_| FormError::not_a_number(field))
}

pub async fn issue_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedIn(user): SignedIn,
    form: web::Form<IssueForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    check_csrf(&user.csrf_token, &form.csrf_token)?;
    let optional = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
    let (items, rows) = form.inspection_items();
    let numbers =
        number("quantity", &form.quantity).and_then(|q| Ok((q, number("units", &form.units)?)));
    let (quantity, units) = match numbers {
        Ok(n) => n,
        Err(error) => return issue_page(&state, &req, &user, form, Some(error)).await,
    };
    let request = IssueRequest {
        product_id: form.product_id.clone(),
        batch_no: form.batch_no.clone(),
        quantity: quantity.unwrap_or(0),
        unit: form.unit.clone(),
        production_date: form.production_date.clone(),
        inspection_date: form.inspection_date.clone(),
        inspector: form.inspector.clone(),
        result: "pass".into(),
        items: Some(items).filter(|i| !i.is_empty()),
        lab_report_no: optional(&form.lab_report_no),
        expiry_date: optional(&form.expiry_date),
        units,
        lab_id: None,
    };
    let actor = user.actor.clone();
    match blocking(&state, move |s| issue::issue(s, &actor, request)).await {
        Ok(issued) => Ok(see_other(&format!(
            "/console/certificates/{}?done=issued",
            issued.id
        ))),
        Err(e @ (AppError::Invalid(_) | AppError::NotFound(_) | AppError::Forbidden(_))) => {
            let mut error = FormError::from(&e);
            // The service counts the rows it was sent; the form names the row shown.
            error.field = error.field.map(|f| item_row_field(&f, &rows));
            issue_page(&state, &req, &user, form, Some(error)).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "certificate.html", config = "assets/askama.toml")]
struct CertificatePage {
    lang: Lang,
    chrome: Chrome,
    csrf_token: String,
    notice: Option<String>,
    /// Why the last action failed.
    problem: Option<String>,
    id: String,
    product: String,
    batch_no: String,
    status: String,
    quantity: String,
    production_date: String,
    verify_url: String,
    serialized: bool,
    /// The producer sees labels; a regulator sees spot-check, suspension and recall.
    owner: bool,
    product_id: String,
    trail: Vec<String>,
    /// A regulator's suspension in force: its reason and legal basis, in words.
    regulator_hold: Option<String>,
    /// The producer asked for reinstatement and the regulator has not decided.
    pending_request: bool,
}

#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

async fn certificate_page(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    user: &SessionUser,
    id: String,
    notice: Option<String>,
    problem: Option<String>,
) -> AppResult<HttpResponse> {
    let actor = user.actor.clone();
    let (cert, owner, url, answer, hold, pending_request) = blocking(state, move |s| {
        let (cert, owner) = certificates::viewable(s, &actor, &id)?;
        let url = labels::batch_label(s, &cert.id)?;
        let signature = crate::crypto::b64url(&cert.signature);
        let label = Label {
            id: &cert.id,
            serial: None,
            signature: Some(&signature),
        };
        let answer = verify(s, &label, Source::Check)?;
        let hold = Sanction::open_on_certificate(&mut *s.db.reader()?, &cert.id)?;
        let pending = match &hold {
            Some(_) => reinstatements::pending_for(s, &cert.id)?.is_some(),
            None => false,
        };
        Ok((cert, owner, url, answer, hold, pending))
    })
    .await?;
    let payload = answer.payload();
    let promise = answer.promise();
    let lang = Lang::of(req);
    let page = CertificatePage {
        regulator_hold: hold.map(|h| {
            format!(
                "{} · {}{} · {}",
                h.starts_at.format("%Y-%m-%d"),
                lang.pick("依据", "under "),
                h.legal_basis,
                h.reason
            )
        }),
        pending_request,
        lang,
        chrome: Chrome::new(req, Some(user)),
        csrf_token: user.csrf_token.clone(),
        notice,
        problem,
        product: payload
            .as_ref()
            .map(|p| p.product.name.clone())
            .or_else(|| {
                promise
                    .as_ref()
                    .map(|p| format!("承诺达标合格证 · {}", p.product.name))
            })
            .unwrap_or_default(),
        quantity: payload
            .as_ref()
            .map(|p| format!("{} {}", p.batch.quantity, p.batch.unit))
            .or_else(|| {
                promise
                    .as_ref()
                    .map(|p| format!("{} {}", p.batch.quantity, p.batch.unit))
            })
            .unwrap_or_default(),
        production_date: payload
            .as_ref()
            .map(|p| p.batch.production_date.clone())
            .unwrap_or_default(),
        serialized: cert.units.is_some(),
        owner,
        product_id: cert.product_id.clone(),
        batch_no: cert.batch_no,
        status: cert.status,
        verify_url: url,
        trail: answer
            .trail_lines()
            .iter()
            .map(|e| {
                format!(
                    "{} · {} · {}",
                    crate::domain::text::minute(&e.at),
                    words::event(lang, e.kind),
                    e.actor
                )
            })
            .collect(),
        id: cert.id,
    };
    render(req, &page)
}

pub async fn certificate(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedIn(user): SignedIn,
    id: web::Path<String>,
    query: web::Query<DoneQuery>,
) -> AppResult<HttpResponse> {
    let lang = Lang::of(&req);
    let notice = query.done.as_deref().map(|done| {
        match done {
            "issued" => lang.pick("合格证已签发。", "The certificate was issued."),
            "revoked" => lang.pick("合格证已撤销。", "The certificate was revoked."),
            "suspended" => lang.pick("合格证已暂停。", "The certificate was suspended."),
            "reinstated" => lang.pick("合格证已恢复有效。", "The certificate is active again."),
            "requested" => lang.pick(
                "恢复申请已提交，监管部门决定后会记录在流转记录中。",
                "Your request is with the regulator; its decision will be on the trail.",
            ),
            "inspected" => lang.pick("抽检已记录。", "The spot-check was recorded."),
            "recalled" => lang.pick("已发布召回。", "The recall was issued."),
            _ => "",
        }
        .to_string()
    });
    certificate_page(
        &state,
        &req,
        &user,
        id.into_inner(),
        notice.filter(|n| !n.is_empty()),
        None,
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct ReasonForm {
    csrf_token: String,
    reason: String,
    legal_basis: Option<String>,
}

/// `POST /console/certificates/{id}/{suspend|reinstate|revoke}` from a certificate's page: the
/// owning producer or a regulator of its region (the use case checks which).
pub async fn change_status(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedIn(user): SignedIn,
    path: web::Path<(String, String)>,
    form: web::Form<ReasonForm>,
) -> AppResult<HttpResponse> {
    let ((id, change), form) = (path.into_inner(), form.into_inner());
    let (kind, done) = match change.as_str() {
        "suspend" => (EventType::Suspended, "suspended"),
        "reinstate" => (EventType::Reinstated, "reinstated"),
        "revoke" => (EventType::Revoked, "revoked"),
        _ => return Err(AppError::not_found("page")),
    };
    check_csrf(&user.csrf_token, &form.csrf_token)?;
    let actor = user.actor.clone();
    let target = id.clone();
    let change = StatusChange {
        reason: form.reason,
        legal_basis: form.legal_basis.filter(|b| !b.trim().is_empty()),
    };
    let result = blocking(&state, move |s| {
        status::change(s, &actor, &target, kind, change)
    })
    .await;
    after_action(&state, &req, &user, id, done, result.map(|_| ())).await
}

/// After a form on a certificate's page: back to the page with a notice, or the page again
/// with the rule that refused the action.
pub(crate) async fn after_action(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    user: &SessionUser,
    id: String,
    done: &str,
    result: AppResult<()>,
) -> AppResult<HttpResponse> {
    match result {
        Ok(()) => Ok(see_other(&format!(
            "/console/certificates/{id}?done={done}"
        ))),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict { .. })) => {
            let problem = Some(words::app_error(Lang::of(req), &e));
            let mut page = certificate_page(state, req, user, id, None, problem).await?;
            *page.status_mut() = actix_web::ResponseError::status_code(&e);
            Ok(page)
        }
        Err(e) => Err(e),
    }
}

#[derive(Debug, Deserialize)]
pub struct LabelsForm {
    csrf_token: String,
    units: Option<String>,
}

pub async fn labels_pdf(
    state: web::Data<AppState>,
    SignedIn(user): SignedIn,
    id: web::Path<String>,
    form: web::Form<LabelsForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    check_csrf(&user.csrf_token, &form.csrf_token)?;
    let request = ExportRequest {
        certificates: vec![id.into_inner()],
        units: form.units.is_some(),
    };
    let actor = user.actor.clone();
    let pdf = blocking(&state, move |s| {
        let labels = labels::export(s, &actor, &request)?;
        print::pdf::render(&labels).map_err(|e| AppError::internal_from("label sheet", e))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"labels.pdf\"",
        ))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(pdf))
}

#[derive(Debug, Deserialize)]
pub struct ReinstatementForm {
    csrf_token: String,
    evidence: String,
    lab_report_no: Option<String>,
}

/// `POST /console/certificates/{id}/reinstatement`: the producer asks the regulator to lift
/// its suspension.
pub async fn request_reinstatement(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedIn(user): SignedIn,
    id: web::Path<String>,
    form: web::Form<ReinstatementForm>,
) -> AppResult<HttpResponse> {
    let (id, form) = (id.into_inner(), form.into_inner());
    check_csrf(&user.csrf_token, &form.csrf_token)?;
    let actor = user.actor.clone();
    let target = id.clone();
    let body = NewReinstatementRequest {
        evidence: form.evidence,
        lab_report_no: form.lab_report_no.filter(|r| !r.trim().is_empty()),
    };
    let result = blocking(&state, move |s| {
        reinstatements::request(s, &actor, &target, body)
    })
    .await;
    after_action(&state, &req, &user, id, "requested", result.map(|_| ())).await
}

//! A certificate's console page, for its producer and the regulators of its region: the
//! label, status, trail, reports and sanctions, and the actions taken from it (suspend,
//! reinstate, revoke, ask a regulator to lift a suspension).

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use serde::Deserialize;

use crate::db::models::sanction::Sanction;
use crate::domain::status::CertStatus;
use crate::domain::trail::EventType;
use crate::error::{AppError, AppResult};
use crate::http::extract::blocking;
use crate::service::access::accounts::SessionUser;
use crate::service::issuance::certificates;
use crate::service::issuance::labels;
use crate::service::oversight::reinstatements::{self, NewReinstatementRequest};
use crate::service::oversight::status::{self, StatusChange};
use crate::service::verify::{verify, Label, Source};
use crate::service::AppState;

use crate::web::page::{render, see_other, Chrome, DoneQuery, Lang, SignedForm, SignedIn};
use crate::web::words;

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
    /// The status changes the transition table allows from here.
    can_suspend: bool,
    can_reinstate: bool,
    can_revoke: bool,
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
    let current = CertStatus::parse(&cert.status);
    let allows = |event| current.and_then(|s| s.after(event)).is_some();
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
        can_suspend: allows(EventType::Suspended),
        can_reinstate: allows(EventType::Reinstated),
        can_revoke: allows(EventType::Revoked),
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
    reason: String,
    legal_basis: Option<String>,
}

/// `POST /console/certificates/{id}/{suspend|reinstate|revoke}` from a certificate's page: the
/// owning producer or a regulator of its region (the use case checks which).
pub async fn change_status(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    SignedForm(user, form): SignedForm<ReasonForm>,
) -> AppResult<HttpResponse> {
    let ((id, change), form) = (path.into_inner(), form);
    let (kind, done) = match change.as_str() {
        "suspend" => (EventType::Suspended, "suspended"),
        "reinstate" => (EventType::Reinstated, "reinstated"),
        "revoke" => (EventType::Revoked, "revoked"),
        _ => return Err(AppError::not_found("page")),
    };
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
pub struct ReinstatementForm {
    evidence: String,
    lab_report_no: Option<String>,
}

/// `POST /console/certificates/{id}/reinstatement`: the producer asks the regulator to lift
/// its suspension.
pub async fn request_reinstatement(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    SignedForm(user, form): SignedForm<ReinstatementForm>,
) -> AppResult<HttpResponse> {
    let (id, form) = (id.into_inner(), form);
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

//! `/console/oversight`: a regulator's sanctions, reinstatement requests and audit log, with
//! the forms to decide requests, suspend a producer's right to issue and lift sanctions; a
//! producer sees its own sanctions and requests. The same use cases as the API.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::db::models::Organization;
use crate::error::{AppError, AppResult};
use crate::http::extract::blocking;
use crate::service::access::accounts::SessionUser;
use crate::service::audit::{self, AuditView};
use crate::service::certification::labs::{self, AccreditationView};
use crate::service::oversight::reinstatements::{self, Decision, ReinstatementView};
use crate::service::oversight::sanctions::{self, LiftSanction, NewSanction, SanctionView};
use crate::service::AppState;

use crate::web::page::{render, see_other, Chrome, DoneQuery, Lang, SignedForm, SignedIn};
use crate::web::words;

#[derive(Template)]
#[template(path = "oversight.html", config = "assets/askama.toml")]
struct OversightPage {
    lang: Lang,
    chrome: Chrome,
    csrf_token: String,
    regulator: bool,
    requests: Vec<ReinstatementView>,
    sanctions: Vec<SanctionView>,
    audit: Vec<AuditView>,
    /// Labs' claims awaiting this regulator's confirmation.
    accreditations: Vec<AccreditationView>,
    /// Claims of custody about goods of the region.
    claims: Vec<crate::web::custody::claims::ClaimLine>,
    problem: Option<String>,
    done: bool,
}

async fn page(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    user: &SessionUser,
    problem: Option<&AppError>,
    done: bool,
) -> AppResult<HttpResponse> {
    let actor = user.actor.clone();
    let regulator = user.organization.kind == "regulator";
    let (requests, sanctions, audit, accreditations, claims) = blocking(state, move |s| {
        let (audit, accreditations, claims) = match regulator {
            true => (
                audit::list(s, &actor)?.into_iter().take(100).collect(),
                labs::pending(s, &actor)?,
                crate::web::custody::claims::for_console(s, &actor)?,
            ),
            false => (vec![], vec![], vec![]),
        };
        Ok((
            reinstatements::list(s, &actor)?,
            sanctions::list(s, &actor, None)?,
            audit,
            accreditations,
            claims,
        ))
    })
    .await?;
    let lang = Lang::of(req);
    let page = OversightPage {
        lang,
        chrome: Chrome::new(req, Some(user)),
        csrf_token: user.csrf_token.clone(),
        regulator,
        requests,
        sanctions,
        audit,
        accreditations,
        claims,
        problem: problem.map(|e| words::app_error(lang, e)),
        done,
    };
    let mut rendered = render(req, &page)?;
    if let Some(e) = problem {
        *rendered.status_mut() = actix_web::ResponseError::status_code(e);
    }
    Ok(rendered)
}

/// `GET /console/oversight`.
pub async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedIn(user): SignedIn,
    query: web::Query<DoneQuery>,
) -> AppResult<HttpResponse> {
    page(&state, &req, &user, None, query.done.is_some()).await
}

#[derive(Debug, Deserialize)]
pub struct OversightForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    credit_code: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    legal_basis: String,
}

async fn finish(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    user: &SessionUser,
    result: AppResult<()>,
) -> AppResult<HttpResponse> {
    match result {
        Ok(()) => Ok(see_other("/console/oversight?done=1")),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict { .. } | AppError::NotFound(_))) => {
            page(state, req, user, Some(&e), false).await
        }
        Err(e) => Err(e),
    }
}

/// `POST /console/oversight/requests/{id}`: approve or refuse a reinstatement request.
pub async fn decide(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    SignedForm(user, form): SignedForm<OversightForm>,
) -> AppResult<HttpResponse> {
    let actor = user.actor.clone();
    let body = Decision {
        decision: form.decision,
        note: form.note,
    };
    let result = blocking(&state, move |s| {
        reinstatements::decide(s, &actor, &id, body)
    })
    .await;
    finish(&state, &req, &user, result.map(|_| ())).await
}

/// `POST /console/oversight/sanctions`: suspend a producer's right to issue, by credit code.
pub async fn impose(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedForm(user, form): SignedForm<OversightForm>,
) -> AppResult<HttpResponse> {
    let actor = user.actor.clone();
    let result = blocking(&state, move |s| {
        let code = crate::domain::credit_code::parse("credit_code", &form.credit_code)?;
        let producer = Organization::find_by_credit_code(&mut *s.db.reader()?, &code)?
            .ok_or_else(|| AppError::not_found("organization"))?;
        let body = NewSanction {
            kind: "issuance_suspended".into(),
            reason: form.reason,
            legal_basis: form.legal_basis,
        };
        sanctions::impose(s, &actor, &producer.id, body).map(|_| ())
    })
    .await;
    finish(&state, &req, &user, result).await
}

/// `POST /console/oversight/sanctions/{id}/lift`.
pub async fn lift(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    SignedForm(user, form): SignedForm<OversightForm>,
) -> AppResult<HttpResponse> {
    let actor = user.actor.clone();
    let body = LiftSanction {
        reason: form.reason,
    };
    let result = blocking(&state, move |s| sanctions::lift(s, &actor, &id, body)).await;
    finish(&state, &req, &user, result.map(|_| ())).await
}

/// `POST /console/oversight/accreditations/{id}/confirm`.
pub async fn confirm_accreditation(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    SignedForm(user, _form): SignedForm<OversightForm>,
) -> AppResult<HttpResponse> {
    let actor = user.actor.clone();
    let result = blocking(&state, move |s| labs::confirm(s, &actor, &id)).await;
    finish(&state, &req, &user, result.map(|_| ())).await
}

/// `POST /console/oversight/labs/{id}/delist`.
pub async fn delist_lab(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    SignedForm(user, form): SignedForm<OversightForm>,
) -> AppResult<HttpResponse> {
    let actor = user.actor.clone();
    let result = blocking(&state, move |s| labs::delist(s, &actor, &id, &form.reason)).await;
    finish(&state, &req, &user, result.map(|_| ())).await
}

//! Recall pages: `/console/recalls` lists the recalls that concern the signed-in organization,
//! `/console/recalls/{id}` shows, per retailer that took the goods in, whether it was told by
//! webhook, acknowledged (with the quantity removed) or is overdue; a retailer acknowledges
//! there. The same use cases as the API.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::error::{AppError, AppResult};
use crate::http::extract::blocking;
use crate::service::access::accounts::SessionUser;
use crate::service::oversight::recalls::{self, NewAcknowledgement, RecallView};
use crate::service::AppState;

use crate::web::page::{render, see_other, Chrome, DoneQuery, Lang, SignedForm, SignedIn};
use crate::web::words;

#[derive(Template)]
#[template(path = "recalls.html", config = "assets/askama.toml")]
struct RecallsPage {
    lang: Lang,
    chrome: Chrome,
    csrf_token: String,
    recalls: Vec<RecallView>,
    /// One recall in detail.
    detail: Option<RecallView>,
    /// The detail's recall awaits this organization's acknowledgement.
    can_acknowledge: bool,
    problem: Option<String>,
    done: bool,
}

/// Whether `org` is a retailer of the recall that has not acknowledged it yet.
fn awaits(recall: &RecallView, org: &str) -> bool {
    recall
        .retailers
        .iter()
        .any(|r| r.id == org && r.acknowledged_at.is_none())
}

async fn page(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    user: &SessionUser,
    id: Option<String>,
    problem: Option<&AppError>,
    done: bool,
) -> AppResult<HttpResponse> {
    let actor = user.actor.clone();
    let (recalls, detail) = blocking(state, move |s| {
        let detail = id.map(|id| recalls::get(s, &actor, &id)).transpose()?;
        let list = match detail {
            Some(_) => vec![],
            None => recalls::list(s, &actor)?,
        };
        Ok((list, detail))
    })
    .await?;
    let lang = Lang::of(req);
    let page = RecallsPage {
        lang,
        chrome: Chrome::new(req, Some(user)),
        csrf_token: user.csrf_token.clone(),
        can_acknowledge: detail
            .as_ref()
            .is_some_and(|d| awaits(d, &user.organization.id)),
        recalls,
        detail,
        problem: problem.map(|e| words::app_error(lang, e)),
        done,
    };
    let mut rendered = render(req, &page)?;
    if let Some(e) = problem {
        *rendered.status_mut() = actix_web::ResponseError::status_code(e);
    }
    Ok(rendered)
}

/// `GET /console/recalls`.
pub async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedIn(user): SignedIn,
) -> AppResult<HttpResponse> {
    page(&state, &req, &user, None, None, false).await
}

/// `GET /console/recalls/{id}`.
pub async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedIn(user): SignedIn,
    id: web::Path<String>,
    query: web::Query<DoneQuery>,
) -> AppResult<HttpResponse> {
    let done = query.done.is_some();
    page(&state, &req, &user, Some(id.into_inner()), None, done).await
}

#[derive(Debug, Deserialize)]
pub struct AckForm {
    quantity_removed: String,
    note: Option<String>,
}

/// `POST /console/recalls/{id}/acknowledge`.
pub async fn acknowledge(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    SignedForm(user, form): SignedForm<AckForm>,
) -> AppResult<HttpResponse> {
    let (id, form) = (id.into_inner(), form);
    let actor = user.actor.clone();
    let target = id.clone();
    let result = match form.quantity_removed.trim().parse::<i64>() {
        Err(_) => Err(AppError::invalid(
            "invalid_number",
            "quantity_removed",
            "write how many were taken off sale, as a whole number",
        )),
        Ok(quantity_removed) => {
            let body = NewAcknowledgement {
                quantity_removed,
                note: form.note.filter(|n| !n.trim().is_empty()),
            };
            blocking(&state, move |s| {
                recalls::acknowledge(s, &actor, &target, body)
            })
            .await
        }
    };
    match result {
        Ok(_) => Ok(see_other(&format!("/console/recalls/{id}?done=1"))),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict { .. })) => {
            page(&state, &req, &user, Some(id), Some(&e), false).await
        }
        Err(e) => Err(e),
    }
}

//! `/console/admin`: the platform admin's console (a user created with `--platform-admin`).
//! Organizations (search, register one, onboard many from pasted CSV, deactivate and
//! reactivate), their page users (create, reset password, deactivate), and the audit log.
//! The same use cases as the API.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::error::{AppError, AppResult};
use crate::http::extract::blocking;
use crate::service::access::accounts::{self, NewUser, SessionUser};
use crate::service::access::admin::{self, AdminOrganization, AdminUser, OnboardError, RowError};
use crate::service::access::organizations::{self, NewOrganization};
use crate::service::audit::{self, AuditView};
use crate::service::{Actor, AppState};

use crate::web::page::{render, see_other, Chrome, Lang, SignedForm, SignedIn};
use crate::web::words;

#[derive(Template)]
#[template(path = "admin.html", config = "assets/askama.toml")]
struct AdminPage {
    lang: Lang,
    chrome: Chrome,
    csrf_token: String,
    q: String,
    organizations: Vec<AdminOrganization>,
    /// One organization in detail, with its users.
    detail: Option<(AdminOrganization, Vec<AdminUser>)>,
    audit: Vec<AuditView>,
    /// A generated password to show once: (username, password).
    password: Option<(String, String)>,
    row_errors: Vec<RowError>,
    csv: String,
    problem: Option<String>,
    done: Option<String>,
}

/// Everything a render needs besides the lists.
#[derive(Default)]
struct Extra {
    password: Option<(String, String)>,
    row_errors: Vec<RowError>,
    csv: String,
    problem: Option<AppError>,
    done: Option<String>,
}

fn require_admin(user: &SessionUser) -> AppResult<()> {
    match user.actor {
        Actor::Admin => Ok(()),
        _ => Err(AppError::Forbidden(
            "only the platform admin may do this".into(),
        )),
    }
}

async fn page(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    user: &SessionUser,
    q: String,
    id: Option<String>,
    extra: Extra,
) -> AppResult<HttpResponse> {
    require_admin(user)?;
    let actor = user.actor.clone();
    let query = q.clone();
    let (organizations, detail, audit) = blocking(state, move |s| {
        let detail = match id {
            Some(id) => {
                let org = admin::organization(s, &actor, &id)?;
                let users = admin::users(s, &actor, &id)?;
                Some((org, users))
            }
            None => None,
        };
        let list = match detail {
            Some(_) => vec![],
            None => admin::organizations(s, &actor, &query)?,
        };
        let audit = audit::list(s, &actor)?.into_iter().take(50).collect();
        Ok((list, detail, audit))
    })
    .await?;
    let lang = Lang::of(req);
    let status = extra
        .problem
        .as_ref()
        .map(actix_web::ResponseError::status_code);
    let page = AdminPage {
        lang,
        chrome: Chrome::new(req, Some(user)),
        csrf_token: user.csrf_token.clone(),
        q,
        organizations,
        detail,
        audit,
        password: extra.password,
        row_errors: extra.row_errors,
        csv: extra.csv,
        problem: extra.problem.as_ref().map(|e| words::app_error(lang, e)),
        done: extra.done,
    };
    let mut rendered = render(req, &page)?;
    if let Some(status) = status {
        *rendered.status_mut() = status;
    }
    Ok(rendered)
}

#[derive(Debug, Deserialize)]
pub struct AdminQuery {
    q: Option<String>,
    done: Option<String>,
}

/// `GET /console/admin`.
pub async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedIn(user): SignedIn,
    query: web::Query<AdminQuery>,
) -> AppResult<HttpResponse> {
    let query = query.into_inner();
    let extra = Extra {
        done: query.done,
        ..Extra::default()
    };
    page(
        &state,
        &req,
        &user,
        query.q.unwrap_or_default(),
        None,
        extra,
    )
    .await
}

/// `GET /console/admin/organizations/{id}`.
pub async fn organization(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedIn(user): SignedIn,
    id: web::Path<String>,
    query: web::Query<AdminQuery>,
) -> AppResult<HttpResponse> {
    let extra = Extra {
        done: query.into_inner().done,
        ..Extra::default()
    };
    page(
        &state,
        &req,
        &user,
        String::new(),
        Some(id.into_inner()),
        extra,
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
pub struct AdminForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    credit_code: String,
    #[serde(default)]
    region_code: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    market_id: String,
    #[serde(default)]
    csv: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    username: String,
}

/// A form's failure shown on the page it came from, or `Err` for what a form cannot fix.
async fn problem(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    user: &SessionUser,
    id: Option<String>,
    e: AppError,
) -> AppResult<HttpResponse> {
    match e {
        AppError::Invalid(_) | AppError::Conflict { .. } => {
            let extra = Extra {
                problem: Some(e),
                ..Extra::default()
            };
            page(state, req, user, String::new(), id, extra).await
        }
        other => Err(other),
    }
}

/// `POST /console/admin/organizations`: registers one organization.
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedForm(user, form): SignedForm<AdminForm>,
) -> AppResult<HttpResponse> {
    let actor = user.actor.clone();
    let new = NewOrganization {
        kind: form.kind,
        name: form.name,
        credit_code: form.credit_code,
        region_code: form.region_code,
        address: form.address,
        market_id: Some(form.market_id).filter(|m| !m.trim().is_empty()),
    };
    match blocking(&state, move |s| organizations::create(s, &actor, new)).await {
        Ok(org) => Ok(see_other(&format!(
            "/console/admin/organizations/{}?done=created",
            org.id
        ))),
        Err(e) => problem(&state, &req, &user, None, e).await,
    }
}

/// `POST /console/admin/import`: onboards the pasted CSV, all or none.
pub async fn import(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedForm(user, form): SignedForm<AdminForm>,
) -> AppResult<HttpResponse> {
    require_admin(&user)?;
    let actor = user.actor.clone();
    let csv = form.csv.clone();
    let result = web::block({
        let state = state.clone();
        move || admin::onboard(&state, &actor, csv.as_bytes())
    })
    .await?;
    match result {
        Ok(created) => Ok(see_other(&format!(
            "/console/admin?done=onboarded-{}",
            created.len()
        ))),
        Err(OnboardError::Rows(rows)) => {
            let extra = Extra {
                row_errors: rows,
                csv: form.csv,
                ..Extra::default()
            };
            let mut response = page(&state, &req, &user, String::new(), None, extra).await?;
            *response.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(response)
        }
        Err(OnboardError::Request(e)) => problem(&state, &req, &user, None, e).await,
    }
}

/// `POST /console/admin/organizations/{id}/{deactivate|reactivate|users}`.
pub async fn organization_action(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    SignedForm(user, form): SignedForm<AdminForm>,
) -> AppResult<HttpResponse> {
    let (id, action) = path.into_inner();
    let actor = user.actor.clone();
    let target = id.clone();
    let result = blocking(&state, move |s| match action.as_str() {
        "deactivate" | "reactivate" => {
            admin::set_active(s, &actor, &target, action == "reactivate", &form.reason)
                .map(|_| None)
        }
        "users" => {
            let new = NewUser {
                username: form.username,
                platform_admin: false,
            };
            accounts::create_user(s, &actor, &target, new).map(|u| Some((u.username, u.password)))
        }
        _ => Err(AppError::not_found("page")),
    })
    .await;
    match result {
        Ok(None) => Ok(see_other(&format!(
            "/console/admin/organizations/{id}?done=saved"
        ))),
        Ok(Some(password)) => {
            let extra = Extra {
                password: Some(password),
                ..Extra::default()
            };
            page(&state, &req, &user, String::new(), Some(id), extra).await
        }
        Err(e) => problem(&state, &req, &user, Some(id), e).await,
    }
}

/// `POST /console/admin/organizations/{id}/users/{username}/{password|deactivate|reactivate}`.
pub async fn user_action(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    SignedForm(user, _form): SignedForm<AdminForm>,
) -> AppResult<HttpResponse> {
    let (id, username, action) = path.into_inner();
    let actor = user.actor.clone();
    let name = username.clone();
    let result = blocking(&state, move |s| match action.as_str() {
        "password" => accounts::reset_password(s, &actor, &name).map(Some),
        "deactivate" | "reactivate" => {
            admin::set_user_active(s, &actor, &name, action == "reactivate").map(|()| None)
        }
        _ => Err(AppError::not_found("page")),
    })
    .await?;
    match result {
        None => Ok(see_other(&format!(
            "/console/admin/organizations/{id}?done=saved"
        ))),
        Some(password) => {
            let extra = Extra {
                password: Some((username, password)),
                ..Extra::default()
            };
            page(&state, &req, &user, String::new(), Some(id), extra).await
        }
    }
}

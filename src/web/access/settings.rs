//! `/console/access`: an organization's signing keys, API tokens and webhooks. Rotate the
//! signing key, register a key the producer holds itself, make a token (name, scope, expiry;
//! shown once), revoke one, register a webhook endpoint (its secret shown once), delete one and
//! read the delivery log. The same use cases as the API.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::error::{AppError, AppResult};
use crate::http::extract::blocking;
use crate::service::access::accounts::SessionUser;
use crate::service::access::tokens::{self, TokenRequest, TokenView};
use crate::service::keys::lifecycle::{self, KeyView, RegisterKey};
use crate::service::webhooks::{self, DeliveryView, NewWebhook, WebhookView};
use crate::service::AppState;

use crate::web::page::{render, see_other, Chrome, DoneQuery, Lang, SignedForm, SignedIn};
use crate::web::words;

#[derive(Template)]
#[template(path = "access.html", config = "assets/askama.toml")]
struct AccessPage {
    lang: Lang,
    chrome: Chrome,
    csrf_token: String,
    producer: bool,
    keys: Vec<KeyView>,
    tokens: Vec<TokenView>,
    /// A token just made: shown this once.
    new_token: Option<String>,
    webhooks: Vec<WebhookView>,
    deliveries: Vec<DeliveryView>,
    /// A webhook secret just made: shown this once.
    new_secret: Option<String>,
    event_types: &'static [&'static str],
    /// What went wrong with the last form, in the page's language.
    problem: Option<String>,
    done: Option<&'static str>,
}

#[derive(Debug, Default, Deserialize)]
pub struct AccessForm {
    #[serde(default)]
    public_key: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    scope: String,
    /// YYYY-MM-DD (end of that day, UTC), or empty.
    #[serde(default)]
    expires: String,
    #[serde(default)]
    url: String,
    /// One checkbox per event type (`recall.created` → `recall_created`).
    recall_created: Option<String>,
    certificate_status_changed: Option<String>,
    complaint_created: Option<String>,
    case_updated: Option<String>,
}

impl AccessForm {
    /// The event types whose boxes are ticked.
    fn events(&self) -> Vec<String> {
        [
            (&self.recall_created, webhooks::RECALL_CREATED),
            (&self.certificate_status_changed, webhooks::STATUS_CHANGED),
            (&self.complaint_created, webhooks::COMPLAINT_CREATED),
            (&self.case_updated, webhooks::CASE_UPDATED),
        ]
        .into_iter()
        .filter(|(ticked, _)| ticked.is_some())
        .map(|(_, name)| name.to_string())
        .collect()
    }
}

/// What a page shows once: a new token or a new webhook secret.
#[derive(Default)]
struct Once {
    token: Option<String>,
    secret: Option<String>,
}

async fn page(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    user: &SessionUser,
    once: Once,
    problem: Option<&AppError>,
    done: Option<&'static str>,
) -> AppResult<HttpResponse> {
    let (actor, org) = (user.actor.clone(), user.organization.id.clone());
    let (keys, tokens, hooks, deliveries) = blocking(state, move |s| {
        Ok((
            lifecycle::list(s, &actor, &org)?,
            tokens::list(s, &actor, &org)?,
            webhooks::list(s, &actor)?,
            webhooks::deliveries(s, &actor)?,
        ))
    })
    .await?;
    let lang = Lang::of(req);
    let page = AccessPage {
        lang,
        chrome: Chrome::new(req, Some(user)),
        csrf_token: user.csrf_token.clone(),
        producer: user.organization.kind == "producer",
        keys,
        tokens,
        new_token: once.token,
        webhooks: hooks,
        deliveries: deliveries.into_iter().take(20).collect(),
        new_secret: once.secret,
        event_types: &webhooks::EVENT_TYPES,
        problem: problem.map(|e| words::app_error(lang, e)),
        done,
    };
    let mut response = render(req, &page)?;
    if problem.is_some() {
        *response.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

/// `GET /console/access`.
pub async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedIn(user): SignedIn,
    query: web::Query<DoneQuery>,
) -> AppResult<HttpResponse> {
    let done = match query.done.as_deref() {
        Some("rotated") => Some("rotated"),
        Some("registered") => Some("registered"),
        Some("revoked") => Some("revoked"),
        Some("deleted") => Some("deleted"),
        _ => None,
    };
    page(&state, &req, &user, Once::default(), None, done).await
}

/// The page again with the error, or `Err` for anything a form cannot fix.
async fn or_problem(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    user: &SessionUser,
    e: AppError,
) -> AppResult<HttpResponse> {
    match e {
        AppError::Invalid(_) | AppError::Conflict { .. } => {
            page(state, req, user, Once::default(), Some(&e), None).await
        }
        other => Err(other),
    }
}

/// `POST /console/access/rotate`.
pub async fn rotate(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedForm(user, _form): SignedForm<AccessForm>,
) -> AppResult<HttpResponse> {
    let (actor, org) = (user.actor.clone(), user.organization.id.clone());
    match blocking(&state, move |s| lifecycle::rotate(s, &actor, &org)).await {
        Ok(_) => Ok(see_other("/console/access?done=rotated#keys")),
        Err(e) => or_problem(&state, &req, &user, e).await,
    }
}

/// `POST /console/access/keys`: a producer registers the public key it holds.
pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedForm(user, form): SignedForm<AccessForm>,
) -> AppResult<HttpResponse> {
    let (actor, org) = (user.actor.clone(), user.organization.id.clone());
    let body = RegisterKey {
        public_key: form.public_key.clone(),
    };
    match blocking(&state, move |s| lifecycle::register(s, &actor, &org, body)).await {
        Ok(_) => Ok(see_other("/console/access?done=registered#keys")),
        Err(e) => or_problem(&state, &req, &user, e).await,
    }
}

/// `POST /console/access/tokens`: the new token is shown on the answer, once.
pub async fn create_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedForm(user, form): SignedForm<AccessForm>,
) -> AppResult<HttpResponse> {
    let (actor, org) = (user.actor.clone(), user.organization.id.clone());
    let expires = form.expires.trim();
    let body = TokenRequest {
        name: Some(form.name.clone()),
        scope: Some(form.scope.clone()),
        expires_at: (!expires.is_empty()).then(|| format!("{expires}T23:59:59Z")),
    };
    match blocking(&state, move |s| tokens::create(s, &actor, &org, body)).await {
        Ok(made) => {
            let once = Once {
                token: Some(made.token),
                secret: None,
            };
            page(&state, &req, &user, once, None, None).await
        }
        Err(e) => or_problem(&state, &req, &user, e).await,
    }
}

/// `POST /console/access/tokens/{id}/revoke`.
pub async fn revoke_token(
    state: web::Data<AppState>,
    id: web::Path<String>,
    SignedForm(user, _form): SignedForm<AccessForm>,
) -> AppResult<HttpResponse> {
    let (actor, org) = (user.actor.clone(), user.organization.id.clone());
    blocking(&state, move |s| tokens::revoke(s, &actor, &org, &id)).await?;
    Ok(see_other("/console/access?done=revoked#tokens"))
}

/// `POST /console/access/webhooks`: the secret is shown on the answer, once.
pub async fn create_webhook(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedForm(user, form): SignedForm<AccessForm>,
) -> AppResult<HttpResponse> {
    let actor = user.actor.clone();
    let body = NewWebhook {
        url: form.url.clone(),
        events: form.events(),
    };
    match blocking(&state, move |s| webhooks::create(s, &actor, body)).await {
        Ok(made) => {
            let once = Once {
                token: None,
                secret: Some(made.secret),
            };
            page(&state, &req, &user, once, None, None).await
        }
        Err(e) => or_problem(&state, &req, &user, e).await,
    }
}

/// `POST /console/access/webhooks/{id}/delete`.
pub async fn delete_webhook(
    state: web::Data<AppState>,
    id: web::Path<String>,
    SignedForm(user, _form): SignedForm<AccessForm>,
) -> AppResult<HttpResponse> {
    let actor = user.actor.clone();
    blocking(&state, move |s| webhooks::delete(s, &actor, &id)).await?;
    Ok(see_other("/console/access?done=deleted#webhooks"))
}

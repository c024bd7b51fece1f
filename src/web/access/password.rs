//! `GET/POST /console/password`: a signed-in person replaces the generated password the admin
//! gave them. The current password is asked again; other sessions end.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::error::{AppError, AppResult};
use crate::http::extract::blocking;
use crate::service::access::accounts::{self, SessionUser};
use crate::service::AppState;

use crate::web::page::{
    client_addr, render, Chrome, DoneQuery, Lang, SignedForm, SignedIn, SESSION_COOKIE,
};
use crate::web::words;

#[derive(Template)]
#[template(path = "password.html", config = "assets/askama.toml")]
struct PasswordPage {
    lang: Lang,
    chrome: Chrome,
    csrf_token: String,
    done: bool,
    error: Option<String>,
    error_field: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
    confirm_password: String,
}

fn page(
    req: &HttpRequest,
    user: &SessionUser,
    done: bool,
    error: Option<&AppError>,
) -> AppResult<HttpResponse> {
    let lang = Lang::of(req);
    let page = PasswordPage {
        lang,
        chrome: Chrome::new(req, Some(user)),
        csrf_token: user.csrf_token.clone(),
        done,
        error: error.map(|e| words::app_error(lang, e)),
        error_field: error.and_then(|e| e.field()).map(str::to_string),
    };
    let mut response = render(req, &page)?;
    if let Some(e) = error {
        *response.status_mut() = actix_web::ResponseError::status_code(e);
    }
    Ok(response)
}

pub async fn show(
    req: HttpRequest,
    SignedIn(user): SignedIn,
    query: web::Query<DoneQuery>,
) -> AppResult<HttpResponse> {
    page(&req, &user, query.done.is_some(), None)
}

pub async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedForm(user, form): SignedForm<PasswordForm>,
) -> AppResult<HttpResponse> {
    if form.new_password != form.confirm_password {
        let mismatch = AppError::invalid(
            "password_mismatch",
            "confirm_password",
            "the two new passwords differ",
        );
        return page(&req, &user, false, Some(&mismatch));
    }
    let token = req
        .cookie(SESSION_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    let who = user.clone();
    let client = client_addr(&req);
    let result = blocking(&state, move |s| {
        let (current, new) = (&form.current_password, &form.new_password);
        accounts::change_password(s, &who, &token, &client, current, new)
    })
    .await;
    match result {
        Ok(()) => Ok(crate::web::page::see_other("/console/password?done=1")),
        Err(e @ AppError::Invalid(_)) => page(&req, &user, false, Some(&e)),
        Err(e) => Err(e),
    }
}

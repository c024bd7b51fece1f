//! `GET/POST /login` and `POST /logout`. The sign-in form carries a CSRF token that must match
//! a cookie set with the form (no session exists yet); signing out needs the session's token.

use actix_web::cookie::Cookie;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::error::{AppError, AppResult};
use crate::http::extract::blocking;
use crate::service::access::accounts;
use crate::service::AppState;

use crate::web::page::{
    client_addr, cookie, render, see_other, Chrome, Lang, SignedForm, LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
};

#[derive(Template)]
#[template(path = "login.html", config = "assets/askama.toml")]
struct LoginPage {
    lang: Lang,
    chrome: Chrome,
    csrf_token: String,
    username: String,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    csrf_token: String,
    username: String,
    password: String,
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {}

fn login_page(
    state: &AppState,
    req: &HttpRequest,
    username: String,
    error: Option<String>,
) -> AppResult<HttpResponse> {
    let token = crate::web::form_token::issue(state, LOGIN_CSRF_COOKIE);
    let page = LoginPage {
        lang: Lang::of(req),
        chrome: Chrome::new(req, None),
        csrf_token: token.field,
        username,
        error,
    };
    let mut response = render(req, &page)?;
    response
        .add_cookie(&token.cookie)
        .map_err(|e| AppError::internal_from("cookie", e))?;
    Ok(response)
}

pub async fn show(state: web::Data<AppState>, req: HttpRequest) -> AppResult<HttpResponse> {
    login_page(&state, &req, String::new(), None)
}

pub async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<LoginForm>,
) -> AppResult<HttpResponse> {
    crate::web::form_token::check(&state, &req, LOGIN_CSRF_COOKIE, &form.csrf_token)?;
    let username = form.username.clone();
    let client = client_addr(&req);
    let result = blocking(&state, move |s| {
        accounts::sign_in(s, &client, &form.username, &form.password)
    })
    .await;
    match result {
        Ok(signed_in) => {
            let mut response = see_other("/console");
            response
                .add_cookie(&cookie(&state, SESSION_COOKIE, signed_in.token))
                .and_then(|()| response.add_removal_cookie(&Cookie::new(LOGIN_CSRF_COOKIE, "")))
                .map_err(|e| AppError::internal_from("cookie", e))?;
            Ok(response)
        }
        Err(e @ (AppError::Unauthorized(_) | AppError::Invalid(_) | AppError::Denied { .. })) => {
            let lang = Lang::of(&req);
            let message = match e {
                AppError::Denied { .. } => lang.pick(
                    "此账户已停用，请联系平台管理员。",
                    "This account is deactivated; ask the platform admin.",
                ),
                _ => lang.pick("用户名或密码错误。", "Wrong username or password."),
            };
            let mut response = login_page(&state, &req, username, Some(message.into()))?;
            *response.status_mut() = actix_web::ResponseError::status_code(&e);
            Ok(response)
        }
        Err(e) => Err(e),
    }
}

pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedForm(_user, _form): SignedForm<CsrfForm>,
) -> AppResult<HttpResponse> {
    if let Some(token) = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string()) {
        blocking(&state, move |s| accounts::sign_out(s, &token)).await?;
    }
    let mut response = see_other("/login");
    response
        .add_removal_cookie(&Cookie::new(SESSION_COOKIE, ""))
        .map_err(|e| AppError::internal_from("cookie", e))?;
    Ok(response)
}

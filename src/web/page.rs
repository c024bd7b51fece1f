//! What every page shares: the language (Chinese first, `?lang=en` switches and is
//! remembered in a cookie), the signed-in user from the session cookie, CSRF checks on forms,
//! and rendering with security headers.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use askama::Template;

use crate::domain::status::CertStatus;
use crate::error::{AppError, AppResult};
use crate::http::extract::blocking;
use crate::service::access::accounts::{self, SessionUser};
use crate::service::AppState;

/// The session cookie (HttpOnly, SameSite=Lax, Secure behind TLS).
pub const SESSION_COOKIE: &str = "certrail_session";
/// The cookie holding the sign-in form's CSRF token before there is a session.
pub const LOGIN_CSRF_COOKIE: &str = "certrail_login_csrf";
/// The cookie holding the CSRF token of an anonymous form (the problem report).
pub const FORM_CSRF_COOKIE: &str = "certrail_form_csrf";
const LANG_COOKIE: &str = "lang";

/// Page language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// `?lang=` if given, else the `lang` cookie, else Chinese.
    pub fn of(req: &HttpRequest) -> Self {
        let asked =
            query_lang(req).or_else(|| req.cookie(LANG_COOKIE).map(|c| c.value().to_string()));
        match asked.as_deref() {
            Some("en") => Lang::En,
            _ => Lang::Zh,
        }
    }

    pub fn pick<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    /// The `lang` attribute value.
    pub fn code(&self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn other(&self) -> Self {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    /// A certificate status in words.
    pub fn status(&self, status: &str) -> &'static str {
        let (zh, en) = CertStatus::parse(status).map_or(("未知", "Unknown"), CertStatus::words);
        self.pick(zh, en)
    }

    /// A consumer report's category in words.
    pub fn category(&self, code: &str) -> &'static str {
        crate::service::redress::complaints::CATEGORIES
            .iter()
            .find(|c| c.0 == code)
            .map_or("?", |c| self.pick(c.1, c.2))
    }

    /// The language's own name, for the switch.
    pub fn name(&self) -> &'static str {
        match self {
            Lang::Zh => "中文",
            Lang::En => "English",
        }
    }
}

fn query_lang(req: &HttpRequest) -> Option<String> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "lang")
        .map(|(_, v)| {
            if v.starts_with("en") {
                "en".into()
            } else {
                "zh".into()
            }
        })
}

/// The person signed in, as the page header shows them.
#[derive(Debug, Clone)]
pub struct Who {
    pub organization: String,
    pub username: String,
    pub csrf_token: String,
    /// The nav shows the sanctions page to regulators and producers.
    pub oversight: bool,
    /// The nav shows the reports page to regulators.
    pub regulator: bool,
    /// The nav shows the admin console to the platform admin.
    pub admin: bool,
}

impl From<&SessionUser> for Who {
    fn from(user: &SessionUser) -> Self {
        Who {
            organization: user.organization.name.clone(),
            username: user.username.clone(),
            csrf_token: user.csrf_token.clone(),
            oversight: matches!(user.organization.kind.as_str(), "regulator" | "producer"),
            regulator: user.organization.kind == "regulator",
            admin: matches!(user.actor, crate::service::Actor::Admin),
        }
    }
}

/// What the header of every page needs besides the language: who is signed in, and the link
/// that switches language while keeping the page (and its query, such as a label's `s`).
#[derive(Debug, Clone)]
pub struct Chrome {
    pub signed_in: Option<Who>,
    pub switch: String,
}

impl Chrome {
    pub fn new(req: &HttpRequest, user: Option<&SessionUser>) -> Self {
        Chrome {
            signed_in: user.map(Who::from),
            switch: lang_switch(req, Lang::of(req).other()),
        }
    }
}

/// The path and query of a same-site `Referer`, if any.
pub fn same_site_referer(req: &HttpRequest) -> Option<String> {
    let referer = req
        .headers()
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok())?;
    let info = req.connection_info();
    let host = info.host().split(':').next().unwrap_or_default();
    if referer.host_str() != Some(host) {
        return None;
    }
    Some(match referer.query() {
        Some(query) => format!("{}?{query}", referer.path()),
        None => referer.path().to_string(),
    })
}

/// The URL of this page in language `to`: a GET page keeps its path and query; after a form
/// post, the page the form was on (or the label's page, for a problem report).
fn lang_switch(req: &HttpRequest, to: Lang) -> String {
    let (path, query) = if req.method() == actix_web::http::Method::GET {
        (req.path().to_string(), req.query_string().to_string())
    } else {
        let page = same_site_referer(req).unwrap_or_else(|| {
            req.path().strip_suffix("/report").map_or_else(
                || req.path().to_string(),
                |label| format!("{label}?{}", req.query_string()),
            )
        });
        match page.split_once('?') {
            Some((path, query)) => (path.to_string(), query.to_string()),
            None => (page, String::new()),
        }
    };
    let mut kept = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if key != "lang" {
            kept.append_pair(&key, &value);
        }
    }
    kept.append_pair("lang", if to == Lang::En { "en" } else { "zh" });
    format!("{path}?{}", kept.finish())
}

/// A cookie that is HttpOnly, SameSite=Lax, path `/`, and Secure when served over TLS.
pub fn cookie(state: &AppState, name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.public_url.starts_with("https://"))
        .finish()
}

/// Renders a page with the headers every page gets; remembers a `?lang=` choice.
pub fn render(req: &HttpRequest, page: &impl Template) -> AppResult<HttpResponse> {
    let html = page
        .render()
        .map_err(|e| AppError::internal_from("template", e))?;
    let mut response = HttpResponse::Ok();
    html_headers(&mut response);
    if let Some(lang) = query_lang(req) {
        response.cookie(
            Cookie::build(LANG_COOKIE, lang)
                .path("/")
                .max_age(actix_web::cookie::time::Duration::days(365))
                .same_site(SameSite::Lax)
                .finish(),
        );
    }
    Ok(response.body(html))
}

/// Whether the client asked for JSON rather than a page.
pub fn wants_json(req: &HttpRequest) -> bool {
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    accept.contains("application/json") && !accept.trim_start().starts_with("text/html")
}

/// The client's address for rate limits: the socket's peer (a forwarded-for header is the
/// client's to forge).
pub use crate::http::extract::client_addr;

/// Content type, no caching of personal pages, and a CSP that allows only this origin.
pub fn html_headers(response: &mut actix_web::HttpResponseBuilder) {
    response
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Referrer-Policy", "same-origin"))
        .insert_header((
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; \
             frame-ancestors 'none'; form-action 'self'",
        ));
}

/// A 303 to `location` (after a form post, or to the sign-in page).
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// The signed-in user of a page; without a live session the page redirects to `/login`.
pub struct SignedIn(pub SessionUser);

impl FromRequest for SignedIn {
    type Error = actix_web::Error;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string());
        Box::pin(async move {
            let to_login =
                || actix_web::error::InternalError::from_response("sign in", see_other("/login"));
            let (Some(state), Some(token)) = (state, token) else {
                return Err(to_login().into());
            };
            match blocking(&state, move |s| accounts::session(s, &token)).await? {
                Some(user) => Ok(SignedIn(user)),
                None => Err(to_login().into()),
            }
        })
    }
}

/// `?done=…`: what the form just sent did, for the page it redirects to to say so.
#[derive(Debug, Default, serde::Deserialize)]
pub struct DoneQuery {
    pub done: Option<String>,
}

/// A form sent by a signed-in person, its CSRF token checked against the session's before the
/// handler runs: a handler that takes one cannot forget the check. Not signed in: to sign-in;
/// a token that does not check out: 403 [`form_expired`]; a body that is not the form: 400.
pub struct SignedForm<T>(pub SessionUser, pub T);

/// The CSRF field every signed-in form carries, read apart from the form's own fields.
#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf_token: String,
}

impl<T: serde::de::DeserializeOwned + 'static> FromRequest for SignedForm<T> {
    type Error = actix_web::Error;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let user = SignedIn::from_request(req, &mut Payload::None);
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let SignedIn(user) = user.await?;
            let body = body.await?;
            let sent: CsrfField =
                serde_urlencoded::from_bytes(&body).map_err(actix_web::error::ErrorBadRequest)?;
            check_csrf(&user.csrf_token, &sent.csrf_token)?;
            let form =
                serde_urlencoded::from_bytes(&body).map_err(actix_web::error::ErrorBadRequest)?;
            Ok(SignedForm(user, form))
        })
    }
}

/// Refuses a signed-in form whose CSRF token is not the session's (anonymous forms:
/// [`crate::web::form_token`]).
pub fn check_csrf(expected: &str, sent: &str) -> AppResult<()> {
    use subtle::ConstantTimeEq;
    let same: bool = expected.as_bytes().ct_eq(sent.as_bytes()).into();
    if same && !expected.is_empty() {
        Ok(())
    } else {
        Err(form_expired())
    }
}

/// 403 for a form whose CSRF token does not check out.
pub fn form_expired() -> AppError {
    AppError::Forbidden(
        "the form expired or did not come from this site; reload the page and try again".into(),
    )
}

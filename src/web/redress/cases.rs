//! 先行赔付 pages. For consumers (no account): `GET/POST /v/{id}/claim` asks for compensation
//! from the producer or a seller that took the goods in, `GET /cases/{number}` follows the case
//! and confirms the answer. For organizations: `/console/cases`, where the named party accepts
//! and answers and a regulator decides overdue cases of its region.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::db::models::Certificate;
use crate::error::{AppError, AppResult};
use crate::http::extract::blocking;
use crate::service::redress::cases::{self, CaseAnswer, CaseView, NewCase, PartyCaseView};
use crate::service::redress::complaints::{self, NewComplaint, CATEGORIES};
use crate::service::{checked_id, AppState};

use crate::web::form_token;
use crate::web::page::{
    client_addr, render, see_other, Chrome, Lang, SignedForm, SignedIn, FORM_CSRF_COOKIE,
};
use crate::web::words;

#[derive(Template)]
#[template(path = "claim.html", config = "assets/askama.toml")]
struct ClaimPage {
    lang: Lang,
    chrome: Chrome,
    action: String,
    back: String,
    csrf_token: String,
    categories: &'static [(&'static str, &'static str, &'static str)],
    /// (id, name): the producer first, then the sellers.
    respondents: Vec<(String, String)>,
    problem: Option<String>,
}

#[derive(Template)]
#[template(path = "case.html", config = "assets/askama.toml")]
struct CasePage {
    lang: Lang,
    chrome: Chrome,
    /// The number as the consumer holds it (from the address).
    number: String,
    case: CaseView,
    csrf_token: String,
    problem: Option<String>,
}

#[derive(Template)]
#[template(path = "cases.html", config = "assets/askama.toml")]
struct CasesPage {
    lang: Lang,
    chrome: Chrome,
    csrf_token: String,
    cases: Vec<PartyCaseView>,
    /// The signed-in organization, to tell which cases it answers.
    me: String,
    regulator: bool,
    problem: Option<String>,
}

/// The claim form's fields.
#[derive(Debug, Deserialize)]
pub struct ClaimForm {
    csrf_token: String,
    category: String,
    message: String,
    contact: Option<String>,
    respondent_id: String,
    claim: String,
}

#[derive(Debug, Deserialize)]
pub struct LabelQuery {
    s: Option<String>,
}

fn label_back(id: &str, query: &LabelQuery) -> String {
    match &query.s {
        Some(s) => format!("/v/{id}?s={}", urlencode(s)),
        None => format!("/v/{id}"),
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn claim_page(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    id: String,
    query: &LabelQuery,
    problem: Option<&AppError>,
) -> AppResult<HttpResponse> {
    let target = id.clone();
    let respondents = blocking(state, move |s| {
        let mut conn = s.db.reader()?;
        let cert = Certificate::find(&mut conn, checked_id(&target, "certificate")?)?
            .ok_or_else(|| AppError::not_found("certificate"))?;
        cases::respondents(&mut conn, &cert)
    })
    .await?;
    let lang = Lang::of(req);
    let token = form_token::issue(state, FORM_CSRF_COOKIE);
    let page = ClaimPage {
        lang,
        chrome: Chrome::new(req, None),
        action: format!(
            "/v/{id}/claim{}",
            query
                .s
                .as_ref()
                .map(|s| format!("?s={}", urlencode(s)))
                .unwrap_or_default()
        ),
        back: label_back(&id, query),
        csrf_token: token.field,
        categories: &CATEGORIES,
        respondents,
        problem: problem.map(|e| words::app_error(lang, e)),
    };
    let mut rendered = render(req, &page)?;
    if let Some(e) = problem {
        *rendered.status_mut() = actix_web::ResponseError::status_code(e);
    }
    rendered
        .add_cookie(&token.cookie)
        .map_err(|e| AppError::internal_from("cookie", e))?;
    Ok(rendered)
}

/// `GET /v/{id}/claim`: the form asking for 先行赔付.
pub async fn claim_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    query: web::Query<LabelQuery>,
) -> AppResult<HttpResponse> {
    claim_page(&state, &req, id.into_inner(), &query, None).await
}

/// `POST /v/{id}/claim`: the report and its case, then the case's page.
pub async fn claim_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    query: web::Query<LabelQuery>,
    form: web::Form<ClaimForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    form_token::check(&state, &req, FORM_CSRF_COOKIE, &form.csrf_token)?;
    let client = client_addr(&req);
    let id = id.into_inner();
    let target = id.clone();
    let new = NewComplaint {
        category: form.category,
        message: form.message,
        contact: form.contact.filter(|c| !c.trim().is_empty()),
    };
    let case = NewCase {
        respondent_id: form.respondent_id,
        claim: form.claim,
    };
    let opened = blocking(&state, move |s| {
        complaints::report(s, &client, &target, None, new, Some(case))
    })
    .await;
    match opened {
        Ok(Some(case)) => Ok(see_other(&format!(
            "/cases/{}",
            case.number.unwrap_or_default()
        ))),
        Ok(None) => Err(AppError::internal("a claim without its case")),
        Err(e @ AppError::Invalid(_)) => claim_page(&state, &req, id, &query, Some(&e)).await,
        Err(e) => Err(e),
    }
}

#[derive(Debug, Deserialize)]
pub struct Lookup {
    number: Option<String>,
}

/// `GET /cases?number=…`: the lookup form on the label page leads here.
pub async fn lookup(query: web::Query<Lookup>) -> AppResult<HttpResponse> {
    let number = query
        .number
        .as_deref()
        .unwrap_or("")
        .trim()
        .to_ascii_uppercase();
    if number.is_empty()
        || number.len() > 20
        || !number
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(AppError::not_found("case"));
    }
    Ok(see_other(&format!("/cases/{number}")))
}

async fn case_page(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    number: String,
    problem: Option<&AppError>,
) -> AppResult<HttpResponse> {
    let shown = number.trim().to_ascii_uppercase();
    let case = blocking(state, move |s| cases::get(s, &number)).await?;
    let lang = Lang::of(req);
    let token = form_token::issue(state, FORM_CSRF_COOKIE);
    let page = CasePage {
        lang,
        chrome: Chrome::new(req, None),
        number: shown,
        case,
        csrf_token: token.field,
        problem: problem.map(|e| words::app_error(lang, e)),
    };
    let mut rendered = render(req, &page)?;
    if let Some(e) = problem {
        *rendered.status_mut() = actix_web::ResponseError::status_code(e);
    }
    rendered
        .add_cookie(&token.cookie)
        .map_err(|e| AppError::internal_from("cookie", e))?;
    Ok(rendered)
}

/// `GET /cases/{number}`: the consumer follows the case.
pub async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    number: web::Path<String>,
) -> AppResult<HttpResponse> {
    case_page(&state, &req, number.into_inner(), None).await
}

#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    csrf_token: String,
}

/// `POST /cases/{number}/confirm`: the consumer accepts the answer; the case closes.
pub async fn confirm(
    state: web::Data<AppState>,
    req: HttpRequest,
    number: web::Path<String>,
    form: web::Form<CsrfOnly>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    form_token::check(&state, &req, FORM_CSRF_COOKIE, &form.csrf_token)?;
    let number = number.into_inner();
    let target = number.clone();
    match blocking(&state, move |s| cases::confirm(s, &target)).await {
        Ok(_) => Ok(see_other(&format!(
            "/cases/{}",
            number.trim().to_ascii_uppercase()
        ))),
        Err(e @ AppError::Conflict { .. }) => case_page(&state, &req, number, Some(&e)).await,
        Err(e) => Err(e),
    }
}

async fn console_page(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    user: &crate::service::access::accounts::SessionUser,
    problem: Option<&AppError>,
) -> AppResult<HttpResponse> {
    let actor = user.actor.clone();
    let list = blocking(state, move |s| cases::list(s, &actor)).await?;
    let lang = Lang::of(req);
    let page = CasesPage {
        lang,
        chrome: Chrome::new(req, Some(user)),
        csrf_token: user.csrf_token.clone(),
        cases: list,
        me: user.organization.id.clone(),
        regulator: user.organization.kind == "regulator",
        problem: problem.map(|e| words::app_error(lang, e)),
    };
    let mut rendered = render(req, &page)?;
    if let Some(e) = problem {
        *rendered.status_mut() = actix_web::ResponseError::status_code(e);
    }
    Ok(rendered)
}

/// `GET /console/cases`.
pub async fn console(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedIn(user): SignedIn,
) -> AppResult<HttpResponse> {
    console_page(&state, &req, &user, None).await
}

#[derive(Debug, Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    outcome: String,
    /// Yuan, as typed (e.g. `39.80`).
    #[serde(default)]
    amount: String,
    #[serde(default)]
    text: String,
}

/// Yuan as typed → fen; `None` for an empty field, an error for anything else unreadable.
fn fen(amount: &str) -> AppResult<Option<i64>> {
    let amount = amount.trim();
    if amount.is_empty() {
        return Ok(None);
    }
    let invalid = || {
        AppError::invalid(
            "invalid_amount",
            "amount_fen",
            "write the amount in yuan, e.g. 39.80",
        )
    };
    let (yuan, cents) = amount.split_once('.').unwrap_or((amount, ""));
    if yuan.is_empty()
        || yuan.len() > 9
        || cents.len() > 2
        || !yuan
            .chars()
            .chain(cents.chars())
            .all(|c| c.is_ascii_digit())
    {
        return Err(invalid());
    }
    let yuan: i64 = yuan.parse().map_err(|_| invalid())?;
    let cents: i64 = format!("{cents:0<2}").parse().map_err(|_| invalid())?;
    Ok(Some(yuan * 100 + cents))
}

/// `POST /console/cases/{id}/{accept|answer|decision}`.
pub async fn act(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    SignedForm(user, form): SignedForm<AnswerForm>,
) -> AppResult<HttpResponse> {
    let (id, step) = path.into_inner();
    let actor = user.actor.clone();
    let result = match fen(&form.amount) {
        Err(e) => Err(e),
        Ok(amount_fen) => {
            let answer = CaseAnswer {
                outcome: form.outcome,
                amount_fen,
                text: form.text,
            };
            blocking(&state, move |s| match step.as_str() {
                "accept" => cases::accept(s, &actor, &id),
                "answer" => cases::answer(s, &actor, &id, answer),
                "decision" => cases::decide(s, &actor, &id, answer),
                _ => Err(AppError::not_found("page")),
            })
            .await
        }
    };
    match result {
        Ok(_) => Ok(see_other("/console/cases")),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict { .. })) => {
            console_page(&state, &req, &user, Some(&e)).await
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::fen;

    #[test]
    fn yuan_become_fen() {
        assert_eq!(fen("").unwrap(), None);
        assert_eq!(fen("39.8").unwrap(), Some(3980));
        assert_eq!(fen("39.80").unwrap(), Some(3980));
        assert_eq!(fen("0.05").unwrap(), Some(5));
        assert_eq!(fen("12").unwrap(), Some(1200));
        for bad in ["-1", "1.234", "1e3", ".5", "abc", "1234567890"] {
            assert!(fen(bad).is_err(), "{bad}");
        }
    }
}

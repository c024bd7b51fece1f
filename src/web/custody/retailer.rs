//! The receivers' console (retailers, wholesalers, market operators): check a label at goods
//! intake (camera where the browser decodes QR codes, otherwise a scanner or paste), record
//! or refuse the intake in one tap, ship goods on, and see the recalls that touch its stock.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::domain::label;
use crate::domain::verdict::Verdict;
use crate::error::{AppError, AppResult};
use crate::http::extract::blocking;
use crate::service::access::accounts::SessionUser;
use crate::service::custody::events::{self, NewEvent};
use crate::service::verify::{verify, Label, Source};
use crate::service::AppState;
use crate::service::{custody::legs, issuance::promise, oversight::recalls};

use crate::web::page::{render, see_other, Chrome, Lang, SignedForm};
use crate::web::words;

/// What checking a scanned label found.
struct Check {
    verdict: String,
    tone: &'static str,
    product: String,
    batch: String,
    producer: String,
    error: Option<String>,
    can_record: bool,
}

#[derive(Template)]
#[template(path = "retailer.html", config = "assets/askama.toml")]
struct RetailerPage {
    lang: Lang,
    chrome: Chrome,
    csrf_token: String,
    notice: Option<String>,
    label: String,
    check: Option<Check>,
    /// (id, when · batch · reason, acknowledged by this retailer).
    recalls: Vec<(String, String, bool)>,
    legs: legs::Legs,
    claims: Vec<crate::web::custody::claims::ClaimLine>,
    kept: Vec<promise::Kept>,
}

#[derive(Debug, Deserialize)]
pub struct IntakeQuery {
    label: Option<String>,
    done: Option<String>,
}

fn check_label(state: &AppState, text: &str, lang: Lang) -> AppResult<Check> {
    let scanned = match label::parse("label", text) {
        Ok(scanned) => scanned,
        Err(e) => {
            return Ok(Check {
                verdict: lang.pick("无法识别", "Not a certificate label").into(),
                tone: "unknown",
                product: String::new(),
                batch: String::new(),
                producer: String::new(),
                error: Some(words::error(lang, e.code, &e.message)),
                can_record: false,
            })
        }
    };
    let answer = verify(
        state,
        &Label {
            id: &scanned.id,
            serial: scanned.serial,
            signature: scanned.signature.as_deref(),
        },
        Source::Check,
    )?;
    let words = words::verdict(answer.verdict);
    let payload = answer.payload();
    Ok(Check {
        verdict: match lang {
            Lang::Zh => format!("{} {}", words.zh, words.en),
            Lang::En => words.en.to_string(),
        },
        tone: words.tone,
        product: payload
            .as_ref()
            .map(|p| p.product.name.clone())
            .unwrap_or_default(),
        batch: payload
            .as_ref()
            .map(|p| p.batch.no.clone())
            .unwrap_or_default(),
        producer: payload
            .as_ref()
            .map(|p| p.producer.name.clone())
            .unwrap_or_default(),
        error: None,
        can_record: answer.verdict != Verdict::Unknown,
    })
}

/// The retailer's home page (`/console` for a retailer).
pub async fn home(
    state: web::Data<AppState>,
    query: IntakeQuery,
    req: HttpRequest,
    user: SessionUser,
) -> AppResult<HttpResponse> {
    let lang = Lang::of(&req);
    let actor = user.actor.clone();
    let label = query.label.clone().unwrap_or_default();
    let text = label.clone();
    let org = user.organization.id.clone();
    let (check, recalls, legs, kept, claims) = blocking(&state, move |s| {
        let check = match text.trim() {
            "" => None,
            t => Some(check_label(s, t, lang)?),
        };
        let recalls = recalls::list(s, &actor)?
            .into_iter()
            .map(|r| {
                let acknowledged = r
                    .retailers
                    .iter()
                    .any(|x| x.id == org && x.acknowledged_at.is_some());
                let text = format!(
                    "{} · {} · {}",
                    r.created_at,
                    r.batch_no
                        .unwrap_or_else(|| lang.pick("全部批次", "all batches").into()),
                    r.reason
                );
                (r.id, text, acknowledged)
            })
            .collect();
        let legs = legs::legs(&mut *s.db.reader()?, &org)?;
        let kept = promise::keeping_list(s, &actor)?;
        let claims = crate::web::custody::claims::for_console(s, &actor)?;
        Ok((check, recalls, legs, kept, claims))
    })
    .await?;
    let notice = words::done(lang, query.done.as_deref());
    let page = RetailerPage {
        lang,
        chrome: Chrome::new(&req, Some(&user)),
        csrf_token: user.csrf_token.clone(),
        notice,
        label,
        check,
        recalls,
        legs,
        claims,
        kept,
    };
    render(&req, &page)
}

#[derive(Debug, Deserialize)]
pub struct IntakeForm {
    label_url: String,
}

/// `POST /console/intake`: records a `received` event with the scanned label.
pub async fn record(
    state: web::Data<AppState>,
    SignedForm(user, form): SignedForm<IntakeForm>,
) -> AppResult<HttpResponse> {
    let scanned = label::parse("label_url", &form.label_url).map_err(AppError::from)?;
    let actor = user.actor.clone();
    let recorded = blocking(&state, move |s| {
        let event = NewEvent {
            kind: "received".into(),
            serial: scanned.serial,
            label_url: Some(form.label_url),
            ..Default::default()
        };
        events::record(s, &actor, &scanned.id, event)
    })
    .await?;
    // An intake nobody shipped to waits for its source's confirmation.
    Ok(see_other(match recorded.claim {
        Some(_) => "/console?done=claimed",
        None => "/console?done=received",
    }))
}

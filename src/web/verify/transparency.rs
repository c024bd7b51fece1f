//! `/transparency`: the public log in words (what it is, its size, key and witnesses, what it
//! proves and what it cannot), how an inspector checks labels with no network, and how a
//! regulator runs a witness.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use crate::error::AppResult;
use crate::http::extract::blocking;
use crate::service::tlog::witnesses::{self, LogInfo};
use crate::service::AppState;

use crate::web::page::{render, Chrome, Lang};

#[derive(Template)]
#[template(path = "transparency.html", config = "assets/askama.toml")]
struct TransparencyPage {
    lang: Lang,
    chrome: Chrome,
    info: LogInfo,
    checkpoint: String,
    public_url: String,
}

/// `GET /transparency`.
pub async fn show(state: web::Data<AppState>, req: HttpRequest) -> AppResult<HttpResponse> {
    let (info, checkpoint) = blocking(&state, |s| {
        let mut conn = s.db.reader()?;
        let info = witnesses::info_on(s, &mut conn)?;
        let checkpoint = witnesses::served_checkpoint(&mut conn)?
            .unwrap_or_else(|| s.log.sign_checkpoint(0, tlog_tiles::EMPTY_HASH));
        Ok((info, checkpoint))
    })
    .await?;
    let page = TransparencyPage {
        lang: Lang::of(&req),
        chrome: Chrome::new(&req, None),
        info,
        checkpoint,
        public_url: state.config.public_url.clone(),
    };
    render(&req, &page)
}

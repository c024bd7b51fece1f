//! `GET /console`: the signed-in organization's home page.

use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use crate::error::AppResult;

use super::page::{render, Lang, SignedIn, Who};

#[derive(Template)]
#[template(path = "console.html", config = "assets/askama.toml")]
struct ConsolePage {
    lang: Lang,
    signed_in: Option<Who>,
    organization: String,
    role: String,
    credit_code: String,
    region_code: String,
}

pub async fn home(SignedIn(user): SignedIn, req: HttpRequest) -> AppResult<HttpResponse> {
    let org = &user.organization;
    let page = ConsolePage {
        lang: Lang::of(&req),
        signed_in: Some(Who::from(&user)),
        organization: org.name.clone(),
        role: org.kind.clone(),
        credit_code: org.credit_code.clone(),
        region_code: org.region_code.clone(),
    };
    render(&req, &page)
}

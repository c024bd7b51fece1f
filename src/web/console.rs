//! `GET /console`: the signed-in organization's home page; producers get their console.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use crate::domain::role::OrgKind;
use crate::error::AppResult;
use crate::service::AppState;

use super::page::{render, Lang, SignedIn, Who};
use super::producer;

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

pub async fn home(
    state: web::Data<AppState>,
    SignedIn(user): SignedIn,
    req: HttpRequest,
    query: web::Query<producer::ListQuery>,
) -> AppResult<HttpResponse> {
    if user.organization.kind() == OrgKind::Producer {
        return producer::home(state, req, user, query.into_inner()).await;
    }
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

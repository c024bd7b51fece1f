//! `GET /console`: the signed-in organization's home page, by role.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use crate::domain::role::OrgKind;
use crate::error::AppResult;
use crate::service::AppState;

use crate::web::page::{render, Chrome, Lang, SignedIn};
use crate::web::{custody::retailer, issuance::producer, oversight::regulator};

#[derive(Template)]
#[template(path = "console.html", config = "assets/askama.toml")]
struct ConsolePage {
    lang: Lang,
    chrome: Chrome,
    organization: String,
    role: String,
    credit_code: String,
    region_code: String,
}

/// The query string as the role's page reads it (unknown parameters are ignored).
fn query<T: serde::de::DeserializeOwned>(req: &HttpRequest) -> AppResult<T> {
    crate::http::params::parse_query(req.query_string())
}

pub async fn home(
    state: web::Data<AppState>,
    SignedIn(user): SignedIn,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    if matches!(user.actor, crate::service::Actor::Admin) {
        return Ok(crate::web::page::see_other("/console/admin"));
    }
    match user.organization.kind() {
        OrgKind::Producer => return producer::home(state, query(&req)?, req, user).await,
        OrgKind::Retailer | OrgKind::Wholesaler | OrgKind::MarketOperator => {
            return retailer::home(state, query(&req)?, req, user).await
        }
        OrgKind::Regulator => return regulator::home(state, query(&req)?, req, user).await,
        _ => {}
    }
    let org = &user.organization;
    let page = ConsolePage {
        lang: Lang::of(&req),
        chrome: Chrome::new(&req, Some(&user)),
        organization: org.name.clone(),
        role: org.kind.clone(),
        credit_code: org.credit_code.clone(),
        region_code: org.region_code.clone(),
    };
    render(&req, &page)
}

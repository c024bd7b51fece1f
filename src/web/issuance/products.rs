//! `GET/POST /console/products`: a producer adds a product (name, model, standard, GTIN) from
//! its console; a broken rule comes back under its field with the values kept.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::error::{AppError, AppResult};
use crate::http::extract::blocking;
use crate::service::access::accounts::SessionUser;
use crate::service::issuance::products::{self, NewProduct};
use crate::service::AppState;

use crate::web::form::{Field, FormError, Problem};
use crate::web::page::{render, see_other, Chrome, Lang, SignedForm, SignedIn};

#[derive(Debug, Default, Deserialize)]
pub struct ProductForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    model: String,
    #[serde(default)]
    standard: String,
    #[serde(default)]
    gtin: String,
}

#[derive(Template)]
#[template(path = "product.html", config = "assets/askama.toml")]
struct ProductPage {
    lang: Lang,
    chrome: Chrome,
    csrf_token: String,
    fields: Vec<Field>,
    problem: Problem,
}

fn fields(form: &ProductForm) -> Vec<Field> {
    vec![
        Field::new(
            "name",
            ("产品名称", "Product name"),
            "text",
            &form.name,
            true,
        ),
        Field::new("model", ("规格型号", "Model"), "text", &form.model, true),
        Field::new(
            "standard",
            ("执行标准", "Standard (e.g. GB/T 23586-2022)"),
            "text",
            &form.standard,
            true,
        ),
        Field::new(
            "gtin",
            ("商品条码（可选）", "GTIN (optional)"),
            "text",
            &form.gtin,
            false,
        ),
    ]
}

fn page(
    req: &HttpRequest,
    user: &SessionUser,
    form: &ProductForm,
    error: Option<FormError>,
) -> AppResult<HttpResponse> {
    let lang = Lang::of(req);
    let fields = fields(form);
    let page = ProductPage {
        lang,
        chrome: Chrome::new(req, Some(user)),
        csrf_token: user.csrf_token.clone(),
        problem: Problem::new(lang, &fields, &[], error),
        fields,
    };
    let mut response = render(req, &page)?;
    if page.problem.is_some() {
        *response.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

pub async fn show(req: HttpRequest, SignedIn(user): SignedIn) -> AppResult<HttpResponse> {
    page(&req, &user, &ProductForm::default(), None)
}

pub async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedForm(user, form): SignedForm<ProductForm>,
) -> AppResult<HttpResponse> {
    let new = NewProduct {
        name: form.name.clone(),
        model: form.model.clone(),
        standard: form.standard.clone(),
        gtin: Some(form.gtin.trim().to_string()).filter(|g| !g.is_empty()),
        category: None,
        marks: None,
    };
    let actor = user.actor.clone();
    match blocking(&state, move |s| products::create(s, &actor, new)).await {
        Ok(_) => Ok(see_other("/console?done=product#products")),
        Err(e @ AppError::Invalid(_)) => page(&req, &user, &form, Some(FormError::from(&e))),
        Err(e) => Err(e),
    }
}

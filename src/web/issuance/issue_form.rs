//! Issuing from the console: the form with its inspection item rows, inline validation
//! messages on the field they concern, and the certificate it signs.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use std::collections::HashMap;

use serde::Deserialize;

use crate::domain::payload::InspectionItem;
use crate::error::{AppError, AppResult};
use crate::http::extract::blocking;
use crate::service::access::accounts::SessionUser;
use crate::service::issuance::issue::{self, IssueRequest};
use crate::service::issuance::products::{self, ProductView};
use crate::service::AppState;

use crate::web::form::{Field, FormError, Problem};
use crate::web::page::{render, see_other, Chrome, Lang, SignedForm, SignedIn};

#[derive(Debug, Default, Deserialize)]
pub struct IssueForm {
    #[serde(default)]
    product_id: String,
    #[serde(default)]
    batch_no: String,
    #[serde(default)]
    quantity: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    production_date: String,
    #[serde(default)]
    inspection_date: String,
    #[serde(default)]
    inspector: String,
    #[serde(default)]
    lab_report_no: String,
    #[serde(default)]
    expiry_date: String,
    #[serde(default)]
    units: String,
    /// The inspection item rows: `items.{row}.{name|requirement|measured}`.
    #[serde(flatten)]
    items: HashMap<String, String>,
}

/// Inspection item rows the form offers, and the parts of each, with their labels.
const ITEM_ROWS: usize = 3;
const ITEM_PARTS: [&str; 3] = ["name", "requirement", "measured"];
const ITEM_LABELS: [[(&str, &str); 3]; ITEM_ROWS] = [
    [
        ("项目 1", "Item 1"),
        ("要求 1", "Requirement 1"),
        ("实测 1", "Measured 1"),
    ],
    [
        ("项目 2", "Item 2"),
        ("要求 2", "Requirement 2"),
        ("实测 2", "Measured 2"),
    ],
    [
        ("项目 3", "Item 3"),
        ("要求 3", "Requirement 3"),
        ("实测 3", "Measured 3"),
    ],
];

impl IssueForm {
    fn item(&self, row: usize, part: &str) -> &str {
        self.items
            .get(&format!("items.{row}.{part}"))
            .map_or("", String::as_str)
    }

    /// The rows with anything in them, as passed items, and which row each came from.
    fn inspection_items(&self) -> (Vec<InspectionItem>, Vec<usize>) {
        (0..ITEM_ROWS)
            .filter(|&row| {
                ITEM_PARTS
                    .iter()
                    .any(|p| !self.item(row, p).trim().is_empty())
            })
            .map(|row| {
                let item = InspectionItem {
                    name: self.item(row, "name").to_string(),
                    requirement: self.item(row, "requirement").to_string(),
                    measured: self.item(row, "measured").to_string(),
                    verdict: "pass".into(),
                };
                (item, row)
            })
            .unzip()
    }
}

fn item_fields(form: &IssueForm) -> Vec<Field> {
    (0..ITEM_ROWS)
        .flat_map(|row| {
            ITEM_PARTS
                .iter()
                .zip(ITEM_LABELS[row])
                .map(move |(part, label)| {
                    let name = format!("items.{row}.{part}");
                    let value = form.item(row, part).to_string();
                    Field::new(name, label, "text", &value, false)
                })
        })
        .collect()
}

#[derive(Template)]
#[template(path = "issue.html", config = "assets/askama.toml")]
struct IssuePage {
    lang: Lang,
    chrome: Chrome,
    csrf_token: String,
    products: Vec<ProductView>,
    form: IssueForm,
    fields: Vec<Field>,
    item_fields: Vec<Field>,
    problem: Problem,
}

fn fields(form: &IssueForm) -> Vec<Field> {
    vec![
        Field::new(
            "batch_no",
            ("批号", "Batch number"),
            "text",
            &form.batch_no,
            true,
        ),
        Field::new(
            "quantity",
            ("数量", "Quantity"),
            "number",
            &form.quantity,
            true,
        ),
        Field::new("unit", ("单位", "Unit"), "text", &form.unit, true),
        Field::new(
            "production_date",
            ("生产日期", "Production date"),
            "date",
            &form.production_date,
            true,
        ),
        Field::new(
            "inspection_date",
            ("检验日期", "Inspection date"),
            "date",
            &form.inspection_date,
            true,
        ),
        Field::new(
            "inspector",
            ("检验员", "Inspector"),
            "text",
            &form.inspector,
            true,
        ),
        Field::new(
            "lab_report_no",
            ("检验报告编号（可选）", "Lab report no. (optional)"),
            "text",
            &form.lab_report_no,
            false,
        ),
        Field::new(
            "expiry_date",
            ("保质期至（可选）", "Expiry date (optional)"),
            "date",
            &form.expiry_date,
            false,
        ),
        Field::new(
            "units",
            ("单品码数量（可选）", "Unit labels (optional)"),
            "number",
            &form.units,
            false,
        ),
    ]
}

async fn issue_page(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    user: &SessionUser,
    form: IssueForm,
    error: Option<FormError>,
) -> AppResult<HttpResponse> {
    let lang = Lang::of(req);
    let actor = user.actor.clone();
    let products = blocking(state, move |s| products::list_own(s, &actor)).await?;
    let fields = fields(&form);
    let item_fields = item_fields(&form);
    let product = [("product_id", "产品", "Product")];
    let problem = Problem::new(lang, fields.iter().chain(&item_fields), &product, error);
    let page = IssuePage {
        lang,
        chrome: Chrome::new(req, Some(user)),
        csrf_token: user.csrf_token.clone(),
        products,
        fields,
        item_fields,
        form,
        problem,
    };
    let mut response = render(req, &page)?;
    if page.problem.is_some() {
        *response.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

pub async fn issue_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedIn(user): SignedIn,
) -> AppResult<HttpResponse> {
    issue_page(&state, &req, &user, IssueForm::default(), None).await
}

/// `items.{k}.{part}` of the k-th item sent, as the form row it came from.
fn item_row_field(field: &str, rows: &[usize]) -> String {
    let mut parts = field.splitn(3, '.');
    match (
        parts.next(),
        parts.next().and_then(|k| k.parse::<usize>().ok()),
        parts.next(),
    ) {
        (Some("items"), Some(k), Some(part)) if k < rows.len() => {
            format!("items.{}.{part}", rows[k])
        }
        _ => field.to_string(),
    }
}

/// A whole number from a form field.
fn number(field: &str, value: &str) -> Result<Option<i64>, FormError> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    value
        .trim()
        .parse()
        .map(Some)
        .map_err(|_| FormError::not_a_number(field))
}

pub async fn issue_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    SignedForm(user, form): SignedForm<IssueForm>,
) -> AppResult<HttpResponse> {
    let optional = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
    let (items, rows) = form.inspection_items();
    let numbers =
        number("quantity", &form.quantity).and_then(|q| Ok((q, number("units", &form.units)?)));
    let (quantity, units) = match numbers {
        Ok(n) => n,
        Err(error) => return issue_page(&state, &req, &user, form, Some(error)).await,
    };
    let request = IssueRequest {
        product_id: form.product_id.clone(),
        batch_no: form.batch_no.clone(),
        quantity: quantity.unwrap_or(0),
        unit: form.unit.clone(),
        production_date: form.production_date.clone(),
        inspection_date: form.inspection_date.clone(),
        inspector: form.inspector.clone(),
        result: "pass".into(),
        items: Some(items).filter(|i| !i.is_empty()),
        lab_report_no: optional(&form.lab_report_no),
        expiry_date: optional(&form.expiry_date),
        units,
        lab_id: None,
    };
    let actor = user.actor.clone();
    match blocking(&state, move |s| issue::issue(s, &actor, request)).await {
        Ok(issued) => Ok(see_other(&format!(
            "/console/certificates/{}?done=issued",
            issued.id
        ))),
        Err(e @ (AppError::Invalid(_) | AppError::NotFound(_) | AppError::Forbidden(_))) => {
            let mut error = FormError::from(&e);
            // The service counts the rows it was sent; the form names the row shown.
            error.field = error.field.map(|f| item_row_field(&f, &rows));
            issue_page(&state, &req, &user, form, Some(error)).await
        }
        Err(e) => Err(e),
    }
}

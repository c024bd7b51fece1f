//! Producers register the products they certify.

use serde::{Deserialize, Serialize};

use crate::crypto::random::new_id;
use crate::db::models::{now, Product};
use crate::domain::payload::Mark;
use crate::domain::role::OrgKind;
use crate::domain::{gtin, validate};
use crate::error::{AppError, AppResult};

use crate::service::{checked_id, Actor, AppState};

/// `POST /api/v1/products`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProduct {
    #[schema(value_type = crate::domain::request::Text200)]
    pub name: String,
    /// Model or specification (规格型号).
    #[schema(value_type = crate::domain::request::Text100)]
    pub model: String,
    /// Standard executed (执行标准), e.g. `GB/T 23586-2022` or `Q/CDDS 0001S-2024`.
    #[schema(value_type = crate::domain::request::Text100)]
    pub standard: String,
    pub gtin: Option<String>,
    #[schema(value_type = Option<crate::domain::request::OptionalText100>)]
    pub category: Option<String>,
    pub marks: Option<Vec<Mark>>,
}

/// A product as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProductView {
    pub id: String,
    pub organization_id: String,
    pub name: String,
    pub model: String,
    pub standard: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gtin: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    pub marks: Vec<Mark>,
}

impl From<Product> for ProductView {
    fn from(p: Product) -> Self {
        Self {
            marks: parse_marks(&p.marks),
            id: p.id,
            organization_id: p.organization_id,
            name: p.name,
            model: p.model,
            standard: p.standard,
            gtin: p.gtin,
            category: p.category,
        }
    }
}

/// The marks stored with a product (a JSON array written by [`create`]).
pub fn parse_marks(stored: &str) -> Vec<Mark> {
    serde_json::from_str(stored).unwrap_or_default()
}

fn validate_marks(marks: Vec<Mark>) -> AppResult<Vec<Mark>> {
    if marks.len() > 20 {
        return Err(AppError::invalid("too_many", "marks", "at most 20 marks"));
    }
    marks
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            Ok(Mark {
                scheme: validate::text(&format!("marks.{i}.scheme"), &m.scheme, 50)?,
                cert_no: validate::text(&format!("marks.{i}.cert_no"), &m.cert_no, 64)?,
            })
        })
        .collect()
}

/// Producer only: registers a product of the caller's organization.
pub fn create(state: &AppState, actor: &Actor, input: NewProduct) -> AppResult<ProductView> {
    let org = actor.require_kind(&[OrgKind::Producer])?;
    let marks = validate_marks(input.marks.unwrap_or_default())?;
    let product = Product {
        id: new_id(),
        organization_id: org.id.clone(),
        name: validate::text("name", &input.name, 200)?,
        model: validate::text("model", &input.model, 100)?,
        standard: validate::text("standard", &input.standard, 100)?,
        gtin: input
            .gtin
            .as_deref()
            .map(|g| gtin::parse("gtin", g))
            .transpose()?,
        category: validate::optional_text("category", input.category.as_deref(), 100)?,
        marks: serde_json::to_string(&marks).map_err(|e| AppError::internal_from("marks", e))?,
        created_at: now(),
    };
    state.write(|conn| {
        if let Some(gtin) = &product.gtin {
            crate::service::issuance::gtins::take_for_product(conn, &org.id, gtin)?;
        }
        product.insert(conn).map_err(AppError::from)
    })?;
    Ok(product.into())
}

/// Producer only: the caller's products.
pub fn list_own(state: &AppState, actor: &Actor) -> AppResult<Vec<ProductView>> {
    let org = actor.require_kind(&[OrgKind::Producer])?;
    let mut conn = state.db.reader()?;
    Ok(Product::list_for(&mut conn, &org.id)?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// Public: one product.
pub fn get(state: &AppState, id: &str) -> AppResult<ProductView> {
    let mut conn = state.db.reader()?;
    Product::find(&mut conn, checked_id(id, "product")?)?
        .map(Into::into)
        .ok_or_else(|| AppError::not_found("product"))
}

//! 承诺达标合格证 on the consoles: a producer promises a lot; a holder splits a lot it took in
//! into child lots; a receiver sees what it must keep (six months after intake).

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::domain::label;
use crate::error::{AppError, AppResult};
use crate::http::extract::blocking;
use crate::service::issuance::promise::{self, PromiseRequest, SplitChild, SplitRequest};
use crate::service::AppState;

use crate::web::page::{see_other, SignedForm};

#[derive(Debug, Deserialize)]
pub struct PromiseForm {
    product_id: String,
    batch_no: String,
    quantity: String,
    unit: String,
    origin_region_code: String,
    origin_place: String,
    issuer_kind: String,
    contact: String,
}

fn whole_number(field: &'static str, text: &str) -> AppResult<i64> {
    text.trim().parse().map_err(|_| {
        AppError::invalid(
            "not_a_number",
            field,
            format!("{field} must be a whole number"),
        )
    })
}

/// `POST /console/promises`: a producer promises a new lot; shows its public record.
pub async fn issue(
    state: web::Data<AppState>,
    SignedForm(user, form): SignedForm<PromiseForm>,
) -> AppResult<HttpResponse> {
    let f = form;
    let req = PromiseRequest {
        product_id: Some(f.product_id),
        batch_no: f.batch_no,
        quantity: whole_number("quantity", &f.quantity)?,
        unit: Some(f.unit),
        origin_region_code: Some(f.origin_region_code),
        origin_place: Some(f.origin_place),
        issuer_kind: Some(f.issuer_kind),
        contact: f.contact,
        ..Default::default()
    };
    let actor = user.actor.clone();
    let issued = blocking(&state, move |s| promise::issue(s, &actor, req)).await?;
    Ok(see_other(&format!("/c/{}", issued.id)))
}

#[derive(Debug, Deserialize)]
pub struct SplitForm {
    /// The parent's id or scanned label.
    certificate: String,
    contact: String,
    /// One child a line: `batch number, quantity`.
    children: String,
}

/// The child lots a form lists, one `batch, quantity` a line (a Chinese comma works too).
fn children_of(text: &str) -> AppResult<Vec<SplitChild>> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
        .map(|(i, line)| {
            let (batch, quantity) = line.rsplit_once([',', '，']).ok_or_else(|| {
                AppError::invalid(
                    "invalid_line",
                    "children",
                    format!("line {}: write \"batch number, quantity\"", i + 1),
                )
            })?;
            Ok(SplitChild {
                batch_no: batch.trim().to_string(),
                quantity: whole_number("children", quantity)?,
            })
        })
        .collect()
}

/// `POST /console/split`: a holder splits a lot into child lots.
pub async fn split(
    state: web::Data<AppState>,
    SignedForm(user, form): SignedForm<SplitForm>,
) -> AppResult<HttpResponse> {
    let f = form;
    let parent = match f.certificate.trim() {
        t if t.contains('/') => label::parse("certificate", t)?.id,
        t => t.to_string(),
    };
    let req = SplitRequest {
        contact: f.contact,
        children: children_of(&f.children)?,
    };
    let actor = user.actor.clone();
    blocking(&state, move |s| promise::split(s, &actor, &parent, req)).await?;
    Ok(see_other("/console?done=split"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_are_read_a_line_each() {
        let kids = children_of("A-1, 600\n\nB-1，400\n").unwrap();
        assert_eq!(kids.len(), 2);
        assert_eq!((kids[1].batch_no.as_str(), kids[1].quantity), ("B-1", 400));
        assert!(children_of("A-1 600").is_err());
        assert!(children_of("A-1, many").is_err());
    }
}

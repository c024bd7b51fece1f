//! Checking one 承诺达标合格证 request into its payload: the clauses and bases every lot
//! carries, then what a new lot takes from its product or a re-issued lot from its parents
//! (their unit, product name and 产地, never more than they hold, at most a few generations).

use super::{parent_not_active, Checked, Parent, PromiseRequest, MAX_PARENTS};
use crate::crypto::random::new_id;
use crate::db::models::lineage::{CertificateParent, MAX_DEPTH};
use crate::db::models::shipment::Shipment;
use crate::db::models::{Certificate, Organization, Product};
use crate::domain::payload::rfc3339_seconds;
use crate::domain::promise::{
    Issuer, Origin, ParentRef, PromiseBatch, PromisePayload, PromiseProduct, BASES, ISSUER_KINDS,
    PROMISE_TYPE, PROMISE_VERSION, STANDARD_PROMISE,
};
use crate::domain::role::OrgKind;
use crate::domain::status::CertStatus;
use crate::domain::{region, validate};
use crate::error::{AppError, AppResult};
use crate::service::checked_id;
use crate::service::issuance::issue::MAX_QUANTITY;
use chrono::Utc;
use std::collections::HashMap;

/// Checks one request and builds its payload; parents are read once and kept in `parents`.
pub(super) fn check(
    conn: &mut crate::db::DbConn,
    org: &Organization,
    req: &PromiseRequest,
    parents: &mut HashMap<String, Parent>,
    kid: &str,
    issued_at: chrono::DateTime<Utc>,
) -> AppResult<Checked> {
    let batch_no = validate::text("batch_no", &req.batch_no, 64)?;
    let quantity = validate::count("quantity", req.quantity, 1, MAX_QUANTITY)?;
    let contact = validate::text("contact", &req.contact, 100)?;
    let promise = match &req.promise {
        None => STANDARD_PROMISE.iter().map(|s| s.to_string()).collect(),
        Some(clauses) if clauses.is_empty() || clauses.len() > 10 => {
            return Err(AppError::invalid(
                "out_of_range",
                "promise",
                "the promise has 1 to 10 clauses",
            ))
        }
        Some(clauses) => clauses
            .iter()
            .enumerate()
            .map(|(i, c)| validate::text(&format!("promise.{i}"), c, 200))
            .collect::<Result<Vec<_>, _>>()?,
    };
    let mut basis = Vec::new();
    for (i, b) in req.basis.iter().flatten().enumerate() {
        let b = validate::one_of(&format!("basis.{i}"), "invalid_basis", b, &BASES)?;
        if !basis.iter().any(|x: &String| x == b) {
            basis.push(b.to_string());
        }
    }
    let refs = req.parents.clone().unwrap_or_default();
    let lot = if refs.is_empty() {
        new_lot(conn, org, req)?
    } else {
        reissued_lot(conn, org, req, &refs, quantity, parents)?
    };
    let payload = PromisePayload {
        v: PROMISE_VERSION,
        kind: PROMISE_TYPE.into(),
        id: new_id(),
        kid: kid.to_string(),
        issued_at: rfc3339_seconds(issued_at),
        issuer: Issuer {
            name: org.name.clone(),
            credit_code: org.credit_code.clone(),
            kind: lot.issuer_kind,
            contact,
            address: org.address.clone(),
        },
        product: lot.product,
        batch: PromiseBatch {
            no: batch_no,
            quantity,
            unit: lot.unit,
        },
        origin: lot.origin,
        promise,
        basis,
        parents: lot.parents,
    };
    Ok(Checked {
        product_id: lot.product_id,
        payload,
    })
}

/// What a lot's payload takes from its product (a new lot) or its parents (a re-issued one).
struct Lot {
    product_id: String,
    product: PromiseProduct,
    unit: String,
    origin: Origin,
    issuer_kind: String,
    parents: Vec<ParentRef>,
}

/// A new lot, promised by its producer for one of its products.
fn new_lot(
    conn: &mut crate::db::DbConn,
    org: &Organization,
    req: &PromiseRequest,
) -> AppResult<Lot> {
    if org.kind() != OrgKind::Producer {
        return Err(AppError::Forbidden(
            "a new lot is promised by its producer; others re-issue from parent lots".into(),
        ));
    }
    let product_id = req.product_id.as_deref().map(str::trim).unwrap_or("");
    if product_id.is_empty() {
        return Err(AppError::invalid(
            "required",
            "product_id",
            "a new lot names one of the producer's products",
        ));
    }
    let product = Product::find(conn, checked_id(product_id, "product")?)?
        .ok_or_else(|| AppError::not_found("product"))?;
    if product.organization_id != org.id {
        return Err(AppError::Forbidden(
            "the product belongs to another producer".into(),
        ));
    }
    let kind = validate::text("issuer_kind", req.issuer_kind.as_deref().unwrap_or(""), 20)?;
    if !ISSUER_KINDS[..4].contains(&kind.as_str()) {
        return Err(AppError::invalid(
            "invalid_issuer_kind",
            "issuer_kind",
            "issuer_kind must be farm, family_farm, cooperative or company",
        ));
    }
    let origin = Origin {
        region_code: region::parse(
            "origin_region_code",
            req.origin_region_code.as_deref().unwrap_or(""),
        )?,
        place: validate::text(
            "origin_place",
            req.origin_place.as_deref().unwrap_or(""),
            200,
        )?,
    };
    let unit = validate::text("unit", req.unit.as_deref().unwrap_or(""), 16)?;
    let name = match &req.product_name {
        Some(n) => validate::text("product_name", n, 100)?,
        None => product.name.clone(),
    };
    Ok(Lot {
        product_id: product.id.clone(),
        product: PromiseProduct {
            name,
            gtin: product.gtin.clone(),
        },
        unit,
        origin,
        issuer_kind: kind,
        parents: vec![],
    })
}

/// A lot re-issued from `refs` (a split or a merge) by a holder of the parents: it keeps their
/// unit and product name and takes exactly `quantity` from them.
fn reissued_lot(
    conn: &mut crate::db::DbConn,
    org: &Organization,
    req: &PromiseRequest,
    refs: &[ParentRef],
    quantity: i64,
    parents: &mut HashMap<String, Parent>,
) -> AppResult<Lot> {
    if refs.len() > MAX_PARENTS {
        return Err(AppError::invalid(
            "out_of_range",
            "parents",
            format!("a lot is merged from at most {MAX_PARENTS} parents"),
        ));
    }
    let mut checked_refs: Vec<ParentRef> = Vec::with_capacity(refs.len());
    for (i, r) in refs.iter().enumerate() {
        let field = format!("parents.{i}.id");
        let id = checked_id(r.id.trim(), "parent certificate")?.to_string();
        if checked_refs.iter().any(|c| c.id == id) {
            return Err(AppError::invalid(
                "duplicate_parent",
                &field,
                "each parent is named once",
            ));
        }
        let parent = match parents.get(&id) {
            Some(p) => p,
            None => {
                let loaded = load_parent(conn, org, &id, &field)?;
                parents.entry(id.clone()).or_insert(loaded)
            }
        };
        let q = validate::count(
            &format!("parents.{i}.quantity"),
            r.quantity,
            1,
            parent.payload.batch.quantity,
        )?;
        checked_refs.push(ParentRef { id, quantity: q });
    }
    let taken: i64 = checked_refs.iter().map(|r| r.quantity).sum();
    if taken != quantity {
        return Err(AppError::invalid(
            "quantity_mismatch",
            "quantity",
            format!("the lot's quantity must be what it takes from its parents ({taken})"),
        ));
    }
    let first = &parents[&checked_refs[0].id];
    let origins: Vec<&Origin> = checked_refs
        .iter()
        .map(|r| &parents[&r.id].payload.origin)
        .collect();
    let origin = child_origin(
        &origins,
        req.origin_region_code.as_deref(),
        req.origin_place.as_deref(),
    )?;
    // A re-issued lot says what its parents said: the same unit (quantities add up only
    // then) and the first parent's product name; the issuer states only what it is.
    let unit = first.payload.batch.unit.clone();
    if checked_refs
        .iter()
        .any(|r| parents[&r.id].payload.batch.unit != unit)
    {
        return Err(AppError::invalid(
            "unit_mismatch",
            "parents",
            "merged lots must be counted in the same unit",
        ));
    }
    if req.unit.as_deref().is_some_and(|u| u.trim() != unit) {
        return Err(AppError::invalid(
            "unit_mismatch",
            "unit",
            format!("a re-issued lot keeps its parents' unit ({unit})"),
        ));
    }
    let name = first.payload.product.name.clone();
    if req
        .product_name
        .as_deref()
        .is_some_and(|n| n.trim() != name)
    {
        return Err(AppError::invalid(
            "product_mismatch",
            "product_name",
            format!("a re-issued lot keeps its parents' product name ({name})"),
        ));
    }
    let own = match org.kind() {
        OrgKind::Producer => None,
        k => Some(k.as_str()),
    };
    let kind = match (req.issuer_kind.as_deref().map(str::trim), own) {
        (None, Some(own)) => own.to_string(),
        (None, None) => "company".to_string(),
        (Some(k), Some(own)) if k == own => k.to_string(),
        (Some(k), None) if ISSUER_KINDS[..4].contains(&k) => k.to_string(),
        _ => {
            return Err(AppError::invalid(
                "invalid_issuer_kind",
                "issuer_kind",
                "a re-issuing party states its own kind",
            ))
        }
    };
    let above = CertificateParent::generations_above(
        conn,
        &checked_refs
            .iter()
            .map(|r| r.id.clone())
            .collect::<Vec<_>>(),
    )?;
    if above + 1 > MAX_DEPTH {
        return Err(AppError::Conflict {
            code: "too_many_generations",
            message: format!("a lot is re-issued at most {MAX_DEPTH} generations deep"),
        });
    }
    Ok(Lot {
        product_id: first.cert.product_id.clone(),
        product: PromiseProduct {
            name,
            gtin: first.payload.product.gtin.clone(),
        },
        unit,
        origin,
        issuer_kind: kind,
        parents: checked_refs,
    })
}

/// The 产地 of a re-issued lot: its parents' when they agree (a stated one must be the same),
/// else the one stated, which is then required.
fn child_origin(parents: &[&Origin], code: Option<&str>, place: Option<&str>) -> AppResult<Origin> {
    let stated = match (code, place) {
        (None, None) => None,
        (code, place) => Some(Origin {
            region_code: region::parse("origin_region_code", code.unwrap_or(""))?,
            place: validate::text("origin_place", place.unwrap_or(""), 200)?,
        }),
    };
    let shared = parents
        .iter()
        .all(|o| *o == parents[0])
        .then(|| parents[0].clone());
    match (shared, stated) {
        (Some(shared), None) => Ok(shared),
        (Some(shared), Some(stated)) if stated == shared => Ok(shared),
        (Some(_), Some(_)) => Err(AppError::invalid(
            "origin_mismatch",
            "origin_place",
            "the parents share one 产地: a re-issued lot keeps it",
        )),
        (None, Some(stated)) => Ok(stated),
        (None, None) => Err(AppError::invalid(
            "required",
            "origin_place",
            "the parents come from different places: state the merged lot's 产地",
        )),
    }
}

/// Loads a parent lot the holder `org` may re-issue: a 承诺达标合格证 that is active and that
/// `org` issued or took in.
fn load_parent(
    conn: &mut crate::db::DbConn,
    org: &Organization,
    id: &str,
    field: &str,
) -> AppResult<Parent> {
    let cert = Certificate::find(conn, id)?
        .ok_or_else(|| AppError::invalid("unknown_parent", field, "no certificate has this id"))?;
    if cert.kind != PROMISE_TYPE {
        return Err(AppError::invalid(
            "parent_not_promise",
            field,
            "only 承诺达标合格证 lots are split and merged",
        ));
    }
    if cert.current_status() != CertStatus::Active {
        return Err(parent_not_active(id));
    }
    let legs = Shipment::for_certificate(conn, id)?;
    if !crate::service::custody::legs::holds(&cert.organization_id, &org.id, &legs, None) {
        return Err(AppError::Forbidden(
            "only the lot's issuer or a party it was shipped to re-issues it".into(),
        ));
    }
    let payload: PromisePayload = serde_json::from_str(&cert.payload)
        .map_err(|e| AppError::internal_from(format!("promise {id} does not parse"), e))?;
    Ok(Parent { cert, payload })
}

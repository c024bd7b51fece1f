//! A certificate's trail as a GS1 EPCIS 2.0 JSON-LD document, with the CBV business steps and
//! dispositions of `domain::trail::EventType::epcis`.

use serde_json::{json, Value};

use crate::db::models::Certificate;
use crate::domain::payload::rfc3339_seconds;
use crate::domain::trail::{EventBody, EventType};
use crate::error::{AppError, AppResult};

use crate::service::trail::{page_rows, PageQuery};
use crate::service::{checked_id, AppState};

/// The UN/ECE Recommendation 20 code of a unit of measure, for units that measure (mass,
/// volume). Counted units (袋, 罐, 箱, 件, bags, cans, cases, pieces) have none: a quantity of
/// a class is then a count of its instances, which is what EPCIS means by a quantity without
/// `uom` (the schema admits only Rec 20 codes there). The unit as written is kept in
/// `certrail:unit`.
pub fn rec20_unit(unit: &str) -> Option<&'static str> {
    match unit.trim().to_lowercase().as_str() {
        "千克" | "公斤" | "kg" => Some("KGM"),
        "克" | "g" => Some("GRM"),
        "吨" | "t" => Some("TNE"),
        "升" | "l" => Some("LTR"),
        "毫升" | "ml" => Some("MLT"),
        _ => None,
    }
}

/// The EPCIS document of one page of certificate `id`'s trail (the first page also holds the
/// commissioning of its units and the re-issues touching it), and the `after` of the next page.
pub fn document(state: &AppState, id: &str, page: PageQuery) -> AppResult<(Value, Option<i64>)> {
    let page = page.checked()?;
    let first = page.0 == 0;
    let mut conn = state.db.replica_reader()?;
    let cert = Certificate::find(&mut conn, checked_id(id, "certificate")?)?
        .ok_or_else(|| AppError::not_found("certificate"))?;
    let quantity = serde_json::from_str::<Value>(&cert.payload)
        .ok()
        .and_then(|p| p["batch"]["quantity"].as_i64())
        .unwrap_or(0);
    let unit = serde_json::from_str::<Value>(&cert.payload)
        .ok()
        .and_then(|p| p["batch"]["unit"].as_str().map(str::to_string))
        .unwrap_or_default();
    let class = state.public_url(&format!("/api/v1/certificates/{}", cert.id));
    let certification = certification_info(state, &cert);
    let (rows, next) = page_rows(&mut conn, &cert.id, page)?;
    let events: Vec<Value> = rows
        .iter()
        .filter_map(|row| Some((row, serde_json::from_str::<EventBody>(&row.body).ok()?)))
        .filter(|(_, body)| body.kind.epcis() != (None, None))
        .map(|(row, body)| {
            let (biz_step, disposition) = body.kind.epcis();
            let disposition = match body.kind {
                EventType::Inspected => match body.details.get("result").and_then(Value::as_str) {
                    Some("conformant") => Some("conformant"),
                    _ => Some("non_conformant"),
                },
                _ => disposition,
            };
            let mut event = json!({
                "type": "ObjectEvent",
                "eventID": format!("{class}/trail#{}", row.seq),
                "eventTime": body.at,
                "eventTimeZoneOffset": "+00:00",
                "action": if body.kind == EventType::Issued { "ADD" } else { "OBSERVE" },
                "bizLocation": { "id": state.public_url(&format!("/api/v1/organizations/{}", body.actor.id)) },
                "certrail:type": body.kind.as_str(),
                "certrail:seq": row.seq,
                "certrail:hash": row.hash,
            });
            match body.serial {
                Some(serial) => event["epcList"] = json!([state.public_url(&format!("/v/{}/{serial}", cert.id))]),
                None => {
                    let mut item = json!({ "epcClass": class, "quantity": quantity });
                    if let Some(code) = rec20_unit(&unit) {
                        item["uom"] = json!(code);
                    }
                    event["quantityList"] = json!([item]);
                    event["certrail:unit"] = json!(unit);
                }
            }
            if let Some(step) = biz_step {
                event["bizStep"] = json!(step);
            }
            if body.kind == EventType::Issued {
                event["certificationInfo"] = certification.clone();
            }
            if let Some(consignee) = body.details.get("consignee").and_then(Value::as_str) {
                event["destinationList"] = json!([{
                    "type": "owning_party",
                    "destination": state.public_url(&format!("/api/v1/organizations/{consignee}")),
                }]);
            }
            if let Some(disposition) = disposition {
                event["disposition"] = json!(disposition);
            }
            event
        })
        .collect();
    let mut events = events;
    if first {
        if let Some(commissioned) = commissioning(state, &cert, &certification) {
            events.insert(1.min(events.len()), commissioned);
        }
        events.extend(transformations(state, &mut conn, &cert)?);
    }
    let doc = json!({
        "@context": [
            "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
            { "certrail": state.public_url("/ns#") }
        ],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": rfc3339_seconds(chrono::Utc::now()),
        "epcisBody": { "eventList": events }
    });
    Ok((doc, next))
}

/// Most unit serials one document lists as commissioned.
pub const MAX_COMMISSIONED: i64 = 10_000;

/// What certifies the goods (EPCIS `certificationInfo`): the certificate itself (its
/// verification and its Verifiable Credential) and each certification mark it claims (the
/// public mark lookup).
fn certification_info(state: &AppState, cert: &Certificate) -> Value {
    let mut uris = vec![
        state.public_url(&format!("/v/{}", cert.id)),
        state.public_url(&format!("/api/v1/certificates/{}/credential", cert.id)),
    ];
    let payload: Value = serde_json::from_str(&cert.payload).unwrap_or_default();
    for mark in payload["marks"].as_array().into_iter().flatten() {
        let (Some(scheme), Some(no)) = (mark["scheme"].as_str(), mark["cert_no"].as_str()) else {
            continue;
        };
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("scheme", scheme)
            .append_pair("cert_no", no)
            .finish();
        uris.push(state.public_url(&format!("/marks?{query}")));
    }
    json!(uris)
}

/// A serialized certificate's units, commissioned (each unit label's URI as its EPC), when
/// there are at most [`MAX_COMMISSIONED`].
fn commissioning(state: &AppState, cert: &Certificate, certification: &Value) -> Option<Value> {
    let units = cert.units.filter(|u| (1..=MAX_COMMISSIONED).contains(u))?;
    let epcs: Vec<String> = (1..=units)
        .map(|serial| state.public_url(&format!("/v/{}/{serial}", cert.id)))
        .collect();
    let class = state.public_url(&format!("/api/v1/certificates/{}", cert.id));
    Some(json!({
        "type": "ObjectEvent",
        "eventID": format!("{class}/commissioning"),
        "eventTime": rfc3339_seconds(cert.issued_at.and_utc()),
        "eventTimeZoneOffset": "+00:00",
        "action": "ADD",
        "epcList": epcs,
        "bizStep": "commissioning",
        "disposition": "active",
        "bizLocation": { "id": state.public_url(&format!("/api/v1/organizations/{}", cert.organization_id)) },
        "certificationInfo": certification,
        "certrail:type": "commissioned",
    }))
}

/// A quantity of a certificate's lot (`certrail:unit` keeps the unit as written).
fn quantity_item(state: &AppState, id: &str, quantity: i64, unit: &str) -> Value {
    let mut item = json!({
        "epcClass": state.public_url(&format!("/api/v1/certificates/{id}")),
        "quantity": quantity,
    });
    if let Some(code) = rec20_unit(unit) {
        item["uom"] = json!(code);
    }
    item
}

/// Split and merge re-issues touching `cert`, as TransformationEvents: for a child, the one
/// that made it (its parents' quantities in, the child out); for a parent, one per child.
/// Each has the same `eventID` in every document it appears in.
fn transformations(
    state: &AppState,
    conn: &mut crate::db::DbConn,
    cert: &Certificate,
) -> AppResult<Vec<Value>> {
    use crate::db::models::lineage::CertificateParent;
    let mut children: Vec<Certificate> = Vec::new();
    if !CertificateParent::parents_of(conn, &cert.id)?.is_empty() {
        children.push(cert.clone());
    }
    let all = crate::db::models::lineage::MAX_CHILDREN;
    for (link, _, _) in CertificateParent::children_of(conn, &cert.id, all)? {
        if let Some(child) = Certificate::find(conn, &link.child_id)? {
            children.push(child);
        }
    }
    let mut out = Vec::with_capacity(children.len());
    for child in children {
        let payload: Value = serde_json::from_str(&child.payload).unwrap_or_default();
        let unit = payload["batch"]["unit"].as_str().unwrap_or_default();
        let inputs: Vec<Value> = CertificateParent::parents_of(conn, &child.id)?
            .iter()
            .map(|(link, _, _)| quantity_item(state, &link.parent_id, link.quantity, unit))
            .collect();
        let output = quantity_item(
            state,
            &child.id,
            payload["batch"]["quantity"].as_i64().unwrap_or(0),
            unit,
        );
        let class = state.public_url(&format!("/api/v1/certificates/{}", child.id));
        out.push(json!({
            "type": "TransformationEvent",
            "eventID": format!("{class}/transformation"),
            "eventTime": payload["issued_at"],
            "eventTimeZoneOffset": "+00:00",
            "inputQuantityList": inputs,
            "outputQuantityList": [output],
            "transformationID": format!("{class}/transformation"),
            "bizStep": "repackaging",
            "disposition": "active",
            "bizLocation": { "id": state.public_url(&format!("/api/v1/organizations/{}", child.organization_id)) },
            "certrail:type": "reissued",
            "certrail:unit": unit,
        }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::rec20_unit;

    #[test]
    fn measured_units_get_rec20_codes_and_counted_units_none() {
        assert_eq!(rec20_unit("千克"), Some("KGM"));
        assert_eq!(rec20_unit(" KG "), Some("KGM"));
        assert_eq!(rec20_unit("克"), Some("GRM"));
        assert_eq!(rec20_unit("吨"), Some("TNE"));
        assert_eq!(rec20_unit("升"), Some("LTR"));
        assert_eq!(rec20_unit("毫升"), Some("MLT"));
        for counted in ["袋", "罐", "箱", "件", "bag"] {
            assert_eq!(rec20_unit(counted), None, "{counted}");
        }
    }
}

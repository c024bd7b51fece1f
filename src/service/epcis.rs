//! A certificate's trail as a GS1 EPCIS 2.0 JSON-LD document, with the CBV business steps and
//! dispositions of `domain::trail::EventType::epcis`.

use serde_json::{json, Value};

use crate::db::models::{Certificate, EventRow};
use crate::domain::payload::rfc3339_seconds;
use crate::domain::trail::{EventBody, EventType};
use crate::error::{AppError, AppResult};

use super::{checked_id, AppState};

/// The EPCIS document for certificate `id`.
pub fn document(state: &AppState, id: &str) -> AppResult<Value> {
    let mut conn = state.db.reader()?;
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
    let events: Vec<Value> = EventRow::trail(&mut conn, &cert.id)?
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
                None => event["quantityList"] = json!([{ "epcClass": class, "quantity": quantity, "uom": unit }]),
            }
            if let Some(step) = biz_step {
                event["bizStep"] = json!(step);
            }
            if let Some(disposition) = disposition {
                event["disposition"] = json!(disposition);
            }
            event
        })
        .collect();
    Ok(json!({
        "@context": [
            "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
            { "certrail": state.public_url("/ns#") }
        ],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": rfc3339_seconds(chrono::Utc::now()),
        "epcisBody": { "eventList": events }
    }))
}

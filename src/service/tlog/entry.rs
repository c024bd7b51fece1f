//! Log entries (contract §9): the JCS bytes that are hashed into the tree, one per certificate
//! and one per trail event, queued in the transaction that makes them.

use serde_json::json;

use crate::crypto::b64url;
use crate::crypto::signing::sha256_hex;
use crate::db::models::tlog::{self as logdb, NewPending};
use crate::db::models::{now, Certificate, EventRow};
use crate::db::DbConn;
use crate::domain::payload::canonicalize;

/// Entry bytes of a certificate.
pub fn certificate(id: &str, kid: &str, payload_sha256: &str, signature: &[u8]) -> String {
    canonicalize(&json!({
        "type": "certificate",
        "id": id,
        "kid": kid,
        "payload_sha256": payload_sha256,
        "signature": b64url(signature),
    }))
}

/// Entry bytes of a trail event.
pub fn event(certificate_id: &str, seq: i64, hash: &str, kid: &str, signature: &[u8]) -> String {
    canonicalize(&json!({
        "type": "event",
        "certificate_id": certificate_id,
        "seq": seq,
        "hash": hash,
        "kid": kid,
        "signature": b64url(signature),
    }))
}

/// The entry of a certificate row (its payload column is the canonical payload).
pub fn of_certificate(row: &Certificate) -> String {
    certificate(
        &row.id,
        &row.kid,
        &sha256_hex(row.payload.as_bytes()),
        &row.signature,
    )
}

/// The entry of an event row.
pub fn of_event(row: &EventRow) -> String {
    event(
        &row.certificate_id,
        row.seq,
        &row.hash,
        &row.kid,
        &row.signature,
    )
}

/// Queues new certificates and their first events for the log, each certificate before its
/// event. Call in the issuing transaction.
pub fn queue_issued(
    conn: &mut DbConn,
    certificates: &[Certificate],
    firsts: &[EventRow],
) -> diesel::QueryResult<()> {
    let at = now();
    let rows: Vec<NewPending> = certificates
        .iter()
        .zip(firsts)
        .flat_map(|(c, e)| {
            [
                NewPending {
                    certificate_id: c.id.clone(),
                    seq: 0,
                    entry: of_certificate(c),
                    created_at: at,
                },
                NewPending {
                    certificate_id: e.certificate_id.clone(),
                    seq: e.seq,
                    entry: of_event(e),
                    created_at: at,
                },
            ]
        })
        .collect();
    logdb::enqueue(conn, &rows)
}

/// Queues an appended event for the log. Call in the appending transaction.
pub fn queue_event(conn: &mut DbConn, row: &EventRow) -> diesel::QueryResult<()> {
    logdb::enqueue(
        conn,
        &[NewPending {
            certificate_id: row.certificate_id.clone(),
            seq: row.seq,
            entry: of_event(row),
            created_at: now(),
        }],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_canonical_json_with_sorted_keys() {
        let sig = [7u8; 64];
        let c = certificate("abc", "kid1", "00ff", &sig);
        assert!(c.starts_with(r#"{"id":"abc","kid":"kid1","payload_sha256":"00ff","signature":""#));
        assert!(c.ends_with(r#"","type":"certificate"}"#));
        let e = event("abc", 3, "aa", "kid2", &sig);
        assert!(e.starts_with(
            r#"{"certificate_id":"abc","hash":"aa","kid":"kid2","seq":3,"signature":""#
        ));
        assert!(e.ends_with(r#"","type":"event"}"#));
    }
}

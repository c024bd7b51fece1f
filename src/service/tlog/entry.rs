//! Log entries (contract §9): the JCS bytes that are hashed into the tree, one per certificate
//! and one per trail event, queued in the transaction that makes them.

use serde_json::json;

use crate::crypto::b64url;
use crate::db::models::tlog::{self as logdb, NewPending};
use crate::db::models::{now, Certificate, EventRow};
use crate::db::DbConn;
use crate::domain::hash::sha256_hex;
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

/// Queues every certificate issued before the log existed, with its trail, once (the
/// migration that made the log marks it due). One transaction: all or nothing.
pub fn backfill(db: &crate::db::Db) -> crate::error::AppResult<usize> {
    let mut pooled = db.writer()?;
    let conn: &mut DbConn = &mut pooled;
    crate::db::write_transaction(conn, |conn| {
        // The sequencer's lock: instances starting together backfill once.
        crate::service::tlog::sequencer::take_lock(conn, true)?;
        if !logdb::backfill_due(conn)? {
            return Ok(0);
        }
        let at = now();
        let mut after = String::new();
        let mut queued = 0;
        loop {
            let page = Certificate::page_after(conn, &after, 2000)?;
            let Some(last) = page.last() else { break };
            after = last.id.clone();
            let ids: Vec<String> = page.iter().map(|c| c.id.clone()).collect();
            let mut events: std::collections::HashMap<String, Vec<EventRow>> =
                std::collections::HashMap::new();
            for e in EventRow::trails(conn, &ids)? {
                events.entry(e.certificate_id.clone()).or_default().push(e);
            }
            let mut rows = Vec::with_capacity(page.len() * 3);
            for cert in &page {
                rows.push(NewPending {
                    certificate_id: cert.id.clone(),
                    seq: 0,
                    entry: of_certificate(cert),
                    created_at: at,
                });
                for e in events.get(&cert.id).into_iter().flatten() {
                    rows.push(NewPending {
                        certificate_id: e.certificate_id.clone(),
                        seq: e.seq,
                        entry: of_event(e),
                        created_at: at,
                    });
                }
            }
            logdb::enqueue(conn, &rows)?;
            queued += page.len();
        }
        logdb::backfill_done(conn)?;
        Ok(queued)
    })
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

//! Log entries (contract §9): the JCS bytes that are hashed into the tree, one per certificate
//! and one per trail event, queued (as a reference to their row) in the transaction that makes
//! them, and rebuilt from that row whenever they are hashed or served.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDateTime;
use serde_json::json;
use tlog_tiles::record_hash;

use crate::crypto::b64url;
use crate::db::models::tlog::{self as logdb, NewPending};
use crate::db::models::{now, Certificate, EventRow};
use crate::db::DbConn;
use crate::domain::hash::sha256_hex;
use crate::domain::payload::canonicalize;
use crate::error::{AppError, AppResult};

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

/// The bytes of the entries recording `items` (certificate id, seq; seq 0 the certificate),
/// in order, rebuilt from the rows they record (`None` where the row is gone): the log stores
/// only the reference and the tree's leaf hash, which anyone reading a tile checks the bytes
/// against, so a row edited or deleted behind the log's back shows there.
pub fn texts(conn: &mut DbConn, items: &[(&str, i64)]) -> AppResult<Vec<Option<String>>> {
    let certificate_ids: Vec<&str> = items
        .iter()
        .filter(|(_, seq)| *seq == 0)
        .map(|(id, _)| *id)
        .collect();
    let event_ids: Vec<&str> = items
        .iter()
        .filter(|(_, seq)| *seq > 0)
        .map(|(id, _)| *id)
        .collect();
    let seqs: Vec<i64> = items
        .iter()
        .map(|(_, seq)| *seq)
        .filter(|seq| *seq > 0)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut known: HashMap<(String, i64), String> = HashMap::with_capacity(items.len());
    for (id, kid, payload, signature) in Certificate::entry_parts(conn, &certificate_ids)? {
        let bytes = certificate(&id, &kid, &sha256_hex(payload.as_bytes()), &signature);
        known.insert((id, 0), bytes);
    }
    if !event_ids.is_empty() {
        for (id, seq, hash, kid, signature) in EventRow::entry_parts(conn, &event_ids, &seqs)? {
            let bytes = event(&id, seq, &hash, &kid, &signature);
            known.insert((id, seq), bytes);
        }
    }
    Ok(items
        .iter()
        .map(|(id, seq)| known.get(&(id.to_string(), *seq)).cloned())
        .collect())
}

/// The queued entries whose rows exist, with their leaf hashes. An entry whose row was
/// deleted before it was sequenced (the row is written in the same transaction, so only by
/// hand) has nothing to log: it leaves the queue unlogged, loudly, instead of stopping the log.
pub fn leaves(
    conn: &mut DbConn,
    pending: Vec<logdb::Pending>,
) -> AppResult<(Vec<logdb::Pending>, Vec<tlog_tiles::Hash>)> {
    let items: Vec<(&str, i64)> = pending
        .iter()
        .map(|p| (p.certificate_id.as_str(), p.seq))
        .collect();
    let texts = texts(conn, &items)?;
    let mut kept = Vec::with_capacity(pending.len());
    let mut leaves = Vec::with_capacity(pending.len());
    for (p, text) in pending.into_iter().zip(texts) {
        match text {
            Some(text) => {
                leaves.push(record_hash(text.as_bytes()));
                kept.push(p);
            }
            None => log::error!(
                "log entry {}/{}: its row is gone; dropped from the queue unlogged",
                p.certificate_id,
                p.seq
            ),
        }
    }
    Ok((kept, leaves))
}

/// The entry bundle of tile `n` of `width` entries, its bytes rebuilt from the rows the
/// entries record; an entry whose row is gone is served empty (which no leaf hash matches).
pub fn tile(conn: &mut DbConn, n: u64, width: u32) -> AppResult<Vec<u8>> {
    let from = (n * 256) as i64;
    let entries = logdb::entries_between(conn, from, from + i64::from(width))?;
    if entries.len() != width as usize {
        return Err(AppError::internal("log entries missing"));
    }
    let items: Vec<(&str, i64)> = entries
        .iter()
        .map(|e| (e.certificate_id.as_str(), e.seq))
        .collect();
    let texts: Vec<String> = texts(conn, &items)?
        .into_iter()
        .map(Option::unwrap_or_default)
        .collect();
    Ok(entry_bundle(&texts))
}

/// An entry bundle (C2SP tlog-tiles): each entry as a big-endian u16 length and its bytes.
fn entry_bundle(entries: &[String]) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries.iter().map(|e| e.len() + 2).sum());
    for e in entries {
        out.extend_from_slice(&(e.len() as u16).to_be_bytes());
        out.extend_from_slice(e.as_bytes());
    }
    out
}

/// A row to queue for the log: certificate id, seq (0 the certificate).
fn queued(certificate_id: &str, seq: i64, created_at: NaiveDateTime) -> NewPending {
    NewPending {
        certificate_id: certificate_id.to_string(),
        seq,
        created_at,
    }
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
        .flat_map(|(c, e)| [queued(&c.id, 0, at), queued(&e.certificate_id, e.seq, at)])
        .collect();
    logdb::enqueue(conn, &rows)
}

/// Queues every certificate issued before the log existed, with its trail, once (the
/// migration that made the log marks it due). One transaction: all or nothing.
pub fn backfill(db: &crate::db::Db) -> AppResult<usize> {
    let mut pooled = db.writer()?;
    let conn: &mut DbConn = &mut pooled;
    crate::db::write_transaction(conn, |conn| {
        // The sequencer's lock: instances starting together backfill once.
        super::lock::take(conn, true)?;
        if !logdb::backfill_due(conn)? {
            return Ok(0);
        }
        let at = now();
        let mut after = String::new();
        let mut queued_count = 0;
        loop {
            let page = Certificate::page_after(conn, &after, 2000)?;
            let Some(last) = page.last() else { break };
            after = last.id.clone();
            let ids: Vec<String> = page.iter().map(|c| c.id.clone()).collect();
            let mut seqs: HashMap<String, Vec<i64>> = HashMap::new();
            for e in EventRow::trails(conn, &ids)? {
                seqs.entry(e.certificate_id).or_default().push(e.seq);
            }
            let mut rows = Vec::with_capacity(page.len() * 3);
            for cert in &page {
                rows.push(queued(&cert.id, 0, at));
                for seq in seqs.get(&cert.id).into_iter().flatten() {
                    rows.push(queued(&cert.id, *seq, at));
                }
            }
            logdb::enqueue(conn, &rows)?;
            queued_count += page.len();
        }
        logdb::backfill_done(conn)?;
        Ok(queued_count)
    })
}

/// Queues an appended event for the log. Call in the appending transaction.
pub fn queue_event(conn: &mut DbConn, row: &EventRow) -> diesel::QueryResult<()> {
    logdb::enqueue(conn, &[queued(&row.certificate_id, row.seq, now())])
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

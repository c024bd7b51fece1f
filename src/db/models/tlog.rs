//! The transparency log's tables (`log_*`): entries waiting for the sequencer, sequenced
//! entries, the tree's stored hashes, signed checkpoints, witnesses and their cosignatures.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{
    log_backfill, log_checkpoints, log_cosignatures, log_entries, log_pending, log_witnesses,
};
use crate::db::{insert_rows, DbConn};

pub use super::log_hashes::{insert_hashes, read_hashes};

/// Rows per multi-row INSERT of hashes (two parameters each).
const HASH_CHUNK: usize = 4000;

/// An entry to log, made in the transaction of the write it records.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = log_pending)]
pub struct NewPending {
    pub certificate_id: String,
    /// 0 for the certificate, N for its trail event N.
    pub seq: i64,
    pub created_at: NaiveDateTime,
}

/// An entry waiting for the sequencer.
#[derive(Debug, Clone, Queryable)]
pub struct Pending {
    pub id: i64,
    pub certificate_id: String,
    pub seq: i64,
}

/// A sequenced entry: where in the tree, and which row it records (its bytes are rebuilt
/// from that row, [`crate::service::tlog::entry`]).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = log_entries)]
pub struct LogEntry {
    /// Leaf index in the tree.
    pub idx: i64,
    pub certificate_id: String,
    pub seq: i64,
    pub sequenced_at: NaiveDateTime,
}

/// A checkpoint the log signed.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = log_checkpoints)]
pub struct CheckpointRow {
    pub tree_size: i64,
    pub root: Vec<u8>,
    /// The signed note (checkpoint body, blank line, the log's signature line).
    pub note: String,
    pub created_at: NaiveDateTime,
}

/// A witness the log accepts cosignatures from.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = log_witnesses)]
pub struct WitnessRow {
    /// The cosigner's key name (a schema-less URL or a short name).
    pub name: String,
    /// Raw 32-byte Ed25519 public key.
    pub public_key: Vec<u8>,
    /// The regulator running it, if registered as one.
    pub organization_id: Option<String>,
    pub created_at: NaiveDateTime,
}

/// A witness's cosignature on the checkpoint of `tree_size`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = log_cosignatures)]
pub struct CosignatureRow {
    pub witness: String,
    pub tree_size: i64,
    /// The time the cosignature states.
    pub signed_at: NaiveDateTime,
    /// The note signature line (`— name base64`).
    pub line: String,
}

/// Queues entries for the sequencer.
pub fn enqueue(conn: &mut DbConn, rows: &[NewPending]) -> QueryResult<()> {
    for chunk in rows.chunks(super::INSERT_CHUNK) {
        insert_rows!(conn, log_pending::table, chunk);
    }
    Ok(())
}

/// The oldest `limit` waiting entries, in the order they were made.
pub fn pending(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<Pending>> {
    log_pending::table
        .order(log_pending::id.asc())
        .limit(limit)
        .select((
            log_pending::id,
            log_pending::certificate_id,
            log_pending::seq,
        ))
        .load(conn)
}

/// Removes sequenced entries from the queue (by id: a later-committed entry with a smaller id
/// than the last one taken stays queued).
pub fn dequeue(conn: &mut DbConn, ids: &[i64]) -> QueryResult<()> {
    for chunk in ids.chunks(HASH_CHUNK) {
        diesel::delete(log_pending::table.filter(log_pending::id.eq_any(chunk))).execute(conn)?;
    }
    Ok(())
}

/// Seqs of `certificate_id`'s entries still waiting (0 is the certificate).
pub fn pending_for(conn: &mut DbConn, certificate_id: &str) -> QueryResult<Vec<i64>> {
    log_pending::table
        .filter(log_pending::certificate_id.eq(certificate_id))
        .select(log_pending::seq)
        .load(conn)
}

/// When the queued entry `id` was made.
pub fn oldest_of(conn: &mut DbConn, id: i64) -> QueryResult<Option<NaiveDateTime>> {
    log_pending::table
        .find(id)
        .select(log_pending::created_at)
        .first(conn)
        .optional()
}

/// Entries waiting now, and when the oldest was made.
pub fn backlog(conn: &mut DbConn) -> QueryResult<(i64, Option<NaiveDateTime>)> {
    let count = log_pending::table.count().get_result(conn)?;
    let oldest = log_pending::table
        .select(diesel::dsl::min(log_pending::created_at))
        .first(conn)?;
    Ok((count, oldest))
}

pub fn insert_entries(conn: &mut DbConn, rows: &[LogEntry]) -> QueryResult<()> {
    for chunk in rows.chunks(super::INSERT_CHUNK * 2) {
        insert_rows!(conn, log_entries::table, chunk);
    }
    Ok(())
}

/// The sequenced entries of `certificate_id` (seq 0 the certificate), by leaf index.
pub fn entries_for(conn: &mut DbConn, certificate_id: &str) -> QueryResult<Vec<LogEntry>> {
    log_entries::table
        .filter(log_entries::certificate_id.eq(certificate_id))
        .order(log_entries::idx.asc())
        .select(LogEntry::as_select())
        .load(conn)
}

/// The certificates of the newest `limit` certificate entries, newest first: the goods most
/// likely on shelves now (read along the log's index, with no sort).
pub fn newest_certificates(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<String>> {
    log_entries::table
        .filter(log_entries::seq.eq(0))
        .order(log_entries::idx.desc())
        .limit(limit)
        .select(log_entries::certificate_id)
        .load(conn)
}

/// Entries with leaf index in `from..to`, in order.
pub fn entries_between(conn: &mut DbConn, from: i64, to: i64) -> QueryResult<Vec<LogEntry>> {
    log_entries::table
        .filter(log_entries::idx.ge(from))
        .filter(log_entries::idx.lt(to))
        .order(log_entries::idx.asc())
        .select(LogEntry::as_select())
        .load(conn)
}

/// One past the highest sequenced leaf index (the tree size the entries make).
pub fn entry_count(conn: &mut DbConn) -> QueryResult<i64> {
    let max: Option<i64> = log_entries::table
        .select(diesel::dsl::max(log_entries::idx))
        .first(conn)?;
    Ok(max.map_or(0, |m| m + 1))
}

pub fn insert_checkpoint(conn: &mut DbConn, row: &CheckpointRow) -> QueryResult<()> {
    diesel::insert_into(log_checkpoints::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// The newest checkpoint.
pub fn latest_checkpoint(conn: &mut DbConn) -> QueryResult<Option<CheckpointRow>> {
    log_checkpoints::table
        .order(log_checkpoints::tree_size.desc())
        .select(CheckpointRow::as_select())
        .first(conn)
        .optional()
}

/// The checkpoint of exactly `tree_size`.
pub fn checkpoint(conn: &mut DbConn, tree_size: i64) -> QueryResult<Option<CheckpointRow>> {
    log_checkpoints::table
        .find(tree_size)
        .select(CheckpointRow::as_select())
        .first(conn)
        .optional()
}

/// The newest cosigned checkpoint larger than `above` (a leaf index), if any.
pub fn latest_cosigned_above(conn: &mut DbConn, above: i64) -> QueryResult<Option<CheckpointRow>> {
    log_checkpoints::table
        .filter(log_checkpoints::tree_size.gt(above))
        .filter(
            log_checkpoints::tree_size.eq_any(
                log_cosignatures::table
                    .select(log_cosignatures::tree_size)
                    .distinct(),
            ),
        )
        .order(log_checkpoints::tree_size.desc())
        .select(CheckpointRow::as_select())
        .first(conn)
        .optional()
}

pub fn witnesses(conn: &mut DbConn) -> QueryResult<Vec<WitnessRow>> {
    log_witnesses::table
        .order(log_witnesses::name.asc())
        .select(WitnessRow::as_select())
        .load(conn)
}

pub fn witness(conn: &mut DbConn, name: &str) -> QueryResult<Option<WitnessRow>> {
    log_witnesses::table
        .find(name)
        .select(WitnessRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert_witness(conn: &mut DbConn, row: &WitnessRow) -> QueryResult<()> {
    diesel::insert_into(log_witnesses::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// Stores a cosignature, replacing the witness's earlier one on the same checkpoint.
pub fn upsert_cosignature(conn: &mut DbConn, row: &CosignatureRow) -> QueryResult<()> {
    diesel::delete(
        log_cosignatures::table
            .filter(log_cosignatures::witness.eq(&row.witness))
            .filter(log_cosignatures::tree_size.eq(row.tree_size)),
    )
    .execute(conn)?;
    diesel::insert_into(log_cosignatures::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// Cosignatures on the checkpoint of `tree_size`, by witness name.
pub fn cosignatures(conn: &mut DbConn, tree_size: i64) -> QueryResult<Vec<CosignatureRow>> {
    log_cosignatures::table
        .filter(log_cosignatures::tree_size.eq(tree_size))
        .order(log_cosignatures::witness.asc())
        .select(CosignatureRow::as_select())
        .load(conn)
}

/// Whether certificates issued before the log existed still wait to be queued.
pub fn backfill_due(conn: &mut DbConn) -> QueryResult<bool> {
    log_backfill::table
        .count()
        .get_result::<i64>(conn)
        .map(|n| n > 0)
}

/// Marks the backfill done.
pub fn backfill_done(conn: &mut DbConn) -> QueryResult<()> {
    diesel::delete(log_backfill::table).execute(conn).map(drop)
}

/// Certificates signed with `kid` whose entry was sequenced before `before`, with that time.
pub fn logged_before(
    conn: &mut DbConn,
    kid: &str,
    before: NaiveDateTime,
) -> QueryResult<Vec<(String, NaiveDateTime)>> {
    use crate::db::schema::certificates;
    log_entries::table
        .inner_join(certificates::table.on(certificates::id.eq(log_entries::certificate_id)))
        .filter(log_entries::seq.eq(0))
        .filter(certificates::kid.eq(kid))
        .filter(log_entries::sequenced_at.lt(before))
        .order(log_entries::certificate_id.asc())
        .select((log_entries::certificate_id, log_entries::sequenced_at))
        .load(conn)
}

/// The witness's newest cosignature, if any.
pub fn latest_cosignature(conn: &mut DbConn, witness: &str) -> QueryResult<Option<CosignatureRow>> {
    log_cosignatures::table
        .filter(log_cosignatures::witness.eq(witness))
        .order(log_cosignatures::tree_size.desc())
        .select(CosignatureRow::as_select())
        .first(conn)
        .optional()
}

/// When the newest cosignature of any witness was made, if any.
pub fn latest_cosigned_at(conn: &mut DbConn) -> QueryResult<Option<NaiveDateTime>> {
    log_cosignatures::table
        .select(diesel::dsl::max(log_cosignatures::signed_at))
        .first(conn)
}

/// When the first witness still registered was registered, if any.
pub fn first_witness_registered_at(conn: &mut DbConn) -> QueryResult<Option<NaiveDateTime>> {
    log_witnesses::table
        .select(diesel::dsl::min(log_witnesses::created_at))
        .first(conn)
}

/// Whether any witness is registered.
pub fn has_witnesses(conn: &mut DbConn) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        log_witnesses::table.select(log_witnesses::name),
    ))
    .get_result(conn)
}

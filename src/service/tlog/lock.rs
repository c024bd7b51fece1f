//! The log's writer lock, held for a transaction: one sequencer round (or the one-time
//! backfill) at a time, so the tree has one history.

use diesel::connection::SimpleConnection;
use diesel::sql_types::Bool;
use diesel::RunQueryDsl;

use crate::db::DbConn;
use crate::error::AppResult;

/// The PostgreSQL advisory lock class of the sequencer ("cert" in ASCII); the second key is
/// the schema's hash, so logs in different schemas of one database do not wait for each other.
const LOCK_CLASS: i32 = 0x6365_7274;

/// Takes the sequencer's lock for this transaction: `false` if another holds it (with `wait`,
/// waits for it instead).
pub fn take(conn: &mut DbConn, wait: bool) -> AppResult<bool> {
    #[derive(diesel::QueryableByName)]
    struct Locked {
        #[diesel(sql_type = Bool)]
        locked: bool,
    }
    match conn {
        DbConn::Pg(c) => {
            let key = format!("{LOCK_CLASS}, hashtext(current_schema())");
            let query = match wait {
                true => format!("SELECT pg_advisory_xact_lock({key}) IS NULL AS locked"),
                false => format!("SELECT pg_try_advisory_xact_lock({key}) AS locked"),
            };
            let got: Locked = diesel::sql_query(query).get_result(c)?;
            Ok(wait || got.locked)
        }
        // A write takes SQLite's one write lock for the rest of the transaction.
        DbConn::Sqlite(c) => {
            c.batch_execute("DELETE FROM log_pending WHERE 0")?;
            Ok(true)
        }
    }
}

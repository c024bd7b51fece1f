//! What the log publishes beyond its tree: the checkpoint with the witnesses' cosignatures,
//! the log's description (`GET /api/v1/log`), witness registration (admin) and the
//! cosignatures witnesses hand back.

use serde::{Deserialize, Serialize};

use crate::db::models::tlog::{self as logdb, CosignatureRow, WitnessRow};
use crate::db::models::{now, Organization};
use crate::db::DbConn;
use crate::domain::payload::rfc3339_seconds;
use crate::error::{AppError, AppResult};
use crate::service::{Actor, AppState};

use crate::service::tlog::note::{self, CosignatureVerifier};

/// A witness as the log lists it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WitnessInfo {
    pub name: String,
    /// `name+hex4+base64(0x01 ‖ key)`; its cosignatures use key id SHA-256(name ‖ "\n" ‖
    /// 0x04 ‖ key)[:4] (C2SP tlog-cosignature).
    pub verifier_key: String,
    /// The regulator running it, when registered as one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// The largest tree it cosigned, and when (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cosigned_tree_size: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cosigned_at: Option<String>,
}

/// `GET /api/v1/log`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LogInfo {
    /// The checkpoint origin line.
    pub origin: String,
    pub tree_size: u64,
    /// The log's note verifier key.
    pub verifier_key: String,
    pub witnesses: Vec<WitnessInfo>,
    /// Entries written but not yet sequenced.
    pub pending: i64,
}

pub fn info(state: &AppState) -> AppResult<LogInfo> {
    let mut conn = state.db.reader()?;
    info_on(state, &mut conn)
}

/// The log's description, read on `conn`.
pub fn info_on(state: &AppState, conn: &mut DbConn) -> AppResult<LogInfo> {
    let tree_size = logdb::latest_checkpoint(conn)?.map_or(0, |c| c.tree_size as u64);
    let (pending, _) = logdb::backlog(conn)?;
    Ok(LogInfo {
        origin: state.log.origin().to_string(),
        tree_size,
        verifier_key: state.log.verifier_key().to_string(),
        witnesses: witness_infos(conn)?,
        pending,
    })
}

fn witness_infos(conn: &mut DbConn) -> AppResult<Vec<WitnessInfo>> {
    let mut out = vec![];
    for w in logdb::witnesses(conn)? {
        let Some(key) = crate::crypto::signing::verifying_key(&w.public_key) else {
            continue;
        };
        let organization = match &w.organization_id {
            Some(id) => Organization::find(conn, id)?.map(|o| o.name),
            None => None,
        };
        let latest = logdb::latest_cosignature(conn, &w.name)?;
        out.push(WitnessInfo {
            verifier_key: note::witness_verifier_key(&w.name, &key),
            name: w.name,
            organization,
            cosigned_tree_size: latest.as_ref().map(|c| c.tree_size),
            cosigned_at: latest.map(|c| rfc3339_seconds(c.signed_at.and_utc())),
        });
    }
    Ok(out)
}

/// The newest checkpoint with every cosignature witnesses made on it (`GET /log/checkpoint`);
/// `None` before the first entry is sequenced.
pub fn served_checkpoint(conn: &mut DbConn) -> AppResult<Option<String>> {
    let Some(latest) = logdb::latest_checkpoint(conn)? else {
        return Ok(None);
    };
    with_cosignatures(conn, &latest.note, latest.tree_size).map(Some)
}

/// `note` followed by the stored cosignature lines on the checkpoint of `tree_size`.
pub fn with_cosignatures(conn: &mut DbConn, note: &str, tree_size: i64) -> AppResult<String> {
    let mut text = note.to_string();
    for c in logdb::cosignatures(conn, tree_size)? {
        text.push_str(c.line.trim_end_matches('\n'));
        text.push('\n');
    }
    Ok(text)
}

/// `POST /api/v1/log/witnesses` (admin).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWitness {
    /// The witness's verifier key, as `certrail witness init` prints it.
    pub verifier_key: String,
    /// The regulator running the witness.
    pub organization_id: Option<String>,
}

pub fn register(state: &AppState, actor: &Actor, req: NewWitness) -> AppResult<WitnessInfo> {
    actor.require_admin()?;
    let (name, key) = note::parse_verifier_key(&req.verifier_key).map_err(|e| {
        AppError::invalid(
            "invalid_verifier_key",
            "verifier_key",
            format!("not a note verifier key (name+hex4+base64): {e}"),
        )
    })?;
    if !note::is_key_name(&name) {
        return Err(AppError::invalid(
            "invalid_verifier_key",
            "verifier_key",
            "the key name must be short, without spaces or +",
        ));
    }
    state.write(|conn| {
        let organization = match &req.organization_id {
            Some(id) => Some(
                Organization::find(conn, id)?
                    .filter(|o| o.kind == "regulator")
                    .ok_or_else(|| {
                        AppError::invalid(
                            "unknown_regulator",
                            "organization_id",
                            "no regulator has this id",
                        )
                    })?,
            ),
            None => None,
        };
        if logdb::witness(conn, &name)?.is_some() {
            return Err(AppError::Conflict {
                code: "witness_exists",
                message: format!("a witness named {name} is registered already"),
            });
        }
        logdb::insert_witness(
            conn,
            &WitnessRow {
                name: name.clone(),
                public_key: key.as_bytes().to_vec(),
                organization_id: organization.as_ref().map(|o| o.id.clone()),
                created_at: now(),
            },
        )?;
        Ok(WitnessInfo {
            verifier_key: note::witness_verifier_key(&name, &key),
            name,
            organization: organization.map(|o| o.name),
            cosigned_tree_size: None,
            cosigned_at: None,
        })
    })
}

/// `POST /api/v1/log/cosignatures`: a witness hands back its cosignature on a checkpoint.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Cosigned {
    /// The tree size of the checkpoint cosigned.
    pub tree_size: u64,
    /// The cosignature line (`— name base64(keyid ‖ timestamp ‖ signature)`).
    pub cosignature: String,
}

/// Stores a witness's cosignature after checking it against the log's own checkpoint of that
/// size and the witness's registered key. Needs no token: the signature is the credential.
pub fn accept(state: &AppState, req: Cosigned) -> AppResult<()> {
    let bad = |m: &str| AppError::invalid("invalid_cosignature", "cosignature", m.to_string());
    let size = i64::try_from(req.tree_size).map_err(|_| bad("no such checkpoint"))?;
    let line = req.cosignature.trim_end_matches('\n');
    let name = line
        .strip_prefix("— ")
        .and_then(|l| l.split(' ').next())
        .ok_or_else(|| bad("not a note signature line"))?;
    // Checked on a reader: only a valid cosignature takes the writer.
    let (witness, signed_at) = {
        let mut conn = state.db.reader()?;
        let witness = logdb::witness(&mut conn, name)?
            .ok_or_else(|| bad("no witness of this name is registered"))?;
        let checkpoint =
            logdb::checkpoint(&mut conn, size)?.ok_or_else(|| bad("no such checkpoint"))?;
        let text = note::note_text(&checkpoint.note)
            .ok_or_else(|| AppError::internal("stored checkpoint is not a note"))?;
        let key = crate::crypto::signing::verifying_key(&witness.public_key)
            .ok_or_else(|| AppError::internal("stored witness key is malformed"))?;
        let timestamp = CosignatureVerifier::new(&witness.name, key)
            .check(text.as_bytes(), line)
            .ok_or_else(|| bad("the cosignature does not verify for this checkpoint"))?;
        let signed_at = chrono::DateTime::from_timestamp(timestamp as i64, 0)
            .ok_or_else(|| bad("the cosignature's time is out of range"))?
            .naive_utc();
        // A replayed or older cosignature changes nothing (and takes no write lock).
        let kept = logdb::cosignatures(&mut conn, size)?
            .into_iter()
            .find(|c| c.witness == witness.name);
        if kept.is_some_and(|c| c.signed_at >= signed_at) {
            return Ok(());
        }
        (witness, signed_at)
    };
    state.write(|conn| {
        logdb::upsert_cosignature(
            conn,
            &CosignatureRow {
                witness: witness.name,
                tree_size: size,
                signed_at,
                line: line.to_string(),
            },
        )?;
        Ok(())
    })
}

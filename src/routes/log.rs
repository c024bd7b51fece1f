//! The transparency log over HTTP (contract §9): the checkpoint and tiles as C2SP tlog-tiles
//! static-looking resources under `/log`, and JSON under `/api/v1/log` (description,
//! consistency proofs, witness registration, cosignatures).

use crate::db::models::tlog as logdb;
use crate::error::AppError;
use crate::error::AppResult;
use crate::error::ErrorEnvelope;
use crate::http::extract::blocking;
use crate::http::extract::Auth;
use crate::http::extract::ValidJson;
use crate::routes::State;
use crate::service::tlog::entry;
use crate::service::tlog::tree;
use crate::service::tlog::tree::StoredHashes;
use crate::service::tlog::tree::TilePath;
use crate::service::tlog::witnesses;
use crate::service::tlog::witnesses::Cosigned;
use crate::service::tlog::witnesses::LogInfo;
use crate::service::tlog::witnesses::NewWitness;
use crate::service::tlog::witnesses::WitnessInfo;
use actix_web::http::header;
use actix_web::web;
use actix_web::HttpResponse;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Deserialize;
use serde::Serialize;

#[utoipa::path(get, path = "/log/checkpoint", tag = "transparency log",
    responses((status = 200, content_type = "text/plain", body = String,
        description = "The latest C2SP checkpoint: origin, tree size, base64 root, then the log's signature line and witness cosignatures")))]
pub async fn checkpoint(state: State) -> AppResult<HttpResponse> {
    let text = blocking(&state, |s| {
        let mut conn = s.db.reader()?;
        match witnesses::served_checkpoint(&mut conn)? {
            Some(text) => Ok(text),
            // An empty log still has a signed (empty) tree head.
            None => Ok(s.log.sign_checkpoint(0, tlog_tiles::EMPTY_HASH)),
        }
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache, max-age=1"))
        .body(text))
}

#[utoipa::path(get, path = "/log/tile/{path}", tag = "transparency log",
    params(("path" = String, Path, description = "`<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]`, as in C2SP tlog-tiles (height 8)")),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>),
              (status = 404, body = ErrorEnvelope, description = "Not a tile path, or beyond the tree")))]
pub async fn tile(state: State, path: web::Path<String>) -> AppResult<HttpResponse> {
    let tile = TilePath::parse(&path).ok_or_else(|| AppError::not_found("tile"))?;
    let body = blocking(&state, move |s| {
        let mut conn = s.db.reader()?;
        let size = logdb::latest_checkpoint(&mut conn)?.map_or(0, |c| c.tree_size as u64);
        let level = tile.level.unwrap_or(0);
        if !tree::tile_exists(size, level, tile.n, tile.width) {
            return Err(AppError::not_found("tile"));
        }
        match tile.level {
            Some(level) => StoredHashes::new(&mut conn)
                .tile(level, tile.n, tile.width)?
                .map_err(|e| AppError::internal_from("log tile", e)),
            None => entry::tile(&mut conn, tile.n, tile.width),
        }
    })
    .await?;
    // Every tile served is final: a partial tile keeps its width's content forever.
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(body))
}

#[utoipa::path(get, path = "/api/v1/log", tag = "transparency log", responses((status = 200, body = LogInfo)))]
pub async fn info(state: State) -> AppResult<HttpResponse> {
    let info = blocking(&state, witnesses::info).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .json(info))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    /// The smaller tree size (0 gives an empty proof).
    pub from: u64,
    /// The larger tree size, at most the latest checkpoint's.
    pub to: u64,
}

/// `{"proof": [base64 hashes]}` (RFC 6962 §2.1.2).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConsistencyProof {
    pub proof: Vec<String>,
}

#[utoipa::path(get, path = "/api/v1/log/consistency", tag = "transparency log", params(ConsistencyQuery),
    responses((status = 200, body = ConsistencyProof), (status = 400, body = ErrorEnvelope, description = "invalid_query: from or to missing or not a whole number"), (status = 422, body = ErrorEnvelope)))]
pub async fn consistency(
    state: State,
    query: crate::http::params::Query<ConsistencyQuery>,
) -> AppResult<HttpResponse> {
    let ConsistencyQuery { from, to } = query.into_inner();
    let proof = blocking(&state, move |s| {
        let mut conn = s.db.reader()?;
        let size = logdb::latest_checkpoint(&mut conn)?.map_or(0, |c| c.tree_size as u64);
        if from > to || to > size {
            return Err(AppError::invalid(
                "invalid_tree_size",
                "to",
                format!("need from <= to <= {size} (the latest checkpoint's size)"),
            ));
        }
        StoredHashes::new(&mut conn)
            .consistency(from, to)?
            .map_err(|e| AppError::internal_from("log consistency", e))
    })
    .await?;
    Ok(HttpResponse::Ok().json(ConsistencyProof {
        proof: proof.iter().map(|h| STANDARD.encode(h.0)).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/log/witnesses", tag = "transparency log", request_body = NewWitness, security(("bearer" = [])),
    responses((status = 201, body = WitnessInfo), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn add_witness(
    state: State,
    Auth(actor): Auth,
    body: ValidJson<NewWitness>,
) -> AppResult<HttpResponse> {
    let witness = blocking(&state, move |s| witnesses::register(s, &actor, body.0)).await?;
    Ok(HttpResponse::Created().json(witness))
}

#[utoipa::path(post, path = "/api/v1/log/cosignatures", tag = "transparency log", request_body = Cosigned,
    responses((status = 204, description = "Stored; served with the checkpoint from now on"), (status = 422, body = ErrorEnvelope)))]
pub async fn add_cosignature(state: State, body: ValidJson<Cosigned>) -> AppResult<HttpResponse> {
    blocking(&state, move |s| witnesses::accept(s, body.0)).await?;
    Ok(HttpResponse::NoContent().finish())
}

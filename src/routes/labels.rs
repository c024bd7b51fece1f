//! Label exports for printing: `POST /api/v1/labels.pdf` (an A4 sheet) and
//! `POST /api/v1/labels.zip` (one PNG per label, streamed as it is rendered).

use std::io::Write;

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use crate::error::{AppError, AppResult};
use crate::print;
use crate::service::labels::{self, ExportRequest};
use crate::service::AppState;

use crate::http::extract::{blocking, Auth, ValidJson};
use crate::openapi::ErrorEnvelope;

/// Largest export request: 10,000 ids of 16 characters in JSON, with room.
pub const EXPORT_LIMIT_BYTES: usize = 512 * 1024;
/// Bytes handed to the client at a time while streaming.
const STREAM_CHUNK: usize = 256 * 1024;

type State = web::Data<AppState>;

fn attachment(name: &str) -> (header::HeaderName, String) {
    (
        header::CONTENT_DISPOSITION,
        format!("attachment; filename=\"{name}\""),
    )
}

#[utoipa::path(post, path = "/api/v1/labels.pdf", tag = "certificates", request_body = ExportRequest, security(("bearer" = [])),
    responses((status = 200, description = "An A4 sheet of labels, 20 a page", content_type = "application/pdf"),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn export_pdf(
    state: State,
    Auth(actor): Auth,
    ValidJson(req): ValidJson<ExportRequest>,
) -> AppResult<HttpResponse> {
    let pdf = blocking(&state, move |s| {
        let labels = labels::export(s, &actor, &req)?;
        print::pdf::render(&labels).map_err(|e| AppError::internal_from("label sheet", e))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header(attachment("labels.pdf"))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(pdf))
}

#[utoipa::path(post, path = "/api/v1/labels.zip", tag = "certificates", request_body = ExportRequest, security(("bearer" = [])),
    responses((status = 200, description = "A ZIP of PNG labels, streamed", content_type = "application/zip"),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn export_zip(
    state: State,
    Auth(actor): Auth,
    ValidJson(req): ValidJson<ExportRequest>,
) -> AppResult<HttpResponse> {
    // Checks and signing happen before the answer starts, so errors still get the envelope.
    let labels = blocking(&state, move |s| labels::export(s, &actor, &req)).await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<web::Bytes>(4);
    actix_web::rt::task::spawn_blocking(move || {
        let mut out = std::io::BufWriter::with_capacity(STREAM_CHUNK, ChannelWriter(tx));
        if let Err(e) = print::zip::write(&labels, &mut out).and_then(|()| out.flush()) {
            log::warn!("label ZIP export stopped: {e}");
        }
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|chunk| (Ok::<_, std::convert::Infallible>(chunk), rx))
    });
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header(attachment("labels.zip"))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .streaming(body))
}

/// Hands written bytes to the response stream; fails once the client has gone away, which
/// stops the rendering.
struct ChannelWriter(tokio::sync::mpsc::Sender<web::Bytes>);

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .blocking_send(web::Bytes::copy_from_slice(buf))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client gone"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

//! Label images (a certificate's QR code, a unit's, a GS1 Digital Link, an offline label) and
//! exports for printing: `POST /api/v1/labels.pdf` (an A4 sheet) and
//! `POST /api/v1/labels.zip` (one PNG per label, streamed as it is rendered).

use crate::error::AppError;
use crate::error::AppResult;
use crate::error::ErrorEnvelope;
use crate::http::extract::blocking;
use crate::http::extract::Auth;
use crate::http::extract::ValidJson;
use crate::print;
use crate::qr;
use crate::routes::State;
use crate::service::issuance::label_images;
use crate::service::issuance::labels;
use crate::service::issuance::labels::ExportRequest;
use actix_web::http::header;
use actix_web::web;
use actix_web::HttpResponse;
use serde::Deserialize;
use std::io::Write;

/// Largest export request: 10,000 ids of 16 characters in JSON, with room.
pub const EXPORT_LIMIT_BYTES: usize = 512 * 1024;

/// Bytes handed to the client at a time while streaming.
const STREAM_CHUNK: usize = 256 * 1024;

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

/// Path of a batch label: `/api/v1/certificates/{id}/qr.{format}`.
#[derive(Deserialize)]
pub struct BatchLabelPath {
    id: String,
    format: String,
}

/// Path of a unit label: `/api/v1/certificates/{id}/units/{serial}/qr.{format}`.
#[derive(Deserialize)]
pub struct UnitLabelPath {
    id: String,
    serial: i64,
    format: String,
}

/// Whose a label is: public labels are kept once rendered, unit labels never.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Audience {
    Public,
    Producer,
}

/// The label image of `content` as PNG or SVG, rendered on a blocking thread (public labels
/// once, then from [`label_images::PUBLIC`]).
async fn label_response(
    state: &State,
    content: String,
    format: &str,
    audience: Audience,
) -> AppResult<HttpResponse> {
    let Some(format) = label_images::Format::parse(format) else {
        return Err(AppError::NotFound("labels come as qr.png or qr.svg".into()));
    };
    let image = blocking(state, move |_| {
        match audience {
            Audience::Public => label_images::PUBLIC.public(&content, format),
            Audience::Producer => label_images::render(&content, format),
        }
        .map_err(|e| match e {
            qr::QrError::TooLong(_) => AppError::invalid(
                "label_too_large",
                "id",
                "the certificate holds too much to fit in one QR code: print its online label",
            ),
            other => AppError::internal_from("QR code", other),
        })
    })
    .await?;
    let cache = match audience {
        Audience::Public => "public, max-age=86400",
        Audience::Producer => "private, no-store",
    };
    Ok(HttpResponse::Ok()
        .content_type(format.content_type())
        .insert_header((header::CACHE_CONTROL, cache))
        .body(image))
}

#[utoipa::path(get, path = "/api/v1/certificates/{id}/qr.{format}", tag = "certificates",
    params(("id" = String, Path), ("format" = String, Path, description = "png (image/png) or svg (image/svg+xml)")),
    responses((status = 200, description = "The batch label: a QR code of the verify URL", content_type = "image/png"), (status = 404, body = ErrorEnvelope)))]
pub async fn batch_qr(state: State, path: web::Path<BatchLabelPath>) -> AppResult<HttpResponse> {
    let BatchLabelPath { id, format } = path.into_inner();
    let url = blocking(&state, move |s| labels::batch_label(s, &id)).await?;
    label_response(&state, url, &format, Audience::Public).await
}

#[utoipa::path(get, path = "/api/v1/certificates/{id}/dl-qr.{format}", tag = "certificates",
    params(("id" = String, Path), ("format" = String, Path, description = "png or svg")),
    responses((status = 200, content_type = "image/png",
        description = "The batch label as a GS1 Digital Link: `{PUBLIC_URL}/01/{GTIN-14}/10/{batch}?s={signature}`, resolved by the platform (and by GS1 resolvers, which pass `s` on)"),
        (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope, description = "no_digital_link: the product has no GTIN, or the batch number does not fit GS1 AI 10")))]
pub async fn digital_link_qr(
    state: State,
    path: web::Path<BatchLabelPath>,
) -> AppResult<HttpResponse> {
    let BatchLabelPath { id, format } = path.into_inner();
    let url = blocking(&state, move |s| {
        crate::service::interop::digital_link::batch_label(s, &id)
    })
    .await?;
    label_response(&state, url, &format, Audience::Public).await
}

#[utoipa::path(get, path = "/api/v1/certificates/{id}/offline-qr.png", tag = "certificates",
    params(("id" = String, Path)),
    responses((status = 200, content_type = "image/png",
        description = "The offline batch label (contract §10): the batch label URL plus `&p=`, base64url (no padding) of the canonical payload compressed with raw DEFLATE (RFC 1951). Phones ignore `p`; `certrail verify --bundle` checks the signature from the label alone"),
        (status = 404, body = ErrorEnvelope)))]
pub async fn offline_qr(state: State, id: web::Path<String>) -> AppResult<HttpResponse> {
    let url = blocking(&state, move |s| labels::offline_batch_label(s, &id)).await?;
    label_response(&state, url, "png", Audience::Public).await
}

#[utoipa::path(get, path = "/api/v1/certificates/{id}/units/{serial}/qr.{format}", tag = "certificates", security(("bearer" = [])),
    params(("id" = String, Path), ("serial" = i64, Path), ("format" = String, Path, description = "png (image/png) or svg (image/svg+xml)")),
    responses((status = 200, description = "A unit label, for the issuing producer only", content_type = "image/png"), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn unit_qr(
    state: State,
    Auth(actor): Auth,
    path: web::Path<UnitLabelPath>,
) -> AppResult<HttpResponse> {
    let UnitLabelPath { id, serial, format } = path.into_inner();
    let url = blocking(&state, move |s| labels::unit_label(s, &actor, &id, serial)).await?;
    label_response(&state, url, &format, Audience::Producer).await
}

//! Files to print or hand on: labels in bulk (one A4 PDF sheet or a ZIP of PNG files, rendered
//! on every core) and regulators' reports (CSV and .xlsx). Codes use a fixed mask ([`Mask::Fixed`]): mask scoring is most of a code's cost.

pub mod csv_out;
pub mod font;
pub mod pdf;
pub mod statistics;
pub mod zip;

use rayon::prelude::*;

use crate::qr::{Mask, Matrix, QrError};

/// Labels rendered at once before they are written out (bounds memory while streaming).
const RENDER_CHUNK: usize = 512;

/// One label to print.
#[derive(Debug, Clone)]
pub struct PrintLabel {
    /// What the QR code holds.
    pub url: String,
    /// Short lines printed under the code (ASCII).
    pub caption: Vec<String>,
    /// File name in a ZIP.
    pub file_name: String,
}

/// Builds the codes of `labels` in parallel, a chunk at a time, and hands each chunk to
/// `write` in order together with its labels.
fn render_chunks<T: Send>(
    labels: &[PrintLabel],
    render: impl Fn(Matrix) -> Result<T, QrError> + Sync,
    mut write: impl FnMut(&[PrintLabel], Vec<T>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    for chunk in labels.chunks(RENDER_CHUNK) {
        let rendered = chunk
            .par_iter()
            .map(|label| Matrix::new(&label.url, Mask::Fixed).and_then(&render))
            .collect::<Result<Vec<T>, QrError>>()
            .map_err(std::io::Error::other)?;
        write(chunk, rendered)?;
    }
    Ok(())
}

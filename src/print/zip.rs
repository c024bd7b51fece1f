//! A ZIP of PNG labels, written as a stream (no seeking back), entries stored uncompressed
//! (PNG data is already deflated).

use std::io::Write;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::{render_chunks, PrintLabel};

/// Writes `labels` as a ZIP archive of PNG files to `out`.
pub fn write<W: Write>(labels: &[PrintLabel], out: W) -> std::io::Result<()> {
    let mut zip = ZipWriter::new_stream(out);
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    render_chunks(
        labels,
        |matrix| matrix.png(),
        |chunk, pngs| {
            for (label, png) in chunk.iter().zip(pngs) {
                zip.start_file(label.file_name.as_str(), options)
                    .map_err(std::io::Error::other)?;
                zip.write_all(&png)?;
            }
            Ok(())
        },
    )?;
    zip.finish().map_err(std::io::Error::other)?;
    Ok(())
}

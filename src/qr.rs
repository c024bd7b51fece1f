//! QR label rendering: PNG and SVG at error correction level M (contract §3).

use std::io::Cursor;

use image::{ImageFormat, Luma};
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// Pixels per module in PNG labels (about 2.5 cm at 300 dpi for a version 8 code).
const PNG_MODULE_PX: u32 = 6;

#[derive(Debug, thiserror::Error)]
pub enum QrError {
    #[error("content does not fit in a QR code: {0}")]
    TooLong(String),
    #[error("PNG encoding failed: {0}")]
    Png(String),
}

fn encode(content: &str) -> Result<QrCode, QrError> {
    QrCode::with_error_correction_level(content.as_bytes(), EcLevel::M)
        .map_err(|e| QrError::TooLong(e.to_string()))
}

/// The QR version (1..=40) `content` needs at level M.
pub fn version(content: &str) -> Result<i16, QrError> {
    match encode(content)?.version() {
        qrcode::Version::Normal(v) | qrcode::Version::Micro(v) => Ok(v),
    }
}

/// A PNG of the QR code of `content`, with the standard 4-module quiet zone.
pub fn png(content: &str) -> Result<Vec<u8>, QrError> {
    let image = encode(content)?
        .render::<Luma<u8>>()
        .module_dimensions(PNG_MODULE_PX, PNG_MODULE_PX)
        .build();
    let mut out = Cursor::new(Vec::new());
    image
        .write_to(&mut out, ImageFormat::Png)
        .map_err(|e| QrError::Png(e.to_string()))?;
    Ok(out.into_inner())
}

/// An SVG of the QR code of `content`.
pub fn svg(content: &str) -> Result<String, QrError> {
    Ok(encode(content)?
        .render::<svg::Color<'_>>()
        .min_dimensions(240, 240)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_url_fits_small_versions() {
        let url = format!(
            "https://certrail.example.cn/v/{}?s={}",
            "A".repeat(16),
            "B".repeat(86)
        );
        let v = version(&url).unwrap();
        assert!(v <= 10, "version {v}");
        assert!(png(&url).unwrap().starts_with(b"\x89PNG"));
        assert!(svg(&url).unwrap().contains("<svg"));
    }
}

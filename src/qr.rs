//! QR label rendering: PNG and SVG at error correction level M (contract §3).
//!
//! Choosing the mask with the lowest ISO/IEC 18004 penalty costs about 90% of building a
//! code (measured with perf on `qr_matrix`). Single labels get the best mask; bulk exports,
//! whose content is mostly a random signature where every mask scores alike, use a fixed one.

use std::io::Cursor;

use image::{GrayImage, ImageFormat, Luma};
use qrcode::canvas::{Canvas, MaskPattern};
use qrcode::render::svg;
use qrcode::{bits, ec, EcLevel, QrCode};

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

/// Modules of the quiet zone around a code.
pub const QUIET_ZONE: usize = 4;

/// How the mask pattern is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mask {
    /// The lowest penalty score of all eight (as `QrCode` does).
    Best,
    /// Pattern 000 without scoring: about ten times faster.
    Fixed,
}

/// The modules of a QR code at level M, row by row, without the quiet zone.
#[derive(Debug, Clone)]
pub struct Matrix {
    pub width: usize,
    dark: Vec<bool>,
}

impl Matrix {
    pub fn new(content: &str, mask: Mask) -> Result<Self, QrError> {
        let too_long = |e: qrcode::types::QrError| QrError::TooLong(e.to_string());
        let bits = bits::encode_auto(content.as_bytes(), EcLevel::M).map_err(too_long)?;
        let version = bits.version();
        let (data, ec_data) =
            ec::construct_codewords(&bits.into_bytes(), version, EcLevel::M).map_err(too_long)?;
        let mut canvas = Canvas::new(version, EcLevel::M);
        canvas.draw_all_functional_patterns();
        canvas.draw_data(&data, &ec_data);
        let canvas = match mask {
            Mask::Best => canvas.apply_best_mask(),
            Mask::Fixed => {
                canvas.apply_mask(MaskPattern::Checkerboard);
                canvas
            }
        };
        let dark: Vec<bool> = canvas
            .into_colors()
            .into_iter()
            .map(|c| c == qrcode::Color::Dark)
            .collect();
        let width = version.width() as usize;
        Ok(Self { width, dark })
    }

    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        self.dark[y * self.width + x]
    }

    /// A grayscale image with the quiet zone, `scale` pixels per module.
    pub fn image(&self, scale: u32) -> GrayImage {
        let side = (self.width + 2 * QUIET_ZONE) as u32;
        GrayImage::from_fn(side * scale, side * scale, |px, py| {
            let (x, y) = ((px / scale) as usize, (py / scale) as usize);
            let inside = QUIET_ZONE..QUIET_ZONE + self.width;
            let dark = inside.contains(&x)
                && inside.contains(&y)
                && self.is_dark(x - QUIET_ZONE, y - QUIET_ZONE);
            Luma([if dark { 0 } else { 255 }])
        })
    }

    /// The PNG label, 6 pixels per module.
    pub fn png(&self) -> Result<Vec<u8>, QrError> {
        let mut out = Cursor::new(Vec::new());
        self.image(PNG_MODULE_PX)
            .write_to(&mut out, ImageFormat::Png)
            .map_err(|e| QrError::Png(e.to_string()))?;
        Ok(out.into_inner())
    }

    /// One bit per module (1 = white, as PDF's DeviceGray reads it), each row padded to a
    /// whole byte, without the quiet zone.
    pub fn packed_rows(&self) -> Vec<u8> {
        let stride = self.width.div_ceil(8);
        let mut out = vec![0u8; stride * self.width];
        for y in 0..self.width {
            for x in 0..self.width {
                if !self.is_dark(x, y) {
                    out[y * stride + x / 8] |= 0x80 >> (x % 8);
                }
            }
        }
        out
    }
}

/// A PNG of the QR code of `content`, with the standard 4-module quiet zone.
pub fn png(content: &str) -> Result<Vec<u8>, QrError> {
    Matrix::new(content, Mask::Best)?.png()
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

    #[test]
    fn both_masks_decode_to_the_content() {
        let url = "https://certrail.example.cn/v/AAAAAAAAAAAAAAAA?s=BBBBBBBBBBBBBBBBBBBBBB";
        for mask in [Mask::Best, Mask::Fixed] {
            let matrix = Matrix::new(url, mask).unwrap();
            let image = matrix.image(4);
            let mut prepared = rqrr::PreparedImage::prepare(image);
            let grids = prepared.detect_grids();
            assert_eq!(grids.len(), 1, "{mask:?}");
            assert_eq!(grids[0].decode().unwrap().1, url, "{mask:?}");
            assert_eq!(
                matrix.packed_rows().len(),
                matrix.width * matrix.width.div_ceil(8)
            );
        }
    }
}

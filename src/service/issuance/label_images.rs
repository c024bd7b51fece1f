//! QR labels as images. Rendering one costs milliseconds of CPU (an offline label, which
//! carries its payload, about 12 ms), so it runs on the blocking threads, never on an HTTP
//! worker, and the public labels (batch, Digital Link, offline) are kept in a bounded cache
//! keyed by format and what the code holds. A label's content is fixed when its certificate is
//! issued (id, signature, payload, and the platform's public URL), so an entry never goes
//! stale: anything that would change a label changes its key, and nothing else (a status, a
//! trail event) is in the image. Unit labels, for their producer alone, are never kept.

use std::sync::LazyLock;

use actix_web::web::Bytes;
use quick_cache::sync::Cache;
use quick_cache::Weighter;

use crate::qr::{self, QrError};

/// An image format a label comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Png,
    Svg,
}

impl Format {
    /// `png` or `svg`, as label paths end.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "png" => Some(Format::Png),
            "svg" => Some(Format::Svg),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Png => "image/png",
            Format::Svg => "image/svg+xml",
        }
    }
}

/// Memory the cache of public labels may take, keys included (an offline PNG weighs about
/// 10 KB with its key: some 800 labels).
pub const CACHE_BYTES: u64 = 8 << 20;

type Key = (Format, String);

#[derive(Clone)]
struct Weight;

impl Weighter<Key, Bytes> for Weight {
    fn weight(&self, key: &Key, image: &Bytes) -> u64 {
        (key.1.len() + image.len() + 64) as u64
    }
}

/// Rendered labels, bounded by their bytes.
pub struct LabelImages {
    cache: Cache<Key, Bytes, Weight>,
}

impl LabelImages {
    pub fn new(bytes: u64) -> Self {
        Self {
            cache: Cache::with_weighter(1024, bytes, Weight),
        }
    }

    /// The image of a public label with `content`, rendered once (concurrent requests for the
    /// same label wait for that one rendering) and then taken from the cache.
    pub fn public(&self, content: &str, format: Format) -> Result<Bytes, QrError> {
        self.cache
            .get_or_insert_with(&(format, content.to_string()), || render(content, format))
    }

    /// Bytes the cache holds.
    pub fn weight(&self) -> u64 {
        self.cache.weight()
    }
}

/// The process's cache of public labels.
pub static PUBLIC: LazyLock<LabelImages> = LazyLock::new(|| LabelImages::new(CACHE_BYTES));

/// Renders `content` as a label image, without keeping it.
pub fn render(content: &str, format: Format) -> Result<Bytes, QrError> {
    Ok(match format {
        Format::Png => Bytes::from(qr::png(content)?),
        Format::Svg => Bytes::from(qr::svg(content)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_labels_are_rendered_once_and_bounded() {
        let images = LabelImages::new(64 << 10);
        let url = "https://certrail.test/v/Xk3vQ9mT2pLr8WzA?s=QUJD";
        let first = images.public(url, Format::Png).unwrap();
        let again = images.public(url, Format::Png).unwrap();
        // The same buffer: the second request did not render.
        assert_eq!(first.as_ptr(), again.as_ptr());
        assert_eq!(first, render(url, Format::Png).unwrap());
        let svg = images.public(url, Format::Svg).unwrap();
        assert!(svg.starts_with(b"<?xml") && svg != first);
        // Another label is another image; many labels stay within the bound.
        for n in 0..200 {
            let other = images.public(&format!("{url}{n}"), Format::Png).unwrap();
            assert_ne!(other, first);
        }
        assert!(images.weight() <= 64 << 10, "{}", images.weight());
    }
}

//! The font for label captions: a free CJK font (WenQuanYi Micro Hei, which
//! `scripts/setup.sh` installs; or the file `CERTRAIL_LABEL_FONT` names), subset to the
//! characters one sheet uses and embedded as a CID font, so Chinese product names and batch
//! numbers print and can be copied out of the PDF as text.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Finish, Name, Pdf, Rect, Ref, Str};

/// Where Debian installs the fonts `scripts/setup.sh` asks for.
const DEFAULT_PATHS: [&str; 2] = [
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
];

/// A font file and the face in it.
pub struct LabelFont {
    data: Vec<u8>,
    index: u32,
}

/// The font file `CERTRAIL_LABEL_FONT` names (see [`crate::config::Config::label_font`]).
static CONFIGURED: OnceLock<Option<std::path::PathBuf>> = OnceLock::new();

/// Sets the configured font file; the first call wins (one configuration per process).
pub fn configure(path: Option<std::path::PathBuf>) {
    let _ = CONFIGURED.set(path);
}

/// The label font, loaded once: the configured file, else one of Debian's CJK fonts; `None`
/// (captions then print in ASCII only) if none is found.
pub fn label_font() -> Option<&'static LabelFont> {
    static FONT: OnceLock<Option<LabelFont>> = OnceLock::new();
    FONT.get_or_init(|| {
        let configured = CONFIGURED
            .get()
            .and_then(|p| p.as_ref())
            .map(|p| p.display().to_string());
        let paths = configured.iter().map(String::as_str).chain(DEFAULT_PATHS);
        for path in paths {
            if let Ok(data) = std::fs::read(path) {
                if ttf_parser::Face::parse(&data, 0).is_ok() {
                    return Some(LabelFont { data, index: 0 });
                }
                log::warn!("label font {path} cannot be read as a font");
            }
        }
        log::warn!("no CJK label font found (run scripts/setup.sh or set CERTRAIL_LABEL_FONT); label captions print in ASCII only");
        None
    })
    .as_ref()
}

/// The objects an embedded font is written as.
#[derive(Debug, Clone, Copy)]
pub struct FontRefs {
    pub type0: Ref,
    pub cid: Ref,
    pub descriptor: Ref,
    pub file: Ref,
    pub to_unicode: Ref,
}

/// A subset of the label font holding exactly the characters of one document.
pub struct Embedded {
    /// Character → glyph id in the subset (also its CID: the map is the identity).
    glyphs: BTreeMap<char, u16>,
    /// Advance width of each subset glyph, in 1/1000 em.
    widths: BTreeMap<u16, f32>,
    subset: Vec<u8>,
    ascent: f32,
    descent: f32,
    cap_height: f32,
    bbox: Rect,
}

impl LabelFont {
    /// Subsets the font to `text`'s characters (those the font has).
    pub fn embed(&self, text: impl Iterator<Item = char>) -> Option<Embedded> {
        let face = ttf_parser::Face::parse(&self.data, self.index).ok()?;
        let scale = 1000.0 / f32::from(face.units_per_em());
        let mut remapper = subsetter::GlyphRemapper::new();
        let mut glyphs = BTreeMap::new();
        let mut widths = BTreeMap::new();
        for c in text {
            if glyphs.contains_key(&c) {
                continue;
            }
            let Some(gid) = face.glyph_index(c) else {
                continue;
            };
            let new = remapper.remap(gid.0);
            glyphs.insert(c, new);
            let advance = face.glyph_hor_advance(gid).unwrap_or(0);
            widths.insert(new, f32::from(advance) * scale);
        }
        let subset = subsetter::subset(&self.data, self.index, &remapper)
            .map_err(|e| log::warn!("font subsetting failed: {e:?}"))
            .ok()?;
        let b = face.global_bounding_box();
        Some(Embedded {
            glyphs,
            widths,
            subset,
            ascent: f32::from(face.ascender()) * scale,
            descent: f32::from(face.descender()) * scale,
            cap_height: f32::from(face.capital_height().unwrap_or(face.ascender())) * scale,
            bbox: Rect::new(
                f32::from(b.x_min) * scale,
                f32::from(b.y_min) * scale,
                f32::from(b.x_max) * scale,
                f32::from(b.y_max) * scale,
            ),
        })
    }
}

impl Embedded {
    /// `text` as two-byte codes of this font (Identity-H); characters it lacks are left out.
    pub fn encode(&self, text: &str) -> Vec<u8> {
        text.chars()
            .filter_map(|c| self.glyphs.get(&c))
            .flat_map(|gid| gid.to_be_bytes())
            .collect()
    }

    /// Writes the font's objects.
    pub fn write(&self, pdf: &mut Pdf, refs: FontRefs) {
        const NAME: Name = Name(b"CRTRAI+WenQuanYiMicroHei");
        let info = SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"Identity"),
            supplement: 0,
        };
        pdf.type0_font(refs.type0)
            .base_font(NAME)
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(refs.cid)
            .to_unicode(refs.to_unicode);
        let mut cid = pdf.cid_font(refs.cid);
        cid.subtype(CidFontType::Type2)
            .base_font(NAME)
            .system_info(info)
            .font_descriptor(refs.descriptor)
            .default_width(1000.0)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        let mut widths = cid.widths();
        for (gid, width) in &self.widths {
            widths.consecutive(*gid, [*width]);
        }
        widths.finish();
        cid.finish();
        pdf.font_descriptor(refs.descriptor)
            .name(NAME)
            .flags(FontFlags::NON_SYMBOLIC)
            .bbox(self.bbox)
            .italic_angle(0.0)
            .ascent(self.ascent)
            .descent(self.descent)
            .cap_height(self.cap_height)
            .stem_v(80.0)
            .font_file2(refs.file);
        pdf.stream(refs.file, &self.subset);
        let mut cmap = UnicodeCmap::new(Name(b"Custom"), info);
        for (c, gid) in &self.glyphs {
            cmap.pair(*gid, *c);
        }
        pdf.cmap(refs.to_unicode, &cmap.finish());
    }
}

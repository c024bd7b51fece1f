//! An A4 label sheet: 4 × 5 labels a page, each code a 1-bit image drawn without
//! interpolation (a few hundred bytes per label, sharp at any zoom), with its caption under it
//! in the embedded CJK font (ASCII in Helvetica when no such font is installed).

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};

use super::font::{label_font, FontRefs};
use super::{render_chunks, PrintLabel};
use crate::qr::QUIET_ZONE;

const PAGE: (f32, f32) = (595.28, 841.89);
const MARGIN: f32 = 28.0;
const COLUMNS: usize = 4;
const ROWS: usize = 5;
/// Side of a code with its quiet zone, in points (about 37 mm).
const CODE: f32 = 104.0;
const CAPTION_SIZE: f32 = 7.0;

/// A code ready to place: its module grid as packed 1-bit rows.
struct Code {
    width: usize,
    rows: Vec<u8>,
}

/// The sheet as PDF bytes.
pub fn render(labels: &[PrintLabel]) -> std::io::Result<Vec<u8>> {
    let per_page = COLUMNS * ROWS;
    let pages = labels.len().div_ceil(per_page).max(1);
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let font = Ref::new(3);
    let font_refs = FontRefs {
        type0: font,
        cid: Ref::new(4),
        descriptor: Ref::new(5),
        file: Ref::new(6),
        to_unicode: Ref::new(7),
    };
    // Per page: page, content stream, then one image per label.
    let page_base = |p: usize| 8 + (p * (2 + per_page)) as i32;
    let page_ref = |p: usize| Ref::new(page_base(p));
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids((0..pages).map(page_ref))
        .count(pages as i32);
    let captions = labels.iter().flat_map(|l| l.caption.iter());
    let embedded = label_font().and_then(|f| f.embed(captions.flat_map(|line| line.chars())));
    match &embedded {
        Some(embedded) => embedded.write(&mut pdf, font_refs),
        None => {
            pdf.type1_font(font).base_font(Name(b"Helvetica"));
        }
    }
    let mut codes = Vec::with_capacity(labels.len());
    render_chunks(
        labels,
        |matrix| {
            Ok(Code {
                width: matrix.width,
                rows: matrix.packed_rows(),
            })
        },
        |_, chunk| {
            codes.extend(chunk);
            Ok(())
        },
    )?;
    let cell = (
        (PAGE.0 - 2.0 * MARGIN) / COLUMNS as f32,
        (PAGE.1 - 2.0 * MARGIN) / ROWS as f32,
    );
    for page in 0..pages {
        let start = page * per_page;
        let on_page = &labels[start.min(labels.len())..(start + per_page).min(labels.len())];
        let content_ref = Ref::new(page_base(page) + 1);
        let image_ref = |i: usize| Ref::new(page_base(page) + 2 + i as i32);
        let mut content = Content::new();
        for (i, label) in on_page.iter().enumerate() {
            let code = &codes[start + i];
            let (col, row) = (i % COLUMNS, i / COLUMNS);
            let x = MARGIN + col as f32 * cell.0 + (cell.0 - CODE) / 2.0;
            let top = PAGE.1 - MARGIN - row as f32 * cell.1 - 6.0;
            let module = CODE / (code.width + 2 * QUIET_ZONE) as f32;
            let inner = module * code.width as f32;
            let quiet = module * QUIET_ZONE as f32;
            content.save_state();
            content.transform([inner, 0.0, 0.0, inner, x + quiet, top - quiet - inner]);
            content.x_object(Name(format!("Im{i}").as_bytes()));
            content.restore_state();
            content.begin_text();
            content.set_font(Name(b"F1"), CAPTION_SIZE);
            content.next_line(x + quiet, top - CODE - 2.0);
            for line in &label.caption {
                let bytes = match &embedded {
                    Some(embedded) => embedded.encode(line),
                    None => line
                        .chars()
                        .filter(char::is_ascii)
                        .collect::<String>()
                        .into_bytes(),
                };
                content.show(Str(&bytes));
                content.next_line(0.0, -(CAPTION_SIZE + 2.0));
            }
            content.end_text();
        }
        let mut page_writer = pdf.page(page_ref(page));
        page_writer
            .parent(tree)
            .media_box(Rect::new(0.0, 0.0, PAGE.0, PAGE.1))
            .contents(content_ref);
        let mut resources = page_writer.resources();
        resources.fonts().pair(Name(b"F1"), font);
        let mut images = resources.x_objects();
        for i in 0..on_page.len() {
            images.pair(Name(format!("Im{i}").as_bytes()), image_ref(i));
        }
        images.finish();
        resources.finish();
        page_writer.finish();
        pdf.stream(content_ref, &content.finish());
        for i in 0..on_page.len() {
            let code = &codes[start + i];
            let mut image = pdf.image_xobject(image_ref(i), &code.rows);
            image
                .width(code.width as i32)
                .height(code.width as i32)
                .color_space_name(Name(b"DeviceGray"))
                .bits_per_component(1)
                .interpolate(false);
        }
    }
    Ok(pdf.finish())
}

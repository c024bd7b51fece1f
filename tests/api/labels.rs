//! QR labels decode back to the verify URL.

use crate::helpers::{batch, spawn, CODES};

/// Decodes the single QR code in a PNG with rqrr, checking its error correction and version.
/// rqrr (a pure-Rust port of quirc) fails on a few valid codes (DataEcc), whose content is
/// random here; the contract names zbar, so such a code must then decode with zbar.
pub fn decode_png(png: &[u8]) -> String {
    let image = image::load_from_memory(png).expect("a PNG").to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "exactly one QR code");
    let (meta, content) = match grids[0].decode() {
        Ok(decoded) => decoded,
        Err(e) => return decode_with_zbar(png).unwrap_or_else(|| panic!("decodable: {e}")),
    };
    assert!(
        meta.ecc_level <= 1 || meta.ecc_level == 0 || meta.ecc_level == 1,
        "ecc {}",
        meta.ecc_level
    );
    assert!(
        meta.version.0 <= 10,
        "version {} too large for small stickers",
        meta.version.0
    );
    content
}

/// What zbar reads from a PNG, if anything.
fn decode_with_zbar(png: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().ok()?;
    let file = dir.path().join("label.png");
    std::fs::write(&file, png).ok()?;
    let out = std::process::Command::new("zbarimg")
        .args(["--raw", "-q"])
        .arg(&file)
        .output()
        .expect("zbarimg (zbar-tools; scripts/setup.sh installs it)");
    let text = String::from_utf8_lossy(&out.stdout).trim_end().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// Decodes the QR code of an SVG label: reads its size and its one path of dark rectangles
/// (`M{x} {y}h{w}v{h}H{x}V{y}`, as the qrcode crate draws them), paints them four pixels a
/// unit, and decodes the picture like a PNG.
pub fn decode_svg(svg: &str) -> String {
    let number = |key: &str| -> u32 {
        let start = svg.find(&format!("{key}=\"")).expect(key) + key.len() + 2;
        svg[start..start + svg[start..].find('"').unwrap()]
            .parse()
            .expect(key)
    };
    let (width, height) = (number("width"), number("height"));
    let start = svg.find(" d=\"").expect("a path") + 4;
    let path = &svg[start..start + svg[start..].find('"').unwrap()];
    const SCALE: u32 = 4;
    let mut image = image::GrayImage::from_pixel(width * SCALE, height * SCALE, image::Luma([255]));
    let mut rects = 0;
    for rect in path.split('M').filter(|r| !r.is_empty()) {
        let fields: Vec<u32> = rect
            .split(|c: char| c == ' ' || c.is_ascii_alphabetic())
            .filter(|f| !f.is_empty())
            .map(|f| f.parse().expect("a number"))
            .collect();
        let [x, y, w, h, ..] = fields[..] else {
            panic!("not a rectangle: {rect}")
        };
        for py in y * SCALE..(y + h) * SCALE {
            for px in x * SCALE..(x + w) * SCALE {
                image.put_pixel(px, py, image::Luma([0]));
            }
        }
        rects += 1;
    }
    assert!(rects > 20, "a QR code has many dark modules: {rects}");
    let mut png = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    decode_png(&png)
}

#[actix_web::test]
async fn batch_label_png_and_svg_hold_the_verify_url() {
    let t = spawn().await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    let issued = t.issue(&token, &batch(&product)).await;
    let id = issued["id"].as_str().unwrap();

    let res = t
        .get(&format!("/api/v1/certificates/{id}/qr.png"), None)
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-type"), "image/png");
    assert_eq!(
        decode_png(&res.body),
        issued["verify_url"].as_str().unwrap()
    );

    let res = t
        .get(&format!("/api/v1/certificates/{id}/qr.svg"), None)
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-type"), "image/svg+xml");
    assert!(res.text().starts_with("<?xml") && res.text().contains("<svg"));
    assert_eq!(
        decode_svg(&res.text()),
        issued["verify_url"].as_str().unwrap()
    );

    t.get(&format!("/api/v1/certificates/{id}/qr.gif"), None)
        .await
        .error(404, "not_found");
    t.get("/api/v1/certificates/AAAAAAAAAAAAAAAA/qr.png", None)
        .await
        .error(404, "not_found");
}

//! QR labels decode back to the verify URL.

use crate::helpers::{batch, spawn, CODES};

/// Decodes the single QR code in a PNG.
pub fn decode_png(png: &[u8]) -> String {
    let image = image::load_from_memory(png).expect("a PNG").to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "exactly one QR code");
    let (meta, content) = grids[0].decode().expect("decodable");
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

    t.get(&format!("/api/v1/certificates/{id}/qr.gif"), None)
        .await
        .error(404, "not_found");
    t.get("/api/v1/certificates/AAAAAAAAAAAAAAAA/qr.png", None)
        .await
        .error(404, "not_found");
}

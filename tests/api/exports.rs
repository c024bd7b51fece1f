//! Label exports for printing: the A4 PDF sheet (rendered with pdftoppm) and the streamed ZIP
//! of PNGs decode to the right verify URLs; only the owning producer may export.

use std::collections::BTreeSet;
use std::io::Read;

use serde_json::{json, Value};

use crate::helpers::{batch, path_of, spawn, CODES};
use crate::labels::decode_png;

/// Every QR code on the PNG pages pdftoppm renders from `pdf`, decoded cell by cell of the
/// sheet's 4 × 5 grid (rqrr mixes up finder patterns of neighbouring codes on a whole page).
pub fn decode_pdf(pdf: &[u8]) -> (usize, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("labels.pdf");
    std::fs::write(&file, pdf).unwrap();
    let status = std::process::Command::new("pdftoppm")
        .args(["-r", "200", "-gray", "-png"])
        .arg(&file)
        .arg(dir.path().join("page"))
        .status()
        .expect("pdftoppm (poppler-utils; scripts/setup.sh installs it)");
    assert!(status.success());
    let mut pages: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    pages.sort();
    let mut urls = Vec::new();
    for page in &pages {
        let image = image::open(page).unwrap().to_luma8();
        // The sheet: A4 (595.28 × 841.89 pt) with 28 pt margins, 4 columns, 5 rows.
        let margin = (image.width() as f64 * 28.0 / 595.28) as u32;
        let (w, h) = (
            (image.width() - 2 * margin) / 4,
            (image.height() - 2 * margin) / 5,
        );
        for cell in 0..20 {
            let (x, y) = (margin + (cell % 4) * w, margin + (cell / 4) * h);
            let crop = image::imageops::crop_imm(&image, x, y, w, h).to_image();
            let mut prepared = rqrr::PreparedImage::prepare(crop);
            for grid in prepared.detect_grids() {
                urls.push(grid.decode().expect("decodable code").1);
            }
        }
    }
    (pages.len(), urls)
}

/// The text pdftotext (poppler-utils) extracts from `pdf`.
fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("labels.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils)");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

fn export_body(ids: &[String], units: bool) -> Value {
    json!({"certificates": ids, "units": units})
}

#[actix_web::test]
async fn pdf_sheet_holds_every_batch_label() {
    let t = spawn().await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    let mut ids = Vec::new();
    let mut expected = BTreeSet::new();
    for n in 0..23 {
        let mut body = batch(&product);
        body["batch_no"] = json!(format!("PDF-{n}"));
        let issued = t.issue(&token, &body).await;
        ids.push(issued["id"].as_str().unwrap().to_string());
        expected.insert(issued["verify_url"].as_str().unwrap().to_string());
    }
    let res = t
        .post(
            "/api/v1/labels.pdf",
            Some(&token),
            &export_body(&ids, false),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.header("content-type"), "application/pdf");
    assert!(res.body.starts_with(b"%PDF-"));
    let (pages, urls) = decode_pdf(&res.body);
    assert_eq!(pages, 2, "20 labels a page");
    // The captions are text in the embedded CJK font: Chinese comes back out of the PDF.
    let text = pdf_text(&res.body);
    assert!(text.contains("酱板鸭") && text.contains("PDF-22"), "{text}");
    assert_eq!(urls.len(), 23, "every label decodes");
    assert_eq!(urls.into_iter().collect::<BTreeSet<_>>(), expected);
}

#[actix_web::test]
async fn zip_of_unit_labels_streams_genuine_signed_labels() {
    let t = spawn().await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    let mut body = batch(&product);
    body["units"] = json!(30);
    let issued = t.issue(&token, &body).await;
    let id = issued["id"].as_str().unwrap().to_string();
    let res = t
        .post(
            "/api/v1/labels.zip",
            Some(&token),
            &export_body(std::slice::from_ref(&id), true),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.header("content-type"), "application/zip");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(res.body.to_vec())).unwrap();
    assert_eq!(archive.len(), 30);
    for serial in 1..=30 {
        let mut file = archive
            .by_name(&format!("{id}-{serial:06}.png"))
            .expect("one file per unit");
        let mut png = Vec::new();
        file.read_to_end(&mut png).unwrap();
        let url = decode_png(&png);
        assert!(url.contains(&format!("/v/{id}/{serial}?s=")), "{url}");
        let answer = t.get_json(&path_of(&url)).await.json();
        assert_eq!(answer["verdict"], "genuine", "{answer}");
        assert_eq!(answer["unit"]["serial"], serial);
    }
}

#[actix_web::test]
async fn only_the_owning_producer_exports_and_limits_hold() {
    let t = spawn().await;
    let (token, product) = t.producer_with_product(CODES[0]).await;
    let (other, _) = t.producer_with_product(CODES[1]).await;
    let (_, retailer) = t.org("retailer", CODES[2], "430702").await;
    let issued = t.issue(&token, &batch(&product)).await;
    let ids = vec![issued["id"].as_str().unwrap().to_string()];
    for path in ["/api/v1/labels.pdf", "/api/v1/labels.zip"] {
        let body = export_body(&ids, false);
        t.post(path, None, &body).await.error(401, "unauthorized");
        t.post(path, Some(&other), &body)
            .await
            .error(403, "forbidden");
        t.post(path, Some(&retailer), &body)
            .await
            .error(403, "forbidden");
        t.post(
            path,
            Some(&token),
            &export_body(&["AAAAAAAAAAAAAAAA".into()], false),
        )
        .await
        .error(404, "not_found");
        t.post(path, Some(&token), &export_body(&[], false))
            .await
            .error(422, "out_of_range");
        // A certificate without unit serials has no unit labels.
        t.post(path, Some(&token), &export_body(&ids, true))
            .await
            .error(422, "not_serialized");
    }
    let mut body = batch(&product);
    body["batch_no"] = json!("BIG");
    body["units"] = json!(10_001);
    body["quantity"] = json!(20_000);
    let big = t.issue(&token, &body).await;
    let big = vec![big["id"].as_str().unwrap().to_string()];
    t.post("/api/v1/labels.zip", Some(&token), &export_body(&big, true))
        .await
        .error(422, "too_many_labels");
}

//! Reading a scanned label back: `{base}/v/{id}[/{serial}]?s={signature}` (contract §3), and
//! the offline label's payload parameter (contract §10): `&p=` base64url (no padding) of the
//! canonical payload compressed with raw DEFLATE (RFC 1951), so a verifier without network
//! checks the signature from the label alone. Phones opening the URL ignore `p`.

use std::io::{Read, Write};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::ValidationError;

/// What a scanned label names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedLabel {
    pub id: String,
    pub serial: Option<i64>,
    pub signature: Option<String>,
    /// The offline label's `p`, as printed.
    pub payload: Option<String>,
}

/// Largest payload an offline label may unpack to (a payload is about 1 KB).
const MAX_PAYLOAD_BYTES: u64 = 16 * 1024;

/// The `p` parameter for `canonical_payload`.
pub fn pack_payload(canonical_payload: &str) -> String {
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(canonical_payload.as_bytes());
    URL_SAFE_NO_PAD.encode(encoder.finish().unwrap_or_default())
}

/// The payload text an offline label's `p` holds; `None` if it is not one (or unpacks to
/// more than 16 KB).
pub fn unpack_payload(p: &str) -> Option<String> {
    let packed = URL_SAFE_NO_PAD.decode(p.trim()).ok()?;
    let mut text = String::new();
    flate2::read::DeflateDecoder::new(packed.as_slice())
        .take(MAX_PAYLOAD_BYTES + 1)
        .read_to_string(&mut text)
        .ok()?;
    (text.len() as u64 <= MAX_PAYLOAD_BYTES).then_some(text)
}

/// Parses the text of a scanned QR code. The host is not checked: labels printed under an
/// older public URL still name the same certificate.
pub fn parse(field: &str, text: &str) -> Result<ScannedLabel, ValidationError> {
    let invalid = || {
        ValidationError::new(
            "invalid_label",
            field,
            "not a certrail label URL (…/v/{id}[/{serial}]?s=…)",
        )
    };
    let url = url::Url::parse(text.trim()).map_err(|_| invalid())?;
    let segments: Vec<&str> = url
        .path_segments()
        .ok_or_else(invalid)?
        .filter(|s| !s.is_empty())
        .collect();
    let v = segments
        .iter()
        .rposition(|s| *s == "v")
        .ok_or_else(invalid)?;
    let (id, serial) = match &segments[v + 1..] {
        [id] => (*id, None),
        [id, serial] => (*id, Some(serial.parse::<i64>().map_err(|_| invalid())?)),
        _ => return Err(invalid()),
    };
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    Ok(ScannedLabel {
        id: id.to_string(),
        serial,
        signature: param("s"),
        payload: param("p"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offline_payloads_round_trip_and_bombs_are_refused() {
        let payload = r#"{"id":"x","product":{"name":"酱板鸭"}}"#;
        let p = pack_payload(payload);
        assert!(p
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(unpack_payload(&p).as_deref(), Some(payload));
        let label = parse("f", &format!("http://h/v/x?s=sig&p={p}")).unwrap();
        assert_eq!(label.payload.as_deref(), Some(p.as_str()));
        assert_eq!(unpack_payload("not*base64"), None);
        assert_eq!(unpack_payload("AAAA"), None);
        let bomb = pack_payload(&"a".repeat(17 * 1024));
        assert_eq!(unpack_payload(&bomb), None);
        assert!(unpack_payload(&pack_payload(&"a".repeat(16 * 1024))).is_some());
    }

    #[test]
    fn labels() {
        let l = parse("label_url", "https://certrail.example/v/AbC-_1?s=sig").unwrap();
        assert_eq!(
            l,
            ScannedLabel {
                id: "AbC-_1".into(),
                serial: None,
                signature: Some("sig".into()),
                payload: None,
            }
        );
        let u = parse("label_url", "http://127.0.0.1:8080/v/abc/7?s=x").unwrap();
        assert_eq!((u.serial, u.signature.as_deref()), (Some(7), Some("x")));
        assert_eq!(parse("f", "http://h/v/abc").unwrap().signature, None);
        for bad in [
            "",
            "not a url",
            "http://h/x/abc",
            "http://h/v/abc/seven",
            "http://h/v/a/1/2",
            "http://h/v/",
        ] {
            assert_eq!(parse("f", bad).unwrap_err().code, "invalid_label", "{bad}");
        }
    }
}

//! Reading a scanned label back: `{base}/v/{id}[/{serial}]?s={signature}` (contract §3).

use super::ValidationError;

/// What a scanned label names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedLabel {
    pub id: String,
    pub serial: Option<i64>,
    pub signature: Option<String>,
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
    let signature = url
        .query_pairs()
        .find(|(k, _)| k == "s")
        .map(|(_, v)| v.into_owned());
    Ok(ScannedLabel {
        id: id.to_string(),
        serial,
        signature,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        let l = parse("label_url", "https://certrail.example/v/AbC-_1?s=sig").unwrap();
        assert_eq!(
            l,
            ScannedLabel {
                id: "AbC-_1".into(),
                serial: None,
                signature: Some("sig".into())
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

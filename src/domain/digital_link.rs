//! GS1 Digital Link URIs (GS1 Digital Link standard 1.2): `/01/{GTIN-14}/10/{batch}[/21/{serial}]`
//! on the platform's own domain, with the label's signature as the query parameter `s` (a
//! non-numeric key, which GS1 resolvers pass through untouched).

/// The 14-digit form of a GTIN-8/12/13/14 (left-padded with zeros), as Digital Link writes it.
pub fn gtin14(gtin: &str) -> Option<String> {
    let gtin = gtin.trim();
    let ok = matches!(gtin.len(), 8 | 12 | 13 | 14) && gtin.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| format!("{gtin:0>14}"))
}

/// The shorter forms a GTIN-14 may have been registered as (13, 12 and 8 digits, when its
/// leading digits are zeros), itself first.
pub fn registered_forms(gtin14: &str) -> Vec<String> {
    let mut forms = vec![gtin14.to_string()];
    for len in [13, 12, 8] {
        let cut = gtin14.len() - len;
        if gtin14[..cut].bytes().all(|b| b == b'0') {
            forms.push(gtin14[cut..].to_string());
        }
    }
    forms
}

/// Whether `value` fits a batch or serial number (AI 10, AI 21): 1 to 20 characters of GS1's
/// AI encodable character set 82.
pub fn fits_ai82(value: &str) -> bool {
    const OTHERS: &str = "!\"%&'()*+,-./:;<=>?_";
    (1..=20).contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || OTHERS.contains(c))
}

/// Percent-encodes a path segment: everything but RFC 3986's unreserved characters.
pub fn encode_segment(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The Digital Link path of a batch (and unit), if the batch number fits AI 10.
pub fn path(gtin: &str, batch: &str, serial: Option<i64>) -> Option<String> {
    let gtin = gtin14(gtin)?;
    if !fits_ai82(batch) {
        return None;
    }
    let mut path = format!("/01/{gtin}/10/{}", encode_segment(batch));
    if let Some(serial) = serial {
        path.push_str(&format!("/21/{serial}"));
    }
    Some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(
            path("6901234567892", "20261120-01", None).as_deref(),
            Some("/01/06901234567892/10/20261120-01")
        );
        assert_eq!(
            path("6901234567892", "A/B", Some(7)).as_deref(),
            Some("/01/06901234567892/10/A%2FB/21/7")
        );
        assert_eq!(path("6901234567892", "批次一", None), None, "not AI 82");
        assert_eq!(
            path("6901234567892", &"1".repeat(21), None),
            None,
            "too long"
        );
        assert!(path("6901234567892", &"1".repeat(20), None).is_some());
        assert_eq!(path("12345", "A", None), None);
        assert_eq!(
            registered_forms("06901234567892"),
            vec!["06901234567892", "6901234567892"]
        );
        assert_eq!(
            registered_forms("00000096385074"),
            vec![
                "00000096385074",
                "0000096385074",
                "000096385074",
                "96385074"
            ]
        );
    }
}

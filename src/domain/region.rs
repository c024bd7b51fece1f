//! Administrative division codes (GB/T 2260): six digits whose first two name a province.

use super::ValidationError;

/// Province-level prefixes in use (GB/T 2260).
const PROVINCES: &[&str] = &[
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
    "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71",
    "81", "82",
];

/// Checks a six-digit region code with a known province prefix; returns it trimmed.
pub fn parse(field: &str, input: &str) -> Result<String, ValidationError> {
    let code = input.trim();
    let ok = code.len() == 6
        && code.bytes().all(|b| b.is_ascii_digit())
        && PROVINCES.contains(&&code[..2]);
    if ok {
        Ok(code.to_string())
    } else {
        Err(ValidationError::new(
            "invalid_region_code",
            field,
            "region_code must be a 6-digit GB/T 2260 division code such as 430700",
        ))
    }
}

/// Whether `region` lies inside `jurisdiction`: `430000` covers the province, `430700` the
/// prefecture, `430702` only itself (trailing `00` pairs are wildcards).
pub fn within(jurisdiction: &str, region: &str) -> bool {
    region.starts_with(prefix(jurisdiction))
}

/// The leading digits every region inside `jurisdiction` starts with (`430700` → `4307`).
pub fn prefix(jurisdiction: &str) -> &str {
    let mut prefix = jurisdiction;
    for _ in 0..2 {
        prefix = prefix.strip_suffix("00").unwrap_or(prefix);
    }
    prefix
}

/// The province part (first two digits) of a region code.
pub fn province(region: &str) -> &str {
    region.get(..2).unwrap_or(region)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jurisdiction() {
        assert!(
            within("430700", "430702") && within("430000", "430725") && within("430702", "430702")
        );
        assert!(
            !within("430700", "430100")
                && !within("430702", "430703")
                && !within("440000", "430702")
        );
        assert_eq!(province("430702"), "43");
    }

    #[test]
    fn region_codes() {
        assert_eq!(parse("r", "430700").unwrap(), "430700");
        assert_eq!(parse("r", "110000").unwrap(), "110000");
        for bad in ["", "43070", "4307000", "99ABCD", "990000", "43o700"] {
            assert_eq!(
                parse("r", bad).unwrap_err().code,
                "invalid_region_code",
                "{bad}"
            );
        }
    }
}

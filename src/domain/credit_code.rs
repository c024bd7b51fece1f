//! The 18-character unified social credit code (统一社会信用代码, GB 32100-2015).

use super::ValidationError;

/// The code's alphabet; a character's value is its index (0..=30).
const CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weights of positions 1..=17: `3^(i-1) mod 31`.
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

fn value_of(c: u8) -> Option<u32> {
    CHARSET.iter().position(|&x| x == c).map(|p| p as u32)
}

/// Upper-cases `input` and checks its length, alphabet and check character.
/// Returns the normalized code or `invalid_credit_code`.
pub fn parse(field: &str, input: &str) -> Result<String, ValidationError> {
    let code = input.trim().to_ascii_uppercase();
    let invalid = |why: &str| {
        ValidationError::new(
            "invalid_credit_code",
            field,
            format!("not a valid unified social credit code (GB 32100-2015): {why}"),
        )
    };
    let bytes = code.as_bytes();
    if bytes.len() != 18 {
        return Err(invalid("it must have 18 characters"));
    }
    let mut sum = 0u32;
    for (i, &c) in bytes[..17].iter().enumerate() {
        let v = value_of(c).ok_or_else(|| {
            invalid("it contains a character outside 0-9 and A-Y (no I, O, S, V, Z)")
        })?;
        sum += v * WEIGHTS[i];
    }
    let check = (31 - sum % 31) % 31;
    if value_of(bytes[17]) != Some(check) {
        return Err(invalid("the check character does not match"));
    }
    Ok(code)
}

/// Computes the check character for 17 leading characters (used by the demo data and tests).
pub fn check_char(first17: &str) -> Option<char> {
    let bytes = first17.as_bytes();
    if bytes.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (i, &c) in bytes.iter().enumerate() {
        sum += value_of(c)? * WEIGHTS[i];
    }
    Some(CHARSET[((31 - sum % 31) % 31) as usize] as char)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_known_good_codes() {
        for code in [
            "91350200776049653A",
            "91350213678251743X",
            "913502000728319549",
            "91440101MA5CJQ4N59",
        ] {
            assert_eq!(parse("c", code).as_deref(), Ok(code), "{code}");
        }
    }

    #[test]
    fn upper_cases_input() {
        assert_eq!(
            parse("c", "91440101ma5cjq4n59").unwrap(),
            "91440101MA5CJQ4N59"
        );
    }

    #[test]
    fn rejects_bad_codes() {
        for code in [
            "",
            "91350200776049653",   // 17 chars
            "91350200776049653AA", // 19 chars
            "91350200776049653B",  // wrong check
            "91350200776049653I",  // I not in charset
            "9135020077604965OA",  // O not in charset
            "91350200-76049653A",  // punctuation
            "９1350200776049653A", // full-width digit
        ] {
            let err = parse("credit_code", code).unwrap_err();
            assert_eq!(err.code, "invalid_credit_code", "{code}");
            assert_eq!(err.field, "credit_code");
        }
    }

    #[test]
    fn check_char_round_trips() {
        assert_eq!(check_char("91350200776049653"), Some('A'));
        assert_eq!(check_char("91440101MA5CJQ4N5"), Some('9'));
        assert_eq!(check_char("short"), None);
    }
}

//! GS1 trade item numbers (GTIN-8/12/13/14) with their mod-10 check digit.

use super::ValidationError;

/// Checks length (8, 12, 13 or 14 digits) and the GS1 check digit.
pub fn parse(field: &str, input: &str) -> Result<String, ValidationError> {
    let code = input.trim();
    let digits: Vec<u32> = code.chars().filter_map(|c| c.to_digit(10)).collect();
    let valid_shape = digits.len() == code.len() && matches!(digits.len(), 8 | 12 | 13 | 14);
    // Weights 3,1,3,… counted from the digit left of the check digit.
    let valid_check = valid_shape && {
        let (body, check) = digits.split_at(digits.len() - 1);
        let sum: u32 = body
            .iter()
            .rev()
            .enumerate()
            .map(|(i, d)| if i % 2 == 0 { d * 3 } else { *d })
            .sum();
        (10 - sum % 10) % 10 == check[0]
    };
    if valid_check {
        Ok(code.to_string())
    } else {
        Err(ValidationError::new(
            "invalid_gtin",
            field,
            "gtin must be 8, 12, 13 or 14 digits with a valid GS1 check digit",
        ))
    }
}

/// A GTIN's 14-digit form (shorter GTINs padded with leading zeros, as GS1 does).
pub fn gtin14(gtin: &str) -> String {
    format!("{gtin:0>14}")
}

/// Shortest and longest GS1 company prefix.
pub const PREFIX_DIGITS: std::ops::RangeInclusive<usize> = 6..=12;

/// Checks a GS1 company prefix: 6 to 12 digits, as in the GTIN-13 form.
pub fn company_prefix(field: &str, input: &str) -> Result<String, ValidationError> {
    let code = input.trim();
    if PREFIX_DIGITS.contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(code.to_string())
    } else {
        Err(ValidationError::new(
            "invalid_company_prefix",
            field,
            "a GS1 company prefix is 6 to 12 digits",
        ))
    }
}

/// The keys an owner of GTIN `gtin14` may be recorded under: the GTIN itself, then each
/// company prefix that would cover it (the leading 6 to 12 digits of its GTIN-13 part; the
/// first digit of a GTIN-14 is its packaging indicator), longest first.
pub fn owner_keys(gtin14: &str) -> Vec<String> {
    let mut keys = vec![gtin14.to_string()];
    let thirteen = &gtin14[1..];
    keys.extend(PREFIX_DIGITS.rev().map(|n| thirteen[..n].to_string()));
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_keys_cover_the_gtin_and_its_company_prefixes() {
        let keys = owner_keys(&gtin14("6901234567892"));
        assert_eq!(keys[0], "06901234567892");
        assert_eq!(keys[1], "690123456789");
        assert_eq!(keys.last().unwrap(), "690123");
        assert_eq!(keys.len(), 8);
        assert_eq!(owner_keys("16901234567899")[1], "690123456789");
    }

    #[test]
    fn company_prefixes() {
        assert_eq!(company_prefix("p", " 690123 ").unwrap(), "690123");
        assert!(company_prefix("p", "690123456789").is_ok());
        for bad in ["69012", "6901234567890", "69012a", ""] {
            assert!(company_prefix("p", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn gtins() {
        for ok in [
            "6901234567892",
            "96385074",
            "036000291452",
            "10012345000017",
        ] {
            assert!(parse("g", ok).is_ok(), "{ok}");
        }
        for bad in ["6901234567891", "123", "69012345678a2", ""] {
            assert!(parse("g", bad).is_err(), "{bad}");
        }
    }
}

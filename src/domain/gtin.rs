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

#[cfg(test)]
mod tests {
    use super::*;

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

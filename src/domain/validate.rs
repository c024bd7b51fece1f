//! Input checks shared by every front end: free text, dates and counts. Each failure names
//! the field and carries a stable snake_case code for the error envelope.

use chrono::NaiveDate;

/// A well-formed request that breaks a rule (HTTP 422).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValidationError {
    /// Stable snake_case code, e.g. `invalid_credit_code`.
    pub code: &'static str,
    /// The request field at fault, dotted for nested fields (`items.0.name`).
    pub field: String,
    /// Human text.
    pub message: String,
}

impl ValidationError {
    pub fn new(code: &'static str, field: &str, message: impl Into<String>) -> Self {
        Self {
            code,
            field: field.to_string(),
            message: message.into(),
        }
    }
}

/// Checks `value` is at most `max_chars` characters long as sent, then trims it and checks it
/// is non-empty and free of control characters. Text is otherwise kept verbatim (escaping is the renderer's job).
pub fn text(field: &str, value: &str, max_chars: usize) -> Result<String, ValidationError> {
    if value.chars().count() > max_chars {
        return Err(ValidationError::new(
            "too_long",
            field,
            format!("{field} must be at most {max_chars} characters"),
        ));
    }
    let value = value.trim();
    if value.is_empty() {
        return Err(ValidationError::new(
            "required",
            field,
            format!("{field} must not be empty"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() || is_forbidden_format(c))
    {
        return Err(ValidationError::new(
            "invalid_characters",
            field,
            format!(
                "{field} must not contain control characters, direction overrides or \
                 invisible spacing (zero-width space, word joiner, soft hyphen, byte-order mark)"
            ),
        ));
    }
    if value.chars().any(|c| in_ranges(c, DIRECTION_MARKS)) && !value.chars().any(is_right_to_left)
    {
        return Err(ValidationError::new(
            "invalid_characters",
            field,
            format!("{field} may carry direction marks only beside right-to-left script"),
        ));
    }
    if value.chars().all(|c| c.is_whitespace() || is_invisible(c)) {
        return Err(ValidationError::new(
            "invisible_text",
            field,
            format!("{field} must contain visible characters"),
        ));
    }
    Ok(value.to_string())
}

/// Format characters no product text needs, which make signed text read differently from what
/// it holds: the bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069, the
/// "Trojan Source" characters), line and paragraph separators, and the byte-order mark.
/// Arabic-script text (Uyghur, Kazakh) lays itself out without them; the marks U+200E, U+200F
/// and U+061C stay allowed.
///
/// Also the invisible spacing no script needs, which lets two names that print the same be
/// different text (常德米粉 and 常德\u{200B}米粉): the zero-width space U+200B, the word joiner
/// and invisible operators U+2060–U+2064, the soft hyphen U+00AD (a hyphenation hint).
/// The joiners U+200C and U+200D stay: Persian and the Indic scripts need ZWNJ and ZWJ to shape
/// words, Mongolian and emoji sequences ZWJ; so do Mongolian's own U+180B–U+180F and the
/// variation selectors. None of these may be the whole text ([`is_invisible`]).
pub(crate) const FORBIDDEN: &[(char, char)] = &[
    ('\u{00AD}', '\u{00AD}'),
    ('\u{200B}', '\u{200B}'),
    ('\u{2028}', '\u{202E}'),
    ('\u{2060}', '\u{2064}'),
    ('\u{2066}', '\u{206F}'),
    ('\u{FEFF}', '\u{FEFF}'),
    ('\u{FFF9}', '\u{FFFB}'),
    ('\u{E0000}', '\u{E007F}'),
];

fn is_forbidden_format(c: char) -> bool {
    in_ranges(c, FORBIDDEN)
}

/// Letters of right-to-left scripts (Hebrew, Arabic and its extensions, as Uyghur and Kazakh
/// are written, Syriac, Thaana, N'Ko), the only text a direction mark belongs in.
fn is_right_to_left(c: char) -> bool {
    matches!(
        c,
        '\u{0590}'..='\u{08FF}' | '\u{FB1D}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFC}'
    )
}

/// Characters that print nothing. Allowed inside text (Mongolian and Tibetan need the
/// joiners and variation selectors), but never as the whole of it.
pub(crate) const INVISIBLE: &[(char, char)] = &[
    ('\u{00AD}', '\u{00AD}'),
    ('\u{034F}', '\u{034F}'),
    ('\u{061C}', '\u{061C}'),
    ('\u{115F}', '\u{1160}'),
    ('\u{17B4}', '\u{17B5}'),
    ('\u{180B}', '\u{180F}'),
    ('\u{200B}', '\u{200F}'),
    ('\u{2060}', '\u{2064}'),
    ('\u{2800}', '\u{2800}'),
    ('\u{3164}', '\u{3164}'),
    ('\u{FE00}', '\u{FE0F}'),
    ('\u{FFA0}', '\u{FFA0}'),
    ('\u{1BCA0}', '\u{1BCA3}'),
    ('\u{1D173}', '\u{1D17A}'),
    ('\u{E0100}', '\u{E01EF}'),
];

fn is_invisible(c: char) -> bool {
    in_ranges(c, INVISIBLE)
}

/// The direction marks, allowed only beside right-to-left letters.
pub(crate) const DIRECTION_MARKS: &[(char, char)] =
    &[('\u{061C}', '\u{061C}'), ('\u{200E}', '\u{200F}')];

fn in_ranges(c: char, ranges: &[(char, char)]) -> bool {
    ranges.iter().any(|&(low, high)| (low..=high).contains(&c))
}

/// Like [`text`] for an optional field; an absent or blank value (within `max_chars`) becomes
/// `None`.
pub fn optional_text(
    field: &str,
    value: Option<&str>,
    max_chars: usize,
) -> Result<Option<String>, ValidationError> {
    match value {
        None => Ok(None),
        Some(v) if v.trim().is_empty() && v.chars().count() <= max_chars => Ok(None),
        Some(v) => text(field, v, max_chars).map(Some),
    }
}

/// Parses a calendar date written exactly as `YYYY-MM-DD`.
pub fn date(field: &str, value: &str) -> Result<NaiveDate, ValidationError> {
    let value = value.trim();
    let parsed = (value.len() == 10)
        .then(|| NaiveDate::parse_from_str(value, "%Y-%m-%d").ok())
        .flatten();
    parsed.ok_or_else(|| {
        ValidationError::new(
            "invalid_date",
            field,
            format!("{field} must be a real calendar date written YYYY-MM-DD"),
        )
    })
}

/// A validity period `valid_from` .. `valid_until` (both `YYYY-MM-DD`, the end after the start).
pub fn period(
    valid_from: &str,
    valid_until: &str,
) -> Result<(NaiveDate, NaiveDate), ValidationError> {
    let from = date("valid_from", valid_from)?;
    let until = date("valid_until", valid_until)?;
    if until <= from {
        return Err(ValidationError::new(
            "invalid_period",
            "valid_until",
            "valid_until must be after valid_from",
        ));
    }
    Ok((from, until))
}

/// Checks `min <= value <= max`.
pub fn count(field: &str, value: i64, min: i64, max: i64) -> Result<i64, ValidationError> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(ValidationError::new(
            "out_of_range",
            field,
            format!("{field} must be between {min} and {max}"),
        ))
    }
}

/// The one of `names` that `value` (trimmed) is, or a refusal with `code` that lists them. The
/// same constant names the values in the API document (`request::one_of`), so the two agree.
pub fn one_of(
    field: &str,
    code: &'static str,
    value: &str,
    names: &[&'static str],
) -> Result<&'static str, ValidationError> {
    pick(field, code, value, names, |n| n)
}

/// [`one_of`] for a closed set of values each with a name (`Scope::ALL`, `Scope::as_str`).
pub fn pick<T: Copy>(
    field: &str,
    code: &'static str,
    value: &str,
    all: &[T],
    name: impl Fn(T) -> &'static str,
) -> Result<T, ValidationError> {
    let value = value.trim();
    all.iter()
        .copied()
        .find(|t| name(*t) == value)
        .ok_or_else(|| {
            let names: Vec<&str> = all.iter().map(|t| name(*t)).collect();
            let listed = match names.split_last() {
                Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
                _ => names.join(""),
            };
            ValidationError::new(code, field, format!("{field} must be {listed}"))
        })
}

/// Whether `s` has the shape of a certrail id (base64url, 1 to 32 characters). Checked before
/// any lookup so that arbitrary bytes from a URL never reach the database.
pub fn is_id(s: &str) -> bool {
    (1..=32).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_rules() {
        assert_eq!(text("f", "  常德  ", 10).unwrap(), "常德");
        // The length counts what was sent, white space and all (as the document's maxLength).
        assert_eq!(text("f", "abc", 3).unwrap(), "abc");
        assert_eq!(text("f", " abc", 3).unwrap_err().code, "too_long");
        assert_eq!(optional_text("f", Some("   "), 3), Ok(None));
        assert_eq!(
            optional_text("f", Some("    "), 3).unwrap_err().code,
            "too_long"
        );
        assert_eq!(optional_text("f", None, 3), Ok(None));
        assert_eq!(text("f", "   ", 10).unwrap_err().code, "required");
        assert_eq!(
            text("f", &"长".repeat(11), 10).unwrap_err().code,
            "too_long"
        );
        assert_eq!(
            text("f", "a\u{0}b", 10).unwrap_err().code,
            "invalid_characters"
        );
        for forbidden in [
            "abc\u{202E}gpj.exe",
            "a\u{2066}b\u{2069}",
            "\u{FEFF}常德",
            "a\u{2028}b",
        ] {
            assert_eq!(
                text("f", forbidden, 20).unwrap_err().code,
                "invalid_characters",
                "{forbidden:?}"
            );
        }
        for forbidden in ["\u{200F}10 20", "a\u{E0041}b", "x\u{FFF9}y"] {
            assert_eq!(
                text("f", forbidden, 20).unwrap_err().code,
                "invalid_characters",
                "{forbidden:?}"
            );
        }
        // The invisible spacing no script needs, alone or inside a name.
        for forbidden in [
            "常德\u{200B}米粉",
            "\u{200B}",
            "常德\u{2060}米粉",
            "a\u{2062}b",
            "米\u{00AD}粉",
            "\u{200B} \u{200D}",
        ] {
            assert_eq!(
                text("f", forbidden, 20).unwrap_err().code,
                "invalid_characters",
                "{forbidden:?}"
            );
        }
        for invisible in [
            "\u{2800}",
            "\u{1D173}",
            "\u{200D}",
            "\u{200C} \u{200D}",
            "\u{3164}",
            "\u{180E}\u{FE0F}",
        ] {
            assert_eq!(
                text("f", invisible, 20).unwrap_err().code,
                "invisible_text",
                "{invisible:?}"
            );
        }
        // What Chinese and minority-language text needs stays: Uyghur with a right-to-left
        // mark, Mongolian with a joiner and a variation selector, Persian with a non-joiner
        // (می‌خواهم), an emoji sequence with joiners.
        for kept in [
            "\u{0626}\u{06C7}\u{064A}\u{063A}\u{06C7}\u{0631}\u{200F}",
            "\u{182E}\u{180B}\u{200D}\u{1823}",
            "\u{0645}\u{06CC}\u{200C}\u{062E}\u{0648}\u{0627}\u{0647}\u{0645}",
            "\u{1F468}\u{200D}\u{1F33E}",
        ] {
            assert_eq!(text("f", kept, 20).unwrap(), kept);
        }
        assert_eq!(
            text("f", "<b>'; DROP TABLE x;--", 100).unwrap(),
            "<b>'; DROP TABLE x;--"
        );
    }

    #[test]
    fn id_shape() {
        assert!(is_id("Xk3vQ9mT2pLr8WzA") && is_id("a-b_c"));
        assert!(
            !is_id("")
                && !is_id("a b")
                && !is_id("a\u{0}")
                && !is_id(&"a".repeat(33))
                && !is_id("%ZZ")
        );
    }

    #[test]
    fn a_period_ends_after_it_starts() {
        let day = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
        assert_eq!(
            period("2026-01-01", "2026-01-02"),
            Ok((day("2026-01-01"), day("2026-01-02")))
        );
        for (from, until) in [("2026-01-02", "2026-01-02"), ("2026-01-03", "2026-01-02")] {
            assert_eq!(period(from, until).unwrap_err().code, "invalid_period");
        }
        assert_eq!(
            period("2026-02-30", "2027-01-01").unwrap_err().field,
            "valid_from"
        );
        assert_eq!(period("2026-01-01", "x").unwrap_err().field, "valid_until");
    }

    #[test]
    fn date_rules() {
        assert!(date("d", "2026-02-28").is_ok());
        for bad in [
            "2026-02-30",
            "2026-2-5",
            "26-02-05",
            "2026/02/05",
            "",
            "2026-13-01",
        ] {
            assert_eq!(date("d", bad).unwrap_err().code, "invalid_date", "{bad}");
        }
    }

    #[test]
    fn one_of_answers_the_name_trimmed_or_lists_them() {
        let names = ["read", "issue", "admin"];
        assert_eq!(
            one_of("scope", "invalid_scope", " issue ", &names),
            Ok("issue")
        );
        let err = one_of("scope", "invalid_scope", "Issue", &names).unwrap_err();
        assert_eq!((err.code, err.field.as_str()), ("invalid_scope", "scope"));
        assert_eq!(err.message, "scope must be read, issue or admin");
        let two = one_of("d", "bad", "", &["approve", "refuse"]).unwrap_err();
        assert_eq!(two.message, "d must be approve or refuse");
        let single = one_of("kind", "bad", "x", &["pass"]).unwrap_err();
        assert_eq!(single.message, "kind must be pass");
    }
}

//! How request fields look to the OpenAPI document and to serde, where the derived schema
//! would say less than the server enforces: free text (the pattern of
//! [`validate::text`](super::validate::text)), enumerations, ids, dates or blank, and whole
//! numbers written with a fraction of zero (`1020.0`, an integer to JSON Schema).

use serde::{Deserialize, Deserializer};

use super::validate::{DIRECTION_MARKS, FORBIDDEN, INVISIBLE};

use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

/// Unicode's White_Space, what `str::trim` takes off both ends (`char::is_whitespace`).
const WHITE_SPACE: &[(char, char)] = &[
    ('\u{0009}', '\u{000D}'),
    ('\u{0020}', '\u{0020}'),
    ('\u{0085}', '\u{0085}'),
    ('\u{00A0}', '\u{00A0}'),
    ('\u{1680}', '\u{1680}'),
    ('\u{2000}', '\u{200A}'),
    ('\u{2028}', '\u{2029}'),
    ('\u{202F}', '\u{202F}'),
    ('\u{205F}', '\u{205F}'),
    ('\u{3000}', '\u{3000}'),
];

/// The C0 and C1 control characters (`char::is_control`).
const CONTROL: &[(char, char)] = &[('\u{0000}', '\u{001F}'), ('\u{007F}', '\u{009F}')];

/// A regular-expression class body naming the characters of `tables` up to U+FFFF.
fn class(tables: &[&[(char, char)]]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for &(low, high) in tables.iter().copied().flatten() {
        if u32::from(high) <= 0xFFFF {
            let _ = write!(out, "\\u{:04x}-\\u{:04x}", u32::from(low), u32::from(high));
        }
    }
    out
}

/// The JSON Schema of what [`text`](super::validate::text) accepts, at most `max_chars`
/// characters as sent, for the OpenAPI document: a pattern built from the same tables, so that
/// the two cannot drift apart. White space at either end is allowed (the server trims it);
/// inside, no control character, direction override or invisible spacing; at least one
/// character that shows.
///
/// Written so that ECMAScript's and Python's regular expressions read it alike (no `\p{..}`,
/// no escapes past U+FFFF), the pattern differs from the rule in two corners: it refuses the
/// direction marks even beside right-to-left letters, and it cannot name the forbidden and
/// invisible characters past U+FFFF (the tags U+E0000–U+E007F and a few invisible format
/// characters), which the server still refuses.
pub fn text_schema(max_chars: usize) -> Object {
    text_or_blank_schema(max_chars, false)
}

/// [`text_schema`] for a field read by [`optional_text`](super::validate::optional_text),
/// where blank (empty or only white space) means absent.
pub fn optional_text_schema(max_chars: usize) -> Object {
    text_or_blank_schema(max_chars, true)
}

fn text_or_blank_schema(max_chars: usize, blank: bool) -> Object {
    let space = class(&[WHITE_SPACE]);
    let refused = class(&[CONTROL, FORBIDDEN, DIRECTION_MARKS]);
    let unseen = class(&[CONTROL, FORBIDDEN, DIRECTION_MARKS, INVISIBLE, WHITE_SPACE]);
    let shown = format!("[^{refused}]*[^{unseen}][^{refused}]*");
    let pattern = match blank {
        false => format!("^[{space}]*{shown}[{space}]*$"),
        true => format!("^[{space}]*(?:{shown})?[{space}]*$"),
    };
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length((!blank).then_some(1))
        .max_length(Some(max_chars))
        .pattern(Some(pattern))
        .description(Some(format!(
            "Free text of at most {max_chars} characters, trimmed: {}, no control characters, \
             direction overrides or invisible spacing.",
            match blank {
                false => "at least one visible character",
                true => "blank for none",
            }
        )))
        .build()
}

/// A string matching `core` (a regular expression, unanchored) or blank, white space at
/// either end allowed (the server trims it): a field a filter form may send empty.
pub fn or_blank(core: &str, description: &str) -> Object {
    let space = class(&[WHITE_SPACE]);
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(format!("^[{space}]*(?:{core})?[{space}]*$")))
        .description(Some(format!("{description}, or blank")))
        .build()
}

/// Declares `$name`, a type the OpenAPI document knows by the schema `$schema` builds (an
/// `Object`, its builder or a `RefOr<Schema>`), for `#[schema(value_type = $name)]`.
macro_rules! named_schema {
    ($(#[$doc:meta])* $name:ident = $schema:expr) => {
        $(#[$doc])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                ($schema).into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}
pub(crate) use named_schema;

/// A string that is one of `values` (which the server checks itself, trimmed, with its own
/// error code): `named_schema!(ClaimState = request::one_of(&["pending", …]))`, with the
/// constant the check uses where there is one.
pub fn one_of(values: &[&str]) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
        .build()
}

named_schema!(
    /// A calendar date (`YYYY-MM-DD`) or blank, for the OpenAPI document.
    DateOrBlank = or_blank("[0-9]{4}-[0-9]{2}-[0-9]{2}", "A calendar date, YYYY-MM-DD")
);

/// Names for [`text_schema`] and [`optional_text_schema`] of each length in use, for request
/// fields: `#[schema(value_type = request::Text200)]` (or `Option<request::Text200>`).
macro_rules! text_schemas {
    ($($name:ident = $schema:ident($max:literal)),* $(,)?) => {$(
        named_schema!(
            #[doc = concat!("Free text of at most ", stringify!($max), " characters: [`", stringify!($schema), "`].")]
            $name = $schema($max)
        );
    )*};
}

text_schemas!(
    Text16 = text_schema(16),
    Text50 = text_schema(50),
    Text64 = text_schema(64),
    Text100 = text_schema(100),
    Text200 = text_schema(200),
    Text300 = text_schema(300),
    Text500 = text_schema(500),
    Text1000 = text_schema(1000),
    Text2000 = text_schema(2000),
    OptionalText64 = optional_text_schema(64),
    OptionalText100 = optional_text_schema(100),
    OptionalText500 = optional_text_schema(500),
);

named_schema!(
    /// A certrail id in a request ([`is_id`](super::validate::is_id): base64url, 1 to 32
    /// characters).
    Id = ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^[A-Za-z0-9_-]{1,32}$"))
);

/// The largest integer an IEEE double holds exactly (2^53); past it `1e17` may not be the
/// number the client meant.
const EXACT_IN_DOUBLE: f64 = 9_007_199_254_740_992.0;

/// Deserializes an integer, also when written `1020.0` or `1.02e3`: JSON Schema's `integer`
/// counts those as integers, and the document says `integer`. A fraction, or a number past
/// 2^53 written as a float, is refused.
pub fn whole_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    struct Whole;
    impl serde::de::Visitor<'_> for Whole {
        type Value = i64;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an integer")
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v).map_err(|_| E::custom("integer out of range"))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<i64, E> {
            if v.fract() == 0.0 && v.abs() <= EXACT_IN_DOUBLE {
                #[expect(clippy::cast_possible_truncation, reason = "whole and within 2^53")]
                Ok(v as i64)
            } else {
                Err(E::invalid_type(serde::de::Unexpected::Float(v), &self))
            }
        }
    }
    deserializer.deserialize_any(Whole)
}

/// [`whole_number`] for an optional field (with `#[serde(default)]`): `null` is `None`.
pub fn optional_whole_number<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    struct Wrapped(#[serde(deserialize_with = "whole_number")] i64);
    Ok(Option::<Wrapped>::deserialize(deserializer)?.map(|Wrapped(v)| v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Counted {
        #[serde(deserialize_with = "whole_number")]
        n: i64,
        #[serde(default, deserialize_with = "optional_whole_number")]
        m: Option<i64>,
    }

    fn read(json: &str) -> Result<(i64, Option<i64>), String> {
        serde_json::from_str::<Counted>(json)
            .map(|c| (c.n, c.m))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn whole_numbers_in_any_notation() {
        assert_eq!(read(r#"{"n": 1020}"#), Ok((1020, None)));
        assert_eq!(read(r#"{"n": 1020.0, "m": 1.5e1}"#), Ok((1020, Some(15))));
        assert_eq!(read(r#"{"n": -3.0, "m": null}"#), Ok((-3, None)));
        assert_eq!(read(r#"{"n": 9007199254740992.0}"#), Ok((1 << 53, None)));
        assert!(read(r#"{"n": 9007199254740994.0}"#).is_err());
        assert_eq!(read(r#"{"n": -7}"#), Ok((-7, None)));
        let fraction = read(r#"{"n": 1.5}"#).unwrap_err();
        assert!(fraction.contains("expected an integer"), "{fraction}");
        assert!(read(r#"{"n": 18446744073709551615}"#).is_err());
        assert!(read(r#"{"n": "7"}"#).is_err());
        assert!(read(r#"{"n": 1, "m": 0.5}"#).is_err());
    }

    #[test]
    fn enumerations_list_their_values() {
        let schema = one_of(&["pending", "confirmed"]);
        assert_eq!(
            schema.enum_values,
            Some(vec![
                serde_json::json!("pending"),
                serde_json::json!("confirmed")
            ])
        );
        let json = serde_json::to_value(&schema).unwrap();
        assert_eq!(json["type"], "string");
    }

    #[test]
    fn text_pattern_agrees_with_the_text_rule() {
        let schema = text_schema(20);
        let pattern = regex::Regex::new(schema.pattern.as_deref().unwrap_or_default()).unwrap();
        for accepted in [
            "常德米粉",
            " a ",
            "\ta\r\n",
            "\u{3000}米粉 ",
            "\u{200D}x",
            "米\u{FE0F}",
        ] {
            assert!(pattern.is_match(accepted), "{accepted:?}");
            assert!(
                crate::domain::validate::text("f", accepted, 20).is_ok(),
                "{accepted:?}"
            );
        }
        // Past U+FFFF the pattern cannot name what the rule refuses (a tag character).
        assert!(pattern.is_match("a\u{E0041}b"));
        // What the pattern refuses, the rule refuses too (the pattern is stricter only on
        // direction marks, which it refuses even beside right-to-left letters).
        for refused in [
            "",
            "   ",
            "a\u{0}b",
            "a\u{7F}b",
            "abc\u{202E}gpj",
            "\u{FEFF}常德",
            "常德\u{200B}米粉",
            "\u{2800}",
            "\u{200C} \u{200D}",
            "\u{3164}",
            "x\u{FFF9}y",
            "a\u{2028}b",
            "\u{1C}a",
            "a\u{0085}b",
            "\u{3000}",
        ] {
            assert!(!pattern.is_match(refused), "{refused:?}");
            assert!(
                crate::domain::validate::text("f", refused, 20).is_err(),
                "{refused:?}"
            );
        }
        assert!(!pattern.is_match("\u{0626}\u{200F}"));
        assert_eq!(schema.max_length, Some(20));
        assert_eq!(schema.min_length, Some(1));
        let blank = optional_text_schema(20);
        let blank_pattern =
            regex::Regex::new(blank.pattern.as_deref().unwrap_or_default()).unwrap();
        for accepted in ["", "  ", "\u{3000}", " 米 "] {
            assert!(blank_pattern.is_match(accepted), "{accepted:?}");
            assert!(crate::domain::validate::optional_text("f", Some(accepted), 20).is_ok());
        }
        assert!(!blank_pattern.is_match("\u{200B}"));
        assert_eq!(blank.min_length, None);
    }
}

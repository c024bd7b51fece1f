//! Forms on pages: text inputs described once (name, label in both languages, type, value),
//! and a broken rule shown right under its field, or above the form when no field shows it.

use crate::error::AppError;

use crate::web::page::Lang;
use crate::web::words;

/// A text input.
pub struct Field {
    pub name: String,
    pub zh: &'static str,
    pub en: &'static str,
    /// The input's `type`.
    pub kind: &'static str,
    pub value: String,
    pub required: bool,
}

impl Field {
    pub fn new(
        name: impl Into<String>,
        (zh, en): (&'static str, &'static str),
        kind: &'static str,
        value: &str,
        required: bool,
    ) -> Self {
        Field {
            name: name.into(),
            zh,
            en,
            kind,
            value: value.to_string(),
            required,
        }
    }
}

/// A rule a form broke: its code, the service's English message and the field.
pub struct FormError {
    pub code: &'static str,
    pub english: String,
    pub field: Option<String>,
}

impl From<&AppError> for FormError {
    fn from(e: &AppError) -> Self {
        FormError {
            code: e.code(),
            english: e.to_string(),
            field: e.field().map(str::to_string),
        }
    }
}

impl FormError {
    /// A field that must hold a whole number and does not.
    pub fn not_a_number(field: &str) -> Self {
        FormError {
            code: "not_a_number",
            english: "enter a whole number".into(),
            field: Some(field.to_string()),
        }
    }
}

/// What a form page shows of an error.
#[derive(Default)]
pub struct Problem {
    pub message: Option<String>,
    /// The field marked `aria-invalid`.
    pub field: Option<String>,
    /// Whether the message sits under its text field (else above the form).
    pub at_field: bool,
}

impl Problem {
    /// `controls` names the form's other controls (selects), (name, 中文, English), so a
    /// message about one of them, shown above the form, says which.
    pub fn new<'a>(
        lang: Lang,
        fields: impl IntoIterator<Item = &'a Field>,
        controls: &[(&str, &str, &str)],
        error: Option<FormError>,
    ) -> Self {
        let Some(e) = error else {
            return Problem::default();
        };
        let at_field = e
            .field
            .as_deref()
            .is_some_and(|name| fields.into_iter().any(|f| f.name == name));
        let text = words::error(lang, e.code, &e.english);
        let control = controls
            .iter()
            .find(|c| Some(c.0) == e.field.as_deref())
            .map(|c| lang.pick(c.1, c.2));
        let message = match control {
            Some(label) if !at_field => format!("{label}{}{text}", lang.pick("：", ": ")),
            _ => text,
        };
        Problem {
            message: Some(message),
            field: e.field,
            at_field,
        }
    }

    pub fn is_some(&self) -> bool {
        self.message.is_some()
    }
}

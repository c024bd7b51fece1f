//! Text meant for people, in both of the platform's languages (Chinese first).

/// One message in Chinese and in English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bilingual {
    pub zh: String,
    pub en: String,
}

impl Bilingual {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            zh: zh.into(),
            en: en.into(),
        }
    }

    /// Both languages in one string, Chinese first (the API's `message`).
    pub fn joined(&self) -> String {
        format!("{} {}", self.zh, self.en)
    }
}

/// An RFC 3339 UTC time to the minute, for people: `2026-11-21 22:15 UTC`.
pub fn minute(rfc3339: &str) -> String {
    let shown: String = rfc3339.replace('T', " ").chars().take(16).collect();
    format!("{shown} UTC")
}

#[cfg(test)]
mod tests {
    #[test]
    fn minute() {
        assert_eq!(
            super::minute("2026-11-21T22:15:44Z"),
            "2026-11-21 22:15 UTC"
        );
        assert_eq!(
            super::minute("2026-11-21T22:15:47+00:00"),
            "2026-11-21 22:15 UTC"
        );
    }

    #[test]
    fn both_languages_chinese_first() {
        let text = super::Bilingual::new("有效", "Active");
        assert_eq!(text.joined(), "有效 Active");
    }
}

//! The signed certificate payload (contract §2) and its canonical RFC 8785 (JCS) form.
//!
//! Absent optional fields are omitted, never `null`; numbers are integers only.

use serde::{Deserialize, Serialize};

/// Payload format version written into `v`.
pub const PAYLOAD_VERSION: u8 = 1;

/// A certificate payload exactly as signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Payload {
    pub v: u8,
    /// Certificate id: base64url, 16 characters (96 random bits).
    pub id: String,
    /// Key id of the signing key: base64url of the first 8 bytes of SHA-256(public key).
    pub kid: String,
    /// RFC 3339 UTC with seconds and `Z`, e.g. `2026-11-21T08:00:00Z`.
    pub issued_at: String,
    pub producer: Producer,
    pub product: Product,
    pub batch: Batch,
    pub inspection: Inspection,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub marks: Vec<Mark>,
    /// Number of serialized units (unit labels 1..=units), if the certificate is serialized.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub units: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Producer {
    pub name: String,
    pub credit_code: String,
    pub address: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Product {
    pub name: String,
    pub model: String,
    /// Standard executed (执行标准), e.g. `GB/T 1234-2020` or `Q/…`.
    pub standard: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gtin: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    pub no: String,
    pub quantity: i64,
    pub unit: String,
    /// `YYYY-MM-DD`.
    pub production_date: String,
    /// `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_date: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Inspection {
    /// `YYYY-MM-DD`.
    pub date: String,
    pub inspector: String,
    /// Always `"pass"`: a conformity certificate is only issued for a passed inspection.
    pub result: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<InspectionItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lab_report_no: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectionItem {
    #[schema(value_type = crate::domain::request::Text100)]
    pub name: String,
    #[schema(value_type = crate::domain::request::Text200)]
    pub requirement: String,
    #[schema(value_type = crate::domain::request::Text200)]
    pub measured: String,
    /// `pass` or `fail`.
    #[schema(value_type = PassOnly)]
    pub verdict: String,
}

/// The only result and verdict a certificate is issued for.
pub const PASS: &str = "pass";

crate::domain::request::named_schema!(
    /// `pass`: a batch or an item that failed cannot be certified.
    PassOnly = crate::domain::request::one_of(&[PASS])
);

/// A certification mark claimed by the product (organic, green product, CCC, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Mark {
    #[schema(value_type = crate::domain::request::Text50)]
    pub scheme: String,
    #[schema(value_type = crate::domain::request::Text64)]
    pub cert_no: String,
}

impl Payload {
    /// RFC 8785 canonical JSON: sorted keys, no whitespace, UTF-8 unescaped.
    pub fn canonical(&self) -> String {
        canonicalize(self)
    }

    /// The expiry date, if the batch has one and it parses.
    pub fn expiry_date(&self) -> Option<chrono::NaiveDate> {
        let raw = self.batch.expiry_date.as_deref()?;
        chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()
    }
}

/// RFC 8785 canonical JSON of any serializable value without floats.
pub fn canonicalize<T: Serialize>(value: &T) -> String {
    // Serialization of our own plain structs and JSON values cannot fail: no maps with
    // non-string keys, no floats.
    serde_json_canonicalizer::to_string(value).unwrap_or_default()
}

/// Re-canonicalizes stored payload text; `None` if it is not a JSON object.
pub fn recanonicalize(stored: &str) -> Option<(serde_json::Value, String)> {
    let value: serde_json::Value = serde_json::from_str(stored).ok()?;
    if !value.is_object() {
        return None;
    }
    let canonical = canonicalize(&value);
    Some((value, canonical))
}

/// Formats a UTC instant as the payload's `issued_at` (seconds, `Z`).
pub fn rfc3339_seconds(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> Payload {
        Payload {
            v: 1,
            id: "Xk3vQ9mT2pLr8WzA".into(),
            kid: "AAAAAAAAAAA".into(),
            issued_at: "2026-11-21T08:00:00Z".into(),
            producer: Producer {
                name: "常德市德山食品有限公司".into(),
                credit_code: "91350200776049653A".into(),
                address: "湖南省常德市经开区德山大道1号".into(),
            },
            product: Product {
                name: "酱板鸭".into(),
                model: "500g/袋".into(),
                standard: "GB/T 23586-2022".into(),
                gtin: None,
            },
            batch: Batch {
                no: "20261120-01".into(),
                quantity: 1200,
                unit: "袋".into(),
                production_date: "2026-11-20".into(),
                expiry_date: None,
            },
            inspection: Inspection {
                date: "2026-11-21".into(),
                inspector: "QC-07".into(),
                result: "pass".into(),
                items: vec![],
                lab_report_no: None,
            },
            marks: vec![],
            units: None,
        }
    }

    #[test]
    fn canonical_form_is_sorted_compact_and_unescaped() {
        let expected = concat!(
            r#"{"batch":{"no":"20261120-01","production_date":"2026-11-20","quantity":1200,"unit":"袋"},"#,
            r#""id":"Xk3vQ9mT2pLr8WzA","inspection":{"date":"2026-11-21","inspector":"QC-07","result":"pass"},"#,
            r#""issued_at":"2026-11-21T08:00:00Z","kid":"AAAAAAAAAAA","#,
            r#""producer":{"address":"湖南省常德市经开区德山大道1号","credit_code":"91350200776049653A","name":"常德市德山食品有限公司"},"#,
            r#""product":{"model":"500g/袋","name":"酱板鸭","standard":"GB/T 23586-2022"},"v":1}"#
        );
        assert_eq!(sample().canonical(), expected);
    }

    #[test]
    fn recanonicalize_ignores_whitespace_and_order() {
        let canonical = sample().canonical();
        let value: serde_json::Value = serde_json::from_str(&canonical).unwrap();
        let pretty = serde_json::to_string_pretty(&value).unwrap();
        assert_eq!(recanonicalize(&pretty).unwrap().1, canonical);
        assert!(recanonicalize("[1]").is_none());
        assert!(recanonicalize("not json").is_none());
    }

    #[test]
    fn string_escapes_follow_rfc8785() {
        let v = serde_json::json!({"b": "a\"\\\u{1}\n/é", "a": 1});
        assert_eq!(
            canonicalize(&v),
            "{\"a\":1,\"b\":\"a\\\"\\\\\\u0001\\n/é\"}"
        );
    }

    #[test]
    fn expiry_and_issue_times_in_their_wire_forms() {
        let mut p = sample();
        assert_eq!(p.expiry_date(), None);
        p.batch.expiry_date = Some("2027-05-01".into());
        assert_eq!(p.expiry_date(), chrono::NaiveDate::from_ymd_opt(2027, 5, 1));
        p.batch.expiry_date = Some("2027-02-30".into());
        assert_eq!(p.expiry_date(), None);
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-21T08:00:00.750+08:00").unwrap();
        assert_eq!(rfc3339_seconds(at.to_utc()), "2026-11-21T00:00:00Z");
    }
}

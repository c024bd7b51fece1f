//! The 承诺达标合格证 (compliance-promise certificate, MARA Order 2025 No. 4): a second signed
//! payload type beside the conformity certificate, for edible agricultural products.
//!
//! Contract §2's rules apply: canonical RFC 8785 JSON, integers only, absent fields omitted.
//! It is told apart by `"type": "promise"` and signed under its own context
//! (`"CERTRAIL-PROMISE-V1\n"` ‖ JCS(payload)), so neither kind of signature can be passed off as
//! the other. A lot re-issued after a split or merge names its `parents` and the quantity it
//! took from each.

use serde::{Deserialize, Serialize};

use super::payload::canonicalize;

/// The `type` of a promise payload.
pub const PROMISE_TYPE: &str = "promise";
/// Payload format version written into `v`.
pub const PROMISE_VERSION: u8 = 1;

/// The promise of the order's model form, when the issuer states no other wording.
pub const STANDARD_PROMISE: [&str; 3] = [
    "不使用禁用农药兽药、停用兽药和非法添加物",
    "常规农药兽药残留不超标",
    "对承诺的真实性负责",
];

/// What the promising party (承诺主体) is.
pub const ISSUER_KINDS: [&str; 7] = [
    "farm",
    "family_farm",
    "cooperative",
    "company",
    "wholesaler",
    "market_operator",
    "retailer",
];

/// What the promise rests on (承诺依据), as the model form lists it.
pub const BASES: [&str; 4] = [
    "entrusted_test",
    "self_test",
    "internal_control",
    "self_promise",
];

/// Months the issuer and the buyer keep the certificate (the order's keeping rule).
pub const KEEP_MONTHS: u32 = 6;

/// A promise payload exactly as signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromisePayload {
    pub v: u8,
    /// Always `promise`.
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    pub kid: String,
    /// 开具时间: RFC 3339 UTC with seconds and `Z`.
    pub issued_at: String,
    /// 承诺主体 and 联系方式.
    pub issuer: Issuer,
    /// 产品名称.
    pub product: PromiseProduct,
    /// 数量 (and the lot's number).
    pub batch: PromiseBatch,
    /// 产地.
    pub origin: Origin,
    /// The promise, clause by clause.
    pub promise: Vec<String>,
    /// 承诺依据: `entrusted_test`, `self_test`, `internal_control`, `self_promise`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub basis: Vec<String>,
    /// The lots this one was split or merged from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<ParentRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Issuer {
    pub name: String,
    pub credit_code: String,
    /// One of [`ISSUER_KINDS`].
    pub kind: String,
    /// 联系方式 (a phone number or address the buyer can reach).
    pub contact: String,
    pub address: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromiseProduct {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gtin: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromiseBatch {
    pub no: String,
    pub quantity: i64,
    pub unit: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Origin {
    /// GB/T 2260 code of the producing area.
    pub region_code: String,
    /// The place in words (village, base, plot).
    pub place: String,
}

/// A parent lot and the quantity taken from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParentRef {
    pub id: String,
    #[serde(deserialize_with = "crate::domain::request::whole_number")]
    #[schema(minimum = 1, maximum = 1000000000)]
    pub quantity: i64,
}

impl PromisePayload {
    /// RFC 8785 canonical JSON.
    pub fn canonical(&self) -> String {
        canonicalize(self)
    }
}

/// The payload type a canonical payload declares: `None` for the conformity certificate
/// (no `type`), `Some("promise")`, or whatever else it claims.
pub fn declared_type(canonical: &str) -> Option<String> {
    let payload: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(canonical).ok()?;
    match payload.get("type")? {
        serde_json::Value::String(kind) => Some(kind.clone()),
        // A `type` that is not a string (null, a number, an object) is no known type.
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_type_is_read_from_the_payload_itself() {
        assert_eq!(declared_type(r#"{"id":"a","v":1}"#), None);
        assert_eq!(
            declared_type(r#"{"type":"promise","v":1}"#).as_deref(),
            Some("promise")
        );
        // Nested `type` keys are not the payload's.
        assert_eq!(declared_type(r#"{"issuer":{"type":"promise"}}"#), None);
        assert_eq!(declared_type("not json"), None);
        for odd in ["null", "1", r#"{"a":1}"#] {
            let payload = format!(r#"{{"type":{odd},"v":1}}"#);
            assert_eq!(declared_type(&payload).as_deref(), Some(odd), "{payload}");
        }
    }
}

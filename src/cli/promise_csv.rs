//! Reading a file of 承诺达标合格证 for `certrail promise --csv`: UTF-8 with or without a BOM,
//! English (the API's field names) or Chinese headers, one lot per row. A row naming a
//! `parent` is a child lot split from it (the holder re-issues it); otherwise a new lot of one
//! of the producer's products.

use super::csv_in::{Column, Rows};
use crate::domain::promise::ParentRef;
use crate::service::issuance::promise::PromiseRequest;

/// Each column with the Chinese headers used for it.
const COLUMNS: &[Column] = &[
    ("product_id", &["产品编号"]),
    ("parent", &["来源合格证", "原合格证编号"]),
    ("product_name", &["产品名称"]),
    ("batch_no", &["批号", "批次号"]),
    ("quantity", &["数量"]),
    ("unit", &["单位"]),
    ("origin_region_code", &["产地代码", "产地行政区划代码"]),
    ("origin_place", &["产地"]),
    ("issuer_kind", &["主体类型"]),
    ("contact", &["联系方式"]),
];

const REQUIRED: &[&str] = &["batch_no", "quantity", "contact"];

/// Parses the file's bytes; every problem is reported, one per line of the answer.
pub fn parse(data: &[u8]) -> Result<Rows<PromiseRequest>, Vec<String>> {
    super::csv_in::rows(data, COLUMNS, REQUIRED, |line, get| {
        let quantity = get("quantity")
            .unwrap_or_default()
            .parse::<i64>()
            .map_err(|_| vec![format!("line {line}: quantity: not a whole number")])?;
        Ok(PromiseRequest {
            product_id: get("product_id"),
            product_name: get("product_name"),
            batch_no: get("batch_no").unwrap_or_default(),
            quantity,
            unit: get("unit"),
            origin_region_code: get("origin_region_code"),
            origin_place: get("origin_place"),
            issuer_kind: get("issuer_kind"),
            contact: get("contact").unwrap_or_default(),
            promise: None,
            basis: None,
            parents: get("parent").map(|id| vec![ParentRef { id, quantity }]),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_lots_and_split_children_with_chinese_headers() {
        let file = "\u{feff}产品编号,来源合格证,批号,数量,单位,产地代码,产地,主体类型,联系方式\n\
                    p1,,DX-1,1000,千克,430721,安乡县稻田基地,cooperative,0736-1\n\
                    ,PARENT01,DX-1-A,400,,,,,0736-2\n";
        let rows = parse(file.as_bytes()).expect("parsed");
        assert_eq!(rows.lines, vec![2, 3]);
        let (new, child) = (&rows.requests[0], &rows.requests[1]);
        assert_eq!(new.product_id.as_deref(), Some("p1"));
        assert!(new.parents.is_none());
        assert_eq!(new.origin_place.as_deref(), Some("安乡县稻田基地"));
        let parents = child.parents.clone().unwrap();
        assert_eq!(
            (parents[0].id.as_str(), parents[0].quantity),
            ("PARENT01", 400)
        );
        assert_eq!(child.product_id, None);
        let bad = parse("batch_no,quantity,contact\nA,many,x\n".as_bytes()).unwrap_err();
        assert_eq!(bad, vec!["line 2: quantity: not a whole number"]);
        let missing = parse(b"batch_no\nA\n").unwrap_err();
        assert!(
            missing.contains(&"missing column contact".to_string()),
            "{missing:?}"
        );
    }
}

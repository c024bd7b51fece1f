//! Reading an ERP export for `certrail issue --csv`: UTF-8 with or without a BOM, a header
//! row in English (the API's field names) or Chinese, one certificate per row.

use super::csv_in::{Column, Rows};
use chrono::NaiveDate;

use crate::service::issuance::issue::IssueRequest;

/// Each API field with the Chinese headers ERP exports use for it.
const COLUMNS: &[Column] = &[
    ("product_id", &["产品编号", "产品id", "产品代码"]),
    ("batch_no", &["批次号", "批号", "生产批号"]),
    ("quantity", &["数量", "批次数量"]),
    ("unit", &["单位", "计量单位"]),
    ("production_date", &["生产日期"]),
    ("inspection_date", &["检验日期"]),
    ("inspector", &["检验员", "质检员"]),
    ("result", &["检验结果", "结果"]),
    ("lab_report_no", &["检验报告编号", "报告编号"]),
    ("expiry_date", &["保质期至", "有效期至"]),
    ("units", &["赋码数量", "单件码数量"]),
    ("lab_id", &["检验机构编号", "检测机构编号"]),
];

const REQUIRED: &[&str] = &[
    "product_id",
    "batch_no",
    "quantity",
    "unit",
    "production_date",
    "inspection_date",
    "inspector",
];

/// `2026-11-20`, `2026/11/20` and `2026.11.20` (with or without leading zeros) become ISO
/// dates; anything else is passed on for the issuing rules to reject with a clear message.
fn date(value: &str) -> String {
    ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(value, f).ok())
        .map_or_else(|| value.to_string(), |d| d.format("%Y-%m-%d").to_string())
}

/// `合格` and `pass` mean pass; other values reach the rules as they are.
fn result(value: &str) -> String {
    match value {
        "合格" | "PASS" | "Pass" => "pass".into(),
        other => other.to_string(),
    }
}

fn integer(line: u64, field: &str, value: &str) -> Result<i64, String> {
    value
        .trim()
        .parse()
        .map_err(|_| format!("line {line}: {field}: {value:?} is not a whole number"))
}

/// Parses the file's bytes. Every problem is reported, one per line of the answer.
pub fn parse(data: &[u8]) -> Result<Rows<IssueRequest>, Vec<String>> {
    super::csv_in::rows(data, COLUMNS, REQUIRED, |line, get| {
        let text = |name: &str| get(name).unwrap_or_default();
        let quantity = integer(line, "quantity", &text("quantity"));
        let units = get("units").map(|u| integer(line, "units", &u)).transpose();
        let (quantity, units) = match (quantity, units) {
            (Ok(q), Ok(u)) => (q, u),
            (q, u) => return Err(q.err().into_iter().chain(u.err()).collect()),
        };
        Ok(IssueRequest {
            product_id: text("product_id"),
            batch_no: text("batch_no"),
            quantity,
            unit: text("unit"),
            production_date: date(&text("production_date")),
            inspection_date: date(&text("inspection_date")),
            inspector: text("inspector"),
            result: get("result").map_or_else(|| "pass".into(), |r| result(&r)),
            items: None,
            lab_report_no: get("lab_report_no"),
            expiry_date: get("expiry_date").map(|d| date(&d)),
            units,
            lab_id: get("lab_id"),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_headers_with_bom() {
        let file = "\u{feff}产品编号,批次号,数量,单位,生产日期,检验日期,检验员,检验结果\n\
                    p1,B-1,100,箱,2026/11/1,2026.11.02,张三,合格\n";
        let rows = parse(file.as_bytes()).expect("parsed");
        let r = &rows.requests[0];
        assert_eq!(
            (r.product_id.as_str(), r.batch_no.as_str(), r.quantity),
            ("p1", "B-1", 100)
        );
        assert_eq!(r.production_date, "2026-11-01");
        assert_eq!(r.inspection_date, "2026-11-02");
        assert_eq!(r.result, "pass");
        assert_eq!(rows.lines, vec![2]);
    }

    #[test]
    fn english_headers_and_errors_by_line() {
        let file = "product_id,batch_no,quantity,unit,production_date,inspection_date,inspector\n\
                    p1,B-1,ten,box,2026-11-01,2026-11-02,QC\n\
                    p1,B-2,5,box,2026-11-01,2026-11-02,QC\n";
        let errors = parse(file.as_bytes()).expect_err("bad quantity");
        assert_eq!(errors.len(), 1);
        assert!(errors[0].starts_with("line 2: quantity"), "{errors:?}");
        let missing = parse(b"product_id,colour\np,red\n").expect_err("bad header");
        assert!(missing
            .iter()
            .any(|e| e.contains("unknown column \"colour\"")));
        assert!(missing.iter().any(|e| e == "missing column batch_no"));
    }
}

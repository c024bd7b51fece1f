//! A regulator's report as files to hand up: CSV (one table, a `level` column telling total,
//! county, producer and retailer rows apart) and a real Excel workbook (one sheet per level,
//! bilingual headers), written with `csv` and `rust_xlsxwriter`.
//!
//! Longer than 400 lines because the report's columns are declared once, as tables, and written both as CSV and as a workbook.

use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use crate::domain::statistics::{Figures, Report, RetailerFigures, TierRow};

/// A column of the report: its code (the CSV header), its Chinese and English titles, and
/// how a row of `T` gives its value.
struct Column<T> {
    code: &'static str,
    zh: &'static str,
    en: &'static str,
    value: fn(&T) -> Cell,
}

impl<T> Column<T> {
    /// The workbook's bilingual header.
    fn title(&self) -> String {
        format!("{} {}", self.zh, self.en)
    }
}

const fn col<T>(
    code: &'static str,
    zh: &'static str,
    en: &'static str,
    value: fn(&T) -> Cell,
) -> Column<T> {
    Column {
        code,
        zh,
        en,
        value,
    }
}

/// A cell: a count, a percentage, an amount in yuan, or nothing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell {
    Count(i64),
    Percent(Option<f64>),
    Yuan(i64),
}

impl Cell {
    fn text(self) -> String {
        match self {
            Cell::Count(n) => n.to_string(),
            Cell::Percent(Some(p)) => format!("{p:.1}"),
            Cell::Percent(None) => String::new(),
            Cell::Yuan(fen) => format!("{}.{:02}", fen / 100, fen % 100),
        }
    }
}

const COLUMNS: [Column<Figures>; 18] = [
    col(
        "certificates_issued",
        "签发合格证",
        "Certificates issued",
        |f| Cell::Count(f.certificates_issued),
    ),
    col(
        "producers_active",
        "在用生产者",
        "Producers active",
        |f| Cell::Count(f.producers_active),
    ),
    col("batches_shipped", "发货批次", "Batches shipped", |f| {
        Cell::Count(f.batches_shipped)
    }),
    col(
        "batches_shipped_received",
        "其中已进货查验",
        "Of which taken in",
        |f| Cell::Count(f.batches_shipped_received),
    ),
    col(
        "intake_coverage_percent",
        "进货查验覆盖率%",
        "Intake coverage %",
        |f| Cell::Percent(f.intake_coverage()),
    ),
    col("spot_checks", "监督抽检", "Spot-checks", |f| {
        Cell::Count(f.spot_checks)
    }),
    col(
        "spot_checks_conformant",
        "抽检合格",
        "Conformant",
        |f| Cell::Count(f.spot_checks_conformant),
    ),
    col(
        "pass_rate_percent",
        "抽检合格率%",
        "Pass rate %",
        |f| Cell::Percent(f.pass_rate()),
    ),
    col("suspensions", "暂停", "Suspensions", |f| {
        Cell::Count(f.suspensions)
    }),
    col("recalls", "召回", "Recalls", |f| Cell::Count(f.recalls)),
    col(
        "recall_retailers",
        "应确认下架的经销商",
        "Retailers to acknowledge",
        |f| Cell::Count(f.recall_retailers),
    ),
    col(
        "recall_acknowledged",
        "已确认下架",
        "Acknowledged",
        |f| Cell::Count(f.recall_acknowledged),
    ),
    col("complaints", "消费者反馈", "Consumer reports", |f| {
        Cell::Count(f.complaints)
    }),
    col("cases", "先行赔付案件", "Compensation cases", |f| {
        Cell::Count(f.cases)
    }),
    col("cases_open", "未结案", "Open", |f| {
        Cell::Count(f.cases_open)
    }),
    col("cases_overdue", "逾期", "Overdue", |f| {
        Cell::Count(f.cases_overdue)
    }),
    col(
        "compensated_yuan",
        "赔付金额(元)",
        "Compensated (yuan)",
        |f| Cell::Yuan(f.compensated_fen),
    ),
    col(
        "open_warnings",
        "未处理的复制预警",
        "Open copy warnings",
        |f| Cell::Count(f.open_warnings),
    ),
];

const RETAILER_COLUMNS: [Column<RetailerFigures>; 7] = [
    col("intakes", "进货查验", "Intakes", |f| {
        Cell::Count(f.intakes)
    }),
    col("recalls", "涉及的召回", "Recalls to act on", |f| {
        Cell::Count(f.recalls)
    }),
    col(
        "recall_acknowledged",
        "已确认下架",
        "Acknowledged",
        |f| Cell::Count(f.recall_acknowledged),
    ),
    col("cases", "先行赔付案件", "Compensation cases", |f| {
        Cell::Count(f.cases)
    }),
    col("cases_open", "未结案", "Open", |f| {
        Cell::Count(f.cases_open)
    }),
    col("cases_overdue", "逾期", "Overdue", |f| {
        Cell::Count(f.cases_overdue)
    }),
    col(
        "compensated_yuan",
        "赔付金额(元)",
        "Compensated (yuan)",
        |f| Cell::Yuan(f.compensated_fen),
    ),
];

const TIER_COLUMNS: [Column<TierRow>; 4] = [
    col("legs_shipped", "发来", "Legs shipped", |t| {
        Cell::Count(t.legs_shipped)
    }),
    col("legs_received", "已进货查验", "Taken in", |t| {
        Cell::Count(t.legs_received)
    }),
    col("legs_rejected", "拒收", "Refused", |t| {
        Cell::Count(t.legs_rejected)
    }),
    col("coverage_percent", "覆盖率%", "Coverage %", |t| {
        Cell::Percent(t.coverage())
    }),
];

/// A tier's name in both languages.
fn tier_name(tier: &str) -> &'static str {
    match tier {
        "wholesale" => "批发、经销 Wholesale",
        "market" => "市场开办者 Market",
        _ => "零售 Retail",
    }
}

/// The report as CSV (UTF-8): `level, region_code, organization_id, name, credit_code`, the
/// producer-side figures, the retailer-side ones (`retailer_` prefixed), then a tier's legs
/// (`tier_` prefixed; `name` holds the tier). Cells that start like a formula are neutralised
/// ([`super::csv_out`]).
pub fn csv(report: &Report) -> Result<Vec<u8>, csv::Error> {
    let mut out = super::csv_out::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = [
        "level",
        "region_code",
        "organization_id",
        "name",
        "credit_code",
    ]
    .map(String::from)
    .to_vec();
    header.extend(COLUMNS.iter().map(|c| c.code.to_string()));
    header.extend(
        RETAILER_COLUMNS
            .iter()
            .map(|c| format!("retailer_{}", c.code)),
    );
    header.extend(TIER_COLUMNS.iter().map(|c| format!("tier_{}", c.code)));
    out.write_record(&header)?;
    let blank_retailer = || RETAILER_COLUMNS.iter().map(|_| String::new());
    let figures = |f: &Figures| {
        COLUMNS
            .iter()
            .map(|c| (c.value)(f).text())
            .collect::<Vec<_>>()
    };
    let blank_tier = || {
        TIER_COLUMNS
            .iter()
            .map(|_| String::new())
            .collect::<Vec<_>>()
    };
    let mut row = |lead: [&str; 5], f: Vec<String>, r: Vec<String>, t: Vec<String>| {
        let mut record: Vec<String> = lead.iter().map(|s| s.to_string()).collect();
        record.extend(f);
        record.extend(r);
        record.extend(t);
        out.write_record(&record)
    };
    row(
        ["total", &report.region, "", "", ""],
        figures(&report.totals),
        blank_retailer().collect(),
        blank_tier(),
    )?;
    for c in &report.by_county {
        row(
            ["county", &c.region_code, "", "", ""],
            figures(&c.figures),
            blank_retailer().collect(),
            blank_tier(),
        )?;
    }
    for p in &report.by_producer {
        row(
            ["producer", &p.region_code, &p.id, &p.name, &p.credit_code],
            figures(&p.figures),
            blank_retailer().collect(),
            blank_tier(),
        )?;
    }
    for r in &report.by_retailer {
        let values = RETAILER_COLUMNS
            .iter()
            .map(|c| (c.value)(&r.figures).text())
            .collect();
        row(
            ["retailer", &r.region_code, &r.id, &r.name, &r.credit_code],
            COLUMNS.iter().map(|_| String::new()).collect(),
            values,
            blank_tier(),
        )?;
    }
    for t in &report.by_tier {
        row(
            ["tier", &report.region, "", t.tier, ""],
            COLUMNS.iter().map(|_| String::new()).collect(),
            blank_retailer().collect(),
            TIER_COLUMNS.iter().map(|c| (c.value)(t).text()).collect(),
        )?;
    }
    out.into_inner()
}

fn write_cell(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    cell: Cell,
    pct: &Format,
    money: &Format,
) -> Result<(), XlsxError> {
    match cell {
        Cell::Count(n) => sheet.write_number(row, col, n as f64).map(|_| ()),
        Cell::Percent(Some(p)) => sheet.write_number_with_format(row, col, p, pct).map(|_| ()),
        Cell::Percent(None) => Ok(()),
        Cell::Yuan(fen) => sheet
            .write_number_with_format(row, col, fen as f64 / 100.0, money)
            .map(|_| ()),
    }
}

/// The report as an .xlsx workbook: 总计 Summary, 按县区 By county, 按生产者 By producer,
/// 按经销商 By retailer, 按环节 By tier.
pub fn xlsx(report: &Report) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let pct = Format::new().set_num_format("0.0");
    let money = Format::new().set_num_format("0.00");

    let summary = book.add_worksheet().set_name("总计 Summary")?;
    summary.write_string_with_format(0, 0, "区域 Region", &bold)?;
    summary.write_string(0, 1, &report.region)?;
    summary.write_string_with_format(1, 0, "期间 Period", &bold)?;
    summary.write_string(1, 1, format!("{} — {}", report.from, report.to))?;
    for (i, c) in COLUMNS.iter().enumerate() {
        let row = 3 + i as u32;
        summary.write_string(row, 0, c.title())?;
        write_cell(summary, row, 1, (c.value)(&report.totals), &pct, &money)?;
    }
    summary.set_column_width(0, 36)?;

    let lead_headers = |sheet: &mut Worksheet, lead: &[&str]| -> Result<(), XlsxError> {
        for (i, h) in lead.iter().enumerate() {
            sheet.write_string_with_format(0, i as u16, *h, &bold)?;
        }
        Ok(())
    };
    let counties = book.add_worksheet().set_name("按县区 By county")?;
    lead_headers(counties, &["行政区划代码 Region code"])?;
    for (i, c) in COLUMNS.iter().enumerate() {
        counties.write_string_with_format(0, 1 + i as u16, c.title(), &bold)?;
    }
    for (r, county) in report.by_county.iter().enumerate() {
        let row = 1 + r as u32;
        counties.write_string(row, 0, &county.region_code)?;
        for (i, c) in COLUMNS.iter().enumerate() {
            write_cell(
                counties,
                row,
                1 + i as u16,
                (c.value)(&county.figures),
                &pct,
                &money,
            )?;
        }
    }

    let producers = book.add_worksheet().set_name("按生产者 By producer")?;
    lead_headers(
        producers,
        &[
            "名称 Name",
            "统一社会信用代码 Credit code",
            "行政区划代码 Region code",
        ],
    )?;
    for (i, c) in COLUMNS.iter().enumerate() {
        producers.write_string_with_format(0, 3 + i as u16, c.title(), &bold)?;
    }
    for (r, p) in report.by_producer.iter().enumerate() {
        let row = 1 + r as u32;
        producers.write_string(row, 0, &p.name)?;
        producers.write_string(row, 1, &p.credit_code)?;
        producers.write_string(row, 2, &p.region_code)?;
        for (i, c) in COLUMNS.iter().enumerate() {
            write_cell(
                producers,
                row,
                3 + i as u16,
                (c.value)(&p.figures),
                &pct,
                &money,
            )?;
        }
    }

    let retailers = book.add_worksheet().set_name("按经销商 By retailer")?;
    lead_headers(
        retailers,
        &[
            "名称 Name",
            "统一社会信用代码 Credit code",
            "行政区划代码 Region code",
        ],
    )?;
    for (i, c) in RETAILER_COLUMNS.iter().enumerate() {
        retailers.write_string_with_format(0, 3 + i as u16, c.title(), &bold)?;
    }
    for (r, x) in report.by_retailer.iter().enumerate() {
        let row = 1 + r as u32;
        retailers.write_string(row, 0, &x.name)?;
        retailers.write_string(row, 1, &x.credit_code)?;
        retailers.write_string(row, 2, &x.region_code)?;
        for (i, c) in RETAILER_COLUMNS.iter().enumerate() {
            write_cell(
                retailers,
                row,
                3 + i as u16,
                (c.value)(&x.figures),
                &pct,
                &money,
            )?;
        }
    }

    let tiers = book.add_worksheet().set_name("按环节 By tier")?;
    lead_headers(tiers, &["环节 Tier"])?;
    for (i, c) in TIER_COLUMNS.iter().enumerate() {
        tiers.write_string_with_format(0, 1 + i as u16, c.title(), &bold)?;
    }
    for (r, t) in report.by_tier.iter().enumerate() {
        let row = 1 + r as u32;
        tiers.write_string(row, 0, tier_name(t.tier))?;
        for (i, c) in TIER_COLUMNS.iter().enumerate() {
            write_cell(tiers, row, 1 + i as u16, (c.value)(t), &pct, &money)?;
        }
    }
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_print_as_a_spreadsheet_reads_them() {
        assert_eq!(Cell::Count(12).text(), "12");
        assert_eq!(Cell::Percent(Some(66.7)).text(), "66.7");
        assert_eq!(Cell::Percent(None).text(), "");
        assert_eq!(Cell::Yuan(3980).text(), "39.80");
        assert_eq!(Cell::Yuan(5).text(), "0.05");
    }
}

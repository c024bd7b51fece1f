//! Every CSV file certrail writes (the regulators' `reports.csv`, the CLI's list of what it
//! issued) goes through [`Writer`], so a cell cannot turn into a formula when the file is
//! opened in a spreadsheet (CSV injection, OWASP): a cell starting with `=`, `+`, `-`, `@`, a
//! tab or a carriage return gets a leading `'` ([`neutralised`]). A plain decimal number
//! (`-12`, `-0.5`) is left as it is: it cannot hold a formula, and a spreadsheet must still
//! read it as a number.

use std::borrow::Cow;
use std::io::Write;

/// What a spreadsheet may take as the start of a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether `text` is a plain decimal number: an optional `-`, digits, optionally `.` and
/// digits.
fn is_plain_number(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = match digits.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (digits, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    all_digits(whole) && fraction.is_none_or(all_digits)
}

/// `cell` as it is safe to write: with a `'` in front when it starts like a formula.
pub fn neutralised(cell: &str) -> Cow<'_, str> {
    match cell.starts_with(FORMULA_STARTS) && !is_plain_number(cell) {
        true => Cow::Owned(format!("'{cell}")),
        false => Cow::Borrowed(cell),
    }
}

/// A `csv::Writer` that writes every cell [`neutralised`].
pub struct Writer<W: Write> {
    inner: csv::Writer<W>,
}

impl<W: Write> Writer<W> {
    pub fn from_writer(sink: W) -> Self {
        Self {
            inner: csv::Writer::from_writer(sink),
        }
    }

    pub fn write_record<I, T>(&mut self, record: I) -> csv::Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        self.inner.write_record(
            record
                .into_iter()
                .map(|cell| neutralised(cell.as_ref()).into_owned()),
        )
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }

    pub fn into_inner(self) -> Result<W, csv::Error> {
        self.inner
            .into_inner()
            .map_err(|e| csv::Error::from(e.into_error()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_formula_start_is_neutralised() {
        assert_eq!(
            neutralised(r#"=HYPERLINK("http://x","y")"#),
            r#"'=HYPERLINK("http://x","y")"#
        );
        assert_eq!(neutralised("+1+cmd|' /C calc'!A0"), "'+1+cmd|' /C calc'!A0");
        assert_eq!(neutralised("-2+3"), "'-2+3");
        assert_eq!(neutralised("@SUM(1+1)"), "'@SUM(1+1)");
        assert_eq!(neutralised("\t=1+1"), "'\t=1+1");
        assert_eq!(neutralised("\r=1+1"), "'\r=1+1");
        assert_eq!(neutralised("-"), "'-");
        assert_eq!(neutralised("-1e3"), "'-1e3");
        assert_eq!(neutralised("-.5"), "'-.5");
        assert_eq!(neutralised("-1."), "'-1.");
    }

    #[test]
    fn other_cells_and_plain_numbers_are_kept() {
        for cell in [
            "",
            "湘潭酱板鸭厂",
            "a=b",
            "'=quoted already",
            " =1+1",
            "12",
            "-12",
            "-0.5",
            "3.25",
        ] {
            assert_eq!(neutralised(cell), cell);
        }
    }

    #[test]
    fn the_writer_neutralises_every_cell() {
        let mut out = Writer::from_writer(Vec::new());
        out.write_record(["=1+1", "ok", "-3", "@x"]).unwrap();
        let text = String::from_utf8(out.into_inner().unwrap()).unwrap();
        assert_eq!(text, "'=1+1,ok,-3,'@x\n");
    }
}

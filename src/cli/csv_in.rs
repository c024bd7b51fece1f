//! Reading a CSV file with English (the API's field names) or Chinese headers: UTF-8 with or
//! without a BOM, each header mapped to its field, unknown and missing columns reported, and
//! each row turned into a request by the file kind's own rule ([`rows`]).

/// A column: the API field and the Chinese headers used for it.
pub type Column = (&'static str, &'static [&'static str]);

/// A file whose header passed: the field of each column, and the reader at the first row.
pub struct Table<'a> {
    pub fields: Vec<&'static str>,
    pub reader: csv::Reader<&'a [u8]>,
}

/// Reads the header of `data`; every unknown column and every missing `required` one is
/// reported, one per line of the answer.
pub fn open<'a>(
    data: &'a [u8],
    columns: &[Column],
    required: &[&str],
) -> Result<Table<'a>, Vec<String>> {
    let data = data.strip_prefix("\u{feff}".as_bytes()).unwrap_or(data);
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(data);
    let headers = reader.headers().map_err(|e| vec![e.to_string()])?.clone();
    let field_of = |header: &str| {
        let header = header.trim().to_lowercase();
        columns
            .iter()
            .find(|(name, aliases)| *name == header || aliases.contains(&header.as_str()))
            .map(|(name, _)| *name)
    };
    let mut fields = Vec::with_capacity(headers.len());
    let mut errors = Vec::new();
    for header in &headers {
        match field_of(header) {
            Some(f) => fields.push(f),
            None => errors.push(format!(
                "unknown column {header:?}; known: {}",
                columns.iter().map(|c| c.0).collect::<Vec<_>>().join(", ")
            )),
        }
    }
    for required in required {
        if !fields.contains(required) {
            errors.push(format!("missing column {required}"));
        }
    }
    match errors.is_empty() {
        true => Ok(Table { fields, reader }),
        false => Err(errors),
    }
}

/// The requests a file gives, with the line each came from.
#[derive(Debug)]
pub struct Rows<T> {
    pub requests: Vec<T>,
    pub lines: Vec<u64>,
}

/// Reads every row of `data` into a request with `build`, which gets the row's line and its
/// non-empty cells by field. Every problem is reported, one per line of the answer; a file
/// without rows is one.
pub fn rows<T>(
    data: &[u8],
    columns: &[Column],
    required: &[&str],
    mut build: impl FnMut(u64, &dyn Fn(&str) -> Option<String>) -> Result<T, Vec<String>>,
) -> Result<Rows<T>, Vec<String>> {
    let Table { fields, mut reader } = open(data, columns, required)?;
    let mut errors = Vec::new();
    let mut rows = Rows {
        requests: Vec::new(),
        lines: Vec::new(),
    };
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(e.to_string());
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let get = |name: &str| {
            fields
                .iter()
                .position(|f| *f == name)
                .and_then(|i| record.get(i))
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        match build(line, &get) {
            Ok(request) => {
                rows.requests.push(request);
                rows.lines.push(line);
            }
            Err(e) => errors.extend(e),
        }
    }
    if rows.requests.is_empty() && errors.is_empty() {
        errors.push("the file has no rows below its header".into());
    }
    match errors.is_empty() {
        true => Ok(rows),
        false => Err(errors),
    }
}

//! Reading a CSV file with English (the API's field names) or Chinese headers: UTF-8 with or
//! without a BOM, each header mapped to its field, unknown and missing columns reported.

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

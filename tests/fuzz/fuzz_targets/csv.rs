//! The CSV files producers upload: ERP exports (`certrail issue --csv`) and 承诺达标合格证 lots
//! (`certrail promise --csv`), any bytes, any encoding damage. Every outcome is rows or a list
//! of problems, never a panic.
#![no_main]

use certrail::cli::{erp_csv, promise_csv};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match erp_csv::parse(data) {
        Ok(rows) => assert_eq!(rows.requests.len(), rows.lines.len()),
        Err(problems) => assert!(!problems.is_empty()),
    }
    match promise_csv::parse(data) {
        Ok(rows) => assert_eq!(rows.requests.len(), rows.lines.len()),
        Err(problems) => assert!(!problems.is_empty()),
    }
});

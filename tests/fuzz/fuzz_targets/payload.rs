//! A certificate request body through the API's JSON reader and the batch rules, and stored
//! payload text through canonicalization (RFC 8785): canonical text is a fixed point.
#![no_main]

use certrail::domain::{batch, payload};
use certrail::http::extract::parse_json;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = parse_json::<batch::IssueRequest>(data) {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        if let Ok(checked) = batch::check(&request, today) {
            assert!(checked.batch.quantity >= 1 && checked.batch.quantity <= batch::MAX_QUANTITY);
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some((_, canonical)) = payload::recanonicalize(text) {
            let (_, again) = payload::recanonicalize(&canonical).expect("canonical JSON parses");
            assert_eq!(again, canonical);
        }
    }
});

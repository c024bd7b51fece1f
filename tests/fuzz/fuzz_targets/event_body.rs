//! A stored trail event as the chain check reads it: its body parsed, re-canonicalized and
//! linked. An event the check accepts is canonical and is the first of its chain.
#![no_main]

use certrail::domain::hash::sha256_hex;
use certrail::domain::trail::{check_chain, StoredEvent};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &str| {
    let hash = sha256_hex(body.as_bytes());
    let events = [StoredEvent {
        seq: 1,
        body,
        hash: &hash,
        signature_ok: true,
    }];
    if check_chain(&events, 1, &hash).is_ok() {
        let parsed: serde_json::Value = serde_json::from_str(body).expect("accepted bodies parse");
        assert_eq!(parsed["seq"], 1);
    }
    // A wrong hash is never accepted.
    let wrong = StoredEvent {
        hash: "0",
        ..events[0]
    };
    assert!(check_chain(&[wrong], 1, "0").is_err());
});

//! What a phone's camera reads off a label: the label URL parser, the offline payload it may
//! carry (base64url of deflate, size-capped).
#![no_main]

use certrail::domain::label;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(scanned) = label::parse("label_url", text) {
        assert!(!scanned.id.is_empty());
        if let Some(p) = scanned.payload.as_deref() {
            if let Some(payload) = label::unpack_payload(p) {
                // What unpacks packs back to something that unpacks to the same text.
                let again = label::pack_payload(&payload);
                assert_eq!(label::unpack_payload(&again).as_deref(), Some(payload.as_str()));
            }
        }
    }
});

//! Any bytes into the E2SM-KPM event trigger definition decoder: it returns a value or an error,
//! never panics, and a decoded value that encodes again decodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maestro_e2sm::kpm::{decode_event_trigger, encode_event_trigger};

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = decode_event_trigger(data) {
        // Values the encoder refuses (e.g. REAL with rasn) are fine; the rest must be stable.
        if let Ok(bytes) = encode_event_trigger(&value) {
            let again = decode_event_trigger(&bytes).expect("our bytes decode");
            assert_eq!(encode_event_trigger(&again).ok(), Some(bytes));
        }
    }
});

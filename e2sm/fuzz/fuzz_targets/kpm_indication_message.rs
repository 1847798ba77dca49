//! Any bytes into the E2SM-KPM indication message (formats 1 and 3) decoder: it returns a value or an error,
//! never panics, and a decoded value that encodes again decodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maestro_e2sm::kpm::{decode_indication_message, encode_indication_message};

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = decode_indication_message(data) {
        // Values the encoder refuses (e.g. REAL with rasn) are fine; the rest must be stable.
        if let Ok(bytes) = encode_indication_message(&value) {
            let again = decode_indication_message(&bytes).expect("our bytes decode");
            assert_eq!(encode_indication_message(&again).ok(), Some(bytes));
        }
    }
});

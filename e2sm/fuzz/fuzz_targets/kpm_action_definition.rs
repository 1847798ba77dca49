//! Any bytes into the E2SM-KPM action definition (formats 1 and 4) decoder: it returns a value or an error,
//! never panics, and a decoded value that encodes again decodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maestro_e2sm::kpm::{decode_action_definition, encode_action_definition};

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = decode_action_definition(data) {
        // Values the encoder refuses (e.g. REAL with rasn) are fine; the rest must be stable.
        if let Ok(bytes) = encode_action_definition(&value) {
            let again = decode_action_definition(&bytes).expect("our bytes decode");
            assert_eq!(encode_action_definition(&again).ok(), Some(bytes));
        }
    }
});

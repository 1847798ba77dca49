//! Any bytes into the E2SM-KPM indication header decoder: it returns a value or an error,
//! never panics, and a decoded value that encodes again decodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maestro_e2sm::kpm_aper::{decode_indication_header, encode_indication_header};

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = decode_indication_header(data) {
        // Values the encoder refuses (e.g. REAL with rasn) are fine; the rest must be stable.
        if let Ok(bytes) = encode_indication_header(&value) {
            let again = decode_indication_header(&bytes).expect("our bytes decode");
            assert_eq!(encode_indication_header(&again).ok(), Some(bytes));
        }
    }
});

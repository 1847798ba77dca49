//! Any bytes into the E2SM-RC control message decoder, in both RAN-parameter dialects: it
//! returns a control or an error, never panics, and a decoded control re-encodes and decodes
//! to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maestro_e2sm::rc_aper::{decode_control_message, encode_control_message, RanParamDialect};

fuzz_target!(|data: &[u8]| {
    for dialect in [RanParamDialect::Oran, RanParamDialect::Oai] {
        if let Ok(control) = decode_control_message(data, dialect) {
            let bytes =
                encode_control_message(&control, dialect).expect("a decoded control encodes");
            let again = decode_control_message(&bytes, dialect).expect("our bytes decode");
            assert_eq!(again, control);
        }
    }
});

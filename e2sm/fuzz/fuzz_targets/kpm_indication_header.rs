//! Any bytes into the E2SM-KPM indication header decoder of either version (the first input
//! byte picks it: even v02.03, odd v03.00; the rest is the header): it returns a value or an
//! error, never panics, a decoded value encodes again to bytes that decode to the same value
//! and encodes to the same bytes, and the rasn reference codec agrees with the hand-written
//! one on every header either accepts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maestro_e2sm::kpm::KpmVersion;
use maestro_e2sm::kpm::{decode_indication_header, encode_indication_header, reference};

fuzz_target!(|data: &[u8]| {
    let Some((&first, bytes)) = data.split_first() else {
        return;
    };
    let version = if first & 1 == 0 {
        KpmVersion::V2_03
    } else {
        KpmVersion::V3_00
    };
    let decoded = decode_indication_header(bytes, version);
    let by_rasn = reference::decode_indication_header(bytes, version);
    if decoded.is_ok() || by_rasn.is_ok() {
        assert_eq!(decoded, by_rasn, "the two codecs disagree");
    }
    if let Ok(value) = decoded {
        // Values the encoder refuses are fine; the rest must be stable.
        if let Ok(again_bytes) = encode_indication_header(&value, version) {
            let again = decode_indication_header(&again_bytes, version).expect("our bytes decode");
            assert_eq!(
                again, value,
                "a decoded header changed through encode/decode"
            );
            assert_eq!(
                encode_indication_header(&again, version).ok(),
                Some(again_bytes)
            );
        }
    }
});

//! Any bytes into the E2SM-RC control header decoder: a header or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maestro_e2sm::rc::decode_control_header;

fuzz_target!(|data: &[u8]| {
    let _ = decode_control_header(data);
});

//! Any bytes into the E2SM-RC control message decoder, in both RAN-parameter dialects: it
//! returns a control or an error, never panics, and a decoded control re-encodes and decodes
//! to itself. The decoder reads binary and ASCII leaves (PLMN Identity, SST, SD) alike; a
//! decoded control is re-encoded in both leaf encodings, and each message must decode to the
//! control as exactly that leaf form, whatever form (or mix of forms) the input had.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maestro_e2sm::rc::{
    decode_control_message_with_leaves, encode_control_message_with_leaves, DecodedControl,
    LeafEncoding, RanParamDialect,
};

fuzz_target!(|data: &[u8]| {
    for dialect in [RanParamDialect::Oran, RanParamDialect::Oai] {
        if let Ok(decoded) = decode_control_message_with_leaves(data, dialect) {
            for leaves in LeafEncoding::ALL {
                let bytes = encode_control_message_with_leaves(&decoded.control, dialect, leaves)
                    .expect("a decoded control encodes");
                let again =
                    decode_control_message_with_leaves(&bytes, dialect).expect("our bytes decode");
                assert_eq!(
                    again,
                    DecodedControl {
                        control: decoded.control.clone(),
                        leaves: leaves.into()
                    }
                );
            }
        }
    }
});

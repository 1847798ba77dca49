//! Any text as an LLM's answer, through the extraction unit (`negotiation::extraction::extract`):
//! it returns a value or an error, never panics, and a value it returns is finite.
#![no_main]

#[path = "../../src/negotiation/extraction.rs"]
#[allow(dead_code)]
mod extraction;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(answer) = extraction::extract(&text) {
        assert!(
            answer.value_mbps.is_finite(),
            "non-finite value {} from {text:?}",
            answer.value_mbps
        );
    }
});

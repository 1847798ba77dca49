//! Local GGUF LLM backend: runs any GGUF chat model in-process with llama.cpp (the
//! `llama-cpp-2` crate, behind the `local-llm` cargo feature), so the negotiations run on a real
//! language model with no server and no network.
//!
//! - The prompt is the same system + user pair every backend gets (`config/prompts/`), laid out
//!   with the model's own chat template (from the GGUF metadata).
//! - Generation is constrained by a GBNF grammar to the service-intent template
//!   `{"value": <number>, "reasoning": "<text>"}`, the number restricted to the round's bounds
//!   ([`intent_grammar`]), so even a tiny model always produces a parseable message; the
//!   extraction and validation units still run after it.
//! - The agents of a round are decoded together: [`LanguageModel::complete_batch`](super::llm::LanguageModel::complete_batch) submits all
//!   their prompts as one job, and a worker thread prefills them in one batch and then samples
//!   one token per sequence per decode step, every sequence in one context (several sequence
//!   ids in one KV cache). Concurrent single requests that queue up meanwhile are merged into
//!   the next batch. With [`LocalConfig::batch`] off, sequences are decoded one at a time (the
//!   baseline of the benchmark).
//! - Tokens are counted ([`LanguageModel::usage`](super::llm::LanguageModel::usage), `LocalBackend::stats`).
//!
//! The configuration ([`LocalConfig`], `config`) and the grammar (`grammar`) are always
//! compiled; the backend itself (`backend`: the llama.cpp session and its batching) only with
//! the feature. Without it, `LocalBackend::new` does not exist and
//! [`unavailable`] is the error `--llm local` reports.

mod config;
mod grammar;

#[cfg(feature = "local-llm")]
mod backend;

#[cfg(feature = "local-llm")]
pub use backend::{LocalBackend, LocalStats};
pub use config::{
    LocalConfig, ENV_BATCH, ENV_CONTEXT, ENV_GGUF, ENV_MAX_TOKENS, ENV_SEED, ENV_TEMPERATURE,
    ENV_THREADS,
};
pub use grammar::intent_grammar;

use super::llm::LlmError;

/// Backend name used in errors.
const BACKEND: &str = "local";

/// The error of `--llm local` in a build without the `local-llm` feature.
pub fn unavailable() -> LlmError {
    LlmError::Backend {
        backend: BACKEND.into(),
        reason: "this build has no local GGUF backend; rebuild with `--features local-llm` \
                 (needs cmake and libclang), e.g. `cargo build --release --features local-llm`"
            .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unavailable_names_the_feature() {
        assert!(unavailable().to_string().contains("--features local-llm"));
    }
}

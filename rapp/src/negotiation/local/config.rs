//! Settings of the local backend ([`LocalConfig`]): the model file, threads, context, sampling,
//! batching; their defaults, the `MAESTRO_GGUF` / `MAESTRO_LOCAL_*` environment overrides, and
//! their validation.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::super::llm::LlmError;
use super::BACKEND;

/// Env var naming the GGUF model file ([`LocalConfig::model_path`]).
pub const ENV_GGUF: &str = "MAESTRO_GGUF";
/// Env var overriding [`LocalConfig::threads`].
pub const ENV_THREADS: &str = "MAESTRO_LOCAL_THREADS";
/// Env var overriding [`LocalConfig::context_size`].
pub const ENV_CONTEXT: &str = "MAESTRO_LOCAL_CONTEXT";
/// Env var overriding [`LocalConfig::temperature`].
pub const ENV_TEMPERATURE: &str = "MAESTRO_LOCAL_TEMPERATURE";
/// Env var overriding [`LocalConfig::seed`].
pub const ENV_SEED: &str = "MAESTRO_LOCAL_SEED";
/// Env var overriding [`LocalConfig::max_tokens`].
pub const ENV_MAX_TOKENS: &str = "MAESTRO_LOCAL_MAX_TOKENS";
/// Env var overriding [`LocalConfig::batch`] (`1`/`true`: decode a round together, `0`/`false`:
/// one sequence at a time).
pub const ENV_BATCH: &str = "MAESTRO_LOCAL_BATCH";

/// Settings of the local backend. Every field but the model path has a default, so a partial
/// JSON object deserializes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LocalConfig {
    /// The GGUF chat model file.
    pub model_path: PathBuf,
    /// CPU threads for decoding; 0 = half the available cores (1..=8).
    pub threads: usize,
    /// Context of one sequence (prompt + answer), tokens.
    pub context_size: u32,
    /// Sampling temperature; 0 = greedy.
    pub temperature: f32,
    /// Seed of the sampler (each sequence gets `seed + its running number`).
    pub seed: u32,
    /// Answer length cap, tokens.
    pub max_tokens: u32,
    /// Length cap of the reasoning text, characters (longer texts are cut and closed).
    pub max_reasoning_chars: u32,
    /// Sequences decoded together at most (larger rounds are split).
    pub max_sequences: u32,
    /// Decode the agents of a round together (`false`: one sequence at a time).
    pub batch: bool,
}

impl Default for LocalConfig {
    fn default() -> Self {
        Self {
            model_path: PathBuf::new(),
            threads: 0,
            context_size: 2048,
            temperature: 0.7,
            seed: 1,
            max_tokens: 128,
            max_reasoning_chars: 200,
            max_sequences: 16,
            batch: true,
        }
    }
}

fn config_error(reason: String) -> LlmError {
    LlmError::Backend {
        backend: BACKEND.into(),
        reason: format!("invalid config: {reason}"),
    }
}

impl LocalConfig {
    /// A configuration for the model at `model_path`, defaults elsewhere.
    pub fn for_model(model_path: impl Into<PathBuf>) -> Self {
        Self {
            model_path: model_path.into(),
            ..Self::default()
        }
    }

    /// `base` with `MAESTRO_GGUF`, `MAESTRO_LOCAL_THREADS`, `MAESTRO_LOCAL_CONTEXT`,
    /// `MAESTRO_LOCAL_TEMPERATURE`, `MAESTRO_LOCAL_SEED`, `MAESTRO_LOCAL_MAX_TOKENS` and
    /// `MAESTRO_LOCAL_BATCH` applied; unset or empty variables leave the field alone.
    pub fn from_env(base: Self) -> Result<Self, LlmError> {
        Self::from_lookup(base, |name| std::env::var(name).ok())
    }

    /// [`Self::from_env`] with a custom variable lookup.
    pub fn from_lookup(
        base: Self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, LlmError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        fn parse<T: std::str::FromStr>(name: &str, v: &str) -> Result<T, LlmError> {
            v.parse()
                .map_err(|_| config_error(format!("{name}={v:?} is not a valid number")))
        }
        let mut cfg = base;
        if let Some(path) = get(ENV_GGUF) {
            cfg.model_path = PathBuf::from(path);
        }
        if let Some(v) = get(ENV_THREADS) {
            cfg.threads = parse(ENV_THREADS, &v)?;
        }
        if let Some(v) = get(ENV_CONTEXT) {
            cfg.context_size = parse(ENV_CONTEXT, &v)?;
        }
        if let Some(v) = get(ENV_TEMPERATURE) {
            cfg.temperature = parse(ENV_TEMPERATURE, &v)?;
        }
        if let Some(v) = get(ENV_SEED) {
            cfg.seed = parse(ENV_SEED, &v)?;
        }
        if let Some(v) = get(ENV_MAX_TOKENS) {
            cfg.max_tokens = parse(ENV_MAX_TOKENS, &v)?;
        }
        if let Some(v) = get(ENV_BATCH) {
            cfg.batch = match v.to_ascii_lowercase().as_str() {
                "1" | "true" | "on" => true,
                "0" | "false" | "off" => false,
                _ => {
                    return Err(config_error(format!(
                        "{ENV_BATCH}={v:?} is not one of 1, 0, true, false, on, off"
                    )))
                }
            };
        }
        Ok(cfg)
    }

    /// Checks the settings; the error says which one is wrong.
    pub fn validate(&self) -> Result<(), LlmError> {
        if self.model_path.as_os_str().is_empty() {
            return Err(config_error(format!(
                "no GGUF model given (--gguf PATH or {ENV_GGUF}); `.ci/fetch-smollm2` fetches \
                 a small one"
            )));
        }
        if !self.model_path.is_file() {
            return Err(config_error(format!(
                "GGUF model {} is not a readable file",
                self.model_path.display()
            )));
        }
        if self.context_size < 256 {
            return Err(config_error(format!(
                "context_size must be at least 256 tokens, got {}",
                self.context_size
            )));
        }
        if !(self.temperature.is_finite() && self.temperature >= 0.0) {
            return Err(config_error(format!(
                "temperature must be a number >= 0, got {}",
                self.temperature
            )));
        }
        if self.max_tokens < 16 || self.max_tokens >= self.context_size {
            return Err(config_error(format!(
                "max_tokens must be in 16..{} (the context size), got {}",
                self.context_size, self.max_tokens
            )));
        }
        if self.max_reasoning_chars == 0 {
            return Err(config_error(
                "max_reasoning_chars must be at least 1".into(),
            ));
        }
        if !(1..=64).contains(&self.max_sequences) {
            return Err(config_error(format!(
                "max_sequences must be in 1..=64, got {}",
                self.max_sequences
            )));
        }
        Ok(())
    }

    /// Threads to use (resolving 0 to the available cores).
    pub fn resolved_threads(&self) -> usize {
        if self.threads > 0 {
            self.threads
        } else {
            // Half the cores: ggml's threads spin while they wait, so more threads than idle
            // cores (other work on the machine) slow decoding down many times over.
            (std::thread::available_parallelism().map_or(1, |n| n.get()) / 2).clamp(1, 8)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_validation_and_env() {
        let err = |c: &LocalConfig| match c.validate() {
            Err(LlmError::Backend { reason, .. }) => reason,
            Ok(()) => String::new(),
        };
        assert!(err(&LocalConfig::default()).contains("--gguf"));
        assert!(err(&LocalConfig::for_model("/nonexistent.gguf")).contains("not a readable file"));
        let vars = |name: &str| match name {
            ENV_GGUF => Some("/m.gguf".to_owned()),
            ENV_THREADS => Some("3".to_owned()),
            ENV_SEED => Some(" ".to_owned()),
            _ => None,
        };
        let cfg = LocalConfig::from_lookup(LocalConfig::default(), vars).unwrap();
        assert_eq!(cfg.model_path, PathBuf::from("/m.gguf"));
        assert_eq!(cfg.threads, 3);
        assert_eq!(cfg.seed, 1);
        let bad = LocalConfig::from_lookup(LocalConfig::default(), |n| {
            (n == ENV_TEMPERATURE).then(|| "hot".to_owned())
        });
        assert!(bad.is_err());
        let partial: LocalConfig = serde_json::from_str(r#"{"model_path": "/x.gguf"}"#).unwrap();
        assert_eq!(partial.context_size, 2048);
    }
}

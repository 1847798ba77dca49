//! OpenAI-compatible chat-completions LLM backend.
//!
//! [`OpenAiBackend`] implements [`LanguageModel`] by POSTing the prompt to
//! `{base_url}/chat/completions` as a system + user message and returning
//! `choices[0].message.content`. Any server speaking that protocol works: OpenAI itself, vLLM
//! (`vllm serve`, `http://host:8000/v1`), Ollama (`http://127.0.0.1:11434/v1`) and the llama.cpp
//! server (`llama-server`, `http://127.0.0.1:8080/v1`).
//!
//! Robustness:
//! - every attempt has its own timeout ([`OpenAiConfig::timeout_ms`], covering connect, send
//!   and reading the body);
//! - transport errors, timeouts, HTTP 429/500/502/503/504 and 200 answers that are not a chat
//!   completion ("malformed completion") are retried up to [`OpenAiConfig::max_retries`] times
//!   with exponential backoff ([`OpenAiConfig::backoff_ms`], doubling, capped at 8 s); a
//!   `Retry-After: <seconds>` header on 429/503 replaces the backoff (capped at 30 s);
//! - other 4xx answers are not retried (the error names the status and the start of the body);
//! - a semaphore caps the requests in flight at [`OpenAiConfig::max_concurrency`] (the
//!   negotiation engine asks all agents of a round at once);
//! - counters of requests, retries, failures and tokens are kept ([`OpenAiBackend::usage`]).
//!
//! `https://` endpoints use rustls (reqwest's `rustls` feature) with the platform's trust store.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use super::llm::{LanguageModel, LlmError, LlmFuture, Prompt};

/// Env var overriding [`OpenAiConfig::base_url`].
pub const ENV_BASE_URL: &str = "MAESTRO_LLM_BASE_URL";
/// Env var overriding [`OpenAiConfig::model`].
pub const ENV_MODEL: &str = "MAESTRO_LLM_MODEL";
/// Env var overriding [`OpenAiConfig::api_key`].
pub const ENV_API_KEY: &str = "MAESTRO_LLM_API_KEY";
/// Fallback env var for the API key.
pub const ENV_OPENAI_API_KEY: &str = "OPENAI_API_KEY";

/// Backend name used in errors.
const BACKEND: &str = "openai";
/// Cap of the exponential backoff.
const MAX_BACKOFF: Duration = Duration::from_millis(8_000);
/// Cap of a server's `Retry-After`.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
/// How much of an error body goes into error messages, in characters.
const BODY_SNIPPET_CHARS: usize = 200;

/// Settings of the OpenAI-compatible backend. Every field has a default, so a partial JSON
/// object deserializes. The API key is never serialized (nor shown by `Debug`).
#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct OpenAiConfig {
    /// API root including the version, e.g. `http://127.0.0.1:11434/v1`; the backend POSTs to
    /// `{base_url}/chat/completions`.
    pub base_url: String,
    /// Model name, e.g. `llama3.1:8b` or `gpt-4o-mini`.
    pub model: String,
    /// Bearer token sent as `Authorization: Bearer <key>` when set.
    #[serde(skip_serializing)]
    pub api_key: Option<String>,
    /// Timeout of one attempt, ms.
    pub timeout_ms: u64,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff, ms; doubles per retry, capped at 8000 ms.
    pub backoff_ms: u64,
    /// Requests in flight at most.
    pub max_concurrency: usize,
    /// Sampling temperature.
    pub temperature: f64,
    /// Completion length cap, tokens.
    pub max_tokens: u32,
}

impl Default for OpenAiConfig {
    fn default() -> Self {
        Self {
            base_url: "http://127.0.0.1:11434/v1".into(),
            model: "llama3.1:8b".into(),
            api_key: None,
            timeout_ms: 30_000,
            max_retries: 3,
            backoff_ms: 500,
            max_concurrency: 8,
            temperature: 0.2,
            max_tokens: 256,
        }
    }
}

impl fmt::Debug for OpenAiConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiConfig")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("timeout_ms", &self.timeout_ms)
            .field("max_retries", &self.max_retries)
            .field("backoff_ms", &self.backoff_ms)
            .field("max_concurrency", &self.max_concurrency)
            .field("temperature", &self.temperature)
            .field("max_tokens", &self.max_tokens)
            .finish()
    }
}

fn config_error(reason: String) -> LlmError {
    LlmError::Backend {
        backend: BACKEND.into(),
        reason: format!("invalid config: {reason}"),
    }
}

impl OpenAiConfig {
    /// `base` with `MAESTRO_LLM_BASE_URL`, `MAESTRO_LLM_MODEL` and `MAESTRO_LLM_API_KEY`
    /// (falling back to `OPENAI_API_KEY`) applied; unset or empty variables leave the field
    /// alone.
    pub fn from_env(base: Self) -> Self {
        Self::from_lookup(base, |name| std::env::var(name).ok())
    }

    /// [`Self::from_env`] with a custom variable lookup (for tests and embedding).
    pub fn from_lookup(base: Self, lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut cfg = base;
        if let Some(url) = get(ENV_BASE_URL) {
            cfg.base_url = url;
        }
        if let Some(model) = get(ENV_MODEL) {
            cfg.model = model;
        }
        if let Some(key) = get(ENV_API_KEY).or_else(|| get(ENV_OPENAI_API_KEY)) {
            cfg.api_key = Some(key);
        }
        cfg
    }

    /// Checks the settings; the error says which one is wrong.
    pub fn validate(&self) -> Result<(), LlmError> {
        if self.model.trim().is_empty() {
            return Err(config_error("model is empty".into()));
        }
        let url = self.base_url.trim();
        let rest = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("https://"));
        match rest {
            Some(host) if !host.is_empty() && !host.starts_with('/') => {}
            _ => {
                return Err(config_error(format!(
                    "base_url {:?} must be an http:// or https:// URL such as \
                     http://127.0.0.1:11434/v1",
                    self.base_url
                )))
            }
        }
        if self.max_concurrency == 0 {
            return Err(config_error("max_concurrency must be at least 1".into()));
        }
        if self.timeout_ms == 0 {
            return Err(config_error("timeout_ms must be > 0".into()));
        }
        if !(self.temperature.is_finite() && self.temperature >= 0.0) {
            return Err(config_error(format!(
                "temperature must be a number >= 0, got {}",
                self.temperature
            )));
        }
        if self.max_tokens == 0 {
            return Err(config_error("max_tokens must be at least 1".into()));
        }
        Ok(())
    }

    /// The chat-completions endpoint.
    pub fn endpoint(&self) -> String {
        format!(
            "{}/chat/completions",
            self.base_url.trim().trim_end_matches('/')
        )
    }

    /// Delay before retry number `retry` (1-based): `backoff_ms * 2^(retry-1)`, capped at 8 s.
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = 1u64 << retry.saturating_sub(1).min(32);
        Duration::from_millis(self.backoff_ms.saturating_mul(factor)).min(MAX_BACKOFF)
    }
}

/// Counters of an [`OpenAiBackend`] since it was built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UsageSnapshot {
    /// HTTP requests sent (first attempts and retries).
    pub requests: u64,
    /// Retries (attempts after the first of a completion).
    pub retries: u64,
    /// Completions that ended in an error.
    pub failures: u64,
    /// Prompt tokens reported by the server's `usage`.
    pub prompt_tokens: u64,
    /// Completion tokens reported by the server's `usage`.
    pub completion_tokens: u64,
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    retries: AtomicU64,
    failures: AtomicU64,
    prompt_tokens: AtomicU64,
    completion_tokens: AtomicU64,
}

/// An OpenAI-compatible chat-completions backend.
#[derive(Debug)]
pub struct OpenAiBackend {
    config: OpenAiConfig,
    name: String,
    endpoint: String,
    client: reqwest::Client,
    permits: Semaphore,
    counters: Counters,
}

#[derive(Serialize)]
struct ChatRequest<'a> {
    model: &'a str,
    messages: [ChatMessage<'a>; 2],
    temperature: f64,
    max_tokens: u32,
}

#[derive(Serialize)]
struct ChatMessage<'a> {
    role: &'static str,
    content: &'a str,
}

#[derive(Deserialize)]
struct ChatResponse {
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Choice {
    message: Option<ResponseMessage>,
}

#[derive(Deserialize)]
struct ResponseMessage {
    content: Option<String>,
}

#[derive(Deserialize)]
struct Usage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens: Option<u64>,
}

/// Why one attempt failed.
enum AttemptError {
    /// Worth another attempt; `retry_after` is the server's wish, if any.
    Retryable {
        cause: String,
        retry_after: Option<Duration>,
    },
    /// Retrying will not help.
    Fatal(String),
}

fn snippet(body: &str) -> String {
    let trimmed = body.trim();
    let mut s: String = trimmed.chars().take(BODY_SNIPPET_CHARS).collect();
    if trimmed.chars().nth(BODY_SNIPPET_CHARS).is_some() {
        s.push('…');
    }
    s
}

/// An error with its chain of causes ("error sending request: connection refused").
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

/// `Retry-After` in seconds (the HTTP-date form is ignored), capped at 30 s.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let secs: f64 = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (secs.is_finite() && secs >= 0.0)
        .then(|| Duration::from_secs_f64(secs.min(MAX_RETRY_AFTER.as_secs_f64())))
}

impl OpenAiBackend {
    /// A backend for `config` (validated first).
    pub fn new(config: OpenAiConfig) -> Result<Self, LlmError> {
        config.validate()?;
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_millis(config.timeout_ms))
            .build()
            .map_err(|e| LlmError::Backend {
                backend: BACKEND.into(),
                reason: format!("cannot build the HTTP client: {}", chain(&e)),
            })?;
        Ok(Self {
            name: format!("openai:{}", config.model),
            endpoint: config.endpoint(),
            permits: Semaphore::new(config.max_concurrency),
            client,
            config,
            counters: Counters::default(),
        })
    }

    /// The settings.
    pub fn config(&self) -> &OpenAiConfig {
        &self.config
    }

    /// Counters so far.
    pub fn usage(&self) -> UsageSnapshot {
        let c = &self.counters;
        UsageSnapshot {
            requests: c.requests.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            failures: c.failures.load(Ordering::Relaxed),
            prompt_tokens: c.prompt_tokens.load(Ordering::Relaxed),
            completion_tokens: c.completion_tokens.load(Ordering::Relaxed),
        }
    }

    /// Sends one system + user exchange, with retries; returns the assistant's text.
    pub async fn chat(&self, system: &str, user: &str) -> Result<String, LlmError> {
        let request = ChatRequest {
            model: &self.config.model,
            messages: [
                ChatMessage {
                    role: "system",
                    content: system,
                },
                ChatMessage {
                    role: "user",
                    content: user,
                },
            ],
            temperature: self.config.temperature,
            max_tokens: self.config.max_tokens,
        };
        let attempts = self.config.max_retries.saturating_add(1);
        let mut attempt = 1;
        loop {
            let (cause, retry_after) = match self.attempt(&request).await {
                Ok(text) => return Ok(text),
                Err(AttemptError::Fatal(reason)) => return Err(self.fail(reason)),
                Err(AttemptError::Retryable { cause, retry_after }) => (cause, retry_after),
            };
            if attempt >= attempts {
                return Err(self.fail(format!(
                    "gave up after {attempt} attempt{}: {cause}",
                    if attempt == 1 { "" } else { "s" }
                )));
            }
            let delay = retry_after.unwrap_or_else(|| self.config.backoff(attempt));
            tracing::warn!(
                backend = %self.name,
                endpoint = %self.endpoint,
                attempt,
                of = attempts,
                delay_ms = delay.as_millis() as u64,
                %cause,
                "LLM request failed; retrying"
            );
            tokio::time::sleep(delay).await;
            self.counters.retries.fetch_add(1, Ordering::Relaxed);
            attempt += 1;
        }
    }

    fn fail(&self, reason: String) -> LlmError {
        self.counters.failures.fetch_add(1, Ordering::Relaxed);
        LlmError::Backend {
            backend: self.name.clone(),
            reason,
        }
    }

    /// One HTTP exchange, holding a concurrency permit and bounded by the per-request timeout.
    async fn attempt(&self, request: &ChatRequest<'_>) -> Result<String, AttemptError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| AttemptError::Fatal("backend is shut down".into()))?;
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        let timeout = Duration::from_millis(self.config.timeout_ms);
        match tokio::time::timeout(timeout, self.exchange(request)).await {
            Ok(result) => result,
            Err(_) => Err(AttemptError::Retryable {
                cause: format!("timed out after {} ms", self.config.timeout_ms),
                retry_after: None,
            }),
        }
    }

    async fn exchange(&self, request: &ChatRequest<'_>) -> Result<String, AttemptError> {
        let mut builder = self.client.post(&self.endpoint).json(request);
        if let Some(key) = &self.config.api_key {
            builder = builder.bearer_auth(key);
        }
        let transport = |what: &str, e: reqwest::Error| AttemptError::Retryable {
            cause: format!("{what}: {}", chain(&e)),
            retry_after: None,
        };
        let response = builder
            .send()
            .await
            .map_err(|e| transport("transport error", e))?;
        let status = response.status();
        let wait = retry_after(response.headers());
        let body = response
            .text()
            .await
            .map_err(|e| transport("reading the response failed", e))?;
        if status.is_success() {
            return self.parse(&body);
        }
        let code = status.as_u16();
        let detail = format!("HTTP {status} from {}: {}", self.endpoint, snippet(&body));
        match code {
            429 | 500 | 502 | 503 | 504 => Err(AttemptError::Retryable {
                cause: detail,
                retry_after: if code == 429 || code == 503 {
                    wait
                } else {
                    None
                },
            }),
            _ => Err(AttemptError::Fatal(format!("{detail} (not retried)"))),
        }
    }

    fn parse(&self, body: &str) -> Result<String, AttemptError> {
        let malformed = |why: String| AttemptError::Retryable {
            cause: format!("malformed completion: {why}; body: {}", snippet(body)),
            retry_after: None,
        };
        let response: ChatResponse = serde_json::from_str(body)
            .map_err(|e| malformed(format!("not a chat-completions JSON object ({e})")))?;
        let content = response
            .choices
            .into_iter()
            .next()
            .and_then(|c| c.message)
            .and_then(|m| m.content)
            .ok_or_else(|| malformed("no choices[0].message.content".into()))?;
        if let Some(usage) = response.usage {
            let c = &self.counters;
            c.prompt_tokens
                .fetch_add(usage.prompt_tokens.unwrap_or(0), Ordering::Relaxed);
            c.completion_tokens
                .fetch_add(usage.completion_tokens.unwrap_or(0), Ordering::Relaxed);
        }
        Ok(content)
    }
}

impl LanguageModel for OpenAiBackend {
    fn name(&self) -> &str {
        &self.name
    }

    fn complete<'a>(&'a self, prompt: &'a Prompt) -> LlmFuture<'a> {
        Box::pin(self.chat(&prompt.system, &prompt.user))
    }

    fn usage(&self) -> Option<crate::negotiation::llm::LlmUsage> {
        let u = OpenAiBackend::usage(self);
        Some(crate::negotiation::llm::LlmUsage {
            requests: u.requests,
            retries: u.retries,
            failures: u.failures,
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn reason(err: LlmError) -> String {
        match err {
            LlmError::Backend { reason, .. } => reason,
        }
    }

    #[test]
    fn defaults_and_partial_json() {
        let d = OpenAiConfig::default();
        assert_eq!(d.timeout_ms, 30_000);
        assert_eq!(d.max_retries, 3);
        assert_eq!(d.backoff_ms, 500);
        assert_eq!(d.max_concurrency, 8);
        assert_eq!(d.temperature, 0.2);
        assert_eq!(d.max_tokens, 256);
        assert!(d.validate().is_ok());
        let cfg: OpenAiConfig =
            serde_json::from_str(r#"{"model": "qwen2.5", "max_retries": 1}"#).unwrap();
        assert_eq!(cfg.model, "qwen2.5");
        assert_eq!(cfg.max_retries, 1);
        assert_eq!(cfg.timeout_ms, 30_000);
        assert_eq!(cfg.base_url, "http://127.0.0.1:11434/v1");
    }

    #[test]
    fn api_key_is_neither_serialized_nor_debug_printed() {
        let cfg = OpenAiConfig {
            api_key: Some("sk-secret".into()),
            ..Default::default()
        };
        let json = serde_json::to_string(&cfg).unwrap();
        assert!(
            !json.contains("sk-secret") && !json.contains("api_key"),
            "{json}"
        );
        let debug = format!("{cfg:?}");
        assert!(
            !debug.contains("sk-secret") && debug.contains("<redacted>"),
            "{debug}"
        );
        let back: OpenAiConfig = serde_json::from_str(r#"{"api_key": "sk-in"}"#).unwrap();
        assert_eq!(back.api_key.as_deref(), Some("sk-in"));
    }

    #[test]
    fn validation_names_the_bad_setting() {
        let ok = OpenAiConfig::default();
        let cases: [(OpenAiConfig, &str); 7] = [
            (
                OpenAiConfig {
                    model: "  ".into(),
                    ..ok.clone()
                },
                "model is empty",
            ),
            (
                OpenAiConfig {
                    base_url: "ftp://example.com/v1".into(),
                    ..ok.clone()
                },
                "must be an http:// or https:// URL",
            ),
            (
                OpenAiConfig {
                    base_url: "http://".into(),
                    ..ok.clone()
                },
                "must be an http:// or https:// URL",
            ),
            (
                OpenAiConfig {
                    base_url: "127.0.0.1:11434/v1".into(),
                    ..ok.clone()
                },
                "must be an http:// or https:// URL",
            ),
            (
                OpenAiConfig {
                    max_concurrency: 0,
                    ..ok.clone()
                },
                "max_concurrency",
            ),
            (
                OpenAiConfig {
                    timeout_ms: 0,
                    ..ok.clone()
                },
                "timeout_ms",
            ),
            (
                OpenAiConfig {
                    temperature: f64::NAN,
                    ..ok.clone()
                },
                "temperature",
            ),
        ];
        for (cfg, want) in cases {
            let why = reason(cfg.validate().unwrap_err());
            assert!(why.starts_with("invalid config: "), "{why}");
            assert!(why.contains(want), "{why} should mention {want}");
            let built = OpenAiBackend::new(cfg).unwrap_err();
            assert!(reason(built).contains(want));
        }
        let https = OpenAiConfig {
            base_url: "https://api.openai.com/v1".into(),
            ..ok
        };
        assert!(https.validate().is_ok());
    }

    #[test]
    fn env_override_with_key_fallback() {
        let vars = |pairs: &[(&str, &str)]| {
            let map: HashMap<String, String> = pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            move |name: &str| map.get(name).cloned()
        };
        let base = OpenAiConfig {
            max_retries: 7,
            ..Default::default()
        };

        let cfg = OpenAiConfig::from_lookup(
            base.clone(),
            vars(&[
                (ENV_BASE_URL, "http://gpu-box:8000/v1"),
                (ENV_MODEL, "meta-llama/Llama-3.1-8B-Instruct"),
                (ENV_API_KEY, "maestro-key"),
                (ENV_OPENAI_API_KEY, "openai-key"),
            ]),
        );
        assert_eq!(cfg.base_url, "http://gpu-box:8000/v1");
        assert_eq!(cfg.model, "meta-llama/Llama-3.1-8B-Instruct");
        assert_eq!(cfg.api_key.as_deref(), Some("maestro-key"));
        assert_eq!(cfg.max_retries, 7, "other fields kept");

        let cfg = OpenAiConfig::from_lookup(
            base.clone(),
            vars(&[(ENV_API_KEY, " "), (ENV_OPENAI_API_KEY, "openai-key")]),
        );
        assert_eq!(cfg.api_key.as_deref(), Some("openai-key"));
        assert_eq!(cfg.base_url, base.base_url);
        assert_eq!(cfg.model, base.model);

        let cfg = OpenAiConfig::from_lookup(base.clone(), vars(&[]));
        assert_eq!(cfg, base);
    }

    #[test]
    fn endpoint_and_backoff() {
        let cfg = OpenAiConfig {
            base_url: "http://h:1/v1/".into(),
            backoff_ms: 500,
            ..Default::default()
        };
        assert_eq!(cfg.endpoint(), "http://h:1/v1/chat/completions");
        let ms: Vec<u128> = (1..=7).map(|r| cfg.backoff(r).as_millis()).collect();
        assert_eq!(ms, [500, 1000, 2000, 4000, 8000, 8000, 8000]);
        assert_eq!(cfg.backoff(200).as_millis(), 8000, "no overflow");
    }

    #[test]
    fn retry_after_is_parsed_and_capped() {
        let mut h = reqwest::header::HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(reqwest::header::RETRY_AFTER, "2".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert(reqwest::header::RETRY_AFTER, "3600".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(30)));
        h.insert(
            reqwest::header::RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn snippets_are_cut_at_200_chars() {
        let long = "x".repeat(500);
        let s = snippet(&long);
        assert_eq!(s.chars().count(), 201);
        assert!(s.ends_with('…'));
        assert_eq!(snippet("  short \n"), "short");
    }
}

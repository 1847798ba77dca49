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
//!   and reading the body, not the wait for a slot under the concurrency cap);
//! - transport errors, timeouts, HTTP 429/500/502/503/504 and 200 answers that are not a chat
//!   completion ("malformed completion") are retried up to [`OpenAiConfig::max_retries`] times
//!   with exponential backoff ([`OpenAiConfig::backoff_ms`], doubling, capped at 8 s); a
//!   `Retry-After: <seconds>` header on 429/503 replaces the backoff (capped at 30 s);
//! - other 4xx answers are not retried (the error names the status and the start of the body);
//! - a semaphore caps the requests in flight at [`OpenAiConfig::max_concurrency`] (the
//!   negotiation engine asks all agents of a round at once);
//! - counters of requests, retries, failures, tokens and structured-output downgrades are kept
//!   ([`OpenAiBackend::usage`]).
//!
//! # Structured output
//!
//! A prompt whose [`AnswerFormat`] is [`AnswerFormat::Intent`] or [`AnswerFormat::Json`] is sent
//! with a `response_format` carrying its JSON Schema, so servers that constrain decoding return
//! the object the prompt asks for. Three wire forms exist ([`WireFormat`]), richest first:
//!
//! ```text
//! json_schema  "response_format": {"type": "json_schema",
//!                                  "json_schema": {"name": "intent", "schema": {...}, "strict": true}}
//! json_object  "response_format": {"type": "json_object", "schema": {...}}
//! none         no response_format: the prompt's own instruction is all there is
//! ```
//!
//! `json_schema` is OpenAI's form (vLLM, Ollama, llama.cpp's `llama-server` accept it);
//! `json_object` with a `schema` is llama-cpp-python's extension (other servers read it as
//! "any JSON object"). [`AnswerFormat::Text`] and [`AnswerFormat::Prose`] never carry one.
//!
//! Nothing on these servers advertises which forms they take, so under
//! [`StructuredOutput::Auto`] the backend finds out by asking: it starts with `json_schema`,
//! and when the server refuses it (HTTP 400, 422 or 500 whose body names `response_format`,
//! `json_schema` or `json_object`: a capability error, not a fault) it re-sends that request
//! at once in the next form down, without backoff and without spending a retry. The form that
//! works is kept for the backend's lifetime; each step down is counted
//! ([`UsageSnapshot::structured_downgrades`]) and logged once at info level. Until a structured
//! request has succeeded, structured requests go out one at a time, so a round of concurrent
//! prompts costs one refused request per step down, not one per prompt. The other settings
//! pin one form ([`OpenAiConfig::structured_output`]); a refusal is then an error.
//!
//! `https://` endpoints use rustls (reqwest's `rustls` feature) with the platform's trust store.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::{Mutex, Semaphore};

use super::llm::{AnswerFormat, LanguageModel, LlmError, LlmFuture, LlmUsage, Prompt};

/// Env var overriding [`OpenAiConfig::base_url`].
pub const ENV_BASE_URL: &str = "MAESTRO_LLM_BASE_URL";
/// Env var overriding [`OpenAiConfig::model`].
pub const ENV_MODEL: &str = "MAESTRO_LLM_MODEL";
/// Env var overriding [`OpenAiConfig::api_key`].
pub const ENV_API_KEY: &str = "MAESTRO_LLM_API_KEY";
/// Fallback env var for the API key.
pub const ENV_OPENAI_API_KEY: &str = "OPENAI_API_KEY";
/// Env var overriding [`OpenAiConfig::timeout_ms`].
pub const ENV_TIMEOUT_MS: &str = "MAESTRO_LLM_TIMEOUT_MS";
/// Env var overriding [`OpenAiConfig::max_concurrency`].
pub const ENV_MAX_CONCURRENCY: &str = "MAESTRO_LLM_MAX_CONCURRENCY";
/// Env var overriding [`OpenAiConfig::structured_output`] (`auto`, `json_schema`,
/// `json_object`, `off`).
pub const ENV_STRUCTURED: &str = "MAESTRO_LLM_STRUCTURED";

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
    /// Timeout of one attempt once it holds a concurrency slot, ms.
    pub timeout_ms: u64,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff, ms; doubles per retry, capped at 8000 ms.
    pub backoff_ms: u64,
    /// Requests in flight at most. Against a server that answers one request at a time, 1
    /// keeps the queue on this side, where [`Self::timeout_ms`] does not run.
    pub max_concurrency: usize,
    /// Sampling temperature.
    pub temperature: f64,
    /// Completion length cap, tokens.
    pub max_tokens: u32,
    /// How structured answers are asked for (see the module doc).
    pub structured_output: StructuredOutput,
}

/// Which `response_format` structured prompts carry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StructuredOutput {
    /// Start with `json_schema`, step down to `json_object` then none when refused.
    #[default]
    Auto,
    /// Always `json_schema` (OpenAI, vLLM, Ollama, llama-server).
    JsonSchema,
    /// Always `json_object` with the schema (llama-cpp-python).
    JsonObject,
    /// Never a `response_format`.
    Off,
}

impl FromStr for StructuredOutput {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "auto" => Ok(Self::Auto),
            "json_schema" => Ok(Self::JsonSchema),
            "json_object" => Ok(Self::JsonObject),
            "off" | "none" => Ok(Self::Off),
            _ => Err(format!(
                "{s:?} is not one of auto, json_schema, json_object, off"
            )),
        }
    }
}

/// The `response_format` form a structured request goes out with (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum WireFormat {
    /// `{"type": "json_schema", "json_schema": {"name", "schema", "strict": true}}`.
    JsonSchema = 0,
    /// `{"type": "json_object", "schema": ...}`.
    JsonObject = 1,
    /// No `response_format`.
    None = 2,
}

impl WireFormat {
    fn from_u8(v: u8) -> Self {
        match v {
            0 => Self::JsonSchema,
            1 => Self::JsonObject,
            _ => Self::None,
        }
    }

    /// The next form down, if any.
    fn lower(self) -> Option<Self> {
        match self {
            Self::JsonSchema => Some(Self::JsonObject),
            Self::JsonObject => Some(Self::None),
            Self::None => None,
        }
    }

    /// The form's name as in [`ENV_STRUCTURED`].
    pub fn as_str(self) -> &'static str {
        match self {
            Self::JsonSchema => "json_schema",
            Self::JsonObject => "json_object",
            Self::None => "off",
        }
    }

    /// The `response_format` value for a schema named `name`.
    fn response_format(self, name: &str, schema: &Value) -> Option<Value> {
        match self {
            Self::JsonSchema => Some(serde_json::json!({
                "type": "json_schema",
                "json_schema": {"name": name, "schema": schema, "strict": true}
            })),
            Self::JsonObject => Some(serde_json::json!({"type": "json_object", "schema": schema})),
            Self::None => None,
        }
    }
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
            structured_output: StructuredOutput::Auto,
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
            .field("structured_output", &self.structured_output)
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
    /// `base` with the environment applied: `MAESTRO_LLM_BASE_URL`, `MAESTRO_LLM_MODEL`,
    /// `MAESTRO_LLM_API_KEY` (falling back to `OPENAI_API_KEY`), `MAESTRO_LLM_TIMEOUT_MS`,
    /// `MAESTRO_LLM_MAX_CONCURRENCY` and `MAESTRO_LLM_STRUCTURED`. Unset or empty variables
    /// leave the field alone; a value that does not parse is an error naming the variable.
    pub fn from_env(base: Self) -> Result<Self, LlmError> {
        Self::from_lookup(base, |name| std::env::var(name).ok())
    }

    /// [`Self::from_env`] with a custom variable lookup (for tests and embedding).
    pub fn from_lookup(
        base: Self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, LlmError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        fn parse<T: FromStr>(name: &str, value: &str) -> Result<T, LlmError>
        where
            T::Err: fmt::Display,
        {
            value
                .parse()
                .map_err(|e| config_error(format!("{name}={value:?}: {e}")))
        }
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
        if let Some(v) = get(ENV_TIMEOUT_MS) {
            cfg.timeout_ms = parse(ENV_TIMEOUT_MS, &v)?;
        }
        if let Some(v) = get(ENV_MAX_CONCURRENCY) {
            cfg.max_concurrency = parse(ENV_MAX_CONCURRENCY, &v)?;
        }
        if let Some(v) = get(ENV_STRUCTURED) {
            cfg.structured_output = parse(ENV_STRUCTURED, &v)?;
        }
        Ok(cfg)
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
    /// Steps down of the structured-output form after a refusal (0 to 2).
    pub structured_downgrades: u64,
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    retries: AtomicU64,
    failures: AtomicU64,
    prompt_tokens: AtomicU64,
    completion_tokens: AtomicU64,
    structured_downgrades: AtomicU64,
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
    /// The [`WireFormat`] structured requests go out with, as its `u8`.
    wire: AtomicU8,
    /// A structured request has succeeded in the current form (auto mode stops probing).
    wire_confirmed: AtomicBool,
    /// Held around a structured attempt while the form is not confirmed.
    probe: Mutex<()>,
}

#[derive(Serialize)]
struct ChatRequest<'a> {
    model: &'a str,
    messages: [ChatMessage<'a>; 2],
    temperature: f64,
    max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_format: Option<Value>,
    /// What the answer is (`intent`, the JSON schema's name, `prose`, `text`), for the logs.
    #[serde(skip)]
    answer: &'a str,
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
    /// The server refused the request's `response_format` (a capability, not a fault).
    Refused(String),
    /// Retrying will not help.
    Fatal(String),
}

/// Whether an error answer is a refusal of the request's `response_format`: a 400, 422 or 500
/// whose body names it (llama-cpp-python 0.3.36 answers `json_schema` with a 500 carrying a
/// pydantic error on `('body', 'response_format', 'type')`).
fn refuses_response_format(status: u16, body: &str) -> bool {
    matches!(status, 400 | 422 | 500) && {
        let body = body.to_ascii_lowercase();
        ["response_format", "json_schema", "json_object"]
            .iter()
            .any(|word| body.contains(word))
    }
}

/// The schema name and schema a structured prompt constrains its answer to; `None` for text.
fn answer_schema(format: &AnswerFormat) -> Option<(&str, std::borrow::Cow<'_, Value>)> {
    match format {
        AnswerFormat::Intent => Some((
            "intent",
            std::borrow::Cow::Owned(AnswerFormat::intent_schema()),
        )),
        AnswerFormat::Json { name, schema, .. } => Some((name, std::borrow::Cow::Borrowed(schema))),
        AnswerFormat::Text | AnswerFormat::Prose { .. } => None,
    }
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
        let wire = match config.structured_output {
            StructuredOutput::Auto | StructuredOutput::JsonSchema => WireFormat::JsonSchema,
            StructuredOutput::JsonObject => WireFormat::JsonObject,
            StructuredOutput::Off => WireFormat::None,
        };
        Ok(Self {
            name: format!("openai:{}", config.model),
            endpoint: config.endpoint(),
            permits: Semaphore::new(config.max_concurrency),
            wire: AtomicU8::new(wire as u8),
            wire_confirmed: AtomicBool::new(config.structured_output != StructuredOutput::Auto),
            probe: Mutex::new(()),
            client,
            config,
            counters: Counters::default(),
        })
    }

    /// The settings.
    pub fn config(&self) -> &OpenAiConfig {
        &self.config
    }

    /// The form structured requests go out with now.
    pub fn wire_format(&self) -> WireFormat {
        WireFormat::from_u8(self.wire.load(Ordering::Acquire))
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
            structured_downgrades: c.structured_downgrades.load(Ordering::Relaxed),
        }
    }

    /// Sends one system + user exchange for free text, with retries; returns the assistant's
    /// text.
    pub async fn chat(&self, system: &str, user: &str) -> Result<String, LlmError> {
        self.chat_as(system, user, &AnswerFormat::Text).await
    }

    /// Sends one system + user exchange whose answer takes `format` (a `response_format` for
    /// structured formats, see the module doc), with retries; returns the assistant's text.
    pub async fn chat_as(
        &self,
        system: &str,
        user: &str,
        format: &AnswerFormat,
    ) -> Result<String, LlmError> {
        let schema = answer_schema(format);
        let mut request = ChatRequest {
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
            max_tokens: match format {
                AnswerFormat::Prose { max_tokens, .. } => (*max_tokens).min(self.config.max_tokens),
                _ => self.config.max_tokens,
            },
            response_format: None,
            answer: match format {
                AnswerFormat::Intent => "intent",
                AnswerFormat::Json { name, .. } => name,
                AnswerFormat::Prose { .. } => "prose",
                AnswerFormat::Text => "text",
            },
        };
        let attempts = self.config.max_retries.saturating_add(1);
        let mut attempt = 1;
        loop {
            let wire = self.wire_format();
            request.response_format = schema
                .as_ref()
                .and_then(|(name, schema)| wire.response_format(name, schema));
            let probing =
                request.response_format.is_some() && !self.wire_confirmed.load(Ordering::Acquire);
            let outcome = if probing {
                let probe = self.probe.lock().await;
                if self.wire_format() != wire {
                    // Another request stepped the form down while this one waited.
                    continue;
                }
                if self.wire_confirmed.load(Ordering::Acquire) {
                    // Another request found the form that works: no need to go one by one.
                    drop(probe);
                }
                self.attempt(&request).await
            } else {
                self.attempt(&request).await
            };
            let (cause, retry_after) = match outcome {
                Ok(text) => {
                    if request.response_format.is_some() {
                        self.wire_confirmed.store(true, Ordering::Release);
                    }
                    return Ok(text);
                }
                Err(AttemptError::Refused(detail)) => {
                    if self.step_down(wire, &detail) {
                        continue;
                    }
                    return Err(self.fail(format!(
                        "{detail} (the server refuses response_format {}; set {ENV_STRUCTURED} \
                         to auto or off)",
                        wire.as_str()
                    )));
                }
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

    /// After the server refused `from`: moves to the next form down (auto mode only) and
    /// says whether the request should be re-sent. `false` when the form is pinned or there
    /// is nothing below.
    fn step_down(&self, from: WireFormat, detail: &str) -> bool {
        if self.config.structured_output != StructuredOutput::Auto {
            return false;
        }
        let Some(to) = from.lower() else {
            return false;
        };
        match self
            .wire
            .compare_exchange(from as u8, to as u8, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => {
                self.counters
                    .structured_downgrades
                    .fetch_add(1, Ordering::Relaxed);
                tracing::info!(
                    backend = %self.name,
                    endpoint = %self.endpoint,
                    from = from.as_str(),
                    to = to.as_str(),
                    refusal = %detail,
                    "the LLM server refuses this response_format; using the next form down \
                     from now on"
                );
                true
            }
            // Another request already stepped down: re-send in the current form.
            Err(_) => true,
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
        let started = std::time::Instant::now();
        match tokio::time::timeout(timeout, self.exchange(request)).await {
            Ok(Ok((text, (prompt_tokens, completion_tokens)))) => {
                tracing::debug!(
                    backend = %self.name,
                    answer = request.answer,
                    response_format = request.response_format.as_ref().map_or("none", |rf| {
                        rf["type"].as_str().unwrap_or("?")
                    }),
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    prompt_tokens,
                    completion_tokens,
                    "LLM request answered"
                );
                Ok(text)
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Err(AttemptError::Retryable {
                cause: format!("timed out after {} ms", self.config.timeout_ms),
                retry_after: None,
            }),
        }
    }

    /// One POST; the answer's text and its `(prompt, completion)` tokens.
    async fn exchange(
        &self,
        request: &ChatRequest<'_>,
    ) -> Result<(String, (u64, u64)), AttemptError> {
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
        if request.response_format.is_some() && refuses_response_format(code, &body) {
            return Err(AttemptError::Refused(detail));
        }
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

    /// The answer's text and its `(prompt, completion)` tokens (0 when not reported), which
    /// are added to the counters.
    fn parse(&self, body: &str) -> Result<(String, (u64, u64)), AttemptError> {
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
        let tokens = response.usage.map_or((0, 0), |u| {
            (
                u.prompt_tokens.unwrap_or(0),
                u.completion_tokens.unwrap_or(0),
            )
        });
        let c = &self.counters;
        c.prompt_tokens.fetch_add(tokens.0, Ordering::Relaxed);
        c.completion_tokens.fetch_add(tokens.1, Ordering::Relaxed);
        Ok((content, tokens))
    }
}

impl LanguageModel for OpenAiBackend {
    fn name(&self) -> &str {
        &self.name
    }

    fn complete<'a>(&'a self, prompt: &'a Prompt) -> LlmFuture<'a> {
        Box::pin(self.chat_as(&prompt.system, &prompt.user, &prompt.format))
    }

    fn usage(&self) -> Option<LlmUsage> {
        let u = OpenAiBackend::usage(self);
        Some(LlmUsage {
            requests: u.requests,
            retries: u.retries,
            failures: u.failures,
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
            structured_downgrades: u.structured_downgrades,
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
                (ENV_TIMEOUT_MS, " 120000 "),
                (ENV_MAX_CONCURRENCY, "1"),
                (ENV_STRUCTURED, "json-object"),
            ]),
        )
        .unwrap();
        assert_eq!(cfg.base_url, "http://gpu-box:8000/v1");
        assert_eq!(cfg.model, "meta-llama/Llama-3.1-8B-Instruct");
        assert_eq!(cfg.api_key.as_deref(), Some("maestro-key"));
        assert_eq!(cfg.timeout_ms, 120_000);
        assert_eq!(cfg.max_concurrency, 1);
        assert_eq!(cfg.structured_output, StructuredOutput::JsonObject);
        assert_eq!(cfg.max_retries, 7, "other fields kept");

        let cfg = OpenAiConfig::from_lookup(
            base.clone(),
            vars(&[(ENV_API_KEY, " "), (ENV_OPENAI_API_KEY, "openai-key")]),
        )
        .unwrap();
        assert_eq!(cfg.api_key.as_deref(), Some("openai-key"));
        assert_eq!(cfg.base_url, base.base_url);
        assert_eq!(cfg.model, base.model);

        let cfg = OpenAiConfig::from_lookup(base.clone(), vars(&[])).unwrap();
        assert_eq!(cfg, base);

        for (name, value) in [
            (ENV_TIMEOUT_MS, "30s"),
            (ENV_MAX_CONCURRENCY, "-1"),
            (ENV_STRUCTURED, "grammar"),
        ] {
            let why = reason(
                OpenAiConfig::from_lookup(base.clone(), vars(&[(name, value)])).unwrap_err(),
            );
            assert!(why.contains(name) && why.contains(value), "{why}");
        }
    }

    #[test]
    fn structured_output_settings_and_wire_forms() {
        for (text, want) in [
            ("auto", StructuredOutput::Auto),
            ("JSON_SCHEMA", StructuredOutput::JsonSchema),
            ("json_object", StructuredOutput::JsonObject),
            ("off", StructuredOutput::Off),
        ] {
            assert_eq!(text.parse::<StructuredOutput>(), Ok(want));
        }
        let cfg: OpenAiConfig = serde_json::from_str(r#"{"structured_output": "off"}"#).unwrap();
        assert_eq!(cfg.structured_output, StructuredOutput::Off);
        assert_eq!(
            OpenAiConfig::default().structured_output,
            StructuredOutput::Auto
        );

        let schema = AnswerFormat::intent_schema();
        let rf = WireFormat::JsonSchema
            .response_format("intent", &schema)
            .unwrap();
        assert_eq!(rf["type"], "json_schema");
        assert_eq!(rf["json_schema"]["name"], "intent");
        assert_eq!(rf["json_schema"]["strict"], true);
        assert_eq!(rf["json_schema"]["schema"], schema);
        let rf = WireFormat::JsonObject
            .response_format("intent", &schema)
            .unwrap();
        assert_eq!(
            rf,
            serde_json::json!({"type": "json_object", "schema": schema})
        );
        assert_eq!(WireFormat::None.response_format("intent", &schema), None);
        assert_eq!(WireFormat::JsonSchema.lower(), Some(WireFormat::JsonObject));
        assert_eq!(WireFormat::JsonObject.lower(), Some(WireFormat::None));
        assert_eq!(WireFormat::None.lower(), None);

        assert!(answer_schema(&AnswerFormat::Text).is_none());
        assert!(answer_schema(&AnswerFormat::Prose {
            grammar: "root ::= \"a\"".into(),
            max_tokens: 64,
        })
        .is_none());
        let (name, _) = answer_schema(&AnswerFormat::Intent).unwrap();
        assert_eq!(name, "intent");
    }

    #[test]
    fn refusals_of_response_format_are_told_from_faults() {
        let llama_cpp_python = r#"{"error":{"message":"1 validation error: {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), 'msg': \"Input should be 'text' or 'json_object'\"}","type":"internal_server_error"}}"#;
        assert!(refuses_response_format(500, llama_cpp_python));
        assert!(refuses_response_format(
            400,
            "Unknown parameter: 'response_format.json_schema'"
        ));
        assert!(refuses_response_format(422, "JSON_OBJECT is not supported"));
        assert!(!refuses_response_format(500, "boom"));
        assert!(!refuses_response_format(503, "response_format overloaded"));
        assert!(!refuses_response_format(400, "context_length_exceeded"));
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

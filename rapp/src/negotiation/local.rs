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
//! The configuration ([`LocalConfig`]) and the grammar are always compiled; the backend itself
//! only with the feature. Without it, `LocalBackend::new` does not exist and
//! [`unavailable`] is the error `--llm local` reports.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::llm::LlmError;
use super::vocabulary::Bounds;

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

/// Backend name used in errors.
const BACKEND: &str = "local";

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

/// The error of `--llm local` in a build without the `local-llm` feature.
pub fn unavailable() -> LlmError {
    LlmError::Backend {
        backend: BACKEND.into(),
        reason: "this build has no local GGUF backend; rebuild with `--features local-llm` \
                 (needs cmake and libclang), e.g. `cargo build --release --features local-llm`"
            .into(),
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

/// GBNF alternatives (each a sequence of digit classes) matching exactly the decimal
/// integers in `lo..=hi`, without leading zeros.
fn integer_range(lo: u64, hi: u64) -> Vec<String> {
    fn pow10(e: u32) -> u64 {
        10u64.saturating_pow(e)
    }
    fn digits(v: u64) -> u32 {
        v.checked_ilog10().unwrap_or(0) + 1
    }
    /// Fixed-width (leading zeros allowed) patterns of `lo..=hi`, both `< 10^width`.
    fn fixed(
        lo: u64,
        hi: u64,
        width: u32,
        out: &mut Vec<Vec<(u64, u64)>>,
        prefix: Vec<(u64, u64)>,
    ) {
        if width == 0 {
            out.push(prefix);
            return;
        }
        let p = pow10(width - 1);
        let (a, b) = (lo / p, hi / p);
        let (rl, rh) = (lo % p, hi % p);
        let with = |d: (u64, u64)| {
            let mut v = prefix.clone();
            v.push(d);
            v
        };
        if a == b {
            fixed(rl, rh, width - 1, out, with((a, a)));
            return;
        }
        let mut first = a;
        if rl != 0 {
            fixed(rl, p - 1, width - 1, out, with((a, a)));
            first = a + 1;
        }
        let mut last = b;
        let tail = rh != p - 1;
        if tail {
            last = b - 1;
        }
        if first <= last {
            let mut v = with((first, last));
            v.extend(std::iter::repeat_n((0, 9), (width - 1) as usize));
            out.push(v);
        }
        if tail {
            fixed(0, rh, width - 1, out, with((b, b)));
        }
    }
    let mut patterns = Vec::new();
    if lo > hi {
        return Vec::new();
    }
    for width in digits(lo)..=digits(hi) {
        let from = if width == 1 { 0 } else { pow10(width - 1) }.max(lo);
        let to = (pow10(width) - 1).min(hi);
        if from <= to {
            fixed(from, to, width, &mut patterns, Vec::new());
        }
    }
    patterns
        .into_iter()
        .map(|classes| {
            classes
                .iter()
                .map(|&(a, b)| {
                    if a == b {
                        format!("\"{a}\"")
                    } else {
                        format!("[{a}-{b}]")
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// The GBNF rule body of a number within `bounds` (at most two decimals): integers
/// `ceil(min)..floor(max)` with an optional fraction below `floor(max)`. Bounds without an
/// integer inside get `floor(min).xx`; bounds that make no sense get any plain number (the
/// validation unit clamps what the grammar lets through).
fn number_rule(bounds: &Bounds) -> String {
    const ANY: &str = "[0-9] [0-9]? [0-9]? [0-9]? [0-9]? (\".\" [0-9] [0-9]?)?";
    const FRACTION: &str = "(\".\" [0-9] [0-9]?)?";
    // (Checked before clamping: `NaN.max(0.0)` is 0.)
    let (min, max) = (bounds.min_mbps, bounds.max_mbps);
    if !(min.is_finite() && max.is_finite() && min <= max && max < 1e15) {
        return ANY.into();
    }
    let min = min.max(0.0);
    let (lo, hi) = (min.ceil() as u64, max.floor() as u64);
    if lo > hi {
        return format!("\"{}.\" [0-9] [0-9]?", min.floor() as u64);
    }
    let mut alternatives: Vec<String> = Vec::new();
    if lo < hi {
        let below: Vec<String> = integer_range(lo, hi - 1);
        alternatives.push(format!("({}) {FRACTION}", below.join(" | ")));
    }
    alternatives.push(format!("\"{hi}\""));
    alternatives.join(" | ")
}

/// The GBNF grammar of an answer: exactly `{"value": <number>, "reasoning": "<text>"}`, the
/// number within `bounds` (see `number_rule`), the text one or more characters without
/// quotes, backslashes or control characters. (The text's length is capped while generating,
/// not in the grammar: a bounded repetition makes the grammar, and every sampling step, much
/// larger.)
pub fn intent_grammar(bounds: &Bounds) -> String {
    format!(
        "root ::= \"{{\\\"value\\\": \" number \", \\\"reasoning\\\": \\\"\" text \"\\\"}}\"\n\
         number ::= {}\n\
         text ::= [^\"\\\\\\x00-\\x1F]+\n",
        number_rule(bounds)
    )
}

#[cfg(feature = "local-llm")]
pub use backend::{LocalBackend, LocalStats};

#[cfg(feature = "local-llm")]
mod backend {
    //! The llama.cpp side: a worker thread owning the model and its context.

    use std::num::NonZeroU32;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::mpsc;
    use std::sync::{Arc, OnceLock};
    use std::time::Instant;

    use llama_cpp_2::context::params::LlamaContextParams;
    use llama_cpp_2::context::LlamaContext;
    use llama_cpp_2::llama_backend::LlamaBackend;
    use llama_cpp_2::llama_batch::LlamaBatch;
    use llama_cpp_2::model::params::LlamaModelParams;
    use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
    use llama_cpp_2::sampling::LlamaSampler;
    use llama_cpp_2::token::LlamaToken;
    use serde::Serialize;
    use tokio::sync::oneshot;

    use super::super::llm::{AnswerFormat, LanguageModel, LlmError, LlmFuture, LlmUsage, Prompt};
    use super::{intent_grammar, LocalConfig, BACKEND};

    /// llama.cpp may be initialised once per process; every backend shares it.
    fn llama() -> Result<&'static LlamaBackend, LlmError> {
        static BACKEND_ONCE: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
        BACKEND_ONCE
            .get_or_init(|| {
                let mut b = LlamaBackend::init().map_err(|e| e.to_string())?;
                if std::env::var_os("MAESTRO_LLAMA_LOG").is_none() {
                    b.void_logs();
                }
                Ok(b)
            })
            .as_ref()
            .map_err(|e| fail(format!("cannot initialise llama.cpp: {e}")))
    }

    fn fail(reason: String) -> LlmError {
        LlmError::Backend {
            backend: BACKEND.into(),
            reason,
        }
    }

    /// Token and time counters of a [`LocalBackend`] since it was built.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
    pub struct LocalStats {
        /// Sequences completed (answers returned).
        pub sequences: u64,
        /// Sequences that failed.
        pub failures: u64,
        /// Decode jobs (batches) run.
        pub batches: u64,
        /// Prompt tokens prefilled.
        pub prompt_tokens: u64,
        /// Tokens generated.
        pub completion_tokens: u64,
        /// Time spent prefilling prompts, ms.
        pub prefill_ms: f64,
        /// Time spent generating (sampling and decoding), ms.
        pub generate_ms: f64,
    }

    impl LocalStats {
        /// Generated tokens per second of generation time (all sequences together).
        pub fn generation_tokens_per_s(&self) -> f64 {
            if self.generate_ms > 0.0 {
                self.completion_tokens as f64 / (self.generate_ms / 1e3)
            } else {
                0.0
            }
        }

        /// Prompt tokens per second of prefill time.
        pub fn prefill_tokens_per_s(&self) -> f64 {
            if self.prefill_ms > 0.0 {
                self.prompt_tokens as f64 / (self.prefill_ms / 1e3)
            } else {
                0.0
            }
        }
    }

    #[derive(Debug, Default)]
    struct Counters {
        sequences: AtomicU64,
        failures: AtomicU64,
        batches: AtomicU64,
        prompt_tokens: AtomicU64,
        completion_tokens: AtomicU64,
        prefill_us: AtomicU64,
        generate_us: AtomicU64,
    }

    /// One sequence to generate.
    struct Request {
        system: String,
        user: String,
        /// GBNF constraining the answer (`None`: free text).
        grammar: Option<String>,
        /// An intent answer cut at the length cap gets its JSON object closed.
        closes_intent: bool,
        /// Tokens this answer may have (`None`: the backend's cap).
        max_tokens: Option<u32>,
        reply: oneshot::Sender<Result<String, LlmError>>,
    }

    /// Sequences submitted together.
    struct Job {
        requests: Vec<Request>,
    }

    /// A GGUF chat model running in-process (see the module docs).
    pub struct LocalBackend {
        name: String,
        config: LocalConfig,
        jobs: mpsc::Sender<Job>,
        counters: Arc<Counters>,
        description: String,
    }

    impl std::fmt::Debug for LocalBackend {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("LocalBackend")
                .field("name", &self.name)
                .field("config", &self.config)
                .finish_non_exhaustive()
        }
    }

    impl LocalBackend {
        /// Loads the model in `config` (validated first) on a worker thread; returns once it
        /// is loaded and its chat template found.
        pub fn new(config: LocalConfig) -> Result<Self, LlmError> {
            config.validate()?;
            let backend = llama()?;
            let counters = Arc::new(Counters::default());
            let (jobs, inbox) = mpsc::channel::<Job>();
            let (ready_tx, ready_rx) = mpsc::channel::<Result<String, LlmError>>();
            let worker_config = config.clone();
            let worker_counters = Arc::clone(&counters);
            std::thread::Builder::new()
                .name("maestro-llm-local".into())
                .spawn(move || {
                    let loaded = Loaded::load(backend, &worker_config);
                    match loaded {
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                        }
                        Ok(loaded) => {
                            let _ = ready_tx.send(Ok(loaded.describe()));
                            Worker {
                                backend,
                                loaded: &loaded,
                                config: &worker_config,
                                counters: &worker_counters,
                                context: None,
                                next_seed: worker_config.seed,
                            }
                            .serve(&inbox);
                        }
                    }
                })
                .map_err(|e| fail(format!("cannot start the worker thread: {e}")))?;
            let description = ready_rx
                .recv()
                .map_err(|_| fail("the worker thread died while loading the model".into()))??;
            let file = config
                .model_path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            tracing::info!(model = %config.model_path.display(), %description, "local LLM loaded");
            Ok(Self {
                name: format!("local:{file}"),
                config,
                jobs,
                counters,
                description,
            })
        }

        /// The settings.
        pub fn config(&self) -> &LocalConfig {
            &self.config
        }

        /// What was loaded: parameters, layers, training context, threads.
        pub fn description(&self) -> &str {
            &self.description
        }

        /// Counters so far.
        pub fn stats(&self) -> LocalStats {
            let c = &self.counters;
            LocalStats {
                sequences: c.sequences.load(Ordering::Relaxed),
                failures: c.failures.load(Ordering::Relaxed),
                batches: c.batches.load(Ordering::Relaxed),
                prompt_tokens: c.prompt_tokens.load(Ordering::Relaxed),
                completion_tokens: c.completion_tokens.load(Ordering::Relaxed),
                prefill_ms: c.prefill_us.load(Ordering::Relaxed) as f64 / 1e3,
                generate_ms: c.generate_us.load(Ordering::Relaxed) as f64 / 1e3,
            }
        }

        fn request(
            &self,
            prompt: &Prompt,
        ) -> (Request, oneshot::Receiver<Result<String, LlmError>>) {
            let (reply, rx) = oneshot::channel();
            (
                Request {
                    system: prompt.system.clone(),
                    user: prompt.user.clone(),
                    grammar: match &prompt.format {
                        AnswerFormat::Intent => Some(intent_grammar(&prompt.context.bounds)),
                        AnswerFormat::Json { grammar, .. }
                        | AnswerFormat::Prose { grammar, .. } => Some(grammar.clone()),
                        AnswerFormat::Text => None,
                    },
                    closes_intent: prompt.format == AnswerFormat::Intent,
                    max_tokens: match &prompt.format {
                        AnswerFormat::Prose { max_tokens, .. } => Some(*max_tokens),
                        _ => None,
                    },
                    reply,
                },
                rx,
            )
        }

        fn submit(&self, requests: Vec<Request>) {
            // A closed channel means the worker is gone; the receivers then report it.
            let _ = self.jobs.send(Job { requests });
        }
    }

    fn answer<'a>(rx: oneshot::Receiver<Result<String, LlmError>>) -> LlmFuture<'a> {
        Box::pin(async move {
            rx.await
                .unwrap_or_else(|_| Err(fail("the model's worker thread stopped".into())))
        })
    }

    impl LanguageModel for LocalBackend {
        fn name(&self) -> &str {
            &self.name
        }

        fn complete<'a>(&'a self, prompt: &'a Prompt) -> LlmFuture<'a> {
            let (request, rx) = self.request(prompt);
            self.submit(vec![request]);
            answer(rx)
        }

        fn complete_batch<'a>(&'a self, prompts: &'a [Prompt]) -> Vec<LlmFuture<'a>> {
            let (requests, answers): (Vec<_>, Vec<_>) =
                prompts.iter().map(|p| self.request(p)).unzip();
            if self.config.batch {
                self.submit(requests);
            } else {
                for r in requests {
                    self.submit(vec![r]);
                }
            }
            answers.into_iter().map(answer).collect()
        }

        fn usage(&self) -> Option<LlmUsage> {
            let s = self.stats();
            Some(LlmUsage {
                requests: s.sequences + s.failures,
                retries: 0,
                failures: s.failures,
                prompt_tokens: s.prompt_tokens,
                completion_tokens: s.completion_tokens,
                structured_downgrades: 0,
            })
        }
    }

    /// The model and its chat template, owned by the worker thread.
    struct Loaded {
        model: LlamaModel,
        template: LlamaChatTemplate,
        threads: i32,
    }

    impl Loaded {
        fn load(backend: &LlamaBackend, config: &LocalConfig) -> Result<Self, LlmError> {
            let path = &config.model_path;
            let model = LlamaModel::load_from_file(backend, path, &LlamaModelParams::default())
                .map_err(|e| fail(format!("cannot load {}: {e}", path.display())))?;
            let template = model.chat_template(None).map_err(|e| {
                fail(format!(
                    "{} has no usable chat template ({e}); use a chat/instruct GGUF",
                    path.display()
                ))
            })?;
            Ok(Self {
                model,
                template,
                threads: i32::try_from(config.resolved_threads()).unwrap_or(1),
            })
        }

        fn describe(&self) -> String {
            format!(
                "{:.0}M parameters, {} layers, trained context {}, {} threads",
                self.model.n_params() as f64 / 1e6,
                self.model.n_layer(),
                self.model.n_ctx_train(),
                self.threads
            )
        }

        /// The chat prompt's tokens, laid out with the model's template.
        fn tokens(&self, system: &str, user: &str) -> Result<Vec<LlamaToken>, LlmError> {
            let message = |role: &str, content: &str| {
                LlamaChatMessage::new(role.into(), content.into())
                    .map_err(|e| fail(format!("prompt cannot be passed to llama.cpp: {e}")))
            };
            let chat = [message("system", system)?, message("user", user)?];
            let text = self
                .model
                .apply_chat_template(&self.template, &chat, true)
                .map_err(|e| fail(format!("the model's chat template failed: {e}")))?;
            // The template writes the BOS text itself where the model wants one.
            Ok(self.model.vocab().tokenize(text.as_bytes(), false, true))
        }
    }

    /// One sequence being generated.
    struct Sequence {
        reply: Option<oneshot::Sender<Result<String, LlmError>>>,
        sampler: LlamaSampler,
        prompt: Vec<LlamaToken>,
        /// Next position in the sequence.
        pos: i32,
        /// Index in the last batch of its logits.
        logits_at: i32,
        text: Vec<u8>,
        generated: u32,
        done: bool,
        /// Stopped at a length cap, not by the grammar.
        cut: bool,
        /// See [`Request::closes_intent`].
        closes_intent: bool,
        /// See [`Request::max_tokens`].
        max_tokens: Option<u32>,
    }

    /// The worker thread's state.
    struct Worker<'m> {
        backend: &'static LlamaBackend,
        loaded: &'m Loaded,
        config: &'m LocalConfig,
        counters: &'m Counters,
        /// The context, kept across jobs while big enough: (context, cells, sequences).
        context: Option<(LlamaContext<'m>, u32, u32)>,
        next_seed: u32,
    }

    impl<'m> Worker<'m> {
        fn serve(mut self, inbox: &mpsc::Receiver<Job>) {
            let max = self.config.max_sequences as usize;
            let mut pending: Vec<Request> = Vec::new();
            loop {
                if pending.is_empty() {
                    match inbox.recv() {
                        Ok(job) => pending.extend(job.requests),
                        Err(_) => return,
                    }
                }
                if self.config.batch {
                    // Merge whatever else is queued (concurrent rounds, re-asks).
                    while let Ok(job) = inbox.try_recv() {
                        pending.extend(job.requests);
                    }
                }
                let take = if self.config.batch {
                    pending.len().min(max)
                } else {
                    1
                };
                let rest = pending.split_off(take);
                let now = std::mem::replace(&mut pending, rest);
                self.run(now);
            }
        }

        /// Generates every request of `requests` together; each gets its answer or error.
        fn run(&mut self, requests: Vec<Request>) {
            self.counters.batches.fetch_add(1, Ordering::Relaxed);
            let mut seqs: Vec<Sequence> = Vec::with_capacity(requests.len());
            for r in requests {
                match self.sequence(r) {
                    Ok(s) => seqs.push(s),
                    Err((reply, e)) => {
                        self.counters.failures.fetch_add(1, Ordering::Relaxed);
                        let _ = reply.send(Err(e));
                    }
                }
            }
            if seqs.is_empty() {
                return;
            }
            if let Err(e) = self.generate(&mut seqs) {
                for s in &mut seqs {
                    if let Some(reply) = s.reply.take() {
                        self.counters.failures.fetch_add(1, Ordering::Relaxed);
                        let _ = reply.send(Err(e.clone()));
                    }
                }
            }
        }

        fn sequence(
            &mut self,
            r: Request,
        ) -> Result<Sequence, (oneshot::Sender<Result<String, LlmError>>, LlmError)> {
            let prompt = match self.loaded.tokens(&r.system, &r.user) {
                Ok(t) => t,
                Err(e) => return Err((r.reply, e)),
            };
            let room = self
                .config
                .context_size
                .saturating_sub(self.config.max_tokens) as usize;
            if prompt.len() > room {
                let e = fail(format!(
                    "the prompt has {} tokens; context_size {} leaves room for {room} next to \
                     max_tokens {}",
                    prompt.len(),
                    self.config.context_size,
                    self.config.max_tokens
                ));
                return Err((r.reply, e));
            }
            let mut chain = Vec::new();
            if let Some(grammar) = &r.grammar {
                match LlamaSampler::grammar(&self.loaded.model, grammar, "root") {
                    Ok(g) => chain.push(g),
                    Err(e) => return Err((r.reply, fail(format!("bad grammar: {e}")))),
                }
            }
            let seed = self.next_seed;
            self.next_seed = self.next_seed.wrapping_add(1);
            if self.config.temperature > 0.0 {
                chain.push(LlamaSampler::top_k(40));
                chain.push(LlamaSampler::temp(self.config.temperature));
                chain.push(LlamaSampler::dist(seed));
            } else {
                chain.push(LlamaSampler::greedy());
            }
            let sampler = LlamaSampler::chain_simple(chain);
            Ok(Sequence {
                reply: Some(r.reply),
                sampler,
                prompt,
                pos: 0,
                logits_at: 0,
                text: Vec::new(),
                generated: 0,
                done: false,
                cut: false,
                closes_intent: r.closes_intent,
                max_tokens: r.max_tokens,
            })
        }

        /// A context with room for `cells` tokens in `n` sequences, reused when big enough.
        fn context(&mut self, cells: u32, n: u32) -> Result<&mut LlamaContext<'m>, LlmError> {
            let fits = matches!(&self.context, Some((_, c, s)) if *c >= cells && *s >= n);
            if !fits {
                self.context = None;
                // Round up so that slightly bigger rounds reuse the context.
                let cells = cells.div_ceil(1024) * 1024;
                let n = n.max(self.config.max_sequences.min(16));
                let params = LlamaContextParams::default()
                    .with_n_ctx(NonZeroU32::new(cells))
                    .with_n_batch(cells)
                    .with_n_ubatch(512)
                    .with_n_seq_max(n)
                    .with_kv_unified(true)
                    .with_n_threads(self.loaded.threads)
                    .with_n_threads_batch(self.loaded.threads);
                let ctx = self
                    .loaded
                    .model
                    .new_context(self.backend, params)
                    .map_err(|e| fail(format!("cannot create a context of {cells} tokens: {e}")))?;
                self.context = Some((ctx, cells, n));
            }
            match &mut self.context {
                Some((ctx, _, _)) => Ok(ctx),
                None => Err(fail("no context".into())),
            }
        }

        fn generate(&mut self, seqs: &mut [Sequence]) -> Result<(), LlmError> {
            let max_tokens = self.config.max_tokens;
            // `{"value": 123.45, "reasoning": "` + the text.
            let text_cap = 40 + self.config.max_reasoning_chars as usize;
            let prompt_tokens: usize = seqs.iter().map(|s| s.prompt.len()).sum();
            let cells = u32::try_from(prompt_tokens + seqs.len() * max_tokens as usize)
                .map_err(|_| fail("round too large".into()))?;
            let n = u32::try_from(seqs.len()).map_err(|_| fail("round too large".into()))?;
            let counters = self.counters;
            let loaded = self.loaded;
            let ctx = self.context(cells, n)?;
            ctx.clear_kv_cache();

            // Prefill every prompt in one batch; logits only at each prompt's last token.
            let t0 = Instant::now();
            let mut batch = LlamaBatch::new(prompt_tokens.max(seqs.len()), 1);
            for (id, s) in seqs.iter_mut().enumerate() {
                let last = s.prompt.len().saturating_sub(1);
                for (i, &token) in s.prompt.iter().enumerate() {
                    batch
                        .add(token, i as i32, &[id as i32], i == last)
                        .map_err(|e| fail(format!("batch: {e}")))?;
                }
                s.pos = s.prompt.len() as i32;
                s.logits_at = batch.n_tokens() - 1;
            }
            ctx.decode(&mut batch)
                .map_err(|e| fail(format!("prefill failed: {e}")))?;
            counters
                .prompt_tokens
                .fetch_add(prompt_tokens as u64, Ordering::Relaxed);
            counters
                .prefill_us
                .fetch_add(t0.elapsed().as_micros() as u64, Ordering::Relaxed);

            // One token per live sequence per decode step.
            let t1 = Instant::now();
            let vocab = loaded.model.vocab();
            let mut step = LlamaBatch::new(seqs.len(), 1);
            loop {
                step.clear();
                for (id, s) in seqs.iter_mut().enumerate() {
                    if s.done {
                        continue;
                    }
                    if s.reply.as_ref().is_none_or(|r| r.is_closed()) {
                        // Nobody waits for it any more (the round's deadline passed).
                        s.done = true;
                        continue;
                    }
                    let token = s.sampler.sample(ctx, s.logits_at);
                    if vocab.is_eog(token) {
                        s.done = true;
                        continue;
                    }
                    s.text
                        .extend_from_slice(&vocab.token_to_piece(token, false, None));
                    s.generated += 1;
                    counters.completion_tokens.fetch_add(1, Ordering::Relaxed);
                    let cap = s.max_tokens.map_or(max_tokens, |m| m.min(max_tokens));
                    if s.generated >= cap || s.text.len() > text_cap {
                        s.cut = true;
                        s.done = true;
                        continue;
                    }
                    s.logits_at = step.n_tokens();
                    step.add(token, s.pos, &[id as i32], true)
                        .map_err(|e| fail(format!("batch: {e}")))?;
                    s.pos += 1;
                }
                if step.n_tokens() == 0 {
                    break;
                }
                ctx.decode(&mut step)
                    .map_err(|e| fail(format!("decode failed: {e}")))?;
            }
            counters
                .generate_us
                .fetch_add(t1.elapsed().as_micros() as u64, Ordering::Relaxed);
            for s in seqs.iter_mut() {
                if let Some(reply) = s.reply.take() {
                    let mut text = String::from_utf8_lossy(&s.text).into_owned();
                    if s.cut && s.closes_intent && !text.ends_with('}') {
                        // Cut off inside the reasoning text: close the object the grammar
                        // was writing (the extraction unit judges the rest).
                        text.push_str("\"}");
                    }
                    counters.sequences.fetch_add(1, Ordering::Relaxed);
                    let _ = reply.send(Ok(text));
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tiny matcher of the digit-class patterns [`integer_range`] emits.
    fn matches(pattern: &str, text: &str) -> bool {
        let classes: Vec<(u8, u8)> = pattern
            .split(' ')
            .map(|c| {
                let b = c.as_bytes();
                if b[0] == b'"' {
                    (b[1], b[1])
                } else {
                    (b[1], b[3])
                }
            })
            .collect();
        classes.len() == text.len()
            && classes
                .iter()
                .zip(text.bytes())
                .all(|(&(a, b), c)| a <= c && c <= b)
    }

    #[test]
    fn integer_ranges_are_exact() {
        for (lo, hi) in [
            (0, 0),
            (0, 9),
            (3, 7),
            (0, 100),
            (5, 1000),
            (10, 99),
            (17, 243),
            (99, 101),
            (120, 1999),
            (0, 1234),
            (1000, 1000),
        ] {
            let patterns = integer_range(lo, hi);
            for v in 0..=2100u64 {
                let text = v.to_string();
                let hits = patterns.iter().filter(|p| matches(p, &text)).count();
                let want = usize::from((lo..=hi).contains(&v));
                assert_eq!(hits, want, "{v} in {lo}..={hi}: {patterns:?}");
            }
        }
        assert!(integer_range(5, 4).is_empty());
    }

    #[test]
    fn grammar_follows_the_bounds() {
        let g = intent_grammar(&Bounds {
            min_mbps: 10.0,
            max_mbps: 100.0,
        });
        assert!(g.starts_with("root ::= \"{\\\"value\\\": \" number"), "{g}");
        assert!(g.contains("| \"100\""), "{g}");
        assert!(g.contains("x1F]+"), "{g}");
        let narrow = number_rule(&Bounds {
            min_mbps: 12.3,
            max_mbps: 12.7,
        });
        assert_eq!(narrow, "\"12.\" [0-9] [0-9]?");
        let single = number_rule(&Bounds {
            min_mbps: 40.0,
            max_mbps: 40.0,
        });
        assert_eq!(single, "\"40\"");
        let bad = number_rule(&Bounds {
            min_mbps: f64::NAN,
            max_mbps: 3.0,
        });
        assert!(bad.starts_with("[0-9]"));
    }

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
        assert!(unavailable().to_string().contains("--features local-llm"));
    }
}

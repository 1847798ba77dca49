//! The llama.cpp side: a worker thread owning the model and its context, which prefills a
//! round's prompts in one batch and samples every sequence of it together.

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

    fn request(&self, prompt: &Prompt) -> (Request, oneshot::Receiver<Result<String, LlmError>>) {
        let (reply, rx) = oneshot::channel();
        (
            Request {
                system: prompt.system.clone(),
                user: prompt.user.clone(),
                grammar: match &prompt.format {
                    AnswerFormat::Intent => Some(intent_grammar(&prompt.context.bounds)),
                    AnswerFormat::Json { grammar, .. } | AnswerFormat::Prose { grammar, .. } => {
                        Some(grammar.clone())
                    }
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
        let (requests, answers): (Vec<_>, Vec<_>) = prompts.iter().map(|p| self.request(p)).unzip();
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

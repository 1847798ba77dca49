//! The subcommands of `maestro`, one module each, plus what they share.

pub mod a1;
pub mod auth;
pub mod bench;
pub mod demo;
pub mod e2_bridge;
pub mod experiment;
pub mod health;
pub mod rapp;
pub mod report;
pub mod transcripts;
pub mod xapp;

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use maestro_rapp::negotiation::local::LocalConfig;
use maestro_rapp::negotiation::openai::OpenAiConfig;
use maestro_rapp::run::LlmChoice;
use maestro_xapp::e2::emulator::{Clock, CqiSource, EmulatorConfig};

/// Version string: crate version plus the git revision the build script found.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("MAESTRO_GIT_REV"),
    ")"
);

/// Logs to stderr; `RUST_LOG` overrides `default`.
pub fn init_logging(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match LOG_FORMAT.get().copied().unwrap_or_default() {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// How log lines are written on stderr (`--log-format`, `MAESTRO_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line (timestamp, level, target, message and fields), for log
    /// collectors such as Loki or Elasticsearch.
    Json,
}

/// The log format chosen on the command line, set once by `main` before any subcommand runs.
pub static LOG_FORMAT: std::sync::OnceLock<LogFormat> = std::sync::OnceLock::new();

/// How the emulated gNB's clock runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClockMode {
    /// Wall-clock time.
    Real,
    /// Faster than real time, by --speedup.
    Sim,
}

/// Options of the built-in emulated gNB. Each one overrides the config file's value (or the
/// built-in default when there is no config file).
#[derive(Debug, Clone, Args)]
pub struct EmulatorArgs {
    /// Clock of the emulated gNB [default: real for `xapp`, sim for `demo`].
    #[arg(long, value_enum)]
    pub clock: Option<ClockMode>,
    /// Emulated seconds per wall second with --clock sim [default: 50].
    #[arg(long)]
    pub speedup: Option<f64>,
    /// Replay this drive trace (CSV with the UCC 5G dataset's Timestamp and CQI columns,
    /// resampled to 1 s) instead of the synthetic vehicular CQI model.
    #[arg(long, value_name = "CSV")]
    pub cqi_trace: Option<PathBuf>,
    /// Seed of the synthetic CQI model and the fast fading [default: 1].
    #[arg(long)]
    pub seed: Option<u64>,
    /// E2 report period (MAC stats / KPM), ms of the gNB clock [default: 100].
    #[arg(long)]
    pub period_ms: Option<u64>,
}

/// Emulated seconds per wall second when --clock sim is given without --speedup.
pub const DEFAULT_SPEEDUP: f64 = 50.0;

impl EmulatorArgs {
    /// The speedup of a simulated clock.
    pub fn speedup(&self) -> f64 {
        self.speedup.unwrap_or(DEFAULT_SPEEDUP)
    }

    /// `base` with these options applied; a clock given neither on the command line nor in
    /// a config file is `default_clock`.
    pub fn apply(
        &self,
        mut base: EmulatorConfig,
        default_clock: Option<ClockMode>,
    ) -> EmulatorConfig {
        if let Some(mode) = self.clock.or(default_clock) {
            base.clock = match mode {
                ClockMode::Real => Clock::Realtime,
                ClockMode::Sim => Clock::Simulated {
                    speedup: self.speedup(),
                },
            };
        } else if let (Some(speedup), Clock::Simulated { .. }) = (self.speedup, base.clock) {
            base.clock = Clock::Simulated { speedup };
        }
        if let Some(path) = &self.cqi_trace {
            base.cqi = CqiSource::Trace { path: path.clone() };
        }
        if let Some(seed) = self.seed {
            base.seed = seed;
        }
        if let Some(period) = self.period_ms {
            base.period_ms = period;
        }
        base
    }

    /// The emulator configuration these options describe, on the built-in defaults.
    pub fn config(&self, default_clock: ClockMode) -> EmulatorConfig {
        self.apply(EmulatorConfig::default(), Some(default_clock))
    }
}

/// Which LLM plays the agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LlmKind {
    /// The built-in persona negotiator (offline, deterministic per seed).
    Persona,
    /// An OpenAI-compatible chat-completions endpoint: MAESTRO_LLM_BASE_URL,
    /// MAESTRO_LLM_MODEL, MAESTRO_LLM_API_KEY (or OPENAI_API_KEY); MAESTRO_LLM_TIMEOUT_MS,
    /// MAESTRO_LLM_MAX_CONCURRENCY, MAESTRO_LLM_STRUCTURED (auto|json_schema|json_object|off)
    /// tune it.
    Openai,
    /// A GGUF chat model run in-process (--gguf PATH or MAESTRO_GGUF; builds with
    /// `--features local-llm` only). MAESTRO_LOCAL_THREADS, MAESTRO_LOCAL_CONTEXT,
    /// MAESTRO_LOCAL_TEMPERATURE, MAESTRO_LOCAL_SEED, MAESTRO_LOCAL_MAX_TOKENS tune it.
    Local,
}

/// The backend choice for `kind`: the persona negotiator seeded with `seed`, or the
/// OpenAI-compatible endpoint configured by the environment.
pub fn llm_choice(kind: LlmKind, seed: u64) -> anyhow::Result<LlmChoice> {
    Ok(match kind {
        LlmKind::Persona => LlmChoice::Persona { seed },
        LlmKind::Openai => LlmChoice::OpenAi(OpenAiConfig::from_env(OpenAiConfig::default())?),
        LlmKind::Local => LlmChoice::Local(LocalConfig::default()),
    })
}

/// [`llm_choice`], with the local backend configured from `gguf` (the `--gguf` option) and
/// the MAESTRO_LOCAL_* environment; its sampler is seeded with `seed` unless
/// MAESTRO_LOCAL_SEED says otherwise.
pub fn llm_choice_with(
    kind: LlmKind,
    seed: u64,
    gguf: Option<&std::path::Path>,
) -> anyhow::Result<LlmChoice> {
    Ok(match kind {
        LlmKind::Local => {
            let base = LocalConfig {
                seed: seed as u32,
                ..LocalConfig::default()
            };
            let mut cfg = LocalConfig::from_env(base)?;
            if let Some(path) = gguf {
                cfg.model_path = path.to_owned();
            }
            LlmChoice::Local(cfg)
        }
        other => llm_choice(other, seed)?,
    })
}

/// For commands that print a result and exit (`a1`, `transcripts`, `health`, `xapp
/// --print-config`): a closed stdout (`maestro a1 list | head -1`) ends the process quietly,
/// as it does for any Unix filter, instead of a panic from `println!`. Long-running servers
/// never call this: they keep SIGPIPE ignored so a vanished peer is an error, not a death.
pub fn exit_quietly_when_stdout_closes() {
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread writes to a pipe;
    // `signal` with SIG_DFL has no memory-safety preconditions.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

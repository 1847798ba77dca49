//! The subcommands of `maestro`, one module each, plus what they share.

pub mod a1;
pub mod demo;
pub mod rapp;
pub mod report;
pub mod xapp;

use std::path::PathBuf;

use clap::{Args, ValueEnum};
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
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// How the emulated gNB's clock runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClockMode {
    /// Wall-clock time.
    Real,
    /// Faster than real time, by --speedup.
    Sim,
}

/// Options of the built-in emulated gNB.
#[derive(Debug, Clone, Args)]
pub struct EmulatorArgs {
    /// Clock of the emulated gNB [default: real for `xapp`, sim for `demo`].
    #[arg(long, value_enum)]
    pub clock: Option<ClockMode>,
    /// Emulated seconds per wall second with --clock sim.
    #[arg(long, default_value_t = 50.0)]
    pub speedup: f64,
    /// Replay this drive trace (CSV with the UCC 5G dataset's Timestamp and CQI columns)
    /// instead of the synthetic vehicular CQI model.
    #[arg(long, value_name = "CSV")]
    pub cqi_trace: Option<PathBuf>,
    /// Seed of the synthetic CQI model.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// E2 report period (MAC stats / KPM), ms of the gNB clock.
    #[arg(long, default_value_t = 100)]
    pub period_ms: u64,
}

impl EmulatorArgs {
    /// The clock chosen, or the command's default.
    pub fn clock_or(&self, default: ClockMode) -> ClockMode {
        self.clock.unwrap_or(default)
    }

    /// The emulator configuration these options describe.
    pub fn config(&self, default_clock: ClockMode) -> EmulatorConfig {
        EmulatorConfig {
            clock: match self.clock_or(default_clock) {
                ClockMode::Real => Clock::Realtime,
                ClockMode::Sim => Clock::Simulated {
                    speedup: self.speedup,
                },
            },
            cqi: match &self.cqi_trace {
                Some(path) => CqiSource::Trace { path: path.clone() },
                None => CqiSource::Vehicular,
            },
            seed: self.seed,
            period_ms: self.period_ms,
            ..EmulatorConfig::default()
        }
    }
}

//! `maestro experiment`: the paper's experiments on the persona simulator (scripted, not an
//! LLM) or a real LLM; prints a table (the paper's figure beside ours) and writes JSON, CSV and
//! an SVG box plot under `--out` (and a PNG of it where the report offers one). Progress goes
//! to stderr: a bar on a terminal, one plain line per tenth of the games otherwise.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use maestro_rapp::experiment::{
    optimizer, persona_backend, personalities, write_report, ExperimentReport,
};
use maestro_rapp::negotiation::{LanguageModel, PressureMode};

use super::LlmKind;

pub mod sla_timeline;

/// How the optimizer is put to the agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Pressure {
    /// No optimizer.
    None,
    /// Advice in the prompt.
    Soft,
    /// A directive, enforced by the validation unit.
    Hard,
}

impl From<Pressure> for PressureMode {
    fn from(p: Pressure) -> Self {
        match p {
            Pressure::None => Self::None,
            Pressure::Soft => Self::Soft,
            Pressure::Hard => Self::Hard,
        }
    }
}

/// Options shared by every experiment.
#[derive(Debug, Args)]
pub struct Common {
    /// LLM backend playing the agents.
    #[arg(long, value_enum, default_value = "persona")]
    pub llm: LlmKind,
    /// GGUF chat model for `--llm local` (e.g. the path `.ci/fetch-smollm2` prints).
    #[arg(long, value_name = "PATH", env = "MAESTRO_GGUF")]
    pub gguf: Option<PathBuf>,
    /// Directory for the JSON, CSV and SVG results.
    #[arg(long, value_name = "DIR", default_value = "experiments")]
    pub out: PathBuf,
    /// Base seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// No progress on stderr (neither the bar on a terminal nor the plain lines elsewhere).
    #[arg(long)]
    pub quiet: bool,
}

/// A contextual unit `maestro experiment personalities --with` can switch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UnitArg {
    /// The arbitral unit (built-in lexicon, the paper's warning-then-penalty ladder).
    Arbitral,
    /// The optimizer (soft advice unless `--pressure hard`).
    Optimizer,
    /// The regulatory unit over the bundled notes.
    Regulatory,
}

impl From<UnitArg> for personalities::Unit {
    fn from(u: UnitArg) -> Self {
        match u {
            UnitArg::Arbitral => Self::Arbitral,
            UnitArg::Optimizer => Self::Optimizer,
            UnitArg::Regulatory => Self::Regulatory,
        }
    }
}

/// The experiments.
#[derive(Debug, Subcommand)]
pub enum Experiment {
    /// Fig. 3a: two standalone agents (cost, target 10 Mbps, vs QoS, target 90 Mbps; fair
    /// middle 50) for every personality pair the paper shows; each agent's final decision,
    /// agreement, rounds, and the paper's claims checked held / not held.
    Personalities {
        /// Games per pair.
        #[arg(long, default_value_t = 50)]
        games: usize,
        /// Round cap.
        #[arg(long, default_value_t = 5)]
        max_rounds: u32,
        /// Units to switch on, as an ablation (the paper's study: none, standalone agents).
        #[arg(long, value_enum, value_delimiter = ',', value_name = "UNIT,...")]
        with: Vec<UnitArg>,
        /// How the optimizer is put when it is on (soft or hard imply `--with optimizer`;
        /// default soft).
        #[arg(long, value_enum)]
        pressure: Option<Pressure>,
        #[command(flatten)]
        common: Common,
    },
    /// Fig. 3b: teams of 2, 5 and 10 operators with mixed utilities and random target spreads
    /// under no / soft / hard optimizer: error to the theoretical optimum (split into the
    /// demands' and the averaging rule's parts), rounds next to the pressure schedule's bound.
    Optimizer {
        /// Negotiations per team size and design.
        #[arg(long, visible_alias = "runs", default_value_t = 100)]
        negotiations: usize,
        /// Team sizes.
        #[arg(long, value_delimiter = ',', default_value = "2,5,10")]
        sizes: Vec<usize>,
        /// Round cap.
        #[arg(long, default_value_t = 4)]
        max_rounds: u32,
        #[command(flatten)]
        common: Common,
    },
    /// The SLA timeline (paper, Fig. 5): rApp + xApp + emulated gNB over a CQI drive, with
    /// renegotiations triggered by the live KPI stream; timeline plot (PNG, SVG) and event log.
    SlaTimeline(sla_timeline::SlaTimelineArgs),
}

/// Options of `maestro experiment`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    maestro experiment personalities --games 50 --out results/\n  \
    maestro experiment optimizer --negotiations 100 --sizes 2,5,10\n  \
    MAESTRO_LLM_BASE_URL=http://127.0.0.1:11434/v1 MAESTRO_LLM_MODEL=llama3.1:8b \\\n    \
    maestro experiment optimizer --llm openai --negotiations 10")]
pub struct ExperimentArgs {
    #[command(subcommand)]
    pub experiment: Experiment,
}

/// Makes the backend for a game from its seed.
type BackendFactory = Box<dyn Fn(u64) -> Arc<dyn LanguageModel> + Sync>;

fn backend_factory(common: &Common) -> anyhow::Result<BackendFactory> {
    Ok(match common.llm {
        LlmKind::Persona => Box::new(persona_backend),
        LlmKind::Openai | LlmKind::Local => {
            let backend = super::llm_choice_with(common.llm, common.seed, common.gguf.as_deref())?
                .build()
                .context("LLM backend")?;
            Box::new(move |_| Arc::clone(&backend))
        }
    })
}

/// Progress of an experiment's games on stderr: an indicatif bar when stderr is a terminal;
/// otherwise (CI, a log file) one plain line each time another tenth of the games is done,
/// e.g. `personalities: 40/400 games (10%)`; nothing when quiet.
struct GameProgress {
    label: &'static str,
    quiet: bool,
    terminal: bool,
    bar: OnceLock<indicatif::ProgressBar>,
    tenths_said: AtomicUsize,
}

impl GameProgress {
    fn new(label: &'static str, quiet: bool) -> Self {
        Self {
            label,
            quiet,
            terminal: std::io::stderr().is_terminal(),
            bar: OnceLock::new(),
            tenths_said: AtomicUsize::new(0),
        }
    }

    /// After each game: `done` of `total`.
    fn update(&self, done: usize, total: usize) {
        if self.quiet || total == 0 {
            return;
        }
        if self.terminal {
            let bar = self.bar.get_or_init(|| {
                let style = indicatif::ProgressStyle::with_template(
                    "{prefix}: [{bar:30}] {pos}/{len} games ({percent}%), {elapsed} elapsed, \
                     eta {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
                indicatif::ProgressBar::new(total as u64)
                    .with_style(style.progress_chars("#> "))
                    .with_prefix(self.label)
            });
            bar.set_position(done as u64);
            if done >= total {
                bar.finish();
            }
            return;
        }
        let tenths = done.min(total) * 10 / total;
        if tenths > self.tenths_said.fetch_max(tenths, Ordering::Relaxed) {
            eprintln!(
                "{}: {done}/{total} games ({}%)",
                self.label,
                done * 100 / total
            );
        }
    }
}

/// Progress for `label`'s games (see [`GameProgress`]).
fn progress(label: &'static str, quiet: bool) -> impl Fn(usize, usize) + Sync {
    let p = GameProgress::new(label, quiet);
    move |done, total| p.update(done, total)
}

/// Progress of an experiment's games, labelled "experiment" (see [`GameProgress`]).
fn progress_bar(quiet: bool) -> impl Fn(usize, usize) + Sync {
    progress("experiment", quiet)
}

/// Prints the table and writes the files.
fn emit(out: &std::path::Path, report: &impl ExperimentReport) -> anyhow::Result<()> {
    print!("{}", report.table());
    for f in write_report(out, report)?.files {
        println!("wrote {}", f.display());
    }
    Ok(())
}

/// Runs the chosen experiment.
pub async fn run(args: ExperimentArgs) -> anyhow::Result<ExitCode> {
    match args.experiment {
        Experiment::SlaTimeline(a) => return sla_timeline::run(a).await,
        Experiment::Personalities {
            games,
            max_rounds,
            with,
            pressure,
            common,
        } => {
            anyhow::ensure!(games >= 1, "--games must be at least 1");
            let mut with: Vec<personalities::Unit> = with.into_iter().map(Into::into).collect();
            let optimizer_pressure = match pressure {
                Some(Pressure::None) => {
                    anyhow::ensure!(
                        !with.contains(&personalities::Unit::Optimizer),
                        "--pressure none contradicts --with optimizer"
                    );
                    PressureMode::Soft
                }
                Some(on) => {
                    with.push(personalities::Unit::Optimizer);
                    on.into()
                }
                None => PressureMode::Soft,
            };
            let settings = personalities::Settings {
                games,
                max_rounds,
                with,
                optimizer_pressure,
                seed: common.seed,
                ..personalities::Settings::default()
            };
            let llm = backend_factory(&common)?;
            let report = personalities::run(
                &settings,
                llm.as_ref(),
                &progress("personalities", common.quiet),
            )
            .await?;
            emit(&common.out, &report)?;
        }
        Experiment::Optimizer {
            negotiations,
            sizes,
            max_rounds,
            common,
        } => {
            let settings = optimizer::Settings {
                sizes,
                negotiations,
                max_rounds,
                seed: common.seed,
                ..optimizer::Settings::default()
            };
            let llm = backend_factory(&common)?;
            let report =
                optimizer::run(&settings, llm.as_ref(), &progress_bar(common.quiet)).await?;
            emit(&common.out, &report)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

//! `maestro experiment`: the paper's experiments on the built-in persona negotiator or a real
//! LLM endpoint; prints a table (the paper's figure beside ours) and writes JSON, CSV and an
//! SVG box plot under `--out`.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use maestro_rapp::experiment::{
    optimizer, persona_backend, personalities, write_report, ExperimentReport,
};
use maestro_rapp::negotiation::{LanguageModel, PressureMode};

use super::LlmKind;

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
    /// No progress bar on stderr.
    #[arg(long)]
    pub quiet: bool,
}

/// The experiments.
#[derive(Debug, Subcommand)]
pub enum Experiment {
    /// Two agents (cost vs QoS) for every personality pair the paper shows.
    Personalities {
        /// Games per pair.
        #[arg(long, default_value_t = 50)]
        games: usize,
        /// Round cap.
        #[arg(long, default_value_t = 5)]
        max_rounds: u32,
        /// How the optimizer is put to the agents (the paper's study: none).
        #[arg(long, value_enum, default_value = "none")]
        pressure: Pressure,
        #[command(flatten)]
        common: Common,
    },
    /// 2, 5 and 10 agents under no / soft / hard optimizer: error to the theoretical optimum.
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
    SlaTimeline(super::sla_timeline::SlaTimelineArgs),
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

fn progress_bar(quiet: bool) -> impl Fn(usize, usize) + Sync {
    move |done, total| {
        if quiet || total == 0 {
            return;
        }
        let width = 30;
        let filled = done * width / total;
        let mut err = std::io::stderr();
        let _ = write!(
            err,
            "\r[{}{}] {done}/{total}",
            "#".repeat(filled),
            " ".repeat(width - filled)
        );
        if done == total {
            let _ = writeln!(err);
        }
    }
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
        Experiment::SlaTimeline(a) => return super::sla_timeline::run(a).await,
        Experiment::Personalities {
            games,
            max_rounds,
            pressure,
            common,
        } => {
            anyhow::ensure!(games >= 1, "--games must be at least 1");
            let settings = personalities::Settings {
                games,
                max_rounds,
                pressure: pressure.into(),
                seed: common.seed,
                ..personalities::Settings::default()
            };
            let llm = backend_factory(&common)?;
            let report =
                personalities::run(&settings, llm.as_ref(), &progress_bar(common.quiet)).await?;
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

//! `maestro rapp`: one pass of the rApp against a running xApp (or any A1-P v2 termination
//! with a MAESTRO KPI stream).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use maestro_rapp::run::{run as run_pass, RappJob};
use maestro_rapp::scenario::Scenario;

use super::report;

/// Options of `maestro rapp`.
#[derive(Debug, Args)]
pub struct RappArgs {
    /// Base URL of the A1-P v2 termination.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub a1_url: String,
    /// gRPC endpoint of the xApp's KPI stream.
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    pub kpi_url: String,
    /// Scenario JSON (operators, targets, personalities; see config/scenario.json).
    /// Default: the built-in two-operator scenario.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Seconds of gNB time to watch the enforced policies.
    #[arg(long, default_value_t = 30.0)]
    pub observe: f64,
    /// Seconds to wait for the xApp to answer.
    #[arg(long, default_value_t = 15.0)]
    pub connect_timeout: f64,
    /// Also write the report as JSON here.
    #[arg(long, value_name = "PATH")]
    pub report: Option<PathBuf>,
    /// LLM backend playing the operators' agents.
    #[arg(long, value_enum, default_value = "persona")]
    pub llm: super::LlmKind,
    /// Retrieve regulatory rules from the notes in this directory (e.g. config/regulations),
    /// on top of the scenario's rules; citations go into the prompts and the transcript.
    #[arg(long, value_name = "DIR")]
    pub regulations: Option<PathBuf>,
    /// Directory of the rApp's transcript store (`maestro transcripts list --data-dir DIR`).
    #[arg(long, value_name = "DIR", default_value = "maestro-rapp-state")]
    pub data_dir: PathBuf,
}

/// Loads the scenario named on the command line, or the built-in one.
pub fn load_scenario(path: Option<&std::path::Path>) -> anyhow::Result<Scenario> {
    Ok(match path {
        Some(p) => Scenario::from_file(p)?,
        None => Scenario::default(),
    })
}

/// Checks a duration option.
pub fn seconds(name: &str, value: f64) -> anyhow::Result<f64> {
    anyhow::ensure!(
        value.is_finite() && value > 0.0,
        "--{name} must be a positive number of seconds, got {value}"
    );
    Ok(value)
}

/// Runs one pass and reports it.
pub async fn run(args: RappArgs) -> anyhow::Result<ExitCode> {
    super::init_logging("info");
    let scenario = load_scenario(args.scenario.as_deref())?;
    let job = RappJob {
        a1_url: args.a1_url,
        kpi_url: args.kpi_url,
        llm: super::llm_choice(args.llm, scenario.seed),
        scenario,
        observe_s: seconds("observe", args.observe)?,
        connect_timeout: Duration::from_secs_f64(seconds("connect-timeout", args.connect_timeout)?),
        regulations: args.regulations,
        transcripts: Some(args.data_dir),
    };
    let result = run_pass(&job).await.context("rApp pass failed")?;
    report::print_table(&result);
    if let Some(path) = &args.report {
        report::write_json(&result, path)?;
    }
    Ok(report::exit_code(&result))
}

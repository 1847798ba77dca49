//! `maestro`: the one binary of the MAESTRO xApp/rApp pair. This file only parses the command
//! line and dispatches; each subcommand lives in `cmd/`.

mod cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// MAESTRO: business operators negotiate a slice throughput SLA (rApp, non-RT RIC); the
/// consensus leaves as an A1 policy that the xApp (near-RT RIC) enforces as per-slice PRB
/// quotas over E2, from the live CQI.
#[derive(Debug, Parser)]
#[command(name = "maestro", version = cmd::VERSION, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run everything on loopback: the xApp with the emulated gNB, the rApp's negotiation,
    /// A1 enforcement and the KPI loop; print a table and exit 0 if every slice holds its target.
    Demo(cmd::demo::DemoArgs),
    /// Run the near-RT xApp: A1-P v2 server, PRB controller, E2 backend, KPI stream, /metrics.
    Xapp(cmd::xapp::XappArgs),
    /// Run one pass of the rApp against a running xApp: negotiate, PUT A1 policies, watch KPIs.
    Rapp(cmd::rapp::RappArgs),
    /// Talk to any A1-P v2 termination (list types and policies, put, get, delete, status).
    A1(cmd::a1::A1Args),
    /// Measure the xApp on this machine: A1 PUT -> E2 control latency, A1 PUT rate with many
    /// clients, CQI report ingest rate. Prints the figures (and writes them as JSON).
    Bench(cmd::bench::BenchArgs),
    /// Run the paper's experiments (personality pairs; optimizer designs none/soft/hard) on
    /// the built-in persona negotiator or a real LLM; table on stdout, JSON/CSV/SVG under --out.
    Experiment(cmd::experiment::ExperimentArgs),
    /// List and show stored negotiation transcripts (every round, every unit's decision).
    Transcripts(cmd::transcripts::TranscriptArgs),
    /// Probe a health endpoint (exit 0 on 2xx): the image's HEALTHCHECK, Kubernetes exec probes.
    Health(cmd::health::HealthArgs),
    /// The supervised child that hosts the E2 side (FlexRIC or the emulated gNB) for
    /// `maestro xapp`; speaks newline-delimited JSON on stdin/stdout. Started by the xApp.
    #[command(hide = true)]
    E2Bridge(cmd::e2_bridge::E2BridgeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("maestro: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Demo(args) => cmd::demo::run(args).await,
            Command::Xapp(args) => cmd::xapp::run(args).await,
            Command::Rapp(args) => cmd::rapp::run(args).await,
            Command::A1(args) => cmd::a1::run(args).await,
            Command::Bench(args) => cmd::bench::run(args).await,
            Command::Experiment(args) => cmd::experiment::run(args).await,
            Command::Transcripts(args) => cmd::transcripts::run(args).await,
            Command::Health(args) => cmd::health::run(args).await,
            Command::E2Bridge(args) => cmd::e2_bridge::run(args).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("maestro: {e:#}");
            ExitCode::FAILURE
        }
    }
}

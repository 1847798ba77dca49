//! `maestro`: the one binary of the MAESTRO xApp/rApp pair. This file only parses the command
//! line and dispatches; each subcommand lives in `cmd/`.

mod cmd;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

/// MAESTRO: business operators negotiate a slice throughput SLA (rApp, non-RT RIC); the
/// consensus leaves as an A1 policy that the xApp (near-RT RIC) enforces as per-slice PRB
/// quotas over E2, from the live CQI.
#[derive(Debug, Parser)]
#[command(name = "maestro", version = cmd::VERSION, propagate_version = true)]
#[command(
    after_help = "Settings: a flag beats its environment variable (shown as [env: ...] in each\n\
    subcommand's --help), which beats the config file (--config), which beats the built-in\n\
    default.\n\n\
    Examples:\n  \
    maestro demo --report report.json\n  \
    maestro xapp --config config/xapp.json\n  \
    maestro a1 types\n  \
    maestro --log-format json xapp\n  \
    maestro completions bash > /etc/bash_completion.d/maestro"
)]
struct Cli {
    /// Log lines on stderr as human-readable text or as JSON objects.
    #[arg(
        long,
        global = true,
        value_enum,
        env = "MAESTRO_LOG_FORMAT",
        default_value = "text"
    )]
    log_format: cmd::LogFormat,
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
    /// Measure the xApp on this machine (A1 PUT -> E2 control latency, A1 PUT rate, CQI ingest,
    /// open-loop A1 load, KPI fan-out, soak): runs the separate `maestro-bench` binary.
    Bench(cmd::bench::BenchArgs),
    /// Run the paper's experiments (personality pairs; optimizer designs none/soft/hard) on
    /// the built-in persona negotiator or a real LLM; table on stdout, JSON/CSV/SVG under --out.
    Experiment(cmd::experiment::ExperimentArgs),
    /// List and show stored negotiation transcripts (every round, every unit's decision).
    Transcripts(cmd::transcripts::TranscriptArgs),
    /// Probe a health endpoint (exit 0 on 2xx): the image's HEALTHCHECK, Kubernetes exec probes.
    Health(cmd::health::HealthArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) on stdout.
    #[command(after_help = "Examples:\n  \
        maestro completions bash > ~/.local/share/bash-completion/completions/maestro\n  \
        maestro completions zsh > \"${fpath[1]}/_maestro\"\n  \
        maestro completions fish > ~/.config/fish/completions/maestro.fish")]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// The supervised child that hosts the E2 side (FlexRIC or the emulated gNB) for
    /// `maestro xapp`; speaks newline-delimited JSON on stdin/stdout. Started by the xApp.
    #[command(hide = true)]
    E2Bridge(cmd::e2_bridge::E2BridgeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = cmd::LOG_FORMAT.set(cli.log_format);
    if let Command::Completions { shell } = cli.command {
        // Into a buffer first: the generator panics on a write error (e.g. `| head`).
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "maestro", &mut script);
        return match std::io::Write::write_all(&mut std::io::stdout(), &script) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("maestro: cannot write the completion script: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let one_shot = match &cli.command {
        Command::A1(_) | Command::Transcripts(_) | Command::Health(_) => true,
        Command::Xapp(args) => args.print_config,
        _ => false,
    };
    if one_shot {
        cmd::exit_quietly_when_stdout_closes();
    }
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
            Command::Completions { .. } => Ok(ExitCode::SUCCESS),
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

//! `maestro demo`: the whole loop on loopback with the embedded defaults — the xApp with its
//! emulated gNB in this process, the rApp's pass against it over real HTTP and gRPC, and the
//! rApp's live page (negotiation rounds, consensus, KPIs) with its /metrics and health.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use maestro_rapp::metrics::{MetricsServer, RappMetrics, DEFAULT_METRICS_ADDR};
use maestro_rapp::run::{run_live, RappJob};
use maestro_rapp::web::{self, LiveHub};
use maestro_xapp::config::{E2Config, XappConfig};

use super::rapp::{load_scenario, seconds};
use super::{report, ClockMode, EmulatorArgs};

/// Options of `maestro demo`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    maestro demo                                   # persona negotiator, simulated clock, table\n  \
    maestro demo --report report.json              # also the full pass as JSON\n  \
    maestro demo --hold 600                        # keep the live page up: http://127.0.0.1:9102/\n  \
    maestro demo --clock real --duration 60 --cqi-trace drive.csv\n  \
    maestro demo --llm local --gguf SmolLM2-135M-Instruct.Q4_1.gguf   # build with --features local-llm\n  \
    maestro --log-format json demo                 # logs as JSON lines on stderr")]
pub struct DemoArgs {
    /// Seconds of gNB time the cell runs with the agreed policies in force.
    #[arg(long, default_value_t = 60.0)]
    pub duration: f64,
    /// Write the report (consensus, per-slice target, PRBs, CQI, measured throughput) as JSON.
    #[arg(long, value_name = "PATH")]
    pub report: Option<PathBuf>,
    /// Scenario JSON (see config/scenario.json). Default: the built-in two operators.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Keep the xApp's policy store and the negotiation transcript here (default: a fresh
    /// temporary directory, removed after).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// LLM backend playing the operators' agents.
    #[arg(long, value_enum, default_value = "persona")]
    pub llm: super::LlmKind,
    /// GGUF chat model for `--llm local` (e.g. the path `.ci/fetch-smollm2` prints).
    #[arg(long, value_name = "PATH", env = "MAESTRO_GGUF")]
    pub gguf: Option<PathBuf>,
    /// Regulatory notes (`*.md`) that replace (same file name) or add to the bundled ones
    /// (config/regulations); retrieved passages and their citations go into the prompts and the
    /// transcript, their `Constraint:` lines bound the negotiation. Retrieval is always on.
    #[arg(long, value_name = "DIR")]
    pub regulations: Option<PathBuf>,
    /// Serve the rApp's live page (`/`), `/api/v1/...`, `/metrics` and health here
    /// [default: 127.0.0.1:9102, or a free loopback port when that is taken].
    #[arg(long, value_name = "ADDR")]
    pub web_addr: Option<SocketAddr>,
    /// After the pass, keep the xApp and the live page up this many wall-clock seconds, KPIs
    /// still updating (Ctrl-C or SIGTERM ends it sooner). 0: exit right after the pass.
    #[arg(long, value_name = "SECONDS", default_value_t = 0.0)]
    pub hold: f64,
    /// Emulated gNB options. The demo runs on the simulated clock unless --clock real.
    #[command(flatten)]
    pub emulator: EmulatorArgs,
}

/// Runs the demo.
pub async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    super::init_logging("warn");
    let duration = seconds("duration", args.duration)?;
    anyhow::ensure!(
        args.hold.is_finite() && args.hold >= 0.0,
        "--hold must be zero or a positive number of seconds, got {}",
        args.hold
    );
    let clock = args.emulator.clock_or(ClockMode::Sim);
    let scenario = load_scenario(args.scenario.as_deref())?;
    let (state_dir, temporary) = match &args.state_dir {
        Some(d) => (d.clone(), false),
        None => (
            std::env::temp_dir().join(format!("maestro-demo-{}", std::process::id())),
            true,
        ),
    };
    let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
    let xapp = maestro_xapp::start(XappConfig {
        http_addr: loopback,
        grpc_addr: loopback,
        state_dir: state_dir.clone(),
        control: Default::default(),
        a1: Default::default(),
        security: Default::default(),
        metrics: Default::default(),
        shard: None,
        e2: E2Config::Emulated(args.emulator.config(ClockMode::Sim)),
    })
    .await
    .context("xApp failed to start")?;
    let live = Arc::new(LiveHub::new());
    let metrics = Arc::new(RappMetrics::new().context("rApp metrics")?);
    let rapp_web = start_web(args.web_addr, Arc::clone(&metrics), Arc::clone(&live)).await?;
    println!("MAESTRO demo");
    println!("  xApp A1-P v2 : http://{}/A1-P/v2", xapp.http_addr);
    println!("  xApp metrics : http://{}/metrics", xapp.http_addr);
    println!("  xApp KPI gRPC: http://{}", xapp.grpc_addr);
    println!("  rApp web page: http://{}/", rapp_web.addr);
    println!("  rApp metrics : http://{}/metrics", rapp_web.addr);
    println!(
        "  gNB: emulated 40 MHz / 30 kHz / 106 PRB cell, {} clock, {} s of gNB time",
        match clock {
            ClockMode::Real => "real-time".to_owned(),
            ClockMode::Sim => format!("simulated x{}", args.emulator.speedup()),
        },
        duration
    );
    let job = RappJob {
        a1_url: format!("http://{}", xapp.http_addr),
        kpi_url: format!("http://{}", xapp.grpc_addr),
        llm: super::llm_choice_with(args.llm, scenario.seed, args.gguf.as_deref())?,
        scenario,
        observe_s: duration,
        connect_timeout: Duration::from_secs(10),
        regulations: args.regulations.clone(),
        transcripts: Some(state_dir.join("rapp")),
        auth: Default::default(),
    };
    let result = run_live(&job, Some(&live)).await;
    let held = match &result {
        Ok(pass) if args.hold > 0.0 => {
            metrics.record(pass);
            report::print_table(pass);
            hold(&live, &job, rapp_web.addr, args.hold).await;
            true
        }
        Ok(pass) => {
            metrics.record(pass);
            false
        }
        Err(_) => false,
    };
    live.close();
    rapp_web.shutdown().await;
    xapp.shutdown().await;
    if temporary {
        let _ = std::fs::remove_dir_all(&state_dir);
    }
    let result = result.context("rApp pass failed")?;
    if !held {
        report::print_table(&result);
    }
    if let (false, Some(id)) = (temporary, &result.negotiation_id) {
        println!(
            "transcript: maestro transcripts show {id} --data-dir {}",
            state_dir.join("rapp").display()
        );
    }
    if let Some(path) = &args.report {
        report::write_json(&result, path)?;
        println!("report written to {}", path.display());
    }
    Ok(report::exit_code(&result))
}

/// Starts the rApp's HTTP server (live page, API, /metrics, health): on `addr` (an error when
/// it cannot bind), or on the default address, or on a free loopback port when that is taken.
async fn start_web(
    addr: Option<SocketAddr>,
    metrics: Arc<RappMetrics>,
    live: Arc<LiveHub>,
) -> anyhow::Result<MetricsServer> {
    let routes = web::router(live);
    if let Some(addr) = addr {
        return MetricsServer::start_with(addr, metrics, routes)
            .await
            .with_context(|| format!("--web-addr {addr}: cannot listen"));
    }
    let default: SocketAddr = DEFAULT_METRICS_ADDR.parse()?;
    match MetricsServer::start_with(default, Arc::clone(&metrics), routes.clone()).await {
        Ok(server) => Ok(server),
        Err(_) => MetricsServer::start_with(SocketAddr::from(([127, 0, 0, 1], 0)), metrics, routes)
            .await
            .context("rApp web page: cannot listen on loopback"),
    }
}

/// Keeps the servers up for `seconds` (or until Ctrl-C / SIGTERM), the KPIs flowing to the
/// live page from a KPI stream subscription of its own.
async fn hold(live: &Arc<LiveHub>, job: &RappJob, addr: SocketAddr, seconds: f64) {
    println!("holding for {seconds} s: live page http://{addr}/ (Ctrl-C to stop)");
    let follower = {
        let live = Arc::clone(live);
        let endpoint = job.kpi_url.clone();
        let auth = job.auth.clone();
        let timeout = job.connect_timeout;
        tokio::spawn(async move {
            if let Err(e) = web::follow_kpis(live, &endpoint, &auth, timeout).await {
                tracing::warn!(error = %e, "live page: KPI stream ended");
            }
        })
    };
    tokio::select! {
        _ = tokio::time::sleep(Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX)) => {}
        _ = super::xapp::shutdown_signal() => {}
    }
    follower.abort();
}

//! `maestro rapp`: one pass of the rApp against a running xApp's KPI stream, its consensus
//! going to the xApp or to any A1 peer (`--a1-adapter`: an A1-P v2 termination or a Non-RT
//! RIC PMS; see `cmd::a1` for the settings' precedence).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use maestro_api::shard::Shard;
use maestro_rapp::cells::{run_cells, CellsJob, XappEndpoint};
use maestro_rapp::metrics::{MetricsServer, RappMetrics, DEFAULT_METRICS_ADDR};
use maestro_rapp::run::{run_live, RappJob};
use maestro_rapp::scenario::CellSelection;
use maestro_rapp::scenario::Scenario;
use maestro_rapp::web::LiveHub;

use super::report;

/// Options of `maestro rapp`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    maestro rapp --a1-url http://127.0.0.1:8080 --kpi-url http://127.0.0.1:50051 --report r.json\n  \
    maestro rapp --scenario config/scenario.json --regulations config/regulations\n  \
    maestro rapp --keep-serving                    # then serve the live page and /metrics on :9102\n  \
    maestro rapp --a1-adapter nonrtric_pms --a1-url http://pms:8081 --a1-ric-id ric1\n  \
    MAESTRO_TOKEN=$(cat token) maestro rapp --a1-url https://xapp:8080 --tls-ca ca.pem\n  \
    maestro rapp --cells every                     # one negotiation per cell the KPI stream reports\n  \
    maestro rapp --cells 001-01-0000000001,001-01-0000000002\n  \
    maestro rapp --a1-url http://x0:8080,http://x1:8080 --kpi-url http://x0:50051,http://x1:50051 \\\n  \
                 --cells every --shard 0/2         # two xApp shards; this rApp negotiates half the cells")]
pub struct RappArgs {
    /// Base URL of the A1 peer (the xApp, any A1-P v2 termination, or a Non-RT RIC PMS with
    /// --a1-adapter nonrtric_pms); overrides the scenario's "a1" block
    /// [default: http://127.0.0.1:8080]. With several xApps (shards of the RAN), one per xApp,
    /// repeated or comma-separated, in the order of --kpi-url.
    #[arg(long, env = "MAESTRO_A1_URL", value_delimiter = ',')]
    pub a1_url: Vec<String>,
    /// Which A1 peer the consensus goes to (flags > MAESTRO_A1_* > scenario "a1" block).
    #[command(flatten)]
    pub a1_peer: super::a1::A1PeerArgs,
    /// gRPC endpoint of the xApp's KPI stream; with several xApps, one per xApp (repeated or
    /// comma-separated, paired with --a1-url by position).
    #[arg(long, default_value = "http://127.0.0.1:50051", value_delimiter = ',')]
    pub kpi_url: Vec<String>,
    /// One negotiation per cell, concurrently, each cell's policies scoped to it: `every` cell
    /// the KPI streams report, or cell ids separated by commas. Overrides the scenario's
    /// "cells". Absent (and not in the scenario): the RAN as one cell.
    #[arg(long, value_name = "every|CELL,...")]
    pub cells: Option<CellSelection>,
    /// This rApp's shard of the cells, INDEX/COUNT (e.g. 0/3 of three rApp replicas): it
    /// negotiates only the cells the shard rule gives it (FNV-1a of the cell id mod COUNT, as
    /// the xApp's shards). Implies one negotiation per cell (`--cells every` unless given).
    #[arg(long, env = "MAESTRO_SHARD", value_name = "INDEX/COUNT")]
    pub shard: Option<Shard>,
    /// With many cells: seconds to listen to the KPI streams for cells before negotiating (it
    /// ends sooner, once a cell reports a second time after the first second).
    #[arg(long, default_value_t = 5.0)]
    pub discovery: f64,
    /// With many cells: a cell whose renegotiation trigger fires while its consensus is
    /// watched (unachievable, or far below what the cell can carry, for 3 s of gNB time)
    /// negotiates again, up to this many times.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub renegotiate: u32,
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
    /// Credentials for a secured xApp.
    #[command(flatten)]
    pub auth: super::auth::ClientAuthArgs,
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
    /// Directory of the rApp's transcript store (`maestro transcripts list --data-dir DIR`).
    #[arg(long, value_name = "DIR", default_value = "maestro-rapp-state")]
    pub data_dir: PathBuf,
    /// Serve the live page (/), Prometheus /metrics and /ric/v1/health/{alive,ready} here (figures of the last
    /// completed pass). Without the option the default address is tried and skipped with a
    /// warning when taken; a given address must bind [default: 127.0.0.1:9102].
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<SocketAddr>,
    /// After the pass, keep serving /metrics and health until Ctrl-C or SIGTERM (as a
    /// Deployment runs it, so Prometheus can scrape the outcome).
    #[arg(long)]
    pub keep_serving: bool,
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
    let mut scenario = load_scenario(args.scenario.as_deref())?;
    let a1 = args.a1_peer.resolve(
        args.a1_url.first().map(String::as_str),
        scenario.a1.as_ref(),
    );
    a1.validate()?;
    let a1_url = a1.url_or_default().to_owned();
    scenario.a1 = Some(a1);
    let xapps = xapp_endpoints(&args.a1_url, &a1_url, &args.kpi_url)?;
    let cells = args
        .cells
        .clone()
        .or_else(|| scenario.cells.clone())
        .or_else(|| args.shard.map(|_| CellSelection::EVERY));
    if let Some(Err(e)) = cells.as_ref().map(CellSelection::check) {
        anyhow::bail!("--{e}");
    }
    let job = RappJob {
        a1_url,
        kpi_url: xapps[0].kpi_url.clone(),
        llm: super::llm_choice_with(args.llm, scenario.seed, args.gguf.as_deref())?,
        scenario,
        observe_s: seconds("observe", args.observe)?,
        connect_timeout: Duration::from_secs_f64(seconds("connect-timeout", args.connect_timeout)?),
        regulations: args.regulations,
        transcripts: Some(args.data_dir),
        auth: args.auth.to_auth(),
        cell: None,
    };
    if cells.is_none() && xapps.len() > 1 {
        anyhow::bail!(
            "{} xApps given: say which cells to negotiate (--cells every, or a list)",
            xapps.len()
        );
    }
    let metrics = Arc::new(RappMetrics::new().context("rApp metrics")?);
    let live = Arc::new(LiveHub::new());
    let server = start_metrics(args.metrics_addr, Arc::clone(&metrics), Arc::clone(&live)).await?;
    let exit = match cells {
        Some(cells) => {
            let job = CellsJob {
                pass: job,
                xapps,
                cells,
                shard: args.shard.unwrap_or_default(),
                discovery: Duration::from_secs_f64(seconds("discovery", args.discovery)?),
                renegotiations: args.renegotiate,
            };
            let result = run_cells(&job, Some(&live))
                .await
                .context("rApp pass failed")?;
            for pass in result.cells.iter().filter_map(|c| c.report.as_ref()) {
                metrics.record(pass);
            }
            report::print_cells_table(&result);
            if let Some(path) = &args.report {
                report::write_json(&result, path)?;
            }
            report::cells_exit_code(&result)
        }
        None => {
            let result = run_live(&job, Some(&live))
                .await
                .context("rApp pass failed")?;
            metrics.record(&result);
            report::print_table(&result);
            if let Some(path) = &args.report {
                report::write_json(&result, path)?;
            }
            report::exit_code(&result)
        }
    };
    if let Some(server) = server {
        if args.keep_serving {
            println!(
                "rApp pass done; serving http://{}/metrics until Ctrl-C or SIGTERM",
                server.addr
            );
            super::xapp::shutdown_signal().await;
        }
        live.close();
        server.shutdown().await;
    }
    Ok(exit)
}

/// The xApps to talk to: `kpi_urls` paired by position with `a1_urls` (or, with one KPI
/// stream, the resolved A1 peer `a1_url`).
fn xapp_endpoints(
    a1_urls: &[String],
    a1_url: &str,
    kpi_urls: &[String],
) -> anyhow::Result<Vec<XappEndpoint>> {
    match (a1_urls.len(), kpi_urls.len()) {
        (_, 0) => anyhow::bail!("--kpi-url: give at least one KPI stream"),
        (0 | 1, 1) => Ok(vec![XappEndpoint {
            a1_url: a1_url.to_owned(),
            kpi_url: kpi_urls[0].clone(),
        }]),
        (a, k) if a == k => Ok(a1_urls
            .iter()
            .zip(kpi_urls)
            .map(|(a1, kpi)| XappEndpoint {
                a1_url: a1.clone(),
                kpi_url: kpi.clone(),
            })
            .collect()),
        (a, k) => anyhow::bail!(
            "{k} --kpi-url but {a} --a1-url: give one A1 URL per xApp, in the same order"
        ),
    }
}

/// Starts the rApp's HTTP server (metrics, health and the live page): on `addr` (an error
/// when it cannot bind), or on the default address (a warning and no server when it is taken).
async fn start_metrics(
    addr: Option<SocketAddr>,
    metrics: Arc<RappMetrics>,
    live: Arc<LiveHub>,
) -> anyhow::Result<Option<MetricsServer>> {
    let page = maestro_rapp::web::router(live);
    let server = match addr {
        Some(addr) => MetricsServer::start_with(addr, metrics, page)
            .await
            .with_context(|| format!("--metrics-addr {addr}: cannot listen"))?,
        None => {
            let addr: SocketAddr = DEFAULT_METRICS_ADDR.parse()?;
            match MetricsServer::start_with(addr, metrics, page).await {
                Ok(server) => server,
                Err(e) => {
                    tracing::warn!(%addr, error = %e, "rApp metrics not served (address taken)");
                    return Ok(None);
                }
            }
        }
    };
    println!("rApp web page: http://{}/", server.addr);
    println!("rApp metrics: http://{}/metrics", server.addr);
    println!(
        "rApp health : http://{}/ric/v1/health/alive, /ric/v1/health/ready",
        server.addr
    );
    Ok(Some(server))
}

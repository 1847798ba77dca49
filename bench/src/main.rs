//! `maestro-bench`: the xApp's performance figures, measured on this machine and printed.
//! This file parses the command line; [`run`] runs the chosen benchmark, one module per job:
//!
//! * `a1-latency` ([`a1_latency`]), `a1-throughput` ([`a1_throughput`]), `ingest`
//!   ([`ingest`]): the figures of the README;
//! * `a1-load` ([`a1_load`]), `kpi-fanout` ([`fanout`]), `soak` ([`soak`]): the load and soak
//!   figures of docs/RELIABILITY.md;
//! * `cells` ([`cells`]; the growth table and plot of `--sweep`: [`cells_plot`]): many cells,
//!   the figures of docs/BENCHMARKS.md;
//!
//! all of them on the one in-process xApp of [`harness`], with the histograms of [`stats`].

mod a1_latency;
mod a1_load;
mod a1_throughput;
mod cells;
mod cells_plot;
mod fanout;
mod harness;
mod heap;
mod ingest;
mod run;
mod soak;
mod stats;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser, ValueEnum};

/// Which figure to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Bench {
    /// All of them.
    All,
    /// A1 PUT -> E2 control latency, p50/p99.
    A1Latency,
    /// A1 PUT rate with many concurrent clients.
    A1Throughput,
    /// CQI report ingest rate of the controller.
    Ingest,
    /// Open-loop A1 PUT/GET at --rate req/s (or --find-max), latency from the due time.
    A1Load,
    /// --subscribers gRPC KPI subscribers, --ues UEs reported every --period-ms.
    KpiFanout,
    /// a1-load and kpi-fanout together for --minutes, RSS sampled; fails when not flat.
    Soak,
    /// --cells emulated cells (--slices x --ues UEs per slice each) on --shards xApps: CPU per
    /// cell-period, A1 -> control, cell-filtered KPI delivery, peak RSS; --sweep for a table.
    Cells,
}

/// Measure the MAESTRO xApp on this machine: A1 PUT -> E2 control latency, A1 PUT rate with
/// many clients, CQI report ingest rate, open-loop A1 load, KPI stream fan-out, soak. Prints
/// the figures (and writes them as JSON).
#[derive(Debug, Parser)]
#[command(name = "maestro-bench", version)]
#[command(after_help = "Examples:\n  \
    maestro-bench                         # every figure, defaults\n  \
    maestro-bench a1-latency --puts 5000\n  \
    maestro-bench a1-throughput --clients 128 --seconds 10\n  \
    maestro-bench ingest --ues 1000 --json bench.json\n  \
    maestro-bench a1-load --rate 1000 --seconds 10\n  \
    maestro-bench a1-load --find-max --rate 250      # highest rate with p99 < 10 ms\n  \
    maestro-bench a1-load --url http://127.0.0.1:8080 --rate 200   # an external xApp\n  \
    maestro-bench kpi-fanout --subscribers 100 --ues 1000 --period-ms 10 --seconds 30\n  \
    maestro-bench soak --minutes 10 --json soak.json\n  \
    maestro-bench cells --cells 100 --slices 2 --ues 10 --period-ms 100 --seconds 30\n  \
    maestro-bench cells --cells 1000 --shards 4\n  \
    maestro-bench cells --sweep 10,50,100,250,500,1000 --svg cells.svg\n\n\
    `maestro bench ARGS` runs this binary. Build with --release for figures worth quoting:\n\
    cargo run --release -p maestro-bench -- a1-latency")]
pub struct BenchArgs {
    /// Which figure [default: all].
    #[arg(value_enum, default_value = "all")]
    pub bench: Bench,
    /// a1-latency: PUTs to time.
    #[arg(long, default_value_t = 1000)]
    pub puts: usize,
    /// a1-throughput: concurrent A1 clients.
    #[arg(long, default_value_t = 64)]
    pub clients: usize,
    /// a1-throughput and ingest: how long to run, s.
    #[arg(long, default_value_t = 5.0)]
    pub seconds: f64,
    /// ingest: UEs per CQI report (spread over the slices).
    #[arg(long, default_value_t = 1000)]
    pub ues: usize,
    /// ingest: slices of the cell.
    #[arg(long, default_value_t = 4)]
    pub slices: usize,
    /// Directory for the benchmark xApp's store [default: a fresh temporary one].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Also write the figures as JSON here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// a1-load: load this xApp (`http://host:port`) instead of one started in-process (give it
    /// A1 write limits above --rate: the default is 200 writes/s per client).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// a1-load with --url: bearer token for the xApp.
    #[arg(long, env = "MAESTRO_A1_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// a1-load, soak: A1 requests per second (the start rate with --find-max).
    #[arg(long, default_value_t = 500.0)]
    pub rate: f64,
    /// a1-load: step the rate up by x1.5 until p99 reaches --p99-target-ms (or a request
    /// fails); each step runs --seconds.
    #[arg(long)]
    pub find_max: bool,
    /// a1-load --find-max: the p99 a rate must stay under, ms.
    #[arg(long, default_value_t = 10.0)]
    pub p99_target_ms: f64,
    /// a1-load --find-max: highest rate tried.
    #[arg(long, default_value_t = 50_000.0)]
    pub max_rate: f64,
    /// a1-load, soak: share of PUTs in the A1 load (the rest are GETs).
    #[arg(long, default_value_t = 0.5)]
    pub put_share: f64,
    /// a1-load, soak: distinct policies the A1 load cycles through, one per slice (SST 1,
    /// SD 1..=N; the in-process xApp's cell gets N slices; an external xApp must serve them:
    /// its built-in emulated gNB serves SD 1 and 2).
    #[arg(long, default_value_t = 16)]
    pub policies: usize,
    /// kpi-fanout, soak: concurrent KPI stream subscribers.
    #[arg(long, default_value_t = 100)]
    pub subscribers: usize,
    /// kpi-fanout, soak: E2 report period of the emulated cell, ms.
    #[arg(long, default_value_t = 10)]
    pub period_ms: u64,
    /// soak: length, minutes (warm-up included).
    #[arg(long, default_value_t = 10.0)]
    pub minutes: f64,
    /// soak: warm-up leg before the first quiet reading, s [default: 10% of the soak, 5..60 s].
    #[arg(long)]
    pub warmup_seconds: Option<f64>,
    /// soak: RSS sampling period, s.
    #[arg(long, default_value_t = 5.0)]
    pub sample_seconds: f64,
    /// soak: largest growth of the heap in use over the soak leg still called flat, % of the
    /// heap after the warm-up, both read with no load (exit 1 above it).
    #[arg(long, default_value_t = 10.0)]
    pub max_drift_pct: f64,
    /// soak, self-test: leak this many KiB a second on purpose, to see the soak say NOT flat.
    #[arg(long, value_name = "KIB", default_value_t = 0.0)]
    pub inject_leak_kib_per_s: f64,
    /// a1-load, soak: exit 1 when the A1 p99 is above this, ms (or a request fails).
    #[arg(long, value_name = "MS")]
    pub assert_p99_ms: Option<f64>,
    /// kpi-fanout, soak: exit 1 when fewer than this % of the reports reached subscribers.
    #[arg(long, value_name = "PCT")]
    pub assert_delivered_pct: Option<f64>,
    /// cells: emulated cells in all (for cells, --ues is per slice per cell [default 10],
    /// --slices per cell [2], --period-ms [100], --subscribers per xApp, each filtering one
    /// cell [4], --seconds measured [30]).
    #[arg(long, default_value_t = 100)]
    pub cells: u32,
    /// cells: xApps in this process, each serving --cells / --shards cells.
    #[arg(long, default_value_t = 1)]
    pub shards: u32,
    /// cells: run once per cell count given (e.g. 10,50,100) and print the growth table.
    #[arg(long, value_delimiter = ',', value_name = "CELLS,...")]
    pub sweep: Vec<u32>,
    /// cells --sweep: also write the growth plot (CPU and RSS vs cells) as SVG here.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
}

impl BenchArgs {
    /// Parses the command line; `cells` gets its own defaults for the options it shares.
    fn parse_with_defaults() -> Self {
        let matches = Self::command().get_matches();
        let mut args = match Self::from_arg_matches(&matches) {
            Ok(a) => a,
            Err(e) => e.exit(),
        };
        if args.bench == Bench::Cells {
            let default = |id: &str| matches.value_source(id) == Some(ValueSource::DefaultValue);
            if default("ues") {
                args.ues = 10;
            }
            if default("slices") {
                args.slices = 2;
            }
            if default("period_ms") {
                args.period_ms = 100;
            }
            if default("subscribers") {
                args.subscribers = 4;
            }
            if default("seconds") {
                args.seconds = 30.0;
            }
        }
        args
    }
}

fn main() -> ExitCode {
    let args = BenchArgs::parse_with_defaults();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("maestro-bench: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run::run(args)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("maestro-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

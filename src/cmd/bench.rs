//! `maestro bench`: the xApp's performance figures, measured on this machine and printed.
//!
//! * `a1-latency`: one A1 client PUTs a slice policy whose target alternates between a low and
//!   a high rate; each sample is the time from sending the PUT to the E2SM-RC control with the
//!   new quota reaching the emulated gNB (the path a testbed user waits on).
//! * `a1-throughput`: many concurrent A1 clients PUT updates for a while over loopback; every
//!   2xx is a policy committed to the durable store.
//! * `ingest`: the controller's cost per CQI report, single-threaded: per-UE CQI samples
//!   ingested per second (report -> quotas and statuses -> KPI report).
//! * `a1-load`, `kpi-fanout`, `soak`: the load and soak figures of docs/RELIABILITY.md
//!   (open-loop A1 PUT/GET, KPI stream subscribers, RSS over minutes); see
//!   [`super::bench_a1load`], [`super::bench_fanout`] and [`super::bench_soak`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use maestro_api::a1::{policy_path, SLICE_SLA_TARGET_TYPE};
use maestro_e2sm::rc::{ControlOutcome, RrmPolicyMember, SlicePrbQuotaControl};
use maestro_e2sm::report::{CellMeasurement, SliceMeasurement, UeMeasurement};
use maestro_xapp::a1::limit::A1Limits;
use maestro_xapp::config::{E2Config, XappConfig};
use maestro_xapp::controller::{Controller, LoopTuning, Priority, SliceTarget};
use maestro_xapp::e2::emulator::{EmulatedGnb, EmulatorConfig};
use maestro_xapp::e2::{BoxFuture, E2Backend, E2Error};
use maestro_xapp::kpi::cell_report;
use maestro_xapp::nr::CellConfig;
use maestro_xapp::store::PolicyKey;
use serde::Serialize;
use serde_json::json;
use tokio::sync::{broadcast, mpsc};

use super::bench_a1load::{self, A1Load};
use super::bench_fanout;
use super::bench_harness::{bench_slices, CellLoad, XappUnderLoad};
use super::bench_soak::{self, Soak};

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
}

/// Options of `maestro bench`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    maestro bench                         # every figure, defaults\n  \
    maestro bench a1-latency --puts 5000\n  \
    maestro bench a1-throughput --clients 128 --seconds 10\n  \
    maestro bench ingest --ues 1000 --json bench.json\n  \
    maestro bench a1-load --rate 1000 --seconds 10\n  \
    maestro bench a1-load --find-max --rate 250      # highest rate with p99 < 10 ms\n  \
    maestro bench a1-load --url http://127.0.0.1:8080 --rate 200   # an external xApp\n  \
    maestro bench kpi-fanout --subscribers 100 --ues 1000 --period-ms 10 --seconds 30\n  \
    maestro bench soak --minutes 10 --json soak.json\n\n\
    Build with --release for figures worth quoting: cargo run --release -- bench")]
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
    /// soak: warm-up before the start RSS, s [default: 10% of the soak, 5..60 s].
    #[arg(long)]
    pub warmup_seconds: Option<f64>,
    /// soak: RSS sampling period, s.
    #[arg(long, default_value_t = 5.0)]
    pub sample_seconds: f64,
    /// soak: largest RSS growth after the warm-up still called flat, % (exit 1 above it).
    #[arg(long, default_value_t = 10.0)]
    pub max_drift_pct: f64,
    /// a1-load, soak: exit 1 when the A1 p99 is above this, ms (or a request fails).
    #[arg(long, value_name = "MS")]
    pub assert_p99_ms: Option<f64>,
    /// kpi-fanout, soak: exit 1 when fewer than this % of the reports reached subscribers.
    #[arg(long, value_name = "PCT")]
    pub assert_delivered_pct: Option<f64>,
}

/// Latency figures, milliseconds.
#[derive(Debug, Serialize)]
pub struct Latency {
    /// Samples.
    pub samples: usize,
    /// Median.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Worst.
    pub max_ms: f64,
    /// Median time to the PUT's 2xx response (store commit included).
    pub response_p50_ms: f64,
    /// 99th percentile of the time to the 2xx response.
    pub response_p99_ms: f64,
    /// Every PUT -> control sample, ms, in the order the PUTs were sent.
    pub control_samples_ms: Vec<f64>,
    /// Every PUT -> 2xx sample, ms, same order.
    pub response_samples_ms: Vec<f64>,
}

/// Throughput figures.
#[derive(Debug, Serialize)]
pub struct Throughput {
    /// Concurrent clients.
    pub clients: usize,
    /// Committed PUTs (2xx) per second.
    pub puts_per_second: f64,
    /// 2xx answers.
    pub ok: u64,
    /// Other answers or transport failures.
    pub failed: u64,
    /// Per-request p99 under this load, ms.
    pub p99_ms: f64,
}

/// Ingest figures.
#[derive(Debug, Serialize)]
pub struct Ingest {
    /// UEs per report.
    pub ues_per_report: usize,
    /// Slices.
    pub slices: usize,
    /// Reports per second.
    pub reports_per_second: f64,
    /// Per-UE CQI samples per second.
    pub ue_samples_per_second: f64,
}

/// Everything measured in one run.
#[derive(Debug, Default, Serialize)]
pub struct Figures {
    /// A1 PUT -> control.
    pub a1_latency: Option<Latency>,
    /// A1 PUT rate.
    pub a1_throughput: Option<Throughput>,
    /// CQI ingest.
    pub ingest: Option<Ingest>,
    /// Open-loop A1 load (one run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub a1_load: Option<bench_a1load::A1LoadFigures>,
    /// Open-loop A1 load, the steps of --find-max.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub a1_load_steps: Option<Vec<bench_a1load::RateStep>>,
    /// KPI stream fan-out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kpi_fanout: Option<bench_fanout::FanoutFigures>,
    /// Soak.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub soak: Option<bench_soak::SoakFigures>,
}

/// Runs the chosen benchmarks and prints their figures.
pub async fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    if !(args.seconds > 0.0 && args.seconds <= 3600.0) {
        bail!("--seconds must be in (0, 3600], got {}", args.seconds);
    }
    if args.puts == 0 || args.clients == 0 || args.ues == 0 || args.slices == 0 {
        bail!("--puts, --clients, --ues and --slices must be at least 1");
    }
    if cfg!(debug_assertions) {
        eprintln!("maestro bench: this is a debug build; quote figures from --release only");
    }
    if matches!(args.bench, Bench::A1Load | Bench::KpiFanout | Bench::Soak) {
        return load(&args).await;
    }
    let mut figures = Figures::default();
    let all = args.bench == Bench::All;
    if all || args.bench == Bench::Ingest {
        let f = tokio::task::spawn_blocking({
            let (ues, slices, seconds) = (args.ues, args.slices, args.seconds);
            move || ingest(ues, slices, seconds)
        })
        .await
        .context("ingest benchmark")?;
        println!(
            "ingest        {:>12.0} UE-samples/s  ({:.0} reports/s of {} UEs in {} slices, one core)",
            f.ue_samples_per_second, f.reports_per_second, f.ues_per_report, f.slices
        );
        figures.ingest = Some(f);
    }
    if all || args.bench == Bench::A1Latency || args.bench == Bench::A1Throughput {
        let bench = XappUnderBench::start(args.data_dir.clone()).await?;
        if all || args.bench == Bench::A1Latency {
            let f = bench.latency(args.puts).await?;
            println!(
                "a1-latency    PUT -> E2 control p50 {:.3} ms  p99 {:.3} ms  max {:.3} ms  \
                 (2xx p50 {:.3} ms p99 {:.3} ms; {} PUTs)",
                f.p50_ms, f.p99_ms, f.max_ms, f.response_p50_ms, f.response_p99_ms, f.samples
            );
            figures.a1_latency = Some(f);
        }
        if all || args.bench == Bench::A1Throughput {
            let f = bench.throughput(args.clients, args.seconds).await?;
            println!(
                "a1-throughput {:>12.0} PUT/s committed  ({} clients, p99 {:.3} ms, {} ok, {} failed)",
                f.puts_per_second, f.clients, f.p99_ms, f.ok, f.failed
            );
            figures.a1_throughput = Some(f);
        }
        bench.stop().await;
    }
    write_json(args.json.as_deref(), &figures)?;
    Ok(ExitCode::SUCCESS)
}

fn write_json(path: Option<&std::path::Path>, figures: &Figures) -> anyhow::Result<()> {
    if let Some(path) = path {
        let text = serde_json::to_string_pretty(figures)?;
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// `a1-load`, `kpi-fanout` and `soak`: the xApp in-process (or `--url`), the load, the
/// figures, and exit 1 when an `--assert-*` limit or the soak's drift limit is exceeded.
async fn load(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    if args.subscribers == 0 || args.policies == 0 || args.period_ms == 0 {
        bail!("--subscribers, --policies and --period-ms must be at least 1");
    }
    if !(args.minutes > 0.0 && args.minutes <= 24.0 * 60.0) {
        bail!("--minutes must be in (0, 1440], got {}", args.minutes);
    }
    if !(args.rate > 0.0 && args.rate.is_finite()) {
        bail!("--rate must be > 0, got {}", args.rate);
    }
    if !(0.0..=1.0).contains(&args.put_share) {
        bail!("--put-share must be in [0, 1], got {}", args.put_share);
    }
    if args.url.is_some() && args.bench != Bench::A1Load {
        bail!("--url works with a1-load only (kpi-fanout and soak time the in-process xApp)");
    }
    let cell = CellLoad {
        ues: u32::try_from(args.ues).context("--ues is too large")?,
        slices: u32::try_from(args.policies).context("--policies is too large")?,
        period_ms: args.period_ms,
    };
    let xapp = match &args.url {
        Some(_) => None,
        None => Some(XappUnderLoad::start(&cell, args.data_dir.clone()).await?),
    };
    let outcome = load_on(args, &cell, xapp.as_ref()).await;
    if let Some(x) = xapp {
        x.stop().await;
    }
    let (figures, mut ok) = outcome?;
    write_json(args.json.as_deref(), &figures)?;
    if let (Some(limit), Some(f)) = (args.assert_delivered_pct, &figures.kpi_fanout) {
        if f.delivered_pct < limit {
            eprintln!("kpi-fanout: {:.2}% delivered < {limit}%", f.delivered_pct);
            ok = false;
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The chosen load mode's figures, and whether its limits held.
async fn load_on(
    args: &BenchArgs,
    cell: &CellLoad,
    xapp: Option<&XappUnderLoad>,
) -> anyhow::Result<(Figures, bool)> {
    let mut figures = Figures::default();
    let a1 = A1Load {
        url: match (&args.url, xapp) {
            (Some(u), _) => u.clone(),
            (None, Some(x)) => x.http.clone(),
            (None, None) => bail!("no xApp to load"),
        },
        token: args.token.clone(),
        slices: xapp.map_or_else(|| bench_slices(args.policies as u32), |x| x.slices.clone()),
        rate: args.rate,
        seconds: args.seconds,
        put_share: args.put_share,
        policies: args.policies,
        max_in_flight: 512,
    };
    let a1_ok = |f: &bench_a1load::A1LoadFigures| match args.assert_p99_ms {
        Some(limit) if f.all.p99_ms > limit || f.failed() > 0 => {
            eprintln!(
                "a1-load: p99 {:.2} ms (limit {limit} ms), {} failed",
                f.all.p99_ms,
                f.failed()
            );
            false
        }
        _ => true,
    };
    let mut ok = true;
    match args.bench {
        Bench::A1Load => {
            a1.prepare().await?;
            if args.find_max {
                let steps =
                    bench_a1load::find_max(&a1, args.p99_target_ms, args.max_rate, 1.5).await?;
                match steps.iter().rev().find(|s| s.held) {
                    Some(best) => println!(
                        "a1-load       held {:.0} req/s with p99 {:.2} ms < {} ms (PUT p99 {:.2} ms,                          GET p99 {:.2} ms)",
                        best.figures.achieved_rate,
                        best.figures.all.p99_ms,
                        args.p99_target_ms,
                        best.figures.put.p99_ms,
                        best.figures.get.p99_ms
                    ),
                    None => {
                        println!(
                            "a1-load       no rate held p99 < {} ms (started at {} req/s)",
                            args.p99_target_ms, args.rate
                        );
                        ok = false;
                    }
                }
                figures.a1_load_steps = Some(steps);
            } else {
                let f = a1.run().await?;
                println!("a1-load       {}", f.line());
                ok &= a1_ok(&f);
                figures.a1_load = Some(f);
            }
        }
        Bench::KpiFanout => {
            let x = xapp.context("kpi-fanout needs the in-process xApp")?;
            let f = bench_fanout::run(x, cell, args.subscribers, args.seconds).await?;
            println!("kpi-fanout    {}", f.line());
            figures.kpi_fanout = Some(f);
        }
        Bench::Soak => {
            let x = xapp.context("soak needs the in-process xApp")?;
            a1.prepare().await?;
            let seconds = args.minutes * 60.0;
            let soak = Soak {
                seconds,
                warmup_seconds: args
                    .warmup_seconds
                    .unwrap_or((seconds * 0.1).clamp(5.0, 60.0)),
                sample_seconds: args.sample_seconds,
                subscribers: args.subscribers,
                max_drift_pct: args.max_drift_pct,
            };
            if soak.warmup_seconds >= seconds {
                bail!("--warmup-seconds must be shorter than the soak");
            }
            let f = bench_soak::run(x, cell, &a1, &soak).await?;
            println!("soak a1       {}", f.a1.line());
            println!("soak kpi      {}", f.kpi.line());
            println!("soak rss      {}", f.line());
            ok &= a1_ok(&f.a1);
            ok &= f.flat;
            figures.kpi_fanout = Some(f.kpi.clone());
            figures.soak = Some(f);
        }
        _ => bail!("not a load benchmark"),
    }
    Ok((figures, ok))
}

/// The `ingest` figure: `decide` + KPI report per synthetic measurement, one thread.
fn ingest(ues: usize, slices: usize, seconds: f64) -> Ingest {
    let cell = CellConfig::oai_40mhz();
    let served: Vec<RrmPolicyMember> = (0..slices)
        .map(|i| RrmPolicyMember {
            mcc: "001".into(),
            mnc: "01".into(),
            sst: 1,
            sd: Some(i as u32 + 1),
        })
        .collect();
    let targets: Vec<SliceTarget> = served
        .iter()
        .enumerate()
        .map(|(i, member)| SliceTarget {
            policy: PolicyKey::new(SLICE_SLA_TARGET_TYPE, &format!("bench-{i}")),
            member: member.clone(),
            target_bps: 10e6,
            priority: Priority::Guaranteed,
        })
        .collect();
    // A handful of distinct reports so the CQI mix moves like a drive would.
    let reports: Vec<CellMeasurement> = (0..16u64)
        .map(|k| measurement(&served, ues, k, cell.n_prb))
        .collect();
    let mut controller = Controller::new(LoopTuning::default());
    let started = Instant::now();
    let budget = Duration::from_secs_f64(seconds);
    let mut n = 0u64;
    let mut sink = 0usize;
    while started.elapsed() < budget {
        for m in &reports {
            let decision = controller.decide(&cell, m, &served, &targets);
            let report = cell_report(&cell, m, &decision);
            sink = sink.wrapping_add(report.slices.len());
            n += 1;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    std::hint::black_box(sink);
    let reports_per_second = n as f64 / elapsed;
    Ingest {
        ues_per_report: ues,
        slices,
        reports_per_second,
        ue_samples_per_second: reports_per_second * ues as f64,
    }
}

/// A report with `ues` UEs spread over the slices; CQIs vary with `k`.
fn measurement(served: &[RrmPolicyMember], ues: usize, k: u64, n_prb: u16) -> CellMeasurement {
    let per_slice = ues.div_ceil(served.len());
    let mut id = 0u32;
    let slices = served
        .iter()
        .map(|member| {
            let count = per_slice.min(ues - id as usize);
            let ues = (0..count)
                .map(|_| {
                    id += 1;
                    UeMeasurement {
                        ue_id: id,
                        wb_cqi: (3 + (id as u64 * 7 + k * 3) % 13) as u8,
                        mcs: 10,
                        prbs: 1.0,
                        dl_throughput_bps: 3e6,
                    }
                })
                .collect::<Vec<_>>();
            SliceMeasurement {
                member: member.clone(),
                prb_quota: n_prb / served.len() as u16,
                prb_used: 20.0,
                dl_throughput_bps: 3e6 * ues.len() as f64,
                ues,
            }
        })
        .collect();
    CellMeasurement {
        sequence: k,
        time_ms: k * 100,
        period_ms: 100,
        cell_id: "bench".into(),
        n_prb,
        slices,
    }
}

/// The emulated gNB, with every control it receives timestamped for the benchmark.
struct ObservedGnb {
    inner: Arc<EmulatedGnb>,
    seen: mpsc::UnboundedSender<(Instant, SlicePrbQuotaControl)>,
}

impl E2Backend for ObservedGnb {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn cell(&self) -> &CellConfig {
        self.inner.cell()
    }
    fn slices(&self) -> &[RrmPolicyMember] {
        self.inner.slices()
    }
    fn subscribe(&self) -> broadcast::Receiver<Arc<CellMeasurement>> {
        self.inner.subscribe()
    }
    fn control(
        &self,
        control: SlicePrbQuotaControl,
    ) -> BoxFuture<'_, Result<ControlOutcome, E2Error>> {
        let _ = self.seen.send((Instant::now(), control.clone()));
        self.inner.control(control)
    }
}

/// An in-process xApp on loopback with an observed emulated gNB.
struct XappUnderBench {
    xapp: maestro_xapp::RunningXapp,
    base: String,
    controls: tokio::sync::Mutex<mpsc::UnboundedReceiver<(Instant, SlicePrbQuotaControl)>>,
    slice: RrmPolicyMember,
    temporary: Option<PathBuf>,
}

impl XappUnderBench {
    async fn start(data_dir: Option<PathBuf>) -> anyhow::Result<Self> {
        let (state_dir, temporary) = match data_dir {
            Some(d) => (d, None),
            None => {
                let d = std::env::temp_dir().join(format!("maestro-bench-{}", std::process::id()));
                (d.clone(), Some(d))
            }
        };
        let emulator = EmulatorConfig::default();
        let slice = emulator
            .slices
            .first()
            .map(|s| s.member.clone())
            .context("the emulated gNB has no slice")?;
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        let config = XappConfig {
            http_addr: loopback,
            grpc_addr: loopback,
            e2: E2Config::Emulated(emulator.clone()),
            // The benchmark is the only client: no write limit, room for every policy.
            a1: A1Limits {
                writes_per_second: 1e9,
                write_burst: u32::MAX,
                ..A1Limits::default()
            },
            ..XappConfig::loopback_defaults(state_dir)
        };
        let (seen, controls) = mpsc::unbounded_channel();
        let backend = Arc::new(ObservedGnb {
            inner: EmulatedGnb::start(emulator)?,
            seen,
        });
        let xapp = maestro_xapp::start_with_backend(config, backend).await?;
        let base = format!("http://{}", xapp.http_addr);
        // Wait for the first E2 report so the controller has CQIs to plan with.
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let ready = http
                .get(format!("{base}/ric/v1/health/ready"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                break;
            }
            if Instant::now() > deadline {
                bail!("the benchmark xApp did not become ready in 10 s");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(Self {
            xapp,
            base,
            controls: tokio::sync::Mutex::new(controls),
            slice,
            temporary,
        })
    }

    async fn stop(self) {
        self.xapp.shutdown().await;
        if let Some(d) = self.temporary {
            let _ = std::fs::remove_dir_all(d);
        }
    }

    fn body(&self, kbps: f64) -> serde_json::Value {
        json!({
            "scope": {"sliceId": {
                "sst": self.slice.sst,
                "sd": format!("{:06x}", self.slice.sd.unwrap_or(0)),
                "plmnId": {"mcc": self.slice.mcc, "mnc": self.slice.mnc}
            }},
            "sliceSlaObjectives": {"guaDlThptPerSlice": kbps, "maxDlThptPerSlice": kbps}
        })
    }

    /// Max PRB ratio the control gives the benchmark's slice.
    fn max_ratio(&self, control: &SlicePrbQuotaControl) -> Option<u8> {
        control
            .groups
            .iter()
            .find(|g| g.member == self.slice)
            .map(|g| g.max_prb_ratio)
    }

    async fn latency(&self, puts: usize) -> anyhow::Result<Latency> {
        let http = reqwest::Client::new();
        let url = format!(
            "{}{}",
            self.base,
            policy_path(SLICE_SLA_TARGET_TYPE, "bench-latency")
        );
        // 2 and 40 Mbps need clearly different quotas at any CQI the drive produces.
        let (low, high) = (2_000.0, 40_000.0);
        let mut to_control = Vec::with_capacity(puts);
        let mut to_response = Vec::with_capacity(puts);
        let mut controls = self.controls.lock().await;
        let (mut last_low, mut last_high): (Option<u8>, Option<u8>) = (None, None);
        for i in 0..=puts {
            let kbps = if i % 2 == 0 { low } else { high };
            while controls.try_recv().is_ok() {}
            let sent = Instant::now();
            let resp = http.put(&url).json(&self.body(kbps)).send().await?;
            let answered = Instant::now();
            if !resp.status().is_success() {
                bail!("PUT {url} answered {}", resp.status());
            }
            // The control that carries the new target: the first whose ratio for the slice is
            // on the new target's side of the midpoint between the last confirmed low and high
            // ratios (a periodic re-plan of the old target may slip in between; the two
            // targets are 20x apart, so their quotas are far apart at any CQI).
            let arrived = loop {
                let (at, control) = tokio::time::timeout(Duration::from_secs(2), controls.recv())
                    .await
                    .context("no E2 control within 2 s of a target change")?
                    .context("the E2 backend stopped")?;
                let Some(ratio) = self.max_ratio(&control) else {
                    continue;
                };
                let is_high = kbps == high;
                let carries_new_target = match (last_low, last_high) {
                    (Some(l), Some(h)) => {
                        let mid = (f64::from(l) + f64::from(h)) / 2.0;
                        (f64::from(ratio) > mid) == is_high
                    }
                    (Some(l), None) => is_high && ratio > l,
                    _ => true,
                };
                if carries_new_target {
                    if is_high {
                        last_high = Some(ratio);
                    } else {
                        last_low = Some(ratio);
                    }
                    break at;
                }
            };
            // The first PUT creates the policy and warms the connection: not a sample.
            if i > 0 {
                to_control.push(arrived.saturating_duration_since(sent));
                to_response.push(answered.duration_since(sent));
            }
        }
        let ms = |samples: &[Duration]| -> Vec<f64> {
            samples.iter().map(|d| d.as_secs_f64() * 1e3).collect()
        };
        let (control_samples_ms, response_samples_ms) = (ms(&to_control), ms(&to_response));
        Ok(Latency {
            samples: to_control.len(),
            p50_ms: quantile_ms(&mut to_control, 0.5),
            p99_ms: quantile_ms(&mut to_control, 0.99),
            max_ms: quantile_ms(&mut to_control, 1.0),
            response_p50_ms: quantile_ms(&mut to_response, 0.5),
            response_p99_ms: quantile_ms(&mut to_response, 0.99),
            control_samples_ms,
            response_samples_ms,
        })
    }

    async fn throughput(&self, clients: usize, seconds: f64) -> anyhow::Result<Throughput> {
        let url = format!(
            "{}{}",
            self.base,
            policy_path(SLICE_SLA_TARGET_TYPE, "bench-latency")
        );
        let until = Instant::now() + Duration::from_secs_f64(seconds);
        let started = Instant::now();
        let mut tasks = Vec::with_capacity(clients);
        for c in 0..clients {
            // One connection per client, like separate SMO instances.
            let http = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()?;
            let url = url.clone();
            let bodies = [
                self.body(5_000.0 + c as f64),
                self.body(15_000.0 + c as f64),
            ];
            tasks.push(tokio::spawn(async move {
                let (mut ok, mut failed, mut times) = (0u64, 0u64, Vec::new());
                let mut i = 0usize;
                while Instant::now() < until {
                    let t = Instant::now();
                    let sent = http.put(&url).json(&bodies[i % 2]).send().await;
                    i += 1;
                    match sent {
                        Ok(r) if r.status().is_success() => {
                            ok += 1;
                            times.push(t.elapsed());
                        }
                        _ => failed += 1,
                    }
                }
                (ok, failed, times)
            }));
        }
        let (mut ok, mut failed, mut times) = (0u64, 0u64, Vec::new());
        for t in tasks {
            let (o, f, ts) = t.await.context("a benchmark client panicked")?;
            ok += o;
            failed += f;
            times.extend(ts);
        }
        let elapsed = started.elapsed().as_secs_f64();
        Ok(Throughput {
            clients,
            puts_per_second: ok as f64 / elapsed,
            ok,
            failed,
            p99_ms: quantile_ms(&mut times, 0.99),
        })
    }
}

/// The `q` quantile of `samples` in ms (nearest rank); 0 when empty.
fn quantile_ms(samples: &mut [Duration], q: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples.sort_unstable();
    let rank = ((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
    samples[rank - 1].as_secs_f64() * 1e3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_quantiles() {
        let mut s: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(quantile_ms(&mut s, 0.5), 50.0);
        assert_eq!(quantile_ms(&mut s, 0.99), 99.0);
        assert_eq!(quantile_ms(&mut s, 1.0), 100.0);
        assert_eq!(quantile_ms(&mut [], 0.5), 0.0);
    }

    #[test]
    fn synthetic_reports_hold_every_ue_once() {
        let served: Vec<RrmPolicyMember> = (1..=3)
            .map(|sd| RrmPolicyMember {
                mcc: "001".into(),
                mnc: "01".into(),
                sst: 1,
                sd: Some(sd),
            })
            .collect();
        let m = measurement(&served, 1000, 5, 106);
        let n: usize = m.slices.iter().map(|s| s.ues.len()).sum();
        assert_eq!(n, 1000);
        assert!(m
            .slices
            .iter()
            .flat_map(|s| &s.ues)
            .all(|u| (3..=15).contains(&u.wb_cqi)));
    }
}

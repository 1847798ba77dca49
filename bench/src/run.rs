//! Runs the benchmarks the command line chose, prints each figure's line, writes them all as
//! JSON, and turns the `--assert-*` limits into the exit code.

use std::process::ExitCode;

use anyhow::{bail, Context};
use maestro_xapp::e2::emulator::EmulatorConfig;
use serde::Serialize;

use crate::a1_latency::{self, Latency};
use crate::a1_load::{self, A1Load};
use crate::a1_throughput::{self, Throughput};
use crate::cells::{self, CellsLoad};
use crate::fanout;
use crate::harness::{bench_slices, CellLoad, XappUnderLoad};
use crate::ingest::{self, Ingest};
use crate::soak::{self, Soak};
use crate::{Bench, BenchArgs};

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
    pub a1_load: Option<a1_load::A1LoadFigures>,
    /// Open-loop A1 load, the steps of --find-max.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub a1_load_steps: Option<Vec<a1_load::RateStep>>,
    /// KPI stream fan-out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kpi_fanout: Option<fanout::FanoutFigures>,
    /// Soak.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub soak: Option<soak::SoakFigures>,
    /// Many cells: one run per cell count.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cells: Vec<cells::CellsFigures>,
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
        eprintln!("maestro-bench: this is a debug build; quote figures from --release only");
    }
    if matches!(args.bench, Bench::A1Load | Bench::KpiFanout | Bench::Soak) {
        return load(&args).await;
    }
    if args.bench == Bench::Cells {
        return many_cells(&args).await;
    }
    let mut figures = Figures::default();
    let all = args.bench == Bench::All;
    if all || args.bench == Bench::Ingest {
        let f = tokio::task::spawn_blocking({
            let (ues, slices, seconds) = (args.ues, args.slices, args.seconds);
            move || ingest::run(ues, slices, seconds)
        })
        .await
        .context("ingest benchmark")?;
        println!("ingest        {}", f.line());
        figures.ingest = Some(f);
    }
    if all || args.bench == Bench::A1Latency || args.bench == Bench::A1Throughput {
        let xapp = XappUnderLoad::start(EmulatorConfig::default(), args.data_dir.clone()).await?;
        let outcome = a1_figures(&args, all, &xapp, &mut figures).await;
        xapp.stop().await;
        outcome?;
    }
    write_json(args.json.as_deref(), &figures)?;
    Ok(ExitCode::SUCCESS)
}

/// `a1-latency` and `a1-throughput` on `xapp`, printed and added to `figures`.
async fn a1_figures(
    args: &BenchArgs,
    all: bool,
    xapp: &XappUnderLoad,
    figures: &mut Figures,
) -> anyhow::Result<()> {
    if all || args.bench == Bench::A1Latency {
        let f = a1_latency::run(xapp, args.puts).await?;
        println!("a1-latency    {}", f.line());
        figures.a1_latency = Some(f);
    }
    if all || args.bench == Bench::A1Throughput {
        let f = a1_throughput::run(xapp, args.clients, args.seconds).await?;
        println!("a1-throughput {}", f.line());
        figures.a1_throughput = Some(f);
    }
    Ok(())
}

/// `cells`: one run, or one per cell count of `--sweep` with the growth table (and plot).
async fn many_cells(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    let counts = if args.sweep.is_empty() {
        vec![args.cells]
    } else {
        args.sweep.clone()
    };
    let mut figures = Figures::default();
    for cells in counts {
        let load = CellsLoad {
            cells,
            slices: u32::try_from(args.slices).context("--slices is too large")?,
            ues: u32::try_from(args.ues).context("--ues is too large")?,
            period_ms: args.period_ms,
            seconds: args.seconds,
            shards: args.shards,
            subscribers: args.subscribers,
        };
        let f = cells::run(&load).await?;
        for line in f.lines() {
            println!("cells         {line}");
        }
        figures.cells.push(f);
    }
    if figures.cells.len() > 1 {
        println!("\n{}", cells::TABLE_HEADER);
        for f in &figures.cells {
            println!("{}", f.table_row());
        }
    }
    if let Some(path) = &args.svg {
        let svg = crate::cells_plot::growth_svg(&figures.cells);
        std::fs::write(path, svg).with_context(|| format!("cannot write {}", path.display()))?;
    }
    write_json(args.json.as_deref(), &figures)?;
    Ok(ExitCode::SUCCESS)
}

/// Writes `figures` as pretty JSON to `path`, when given.
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
        None => Some(XappUnderLoad::start(cell.emulator(), args.data_dir.clone()).await?),
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
    let a1_ok = |f: &a1_load::A1LoadFigures| match args.assert_p99_ms {
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
                let steps = a1_load::find_max(&a1, args.p99_target_ms, args.max_rate, 1.5).await?;
                match steps.iter().rev().find(|s| s.held) {
                    Some(best) => println!(
                        "a1-load       held {:.0} req/s with p99 {:.2} ms < {} ms (PUT p99 {:.2} ms, \
                         GET p99 {:.2} ms)",
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
            let f = fanout::run(x, cell, args.subscribers, args.seconds).await?;
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
                leak_kib_per_s: args.inject_leak_kib_per_s,
            };
            if soak.warmup_seconds >= seconds {
                bail!("--warmup-seconds must be shorter than the soak");
            }
            let f = soak::run(x, cell, &a1, &soak).await?;
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

//! `maestro-bench cells`: the xApp serving many emulated cells (issue 20). N cells (each its
//! own emulated E2 node) with S slices each and U UEs per slice per cell report every period
//! on the real-time clock; one A1 policy per slice (over every cell). Measured, per xApp
//! (`--shards K`: K xApps in this process, N/K cells each) and in total:
//!
//! * the xApp's CPU (its runtime's threads; the emulated gNB runs on a runtime of its own),
//!   per cell-period and as a share of one core, in a window with no A1 traffic;
//! * A1 PUT -> E2 control applied: the policy of slice 1 alternates between a low and a high
//!   target; each sample is the time from sending the PUT to the control carrying the new
//!   target reaching the gNB, for the first cell and for the last cell in scope;
//! * KPI delivery: subscribers of the gRPC stream, each with a cell filter of one cell, from
//!   the report leaving the gNB to its receipt;
//! * the process's peak RSS.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use maestro_api::a1::{policy_path, SLICE_SLA_TARGET_TYPE};
use maestro_e2sm::rc::RrmPolicyMember;
use maestro_rapp::auth::ClientAuth;
use maestro_rapp::kpi_client::{subscribe_filtered, StreamFilter};
use maestro_xapp::e2::emulator::{Clock, EmulatedSlice, EmulatorConfig};
use serde::Serialize;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::{broadcast, watch};

use crate::harness::{bench_slices, policy_body, CellControl, Harness, XappUnderLoad};
use crate::stats::{peak_rss_kib, threads_cpu_s, Histogram, LatencySummary, XAPP_THREAD};

/// Per-cell targets of the A1 latency policy, kbit/s: far enough apart that their quotas
/// differ at any CQI (the policy's target is this times the cells it covers).
const LOW_KBPS: f64 = 2_000.0;
/// See [`LOW_KBPS`].
const HIGH_KBPS: f64 = 40_000.0;
/// Per-cell target of the other slices' policies, kbit/s.
const OTHER_KBPS: f64 = 10_000.0;
/// Timed PUTs per xApp, at least.
const MIN_A1_SAMPLES: usize = 5;
/// Longest wait for every cell's control after a PUT.
const CONTROL_TIMEOUT: Duration = Duration::from_secs(5);

/// What to run.
#[derive(Debug, Clone)]
pub struct CellsLoad {
    /// Cells in all (split over the shards).
    pub cells: u32,
    /// Slices per cell.
    pub slices: u32,
    /// UEs per slice per cell.
    pub ues: u32,
    /// E2 report period, ms.
    pub period_ms: u64,
    /// Measured time, s: half without A1 traffic (CPU), half with PUTs (A1 latency).
    pub seconds: f64,
    /// xApps in this process, each serving `cells / shards` cells.
    pub shards: u32,
    /// KPI subscribers per xApp, each filtering one cell.
    pub subscribers: usize,
}

/// One xApp's figures.
#[derive(Debug, Clone, Serialize)]
pub struct ShardFigures {
    /// Its cells.
    pub cells: u32,
    /// Its CPU over the quiet window, % of one core.
    pub cpu_pct: f64,
    /// Its CPU per cell-period, us.
    pub cpu_us_per_cell_period: f64,
    /// Its CPU over the A1 window, % of one core.
    pub cpu_pct_with_a1: f64,
    /// A1 PUT -> control at the last of its cells.
    pub a1_all_cells: LatencySummary,
}

/// The figures of one run.
#[derive(Debug, Clone, Serialize)]
pub struct CellsFigures {
    /// Cells in all.
    pub cells: u32,
    /// Slices per cell.
    pub slices: u32,
    /// UEs per slice per cell.
    pub ues_per_slice: u32,
    /// Report period, ms.
    pub period_ms: u64,
    /// xApps.
    pub shards: u32,
    /// Length of each window (quiet, A1), s.
    pub window_s: f64,
    /// CPU of every xApp over the quiet window, % of one core.
    pub cpu_pct: f64,
    /// That CPU per cell-period, us.
    pub cpu_us_per_cell_period: f64,
    /// CPU of the whole process (xApps, emulated gNBs, load) over the quiet window, %.
    pub process_cpu_pct: f64,
    /// CPU of every xApp over the A1 window, % of one core.
    pub cpu_pct_with_a1: f64,
    /// A1 PUT -> control carrying the new target at the first cell.
    pub a1_first_cell: LatencySummary,
    /// A1 PUT -> control carrying the new target at the last cell in scope.
    pub a1_all_cells: LatencySummary,
    /// PUTs whose controls did not all arrive within 5 s.
    pub a1_timeouts: u64,
    /// KPI delivery, every filtered subscriber.
    pub kpi: LatencySummary,
    /// The worst subscriber's p99, ms.
    pub kpi_worst_p99_ms: f64,
    /// Reports the xApp told subscribers they lost (`dropped_before`).
    pub kpi_dropped_before: u64,
    /// Peak RSS of the process, MiB.
    pub peak_rss_mib: f64,
    /// Per xApp.
    pub per_shard: Vec<ShardFigures>,
}

impl CellsFigures {
    /// The run's lines for the terminal.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![
            format!(
                "{} cells x {} slices x {} UEs every {} ms, {} xApp(s): CPU {:.1} us per \
                 cell-period = {:.1}% of a core (process {:.1}%; {:.1}% with A1 PUTs); \
                 peak RSS {:.1} MiB",
                self.cells,
                self.slices,
                self.ues_per_slice,
                self.period_ms,
                self.shards,
                self.cpu_us_per_cell_period,
                self.cpu_pct,
                self.process_cpu_pct,
                self.cpu_pct_with_a1,
                self.peak_rss_mib
            ),
            format!(
                "  A1 PUT -> E2 control, first cell: {}; every cell: {}; timeouts {}",
                self.a1_first_cell, self.a1_all_cells, self.a1_timeouts
            ),
            format!(
                "  KPI delivery (cell-filtered subscribers): {}; worst subscriber p99 {:.2} ms; \
                 dropped_before {}",
                self.kpi, self.kpi_worst_p99_ms, self.kpi_dropped_before
            ),
        ];
        if self.per_shard.len() > 1 {
            for (i, s) in self.per_shard.iter().enumerate() {
                out.push(format!(
                    "  shard {i}: {} cells, CPU {:.1} us per cell-period = {:.1}% of a core \
                     ({:.1}% with A1), A1 -> every cell p50 {:.2} ms p99 {:.2} ms",
                    s.cells,
                    s.cpu_us_per_cell_period,
                    s.cpu_pct,
                    s.cpu_pct_with_a1,
                    s.a1_all_cells.p50_ms,
                    s.a1_all_cells.p99_ms
                ));
            }
        }
        out
    }

    /// A Markdown table row: cells, shards, CPU per cell-period, % of a core, A1 -> control
    /// p50/p99 (every cell), KPI p50/p99, peak RSS.
    pub fn table_row(&self) -> String {
        format!(
            "| {} | {} | {:.1} | {:.1} | {:.2} / {:.2} | {:.2} / {:.2} | {:.0} |",
            self.cells,
            self.shards,
            self.cpu_us_per_cell_period,
            self.cpu_pct,
            self.a1_all_cells.p50_ms,
            self.a1_all_cells.p99_ms,
            self.kpi.p50_ms,
            self.kpi.p99_ms,
            self.peak_rss_mib
        )
    }
}

/// The header of [`CellsFigures::table_row`].
pub const TABLE_HEADER: &str = "| cells | xApps | CPU per cell-period, us | % of one core | \
A1 -> control p50 / p99, ms | KPI p50 / p99, ms | peak RSS, MiB |\n|---|---|---|---|---|---|---|";

/// One xApp under the load and what is measured of it.
struct Shard {
    xapp: XappUnderLoad,
    thread: String,
    cells: u32,
    controls: broadcast::Receiver<CellControl>,
    /// Per cell: the slice-1 ratio of the last low and high targets confirmed.
    ratios: HashMap<String, (Option<u8>, Option<u8>)>,
    first: Histogram,
    all: Histogram,
    timeouts: u64,
}

/// Runs the load and measures it.
pub async fn run(load: &CellsLoad) -> anyhow::Result<CellsFigures> {
    if load.cells == 0 || load.slices == 0 || load.shards == 0 || load.period_ms == 0 {
        bail!("--cells, --slices, --shards and --period-ms must be at least 1");
    }
    if !load.cells.is_multiple_of(load.shards) {
        bail!(
            "--cells ({}) must split evenly over --shards ({})",
            load.cells,
            load.shards
        );
    }
    let per_shard = load.cells / load.shards;
    let mut shards = Vec::with_capacity(load.shards as usize);
    for k in 0..load.shards {
        match start_shard(load, k, per_shard).await {
            Ok(s) => shards.push(s),
            Err(e) => {
                stop(shards).await;
                return Err(e);
            }
        }
    }
    let outcome = measure(load, &mut shards).await;
    stop(shards).await;
    outcome
}

async fn stop(shards: Vec<Shard>) {
    for s in shards {
        s.xapp.stop().await;
    }
}

/// Starts xApp `k` on its `cells` cells (ids numbered after the previous xApps'), the gNB on
/// its own runtime, and PUTs one policy per slice.
async fn start_shard(load: &CellsLoad, k: u32, cells: u32) -> anyhow::Result<Shard> {
    let first = 1 + u64::from(k) * u64::from(cells);
    let emulator = EmulatorConfig {
        cell_id: format!("001-01-{first:010x}"),
        period_ms: load.period_ms,
        clock: Clock::Realtime,
        slices: bench_slices(load.slices)
            .into_iter()
            .map(|member| EmulatedSlice {
                member,
                ues: load.ues,
            })
            .collect(),
        cell_count: Some(cells),
        ..EmulatorConfig::default()
    };
    let ids = emulator
        .cell_configs()
        .context("the emulated cells")?
        .into_iter()
        .map(|c| c.cell_id)
        .collect::<Vec<_>>();
    let watched = watched_cells(&ids, load.subscribers);
    let thread = format!("{XAPP_THREAD}-{k}");
    let harness = Harness {
        watched,
        gnb_runtime: true,
        thread_name: Some(thread.clone()),
    };
    let xapp = XappUnderLoad::start_with(emulator, None, harness).await?;
    let controls = xapp.cell_controls();
    let http = reqwest::Client::new();
    for (i, slice) in xapp.slices.iter().enumerate() {
        let kbps = if i == 0 { LOW_KBPS } else { OTHER_KBPS } * f64::from(cells);
        put(&http, &xapp, slice, i, kbps).await?;
    }
    Ok(Shard {
        ratios: HashMap::new(),
        xapp,
        thread,
        cells,
        controls,
        first: Histogram::new()?,
        all: Histogram::new()?,
        timeouts: 0,
    })
}

/// `n` cells spread evenly over `ids`.
fn watched_cells(ids: &[String], n: usize) -> Vec<String> {
    let n = n.min(ids.len());
    (0..n)
        .filter_map(|i| ids.get(i * ids.len() / n.max(1)).cloned())
        .collect()
}

/// PUTs the policy of slice number `i` with a target of `kbps`.
async fn put(
    http: &reqwest::Client,
    xapp: &XappUnderLoad,
    slice: &RrmPolicyMember,
    i: usize,
    kbps: f64,
) -> anyhow::Result<()> {
    let url = format!(
        "{}{}",
        xapp.http,
        policy_path(SLICE_SLA_TARGET_TYPE, &format!("bench-cells-{i}"))
    );
    let resp = http
        .put(&url)
        .json(&policy_body(slice, kbps))
        .send()
        .await?;
    if !resp.status().is_success() {
        bail!("PUT {url} answered {}", resp.status());
    }
    Ok(())
}

/// Per subscriber: its latency histogram and the losses the xApp admitted.
type SubscriberStats = Arc<Mutex<(Histogram, u64)>>;

/// Subscribers, warm-up, the quiet window, the A1 window; the figures.
async fn measure(load: &CellsLoad, shards: &mut [Shard]) -> anyhow::Result<CellsFigures> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    let mut stats: Vec<SubscriberStats> = Vec::new();
    for (k, shard) in shards.iter().enumerate() {
        for cell in watched_cells(&shard.xapp.cell_ids, load.subscribers) {
            let mine: SubscriberStats = Arc::new(Mutex::new((Histogram::new()?, 0)));
            stats.push(Arc::clone(&mine));
            let (endpoint, stamps, mut stop) = (
                shard.xapp.grpc.clone(),
                Arc::clone(&shard.xapp.cell_stamps),
                stop_rx.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let name = format!("bench-cells-{k}-{cell}");
                let filter = StreamFilter {
                    cells: vec![cell.clone()],
                    slices: Vec::new(),
                };
                let mut stream = subscribe_filtered(
                    &endpoint,
                    &name,
                    Duration::from_secs(60),
                    &ClientAuth::default(),
                    &filter,
                )
                .await?;
                loop {
                    let report = tokio::select! {
                        r = stream.message() => r,
                        _ = stop.changed() => break,
                    };
                    let Some(report) = report.with_context(|| format!("{name}: stream failed"))?
                    else {
                        bail!("{name}: the xApp ended the stream");
                    };
                    let at = Instant::now();
                    if report.cell_id != cell {
                        bail!("{name}: a report of cell {} came through", report.cell_id);
                    }
                    if let Some(sent) = stamps.sent_at(&report.cell_id, report.sequence) {
                        if let Ok(mut me) = mine.lock() {
                            if *stop.borrow() {
                                break;
                            }
                            me.0.record(at.saturating_duration_since(sent));
                            me.1 += report.dropped_before;
                        }
                    }
                }
                anyhow::Ok(())
            }));
        }
    }
    let window = Duration::from_secs_f64(load.seconds / 2.0);
    // Warm-up: subscribers connected, the closed loops settled, the first PUTs planned.
    tokio::time::sleep(Duration::from_secs(2)).await;
    for s in stats.iter() {
        if let Ok(mut me) = s.lock() {
            *me = (Histogram::new()?, 0);
        }
    }

    // The quiet window: CPU.
    let cpu_before: Vec<f64> = shards.iter().map(|s| threads_cpu_s(&s.thread)).collect();
    let process_before = process_cpu_s();
    let opened = Instant::now();
    tokio::time::sleep(window).await;
    let quiet_s = opened.elapsed().as_secs_f64();
    let cpu_quiet: Vec<f64> = shards
        .iter()
        .zip(&cpu_before)
        .map(|(s, b)| threads_cpu_s(&s.thread) - b)
        .collect();
    let process_quiet = process_cpu_s() - process_before;

    // The A1 window: PUTs on each xApp in turn, CPU again.
    let cpu_before: Vec<f64> = shards.iter().map(|s| threads_cpu_s(&s.thread)).collect();
    let opened = Instant::now();
    let http = reqwest::Client::new();
    let gap = Duration::from_millis(load.period_ms / 2);
    // The policy was created with the low target: the first PUT changes it.
    let mut high = true;
    let mut round = 0usize;
    // Two untimed PUTs (the first low and high ratios of each cell), then at least
    // MIN_A1_SAMPLES timed ones however short the window.
    while opened.elapsed() < window || round < 2 + MIN_A1_SAMPLES {
        for shard in shards.iter_mut() {
            a1_sample(&http, shard, high, round >= 2).await?;
        }
        high = !high;
        round += 1;
        tokio::time::sleep(gap).await;
    }
    let a1_s = opened.elapsed().as_secs_f64();
    let cpu_a1: Vec<f64> = shards
        .iter()
        .zip(&cpu_before)
        .map(|(s, b)| threads_cpu_s(&s.thread) - b)
        .collect();

    let _ = stop_tx.send(true);
    for t in tasks {
        t.await.context("a KPI subscriber panicked")??;
    }
    let mut kpi = Histogram::new()?;
    let (mut worst, mut dropped) = (0.0f64, 0u64);
    for s in &stats {
        let me = s
            .lock()
            .map_err(|_| anyhow::anyhow!("a KPI subscriber panicked"))?;
        kpi.merge(&me.0)?;
        worst = worst.max(me.0.quantile_ms(0.99));
        dropped += me.1;
    }
    let periods = |s: f64| s * 1000.0 / load.period_ms as f64;
    let per_cell_period =
        |cpu: f64, cells: u32| 1e6 * cpu / (f64::from(cells) * periods(quiet_s)).max(1.0);
    let (mut first, mut all) = (Histogram::new()?, Histogram::new()?);
    let mut per_shard = Vec::with_capacity(shards.len());
    for (i, s) in shards.iter().enumerate() {
        first.merge(&s.first)?;
        all.merge(&s.all)?;
        per_shard.push(ShardFigures {
            cells: s.cells,
            cpu_pct: 100.0 * cpu_quiet[i] / quiet_s,
            cpu_us_per_cell_period: per_cell_period(cpu_quiet[i], s.cells),
            cpu_pct_with_a1: 100.0 * cpu_a1[i] / a1_s,
            a1_all_cells: s.all.summary(),
        });
    }
    let cpu_quiet_total: f64 = cpu_quiet.iter().sum();
    Ok(CellsFigures {
        cells: load.cells,
        slices: load.slices,
        ues_per_slice: load.ues,
        period_ms: load.period_ms,
        shards: load.shards,
        window_s: quiet_s,
        cpu_pct: 100.0 * cpu_quiet_total / quiet_s,
        cpu_us_per_cell_period: per_cell_period(cpu_quiet_total, load.cells),
        process_cpu_pct: 100.0 * process_quiet / quiet_s,
        cpu_pct_with_a1: 100.0 * cpu_a1.iter().sum::<f64>() / a1_s,
        a1_first_cell: first.summary(),
        a1_all_cells: all.summary(),
        a1_timeouts: shards.iter().map(|s| s.timeouts).sum(),
        kpi: kpi.summary(),
        kpi_worst_p99_ms: worst,
        kpi_dropped_before: dropped,
        peak_rss_mib: peak_rss_kib().unwrap_or(0) as f64 / 1024.0,
        per_shard,
    })
}

/// CPU time of the whole process, s (utime + stime from `/proc/self/stat`).
fn process_cpu_s() -> f64 {
    crate::stats::ProcSample::now().map_or(0.0, |s| s.cpu_s)
}

/// PUTs slice 1's policy with the low or high target and waits for every cell's control
/// carrying it; recorded when `timed`.
async fn a1_sample(
    http: &reqwest::Client,
    shard: &mut Shard,
    high: bool,
    timed: bool,
) -> anyhow::Result<()> {
    let slice = shard
        .xapp
        .slices
        .first()
        .context("the emulated cells have no slice")?
        .clone();
    while !matches!(
        shard.controls.try_recv(),
        Err(TryRecvError::Empty | TryRecvError::Closed)
    ) {}
    let mut pending: std::collections::HashSet<String> =
        shard.xapp.cell_ids.iter().cloned().collect();
    let per_cell = if high { HIGH_KBPS } else { LOW_KBPS };
    let sent = Instant::now();
    put(
        http,
        &shard.xapp,
        &slice,
        0,
        per_cell * f64::from(shard.cells),
    )
    .await?;
    let (mut first, mut last) = (None, None);
    let deadline = sent + CONTROL_TIMEOUT;
    while !pending.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        let (at, cell, control) = match tokio::time::timeout(left, shard.controls.recv()).await {
            Err(_) => break,
            Ok(Ok(c)) => c,
            Ok(Err(RecvError::Lagged(_))) => continue,
            Ok(Err(RecvError::Closed)) => bail!("the E2 backend stopped"),
        };
        let Some(ratio) = control
            .groups
            .iter()
            .find(|g| g.member == slice)
            .map(|g| g.max_prb_ratio)
        else {
            continue;
        };
        let seen = shard.ratios.entry(cell.clone()).or_default();
        // As in a1-latency: the control carrying the new target is the first whose ratio is
        // on the new target's side of the midpoint of the last confirmed low and high ratios.
        let carries = match *seen {
            (Some(l), Some(h)) if l != h => {
                (f64::from(ratio) > (f64::from(l) + f64::from(h)) / 2.0) == high
            }
            (Some(l), None) => high && ratio > l,
            _ => true,
        };
        if carries && pending.remove(&cell) {
            if high {
                seen.1 = Some(ratio);
            } else {
                seen.0 = Some(ratio);
            }
            first.get_or_insert(at);
            last = Some(at);
        }
    }
    if !timed {
        return Ok(());
    }
    match (pending.is_empty(), first, last) {
        (true, Some(f), Some(l)) => {
            shard.first.record(f.saturating_duration_since(sent));
            shard.all.record(l.saturating_duration_since(sent));
        }
        _ => shard.timeouts += 1,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watched_cells_are_spread_and_bounded() {
        let ids: Vec<String> = (0..10).map(|i| format!("c{i}")).collect();
        assert_eq!(watched_cells(&ids, 2), vec!["c0", "c5"]);
        assert_eq!(watched_cells(&ids, 50).len(), 10);
        assert!(watched_cells(&ids, 0).is_empty());
    }
}

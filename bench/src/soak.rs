//! `maestro-bench soak`: the A1 load and the KPI fan-out together for minutes, sampling the
//! resident memory (VmRSS) every few seconds, and judging "flat" by the heap in use at two
//! quiet points.
//!
//! The load runs in two legs: the warm-up, then the soak. After each, the load stops, the
//! subscribers disconnect, and the heap in use ([`crate::heap`]) is read: the least reading
//! over a few quiet seconds. Both readings see the xApp idle with the same policies, series and
//! buffers, so what the soak leg left behind is their difference: "flat" means it is at most
//! `max_drift_pct` % of the first reading. The RSS is sampled throughout and printed, but not
//! judged: on a starved machine subscribers lag, the backlog grows, and glibc keeps the pages
//! after the backlog drains, so RSS drift there is not a leak (where the heap cannot be read,
//! the RSS drift between the two quiet points is judged instead). `leak_kib_per_s` leaks on
//! purpose, to show the judgement catches a leak.

use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;
use tokio::sync::watch;

use crate::a1_load::{A1Load, A1LoadFigures};
use crate::fanout::{self, FanoutFigures};
use crate::harness::{CellLoad, XappUnderLoad};
use crate::heap;
use crate::stats::ProcSample;

/// After a leg's load stops, subscriber tasks end and their buffers drop: the quiet reading
/// starts this long after...
const SETTLE: Duration = Duration::from_secs(1);
/// ...and is the least of the heap readings over this window, one every [`QUIET_POLL`]: the
/// emulated cell keeps reporting with no load, and each report is a transient of up to a MiB
/// (seen idle with 1,000 UEs: 6.0..7.2 MiB from one reading to the next), which a leak does
/// not hide from the least.
const QUIET_WINDOW: Duration = Duration::from_secs(3);
const QUIET_POLL: Duration = Duration::from_millis(100);

/// How to soak.
#[derive(Debug, Clone)]
pub struct Soak {
    /// Whole run, s (warm-up included).
    pub seconds: f64,
    /// Warm-up leg, s; the first quiet reading follows it.
    pub warmup_seconds: f64,
    /// RSS sampling period, s.
    pub sample_seconds: f64,
    /// KPI subscribers.
    pub subscribers: usize,
    /// Largest heap growth over the soak leg that still counts as flat, % of the first reading.
    pub max_drift_pct: f64,
    /// Self-test: KiB per second this process leaks on purpose (0 in a real soak).
    pub leak_kib_per_s: f64,
}

/// One RSS sample.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct RssSample {
    /// Since the start of the soak, s.
    pub t_s: f64,
    /// VmRSS, MiB.
    pub rss_mib: f64,
}

/// What "flat" was judged by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Judged {
    /// The heap in use at the two quiet points.
    Heap,
    /// The RSS at the two quiet points (no heap figure on this C library).
    Rss,
}

/// Figures of a soak.
#[derive(Debug, Clone, Serialize)]
pub struct SoakFigures {
    /// Whole run, s.
    pub seconds: f64,
    /// Warm-up, s.
    pub warmup_seconds: f64,
    /// Heap in use at the quiet point after the warm-up, MiB (absent where unreadable).
    pub heap_start_mib: Option<f64>,
    /// Heap in use at the quiet point after the soak leg, MiB.
    pub heap_end_mib: Option<f64>,
    /// End - start heap, % of start.
    pub heap_growth_pct: Option<f64>,
    /// RSS at the quiet point after the warm-up, MiB.
    pub rss_start_mib: f64,
    /// RSS at the quiet point after the soak leg, MiB.
    pub rss_end_mib: f64,
    /// Highest RSS seen after the warm-up, MiB.
    pub rss_peak_mib: f64,
    /// End - start RSS, MiB.
    pub drift_mib: f64,
    /// End - start RSS, % of start.
    pub drift_pct: f64,
    /// Least-squares slope of the RSS after the warm-up, MiB per minute.
    pub slope_mib_per_min: f64,
    /// The limit on the judged growth, %.
    pub max_drift_pct: f64,
    /// What `flat` was judged by.
    pub judged_by: Judged,
    /// The judged growth is within `max_drift_pct`.
    pub flat: bool,
    /// Every RSS sample (the two quiet readings included).
    pub samples: Vec<RssSample>,
    /// The A1 load over the soak leg (after the warm-up).
    pub a1: A1LoadFigures,
    /// The KPI fan-out over the soak leg.
    pub kpi: FanoutFigures,
}

impl SoakFigures {
    /// One line for the terminal.
    pub fn line(&self) -> String {
        let heap = match (self.heap_start_mib, self.heap_end_mib, self.heap_growth_pct) {
            (Some(a), Some(b), Some(p)) => {
                format!("heap in use {a:.1} MiB -> {b:.1} MiB ({p:+.1}%)")
            }
            _ => "heap in use: not readable here".to_string(),
        };
        format!(
            "{:.1} min ({:.0} s warm-up), quiet before and after the soak leg: {heap}; RSS \
             {:.1} MiB -> {:.1} MiB (peak {:.1}, {:+.1}%), slope {:+.2} MiB/min; judged by \
             {}, limit {:.0}%: {}",
            self.seconds / 60.0,
            self.warmup_seconds,
            self.rss_start_mib,
            self.rss_end_mib,
            self.rss_peak_mib,
            self.drift_pct,
            self.slope_mib_per_min,
            match self.judged_by {
                Judged::Heap => "heap",
                Judged::Rss => "RSS",
            },
            self.max_drift_pct,
            if self.flat { "flat" } else { "NOT flat" }
        )
    }
}

/// A quiet reading: the heap in use and an RSS sample.
#[derive(Debug, Clone, Copy)]
struct Quiet {
    heap_bytes: Option<u64>,
    rss: Option<RssSample>,
}

/// Runs `load` and the fan-out against `xapp` together, in a warm-up leg and a soak leg, while
/// sampling the RSS; reads the heap after each leg.
pub async fn run(
    xapp: &XappUnderLoad,
    cell: &CellLoad,
    load: &A1Load,
    soak: &Soak,
) -> anyhow::Result<SoakFigures> {
    let started = Instant::now();
    let (stop_tx, stop_rx) = watch::channel(false);
    let sampler = tokio::spawn(sample_rss(
        started,
        Duration::from_secs_f64(soak.sample_seconds.max(0.5)),
        stop_rx.clone(),
    ));
    let leaker =
        (soak.leak_kib_per_s > 0.0).then(|| tokio::spawn(leak(soak.leak_kib_per_s, stop_rx)));

    leg(xapp, cell, load, soak.subscribers, soak.warmup_seconds).await?;
    let warm = quiet(started).await;
    let (a1, kpi) = leg(
        xapp,
        cell,
        load,
        soak.subscribers,
        soak.seconds - soak.warmup_seconds,
    )
    .await?;
    let end = quiet(started).await;

    let _ = stop_tx.send(true);
    if let Some(l) = leaker {
        l.await.context("the leak task panicked")?;
    }
    let mut samples = sampler.await.context("the RSS sampler panicked")?;
    samples.extend(warm.rss.into_iter().chain(end.rss));
    samples.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
    Ok(figures(
        samples,
        soak,
        warm,
        end,
        a1,
        kpi,
        started.elapsed().as_secs_f64(),
    ))
}

/// One leg: the A1 load and the fan-out together for `seconds`.
async fn leg(
    xapp: &XappUnderLoad,
    cell: &CellLoad,
    load: &A1Load,
    subscribers: usize,
    seconds: f64,
) -> anyhow::Result<(A1LoadFigures, FanoutFigures)> {
    let mut a1 = load.clone();
    a1.seconds = seconds;
    let (a1, kpi) = tokio::join!(a1.run(), fanout::run(xapp, cell, subscribers, seconds));
    Ok((a1?, kpi?))
}

/// Waits [`SETTLE`] with no load, then takes the least heap reading over [`QUIET_WINDOW`]
/// and an RSS sample.
async fn quiet(started: Instant) -> Quiet {
    tokio::time::sleep(SETTLE).await;
    let window = Instant::now();
    let mut heap_bytes = heap::in_use_bytes();
    while heap_bytes.is_some() && window.elapsed() < QUIET_WINDOW {
        tokio::time::sleep(QUIET_POLL).await;
        heap_bytes = heap_bytes.min(heap::in_use_bytes());
    }
    Quiet {
        heap_bytes,
        rss: rss_now(started),
    }
}

fn rss_now(started: Instant) -> Option<RssSample> {
    ProcSample::now().map(|s| RssSample {
        t_s: started.elapsed().as_secs_f64(),
        rss_mib: s.rss_mib(),
    })
}

/// Samples the RSS every `period` until `stop`.
async fn sample_rss(
    started: Instant,
    period: Duration,
    mut stop: watch::Receiver<bool>,
) -> Vec<RssSample> {
    let mut samples = Vec::new();
    let mut tick = tokio::time::interval(period);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => break,
        }
        samples.extend(rss_now(started));
    }
    samples
}

/// Self-test: keeps `kib_per_s` KiB a second allocated and never freed, until `stop`.
async fn leak(kib_per_s: f64, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let bytes = (kib_per_s * 1024.0 / 10.0) as usize;
    loop {
        tokio::select! {
            _ = tick.tick() => std::mem::forget(vec![1u8; bytes]),
            _ = stop.changed() => break,
        }
    }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn growth_pct(start: f64, end: f64) -> f64 {
    if start > 0.0 {
        100.0 * (end - start) / start
    } else {
        0.0
    }
}

fn figures(
    samples: Vec<RssSample>,
    soak: &Soak,
    warm: Quiet,
    end: Quiet,
    a1: A1LoadFigures,
    kpi: FanoutFigures,
    seconds: f64,
) -> SoakFigures {
    let warm_t = warm.rss.map_or(soak.warmup_seconds, |s| s.t_s);
    let after: Vec<RssSample> = samples
        .iter()
        .copied()
        .filter(|s| s.t_s >= warm_t)
        .collect();
    let rss_start = warm.rss.map_or(0.0, |s| s.rss_mib);
    let rss_end = end.rss.map_or(0.0, |s| s.rss_mib);
    let drift_pct = growth_pct(rss_start, rss_end);
    let heap = warm
        .heap_bytes
        .zip(end.heap_bytes)
        .map(|(a, b)| (mib(a), mib(b)));
    let heap_growth_pct = heap.map(|(a, b)| growth_pct(a, b));
    let (judged_by, judged) = match heap_growth_pct {
        Some(p) => (Judged::Heap, Some(p)),
        None => (Judged::Rss, (rss_start > 0.0).then_some(drift_pct)),
    };
    SoakFigures {
        seconds,
        warmup_seconds: soak.warmup_seconds,
        heap_start_mib: heap.map(|h| h.0),
        heap_end_mib: heap.map(|h| h.1),
        heap_growth_pct,
        rss_start_mib: rss_start,
        rss_end_mib: rss_end,
        rss_peak_mib: after.iter().map(|s| s.rss_mib).fold(0.0, f64::max),
        drift_mib: rss_end - rss_start,
        drift_pct,
        slope_mib_per_min: slope(&after) * 60.0,
        max_drift_pct: soak.max_drift_pct,
        judged_by,
        flat: judged.is_some_and(|p| p <= soak.max_drift_pct),
        samples,
        a1,
        kpi,
    }
}

/// Least-squares slope of RSS over time, MiB/s; 0 with fewer than two samples.
fn slope(samples: &[RssSample]) -> f64 {
    let n = samples.len() as f64;
    if samples.len() < 2 {
        return 0.0;
    }
    let mt = samples.iter().map(|s| s.t_s).sum::<f64>() / n;
    let mr = samples.iter().map(|s| s.rss_mib).sum::<f64>() / n;
    let cov: f64 = samples
        .iter()
        .map(|s| (s.t_s - mt) * (s.rss_mib - mr))
        .sum();
    let var: f64 = samples.iter().map(|s| (s.t_s - mt).powi(2)).sum();
    if var == 0.0 {
        0.0
    } else {
        cov / var
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t_s: f64, rss_mib: f64) -> RssSample {
        RssSample { t_s, rss_mib }
    }

    #[test]
    fn slope_of_a_steady_leak_is_its_rate() {
        let s: Vec<RssSample> = (0..10)
            .map(|i| at(i as f64, 100.0 + 2.0 * i as f64))
            .collect();
        assert!((slope(&s) - 2.0).abs() < 1e-9);
        assert_eq!(slope(&s[..1]), 0.0);
    }
}

//! `maestro-bench soak`: the A1 load and the KPI fan-out together for minutes, sampling the
//! resident memory (VmRSS) every few seconds. "Flat" means: the RSS at the end is at most
//! `max_drift_pct` % above the RSS at the end of the warm-up (allocators and caches fill
//! during the warm-up; after it, a leak shows as steady growth).

use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;
use tokio::sync::watch;

use crate::a1_load::{A1Load, A1LoadFigures};
use crate::fanout::{self, FanoutFigures};
use crate::harness::{CellLoad, XappUnderLoad};
use crate::stats::ProcSample;

/// How to soak.
#[derive(Debug, Clone)]
pub struct Soak {
    /// Whole run, s (warm-up included).
    pub seconds: f64,
    /// Warm-up before the start RSS is taken, s.
    pub warmup_seconds: f64,
    /// RSS sampling period, s.
    pub sample_seconds: f64,
    /// KPI subscribers.
    pub subscribers: usize,
    /// Largest RSS growth after the warm-up that still counts as flat, %.
    pub max_drift_pct: f64,
}

/// One RSS sample.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct RssSample {
    /// Since the start of the soak, s.
    pub t_s: f64,
    /// VmRSS, MiB.
    pub rss_mib: f64,
}

/// Figures of a soak.
#[derive(Debug, Clone, Serialize)]
pub struct SoakFigures {
    /// Whole run, s.
    pub seconds: f64,
    /// Warm-up, s.
    pub warmup_seconds: f64,
    /// RSS after the warm-up, MiB.
    pub rss_start_mib: f64,
    /// RSS at the end, MiB.
    pub rss_end_mib: f64,
    /// Highest RSS seen after the warm-up, MiB.
    pub rss_peak_mib: f64,
    /// End - start, MiB.
    pub drift_mib: f64,
    /// End - start, % of start.
    pub drift_pct: f64,
    /// Least-squares slope of the RSS after the warm-up, MiB per minute.
    pub slope_mib_per_min: f64,
    /// The limit on `drift_pct`.
    pub max_drift_pct: f64,
    /// `drift_pct` <= `max_drift_pct`.
    pub flat: bool,
    /// Every sample.
    pub samples: Vec<RssSample>,
    /// The A1 load over the whole run.
    pub a1: A1LoadFigures,
    /// The KPI fan-out over the whole run.
    pub kpi: FanoutFigures,
}

impl SoakFigures {
    /// One line for the terminal.
    pub fn line(&self) -> String {
        format!(
            "{:.1} min ({:.0} s warm-up): RSS {:.1} MiB -> {:.1} MiB (peak {:.1}), drift \
             {:+.1} MiB ({:+.1}%, limit {:.0}%), slope {:+.2} MiB/min: {}",
            self.seconds / 60.0,
            self.warmup_seconds,
            self.rss_start_mib,
            self.rss_end_mib,
            self.rss_peak_mib,
            self.drift_mib,
            self.drift_pct,
            self.max_drift_pct,
            self.slope_mib_per_min,
            if self.flat { "flat" } else { "NOT flat" }
        )
    }
}

/// Runs `load` and the fan-out against `xapp` together while sampling the RSS.
pub async fn run(
    xapp: &XappUnderLoad,
    cell: &CellLoad,
    load: &A1Load,
    soak: &Soak,
) -> anyhow::Result<SoakFigures> {
    let started = Instant::now();
    let (stop_tx, mut stop_rx) = watch::channel(false);
    let period = Duration::from_secs_f64(soak.sample_seconds.max(0.5));
    let sampler = tokio::spawn(async move {
        let mut samples = Vec::new();
        let mut tick = tokio::time::interval(period);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop_rx.changed() => break,
            }
            if let Some(s) = ProcSample::now() {
                samples.push(RssSample {
                    t_s: started.elapsed().as_secs_f64(),
                    rss_mib: s.rss_mib(),
                });
            }
        }
        samples
    });
    let mut a1 = load.clone();
    a1.seconds = soak.seconds;
    let (a1, kpi) = tokio::join!(
        a1.run(),
        fanout::run(xapp, cell, soak.subscribers, soak.seconds)
    );
    let _ = stop_tx.send(true);
    let mut samples = sampler.await.context("the RSS sampler panicked")?;
    if let Some(s) = ProcSample::now() {
        samples.push(RssSample {
            t_s: started.elapsed().as_secs_f64(),
            rss_mib: s.rss_mib(),
        });
    }
    let (a1, kpi) = (a1?, kpi?);
    Ok(figures(
        samples,
        soak,
        a1,
        kpi,
        started.elapsed().as_secs_f64(),
    ))
}

fn figures(
    samples: Vec<RssSample>,
    soak: &Soak,
    a1: A1LoadFigures,
    kpi: FanoutFigures,
    seconds: f64,
) -> SoakFigures {
    let after: Vec<RssSample> = samples
        .iter()
        .copied()
        .filter(|s| s.t_s >= soak.warmup_seconds)
        .collect();
    let start = after.first().map_or(0.0, |s| s.rss_mib);
    let end = after.last().map_or(0.0, |s| s.rss_mib);
    let peak = after.iter().map(|s| s.rss_mib).fold(0.0, f64::max);
    let drift_mib = end - start;
    let drift_pct = if start > 0.0 {
        100.0 * drift_mib / start
    } else {
        0.0
    };
    SoakFigures {
        seconds,
        warmup_seconds: soak.warmup_seconds,
        rss_start_mib: start,
        rss_end_mib: end,
        rss_peak_mib: peak,
        drift_mib,
        drift_pct,
        slope_mib_per_min: slope(&after) * 60.0,
        max_drift_pct: soak.max_drift_pct,
        flat: !after.is_empty() && drift_pct <= soak.max_drift_pct,
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

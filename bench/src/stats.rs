//! The figures every benchmark shares: latency histograms (the `hdrhistogram` crate, fixed
//! range and size, so a long soak's generator does not grow in memory) summarised as
//! quantiles, and the process's RSS and CPU read from `/proc`.

use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;

/// Significant decimal digits every latency histogram keeps: values are exact below 2,048 us
/// and within 0.1 % above (HDR buckets 1/1024 of their value wide).
pub const SIGNIFICANT_DIGITS: u8 = 3;

/// Longest latency told apart, us (one hour); longer samples count as one hour.
const MAX_US: u64 = 3_600_000_000;

/// Latency histogram in microseconds, [`SIGNIFICANT_DIGITS`] significant digits.
#[derive(Debug, Clone)]
pub struct Histogram(hdrhistogram::Histogram<u64>);

impl Histogram {
    /// An empty histogram of 1 us .. 1 h.
    pub fn new() -> anyhow::Result<Self> {
        hdrhistogram::Histogram::new_with_bounds(1, MAX_US, SIGNIFICANT_DIGITS)
            .map(Self)
            .context("cannot create a latency histogram")
    }

    /// Adds one sample, rounded up to the microsecond (so no quantile is below its sample).
    pub fn record(&mut self, d: Duration) {
        let us = u64::try_from(d.as_nanos().div_ceil(1000)).unwrap_or(u64::MAX);
        self.0.saturating_record(us.min(MAX_US));
    }

    /// Adds every sample of `other`.
    pub fn merge(&mut self, other: &Histogram) -> anyhow::Result<()> {
        self.0
            .add(&other.0)
            .context("cannot merge latency histograms")
    }

    /// Samples recorded.
    pub fn samples(&self) -> u64 {
        self.0.len()
    }

    /// The `q` quantile (nearest rank), ms: the upper edge of the sample's bucket, so never
    /// below the sample and at most 0.1 % above it. 0 when empty.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.0.is_empty() {
            return 0.0;
        }
        self.0.value_at_quantile(q.clamp(0.0, 1.0)) as f64 / 1e3
    }

    /// p50/p90/p99/max.
    pub fn summary(&self) -> LatencySummary {
        LatencySummary {
            samples: self.samples(),
            p50_ms: self.quantile_ms(0.5),
            p90_ms: self.quantile_ms(0.9),
            p99_ms: self.quantile_ms(0.99),
            max_ms: self.quantile_ms(1.0),
        }
    }
}

/// Latency quantiles, ms.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct LatencySummary {
    /// Samples.
    pub samples: u64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Worst.
    pub max_ms: f64,
}

impl std::fmt::Display for LatencySummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  max {:.2} ms  ({} samples)",
            self.p50_ms, self.p90_ms, self.p99_ms, self.max_ms, self.samples
        )
    }
}

/// Name prefix of the threads of the benchmark's in-process xApp runtime; the CPU of the
/// threads named so is the xApp's.
pub const XAPP_THREAD: &str = "maestro-xapp";

/// Clock ticks per second of `/proc/*/stat` times (`USER_HZ`, 100 on Linux).
const USER_HZ: f64 = 100.0;

/// One reading of this process from `/proc/self`.
#[derive(Debug, Clone, Copy)]
pub struct ProcSample {
    /// When it was read.
    pub at: Instant,
    /// Resident set size (VmRSS), KiB.
    pub rss_kib: u64,
    /// CPU time of the whole process, s.
    pub cpu_s: f64,
    /// CPU time of the threads named [`XAPP_THREAD`]*, s.
    pub xapp_cpu_s: f64,
}

impl ProcSample {
    /// Reads `/proc/self`; `None` where there is no procfs.
    pub fn now() -> Option<Self> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let rss_kib = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())?;
        let cpu_s = stat_cpu_s(&std::fs::read_to_string("/proc/self/stat").ok()?)?;
        let mut xapp_cpu_s = 0.0;
        if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
            for task in tasks.flatten() {
                let dir = task.path();
                let is_xapp = std::fs::read_to_string(dir.join("comm"))
                    .is_ok_and(|c| c.starts_with(XAPP_THREAD));
                if is_xapp {
                    if let Some(s) = std::fs::read_to_string(dir.join("stat"))
                        .ok()
                        .and_then(|t| stat_cpu_s(&t))
                    {
                        xapp_cpu_s += s;
                    }
                }
            }
        }
        Some(Self {
            at: Instant::now(),
            rss_kib,
            cpu_s,
            xapp_cpu_s,
        })
    }

    /// RSS in MiB.
    pub fn rss_mib(&self) -> f64 {
        self.rss_kib as f64 / 1024.0
    }

    /// CPU use between `earlier` and this sample, % of one core: (xApp threads, whole process).
    pub fn cpu_percent_since(&self, earlier: &ProcSample) -> (f64, f64) {
        let wall = self.at.duration_since(earlier.at).as_secs_f64();
        if wall <= 0.0 {
            return (0.0, 0.0);
        }
        (
            100.0 * (self.xapp_cpu_s - earlier.xapp_cpu_s).max(0.0) / wall,
            100.0 * (self.cpu_s - earlier.cpu_s).max(0.0) / wall,
        )
    }
}

/// Peak resident set size of this process (VmHWM), KiB; `None` where there is no procfs.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// CPU time of this process's threads whose name starts with `prefix`, s (0 without procfs).
pub fn threads_cpu_s(prefix: &str) -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    tasks
        .flatten()
        .map(|task| task.path())
        .filter(|dir| {
            std::fs::read_to_string(dir.join("comm")).is_ok_and(|c| c.starts_with(prefix))
        })
        .filter_map(|dir| {
            std::fs::read_to_string(dir.join("stat"))
                .ok()
                .and_then(|t| stat_cpu_s(&t))
        })
        .sum()
}

/// utime + stime of a `/proc/.../stat` line, s (fields 14 and 15, after the `(comm)` field,
/// which may hold spaces).
fn stat_cpu_s(stat: &str) -> Option<f64> {
    let after_comm = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    // after_comm starts at field 3 (state): utime is field 14, stime field 15.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / USER_HZ)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn histogram(samples: impl IntoIterator<Item = Duration>) -> Histogram {
        let mut h = Histogram::new().unwrap();
        for d in samples {
            h.record(d);
        }
        h
    }

    /// The nearest-rank quantile by hand: the smallest sample with at least `q` of them at or
    /// below it.
    fn nearest_rank_ms(samples: &[Duration], q: f64) -> f64 {
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1].as_secs_f64() * 1e3
    }

    #[test]
    fn quantiles_are_exact_below_two_milliseconds_and_within_a_permille_above() {
        let h = histogram((1..=1000u64).map(Duration::from_micros));
        assert_eq!(h.summary().samples, 1000);
        assert_eq!(h.quantile_ms(0.5), 0.5);
        assert_eq!(h.quantile_ms(0.99), 0.99);
        assert_eq!(h.quantile_ms(1.0), 1.0);
        let big = histogram((1..=100u64).map(Duration::from_millis));
        let p99 = big.quantile_ms(0.99);
        assert!((99.0..=99.0 * 1.001).contains(&p99), "{p99}");
        let max = big.quantile_ms(1.0);
        assert!((100.0..=100.0 * 1.001).contains(&max), "{max}");
        assert_eq!(Histogram::new().unwrap().quantile_ms(0.5), 0.0);
    }

    #[test]
    fn quantiles_match_the_nearest_rank_by_hand() {
        // Irregular samples from 3 us to ~2 s, not in order, some repeated.
        let samples: Vec<Duration> = (0..997u64)
            .map(|i| Duration::from_nanos(3_000 + (i * 7_919 % 997) * (i % 13 + 1) * 150_001))
            .collect();
        let h = histogram(samples.iter().copied());
        for q in [0.0, 0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0] {
            let exact = nearest_rank_ms(&samples, q);
            let got = h.quantile_ms(q);
            // Rounded up to the us, then to the bucket's upper edge.
            assert!(
                got >= exact && got <= (exact + 1e-3) * 1.001,
                "q {q}: {got} ms, by hand {exact} ms"
            );
        }
    }

    #[test]
    fn merged_histograms_count_both() {
        let mut a = histogram([Duration::from_millis(2)]);
        let b = histogram([Duration::from_millis(40)]);
        a.merge(&b).unwrap();
        assert_eq!(a.summary().samples, 2);
        assert_eq!(a.quantile_ms(1.0), b.quantile_ms(1.0));
        assert!(a.quantile_ms(0.5) <= 2.002, "{}", a.quantile_ms(0.5));
    }

    #[test]
    fn samples_beyond_the_range_count_as_its_top() {
        let h = histogram([Duration::from_secs(5 * 3600)]);
        assert_eq!(h.samples(), 1);
        let max = h.quantile_ms(1.0);
        assert!((3_600_000.0..=3_600_000.0 * 1.001).contains(&max), "{max}");
    }

    #[test]
    fn stat_line_with_spaces_in_comm_parses() {
        let line = "42 (a b) S 1 2 3 4 5 6 7 8 9 10 250 150 0 0";
        assert_eq!(stat_cpu_s(line), Some(4.0));
    }

    #[test]
    fn this_process_has_a_resident_set() {
        if let Some(s) = ProcSample::now() {
            assert!(s.rss_kib > 0);
        }
    }
}

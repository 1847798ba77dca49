//! Figures the load benchmarks share: a fixed-size latency histogram (so a long soak's
//! generator does not grow in memory) and the process's RSS and CPU read from `/proc`.

use std::time::{Duration, Instant};

use serde::Serialize;

/// Exact buckets below this many microseconds.
const LINEAR_US: u64 = 1024;
/// Sub-buckets per power of two above [`LINEAR_US`] (under 1 % error).
const SUB: u64 = 128;
/// Powers of two covered above [`LINEAR_US`]: up to 2^(10+OCTAVES) us, about 2.2 hours.
const OCTAVES: u64 = 23;

/// Latency histogram in microseconds: exact to 1 ms, log-linear (128 steps per doubling)
/// above; fixed size whatever the sample count.
#[derive(Debug, Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    n: u64,
    max_us: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            counts: vec![0; (LINEAR_US + OCTAVES * SUB) as usize],
            n: 0,
            max_us: 0,
        }
    }
}

impl Histogram {
    fn index(us: u64) -> usize {
        if us < LINEAR_US {
            return us as usize;
        }
        let octave = u64::from(63 - us.leading_zeros()); // >= 10
        let shift = octave - 7; // keep the 7 bits below the leading one
        let sub = (us >> shift) & (SUB - 1);
        let i = LINEAR_US + (octave - 10) * SUB + sub;
        (i as usize).min((LINEAR_US + OCTAVES * SUB) as usize - 1)
    }

    /// Upper edge of bucket `i`, us.
    fn upper(i: usize) -> u64 {
        let i = i as u64;
        if i < LINEAR_US {
            return i;
        }
        let octave = (i - LINEAR_US) / SUB + 10;
        let sub = (i - LINEAR_US) % SUB;
        let shift = octave - 7;
        ((SUB + sub + 1) << shift) - 1
    }

    /// Adds one sample.
    pub fn record(&mut self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.counts[Self::index(us)] += 1;
        self.n += 1;
        self.max_us = self.max_us.max(us);
    }

    /// Adds every sample of `other`.
    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.n += other.n;
        self.max_us = self.max_us.max(other.max_us);
    }

    /// The `q` quantile (nearest rank), ms; the bucket's upper edge, so never optimistic.
    /// 0 when empty.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        if q >= 1.0 {
            return self.max_us as f64 / 1e3;
        }
        let rank = ((q * self.n as f64).ceil() as u64).clamp(1, self.n);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Self::upper(i).min(self.max_us) as f64 / 1e3;
            }
        }
        self.max_us as f64 / 1e3
    }

    /// p50/p90/p99/max.
    pub fn summary(&self) -> LatencySummary {
        LatencySummary {
            samples: self.n,
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

    #[test]
    fn quantiles_are_exact_below_a_millisecond_and_within_one_percent_above() {
        let mut h = Histogram::default();
        for us in 1..=1000u64 {
            h.record(Duration::from_micros(us));
        }
        assert_eq!(h.summary().samples, 1000);
        assert_eq!(h.quantile_ms(0.5), 0.5);
        assert_eq!(h.quantile_ms(0.99), 0.99);
        assert_eq!(h.quantile_ms(1.0), 1.0);
        let mut big = Histogram::default();
        for ms in 1..=100u64 {
            big.record(Duration::from_millis(ms));
        }
        let p99 = big.quantile_ms(0.99);
        assert!((99.0..=99.0 * 1.01).contains(&p99), "{p99}");
        assert_eq!(big.quantile_ms(1.0), 100.0);
        assert_eq!(Histogram::default().quantile_ms(0.5), 0.0);
    }

    #[test]
    fn merged_histograms_count_both() {
        let mut a = Histogram::default();
        let mut b = Histogram::default();
        a.record(Duration::from_millis(2));
        b.record(Duration::from_millis(40));
        a.merge(&b);
        assert_eq!(a.summary().samples, 2);
        assert_eq!(a.quantile_ms(1.0), 40.0);
        assert!(a.quantile_ms(0.5) <= 2.02, "{}", a.quantile_ms(0.5));
    }

    #[test]
    fn every_bucket_edge_is_above_its_values() {
        for us in [
            1023u64,
            1024,
            1500,
            2047,
            2048,
            65_535,
            1_000_000,
            3_600_000_000,
        ] {
            let i = Histogram::index(us);
            assert!(Histogram::upper(i) >= us, "{us}");
            assert!(Histogram::upper(i) as f64 <= us as f64 * 1.01 + 1.0, "{us}");
        }
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

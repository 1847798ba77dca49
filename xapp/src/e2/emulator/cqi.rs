//! Per-UE wide-band CQI for the emulated gNB: a synthetic vehicular model (default) or a
//! replayed drive trace in the UCC 5G dataset's CSV columns.

use std::path::Path;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// SINR thresholds (dB) at which CQI 1..=15 of TS 38.214 Table 5.2.2.1-2 reach 10% BLER on an
/// AWGN channel (the usual link-level curve, as used by system-level simulators).
const CQI_SINR_THRESHOLDS_DB: [f64; 15] = [
    -6.7, -4.7, -2.3, 0.2, 2.4, 4.3, 5.9, 8.1, 10.3, 11.7, 14.1, 16.3, 18.7, 21.0, 22.7,
];

/// Highest CQI whose threshold the SINR reaches (0 = out of range).
pub fn cqi_from_sinr_db(sinr_db: f64) -> u8 {
    CQI_SINR_THRESHOLDS_DB
        .iter()
        .take_while(|&&t| sinr_db >= t)
        .count() as u8
}

/// A source of one UE's CQI over time.
pub trait CqiModel: Send {
    /// CQI at `t_ms` (calls come with non-decreasing times).
    fn cqi_at(&mut self, t_ms: u64) -> u8;
}

/// A car driving back and forth on a road past the gNB: log-distance path loss plus
/// distance-correlated log-normal shadowing (Gudmundson model), mapped to CQI.
#[derive(Debug)]
pub struct VehicularCqi {
    rng: StdRng,
    /// Closest approach to the gNB, m.
    offset_m: f64,
    /// Road half-length, m: the car drives from -len to +len and back.
    half_length_m: f64,
    speed_mps: f64,
    phase_m: f64,
    /// SINR at 50 m, dB.
    sinr_ref_db: f64,
    path_loss_exponent: f64,
    shadow_sigma_db: f64,
    shadow_decorrelation_m: f64,
    shadow_db: f64,
    last_pos_m: f64,
    last_t_ms: Option<u64>,
}

impl VehicularCqi {
    /// A car with parameters drawn from `seed` (speed 8..20 m/s, a 400..700 m road).
    pub fn new(seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let half_length_m = rng.random_range(200.0..350.0);
        let phase_m = rng.random_range(0.0..4.0 * half_length_m);
        Self {
            offset_m: rng.random_range(15.0..40.0),
            half_length_m,
            speed_mps: rng.random_range(8.0..20.0),
            phase_m,
            sinr_ref_db: 26.0,
            path_loss_exponent: 2.6,
            shadow_sigma_db: 3.0,
            shadow_decorrelation_m: 25.0,
            shadow_db: 0.0,
            last_pos_m: 0.0,
            last_t_ms: None,
            rng,
        }
    }

    /// Position along the road at `t_ms`: a triangle wave in [-len, +len].
    fn position_m(&self, t_ms: u64) -> f64 {
        let travelled = self.phase_m + self.speed_mps * t_ms as f64 / 1000.0;
        let lap = 4.0 * self.half_length_m;
        let x = travelled % lap;
        if x < 2.0 * self.half_length_m {
            x - self.half_length_m
        } else {
            3.0 * self.half_length_m - x
        }
    }

    /// SINR at `t_ms`, dB.
    pub fn sinr_db(&mut self, t_ms: u64) -> f64 {
        let pos = self.position_m(t_ms);
        if self.last_t_ms.is_some() {
            // Gudmundson: rho = exp(-moved / d_corr); keep the variance at sigma^2.
            let moved = (pos - self.last_pos_m).abs();
            let rho = (-moved / self.shadow_decorrelation_m).exp();
            let z: f64 = standard_normal(&mut self.rng);
            self.shadow_db =
                rho * self.shadow_db + (1.0 - rho * rho).sqrt() * self.shadow_sigma_db * z;
        } else {
            self.shadow_db = self.shadow_sigma_db * standard_normal(&mut self.rng);
        }
        self.last_pos_m = pos;
        self.last_t_ms = Some(t_ms);
        let distance = (pos * pos + self.offset_m * self.offset_m).sqrt().max(1.0);
        self.sinr_ref_db - 10.0 * self.path_loss_exponent * (distance / 50.0).log10()
            + self.shadow_db
    }
}

/// Box-Muller standard normal sample.
fn standard_normal(rng: &mut StdRng) -> f64 {
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random_range(0.0..1.0);
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

impl CqiModel for VehicularCqi {
    fn cqi_at(&mut self, t_ms: u64) -> u8 {
        let sinr = self.sinr_db(t_ms);
        cqi_from_sinr_db(sinr)
    }
}

/// A CQI trace resampled to a 1 s grid: `grid[s]` is the CQI during second `s` of the drive
/// (the last report logged at or before the end of that second; seconds without a report
/// keep the previous value, as the phone app that logged the UCC dataset does).
#[derive(Debug, Clone, PartialEq)]
pub struct CqiTrace {
    grid: Vec<u8>,
}

/// Why a trace file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The file could not be read.
    #[error("cannot read CQI trace {path}: {source}")]
    Io {
        /// File path.
        path: String,
        /// I/O error.
        source: std::io::Error,
    },
    /// The header lacks a needed column.
    #[error("CQI trace {path} has no '{column}' column (expected the UCC 5G dataset's columns)")]
    MissingColumn {
        /// File path.
        path: String,
        /// Column name.
        column: &'static str,
    },
    /// No row had a usable CQI.
    #[error("CQI trace {path} has no row with a CQI in 0..=15")]
    Empty {
        /// File path.
        path: String,
    },
}

impl CqiTrace {
    /// Reads a CSV with `Timestamp` (`YYYY.MM.DD_HH.MM.SS`) and `CQI` columns, as in the UCC 5G
    /// dataset. Rows whose CQI is not a number in 0..=15 (e.g. `-`) are skipped; rows without a
    /// parsable time take the previous row's time plus one second.
    pub fn from_csv(path: &Path) -> Result<Self, TraceError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| TraceError::Io {
            path: shown.clone(),
            source,
        })?;
        Self::parse(&text, &shown)
    }

    /// Parses trace text (see [`CqiTrace::from_csv`]).
    pub fn parse(text: &str, name: &str) -> Result<Self, TraceError> {
        let mut lines = text.lines();
        let header: Vec<&str> = lines
            .next()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .collect();
        let column = |c: &'static str| {
            header
                .iter()
                .position(|h| *h == c)
                .ok_or(TraceError::MissingColumn {
                    path: name.to_owned(),
                    column: c,
                })
        };
        let cqi_col = column("CQI")?;
        let time_col = column("Timestamp")?;
        let mut samples: Vec<(f64, u8)> = Vec::new();
        let mut t0: Option<f64> = None;
        for line in lines {
            let fields: Vec<&str> = line.split(',').collect();
            let Some(cqi) = fields
                .get(cqi_col)
                .and_then(|f| f.trim().parse::<u8>().ok())
                .filter(|c| *c <= 15)
            else {
                continue;
            };
            let abs = fields.get(time_col).and_then(|f| parse_timestamp(f.trim()));
            let t = match (abs, t0) {
                (Some(a), Some(start)) => a - start,
                (Some(a), None) => {
                    t0 = Some(a);
                    0.0
                }
                (None, _) => samples.last().map_or(0.0, |(t, _)| t + 1.0),
            };
            // Several rows share a second in these logs: keep time non-decreasing.
            let t = samples.last().map_or(t, |(last, _)| t.max(*last));
            samples.push((t, cqi));
        }
        let Some(&(last_t, _)) = samples.last() else {
            return Err(TraceError::Empty {
                path: name.to_owned(),
            });
        };
        let seconds = last_t.floor() as usize + 1;
        let mut grid = Vec::with_capacity(seconds);
        let mut next = 0;
        let mut current = samples[0].1;
        for s in 0..seconds {
            while next < samples.len() && samples[next].0 < (s + 1) as f64 {
                current = samples[next].1;
                next += 1;
            }
            grid.push(current);
        }
        Ok(Self { grid })
    }

    /// Length of the trace, s.
    pub fn duration_s(&self) -> f64 {
        self.grid.len() as f64
    }

    /// The CQI of every second, in order.
    pub fn grid(&self) -> &[u8] {
        &self.grid
    }

    /// CQI at `t_s`, looping over the trace.
    pub fn cqi_at_s(&self, t_s: f64) -> u8 {
        let t = t_s.rem_euclid(self.duration_s());
        let idx = (t.floor() as usize).min(self.grid.len().saturating_sub(1));
        self.grid[idx]
    }
}

/// `YYYY.MM.DD_HH.MM.SS` -> seconds (days counted from the month start; traces span < 1 month).
fn parse_timestamp(s: &str) -> Option<f64> {
    let (date, time) = s.split_once('_')?;
    let d: Vec<u32> = date
        .split('.')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let t: Vec<u32> = time
        .split('.')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    if d.len() != 3 || t.len() != 3 {
        return None;
    }
    Some(
        f64::from(d[2]) * 86_400.0
            + f64::from(t[0]) * 3600.0
            + f64::from(t[1]) * 60.0
            + f64::from(t[2]),
    )
}

/// One UE replaying a shared trace from its own offset.
#[derive(Debug, Clone)]
pub struct TraceCqi {
    trace: std::sync::Arc<CqiTrace>,
    offset_s: f64,
}

impl TraceCqi {
    /// Replays `trace` starting `offset_s` seconds into it.
    pub fn new(trace: std::sync::Arc<CqiTrace>, offset_s: f64) -> Self {
        Self { trace, offset_s }
    }
}

impl CqiModel for TraceCqi {
    fn cqi_at(&mut self, t_ms: u64) -> u8 {
        self.trace.cqi_at_s(self.offset_s + t_ms as f64 / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sinr_thresholds_map_to_cqi() {
        assert_eq!(cqi_from_sinr_db(-10.0), 0);
        assert_eq!(cqi_from_sinr_db(-6.7), 1);
        assert_eq!(cqi_from_sinr_db(10.0), 8);
        assert_eq!(cqi_from_sinr_db(22.7), 15);
        assert_eq!(cqi_from_sinr_db(40.0), 15);
    }

    #[test]
    fn vehicular_model_is_deterministic_and_moves_across_cqis() {
        let sample = |seed| {
            let mut m = VehicularCqi::new(seed);
            (0..600).map(|s| m.cqi_at(s * 1000)).collect::<Vec<u8>>()
        };
        let a = sample(7);
        assert_eq!(a, sample(7));
        assert_ne!(a, sample(8));
        let min = *a.iter().min().unwrap();
        let max = *a.iter().max().unwrap();
        assert!(max >= 13, "near the gNB the car sees high CQI, max {max}");
        assert!(min <= 9, "far away the CQI drops, min {min}");
        // CQI changes slowly at 100 ms steps: mostly equal consecutive values.
        let mut m = VehicularCqi::new(7);
        let fine: Vec<u8> = (0..1000).map(|i| m.cqi_at(i * 100)).collect();
        let changes = fine.windows(2).filter(|w| w[0] != w[1]).count();
        assert!(changes < 400, "{changes} changes in 1000 steps");
    }

    #[test]
    fn trace_parses_ucc_columns_and_loops() {
        let text = "Timestamp,Speed,CQI,DL_bitrate\n\
                    2019.12.01_12.11.21,0,8,29\n\
                    2019.12.01_12.11.21,0,9,29\n\
                    2019.12.01_12.11.23,3,-,0\n\
                    2019.12.01_12.11.24,3,12,0\n";
        let trace = CqiTrace::parse(text, "t").unwrap();
        assert_eq!(trace.cqi_at_s(0.0), 9);
        assert_eq!(trace.cqi_at_s(2.5), 9);
        assert_eq!(trace.cqi_at_s(3.0), 12);
        assert_eq!(trace.duration_s(), 4.0);
        assert_eq!(trace.cqi_at_s(4.0), 9, "loops");
        let err = CqiTrace::parse("Timestamp,RSRP\n", "x").unwrap_err();
        assert!(err.to_string().contains("no 'CQI' column"), "{err}");
    }

    #[test]
    fn reads_a_real_ucc_trace_when_present() {
        let path = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/data/cqi/ucc5g_download_driving_B_2020.01.16_12.10.03.csv"
        ));
        if !path.exists() {
            eprintln!("skipping: {} not present", path.display());
            return;
        }
        let trace = CqiTrace::from_csv(path).unwrap();
        // SOURCE.md: 384 rows over 386 s, CQI 4..15.
        assert!(
            (380.0..=390.0).contains(&trace.duration_s()),
            "{}",
            trace.duration_s()
        );
        let cqis: Vec<u8> = (0..386).map(|s| trace.cqi_at_s(f64::from(s))).collect();
        assert_eq!(*cqis.iter().min().unwrap(), 4);
        assert_eq!(*cqis.iter().max().unwrap(), 15);
    }
}

//! Prometheus metrics of the xApp, served as text at `/metrics`. Every per-slice and per-UE
//! series carries the report's `cell` (`CellReport.cell_id`) beside `slice` (and `ue`).
//!
//! Cardinality is bounded: per-slice series are slices x cells (11 series per slice and
//! cell), per-UE series at most [`MetricsConfig::max_ue_series`] per process (UEs beyond it
//! get none, counted in `maestro_xapp_ue_series_omitted_total` and logged once), and a cell
//! that has not reported for [`MetricsConfig::stale_cell_ms`] loses all its series (as a UE
//! that leaves a report loses its own).

use prometheus::{
    Encoder, GaugeVec, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, IntGaugeVec,
    Opts, Registry, TextEncoder,
};

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use maestro_api::a1::{EnforceStatus, PolicyStatus};
use maestro_api::kpi::{CellReport, UeReport};
use maestro_api::shard::Shard;

/// The `metrics` settings: how many series the per-cell families may grow to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// UEs with per-UE series (`maestro_ue_wb_cqi`, `_mcs`, `_prbs`, `_dl_throughput_bps`)
    /// this process exports at most, over all cells.
    /// Default 10,000: 100 cells of 2 slices x 10 UEs fit five times over, and at the bound
    /// the UE series are about 1 MB of text per scrape; UEs beyond it get no series.
    #[serde(default = "default_max_ue_series")]
    pub max_ue_series: usize,
    /// A cell with no report for this long loses its series (default 30 s, six times the
    /// control loop's default `report_silence_ms`).
    #[serde(default = "default_stale_cell_ms")]
    pub stale_cell_ms: u64,
}

fn default_max_ue_series() -> usize {
    10_000
}

fn default_stale_cell_ms() -> u64 {
    30_000
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            max_ue_series: default_max_ue_series(),
            stale_cell_ms: default_stale_cell_ms(),
        }
    }
}

/// The per-cell series `/metrics` exports now, to remove what goes.
#[derive(Default)]
struct CellSeries {
    /// When the cell last reported.
    last_seen: Option<Instant>,
    /// Slice labels with per-slice series.
    slices: HashSet<String>,
    /// The UE ids with a `maestro_ue_wb_cqi` series, per slice label.
    ues: HashMap<String, HashSet<u32>>,
}

/// Every cell's series, and how many UE series there are in all.
#[derive(Default)]
struct Series {
    cells: HashMap<String, CellSeries>,
    ue_series: usize,
    last_sweep: Option<Instant>,
}

/// The per-slice families' quantile labels.
const QUANTILES: [(f64, &str); 3] = [(0.1, "0.1"), (0.5, "0.5"), (0.9, "0.9")];

/// How often, at most, `observe` looks for cells gone stale.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// The xApp's metric families.
#[derive(Clone)]
pub struct XappMetrics {
    limits: MetricsConfig,
    registry: Registry,
    slice_target_bps: GaugeVec,
    slice_throughput_bps: GaugeVec,
    slice_prb_quota: GaugeVec,
    slice_prb_used: GaugeVec,
    slice_required_prbs: GaugeVec,
    ue: UeGauges,
    /// The series each cell has: a UE that leaves (or a node that restarts with new UE ids)
    /// is removed, not frozen at its last CQI; so is a cell that stops reporting.
    series: Arc<Mutex<Series>>,
    ue_series_omitted: IntCounter,
    ue_bound_logged: Arc<AtomicBool>,
    cell_capacity_bps: GaugeVec,
    a1_requests: IntCounterVec,
    e2_controls: IntCounterVec,
    policies: IntGauge,
    kpi_subscribers: IntGauge,
    slice_cqi_mean: GaugeVec,
    slice_cqi_quantile: GaugeVec,
    slice_error_ratio: GaugeVec,
    slice_model_gain: GaugeVec,
    control_latency: Histogram,
    kpi_dropped: IntCounter,
    e2_connected: IntGauge,
    e2_bridge_restarts: IntCounter,
    policy_status_changes: IntCounterVec,
    policy_status_flaps_suppressed: IntCounter,
    shard_info: IntGaugeVec,
    shard_cells: IntGauge,
}

impl std::fmt::Debug for XappMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XappMetrics").finish_non_exhaustive()
    }
}

/// The per-UE families, set and removed together (one UE's series count once against
/// `max_ue_series`).
#[derive(Clone)]
struct UeGauges {
    cqi: GaugeVec,
    mcs: GaugeVec,
    prbs: GaugeVec,
    dl_bps: GaugeVec,
}

impl UeGauges {
    /// Sets one UE's series (`cell`, `slice`, `ue` labels) from its report.
    fn set(&self, labels: &[&str; 3], u: &UeReport) {
        self.cqi.with_label_values(labels).set(f64::from(u.wb_cqi));
        self.mcs.with_label_values(labels).set(f64::from(u.mcs));
        self.prbs.with_label_values(labels).set(f64::from(u.prbs));
        self.dl_bps
            .with_label_values(labels)
            .set(u.dl_throughput_bps);
    }

    /// Removes one UE's series (absent already is fine).
    fn remove(&self, labels: &[&str; 3]) {
        for family in [&self.cqi, &self.mcs, &self.prbs, &self.dl_bps] {
            let _ = family.remove_label_values(labels);
        }
    }
}

fn gauge(reg: &Registry, name: &str, help: &str, labels: &[&str]) -> prometheus::Result<GaugeVec> {
    let g = GaugeVec::new(Opts::new(name, help), labels)?;
    reg.register(Box::new(g.clone()))?;
    Ok(g)
}

fn counter(
    reg: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> prometheus::Result<IntCounterVec> {
    let c = IntCounterVec::new(Opts::new(name, help), labels)?;
    reg.register(Box::new(c.clone()))?;
    Ok(c)
}

impl XappMetrics {
    /// Registers every family in a fresh registry, with the default [`MetricsConfig`].
    pub fn new() -> prometheus::Result<Self> {
        Self::with_config(MetricsConfig::default())
    }

    /// Registers every family in a fresh registry, bounded by `limits`.
    pub fn with_config(limits: MetricsConfig) -> prometheus::Result<Self> {
        let r = Registry::new();
        let ue_series_omitted = IntCounter::new(
            "maestro_xapp_ue_series_omitted_total",
            "Per-UE series not exported (per UE and report) because metrics.max_ue_series \
             were already exported",
        )?;
        r.register(Box::new(ue_series_omitted.clone()))?;
        let policies = IntGauge::new("maestro_xapp_a1_policies", "A1 policies stored")?;
        r.register(Box::new(policies.clone()))?;
        let kpi_subscribers = IntGauge::new(
            "maestro_xapp_kpi_subscribers",
            "Open gRPC KPI stream subscriptions",
        )?;
        r.register(Box::new(kpi_subscribers.clone()))?;
        let control_latency = Histogram::with_opts(
            HistogramOpts::new(
                "maestro_xapp_control_latency_seconds",
                "From an E2 report (or an A1 change) to the control decided and sent, seconds",
            )
            .buckets(vec![
                1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 0.1,
            ]),
        )?;
        r.register(Box::new(control_latency.clone()))?;
        let kpi_dropped = IntCounter::new(
            "maestro_xapp_kpi_dropped_reports_total",
            "KPI reports slow gRPC subscribers lost (their buffers were full)",
        )?;
        r.register(Box::new(kpi_dropped.clone()))?;
        let e2_connected = IntGauge::new(
            "maestro_xapp_e2_connected",
            "1 while the E2 side (node, RIC or bridge child) is connected, 0 while it is down",
        )?;
        r.register(Box::new(e2_connected.clone()))?;
        let e2_bridge_restarts = IntCounter::new(
            "maestro_xapp_e2_bridge_restarts_total",
            "Restarts of the supervised `maestro e2-bridge` child",
        )?;
        r.register(Box::new(e2_bridge_restarts.clone()))?;
        let policy_status_changes = counter(
            &r,
            "maestro_xapp_policy_status_changes_total",
            "A1 policy statuses written (and notified to the owner, A1AP v2 clause 5.2.6) by new \
             enforceStatus",
            &["status"],
        )?;
        // Both series from the start, so rate() and increase() see the first change.
        for status in ["ENFORCED", "NOT_ENFORCED"] {
            policy_status_changes.with_label_values(&[status]);
        }
        let policy_status_flaps_suppressed = IntCounter::new(
            "maestro_xapp_policy_status_flaps_suppressed_total",
            "Policy status changes estimated from the measurements that reverted before \
             control.status_hold_ms, so were never written nor notified",
        )?;
        r.register(Box::new(policy_status_flaps_suppressed.clone()))?;
        let shard_info = IntGaugeVec::new(
            Opts::new(
                "maestro_xapp_shard_info",
                "This replica's shard of the RAN (1): index of count (0 of 1: the whole RAN); \
                 it serves the cells whose FNV-1a-64 id hash mod count is its index",
            ),
            &["index", "count"],
        )?;
        r.register(Box::new(shard_info.clone()))?;
        let shard_cells = IntGauge::new(
            "maestro_xapp_shard_cells",
            "Cells this replica's shard owns and serves (at start-up, and as cells join)",
        )?;
        r.register(Box::new(shard_cells.clone()))?;
        Ok(Self {
            shard_info,
            shard_cells,
            limits,
            ue_series_omitted,
            ue_bound_logged: Arc::default(),
            e2_connected,
            e2_bridge_restarts,
            policy_status_changes,
            policy_status_flaps_suppressed,
            slice_cqi_mean: gauge(
                &r,
                "maestro_slice_cqi_mean",
                "Mean wide-band CQI of the slice's UEs (CQI index, TS 38.214 Table 5.2.2.1-2)",
                &["cell", "slice"],
            )?,
            slice_cqi_quantile: gauge(
                &r,
                "maestro_slice_cqi",
                "Wide-band CQI quantiles of the slice's UEs (nearest rank; CQI index)",
                &["cell", "slice", "quantile"],
            )?,
            slice_error_ratio: gauge(
                &r,
                "maestro_slice_enforcement_error_ratio",
                "(measured - target) / target DL throughput of the slice over the last period",
                &["cell", "slice"],
            )?,
            slice_model_gain: gauge(
                &r,
                "maestro_slice_model_gain_ratio",
                "Measured / CQI-modelled throughput the closed loop has learnt for the slice",
                &["cell", "slice"],
            )?,
            control_latency,
            kpi_dropped,
            slice_target_bps: gauge(
                &r,
                "maestro_slice_target_dl_bps",
                "DL throughput target of the slice's A1 policy, bit/s",
                &["cell", "slice"],
            )?,
            slice_throughput_bps: gauge(
                &r,
                "maestro_slice_dl_throughput_bps",
                "Measured DL throughput of the slice over the last report period, bit/s",
                &["cell", "slice"],
            )?,
            slice_prb_quota: gauge(
                &r,
                "maestro_slice_prb_quota",
                "PRBs per DL slot the slice may use",
                &["cell", "slice"],
            )?,
            slice_prb_used: gauge(
                &r,
                "maestro_slice_prb_used",
                "PRBs per DL slot the slice used (mean over the period)",
                &["cell", "slice"],
            )?,
            slice_required_prbs: gauge(
                &r,
                "maestro_slice_required_prbs",
                "PRBs the target needs at the current CQIs (TS 38.214)",
                &["cell", "slice"],
            )?,
            ue: UeGauges {
                cqi: gauge(
                    &r,
                    "maestro_ue_wb_cqi",
                    "Wide-band CQI of the UE (TS 38.214 Table 5.2.2.1-2)",
                    &["cell", "slice", "ue"],
                )?,
                mcs: gauge(
                    &r,
                    "maestro_ue_mcs",
                    "MCS index (TS 38.214 Table 5.1.3.1-1) the scheduler used for the UE",
                    &["cell", "slice", "ue"],
                )?,
                prbs: gauge(
                    &r,
                    "maestro_ue_prbs",
                    "PRBs per DL slot scheduled to the UE, mean over the report period",
                    &["cell", "slice", "ue"],
                )?,
                dl_bps: gauge(
                    &r,
                    "maestro_ue_dl_throughput_bps",
                    "DL throughput the UE received over the report period, bit/s",
                    &["cell", "slice", "ue"],
                )?,
            },
            cell_capacity_bps: gauge(
                &r,
                "maestro_cell_capacity_dl_bps",
                "DL throughput of all PRBs at the current CQIs, bit/s",
                &["cell"],
            )?,
            a1_requests: counter(
                &r,
                "maestro_xapp_a1_requests_total",
                "A1-P requests by method and status code",
                &["method", "code"],
            )?,
            e2_controls: counter(
                &r,
                "maestro_xapp_e2_controls_total",
                "E2 slice PRB quota controls by outcome",
                &["outcome"],
            )?,
            series: Arc::default(),
            policies,
            kpi_subscribers,
            registry: r,
        })
    }

    /// The per-slice families labelled `[cell, slice]`.
    fn slice_families(&self) -> [&GaugeVec; 8] {
        [
            &self.slice_target_bps,
            &self.slice_throughput_bps,
            &self.slice_prb_quota,
            &self.slice_prb_used,
            &self.slice_required_prbs,
            &self.slice_model_gain,
            &self.slice_error_ratio,
            &self.slice_cqi_mean,
        ]
    }

    /// Records one period's report, under its cell.
    pub fn observe(&self, report: &CellReport) {
        let cell = report.cell_id.as_str();
        self.cell_capacity_bps
            .with_label_values(&[cell])
            .set(report.capacity_bps);
        for s in &report.slices {
            let l = [cell, s.label.as_str()];
            self.slice_target_bps
                .with_label_values(&l)
                .set(s.target_bps);
            self.slice_throughput_bps
                .with_label_values(&l)
                .set(s.dl_throughput_bps);
            self.slice_prb_quota
                .with_label_values(&l)
                .set(f64::from(s.prb_quota));
            self.slice_prb_used.with_label_values(&l).set(s.prb_used);
            self.slice_required_prbs
                .with_label_values(&l)
                .set(f64::from(s.required_prbs));
            self.slice_model_gain
                .with_label_values(&l)
                .set(s.model_gain);
            if s.target_bps > 0.0 {
                self.slice_error_ratio
                    .with_label_values(&l)
                    .set((s.dl_throughput_bps - s.target_bps) / s.target_bps);
            }
            let mut cqis: Vec<u32> = s.ues.iter().map(|u| u.wb_cqi).collect();
            cqis.sort_unstable();
            if !cqis.is_empty() {
                let mean = cqis.iter().map(|&c| f64::from(c)).sum::<f64>() / cqis.len() as f64;
                self.slice_cqi_mean.with_label_values(&l).set(mean);
                for (q, label) in QUANTILES {
                    let rank = ((q * cqis.len() as f64).ceil() as usize).clamp(1, cqis.len());
                    self.slice_cqi_quantile
                        .with_label_values(&[cell, s.label.as_str(), label])
                        .set(f64::from(cqis[rank - 1]));
                }
            }
        }
        let now = Instant::now();
        let mut series = self
            .series
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.observe_ues(&mut series, report, now);
        self.sweep_stale(&mut series, cell, now);
    }

    /// Sets each reported UE's CQI (within `max_ue_series`) and removes the series of UEs the
    /// cell's report no longer has.
    fn observe_ues(&self, series: &mut Series, report: &CellReport, now: Instant) {
        let cell = report.cell_id.as_str();
        let Series {
            cells, ue_series, ..
        } = series;
        let entry = match cells.get_mut(cell) {
            Some(entry) => entry,
            None => cells.entry(cell.to_owned()).or_default(),
        };
        entry.last_seen = Some(now);
        let mut omitted = 0u64;
        for s in &report.slices {
            if !entry.slices.contains(&s.label) {
                entry.slices.insert(s.label.clone());
            }
            let label = s.label.as_str();
            let known = entry.ues.get(label);
            // Steady state (the same UEs as last period, all with series): set them.
            if known.is_some_and(|k| {
                k.len() == s.ues.len() && s.ues.iter().all(|u| k.contains(&u.ue_id))
            }) {
                for u in &s.ues {
                    self.ue.set(&[cell, label, u.ue_id.to_string().as_str()], u);
                }
                continue;
            }
            let mut with_series = entry.ues.remove(label).unwrap_or_default();
            let now_ids: HashSet<u32> = s.ues.iter().map(|u| u.ue_id).collect();
            with_series.retain(|ue| {
                let stays = now_ids.contains(ue);
                if !stays {
                    // Absent already is fine: nothing to remove.
                    self.ue.remove(&[cell, label, ue.to_string().as_str()]);
                    *ue_series -= 1;
                }
                stays
            });
            for u in &s.ues {
                if !with_series.contains(&u.ue_id) {
                    if *ue_series >= self.limits.max_ue_series {
                        omitted += 1;
                        continue;
                    }
                    with_series.insert(u.ue_id);
                    *ue_series += 1;
                }
                self.ue.set(&[cell, label, u.ue_id.to_string().as_str()], u);
            }
            entry.ues.insert(s.label.clone(), with_series);
        }
        // Slices gone from the report take their UEs with them.
        entry.ues.retain(|label, ues| {
            let present = report.slices.iter().any(|s| &s.label == label);
            if !present {
                for ue in ues.iter() {
                    self.ue
                        .remove(&[cell, label.as_str(), ue.to_string().as_str()]);
                }
                *ue_series -= ues.len();
            }
            present
        });
        if omitted > 0 {
            self.ue_series_omitted.inc_by(omitted);
            if !self.ue_bound_logged.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    max_ue_series = self.limits.max_ue_series,
                    cell,
                    omitted,
                    "per-UE metric series bound reached: further UEs get no maestro_ue_wb_cqi \
                     series (counted in maestro_xapp_ue_series_omitted_total; raise \
                     metrics.max_ue_series to export more); logged once"
                );
            }
        }
    }

    /// Removes the series of cells other than `current` silent for `stale_cell_ms`, looking
    /// at most once per second (or per `stale_cell_ms`, when shorter).
    fn sweep_stale(&self, series: &mut Series, current: &str, now: Instant) {
        let stale_after = Duration::from_millis(self.limits.stale_cell_ms);
        if series
            .last_sweep
            .is_some_and(|t| now.duration_since(t) < SWEEP_EVERY.min(stale_after))
        {
            return;
        }
        series.last_sweep = Some(now);
        let stale: Vec<String> = series
            .cells
            .iter()
            .filter(|(cell, s)| {
                cell.as_str() != current
                    && s.last_seen
                        .is_some_and(|t| now.duration_since(t) >= stale_after)
            })
            .map(|(cell, _)| cell.clone())
            .collect();
        for cell in stale {
            tracing::info!(cell = %cell, "cell silent: its metric series are removed");
            self.remove_cell(series, &cell);
        }
    }

    /// Removes every series of `cell` (a cell the E2 side no longer serves).
    pub fn forget_cell(&self, cell: &str) {
        let mut series = self
            .series
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.remove_cell(&mut series, cell);
    }

    fn remove_cell(&self, series: &mut Series, cell: &str) {
        let _ = self.cell_capacity_bps.remove_label_values(&[cell]);
        let Some(gone) = series.cells.remove(cell) else {
            return;
        };
        for slice in &gone.slices {
            for family in self.slice_families() {
                let _ = family.remove_label_values(&[cell, slice.as_str()]);
            }
            for (_, q) in QUANTILES {
                let _ = self
                    .slice_cqi_quantile
                    .remove_label_values(&[cell, slice.as_str(), q]);
            }
        }
        for (slice, ues) in &gone.ues {
            for ue in ues {
                self.ue
                    .remove(&[cell, slice.as_str(), ue.to_string().as_str()]);
            }
            series.ue_series -= ues.len();
        }
    }

    /// Counts an A1 request.
    pub fn a1_request(&self, method: &str, code: u16) {
        self.a1_requests
            .with_label_values(&[method, code.to_string().as_str()])
            .inc();
    }

    /// Counts an E2 control by outcome (`ack`, `failed`, `error`).
    pub fn e2_control(&self, outcome: &str) {
        self.e2_controls.with_label_values(&[outcome]).inc();
    }

    /// Records one control decision's latency.
    pub fn control_latency(&self, seconds: f64) {
        self.control_latency.observe(seconds);
    }

    /// Counts KPI reports a slow subscriber lost.
    pub fn kpi_dropped(&self, n: u64) {
        self.kpi_dropped.inc_by(n);
    }

    /// Sets `maestro_xapp_e2_connected`.
    pub fn set_e2_connected(&self, connected: bool) {
        self.e2_connected.set(i64::from(connected));
    }

    /// Counts E2 bridge child restarts.
    pub fn e2_bridge_restarts(&self, n: u64) {
        self.e2_bridge_restarts.inc_by(n);
    }

    /// Counts a policy status written, by its `enforceStatus`.
    pub fn policy_status_change(&self, status: &PolicyStatus) {
        let label = match status.enforce_status {
            EnforceStatus::Enforced => "ENFORCED",
            EnforceStatus::NotEnforced => "NOT_ENFORCED",
        };
        self.policy_status_changes.with_label_values(&[label]).inc();
    }

    /// Counts status flaps the hysteresis kept from the policies' owners.
    pub fn policy_status_flaps_suppressed(&self, n: u64) {
        self.policy_status_flaps_suppressed.inc_by(n);
    }

    /// Sets `maestro_xapp_shard_info{index, count}` (one series) and `maestro_xapp_shard_cells`.
    pub fn set_shard(&self, shard: Shard, cells: usize) {
        self.shard_info.reset();
        self.shard_info
            .with_label_values(&[&shard.index.to_string(), &shard.count.to_string()])
            .set(1);
        self.shard_cells.set(cells as i64);
    }

    /// A cell joined: `maestro_xapp_shard_cells` becomes `cells` if that is more (the cells
    /// counted at start-up include those not yet heard from).
    pub fn shard_cells_at_least(&self, cells: usize) {
        let cells = i64::try_from(cells).unwrap_or(i64::MAX);
        if cells > self.shard_cells.get() {
            self.shard_cells.set(cells);
        }
    }

    /// Sets the stored-policy gauge.
    pub fn set_policies(&self, n: usize) {
        self.policies.set(n as i64);
    }

    /// Tracks KPI stream subscriptions (+1 / -1).
    pub fn kpi_subscribers_add(&self, delta: i64) {
        self.kpi_subscribers.add(delta);
    }

    /// Text exposition format.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let encoder = TextEncoder::new();
        if let Err(e) = encoder.encode(&self.registry.gather(), &mut buf) {
            return format!("# metrics encoding failed: {e}\n");
        }
        String::from_utf8_lossy(&buf).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use maestro_api::kpi::{SliceReport, UeReport};

    #[test]
    fn the_shard_is_one_series_and_its_cells_a_count() {
        let m = XappMetrics::new().unwrap();
        m.set_shard(Shard::WHOLE, 1);
        m.set_shard(Shard::new(2, 3).unwrap(), 4);
        let text = m.render();
        assert!(
            text.contains("maestro_xapp_shard_info{count=\"3\",index=\"2\"} 1"),
            "{text}"
        );
        assert!(!text.contains("count=\"1\""), "{text}");
        assert!(text.contains("maestro_xapp_shard_cells 4"), "{text}");
        // A first report of one of the four does not lower it; a fifth cell raises it.
        m.shard_cells_at_least(1);
        assert!(m.render().contains("maestro_xapp_shard_cells 4"));
        m.shard_cells_at_least(5);
        assert!(m.render().contains("maestro_xapp_shard_cells 5"));
    }

    fn report(ues: &[u32]) -> CellReport {
        CellReport {
            cell_id: "cell-1".into(),
            slices: vec![SliceReport {
                label: "001-01/sst1-sd000001".into(),
                ues: ues
                    .iter()
                    .map(|&ue_id| UeReport {
                        ue_id,
                        wb_cqi: 9,
                        ..UeReport::default()
                    })
                    .collect(),
                ..SliceReport::default()
            }],
            ..CellReport::default()
        }
    }

    #[test]
    fn a_ues_cqi_mcs_prbs_and_throughput_are_each_a_series() {
        let m = XappMetrics::new().unwrap();
        let mut r = report(&[7]);
        r.slices[0].ues[0] = UeReport {
            ue_id: 7,
            wb_cqi: 0,
            mcs: 9,
            prbs: 30,
            dl_throughput_bps: 7.0e6,
        };
        m.observe(&r);
        let text = m.render();
        let labels = r#"{cell="cell-1",slice="001-01/sst1-sd000001",ue="7"}"#;
        for (family, value) in [
            ("maestro_ue_wb_cqi", "0"),
            ("maestro_ue_mcs", "9"),
            ("maestro_ue_prbs", "30"),
            ("maestro_ue_dl_throughput_bps", "7000000"),
        ] {
            let line = format!("{family}{labels} {value}");
            assert!(text.contains(&line), "no {line} in\n{text}");
        }
    }

    #[test]
    fn a_ue_that_leaves_the_report_leaves_metrics() {
        let m = XappMetrics::new().unwrap();
        m.observe(&report(&[22, 23]));
        let text = m.render();
        assert!(
            text.contains(r#"ue="22""#) && text.contains(r#"ue="23""#),
            "{text}"
        );
        // The node restarted: new UE ids, the old ones are gone.
        m.observe(&report(&[41]));
        let text = m.render();
        assert!(text.contains(r#"ue="41""#), "{text}");
        assert!(
            !text.contains(r#"ue="22""#) && !text.contains(r#"ue="23""#),
            "{text}"
        );
        // The same UEs again: kept (the steady state); then the slice leaves the report.
        m.observe(&report(&[41]));
        assert!(m.render().contains(r#"ue="41""#));
        m.observe(&CellReport {
            cell_id: "cell-1".into(),
            ..CellReport::default()
        });
        let text = m.render();
        assert!(!text.contains("maestro_ue_wb_cqi{"), "{text}");
    }

    fn cell_report(cell: &str, slices: &[(&str, &[u32])]) -> CellReport {
        CellReport {
            cell_id: cell.into(),
            slices: slices
                .iter()
                .map(|(label, ues)| SliceReport {
                    label: (*label).into(),
                    target_bps: 1e7,
                    ues: ues
                        .iter()
                        .map(|&ue_id| UeReport {
                            ue_id,
                            wb_cqi: 7,
                            ..UeReport::default()
                        })
                        .collect(),
                    ..SliceReport::default()
                })
                .collect(),
            ..CellReport::default()
        }
    }

    /// The lines of `text` of the family `name` (its samples, not its comments).
    fn samples<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
        text.lines()
            .filter(|l| l.starts_with(&format!("{name}{{")))
            .collect()
    }

    #[test]
    fn every_slice_and_ue_series_carries_its_cell() {
        let m = XappMetrics::new().unwrap();
        m.observe(&cell_report("c1", &[("s1", &[1, 2])]));
        m.observe(&cell_report("c2", &[("s1", &[1])]));
        let text = m.render();
        for family in [
            "maestro_slice_target_dl_bps",
            "maestro_slice_dl_throughput_bps",
            "maestro_slice_prb_quota",
            "maestro_slice_prb_used",
            "maestro_slice_required_prbs",
            "maestro_slice_model_gain_ratio",
            "maestro_slice_enforcement_error_ratio",
            "maestro_slice_cqi_mean",
        ] {
            let lines = samples(&text, family);
            assert_eq!(lines.len(), 2, "{family}: one series per cell\n{text}");
            assert!(
                lines[0].contains(r#"cell="c1",slice="s1""#),
                "{family}\n{text}"
            );
            assert!(
                lines[1].contains(r#"cell="c2",slice="s1""#),
                "{family}\n{text}"
            );
        }
        assert_eq!(samples(&text, "maestro_slice_cqi").len(), 6, "{text}");
        let ues = samples(&text, "maestro_ue_wb_cqi");
        assert_eq!(
            ues,
            [
                r#"maestro_ue_wb_cqi{cell="c1",slice="s1",ue="1"} 7"#,
                r#"maestro_ue_wb_cqi{cell="c1",slice="s1",ue="2"} 7"#,
                r#"maestro_ue_wb_cqi{cell="c2",slice="s1",ue="1"} 7"#,
            ]
        );
        // One cell's UE leaving is that cell's business only.
        m.observe(&cell_report("c1", &[("s1", &[2])]));
        let text = m.render();
        let ues = samples(&text, "maestro_ue_wb_cqi");
        assert_eq!(ues.len(), 2, "{text}");
        assert!(text.contains(r#"maestro_ue_wb_cqi{cell="c2",slice="s1",ue="1"} 7"#));
    }

    #[test]
    fn ue_series_stop_at_the_bound_and_the_rest_are_counted() {
        let m = XappMetrics::with_config(MetricsConfig {
            max_ue_series: 3,
            ..MetricsConfig::default()
        })
        .unwrap();
        m.observe(&cell_report("c1", &[("s1", &[1, 2])]));
        m.observe(&cell_report("c2", &[("s1", &[1, 2])]));
        let text = m.render();
        assert_eq!(samples(&text, "maestro_ue_wb_cqi").len(), 3, "{text}");
        assert!(
            text.contains("maestro_xapp_ue_series_omitted_total 1"),
            "{text}"
        );
        // The UEs that had series keep them (no churn); the bound counts again each report.
        m.observe(&cell_report("c2", &[("s1", &[1, 2])]));
        let text = m.render();
        assert!(text.contains(r#"cell="c2",slice="s1",ue="1""#), "{text}");
        assert!(!text.contains(r#"cell="c2",slice="s1",ue="2""#), "{text}");
        assert!(
            text.contains("maestro_xapp_ue_series_omitted_total 2"),
            "{text}"
        );
        // A UE leaving frees room for one waiting.
        m.observe(&cell_report("c1", &[("s1", &[1])]));
        m.observe(&cell_report("c2", &[("s1", &[1, 2])]));
        let text = m.render();
        assert_eq!(samples(&text, "maestro_ue_wb_cqi").len(), 3, "{text}");
        assert!(text.contains(r#"cell="c2",slice="s1",ue="2""#), "{text}");
        assert!(
            text.contains("maestro_xapp_ue_series_omitted_total 2"),
            "{text}"
        );
    }

    #[test]
    fn a_cell_that_stops_reporting_loses_its_series() {
        let m = XappMetrics::with_config(MetricsConfig {
            stale_cell_ms: 0,
            ..MetricsConfig::default()
        })
        .unwrap();
        m.observe(&cell_report("c1", &[("s1", &[1, 2])]));
        m.observe(&cell_report("c2", &[("s1", &[1])]));
        let text = m.render();
        assert!(!text.contains(r#"cell="c1""#), "{text}");
        assert!(text.contains(r#"maestro_slice_target_dl_bps{cell="c2",slice="s1"}"#));
        m.forget_cell("c2");
        let text = m.render();
        assert!(!text.contains("cell="), "{text}");
        // The UE count went down with them: a new cell has the whole bound.
        let m = XappMetrics::with_config(MetricsConfig {
            max_ue_series: 2,
            ..MetricsConfig::default()
        })
        .unwrap();
        m.observe(&cell_report("c1", &[("s1", &[1, 2])]));
        m.forget_cell("c1");
        m.observe(&cell_report("c3", &[("s1", &[1, 2])]));
        assert_eq!(samples(&m.render(), "maestro_ue_wb_cqi").len(), 2);
        // Within the default 30 s, a quiet cell keeps its series.
        let m = XappMetrics::new().unwrap();
        m.observe(&cell_report("c1", &[("s1", &[1])]));
        m.observe(&cell_report("c2", &[("s1", &[1])]));
        assert!(m.render().contains(r#"cell="c1""#));
    }
}

//! Observability unit, fed by the xApp's KPI stream: the cell's maximum achievable throughput
//! now, and per slice how the delivered throughput tracks the enforced target.
//!
//! - [`CellView`]: what one KPI report says about the cell (CQI, maximum achievable and
//!   delivered throughput), from the gRPC stream ([`CellView::from_report`]) or, when
//!   configured, from a Prometheus server's HTTP query API ([`PrometheusSource`], PromQL over
//!   the xApp's `/metrics`).
//! - [`RenegotiationTrigger`]: fires when the enforced consensus has been unachievable, or far
//!   below what the cell can carry, for a hold time (on the gNB's clock).
//! - [`topic_holds`]: whether a running negotiation's topic still holds (the cell has not lost
//!   most of the capacity the negotiation started from); the engine halts one that does not.
//! - [`Observer`]: per-slice account of how the measured throughput tracks the target.

use std::collections::BTreeMap;
use std::time::Duration;

use maestro_api::kpi::{CellReport, SliceReport};
use serde::{Deserialize, Serialize};

/// Relative tolerance within which a slice counts as holding its target (5%).
pub const TARGET_TOLERANCE: f64 = 0.05;

/// Maximum achievable throughput per slice now, Mbps, if `n_slices` share the cell equally.
pub fn fair_share_mbps(report: &CellReport, n_slices: usize) -> f64 {
    report.capacity_bps / 1e6 / n_slices.max(1) as f64
}

/// Running account of one slice since its target was enforced.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SliceTally {
    /// Target in force, bits/s.
    pub target_bps: f64,
    /// Periods observed with that target in force for the whole period.
    pub periods: u64,
    /// Of those, periods where the target fit the cell at the period's CQIs.
    pub achievable_periods: u64,
    /// Sum of measured throughput over achievable periods, bits/s.
    pub achievable_throughput_sum_bps: f64,
    /// Achievable periods whose own throughput was within tolerance.
    pub periods_within_tolerance: u64,
    /// The slice's last report.
    #[serde(skip)]
    pub last: Option<SliceReport>,
    #[serde(skip)]
    prev_target_bps: Option<f64>,
}

impl SliceTally {
    /// Mean measured throughput over achievable periods, bits/s.
    pub fn mean_achievable_bps(&self) -> Option<f64> {
        (self.achievable_periods > 0)
            .then(|| self.achievable_throughput_sum_bps / self.achievable_periods as f64)
    }
}

/// Folds KPI reports into per-slice tallies.
#[derive(Debug, Default)]
pub struct Observer {
    /// Reports received.
    pub reports: u64,
    /// Latest report.
    pub latest: Option<CellReport>,
    /// Per slice label.
    pub slices: BTreeMap<String, SliceTally>,
}

impl Observer {
    /// Accounts one report. A period counts for a slice only when the same non-zero target was
    /// already in force in the previous report (so the controller had set the quota for it).
    pub fn observe(&mut self, report: CellReport) {
        self.reports += 1;
        for s in &report.slices {
            let t = self.slices.entry(s.label.clone()).or_default();
            let settled = s.target_bps > 0.0 && t.prev_target_bps == Some(s.target_bps);
            if t.target_bps != s.target_bps {
                // A new target: restart the account.
                *t = SliceTally {
                    target_bps: s.target_bps,
                    ..Default::default()
                };
            }
            if settled {
                t.periods += 1;
                if s.achievable {
                    t.achievable_periods += 1;
                    t.achievable_throughput_sum_bps += s.dl_throughput_bps;
                    if (s.dl_throughput_bps - s.target_bps).abs() <= TARGET_TOLERANCE * s.target_bps
                    {
                        t.periods_within_tolerance += 1;
                    }
                }
            }
            t.prev_target_bps = Some(s.target_bps);
            t.last = Some(s.clone());
        }
        self.latest = Some(report);
    }
}

/// What the observability unit derives from one KPI report for the cell.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CellView {
    /// gNB clock at the end of the period, ms.
    pub t_ms: u64,
    /// Mean wide-band CQI of the cell's schedulable UEs (TS 38.214 Table 5.2.2.1-2; 0 when none).
    pub cqi_mean: f64,
    /// Maximum throughput the cell can deliver now, Mbps: all PRBs at the current CQIs
    /// (TS 38.214 clause 5.1.3.2 arithmetic, done by the xApp), times the measured / modelled
    /// gain its closed loop has learnt.
    pub max_achievable_mbps: f64,
    /// Throughput the cell delivered over the period, all slices, Mbps.
    pub delivered_mbps: f64,
}

impl CellView {
    /// The view of one KPI stream report.
    pub fn from_report(report: &CellReport) -> Self {
        let cqis: Vec<f64> = report
            .slices
            .iter()
            .flat_map(|s| s.ues.iter())
            .filter(|u| u.wb_cqi > 0)
            .map(|u| f64::from(u.wb_cqi))
            .collect();
        let gains: Vec<f64> = report
            .slices
            .iter()
            .map(|s| s.model_gain)
            .filter(|g| g.is_finite() && *g > 0.0)
            .collect();
        Self {
            t_ms: report.sim_time_ms,
            cqi_mean: mean(&cqis).unwrap_or(0.0),
            max_achievable_mbps: report.capacity_bps / 1e6 * mean(&gains).unwrap_or(1.0),
            delivered_mbps: report
                .slices
                .iter()
                .map(|s| s.dl_throughput_bps)
                .sum::<f64>()
                / 1e6,
        }
    }
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// When the trigger fires.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TriggerConfig {
    /// How long a condition must hold before a renegotiation, ms of the gNB's clock.
    pub hold_ms: u64,
    /// "Far below capacity": the consensus is under what the operators would agree on at the
    /// current capacity by more than this share of that...
    pub far_below_share: f64,
    /// ...and by more than this many Mbps.
    pub far_below_gap_mbps: f64,
}

impl Default for TriggerConfig {
    fn default() -> Self {
        Self {
            hold_ms: 3000,
            far_below_share: 0.2,
            far_below_gap_mbps: 5.0,
        }
    }
}

/// Why a renegotiation was triggered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerReason {
    /// The consensus in force exceeds what the cell can deliver.
    Unachievable,
    /// The consensus in force is far below what the cell can deliver and the operators want.
    FarBelowCapacity,
}

/// A trigger that fired.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Fired {
    /// Why.
    pub reason: TriggerReason,
    /// Since when the condition held, ms of the gNB's clock.
    pub since_ms: u64,
    /// When it fired, ms of the gNB's clock.
    pub at_ms: u64,
    /// The consensus in force, Mbps.
    pub consensus_mbps: f64,
    /// The cell's maximum achievable throughput when it fired, Mbps.
    pub max_achievable_mbps: f64,
}

/// Fires a renegotiation when the enforced consensus has been unachievable, or far below
/// capacity, for the hold time. "Far below" is measured against `wanted`: what the operators
/// would agree on if the cell's current capacity bounded them (the caller's estimate, e.g. the
/// optimum of their utilities within the capacity), so a consensus that was capped by a poor
/// channel is raised again when the channel recovers, and one that is low by choice is not. After firing it re-arms: the condition must hold again for the
/// whole hold time (against the new consensus) before it fires again.
#[derive(Debug, Clone, Default)]
pub struct RenegotiationTrigger {
    config: TriggerConfig,
    pending: Option<(TriggerReason, u64)>,
}

impl RenegotiationTrigger {
    /// A trigger with these settings.
    pub fn new(config: TriggerConfig) -> Self {
        Self {
            config,
            pending: None,
        }
    }

    /// Forgets any condition seen so far (call when a new consensus is enforced).
    pub fn reset(&mut self) {
        self.pending = None;
    }

    /// The condition `view` shows for `consensus_mbps` when the operators would want
    /// `wanted_mbps`, if any.
    pub fn condition(
        &self,
        view: &CellView,
        consensus_mbps: f64,
        wanted_mbps: f64,
    ) -> Option<TriggerReason> {
        let cap = view.max_achievable_mbps;
        let shortfall = wanted_mbps.min(cap) - consensus_mbps;
        if consensus_mbps > cap {
            Some(TriggerReason::Unachievable)
        } else if shortfall > self.config.far_below_gap_mbps
            && shortfall > self.config.far_below_share * wanted_mbps
        {
            Some(TriggerReason::FarBelowCapacity)
        } else {
            None
        }
    }

    /// Accounts one view with `consensus_mbps` in force (`None`: nothing enforced yet, never
    /// fires) and the operators wanting `wanted_mbps`; returns the trigger when a condition
    /// has held for the hold time.
    pub fn update(
        &mut self,
        view: &CellView,
        consensus_mbps: Option<f64>,
        wanted_mbps: f64,
    ) -> Option<Fired> {
        let Some(consensus) = consensus_mbps else {
            self.pending = None;
            return None;
        };
        let now = self.condition(view, consensus, wanted_mbps);
        self.pending = match (now, self.pending) {
            (None, _) => None,
            (Some(r), Some((p, since))) if r == p => Some((p, since)),
            (Some(r), _) => Some((r, view.t_ms)),
        };
        let (reason, since_ms) = self.pending?;
        if view.t_ms.saturating_sub(since_ms) < self.config.hold_ms {
            return None;
        }
        self.pending = None;
        Some(Fired {
            reason,
            since_ms,
            at_ms: view.t_ms,
            consensus_mbps: consensus,
            max_achievable_mbps: view.max_achievable_mbps,
        })
    }
}

/// Whether a negotiation's topic still holds: the cell keeps at least `share` of the maximum
/// achievable throughput it had when the negotiation started (otherwise every demand on the
/// table refers to a cell that no longer exists, and the negotiation halts to restart on the
/// new capacity).
pub fn topic_holds(started_mbps: f64, now_mbps: f64, share: f64) -> bool {
    now_mbps >= share * started_mbps
}

/// Prometheus source failures.
#[derive(Debug, thiserror::Error)]
pub enum PrometheusError {
    /// The server could not be reached or answered with an HTTP error.
    #[error("Prometheus at {url}: {reason}")]
    Http {
        /// Query URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The server answered `"status": "error"`.
    #[error("Prometheus query {query:?} failed: {error_type}: {error}")]
    Query {
        /// The PromQL.
        query: String,
        /// `errorType`.
        error_type: String,
        /// `error`.
        error: String,
    },
    /// The answer is not Prometheus's query API format, or the series is missing.
    #[error("Prometheus query {query:?}: {reason}")]
    Format {
        /// The PromQL.
        query: String,
        /// What is wrong.
        reason: String,
    },
}

/// One sample of an instant query's result.
#[derive(Debug, Clone, PartialEq)]
pub struct PromSample {
    /// Series labels (`__name__` included when the server keeps it).
    pub labels: BTreeMap<String, String>,
    /// Evaluation time, s since the Unix epoch.
    pub timestamp_s: f64,
    /// Value.
    pub value: f64,
}

/// The observability unit's optional second source: a Prometheus server scraping the xApp,
/// queried with PromQL over its HTTP API (`GET /api/v1/query`, instant queries).
#[derive(Debug, Clone)]
pub struct PrometheusSource {
    base_url: String,
    client: reqwest::Client,
    /// The one cell viewed (its `cell` label); `None`: every cell the queries see, summed.
    cell: Option<String>,
}

/// PromQL for the cell's capacity (the xApp's `maestro_cell_capacity_dl_bps`), bits/s. These
/// aggregate every series they see; with many cells, [`PrometheusSource::for_cell`] narrows
/// each to one cell's series ([`for_cell`]).
pub const PROMQL_CAPACITY: &str = "sum(maestro_cell_capacity_dl_bps)";
/// PromQL for the delivered throughput of all slices, bits/s.
pub const PROMQL_DELIVERED: &str = "sum(maestro_slice_dl_throughput_bps)";
/// PromQL for the mean CQI over the slices.
pub const PROMQL_CQI: &str = "avg(maestro_slice_cqi_mean)";
/// PromQL for the learnt measured / modelled gain.
pub const PROMQL_GAIN: &str = "avg(maestro_slice_model_gain_ratio)";

#[derive(Deserialize)]
struct PromResponse {
    status: String,
    #[serde(default)]
    data: Option<PromData>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct PromData {
    #[serde(rename = "resultType")]
    result_type: String,
    result: serde_json::Value,
}

#[derive(Deserialize)]
struct PromVectorItem {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    value: (f64, String),
}

/// `query` (one of the `PROMQL_*`, `agg(metric)`) narrowed to the series of `cell`, e.g.
/// `sum(maestro_cell_capacity_dl_bps{cell="001-01-0000000002"})` (the xApp labels its
/// series by cell); unchanged for `None`.
pub fn for_cell(query: &str, cell: Option<&str>) -> String {
    match (cell, query.strip_suffix(')')) {
        (Some(cell), Some(head)) => {
            let quoted = cell.replace('\\', "\\\\").replace('"', "\\\"");
            format!("{head}{{cell=\"{quoted}\"}})")
        }
        _ => query.to_owned(),
    }
}

impl PrometheusSource {
    /// A source querying the server at `base_url` (e.g. `http://prometheus:9090`), each query
    /// bounded by `timeout`.
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self, PrometheusError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| PrometheusError::Http {
                url: base_url.to_owned(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            client,
            cell: None,
        })
    }

    /// The same source viewing one cell (its `cell` label) rather than every cell.
    pub fn for_cell(self, cell: &str) -> Self {
        Self {
            cell: Some(cell.to_owned()),
            ..self
        }
    }

    /// Runs an instant query; a scalar result comes back as one sample without labels.
    pub async fn query(&self, promql: &str) -> Result<Vec<PromSample>, PrometheusError> {
        let url = format!("{}/api/v1/query", self.base_url);
        let http = |reason: String| PrometheusError::Http {
            url: url.clone(),
            reason,
        };
        let format = |reason: String| PrometheusError::Format {
            query: promql.to_owned(),
            reason,
        };
        let resp = self
            .client
            .get(&url)
            .query(&[("query", promql)])
            .send()
            .await
            .map_err(|e| http(e.to_string()))?;
        let status = resp.status();
        let body = resp.text().await.map_err(|e| http(e.to_string()))?;
        // Prometheus answers 400/422/503 with an error body in the same format.
        let parsed: PromResponse = serde_json::from_str(&body)
            .map_err(|e| http(format!("HTTP {status}, not the query API's JSON: {e}")))?;
        if parsed.status != "success" {
            return Err(PrometheusError::Query {
                query: promql.to_owned(),
                error_type: parsed.error_type.unwrap_or_default(),
                error: parsed.error.unwrap_or_default(),
            });
        }
        let data = parsed.data.ok_or_else(|| format("no data".into()))?;
        let number = |v: &str| {
            v.parse::<f64>()
                .map_err(|_| format(format!("value {v:?} is not a number")))
        };
        match data.result_type.as_str() {
            "vector" => {
                let items: Vec<PromVectorItem> =
                    serde_json::from_value(data.result).map_err(|e| format(e.to_string()))?;
                items
                    .into_iter()
                    .map(|i| {
                        Ok(PromSample {
                            labels: i.metric,
                            timestamp_s: i.value.0,
                            value: number(&i.value.1)?,
                        })
                    })
                    .collect()
            }
            "scalar" => {
                let (t, v): (f64, String) =
                    serde_json::from_value(data.result).map_err(|e| format(e.to_string()))?;
                Ok(vec![PromSample {
                    labels: BTreeMap::new(),
                    timestamp_s: t,
                    value: number(&v)?,
                }])
            }
            other => Err(format(format!(
                "result type {other:?} (an instant vector or scalar was expected)"
            ))),
        }
    }

    /// The one value of an aggregating query.
    async fn single(&self, promql: &str) -> Result<PromSample, PrometheusError> {
        self.query(promql)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| PrometheusError::Format {
                query: promql.to_owned(),
                reason: "empty result (is Prometheus scraping the xApp?)".into(),
            })
    }

    /// The cell as the xApp's metrics show it now. `t_ms` is the evaluation time since the
    /// Unix epoch (Prometheus has no gNB clock).
    pub async fn cell_view(&self) -> Result<CellView, PrometheusError> {
        let q = |query: &str| for_cell(query, self.cell.as_deref());
        let capacity = self.single(&q(PROMQL_CAPACITY)).await?;
        let delivered = self.single(&q(PROMQL_DELIVERED)).await?;
        let cqi = self
            .single(&q(PROMQL_CQI))
            .await
            .map(|s| s.value)
            .unwrap_or(0.0);
        let gain = self
            .single(&q(PROMQL_GAIN))
            .await
            .map(|s| s.value)
            .ok()
            .filter(|g| g.is_finite() && *g > 0.0)
            .unwrap_or(1.0);
        Ok(CellView {
            t_ms: (capacity.timestamp_s * 1000.0) as u64,
            cqi_mean: cqi,
            max_achievable_mbps: capacity.value / 1e6 * gain,
            delivered_mbps: delivered.value / 1e6,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_narrow_to_one_cells_series() {
        assert_eq!(
            for_cell(PROMQL_CAPACITY, Some("001-01-0000000002")),
            "sum(maestro_cell_capacity_dl_bps{cell=\"001-01-0000000002\"})"
        );
        assert_eq!(
            for_cell(PROMQL_GAIN, Some("a\"b")),
            "avg(maestro_slice_model_gain_ratio{cell=\"a\\\"b\"})"
        );
        assert_eq!(for_cell(PROMQL_CQI, None), PROMQL_CQI);
    }

    fn report(seq: u64, target: f64, measured: f64, achievable: bool) -> CellReport {
        CellReport {
            sequence: seq,
            capacity_bps: 100e6,
            slices: vec![SliceReport {
                label: "s1".into(),
                target_bps: target,
                dl_throughput_bps: measured,
                achievable,
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn counts_only_settled_achievable_periods() {
        let mut o = Observer::default();
        o.observe(report(1, 0.0, 50e6, true));
        o.observe(report(2, 40e6, 55e6, true)); // target just arrived: quota not yet in force
        o.observe(report(3, 40e6, 41e6, true));
        o.observe(report(4, 40e6, 30e6, false)); // channel too poor
        o.observe(report(5, 40e6, 39e6, true));
        let t = &o.slices["s1"];
        assert_eq!(o.reports, 5);
        assert_eq!(t.periods, 3);
        assert_eq!(t.achievable_periods, 2);
        assert_eq!(t.mean_achievable_bps(), Some(40e6));
        assert_eq!(t.periods_within_tolerance, 2);
        assert_eq!(fair_share_mbps(o.latest.as_ref().unwrap(), 2), 50.0);
    }

    fn view(t_ms: u64, cap: f64) -> CellView {
        CellView {
            t_ms,
            cqi_mean: 10.0,
            max_achievable_mbps: cap,
            delivered_mbps: 0.0,
        }
    }

    #[test]
    fn cell_view_from_a_report() {
        let r = CellReport {
            sim_time_ms: 1200,
            capacity_bps: 100e6,
            slices: vec![
                SliceReport {
                    dl_throughput_bps: 30e6,
                    model_gain: 1.1,
                    ues: vec![
                        maestro_api::kpi::UeReport {
                            wb_cqi: 12,
                            ..Default::default()
                        },
                        maestro_api::kpi::UeReport {
                            wb_cqi: 0,
                            ..Default::default()
                        },
                    ],
                    ..Default::default()
                },
                SliceReport {
                    dl_throughput_bps: 10e6,
                    model_gain: 0.9,
                    ues: vec![maestro_api::kpi::UeReport {
                        wb_cqi: 8,
                        ..Default::default()
                    }],
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let v = CellView::from_report(&r);
        assert_eq!(v.t_ms, 1200);
        assert_eq!(v.cqi_mean, 10.0);
        assert!((v.max_achievable_mbps - 100.0).abs() < 1e-9);
        assert!((v.delivered_mbps - 40.0).abs() < 1e-9);
    }

    #[test]
    fn trigger_fires_only_after_the_hold_time_and_re_arms() {
        let mut t = RenegotiationTrigger::new(TriggerConfig::default());
        // Nothing enforced: never fires.
        assert_eq!(t.update(&view(0, 10.0), None, 50.0), None);
        // 50 Mbps at 134 Mbps capacity, what the operators want: fine.
        assert_eq!(t.update(&view(100, 134.0), Some(50.0), 50.0), None);
        // A 2 s dip below 50 Mbps does not fire...
        assert_eq!(t.update(&view(1000, 40.0), Some(50.0), 34.0), None);
        assert_eq!(t.update(&view(2900, 40.0), Some(50.0), 34.0), None);
        assert_eq!(t.update(&view(3000, 120.0), Some(50.0), 50.0), None);
        // ...a 3 s one does, once.
        assert_eq!(t.update(&view(4000, 40.0), Some(50.0), 34.0), None);
        let fired = t.update(&view(7000, 39.0), Some(50.0), 33.0).unwrap();
        assert_eq!(fired.reason, TriggerReason::Unachievable);
        assert_eq!((fired.since_ms, fired.at_ms), (4000, 7000));
        assert_eq!(t.update(&view(7100, 39.0), Some(50.0), 33.0), None);
        // Switched off (0 Mbps) while the cell is worthless to the operators: nothing to do.
        assert_eq!(t.condition(&view(0, 12.0), 0.0, 0.0), None);
        // A low consensus by choice (the operators want 20) is not "far below" a big cell.
        assert_eq!(t.condition(&view(0, 134.0), 20.0, 20.0), None);
        // The radio recovers: far below what the cell and the operators allow.
        assert_eq!(t.update(&view(20_000, 130.0), Some(0.0), 50.0), None);
        let up = t.update(&view(23_000, 131.0), Some(0.0), 50.0).unwrap();
        assert_eq!(up.reason, TriggerReason::FarBelowCapacity);
        t.reset();
        assert_eq!(t.update(&view(23_100, 131.0), Some(0.0), 50.0), None);
        // A capped consensus (34 at a 40 Mbps cell) is raised when the channel recovers.
        assert_eq!(
            t.condition(&view(0, 134.0), 34.0, 50.0),
            Some(TriggerReason::FarBelowCapacity)
        );
        assert_eq!(t.condition(&view(0, 134.0), 46.0, 50.0), None);
    }

    #[test]
    fn topic_holds_while_most_of_the_capacity_remains() {
        assert!(topic_holds(100.0, 60.0, 0.5));
        assert!(!topic_holds(100.0, 40.0, 0.5));
    }

    /// A one-route Prometheus stand-in answering `/api/v1/query` in the server's JSON format.
    async fn fake_prometheus() -> String {
        use axum::extract::Query;
        use axum::routing::get;
        async fn query(
            Query(q): Query<BTreeMap<String, String>>,
        ) -> (axum::http::StatusCode, String) {
            let promql = q.get("query").cloned().unwrap_or_default();
            let vector = |v: &str| {
                format!(
                    r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{}},"value":[1700000000.5,"{v}"]}}]}}}}"#
                )
            };
            match promql.as_str() {
                PROMQL_CAPACITY => (axum::http::StatusCode::OK, vector("120000000")),
                PROMQL_DELIVERED => (axum::http::StatusCode::OK, vector("48000000")),
                PROMQL_CQI => (axum::http::StatusCode::OK, vector("13.5")),
                PROMQL_GAIN => (axum::http::StatusCode::OK, vector("1.05")),
                "scalar(1)" => (
                    axum::http::StatusCode::OK,
                    r#"{"status":"success","data":{"resultType":"scalar","result":[1700000000,"1"]}}"#.into(),
                ),
                "up" => (
                    axum::http::StatusCode::OK,
                    r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","job":"xapp"},"value":[1700000000,"1"]},{"metric":{"__name__":"up","job":"rapp"},"value":[1700000000,"0"]}]}}"#.into(),
                ),
                _ => (
                    axum::http::StatusCode::BAD_REQUEST,
                    r#"{"status":"error","errorType":"bad_data","error":"parse error"}"#.into(),
                ),
            }
        }
        let app = axum::Router::new().route("/api/v1/query", get(query));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn prometheus_source_reads_instant_vectors_scalars_and_errors() {
        let base = fake_prometheus().await;
        let prom = PrometheusSource::new(&base, Duration::from_secs(5)).unwrap();
        let up = prom.query("up").await.unwrap();
        assert_eq!(up.len(), 2);
        assert_eq!(up[0].labels["job"], "xapp");
        assert_eq!((up[0].value, up[1].value), (1.0, 0.0));
        let one = prom.query("scalar(1)").await.unwrap();
        assert_eq!((one[0].value, one[0].timestamp_s), (1.0, 1.7e9));
        let err = prom.query("sum(").await.unwrap_err();
        assert!(
            matches!(&err, PrometheusError::Query { error_type, .. } if error_type == "bad_data"),
            "{err}"
        );
        let v = prom.cell_view().await.unwrap();
        assert!((v.max_achievable_mbps - 126.0).abs() < 1e-9, "{v:?}");
        assert!((v.delivered_mbps - 48.0).abs() < 1e-9);
        assert_eq!(v.cqi_mean, 13.5);
        assert_eq!(v.t_ms, 1_700_000_000_500);
        // Nothing listening: an HTTP error, not a hang.
        let dead = PrometheusSource::new("http://127.0.0.1:9", Duration::from_secs(2)).unwrap();
        assert!(matches!(
            dead.query("up").await,
            Err(PrometheusError::Http { .. })
        ));
    }
}

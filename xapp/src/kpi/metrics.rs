//! Prometheus metrics of the xApp, served as text at `/metrics`.

use prometheus::{
    Encoder, GaugeVec, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts,
    Registry, TextEncoder,
};

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use maestro_api::a1::{EnforceStatus, PolicyStatus};
use maestro_api::kpi::CellReport;

/// The xApp's metric families.
#[derive(Clone)]
pub struct XappMetrics {
    registry: Registry,
    slice_target_bps: GaugeVec,
    slice_throughput_bps: GaugeVec,
    slice_prb_quota: GaugeVec,
    slice_prb_used: GaugeVec,
    slice_required_prbs: GaugeVec,
    ue_cqi: GaugeVec,
    /// The UE ids of `ue_cqi` the last report set, per slice label: a UE that leaves (or a
    /// node that restarts with new UE ids) is removed, not frozen at its last CQI.
    ue_labels: Arc<Mutex<HashMap<String, HashSet<u32>>>>,
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
}

impl std::fmt::Debug for XappMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XappMetrics").finish_non_exhaustive()
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
    /// Registers every family in a fresh registry.
    pub fn new() -> prometheus::Result<Self> {
        let r = Registry::new();
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
        Ok(Self {
            e2_connected,
            e2_bridge_restarts,
            policy_status_changes,
            policy_status_flaps_suppressed,
            slice_cqi_mean: gauge(
                &r,
                "maestro_slice_cqi_mean",
                "Mean wide-band CQI of the slice's UEs (CQI index, TS 38.214 Table 5.2.2.1-2)",
                &["slice"],
            )?,
            slice_cqi_quantile: gauge(
                &r,
                "maestro_slice_cqi",
                "Wide-band CQI quantiles of the slice's UEs (nearest rank; CQI index)",
                &["slice", "quantile"],
            )?,
            slice_error_ratio: gauge(
                &r,
                "maestro_slice_enforcement_error_ratio",
                "(measured - target) / target DL throughput of the slice over the last period",
                &["slice"],
            )?,
            slice_model_gain: gauge(
                &r,
                "maestro_slice_model_gain_ratio",
                "Measured / CQI-modelled throughput the closed loop has learnt for the slice",
                &["slice"],
            )?,
            control_latency,
            kpi_dropped,
            slice_target_bps: gauge(
                &r,
                "maestro_slice_target_dl_bps",
                "DL throughput target of the slice's A1 policy, bit/s",
                &["slice"],
            )?,
            slice_throughput_bps: gauge(
                &r,
                "maestro_slice_dl_throughput_bps",
                "Measured DL throughput of the slice over the last report period, bit/s",
                &["slice"],
            )?,
            slice_prb_quota: gauge(
                &r,
                "maestro_slice_prb_quota",
                "PRBs per DL slot the slice may use",
                &["slice"],
            )?,
            slice_prb_used: gauge(
                &r,
                "maestro_slice_prb_used",
                "PRBs per DL slot the slice used (mean over the period)",
                &["slice"],
            )?,
            slice_required_prbs: gauge(
                &r,
                "maestro_slice_required_prbs",
                "PRBs the target needs at the current CQIs (TS 38.214)",
                &["slice"],
            )?,
            ue_cqi: gauge(
                &r,
                "maestro_ue_wb_cqi",
                "Wide-band CQI of the UE (TS 38.214 Table 5.2.2.1-2)",
                &["slice", "ue"],
            )?,
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
            ue_labels: Arc::default(),
            policies,
            kpi_subscribers,
            registry: r,
        })
    }

    /// Records one period's report.
    pub fn observe(&self, report: &CellReport) {
        self.cell_capacity_bps
            .with_label_values(&[report.cell_id.as_str()])
            .set(report.capacity_bps);
        for s in &report.slices {
            let l = [s.label.as_str()];
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
                for (q, label) in [(0.1, "0.1"), (0.5, "0.5"), (0.9, "0.9")] {
                    let rank = ((q * cqis.len() as f64).ceil() as usize).clamp(1, cqis.len());
                    self.slice_cqi_quantile
                        .with_label_values(&[s.label.as_str(), label])
                        .set(f64::from(cqis[rank - 1]));
                }
            }
        }
        self.observe_ues(report);
    }

    /// Sets each reported UE's CQI and removes the series of UEs the report no longer has.
    fn observe_ues(&self, report: &CellReport) {
        let mut last = self
            .ue_labels
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for s in &report.slices {
            for u in &s.ues {
                self.ue_cqi
                    .with_label_values(&[s.label.as_str(), u.ue_id.to_string().as_str()])
                    .set(f64::from(u.wb_cqi));
            }
            // Steady state (the same UEs as last period): nothing to remember anew.
            let known = last.get(s.label.as_str());
            if known.is_some_and(|k| {
                k.len() == s.ues.len() && s.ues.iter().all(|u| k.contains(&u.ue_id))
            }) {
                continue;
            }
            let now: HashSet<u32> = s.ues.iter().map(|u| u.ue_id).collect();
            if let Some(known) = known {
                for ue in known.difference(&now) {
                    // Absent already is fine: nothing to remove.
                    let _ = self
                        .ue_cqi
                        .remove_label_values(&[s.label.as_str(), ue.to_string().as_str()]);
                }
            }
            last.insert(s.label.clone(), now);
        }
        // Slices gone from the report take their UEs with them.
        last.retain(|label, ues| {
            let present = report.slices.iter().any(|s| &s.label == label);
            if !present {
                for ue in ues.iter() {
                    let _ = self
                        .ue_cqi
                        .remove_label_values(&[label.as_str(), ue.to_string().as_str()]);
                }
            }
            present
        });
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
        m.observe(&CellReport::default());
        let text = m.render();
        assert!(!text.contains("maestro_ue_wb_cqi{"), "{text}");
    }
}

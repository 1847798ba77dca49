//! The KPI side of a run: the stream from the xApp, and each period read from it as the
//! observability unit saw it (on the clock that starts at the first report, with whether the
//! control had settled).

use maestro_api::kpi::CellReport;
use tonic::Streaming;

use crate::kpi_client;
use crate::observability::CellView;

use super::report::Sample;
use super::TimelineError;

/// The KPI side of a run: the stream and the periods read from it, on the clock that starts at
/// the first report.
pub(super) struct Feed<'j> {
    kpi_url: &'j str,
    stream: Streaming<CellReport>,
    settle_ms: u64,
    settling: Settling,
    /// Every period so far.
    pub(super) samples: Vec<Sample>,
    /// Reports received.
    pub(super) reports: u64,
    /// Reports the stream dropped because we read too slowly.
    pub(super) dropped: u64,
    first_ms: Option<u64>,
}

impl<'j> Feed<'j> {
    /// A feed of `stream` (from `kpi_url`) whose control counts as settled after `settle_ms`.
    pub(super) fn new(kpi_url: &'j str, stream: Streaming<CellReport>, settle_ms: u64) -> Self {
        Self {
            kpi_url,
            stream,
            settle_ms,
            settling: Settling::default(),
            samples: Vec::new(),
            reports: 0,
            dropped: 0,
            first_ms: None,
        }
    }

    /// The next report; [`TimelineError::StreamEnded`] (at `ended_ms`) when the stream ended.
    pub(super) async fn next(&mut self, ended_ms: u64) -> Result<CellReport, TimelineError> {
        kpi_client::next_report(self.kpi_url, &mut self.stream)
            .await?
            .ok_or(TimelineError::StreamEnded(ended_ms))
    }

    /// Counts `report` and records its period; its time since the first report, ms, and the
    /// cell as the observability unit sees it.
    pub(super) fn record(&mut self, report: &CellReport) -> (u64, CellView) {
        self.reports += 1;
        self.dropped += report.dropped_before;
        let t0 = *self.first_ms.get_or_insert(report.sim_time_ms);
        let t_ms = report.sim_time_ms.saturating_sub(t0);
        let view = CellView::from_report(report);
        let mut sample = self.settling.sample(report, self.settle_ms);
        sample.t_s = t_ms as f64 / 1000.0;
        self.samples.push(sample);
        (t_ms, view)
    }

    /// Time of the last period since the first report, ms (0 before the first).
    pub(super) fn last_ms(&self) -> u64 {
        self.samples.last().map_or(0, |s| (s.t_s * 1e3) as u64)
    }

    /// The gNB clock of the first report, ms.
    pub(super) fn origin_ms(&self) -> u64 {
        self.first_ms.unwrap_or(0)
    }
}

/// Tracks when the control counts as settled.
#[derive(Default)]
struct Settling {
    target_since_ms: u64,
    cqi_since_ms: u64,
    target: Option<f64>,
    cqis: Vec<u32>,
}

impl Settling {
    fn sample(&mut self, r: &CellReport, settle_ms: u64) -> Sample {
        let view = CellView::from_report(r);
        let slice = r.slices.first();
        let target = slice.map_or(0.0, |s| s.target_bps);
        let cqis: Vec<u32> = slice
            .map(|s| s.ues.iter().map(|u| u.wb_cqi).collect())
            .unwrap_or_default();
        if self.target != Some(target) {
            self.target = Some(target);
            self.target_since_ms = r.sim_time_ms;
        }
        if self.cqis != cqis {
            self.cqis = cqis;
            self.cqi_since_ms = r.sim_time_ms;
        }
        let since = self.target_since_ms.max(self.cqi_since_ms);
        Sample {
            t_s: r.sim_time_ms as f64 / 1000.0,
            cqi: view.cqi_mean,
            max_achievable_mbps: view.max_achievable_mbps,
            enforced_mbps: target / 1e6,
            measured_mbps: slice.map_or(0.0, |s| s.dl_throughput_bps / 1e6),
            achievable: slice.is_some_and(|s| s.achievable),
            prb_quota: slice.map_or(0, |s| s.prb_quota),
            settled: r.sim_time_ms.saturating_sub(since) >= settle_ms,
        }
    }
}

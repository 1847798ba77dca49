//! Idle cells. A node that is up but serves no UE may send no measurement at all: OAI's MAC
//! SM reports nothing while no UE is attached (`read_mac_sm` returns false), seen against a
//! real OAI gNB. To the control loop and to the E2 bridge's watchdog that silence looked like
//! a lost link: the bridge child was restarted every 3 s and the cell's policies read
//! NOT_ENFORCED. [`IdleFill`] wraps a backend that knows which cells' nodes are connected
//! ([`E2Backend::listed_cells`]: FlexRIC, the RIC's node list; the emulator, its links) and
//! fills each stretch in which a listed cell said nothing (two periods, a second at least)
//! with an empty measurement (no UEs, nothing used, the quotas last reported). A cell whose
//! node is not listed, or a backend that cannot tell, stays silent, and silence still means
//! lost. The FlexRIC backend is always wrapped; the emulator only with `silent_without_ues`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use maestro_e2sm::rc::{ControlOutcome, RrmPolicyMember, SlicePrbQuotaControl};
use maestro_e2sm::report::{CellMeasurement, SliceMeasurement};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::{subscribe_or_ended, BoxFuture, E2Backend, E2Error, E2NodeInfo, ServedCell};
use crate::nr::CellConfig;

/// A listed cell silent for this many report periods...
const SILENT_PERIODS: u32 = 2;
/// ...and at least this long gets an empty measurement: well past the jitter of a busy
/// machine (a cell that is late by a period is not idle), well within the bridge's watchdog
/// (3 s at least) and the control loop's default silence limit (5 s).
const SILENT_AT_LEAST: Duration = Duration::from_secs(1);

/// A backend whose idle listed cells report empty measurements; everything else passes
/// through.
pub struct IdleFill {
    inner: Arc<dyn E2Backend>,
    /// Taken when `inner`'s stream ends, so that subscribers see it end too.
    reports: Arc<Mutex<Option<broadcast::Sender<Arc<CellMeasurement>>>>>,
    task: JoinHandle<()>,
}

impl Drop for IdleFill {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl IdleFill {
    /// Wraps `inner`, whose cells report every `period` (wall clock).
    pub fn wrap(inner: Arc<dyn E2Backend>, period: Duration) -> Arc<Self> {
        // Room for a few periods of every cell, as the backends size their own streams.
        let (tx, _) = broadcast::channel(256.max(inner.cell_ids().len() * 4));
        let reports = Arc::new(Mutex::new(Some(tx.clone())));
        let rx = inner.subscribe();
        let ours = Arc::clone(&reports);
        let backend = Arc::clone(&inner);
        let task = tokio::spawn(async move {
            fill(backend, rx, tx, period).await;
            ours.lock().unwrap_or_else(|p| p.into_inner()).take();
        });
        Arc::new(Self {
            inner,
            reports,
            task,
        })
    }
}

/// Forwards `inner`'s reports to `out`, and every period fills in for its silent listed
/// cells; ends (closing `out`) when `inner`'s stream ends.
async fn fill(
    inner: Arc<dyn E2Backend>,
    mut rx: broadcast::Receiver<Arc<CellMeasurement>>,
    out: broadcast::Sender<Arc<CellMeasurement>>,
    period: Duration,
) {
    let silent_after = (period * SILENT_PERIODS).max(SILENT_AT_LEAST);
    let started = Instant::now();
    // Per cell: when it was last heard from (or filled in for), and its last measurement.
    let mut last: HashMap<String, (Instant, Arc<CellMeasurement>)> = HashMap::new();
    let mut tick = tokio::time::interval(period.max(Duration::from_millis(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            got = rx.recv() => match got {
                Ok(m) => {
                    last.insert(m.cell_id.clone(), (Instant::now(), Arc::clone(&m)));
                    let _ = out.send(m);
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(skipped = n, "idle-cell filler fell behind the E2 reports");
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = tick.tick() => {
                let Some(listed) = inner.listed_cells() else { continue };
                let now = Instant::now();
                for cell_id in listed {
                    let empty = match last.get(&cell_id) {
                        Some((heard, m)) if now - *heard >= silent_after => {
                            empty_after(m, period)
                        }
                        Some(_) => continue,
                        // Never heard from: idle since it was listed.
                        None if now - started >= silent_after => {
                            let Some(served) = inner.served_cell(&cell_id) else { continue };
                            empty_of(&cell_id, &served.carrier, &served.slices, period)
                        }
                        None => continue,
                    };
                    let empty = Arc::new(empty);
                    if last.get(&cell_id).is_none_or(|(_, m)| !is_empty(m)) {
                        tracing::info!(
                            cell = %cell_id,
                            "E2 node connected but silent (no UE): reporting the cell empty"
                        );
                    }
                    last.insert(cell_id, (now, Arc::clone(&empty)));
                    let _ = out.send(empty);
                }
            }
        }
    }
}

fn is_empty(m: &CellMeasurement) -> bool {
    m.slices.iter().all(|s| s.ues.is_empty())
}

/// The period after `m` with nothing in it: same cell, slices and quotas, no UEs; numbered
/// as the next period.
fn empty_after(m: &CellMeasurement, period: Duration) -> CellMeasurement {
    let period_ms = period.as_millis() as u64;
    CellMeasurement {
        // The next period's number (readiness waits for a report past the first).
        sequence: m.sequence + 1,
        time_ms: m.time_ms + period_ms,
        period_ms,
        cell_id: m.cell_id.clone(),
        n_prb: m.n_prb,
        slices: m
            .slices
            .iter()
            .map(|s| SliceMeasurement {
                member: s.member.clone(),
                prb_quota: s.prb_quota,
                prb_used: 0.0,
                dl_throughput_bps: 0.0,
                ues: Vec::new(),
            })
            .collect(),
    }
}

/// An empty period of a cell never heard from: its slices at the whole carrier.
fn empty_of(
    cell_id: &str,
    carrier: &CellConfig,
    slices: &[RrmPolicyMember],
    period: Duration,
) -> CellMeasurement {
    CellMeasurement {
        sequence: 1,
        time_ms: 0,
        period_ms: period.as_millis() as u64,
        cell_id: cell_id.to_owned(),
        n_prb: carrier.n_prb,
        slices: slices
            .iter()
            .map(|member| SliceMeasurement {
                member: member.clone(),
                prb_quota: carrier.n_prb,
                prb_used: 0.0,
                dl_throughput_bps: 0.0,
                ues: Vec::new(),
            })
            .collect(),
    }
}

impl E2Backend for IdleFill {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn cell(&self) -> &CellConfig {
        self.inner.cell()
    }

    fn slices(&self) -> &[RrmPolicyMember] {
        self.inner.slices()
    }

    fn served_cell(&self, cell_id: &str) -> Option<ServedCell> {
        self.inner.served_cell(cell_id)
    }

    fn cell_ids(&self) -> Vec<String> {
        self.inner.cell_ids()
    }

    fn listed_cells(&self) -> Option<Vec<String>> {
        self.inner.listed_cells()
    }

    fn control_cell(
        &self,
        cell_id: &str,
        control: SlicePrbQuotaControl,
    ) -> BoxFuture<'_, Result<ControlOutcome, E2Error>> {
        self.inner.control_cell(cell_id, control)
    }

    fn nodes(&self) -> Vec<E2NodeInfo> {
        self.inner.nodes()
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<CellMeasurement>> {
        subscribe_or_ended(
            self.reports
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .as_ref(),
        )
    }

    fn control(
        &self,
        control: SlicePrbQuotaControl,
    ) -> BoxFuture<'_, Result<ControlOutcome, E2Error>> {
        self.inner.control(control)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::e2::emulator::{Clock, EmulatedGnb, EmulatorConfig};

    /// A one-cell emulated gNB with no UE that sends nothing then, every 10 ms of wall time.
    fn silent_gnb() -> Arc<EmulatedGnb> {
        let mut config = EmulatorConfig {
            clock: Clock::Simulated { speedup: 10.0 },
            silent_without_ues: true,
            ..EmulatorConfig::default()
        };
        for s in &mut config.slices {
            s.ues = 0;
        }
        EmulatedGnb::start(config).unwrap()
    }

    #[tokio::test]
    async fn a_listed_silent_cell_is_reported_empty_and_an_unlisted_one_stays_silent() {
        let gnb = silent_gnb();
        let link = gnb.link_fault();
        let period = Duration::from_millis(10);
        let filled = IdleFill::wrap(gnb.clone(), period);
        let mut rx = filled.subscribe();
        let mut raw = gnb.subscribe();
        // The node itself says nothing.
        let said = tokio::time::timeout(Duration::from_millis(200), raw.recv()).await;
        assert!(said.is_err(), "the silent node reported: {said:?}");
        // Through the filler: an empty period of the cell, again and again.
        for _ in 0..3 {
            let m = tokio::time::timeout(Duration::from_secs(2), rx.recv())
                .await
                .expect("an empty report")
                .unwrap();
            assert_eq!(m.cell_id, gnb.cell_ids()[0]);
            assert_eq!(m.slices.len(), 2);
            assert!(m
                .slices
                .iter()
                .all(|s| s.ues.is_empty() && s.prb_used == 0.0));
            assert!(m.slices.iter().all(|s| s.prb_quota == m.n_prb));
        }
        // Its link down, the node is not listed: silence, which the control loop calls lost.
        link.drop_link();
        while rx.try_recv().is_ok() {}
        tokio::time::sleep(Duration::from_millis(50)).await;
        while rx.try_recv().is_ok() {}
        let after = tokio::time::timeout(Duration::from_millis(2500), rx.recv()).await;
        assert!(after.is_err(), "filled in for an unlisted cell: {after:?}");
    }

    /// A backend whose stream the test ends, as FlexRIC's ends when its E2 side is lost.
    struct Ending {
        carrier: CellConfig,
        reports: Mutex<Option<broadcast::Sender<Arc<CellMeasurement>>>>,
    }

    impl E2Backend for Ending {
        fn name(&self) -> &'static str {
            "ending"
        }
        fn cell(&self) -> &CellConfig {
            &self.carrier
        }
        fn slices(&self) -> &[RrmPolicyMember] {
            &[]
        }
        fn listed_cells(&self) -> Option<Vec<String>> {
            Some(vec!["001-01-000000001".into()])
        }
        fn subscribe(&self) -> broadcast::Receiver<Arc<CellMeasurement>> {
            match self.reports.lock().unwrap().as_ref() {
                Some(tx) => tx.subscribe(),
                None => broadcast::channel(1).1,
            }
        }
        fn control(
            &self,
            _: SlicePrbQuotaControl,
        ) -> BoxFuture<'_, Result<ControlOutcome, E2Error>> {
            Box::pin(async { Ok(ControlOutcome::Acknowledged) })
        }
    }

    #[tokio::test]
    async fn reports_pass_through_and_the_end_of_the_stream_too() {
        let (tx, _) = broadcast::channel(16);
        let inner = Arc::new(Ending {
            carrier: EmulatorConfig::default().cell,
            reports: Mutex::new(Some(tx.clone())),
        });
        let filled = IdleFill::wrap(inner.clone(), Duration::from_secs(60));
        let mut rx = filled.subscribe();
        let report = Arc::new(empty_of(
            "001-01-000000001",
            &inner.carrier,
            &[],
            Duration::from_millis(100),
        ));
        tx.send(Arc::clone(&report)).unwrap();
        assert_eq!(rx.recv().await.unwrap(), report);
        // The inner stream ends (every sender gone): the filled one ends too.
        inner.reports.lock().unwrap().take();
        drop(tx);
        let end = tokio::time::timeout(Duration::from_secs(2), rx.recv()).await;
        assert!(
            matches!(end, Ok(Err(broadcast::error::RecvError::Closed))),
            "{end:?}"
        );
        assert!(matches!(
            filled.subscribe().try_recv(),
            Err(broadcast::error::TryRecvError::Closed)
        ));
    }
}

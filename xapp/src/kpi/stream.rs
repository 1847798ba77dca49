//! Fan-out point of the KPI stream (`maestro.kpi.v1.KpiStream`): every subscriber gets the
//! latest report of each cell it asked for at once, then one report per cell and period,
//! through its filter ([`super::filter`]: cells, slices; refused when it names a cell or slice
//! the hub has not seen, see [`KpiHub::subscribe_filtered`]). Each report is encoded once
//! ([`super::wire`]) and the shared bytes go to every subscriber. Each subscriber has a bounded
//! buffer (64 reports): one that falls behind loses the oldest reports, never slows the control
//! loop, and is told how many it lost in the next report's `dropped_before`. The gRPC side is
//! [`super::service`].

use std::collections::{BTreeMap, BTreeSet};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use maestro_api::kpi::CellReport;
use tokio::sync::broadcast;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::{Stream, StreamExt};
use tonic::Status;

use super::filter::{FilterError, KpiFilter};
use super::metrics::XappMetrics;
use super::wire::{EncodedReport, ReportFrame};

/// Reports a subscriber may fall behind before it loses the oldest (at least).
const SUBSCRIBER_BUFFER: usize = 64;

/// With many cells: periods of every cell a subscriber may fall behind.
const PERIODS_BUFFERED: usize = 4;

/// A published report, decoded (for filtered subscribers) and encoded once (for the rest).
struct Published {
    report: CellReport,
    encoded: EncodedReport,
}

impl Published {
    /// What a subscriber with `filter` gets of it, if anything.
    fn frame_for(&self, filter: &KpiFilter) -> Option<EncodedReport> {
        match filter.select(&self.report)? {
            None => Some(self.encoded.clone()),
            Some(mut part) => Some(EncodedReport::encode(&mut part)),
        }
    }
}

/// What the hub remembers: the latest report of each cell and the names a filter may use.
/// Everything here is bounded by the cells and slices the RAN has (one entry each).
#[derive(Default)]
struct Known {
    /// The latest report of each cell that has reported, by cell id.
    latest: BTreeMap<String, Arc<Published>>,
    /// The cell of the most recent report.
    newest: Option<String>,
    /// Cells the E2 side announced before their first report.
    announced: BTreeSet<String>,
    /// Slice labels reports have carried, or announced.
    slices: BTreeSet<String>,
}

/// Fan-out point of the KPI reports.
#[derive(Clone)]
pub struct KpiHub {
    tx: broadcast::Sender<Arc<Published>>,
    known: Arc<Mutex<Known>>,
    metrics: XappMetrics,
}

/// One subscriber's messages, as the gRPC service sends them.
pub type ReportStream = Pin<Box<dyn Stream<Item = Result<ReportFrame, Status>> + Send>>;

impl KpiHub {
    /// A hub buffering up to 64 reports per slow subscriber.
    pub fn new(metrics: XappMetrics) -> Self {
        Self::for_cells(metrics, 1)
    }

    /// A hub for `cells` cells: a subscriber may fall behind by [`SUBSCRIBER_BUFFER`]
    /// reports, or [`PERIODS_BUFFERED`] periods of every cell when more (every cell may report
    /// in the same instant, and every subscriber, cell filter or not, reads the one stream of
    /// all cells; 64 alone lost reports from 16 cells on).
    pub fn for_cells(metrics: XappMetrics, cells: usize) -> Self {
        let (tx, _) = broadcast::channel(SUBSCRIBER_BUFFER.max(PERIODS_BUFFERED * cells));
        Self {
            tx,
            known: Arc::default(),
            metrics,
        }
    }

    /// Nothing panics while holding it, but a poisoned lock still holds a whole value.
    fn lock_known(&self) -> MutexGuard<'_, Known> {
        self.known.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Publishes a report to all subscribers, encoding it once (its own `dropped_before` is
    /// ignored: each subscriber gets its own). Its cell and slices become known names.
    pub fn publish(&self, mut report: CellReport) {
        let encoded = EncodedReport::encode(&mut report);
        let published = Arc::new(Published { report, encoded });
        let mut known = self.lock_known();
        // Sent under the lock `subscribe` takes: a new subscriber gets each report once,
        // either as one of its first (latest) messages or from the channel.
        let _ = self.tx.send(Arc::clone(&published));
        let cell = &published.report.cell_id;
        for s in &published.report.slices {
            if !known.slices.contains(&s.label) {
                known.slices.insert(s.label.clone());
            }
        }
        if known.newest.as_ref() != Some(cell) {
            known.newest = Some(cell.clone());
        }
        match known.latest.get_mut(cell) {
            Some(latest) => *latest = published,
            None => {
                known.latest.insert(cell.clone(), published);
            }
        }
    }

    /// Makes cells and slices known before their first report (e.g. the cells an E2 node
    /// announced), so a filter may name them at once.
    pub fn announce(
        &self,
        cells: impl IntoIterator<Item = String>,
        slices: impl IntoIterator<Item = String>,
    ) {
        let mut known = self.lock_known();
        known.announced.extend(cells);
        known.slices.extend(slices);
    }

    /// The latest report, of whichever cell reported last, if any.
    pub fn latest(&self) -> Option<CellReport> {
        let known = self.lock_known();
        let cell = known.newest.as_ref()?;
        known.latest.get(cell).map(|p| p.report.clone())
    }

    /// The cells a filter may name: those reported, then those only announced.
    pub fn known_cells(&self) -> Vec<String> {
        let known = self.lock_known();
        let reported = known.latest.keys();
        let announced = known
            .announced
            .iter()
            .filter(|c| !known.latest.contains_key(*c));
        reported.chain(announced).cloned().collect()
    }

    /// A new subscriber's stream of every cell and slice: see [`Self::subscribe_filtered`].
    pub fn subscribe(&self, who: &str) -> ReportStream {
        match self.subscribe_filtered(who, KpiFilter::default()) {
            Ok(stream) => stream,
            // An empty filter names nothing, so nothing unknown.
            Err(_) => Box::pin(tokio_stream::empty()),
        }
    }

    /// A new subscriber's stream: the latest report of each matching cell, if any (by cell
    /// id), then every matching report published from now on, each with the number lost
    /// just before it in `dropped_before` (reports of any cell: with a cell filter an upper
    /// bound of the matching ones lost). Refused when the filter names a cell or slice no
    /// report has carried and nothing announced.
    pub fn subscribe_filtered(
        &self,
        who: &str,
        filter: KpiFilter,
    ) -> Result<ReportStream, FilterError> {
        let (rx, first) = {
            let known = self.lock_known();
            filter.check(
                |c| known.latest.contains_key(c) || known.announced.contains(c),
                known.latest.keys().chain(known.announced.iter()).cloned(),
                &known.slices,
            )?;
            let first: Vec<EncodedReport> = known
                .latest
                .values()
                .filter_map(|p| p.frame_for(&filter))
                .collect();
            (self.tx.subscribe(), first)
        };
        tracing::info!(
            subscriber = %who,
            cells = ?filter.cells,
            slices = ?filter.slices,
            "KPI stream subscription"
        );
        self.metrics.kpi_subscribers_add(1);
        let guard = SubscriberGuard(self.metrics.clone());
        let mut missed = 0u64;
        let live = BroadcastStream::new(rx).filter_map(move |item| {
            let _keep = &guard;
            match item {
                Ok(published) => {
                    let report = published.frame_for(&filter)?;
                    Some(Ok(ReportFrame {
                        report,
                        dropped_before: std::mem::take(&mut missed),
                    }))
                }
                Err(BroadcastStreamRecvError::Lagged(n)) => {
                    tracing::debug!(skipped = n, "KPI subscriber lagging");
                    guard.0.kpi_dropped(n);
                    missed += n;
                    None
                }
            }
        });
        let first = first.into_iter().map(|report| {
            Ok(ReportFrame {
                report,
                dropped_before: 0,
            })
        });
        Ok(Box::pin(tokio_stream::iter(first).chain(live)))
    }
}

/// Decrements the subscriber gauge when a stream is dropped.
struct SubscriberGuard(XappMetrics);

impl Drop for SubscriberGuard {
    fn drop(&mut self) {
        self.0.kpi_subscribers_add(-1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use maestro_api::kpi::prost::Message;

    /// The next message of `stream`, decoded as a client would.
    async fn next_report(stream: &mut ReportStream) -> CellReport {
        let frame = stream.next().await.unwrap().unwrap();
        CellReport::decode(frame.to_vec().as_slice()).unwrap()
    }

    fn report(sequence: u64) -> CellReport {
        CellReport {
            sequence,
            ..CellReport::default()
        }
    }

    #[tokio::test]
    async fn slow_subscriber_loses_oldest_reports_and_is_told_how_many() {
        let metrics = XappMetrics::new().unwrap();
        let hub = KpiHub::new(metrics.clone());
        hub.publish(report(0));
        let mut stream = hub.subscribe("slow");
        // The loop publishes 100 reports while this subscriber reads none: publish never
        // waits (this test would hang otherwise).
        for seq in 1..=100 {
            hub.publish(report(seq));
        }
        let first = next_report(&mut stream).await;
        assert_eq!(
            (first.sequence, first.dropped_before),
            (0, 0),
            "latest first"
        );
        // 100 published into a 64-report buffer: the 36 oldest are gone.
        let next = next_report(&mut stream).await;
        assert_eq!((next.sequence, next.dropped_before), (37, 36));
        let after = next_report(&mut stream).await;
        assert_eq!((after.sequence, after.dropped_before), (38, 0));
        assert_eq!(hub.latest().map(|r| r.sequence), Some(100));
        let text = metrics.render();
        assert!(
            text.contains("maestro_xapp_kpi_dropped_reports_total 36"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn subscriber_that_keeps_up_loses_nothing() {
        let hub = KpiHub::new(XappMetrics::new().unwrap());
        let mut stream = hub.subscribe("fast");
        for seq in 1..=500 {
            hub.publish(report(seq));
            let got = next_report(&mut stream).await;
            assert_eq!((got.sequence, got.dropped_before), (seq, 0));
        }
    }

    fn cell(cell: &str, sequence: u64, labels: &[&str]) -> CellReport {
        CellReport {
            sequence,
            cell_id: cell.into(),
            slices: labels
                .iter()
                .map(|l| maestro_api::kpi::SliceReport {
                    label: (*l).into(),
                    ..Default::default()
                })
                .collect(),
            ..CellReport::default()
        }
    }

    fn filter(cells: &[&str], slices: &[&str]) -> KpiFilter {
        KpiFilter {
            cells: cells.iter().map(|c| (*c).to_owned()).collect(),
            slices: slices.iter().map(|c| (*c).to_owned()).collect(),
        }
    }

    /// (cell, sequence, slice labels) of a report.
    fn shape(r: &CellReport) -> (String, u64, Vec<String>) {
        let labels = r.slices.iter().map(|s| s.label.clone()).collect();
        (r.cell_id.clone(), r.sequence, labels)
    }

    fn expect(cell: &str, sequence: u64, labels: &[&str]) -> (String, u64, Vec<String>) {
        let labels = labels.iter().map(|l| (*l).to_owned()).collect();
        (cell.to_owned(), sequence, labels)
    }

    #[tokio::test]
    async fn filters_select_cells_and_slices_of_many_cells() {
        let hub = KpiHub::new(XappMetrics::new().unwrap());
        for (n, c) in ["c1", "c2", "c3"].into_iter().enumerate() {
            hub.publish(cell(c, n as u64, &["a", "b"]));
        }
        let mut all = hub.subscribe("all");
        let mut c2 = hub.subscribe_filtered("c2", filter(&["c2"], &[])).unwrap();
        let mut b13 = hub
            .subscribe_filtered("b13", filter(&["c1", "c3"], &["b"]))
            .unwrap();
        // The latest of every matching cell first, by cell id.
        for seq in 0..3 {
            let got = next_report(&mut all).await;
            assert_eq!(
                shape(&got),
                expect(["c1", "c2", "c3"][seq], seq as u64, &["a", "b"])
            );
        }
        assert_eq!(
            shape(&next_report(&mut c2).await),
            expect("c2", 1, &["a", "b"])
        );
        assert_eq!(shape(&next_report(&mut b13).await), expect("c1", 0, &["b"]));
        assert_eq!(shape(&next_report(&mut b13).await), expect("c3", 2, &["b"]));
        // Then the live reports, each where it belongs.
        hub.publish(cell("c1", 10, &["a", "b"]));
        hub.publish(cell("c2", 11, &["a", "b"]));
        hub.publish(cell("c3", 12, &["a"])); // no slice b: nothing for b13
        hub.publish(cell("c3", 13, &["b"]));
        for seq in 10..=13 {
            assert_eq!(next_report(&mut all).await.sequence, seq);
        }
        assert_eq!(
            shape(&next_report(&mut c2).await),
            expect("c2", 11, &["a", "b"])
        );
        assert_eq!(
            shape(&next_report(&mut b13).await),
            expect("c1", 10, &["b"])
        );
        assert_eq!(
            shape(&next_report(&mut b13).await),
            expect("c3", 13, &["b"])
        );
        hub.publish(cell("c2", 14, &["a"]));
        hub.publish(cell("c1", 15, &["b"]));
        assert_eq!(shape(&next_report(&mut c2).await), expect("c2", 14, &["a"]));
        assert_eq!(
            shape(&next_report(&mut b13).await),
            expect("c1", 15, &["b"])
        );
        assert_eq!(hub.latest().map(|r| r.sequence), Some(15));
    }

    #[tokio::test]
    async fn unknown_cells_and_slices_are_refused_until_reported_or_announced() {
        let hub = KpiHub::new(XappMetrics::new().unwrap());
        let err = hub
            .subscribe_filtered("early", filter(&["c1"], &[]))
            .err()
            .unwrap();
        assert!(
            err.to_string()
                .contains("unknown cells: c1 (known cells: none yet)"),
            "{err}"
        );
        hub.publish(cell("c1", 1, &["a"]));
        assert!(hub
            .subscribe_filtered("ok", filter(&["c1"], &["a"]))
            .is_ok());
        let err = hub
            .subscribe_filtered("typo", filter(&["c1", "c9"], &["a", "z"]))
            .err()
            .unwrap();
        match &err {
            FilterError::Unknown { cells, slices, .. } => {
                assert_eq!(
                    (cells.as_slice(), slices.as_slice()),
                    (&["c9".to_owned()][..], &["z".to_owned()][..])
                );
            }
            other => panic!("{other:?}"),
        }
        hub.announce(["c9".to_owned()], ["z".to_owned()]);
        assert!(hub
            .subscribe_filtered("later", filter(&["c9"], &["z"]))
            .is_ok());
        assert_eq!(hub.known_cells(), ["c1", "c9"]);
    }
}

//! Fan-out point of the KPI stream (`maestro.kpi.v1.KpiStream`): every subscriber gets the
//! latest report at once, then one report per period. Each report is encoded once
//! ([`super::wire`]) and the shared bytes go to every subscriber. Each subscriber has a bounded
//! buffer (64 reports): one that falls behind loses the oldest reports, never slows the control
//! loop, and is told how many it lost in the next report's `dropped_before`. The gRPC side is
//! [`super::service`].

use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use maestro_api::kpi::CellReport;
use tokio::sync::broadcast;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::{Stream, StreamExt};
use tonic::Status;

use super::metrics::XappMetrics;
use super::wire::{EncodedReport, ReportFrame};

/// Reports a subscriber may fall behind before it loses the oldest.
const SUBSCRIBER_BUFFER: usize = 64;

/// The latest report, decoded and encoded.
struct Latest {
    report: CellReport,
    encoded: EncodedReport,
}

/// Fan-out point of the KPI reports.
#[derive(Clone)]
pub struct KpiHub {
    tx: broadcast::Sender<EncodedReport>,
    latest: Arc<Mutex<Option<Latest>>>,
    metrics: XappMetrics,
}

/// One subscriber's messages, as the gRPC service sends them.
pub type ReportStream = Pin<Box<dyn Stream<Item = Result<ReportFrame, Status>> + Send>>;

impl KpiHub {
    /// A hub buffering up to 64 reports per slow subscriber.
    pub fn new(metrics: XappMetrics) -> Self {
        let (tx, _) = broadcast::channel(SUBSCRIBER_BUFFER);
        Self {
            tx,
            latest: Arc::new(Mutex::new(None)),
            metrics,
        }
    }

    /// Nothing panics while holding it, but a poisoned lock still holds a whole value.
    fn lock_latest(&self) -> MutexGuard<'_, Option<Latest>> {
        self.latest.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Publishes a report to all subscribers, encoding it once (its own `dropped_before` is
    /// ignored: each subscriber gets its own).
    pub fn publish(&self, mut report: CellReport) {
        let encoded = EncodedReport::encode(&mut report);
        let mut latest = self.lock_latest();
        // Sent under the lock `subscribe` takes: a new subscriber gets each report once,
        // either as its first (latest) message or from the channel.
        let _ = self.tx.send(encoded.clone());
        *latest = Some(Latest { report, encoded });
    }

    /// The latest report, if any.
    pub fn latest(&self) -> Option<CellReport> {
        self.lock_latest().as_ref().map(|l| l.report.clone())
    }

    /// A new subscriber's stream: the latest report, if any, then every report published
    /// from now on, each with the number lost just before it in `dropped_before`.
    pub fn subscribe(&self, who: &str) -> ReportStream {
        tracing::info!(subscriber = %who, "KPI stream subscription");
        let (rx, first) = {
            let latest = self.lock_latest();
            (
                self.tx.subscribe(),
                latest.as_ref().map(|l| l.encoded.clone()),
            )
        };
        self.metrics.kpi_subscribers_add(1);
        let guard = SubscriberGuard(self.metrics.clone());
        let mut missed = 0u64;
        let live = BroadcastStream::new(rx).filter_map(move |item| {
            let _keep = &guard;
            match item {
                Ok(report) => Some(Ok(ReportFrame {
                    report,
                    dropped_before: std::mem::take(&mut missed),
                })),
                Err(BroadcastStreamRecvError::Lagged(n)) => {
                    tracing::debug!(skipped = n, "KPI subscriber lagging");
                    guard.0.kpi_dropped(n);
                    missed += n;
                    None
                }
            }
        });
        let first = first.map(|report| {
            Ok(ReportFrame {
                report,
                dropped_before: 0,
            })
        });
        Box::pin(tokio_stream::iter(first).chain(live))
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
}

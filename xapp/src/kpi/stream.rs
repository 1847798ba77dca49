//! The gRPC KPI stream server (`maestro.kpi.v1.KpiStream`): every subscriber gets the latest
//! report at once, then one report per period. Each subscriber has a bounded buffer (64
//! reports): one that falls behind loses the oldest reports, never slows the control loop, and
//! is told how many it lost in the next report's `dropped_before`.

use std::pin::Pin;
use std::sync::{Arc, Mutex};

use maestro_api::kpi::kpi_stream_server::KpiStream;
use maestro_api::kpi::{CellReport, SubscribeRequest};
use tokio::sync::broadcast;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status};

use super::metrics::XappMetrics;

/// Fan-out point of the KPI reports.
#[derive(Clone)]
pub struct KpiHub {
    tx: broadcast::Sender<CellReport>,
    latest: Arc<Mutex<Option<CellReport>>>,
    metrics: XappMetrics,
}

impl KpiHub {
    /// A hub buffering up to 64 reports per slow subscriber.
    pub fn new(metrics: XappMetrics) -> Self {
        let (tx, _) = broadcast::channel(64);
        Self {
            tx,
            latest: Arc::new(Mutex::new(None)),
            metrics,
        }
    }

    /// Publishes a report to all subscribers.
    pub fn publish(&self, report: CellReport) {
        if let Ok(mut latest) = self.latest.lock() {
            *latest = Some(report.clone());
        }
        let _ = self.tx.send(report);
    }

    /// The latest report, if any.
    pub fn latest(&self) -> Option<CellReport> {
        self.latest.lock().ok().and_then(|l| l.clone())
    }
}

/// Decrements the subscriber gauge when a stream is dropped.
struct SubscriberGuard(XappMetrics);

impl Drop for SubscriberGuard {
    fn drop(&mut self) {
        self.0.kpi_subscribers_add(-1);
    }
}

type ReportStream = Pin<Box<dyn Stream<Item = Result<CellReport, Status>> + Send>>;

#[tonic::async_trait]
impl KpiStream for KpiHub {
    type SubscribeStream = ReportStream;

    async fn subscribe(
        &self,
        request: Request<SubscribeRequest>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        let who = request.into_inner().subscriber;
        tracing::info!(subscriber = %who, "KPI stream subscription");
        let rx = self.tx.subscribe();
        let first = self.latest();
        self.metrics.kpi_subscribers_add(1);
        let guard = SubscriberGuard(self.metrics.clone());
        let mut missed = 0u64;
        let live = BroadcastStream::new(rx).filter_map(move |item| {
            let _keep = &guard;
            match item {
                Ok(mut report) => {
                    report.dropped_before = std::mem::take(&mut missed);
                    Some(Ok(report))
                }
                Err(BroadcastStreamRecvError::Lagged(n)) => {
                    tracing::debug!(skipped = n, "KPI subscriber lagging");
                    guard.0.kpi_dropped(n);
                    missed += n;
                    None
                }
            }
        });
        let stream = tokio_stream::iter(first.map(Ok)).chain(live);
        Ok(Response::new(Box::pin(stream)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let mut stream = hub
            .subscribe(Request::new(SubscribeRequest {
                subscriber: "slow".into(),
            }))
            .await
            .unwrap()
            .into_inner();
        // The loop publishes 100 reports while this subscriber reads none: publish never
        // waits (this test would hang otherwise).
        for seq in 1..=100 {
            hub.publish(report(seq));
        }
        let first = stream.next().await.unwrap().unwrap();
        assert_eq!(
            (first.sequence, first.dropped_before),
            (0, 0),
            "latest first"
        );
        // 100 published into a 64-report buffer: the 36 oldest are gone.
        let next = stream.next().await.unwrap().unwrap();
        assert_eq!((next.sequence, next.dropped_before), (37, 36));
        let after = stream.next().await.unwrap().unwrap();
        assert_eq!((after.sequence, after.dropped_before), (38, 0));
        let text = metrics.render();
        assert!(
            text.contains("maestro_xapp_kpi_dropped_reports_total 36"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn subscriber_that_keeps_up_loses_nothing() {
        let hub = KpiHub::new(XappMetrics::new().unwrap());
        let mut stream = hub
            .subscribe(Request::new(SubscribeRequest {
                subscriber: "fast".into(),
            }))
            .await
            .unwrap()
            .into_inner();
        for seq in 1..=500 {
            hub.publish(report(seq));
            let got = stream.next().await.unwrap().unwrap();
            assert_eq!((got.sequence, got.dropped_before), (seq, 0));
        }
    }
}

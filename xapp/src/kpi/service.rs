//! Serves `maestro.kpi.v1.KpiStream/Subscribe` from a [`KpiHub`] with tonic, sending each
//! report's once-made encoding ([`super::wire`]) rather than a `CellReport` that tonic would
//! encode again per subscriber. Path, messages and wire are those of the generated
//! `KpiStreamServer`, so the generated client is unchanged.

use std::convert::Infallible;
use std::future::{ready, Ready};
use std::task::{Context, Poll};

use maestro_api::kpi::kpi_stream_server::SERVICE_NAME;
use maestro_api::kpi::SubscribeRequest;
use tonic::codegen::{http, Body, BoxFuture, Service, StdError};
use tonic::server::{Grpc, NamedService, ServerStreamingService};
use tonic::service::interceptor::{InterceptedService, Interceptor};
use tonic::{Request, Response, Status};

use super::filter::KpiFilter;
use super::stream::{KpiHub, ReportStream};
use super::wire::{ReportCodec, ReportFrame};

/// The one method's route.
const SUBSCRIBE_PATH: &str = "/maestro.kpi.v1.KpiStream/Subscribe";

/// The `maestro.kpi.v1.KpiStream` gRPC service, to add to a `tonic::transport::Server`.
#[derive(Clone)]
pub struct KpiStreamService {
    hub: KpiHub,
}

impl KpiStreamService {
    /// The service of `hub`.
    pub fn new(hub: KpiHub) -> Self {
        Self { hub }
    }

    /// The service of `hub` behind `interceptor` (e.g. a bearer token check).
    pub fn with_interceptor<F: Interceptor>(
        hub: KpiHub,
        interceptor: F,
    ) -> InterceptedService<Self, F> {
        InterceptedService::new(Self::new(hub), interceptor)
    }
}

impl NamedService for KpiStreamService {
    const NAME: &'static str = SERVICE_NAME;
}

impl<B> Service<http::Request<B>> for KpiStreamService
where
    B: Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        if req.uri().path() != SUBSCRIBE_PATH {
            return Box::pin(async { Ok(Status::unimplemented("").into_http()) });
        }
        let subscribe = Subscribe(self.hub.clone());
        Box::pin(async move {
            Ok(Grpc::new(ReportCodec)
                .server_streaming(subscribe, req)
                .await)
        })
    }
}

/// `Subscribe` once tonic has decoded the request.
struct Subscribe(KpiHub);

impl ServerStreamingService<SubscribeRequest> for Subscribe {
    type Response = ReportFrame;
    type ResponseStream = ReportStream;
    type Future = Ready<Result<Response<ReportStream>, Status>>;

    fn call(&mut self, request: Request<SubscribeRequest>) -> Self::Future {
        let request = request.into_inner();
        let stream = KpiFilter::from_request(&request)
            .and_then(|filter| self.0.subscribe_filtered(&request.subscriber, filter));
        ready(match stream {
            Ok(stream) => Ok(Response::new(stream)),
            Err(e) => {
                tracing::info!(subscriber = %request.subscriber, error = %e, "KPI subscription refused");
                Err(Status::invalid_argument(e.to_string()))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::time::Duration;

    use maestro_api::kpi::kpi_stream_client::KpiStreamClient;
    use maestro_api::kpi::{CellReport, SliceId, SliceReport, UeReport};
    use tokio::net::TcpListener;
    use tokio::sync::oneshot;
    use tokio_stream::wrappers::TcpListenerStream;
    use tonic::transport::Channel;
    use tonic::Code;

    use super::*;
    use crate::kpi::metrics::XappMetrics;

    /// A report of `ues` UEs over two slices, every field set and varying with `sequence`.
    fn report(sequence: u64, ues: u32) -> CellReport {
        let slice = |n: u32, ues: std::ops::Range<u32>| SliceReport {
            slice: Some(SliceId {
                sst: n,
                sd: format!("{n:06x}"),
                mcc: "001".into(),
                mnc: "01".into(),
            }),
            prb_quota: 100 + n,
            prb_used: 50.5 + f64::from(n),
            dl_throughput_bps: 1.0e8 * f64::from(n),
            target_bps: 2.0e7,
            ues: ues
                .map(|i| UeReport {
                    ue_id: i,
                    wb_cqi: (i + sequence as u32) % 16,
                    mcs: i % 28,
                    prbs: i % 11,
                    dl_throughput_bps: f64::from(i) * 1000.25 + sequence as f64,
                })
                .collect(),
            required_prbs: 40 + n,
            next_quota_prbs: 41 + n,
            achievable: n % 2 == 1,
            label: format!("001-01/sst{n}-sd{n:06x}"),
            model_gain: 0.9,
        };
        CellReport {
            sequence,
            sim_time_ms: sequence * 10,
            period_ms: 10,
            cell_id: "cell-7".into(),
            n_prb: 273,
            capacity_bps: 1.2e9 + sequence as f64,
            slices: vec![slice(1, 0..ues / 2), slice(2, ues / 2..ues)],
            dropped_before: 0,
        }
    }

    /// The service behind a bearer token check, on a loopback port.
    async fn serve(hub: KpiHub) -> (SocketAddr, oneshot::Sender<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let check = |req: Request<()>| match req.metadata().get("authorization") {
            Some(v) if v == "Bearer t0ken" => Ok(req),
            _ => Err(Status::unauthenticated("token")),
        };
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(KpiStreamService::with_interceptor(hub, check))
                .serve_with_incoming_shutdown(TcpListenerStream::new(listener), async {
                    let _ = stopped.await;
                }),
        );
        (addr, stop)
    }

    fn subscribe_request(token: &str) -> Request<SubscribeRequest> {
        let mut req = Request::new(SubscribeRequest {
            subscriber: "test".into(),
            ..SubscribeRequest::default()
        });
        req.metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        req
    }

    async fn client(addr: SocketAddr) -> KpiStreamClient<Channel> {
        KpiStreamClient::connect(format!("http://{addr}"))
            .await
            .unwrap()
            .max_decoding_message_size(64 << 20)
    }

    async fn next(stream: &mut tonic::Streaming<CellReport>) -> CellReport {
        tokio::time::timeout(Duration::from_secs(10), stream.message())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
    }

    /// Current-thread runtime: nothing else runs while the test publishes without awaiting,
    /// so the lag is exact.
    #[tokio::test]
    async fn generated_client_receives_published_reports_and_losses() {
        let metrics = XappMetrics::new().unwrap();
        let hub = KpiHub::new(metrics.clone());
        let (addr, _stop) = serve(hub.clone()).await;
        let mut client = client(addr).await;

        let refused = client.subscribe(subscribe_request("wrong")).await;
        assert_eq!(refused.err().map(|s| s.code()), Some(Code::Unauthenticated));

        let mut first = report(0, 1000);
        first.dropped_before = 9; // a publisher's value never reaches subscribers
        hub.publish(first);
        let mut stream = client
            .subscribe(subscribe_request("t0ken"))
            .await
            .unwrap()
            .into_inner();
        // Latest first, then each report as published, field by field.
        let got = next(&mut stream).await;
        assert_eq!(got, report(0, 1000));
        assert_eq!(got.slices[1].ues.len(), 500);
        for seq in 1..=20 {
            hub.publish(report(seq, 1000));
            let got = next(&mut stream).await;
            assert_eq!(got, report(seq, 1000), "report {seq}");
        }
        // 100 published while the subscriber reads none: its 64-report buffer keeps the
        // newest 64 and the next report says 36 were lost.
        for seq in 21..=120 {
            hub.publish(report(seq, 1000));
        }
        let got = next(&mut stream).await;
        let mut expected = report(57, 1000);
        expected.dropped_before = 36;
        assert_eq!(got, expected);
        for seq in 58..=120 {
            assert_eq!(next(&mut stream).await, report(seq, 1000), "report {seq}");
        }
        assert!(metrics
            .render()
            .contains("maestro_xapp_kpi_dropped_reports_total 36"));
        assert!(metrics.render().contains("maestro_xapp_kpi_subscribers 1"));
        drop(stream);
        // The gauge drops once the server sees the stream go.
        for _ in 0..100 {
            hub.publish(report(121, 10));
            if metrics.render().contains("maestro_xapp_kpi_subscribers 0") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("subscriber gauge not decremented: {}", metrics.render());
    }

    #[tokio::test]
    async fn other_paths_are_unimplemented() {
        let hub = KpiHub::new(XappMetrics::new().unwrap());
        let mut svc = KpiStreamService::new(hub);
        let req = http::Request::builder()
            .uri("/maestro.kpi.v1.KpiStream/Other")
            .body(tonic::body::Body::default())
            .unwrap();
        let res = Service::call(&mut svc, req).await.unwrap();
        assert_eq!(
            res.headers().get("grpc-status").map(|v| v.as_bytes()),
            Some(&b"12"[..])
        );
    }
}

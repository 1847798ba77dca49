//! KPI stream client: subscribes to the xApp's gRPC `maestro.kpi.v1.KpiStream`, to every
//! cell and slice or, with a [`StreamFilter`], to some.

use std::time::Duration;

use maestro_api::kpi::kpi_stream_client::KpiStreamClient;
use maestro_api::kpi::{CellReport, SliceId, SubscribeRequest};

use crate::auth::ClientAuth;
use tonic::Streaming;

/// KPI stream failures.
#[derive(Debug, thiserror::Error)]
pub enum KpiClientError {
    /// Could not connect within the deadline.
    #[error("cannot reach the KPI stream at {endpoint} within {waited:?}: {reason}")]
    Connect {
        /// Endpoint.
        endpoint: String,
        /// How long we tried.
        waited: Duration,
        /// Last error.
        reason: String,
    },
    /// The xApp refused the filter (it names cells or slices it has had no report of) until
    /// the deadline.
    #[error("the KPI stream at {endpoint} refused the filter for {waited:?}: {}", .status.message())]
    Refused {
        /// Endpoint.
        endpoint: String,
        /// How long we tried.
        waited: Duration,
        /// The refusal (`INVALID_ARGUMENT`, naming the unknown cells or slices).
        status: tonic::Status,
    },
    /// The stream broke.
    #[error("KPI stream from {endpoint} failed: {status}")]
    Stream {
        /// Endpoint.
        endpoint: String,
        /// gRPC status.
        status: tonic::Status,
    },
}

/// Which reports to ask for; the default is everything (every cell, every slice).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamFilter {
    /// Only these cells (`CellReport.cell_id`); empty: every cell.
    pub cells: Vec<String>,
    /// Only these slices within each report; empty: every slice.
    pub slices: Vec<SliceId>,
}

/// Connects and subscribes, retrying every 200 ms until `deadline` (the xApp may still be
/// starting).
pub async fn subscribe(
    endpoint: &str,
    subscriber: &str,
    deadline: Duration,
) -> Result<Streaming<CellReport>, KpiClientError> {
    subscribe_with(endpoint, subscriber, deadline, &ClientAuth::default()).await
}

/// [`subscribe`] with credentials (bearer token, TLS for `https://` endpoints).
pub async fn subscribe_with(
    endpoint: &str,
    subscriber: &str,
    deadline: Duration,
    auth: &ClientAuth,
) -> Result<Streaming<CellReport>, KpiClientError> {
    subscribe_filtered(
        endpoint,
        subscriber,
        deadline,
        auth,
        &StreamFilter::default(),
    )
    .await
}

/// [`subscribe_with`] to the reports `filter` selects. A filter the xApp refuses (a cell it
/// has not had a report from yet) is asked again until `deadline`, as the cell may still
/// be coming up; then [`KpiClientError::Refused`] says which names were unknown.
pub async fn subscribe_filtered(
    endpoint: &str,
    subscriber: &str,
    deadline: Duration,
    auth: &ClientAuth,
    filter: &StreamFilter,
) -> Result<Streaming<CellReport>, KpiClientError> {
    let credentials = |e: crate::auth::AuthError| KpiClientError::Connect {
        endpoint: endpoint.to_owned(),
        waited: Duration::ZERO,
        reason: e.to_string(),
    };
    let tls = auth.grpc_tls(endpoint).map_err(credentials)?;
    let authorization = auth.grpc_authorization().map_err(credentials)?;
    let started = tokio::time::Instant::now();
    let mut last_error;
    let mut refused;
    loop {
        match connect(endpoint, tls.clone()).await {
            Ok(mut client) => {
                let mut request = tonic::Request::new(SubscribeRequest {
                    subscriber: subscriber.to_owned(),
                    cells: filter.cells.clone(),
                    slices: filter.slices.clone(),
                });
                if let Some(value) = &authorization {
                    request
                        .metadata_mut()
                        .insert("authorization", value.clone());
                }
                match client.subscribe(request).await {
                    Ok(resp) => return Ok(resp.into_inner()),
                    Err(status) if status.code() == tonic::Code::InvalidArgument => {
                        last_error = status.to_string();
                        refused = Some(status);
                    }
                    Err(status) => {
                        last_error = status.to_string();
                        refused = None;
                    }
                }
            }
            Err(e) => {
                last_error = format!("{e}: {}", source_chain(&e));
                refused = None;
            }
        }
        if started.elapsed() >= deadline {
            if let Some(status) = refused {
                return Err(KpiClientError::Refused {
                    endpoint: endpoint.to_owned(),
                    waited: started.elapsed(),
                    status,
                });
            }
            return Err(KpiClientError::Connect {
                endpoint: endpoint.to_owned(),
                waited: started.elapsed(),
                reason: last_error,
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn connect(
    endpoint: &str,
    tls: Option<tonic::transport::ClientTlsConfig>,
) -> Result<KpiStreamClient<tonic::transport::Channel>, tonic::transport::Error> {
    let mut channel = tonic::transport::Endpoint::from_shared(endpoint.to_owned())?;
    if let Some(tls) = tls {
        channel = channel.tls_config(tls)?;
    }
    Ok(KpiStreamClient::new(channel.connect().await?))
}

fn source_chain(e: &dyn std::error::Error) -> String {
    let mut parts = Vec::new();
    let mut cur = e.source();
    while let Some(s) = cur {
        parts.push(s.to_string());
        cur = s.source();
    }
    parts.join(": ")
}

/// Next report of a stream; `Ok(None)` when the server ended it.
pub async fn next_report(
    endpoint: &str,
    stream: &mut Streaming<CellReport>,
) -> Result<Option<CellReport>, KpiClientError> {
    stream
        .message()
        .await
        .map_err(|status| KpiClientError::Stream {
            endpoint: endpoint.to_owned(),
            status,
        })
}

//! KPI stream client: subscribes to the xApp's gRPC `maestro.kpi.v1.KpiStream`.

use std::time::Duration;

use maestro_api::kpi::kpi_stream_client::KpiStreamClient;
use maestro_api::kpi::{CellReport, SubscribeRequest};
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
    /// The stream broke.
    #[error("KPI stream from {endpoint} failed: {status}")]
    Stream {
        /// Endpoint.
        endpoint: String,
        /// gRPC status.
        status: tonic::Status,
    },
}

/// Connects and subscribes, retrying every 200 ms until `deadline` (the xApp may still be
/// starting).
pub async fn subscribe(
    endpoint: &str,
    subscriber: &str,
    deadline: Duration,
) -> Result<Streaming<CellReport>, KpiClientError> {
    let started = tokio::time::Instant::now();
    let mut last_error;
    loop {
        match KpiStreamClient::connect(endpoint.to_owned()).await {
            Ok(mut client) => {
                match client
                    .subscribe(SubscribeRequest {
                        subscriber: subscriber.to_owned(),
                    })
                    .await
                {
                    Ok(resp) => return Ok(resp.into_inner()),
                    Err(status) => last_error = status.to_string(),
                }
            }
            Err(e) => last_error = format!("{e}: {}", source_chain(&e)),
        }
        if started.elapsed() >= deadline {
            return Err(KpiClientError::Connect {
                endpoint: endpoint.to_owned(),
                waited: started.elapsed(),
                reason: last_error,
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
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

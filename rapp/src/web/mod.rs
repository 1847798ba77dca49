//! The rApp's live page: a small web page (one HTML, one vanilla JS, one CSS file, embedded
//! in the binary; no front-end toolchain, no CDN) showing current and past negotiations and
//! each cell's KPIs as they arrive (a cell selector, a table and a time chart per slice of
//! target, measured throughput and CQI), and the JSON and server-sent-events API it reads.
//!
//! Routes, merged into the rApp's HTTP server ([`crate::metrics::MetricsServer::start_with`]):
//! - `GET /` (and `/ui/`): the page; `/ui/app.js`, `/ui/style.css` its assets;
//! - `GET /api/v1/negotiations`: every negotiation kept, oldest first, as JSON;
//! - `GET /api/v1/negotiations/{id}`: one (404 problem+json when unknown);
//! - `GET /api/v1/events`: `text/event-stream` of `kpi`, `round`, `consensus` and `policy`
//!   events; a reader too slow to keep up gets a `dropped` event saying how many it lost.
//!
//! [`hub`] holds the state the run loop feeds; [`follow_kpis`] keeps the KPIs flowing after a
//! pass (the demo's `--hold`).

pub mod hub;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures::stream::{self, Stream, StreamExt};
use maestro_api::problem::ProblemDetails;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;

use crate::auth::ClientAuth;
use crate::kpi_client::{self, KpiClientError};

pub use hub::{LiveEvent, LiveHub, LiveNegotiation, LivePolicy, LiveStatus};

const PAGE_HTML: &str = include_str!("index.html");
const PAGE_JS: &str = include_str!("app.js");
const PAGE_CSS: &str = include_str!("style.css");

/// The live page's routes, over `hub`.
pub fn router(hub: Arc<LiveHub>) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/ui/", get(page))
        .route("/ui/app.js", get(script))
        .route("/ui/style.css", get(style))
        .route("/api/v1/negotiations", get(list_negotiations))
        .route("/api/v1/negotiations/{id}", get(get_negotiation))
        .route("/api/v1/events", get(events))
        .with_state(hub)
}

async fn page() -> Html<&'static str> {
    Html(PAGE_HTML)
}

async fn script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        PAGE_JS,
    )
}

async fn style() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        PAGE_CSS,
    )
}

async fn list_negotiations(State(hub): State<Arc<LiveHub>>) -> Json<Vec<LiveNegotiation>> {
    Json(hub.negotiations())
}

async fn get_negotiation(State(hub): State<Arc<LiveHub>>, Path(id): Path<String>) -> Response {
    match hub.negotiation(&id) {
        Some(n) => Json(n).into_response(),
        None => {
            let problem = ProblemDetails::new(
                404,
                "Not Found",
                format!(
                    "no negotiation '{}'",
                    id.chars().take(160).collect::<String>()
                ),
            )
            .with_instance(format!("/api/v1/negotiations/{id}"));
            (
                StatusCode::NOT_FOUND,
                [(header::CONTENT_TYPE, "application/problem+json")],
                serde_json::to_string(&problem).unwrap_or_default(),
            )
                .into_response()
        }
    }
}

/// The SSE stream: the latest KPI report of each cell first (so a fresh page has numbers at
/// once), then every event as it is published, until the hub closes.
async fn events(
    State(hub): State<Arc<LiveHub>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let first: Vec<Event> = hub
        .latest_kpis()
        .into_iter()
        .map(|k| sse_event(&hub::LiveEvent::Kpi(k)))
        .collect();
    let live = BroadcastStream::new(hub.subscribe()).map(|item| match item {
        Ok(event) => sse_event(&event),
        Err(BroadcastStreamRecvError::Lagged(n)) => Event::default()
            .event("dropped")
            .data(serde_json::json!({ "dropped": n }).to_string()),
    });
    let mut closed = hub.closed();
    let until_closed = async move {
        let _ = closed.wait_for(|c| *c).await;
    };
    let stream = stream::iter(first)
        .chain(live)
        .take_until(Box::pin(until_closed))
        .map(Ok);
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

fn sse_event(event: &LiveEvent) -> Event {
    Event::default()
        .event(event.name())
        .data(event.to_json().to_string())
}

/// Subscribes to the xApp's KPI stream and feeds every report to `hub` until the stream ends
/// (`Ok`) or breaks. Used to keep the page's KPIs live outside a pass.
pub async fn follow_kpis(
    hub: Arc<LiveHub>,
    endpoint: &str,
    auth: &ClientAuth,
    connect_timeout: Duration,
) -> Result<(), KpiClientError> {
    let mut stream =
        kpi_client::subscribe_with(endpoint, "maestro-rapp-live-page", connect_timeout, auth)
            .await?;
    while let Some(report) = kpi_client::next_report(endpoint, &mut stream).await? {
        hub.kpi(&report);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::negotiation::{negotiate, AgentSpec, NegotiationConfig, PersonaNegotiator};
    use maestro_api::kpi::CellReport;
    use std::net::SocketAddr;

    async fn serve(hub: Arc<LiveHub>) -> (String, tokio::task::JoinHandle<()>) {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, router(hub)).await.unwrap();
        });
        (format!("http://{addr}"), task)
    }

    #[tokio::test]
    async fn serves_page_assets_json_and_problem_for_unknown_ids() {
        let hub = Arc::new(LiveHub::new());
        let agents: Vec<AgentSpec> = ["a", "b"]
            .iter()
            .zip([10.0, 30.0])
            .map(|(id, t)| AgentSpec {
                id: (*id).into(),
                business_intent: String::new(),
                target_mbps: t,
                weight: 1.0,
                personality: crate::negotiation::Personality::Normal,
                weight_above: None,
                utility: None,
            })
            .collect();
        let cfg = NegotiationConfig::default();
        let outcome = negotiate(&cfg, &agents, &PersonaNegotiator::new(1))
            .await
            .unwrap();
        hub.begin("neg-x", &cfg.topic, None, &agents, 5);
        hub.finish("neg-x", &outcome);
        let (base, task) = serve(Arc::clone(&hub)).await;
        let http = reqwest::Client::new();

        let page = http.get(format!("{base}/")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.headers()[header::CONTENT_TYPE.as_str()]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let html = page.text().await.unwrap();
        assert!(html.contains("/ui/app.js") && html.contains("/ui/style.css"));
        for (path, kind) in [
            ("/ui/app.js", "text/javascript"),
            ("/ui/style.css", "text/css"),
        ] {
            let r = http.get(format!("{base}{path}")).send().await.unwrap();
            assert_eq!(r.status(), 200, "{path}");
            assert!(r.headers()[header::CONTENT_TYPE.as_str()]
                .to_str()
                .unwrap()
                .starts_with(kind));
        }

        let all: serde_json::Value = http
            .get(format!("{base}/api/v1/negotiations"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(all[0]["id"], "neg-x");
        assert_eq!(all[0]["consensus_mbps"], outcome.consensus_mbps);
        assert_eq!(all[0]["agents"][1]["id"], "b");
        let one: serde_json::Value = http
            .get(format!("{base}/api/v1/negotiations/neg-x"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(one, all[0]);

        let missing = http
            .get(format!("{base}/api/v1/negotiations/neg-nope"))
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), 404);
        assert_eq!(
            missing.headers()[header::CONTENT_TYPE.as_str()],
            "application/problem+json"
        );
        let problem: serde_json::Value = missing.json().await.unwrap();
        assert_eq!(problem["status"], 404);
        task.abort();
    }

    #[tokio::test]
    async fn events_stream_starts_with_each_cells_latest_kpis_and_ends_when_the_hub_closes() {
        let hub = Arc::new(LiveHub::new());
        hub.kpi(&CellReport {
            sequence: 41,
            cell_id: "cell-b".into(),
            ..Default::default()
        });
        hub.kpi(&CellReport {
            sequence: 40,
            cell_id: "cell-a".into(),
            ..Default::default()
        });
        let (base, task) = serve(Arc::clone(&hub)).await;
        let mut resp = reqwest::get(format!("{base}/api/v1/events")).await.unwrap();
        assert_eq!(
            resp.headers()[header::CONTENT_TYPE.as_str()],
            "text/event-stream"
        );
        let mut text = String::new();
        // Reads until `needle` shows, within 30 s in all (keep-alives do not count).
        async fn read_until(resp: &mut reqwest::Response, text: &mut String, needle: &str) {
            let read = async {
                while !text.contains(needle) {
                    let chunk = resp.chunk().await.unwrap().unwrap();
                    text.push_str(&String::from_utf8_lossy(&chunk));
                }
            };
            if tokio::time::timeout(Duration::from_secs(30), read)
                .await
                .is_err()
            {
                panic!("no {needle} in 30 s: {text}");
            }
        }
        read_until(&mut resp, &mut text, "\"sequence\":41").await;
        assert!(text.starts_with("event: kpi\n"), "{text}");
        // Every cell's latest, by cell id.
        let a = text.find("\"sequence\":40");
        assert!(
            a.is_some_and(|a| a < text.find("\"sequence\":41").unwrap()),
            "{text}"
        );
        hub.kpi(&CellReport {
            sequence: 42,
            ..Default::default()
        });
        read_until(&mut resp, &mut text, "\"sequence\":42").await;
        hub.close();
        // The stream ends: the body completes.
        loop {
            let chunk = tokio::time::timeout(Duration::from_secs(30), resp.chunk())
                .await
                .unwrap()
                .unwrap();
            if chunk.is_none() {
                break;
            }
        }
        task.abort();
    }
}

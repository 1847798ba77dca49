//! The rApp's live page, end to end.
//!
//! - In process: an xApp with its emulated gNB, the rApp's web routes on a real listener, an
//!   SSE reader subscribed before the pass: it sees `kpi`, every `round`, `consensus` and
//!   `policy` events, and the JSON API agrees with the pass's report.
//! - `maestro demo --hold`: it prints the page URL, serves the page, the JSON and live KPI
//!   events after the pass.
//! - Headless Chromium driven by Debian's chromedriver over the W3C WebDriver protocol (the
//!   `thirtyfour` client): the page loads, the negotiation with its rounds and consensus
//!   appears, KPI values update, and a screenshot is saved to
//!   `target/ci-artifacts/live-page.png`. Without chromium/chromedriver the test prints a skip
//!   message and passes, unless `MAESTRO_REQUIRE_BROWSER=1`.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use maestro_rapp::metrics::{MetricsServer, RappMetrics};
use maestro_rapp::run::{run_live, LlmChoice, RappJob};
use maestro_rapp::scenario::Scenario;
use maestro_rapp::web::{self, LiveHub};
use maestro_xapp::config::{E2Config, XappConfig};
use maestro_xapp::e2::emulator::{Clock, EmulatorConfig};
use serde_json::Value;
use thirtyfour::prelude::*;

const LONG: Duration = Duration::from_secs(120);

// ---- SSE reading ----------------------------------------------------------------------

/// Reads `text/event-stream` frames from a response: `(event, data)` pairs.
struct SseReader {
    resp: reqwest::Response,
    buf: String,
}

impl SseReader {
    async fn open(url: &str) -> Self {
        let resp = reqwest::get(url).await.expect("GET events");
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "text/event-stream");
        Self {
            resp,
            buf: String::new(),
        }
    }

    /// The next event (keep-alive comments skipped).
    async fn next(&mut self) -> (String, Value) {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let frame: String = self.buf.drain(..end + 2).collect();
                let mut event = String::from("message");
                let mut data = String::new();
                for line in frame.lines() {
                    if let Some(v) = line.strip_prefix("event: ") {
                        event = v.to_owned();
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data.push_str(v);
                    }
                }
                if data.is_empty() {
                    continue;
                }
                return (
                    event,
                    serde_json::from_str(&data).expect("event data is JSON"),
                );
            }
            let chunk = tokio::time::timeout(LONG, self.resp.chunk())
                .await
                .expect("no event within the timeout")
                .expect("read events")
                .expect("the events stream ended");
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

// ---- in process: events during a pass ------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_stream_carries_kpis_rounds_consensus_and_policies_of_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
    let xapp = maestro_xapp::start(XappConfig {
        http_addr: loopback,
        grpc_addr: loopback,
        e2: E2Config::Emulated(EmulatorConfig {
            clock: Clock::Simulated { speedup: 20.0 },
            ..EmulatorConfig::default()
        }),
        ..XappConfig::loopback_defaults(dir.path().join("xapp"))
    })
    .await
    .unwrap();
    let live = Arc::new(LiveHub::new());
    let server = MetricsServer::start_with(
        loopback,
        Arc::new(RappMetrics::new().unwrap()),
        web::router(Arc::clone(&live)),
    )
    .await
    .unwrap();
    let base = format!("http://{}", server.addr);
    let mut events = SseReader::open(&format!("{base}/api/v1/events")).await;

    let scenario = Scenario::default();
    let job = RappJob {
        a1_url: format!("http://{}", xapp.http_addr),
        kpi_url: format!("http://{}", xapp.grpc_addr),
        llm: LlmChoice::Persona {
            seed: scenario.seed,
        },
        scenario,
        observe_s: 10.0,
        connect_timeout: Duration::from_secs(30),
        regulations: None,
        transcripts: Some(dir.path().join("rapp")),
        auth: Default::default(),
        cell: None,
    };
    let pass = tokio::spawn({
        let live = Arc::clone(&live);
        async move { run_live(&job, Some(&live)).await }
    });

    // The events of the pass, in order: a KPI report, the rounds, the consensus, the policies,
    // then the KPIs of the observation window.
    let mut kpis = Vec::new();
    let mut rounds = Vec::new();
    let mut consensus = None;
    let mut policies = None;
    let deadline = Instant::now() + LONG;
    while policies.is_none() {
        assert!(Instant::now() < deadline, "events missing");
        let (name, data) = events.next().await;
        match name.as_str() {
            "kpi" => kpis.push(data),
            "round" => {
                assert!(consensus.is_none(), "round after consensus");
                rounds.push(data);
            }
            "consensus" => consensus = Some(data),
            "policy" => {
                assert!(consensus.is_some(), "policy before consensus");
                policies = Some(data);
            }
            other => panic!("unexpected event {other}: {data}"),
        }
    }
    // Then the KPIs of the observation window; once the xApp enforces the policies, every
    // slice reports the agreed target.
    let enforced = loop {
        assert!(
            Instant::now() < deadline,
            "no KPI report with the targets in force"
        );
        let (name, data) = events.next().await;
        assert_eq!(name, "kpi", "{data}");
        kpis.push(data.clone());
        let slices = data["slices"].as_array().unwrap();
        if slices
            .iter()
            .all(|s| s["target_mbps"].as_f64().unwrap() > 0.0)
        {
            break data;
        }
    };
    let report = pass.await.unwrap().expect("pass");
    let id = report.negotiation_id.clone().expect("transcript id");

    // Rounds 0..=n, each with both agents' values and reasoning.
    assert_eq!(rounds.len() as u32, report.rounds + 1);
    for (i, r) in rounds.iter().enumerate() {
        assert_eq!(r["round"], i as u64);
        assert_eq!(r["negotiation_id"], id.as_str());
        let values = r["values"].as_array().unwrap();
        let agents: Vec<&str> = values
            .iter()
            .map(|v| v["agent_id"].as_str().unwrap())
            .collect();
        assert_eq!(agents, ["bo-cost", "bo-qos"]);
        assert!(values
            .iter()
            .all(|v| !v["reasoning"].as_str().unwrap().is_empty()));
    }
    let consensus = consensus.unwrap();
    assert_eq!(consensus["negotiation_id"], id.as_str());
    assert_eq!(consensus["consensus_mbps"], report.consensus_mbps);
    assert_eq!(consensus["status"], "consensus");
    let policies = policies.unwrap();
    let ids: Vec<&str> = policies["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["policy_id"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = report.slices.iter().map(|s| s.policy_id.as_str()).collect();
    assert_eq!(ids, expected);
    // KPI sequence numbers increase, and once the policies are in force the slices carry
    // the agreed target.
    let seqs: Vec<u64> = kpis
        .iter()
        .map(|k| k["sequence"].as_u64().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    assert!(kpis.len() >= 2);
    for s in enforced["slices"].as_array().unwrap() {
        let target = s["target_mbps"].as_f64().unwrap();
        assert!(
            (target - report.slices[0].target_mbps).abs() < 1e-6,
            "slice target {target} vs agreed {}",
            report.slices[0].target_mbps
        );
        assert!(s["cqi"].as_f64().unwrap() > 0.0);
        assert!(s["prb_quota"].as_u64().unwrap() > 0);
    }

    // The JSON API has the same negotiation.
    let one: Value = reqwest::get(format!("{base}/api/v1/negotiations/{id}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["status"], "consensus");
    assert_eq!(one["consensus_mbps"], report.consensus_mbps);
    assert_eq!(one["rounds"].as_array().unwrap().len(), rounds.len());
    assert_eq!(one["policies"].as_array().unwrap().len(), 2);
    assert_eq!(
        one["policies"][0]["dl_kbps"].as_f64().unwrap(),
        (report.consensus_mbps * 1000.0).round()
    );

    live.close();
    server.shutdown().await;
    xapp.shutdown().await;
}

// ---- the demo binary -------------------------------------------------------------------

/// A `maestro demo --hold` child; killed on drop.
struct Demo {
    child: Child,
    /// `http://127.0.0.1:PORT/` of the live page.
    page: String,
}

impl Demo {
    fn start() -> Self {
        let mut child = common::maestro()
            .args([
                "demo",
                "--duration",
                "20",
                "--speedup",
                "20",
                "--hold",
                "600",
            ])
            .args(["--web-addr", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn maestro demo");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        // Keep draining stdout so the demo never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + LONG;
        let page = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx
                .recv_timeout(left)
                .expect("the demo did not print its page URL");
            if let Some(url) = line.trim().strip_prefix("rApp web page: ") {
                break url.to_owned();
            }
        };
        assert!(page.starts_with("http://127.0.0.1:") && page.ends_with('/'));
        Self { child, page }
    }

    /// Polls `/api/v1/negotiations` until a negotiation has its consensus and policies.
    async fn negotiation(&self) -> Value {
        let deadline = Instant::now() + LONG;
        loop {
            assert!(Instant::now() < deadline, "no finished negotiation");
            if let Ok(r) = reqwest::get(format!("{}api/v1/negotiations", self.page)).await {
                let all: Value = r.json().await.unwrap_or(Value::Null);
                if let Some(n) = all.as_array().and_then(|a| a.last()) {
                    if n["status"] == "consensus"
                        && !n["policies"]
                            .as_array()
                            .expect("policies is an array")
                            .is_empty()
                    {
                        return n.clone();
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_hold_serves_page_json_and_live_kpis() {
    let demo = Demo::start();
    let html = reqwest::get(&demo.page)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("MAESTRO rApp") && html.contains("/ui/app.js"));
    let js = reqwest::get(format!("{}ui/app.js", demo.page))
        .await
        .unwrap();
    assert_eq!(js.status(), 200);
    assert!(js.text().await.unwrap().contains("EventSource"));

    let n = demo.negotiation().await;
    let agents: Vec<&str> = n["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(agents, ["bo-cost", "bo-qos"]);
    let rounds = n["rounds"].as_array().unwrap();
    assert!(rounds.len() >= 2);
    // At consensus the last round's demands are within epsilon (1 Mbps) of each other and
    // MAESTRO's last proposal is the consensus.
    let last = rounds.last().unwrap();
    assert!(last["proposal"]["spread_mbps"].as_f64().unwrap() < 1.0);
    let consensus = n["consensus_mbps"].as_f64().unwrap();
    assert!((last["proposal"]["mean_mbps"].as_f64().unwrap() - consensus).abs() < 1e-9);
    let id = n["id"].as_str().unwrap();
    let one: Value = reqwest::get(format!("{}api/v1/negotiations/{id}", demo.page))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one, n);
    let missing = reqwest::get(format!("{}api/v1/negotiations/neg-unknown", demo.page))
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.headers()["content-type"],
        "application/problem+json"
    );

    // After the pass the KPIs keep coming (the demo's own KPI subscription while it holds).
    let mut events = SseReader::open(&format!("{}api/v1/events", demo.page)).await;
    let mut seqs = Vec::new();
    while seqs.len() < 3 {
        let (name, data) = events.next().await;
        if name == "kpi" {
            seqs.push(data["sequence"].as_u64().unwrap());
            let slices = data["slices"].as_array().unwrap();
            assert_eq!(slices.len(), 2);
            for s in slices {
                let target = s["target_mbps"].as_f64().unwrap();
                assert!((target - (consensus * 1000.0).round() / 1000.0).abs() < 1e-6);
            }
        }
    }
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
}

// ---- headless Chromium ---------------------------------------------------------------

fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// A chromedriver child on a free loopback port; killed on drop.
struct Driver {
    child: Child,
    base: String,
}

impl Driver {
    async fn start(binary: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = Command::new(binary)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + LONG;
        loop {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready"
            );
            if let Ok(r) = reqwest::get(format!("{base}/status")).await {
                let v: Value = r.json().await.unwrap_or(Value::Null);
                if v["value"]["ready"] == true {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Self { child, base }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A headless Chromium session through `driver`.
async fn browser(driver: &Driver, chromium: &Path) -> WebDriver {
    let mut caps = DesiredCapabilities::chrome();
    caps.set_binary(chromium.to_str().expect("chromium path is UTF-8"))
        .expect("binary capability");
    for arg in [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,1100",
    ] {
        caps.add_arg(arg).expect("chromium argument");
    }
    WebDriver::builder(driver.base.as_str(), caps)
        .request_timeout(LONG)
        .await
        .expect("new WebDriver session")
}

/// The rendered text (`innerText`) of every element matching a CSS selector, read in one
/// script call so a re-render between finding and reading cannot leave a stale reference.
async fn texts(browser: &WebDriver, css: &str) -> Vec<String> {
    let script =
        "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.innerText);";
    match browser.execute(script, vec![Value::from(css)]).await {
        Ok(ret) => serde_json::from_value(ret.json().clone()).unwrap_or_default(),
        Err(_) => Vec::new(),
    }
}

/// The visible text of the first element matching `css`, once there is one.
async fn wait_text(browser: &WebDriver, css: &str) -> String {
    let deadline = Instant::now() + LONG;
    loop {
        // Found through the WebDriver element search, read through innerText.
        let found = browser
            .find_all(By::Css(css))
            .await
            .is_ok_and(|e| !e.is_empty());
        if found {
            if let Some(t) = texts(browser, css).await.into_iter().next() {
                if !t.is_empty() && t != "–" {
                    return t;
                }
            }
        }
        assert!(Instant::now() < deadline, "nothing visible at '{css}'");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// `target/ci-artifacts/` of the target directory this test was built in.
fn artifacts_dir() -> PathBuf {
    let exe = Path::new(env!("CARGO_BIN_EXE_maestro"));
    // target/<profile>/maestro -> target/
    exe.parent()
        .and_then(Path::parent)
        .expect("target dir")
        .join("ci-artifacts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_chromium_shows_the_negotiation_and_live_kpis() {
    let required = std::env::var("MAESTRO_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    let chromium = on_path(&["chromium", "chromium-browser", "google-chrome"]);
    let chromedriver = on_path(&["chromedriver"]);
    let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
        assert!(
            !required,
            "MAESTRO_REQUIRE_BROWSER=1 but chromium or chromedriver is not on PATH \
             (apt-get install chromium chromium-driver)"
        );
        eprintln!(
            "SKIP headless_chromium_shows_the_negotiation_and_live_kpis: chromium or \
             chromedriver not on PATH (apt-get install chromium chromium-driver; \
             MAESTRO_REQUIRE_BROWSER=1 makes this a failure)"
        );
        return;
    };

    let demo = Demo::start();
    let n = demo.negotiation().await;
    let driver = Driver::start(&chromedriver).await;
    let browser = browser(&driver, &chromium).await;
    browser.goto(&demo.page).await.expect("open the live page");

    // The negotiation appears with its agents, every round and the consensus.
    let consensus_text = wait_text(&browser, ".negotiation b.consensus").await;
    let shown: f64 = consensus_text.parse().expect("consensus is a number");
    let consensus = n["consensus_mbps"].as_f64().unwrap();
    assert!(
        (shown - consensus).abs() <= 0.005 + 1e-9,
        "page shows {shown}, API says {consensus}"
    );
    let id = n["id"].as_str().unwrap();
    let text = texts(&browser, ".negotiation")
        .await
        .into_iter()
        .next()
        .expect("negotiation card");
    for needle in [
        id,
        "bo-cost",
        "bo-qos",
        "consensus",
        "maestro-bo-cost",
        "maestro-bo-qos",
    ] {
        assert!(text.contains(needle), "'{needle}' not on the page:\n{text}");
    }
    let rows = texts(&browser, ".negotiation tr.round").await;
    assert_eq!(rows.len(), n["rounds"].as_array().unwrap().len());
    let round1 = &rows[1];
    let v1 = n["rounds"][1]["values"][0]["value_mbps"].as_f64().unwrap();
    assert!(
        round1.contains(&format!("{v1:.2} Mbps")),
        "round 1 row lacks {v1:.2}: {round1}"
    );

    // KPIs update live: the report number changes between two reads.
    let first = wait_text(&browser, "#kpi-seq").await;
    let deadline = Instant::now() + LONG;
    let second = loop {
        let now = wait_text(&browser, "#kpi-seq").await;
        if now != first {
            break now;
        }
        assert!(
            Instant::now() < deadline,
            "KPI report number stuck at {first}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert!(
        second.parse::<u64>().unwrap() > first.parse::<u64>().unwrap(),
        "{first} -> {second}"
    );
    let slice_rows = texts(&browser, "#kpi-rows tr[data-slice]").await;
    assert_eq!(slice_rows.len(), 2);
    let row = &slice_rows[0];
    assert!(row.contains("sst1"), "{row}");

    // A time chart per slice (the cell's only one, selected by default; no selector shown
    // for one cell): target, measured and CQI lines of two points or more.
    let script = "return Array.from(document.querySelectorAll('#kpi-charts .slice-chart'))\
                  .map(c => [c.dataset.slice].concat(['target', 'measured', 'cqi']\
                  .map(k => (c.querySelector('svg path.' + k) || {getAttribute: () => ''})\
                  .getAttribute('d') || '')));";
    let deadline = Instant::now() + LONG;
    let charts = loop {
        let got = browser
            .execute(script, vec![])
            .await
            .expect("read the charts");
        let charts: Vec<Vec<String>> = serde_json::from_value(got.json().clone()).unwrap();
        let drawn = charts.len() == 2
            && charts
                .iter()
                .all(|c| c[1..].iter().all(|d| d.starts_with('M') && d.contains('L')));
        if drawn {
            break charts;
        }
        let points: Vec<Vec<usize>> = charts
            .iter()
            .map(|c| {
                c[1..]
                    .iter()
                    .map(|d| d.matches(['M', 'L']).count())
                    .collect()
            })
            .collect();
        assert!(
            Instant::now() < deadline,
            "charts not drawn: {} charts, points of target/measured/CQI: {points:?}",
            charts.len()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert!(charts[0][0].contains("sst1"), "{charts:?}");
    let selector_hidden = browser
        .execute(
            "return document.getElementById('kpi-cell-choice').hidden;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        selector_hidden.json(),
        &Value::Bool(true),
        "one cell: no selector"
    );

    // The screenshot, a CI artifact.
    let png = browser.screenshot_as_png().await.expect("screenshot");
    browser.quit().await.expect("end the WebDriver session");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    assert_eq!(&png[12..16], b"IHDR");
    let width = u32::from_be_bytes([png[16], png[17], png[18], png[19]]);
    let height = u32::from_be_bytes([png[20], png[21], png[22], png[23]]);
    assert!(
        (800..=4000).contains(&width) && (600..=4000).contains(&height),
        "{width}x{height}"
    );
    assert!(png.len() > 20_000, "screenshot only {} bytes", png.len());
    let dir = artifacts_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("live-page.png");
    std::fs::write(&path, &png).unwrap();
    println!(
        "screenshot: {} ({width}x{height}, {} bytes)",
        path.display(),
        png.len()
    );
}

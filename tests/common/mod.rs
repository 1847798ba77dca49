//! Helpers for the end-to-end tests: run the real `maestro` binary as a user would.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Path of the `maestro` binary cargo built for these tests.
pub fn maestro() -> Command {
    Command::new(env!("CARGO_BIN_EXE_maestro"))
}

/// A `maestro xapp` child process on loopback ports it chose itself; killed on drop.
pub struct XappProcess {
    child: Child,
    /// `http://127.0.0.1:PORT` of A1-P v2 and /metrics.
    pub http: String,
    /// `http://127.0.0.1:PORT` of the gRPC KPI stream.
    pub grpc: String,
    /// Policies it said it restored at start.
    pub restored: usize,
}

impl XappProcess {
    /// Starts `maestro xapp` with a simulated clock and waits for it to print its ports.
    pub fn start(state_dir: &Path) -> Self {
        Self::start_with(state_dir, &[])
    }

    /// Same, with more command-line arguments.
    pub fn start_with(state_dir: &Path, extra: &[&str]) -> Self {
        let mut child = maestro()
            .args(["xapp", "--e2", "emulator"])
            .args(["--a1-addr", "127.0.0.1:0", "--grpc-addr", "127.0.0.1:0"])
            .args(["--clock", "sim", "--speedup", "20"])
            .arg("--data-dir")
            .arg(state_dir)
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn maestro xapp");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let (mut http, mut grpc, mut restored) = (None, None, None);
        let deadline = Instant::now() + Duration::from_secs(30);
        while http.is_none() || grpc.is_none() || restored.is_none() {
            assert!(Instant::now() < deadline, "xapp did not print its ports");
            let line = lines.next().expect("xapp exited early").expect("read");
            if let Some(rest) = line.strip_prefix("xApp A1-P v2: ") {
                http = Some(rest.trim_end_matches("/A1-P/v2/policytypes").to_owned());
            } else if let Some(rest) = line.strip_prefix("xApp KPI gRPC: ") {
                grpc = Some(rest.to_owned());
            } else if let Some(rest) = line.strip_prefix("policies restored from the store: ") {
                restored = Some(rest.parse().expect("count"));
            }
        }
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self {
            child,
            http: http.unwrap_or_default(),
            grpc: grpc.unwrap_or_default(),
            restored: restored.unwrap_or_default(),
        }
    }

    /// SIGKILL, as a crash would.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for XappProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `GET {http}/ric/v1/health/ready` answers 200 (the E2 node has reported).
pub async fn wait_ready(client: &reqwest::Client, http: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(r) = client
            .get(format!("{http}/ric/v1/health/ready"))
            .send()
            .await
        {
            if r.status() == 200 {
                return;
            }
        }
        assert!(Instant::now() < deadline, "xapp never became ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `GET url` and decode the JSON body (panics with the URL on failure: test helper).
pub async fn get_json<T: serde::de::DeserializeOwned>(http: &reqwest::Client, url: &str) -> T {
    http.get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: body is not the expected JSON: {e}"))
}

/// `GET url` and return the body as text (panics with the URL on failure: test helper).
pub async fn get_text(http: &reqwest::Client, url: &str) -> String {
    http.get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .text()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: body is not text: {e}"))
}

/// Assert `resp` is an RFC 7807 problem with `status` whose detail mentions `detail_has`;
/// return the problem body.
pub async fn assert_problem(
    resp: reqwest::Response,
    status: u16,
    detail_has: &str,
) -> serde_json::Value {
    assert_eq!(resp.status().as_u16(), status);
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["status"], status);
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains(detail_has),
        "detail {detail:?} lacks {detail_has:?}"
    );
    body
}

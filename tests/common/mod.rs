//! Helpers for the end-to-end tests: run the real `maestro` binary as a user would, and talk
//! to it as a client (`client`, shared with the xApp's own tests).

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

#[path = "../../xapp/tests/common/client.rs"]
mod client;
#[allow(unused_imports)] // each test file uses a part
pub use client::*;

/// Path of the `maestro` binary cargo built for these tests.
pub fn maestro() -> Command {
    Command::new(env!("CARGO_BIN_EXE_maestro"))
}

/// Runs `cmd` to completion and asserts it succeeded, showing its output when it did not.
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({})\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Writes `dir/xapp.json`, a config file for `maestro xapp --config`: the defaults
/// (`maestro xapp --print-config`) with `change` applied. Returns its path.
pub fn xapp_config_file(dir: &Path, change: impl FnOnce(&mut serde_json::Value)) -> PathBuf {
    let out = run_ok(maestro().args(["xapp", "--print-config"]));
    let mut config: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("--print-config prints JSON");
    change(&mut config);
    let path = dir.join("xapp.json");
    std::fs::write(&path, config.to_string()).expect("write the config file");
    path
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

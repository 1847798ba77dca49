//! CLI habits a user relies on: shell completions, JSON logs, one-line errors for bad flags.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::maestro;

#[test]
fn completions_name_every_subcommand() {
    for shell in ["bash", "zsh", "fish"] {
        let out = maestro()
            .args(["completions", shell])
            .output()
            .expect("run maestro completions");
        assert!(out.status.success(), "{shell}: {:?}", out.status);
        let script = String::from_utf8(out.stdout).expect("UTF-8");
        for sub in [
            "demo",
            "xapp",
            "rapp",
            "a1",
            "bench",
            "experiment",
            "transcripts",
        ] {
            assert!(script.contains(sub), "{shell} completion lacks {sub}");
        }
    }
    let bash = maestro()
        .args(["completions", "bash"])
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&bash.stdout).contains("complete -F _maestro"));
}

#[test]
fn log_format_json_writes_one_json_object_per_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = maestro()
        .args(["--log-format", "json", "xapp", "--e2", "emulator"])
        .args(["--a1-addr", "127.0.0.1:0", "--grpc-addr", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(dir.path())
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn maestro xapp");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        let value: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        assert!(value["timestamp"].is_string(), "{line}");
        assert!(value["level"].is_string(), "{line}");
        seen.push(value);
        if seen.iter().any(|v| v["message"] == "xApp up") {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let up = seen
        .iter()
        .find(|v| v["message"] == "xApp up")
        .expect("the xApp logged that it is up");
    assert_eq!(up["level"], "INFO");
    assert_eq!(up["backend"], "emulated-gnb");
}

#[test]
fn unknown_log_format_is_one_readable_error() {
    let out = maestro()
        .args(["--log-format", "yaml", "a1", "types"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid value 'yaml'"), "{err}");
    assert!(err.contains("text, json"), "{err}");
}

#[test]
fn print_config_into_a_closed_pipe_ends_quietly_without_a_panic() {
    let mut child = maestro()
        .args(["xapp", "--print-config"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the reading end before the child writes: its write gets EPIPE (like `| head -0`).
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Either it wrote before the close (exit 0) or SIGPIPE ended it, as for any Unix filter.
    use std::os::unix::process::ExitStatusExt;
    assert!(
        out.status.success() || out.status.signal() == Some(13),
        "{:?}: {stderr}",
        out.status
    );
}

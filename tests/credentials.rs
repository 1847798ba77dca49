//! The clients of a secured xApp, as a user runs them: a `maestro xapp` whose config turns on
//! bearer tokens and mutual TLS; `maestro rapp` negotiates and enforces through both with a
//! write token and stops at the first PUT, in one readable line, with a read token; `maestro
//! a1` lists with a token and fails with one readable line without. (The xApp's own checks of
//! tokens, roles and TLS: `xapp/tests/security.rs`.)

mod common;

#[path = "../xapp/tests/common/pki.rs"]
mod pki;

use std::path::PathBuf;

use common::XappProcess;
use pki::Pki;
use serde_json::json;

const READ: &str = "read-token-0123456789abcdef";
const WRITE: &str = "write-token-0123456789abcdef";

/// The port of a `http://HOST:PORT` URL the xApp printed.
fn port(url: &str) -> &str {
    url.rsplit(':').next().expect("URL with a port")
}

#[test]
fn the_rapp_and_maestro_a1_pass_with_credentials_and_say_why_without() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let ours = Pki::new("Maestro test CA");
    let (server_cert, server_key) = ours.issue(&["localhost"]);
    let (client_cert, client_key) = ours.issue(&["rapp.maestro.test"]);
    let write = |name: &str, text: &str| -> String {
        let path: PathBuf = dir.path().join(name);
        std::fs::write(&path, text).expect("write a PEM file");
        path.to_str().expect("UTF-8 path").to_owned()
    };
    let ca = write("ca.pem", &ours.ca_pem);
    let (cert, key) = (
        write("rapp.pem", &client_cert),
        write("rapp.key", &client_key),
    );
    let (server_cert, server_key) = (
        write("server.pem", &server_cert),
        write("server.key", &server_key),
    );
    let config = common::xapp_config_file(dir.path(), |c| {
        c["security"] = json!({
            "tokens": [{"token": READ, "role": "read"}, {"token": WRITE, "role": "write"}],
            "tls": {"cert": server_cert, "key": server_key, "client_ca": ca},
        });
    });
    let config = config.to_str().expect("UTF-8 path");
    let xapp = XappProcess::start_with(&dir.path().join("state"), &["--config", config]);
    let a1_url = format!("https://localhost:{}", port(&xapp.http));
    let kpi_url = format!("https://localhost:{}", port(&xapp.grpc));
    let tls_args = ["--tls-ca", &ca, "--tls-cert", &cert, "--tls-key", &key];
    let rapp_data = dir.path().join("rapp");
    let rapp = |token: &str| {
        let mut cmd = common::maestro();
        cmd.args([
            "rapp",
            "--a1-url",
            &a1_url,
            "--kpi-url",
            &kpi_url,
            // Long enough for the loop to settle on a loaded machine (the pass fails if a
            // slice misses its target).
            "--observe",
            "8",
        ])
        .args(["--connect-timeout", "3", "--metrics-addr", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(&rapp_data)
        .args(tls_args)
        .env("MAESTRO_TOKEN", token)
        .env("RUST_LOG", "warn");
        cmd
    };
    // The read token may watch but not write: the pass fails on the first PUT, in one line.
    let refused = rapp(READ).output().expect("run maestro rapp");
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("403") || stderr.contains("only read"),
        "{stderr}"
    );
    // The write token negotiates and enforces through A1 and the KPI stream over mTLS.
    common::run_ok(&mut rapp(WRITE));

    // `maestro a1` lists the two policies with a token, and says 401 without one.
    let list = |token: Option<&str>| {
        let mut cmd = common::maestro();
        cmd.args(["a1", "--url", &a1_url])
            .args(tls_args)
            .arg("list");
        cmd.env_remove("MAESTRO_TOKEN");
        if let Some(t) = token {
            cmd.env("MAESTRO_TOKEN", t);
        }
        cmd
    };
    let listed = common::run_ok(&mut list(Some(READ)));
    let ids: Vec<String> = serde_json::from_slice(&listed.stdout).expect("a JSON list of ids");
    assert_eq!(ids.len(), 2);
    let anonymous = list(None).output().expect("run maestro a1");
    assert!(!anonymous.status.success());
    let stderr = String::from_utf8_lossy(&anonymous.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("401") || stderr.contains("bearer token"),
        "{stderr}"
    );
}

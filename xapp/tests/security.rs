//! Who may talk to the xApp, in process: bearer tokens with roles on A1 and on the gRPC KPI
//! stream (401, 403, probes open), no open listener without credentials, and mutual TLS where
//! a client certificate from another CA, or none, does not get through the handshake. (The
//! rApp and `maestro a1` with and without credentials: `tests/credentials.rs`.)

mod common;

use std::net::SocketAddr;
use std::path::Path;

use maestro_api::a1::{policy_path, SLICE_SLA_TARGET_TYPE};
use maestro_api::kpi::kpi_stream_client::KpiStreamClient;
use maestro_api::kpi::SubscribeRequest;
use maestro_xapp::config::{E2Config, XappConfig};
use maestro_xapp::e2::emulator::{Clock, EmulatorConfig};
use maestro_xapp::security::{Role, SecurityConfig, TlsConfig, TokenConfig};
use maestro_xapp::{RunningXapp, XappError};

use common::client::statement;
use common::pki::Pki;

const READ: &str = "read-token-0123456789abcdef";
const WRITE: &str = "write-token-0123456789abcdef";

fn config(dir: &Path, security: SecurityConfig, bind: [u8; 4]) -> XappConfig {
    let addr = SocketAddr::from((bind, 0));
    XappConfig {
        http_addr: addr,
        grpc_addr: addr,
        e2: E2Config::Emulated(EmulatorConfig {
            clock: Clock::Simulated { speedup: 20.0 },
            ..EmulatorConfig::default()
        }),
        security,
        ..XappConfig::loopback_defaults(dir.join("state"))
    }
}

fn tokens() -> SecurityConfig {
    SecurityConfig {
        tokens: vec![
            TokenConfig {
                token: READ.into(),
                token_file: None,
                role: Role::Read,
            },
            TokenConfig {
                token: WRITE.into(),
                token_file: None,
                role: Role::Write,
            },
        ],
        tls: None,
    }
}

async fn start(config: XappConfig) -> RunningXapp {
    maestro_xapp::start(config).await.expect("xApp starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_and_roles_guard_a1_and_the_kpi_stream() {
    let dir = tempfile::tempdir().unwrap();
    let xapp = start(config(dir.path(), tokens(), [127, 0, 0, 1])).await;
    let base = format!("http://{}", xapp.http_addr);
    let url = format!("{base}{}", policy_path(SLICE_SLA_TARGET_TYPE, "p1"));
    let http = reqwest::Client::new();

    // No token, an unknown token, a token in the wrong scheme: 401 with the RFC 6750 challenge.
    for auth in [
        None,
        Some("Bearer not-a-known-token-at-all"),
        Some(&*format!("Basic {WRITE}")),
    ] {
        let mut req = http.put(&url).json(&statement("000001", 20000.0));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 401, "{auth:?}");
        assert_eq!(
            r.headers()["www-authenticate"],
            "Bearer realm=\"maestro-a1\""
        );
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let problem: serde_json::Value = r.json().await.unwrap();
        assert_eq!(problem["status"], 401);
    }
    // A read token reads but does not write: 403 insufficient_scope, nothing stored.
    let r = http
        .put(&url)
        .bearer_auth(READ)
        .json(&statement("000001", 20000.0))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("insufficient_scope"));
    let r = http.get(&url).bearer_auth(READ).send().await.unwrap();
    assert_eq!(r.status(), 404, "the refused PUT stored nothing");
    // A write token writes; the read token then sees the policy.
    let r = http
        .put(&url)
        .bearer_auth(WRITE)
        .json(&statement("000001", 20000.0))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = http.get(&url).bearer_auth(READ).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = http.delete(&url).bearer_auth(READ).send().await.unwrap();
    assert_eq!(r.status(), 403);
    // Metrics need a token too; the kubelet's probes do not.
    assert_eq!(
        http.get(format!("{base}/metrics"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    common::client::assert_alive(&http, &base).await;

    // gRPC: no token is UNAUTHENTICATED; any known token may subscribe.
    let endpoint = format!("http://{}", xapp.grpc_addr);
    let mut client = KpiStreamClient::connect(endpoint.clone()).await.unwrap();
    let err = client
        .subscribe(SubscribeRequest {
            subscriber: "anonymous".into(),
            ..SubscribeRequest::default()
        })
        .await
        .expect_err("no token");
    assert_eq!(err.code(), tonic::Code::Unauthenticated);
    let mut req = tonic::Request::new(SubscribeRequest {
        subscriber: "reader".into(),
        ..SubscribeRequest::default()
    });
    req.metadata_mut()
        .insert("authorization", format!("Bearer {READ}").parse().unwrap());
    let mut stream = client.subscribe(req).await.unwrap().into_inner();
    let report = stream.message().await.unwrap().expect("a report");
    assert!(report.sequence > 0 || report.slices.len() == 2);
    xapp.shutdown().await;
}

#[tokio::test]
async fn no_open_listener_without_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let open =
        maestro_xapp::start(config(dir.path(), SecurityConfig::default(), [0, 0, 0, 0])).await;
    match open {
        Err(XappError::Security(e)) => {
            let text = e.to_string();
            assert!(
                text.contains("0.0.0.0") && text.contains("security.tokens"),
                "{text}"
            );
        }
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("an open listener without credentials started"),
    }
    // With tokens the same address is fine.
    let guarded = start(config(dir.path(), tokens(), [0, 0, 0, 0])).await;
    guarded.shutdown().await;
}

fn client(ca_pem: &str, identity: Option<(&str, &str)>) -> reqwest::Client {
    let mut b = reqwest::Client::builder().add_root_certificate(
        reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("the CA certificate parses"),
    );
    if let Some((cert, key)) = identity {
        b = b.identity(
            reqwest::Identity::from_pem(format!("{cert}{key}").as_bytes())
                .expect("the client identity parses"),
        );
    }
    b.build().expect("an HTTPS client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_admits_only_certificates_of_the_client_ca() {
    let dir = tempfile::tempdir().unwrap();
    let ours = Pki::new("Maestro test CA");
    let theirs = Pki::new("Some other CA");
    let (server_cert, server_key) = ours.issue(&["localhost", "127.0.0.1"]);
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let security = SecurityConfig {
        tokens: vec![],
        tls: Some(TlsConfig {
            cert: write("server.pem", &server_cert),
            key: write("server.key", &server_key),
            client_ca: Some(write("ca.pem", &ours.ca_pem)),
        }),
    };
    let xapp = start(config(dir.path(), security, [127, 0, 0, 1])).await;
    let url = format!(
        "https://localhost:{}{}",
        xapp.http_addr.port(),
        policy_path(SLICE_SLA_TARGET_TYPE, "p1")
    );
    let (good_cert, good_key) = ours.issue(&["rapp.maestro.test"]);
    let (bad_cert, bad_key) = theirs.issue(&["mallory.test"]);

    let trusted = client(&ours.ca_pem, Some((&good_cert, &good_key)));
    let r = trusted
        .put(&url)
        .json(&statement("000001", 20000.0))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = trusted.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);

    // A certificate from another CA, or none at all: the handshake fails, nothing is stored.
    for identity in [Some((bad_cert.as_str(), bad_key.as_str())), None] {
        let stranger = client(&ours.ca_pem, identity);
        let err = stranger
            .delete(&url)
            .send()
            .await
            .expect_err("the handshake must fail");
        assert!(err.is_connect() || err.is_request(), "{err}");
    }
    let r = trusted.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200, "the policy is still there");
    // Plain HTTP to the TLS port gets nowhere either.
    let plain = reqwest::Client::new()
        .get(format!(
            "http://127.0.0.1:{}/metrics",
            xapp.http_addr.port()
        ))
        .send()
        .await;
    assert!(plain.map(|r| !r.status().is_success()).unwrap_or(true));

    // The KPI stream over the same mutual TLS.
    let tls = tonic::transport::ClientTlsConfig::new()
        .ca_certificate(tonic::transport::Certificate::from_pem(&ours.ca_pem))
        .identity(tonic::transport::Identity::from_pem(&good_cert, &good_key))
        .domain_name("localhost");
    let channel = tonic::transport::Channel::from_shared(format!(
        "https://localhost:{}",
        xapp.grpc_addr.port()
    ))
    .unwrap()
    .tls_config(tls)
    .unwrap()
    .connect()
    .await
    .unwrap();
    let mut stream = KpiStreamClient::new(channel)
        .subscribe(SubscribeRequest {
            subscriber: "mtls".into(),
            ..SubscribeRequest::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(stream.message().await.unwrap().is_some());
    xapp.shutdown().await;
}

//! Who may talk to the xApp: bearer tokens with roles on A1 and on the gRPC KPI stream (401,
//! 403, probes open), no open listener without credentials, and mutual TLS where a client
//! certificate from another CA, or none, does not get through the handshake; the rApp and
//! `maestro a1` pass with the right credentials and fail with one readable line without.

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
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use serde_json::json;

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

fn statement() -> serde_json::Value {
    json!({
        "scope": {"sliceId": {"sst": 1, "sd": "000001", "plmnId": {"mcc": "001", "mnc": "01"}}},
        "sliceSlaObjectives": {"guaDlThptPerSlice": 20000.0}
    })
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
        let mut req = http.put(&url).json(&statement());
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
        .json(&statement())
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
        .json(&statement())
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
    let alive = http
        .get(format!("{base}/ric/v1/health/alive"))
        .send()
        .await
        .unwrap();
    assert_eq!(alive.status(), 200);

    // gRPC: no token is UNAUTHENTICATED; any known token may subscribe.
    let endpoint = format!("http://{}", xapp.grpc_addr);
    let mut client = KpiStreamClient::connect(endpoint.clone()).await.unwrap();
    let err = client
        .subscribe(SubscribeRequest {
            subscriber: "anonymous".into(),
        })
        .await
        .expect_err("no token");
    assert_eq!(err.code(), tonic::Code::Unauthenticated);
    let mut req = tonic::Request::new(SubscribeRequest {
        subscriber: "reader".into(),
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

/// A CA, and a key + certificate it issued for `names`, all PEM.
struct Pki {
    ca_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Pki {
    fn new(name: &str) -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let ca = params.self_signed(&key).unwrap();
        Self {
            ca_pem: ca.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    fn issue(&self, names: &[&str]) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

fn client(ca_pem: &str, identity: Option<(&str, &str)>) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap());
    if let Some((cert, key)) = identity {
        b = b.identity(reqwest::Identity::from_pem(format!("{cert}{key}").as_bytes()).unwrap());
    }
    b.build().unwrap()
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
    let r = trusted.put(&url).json(&statement()).send().await.unwrap();
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
        })
        .await
        .unwrap()
        .into_inner();
    assert!(stream.message().await.unwrap().is_some());
    xapp.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rapp_negotiates_through_tokens_and_mutual_tls() {
    let dir = tempfile::tempdir().unwrap();
    let ours = Pki::new("Maestro test CA");
    let (server_cert, server_key) = ours.issue(&["localhost"]);
    let (client_cert, client_key) = ours.issue(&["rapp.maestro.test"]);
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let ca = write("ca.pem", &ours.ca_pem);
    let (cert, key) = (
        write("rapp.pem", &client_cert),
        write("rapp.key", &client_key),
    );
    let security = SecurityConfig {
        tls: Some(TlsConfig {
            cert: write("server.pem", &server_cert),
            key: write("server.key", &server_key),
            client_ca: Some(ca.clone()),
        }),
        ..tokens()
    };
    let xapp = start(config(dir.path(), security, [127, 0, 0, 1])).await;
    let a1_url = format!("https://localhost:{}", xapp.http_addr.port());
    let kpi_url = format!("https://localhost:{}", xapp.grpc_addr.port());
    let path = |p: &std::path::PathBuf| p.to_str().unwrap().to_owned();
    let tls_args = [
        "--tls-ca".to_owned(),
        path(&ca),
        "--tls-cert".to_owned(),
        path(&cert),
        "--tls-key".to_owned(),
        path(&key),
    ];
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
        .args(["--data-dir", dir.path().join("rapp").to_str().unwrap()])
        .args(&tls_args)
        .env("MAESTRO_TOKEN", token)
        .env("RUST_LOG", "warn");
        cmd
    };
    // The read token may watch but not write: the pass fails on the first PUT, in one line.
    let mut cmd = rapp(READ);
    let refused = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("403") || stderr.contains("only read"),
        "{stderr}"
    );
    // The write token negotiates and enforces through A1 and the KPI stream over mTLS.
    let mut cmd = rapp(WRITE);
    let ok = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    // `maestro a1` lists the two policies with a token, and says 401 without one.
    let list = |token: Option<&str>| {
        let mut cmd = common::maestro();
        cmd.args(["a1", "--url", &a1_url])
            .args(&tls_args)
            .arg("list");
        cmd.env_remove("MAESTRO_TOKEN");
        if let Some(t) = token {
            cmd.env("MAESTRO_TOKEN", t);
        }
        cmd.output().unwrap()
    };
    let listed = list(Some(READ));
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let ids: Vec<String> = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(ids.len(), 2);
    let anonymous = list(None);
    assert!(!anonymous.status.success());
    let stderr = String::from_utf8_lossy(&anonymous.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("401") || stderr.contains("bearer token"),
        "{stderr}"
    );
    xapp.shutdown().await;
}

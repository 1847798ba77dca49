//! The deployment files against the code: the Dockerfile (what it COPYs exists and is in the
//! build context, what the build compiles in is copied, its ports and command agree with the
//! apps' defaults), the O-RAN SC xApp descriptor (its `controls` validate against its
//! schema.json and run the xApp), and the Grafana dashboard (its structure, and every series
//! its expressions name is one the running apps export). The Helm chart is render-checked by
//! `.ci/helm-check.py` (here too, through its renderer: one xApp as a Deployment, four as a
//! StatefulSet of shards), a real Prometheus by `.ci/prometheus-test`.

mod common;

use std::collections::{BTreeSet, HashSet};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::XappProcess;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn json(path: &str) -> Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Dockerfile instructions: (KEYWORD, arguments), continuation lines joined, comments dropped.
fn dockerfile() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in read("Dockerfile").lines() {
        let t = line.trim();
        if t.starts_with('#') || (t.is_empty() && cur.is_empty()) {
            continue;
        }
        if let Some(head) = t.strip_suffix('\\') {
            cur.push_str(head);
            cur.push(' ');
            continue;
        }
        cur.push_str(t);
        let (kw, args) = cur.split_once(' ').unwrap_or((cur.as_str(), ""));
        out.push((kw.to_uppercase(), args.trim().to_owned()));
        cur.clear();
    }
    out
}

/// The `[workspace] members` of the root manifest.
fn workspace_members() -> Vec<String> {
    let manifest = read("Cargo.toml");
    let line = manifest
        .lines()
        .find(|l| l.trim_start().starts_with("members"))
        .expect("Cargo.toml has [workspace] members");
    let members: Vec<String> = line
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect();
    assert!(members.len() >= 5, "members = {members:?}");
    members
}

/// Arguments of an exec-form (`["a", "b"]`) instruction.
fn exec_form(args: &str) -> Vec<String> {
    serde_json::from_str(args).unwrap_or_else(|e| panic!("not exec form: {args}: {e}"))
}

/// Whether a .dockerignore pattern excludes `path` (the subset of the syntax the file uses:
/// plain paths, `**/NAME`, `*.EXT`, `PREFIX*.EXT`).
fn ignored(patterns: &[String], path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    patterns.iter().any(|p| {
        let p = p.trim_end_matches('/');
        if let Some(name) = p.strip_prefix("**/") {
            parts.contains(&name)
        } else if let Some((prefix, suffix)) = p.split_once('*') {
            !p.contains('/')
                && parts
                    .first()
                    .is_some_and(|f| f.starts_with(prefix) && f.ends_with(suffix))
        } else {
            path == p || path.starts_with(&format!("{p}/"))
        }
    })
}

fn port_of(addr: &str) -> u16 {
    addr.parse::<SocketAddr>()
        .unwrap_or_else(|e| panic!("{addr}: {e}"))
        .port()
}

#[test]
fn dockerfile_copies_what_exists_and_exposes_the_default_ports() {
    let instructions = dockerfile();
    let patterns: Vec<String> = read(".dockerignore")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();

    // Every COPY from the build context exists and is not excluded from it.
    let mut copied = Vec::new();
    for (kw, args) in &instructions {
        if kw != "COPY" || args.starts_with("--from") {
            continue;
        }
        let words: Vec<&str> = args.split_whitespace().collect();
        let (dest, sources) = words.split_last().expect("COPY without arguments");
        assert!(!sources.is_empty(), "COPY {args}");
        for src in sources {
            let src = src.trim_end_matches('/');
            assert!(
                root().join(src).exists(),
                "COPY {src} -> {dest}: no such file"
            );
            assert!(
                !ignored(&patterns, src),
                "COPY {src}: excluded by .dockerignore"
            );
            copied.push(src.to_owned());
        }
    }
    // Every stage that runs cargo copies the manifests and every workspace member: cargo reads
    // each member's manifest even when it builds one binary.
    let mut needed: Vec<String> = ["Cargo.toml", "Cargo.lock", "build.rs", "src"]
        .map(str::to_owned)
        .to_vec();
    needed.extend(workspace_members());
    let mut stage_copies: Vec<String> = Vec::new();
    let mut cargo_stages = 0;
    for (kw, args) in &instructions {
        match kw.as_str() {
            "FROM" => stage_copies.clear(),
            "COPY" if !args.starts_with("--from") => {
                let words: Vec<&str> = args.split_whitespace().collect();
                if let Some((_, sources)) = words.split_last() {
                    stage_copies.extend(sources.iter().map(|s| s.trim_end_matches('/').to_owned()));
                }
            }
            "RUN" if args.contains("cargo build") => {
                cargo_stages += 1;
                for member in &needed {
                    assert!(
                        stage_copies.contains(member),
                        "a build stage runs `{args}` without COPY {member}"
                    );
                }
            }
            _ => {}
        }
    }
    assert!(cargo_stages > 0, "no stage runs cargo build");

    // What the build compiles in from outside a crate (include_str!/include_bytes!) is copied.
    let include = regex_lite_include();
    for krate in [
        "src", "api/src", "e2sm/src", "xapp/src", "rapp/src", "ffi/src",
    ] {
        for file in rust_files(&root().join(krate)) {
            let text = std::fs::read_to_string(&file).unwrap();
            for rel in include(&text) {
                let target = normalize(&file.parent().unwrap().join(&rel));
                let target = target.strip_prefix(root()).unwrap_or_else(|_| {
                    panic!("{}: include of {rel} outside the repo", file.display())
                });
                let target = target.to_string_lossy().into_owned();
                assert!(
                    copied
                        .iter()
                        .any(|c| target == *c || target.starts_with(&format!("{c}/"))),
                    "{} compiles in {target}, which the Dockerfile does not COPY",
                    file.display()
                );
            }
        }
    }

    // Ports: EXPOSE = the xApp's default HTTP and gRPC ports + the rApp's metrics port.
    let xapp = json("config/xapp.json");
    let http = port_of(xapp["http_addr"].as_str().unwrap());
    let grpc = port_of(xapp["grpc_addr"].as_str().unwrap());
    let rapp = port_of(maestro_rapp::metrics::DEFAULT_METRICS_ADDR);
    let exposed: BTreeSet<u16> = instructions
        .iter()
        .filter(|(kw, _)| kw == "EXPOSE")
        .flat_map(|(_, a)| a.split_whitespace().map(|p| p.parse::<u16>().unwrap()))
        .collect();
    assert_eq!(exposed, BTreeSet::from([http, grpc, rapp]));

    // Runs as a non-root user, checks its health, and its command is a valid xApp command
    // listening on the exposed ports.
    let user = instructions.iter().rfind(|(kw, _)| kw == "USER").unwrap();
    assert!(
        !user.1.starts_with("root") && !user.1.starts_with("0"),
        "{user:?}"
    );
    let health = instructions
        .iter()
        .find(|(kw, _)| kw == "HEALTHCHECK")
        .unwrap();
    assert!(health.1.contains("maestro\", \"health"), "{health:?}");
    let entry = instructions
        .iter()
        .rfind(|(kw, _)| kw == "ENTRYPOINT")
        .unwrap();
    assert_eq!(exec_form(&entry.1), ["maestro"]);
    let cmd = exec_form(&instructions.iter().rfind(|(kw, _)| kw == "CMD").unwrap().1);
    assert_eq!(cmd[0], "xapp");
    let state = tempfile::tempdir().unwrap();
    let args: Vec<String> = cmd
        .iter()
        .map(|a| match a.as_str() {
            "/etc/maestro/xapp.json" => root().join("config/xapp.json").display().to_string(),
            "/var/lib/maestro/state" => state.path().display().to_string(),
            other => other.to_owned(),
        })
        .collect();
    let out = common::run_ok(common::maestro().args(&args).arg("--print-config"));
    let effective: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(effective["http_addr"], format!("0.0.0.0:{http}"));
    assert_eq!(effective["grpc_addr"], format!("0.0.0.0:{grpc}"));
}

/// `include_str!("…")` / `include_bytes!("…")` paths in a source text.
fn regex_lite_include() -> impl Fn(&str) -> Vec<String> {
    |text: &str| {
        let mut out = Vec::new();
        for mac in ["include_str!(\"", "include_bytes!(\""] {
            let mut rest = text;
            while let Some(i) = rest.find(mac) {
                rest = &rest[i + mac.len()..];
                if let Some(end) = rest.find('"') {
                    out.push(rest[..end].to_owned());
                }
            }
        }
        out
    }
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out
}

fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[test]
fn xapp_descriptor_controls_validate_against_its_schema_and_run_the_xapp() {
    let desc = json("deploy/xapp-descriptor/config-file.json");
    let schema = json("deploy/xapp-descriptor/schema.json");
    let validator = jsonschema::draft7::new(&schema).expect("schema.json is a draft-07 schema");
    let controls = &desc["controls"];
    let errors: Vec<String> = validator
        .iter_errors(controls)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "controls: {errors:?}");

    // The schema really constrains: broken settings fail it.
    for (pointer, bad) in [
        ("/e2/backend", Value::from("flexric")),
        ("/e2/cell/n_prb", Value::from(0)),
        ("/http_addr", Value::from("8080")),
        ("/e2/slices", Value::Array(vec![])),
        ("/e2/clock", serde_json::json!({"mode": "simulated"})),
    ] {
        let mut broken = controls.clone();
        *broken.pointer_mut(pointer).unwrap() = bad.clone();
        assert!(
            !validator.is_valid(&broken),
            "schema accepts {pointer} = {bad}"
        );
    }

    // Many cells and a shard are settings too; half a shard or two ways to list cells are not.
    let with = |key: &str, value: Value| {
        let mut c = controls.clone();
        let (parent, leaf) = key.rsplit_once('/').unwrap();
        c.pointer_mut(parent).unwrap()[leaf] = value;
        c
    };
    let cells = serde_json::json!([{"cell_id": "001-01-0000000002", "seed": 3}]);
    for good in [
        with("/shard", serde_json::json!({"index": 1, "count": 3})),
        with("/e2/cell_count", Value::from(9)),
        with("/e2/cells", cells.clone()),
    ] {
        let errors: Vec<String> = validator
            .iter_errors(&good)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
    }
    let mut both_cell_lists = with("/e2/cells", cells);
    both_cell_lists["e2"]["cell_count"] = Value::from(2);
    for bad in [
        with("/shard", serde_json::json!({"index": 1})),
        with("/shard", serde_json::json!({"index": 0, "count": 0})),
        with("/e2/cell_count", Value::from(0)),
        with("/e2/cells", serde_json::json!([{"seed": 3}])),
        both_cell_lists,
    ] {
        assert!(!validator.is_valid(&bad), "schema accepts {bad}");
    }

    // Same settings as config/xapp.json, listening on all interfaces inside the pod, with the
    // bearer token a pod needs there (a mounted Secret).
    let mut reference = json("config/xapp.json");
    let mut ours = controls.clone();
    assert_eq!(
        controls["security"]["tokens"][0]["token_file"],
        "/etc/maestro-auth/token"
    );
    for key in ["http_addr", "grpc_addr", "state_dir", "security"] {
        reference.as_object_mut().unwrap().remove(key);
        ours.as_object_mut().unwrap().remove(key);
    }
    assert_eq!(
        ours, reference,
        "descriptor controls drifted from config/xapp.json: run .ci/deploy-config-sync"
    );
    let http = port_of(controls["http_addr"].as_str().unwrap());
    let grpc = port_of(controls["grpc_addr"].as_str().unwrap());

    // O-RAN SC descriptor shape: name, version, containers, messaging ports, probes.
    for key in ["name", "version", "containers", "messaging", "controls"] {
        assert!(desc.get(key).is_some(), "descriptor lacks {key}");
    }
    let container = &desc["containers"][0];
    let cname = container["name"].as_str().unwrap();
    let ports: HashSet<(String, u64)> = desc["messaging"]["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert_eq!(p["container"], cname, "{p}");
            (
                p["name"].as_str().unwrap().to_owned(),
                p["port"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        ports,
        HashSet::from([
            ("http".to_owned(), u64::from(http)),
            ("grpc-kpi".to_owned(), u64::from(grpc))
        ])
    );
    for (probe, path) in [
        ("livenessProbe", "ric/v1/health/alive"),
        ("readinessProbe", "ric/v1/health/ready"),
    ] {
        assert_eq!(desc[probe]["httpGet"]["path"], path);
        assert_eq!(desc[probe]["httpGet"]["port"], u64::from(http));
    }
    assert_eq!(desc["version"], env!("CARGO_PKG_VERSION"));

    // The xApp takes the descriptor itself as its config file (as the RIC mounts it).
    let args: Vec<&str> = container["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(args[..2], ["xapp", "--config"]);
    let out = common::run_ok(
        common::maestro()
            .args(["xapp", "--config"])
            .arg(root().join("deploy/xapp-descriptor/config-file.json"))
            .arg("--print-config"),
    );
    let effective: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(effective["http_addr"], controls["http_addr"]);
    assert_eq!(effective["e2"]["cell"], controls["e2"]["cell"]);
}

/// Metric names in a PromQL expression (`maestro_*`; histogram suffixes kept).
fn metric_names(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = expr.as_bytes();
    let mut i = 0;
    while let Some(pos) = expr[i..].find("maestro_") {
        let start = i + pos;
        let boundary = start == 0 || {
            let b = bytes[start - 1];
            !(b.is_ascii_alphanumeric() || b == b'_')
        };
        let mut end = start;
        while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
            end += 1;
        }
        if boundary {
            out.push(expr[start..end].to_owned());
        }
        i = end;
    }
    out
}

/// Series names in a Prometheus text exposition.
fn exported(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.split(['{', ' ']).next().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grafana_dashboard_names_only_series_the_apps_export() {
    let dash = json("config/grafana/maestro-dashboard.json");
    assert!(dash["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(dash["uid"].as_str().is_some_and(|u| !u.is_empty()));
    assert!(dash["schemaVersion"].as_u64().unwrap() >= 30);
    let panels = dash["panels"].as_array().unwrap();
    assert!(panels.len() >= 6);
    let mut ids = HashSet::new();
    let mut exprs = Vec::new();
    for p in panels {
        assert!(ids.insert(p["id"].as_u64().unwrap()), "duplicate id: {p}");
        assert!(p["title"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(["timeseries", "stat"].contains(&p["type"].as_str().unwrap()));
        let g = &p["gridPos"];
        let (x, w) = (g["x"].as_u64().unwrap(), g["w"].as_u64().unwrap());
        assert!(x + w <= 24 && g["h"].as_u64().unwrap() > 0, "gridPos {g}");
        assert_eq!(p["datasource"]["type"], "prometheus");
        let targets = p["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "panel without targets: {}", p["title"]);
        let mut refs = HashSet::new();
        for t in targets {
            assert!(refs.insert(t["refId"].as_str().unwrap().to_owned()));
            let e = t["expr"].as_str().unwrap();
            assert!(!metric_names(e).is_empty(), "no maestro series in {e}");
            exprs.push(e.to_owned());
        }
    }
    for v in dash["templating"]["list"].as_array().unwrap() {
        if let Some(q) = v["definition"].as_str() {
            exprs.push(q.to_owned());
        }
    }
    let used: BTreeSet<String> = exprs.iter().flat_map(|e| metric_names(e)).collect();
    // A cell selector, and every xApp per-cell series a panel draws follows it.
    let cell_var = dash["templating"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "cell")
        .expect("a `cell` template variable");
    assert_eq!(
        cell_var["definition"],
        "label_values(maestro_slice_target_dl_bps, cell)"
    );
    for e in exprs.iter().filter(|e| {
        metric_names(e).iter().any(|n| {
            ["maestro_slice_", "maestro_ue_", "maestro_cell_"]
                .iter()
                .any(|p| n.starts_with(p))
        })
    }) {
        assert!(
            e.contains(r#"cell=~"$cell""#)
                || e.starts_with("label_values(maestro_slice_target_dl_bps, cell)"),
            "not filtered by the cell selector: {e}"
        );
    }
    // The key series the issue asks for are on it.
    for key in [
        "maestro_slice_target_dl_bps",
        "maestro_slice_dl_throughput_bps",
        "maestro_slice_cqi_mean",
        "maestro_rapp_negotiation_rounds",
        "maestro_rapp_consensus_dl_bps",
    ] {
        assert!(used.contains(key), "dashboard lacks {key}");
    }

    // What the apps really export: a running xApp and an rApp after its pass.
    let dir = tempfile::tempdir().unwrap();
    let xapp = XappProcess::start(&dir.path().join("state"));
    let mut rapp = common::maestro()
        .args(["rapp", "--a1-url", &xapp.http, "--kpi-url", &xapp.grpc])
        .args([
            "--observe",
            "5",
            "--metrics-addr",
            "127.0.0.1:0",
            "--keep-serving",
        ])
        .arg("--data-dir")
        .arg(dir.path().join("rapp"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn maestro rapp");
    let stdout = rapp.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut rapp_metrics = None;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(Instant::now() < deadline, "the rApp pass did not finish");
        let line = lines.next().expect("rapp exited early").unwrap();
        if let Some(url) = line.strip_prefix("rApp metrics: ") {
            rapp_metrics = Some(url.to_owned());
        }
        if line.starts_with("rApp pass done") {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    let http = reqwest::Client::new();
    let xapp_text = common::get_text(&http, &format!("{}/metrics", xapp.http)).await;
    // The per-cell series the selector lists are labelled by cell.
    assert!(
        xapp_text.contains("maestro_slice_target_dl_bps{cell=\""),
        "{xapp_text}"
    );
    let mut names = exported(&xapp_text);
    let rapp_url = rapp_metrics.expect("rApp metrics URL");
    let rapp_text = common::get_text(&http, &rapp_url).await;
    names.extend(exported(&rapp_text));
    // The probes the Helm chart and the image's HEALTHCHECK use answer on the same port.
    let rapp_base = rapp_url.trim_end_matches("/metrics");
    for path in ["/ric/v1/health/alive", "/ric/v1/health/ready"] {
        let r = http.get(format!("{rapp_base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "rApp {path}");
    }
    let probe = common::maestro()
        .args([
            "health",
            "--url",
            &format!("{rapp_base}/ric/v1/health/alive"),
        ])
        .output()
        .unwrap();
    assert!(probe.status.success(), "maestro health against the rApp");
    let _ = rapp.kill();
    let _ = rapp.wait();
    let gone = common::maestro()
        .args([
            "health",
            "--url",
            &format!("{rapp_base}/ric/v1/health/alive"),
        ])
        .output()
        .unwrap();
    assert!(
        !gone.status.success(),
        "maestro health passes on a dead rApp"
    );

    let unknown: Vec<&String> = used.iter().filter(|n| !names.contains(*n)).collect();
    assert!(
        unknown.is_empty(),
        "dashboard names series nobody exports: {unknown:?}\nexported: {names:?}"
    );
    assert!(rapp_text.contains("maestro_rapp_negotiation_rounds "));
    let rounds: f64 = rapp_text
        .lines()
        .find_map(|l| l.strip_prefix("maestro_rapp_negotiation_rounds "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(rounds >= 1.0, "rounds {rounds}");
}

/// The Helm chart's manifests with `settings` (`KEY=VALUE`, e.g. `xapp.replicas=4`), rendered
/// by the renderer of `.ci/helm-check.py`; `None` (the test says so) without python3 and PyYAML.
fn render_chart(settings: &[&str]) -> Option<Vec<Value>> {
    let out = std::process::Command::new("python3")
        .arg(root().join(".ci/helm-check.py"))
        .arg("--render")
        .args(settings)
        .output();
    match out {
        Ok(out) if out.status.success() => {
            Some(serde_json::from_slice(&out.stdout).expect("the renderer prints JSON"))
        }
        Ok(out) if String::from_utf8_lossy(&out.stderr).contains("No module named 'yaml'") => {
            eprintln!("skipped: python3 has no PyYAML to render the chart");
            None
        }
        Ok(out) => panic!(
            "helm-check.py --render {settings:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => {
            eprintln!("skipped: no python3 to render the chart ({e})");
            None
        }
    }
}

/// The one object of `kind` whose component label is `component`.
fn object<'a>(docs: &'a [Value], kind: &str, component: &str) -> Option<&'a Value> {
    let mut found = docs.iter().filter(|d| {
        d["kind"] == kind && d["metadata"]["labels"]["app.kubernetes.io/component"] == component
    });
    let one = found.next();
    assert!(found.next().is_none(), "two {kind}s of the {component}");
    one
}

#[test]
fn the_chart_runs_one_xapp_as_a_deployment_and_k_as_a_statefulset_of_shards() {
    let Some(one) = render_chart(&[]) else { return };
    let Some(four) = render_chart(&["xapp.replicas=4", "xapp.persistence.enabled=true"]) else {
        return;
    };

    // K = 1: today's Deployment, no shard, a ClusterIP Service, the rApp on that Service.
    let dep = object(&one, "Deployment", "xapp").expect("K=1: the xApp Deployment");
    assert_eq!(dep["spec"]["replicas"], 1);
    assert!(object(&one, "StatefulSet", "xapp").is_none());
    let c = &dep["spec"]["template"]["spec"]["containers"][0];
    assert!(c.get("env").is_none(), "K=1 has no shard env: {c}");
    let svc = object(&one, "Service", "xapp").unwrap();
    assert_eq!(svc["spec"]["type"], "ClusterIP");
    let rapp = &object(&one, "Deployment", "rapp").unwrap()["spec"]["template"]["spec"]
        ["containers"][0]["args"];
    let a1_urls: Vec<&Value> = rapp
        .as_array()
        .unwrap()
        .windows(2)
        .filter(|w| w[0] == "--a1-url")
        .map(|w| &w[1])
        .collect();
    assert_eq!(a1_urls, ["http://demo-maestro-xapp:8080"]);

    // K = 4: a StatefulSet of 4 behind a headless Service, each pod told its shard.
    assert!(object(&four, "Deployment", "xapp").is_none());
    let sts = object(&four, "StatefulSet", "xapp").expect("K=4: an xApp StatefulSet");
    assert_eq!(sts["spec"]["replicas"], 4);
    let svc = object(&four, "Service", "xapp").unwrap();
    assert_eq!(svc["spec"]["clusterIP"], "None", "a headless Service");
    assert_eq!(sts["spec"]["serviceName"], svc["metadata"]["name"]);
    let c = &sts["spec"]["template"]["spec"]["containers"][0];
    let env = c["env"].as_array().expect("the shard env");
    let var = |name: &str| env.iter().find(|e| e["name"] == name).cloned();
    assert_eq!(
        var("MAESTRO_SHARD_INDEX").unwrap()["valueFrom"]["fieldRef"]["fieldPath"],
        "metadata.labels['apps.kubernetes.io/pod-index']"
    );
    assert_eq!(var("MAESTRO_SHARD_COUNT").unwrap()["value"], "4");
    // A policy store per shard.
    assert_eq!(
        sts["spec"]["volumeClaimTemplates"][0]["metadata"]["name"],
        "state"
    );
    assert!(!four.iter().any(|d| d["kind"] == "PersistentVolumeClaim"));
    // The rApp talks to each shard by its pod's name, in ordinal order.
    let rapp = &object(&four, "Deployment", "rapp").unwrap()["spec"]["template"]["spec"]
        ["containers"][0]["args"];
    let a1_urls: Vec<String> = rapp
        .as_array()
        .unwrap()
        .windows(2)
        .filter(|w| w[0] == "--a1-url")
        .map(|w| w[1].as_str().unwrap().to_owned())
        .collect();
    let expected: Vec<String> = (0..4)
        .map(|i| format!("http://demo-maestro-xapp-{i}.demo-maestro-xapp:8080"))
        .collect();
    assert_eq!(a1_urls, expected);

    // The binary reads the pod's shard from that env with the chart's config and arguments.
    let config = object(&four, "ConfigMap", "xapp").unwrap()["data"]["xapp.json"]
        .as_str()
        .unwrap()
        .to_owned();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("xapp.json");
    std::fs::write(&path, config).unwrap();
    let args: Vec<String> = c["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| match a.as_str().unwrap() {
            "/etc/maestro/xapp.json" => path.display().to_string(),
            other => other.to_owned(),
        })
        .collect();
    let out = common::run_ok(
        common::maestro()
            .args(&args)
            .arg("--print-config")
            .env_remove("MAESTRO_SHARD")
            .env("MAESTRO_SHARD_INDEX", "3")
            .env("MAESTRO_SHARD_COUNT", "4"),
    );
    let effective: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        effective["shard"],
        serde_json::json!({"index": 3, "count": 4})
    );
}

//! Scale-out by shards, as deployed: three `maestro xapp` processes on loopback, each given the
//! same nine-cell emulated RAN and its shard i/3 (`--shard`), serve every cell exactly once,
//! show their shard on /metrics, enforce a policy without cell scope in exactly their own
//! cells, and refuse a policy naming another shard's cell with its owner; one `maestro rapp`
//! negotiates every cell and PUTs each cell's policies to the shard that serves it, and a lost
//! shard leaves the others enforcing. Also how the shard is set and refused on the command
//! line and in a pod's environment.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use common::XappProcess;
use maestro_api::shard::owner_of;
use maestro_rapp::auth::ClientAuth;
use maestro_rapp::kpi_client;
use serde_json::{json, Value};

/// The nine cells of the RAN, as `cell_count: 9` numbers them from `001-01-0000000001`.
fn nine_cells() -> Vec<String> {
    (1..=9u64).map(|n| format!("001-01-{n:010x}")).collect()
}

/// A config file of the nine-cell emulated RAN.
fn nine_cell_config(dir: &Path) -> std::path::PathBuf {
    common::xapp_config_file(dir, |c| c["e2"]["cell_count"] = json!(9))
}

/// Three `maestro xapp` processes, shard i/3 each, on the RAN of `config`.
fn three_shards(dir: &Path, config: &str) -> Vec<XappProcess> {
    (0..3)
        .map(|i| {
            let shard = format!("{i}/3");
            XappProcess::start_with(
                &dir.join(format!("state-{i}")),
                &["--config", config, "--shard", &shard],
            )
        })
        .collect()
}

/// The cells the KPI stream at `grpc` reports, each with its last report's target of slice
/// `label` (bit/s), read for `within` at most, or until `until` holds of what was seen.
async fn cells_and_targets(
    grpc: &str,
    label: &str,
    within: Duration,
    until: impl Fn(&BTreeMap<String, f64>) -> bool,
) -> BTreeMap<String, f64> {
    let mut stream =
        kpi_client::subscribe_with(grpc, "sharding-test", within, &ClientAuth::default())
            .await
            .expect("KPI stream");
    let mut seen = BTreeMap::new();
    let deadline = Instant::now() + within;
    while Instant::now() < deadline && !until(&seen) {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(next) = tokio::time::timeout(left, kpi_client::next_report(grpc, &mut stream)).await
        else {
            break;
        };
        let report = next.expect("stream ok").expect("stream open");
        let target = report
            .slices
            .iter()
            .find(|s| s.label == label)
            .map_or(0.0, |s| s.target_bps);
        seen.insert(report.cell_id, target);
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_shards_serve_nine_cells_once_each_and_name_the_owner_of_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let config = nine_cell_config(dir.path());
    let config = config.to_str().unwrap();
    let cells = nine_cells();
    let owned: Vec<BTreeSet<String>> = (0..3)
        .map(|i| {
            cells
                .iter()
                .filter(|c| owner_of(c, 3) == i)
                .cloned()
                .collect()
        })
        .collect();
    let xapps = three_shards(dir.path(), config);
    let http = reqwest::Client::new();
    let label = "001-01/sst1-sd000001";
    let kbps = 6000.0;

    for (i, xapp) in xapps.iter().enumerate() {
        common::wait_ready(&http, &xapp.http).await;
        // Its shard and how many cells it owns, on /metrics.
        let metrics = common::get_text(&http, &format!("{}/metrics", xapp.http)).await;
        let info = format!("maestro_xapp_shard_info{{count=\"3\",index=\"{i}\"}}");
        assert_eq!(common::metric(&metrics, &info), Some(1.0), "{metrics}");
        assert_eq!(
            common::metric(&metrics, "maestro_xapp_shard_cells "),
            Some(owned[i].len() as f64),
            "shard {i}/3"
        );
        // A policy without cell scope: the slice's target in this shard's cells.
        let resp = http
            .put(common::policy_url(&xapp.http, "every-cell"))
            .json(&common::statement("000001", kbps))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201, "shard {i}/3");
    }

    let mut served = Vec::new();
    for (i, xapp) in xapps.iter().enumerate() {
        // Every cell it owns reports with its part of the slice's target, and no other cell.
        let mine = owned[i].clone();
        let seen = cells_and_targets(&xapp.grpc, label, Duration::from_secs(30), |seen| {
            mine.iter().all(|c| seen.get(c).is_some_and(|&t| t > 0.0))
        })
        .await;
        let reported: BTreeSet<String> = seen.keys().cloned().collect();
        assert_eq!(reported, owned[i], "shard {i}/3 reports exactly its cells");
        for (cell, target) in &seen {
            assert!(
                *target > 0.0 && *target <= kbps * 1000.0 + 1.0,
                "shard {i}/3 cell {cell}: target {target} bit/s"
            );
        }
        let total: f64 = seen.values().sum();
        assert!(
            (total - kbps * 1000.0).abs() < kbps * 1000.0 * 0.25,
            "shard {i}/3 splits the slice's target over its cells: {seen:?}"
        );
        served.extend(reported);

        // A policy naming a cell of another shard: 400, naming the owner.
        let Some(foreign) = cells.iter().find(|c| !owned[i].contains(*c)) else {
            continue;
        };
        let owner = owner_of(foreign, 3);
        let nci = u64::from_str_radix(foreign.rsplit('-').next().unwrap(), 16).unwrap();
        let mut scoped = common::statement("000002", 1000.0);
        scoped["sliceSlaResources"] = json!({"cellIdList": [
            {"plmnId": {"mcc": "001", "mnc": "01"}, "cId": {"ncI": nci}}
        ]});
        let resp = http
            .put(common::policy_url(&xapp.http, "elsewhere"))
            .json(&scoped)
            .send()
            .await
            .unwrap();
        let expected = format!("cell {foreign} is served by shard {owner}/3, not this one ({i}/3)");
        common::assert_problem(resp, 400, &expected).await;
    }
    // Every cell is served by exactly one shard.
    served.sort();
    assert_eq!(served, cells);
}

/// The enforcement status of policy `id` at the xApp `http`.
async fn status_of(http: &reqwest::Client, base: &str, id: &str) -> String {
    let v: Value =
        common::get_json(http, &format!("{}/status", common::policy_url(base, id))).await;
    v["enforceStatus"].as_str().unwrap_or("?").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_rapp_negotiates_every_cell_at_its_shard_and_a_lost_shard_leaves_the_rest_enforcing() {
    let dir = tempfile::tempdir().unwrap();
    let config = nine_cell_config(dir.path());
    let config = config.to_str().unwrap();
    let cells = nine_cells();
    let owner: BTreeMap<String, u32> = cells.iter().map(|c| (c.clone(), owner_of(c, 3))).collect();
    let mut xapps = three_shards(dir.path(), config);
    let http = reqwest::Client::new();
    for xapp in &xapps {
        common::wait_ready(&http, &xapp.http).await;
    }
    let join =
        |f: fn(&XappProcess) -> &String| xapps.iter().map(f).cloned().collect::<Vec<_>>().join(",");
    let (a1_urls, kpi_urls) = (join(|x| &x.http), join(|x| &x.grpc));

    // One rApp, every cell the three KPI streams report: one negotiation per cell, its
    // policies PUT to the shard that reports the cell.
    let report_path = dir.path().join("rapp.json");
    let out = common::maestro()
        .args(["rapp", "--cells", "every", "--observe", "5"])
        .args(["--a1-url", &a1_urls, "--kpi-url", &kpi_urls])
        .args(["--metrics-addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("rapp-state"))
        .arg("--report")
        .arg(&report_path)
        .output()
        .expect("run maestro rapp");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("9 cells negotiated"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
    let passes = report["cells"].as_array().unwrap();
    assert_eq!(passes.len(), 9);
    for pass in passes {
        let cell = pass["cell_id"].as_str().unwrap();
        let shard = owner[cell] as usize;
        assert_eq!(pass["xapp"]["a1_url"], xapps[shard].http, "{cell}");
        assert!(pass["error"].is_null(), "{cell}: {}", pass["error"]);
    }
    // Every shard holds exactly its own cells' policies, two operators each, all ENFORCED.
    for (i, xapp) in xapps.iter().enumerate() {
        let mut expected: Vec<String> = cells
            .iter()
            .filter(|c| owner[*c] as usize == i)
            .flat_map(|c| {
                [
                    format!("maestro-bo-cost-{c}"),
                    format!("maestro-bo-qos-{c}"),
                ]
            })
            .collect();
        expected.sort();
        let mut held = common::policy_ids(&http, &xapp.http).await;
        held.sort();
        assert_eq!(held, expected, "shard {i}/3");
        for id in &held {
            assert_eq!(status_of(&http, &xapp.http, id).await, "ENFORCED", "{id}");
        }
    }

    // One shard lost (the one with the most cells): the other two keep enforcing their own
    // cells, their policies ENFORCED and every cell of theirs still carrying its target.
    let lost = (0..3usize)
        .max_by_key(|&i| cells.iter().filter(|c| owner[*c] as usize == i).count())
        .expect("three shards");
    let survivors: Vec<(usize, XappProcess)> = xapps
        .drain(..)
        .enumerate()
        .filter_map(|(i, x)| (i != lost).then_some((i, x)))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(1);
    while Instant::now() < deadline {
        for (i, xapp) in &survivors {
            for id in common::policy_ids(&http, &xapp.http).await {
                let status = status_of(&http, &xapp.http, &id).await;
                assert_eq!(status, "ENFORCED", "shard {i}/3, {id}, shard {lost}/3 gone");
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (i, xapp) in &survivors {
        let mine: BTreeSet<String> = cells
            .iter()
            .filter(|c| owner[*c] as usize == *i)
            .cloned()
            .collect();
        let seen = cells_and_targets(
            &xapp.grpc,
            "001-01/sst1-sd000001",
            Duration::from_secs(10),
            |seen| mine.iter().all(|c| seen.contains_key(c)),
        )
        .await;
        assert_eq!(
            seen.keys().cloned().collect::<BTreeSet<_>>(),
            mine,
            "shard {i}/3"
        );
        assert!(
            seen.values().all(|&t| t > 0.0),
            "shard {i}/3's cells still carry their targets: {seen:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shard_owning_no_cell_starts_ready_and_says_so_on_metrics() {
    let dir = tempfile::tempdir().unwrap();
    // The one default cell over two shards: the other shard owns nothing.
    let empty = 1 - owner_of("001-01-0000000001", 2);
    let shard = format!("{empty}/2");
    let xapp = XappProcess::start_with(&dir.path().join("state"), &["--shard", &shard]);
    let http = reqwest::Client::new();
    common::wait_ready(&http, &xapp.http).await;
    let metrics = common::get_text(&http, &format!("{}/metrics", xapp.http)).await;
    let info = format!("maestro_xapp_shard_info{{count=\"2\",index=\"{empty}\"}}");
    assert_eq!(common::metric(&metrics, &info), Some(1.0), "{metrics}");
    assert_eq!(
        common::metric(&metrics, "maestro_xapp_shard_cells "),
        Some(0.0)
    );
}

/// `maestro xapp ARGS --print-config` with `env`, its `shard` or its error.
fn print_config(args: &[&str], env: &[(&str, &str)]) -> Result<Value, String> {
    let mut cmd = common::maestro();
    cmd.arg("xapp").args(args).arg("--print-config");
    for var in [
        "MAESTRO_SHARD",
        "MAESTRO_SHARD_INDEX",
        "MAESTRO_SHARD_COUNT",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    let out = cmd.output().expect("run maestro");
    if out.status.success() {
        let config: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        Ok(config.get("shard").cloned().unwrap_or(Value::Null))
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn the_shard_comes_from_the_flag_the_environment_or_the_file_and_bad_ones_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = common::xapp_config_file(dir.path(), |c| {
        c["shard"] = json!({"index": 1, "count": 2});
    });
    let file = file.to_str().unwrap();
    let shard = |i: u32, k: u32| Ok(json!({"index": i, "count": k}));
    assert_eq!(
        print_config(&[], &[]),
        Ok(Value::Null),
        "none: the whole RAN"
    );
    assert_eq!(print_config(&["--config", file], &[]), shard(1, 2));
    assert_eq!(
        print_config(&["--config", file, "--shard", "2/3"], &[]),
        shard(2, 3)
    );
    assert_eq!(print_config(&[], &[("MAESTRO_SHARD", "0/4")]), shard(0, 4));
    assert_eq!(
        print_config(
            &["--config", file],
            &[("MAESTRO_SHARD_INDEX", "3"), ("MAESTRO_SHARD_COUNT", "4")]
        ),
        shard(3, 4)
    );
    assert_eq!(
        print_config(
            &[],
            &[
                ("MAESTRO_SHARD_INDEX", "demo-maestro-xapp-2"),
                ("MAESTRO_SHARD_COUNT", "4")
            ]
        ),
        shard(2, 4)
    );
    // The flag beats the pod's environment.
    assert_eq!(
        print_config(
            &["--shard", "1/4"],
            &[("MAESTRO_SHARD_INDEX", "3"), ("MAESTRO_SHARD_COUNT", "4")]
        ),
        shard(1, 4)
    );
    // Bad values: one readable line, non-zero exit.
    for (args, env, says) in [
        (
            &["--shard", "3/3"][..],
            &[][..],
            "shard index 3 is not below the count 3",
        ),
        (
            &["--shard", "two"][..],
            &[][..],
            "a shard is written INDEX/COUNT",
        ),
        (
            &[][..],
            &[("MAESTRO_SHARD", "1/0")][..],
            "count must be at least 1",
        ),
        (
            &[][..],
            &[("MAESTRO_SHARD_INDEX", "2")][..],
            "MAESTRO_SHARD_COUNT is not",
        ),
        (
            &[][..],
            &[("MAESTRO_SHARD_INDEX", "5"), ("MAESTRO_SHARD_COUNT", "4")][..],
            "shard index 5 is not below the count 4",
        ),
    ] {
        let err = print_config(args, env).expect_err("refused");
        assert!(err.contains(says), "{args:?} {env:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    let bad_file = common::xapp_config_file(dir.path(), |c| {
        c["shard"] = json!({"index": 2, "count": 2});
    });
    let err = print_config(&["--config", bad_file.to_str().unwrap()], &[]).expect_err("refused");
    assert!(
        err.contains("shard index 2 is not below the count 2"),
        "{err}"
    );
}

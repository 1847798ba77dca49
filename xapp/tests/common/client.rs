//! A client's view of a running xApp, for the tests that talk to one over HTTP: the policy
//! statement they PUT, GETs decoded as JSON or text, readiness, RFC 7807 problems and
//! Prometheus series. The xApp's in-process tests (`xapp/tests`) and the black-box tests of
//! the binary (`tests/`, through `tests/common`) share this one file.

use std::time::{Duration, Instant};

use maestro_api::a1::{policies_path, policy_path, SLICE_SLA_TARGET_TYPE};
use serde_json::{json, Value};

/// An `ORAN_SliceSLATarget_1.0.0` statement: slice SST 1 / `sd` of PLMN 001-01, a guaranteed
/// downlink throughput of `kbps`.
pub fn statement(sd: &str, kbps: f64) -> Value {
    json!({
        "scope": {"sliceId": {"sst": 1, "sd": sd, "plmnId": {"mcc": "001", "mnc": "01"}}},
        "sliceSlaObjectives": {"guaDlThptPerSlice": kbps}
    })
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

/// Asserts `GET {base}/ric/v1/health/alive` answers 200 (the process serves), without a
/// token: the liveness probe stays open on a secured xApp.
pub async fn assert_alive(http: &reqwest::Client, base: &str) {
    let alive = http
        .get(format!("{base}/ric/v1/health/alive"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {base}/ric/v1/health/alive: {e}"));
    assert_eq!(alive.status(), 200, "the xApp at {base} is not alive");
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
pub async fn assert_problem(resp: reqwest::Response, status: u16, detail_has: &str) -> Value {
    assert_eq!(resp.status().as_u16(), status);
    assert_eq!(
        resp.headers()["content-type"]
            .to_str()
            .expect("content-type is text"),
        "application/problem+json"
    );
    let body: Value = resp.json().await.expect("a problem+json body");
    assert_eq!(body["status"], status);
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains(detail_has),
        "detail {detail:?} lacks {detail_has:?}"
    );
    body
}

/// The value of one series (name and labels, as in `name{label="v"}`) in Prometheus text;
/// `None` when the series is absent.
pub fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series))
        .and_then(|v| v.trim().parse().ok())
}

/// The line of a per-slice series of `family` for `slice` in Prometheus text, whatever its
/// cell (the tests that use it run one cell); `None` when absent.
pub fn slice_line<'a>(text: &'a str, family: &str, slice: &str) -> Option<&'a str> {
    let slice = format!("slice=\"{slice}\"}}");
    text.lines().find(|l| {
        l.strip_prefix(family)
            .is_some_and(|rest| rest.starts_with("{cell=\"") && rest.contains(&slice))
    })
}

/// The value of [`slice_line`].
pub fn slice_metric(text: &str, family: &str, slice: &str) -> Option<f64> {
    slice_line(text, family, slice)
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.trim().parse().ok())
}

/// URL of policy `id` of the slice SLA type on the xApp at `base`.
pub fn policy_url(base: &str, id: &str) -> String {
    format!("{base}{}", policy_path(SLICE_SLA_TARGET_TYPE, id))
}

/// The ids of the slice SLA policies the xApp at `base` holds.
pub async fn policy_ids(http: &reqwest::Client, base: &str) -> Vec<String> {
    get_json(
        http,
        &format!("{base}{}", policies_path(SLICE_SLA_TARGET_TYPE)),
    )
    .await
}

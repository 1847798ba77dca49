//! `maestro-bench a1-latency`: one A1 client PUTs a slice policy whose target alternates
//! between a low and a high rate; each sample is the time from sending the PUT to the E2SM-RC
//! control with the new quota reaching the emulated gNB (the path a testbed user waits on).

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use maestro_api::a1::{policy_path, SLICE_SLA_TARGET_TYPE};
use maestro_e2sm::rc::{RrmPolicyMember, SlicePrbQuotaControl};
use serde::Serialize;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use crate::harness::{policy_body, XappUnderLoad};
use crate::stats::Histogram;

/// Latency figures, milliseconds.
#[derive(Debug, Serialize)]
pub struct Latency {
    /// Samples.
    pub samples: usize,
    /// Median.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Worst.
    pub max_ms: f64,
    /// Median time to the PUT's 2xx response (store commit included).
    pub response_p50_ms: f64,
    /// 99th percentile of the time to the 2xx response.
    pub response_p99_ms: f64,
    /// Every PUT -> control sample, ms, in the order the PUTs were sent.
    pub control_samples_ms: Vec<f64>,
    /// Every PUT -> 2xx sample, ms, same order.
    pub response_samples_ms: Vec<f64>,
}

impl Latency {
    /// One line for the terminal.
    pub fn line(&self) -> String {
        format!(
            "PUT -> E2 control p50 {:.3} ms  p99 {:.3} ms  max {:.3} ms  \
             (2xx p50 {:.3} ms p99 {:.3} ms; {} PUTs)",
            self.p50_ms,
            self.p99_ms,
            self.max_ms,
            self.response_p50_ms,
            self.response_p99_ms,
            self.samples
        )
    }
}

/// The A1 URL of the policy the latency and throughput benchmarks PUT.
pub fn policy_url(xapp: &XappUnderLoad) -> String {
    format!(
        "{}{}",
        xapp.http,
        policy_path(SLICE_SLA_TARGET_TYPE, "bench-latency")
    )
}

/// Max PRB ratio `control` gives `slice`.
fn max_ratio(control: &SlicePrbQuotaControl, slice: &RrmPolicyMember) -> Option<u8> {
    control
        .groups
        .iter()
        .find(|g| &g.member == slice)
        .map(|g| g.max_prb_ratio)
}

/// Times `puts` PUTs (after one untimed PUT that creates the policy) on the xApp's first
/// slice.
pub async fn run(xapp: &XappUnderLoad, puts: usize) -> anyhow::Result<Latency> {
    let slice = xapp
        .slices
        .first()
        .context("the emulated gNB has no slice")?;
    let http = reqwest::Client::new();
    let url = policy_url(xapp);
    // 2 and 40 Mbps need clearly different quotas at any CQI the drive produces.
    let (low, high) = (2_000.0, 40_000.0);
    let (mut to_control, mut to_response) = (Histogram::new()?, Histogram::new()?);
    let mut control_samples_ms = Vec::with_capacity(puts);
    let mut response_samples_ms = Vec::with_capacity(puts);
    let mut controls = xapp.controls();
    let (mut last_low, mut last_high): (Option<u8>, Option<u8>) = (None, None);
    for i in 0..=puts {
        let kbps = if i % 2 == 0 { low } else { high };
        while !matches!(
            controls.try_recv(),
            Err(TryRecvError::Empty | TryRecvError::Closed)
        ) {}
        let sent = Instant::now();
        let resp = http
            .put(&url)
            .json(&policy_body(slice, kbps))
            .send()
            .await?;
        let answered = Instant::now();
        if !resp.status().is_success() {
            bail!("PUT {url} answered {}", resp.status());
        }
        // The control that carries the new target: the first whose ratio for the slice is on
        // the new target's side of the midpoint between the last confirmed low and high ratios
        // (a periodic re-plan of the old target may slip in between; the two targets are 20x
        // apart, so their quotas are far apart at any CQI).
        let arrived = loop {
            let (at, control) = match tokio::time::timeout(Duration::from_secs(2), controls.recv())
                .await
                .context("no E2 control within 2 s of a target change")?
            {
                Ok(stamped) => stamped,
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => bail!("the E2 backend stopped"),
            };
            let Some(ratio) = max_ratio(&control, slice) else {
                continue;
            };
            let is_high = kbps == high;
            let carries_new_target = match (last_low, last_high) {
                (Some(l), Some(h)) => {
                    let mid = (f64::from(l) + f64::from(h)) / 2.0;
                    (f64::from(ratio) > mid) == is_high
                }
                (Some(l), None) => is_high && ratio > l,
                _ => true,
            };
            if carries_new_target {
                if is_high {
                    last_high = Some(ratio);
                } else {
                    last_low = Some(ratio);
                }
                break at;
            }
        };
        // The first PUT creates the policy and warms the connection: not a sample.
        if i > 0 {
            let (control, response) = (
                arrived.saturating_duration_since(sent),
                answered.duration_since(sent),
            );
            to_control.record(control);
            to_response.record(response);
            control_samples_ms.push(control.as_secs_f64() * 1e3);
            response_samples_ms.push(response.as_secs_f64() * 1e3);
        }
    }
    Ok(Latency {
        samples: control_samples_ms.len(),
        p50_ms: to_control.quantile_ms(0.5),
        p99_ms: to_control.quantile_ms(0.99),
        max_ms: to_control.quantile_ms(1.0),
        response_p50_ms: to_response.quantile_ms(0.5),
        response_p99_ms: to_response.quantile_ms(0.99),
        control_samples_ms,
        response_samples_ms,
    })
}

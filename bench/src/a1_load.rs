//! `maestro-bench a1-load`: an open-loop A1-P v2 load: PUTs and GETs sent at a fixed rate on
//! a schedule fixed in advance, each one's latency measured from the time it was due (not from
//! when it was actually sent), so a stalled server shows up in the figures instead of slowing
//! the generator down (no coordinated omission).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context};
use maestro_api::a1::{policy_path, SLICE_SLA_TARGET_TYPE};
use maestro_e2sm::rc::RrmPolicyMember;
use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::harness::policy_body;
use crate::stats::{Histogram, LatencySummary};

/// How to load the A1 server.
#[derive(Debug, Clone)]
pub struct A1Load {
    /// Base URL of the xApp, `http://host:port`.
    pub url: String,
    /// Bearer token, when the xApp asks for one.
    pub token: Option<String>,
    /// The slices the policies scope (policy `i` scopes slice `i mod len`; the xApp allows
    /// one policy per slice).
    pub slices: Vec<RrmPolicyMember>,
    /// Requests per second.
    pub rate: f64,
    /// How long, s.
    pub seconds: f64,
    /// Share of PUTs (the rest are GETs), 0..=1.
    pub put_share: f64,
    /// Distinct policy ids the load cycles through (the store does not grow); at most one
    /// per slice.
    pub policies: usize,
    /// Requests in flight at most (more wait, and their wait counts in their latency).
    pub max_in_flight: usize,
}

/// Figures of one A1 load run.
#[derive(Debug, Clone, Serialize)]
pub struct A1LoadFigures {
    /// Requests per second asked for.
    pub target_rate: f64,
    /// Answered requests (2xx) per second achieved.
    pub achieved_rate: f64,
    /// Run length, s.
    pub seconds: f64,
    /// Share of PUTs.
    pub put_share: f64,
    /// PUT latency from the time it was due to its answer.
    pub put: LatencySummary,
    /// GET latency, same.
    pub get: LatencySummary,
    /// All requests.
    pub all: LatencySummary,
    /// How late the generator itself sent (its own saturation; should stay near 0).
    pub send_lag: LatencySummary,
    /// 2xx answers.
    pub ok: u64,
    /// Failures by kind (`HTTP 429`, `transport`, ...).
    pub errors: BTreeMap<String, u64>,
}

impl A1LoadFigures {
    /// Requests that did not get a 2xx.
    pub fn failed(&self) -> u64 {
        self.errors.values().sum()
    }

    /// One line for the terminal.
    pub fn line(&self) -> String {
        format!(
            "{:.0} req/s asked, {:.0} req/s answered 2xx over {:.0} s ({:.0}% PUT); \
             all {}; PUT p99 {:.2} ms; GET p99 {:.2} ms; failed {} {:?}; generator lag p99 {:.2} ms",
            self.target_rate,
            self.achieved_rate,
            self.seconds,
            self.put_share * 100.0,
            self.all,
            self.put.p99_ms,
            self.get.p99_ms,
            self.failed(),
            self.errors,
            self.send_lag.p99_ms
        )
    }
}

struct Tally {
    put: Histogram,
    get: Histogram,
    lag: Histogram,
    ok: u64,
    errors: BTreeMap<String, u64>,
}

impl Tally {
    fn new() -> anyhow::Result<Self> {
        Ok(Self {
            put: Histogram::new()?,
            get: Histogram::new()?,
            lag: Histogram::new()?,
            ok: 0,
            errors: BTreeMap::new(),
        })
    }
}

impl A1Load {
    fn client(&self) -> anyhow::Result<reqwest::Client> {
        Ok(reqwest::Client::builder()
            .pool_max_idle_per_host(self.max_in_flight)
            .timeout(Duration::from_secs(10))
            .build()?)
    }

    fn url_of(&self, policy: usize) -> String {
        format!(
            "{}{}",
            self.url.trim_end_matches('/'),
            policy_path(SLICE_SLA_TARGET_TYPE, &format!("bench-load-{policy}"))
        )
    }

    /// Policy `p`'s two alternating bodies: 2 and 4 Mbps guaranteed (all slices' targets fit
    /// the 134 Mbps cell, so every policy can be ENFORCED).
    fn bodies(&self, p: usize) -> [serde_json::Value; 2] {
        let slice = &self.slices[p % self.slices.len()];
        [policy_body(slice, 2_000.0), policy_body(slice, 4_000.0)]
    }

    fn authorize(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    /// Creates every policy the load cycles through (so GETs find them), not timed.
    pub async fn prepare(&self) -> anyhow::Result<()> {
        if self.policies == 0 || self.policies > self.slices.len() {
            bail!(
                "--policies must be in 1..={} (one policy per slice)",
                self.slices.len()
            );
        }
        let client = self.client()?;
        for p in 0..self.policies {
            let url = self.url_of(p);
            let resp = self
                .authorize(client.put(&url).json(&self.bodies(p)[0]))
                .send()
                .await
                .with_context(|| format!("PUT {url}"))?;
            let status = resp.status();
            if !status.is_success() {
                let text = resp.text().await.unwrap_or_default();
                bail!("PUT {url} answered {status}: {}", text.trim());
            }
        }
        Ok(())
    }

    /// Sends the load and measures it.
    pub async fn run(&self) -> anyhow::Result<A1LoadFigures> {
        if !(self.rate > 0.0 && self.rate.is_finite()) {
            bail!("--rate must be > 0, got {}", self.rate);
        }
        if !(0.0..=1.0).contains(&self.put_share) {
            bail!("--put-share must be in [0, 1], got {}", self.put_share);
        }
        let client = self.client()?;
        let tally = Arc::new(Mutex::new(Tally::new()?));
        let permits = self.max_in_flight.clamp(1, Semaphore::MAX_PERMITS);
        let in_flight = Arc::new(Semaphore::new(permits));
        let total = (self.rate * self.seconds).round().max(1.0) as u64;
        let interval = Duration::from_secs_f64(1.0 / self.rate);
        let bodies: Vec<[serde_json::Value; 2]> =
            (0..self.policies).map(|p| self.bodies(p)).collect();
        let start = Instant::now() + Duration::from_millis(20);
        for i in 0..total {
            let due = start + interval.mul_f64(i as f64);
            tokio::time::sleep_until(due).await;
            let permit = Arc::clone(&in_flight)
                .acquire_owned()
                .await
                .context("the in-flight limit closed")?;
            let is_put =
                ((i + 1) as f64 * self.put_share).floor() > (i as f64 * self.put_share).floor();
            let policy = i as usize % self.policies;
            let url = self.url_of(policy);
            let req = if is_put {
                client
                    .put(&url)
                    .json(&bodies[policy][(i / self.policies as u64 % 2) as usize])
            } else {
                client.get(&url)
            };
            let req = self.authorize(req);
            let tally = Arc::clone(&tally);
            tokio::spawn(async move {
                let sent = Instant::now();
                let outcome = req.send().await;
                // Reading the body is part of the answer.
                let outcome = match outcome {
                    Ok(r) => {
                        let status = r.status();
                        r.bytes().await.map(|_| status)
                    }
                    Err(e) => Err(e),
                };
                let done = Instant::now();
                if let Ok(mut t) = tally.lock() {
                    t.lag.record(sent.saturating_duration_since(due));
                    match outcome {
                        Ok(status) if status.is_success() => {
                            t.ok += 1;
                            let h = if is_put { &mut t.put } else { &mut t.get };
                            h.record(done.saturating_duration_since(due));
                        }
                        Ok(status) => {
                            *t.errors
                                .entry(format!("HTTP {}", status.as_u16()))
                                .or_default() += 1
                        }
                        Err(e) => {
                            let kind = if e.is_timeout() {
                                "timeout"
                            } else {
                                "transport"
                            };
                            *t.errors.entry(kind.to_owned()).or_default() += 1;
                        }
                    }
                }
                drop(permit);
            });
        }
        // Every permit back: every request answered.
        let _all = in_flight
            .acquire_many(permits as u32)
            .await
            .context("the in-flight limit closed")?;
        let elapsed = start.elapsed().as_secs_f64().max(self.seconds);
        let t = tally
            .lock()
            .map_err(|_| anyhow::anyhow!("a load task panicked"))?;
        let mut all = t.put.clone();
        all.merge(&t.get)?;
        Ok(A1LoadFigures {
            target_rate: self.rate,
            achieved_rate: t.ok as f64 / elapsed,
            seconds: self.seconds,
            put_share: self.put_share,
            put: t.put.summary(),
            get: t.get.summary(),
            all: all.summary(),
            send_lag: t.lag.summary(),
            ok: t.ok,
            errors: t.errors.clone(),
        })
    }
}

/// One step of the search for the highest rate with p99 under the target.
#[derive(Debug, Clone, Serialize)]
pub struct RateStep {
    /// The step's figures.
    pub figures: A1LoadFigures,
    /// p99 under the target, no failures, and at least 95 % of the rate answered.
    pub held: bool,
}

/// Whether a run held its rate: p99 below `p99_ms`, no failed request, and 95 % of the asked
/// rate answered.
pub fn held(f: &A1LoadFigures, p99_ms: f64) -> bool {
    f.all.p99_ms < p99_ms && f.failed() == 0 && f.achieved_rate >= 0.95 * f.target_rate
}

/// Steps the rate up by `factor` from `load.rate` until a step does not hold or `max_rate` is
/// passed; returns every step (the highest held one is the figure).
pub async fn find_max(
    load: &A1Load,
    p99_ms: f64,
    max_rate: f64,
    factor: f64,
) -> anyhow::Result<Vec<RateStep>> {
    let mut steps = Vec::new();
    let mut step = load.clone();
    while step.rate <= max_rate {
        let figures = step.run().await?;
        let ok = held(&figures, p99_ms);
        println!(
            "a1-load step  {} {}",
            if ok { "held  " } else { "missed" },
            figures.line()
        );
        steps.push(RateStep { figures, held: ok });
        if !ok {
            break;
        }
        step.rate = (step.rate * factor).round();
        // Let the server drain and settle between steps.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(steps)
}

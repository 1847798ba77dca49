//! `maestro-bench a1-throughput`: many concurrent A1 clients PUT updates for a while over
//! loopback; every 2xx is a policy committed to the durable store.

use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;

use crate::a1_latency::policy_url;
use crate::harness::{policy_body, XappUnderLoad};
use crate::stats::Histogram;

/// Throughput figures.
#[derive(Debug, Serialize)]
pub struct Throughput {
    /// Concurrent clients.
    pub clients: usize,
    /// Committed PUTs (2xx) per second.
    pub puts_per_second: f64,
    /// 2xx answers.
    pub ok: u64,
    /// Other answers or transport failures.
    pub failed: u64,
    /// Per-request p99 under this load, ms.
    pub p99_ms: f64,
}

impl Throughput {
    /// One line for the terminal.
    pub fn line(&self) -> String {
        format!(
            "{:>12.0} PUT/s committed  ({} clients, p99 {:.3} ms, {} ok, {} failed)",
            self.puts_per_second, self.clients, self.p99_ms, self.ok, self.failed
        )
    }
}

/// `clients` clients, each on its own connection, PUT to one policy of the xApp's first slice
/// for `seconds`.
pub async fn run(xapp: &XappUnderLoad, clients: usize, seconds: f64) -> anyhow::Result<Throughput> {
    let slice = xapp
        .slices
        .first()
        .context("the emulated gNB has no slice")?;
    let url = policy_url(xapp);
    let until = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for c in 0..clients {
        // One connection per client, like separate SMO instances.
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .build()?;
        let url = url.clone();
        let bodies = [
            policy_body(slice, 5_000.0 + c as f64),
            policy_body(slice, 15_000.0 + c as f64),
        ];
        let mut times = Histogram::new()?;
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut failed) = (0u64, 0u64);
            let mut i = 0usize;
            while Instant::now() < until {
                let t = Instant::now();
                let sent = http.put(&url).json(&bodies[i % 2]).send().await;
                i += 1;
                match sent {
                    Ok(r) if r.status().is_success() => {
                        ok += 1;
                        times.record(t.elapsed());
                    }
                    _ => failed += 1,
                }
            }
            (ok, failed, times)
        }));
    }
    let (mut ok, mut failed, mut times) = (0u64, 0u64, Histogram::new()?);
    for t in tasks {
        let (o, f, ts) = t.await.context("a benchmark client panicked")?;
        ok += o;
        failed += f;
        times.merge(&ts)?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    Ok(Throughput {
        clients,
        puts_per_second: ok as f64 / elapsed,
        ok,
        failed,
        p99_ms: times.quantile_ms(0.99),
    })
}

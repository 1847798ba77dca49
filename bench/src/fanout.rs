//! `maestro-bench kpi-fanout`: many concurrent gRPC subscribers of the xApp's KPI stream
//! (`maestro.kpi.v1.KpiStream`) while the emulated cell reports every UE each period: reports
//! received vs sent per subscriber, the losses the xApp admitted (`dropped_before`), and the
//! delivery latency from the report leaving the gNB to its receipt by the subscriber.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde::Serialize;
use tokio::sync::watch;

use crate::harness::{CellLoad, XappUnderLoad};
use crate::stats::{Histogram, LatencySummary, ProcSample};

/// Figures of one fan-out run.
#[derive(Debug, Clone, Serialize)]
pub struct FanoutFigures {
    /// Concurrent subscribers.
    pub subscribers: usize,
    /// UEs in each report.
    pub ues: u32,
    /// Report period, ms.
    pub period_ms: u64,
    /// Measured window, s.
    pub seconds: f64,
    /// Reports the gNB sent in the window.
    pub sent: u64,
    /// Reports received per subscriber: fewest.
    pub received_min: u64,
    /// Median.
    pub received_median: u64,
    /// Most.
    pub received_max: u64,
    /// Received by all subscribers / (sent x subscribers), %.
    pub delivered_pct: f64,
    /// Reports the xApp told subscribers they lost (`dropped_before`), all subscribers.
    pub dropped_before: u64,
    /// Delivery latency, gNB report sent -> subscriber received.
    pub latency: LatencySummary,
    /// CPU of the xApp's threads over the window, % of one core.
    pub xapp_cpu_pct: f64,
    /// CPU of the whole process (xApp + the subscribers), % of one core.
    pub process_cpu_pct: f64,
    /// RSS of the process at the window's start / end, MiB.
    pub rss_start_mib: f64,
    /// See `rss_start_mib`.
    pub rss_end_mib: f64,
}

impl FanoutFigures {
    /// One line for the terminal.
    pub fn line(&self) -> String {
        format!(
            "{} subscribers x {} UEs every {} ms over {:.0} s: sent {}, received per subscriber \
             min {} median {} max {} ({:.2}% delivered), dropped_before {}; latency {}; \
             xApp CPU {:.0}% (process {:.0}%), RSS {:.1} -> {:.1} MiB",
            self.subscribers,
            self.ues,
            self.period_ms,
            self.seconds,
            self.sent,
            self.received_min,
            self.received_median,
            self.received_max,
            self.delivered_pct,
            self.dropped_before,
            self.latency,
            self.xapp_cpu_pct,
            self.process_cpu_pct,
            self.rss_start_mib,
            self.rss_end_mib
        )
    }
}

#[derive(Default)]
struct Subscriber {
    received: u64,
    dropped_before: u64,
}

/// Sequence numbers of the measured window (inclusive); `u64::MAX` while not set.
struct Window {
    first: AtomicU64,
    last: AtomicU64,
}

/// Runs `subscribers` KPI subscribers against `xapp` for `seconds`.
pub async fn run(
    xapp: &XappUnderLoad,
    cell: &CellLoad,
    subscribers: usize,
    seconds: f64,
) -> anyhow::Result<FanoutFigures> {
    if subscribers == 0 {
        bail!("--subscribers must be at least 1");
    }
    let window = Arc::new(Window {
        first: AtomicU64::new(u64::MAX),
        last: AtomicU64::new(u64::MAX),
    });
    let connected = Arc::new(AtomicUsize::new(0));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = Vec::with_capacity(subscribers);
    let mut stats = Vec::with_capacity(subscribers);
    // One latency histogram for all subscribers: the generator's memory stays that of one,
    // whatever --subscribers (the soak measures this process's RSS).
    let latency = Arc::new(Mutex::new(Histogram::new()?));
    for s in 0..subscribers {
        let mine = Arc::new(Mutex::new(Subscriber::default()));
        stats.push(Arc::clone(&mine));
        let (endpoint, window, connected, stamps, latency) = (
            xapp.grpc.clone(),
            Arc::clone(&window),
            Arc::clone(&connected),
            Arc::clone(&xapp.stamps),
            Arc::clone(&latency),
        );
        let mut stop = stop_rx.clone();
        tasks.push(tokio::spawn(async move {
            let name = format!("bench-subscriber-{s}");
            let mut stream =
                maestro_rapp::kpi_client::subscribe(&endpoint, &name, Duration::from_secs(60))
                    .await?;
            let mut counted = false;
            loop {
                let report = tokio::select! {
                    r = stream.message() => r,
                    _ = stop.changed() => break,
                };
                let Some(report) = report.with_context(|| format!("{name}: stream failed"))? else {
                    bail!("{name}: the xApp ended the stream");
                };
                let at = Instant::now();
                if !counted {
                    counted = true;
                    connected.fetch_add(1, Ordering::AcqRel);
                }
                let (first, last) = (
                    window.first.load(Ordering::Acquire),
                    window.last.load(Ordering::Acquire),
                );
                if report.sequence < first || report.sequence > last {
                    continue;
                }
                if let Ok(mut me) = mine.lock() {
                    me.received += 1;
                    me.dropped_before += report.dropped_before;
                }
                if let Some(sent_at) = stamps.sent_at(report.sequence) {
                    if let Ok(mut h) = latency.lock() {
                        h.record(at.saturating_duration_since(sent_at));
                    }
                }
            }
            anyhow::Ok(())
        }));
    }
    // Every subscriber connected and streaming before the window opens.
    let deadline = Instant::now() + Duration::from_secs(120);
    while connected.load(Ordering::Acquire) < subscribers {
        if let Some(i) = tasks.iter().position(|t| t.is_finished()) {
            tasks
                .swap_remove(i)
                .await
                .context("a KPI subscriber panicked")??;
            bail!("a KPI subscriber stopped before the measurement began");
        }
        if Instant::now() > deadline {
            bail!(
                "only {} of {subscribers} KPI subscribers got a report within 120 s",
                connected.load(Ordering::Acquire)
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let first = xapp.stamps.last_sequence.load(Ordering::Acquire) + 1;
    window.first.store(first, Ordering::Release);
    let before = ProcSample::now();
    let opened = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    let last = xapp.stamps.last_sequence.load(Ordering::Acquire);
    window.last.store(last, Ordering::Release);
    let after = ProcSample::now();
    let measured = opened.elapsed().as_secs_f64();
    // Reports still on their way get a moment to arrive.
    tokio::time::sleep(Duration::from_millis(500).max(Duration::from_millis(cell.period_ms * 5)))
        .await;
    let _ = stop_tx.send(true);
    for t in tasks {
        t.await.context("a KPI subscriber panicked")??;
    }
    let sent = (last + 1).saturating_sub(first);
    let mut received = Vec::with_capacity(subscribers);
    let mut dropped_before = 0u64;
    for s in &stats {
        let s = s
            .lock()
            .map_err(|_| anyhow::anyhow!("a KPI subscriber panicked"))?;
        received.push(s.received);
        dropped_before += s.dropped_before;
    }
    let latency = latency
        .lock()
        .map_err(|_| anyhow::anyhow!("a KPI subscriber panicked"))?
        .summary();
    received.sort_unstable();
    let total: u64 = received.iter().sum();
    let (xapp_cpu_pct, process_cpu_pct) = match (&before, &after) {
        (Some(b), Some(a)) => a.cpu_percent_since(b),
        _ => (0.0, 0.0),
    };
    Ok(FanoutFigures {
        subscribers,
        ues: cell.ues,
        period_ms: cell.period_ms,
        seconds: measured,
        sent,
        received_min: received.first().copied().unwrap_or(0),
        received_median: received.get(received.len() / 2).copied().unwrap_or(0),
        received_max: received.last().copied().unwrap_or(0),
        delivered_pct: if sent == 0 {
            0.0
        } else {
            100.0 * total as f64 / (sent as f64 * subscribers as f64)
        },
        dropped_before,
        latency,
        xapp_cpu_pct,
        process_cpu_pct,
        rss_start_mib: before.map_or(0.0, |s| s.rss_mib()),
        rss_end_mib: after.map_or(0.0, |s| s.rss_mib()),
    })
}

//! `maestro experiment sla-timeline`: the paper's Fig. 5 story end to end — the xApp with its
//! emulated gNB (one shared slice, one car replaying a CQI drive) in this process, the rApp's
//! timeline ([`maestro_rapp::experiment::sla_timeline`]) against it over real HTTP (A1-P v2)
//! and gRPC (KPI stream), on the simulated clock (about 500 s of gNB time in seconds) or, with
//! `--realtime`, on the wall clock.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use maestro_e2sm::rc::RrmPolicyMember;
use maestro_rapp::experiment::sla_timeline::{
    run as run_timeline, synthetic_drive_csv, write_outputs, TimelineJob, TimelineScenario,
};
use maestro_rapp::observability::PrometheusSource;
use maestro_xapp::config::{E2Config, XappConfig};
use maestro_xapp::e2::emulator::{Clock, CqiSource, EmulatedSlice, EmulatorConfig};

use super::Common;
use crate::cmd::LlmKind;

/// Options of `maestro experiment sla-timeline`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    maestro experiment sla-timeline --out results/\n  \
    maestro experiment sla-timeline --cqi-trace ucc5g_netflix_driving_B_2019.11.26_13.20.42.csv\n  \
    maestro experiment sla-timeline --realtime      # the same 500 s on the wall clock")]
pub struct SlaTimelineArgs {
    /// Timeline scenario JSON (phases of business intents, trigger settings). Default: the
    /// built-in copy of config/scenarios/sla-timeline.json.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Replay this drive (CSV with the UCC 5G dataset's Timestamp and CQI columns) instead of
    /// the built-in synthetic drive.
    #[arg(long, value_name = "CSV")]
    pub cqi_trace: Option<PathBuf>,
    /// Run on the wall clock (the whole duration in real time) instead of the simulated one.
    #[arg(long)]
    pub realtime: bool,
    /// gNB seconds per wall second on the simulated clock.
    #[arg(long, default_value_t = 50.0)]
    pub speedup: f64,
    /// Override the scenario's duration, s of the gNB's clock.
    #[arg(long)]
    pub duration: Option<f64>,
    /// Also read the cell from this Prometheus server's query API (PromQL over the xApp's
    /// metrics) at each negotiation, logged beside the KPI stream's view.
    #[arg(long, value_name = "URL")]
    pub prometheus_url: Option<String>,
    #[command(flatten)]
    pub common: Common,
}

fn member(slice: &maestro_api::a1::SliceId) -> anyhow::Result<RrmPolicyMember> {
    let sd = match &slice.sd {
        Some(hex) => Some(
            u32::from_str_radix(hex, 16)
                .with_context(|| format!("slice differentiator {hex:?} is not hex"))?,
        ),
        None => None,
    };
    Ok(RrmPolicyMember {
        mcc: slice.plmn_id.mcc.clone(),
        mnc: slice.plmn_id.mnc.clone(),
        sst: slice.sst,
        sd,
    })
}

/// Runs the timeline and writes its outputs.
pub async fn run(args: SlaTimelineArgs) -> anyhow::Result<ExitCode> {
    crate::cmd::init_logging("warn");
    let mut scenario = match &args.scenario {
        Some(path) => TimelineScenario::from_file(path)?,
        None => TimelineScenario::builtin()?,
    };
    if let Some(d) = args.duration {
        anyhow::ensure!(d.is_finite() && d > 0.0, "--duration must be > 0");
        scenario.duration_s = d;
    }
    anyhow::ensure!(
        args.speedup.is_finite() && args.speedup > 0.0,
        "--speedup must be > 0"
    );
    let out = args.common.out.clone();
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let (trace, source) = match &args.cqi_trace {
        Some(path) => (
            path.clone(),
            path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into(),
            ),
        ),
        None => {
            let path = out.join("synthetic-drive.csv");
            std::fs::write(
                &path,
                synthetic_drive_csv(scenario.duration_s.ceil() as u32 + 10),
            )
            .with_context(|| format!("cannot write {}", path.display()))?;
            (path, "the built-in synthetic drive".to_owned())
        }
    };
    let state_dir =
        std::env::temp_dir().join(format!("maestro-sla-timeline-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&state_dir);
    let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
    let emulator = EmulatorConfig {
        slices: vec![EmulatedSlice {
            member: member(&scenario.slice)?,
            ues: 1,
        }],
        clock: if args.realtime {
            Clock::Realtime
        } else {
            Clock::Simulated {
                speedup: args.speedup,
            }
        },
        cqi: CqiSource::Trace { path: trace },
        seed: args.common.seed,
        ..EmulatorConfig::default()
    };
    let llm =
        crate::cmd::llm_choice_with(args.common.llm, scenario.seed, args.common.gguf.as_deref())?
            .build()
            .context("LLM backend")?;
    let xapp = maestro_xapp::start(XappConfig {
        http_addr: loopback,
        grpc_addr: loopback,
        state_dir: state_dir.clone(),
        control: Default::default(),
        a1: Default::default(),
        security: Default::default(),
        metrics: Default::default(),
        shard: None,
        e2: E2Config::Emulated(emulator),
    })
    .await
    .context("xApp failed to start")?;
    println!(
        "SLA timeline: xApp A1-P v2 http://{}/A1-P/v2, KPI gRPC http://{}; {} s of gNB time on \
         the {} clock, CQI from {source}",
        xapp.http_addr,
        xapp.grpc_addr,
        scenario.duration_s,
        if args.realtime {
            "real-time".to_owned()
        } else {
            format!("simulated (x{})", args.speedup)
        }
    );
    let job = TimelineJob {
        a1_url: format!("http://{}", xapp.http_addr),
        kpi_url: format!("http://{}", xapp.grpc_addr),
        scenario,
        llm_arbitral: args.common.llm != LlmKind::Persona,
        llm: Arc::clone(&llm),
        transcripts: Some(out.join("transcripts")),
        connect_timeout: Duration::from_secs(10),
        prometheus: match &args.prometheus_url {
            Some(url) => Some(PrometheusSource::new(url, Duration::from_secs(2))?),
            None => None,
        },
    };
    let result = run_timeline(&job, &source).await;
    xapp.shutdown().await;
    let _ = std::fs::remove_dir_all(&state_dir);
    let report = result.context("SLA timeline failed")?;
    print!("{}", report.table());
    let files = write_outputs(&out, &report)?;
    for f in [&files.svg, &files.png, &files.events, &files.samples] {
        println!("wrote {}", f.display());
    }
    println!(
        "transcripts: maestro transcripts list --data-dir {}",
        out.join("transcripts").display()
    );
    Ok(if report.all_segments_hold {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

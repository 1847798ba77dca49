//! `maestro xapp`: the near-RT xApp as a long-running service.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use maestro_api::shard::Shard;
use maestro_xapp::config::XappConfig;
use maestro_xapp::e2::NodeKind;
use maestro_xapp::shard_scope::shard_of_pod;

use super::{ClockMode, EmulatorArgs};

/// Options of `maestro xapp`. Flags override the config file; the file overrides the
/// built-in defaults shown here.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    maestro xapp --e2 emulator --a1-addr 127.0.0.1:8080 --data-dir ./state\n  \
    maestro xapp --config config/xapp.json\n  \
    maestro xapp --e2 emulator --clock sim --speedup 20 --cqi-trace drive.csv\n  \
    maestro xapp --e2 bridge-emulator   # the emulated gNB in a supervised e2-bridge child\n  \
    maestro xapp --e2 flexric   # near-RT RIC on 127.0.0.1:36422; needs --features flexric\n  \
    maestro xapp --config config/xapp.json --print-config   # show the effective settings\n  \
    maestro xapp --config cells9.json --shard 1/3   # serve only the cells shard 1 of 3 owns\n\n\
    Sharding (many replicas): --shard INDEX/COUNT, else MAESTRO_SHARD=INDEX/COUNT, else\n\
    MAESTRO_SHARD_INDEX (a StatefulSet pod's ordinal, from the label apps.kubernetes.io/pod-index,\n\
    or its pod name ending in -N) with MAESTRO_SHARD_COUNT, else `shard` in the config file;\n\
    none: the whole RAN. A cell belongs to shard FNV-1a-64(cell id) mod COUNT.")]
pub struct XappArgs {
    /// JSON config file (the same settings as the flags; see config/xapp.json), or an O-RAN SC
    /// xApp descriptor whose `controls` hold them (deploy/xapp-descriptor/config-file.json).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// E2 node to control [default: emulator].
    #[arg(long, value_enum)]
    pub e2: Option<NodeKind>,
    /// A1-P v2 HTTP address, also /metrics and /ric/v1/health/{alive,ready}
    /// [default: 127.0.0.1:8080].
    #[arg(long, alias = "http", value_name = "ADDR")]
    pub a1_addr: Option<SocketAddr>,
    /// gRPC KPI stream address [default: 127.0.0.1:50051].
    #[arg(long, alias = "grpc", value_name = "ADDR")]
    pub grpc_addr: Option<SocketAddr>,
    /// Directory of the durable policy store; policies survive restarts
    /// [default: ./maestro-state].
    #[arg(long, alias = "state-dir", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// This replica's shard of the RAN, INDEX/COUNT (e.g. 0/3): it serves only the cells
    /// shard INDEX of COUNT owns [default: the config's `shard`, else the whole RAN].
    #[arg(long, env = "MAESTRO_SHARD", value_name = "INDEX/COUNT")]
    pub shard: Option<String>,
    /// Print the effective configuration as JSON and exit.
    #[arg(long)]
    pub print_config: bool,
    #[command(flatten)]
    pub emulator: EmulatorArgs,
}

impl XappArgs {
    /// The effective configuration: defaults, then the file, then the flags.
    pub fn resolve(&self) -> anyhow::Result<XappConfig> {
        let mut config = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read config file {}", path.display()))?;
                config_from_json(&text).with_context(|| {
                    format!("config file {} is not a valid xApp config", path.display())
                })?
            }
            None => XappConfig::loopback_defaults(PathBuf::from("maestro-state")),
        };
        if let Some(addr) = self.a1_addr {
            config.http_addr = addr;
        }
        if let Some(addr) = self.grpc_addr {
            config.grpc_addr = addr;
        }
        if let Some(dir) = &self.data_dir {
            config.state_dir.clone_from(dir);
        }
        // Without a config file the xApp's clock defaults to real time.
        let default_clock = self.config.is_none().then_some(ClockMode::Real);
        if let Some(node) = self.e2 {
            config.e2 = config.e2.with_node(node);
        }
        if let Some(emulator) = config.e2.emulator_mut() {
            *emulator = self.emulator.apply(std::mem::take(emulator), default_clock);
        }
        if let Some(shard) = self.shard_override()? {
            config.shard = Some(shard);
        }
        if let Some(shard) = config.shard {
            shard.validate().context("`shard` in the config file")?;
        }
        if config.e2.node() == NodeKind::Flexric && !maestro_xapp::e2::FLEXRIC_BUILT {
            anyhow::bail!(
                "--e2 flexric: {}, or use --e2 emulator / --e2 bridge-emulator",
                maestro_xapp::e2::StartError::FlexricNotBuilt
            );
        }
        Ok(config)
    }
}

impl XappArgs {
    /// The shard the command line or the environment sets: `--shard` (or `MAESTRO_SHARD`),
    /// else a StatefulSet pod's `MAESTRO_SHARD_INDEX` + `MAESTRO_SHARD_COUNT`.
    fn shard_override(&self) -> anyhow::Result<Option<Shard>> {
        if let Some(text) = &self.shard {
            let shard = text
                .parse::<Shard>()
                .with_context(|| format!("--shard (or MAESTRO_SHARD) {text:?}"))?;
            return Ok(Some(shard));
        }
        let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        Ok(shard_of_pod(
            var("MAESTRO_SHARD_INDEX").as_deref(),
            var("MAESTRO_SHARD_COUNT").as_deref(),
        )?)
    }
}

/// Parses an xApp config file: the settings themselves (config/xapp.json), or an O-RAN SC xApp
/// descriptor (deploy/xapp-descriptor/config-file.json, as the RIC's appmgr mounts it), whose
/// `controls` section holds the same settings.
pub fn config_from_json(text: &str) -> anyhow::Result<XappConfig> {
    let value: serde_json::Value = serde_json::from_str(text)?;
    let is_descriptor = value.get("containers").is_some() && value.get("controls").is_some();
    let settings = match value {
        serde_json::Value::Object(mut map) if is_descriptor => map
            .remove("controls")
            .context("descriptor without controls")?,
        other => other,
    };
    Ok(serde_json::from_value(settings)?)
}

/// Runs until Ctrl-C or SIGTERM.
pub async fn run(args: XappArgs) -> anyhow::Result<ExitCode> {
    let config = args.resolve()?;
    if args.print_config {
        println!("{}", serde_json::to_string_pretty(&config)?);
        return Ok(ExitCode::SUCCESS);
    }
    super::init_logging("info");
    let xapp = maestro_xapp::start(config)
        .await
        .context("xApp failed to start")?;
    println!(
        "xApp A1-P v2: http://{}/A1-P/v2/policytypes",
        xapp.http_addr
    );
    println!(
        "xApp OpenAPI: http://{}/A1-P/v2/openapi.json",
        xapp.http_addr
    );
    println!("xApp metrics: http://{}/metrics", xapp.http_addr);
    println!(
        "xApp health : http://{}/ric/v1/health/alive, /ric/v1/health/ready",
        xapp.http_addr
    );
    println!("xApp KPI gRPC: http://{}", xapp.grpc_addr);
    println!(
        "policies restored from the store: {}",
        xapp.restored_policies
    );
    shutdown_signal().await;
    tracing::info!("shutting down");
    xapp.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

/// Resolves on Ctrl-C or SIGTERM.
pub(super) async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

//! `maestro xapp`: the near-RT xApp as a long-running service.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use maestro_xapp::config::{E2Config, XappConfig};

use super::{ClockMode, EmulatorArgs};

/// Options of `maestro xapp`.
#[derive(Debug, Args)]
pub struct XappArgs {
    /// A1-P v2 HTTP address (also /metrics, /healthz, /readyz).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub http: SocketAddr,
    /// gRPC KPI stream address.
    #[arg(long, default_value = "127.0.0.1:50051")]
    pub grpc: SocketAddr,
    /// Directory of the durable policy store (policies survive restarts).
    #[arg(long, default_value = "maestro-state")]
    pub state_dir: PathBuf,
    #[command(flatten)]
    pub emulator: EmulatorArgs,
}

/// Runs until Ctrl-C or SIGTERM.
pub async fn run(args: XappArgs) -> anyhow::Result<ExitCode> {
    super::init_logging("info");
    let config = XappConfig {
        http_addr: args.http,
        grpc_addr: args.grpc,
        state_dir: args.state_dir,
        control: Default::default(),
        e2: E2Config::Emulated(args.emulator.config(ClockMode::Real)),
    };
    let xapp = maestro_xapp::start(config)
        .await
        .context("xApp failed to start")?;
    println!(
        "xApp A1-P v2: http://{}/A1-P/v2/policytypes",
        xapp.http_addr
    );
    println!("xApp metrics: http://{}/metrics", xapp.http_addr);
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

async fn shutdown_signal() {
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

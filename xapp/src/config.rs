//! Configuration of the xApp: where it listens, where it keeps state, which E2 backend it
//! drives ([`E2Config`], defined in [`crate::e2`]), the loop's knobs, A1 limits and security,
//! and which shard of the RAN this replica serves ([`Shard`]).

use std::net::SocketAddr;
use std::path::PathBuf;

use maestro_api::shard::Shard;
use serde::{Deserialize, Serialize};

use crate::a1::limit::A1Limits;
use crate::controller::LoopTuning;
use crate::e2::emulator::EmulatorConfig;
use crate::kpi::metrics::MetricsConfig;
use crate::security::SecurityConfig;

/// The `e2` section, defined with the backends it chooses between.
pub use crate::e2::E2Config;

/// Everything `maestro xapp` needs to run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct XappConfig {
    /// A1-P v2 HTTP endpoint (also serves `/metrics`, `/healthz`, `/readyz`).
    pub http_addr: SocketAddr,
    /// gRPC KPI stream endpoint.
    pub grpc_addr: SocketAddr,
    /// Directory of the policy store.
    pub state_dir: PathBuf,
    /// The E2 node to control.
    pub e2: E2Config,
    /// Closed-loop knobs of the PRB controller.
    #[serde(default)]
    pub control: LoopTuning,
    /// A1 write rate limits and store capacity.
    #[serde(default)]
    pub a1: A1Limits,
    /// Bearer tokens and TLS for A1 and gRPC (none: loopback only).
    #[serde(default)]
    pub security: SecurityConfig,
    /// How far the per-cell `/metrics` families may grow (per-UE series bound, stale cells).
    #[serde(default)]
    pub metrics: MetricsConfig,
    /// This replica's shard of the RAN (`{"index": i, "count": K}`): it serves only the cells
    /// shard `i` of `K` owns ([`maestro_api::shard`]). Absent: the whole RAN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
}

impl XappConfig {
    /// Loopback defaults: A1 on 127.0.0.1:8080, gRPC on 127.0.0.1:50051, the emulated gNB.
    pub fn loopback_defaults(state_dir: PathBuf) -> Self {
        Self {
            http_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            grpc_addr: SocketAddr::from(([127, 0, 0, 1], 50051)),
            state_dir,
            e2: E2Config::Emulated(EmulatorConfig::default()),
            control: LoopTuning::default(),
            a1: A1Limits::default(),
            security: SecurityConfig::default(),
            metrics: MetricsConfig::default(),
            shard: None,
        }
    }

    /// The shard this replica serves ([`Shard::WHOLE`] when none is configured).
    pub fn shard(&self) -> Shard {
        self.shard.unwrap_or_default()
    }
}

//! Configuration of the xApp: where it listens, where it keeps state, which E2 backend it
//! drives and, for the built-in emulated gNB, the cell and its slices.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::a1::limit::A1Limits;
use crate::controller::LoopTuning;
use crate::e2::bridge::BridgeOptions;
use crate::e2::emulator::EmulatorConfig;
use crate::e2::flexric_config::FlexricConfig;
use crate::security::SecurityConfig;

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
}

/// Which E2 backend drives the RAN.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "backend", rename_all = "snake_case")]
pub enum E2Config {
    /// The built-in emulated gNB, in the xApp's process.
    Emulated(EmulatorConfig),
    /// A FlexRIC near-RT RIC and its E2 nodes, reached from a supervised
    /// `maestro e2-bridge --node flexric` child (FlexRIC's library may abort its process).
    Flexric(FlexricConfig),
    /// The built-in emulated gNB in a supervised `maestro e2-bridge --node emulator` child:
    /// the process isolation of the FlexRIC set-up without FlexRIC (tests, or by choice).
    Bridge {
        /// The emulated gNB inside the child.
        emulator: EmulatorConfig,
        /// Supervision knobs (restart backoff, watchdog, control timeout, child command).
        #[serde(default)]
        options: BridgeOptions,
    },
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
        }
    }
}

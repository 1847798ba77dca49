//! [`start`]: the one place an E2 backend is chosen and started from an [`E2Config`], in
//! this process or in a supervised `maestro e2-bridge` child, for the xApp and for the child
//! itself ([`Host`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::bridge::supervisor::BridgeError;
use super::bridge::{BridgeBackend, BridgeOptions, ChildSpec};
use super::config::E2Config;
use super::emulator::{Clock, EmulatedGnb, EmulatorConfig, EmulatorError};
use super::flexric_config::{FlexricConfig, FlexricConfigError};
use super::node_kind::{NodeKind, NotABridgeChildNode};
use super::E2Backend;

/// The process a backend is started in.
#[derive(Debug, Clone, Copy)]
pub enum Host<'a> {
    /// The xApp: the emulated gNB runs in process; FlexRIC and the bridged emulated gNB run
    /// in a supervised `e2-bridge` child, whose config file is written to `state_dir`.
    Xapp {
        /// The xApp's state directory.
        state_dir: &'a Path,
    },
    /// An `e2-bridge` child: the node runs in this process (a child does not bridge again).
    BridgeChild,
}

/// A started backend.
pub struct StartedE2 {
    /// What the control loop drives.
    pub backend: Arc<dyn E2Backend>,
    /// The supervisor of the child, when the node runs in one (its link state gates
    /// readiness); the same object as `backend`.
    pub bridge: Option<Arc<BridgeBackend>>,
}

/// Why no backend started.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The emulated gNB's config is unusable.
    #[error("emulated gNB")]
    Emulator(#[source] EmulatorError),
    /// The FlexRIC config is unusable.
    #[error(transparent)]
    FlexricConfig(#[from] FlexricConfigError),
    /// FlexRIC's library failed or no E2 node came.
    #[cfg(feature = "flexric")]
    #[error("FlexRIC backend")]
    Flexric(#[source] super::flexric::FlexricError),
    /// FlexRIC is asked for in a build without it.
    #[error(
        "this maestro was built without FlexRIC; rebuild with \
         `cargo build --release --features flexric` against an installed FlexRIC (FLEXRIC_DIR)"
    )]
    FlexricNotBuilt,
    /// The supervised child could not be set up.
    #[error(transparent)]
    Bridge(#[from] BridgeError),
    /// The child's config could not be written as JSON.
    #[error("{0}")]
    ChildConfig(String),
    /// A child asked to bridge again.
    #[error(transparent)]
    NotInChild(#[from] NotABridgeChildNode),
}

/// Whether this build has the FlexRIC backend (feature `flexric`).
pub const FLEXRIC_BUILT: bool = cfg!(feature = "flexric");

/// Starts the backend `config` describes in `host`; returns once it runs (a bridge: once its
/// child is being started; its link is down until the child's hello).
pub async fn start(config: &E2Config, host: Host<'_>) -> Result<StartedE2, StartError> {
    match (config, host) {
        (E2Config::Emulated(emulator), _) => {
            let gnb = EmulatedGnb::start(emulator.clone()).map_err(StartError::Emulator)?;
            Ok(in_process(gnb))
        }
        (E2Config::Flexric(flexric), Host::BridgeChild) => {
            start_flexric(flexric).await.map(in_process)
        }
        (E2Config::Flexric(flexric), Host::Xapp { state_dir }) => {
            flexric.validate()?;
            let spec = ChildSpec {
                node: NodeKind::Flexric,
                config_path: child_config_path(state_dir, NodeKind::Flexric),
                config: to_json(flexric)?,
                cell: flexric.cell.clone(),
                slices: flexric.slices.iter().map(|s| s.member.clone()).collect(),
                report_period: Duration::from_millis(flexric.report_period_ms),
            };
            bridged(spec, BridgeOptions::default())
        }
        (E2Config::Bridge { emulator, options }, Host::Xapp { state_dir }) => {
            emulator.validate().map_err(StartError::Emulator)?;
            // Many cells: the child's hello lists them, reports carry their cell and each
            // control names its cell (the bridge protocol's `cells` and `cell_id`).
            emulator.cell_configs().map_err(StartError::Emulator)?;
            let spec = ChildSpec {
                node: NodeKind::Emulator,
                config_path: child_config_path(state_dir, NodeKind::Emulator),
                config: to_json(emulator)?,
                cell: emulator.cell.clone(),
                slices: emulator.slices.iter().map(|s| s.member.clone()).collect(),
                report_period: wall_period(emulator),
            };
            bridged(spec, options.clone())
        }
        (E2Config::Bridge { .. }, Host::BridgeChild) => {
            Err(NotABridgeChildNode(config.node()).into())
        }
    }
}

fn in_process(backend: Arc<dyn E2Backend>) -> StartedE2 {
    StartedE2 {
        backend,
        bridge: None,
    }
}

fn bridged(spec: ChildSpec, options: BridgeOptions) -> Result<StartedE2, StartError> {
    let bridge = BridgeBackend::start(spec, options)?;
    Ok(StartedE2 {
        backend: bridge.clone(),
        bridge: Some(bridge),
    })
}

fn to_json<T: serde::Serialize>(config: &T) -> Result<serde_json::Value, StartError> {
    serde_json::to_value(config).map_err(|e| StartError::ChildConfig(e.to_string()))
}

#[cfg(feature = "flexric")]
async fn start_flexric(config: &FlexricConfig) -> Result<Arc<dyn E2Backend>, StartError> {
    let backend = super::flexric::FlexricBackend::start(config.clone())
        .await
        .map_err(StartError::Flexric)?;
    Ok(Arc::new(backend))
}

#[cfg(not(feature = "flexric"))]
async fn start_flexric(config: &FlexricConfig) -> Result<Arc<dyn E2Backend>, StartError> {
    config.validate()?;
    Err(StartError::FlexricNotBuilt)
}

/// Wall-clock length of the emulated gNB's report period.
fn wall_period(emulator: &EmulatorConfig) -> Duration {
    let period = Duration::from_millis(emulator.period_ms);
    match emulator.clock {
        Clock::Realtime => period,
        Clock::Simulated { speedup } if speedup > 0.0 => period.div_f64(speedup),
        Clock::Simulated { .. } => period,
    }
}

/// Where the xApp writes the config file of the node its child hosts.
fn child_config_path(state_dir: &Path, node: NodeKind) -> PathBuf {
    state_dir.join(format!("e2-bridge-{node}.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_emulated_gnb_runs_in_process_in_either_host() {
        let dir = tempfile::tempdir().unwrap();
        let config = E2Config::Emulated(EmulatorConfig::default());
        for host in [
            Host::Xapp {
                state_dir: dir.path(),
            },
            Host::BridgeChild,
        ] {
            let started = start(&config, host).await.unwrap();
            assert!(started.bridge.is_none());
            assert_eq!(started.backend.name(), "emulated-gnb");
        }
    }

    #[tokio::test]
    async fn many_emulated_cells_run_in_process_and_through_the_bridge() {
        let dir = tempfile::tempdir().unwrap();
        let cells = EmulatorConfig {
            cell_count: Some(3),
            ..Default::default()
        };
        let started = start(
            &E2Config::Emulated(cells.clone()),
            Host::Xapp {
                state_dir: dir.path(),
            },
        )
        .await
        .unwrap();
        assert_eq!(started.backend.cell_ids().len(), 3);
        // A bad many-cell config is refused before any child starts.
        let bad = E2Config::Bridge {
            emulator: EmulatorConfig {
                cell_count: Some(0),
                ..Default::default()
            },
            options: BridgeOptions {
                program: Some(PathBuf::from("/bin/false")),
                ..BridgeOptions::default()
            },
        };
        let Err(StartError::Emulator(err)) = start(
            &bad,
            Host::Xapp {
                state_dir: dir.path(),
            },
        )
        .await
        else {
            panic!("the bridge took zero cells");
        };
        assert!(err.to_string().contains("cell_count"), "{err}");
    }

    #[tokio::test]
    async fn the_xapp_bridges_the_emulated_gnb_through_a_child() {
        let dir = tempfile::tempdir().unwrap();
        let config = E2Config::Bridge {
            emulator: EmulatorConfig::default(),
            options: BridgeOptions {
                program: Some(PathBuf::from("/bin/false")),
                ..BridgeOptions::default()
            },
        };
        let started = start(
            &config,
            Host::Xapp {
                state_dir: dir.path(),
            },
        )
        .await
        .unwrap();
        let bridge = started.bridge.expect("a supervised child");
        assert_eq!(started.backend.name(), "e2-bridge:emulator");
        let written = child_config_path(dir.path(), NodeKind::Emulator);
        let text = std::fs::read_to_string(written).unwrap();
        let emulator: EmulatorConfig = serde_json::from_str(&text).unwrap();
        assert_eq!(emulator, EmulatorConfig::default());
        bridge.shutdown().await;
    }

    #[tokio::test]
    async fn the_xapp_bridges_flexric_after_checking_its_config() {
        let dir = tempfile::tempdir().unwrap();
        let host = Host::Xapp {
            state_dir: dir.path(),
        };
        let bad = E2Config::Flexric(FlexricConfig {
            report_period_ms: 3,
            ..FlexricConfig::default()
        });
        let err = start(&bad, host).await.err().unwrap();
        assert!(matches!(err, StartError::FlexricConfig(_)), "{err}");
        assert!(!child_config_path(dir.path(), NodeKind::Flexric).exists());
    }

    #[tokio::test]
    async fn a_child_does_not_bridge_again() {
        let config = E2Config::Bridge {
            emulator: EmulatorConfig::default(),
            options: BridgeOptions::default(),
        };
        let err = start(&config, Host::BridgeChild).await.err().unwrap();
        assert!(matches!(err, StartError::NotInChild(_)), "{err}");
    }

    #[cfg(not(feature = "flexric"))]
    #[tokio::test]
    async fn a_child_without_flexric_says_so() {
        let config = E2Config::Flexric(FlexricConfig::default());
        let err = start(&config, Host::BridgeChild).await.err().unwrap();
        assert!(matches!(err, StartError::FlexricNotBuilt), "{err}");
    }
}

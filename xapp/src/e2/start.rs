//! [`start`]: the one place an E2 backend is chosen and started from an [`E2Config`], in
//! this process or in a supervised `maestro e2-bridge` child, for the xApp and for the child
//! itself ([`Host`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use maestro_api::shard::{owner_of, Shard};

use super::bridge::supervisor::BridgeError;
use super::bridge::{BridgeBackend, BridgeOptions, ChildSpec};
use super::config::E2Config;
use super::emulator::{CellSpec, Clock, EmulatedGnb, EmulatorConfig, EmulatorError};
use super::flexric_config::{FlexricConfig, FlexricConfigError};
use super::idle::IdleFill;
use super::node_kind::{NodeKind, NotABridgeChildNode};
use super::E2Backend;

/// The process a backend is started in.
#[derive(Debug, Clone, Copy)]
pub enum Host<'a> {
    /// The xApp: the emulated gNB runs in process; FlexRIC and the bridged emulated gNB run
    /// in a supervised `e2-bridge` child, whose config file is written to `state_dir`. Only
    /// the cells `shard` owns are started ([`Shard::owns`]).
    Xapp {
        /// The xApp's state directory.
        state_dir: &'a Path,
        /// The xApp's shard of the RAN ([`Shard::WHOLE`]: every configured cell).
        shard: Shard,
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
    /// The shard does not own the cell of the one node configured for the FlexRIC backend.
    #[error(
        "shard {shard} does not own the cell {cell} of the configured FlexRIC node_id (shard \
         {owner} does): drop node_id to serve every node of this shard, or run unsharded"
    )]
    FlexricNotThisShard {
        /// This xApp's shard.
        shard: Shard,
        /// The configured cell of the node.
        cell: String,
        /// The shard that owns it.
        owner: Shard,
    },
    /// The bridged emulated gNB's shard owns none of the configured cells.
    #[error(
        "shard {shard} owns {owned} of the configured cells: the E2 bridge's child would have \
         nothing to run (an empty shard runs in process, --e2 emulator)"
    )]
    BridgeShard {
        /// This xApp's shard.
        shard: Shard,
        /// How many configured cells it owns.
        owned: usize,
    },
}

/// Whether this build has the FlexRIC backend (feature `flexric`).
pub const FLEXRIC_BUILT: bool = cfg!(feature = "flexric");

/// Starts the backend `config` describes in `host`; returns once it runs (a bridge: once its
/// child is being started; its link is down until the child's hello).
pub async fn start(config: &E2Config, host: Host<'_>) -> Result<StartedE2, StartError> {
    match (config, host) {
        (E2Config::Emulated(emulator), host) => {
            let shard = match host {
                Host::Xapp { shard, .. } => shard,
                Host::BridgeChild => Shard::WHOLE,
            };
            let gnb =
                EmulatedGnb::start_shard(emulator.clone(), shard).map_err(StartError::Emulator)?;
            // Only a node that may fall silent while connected needs its idle periods filled.
            Ok(if emulator.silent_without_ues {
                in_process(gnb, wall_period(emulator))
            } else {
                StartedE2 {
                    backend: gnb,
                    bridge: None,
                }
            })
        }
        (E2Config::Flexric(flexric), Host::BridgeChild) => {
            let period = Duration::from_millis(flexric.report_period_ms);
            start_flexric(flexric)
                .await
                .map(|backend| in_process(backend, period))
        }
        (E2Config::Flexric(flexric), Host::Xapp { state_dir, shard }) => {
            flexric.validate()?;
            // The child serves every node whose cell the shard owns; one configured node
            // outside the shard would leave it nothing to serve.
            if flexric.node_id.is_some() && !shard.owns(&flexric.cell_id) {
                return Err(StartError::FlexricNotThisShard {
                    shard,
                    cell: flexric.cell_id.clone(),
                    owner: Shard {
                        index: owner_of(&flexric.cell_id, shard.count),
                        count: shard.count,
                    },
                });
            }
            let flexric = &FlexricConfig {
                shard,
                ..flexric.clone()
            };
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
        (E2Config::Bridge { emulator, options }, Host::Xapp { state_dir, shard }) => {
            emulator.validate().map_err(StartError::Emulator)?;
            let mut owned = emulator.cell_configs().map_err(StartError::Emulator)?;
            owned.retain(|c| shard.owns(&c.cell_id));
            // Many cells: the child's hello lists them, reports carry their cell and each
            // control names its cell (the bridge protocol's `cells` and `cell_id`). A shard's
            // child runs only the cells the shard owns.
            let child = if shard.is_whole() {
                emulator.clone()
            } else if owned.is_empty() {
                return Err(StartError::BridgeShard { shard, owned: 0 });
            } else {
                EmulatorConfig {
                    cells: owned
                        .into_iter()
                        .map(|c| CellSpec {
                            cell_id: c.cell_id,
                            seed: Some(c.seed),
                            cqi: Some(c.cqi),
                            slices: Some(c.slices),
                        })
                        .collect(),
                    cell_count: None,
                    ..emulator.clone()
                }
            };
            let spec = ChildSpec {
                node: NodeKind::Emulator,
                config_path: child_config_path(state_dir, NodeKind::Emulator),
                config: to_json(&child)?,
                cell: child.cell.clone(),
                slices: child.slices.iter().map(|s| s.member.clone()).collect(),
                report_period: wall_period(emulator),
            };
            bridged(spec, options.clone())
        }
        (E2Config::Bridge { .. }, Host::BridgeChild) => {
            Err(NotABridgeChildNode(config.node()).into())
        }
    }
}

/// A backend in this process that may fall silent while connected, its idle listed cells
/// filled in ([`IdleFill`]): in a bridge child, before the parent's watchdog sees the silence.
fn in_process(backend: Arc<dyn E2Backend>, period: Duration) -> StartedE2 {
    StartedE2 {
        backend: IdleFill::wrap(backend, period),
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
                shard: Shard::WHOLE,
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
                shard: Shard::WHOLE,
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
                shard: Shard::WHOLE,
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
                shard: Shard::WHOLE,
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
            shard: Shard::WHOLE,
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
    async fn a_shard_not_owning_the_configured_flexric_node_refuses_to_drive_it() {
        let dir = tempfile::tempdir().unwrap();
        let flexric = FlexricConfig {
            node_id: Some("gnb-001-01-1".into()),
            ..FlexricConfig::default()
        };
        let owner = owner_of(&flexric.cell_id, 2);
        let host = Host::Xapp {
            state_dir: dir.path(),
            shard: Shard::new(1 - owner, 2).unwrap(),
        };
        let err = start(&E2Config::Flexric(flexric), host)
            .await
            .err()
            .unwrap();
        assert!(
            matches!(err, StartError::FlexricNotThisShard { .. }),
            "{err}"
        );
        assert!(
            err.to_string().contains(&format!("shard {owner}/2 does")),
            "{err}"
        );
    }

    #[tokio::test]
    async fn the_bridge_carries_the_cells_its_shard_owns_or_says_why_not() {
        let dir = tempfile::tempdir().unwrap();
        let nine = EmulatorConfig {
            cell_count: Some(9),
            ..EmulatorConfig::default()
        };
        let bridged = E2Config::Bridge {
            emulator: nine.clone(),
            options: BridgeOptions {
                program: Some(PathBuf::from("/bin/false")),
                ..BridgeOptions::default()
            },
        };
        let cells: Vec<String> = nine
            .cell_configs()
            .unwrap()
            .into_iter()
            .map(|c| c.cell_id)
            .collect();
        // A shard's child runs exactly the cells the shard owns.
        let shard = Shard::new(1, 3).unwrap();
        let mine: Vec<String> = cells.iter().filter(|c| shard.owns(c)).cloned().collect();
        assert!(mine.len() > 1, "shard 1/3 owns several of {cells:?}");
        let host = Host::Xapp {
            state_dir: dir.path(),
            shard,
        };
        let started = start(&bridged, host).await.unwrap();
        let text =
            std::fs::read_to_string(child_config_path(dir.path(), NodeKind::Emulator)).unwrap();
        let child: EmulatorConfig = serde_json::from_str(&text).unwrap();
        let run: Vec<String> = child
            .cell_configs()
            .unwrap()
            .into_iter()
            .map(|c| c.cell_id)
            .collect();
        assert_eq!(run, mine);
        started.bridge.unwrap().shutdown().await;
        // A shard owning none of the cells: nothing for a child to run.
        let one_cell = E2Config::Bridge {
            emulator: EmulatorConfig::default(),
            options: BridgeOptions {
                program: Some(PathBuf::from("/bin/false")),
                ..BridgeOptions::default()
            },
        };
        let empty = Shard::new(1 - owner_of("001-01-0000000001", 2), 2).unwrap();
        let none = Host::Xapp {
            state_dir: dir.path(),
            shard: empty,
        };
        let err = start(&one_cell, none).await.err().unwrap();
        assert!(
            matches!(err, StartError::BridgeShard { owned: 0, .. }),
            "{err}"
        );
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

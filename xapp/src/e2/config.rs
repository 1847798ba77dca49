//! [`E2Config`]: which E2 node the xApp drives and its settings (the `e2` section of the
//! xApp config), switched to another [`NodeKind`] by [`E2Config::with_node`] (`--e2`), or
//! read for a node an `e2-bridge` child hosts ([`E2Config::read_for_bridge_child`]).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::bridge::BridgeOptions;
use super::emulator::EmulatorConfig;
use super::flexric_config::FlexricConfig;
use super::node_kind::{NodeKind, NotABridgeChildNode};

/// Which E2 backend drives the RAN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// Why an `e2-bridge` child has no node config.
#[derive(Debug, thiserror::Error)]
pub enum BridgeChildConfigError {
    /// The node is not one a child hosts.
    #[error(transparent)]
    Node(#[from] NotABridgeChildNode),
    /// The file cannot be read.
    #[error("cannot read config file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not the node's config.
    #[error("{path} is not {what}")]
    Json {
        /// The file.
        path: PathBuf,
        /// What it should be, e.g. "an emulator config".
        what: &'static str,
        /// Why.
        source: serde_json::Error,
    },
}

impl E2Config {
    /// The kind of node this config drives.
    pub const fn node(&self) -> NodeKind {
        match self {
            Self::Emulated(_) => NodeKind::Emulator,
            Self::Flexric(_) => NodeKind::Flexric,
            Self::Bridge { .. } => NodeKind::BridgeEmulator,
        }
    }

    /// This config switched to drive `node` (`maestro xapp --e2`): unchanged when it already
    /// does; between the in-process and the bridged emulated gNB the emulator's settings
    /// are kept (the bridge's supervision knobs are the defaults when it is new); anything
    /// else starts from the defaults of `node`.
    pub fn with_node(self, node: NodeKind) -> Self {
        match (node, self) {
            (NodeKind::Emulator, Self::Emulated(emulator))
            | (NodeKind::Emulator, Self::Bridge { emulator, .. }) => Self::Emulated(emulator),
            (NodeKind::Emulator, Self::Flexric(_)) => Self::Emulated(EmulatorConfig::default()),
            (NodeKind::Flexric, Self::Flexric(flexric)) => Self::Flexric(flexric),
            (NodeKind::Flexric, _) => Self::Flexric(FlexricConfig::default()),
            (NodeKind::BridgeEmulator, bridge @ Self::Bridge { .. }) => bridge,
            (NodeKind::BridgeEmulator, Self::Emulated(emulator)) => Self::Bridge {
                emulator,
                options: BridgeOptions::default(),
            },
            (NodeKind::BridgeEmulator, Self::Flexric(_)) => Self::Bridge {
                emulator: EmulatorConfig::default(),
                options: BridgeOptions::default(),
            },
        }
    }

    /// The emulated gNB's settings, in process or bridged (`None` for FlexRIC).
    pub fn emulator_mut(&mut self) -> Option<&mut EmulatorConfig> {
        match self {
            Self::Emulated(emulator) | Self::Bridge { emulator, .. } => Some(emulator),
            Self::Flexric(_) => None,
        }
    }

    /// The cells of the configured RAN (every cell, whatever the shard): the emulated gNB's
    /// configured cells, or the FlexRIC node's `cell_id`; empty when the config is unusable
    /// (starting it says why).
    pub fn ran_cells(&self) -> Vec<String> {
        match self {
            Self::Emulated(emulator) | Self::Bridge { emulator, .. } => emulator
                .cell_configs()
                .map(|cells| cells.into_iter().map(|c| c.cell_id).collect())
                .unwrap_or_default(),
            Self::Flexric(flexric) => vec![flexric.cell_id.clone()],
        }
    }

    /// The config of the node `maestro e2-bridge --node NODE --config PATH` hosts: `path`
    /// holds an emulator config (`emulator`) or a FlexRIC config (`flexric`), as
    /// [`BridgeBackend`](super::bridge::BridgeBackend) wrote it.
    pub fn read_for_bridge_child(
        node: NodeKind,
        path: &Path,
    ) -> Result<Self, BridgeChildConfigError> {
        let node = node.bridge_child()?;
        let text =
            std::fs::read_to_string(path).map_err(|source| BridgeChildConfigError::Read {
                path: path.to_path_buf(),
                source,
            })?;
        let json = |what, source| BridgeChildConfigError::Json {
            path: path.to_path_buf(),
            what,
            source,
        };
        Ok(match node {
            NodeKind::Flexric => {
                Self::Flexric(serde_json::from_str(&text).map_err(|e| json("a FlexRIC config", e))?)
            }
            NodeKind::Emulator | NodeKind::BridgeEmulator => Self::Emulated(
                serde_json::from_str(&text).map_err(|e| json("an emulator config", e))?,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::e2::emulator::Clock;

    /// An emulator config that is not the default one.
    fn emulator() -> EmulatorConfig {
        EmulatorConfig {
            seed: 7,
            period_ms: 250,
            clock: Clock::Simulated { speedup: 5.0 },
            ..EmulatorConfig::default()
        }
    }

    fn flexric() -> FlexricConfig {
        FlexricConfig {
            report_period_ms: 1000,
            ..FlexricConfig::default()
        }
    }

    fn options() -> BridgeOptions {
        BridgeOptions {
            control_timeout_ms: 42,
            ..BridgeOptions::default()
        }
    }

    fn configs() -> [E2Config; 3] {
        [
            E2Config::Emulated(emulator()),
            E2Config::Flexric(flexric()),
            E2Config::Bridge {
                emulator: emulator(),
                options: options(),
            },
        ]
    }

    #[test]
    fn the_node_of_each_config() {
        let [emulated, flexric, bridge] = configs();
        assert_eq!(emulated.node(), NodeKind::Emulator);
        assert_eq!(flexric.node(), NodeKind::Flexric);
        assert_eq!(bridge.node(), NodeKind::BridgeEmulator);
    }

    /// The 3 x 3 cases of `--e2 NODE` over a configured backend.
    #[test]
    fn with_node_keeps_what_the_new_node_can_use() {
        let emulated = E2Config::Emulated(emulator());
        let emulated_default = E2Config::Emulated(EmulatorConfig::default());
        let flexric_configured = E2Config::Flexric(flexric());
        let flexric_default = E2Config::Flexric(FlexricConfig::default());
        let bridge_configured = E2Config::Bridge {
            emulator: emulator(),
            options: options(),
        };
        let bridge_new = E2Config::Bridge {
            emulator: emulator(),
            options: BridgeOptions::default(),
        };
        let bridge_default = E2Config::Bridge {
            emulator: EmulatorConfig::default(),
            options: BridgeOptions::default(),
        };
        let [emu, flx, brg] = configs();
        let cases = [
            (emu.clone(), NodeKind::Emulator, &emulated),
            (emu.clone(), NodeKind::Flexric, &flexric_default),
            (emu, NodeKind::BridgeEmulator, &bridge_new),
            (flx.clone(), NodeKind::Emulator, &emulated_default),
            (flx.clone(), NodeKind::Flexric, &flexric_configured),
            (flx, NodeKind::BridgeEmulator, &bridge_default),
            (brg.clone(), NodeKind::Emulator, &emulated),
            (brg.clone(), NodeKind::Flexric, &flexric_default),
            (brg, NodeKind::BridgeEmulator, &bridge_configured),
        ];
        for (config, node, expected) in cases {
            let from = config.node();
            let switched = config.with_node(node);
            assert_eq!(switched.node(), node, "{from} -> {node}");
            assert_eq!(&switched, expected, "{from} -> {node}");
        }
    }

    #[test]
    fn only_the_emulated_gnb_has_emulator_settings() {
        for mut config in configs() {
            let has = config.emulator_mut().is_some();
            assert_eq!(has, config.node() != NodeKind::Flexric);
        }
    }

    #[test]
    fn a_bridge_child_reads_its_node_config() {
        let dir = tempfile::tempdir().unwrap();
        let emu = dir.path().join("emu.json");
        std::fs::write(&emu, serde_json::to_string(&emulator()).unwrap()).unwrap();
        let read = E2Config::read_for_bridge_child(NodeKind::Emulator, &emu).unwrap();
        assert_eq!(read, E2Config::Emulated(emulator()));
        let flx = dir.path().join("flexric.json");
        std::fs::write(&flx, serde_json::to_string(&flexric()).unwrap()).unwrap();
        let read = E2Config::read_for_bridge_child(NodeKind::Flexric, &flx).unwrap();
        assert_eq!(read, E2Config::Flexric(flexric()));

        let err = E2Config::read_for_bridge_child(NodeKind::BridgeEmulator, &emu).unwrap_err();
        assert!(matches!(err, BridgeChildConfigError::Node(_)), "{err}");
        let err = E2Config::read_for_bridge_child(NodeKind::Emulator, &flx).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("{} is not an emulator config", flx.display())
        );
        let missing = dir.path().join("missing.json");
        let err = E2Config::read_for_bridge_child(NodeKind::Flexric, &missing).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("cannot read config file {}", missing.display())
        );
    }
}

//! [`NodeKind`]: the one name of each E2 node the xApp can control, as `maestro xapp --e2`,
//! `maestro e2-bridge --node` and [`E2Config::node`](super::E2Config::node) spell it.

use std::fmt;

/// Which E2 node the xApp controls. The docs of the variants are `maestro xapp --e2`'s help.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum NodeKind {
    /// The built-in emulated gNB (no RAN needed).
    Emulator,
    /// A FlexRIC near-RT RIC and its E2 nodes, through a supervised `maestro e2-bridge`
    /// child (needs a build with `--features flexric`).
    Flexric,
    /// The built-in emulated gNB in a supervised `maestro e2-bridge` child (the process
    /// isolation of the FlexRIC set-up, without FlexRIC).
    BridgeEmulator,
}

/// A node an `e2-bridge` child cannot run itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an e2-bridge child runs `emulator` or `flexric`, not `{0}`")]
pub struct NotABridgeChildNode(pub NodeKind);

impl NodeKind {
    /// The kebab-case name (`--e2`, `--node`, JSON).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Emulator => "emulator",
            Self::Flexric => "flexric",
            Self::BridgeEmulator => "bridge-emulator",
        }
    }

    /// `self` if an `e2-bridge` child can host it (`--node emulator|flexric`); a child does
    /// not start another bridge, so `bridge-emulator` is refused.
    pub const fn bridge_child(self) -> Result<Self, NotABridgeChildNode> {
        match self {
            Self::Emulator | Self::Flexric => Ok(self),
            Self::BridgeEmulator => Err(NotABridgeChildNode(self)),
        }
    }
}

impl fmt::Display for NodeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum;

    use super::*;

    #[test]
    fn one_name_for_the_cli_json_and_display() {
        for kind in NodeKind::value_variants() {
            let name = kind.as_str();
            assert_eq!(
                kind.to_possible_value().map(|v| v.get_name().to_owned()),
                Some(name.to_owned())
            );
            assert_eq!(kind.to_string(), name);
            assert_eq!(serde_json::to_value(kind).unwrap(), serde_json::json!(name));
            assert_eq!(
                serde_json::from_value::<NodeKind>(serde_json::json!(name)).unwrap(),
                *kind
            );
            assert_eq!(NodeKind::from_str(name, false), Ok(*kind));
        }
    }

    #[test]
    fn a_bridge_child_hosts_the_emulator_or_flexric_only() {
        assert_eq!(NodeKind::Emulator.bridge_child(), Ok(NodeKind::Emulator));
        assert_eq!(NodeKind::Flexric.bridge_child(), Ok(NodeKind::Flexric));
        let refused = NodeKind::BridgeEmulator.bridge_child().unwrap_err();
        assert_eq!(
            refused.to_string(),
            "an e2-bridge child runs `emulator` or `flexric`, not `bridge-emulator`"
        );
    }
}

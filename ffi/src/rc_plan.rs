//! Whether an E2 node takes the slice PRB quota control over E2SM-RC, decided without FlexRIC
//! (plain Rust, built and tested with or without the `flexric` feature).
//!
//! The quota is a CONTROL of style 2 ("Radio Resource Allocation Control", E2SM-RC clause
//! 7.6.3) with action 6 ("Slice-level PRB quota", clause 8.4.3.6). A node lists the CONTROL
//! styles and actions it takes in its RAN function definition (clause 9.2.2.5, RAN Function
//! Definition for CONTROL). Upstream OAI lists style 1 action 2 (QoS flow mapping) only, and
//! its handler aborts the gNB on anything else (`ran_func_rc.c:604`, seen live: docs/TESTBED.md
//! F4), so a control the node did not advertise is never sent.

/// CONTROL style of the slice PRB quota (E2SM-RC clause 7.6.3).
pub const SLICE_QUOTA_STYLE: u32 = 2;
/// CONTROL action of the slice PRB quota (E2SM-RC clause 8.4.3.6).
pub const SLICE_QUOTA_ACTION: u16 = 6;

/// What a node's RC RAN function definition says about CONTROL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RcAdvertised {
    /// This FlexRIC hands out raw definitions only: nothing is known.
    NotDecoded,
    /// The (style, action) pairs listed under CONTROL (empty: no CONTROL part).
    Actions(Vec<(u32, u16)>),
}

impl RcAdvertised {
    /// Parses the C shim's text form (`mf_rc_control_actions`): one `style<TAB>action` per
    /// line; malformed lines are skipped.
    pub fn parse_lines(text: &str) -> Self {
        Self::Actions(
            text.lines()
                .filter_map(|l| {
                    let (style, action) = l.split_once('\t')?;
                    Some((style.trim().parse().ok()?, action.trim().parse().ok()?))
                })
                .collect(),
        )
    }

    /// Whether the slice PRB quota may be sent: yes when advertised, or when nothing is
    /// known (a raw definition: as before this check); no when the definition lists CONTROL
    /// without it.
    pub fn takes_slice_quota(&self) -> bool {
        match self {
            Self::NotDecoded => true,
            Self::Actions(a) => a.contains(&(SLICE_QUOTA_STYLE, SLICE_QUOTA_ACTION)),
        }
    }

    /// For a refusal: what the node does list, e.g. `style 1 action 2`.
    pub fn listed(&self) -> String {
        match self {
            Self::NotDecoded => "an undecoded definition".into(),
            Self::Actions(a) if a.is_empty() => "no CONTROL style".into(),
            Self::Actions(a) => a
                .iter()
                .map(|(s, act)| format!("style {s} action {act}"))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oai_lists_qos_flow_mapping_only_and_is_not_sent_the_quota() {
        // Upstream OAI's RC definition: CONTROL style 1 with action 2 only.
        let oai = RcAdvertised::parse_lines("1\t2\n");
        assert_eq!(oai, RcAdvertised::Actions(vec![(1, 2)]));
        assert!(!oai.takes_slice_quota());
        assert_eq!(oai.listed(), "style 1 action 2");
    }

    #[test]
    fn a_node_listing_style_2_action_6_takes_it_and_unknown_stays_allowed() {
        let srsran = RcAdvertised::parse_lines("1\t2\n2\t6\nbad line\n2\tx\n");
        assert_eq!(srsran, RcAdvertised::Actions(vec![(1, 2), (2, 6)]));
        assert!(srsran.takes_slice_quota());
        assert!(RcAdvertised::NotDecoded.takes_slice_quota());
        let none = RcAdvertised::parse_lines("");
        assert!(!none.takes_slice_quota());
        assert_eq!(none.listed(), "no CONTROL style");
    }
}

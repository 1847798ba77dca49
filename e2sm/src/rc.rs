//! E2SM-RC control "Slice-level PRB quota" (O-RAN E2SM-RC v1.03 clause 7.6.3.1, control
//! style 2 "Radio Resource Allocation Control", action 6; RAN parameters of clause 8.4.3.6:
//! RRM Policy Ratio List -> RRM Policy Ratio Group -> {RRM Policy (member list of PLMN,
//! S-NSSAI), Min PRB Policy Ratio, Max PRB Policy Ratio, Dedicated PRB Policy Ratio}).
//!
//! The ratios follow TS 28.541 clause 5.3.43 (RRMPolicyRatio): percentages of the cell's PRBs
//! with `100 >= max >= min >= dedicated >= 0`.

use serde::{Deserialize, Serialize};

/// E2SM-RC control style "Radio Resource Allocation Control".
pub const CONTROL_STYLE_RADIO_RESOURCE_ALLOCATION: u8 = 2;
/// E2SM-RC control action "Slice-level PRB quota" of style 2.
pub const CONTROL_ACTION_SLICE_PRB_QUOTA: u8 = 6;

/// An RRM policy member: PLMN identity and S-NSSAI (TS 23.003 clause 28.4.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RrmPolicyMember {
    /// Mobile country code, 3 digits.
    pub mcc: String,
    /// Mobile network code, 2 or 3 digits.
    pub mnc: String,
    /// Slice/Service Type.
    pub sst: u8,
    /// Slice Differentiator (24 bits), when present.
    pub sd: Option<u32>,
}

/// Why a PRB ratio group is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuotaError {
    /// The ordering `100 >= max >= min >= dedicated >= 0` of TS 28.541 is broken.
    #[error(
        "PRB ratios must satisfy 100 >= max >= min >= dedicated >= 0 \
         (TS 28.541 clause 5.3.43), got max {max}, min {min}, dedicated {dedicated}"
    )]
    RatioOrder {
        /// Max PRB policy ratio.
        max: u8,
        /// Min PRB policy ratio.
        min: u8,
        /// Dedicated PRB policy ratio.
        dedicated: u8,
    },
}

/// One RRM Policy Ratio Group: a slice and its PRB ratios (percent of the cell's PRBs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RrmPolicyRatioGroup {
    /// The slice.
    pub member: RrmPolicyMember,
    /// Min PRB Policy Ratio: PRBs the slice is prioritised for, %.
    pub min_prb_ratio: u8,
    /// Max PRB Policy Ratio: PRBs the slice may use at most, %.
    pub max_prb_ratio: u8,
    /// Dedicated PRB Policy Ratio: PRBs reserved for the slice even when idle, %.
    pub dedicated_prb_ratio: u8,
}

impl RrmPolicyRatioGroup {
    /// A group, checked against the ratio ordering.
    pub fn new(
        member: RrmPolicyMember,
        min_prb_ratio: u8,
        max_prb_ratio: u8,
        dedicated_prb_ratio: u8,
    ) -> Result<Self, QuotaError> {
        let g = Self {
            member,
            min_prb_ratio,
            max_prb_ratio,
            dedicated_prb_ratio,
        };
        g.validate()?;
        Ok(g)
    }

    /// Checks `100 >= max >= min >= dedicated >= 0`.
    pub fn validate(&self) -> Result<(), QuotaError> {
        let (max, min, dedicated) = (
            self.max_prb_ratio,
            self.min_prb_ratio,
            self.dedicated_prb_ratio,
        );
        if max <= 100 && max >= min && min >= dedicated {
            Ok(())
        } else {
            Err(QuotaError::RatioOrder {
                max,
                min,
                dedicated,
            })
        }
    }
}

/// The control message: the RRM Policy Ratio List for one cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlicePrbQuotaControl {
    /// One group per slice.
    pub groups: Vec<RrmPolicyRatioGroup>,
}

impl SlicePrbQuotaControl {
    /// Checks every group.
    pub fn validate(&self) -> Result<(), QuotaError> {
        self.groups
            .iter()
            .try_for_each(RrmPolicyRatioGroup::validate)
    }
}

/// Outcome of a control request (E2AP RIC Control Acknowledge / Failure).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ControlOutcome {
    /// The E2 node applied the control.
    Acknowledged,
    /// The E2 node refused it, with its cause.
    Failed {
        /// Cause as reported by the node.
        cause: String,
    },
}

/// Converts a PRB count to the smallest whole percentage of `n_prb` that still grants at least
/// those PRBs (`floor(ratio * n_prb / 100) >= prbs`), capped at 100.
pub fn ratio_for_prbs(prbs: u16, n_prb: u16) -> u8 {
    if n_prb == 0 || prbs == 0 {
        return 0;
    }
    let prbs = u32::from(prbs.min(n_prb));
    let n = u32::from(n_prb);
    // smallest r with floor(r * n / 100) >= prbs  <=>  r * n >= 100 * prbs
    let r = (100 * prbs).div_ceil(n);
    r.min(100) as u8
}

/// PRBs granted by a ratio of `n_prb`: `floor(ratio * n_prb / 100)`.
pub fn prbs_for_ratio(ratio: u8, n_prb: u16) -> u16 {
    ((u32::from(ratio.min(100)) * u32::from(n_prb)) / 100) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member() -> RrmPolicyMember {
        RrmPolicyMember {
            mcc: "001".into(),
            mnc: "01".into(),
            sst: 1,
            sd: Some(1),
        }
    }

    #[test]
    fn ratio_order_is_enforced() {
        assert!(RrmPolicyRatioGroup::new(member(), 30, 40, 10).is_ok());
        assert_eq!(
            RrmPolicyRatioGroup::new(member(), 50, 40, 10),
            Err(QuotaError::RatioOrder {
                max: 40,
                min: 50,
                dedicated: 10
            })
        );
        assert!(RrmPolicyRatioGroup::new(member(), 0, 101, 0).is_err());
        assert!(RrmPolicyRatioGroup::new(member(), 5, 10, 6).is_err());
    }

    #[test]
    fn ratio_round_trip_never_grants_fewer_prbs() {
        for n_prb in [24u16, 51, 106, 273] {
            for prbs in 0..=n_prb {
                let r = ratio_for_prbs(prbs, n_prb);
                assert!(prbs_for_ratio(r, n_prb) >= prbs, "{prbs}/{n_prb} -> {r}%");
                if r > 0 {
                    assert!(
                        prbs_for_ratio(r - 1, n_prb) < prbs,
                        "{prbs}/{n_prb} not minimal"
                    );
                }
            }
        }
        assert_eq!(ratio_for_prbs(53, 106), 50);
        assert_eq!(ratio_for_prbs(54, 106), 51);
    }
}

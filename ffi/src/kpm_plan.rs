//! Which E2SM-KPM subscription the FlexRIC backend may send to an E2 node, decided without
//! FlexRIC (plain Rust, built and tested with or without the `flexric` feature).
//!
//! A KPM subscription must never take a node down. FlexRIC's emulated agents `assert` on
//! matching conditions they do not expect, and FlexRIC's own encoders `assert` on test
//! condition types their E2SM-KPM version lacks. So the subscription is chosen from:
//!
//! - the E2SM-KPM version FlexRIC was built with: v2.01's `TestCond-Type` has neither `sNSSAI`
//!   nor `cQI` (only gBR, aMBR, isStat, isCatM, rSRP, rSRQ), and FlexRIC's v2.01 encoder aborts
//!   on both, so no condition-based (style 4) subscription exists there; v2.03 and v3.00
//!   have `sNSSAI` (E2SM-KPM v3.00 clause 8.3.22);
//! - what the node's RAN function definition advertises (E2SM-KPM clause 8.2.2.1, RIC REPORT
//!   Style List), when FlexRIC hands it out decoded: REPORT style 4 ("common condition-based,
//!   UE-level", clause 7.4.5) with action definition format 4 must be listed, and only the
//!   measurements that style lists are asked for;
//! - how that FlexRIC generation encodes an S-NSSAI test value ([`SnssaiEncoding`]): the
//!   condition mirrors FlexRIC's own example xApp (`examples/xApp/c/monitor/xapp_kpm_moni.c`)
//!   of the same generation, S-NSSAI EQUAL with the SST as value, which its emulated agent
//!   accepts.

/// The E2SM-KPM version FlexRIC was built with (`-DKPM_VERSION=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KpmVersion {
    /// E2SM-KPM v2.01 (`KPM_V2_01`).
    V2_01,
    /// E2SM-KPM v2.03 (`KPM_V2_03`, FlexRIC's default).
    V2_03,
    /// E2SM-KPM v3.00 (`KPM_V3_00`).
    V3_00,
}

impl KpmVersion {
    /// From FlexRIC's CMake value (`KPM_V2_01`, `KPM_V2_03`, `KPM_V3_00`).
    pub fn from_flexric_macro(value: &str) -> Option<Self> {
        match value {
            "KPM_V2_01" => Some(Self::V2_01),
            "KPM_V2_03" => Some(Self::V2_03),
            "KPM_V3_00" => Some(Self::V3_00),
            _ => None,
        }
    }

    /// Whether `TestCond-Type` has `sNSSAI` (E2SM-KPM v2.03 / v3.00 clause 8.3.22; absent
    /// from v2.01).
    pub fn has_snssai_test(self) -> bool {
        !matches!(self, Self::V2_01)
    }
}

/// How the S-NSSAI test value is encoded (`TestCond-Value`, E2SM-KPM clause 8.3.23).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnssaiEncoding {
    /// `valueOctS`: the SST as one octet (TS 38.413 clause 9.3.1.24 S-NSSAI: SST is an OCTET
    /// STRING of size 1). FlexRIC `dev` (2024, decoded RAN functions): its emulated agent
    /// asserts this type, and its example sends it.
    OctetString,
    /// `valueInt`: the SST as an INTEGER. FlexRIC `master` 1f04cc55 (2023-12, raw RAN
    /// functions): its emulated agent reads the value as an integer, and its example sends
    /// it.
    Integer,
}

/// One REPORT style a node advertises (E2SM-KPM clause 8.2.2.1, `RIC-ReportStyle-Item`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportStyle {
    /// RIC Style Type (clause 8.3.3), from 1.
    pub style_type: u32,
    /// Action definition format type (clause 8.3.5), from 1.
    pub action_format: u32,
    /// Measurement names of its `MeasurementInfo-Action-List` (clause 8.3.9).
    pub measurements: Vec<String>,
}

impl ReportStyle {
    /// Parses the C shim's text form (`mf_kpm_report_styles`): one style per line,
    /// `<style>\t<format>\t<name>\t...`. Lines that do not start with two numbers are
    /// skipped.
    pub fn parse_lines(text: &str) -> Vec<Self> {
        text.lines()
            .filter_map(|line| {
                let mut fields = line.split('\t');
                let style_type = fields.next()?.trim().parse().ok()?;
                let action_format = fields.next()?.trim().parse().ok()?;
                let measurements = fields
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned)
                    .collect();
                Some(Self {
                    style_type,
                    action_format,
                    measurements,
                })
            })
            .collect()
    }
}

/// What is known of the node's KPM RAN function definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Advertised {
    /// Not decoded (FlexRIC hands out the raw ASN.1 only): the subscription is the one
    /// FlexRIC's example of that generation sends to any node.
    NotDecoded,
    /// The REPORT styles of the decoded definition.
    Styles(Vec<ReportStyle>),
}

/// Test condition type (`TestCond-Type`, E2SM-KPM clause 8.3.22).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestType {
    /// `sNSSAI`.
    SNssai,
}

/// Test condition expression (`TestCond-Expression`, E2SM-KPM clause 8.3.22).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestExpression {
    /// `equal`.
    Equal,
}

/// Test condition value (`TestCond-Value`, E2SM-KPM clause 8.3.23).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestValue {
    /// `valueInt`.
    Integer(i64),
    /// `valueOctS`.
    Octets(Vec<u8>),
}

/// The matching condition of action definition format 4 (`MatchingUeCondPerSubItem`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchingCondition {
    /// Test type.
    pub test: TestType,
    /// Expression.
    pub expression: TestExpression,
    /// Value.
    pub value: TestValue,
}

/// A KPM REPORT style 4 subscription: action definition format 4 (E2SM-KPM clause
/// 8.2.1.2.4) with one matching condition, then format 1 with `measurements`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KpmRequest {
    /// The UE matching condition.
    pub condition: MatchingCondition,
    /// Measurement names (TS 28.552), in the order the indication reports them.
    pub measurements: Vec<String>,
}

/// The decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KpmPlan {
    /// Subscribe with this request.
    Subscribe(KpmRequest),
    /// Do not subscribe; why (logged).
    Skip(String),
}

/// REPORT style 4, "common condition-based, UE-level measurement" (E2SM-KPM clause 7.4.5).
pub const REPORT_STYLE_CONDITION_UE: u32 = 4;
/// Action definition format 4 (E2SM-KPM clause 8.2.1.2.4), the format of style 4.
pub const ACTION_FORMAT_4: u32 = 4;

/// Chooses the KPM subscription for a node (see the module doc): `version` FlexRIC was built
/// with, `encoding` of its S-NSSAI test value, what the node `advertised`, the `sst` of the
/// UEs to report (the first configured slice's) and the `wanted` measurement names.
pub fn plan_kpm(
    version: KpmVersion,
    encoding: SnssaiEncoding,
    advertised: &Advertised,
    sst: u8,
    wanted: &[&str],
) -> KpmPlan {
    if !version.has_snssai_test() {
        return KpmPlan::Skip(
            "E2SM-KPM v2.01 has no S-NSSAI or CQI test condition (TestCond-Type, clause 8.3.22) \
             and FlexRIC's v2.01 encoder aborts on them: no REPORT style 4 subscription"
                .into(),
        );
    }
    if wanted.is_empty() {
        return KpmPlan::Skip("no KPM measurement wanted".into());
    }
    let measurements: Vec<String> = match advertised {
        Advertised::NotDecoded => wanted.iter().map(|w| (*w).to_owned()).collect(),
        Advertised::Styles(styles) => {
            let Some(style) = styles.iter().find(|s| {
                s.style_type == REPORT_STYLE_CONDITION_UE && s.action_format == ACTION_FORMAT_4
            }) else {
                let listed: Vec<String> = styles
                    .iter()
                    .map(|s| format!("style {} format {}", s.style_type, s.action_format))
                    .collect();
                return KpmPlan::Skip(format!(
                    "the node's KPM RAN function definition advertises no REPORT style 4 with \
                     action definition format 4 (it lists: {})",
                    if listed.is_empty() {
                        "no REPORT style".to_owned()
                    } else {
                        listed.join(", ")
                    }
                ));
            };
            if style.measurements.is_empty() {
                wanted.iter().map(|w| (*w).to_owned()).collect()
            } else {
                let offered: Vec<String> = wanted
                    .iter()
                    .filter(|w| style.measurements.iter().any(|m| m == *w))
                    .map(|w| (*w).to_owned())
                    .collect();
                if offered.is_empty() {
                    return KpmPlan::Skip(format!(
                        "REPORT style 4 lists none of {wanted:?} (it lists {:?})",
                        style.measurements
                    ));
                }
                offered
            }
        }
    };
    let value = match encoding {
        SnssaiEncoding::OctetString => TestValue::Octets(vec![sst]),
        SnssaiEncoding::Integer => TestValue::Integer(i64::from(sst)),
    };
    KpmPlan::Subscribe(KpmRequest {
        condition: MatchingCondition {
            test: TestType::SNssai,
            expression: TestExpression::Equal,
            value,
        },
        measurements,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const WANTED: [&str; 2] = ["DRB.UEThpDl", "RRU.PrbTotDl"];

    /// The REPORT style FlexRIC `dev`'s emulated gNB advertises (sm_kpm.c
    /// `fill_kpm_report_style_4`), in the shim's text form.
    const DEV_GNB: &str = "4\t4\tDRB.PdcpSduVolumeDL\tDRB.PdcpSduVolumeUL\tDRB.RlcSduDelayDl\t\
                           DRB.UEThpDl\tDRB.UEThpUl\tRRU.PrbTotDl\tRRU.PrbTotUl\n";

    fn subscribe(plan: KpmPlan) -> KpmRequest {
        match plan {
            KpmPlan::Subscribe(r) => r,
            KpmPlan::Skip(why) => panic!("expected a subscription, got a skip: {why}"),
        }
    }

    fn skip(plan: KpmPlan) -> String {
        match plan {
            KpmPlan::Skip(why) => why,
            KpmPlan::Subscribe(r) => panic!("expected a skip, got {r:?}"),
        }
    }

    #[test]
    fn dev_emulated_gnb_gets_snssai_equal_as_octet_string() {
        let styles = ReportStyle::parse_lines(DEV_GNB);
        assert_eq!(styles.len(), 1);
        assert_eq!(styles[0].measurements.len(), 7);
        for v in [KpmVersion::V2_03, KpmVersion::V3_00] {
            let r = subscribe(plan_kpm(
                v,
                SnssaiEncoding::OctetString,
                &Advertised::Styles(styles.clone()),
                1,
                &WANTED,
            ));
            assert_eq!(
                r.condition,
                MatchingCondition {
                    test: TestType::SNssai,
                    expression: TestExpression::Equal,
                    value: TestValue::Octets(vec![1]),
                }
            );
            assert_eq!(r.measurements, WANTED);
        }
    }

    #[test]
    fn master_raw_definitions_get_snssai_equal_as_integer_with_the_wanted_names() {
        let r = subscribe(plan_kpm(
            KpmVersion::V3_00,
            SnssaiEncoding::Integer,
            &Advertised::NotDecoded,
            1,
            &WANTED,
        ));
        assert_eq!(r.condition.value, TestValue::Integer(1));
        assert_eq!(r.condition.test, TestType::SNssai);
        assert_eq!(r.condition.expression, TestExpression::Equal);
        assert_eq!(r.measurements, WANTED);
        // the SST is the configured one
        let r = subscribe(plan_kpm(
            KpmVersion::V2_03,
            SnssaiEncoding::OctetString,
            &Advertised::NotDecoded,
            2,
            &WANTED,
        ));
        assert_eq!(r.condition.value, TestValue::Octets(vec![2]));
    }

    #[test]
    fn kpm_v2_01_never_subscribes() {
        for adv in [
            Advertised::NotDecoded,
            Advertised::Styles(ReportStyle::parse_lines(DEV_GNB)),
            Advertised::Styles(vec![]),
        ] {
            for enc in [SnssaiEncoding::OctetString, SnssaiEncoding::Integer] {
                let why = skip(plan_kpm(KpmVersion::V2_01, enc, &adv, 1, &WANTED));
                assert!(why.contains("v2.01"), "{why}");
            }
        }
    }

    #[test]
    fn no_style_4_advertised_means_no_subscription() {
        // `dev`'s agent built with KPM v2.01 advertises no REPORT style at all
        let why = skip(plan_kpm(
            KpmVersion::V2_03,
            SnssaiEncoding::OctetString,
            &Advertised::Styles(vec![]),
            1,
            &WANTED,
        ));
        assert!(why.contains("no REPORT style"), "{why}");
        // style 1 (E2 node measurement) and style 4 with another format do not qualify
        let styles = ReportStyle::parse_lines("1\t1\tDRB.UEThpDl\n4\t5\tDRB.UEThpDl\n");
        let why = skip(plan_kpm(
            KpmVersion::V3_00,
            SnssaiEncoding::OctetString,
            &Advertised::Styles(styles),
            1,
            &WANTED,
        ));
        assert!(why.contains("style 1 format 1, style 4 format 5"), "{why}");
    }

    #[test]
    fn only_advertised_measurements_are_asked_for() {
        let du = ReportStyle::parse_lines("4\t4\tRRU.PrbTotDl\tDRB.UEThpUl\n");
        let r = subscribe(plan_kpm(
            KpmVersion::V3_00,
            SnssaiEncoding::OctetString,
            &Advertised::Styles(du),
            1,
            &WANTED,
        ));
        assert_eq!(r.measurements, ["RRU.PrbTotDl"]);
        // a CU that lists only PDCP volumes: nothing we want
        let cu = ReportStyle::parse_lines("4\t4\tDRB.PdcpSduVolumeDL\tDRB.PdcpSduVolumeUL\n");
        let why = skip(plan_kpm(
            KpmVersion::V3_00,
            SnssaiEncoding::OctetString,
            &Advertised::Styles(cu),
            1,
            &WANTED,
        ));
        assert!(why.contains("lists none of"), "{why}");
        // a style 4 with an empty measurement list: the wanted names as they are
        let bare = ReportStyle::parse_lines("4\t4\n");
        assert_eq!(bare[0].measurements, Vec::<String>::new());
        let r = subscribe(plan_kpm(
            KpmVersion::V2_03,
            SnssaiEncoding::OctetString,
            &Advertised::Styles(bare),
            1,
            &WANTED,
        ));
        assert_eq!(r.measurements, WANTED);
        assert!(matches!(
            plan_kpm(
                KpmVersion::V3_00,
                SnssaiEncoding::Integer,
                &Advertised::NotDecoded,
                1,
                &[]
            ),
            KpmPlan::Skip(_)
        ));
    }

    #[test]
    fn style_text_parsing_skips_garbage() {
        let s = ReportStyle::parse_lines("x\t4\tA\n\n4\t4\t\tB \n5\n");
        assert_eq!(
            s,
            vec![ReportStyle {
                style_type: 4,
                action_format: 4,
                measurements: vec!["B".into()],
            }]
        );
        assert_eq!(
            KpmVersion::from_flexric_macro("KPM_V3_00"),
            Some(KpmVersion::V3_00)
        );
        assert_eq!(KpmVersion::from_flexric_macro("KPM_V9"), None);
    }
}

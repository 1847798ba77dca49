//! E2SM-KPM values shared by the test files (`mod kpm_common;`): the messages the asn1tools
//! vectors of `.ci/e2sm-kpm-vectors.py` encode (same values, same names in lower case).
#![allow(dead_code)] // each test file uses a part

use maestro_e2sm::common::{GnbUeId, Plmn};
use maestro_e2sm::kpm::{
    ActionDefinitionFormat, KpmActionDefinition, KpmEventTrigger, KpmIndicationMessage,
    MeasurementDataItem, MeasurementInfo, MeasurementLabel, MeasurementReport, MeasurementType,
    MeasurementValue, NrCgi, Snssai, SubscriptionInfo, TestCondKind, TestCondition, TestExpression,
    TestValue, UeMeasurementReport,
};

pub const PLMN_00101: [u8; 3] = [0x00, 0xF1, 0x10];

pub fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("test vector is hex"))
        .collect()
}

pub fn named(name: &str, labels: Vec<MeasurementLabel>) -> MeasurementInfo {
    MeasurementInfo {
        meas_type: MeasurementType::Name(name.into()),
        labels,
    }
}

pub fn slice_label(sst: u8, sd: Option<u32>) -> MeasurementLabel {
    MeasurementLabel {
        slice: Some(Snssai { sst, sd }),
        ..MeasurementLabel::default()
    }
}

pub fn event_trigger() -> KpmEventTrigger {
    KpmEventTrigger {
        reporting_period_ms: 1000,
    }
}

pub fn subscription() -> SubscriptionInfo {
    SubscriptionInfo {
        info: vec![
            named(
                "DRB.UEThpDl",
                vec![
                    slice_label(1, Some(1)),
                    MeasurementLabel {
                        plmn: Some(PLMN_00101),
                        ..slice_label(2, None)
                    },
                ],
            ),
            named("RRU.PrbUsedDl", vec![MeasurementLabel::none()]),
            named(
                "CARR.WBCQIDist",
                vec![
                    MeasurementLabel {
                        dist_bin_x: Some(1),
                        ..MeasurementLabel::default()
                    },
                    MeasurementLabel {
                        dist_bin_x: Some(16),
                        sum: true,
                        ..MeasurementLabel::default()
                    },
                ],
            ),
        ],
        granularity_period_ms: 100,
        cell: Some(NrCgi {
            plmn: PLMN_00101,
            cell_identity: 0x00BC614E1,
        }),
    }
}

pub fn action_f1() -> KpmActionDefinition {
    KpmActionDefinition {
        style: 1,
        format: ActionDefinitionFormat::Format1(subscription()),
    }
}

pub fn action_f4() -> KpmActionDefinition {
    KpmActionDefinition {
        style: 4,
        format: ActionDefinitionFormat::Format4 {
            ue_conditions: vec![
                TestCondition {
                    kind: TestCondKind::Snssai,
                    expression: Some(TestExpression::Equal),
                    value: Some(TestValue::Octets(vec![1, 0, 0, 1])),
                },
                TestCondition {
                    kind: TestCondKind::Cqi,
                    expression: Some(TestExpression::GreaterThan),
                    value: Some(TestValue::Int(5)),
                },
            ],
            subscription: SubscriptionInfo {
                info: vec![
                    named("DRB.UEThpDl", vec![MeasurementLabel::none()]),
                    MeasurementInfo {
                        meas_type: MeasurementType::Id(7),
                        labels: vec![MeasurementLabel {
                            avg: true,
                            ..MeasurementLabel::default()
                        }],
                    },
                ],
                granularity_period_ms: 100,
                cell: None,
            },
        },
    }
}

pub fn msg_f1() -> KpmIndicationMessage {
    use MeasurementValue::{Integer, NoValue};
    KpmIndicationMessage::Format1(MeasurementReport {
        data: vec![
            MeasurementDataItem {
                record: vec![Integer(52000), Integer(106), NoValue],
                incomplete: false,
            },
            MeasurementDataItem {
                record: vec![Integer(0)],
                incomplete: true,
            },
        ],
        info: Some(vec![
            named("DRB.UEThpDl", vec![MeasurementLabel::none()]),
            named("RRU.PrbUsedDl", vec![MeasurementLabel::none()]),
            named("RRU.PrbAvailDl", vec![MeasurementLabel::none()]),
        ]),
        granularity_period_ms: Some(100),
    })
}

pub fn msg_f3() -> KpmIndicationMessage {
    use MeasurementValue::{Integer, NoValue};
    KpmIndicationMessage::Format3(vec![
        UeMeasurementReport {
            ue: GnbUeId {
                amf_ue_ngap_id: 1,
                plmn: Plmn::new("001", "01").expect("PLMN"),
                amf_region_id: 1,
                amf_set_id: 1,
                amf_pointer: 0,
            },
            report: MeasurementReport {
                data: vec![MeasurementDataItem {
                    record: vec![Integer(20000), Integer(50)],
                    incomplete: false,
                }],
                info: Some(vec![
                    named("DRB.UEThpDl", vec![slice_label(1, Some(1))]),
                    named("RRU.PrbUsedDl", vec![MeasurementLabel::none()]),
                ]),
                granularity_period_ms: None,
            },
        },
        UeMeasurementReport {
            ue: GnbUeId {
                amf_ue_ngap_id: (1 << 40) - 1,
                plmn: Plmn::new("310", "410").expect("PLMN"),
                amf_region_id: 0xAB,
                amf_set_id: 0x3FF,
                amf_pointer: 0x2A,
            },
            report: MeasurementReport {
                data: vec![MeasurementDataItem {
                    record: vec![NoValue, Integer(0)],
                    incomplete: false,
                }],
                info: None,
                granularity_period_ms: Some(100),
            },
        },
    ])
}

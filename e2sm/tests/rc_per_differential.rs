//! Differential tests: the hand-written APER codec behind `rc`'s public functions
//! (`maestro_e2sm::rc::codec`) against the rasn-generated reference (`rc::reference`).

use maestro_e2sm::common::{GnbUeId, Plmn};
use maestro_e2sm::rc::{
    self, reference, ControlDecision, DecodedControl, LeafEncoding, RanParamDialect,
    RcControlHeader, RrmPolicyMember, RrmPolicyRatioGroup, SlicePrbQuotaControl,
};
use proptest::prelude::*;

fn arb_digits(n: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(0u8..10, n)
        .prop_map(|d| d.iter().map(|d| char::from(b'0' + d)).collect())
}

fn arb_mnc() -> impl Strategy<Value = String> {
    prop_oneof![arb_digits(2), arb_digits(3)]
}

fn arb_group() -> impl Strategy<Value = RrmPolicyRatioGroup> {
    (
        arb_digits(3),
        arb_mnc(),
        // Bias towards octets that are ASCII digits (a binary SST that reads as ASCII too).
        prop_oneof![any::<u8>(), 0x30u8..=0x39],
        // 0xFFFFFF means "no SD" in the OAI dialect; keep it for the O-RAN one. Three ASCII
        // digit octets are a binary SD that reads as ASCII too.
        proptest::option::of(prop_oneof![
            0u32..=0x00FF_FFFF,
            Just(0x00FF_FFFF),
            (0u32..1000).prop_map(|n| {
                let d = format!("{n:03}").into_bytes();
                u32::from_be_bytes([0, d[0], d[1], d[2]])
            }),
        ]),
        0u8..=100,
        0u8..=100,
        0u8..=100,
    )
        .prop_map(|(mcc, mnc, sst, sd, a, b, c)| {
            let mut r = [a, b, c];
            r.sort_unstable();
            RrmPolicyRatioGroup {
                member: RrmPolicyMember { mcc, mnc, sst, sd },
                dedicated_prb_ratio: r[0],
                min_prb_ratio: r[1],
                max_prb_ratio: r[2],
            }
        })
}

fn arb_control() -> impl Strategy<Value = SlicePrbQuotaControl> {
    proptest::collection::vec(arb_group(), 1..=16)
        .prop_map(|groups| SlicePrbQuotaControl { groups })
}

fn arb_dialect() -> impl Strategy<Value = RanParamDialect> {
    prop_oneof![Just(RanParamDialect::Oran), Just(RanParamDialect::Oai)]
}

fn arb_leaves() -> impl Strategy<Value = LeafEncoding> {
    prop_oneof![Just(LeafEncoding::Binary), Just(LeafEncoding::Ascii)]
}

fn arb_header() -> impl Strategy<Value = RcControlHeader> {
    (
        prop_oneof![any::<i64>(), -300i64..300],
        prop_oneof![any::<i64>(), 0i64..70000, Just(65535), Just(65536), Just(1)],
        prop_oneof![0u64..(1 << 40), Just((1 << 40) - 1), 0u64..300],
        arb_digits(3),
        arb_mnc(),
        any::<u8>(),
        0u16..1024,
        0u8..64,
        proptest::option::of(prop_oneof![
            Just(ControlDecision::Accept),
            Just(ControlDecision::Reject)
        ]),
    )
        .prop_map(
            |(
                style,
                action,
                amf_ue_ngap_id,
                mcc,
                mnc,
                amf_region_id,
                amf_set_id,
                amf_pointer,
                decision,
            )| {
                RcControlHeader {
                    ue: GnbUeId {
                        amf_ue_ngap_id,
                        plmn: Plmn::new(&mcc, &mnc).expect("PLMN"),
                        amf_region_id,
                        amf_set_id,
                        amf_pointer,
                    },
                    style,
                    action,
                    decision,
                }
            },
        )
}

/// The rasn reference and the fast decoder agree on every `Ok`: when either accepts the
/// bytes, both accept them with the same value and the same leaf form.
fn assert_message_decoders_agree(
    bytes: &[u8],
    dialect: RanParamDialect,
) -> Result<(), TestCaseError> {
    let fast = rc::decode_control_message_with_leaves(bytes, dialect);
    let slow = reference::decode_control_message_with_leaves(bytes, dialect);
    if fast.is_ok() || slow.is_ok() {
        prop_assert_eq!(&fast, &slow, "bytes {:02x?}", bytes);
    }
    Ok(())
}

fn assert_header_decoders_agree(bytes: &[u8]) -> Result<(), TestCaseError> {
    let fast = rc::decode_control_header(bytes);
    let slow = reference::decode_control_header(bytes);
    if fast.is_ok() || slow.is_ok() {
        prop_assert_eq!(&fast, &slow, "bytes {:02x?}", bytes);
    }
    Ok(())
}

proptest! {
    // 512 cases unless PROPTEST_CASES says otherwise.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512)
    ))]

    #[test]
    fn messages_are_byte_identical(
        control in arb_control(),
        dialect in arb_dialect(),
        leaves in arb_leaves(),
    ) {
        let fast = rc::encode_control_message_with_leaves(&control, dialect, leaves)
            .expect("fast encode");
        let slow = reference::encode_control_message_with_leaves(&control, dialect, leaves)
            .expect("rasn encode");
        prop_assert_eq!(&fast, &slow);
        let expected = if dialect == RanParamDialect::Oai {
            // The OAI dialect sends "no SD" as 0xFFFFFF, which decodes as None.
            let mut c = control.clone();
            for g in &mut c.groups {
                if g.member.sd == Some(0x00FF_FFFF) {
                    g.member.sd = None;
                }
            }
            c
        } else {
            control.clone()
        };
        let expected = DecodedControl { control: expected, leaves: leaves.into() };
        prop_assert_eq!(
            rc::decode_control_message_with_leaves(&slow, dialect),
            Ok(expected.clone())
        );
        prop_assert_eq!(reference::decode_control_message_with_leaves(&fast, dialect), Ok(expected));
    }

    #[test]
    fn headers_are_byte_identical(header in arb_header()) {
        let fast = rc::encode_header(&header).expect("fast encode");
        let slow = reference::encode_header(&header).expect("rasn encode");
        prop_assert_eq!(&fast, &slow);
        prop_assert_eq!(rc::decode_control_header(&slow), Ok(header.clone()));
        prop_assert_eq!(reference::decode_control_header(&fast), Ok(header));
    }

    #[test]
    fn invalid_controls_give_the_same_error(
        mut control in arb_control(),
        dialect in arb_dialect(),
        leaves in arb_leaves(),
        which in 0usize..16,
        how in 0u8..4,
    ) {
        let i = which % control.groups.len();
        let g = &mut control.groups[i];
        match how {
            0 => g.max_prb_ratio = 101,
            1 => g.dedicated_prb_ratio = g.min_prb_ratio.saturating_add(1).max(1),
            2 => g.member.sd = Some(0x0100_0000),
            _ => g.member.mnc = "1".into(),
        }
        let fast = rc::encode_control_message_with_leaves(&control, dialect, leaves);
        let slow = reference::encode_control_message_with_leaves(&control, dialect, leaves);
        prop_assert!(fast.is_err());
        prop_assert_eq!(fast, slow);
    }

    #[test]
    fn random_bytes_never_panic_and_agree(
        bytes in proptest::collection::vec(any::<u8>(), 0..512),
        dialect in arb_dialect(),
    ) {
        assert_message_decoders_agree(&bytes, dialect)?;
        assert_header_decoders_agree(&bytes)?;
    }

    #[test]
    fn mutated_messages_agree(
        control in arb_control(),
        dialect in arb_dialect(),
        leaves in arb_leaves(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..4),
        cut in any::<prop::sample::Index>(),
        extra in proptest::collection::vec(any::<u8>(), 0..4),
    ) {
        let bytes = rc::encode_control_message_with_leaves(&control, dialect, leaves)
            .expect("encode");
        let mut mutated = bytes.clone();
        for (at, bit) in &flips {
            let i = at.index(mutated.len());
            mutated[i] ^= 1 << bit;
        }
        assert_message_decoders_agree(&mutated, dialect)?;
        // Truncated: both refuse. With trailing octets: both refuse them too (X.691 11.1).
        let truncated = &bytes[..cut.index(bytes.len())];
        prop_assert!(rc::decode_control_message(truncated, dialect).is_err());
        assert_message_decoders_agree(truncated, dialect)?;
        let mut longer = bytes.clone();
        longer.extend_from_slice(&extra);
        assert_message_decoders_agree(&longer, dialect)?;
    }

    #[test]
    fn mutated_headers_agree(
        header in arb_header(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..3),
        cut in any::<prop::sample::Index>(),
    ) {
        let bytes = rc::encode_header(&header).expect("encode");
        let mut mutated = bytes.clone();
        for (at, bit) in &flips {
            let i = at.index(mutated.len());
            mutated[i] ^= 1 << bit;
        }
        assert_header_decoders_agree(&mutated)?;
        let truncated = &bytes[..cut.index(bytes.len())];
        prop_assert!(rc::decode_control_header(truncated).is_err());
        assert_header_decoders_agree(truncated)?;
    }
}

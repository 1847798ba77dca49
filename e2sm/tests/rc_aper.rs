//! E2SM-RC slice PRB quota APER codec: byte-exact vectors from an independent ASN.1
//! implementation, round trips, and robustness against arbitrary bytes.

use maestro_e2sm::common::{GnbUeId, Plmn};
use maestro_e2sm::rc::{
    decode_control_header, decode_control_message, decode_control_message_with_leaves,
    encode_control_header, encode_control_message, encode_control_message_with_leaves,
    encode_header, ControlDecision, DecodedControl, LeafEncoding, RanParamDialect, RcCodecError,
    RcControlHeader, RrmPolicyMember, RrmPolicyRatioGroup, SlicePrbQuotaControl,
};
use proptest::prelude::*;

// Made by `.ci/e2sm-vectors.py`: asn1tools 0.169.0 (PyPI), codec 'per' (ALIGNED PER),
// python 3.11.7, compiling the standard E2SM-RC v1.03 module with its E2SM-COMMON-IEs
// (src/sm/rc_sm/ie/asn/e2sm_rc_v1_03_standard.asn of FlexRIC commit c74bcef0,
// github.com/openaicellular/flexric); our subset e2sm/asn1/e2sm-rc-subset.asn, which these
// were first made from, encodes the same bytes. Each dialect has its default leaf encoding
// (O-RAN binary, OAI ASCII; `tests/rc_leaves.rs` has both in both). The controls are `one_slice()` and
// `three_slices()` below; HEADER_2_6 is style 2, action 6 with `GnbUeId::placeholder()`,
// HEADER_FULL and HEADER_EXT_ACTION are `full_header()` and `ext_action_header()`.
const HEADER_2_6: &str = "000000000000f1100000000102000005";
const HEADER_FULL: &str = "100200ffffffffff00130014abffea010200000540";
const HEADER_EXT_ACTION: &str = "000000000000f11000000001028003011170";
const MSG_ORAN_1: &str = "00000100006000004000030002440000000460000040000100062a000300f110000744000100082a00010100092a0003000001000a2880011e000b28800150000c2880010a";
const MSG_ORAN_3: &str = "00000100006000024000030002440000000460000040000100062a000300f110000744000000082a000101000a2880010a000b28800132000c288001054000030002440000000460000040000100062a0003130014000744000100082a00010200092a0003abcdef000a28800114000b2880013c000c288001004000030002440000000460000040000100062a000302f839000744000100082a00010300092a0003000010000a28800100000b28800164000c28800100";
const MSG_OAI_1: &str = "00000100006000004000030002440000000360000040000100052a00053030313031000644000100072a00013100082a00013100092880011e000a28800150000b2880010a";
const MSG_OAI_3: &str = "00000100006000024000030002440000000360000040000100052a00053030313031000644000100072a00013100082a0008313637373732313500092880010a000a28800132000b288001054000030002440000000360000040000100052a0006333130343130000644000100072a00013200082a00083131323539333735000928800114000a2880013c000b288001004000030002440000000360000040000100052a00053230383933000644000100072a00013300082a00023136000928800100000a28800164000b28800100";

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("test vector is hex"))
        .collect()
}

fn group(mcc: &str, mnc: &str, sst: u8, sd: Option<u32>, r: (u8, u8, u8)) -> RrmPolicyRatioGroup {
    RrmPolicyRatioGroup::new(
        RrmPolicyMember {
            mcc: mcc.into(),
            mnc: mnc.into(),
            sst,
            sd,
        },
        r.0,
        r.1,
        r.2,
    )
    .expect("valid group")
}

fn one_slice() -> SlicePrbQuotaControl {
    SlicePrbQuotaControl {
        groups: vec![group("001", "01", 1, Some(1), (30, 80, 10))],
    }
}

fn three_slices() -> SlicePrbQuotaControl {
    SlicePrbQuotaControl {
        groups: vec![
            group("001", "01", 1, None, (10, 50, 5)),
            group("310", "410", 2, Some(0xABCDEF), (20, 60, 0)),
            group("208", "93", 3, Some(0x10), (0, 100, 0)),
        ],
    }
}

#[test]
fn header_matches_asn1tools() {
    let ours = encode_control_header(2, 6).expect("encode");
    assert_eq!(ours, hex(HEADER_2_6));
    let h = decode_control_header(&hex(HEADER_2_6)).expect("decode");
    assert_eq!((h.style, h.action, h.decision), (2, 6, None));
    assert_eq!(h.ue, GnbUeId::placeholder());
}

fn full_header() -> RcControlHeader {
    RcControlHeader {
        ue: GnbUeId {
            amf_ue_ngap_id: (1 << 40) - 1,
            plmn: Plmn::new("310", "410").expect("PLMN"),
            amf_region_id: 0xAB,
            amf_set_id: 0x3FF,
            amf_pointer: 0x2A,
        },
        style: 2,
        action: 6,
        decision: Some(ControlDecision::Reject),
    }
}

fn ext_action_header() -> RcControlHeader {
    RcControlHeader {
        ue: GnbUeId::placeholder(),
        style: 2,
        action: 70000,
        decision: None,
    }
}

#[test]
fn other_headers_match_asn1tools() {
    for (header, vector) in [
        (full_header(), HEADER_FULL),
        (ext_action_header(), HEADER_EXT_ACTION),
    ] {
        assert_eq!(encode_header(&header).expect("encode"), hex(vector));
        assert_eq!(decode_control_header(&hex(vector)), Ok(header));
    }
}

#[test]
fn messages_match_asn1tools() {
    let cases = [
        (RanParamDialect::Oran, one_slice(), MSG_ORAN_1),
        (RanParamDialect::Oran, three_slices(), MSG_ORAN_3),
        (RanParamDialect::Oai, one_slice(), MSG_OAI_1),
        (RanParamDialect::Oai, three_slices(), MSG_OAI_3),
    ];
    for (dialect, control, vector) in cases {
        let ours = encode_control_message(&control, dialect).expect("encode");
        assert_eq!(
            ours,
            hex(vector),
            "{dialect:?}, {} slices",
            control.groups.len()
        );
        assert_eq!(
            decode_control_message_with_leaves(&hex(vector), dialect),
            Ok(DecodedControl {
                control,
                leaves: dialect.default_leaf_encoding().into()
            })
        );
    }
}

// MSG_OAI_1 as an encoder that wraps each LIST item's content in one more STRUCTURE item
// carrying the element's ID (RRM Policy Ratio Group 2, RRM Policy Member 5) sends it; made by
// the same script. The decoder accepts this form too.
const MSG_OAI_1_WRAPPED: &str = "0000010000600000400000000144000300024400000003600000400000000444000100052a00053030313031000644000100072a00013100082a00013100092880011e000a28800150000b2880010a";

#[test]
fn wrapped_list_items_are_accepted() {
    assert_eq!(
        decode_control_message(&hex(MSG_OAI_1_WRAPPED), RanParamDialect::Oai),
        Ok(one_slice())
    );
}

#[test]
fn wrong_dialect_is_a_shape_error() {
    let err = decode_control_message(&hex(MSG_OAI_1), RanParamDialect::Oran);
    assert!(matches!(err, Err(RcCodecError::Shape { .. })), "{err:?}");
    let err = decode_control_message(&hex(MSG_ORAN_3), RanParamDialect::Oai);
    assert!(matches!(err, Err(RcCodecError::Shape { .. })), "{err:?}");
}

#[test]
fn invalid_controls_are_refused_by_the_encoder() {
    let mut c = one_slice();
    c.groups[0].max_prb_ratio = 101;
    assert!(matches!(
        encode_control_message(&c, RanParamDialect::Oran),
        Err(RcCodecError::Quota(_))
    ));
    let mut c = one_slice();
    c.groups[0].min_prb_ratio = 90;
    assert!(encode_control_message(&c, RanParamDialect::Oran).is_err());
    let mut c = one_slice();
    c.groups[0].member.sd = Some(0x0100_0000);
    assert_eq!(
        encode_control_message(&c, RanParamDialect::Oran),
        Err(RcCodecError::Sd(0x0100_0000))
    );
    let mut c = one_slice();
    c.groups[0].member.mnc = "1".into();
    assert!(matches!(
        encode_control_message(&c, RanParamDialect::Oai),
        Err(RcCodecError::Plmn(_))
    ));
}

#[test]
fn out_of_order_ratios_on_the_wire_are_refused() {
    // MSG_OAI_1 with Max PRB Policy Ratio 80 (0x50) patched to 20 (< min 30).
    let mut bytes = hex(MSG_OAI_1);
    let at = bytes
        .windows(2)
        .position(|w| w == [0x01, 0x50])
        .expect("max ratio in the vector");
    bytes[at + 1] = 20;
    assert!(matches!(
        decode_control_message(&bytes, RanParamDialect::Oai),
        Err(RcCodecError::Quota(_))
    ));
    // ... and to 101.
    bytes[at + 1] = 101;
    assert!(matches!(
        decode_control_message(&bytes, RanParamDialect::Oai),
        Err(RcCodecError::Shape { .. })
    ));
}

fn arb_group() -> impl Strategy<Value = RrmPolicyRatioGroup> {
    (
        0u16..1000,
        prop_oneof![
            (0u16..100).prop_map(|n| format!("{n:02}")),
            (0u16..1000).prop_map(|n| format!("{n:03}"))
        ],
        any::<u8>(),
        // 0xFFFFFF means "no SD" (TS 23.003 28.4.2); the OAI dialect decodes it as None.
        proptest::option::of(0u32..0x00FF_FFFF),
        0u8..=100,
        0u8..=100,
        0u8..=100,
    )
        .prop_map(|(mcc, mnc, sst, sd, a, b, c)| {
            let mut r = [a, b, c];
            r.sort_unstable();
            RrmPolicyRatioGroup {
                member: RrmPolicyMember {
                    mcc: format!("{mcc:03}"),
                    mnc,
                    sst,
                    sd,
                },
                dedicated_prb_ratio: r[0],
                min_prb_ratio: r[1],
                max_prb_ratio: r[2],
            }
        })
}

fn arb_control() -> impl Strategy<Value = SlicePrbQuotaControl> {
    proptest::collection::vec(arb_group(), 1..=8).prop_map(|groups| SlicePrbQuotaControl { groups })
}

fn arb_dialect() -> impl Strategy<Value = RanParamDialect> {
    prop_oneof![Just(RanParamDialect::Oran), Just(RanParamDialect::Oai)]
}

fn arb_leaves() -> impl Strategy<Value = LeafEncoding> {
    prop_oneof![Just(LeafEncoding::Binary), Just(LeafEncoding::Ascii)]
}

proptest! {
    #[test]
    fn round_trip(control in arb_control(), dialect in arb_dialect(), leaves in arb_leaves()) {
        let bytes = encode_control_message_with_leaves(&control, dialect, leaves).expect("encode");
        prop_assert_eq!(
            decode_control_message_with_leaves(&bytes, dialect),
            Ok(DecodedControl { control, leaves: leaves.into() })
        );
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512), dialect in arb_dialect()) {
        let _ = decode_control_message(&bytes, dialect);
        let _ = decode_control_header(&bytes);
    }

    #[test]
    fn truncated_and_mutated_messages_never_panic(
        control in arb_control(),
        dialect in arb_dialect(),
        leaves in arb_leaves(),
        cut in any::<prop::sample::Index>(),
        flip in any::<prop::sample::Index>(),
        mask in 1u8..,
    ) {
        let bytes = encode_control_message_with_leaves(&control, dialect, leaves).expect("encode");
        let truncated = &bytes[..cut.index(bytes.len())];
        prop_assert!(decode_control_message(truncated, dialect).is_err());
        let mut mutated = bytes.clone();
        let i = flip.index(mutated.len());
        mutated[i] ^= mask;
        // Ok or Err, but any Ok is a valid control.
        if let Ok(c) = decode_control_message(&mutated, dialect) {
            prop_assert!(c.validate().is_ok());
        }
        let header = encode_control_header(2, 6).expect("encode");
        let _ = decode_control_header(&header[..cut.index(header.len())]);
    }

    #[test]
    fn header_round_trip(
        style in any::<i64>(),
        action in any::<i64>(),
        amf_ue_ngap_id in 0u64..(1 << 40),
        mcc in 0u16..1000,
        mnc in prop_oneof![(0u16..100).prop_map(|n| format!("{n:02}")), (0u16..1000).prop_map(|n| format!("{n:03}"))],
        amf_region_id in any::<u8>(),
        amf_set_id in 0u16..1024,
        amf_pointer in 0u8..64,
        decision in proptest::option::of(prop_oneof![Just(ControlDecision::Accept), Just(ControlDecision::Reject)]),
    ) {
        let header = RcControlHeader {
            ue: GnbUeId { amf_ue_ngap_id, plmn: Plmn::new(&format!("{mcc:03}"), &mnc).expect("PLMN"), amf_region_id, amf_set_id, amf_pointer },
            style,
            action,
            decision,
        };
        let bytes = encode_header(&header).expect("encode");
        prop_assert_eq!(decode_control_header(&bytes), Ok(header));
    }
}

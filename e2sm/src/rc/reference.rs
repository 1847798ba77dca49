//! The rasn reference codec of the E2SM-RC control (feature `reference`): the API of
//! [`crate::rc`] implemented with the rasn types that `rasn-compiler` generates from
//! `asn1/e2sm-rc-subset.asn` (and the UEID of `asn1/e2sm-common-subset.asn`) at build
//! time; the reference the hand-written codec ([`super::codec`]) is tested against
//! (`tests/rc_per_differential.rs`). 5 to 8 times slower. What it decodes with rasn it
//! checks against the clause 8.4.3.6 tree with the hand-written codec's shape checker
//! ([`super::codec::check_message`], on a copy of rasn's tree), the crate's only one; the
//! leaves are read by the rule both share (`rc::leaves`).

use rasn::types::{Integer, OctetString};

use super::codec::{check_message, Structure, Tree, Value, ValueType};
use super::leaves::{member_leaves, MemberLeaves};
use super::{
    check_len, ControlDecision, DecodedControl, LeafEncoding, RanParamDialect, RcCodecError,
    RcControlHeader, RrmPolicyRatioGroup, SlicePrbQuotaControl,
};
use crate::common::reference::rc as g;
use crate::common::reference::{gnb_ueid_from_asn, gnb_ueid_to_asn};
use crate::common::{GnbUeId, Plmn};

/// [`super::encode_header`] with rasn.
pub fn encode_header(header: &RcControlHeader) -> Result<Vec<u8>, RcCodecError> {
    rasn_encode_header(header)
}

/// [`super::decode_control_header`] with rasn.
pub fn decode_control_header(bytes: &[u8]) -> Result<RcControlHeader, RcCodecError> {
    rasn_decode_control_header(bytes)
}

/// [`super::encode_control_message`] with rasn.
pub fn encode_control_message(
    control: &SlicePrbQuotaControl,
    dialect: RanParamDialect,
) -> Result<Vec<u8>, RcCodecError> {
    encode_control_message_with_leaves(control, dialect, dialect.default_leaf_encoding())
}

/// [`super::encode_control_message_with_leaves`] with rasn.
pub fn encode_control_message_with_leaves(
    control: &SlicePrbQuotaControl,
    dialect: RanParamDialect,
    leaves: LeafEncoding,
) -> Result<Vec<u8>, RcCodecError> {
    rasn_encode_control_message(control, dialect, leaves)
}

/// [`super::decode_control_message`] with rasn.
pub fn decode_control_message(
    bytes: &[u8],
    dialect: RanParamDialect,
) -> Result<SlicePrbQuotaControl, RcCodecError> {
    decode_control_message_with_leaves(bytes, dialect).map(|d| d.control)
}

/// [`super::decode_control_message_with_leaves`] with rasn.
pub fn decode_control_message_with_leaves(
    bytes: &[u8],
    dialect: RanParamDialect,
) -> Result<DecodedControl, RcCodecError> {
    rasn_decode_control_message(bytes, dialect)
}

/// [`super::encode_header`] with rasn (the reference codec).
fn rasn_encode_header(header: &RcControlHeader) -> Result<Vec<u8>, RcCodecError> {
    let ue = &header.ue;
    ue.check().map_err(RcCodecError::Header)?;
    let ueid = gnb_ueid_to_asn(ue, ue.plmn.bcd());
    let decision = header.decision.map(|d| match d {
        ControlDecision::Accept => g::E2SMRCControlHeaderFormat1RicControlDecision::accept,
        ControlDecision::Reject => g::E2SMRCControlHeaderFormat1RicControlDecision::reject,
    });
    let f1 = g::E2SMRCControlHeaderFormat1::new(
        ueid,
        g::RICStyleType(Integer::from(header.style)),
        g::RICControlActionID(Integer::from(header.action)),
        decision,
    );
    let pdu = g::E2SMRCControlHeader::new(
        g::E2SMRCControlHeaderRicControlHeaderFormats::controlHeader_Format1(f1),
    );
    rasn::aper::encode(&pdu).map_err(|e| RcCodecError::Encode(e.to_string()))
}

/// [`super::decode_control_header`] with rasn (the reference codec).
fn rasn_decode_control_header(bytes: &[u8]) -> Result<RcControlHeader, RcCodecError> {
    check_len(bytes)?;
    let pdu: g::E2SMRCControlHeader = rasn::aper::decode(bytes).map_err(decode_error)?;
    let g::E2SMRCControlHeaderRicControlHeaderFormats::controlHeader_Format1(f1) =
        pdu.ric_control_header_formats;
    let g::UEID::gNB_UEID(gnb) = f1.ue_id else {
        return Err(RcCodecError::Header(
            "only the gNB-UEID alternative of UEID is supported".into(),
        ));
    };
    let (ue, plmn) = gnb_ueid_from_asn(&gnb);
    let plmn = Plmn::from_octets(plmn)?;
    let style = i64::try_from(&f1.ric_style_type.0)
        .map_err(|_| RcCodecError::Header("RIC Style Type does not fit in i64".into()))?;
    let action = i64::try_from(&f1.ric_control_action_id.0)
        .map_err(|_| RcCodecError::Header("RIC Control Action ID does not fit in i64".into()))?;
    let decision = match f1.ric_control_decision {
        None => None,
        Some(g::E2SMRCControlHeaderFormat1RicControlDecision::accept) => {
            Some(ControlDecision::Accept)
        }
        Some(g::E2SMRCControlHeaderFormat1RicControlDecision::reject) => {
            Some(ControlDecision::Reject)
        }
    };
    Ok(RcControlHeader {
        ue: GnbUeId { plmn, ..ue },
        style,
        action,
        decision,
    })
}

// ---------------------------------------------------------------------------------------
// Control message: encode
// ---------------------------------------------------------------------------------------

pub(super) fn pid(id: u32) -> g::RANParameterID {
    g::RANParameterID(Integer::from(i64::from(id)))
}

pub(super) fn element(id: u32, value: g::RANParameterValue) -> g::RANParameterSTRUCTUREItem {
    g::RANParameterSTRUCTUREItem::new(
        pid(id),
        g::RANParameterValueType::ranP_Choice_ElementFalse(
            g::RANParameterValueTypeChoiceElementFalse::new(Some(value)),
        ),
    )
}

pub(super) fn structure(items: Vec<g::RANParameterSTRUCTUREItem>) -> g::RANParameterSTRUCTURE {
    g::RANParameterSTRUCTURE::new(Some(items))
}

pub(super) fn structure_item(
    id: u32,
    items: Vec<g::RANParameterSTRUCTUREItem>,
) -> g::RANParameterSTRUCTUREItem {
    g::RANParameterSTRUCTUREItem::new(
        pid(id),
        g::RANParameterValueType::ranP_Choice_Structure(
            g::RANParameterValueTypeChoiceStructure::new(structure(items)),
        ),
    )
}

pub(super) fn list_value(items: Vec<g::RANParameterSTRUCTURE>) -> g::RANParameterValueType {
    g::RANParameterValueType::ranP_Choice_List(g::RANParameterValueTypeChoiceList::new(
        g::RANParameterLIST::new(items),
    ))
}

pub(super) fn octets(b: &[u8]) -> g::RANParameterValue {
    g::RANParameterValue::valueOctS(OctetString::from_slice(b))
}

pub(super) fn int(v: u8) -> g::RANParameterValue {
    g::RANParameterValue::valueInt(Integer::from(i64::from(v)))
}

fn group_tree(
    group: &RrmPolicyRatioGroup,
    dialect: RanParamDialect,
    leaves: LeafEncoding,
) -> Result<g::RANParameterSTRUCTURE, RcCodecError> {
    group.validate()?;
    let ids = dialect.ids();
    let MemberLeaves { plmn, sst, sd } = member_leaves(&group.member, dialect, leaves)?;
    let mut snssai = vec![element(ids.sst, octets(sst.as_slice()))];
    if let Some(sd) = sd {
        snssai.push(element(ids.sd, octets(sd.as_slice())));
    }
    let plmn = octets(plmn.as_slice());
    // A LIST item is a RANParameter-STRUCTURE without an ID of its own: the item *is* the
    // RRM Policy Member (resp. RRM Policy Ratio Group), so their IDs are not on the wire.
    let member = structure(vec![
        element(ids.plmn, plmn),
        structure_item(ids.snssai, snssai),
    ]);
    let member_list =
        g::RANParameterSTRUCTUREItem::new(pid(ids.member_list), list_value(vec![member]));
    let policy = structure_item(ids.policy, vec![member_list]);
    Ok(structure(vec![
        policy,
        element(ids.min_prb, int(group.min_prb_ratio)),
        element(ids.max_prb, int(group.max_prb_ratio)),
        element(ids.dedicated_prb, int(group.dedicated_prb_ratio)),
    ]))
}

/// [`super::encode_control_message`] with rasn (the reference codec).
fn rasn_encode_control_message(
    control: &SlicePrbQuotaControl,
    dialect: RanParamDialect,
    leaves: LeafEncoding,
) -> Result<Vec<u8>, RcCodecError> {
    if control.groups.is_empty() {
        return Err(RcCodecError::NoGroups);
    }
    let ids = dialect.ids();
    let groups = control
        .groups
        .iter()
        .map(|g| group_tree(g, dialect, leaves))
        .collect::<Result<Vec<_>, _>>()?;
    let item = g::E2SMRCControlMessageFormat1Item::new(pid(ids.ratio_list), list_value(groups));
    let pdu = g::E2SMRCControlMessage::new(
        g::E2SMRCControlMessageRicControlMessageFormats::controlMessage_Format1(
            g::E2SMRCControlMessageFormat1::new(vec![item]),
        ),
    );
    rasn::aper::encode(&pdu).map_err(|e| RcCodecError::Encode(e.to_string()))
}

// ---------------------------------------------------------------------------------------
// Control message: decode
// ---------------------------------------------------------------------------------------

/// rasn nests the message of every enclosing field; keep the innermost cause and the
/// outermost fields, within 400 characters.
fn decode_error(e: rasn::error::DecodeError) -> RcCodecError {
    const MAX: usize = 400;
    let text = e.to_string().replace(" (Codec: APER)", "");
    if text.len() <= MAX {
        return RcCodecError::Decode(text);
    }
    let head: String = text.chars().take(MAX / 2).collect();
    let tail_start = text
        .char_indices()
        .map(|(i, _)| i)
        .find(|&i| i >= text.len() - MAX / 2)
        .unwrap_or(text.len());
    RcCodecError::Decode(format!("{head} … {}", &text[tail_start..]))
}

/// [`super::decode_control_message_with_leaves`] with rasn (the reference codec): rasn
/// decodes the PDU; its RAN parameter tree is then copied into the hand-written codec's
/// [`Tree`] and checked by [`check_message`], the crate's one checker of the clause 8.4.3.6
/// shape.
fn rasn_decode_control_message(
    bytes: &[u8],
    dialect: RanParamDialect,
) -> Result<DecodedControl, RcCodecError> {
    check_len(bytes)?;
    let pdu: g::E2SMRCControlMessage = rasn::aper::decode(bytes).map_err(decode_error)?;
    let g::E2SMRCControlMessageRicControlMessageFormats::controlMessage_Format1(f1) =
        &pdu.ric_control_message_formats;
    let mut tree = Tree::default();
    for item in &f1.ran_p_list {
        let value = tree_value_type(&mut tree, &item.ran_parameter_value_type);
        tree.push_item(tree_id(&item.ran_parameter_id), value);
    }
    let top = tree.top(f1.ran_p_list.len());
    check_message(&tree, top, dialect)
}

/// A RAN parameter ID as the hand-written reader keeps it: `None` outside `u32`.
fn tree_id(id: &g::RANParameterID) -> Option<u32> {
    u32::try_from(&id.0).ok()
}

/// RANParameter-Value as the hand-written reader keeps it: octet strings and integers (of at
/// most 64 bits), the other alternatives by kind only.
fn tree_value(v: &g::RANParameterValue) -> Value<'_> {
    match v {
        g::RANParameterValue::valueBoolean(_) => Value::Bool,
        g::RANParameterValue::valueInt(i) => Value::Int(i64::try_from(i).ok()),
        g::RANParameterValue::valueReal(_) => Value::Real,
        g::RANParameterValue::valueBitS(_) => Value::Bits,
        g::RANParameterValue::valueOctS(o) => Value::Octets(o),
        g::RANParameterValue::valuePrintableString(_) => Value::Printable,
    }
}

/// RANParameter-ValueType, its STRUCTURE and LIST children pushed onto `tree` depth first.
fn tree_value_type<'a>(tree: &mut Tree<'a>, v: &'a g::RANParameterValueType) -> ValueType<'a> {
    match v {
        g::RANParameterValueType::ranP_Choice_ElementTrue(e) => {
            ValueType::ElementTrue(tree_value(&e.ran_parameter_value))
        }
        g::RANParameterValueType::ranP_Choice_ElementFalse(e) => {
            ValueType::ElementFalse(e.ran_parameter_value.as_ref().map(tree_value))
        }
        g::RANParameterValueType::ranP_Choice_Structure(s) => {
            ValueType::Structure(tree_structure(tree, &s.ran_parameter_structure))
        }
        g::RANParameterValueType::ranP_Choice_List(l) => {
            let list = &l.ran_parameter_list.list_of_ran_parameter;
            for s in list {
                let s = tree_structure(tree, s);
                tree.push_struct(s);
            }
            tree.list(list.len())
        }
    }
}

/// RANParameter-STRUCTURE, its items pushed onto `tree` depth first.
fn tree_structure<'a>(tree: &mut Tree<'a>, s: &'a g::RANParameterSTRUCTURE) -> Structure {
    let items = s.sequence_of_ran_parameters.as_ref().map(|items| {
        for item in items {
            let value = tree_value_type(tree, &item.ran_parameter_value_type);
            tree.push_item(tree_id(&item.ran_parameter_id), value);
        }
        items.len()
    });
    tree.structure(items)
}

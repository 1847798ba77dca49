//! The rasn reference codec of the E2SM-RC control (feature `reference`): the API of
//! [`crate::rc`] implemented with the rasn types that `rasn-compiler` generates from
//! `asn1/e2sm-rc-subset.asn` (and the UEID of `asn1/e2sm-common-subset.asn`) at build
//! time; the reference the hand-written codec ([`super::codec`]) is tested against
//! (`tests/rc_per_differential.rs`). 5 to 8 times slower. It checks the clause 8.4.3.6
//! tree shape on rasn's types with the same rules and messages as [`super::codec`] does on
//! its own tree; the leaves are read by the rule both share (`rc::leaves`).

use rasn::types::{Integer, OctetString};

use super::leaves::{member_from_leaves, member_leaves, MemberLeaves};
use super::{
    check_len, ControlDecision, DecodedControl, LeafEncoding, LeafEncodingSeen, RanParamDialect,
    RcCodecError, RcControlHeader, RrmPolicyRatioGroup, SlicePrbQuotaControl,
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
    let mut snssai = vec![element(ids.sst, octets(&sst))];
    if let Some(sd) = sd {
        snssai.push(element(ids.sd, octets(&sd)));
    }
    let plmn = octets(&plmn);
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

fn shape(path: &str, reason: impl Into<String>) -> RcCodecError {
    RcCodecError::Shape {
        path: path.to_string(),
        reason: reason.into(),
    }
}

fn id_of(id: &g::RANParameterID, path: &str) -> Result<u32, RcCodecError> {
    u32::try_from(&id.0).map_err(|_| shape(path, "RAN parameter ID out of range"))
}

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

/// The items of a STRUCTURE value, looked up by ID; every ID must appear at most once and
/// be one of `allowed`.
struct Fields<'a> {
    path: String,
    items: Vec<(u32, &'a g::RANParameterValueType)>,
}

impl<'a> Fields<'a> {
    fn of_structure(
        s: &'a g::RANParameterSTRUCTURE,
        path: &str,
        allowed: &[u32],
    ) -> Result<Self, RcCodecError> {
        let mut items = Vec::new();
        for item in s.sequence_of_ran_parameters.iter().flatten() {
            let id = id_of(&item.ran_parameter_id, path)?;
            if !allowed.contains(&id) {
                return Err(shape(path, format!("unexpected RAN parameter ID {id}")));
            }
            if items.iter().any(|(i, _)| *i == id) {
                return Err(shape(path, format!("RAN parameter ID {id} appears twice")));
            }
            items.push((id, &item.ran_parameter_value_type));
        }
        Ok(Self {
            path: path.to_string(),
            items,
        })
    }

    fn get(
        &self,
        id: u32,
        name: &str,
    ) -> Result<(&'a g::RANParameterValueType, String), RcCodecError> {
        self.opt(id, name)?
            .ok_or_else(|| shape(&self.path, format!("missing {name} (ID {id})")))
    }

    fn opt(
        &self,
        id: u32,
        name: &str,
    ) -> Result<Option<(&'a g::RANParameterValueType, String)>, RcCodecError> {
        Ok(self
            .items
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, v)| (*v, format!("{}/{name}", self.path))))
    }
}

fn as_structure<'a>(
    v: &'a g::RANParameterValueType,
    path: &str,
) -> Result<&'a g::RANParameterSTRUCTURE, RcCodecError> {
    match v {
        g::RANParameterValueType::ranP_Choice_Structure(s) => Ok(&s.ran_parameter_structure),
        _ => Err(shape(path, "expected a STRUCTURE")),
    }
}

fn as_list<'a>(
    v: &'a g::RANParameterValueType,
    path: &str,
) -> Result<&'a [g::RANParameterSTRUCTURE], RcCodecError> {
    match v {
        g::RANParameterValueType::ranP_Choice_List(l) => {
            Ok(&l.ran_parameter_list.list_of_ran_parameter)
        }
        _ => Err(shape(path, "expected a LIST")),
    }
}

fn as_element<'a>(
    v: &'a g::RANParameterValueType,
    path: &str,
) -> Result<&'a g::RANParameterValue, RcCodecError> {
    match v {
        g::RANParameterValueType::ranP_Choice_ElementTrue(e) => Ok(&e.ran_parameter_value),
        g::RANParameterValueType::ranP_Choice_ElementFalse(e) => e
            .ran_parameter_value
            .as_ref()
            .ok_or_else(|| shape(path, "ELEMENT without a value")),
        _ => Err(shape(path, "expected an ELEMENT")),
    }
}

fn as_octets<'a>(v: &'a g::RANParameterValueType, path: &str) -> Result<&'a [u8], RcCodecError> {
    match as_element(v, path)? {
        g::RANParameterValue::valueOctS(o) => Ok(o),
        _ => Err(shape(path, "expected valueOctS")),
    }
}

fn as_ratio(v: &g::RANParameterValueType, path: &str) -> Result<u8, RcCodecError> {
    match as_element(v, path)? {
        g::RANParameterValue::valueInt(i) => u8::try_from(i)
            .ok()
            .filter(|r| *r <= 100)
            .ok_or_else(|| shape(path, format!("ratio {i} is not in 0..=100"))),
        _ => Err(shape(path, "expected valueInt")),
    }
}

/// A LIST item is the list element itself (RRM Policy Ratio Group, RRM Policy Member). Some
/// encoders wrap its content in one more STRUCTURE item carrying the element's ID; accept
/// that form too and return the element's STRUCTURE.
fn unwrap_list_item<'a>(
    s: &'a g::RANParameterSTRUCTURE,
    path: &str,
    element_id: u32,
    name: &str,
) -> Result<(&'a g::RANParameterSTRUCTURE, String), RcCodecError> {
    if let Some([only]) = s.sequence_of_ran_parameters.as_deref() {
        if id_of(&only.ran_parameter_id, path)? == element_id {
            let inner = format!("{path}/{name}");
            return Ok((as_structure(&only.ran_parameter_value_type, &inner)?, inner));
        }
    }
    Ok((s, path.to_string()))
}

/// One RRM Policy Ratio Group and the form of its leaves.
fn decode_group(
    s: &g::RANParameterSTRUCTURE,
    dialect: RanParamDialect,
    path: &str,
) -> Result<(RrmPolicyRatioGroup, LeafEncodingSeen), RcCodecError> {
    let ids = dialect.ids();
    let group_items = [ids.policy, ids.min_prb, ids.max_prb, ids.dedicated_prb];
    let (s, path) = unwrap_list_item(s, path, ids.ratio_group, "RRM Policy Ratio Group")?;
    let grp = Fields::of_structure(s, &path, &group_items)?;
    let (policy, ppath) = grp.get(ids.policy, "RRM Policy")?;
    let policy = Fields::of_structure(as_structure(policy, &ppath)?, &ppath, &[ids.member_list])?;
    let (members, mpath) = policy.get(ids.member_list, "RRM Policy Member List")?;
    let members = as_list(members, &mpath)?;
    let [member] = members else {
        return Err(shape(
            &mpath,
            format!(
                "expected exactly one RRM Policy Member, got {}",
                members.len()
            ),
        ));
    };
    let (member, mpath) = unwrap_list_item(member, &mpath, ids.member, "RRM Policy Member")?;
    let member = Fields::of_structure(member, &mpath, &[ids.plmn, ids.snssai])?;
    let (plmn, plmn_path) = member.get(ids.plmn, "PLMN Identity")?;
    let (snssai, spath) = member.get(ids.snssai, "S-NSSAI")?;
    let snssai = Fields::of_structure(as_structure(snssai, &spath)?, &spath, &[ids.sst, ids.sd])?;
    let (sst, sst_path) = snssai.get(ids.sst, "SST")?;
    let sd = snssai.opt(ids.sd, "SD")?;
    let plmn = as_octets(plmn, &plmn_path)?;
    let sst = as_octets(sst, &sst_path)?;
    let sd = match &sd {
        Some((sd, sd_path)) => Some((as_octets(sd, sd_path)?, sd_path)),
        None => None,
    };
    let (member, leaves) = member_from_leaves(dialect, (plmn, &plmn_path), (sst, &sst_path), sd)?;
    let (min, p) = grp.get(ids.min_prb, "Min PRB Policy Ratio")?;
    let min_prb_ratio = as_ratio(min, &p)?;
    let (max, p) = grp.get(ids.max_prb, "Max PRB Policy Ratio")?;
    let max_prb_ratio = as_ratio(max, &p)?;
    let (ded, p) = grp.get(ids.dedicated_prb, "Dedicated PRB Policy Ratio")?;
    let dedicated_prb_ratio = as_ratio(ded, &p)?;
    let group =
        RrmPolicyRatioGroup::new(member, min_prb_ratio, max_prb_ratio, dedicated_prb_ratio)?;
    Ok((group, leaves))
}

/// [`super::decode_control_message_with_leaves`] with rasn (the reference codec).
fn rasn_decode_control_message(
    bytes: &[u8],
    dialect: RanParamDialect,
) -> Result<DecodedControl, RcCodecError> {
    check_len(bytes)?;
    let pdu: g::E2SMRCControlMessage = rasn::aper::decode(bytes).map_err(decode_error)?;
    let g::E2SMRCControlMessageRicControlMessageFormats::controlMessage_Format1(f1) =
        pdu.ric_control_message_formats;
    let ids = dialect.ids();
    let [item] = f1.ran_p_list.as_slice() else {
        return Err(shape(
            "ranP-List",
            format!("expected one RAN parameter, got {}", f1.ran_p_list.len()),
        ));
    };
    let path = "RRM Policy Ratio List";
    let id = id_of(&item.ran_parameter_id, path)?;
    if id != ids.ratio_list {
        return Err(shape(
            path,
            format!("expected RAN parameter ID {}, got {id}", ids.ratio_list),
        ));
    }
    let items = as_list(&item.ran_parameter_value_type, path)?;
    let mut groups = Vec::with_capacity(items.len());
    let mut leaves: Option<LeafEncodingSeen> = None;
    for (i, s) in items.iter().enumerate() {
        let (group, seen) = decode_group(s, dialect, &format!("{path}[{i}]"))?;
        groups.push(group);
        leaves = Some(leaves.map_or(seen, |l| l.merge(seen)));
    }
    let control = SlicePrbQuotaControl { groups };
    control.validate()?;
    Ok(DecodedControl {
        control,
        // A LIST holds at least one item (SIZE(1..maxnoofItemsinList)).
        leaves: leaves.ok_or_else(|| shape(path, "empty RRM Policy Ratio List"))?,
    })
}

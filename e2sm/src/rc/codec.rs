//! Hand-written ALIGNED PER codec of exactly the E2SM-RC messages of [`crate::rc`]:
//! E2SM-RC-ControlHeader format 1 and E2SM-RC-ControlMessage format 1 carrying the
//! slice-level PRB quota tree (both [`RanParamDialect`]s, both [`LeafEncoding`]s), built on
//! [`crate::per`].
//!
//! It follows `asn1/e2sm-rc-subset.asn` (and the UEID of `asn1/e2sm-common-subset.asn`)
//! field by field; the comments give the ASN.1 of each step. The public functions of
//! [`crate::rc`] call this module; the rasn-generated codec stays available as
//! `rc::reference` (feature `reference`), and the tests check both give the same bytes and
//! values.
//!
//! Decoding works like the reference: the whole PDU is first read into a generic RAN
//! parameter tree (kept in two flat arenas, with octet strings borrowed from the input), so
//! that any APER error is an [`RcCodecError::Decode`]; the tree is then checked against the
//! clause 8.4.3.6 shape (IDs in any order, `ElementTrue` accepted, LIST items optionally
//! wrapped in one STRUCTURE item carrying the element's ID; PLMN Identity, SST and SD
//! leaves binary or ASCII, read by the rule both codecs share,
//! `rc::leaves::member_from_leaves`). That shape checker is the crate's only one: the
//! reference (`rc::reference`) decodes with rasn, copies rasn's tree into this module's
//! `Tree` and checks it with `check_message`, so both report the same errors. Unknown
//! extension additions of SEQUENCEs are skipped; unknown extension alternatives of CHOICEs are
//! errors. The RAN parameter tree may nest at most [`MAX_DEPTH`] STRUCTURE/LIST levels,
//! which bounds the recursion.

use std::fmt;

use super::leaves::{member_from_leaves, member_leaves, MemberLeaves};
use super::{
    check_len, ControlDecision, DecodedControl, LeafEncoding, LeafEncodingSeen, RanParamDialect,
    RcCodecError, RcControlHeader, RrmPolicyRatioGroup, SlicePrbQuotaControl,
};
use crate::common::{read_ueid, write_ueid_gnb, GnbUeId, Plmn, RawGnbUeId};
use crate::per::{PerError, PerReader, PerWriter};

/// Deepest nesting of STRUCTURE and LIST values the decoder follows (the quota tree uses 5).
pub const MAX_DEPTH: usize = 64;

/// `ub - lb` of RANParameter-ID ::= INTEGER (1..4294967295, ...).
const RAN_PARAMETER_ID_SPAN: u64 = 4_294_967_294;
/// `ub - lb` of SIZE(1..65535) (maxnoofParametersinStructure, maxnoofItemsinList).
const SIZE_1_65535: Option<usize> = Some(65535);

fn decode_error(e: PerError) -> RcCodecError {
    RcCodecError::Decode(e.to_string())
}

fn encode_error(e: PerError) -> RcCodecError {
    RcCodecError::Encode(e.to_string())
}

// =========================================================================================
// Control header
// =========================================================================================

/// Encodes an E2SM-RC-ControlHeader format 1 (same checks and errors as the reference).
pub fn encode_header(header: &RcControlHeader) -> Result<Vec<u8>, RcCodecError> {
    let ue = &header.ue;
    ue.check().map_err(RcCodecError::Header)?;
    let raw = RawGnbUeId {
        amf_ue_ngap_id: ue.amf_ue_ngap_id,
        plmn: ue.plmn.bcd(),
        amf_region_id: ue.amf_region_id,
        amf_set_id: ue.amf_set_id,
        amf_pointer: ue.amf_pointer,
    };
    let mut w = PerWriter::with_capacity(32);
    // E2SM-RC-ControlHeader ::= SEQUENCE { ric-controlHeader-formats CHOICE {
    //     controlHeader-Format1, ... }, ... }: extension bit, CHOICE extension bit, no index
    // for a single root alternative (23.4).
    w.bits(0, 2);
    // E2SM-RC-ControlHeader-Format1 ::= SEQUENCE { ueID, ric-Style-Type, ric-ControlAction-ID,
    //     ric-ControlDecision OPTIONAL, ... }
    w.extension_bit(false);
    w.bit(header.decision.is_some());
    write_ueid_gnb(&mut w, &raw);
    // RIC-Style-Type ::= INTEGER: unconstrained (11.8).
    w.unconstrained_whole_number(header.style)
        .map_err(encode_error)?;
    // RIC-ControlAction-ID ::= INTEGER (1..65535, ...): a root value is a two-octet
    // constrained whole number (11.5.7.3), others are unconstrained after extension bit 1
    // (13.2.6).
    match u16::try_from(header.action) {
        Ok(a) if a >= 1 => {
            w.extension_bit(false);
            w.constrained_whole_number(u64::from(a - 1), 65534);
        }
        _ => {
            w.extension_bit(true);
            w.unconstrained_whole_number(header.action)
                .map_err(encode_error)?;
        }
    }
    // ric-ControlDecision ENUMERATED { accept, reject, ... }
    if let Some(d) = header.decision {
        w.enumerated(u64::from(d == ControlDecision::Reject), 2, true);
    }
    Ok(w.finish())
}

/// Decodes an E2SM-RC-ControlHeader (format 1 with a gNB-UEID).
pub fn decode_control_header(bytes: &[u8]) -> Result<RcControlHeader, RcCodecError> {
    check_len(bytes)?;
    let mut r = PerReader::new(bytes);
    let (header, style, action) = read_header(&mut r).map_err(decode_error)?;
    let Some(ue) = header else {
        return Err(RcCodecError::Header(
            "only the gNB-UEID alternative of UEID is supported".into(),
        ));
    };
    let plmn = Plmn::from_octets(&ue.0.plmn)?;
    let style =
        style.map_err(|_| RcCodecError::Header("RIC Style Type does not fit in i64".into()))?;
    let action = action
        .map_err(|_| RcCodecError::Header("RIC Control Action ID does not fit in i64".into()))?;
    Ok(RcControlHeader {
        ue: GnbUeId {
            amf_ue_ngap_id: ue.0.amf_ue_ngap_id,
            plmn,
            amf_region_id: ue.0.amf_region_id,
            amf_set_id: ue.0.amf_set_id,
            amf_pointer: ue.0.amf_pointer,
        },
        style,
        action,
        decision: ue.1,
    })
}

/// A too-large INTEGER: not an APER error (the reference reads any size), but not
/// representable in `i64`.
struct TooLarge;

type HeaderParts = (
    Option<(RawGnbUeId, Option<ControlDecision>)>,
    Result<i64, TooLarge>,
    Result<i64, TooLarge>,
);

/// An unconstrained INTEGER that may not fit in `i64`.
fn read_big_int(r: &mut PerReader<'_>) -> Result<Result<i64, TooLarge>, PerError> {
    match r.unconstrained_whole_number() {
        Ok(v) => Ok(Ok(v)),
        Err(PerError::IntegerTooLarge { .. }) => Ok(Err(TooLarge)),
        Err(e) => Err(e),
    }
}

fn read_header(r: &mut PerReader<'_>) -> Result<HeaderParts, PerError> {
    let ext = r.extension_bit()?;
    if r.extension_bit()? {
        return Err(PerError::Invalid(
            &"E2SM-RC-ControlHeader: unknown format (extension alternative)",
        ));
    }
    let f1_ext = r.extension_bit()?;
    let has_decision = r.bit()?;
    let ue = read_ueid(r)?;
    let style = read_big_int(r)?;
    let action = if r.extension_bit()? {
        read_big_int(r)?
    } else {
        Ok(r.constrained_whole_number(65534)? as i64 + 1)
    };
    let decision = if has_decision {
        match r.enumerated(2, true)? {
            Ok(0) => Some(ControlDecision::Accept),
            Ok(_) => Some(ControlDecision::Reject),
            Err(_) => {
                return Err(PerError::Invalid(
                    &"ric-ControlDecision: unknown extension value",
                ))
            }
        }
    } else {
        None
    };
    if f1_ext {
        r.skip_sequence_extensions()?;
    }
    if ext {
        r.skip_sequence_extensions()?;
    }
    r.finish()?;
    Ok((ue.map(|u| (u, decision)), style, action))
}

// =========================================================================================
// Control message: encode
// =========================================================================================

/// `RANParameter-ID ::= INTEGER (1..4294967295, ...)` of a root value (our IDs are >= 1):
/// extension bit 0, then the indefinite-length case of 11.5.7.4 (2-bit length of 1 to 4
/// octets, octet-aligned value).
#[inline]
fn write_id(w: &mut PerWriter, id: u32) {
    w.extension_bit(false);
    w.constrained_whole_number(u64::from(id) - 1, RAN_PARAMETER_ID_SPAN);
}

/// Start of a `RANParameter-STRUCTURE-Item` (and of an `E2SM-RC-ControlMessage-Format1-
/// Item`, the same SEQUENCE): extension bit, ranParameter-ID.
#[inline]
fn write_item_id(w: &mut PerWriter, id: u32) {
    w.extension_bit(false);
    write_id(w, id);
}

/// `RANParameter-STRUCTURE ::= SEQUENCE { sequence-of-ranParameters SEQUENCE
/// (SIZE(1..65535)) OF RANParameter-STRUCTURE-Item OPTIONAL, ... }` with `n` items: the
/// extension bit, the presence bit, the count (two-octet aligned, 11.9.4.1).
#[inline]
fn write_structure_header(w: &mut PerWriter, n: usize) -> Result<(), RcCodecError> {
    w.bits(0b01, 2);
    w.length(n, 1, SIZE_1_65535).map_err(encode_error)
}

/// `ranParameter-valueType` = `ranP-Choice-Structure` (CHOICE index 2 of 4, extension bit 0)
/// of `RANParameter-ValueType-Choice-Structure ::= SEQUENCE { ranParameter-Structure, ... }`
/// with `n` items.
#[inline]
fn write_structure_value(w: &mut PerWriter, n: usize) -> Result<(), RcCodecError> {
    w.bits(0b0100, 4); // CHOICE ext 0, index 2 (10), SEQUENCE ext 0
    write_structure_header(w, n)
}

/// `ranP-Choice-List` (index 3) of `RANParameter-ValueType-Choice-List ::= SEQUENCE {
/// ranParameter-List RANParameter-LIST, ... }`, `RANParameter-LIST ::= SEQUENCE {
/// list-of-ranParameter SEQUENCE (SIZE(1..65535)) OF RANParameter-STRUCTURE, ... }` with `n`
/// items.
#[inline]
fn write_list_value(w: &mut PerWriter, n: usize) -> Result<(), RcCodecError> {
    w.bits(0b01100, 5); // CHOICE ext 0, index 3 (11), two SEQUENCE ext 0
    w.length(n, 1, SIZE_1_65535).map_err(encode_error)
}

/// An ELEMENT item as we send it: `ranP-Choice-ElementFalse` (index 1) with its optional
/// `ranParameter-value` present, then the `RANParameter-Value` CHOICE extension bit and its
/// 3-bit index (6 root alternatives): 9 bits in all.
#[inline]
fn write_element_head(w: &mut PerWriter, id: u32, value_index: u64) {
    write_item_id(w, id);
    // CHOICE ext 0, index 1 (01), SEQUENCE ext 0, value present, Value CHOICE ext 0.
    w.bits((0b001010 << 3) | value_index, 9);
}

/// An ELEMENT item with `valueOctS OCTET STRING` (index 4, unconstrained length).
fn write_octets_element(w: &mut PerWriter, id: u32, o: &[u8]) -> Result<(), RcCodecError> {
    write_element_head(w, id, 4);
    w.octet_string(o, 0, None).map_err(encode_error)
}

/// An ELEMENT item with `valueInt INTEGER` (index 1, unconstrained).
fn write_int_element(w: &mut PerWriter, id: u32, v: i64) -> Result<(), RcCodecError> {
    write_element_head(w, id, 1);
    w.unconstrained_whole_number(v).map_err(encode_error)
}

fn write_group(
    w: &mut PerWriter,
    group: &RrmPolicyRatioGroup,
    dialect: RanParamDialect,
    leaves: LeafEncoding,
) -> Result<(), RcCodecError> {
    group.validate()?;
    let ids = dialect.ids();
    let MemberLeaves { plmn, sst, sd } = member_leaves(&group.member, dialect, leaves)?;
    // The list item is the RRM Policy Ratio Group STRUCTURE itself (no ID on the wire):
    // RRM Policy, Min, Max, Dedicated.
    write_structure_header(w, 4)?;
    //   RRM Policy (STRUCTURE) { RRM Policy Member List }
    write_item_id(w, ids.policy);
    write_structure_value(w, 1)?;
    //     RRM Policy Member List (LIST, one item)
    write_item_id(w, ids.member_list);
    write_list_value(w, 1)?;
    //       RRM Policy Member (the list item) { PLMN Identity, S-NSSAI { SST, SD } }
    write_structure_header(w, 2)?;
    write_octets_element(w, ids.plmn, plmn.as_slice())?;
    write_item_id(w, ids.snssai);
    write_structure_value(w, if sd.is_some() { 2 } else { 1 })?;
    write_octets_element(w, ids.sst, sst.as_slice())?;
    if let Some(sd) = sd {
        write_octets_element(w, ids.sd, sd.as_slice())?;
    }
    write_int_element(w, ids.min_prb, i64::from(group.min_prb_ratio))?;
    write_int_element(w, ids.max_prb, i64::from(group.max_prb_ratio))?;
    write_int_element(w, ids.dedicated_prb, i64::from(group.dedicated_prb_ratio))
}

/// Encodes the E2SM-RC-ControlMessage format 1 carrying `control` with the leaves in the
/// form `leaves` (see [`crate::rc::encode_control_message_with_leaves`]).
pub fn encode_control_message(
    control: &SlicePrbQuotaControl,
    dialect: RanParamDialect,
    leaves: LeafEncoding,
) -> Result<Vec<u8>, RcCodecError> {
    if control.groups.is_empty() {
        return Err(RcCodecError::NoGroups);
    }
    let mut w = PerWriter::with_capacity(16 + 96 * control.groups.len());
    // E2SM-RC-ControlMessage ::= SEQUENCE { ric-controlMessage-formats CHOICE {
    //     controlMessage-Format1, ... }, ... }; E2SM-RC-ControlMessage-Format1 ::= SEQUENCE {
    //     ranP-List SEQUENCE (SIZE(0..65535)) OF Item, ... }: three extension bits, then the
    // count 1 (range 65536: two-octet aligned).
    w.bits(0, 3);
    w.length(1, 0, Some(65535)).map_err(encode_error)?;
    // E2SM-RC-ControlMessage-Format1-Item: RRM Policy Ratio List (LIST of groups).
    write_item_id(&mut w, dialect.ids().ratio_list);
    write_list_value(&mut w, control.groups.len())?;
    for group in &control.groups {
        write_group(&mut w, group, dialect, leaves)?;
    }
    Ok(w.finish())
}

// =========================================================================================
// Control message: decode into a generic RAN parameter tree
// =========================================================================================

/// A range of an arena.
#[derive(Debug, Clone, Copy)]
pub(super) struct Span {
    start: usize,
    len: usize,
}

/// RANParameter-Value.
#[derive(Debug, Clone, Copy)]
pub(super) enum Value<'a> {
    Bool,
    /// `None`: does not fit in `i64`.
    Int(Option<i64>),
    Real,
    Bits,
    Octets(&'a [u8]),
    Printable,
}

/// RANParameter-ValueType.
#[derive(Debug, Clone, Copy)]
pub(super) enum ValueType<'a> {
    ElementTrue(Value<'a>),
    ElementFalse(Option<Value<'a>>),
    Structure(Structure),
    /// Items in `Tree::structs`.
    List(Span),
}

/// RANParameter-STRUCTURE: items in `Tree::items`, `None` when the optional
/// sequence-of-ranParameters is absent.
#[derive(Debug, Clone, Copy)]
pub(super) struct Structure {
    items: Option<Span>,
}

/// RANParameter-STRUCTURE-Item (and E2SM-RC-ControlMessage-Format1-Item).
#[derive(Debug, Clone, Copy)]
struct Item<'a> {
    /// `None`: outside `u32` (only possible for an extension value).
    id: Option<u32>,
    value: ValueType<'a>,
}

/// The decoded tree. Children of a node are contiguous: they are collected on the scratch
/// stacks while decoded (depth first) and moved to the arena when their parent completes.
#[derive(Default)]
pub(super) struct Tree<'a> {
    items: Vec<Item<'a>>,
    structs: Vec<Structure>,
    item_stack: Vec<Item<'a>>,
    struct_stack: Vec<Structure>,
}

impl<'a> Tree<'a> {
    /// Appends an item to the children being collected, after its value's own children
    /// (depth first, as the reader does): for the reference to copy rasn's tree.
    #[cfg(feature = "reference")]
    pub(super) fn push_item(&mut self, id: Option<u32>, value: ValueType<'a>) {
        self.item_stack.push(Item { id, value });
    }

    /// Appends a LIST element (a STRUCTURE) to the ones being collected.
    #[cfg(feature = "reference")]
    pub(super) fn push_struct(&mut self, s: Structure) {
        self.struct_stack.push(s);
    }

    /// The STRUCTURE of the last `n` pushed items; `None` when the optional
    /// sequence-of-ranParameters is absent.
    #[cfg(feature = "reference")]
    pub(super) fn structure(&mut self, n: Option<usize>) -> Structure {
        Structure {
            items: n.map(|n| self.commit_items(n)),
        }
    }

    /// The LIST of the last `n` pushed STRUCTUREs.
    #[cfg(feature = "reference")]
    pub(super) fn list(&mut self, n: usize) -> ValueType<'a> {
        ValueType::List(self.commit_structs(n))
    }

    /// The ranP-List of the message: the last `n` pushed items.
    #[cfg(feature = "reference")]
    pub(super) fn top(&mut self, n: usize) -> Span {
        self.commit_items(n)
    }

    fn with_capacity(bytes: usize) -> Self {
        let n = bytes / 6 + 4;
        Self {
            items: Vec::with_capacity(n),
            structs: Vec::with_capacity(n / 4),
            item_stack: Vec::with_capacity(16),
            struct_stack: Vec::with_capacity(16),
        }
    }

    fn items(&self, s: &Structure) -> &[Item<'a>] {
        match s.items {
            Some(Span { start, len }) => self.items.get(start..start + len).unwrap_or(&[]),
            None => &[],
        }
    }

    fn structs(&self, span: Span) -> &[Structure] {
        self.structs
            .get(span.start..span.start + span.len)
            .unwrap_or(&[])
    }

    /// Moves the last `n` items of the scratch stack to the arena.
    fn commit_items(&mut self, n: usize) -> Span {
        let start = self.items.len();
        let from = self.item_stack.len() - n;
        self.items.extend(self.item_stack.drain(from..));
        Span { start, len: n }
    }

    fn commit_structs(&mut self, n: usize) -> Span {
        let start = self.structs.len();
        let from = self.struct_stack.len() - n;
        self.structs.extend(self.struct_stack.drain(from..));
        Span { start, len: n }
    }

    /// RANParameter-STRUCTURE-Item ::= SEQUENCE { ranParameter-ID, ranParameter-valueType,
    /// ... }
    fn read_item(&mut self, r: &mut PerReader<'a>, depth: usize) -> Result<Item<'a>, PerError> {
        let ext = r.extension_bit()?;
        let id = if r.extension_bit()? {
            match r.unconstrained_whole_number() {
                Ok(v) => u32::try_from(v).ok(),
                Err(PerError::IntegerTooLarge { .. }) => None,
                Err(e) => return Err(e),
            }
        } else {
            // 1 + offset <= 2^32 - 1
            Some(r.constrained_whole_number(RAN_PARAMETER_ID_SPAN)? as u32 + 1)
        };
        let value = self.read_value_type(r, depth)?;
        if ext {
            r.skip_sequence_extensions()?;
        }
        Ok(Item { id, value })
    }

    /// RANParameter-ValueType ::= CHOICE { ranP-Choice-ElementTrue, -ElementFalse,
    /// -Structure, -List, ... }, each alternative an extensible SEQUENCE.
    fn read_value_type(
        &mut self,
        r: &mut PerReader<'a>,
        depth: usize,
    ) -> Result<ValueType<'a>, PerError> {
        if r.extension_bit()? {
            return Err(PerError::Invalid(
                &"RANParameter-ValueType: unknown extension alternative",
            ));
        }
        let index = r.constrained_whole_number(3)?;
        let ext = r.extension_bit()?;
        let v = match index {
            0 => ValueType::ElementTrue(read_value(r)?),
            1 => {
                if r.bit()? {
                    ValueType::ElementFalse(Some(read_value(r)?))
                } else {
                    ValueType::ElementFalse(None)
                }
            }
            2 => ValueType::Structure(self.read_structure(r, depth + 1)?),
            _ => {
                if depth + 1 > MAX_DEPTH {
                    return Err(PerError::Invalid(&"RAN parameter tree nested too deeply"));
                }
                // RANParameter-LIST ::= SEQUENCE { list-of-ranParameter SEQUENCE
                //     (SIZE(1..65535)) OF RANParameter-STRUCTURE, ... }
                let list_ext = r.extension_bit()?;
                let n = r.length(1, SIZE_1_65535)?;
                for _ in 0..n {
                    let s = self.read_structure(r, depth + 1)?;
                    self.struct_stack.push(s);
                }
                if list_ext {
                    r.skip_sequence_extensions()?;
                }
                ValueType::List(self.commit_structs(n))
            }
        };
        if ext {
            r.skip_sequence_extensions()?;
        }
        Ok(v)
    }

    /// RANParameter-STRUCTURE ::= SEQUENCE { sequence-of-ranParameters SEQUENCE
    /// (SIZE(1..65535)) OF RANParameter-STRUCTURE-Item OPTIONAL, ... }
    fn read_structure(
        &mut self,
        r: &mut PerReader<'a>,
        depth: usize,
    ) -> Result<Structure, PerError> {
        if depth > MAX_DEPTH {
            return Err(PerError::Invalid(&"RAN parameter tree nested too deeply"));
        }
        let ext = r.extension_bit()?;
        let items = if r.bit()? {
            let n = r.length(1, SIZE_1_65535)?;
            for _ in 0..n {
                let item = self.read_item(r, depth)?;
                self.item_stack.push(item);
            }
            Some(self.commit_items(n))
        } else {
            None
        };
        if ext {
            r.skip_sequence_extensions()?;
        }
        Ok(Structure { items })
    }
}

/// RANParameter-Value ::= CHOICE { valueBoolean BOOLEAN, valueInt INTEGER, valueReal REAL,
/// valueBitS BIT STRING, valueOctS OCTET STRING, valuePrintableString PrintableString, ... }
fn read_value<'a>(r: &mut PerReader<'a>) -> Result<Value<'a>, PerError> {
    if r.extension_bit()? {
        return Err(PerError::Invalid(
            &"RANParameter-Value: unknown extension alternative",
        ));
    }
    Ok(match r.constrained_whole_number(5)? {
        0 => {
            r.boolean()?;
            Value::Bool
        }
        1 => match r.unconstrained_whole_number() {
            Ok(v) => Value::Int(Some(v)),
            Err(PerError::IntegerTooLarge { .. }) => Value::Int(None),
            Err(e) => return Err(e),
        },
        2 => {
            r.real()?;
            Value::Real
        }
        3 => {
            r.unconstrained_bit_string()?;
            Value::Bits
        }
        4 => Value::Octets(match r.octet_string(0, None)? {
            std::borrow::Cow::Borrowed(b) => b,
            // Unconstrained OCTET STRINGs are octet-aligned, so always borrowed.
            std::borrow::Cow::Owned(_) => return Err(PerError::Invalid(&"unaligned OCTET STRING")),
        }),
        _ => {
            r.printable_string(0, None)?;
            Value::Printable
        }
    })
}

/// E2SM-RC-ControlMessage: the tree and the span of ranP-List items.
fn read_message<'a>(r: &mut PerReader<'a>, tree: &mut Tree<'a>) -> Result<Span, PerError> {
    let ext = r.extension_bit()?;
    if r.extension_bit()? {
        return Err(PerError::Invalid(
            &"E2SM-RC-ControlMessage: unknown format (extension alternative)",
        ));
    }
    let f1_ext = r.extension_bit()?;
    let n = r.length(0, Some(65535))?;
    for _ in 0..n {
        let item = tree.read_item(r, 0)?;
        tree.item_stack.push(item);
    }
    let span = tree.commit_items(n);
    if f1_ext {
        r.skip_sequence_extensions()?;
    }
    if ext {
        r.skip_sequence_extensions()?;
    }
    r.finish()?;
    Ok(span)
}

// =========================================================================================
// Control message: check the tree against the quota shape
// =========================================================================================

/// A position in the RAN parameter tree, formatted only for error messages.
#[derive(Clone, Copy)]
enum Path<'p> {
    Root(&'static str),
    Index(&'p Path<'p>, usize),
    Child(&'p Path<'p>, &'static str),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Root(name) => f.write_str(name),
            Self::Index(p, i) => write!(f, "{p}[{i}]"),
            Self::Child(p, name) => write!(f, "{p}/{name}"),
        }
    }
}

fn shape(path: &Path<'_>, reason: impl Into<String>) -> RcCodecError {
    RcCodecError::Shape {
        path: path.to_string(),
        reason: reason.into(),
    }
}

fn id_of(item: &Item<'_>, path: &Path<'_>) -> Result<u32, RcCodecError> {
    item.id
        .ok_or_else(|| shape(path, "RAN parameter ID out of range"))
}

/// The items of a STRUCTURE value, looked up by ID; every ID must appear at most once and
/// be one of `allowed` (at most 4).
struct Fields<'t, 'a, 'p> {
    path: Path<'p>,
    allowed: &'static [u32],
    found: [Option<&'t ValueType<'a>>; 4],
}

impl<'t, 'a, 'p> Fields<'t, 'a, 'p> {
    fn of_structure(
        tree: &'t Tree<'a>,
        s: &Structure,
        path: Path<'p>,
        allowed: &'static [u32],
    ) -> Result<Self, RcCodecError> {
        let mut found = [None; 4];
        for item in tree.items(s) {
            let id = id_of(item, &path)?;
            let Some(k) = allowed.iter().position(|a| *a == id) else {
                return Err(shape(&path, format!("unexpected RAN parameter ID {id}")));
            };
            match found.get_mut(k) {
                Some(Some(_)) => {
                    return Err(shape(&path, format!("RAN parameter ID {id} appears twice")))
                }
                Some(slot) => *slot = Some(&item.value),
                None => return Err(shape(&path, "more than 4 allowed IDs")),
            }
        }
        Ok(Self {
            path,
            allowed,
            found,
        })
    }

    fn opt(&self, id: u32) -> Option<&'t ValueType<'a>> {
        let k = self.allowed.iter().position(|a| *a == id)?;
        self.found.get(k).copied().flatten()
    }

    fn get(&self, id: u32, name: &str) -> Result<&'t ValueType<'a>, RcCodecError> {
        self.opt(id)
            .ok_or_else(|| shape(&self.path, format!("missing {name} (ID {id})")))
    }

    fn child(&self, name: &'static str) -> Path<'_> {
        Path::Child(&self.path, name)
    }
}

fn as_structure<'v>(v: &'v ValueType<'_>, path: &Path<'_>) -> Result<&'v Structure, RcCodecError> {
    match v {
        ValueType::Structure(s) => Ok(s),
        _ => Err(shape(path, "expected a STRUCTURE")),
    }
}

fn as_list<'t>(
    tree: &'t Tree<'_>,
    v: &ValueType<'_>,
    path: &Path<'_>,
) -> Result<&'t [Structure], RcCodecError> {
    match v {
        ValueType::List(span) => Ok(tree.structs(*span)),
        _ => Err(shape(path, "expected a LIST")),
    }
}

fn as_element<'v, 'a>(
    v: &'v ValueType<'a>,
    path: &Path<'_>,
) -> Result<&'v Value<'a>, RcCodecError> {
    match v {
        ValueType::ElementTrue(e) => Ok(e),
        ValueType::ElementFalse(Some(e)) => Ok(e),
        ValueType::ElementFalse(None) => Err(shape(path, "ELEMENT without a value")),
        _ => Err(shape(path, "expected an ELEMENT")),
    }
}

fn as_octets<'a>(v: &ValueType<'a>, path: &Path<'_>) -> Result<&'a [u8], RcCodecError> {
    match as_element(v, path)? {
        Value::Octets(o) => Ok(o),
        _ => Err(shape(path, "expected valueOctS")),
    }
}

fn as_ratio(v: &ValueType<'_>, path: &Path<'_>) -> Result<u8, RcCodecError> {
    match as_element(v, path)? {
        Value::Int(Some(i)) => u8::try_from(*i)
            .ok()
            .filter(|r| *r <= 100)
            .ok_or_else(|| shape(path, format!("ratio {i} is not in 0..=100"))),
        Value::Int(None) => Err(shape(path, "ratio (beyond 64 bits) is not in 0..=100")),
        _ => Err(shape(path, "expected valueInt")),
    }
}

/// A LIST item is the list element itself (RRM Policy Ratio Group, RRM Policy Member). Some
/// encoders wrap its content in one more STRUCTURE item carrying the element's ID; accept
/// that form too and return the element's STRUCTURE.
fn unwrap_list_item<'t, 'p>(
    tree: &'t Tree<'_>,
    s: &'t Structure,
    path: &'p Path<'p>,
    element_id: u32,
    name: &'static str,
) -> Result<(&'t Structure, Path<'p>), RcCodecError> {
    if let [only] = tree.items(s) {
        if id_of(only, path)? == element_id {
            let inner = Path::Child(path, name);
            return Ok((as_structure(&only.value, &inner)?, inner));
        }
    }
    Ok((s, *path))
}

/// The RAN parameter IDs of a dialect as `'static` slices for [`Fields`].
struct IdSets {
    group: [u32; 4],
    policy: [u32; 1],
    member: [u32; 2],
    snssai: [u32; 2],
}

const fn id_sets(dialect: RanParamDialect) -> IdSets {
    let ids = dialect.ids();
    IdSets {
        group: [ids.policy, ids.min_prb, ids.max_prb, ids.dedicated_prb],
        policy: [ids.member_list],
        member: [ids.plmn, ids.snssai],
        snssai: [ids.sst, ids.sd],
    }
}

static ORAN_SETS: IdSets = id_sets(RanParamDialect::Oran);
static OAI_SETS: IdSets = id_sets(RanParamDialect::Oai);

/// One RRM Policy Ratio Group and the form of its leaves.
fn decode_group(
    tree: &Tree<'_>,
    s: &Structure,
    dialect: RanParamDialect,
    path: &Path<'_>,
) -> Result<(RrmPolicyRatioGroup, LeafEncodingSeen), RcCodecError> {
    let ids = dialect.ids();
    let sets = match dialect {
        RanParamDialect::Oran => &ORAN_SETS,
        RanParamDialect::Oai => &OAI_SETS,
    };
    let (s, path) = unwrap_list_item(tree, s, path, ids.ratio_group, "RRM Policy Ratio Group")?;
    let grp = Fields::of_structure(tree, s, path, &sets.group)?;
    let policy = grp.get(ids.policy, "RRM Policy")?;
    let ppath = grp.child("RRM Policy");
    let policy = Fields::of_structure(tree, as_structure(policy, &ppath)?, ppath, &sets.policy)?;
    let members = policy.get(ids.member_list, "RRM Policy Member List")?;
    let mpath = policy.child("RRM Policy Member List");
    let members = as_list(tree, members, &mpath)?;
    let [member] = members else {
        return Err(shape(
            &mpath,
            format!(
                "expected exactly one RRM Policy Member, got {}",
                members.len()
            ),
        ));
    };
    let (member, mpath) = unwrap_list_item(tree, member, &mpath, ids.member, "RRM Policy Member")?;
    let member = Fields::of_structure(tree, member, mpath, &sets.member)?;
    let plmn = member.get(ids.plmn, "PLMN Identity")?;
    let plmn_path = member.child("PLMN Identity");
    let snssai = member.get(ids.snssai, "S-NSSAI")?;
    let spath = member.child("S-NSSAI");
    let snssai = Fields::of_structure(tree, as_structure(snssai, &spath)?, spath, &sets.snssai)?;
    let sst = snssai.get(ids.sst, "SST")?;
    let sst_path = snssai.child("SST");
    let sd = snssai.opt(ids.sd);
    let sd_path = snssai.child("SD");
    let plmn = as_octets(plmn, &plmn_path)?;
    let sst = as_octets(sst, &sst_path)?;
    let sd = match sd {
        Some(sd) => Some((as_octets(sd, &sd_path)?, &sd_path)),
        None => None,
    };
    let (member, leaves) = member_from_leaves(dialect, (plmn, &plmn_path), (sst, &sst_path), sd)?;
    let min = grp.get(ids.min_prb, "Min PRB Policy Ratio")?;
    let min_prb_ratio = as_ratio(min, &grp.child("Min PRB Policy Ratio"))?;
    let max = grp.get(ids.max_prb, "Max PRB Policy Ratio")?;
    let max_prb_ratio = as_ratio(max, &grp.child("Max PRB Policy Ratio"))?;
    let ded = grp.get(ids.dedicated_prb, "Dedicated PRB Policy Ratio")?;
    let dedicated_prb_ratio = as_ratio(ded, &grp.child("Dedicated PRB Policy Ratio"))?;
    let group =
        RrmPolicyRatioGroup::new(member, min_prb_ratio, max_prb_ratio, dedicated_prb_ratio)?;
    Ok((group, leaves))
}

/// Decodes an E2SM-RC-ControlMessage format 1 carrying the slice-level PRB quota tree, with
/// the form of its leaves (see [`crate::rc::decode_control_message_with_leaves`]).
pub fn decode_control_message(
    bytes: &[u8],
    dialect: RanParamDialect,
) -> Result<DecodedControl, RcCodecError> {
    check_len(bytes)?;
    let mut tree = Tree::with_capacity(bytes.len());
    let mut r = PerReader::new(bytes);
    let top = read_message(&mut r, &mut tree).map_err(decode_error)?;
    check_message(&tree, top, dialect)
}

/// Checks a decoded E2SM-RC-ControlMessage format 1 (its ranP-List items `top` in `tree`)
/// against the slice-level PRB quota tree with the RAN parameter IDs of `dialect`, the
/// ratio ranges and their ordering; the control and the form of its leaves. Both codecs
/// decode through it.
pub(super) fn check_message(
    tree: &Tree<'_>,
    top: Span,
    dialect: RanParamDialect,
) -> Result<DecodedControl, RcCodecError> {
    let ids = dialect.ids();
    let [item] = tree
        .items
        .get(top.start..top.start + top.len)
        .unwrap_or(&[])
    else {
        return Err(shape(
            &Path::Root("ranP-List"),
            format!("expected one RAN parameter, got {}", top.len),
        ));
    };
    let path = Path::Root("RRM Policy Ratio List");
    let id = id_of(item, &path)?;
    if id != ids.ratio_list {
        return Err(shape(
            &path,
            format!("expected RAN parameter ID {}, got {id}", ids.ratio_list),
        ));
    }
    let items = as_list(tree, &item.value, &path)?;
    let mut groups = Vec::with_capacity(items.len());
    let mut leaves: Option<LeafEncodingSeen> = None;
    for (i, s) in items.iter().enumerate() {
        let (group, seen) = decode_group(tree, s, dialect, &Path::Index(&path, i))?;
        groups.push(group);
        leaves = Some(leaves.map_or(seen, |l| l.merge(seen)));
    }
    let control = SlicePrbQuotaControl { groups };
    control.validate()?;
    Ok(DecodedControl {
        control,
        // A LIST holds at least one item (SIZE(1..maxnoofItemsinList)).
        leaves: leaves.ok_or_else(|| shape(&path, "empty RRM Policy Ratio List"))?,
    })
}

#[cfg(all(test, feature = "reference"))]
mod tests {
    use super::*;
    use crate::common::reference::rc as g;
    use crate::rc::reference;
    use proptest::prelude::*;
    use rasn::types::{BitString, FixedOctetString, Integer};

    /// A header whose UEID carries every optional field of UEID-GNB (which we never send),
    /// or one of the placeholder alternatives, encoded by rasn.
    fn rasn_header(
        alternative: usize,
        f1: Option<Vec<u32>>,
        e1: Option<Vec<u32>>,
        ran_ueid: Option<[u8; 8]>,
        xnap: Option<u32>,
        gnb_id_bits: Option<(u32, usize)>,
        action: i64,
    ) -> Vec<u8> {
        let gnb = g::UEIDGNB::new(
            g::AMFUENGAPID(12345),
            g::GUAMI::new(
                g::PLMNIdentity(FixedOctetString::from([0x13, 0x00, 0x14])),
                g::AMFRegionID(Default::default()),
                g::AMFSetID(Default::default()),
                g::AMFPointer(Default::default()),
            ),
            f1.map(|ids| {
                g::UEIDGNBCUF1APIDList(
                    ids.into_iter()
                        .map(|i| g::UEIDGNBCUCPF1APIDItem::new(g::GNBCUUEF1APID(i)))
                        .collect(),
                )
            }),
            e1.map(|ids| {
                g::UEIDGNBCUCPE1APIDList(
                    ids.into_iter()
                        .map(|i| g::UEIDGNBCUCPE1APIDItem::new(g::GNBCUCPUEE1APID(i)))
                        .collect(),
                )
            }),
            ran_ueid.map(|r| g::RANUEID(FixedOctetString::from(r))),
            xnap.map(g::NGRANnodeUEXnAPID),
            gnb_id_bits.map(|(v, n)| {
                let bits: BitString = (0..n).map(|i| (v >> (n - 1 - i)) & 1 == 1).collect();
                g::GlobalGNBID::new(
                    g::PLMNIdentity(FixedOctetString::from([0x00, 0xF1, 0x10])),
                    g::GNBID::gNB_ID(bits),
                )
            }),
        );
        let p = g::UEIDPlaceholder::new;
        let ueid = match alternative {
            0 => g::UEID::gNB_UEID(gnb),
            1 => g::UEID::gNB_DU_UEID(p()),
            2 => g::UEID::gNB_CU_UP_UEID(p()),
            3 => g::UEID::ng_eNB_UEID(p()),
            4 => g::UEID::ng_eNB_DU_UEID(p()),
            5 => g::UEID::en_gNB_UEID(p()),
            _ => g::UEID::eNB_UEID(p()),
        };
        let f1 = g::E2SMRCControlHeaderFormat1::new(
            ueid,
            g::RICStyleType(Integer::from(2)),
            g::RICControlActionID(Integer::from(action)),
            Some(g::E2SMRCControlHeaderFormat1RicControlDecision::accept),
        );
        let pdu = g::E2SMRCControlHeader::new(
            g::E2SMRCControlHeaderRicControlHeaderFormats::controlHeader_Format1(f1),
        );
        rasn::aper::encode(&pdu).expect("rasn encodes the header")
    }

    proptest! {
        #[test]
        fn headers_with_optional_ueid_fields_decode_like_rasn(
            alternative in prop_oneof![3 => Just(0usize), 1 => 1usize..7],
            f1 in proptest::option::of(proptest::collection::vec(any::<u32>(), 1..=4)),
            e1 in proptest::option::of(proptest::collection::vec(any::<u32>(), 1..6)),
            ran_ueid in proptest::option::of(any::<[u8; 8]>()),
            xnap in proptest::option::of(any::<u32>()),
            gnb_id in proptest::option::of((any::<u32>(), 22usize..=32)),
            action in prop_oneof![1i64..=65535, any::<i64>()],
        ) {
            let bytes = rasn_header(alternative, f1, e1, ran_ueid, xnap, gnb_id, action);
            let fast = decode_control_header(&bytes);
            let slow = reference::decode_control_header(&bytes);
            prop_assert_eq!(&fast, &slow);
            prop_assert_eq!(fast.is_ok(), alternative == 0);
        }
    }
}

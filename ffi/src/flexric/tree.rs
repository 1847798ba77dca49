//! The E2SM-RC RAN parameter tree of the slice PRB quota control, in the shape the C shim
//! turns into FlexRIC's nested `seq_ran_param_t` structs.
//!
//! O-RAN E2SM-RC v1.03 clause 8.4.3.6 (control style 2, action 6, "Slice-level PRB quota"):
//! RRM Policy Ratio List -> items { RRM Policy { RRM Policy Member List -> items { PLMN
//! Identity, S-NSSAI { SST, SD } } }, Min, Max, Dedicated PRB Policy Ratio }. The RAN
//! parameter IDs and the leaf encodings depend on the [`RanParamDialect`], exactly as in
//! `maestro_e2sm::rc` (which documents both).

use maestro_e2sm::rc::{
    member_leaves, LeafEncoding, MemberLeaves, RanParamDialect, RrmPolicyRatioGroup,
    SlicePrbQuotaControl,
};

/// A RAN parameter value (E2SM-RC clause 9.3.11).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RpValue {
    /// ELEMENT holding an INTEGER.
    Int(i64),
    /// ELEMENT holding an OCTET STRING.
    Octets(Vec<u8>),
    /// STRUCTURE of parameters.
    Structure(Vec<RpParam>),
    /// LIST of structures (list items carry no RAN parameter ID in the ASN.1).
    List(Vec<Vec<RpParam>>),
}

/// A RAN parameter: its ID and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpParam {
    /// RAN parameter ID (E2SM-RC clause 9.3.8).
    pub id: u32,
    /// Its value.
    pub value: RpValue,
}

/// A node of the flattened tree: children of a node are contiguous, after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlatNode {
    /// RAN parameter ID (0 for list items).
    pub id: u32,
    /// What it is.
    pub kind: FlatKind,
    /// Index of its first child.
    pub first_child: u32,
    /// Number of children.
    pub n_children: u32,
}

/// The kind of a [`FlatNode`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlatKind {
    /// INTEGER element.
    Int(i64),
    /// OCTET STRING element.
    Octets(Vec<u8>),
    /// STRUCTURE (also a LIST item).
    Structure,
    /// LIST.
    List,
}

/// Why the tree cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// The control breaks the ratio ordering or has no group.
    #[error("invalid PRB quota control: {0}")]
    Invalid(String),
}

fn el(id: u32, value: RpValue) -> RpParam {
    RpParam { id, value }
}

fn group(
    g: &RrmPolicyRatioGroup,
    dialect: RanParamDialect,
    leaves: LeafEncoding,
) -> Result<Vec<RpParam>, TreeError> {
    g.validate()
        .map_err(|e| TreeError::Invalid(e.to_string()))?;
    let ids = dialect.ids();
    let m = &g.member;
    let MemberLeaves { plmn, sst, sd } =
        member_leaves(m, dialect, leaves).map_err(|e| TreeError::Invalid(e.to_string()))?;
    let mut snssai = vec![el(ids.sst, RpValue::Octets(sst.as_slice().to_vec()))];
    if let Some(sd) = sd {
        snssai.push(el(ids.sd, RpValue::Octets(sd.as_slice().to_vec())));
    }
    let member = vec![
        el(ids.plmn, RpValue::Octets(plmn.as_slice().to_vec())),
        el(ids.snssai, RpValue::Structure(snssai)),
    ];
    let policy = vec![el(ids.member_list, RpValue::List(vec![member]))];
    Ok(vec![
        el(ids.policy, RpValue::Structure(policy)),
        el(ids.min_prb, RpValue::Int(i64::from(g.min_prb_ratio))),
        el(ids.max_prb, RpValue::Int(i64::from(g.max_prb_ratio))),
        el(
            ids.dedicated_prb,
            RpValue::Int(i64::from(g.dedicated_prb_ratio)),
        ),
    ])
}

/// The top-level RAN parameters of control message format 1 for `control`: one RRM Policy
/// Ratio List with one item per group, with the RAN parameter IDs of `dialect` and the
/// PLMN/SST/SD leaves in `leaves` form (the same bytes as `maestro_e2sm`'s encoder writes).
pub fn quota_tree(
    control: &SlicePrbQuotaControl,
    dialect: RanParamDialect,
    leaves: LeafEncoding,
) -> Result<Vec<RpParam>, TreeError> {
    if control.groups.is_empty() {
        return Err(TreeError::Invalid("no RRM policy ratio group".into()));
    }
    let items = control
        .groups
        .iter()
        .map(|g| group(g, dialect, leaves))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(vec![el(dialect.ids().ratio_list, RpValue::List(items))])
}

enum Kids<'a> {
    Params(&'a [RpParam]),
    Items(&'a [Vec<RpParam>]),
}

fn flat_of(p: &RpParam) -> FlatNode {
    let kind = match &p.value {
        RpValue::Int(v) => FlatKind::Int(*v),
        RpValue::Octets(b) => FlatKind::Octets(b.clone()),
        RpValue::Structure(_) => FlatKind::Structure,
        RpValue::List(_) => FlatKind::List,
    };
    FlatNode {
        id: p.id,
        kind,
        first_child: 0,
        n_children: 0,
    }
}

fn kids_of(p: &RpParam) -> Option<Kids<'_>> {
    match &p.value {
        RpValue::Structure(c) => Some(Kids::Params(c)),
        RpValue::List(items) => Some(Kids::Items(items)),
        _ => None,
    }
}

/// Flattens `roots` breadth first: the roots are nodes `0..roots.len()`, and the children of
/// every node form one contiguous block (LIST items are STRUCTURE nodes with ID 0).
pub fn flatten(roots: &[RpParam]) -> Vec<FlatNode> {
    let mut out: Vec<FlatNode> = roots.iter().map(flat_of).collect();
    let mut queue = std::collections::VecDeque::new();
    for (i, p) in roots.iter().enumerate() {
        if let Some(k) = kids_of(p) {
            queue.push_back((i, k));
        }
    }
    while let Some((idx, kids)) = queue.pop_front() {
        let first = out.len();
        match kids {
            Kids::Params(params) => {
                for p in params {
                    out.push(flat_of(p));
                    if let Some(k) = kids_of(p) {
                        queue.push_back((out.len() - 1, k));
                    }
                }
                out[idx].n_children = params.len() as u32;
            }
            Kids::Items(items) => {
                for item in items {
                    out.push(FlatNode {
                        id: 0,
                        kind: FlatKind::Structure,
                        first_child: 0,
                        n_children: 0,
                    });
                    queue.push_back((out.len() - 1, Kids::Params(item)));
                }
                out[idx].n_children = items.len() as u32;
            }
        }
        out[idx].first_child = first as u32;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use maestro_e2sm::rc::RrmPolicyMember;

    fn control() -> SlicePrbQuotaControl {
        let m = |sd| RrmPolicyMember {
            mcc: "001".into(),
            mnc: "01".into(),
            sst: 1,
            sd,
        };
        SlicePrbQuotaControl {
            groups: vec![
                RrmPolicyRatioGroup::new(m(Some(1)), 20, 60, 10).unwrap(),
                RrmPolicyRatioGroup::new(m(None), 5, 40, 0).unwrap(),
            ],
        }
    }

    fn ids_in(p: &RpParam, out: &mut Vec<u32>) {
        out.push(p.id);
        match &p.value {
            RpValue::Structure(c) => c.iter().for_each(|c| ids_in(c, out)),
            RpValue::List(items) => items.iter().flatten().for_each(|c| ids_in(c, out)),
            _ => {}
        }
    }

    #[test]
    fn oran_tree_uses_clause_8_4_3_6_ids_and_binary_leaves() {
        let t = quota_tree(&control(), RanParamDialect::Oran, LeafEncoding::Binary).unwrap();
        let mut ids = Vec::new();
        t.iter().for_each(|p| ids_in(p, &mut ids));
        // list 1; group 1: policy 3, member list 5, PLMN 7, S-NSSAI 8, SST 9, SD 10, 11, 12, 13;
        // group 2 has no SD.
        assert_eq!(
            ids,
            vec![1, 3, 5, 7, 8, 9, 10, 11, 12, 13, 3, 5, 7, 8, 9, 11, 12, 13]
        );
        let RpValue::List(items) = &t[0].value else {
            panic!("not a list")
        };
        assert_eq!(items[0][1].value, RpValue::Int(20));
        assert_eq!(items[0][2].value, RpValue::Int(60));
        assert_eq!(items[0][3].value, RpValue::Int(10));
        let RpValue::Structure(policy) = &items[0][0].value else {
            panic!("policy")
        };
        let RpValue::List(members) = &policy[0].value else {
            panic!("members")
        };
        // 001/01 -> 00 F1 10 (TS 24.008 10.5.1.13)
        assert_eq!(members[0][0].value, RpValue::Octets(vec![0x00, 0xF1, 0x10]));
        let RpValue::Structure(snssai) = &members[0][1].value else {
            panic!("snssai")
        };
        assert_eq!(snssai[1].value, RpValue::Octets(vec![0, 0, 1]));
    }

    #[test]
    fn oai_tree_uses_consecutive_ids_and_ascii_leaves() {
        let t = quota_tree(&control(), RanParamDialect::Oai, LeafEncoding::Ascii).unwrap();
        let mut ids = Vec::new();
        t.iter().for_each(|p| ids_in(p, &mut ids));
        assert_eq!(
            ids,
            vec![1, 3, 4, 6, 7, 8, 9, 10, 11, 12, 3, 4, 6, 7, 8, 9, 10, 11, 12]
        );
        let RpValue::List(items) = &t[0].value else {
            panic!("not a list")
        };
        let RpValue::Structure(policy) = &items[1][0].value else {
            panic!("policy")
        };
        let RpValue::List(members) = &policy[0].value else {
            panic!("members")
        };
        assert_eq!(members[0][0].value, RpValue::Octets(b"00101".to_vec()));
        let RpValue::Structure(snssai) = &members[0][1].value else {
            panic!("snssai")
        };
        assert_eq!(snssai[0].value, RpValue::Octets(b"1".to_vec()));
        assert_eq!(snssai[1].value, RpValue::Octets(b"16777215".to_vec()));
    }

    #[test]
    fn leaf_form_is_chosen_apart_from_the_ids() {
        // OAI IDs with binary leaves (a FlexRIC-based xApp filling the IR with octets), and
        // O-RAN IDs with ASCII leaves: IDs follow the dialect, leaves the setting, SD
        // presence the dialect.
        let leaves_of = |t: &[RpParam], item: usize| {
            let RpValue::List(items) = &t[0].value else {
                panic!("not a list")
            };
            let RpValue::Structure(policy) = &items[item][0].value else {
                panic!("policy")
            };
            let RpValue::List(members) = &policy[0].value else {
                panic!("members")
            };
            let RpValue::Structure(snssai) = &members[0][1].value else {
                panic!("snssai")
            };
            (members[0][0].value.clone(), snssai.clone())
        };
        let t = quota_tree(&control(), RanParamDialect::Oai, LeafEncoding::Binary).unwrap();
        let (plmn, snssai) = leaves_of(&t, 1);
        assert_eq!(plmn, RpValue::Octets(vec![0x00, 0xF1, 0x10]));
        assert_eq!(snssai[0], el(8, RpValue::Octets(vec![1])));
        assert_eq!(snssai[1], el(9, RpValue::Octets(vec![0xFF, 0xFF, 0xFF])));
        let t = quota_tree(&control(), RanParamDialect::Oran, LeafEncoding::Ascii).unwrap();
        let (plmn, snssai) = leaves_of(&t, 0);
        assert_eq!(plmn, RpValue::Octets(b"00101".to_vec()));
        assert_eq!(snssai[0], el(9, RpValue::Octets(b"1".to_vec())));
        assert_eq!(snssai[1], el(10, RpValue::Octets(b"1".to_vec())));
        assert_eq!(leaves_of(&t, 1).1.len(), 1, "O-RAN IDs: no SD, none sent");
    }

    #[test]
    fn flatten_keeps_children_contiguous_and_in_bounds() {
        let t = quota_tree(&control(), RanParamDialect::Oran, LeafEncoding::Binary).unwrap();
        let flat = flatten(&t);
        // 1 list + 2 items + 2x(policy,min,max,ded) + 2 member lists + 2 member items
        // + 2x(plmn, snssai) + sst,sd + sst
        assert_eq!(flat.len(), 1 + 2 + 8 + 2 + 2 + 4 + 3);
        assert_eq!(flat[0].id, 1);
        assert_eq!(flat[0].kind, FlatKind::List);
        assert_eq!((flat[0].first_child, flat[0].n_children), (1, 2));
        for n in &flat {
            assert!((n.first_child + n.n_children) as usize <= flat.len());
            if n.n_children > 0 {
                assert!(n.first_child > 0);
            }
        }
        // the first item's children are policy, min, max, dedicated
        let item = &flat[1];
        let kids: Vec<u32> = (item.first_child..item.first_child + item.n_children)
            .map(|i| flat[i as usize].id)
            .collect();
        assert_eq!(kids, vec![3, 11, 12, 13]);
    }

    #[test]
    fn rejects_empty_and_unordered_controls() {
        let empty = SlicePrbQuotaControl { groups: vec![] };
        assert!(quota_tree(&empty, RanParamDialect::Oran, LeafEncoding::Binary).is_err());
        let mut c = control();
        c.groups[0].min_prb_ratio = 90; // > max 60
        assert!(matches!(
            quota_tree(&c, RanParamDialect::Oai, LeafEncoding::Ascii),
            Err(TreeError::Invalid(_))
        ));
    }
}

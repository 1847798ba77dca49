//! The PLMN Identity, SST and SD leaves of an RRM Policy Member (E2SM-RC v1.03 clause
//! 8.4.3.6), binary or ASCII: the bytes both codecs write ([`member_leaves`], also FlexRIC's
//! IR in `maestro-ffi`) and the rule both read them by ([`member_from_leaves`]; module docs
//! of [`crate::rc`]: "Decoding: telling binary from ASCII").

use super::{LeafEncoding, LeafEncodingSeen, RanParamDialect, RcCodecError, RrmPolicyMember};
use crate::common::{plmn_to_bcd, Plmn, NO_SD};

/// A PLMN Identity, SST or SD leaf as its shape alone reads it (module docs of [`crate::rc`]: "Decoding").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LeafValue<T> {
    /// Only the binary form has this shape.
    Binary(T),
    /// Only the ASCII form has this shape.
    Ascii(T),
    /// Both forms have this shape; the value read in each.
    Either {
        /// Read as binary.
        binary: T,
        /// Read as ASCII.
        ascii: T,
    },
}

impl<T> LeafValue<T> {
    /// The value and the form it was read in; an ambiguous leaf takes the form `anchor`.
    fn resolve(self, anchor: LeafEncoding) -> (T, LeafEncoding) {
        match (self, anchor) {
            (Self::Binary(v), _) | (Self::Either { binary: v, .. }, LeafEncoding::Binary) => {
                (v, LeafEncoding::Binary)
            }
            (Self::Ascii(v), _) | (Self::Either { ascii: v, .. }, LeafEncoding::Ascii) => {
                (v, LeafEncoding::Ascii)
            }
        }
    }
}

/// The number that 1 to 8 ASCII decimal digits spell; `None` for any other content.
fn ascii_decimal(o: &[u8]) -> Option<u32> {
    if o.is_empty() || o.len() > 8 || !o.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(o.iter().fold(0u32, |a, d| a * 10 + u32::from(d - b'0')))
}

fn leaf_shape(path: &impl std::fmt::Display, reason: impl Into<String>) -> RcCodecError {
    RcCodecError::Shape {
        path: path.to_string(),
        reason: reason.into(),
    }
}

/// PLMN Identity: 3 octets are binary (BCD digits, TS 38.413 clause 9.3.3.5), 5 or 6 ASCII
/// digits are `mccmnc` text; never ambiguous. MCC, MNC and the form.
fn plmn_leaf(
    o: &[u8],
    path: &impl std::fmt::Display,
) -> Result<(String, String, LeafEncoding), RcCodecError> {
    match o.len() {
        3 => {
            let p = Plmn::from_octets(o)?;
            Ok((p.mcc(), p.mnc(), LeafEncoding::Binary))
        }
        5 | 6 if o.iter().all(u8::is_ascii_digit) => {
            let text = |b: &[u8]| b.iter().map(|&d| char::from(d)).collect::<String>();
            let (mcc, mnc) = o.split_at(3);
            Ok((text(mcc), text(mnc), LeafEncoding::Ascii))
        }
        _ => Err(leaf_shape(
            path,
            format!("expected 3 BCD octets or 5 to 6 ASCII digits, got {o:02x?}"),
        )),
    }
}

/// SST: 1 octet (TS 38.413 clause 9.3.1.24) or 1 to 8 ASCII digits of at most 255; a single
/// ASCII digit octet is both.
fn sst_leaf(o: &[u8], path: &impl std::fmt::Display) -> Result<LeafValue<u8>, RcCodecError> {
    match o {
        [b] if b.is_ascii_digit() => Ok(LeafValue::Either {
            binary: *b,
            ascii: *b - b'0',
        }),
        [b] => Ok(LeafValue::Binary(*b)),
        _ => match ascii_decimal(o) {
            Some(v) => u8::try_from(v)
                .map(LeafValue::Ascii)
                .map_err(|_| leaf_shape(path, format!("SST {v} > 255"))),
            None => Err(leaf_shape(
                path,
                format!("expected 1 octet or 1 to 8 ASCII digits, got {o:02x?}"),
            )),
        },
    }
}

/// SD: 3 octets big-endian (TS 38.413 clause 9.3.1.24) or 1 to 8 ASCII digits of at most
/// 0xFFFFFF; 3 ASCII digits are both.
fn sd_leaf(o: &[u8], path: &impl std::fmt::Display) -> Result<LeafValue<u32>, RcCodecError> {
    match (o, ascii_decimal(o)) {
        ([a, b, c], ascii) => {
            let binary = u32::from_be_bytes([0, *a, *b, *c]);
            Ok(match ascii {
                Some(ascii) => LeafValue::Either { binary, ascii },
                None => LeafValue::Binary(binary),
            })
        }
        (_, Some(v)) if v > NO_SD => Err(RcCodecError::Sd(v)),
        (_, Some(v)) => Ok(LeafValue::Ascii(v)),
        (_, None) => Err(leaf_shape(
            path,
            format!("expected 3 octets or 1 to 8 ASCII digits, got {o:02x?}"),
        )),
    }
}

/// One leaf's octets in a fixed buffer (no allocation: the hand-written codec encodes
/// with it on every control).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeafOctets<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> LeafOctets<N> {
    fn from_slice(octets: &[u8]) -> Self {
        let mut buf = [0u8; N];
        buf[..octets.len()].copy_from_slice(octets);
        Self {
            buf,
            len: octets.len(),
        }
    }

    /// The decimal ASCII digits of `v` (N must hold them).
    fn decimal(v: u32) -> Self {
        let mut digits = [0u8; 10];
        let mut i = digits.len();
        let mut v = v;
        loop {
            i -= 1;
            digits[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        Self::from_slice(&digits[i..])
    }

    /// The octets.
    pub fn as_slice(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// The PLMN Identity, SST and SD octet strings of one RRM Policy Member as they go on the
/// wire: the one place that decides the leaf bytes, for both codecs and for FlexRIC's IR
/// (`maestro-ffi`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberLeaves {
    /// PLMN Identity: 3 BCD octets (TS 38.413 clause 9.3.3.5) or ASCII "mccmnc".
    pub plmn: LeafOctets<6>,
    /// SST: 1 octet (TS 38.413 clause 9.3.1.24) or decimal ASCII (at most "255").
    pub sst: LeafOctets<3>,
    /// SD: 3 octets big-endian or decimal ASCII (at most "16777215"); `None` when not sent.
    pub sd: Option<LeafOctets<8>>,
}

/// The leaves of `m` with the IDs' dialect deciding whether SD is always sent (OAI's agent
/// requires it, "no SD" being 0xFFFFFF, TS 23.003 clause 28.4.2) and `leaves` their form.
pub fn member_leaves(
    m: &RrmPolicyMember,
    dialect: RanParamDialect,
    leaves: LeafEncoding,
) -> Result<MemberLeaves, RcCodecError> {
    if let Some(sd) = m.sd.filter(|sd| *sd > NO_SD) {
        return Err(RcCodecError::Sd(sd));
    }
    let bcd = plmn_to_bcd(&m.mcc, &m.mnc)?;
    let sd = if dialect.always_sends_sd() {
        Some(m.sd.unwrap_or(NO_SD))
    } else {
        m.sd
    };
    Ok(match leaves {
        LeafEncoding::Binary => MemberLeaves {
            plmn: LeafOctets::from_slice(&bcd),
            sst: LeafOctets::from_slice(&[m.sst]),
            // TS 38.413 clause 9.3.1.24: SD is OCTET STRING (SIZE(3)), big-endian.
            sd: sd.map(|sd| LeafOctets::from_slice(&sd.to_be_bytes()[1..])),
        },
        // As the OAI agent reads them: PLMN "mccmnc", SST and SD in decimal. plmn_to_bcd
        // above has checked MCC (3 digits) and MNC (2 or 3).
        LeafEncoding::Ascii => {
            let mut plmn = [0u8; 6];
            let (c, n) = (m.mcc.as_bytes(), m.mnc.as_bytes());
            plmn[..c.len()].copy_from_slice(c);
            plmn[c.len()..c.len() + n.len()].copy_from_slice(n);
            MemberLeaves {
                plmn: LeafOctets::from_slice(&plmn[..c.len() + n.len()]),
                sst: LeafOctets::decimal(u32::from(m.sst)),
                sd: sd.map(LeafOctets::decimal),
            }
        }
    })
}

/// The RRM Policy Member that the PLMN Identity, SST and (when present) SD octet strings of
/// one member carry, binary or ASCII leaf by leaf, and the form it was read in: the rule of
/// the module docs of [`crate::rc`] ("Decoding"), shared by both codecs so that they agree exactly. In a
/// dialect that [always sends SD](RanParamDialect::always_sends_sd), SD 0xFFFFFF is `None`.
/// Each octet string comes with its path in the tree, for errors.
pub(crate) fn member_from_leaves<P: std::fmt::Display>(
    dialect: RanParamDialect,
    plmn: (&[u8], &P),
    sst: (&[u8], &P),
    sd: Option<(&[u8], &P)>,
) -> Result<(RrmPolicyMember, LeafEncodingSeen), RcCodecError> {
    let (mcc, mnc, anchor) = plmn_leaf(plmn.0, plmn.1)?;
    let (sst, sst_form) = sst_leaf(sst.0, sst.1)?.resolve(anchor);
    let mut seen = LeafEncodingSeen::from(anchor).and(sst_form);
    let sd = match sd {
        None => None,
        Some((o, path)) => {
            let (v, form) = sd_leaf(o, path)?.resolve(anchor);
            seen = seen.and(form);
            Some(v).filter(|v| !(dialect.always_sends_sd() && *v == NO_SD))
        }
    };
    Ok((RrmPolicyMember { mcc, mnc, sst, sd }, seen))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_leaves() {
        assert_eq!(LeafOctets::<3>::decimal(0).as_slice(), b"0");
        assert_eq!(LeafOctets::<3>::decimal(255).as_slice(), b"255");
        assert_eq!(LeafOctets::<8>::decimal(16_777_215).as_slice(), b"16777215");
    }
}

//! The E2SM common IEs that E2SM-RC and E2SM-KPM share (O-RAN E2SM v03.00 clause 6.2.2):
//! PLMN identity (BCD, TS 38.413 clause 9.3.3.5 / TS 24.008 clause 10.5.1.13), S-NSSAI
//! (TS 38.413 clause 9.3.1.24), and the gNB-UEID alternative of UEID with its hand-written
//! ALIGNED PER writer and reader (over [`crate::per`]). The rasn types of the common IEs and
//! their conversions, used by both reference codecs, are `common::reference` (feature
//! `reference`).

use serde::{Deserialize, Serialize};

use crate::per::{PerError, PerReader, PerWriter};

#[cfg(feature = "reference")]
pub(crate) mod reference;

/// An invalid PLMN identity: not 3 MCC digits and 2 or 3 MNC digits, or not 3 BCD octets.
/// The E2SM-RC codec reports it as `RcCodecError::Plmn` with the same text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid PLMN identity: {0}")]
pub struct PlmnError(pub String);

// ---------------------------------------------------------------------------------------
// PLMN identity, S-NSSAI
// ---------------------------------------------------------------------------------------

/// The first 3 digits of `s` and its length; every character must be a digit. (No heap
/// allocation: this runs for every UE of a KPM indication.)
fn digits(s: &str, what: &str) -> Result<([u8; 3], usize), PlmnError> {
    let mut d = [0u8; 3];
    for (i, b) in s.bytes().enumerate() {
        if !b.is_ascii_digit() {
            return Err(PlmnError(format!("{what} {s:?} is not all digits")));
        }
        if let Some(slot) = d.get_mut(i) {
            *slot = b - b'0';
        }
    }
    Ok((d, s.len()))
}

/// PLMN identity as 3 octets of BCD digits: TS 38.413 clause 9.3.3.5 refers to
/// TS 24.008 clause 10.5.1.13 (figure 10.5.13): octet 1 = MCC digit 2 | MCC digit 1,
/// octet 2 = MNC digit 3 | MCC digit 3 (MNC digit 3 is the filler 0xF for a 2-digit MNC),
/// octet 3 = MNC digit 2 | MNC digit 1; high nibble first in each pair.
pub fn plmn_to_bcd(mcc: &str, mnc: &str) -> Result<[u8; 3], PlmnError> {
    let (c, c_len) = digits(mcc, "MCC")?;
    let (n, n_len) = digits(mnc, "MNC")?;
    if c_len != 3 {
        return Err(PlmnError(format!("MCC {mcc:?} must have 3 digits")));
    }
    let n3 = match n_len {
        2 => 0x0F,
        3 => n[2],
        _ => return Err(PlmnError(format!("MNC {mnc:?} must have 2 or 3 digits"))),
    };
    Ok([c[1] << 4 | c[0], n3 << 4 | c[2], n[1] << 4 | n[0]])
}

/// Inverse of [`plmn_to_bcd`].
pub fn plmn_from_bcd(octets: &[u8]) -> Result<(String, String), PlmnError> {
    let plmn = Plmn::from_octets(octets)?;
    Ok((plmn.mcc(), plmn.mnc()))
}

/// A PLMN identity kept in its wire form, the 3 BCD octets of TS 38.413 clause 9.3.3.5
/// (TS 24.008 clause 10.5.1.13): MCC digits 1-2, MNC digit 3 (0xF filler for 2-digit MNCs) and
/// MCC digit 3, MNC digits 1-2. Only valid identities can be built, so it is `Copy` and free
/// to encode; [`Plmn::mcc`] and [`Plmn::mnc`] give the digits as text.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Plmn([u8; 3]);

impl Plmn {
    /// The test PLMN 001/01 (TS 23.003 clause 2.2, "test networks").
    pub const TEST: Plmn = Plmn([0x00, 0xF1, 0x10]);

    /// From MCC (3 digits) and MNC (2 or 3 digits) text.
    pub fn new(mcc: &str, mnc: &str) -> Result<Self, PlmnError> {
        plmn_to_bcd(mcc, mnc).map(Self)
    }

    /// From the 3 wire octets, checked to be BCD digits (with the MNC filler allowed).
    pub fn from_octets(octets: &[u8]) -> Result<Self, PlmnError> {
        let Ok(o) = <[u8; 3]>::try_from(octets) else {
            return Err(PlmnError(format!(
                "PLMN identity must be 3 octets, got {}",
                octets.len()
            )));
        };
        let nib = Self(o).nibbles();
        let n = if nib[5] == 0x0F { 5 } else { 6 };
        if nib[..n].iter().any(|d| *d > 9) {
            return Err(PlmnError(format!(
                "PLMN identity {o:02x?} has a non-BCD digit"
            )));
        }
        Ok(Self(o))
    }

    /// The 3 wire octets.
    pub fn bcd(self) -> [u8; 3] {
        self.0
    }

    /// MCC digits 1-3, MNC digits 1-3 (the last is 0xF for a 2-digit MNC).
    fn nibbles(self) -> [u8; 6] {
        let [o1, o2, o3] = self.0;
        [o1 & 0x0F, o1 >> 4, o2 & 0x0F, o3 & 0x0F, o3 >> 4, o2 >> 4]
    }

    /// The MCC as 3 digits.
    pub fn mcc(self) -> String {
        self.nibbles()[..3]
            .iter()
            .map(|d| char::from(b'0' + d))
            .collect()
    }

    /// The MNC as 2 or 3 digits.
    pub fn mnc(self) -> String {
        let nib = self.nibbles();
        let n = if nib[5] == 0x0F { 5 } else { 6 };
        nib[3..n].iter().map(|d| char::from(b'0' + d)).collect()
    }
}

impl std::fmt::Debug for Plmn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Plmn({}-{})", self.mcc(), self.mnc())
    }
}

impl std::fmt::Display for Plmn {
    /// `mcc-mnc`, e.g. `001-01`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.mcc(), self.mnc())
    }
}

/// SD value meaning "no SD" (TS 23.003 clause 28.4.2).
pub(crate) const NO_SD: u32 = 0x00FF_FFFF;

/// S-NSSAI (TS 23.003 clause 28.4.2; TS 38.413 clause 9.3.1.24).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Snssai {
    /// Slice/Service Type.
    pub sst: u8,
    /// Slice Differentiator (24 bits), when present.
    pub sd: Option<u32>,
}

/// The gNB-UEID alternative of UEID (E2SM common IEs): AMF UE NGAP ID and GUAMI
/// (TS 38.413 clause 9.3.3.3). Slice-level control is not about one UE; the E2 nodes we
/// target ignore it, see [`GnbUeId::placeholder`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GnbUeId {
    /// AMF UE NGAP ID, 0..2^40-1.
    pub amf_ue_ngap_id: u64,
    /// GUAMI PLMN (MCC and MNC).
    pub plmn: Plmn,
    /// AMF Region ID (8 bits).
    pub amf_region_id: u8,
    /// AMF Set ID (10 bits).
    pub amf_set_id: u16,
    /// AMF Pointer (6 bits).
    pub amf_pointer: u8,
}

impl GnbUeId {
    /// Checks the field widths of TS 38.413 clause 9.3.3.3 (AMF UE NGAP ID 40 bits, AMF Set
    /// ID 10, AMF Pointer 6); the reason when one is exceeded.
    pub fn check(&self) -> Result<(), String> {
        if self.amf_ue_ngap_id >= 1 << 40 {
            return Err(format!(
                "AMF UE NGAP ID {} exceeds 40 bits",
                self.amf_ue_ngap_id
            ));
        }
        if self.amf_set_id >= 1 << 10 || self.amf_pointer >= 1 << 6 {
            return Err("AMF Set ID exceeds 10 bits or AMF Pointer exceeds 6 bits".into());
        }
        Ok(())
    }

    /// AMF UE NGAP ID 0 with a GUAMI of the test PLMN 001/01 and zero AMF identifiers,
    /// as sent with cell-wide (not per-UE) controls.
    pub fn placeholder() -> Self {
        Self {
            amf_ue_ngap_id: 0,
            plmn: Plmn::TEST,
            amf_region_id: 0,
            amf_set_id: 0,
            amf_pointer: 0,
        }
    }
}

// =========================================================================================
// UEID (gNB-UEID), hand-written ALIGNED PER
// =========================================================================================

/// The gNB-UEID fields this crate represents, as on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawGnbUeId {
    /// AMF-UE-NGAP-ID.
    pub amf_ue_ngap_id: u64,
    /// GUAMI pLMNIdentity.
    pub plmn: [u8; 3],
    /// AMFRegionID (8 bits).
    pub amf_region_id: u8,
    /// AMFSetID (10 bits).
    pub amf_set_id: u16,
    /// AMFPointer (6 bits).
    pub amf_pointer: u8,
}

/// `ub - lb` of AMF-UE-NGAP-ID ::= INTEGER (0..1099511627775).
const AMF_UE_NGAP_ID_SPAN: u64 = (1 << 40) - 1;
/// `ub - lb` of INTEGER (0..4294967295).
const U32_SPAN: u64 = u32::MAX as u64;

/// Writes `UEID ::= CHOICE { gNB-UEID UEID-GNB, <6 more>, ... }` with the gNB-UEID
/// alternative and none of its optional fields.
pub(crate) fn write_ueid_gnb(w: &mut PerWriter, ue: &RawGnbUeId) {
    // CHOICE: extension bit 0, index 0 of 7 root alternatives (3 bits, X.691 23.6-23.7).
    w.extension_bit(false);
    w.constrained_whole_number(0, 6);
    // UEID-GNB ::= SEQUENCE { ..., 5 OPTIONAL, ... }: extension bit, presence bitmap.
    w.extension_bit(false);
    w.bits(0, 5);
    // amf-UE-NGAP-ID INTEGER (0..2^40-1): indefinite-length case (11.5.7.4).
    w.constrained_whole_number(ue.amf_ue_ngap_id, AMF_UE_NGAP_ID_SPAN);
    // guami GUAMI ::= SEQUENCE { pLMNIdentity OCTET STRING (SIZE(3)), aMFRegionID BIT
    // STRING (SIZE(8)), aMFSetID BIT STRING (SIZE(10)), aMFPointer BIT STRING (SIZE(6)), ...}
    w.extension_bit(false);
    w.aligned_octets(&ue.plmn); // fixed size > 2 octets: octet-aligned, no length (17.7)
    w.bits(u64::from(ue.amf_region_id), 8); // fixed size <= 16 bits: not aligned (16.9)
    w.bits(u64::from(ue.amf_set_id), 10);
    w.bits(u64::from(ue.amf_pointer), 6);
}

/// Reads a `UEID`; `None` for the six alternatives other than gNB-UEID (placeholders in our
/// subset), whose contents are skipped. Optional fields of UEID-GNB are read and dropped.
pub(crate) fn read_ueid(r: &mut PerReader<'_>) -> Result<Option<RawGnbUeId>, PerError> {
    if r.extension_bit()? {
        return Err(PerError::Invalid(
            &"UEID: unknown extension alternative of the CHOICE",
        ));
    }
    if r.constrained_whole_number(6)? != 0 {
        // UEID-Placeholder ::= SEQUENCE { ... }
        if r.extension_bit()? {
            r.skip_sequence_extensions()?;
        }
        return Ok(None);
    }
    let ext = r.extension_bit()?;
    let present = r.bits(5)?;
    let amf_ue_ngap_id = r.constrained_whole_number(AMF_UE_NGAP_ID_SPAN)?;
    let guami_ext = r.extension_bit()?;
    let p = r.aligned_octets(3)?;
    let plmn = [p[0], p[1], p[2]];
    let amf_region_id = r.bits(8)? as u8;
    let amf_set_id = r.bits(10)? as u16;
    let amf_pointer = r.bits(6)? as u8;
    if guami_ext {
        r.skip_sequence_extensions()?;
    }
    // gNB-CU-UE-F1AP-ID-List SEQUENCE (SIZE(1..maxF1APid = 4)) OF SEQUENCE {
    //     gNB-CU-UE-F1AP-ID INTEGER (0..4294967295), ... }
    if present & 0b10000 != 0 {
        for _ in 0..r.length(1, Some(4))? {
            let e = r.extension_bit()?;
            r.constrained_whole_number(U32_SPAN)?;
            if e {
                r.skip_sequence_extensions()?;
            }
        }
    }
    // gNB-CU-CP-UE-E1AP-ID-List SEQUENCE (SIZE(1..maxE1APid = 65535)) OF SEQUENCE {
    //     gNB-CU-CP-UE-E1AP-ID INTEGER (0..4294967295), ... }
    if present & 0b01000 != 0 {
        for _ in 0..r.length(1, Some(65535))? {
            let e = r.extension_bit()?;
            r.constrained_whole_number(U32_SPAN)?;
            if e {
                r.skip_sequence_extensions()?;
            }
        }
    }
    // ran-UEID OCTET STRING (SIZE(8))
    if present & 0b00100 != 0 {
        r.aligned_octets(8)?;
    }
    // m-NG-RAN-UE-XnAP-ID INTEGER (0..4294967295)
    if present & 0b00010 != 0 {
        r.constrained_whole_number(U32_SPAN)?;
    }
    // globalGNB-ID SEQUENCE { pLMNIdentity, gNB-ID CHOICE { gNB-ID BIT STRING
    //     (SIZE(22..32)), ... }, ... }
    if present & 0b00001 != 0 {
        let e = r.extension_bit()?;
        r.aligned_octets(3)?;
        if r.extension_bit()? {
            return Err(PerError::Invalid(
                &"GNB-ID: unknown extension alternative of the CHOICE",
            ));
        }
        r.bit_string(22, Some(32))?;
        if e {
            r.skip_sequence_extensions()?;
        }
    }
    if ext {
        r.skip_sequence_extensions()?;
    }
    Ok(Some(RawGnbUeId {
        amf_ue_ngap_id,
        plmn,
        amf_region_id,
        amf_set_id,
        amf_pointer,
    }))
}

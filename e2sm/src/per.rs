//! A small, fast ASN.1 ALIGNED PER (ITU-T X.691, 02/2021) bit writer and reader.
//!
//! The hand-written E2SM codecs of this crate ([`crate::rc_per`], [`crate::kpm_per`]) are
//! built from these primitives; the clause numbers in the comments are those of X.691 (and
//! X.690 for REAL contents). Only the ALIGNED variant is implemented.
//!
//! * [`PerWriter`] appends bits to a `Vec<u8>` through a small accumulator: whole octets are
//!   pushed as soon as they are complete, octet-aligned strings are copied with one
//!   `extend_from_slice`.
//! * [`PerReader`] reads from a `&[u8]` with a bit index; every read is bounds-checked and
//!   returns a [`PerError`] instead of panicking, whatever the input. Octet-aligned strings
//!   are returned as borrowed sub-slices of the input (no copy).
//!
//! Lengths of 16K or more, which X.691 clause 11.9.3.8 encodes in fragments, are supported
//! for open types only ([`PerWriter::open_type`], [`PerReader::open_type`]); elsewhere the
//! reader returns [`PerError::Fragmented`] and the writer refuses the value. Integers are
//! limited to 64 bits (`i64` / `u64`); larger encodings are [`PerError::IntegerTooLarge`].
//!
//! Padding bits inserted for octet alignment are written as 0 and ignored when reading
//! (X.691 clause 11.1.4 lets a decoder accept any value). [`PerReader::finish`] ends a
//! complete encoding: octets left after its final padding are an error.

/// Errors of [`PerReader`] (and of [`PerWriter`] for values it cannot encode).
///
/// Every payload is at most 8 bytes (numbers saturate at `u32::MAX`, texts are
/// `&'static &'static str`), so that `Result<u64, PerError>` is two words and every read
/// returns in registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PerError {
    /// The input ends before the field does.
    #[error("input ends at bit {at}: {needed} more bits needed")]
    UnexpectedEnd {
        /// Bit position of the read.
        at: u32,
        /// Bits missing.
        needed: u32,
    },
    /// A length of 16K or more (X.691 clause 11.9.3.8).
    #[error("fragmented lengths (16K or more, X.691 11.9.3.8) are not supported")]
    Fragmented,
    /// A constrained whole number beyond its range (X.691 clause 11.5.7).
    #[error("constrained whole number lb + {offset} beyond the range lb..=lb + {span}")]
    OutOfRange {
        /// Offset from the lower bound.
        offset: u32,
        /// Upper bound minus lower bound.
        span: u32,
    },
    /// A length below the lower bound of its size constraint.
    #[error("size {size} below the size constraint's lower bound {lb}")]
    SizeTooSmall {
        /// The length found or given.
        size: u32,
        /// Lower bound.
        lb: u32,
    },
    /// A length above the upper bound of its size constraint.
    #[error("size {size} above the size constraint's upper bound {ub}")]
    SizeTooLarge {
        /// The length found or given.
        size: u32,
        /// Upper bound.
        ub: u32,
    },
    /// An INTEGER or REAL component that does not fit in 64 bits.
    #[error("integer of {octets} octets does not fit in 64 bits")]
    IntegerTooLarge {
        /// Length of its encoding.
        octets: u32,
    },
    /// A character outside the PrintableString alphabet (X.680 clause 41.4, table 10).
    #[error("character {0:#04x} is not in the PrintableString alphabet")]
    NotPrintable(u8),
    /// A REAL contents that is not a valid X.690 clause 8.5 encoding we can represent.
    #[error("invalid REAL: {0}")]
    Real(&'static &'static str),
    /// Octets left after the end of a complete encoding.
    #[error("{octets} octets of extra data after the end of the encoding")]
    ExtraData {
        /// Octets left.
        octets: u32,
    },
    /// Any other violation of the encoding rules.
    #[error("{0}")]
    Invalid(&'static &'static str),
}

/// `x` as a `u32` error payload, saturated.
#[inline]
fn sat<T: TryInto<u32>>(x: T) -> u32 {
    x.try_into().unwrap_or(u32::MAX)
}

/// The size error of `size` against `lb..=ub`.
fn size_error(size: usize, lb: usize, ub: Option<usize>) -> PerError {
    if size < lb {
        PerError::SizeTooSmall {
            size: sat(size),
            lb: sat(lb),
        }
    } else {
        PerError::SizeTooLarge {
            size: sat(size),
            ub: sat(ub.unwrap_or(usize::MAX)),
        }
    }
}

/// 16K: lengths from here on are fragmented (X.691 clause 11.9.3.8).
pub const K16: usize = 16 * 1024;
/// 64K: the bound between the constrained and the unconstrained cases (X.691 clause 11.9.4).
pub const K64: u64 = 64 * 1024;

/// Number of bits needed to hold `span` (0 for 0): the bit-field size of X.691 clause
/// 11.5.7.2 for a range of `span + 1`.
#[inline]
const fn bits_for(span: u64) -> u32 {
    64 - span.leading_zeros()
}

/// Minimum number of octets holding the non-negative binary integer `v` (at least 1).
#[inline]
const fn octets_for_unsigned(v: u64) -> usize {
    if v == 0 {
        1
    } else {
        (bits_for(v) as usize).div_ceil(8)
    }
}

/// Minimum number of octets holding `v` as a 2's-complement binary integer (X.691 11.4).
#[inline]
const fn octets_for_signed(v: i64) -> usize {
    // Bits needed without the sign, plus one sign bit.
    let magnitude_bits = if v < 0 {
        64 - (!v).leading_zeros()
    } else {
        64 - v.leading_zeros()
    };
    (magnitude_bits as usize + 1).div_ceil(8)
}

// =========================================================================================
// Writer
// =========================================================================================

/// ALIGNED PER bit writer.
#[derive(Debug, Default, Clone)]
pub struct PerWriter {
    buf: Vec<u8>,
    /// Pending bits, right-aligned (bits above the `n` low ones are stale); whole octets
    /// move to `buf` only when the accumulator is full or `buf` is needed.
    acc: u64,
    /// Number of pending bits in `acc`, at most 64.
    n: u32,
}

impl PerWriter {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty writer with room for `octets` octets.
    pub fn with_capacity(octets: usize) -> Self {
        Self {
            buf: Vec::with_capacity(octets),
            acc: 0,
            n: 0,
        }
    }

    /// Bits written so far.
    pub fn bit_len(&self) -> usize {
        self.buf.len() * 8 + self.n as usize
    }

    /// Pads to an octet boundary and returns the encoding. An empty encoding becomes the
    /// single octet 0x00 (X.691 clause 11.1.3, complete encodings).
    pub fn finish(mut self) -> Vec<u8> {
        self.align();
        self.flush();
        if self.buf.is_empty() {
            self.buf.push(0);
        }
        self.buf
    }

    /// Moves the whole octets of the accumulator to `buf` (leaving fewer than 8 bits).
    #[inline]
    fn flush(&mut self) {
        let octets = (self.n / 8) as usize;
        if octets > 0 {
            // The `n` pending bits, left-aligned.
            let left = self.acc << (64 - self.n);
            // A fixed 8-octet copy, then drop the incomplete ones: cheaper than a
            // variable-length copy.
            let len = self.buf.len();
            self.buf.extend_from_slice(&left.to_be_bytes());
            self.buf.truncate(len + octets);
            self.n %= 8;
        }
    }

    /// Writes the `k` low bits of `v`, most significant first (`k <= 64`).
    #[inline(always)]
    pub fn bits(&mut self, v: u64, k: u32) {
        if k > 32 {
            self.bits_wide(v, k);
            return;
        }
        if k == 0 {
            return;
        }
        if self.n + k > 64 {
            self.flush();
        }
        // n + k <= 7 + 32 after a flush.
        let v = v & (u64::MAX >> (64 - k));
        self.acc = (self.acc << k) | v;
        self.n += k;
    }

    /// [`Self::bits`] for `32 < k <= 64`: two writes.
    #[cold]
    #[inline(never)]
    fn bits_wide(&mut self, v: u64, k: u32) {
        self.bits(v >> 32, k - 32);
        self.bits(v & 0xFFFF_FFFF, 32);
    }

    /// One bit.
    #[inline]
    pub fn bit(&mut self, b: bool) {
        self.bits(u64::from(b), 1);
    }

    /// BOOLEAN (X.691 clause 12): one bit.
    #[inline]
    pub fn boolean(&mut self, b: bool) {
        self.bit(b);
    }

    /// Extension bit of an extensible type (X.691 clauses 19.1, 23.5, 12.1): `true` when the
    /// value is (or has) an extension addition.
    #[inline]
    pub fn extension_bit(&mut self, extended: bool) {
        self.bit(extended);
    }

    /// Pads with 0 bits to the next octet boundary (X.691 clause 3.7.15 "octet-aligned").
    #[inline]
    pub fn align(&mut self) {
        let pad = (8 - self.n % 8) % 8;
        if pad > 0 {
            self.bits(0, pad);
        }
    }

    /// Octets written at the next octet boundary.
    #[inline]
    pub fn aligned_octets(&mut self, b: &[u8]) {
        self.align();
        self.flush();
        self.buf.extend_from_slice(b);
    }

    /// Octets written from the current bit position (no alignment).
    #[inline]
    pub fn unaligned_octets(&mut self, b: &[u8]) {
        if self.n.is_multiple_of(8) {
            self.flush();
            self.buf.extend_from_slice(b);
        } else {
            for &o in b {
                self.bits(u64::from(o), 8);
            }
        }
    }

    /// The first `nbits` bits of `b` (most significant bit of `b[0]` first), from the
    /// current bit position.
    fn bit_field(&mut self, b: &[u8], nbits: usize) {
        let whole = nbits / 8;
        self.unaligned_octets(&b[..whole.min(b.len())]);
        let rest = (nbits % 8) as u32;
        if rest > 0 {
            let last = b.get(whole).copied().unwrap_or(0);
            self.bits(u64::from(last >> (8 - rest)), rest);
        }
    }

    /// A constrained whole number `lb + offset` with `ub - lb = span` (X.691 clause 11.5.7;
    /// caller checks `offset <= span`):
    /// * range 1: nothing (11.5.4);
    /// * range up to 255: bit-field of the minimum size (11.5.7.2);
    /// * range 256: one octet, octet-aligned (11.5.7.3, "one-octet case");
    /// * range up to 64K: two octets, octet-aligned (11.5.7.3, "two-octet case");
    /// * larger ("indefinite-length case", 11.5.7.4): the offset in the minimum number of
    ///   octets, octet-aligned, preceded by that number as a constrained length determinant
    ///   with `lb` 1 and `ub` the octets needed for the range.
    #[inline]
    pub fn constrained_whole_number(&mut self, offset: u64, span: u64) {
        debug_assert!(offset <= span);
        if span == 0 {
        } else if span < 255 {
            self.bits(offset, bits_for(span));
        } else if span == 255 {
            self.align();
            self.bits(offset, 8);
        } else if span < K64 {
            self.align();
            self.bits(offset, 16);
        } else {
            let len = octets_for_unsigned(offset);
            let max_len = octets_for_unsigned(span);
            // The length as a constrained whole number 1..=max_len; max_len <= 8, so this is
            // the small bit-field case (11.5.7.2).
            self.bits(len as u64 - 1, bits_for(max_len as u64 - 1));
            self.align();
            self.bits(offset, 8 * len as u32);
        }
    }

    /// `INTEGER (0..4294967295)`: [`Self::constrained_whole_number`] with span 2^32 - 1,
    /// written directly (X.691 clause 11.5.7.4: a 2-bit length of 1..=4 octets, octet
    /// alignment, the octets), because KPM measurement records are made of them.
    #[inline]
    pub fn whole_number_u32(&mut self, v: u32) {
        let len = octets_for_unsigned(u64::from(v)) as u32;
        self.bits(u64::from(len - 1), 2);
        self.align();
        self.bits(u64::from(v), 8 * len);
    }

    /// A semi-constrained whole number `lb + offset` (X.691 clause 11.7): the offset as a
    /// non-negative binary integer in the minimum number of octets (11.3.6), preceded by an
    /// unconstrained length determinant of octets.
    pub fn semi_constrained_whole_number(&mut self, offset: u64) -> Result<(), PerError> {
        let len = octets_for_unsigned(offset);
        self.unconstrained_length(len)?;
        self.bits(offset, 8 * len as u32);
        Ok(())
    }

    /// An unconstrained whole number (X.691 clause 11.8): 2's-complement in the minimum
    /// number of octets (11.4.6), preceded by an unconstrained length determinant of octets.
    /// This is also the encoding of an extensible INTEGER whose value is outside the root
    /// (clause 13.2.6 -> 11.8).
    pub fn unconstrained_whole_number(&mut self, v: i64) -> Result<(), PerError> {
        let len = octets_for_signed(v);
        self.unconstrained_length(len)?;
        self.bits(v as u64, 8 * len as u32);
        Ok(())
    }

    /// A normally small non-negative whole number (X.691 clause 11.6), as used for CHOICE
    /// extension indices (23.8) and ENUMERATED extensions (14.3): `0` + 6 bits up to 63,
    /// `1` + semi-constrained whole number otherwise.
    pub fn normally_small_number(&mut self, n: u64) -> Result<(), PerError> {
        if n <= 63 {
            self.bits(n, 7);
            Ok(())
        } else {
            self.bit(true);
            self.semi_constrained_whole_number(n)
        }
    }

    /// Unconstrained length determinant (X.691 clause 11.9.3.5 - 11.9.3.7, ALIGNED): octet-
    /// aligned, one octet below 128, two octets `10` + 14 bits below 16K.
    #[inline]
    pub fn unconstrained_length(&mut self, n: usize) -> Result<(), PerError> {
        self.align();
        if n < 128 {
            self.bits(n as u64, 8);
            Ok(())
        } else if n < K16 {
            self.bits(0x8000 | n as u64, 16);
            Ok(())
        } else {
            Err(PerError::Fragmented)
        }
    }

    /// Length determinant of a count `n` with the (effective) size constraint `lb..=ub`
    /// (X.691 clause 11.9.4): `ub` below 64K -> constrained whole number `n - lb`
    /// (11.9.4.1, nothing if `lb == ub`); otherwise (or `ub == None`, no upper bound) the
    /// unconstrained length determinant of `n` itself (11.9.4.2).
    #[inline]
    pub fn length(&mut self, n: usize, lb: usize, ub: Option<usize>) -> Result<(), PerError> {
        if n < lb || ub.is_some_and(|ub| n > ub) {
            return Err(size_error(n, lb, ub));
        }
        match ub {
            Some(ub) if (ub as u64) < K64 => {
                self.constrained_whole_number((n - lb) as u64, (ub - lb) as u64);
                Ok(())
            }
            _ => self.unconstrained_length(n),
        }
    }

    /// "Normally small length" (X.691 clause 11.9.3.4) of an extension-addition bitmap,
    /// `n >= 1`: `0` + 6 bits of `n - 1` up to 64, `1` + unconstrained length otherwise.
    pub fn normally_small_length(&mut self, n: usize) -> Result<(), PerError> {
        if n == 0 {
            return Err(PerError::Invalid(&"normally small length of 0"));
        }
        if n <= 64 {
            self.bits(n as u64 - 1, 7);
            Ok(())
        } else {
            self.bit(true);
            self.unconstrained_length(n)
        }
    }

    /// ENUMERATED root value `index` of `count` root values (X.691 clause 14): constrained
    /// whole number `0..count-1`, after an extension bit 0 if the type is extensible.
    pub fn enumerated(&mut self, index: u64, count: u64, extensible: bool) {
        if extensible {
            self.extension_bit(false);
        }
        self.constrained_whole_number(index, count.saturating_sub(1));
    }

    /// OCTET STRING with the size constraint `lb..=ub` (`ub == None`: none) (X.691 clause
    /// 17): fixed size up to 2 octets unaligned (17.6), fixed size up to 64K octet-aligned
    /// without length (17.7), otherwise a length determinant then the octets, octet-aligned
    /// (17.8).
    pub fn octet_string(&mut self, b: &[u8], lb: usize, ub: Option<usize>) -> Result<(), PerError> {
        match ub {
            Some(ub) if ub == lb => {
                if b.len() != lb {
                    return Err(size_error(b.len(), lb, Some(ub)));
                }
                if ub <= 2 {
                    self.unaligned_octets(b);
                } else if (ub as u64) < K64 {
                    self.aligned_octets(b);
                } else {
                    self.length(b.len(), lb, Some(ub))?;
                    self.aligned_octets(b);
                }
                Ok(())
            }
            _ => {
                self.length(b.len(), lb, ub)?;
                if !b.is_empty() {
                    self.aligned_octets(b);
                }
                Ok(())
            }
        }
    }

    /// BIT STRING of `nbits` bits held in `b` (first bit = most significant bit of `b[0]`)
    /// with the size constraint `lb..=ub` in bits (X.691 clause 16): fixed size up to 16 bits
    /// unaligned (16.9), fixed size up to 64K octet-aligned without length (16.10), otherwise
    /// a length determinant then the bits, octet-aligned (16.11).
    pub fn bit_string(
        &mut self,
        b: &[u8],
        nbits: usize,
        lb: usize,
        ub: Option<usize>,
    ) -> Result<(), PerError> {
        if b.len() * 8 < nbits {
            return Err(PerError::Invalid(&"BIT STRING shorter than its bit length"));
        }
        match ub {
            Some(ub) if ub == lb => {
                if nbits != lb {
                    return Err(size_error(nbits, lb, Some(ub)));
                }
                if ub <= 16 {
                } else if (ub as u64) < K64 {
                    self.align();
                } else {
                    self.length(nbits, lb, Some(ub))?;
                    self.align();
                }
                self.bit_field(b, nbits);
                Ok(())
            }
            _ => {
                self.length(nbits, lb, ub)?;
                if nbits > 0 {
                    self.align();
                    self.bit_field(b, nbits);
                }
                Ok(())
            }
        }
    }

    /// PrintableString with the size constraint `lb..=ub` (X.691 clause 30, known-multiplier
    /// character string): no permitted-alphabet constraint, so each character takes
    /// `B = 8` bits in the ALIGNED variant (30.5.2: b = 7 for 74 characters, rounded up to
    /// a power of 2) and keeps its ASCII code (30.5.4: every code is below 2^b). Fixed size
    /// with `ub * 8 <= 16` is not aligned (30.5.6); otherwise the characters are octet-aligned
    /// after the length determinant if any (30.5.7).
    pub fn printable_string(
        &mut self,
        s: &[u8],
        lb: usize,
        ub: Option<usize>,
    ) -> Result<(), PerError> {
        if let Some(&c) = s.iter().find(|c| !is_printable(**c)) {
            return Err(PerError::NotPrintable(c));
        }
        self.octet_string(s, lb, ub)
    }

    /// REAL (X.691 clause 15): an unconstrained length determinant then the contents octets
    /// of the CER/DER encoding of X.690 clause 8.5 (see [`real_contents`]).
    pub fn real(&mut self, v: f64) -> Result<(), PerError> {
        let (buf, len) = real_contents(v);
        self.unconstrained_length(len)?;
        self.aligned_octets(&buf[..len]);
        Ok(())
    }

    /// Open type (X.691 clause 11.2) whose value `write` encodes in place: saves the copy of
    /// [`PerWriter::open_type`]. The value's encoding starts at an octet boundary like a
    /// complete encoding (an empty one becomes one 0x00 octet); its length determinant is
    /// patched in afterwards (and the value moved to fragments from 16K octets on).
    pub fn open_type_with<E>(
        &mut self,
        write: impl FnOnce(&mut PerWriter) -> Result<(), E>,
    ) -> Result<(), E> {
        self.align();
        self.flush();
        let start = self.buf.len();
        // Room for a two-octet length determinant.
        self.buf.extend_from_slice(&[0, 0]);
        write(self)?;
        self.align();
        self.flush();
        if self.buf.len() == start + 2 {
            self.buf.push(0);
        }
        let len = self.buf.len() - start - 2;
        if len < 128 {
            self.buf[start] = len as u8;
            self.buf.remove(start + 1);
        } else if len < K16 {
            self.buf[start] = 0x80 | (len >> 8) as u8;
            self.buf[start + 1] = len as u8;
        } else {
            let value = self.buf.split_off(start + 2);
            self.buf.truncate(start);
            self.open_type(&value);
        }
        Ok(())
    }

    /// Open type (X.691 clause 11.2): the complete encoding of a value, as octets with an
    /// unconstrained length determinant; 16K octets or more are fragmented (11.9.3.8): units
    /// of 16K to 64K octets each after a `11` + 6-bit multiplier octet, then a final ordinary
    /// length (possibly 0) and the rest.
    pub fn open_type(&mut self, encoding: &[u8]) {
        let mut rest = encoding;
        loop {
            self.align();
            if rest.len() < K16 {
                if rest.len() < 128 {
                    self.bits(rest.len() as u64, 8);
                } else {
                    self.bits(0x8000 | rest.len() as u64, 16);
                }
                self.aligned_octets(rest);
                return;
            }
            let m = (rest.len() / K16).min(4);
            self.bits(0xC0 | m as u64, 8);
            let (fragment, tail) = rest.split_at(m * K16);
            self.aligned_octets(fragment);
            rest = tail;
        }
    }
}

/// Whether `c` is in the PrintableString alphabet (X.680 clause 41.4, table 10): letters,
/// digits, space and `'()+,-./:=?`.
#[inline]
pub fn is_printable(c: u8) -> bool {
    PRINTABLE[usize::from(c)]
}

/// The PrintableString character set of X.680 clause 41.4 (Table 10) as a lookup table.
const PRINTABLE: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b' ' | b'\'' | b'(' | b')' | b'+' | b',' | b'-' | b'.' | b'/' | b':' | b'=' | b'?'
            );
        c += 1;
    }
    t
};

/// Contents octets of `v` as REAL with the CER/DER restrictions of X.690 clause 11.3.1
/// (returned as a buffer and its used length, at most 11 octets):
/// * +0: no octets; -0: `0x43` (8.5.3, 8.5.9);
/// * +inf `0x40`, -inf `0x41`, NaN `0x42` (8.5.9);
/// * finite: binary encoding (8.5.7), base 2, scale factor 0, mantissa `N` odd (or the
///   value is zero, handled above), exponent in the minimum number of octets of
///   2's-complement, mantissa as an unsigned integer in the minimum number of octets.
pub fn real_contents(v: f64) -> ([u8; 11], usize) {
    let mut out = [0u8; 11];
    if v.is_nan() {
        out[0] = 0x42;
        return (out, 1);
    }
    if v.is_infinite() {
        out[0] = if v > 0.0 { 0x40 } else { 0x41 };
        return (out, 1);
    }
    if v == 0.0 {
        if v.is_sign_negative() {
            out[0] = 0x43;
            return (out, 1);
        }
        return (out, 0);
    }
    let bits = v.to_bits();
    let negative = bits >> 63 == 1;
    let biased = ((bits >> 52) & 0x7FF) as i32;
    let fraction = bits & ((1u64 << 52) - 1);
    let (mut mantissa, mut exponent) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1u64 << 52), biased - 1075)
    };
    let tz = mantissa.trailing_zeros();
    mantissa >>= tz;
    exponent += tz as i32;
    // The exponent of an f64 is in -1074..=971: one or two octets.
    let e_len = if (-128..=127).contains(&exponent) {
        1
    } else {
        2
    };
    out[0] = 0x80 | if negative { 0x40 } else { 0 } | (e_len as u8 - 1);
    let e_bytes = (exponent as i16).to_be_bytes();
    out[1..1 + e_len].copy_from_slice(&e_bytes[2 - e_len..]);
    let m_len = octets_for_unsigned(mantissa);
    let m_bytes = mantissa.to_be_bytes();
    out[1 + e_len..1 + e_len + m_len].copy_from_slice(&m_bytes[8 - m_len..]);
    (out, 1 + e_len + m_len)
}

/// `x * 2^e`, exact whenever the result is representable.
fn ldexp(mut x: f64, mut e: i64) -> f64 {
    // 2^1000 and 2^-1000 are normal; steps of 1000 keep intermediate results exact unless
    // the final result itself over- or underflows.
    let up = f64::from_bits((1023u64 + 1000) << 52);
    let down = f64::from_bits((1023u64 - 1000) << 52);
    e = e.clamp(-4000, 4000);
    while e > 1000 {
        x *= up;
        e -= 1000;
    }
    while e < -1000 {
        x *= down;
        e += 1000;
    }
    // Now -1000 <= e <= 1000: 2^e is a normal f64.
    x * f64::from_bits(((1023 + e) as u64) << 52)
}

/// Decodes REAL contents octets (X.690 clause 8.5). Accepts the special values of 8.5.9,
/// binary encodings in base 2, 8 and 16 with any scale factor and exponent format (8.5.7)
/// when the mantissa fits in 64 bits and the exponent in 32, and decimal ISO 6093 NR1/NR2/
/// NR3 encodings (8.5.8). Binary values beyond the f64 range become ±inf or ±0.
pub fn real_from_contents(c: &[u8]) -> Result<f64, PerError> {
    let Some((&first, rest)) = c.split_first() else {
        return Ok(0.0);
    };
    match first >> 6 {
        0b10 | 0b11 => {
            let negative = first & 0x40 != 0;
            let base_shift: i64 = match (first >> 4) & 0b11 {
                0 => 1,
                1 => 3,
                2 => 4,
                _ => return Err(PerError::Real(&"reserved base")),
            };
            let scale = i64::from((first >> 2) & 0b11);
            let (e_len, rest) = match first & 0b11 {
                3 => {
                    let Some((&l, rest)) = rest.split_first() else {
                        return Err(PerError::Real(&"missing exponent length"));
                    };
                    (usize::from(l), rest)
                }
                n => (usize::from(n) + 1, rest),
            };
            if e_len == 0 || e_len > rest.len() {
                return Err(PerError::Real(&"exponent longer than the contents"));
            }
            if e_len > 4 {
                return Err(PerError::Real(&"exponent longer than 4 octets"));
            }
            let (e_bytes, m_bytes) = rest.split_at(e_len);
            let mut exponent: i64 = if e_bytes[0] & 0x80 != 0 { -1 } else { 0 };
            for &b in e_bytes {
                exponent = (exponent << 8) | i64::from(b);
            }
            let m_bytes = {
                let lead = m_bytes.iter().take_while(|b| **b == 0).count();
                &m_bytes[lead..]
            };
            if m_bytes.len() > 8 {
                return Err(PerError::Real(&"mantissa longer than 64 bits"));
            }
            let mantissa = m_bytes.iter().fold(0u64, |a, b| (a << 8) | u64::from(*b));
            // mantissa < 2^64 is exact as u64; as f64 it rounds only beyond 2^53, which
            // CER/DER encodings of f64 values never reach.
            let v = ldexp(mantissa as f64, exponent * base_shift + scale);
            Ok(if negative { -v } else { v })
        }
        0b01 => match first {
            0x40 => Ok(f64::INFINITY),
            0x41 => Ok(f64::NEG_INFINITY),
            0x42 => Ok(f64::NAN),
            0x43 => Ok(-0.0),
            _ => Err(PerError::Real(&"reserved special value")),
        },
        _ => {
            // Decimal (8.5.8): ISO 6093 NR1, NR2 or NR3 in the remaining octets.
            if !(1..=3).contains(&(first & 0x3F)) {
                return Err(PerError::Real(&"unknown decimal form"));
            }
            let text = std::str::from_utf8(rest)
                .map_err(|_| PerError::Real(&"decimal REAL is not text"))?
                .trim_matches(' ')
                .replace(',', ".");
            text.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or(PerError::Real(&"invalid decimal REAL"))
        }
    }
}

// =========================================================================================
// Reader
// =========================================================================================

/// ALIGNED PER bit reader over a byte slice. Never panics: every read checks the bounds.
#[derive(Debug, Clone)]
pub struct PerReader<'a> {
    data: &'a [u8],
    /// Bit position of the next read.
    pos: usize,
}

impl<'a> PerReader<'a> {
    /// A reader at the start of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    /// Bit position of the next read.
    pub fn bit_pos(&self) -> usize {
        self.pos
    }

    /// Bits left.
    #[inline]
    pub fn remaining_bits(&self) -> usize {
        self.data.len() * 8 - self.pos
    }

    #[inline]
    fn need(&self, k: usize) -> Result<(), PerError> {
        let left = self.remaining_bits();
        if k > left {
            Err(PerError::UnexpectedEnd {
                at: sat(self.pos),
                needed: sat(k - left),
            })
        } else {
            Ok(())
        }
    }

    /// Reads `k <= 64` bits as an unsigned number, most significant first.
    #[inline(always)]
    pub fn bits(&mut self, k: u32) -> Result<u64, PerError> {
        if k == 0 {
            return Ok(0);
        }
        if k > 56 {
            return self.bits_wide(k);
        }
        let byte = self.pos / 8;
        let off = (self.pos % 8) as u32;
        // Fast path: 8 octets from `byte` are in the input, and `off + k <= 7 + 56 < 64`, so
        // the `k` bits lie inside them (no separate bounds check needed).
        if let Some(eight) = self.data.get(byte..byte + 8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(eight);
            self.pos += k as usize;
            return Ok((u64::from_be_bytes(w) << off) >> (64 - k));
        }
        self.bits_tail(k)
    }

    /// [`Self::bits`] for `56 < k <= 64`: two reads.
    #[cold]
    fn bits_wide(&mut self, k: u32) -> Result<u64, PerError> {
        let hi = self.bits(k - 32)?;
        let lo = self.bits(32)?;
        Ok((hi << 32) | lo)
    }

    /// [`Self::bits`] within the last 8 octets of the input (zeros past its end).
    #[inline(never)]
    fn bits_tail(&mut self, k: u32) -> Result<u64, PerError> {
        self.need(k as usize)?;
        let byte = self.pos / 8;
        let off = (self.pos % 8) as u32;
        let w = self
            .data
            .get(byte..)
            .unwrap_or(&[])
            .iter()
            .chain(std::iter::repeat(&0u8))
            .take(8)
            .fold(0u64, |a, b| (a << 8) | u64::from(*b));
        self.pos += k as usize;
        Ok((w << off) >> (64 - k))
    }

    /// One bit.
    #[inline]
    pub fn bit(&mut self) -> Result<bool, PerError> {
        match self.data.get(self.pos / 8) {
            Some(octet) => {
                let b = (octet >> (7 - self.pos % 8)) & 1 == 1;
                self.pos += 1;
                Ok(b)
            }
            None => Err(PerError::UnexpectedEnd {
                at: sat(self.pos),
                needed: 1,
            }),
        }
    }

    /// BOOLEAN (X.691 clause 12).
    #[inline]
    pub fn boolean(&mut self) -> Result<bool, PerError> {
        self.bit()
    }

    /// Extension bit (X.691 clauses 19.1, 23.5, 12.1).
    #[inline]
    pub fn extension_bit(&mut self) -> Result<bool, PerError> {
        self.bit()
    }

    /// Skips the padding to the next octet boundary.
    #[inline]
    pub fn align(&mut self) {
        // The input is whole octets, so this never passes its end.
        self.pos = self.pos.div_ceil(8) * 8;
    }

    /// `n` octets at the next octet boundary, borrowed from the input.
    #[inline]
    pub fn aligned_octets(&mut self, n: usize) -> Result<&'a [u8], PerError> {
        self.align();
        self.need(n.saturating_mul(8))?;
        let start = self.pos / 8;
        self.pos += n * 8;
        Ok(&self.data[start..start + n])
    }

    /// `n` octets from the current bit position (copied when not aligned).
    pub fn unaligned_octets(&mut self, n: usize) -> Result<std::borrow::Cow<'a, [u8]>, PerError> {
        if self.pos.is_multiple_of(8) {
            return self.aligned_octets(n).map(std::borrow::Cow::Borrowed);
        }
        self.need(n.saturating_mul(8))?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(self.bits(8)? as u8);
        }
        Ok(std::borrow::Cow::Owned(v))
    }

    /// `nbits` bits from the current bit position, packed into octets (first bit = most
    /// significant bit of the first octet, unused trailing bits 0).
    fn bit_field(&mut self, nbits: usize) -> Result<Vec<u8>, PerError> {
        self.need(nbits)?;
        let mut v = Vec::with_capacity(nbits.div_ceil(8));
        for _ in 0..nbits / 8 {
            v.push(self.bits(8)? as u8);
        }
        let rest = (nbits % 8) as u32;
        if rest > 0 {
            v.push((self.bits(rest)? << (8 - rest)) as u8);
        }
        Ok(v)
    }

    /// Constrained whole number with `ub - lb = span` (X.691 clause 11.5.7, see
    /// [`PerWriter::constrained_whole_number`]); returns the offset from `lb`, checked to be
    /// at most `span`.
    #[inline]
    pub fn constrained_whole_number(&mut self, span: u64) -> Result<u64, PerError> {
        let v = if span == 0 {
            0
        } else if span < 255 {
            self.bits(bits_for(span))?
        } else if span == 255 {
            self.align();
            self.bits(8)?
        } else if span < K64 {
            self.align();
            self.bits(16)?
        } else {
            let max_len = octets_for_unsigned(span);
            // The length 1..=max_len (max_len <= 8): a small bit-field (11.5.7.2).
            let len = self.bits(bits_for(max_len as u64 - 1))? as usize + 1;
            if len > max_len {
                return Err(PerError::OutOfRange {
                    offset: sat(len - 1),
                    span: sat(max_len - 1),
                });
            }
            self.align();
            self.bits(8 * len as u32)?
        };
        if v > span {
            return Err(PerError::OutOfRange {
                offset: sat(v),
                span: sat(span),
            });
        }
        Ok(v)
    }

    /// `INTEGER (0..4294967295)` (see [`PerWriter::whole_number_u32`]): every value of the
    /// 1..=4 octets fits, so no range check is needed.
    #[inline]
    pub fn whole_number_u32(&mut self) -> Result<u32, PerError> {
        let len = self.bits(2)? as u32 + 1;
        self.align();
        Ok(self.bits(8 * len)? as u32)
    }

    /// Unconstrained length determinant (X.691 clause 11.9.3.5 - 11.9.3.7).
    #[inline]
    pub fn unconstrained_length(&mut self) -> Result<usize, PerError> {
        self.align();
        let first = self.bits(8)? as usize;
        if first & 0x80 == 0 {
            Ok(first)
        } else if first & 0x40 == 0 {
            let second = self.bits(8)? as usize;
            Ok(((first & 0x3F) << 8) | second)
        } else {
            Err(PerError::Fragmented)
        }
    }

    /// Length determinant with the size constraint `lb..=ub` (`None`: no upper bound), see
    /// [`PerWriter::length`]; checked against the constraint.
    #[inline]
    pub fn length(&mut self, lb: usize, ub: Option<usize>) -> Result<usize, PerError> {
        let n = match ub {
            Some(ub) if (ub as u64) < K64 => {
                if ub < lb {
                    return Err(PerError::Invalid(&"size constraint with ub < lb"));
                }
                lb + self.constrained_whole_number((ub - lb) as u64)? as usize
            }
            _ => self.unconstrained_length()?,
        };
        if n < lb || ub.is_some_and(|ub| n > ub) {
            return Err(size_error(n, lb, ub));
        }
        Ok(n)
    }

    /// Normally small length (X.691 clause 11.9.3.4).
    pub fn normally_small_length(&mut self) -> Result<usize, PerError> {
        if self.bit()? {
            let n = self.unconstrained_length()?;
            if n == 0 {
                return Err(PerError::Invalid(&"normally small length of 0"));
            }
            Ok(n)
        } else {
            Ok(self.bits(6)? as usize + 1)
        }
    }

    /// Semi-constrained whole number (X.691 clause 11.7): the offset from `lb`.
    pub fn semi_constrained_whole_number(&mut self) -> Result<u64, PerError> {
        let len = self.unconstrained_length()?;
        let octets = self.aligned_octets(len)?;
        if len == 0 {
            return Err(PerError::Invalid(&"whole number of 0 octets"));
        }
        let lead = octets.iter().take_while(|b| **b == 0).count();
        let significant = &octets[lead..];
        if significant.len() > 8 {
            return Err(PerError::IntegerTooLarge { octets: sat(len) });
        }
        Ok(significant
            .iter()
            .fold(0u64, |a, b| (a << 8) | u64::from(*b)))
    }

    /// Unconstrained whole number (X.691 clause 11.8), also the extension encoding of an
    /// extensible INTEGER (13.2.6). Encodings longer than 8 octets are accepted when the
    /// extra leading octets only extend the sign.
    pub fn unconstrained_whole_number(&mut self) -> Result<i64, PerError> {
        let len = self.unconstrained_length()?;
        let octets = self.aligned_octets(len)?;
        let Some(&first) = octets.first() else {
            return Err(PerError::Invalid(&"whole number of 0 octets"));
        };
        let fill = if first & 0x80 != 0 { 0xFF } else { 0x00 };
        let (lead, tail) = octets.split_at(len.saturating_sub(8));
        if lead.iter().any(|b| *b != fill) || tail.first().is_some_and(|b| (b ^ fill) & 0x80 != 0) {
            return Err(PerError::IntegerTooLarge { octets: sat(len) });
        }
        let init: i64 = if fill == 0xFF { -1 } else { 0 };
        Ok(tail.iter().fold(init, |a, b| (a << 8) | i64::from(*b)))
    }

    /// Normally small non-negative whole number (X.691 clause 11.6).
    pub fn normally_small_number(&mut self) -> Result<u64, PerError> {
        if self.bit()? {
            self.semi_constrained_whole_number()
        } else {
            self.bits(6)
        }
    }

    /// ENUMERATED (X.691 clause 14) with `count` root values: `Ok(Ok(index))` for a root
    /// value, `Ok(Err(index))` for the extension value `index` (extensible types only).
    pub fn enumerated(
        &mut self,
        count: u64,
        extensible: bool,
    ) -> Result<Result<u64, u64>, PerError> {
        if extensible && self.extension_bit()? {
            return Ok(Err(self.normally_small_number()?));
        }
        Ok(Ok(self.constrained_whole_number(count.saturating_sub(1))?))
    }

    /// OCTET STRING with the size constraint `lb..=ub` (X.691 clause 17, see
    /// [`PerWriter::octet_string`]).
    pub fn octet_string(
        &mut self,
        lb: usize,
        ub: Option<usize>,
    ) -> Result<std::borrow::Cow<'a, [u8]>, PerError> {
        match ub {
            Some(ub) if ub == lb => {
                if ub <= 2 {
                    self.unaligned_octets(lb)
                } else if (ub as u64) < K64 {
                    self.aligned_octets(lb).map(std::borrow::Cow::Borrowed)
                } else {
                    let n = self.length(lb, Some(ub))?;
                    self.aligned_octets(n).map(std::borrow::Cow::Borrowed)
                }
            }
            _ => {
                let n = self.length(lb, ub)?;
                if n == 0 {
                    return Ok(std::borrow::Cow::Borrowed(&[]));
                }
                self.aligned_octets(n).map(std::borrow::Cow::Borrowed)
            }
        }
    }

    /// BIT STRING with the size constraint `lb..=ub` in bits (X.691 clause 16, see
    /// [`PerWriter::bit_string`]): the bits packed into octets, and their number.
    pub fn bit_string(
        &mut self,
        lb: usize,
        ub: Option<usize>,
    ) -> Result<(Vec<u8>, usize), PerError> {
        match ub {
            Some(ub) if ub == lb => {
                if ub <= 16 {
                } else if (ub as u64) < K64 {
                    self.align();
                } else {
                    let _ = self.length(lb, Some(ub))?;
                    self.align();
                }
                Ok((self.bit_field(lb)?, lb))
            }
            _ => {
                let n = self.length(lb, ub)?;
                if n > 0 {
                    self.align();
                }
                Ok((self.bit_field(n)?, n))
            }
        }
    }

    /// An unconstrained, octet-aligned BIT STRING borrowed from the input: the octets
    /// holding the bits and the number of bits.
    pub fn unconstrained_bit_string(&mut self) -> Result<(&'a [u8], usize), PerError> {
        let n = self.unconstrained_length()?;
        Ok((self.aligned_octets(n.div_ceil(8))?, n))
    }

    /// PrintableString with the size constraint `lb..=ub` (X.691 clause 30, see
    /// [`PerWriter::printable_string`]); every character is checked.
    pub fn printable_string(
        &mut self,
        lb: usize,
        ub: Option<usize>,
    ) -> Result<std::borrow::Cow<'a, [u8]>, PerError> {
        let s = self.octet_string(lb, ub)?;
        if let Some(&c) = s.iter().find(|c| !is_printable(**c)) {
            return Err(PerError::NotPrintable(c));
        }
        Ok(s)
    }

    /// REAL (X.691 clause 15, X.690 clause 8.5; see [`real_from_contents`]).
    pub fn real(&mut self) -> Result<f64, PerError> {
        let n = self.unconstrained_length()?;
        real_from_contents(self.aligned_octets(n)?)
    }

    /// Open type (X.691 clause 11.2): the octets of the complete encoding it holds, borrowed
    /// from the input unless fragmented (16K octets or more, 11.9.3.8: the fragments are
    /// gathered).
    pub fn open_type(&mut self) -> Result<std::borrow::Cow<'a, [u8]>, PerError> {
        let mut gathered: Option<Vec<u8>> = None;
        loop {
            self.align();
            let first = self.bits(8)? as usize;
            let (n, more) = if first & 0x80 == 0 {
                (first, false)
            } else if first & 0x40 == 0 {
                (((first & 0x3F) << 8) | self.bits(8)? as usize, false)
            } else {
                match first & 0x3F {
                    m @ 1..=4 => (m * K16, true),
                    _ => return Err(PerError::Invalid(&"invalid length fragment multiplier")),
                }
            };
            let octets = self.aligned_octets(n)?;
            match (&mut gathered, more) {
                (None, false) => return Ok(std::borrow::Cow::Borrowed(octets)),
                (None, true) => gathered = Some(octets.to_vec()),
                (Some(v), _) => v.extend_from_slice(octets),
            }
            if !more {
                return Ok(std::borrow::Cow::Owned(gathered.unwrap_or_default()));
            }
        }
    }

    /// Ends a complete encoding (X.691 clause 11.1): skips the padding of its last octet and
    /// refuses any octet after it.
    pub fn finish(&mut self) -> Result<(), PerError> {
        self.align();
        match self.remaining_bits() / 8 {
            0 => Ok(()),
            octets => Err(PerError::ExtraData {
                octets: sat(octets),
            }),
        }
    }

    /// Skips the extension additions of a SEQUENCE whose extension bit was 1 (X.691
    /// clauses 19.7 - 19.9): the normally small length of the presence bitmap, the bitmap,
    /// then one open type per present addition. For types that know no extension
    /// additions. Returns the number of additions skipped.
    pub fn skip_sequence_extensions(&mut self) -> Result<usize, PerError> {
        let n = self.normally_small_length()?;
        let mut present = 0;
        for _ in 0..n {
            if self.bit()? {
                present += 1;
            }
        }
        for _ in 0..present {
            self.open_type()?;
        }
        Ok(present)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(f: impl FnOnce(&mut PerWriter)) -> Vec<u8> {
        let mut w = PerWriter::new();
        f(&mut w);
        w.finish()
    }

    #[test]
    fn constrained_whole_numbers_follow_11_5_7() {
        // bit-field: range 5 -> 3 bits
        assert_eq!(enc(|w| w.constrained_whole_number(4, 4)), [0x80]);
        // one-octet aligned (range 256) after one bit
        assert_eq!(
            enc(|w| {
                w.bit(true);
                w.constrained_whole_number(0xAB, 255)
            }),
            [0x80, 0xAB]
        );
        // two-octet aligned
        assert_eq!(enc(|w| w.constrained_whole_number(5, 65534)), [0x00, 0x05]);
        // indefinite length: 0..2^40-1, value 2^40-1 -> length 5 (3 bits 100), aligned
        assert_eq!(
            enc(|w| w.constrained_whole_number((1 << 40) - 1, (1 << 40) - 1)),
            [0x80, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        );
        for (v, span) in [
            (0u64, 0u64),
            (3, 7),
            (200, 254),
            (255, 255),
            (65535, 65535),
            (0, 65536),
            (70000, 4_294_967_294),
            (u64::MAX, u64::MAX),
        ] {
            let bytes = enc(|w| {
                w.bit(true);
                w.constrained_whole_number(v, span);
                w.bit(true);
            });
            let mut r = PerReader::new(&bytes);
            assert!(r.bit().expect("bit"));
            assert_eq!(r.constrained_whole_number(span), Ok(v), "{v} {span}");
            assert!(r.bit().expect("bit"));
        }
    }

    #[test]
    fn whole_number_u32_is_the_general_case_with_span_2_32_minus_1() {
        for v in [
            0u32,
            1,
            255,
            256,
            65535,
            65536,
            0x00FF_FFFF,
            0x0100_0000,
            u32::MAX,
        ] {
            // After 3 stray bits, so the alignment is exercised too.
            let general = enc(|w| {
                w.bits(0b101, 3);
                w.constrained_whole_number(u64::from(v), u64::from(u32::MAX));
            });
            let direct = enc(|w| {
                w.bits(0b101, 3);
                w.whole_number_u32(v);
            });
            assert_eq!(direct, general, "{v}");
            let mut r = PerReader::new(&direct);
            assert_eq!(r.bits(3), Ok(0b101));
            assert_eq!(r.whole_number_u32(), Ok(v));
            let mut r = PerReader::new(&direct);
            assert_eq!(r.bits(3), Ok(0b101));
            assert_eq!(
                r.constrained_whole_number(u64::from(u32::MAX)),
                Ok(u64::from(v))
            );
        }
        assert!(PerReader::new(&[0xC0, 1, 2]).whole_number_u32().is_err());
    }

    #[test]
    fn whole_numbers_round_trip() {
        for v in [0i64, 1, -1, 127, 128, -128, -129, 70000, i64::MAX, i64::MIN] {
            let bytes = enc(|w| w.unconstrained_whole_number(v).expect("enc"));
            assert_eq!(PerReader::new(&bytes).unconstrained_whole_number(), Ok(v));
        }
        assert_eq!(
            enc(|w| w.unconstrained_whole_number(70000).expect("enc")),
            [3, 1, 0x11, 0x70]
        );
        assert_eq!(
            enc(|w| w.unconstrained_whole_number(128).expect("enc")),
            [2, 0, 0x80]
        );
        assert_eq!(
            enc(|w| w.unconstrained_whole_number(-128).expect("enc")),
            [1, 0x80]
        );
        // Sign-extended 9-octet encodings are accepted, real 65-bit values are not.
        assert_eq!(
            PerReader::new(&[9, 0, 0, 0, 0, 0, 0, 0, 0, 5]).unconstrained_whole_number(),
            Ok(5)
        );
        assert!(PerReader::new(&[9, 0, 0x80, 0, 0, 0, 0, 0, 0, 5])
            .unconstrained_whole_number()
            .is_err());
        for v in [0u64, 63, 64, 1 << 40, u64::MAX] {
            let bytes = enc(|w| w.normally_small_number(v).expect("enc"));
            assert_eq!(PerReader::new(&bytes).normally_small_number(), Ok(v));
            let bytes = enc(|w| w.semi_constrained_whole_number(v).expect("enc"));
            assert_eq!(
                PerReader::new(&bytes).semi_constrained_whole_number(),
                Ok(v)
            );
        }
    }

    #[test]
    fn lengths_follow_11_9() {
        assert_eq!(enc(|w| w.unconstrained_length(127).expect("len")), [127]);
        assert_eq!(
            enc(|w| w.unconstrained_length(128).expect("len")),
            [0x80, 0x80]
        );
        assert_eq!(
            enc(|w| w.unconstrained_length(16383).expect("len")),
            [0xBF, 0xFF]
        );
        assert_eq!(
            PerWriter::new().unconstrained_length(16384),
            Err(PerError::Fragmented)
        );
        assert_eq!(
            PerReader::new(&[0xC1]).unconstrained_length(),
            Err(PerError::Fragmented)
        );
        for (n, lb, ub) in [(1, 1, Some(4)), (3, 0, Some(65535)), (70000, 0, None)] {
            let mut w = PerWriter::new();
            match w.length(n, lb, ub) {
                Ok(()) => assert_eq!(PerReader::new(&w.finish()).length(lb, ub), Ok(n)),
                Err(e) => assert_eq!(e, PerError::Fragmented),
            }
        }
        assert!(PerWriter::new().length(5, 1, Some(4)).is_err());
        for n in [1usize, 64, 65, 300] {
            let bytes = enc(|w| w.normally_small_length(n).expect("len"));
            assert_eq!(PerReader::new(&bytes).normally_small_length(), Ok(n));
        }
    }

    #[test]
    fn printable_alphabet_is_x680_table_10() {
        let set: Vec<u8> = (0..=255u8).filter(|c| is_printable(*c)).collect();
        // 26 + 26 letters, 10 digits, space and the 11 marks '()+,-./:=?
        assert_eq!(set.len(), 74);
        for c in b"AZaz09 '()+,-./:=?" {
            assert!(is_printable(*c), "{}", char::from(*c));
        }
        for c in b"!\"#$%&*;<>@[]_`{|}~\\\x00\x7f\x80\xff" {
            assert!(!is_printable(*c), "{c:#x}");
        }
    }

    #[test]
    fn strings_follow_16_17_30() {
        // fixed 3 octets: aligned
        assert_eq!(
            enc(|w| {
                w.bit(true);
                w.octet_string(&[1, 2, 3], 3, Some(3)).expect("os")
            }),
            [0x80, 1, 2, 3]
        );
        // fixed 2 octets: not aligned
        assert_eq!(
            enc(|w| {
                w.bit(true);
                w.octet_string(&[0xFF, 0xFF], 2, Some(2)).expect("os")
            }),
            [0xFF, 0xFF, 0x80]
        );
        // BIT STRING SIZE(10) unaligned, SIZE(22..32) length in 4 bits then aligned
        assert_eq!(
            enc(|w| w.bit_string(&[0xFF, 0xC0], 10, 10, Some(10)).expect("bs")),
            [0xFF, 0xC0]
        );
        let bytes = enc(|w| {
            w.bit_string(&[0xAB, 0xCD, 0xEF], 22, 22, Some(32))
                .expect("bs")
        });
        assert_eq!(bytes, [0x00, 0xAB, 0xCD, 0xEC]);
        assert_eq!(
            PerReader::new(&bytes).bit_string(22, Some(32)),
            Ok((vec![0xAB, 0xCD, 0xEC], 22))
        );
        let bytes = enc(|w| w.printable_string(b"Ab 1?", 0, None).expect("ps"));
        assert_eq!(bytes, b"\x05Ab 1?");
        assert_eq!(
            PerReader::new(&bytes).printable_string(0, None).as_deref(),
            Ok(&b"Ab 1?"[..])
        );
        assert_eq!(
            PerReader::new(b"\x01*").printable_string(0, None),
            Err(PerError::NotPrintable(b'*'))
        );
        let bytes = enc(|w| w.bit_string(&[0b1010_0000], 3, 0, None).expect("bs"));
        assert_eq!(bytes, [3, 0b1010_0000]);
        assert_eq!(
            PerReader::new(&bytes).unconstrained_bit_string(),
            Ok((&[0b1010_0000u8][..], 3))
        );
    }

    #[test]
    fn reals_follow_x690_8_5() {
        assert_eq!(real_contents(0.0).1, 0);
        assert_eq!(&real_contents(-0.0).0[..1], [0x43]);
        assert_eq!(&real_contents(f64::INFINITY).0[..1], [0x40]);
        assert_eq!(&real_contents(f64::NEG_INFINITY).0[..1], [0x41]);
        assert_eq!(&real_contents(f64::NAN).0[..1], [0x42]);
        // 1.0 = 1 * 2^0; 0.5 = 1 * 2^-1; -6.0 = -3 * 2^1
        let (b, n) = real_contents(1.0);
        assert_eq!(&b[..n], [0x80, 0x00, 0x01]);
        let (b, n) = real_contents(0.5);
        assert_eq!(&b[..n], [0x80, 0xFF, 0x01]);
        let (b, n) = real_contents(-6.0);
        assert_eq!(&b[..n], [0xC0, 0x01, 0x03]);
        for v in [
            1.0,
            -6.0,
            0.1,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            -2.5e-310,
            123456.789,
            f64::INFINITY,
            -0.0,
            0.0,
        ] {
            let bytes = enc(|w| w.real(v).expect("real"));
            let back = PerReader::new(&bytes).real().expect("decode");
            assert_eq!(back.to_bits(), v.to_bits(), "{v}");
        }
        assert!(PerReader::new(&[1, 0x42]).real().expect("nan").is_nan());
        // base 16, F = 1, exponent 1, mantissa 3: 3 * 2^1 * 16^1 = 96
        assert_eq!(real_from_contents(&[0xA4, 0x01, 0x03]), Ok(96.0));
        // decimal NR3
        assert_eq!(real_from_contents(b"\x031.5E2"), Ok(150.0));
        assert!(real_from_contents(&[0x80]).is_err());
        assert!(real_from_contents(&[0x44]).is_err());
    }

    #[test]
    fn open_types_are_fragmented_from_16k() {
        for n in [
            0usize,
            127,
            128,
            K16 - 1,
            K16,
            3 * K16 + 5,
            4 * K16,
            5 * K16 + 1,
        ] {
            let data: Vec<u8> = (0..n).map(|i| i as u8).collect();
            let bytes = enc(|w| {
                w.bit(true);
                w.open_type(&data);
                w.bit(true);
            });
            let mut r = PerReader::new(&bytes);
            assert!(r.bit().expect("bit"));
            assert_eq!(r.open_type().expect("open type").as_ref(), &data[..], "{n}");
            assert!(r.bit().expect("bit"));
            assert_eq!(r.finish(), Ok(()));
        }
        for n in [0usize, 1, 127, 128, K16 - 1, K16, 5 * K16 + 1] {
            let data: Vec<u8> = (0..n).map(|i| (i * 7) as u8).collect();
            let direct = enc(|w| {
                w.bits(0b101, 3);
                w.open_type(if n == 0 { &[0] } else { &data });
            });
            let in_place = enc(|w| {
                w.bits(0b101, 3);
                w.open_type_with(|w| {
                    w.unaligned_octets(&data);
                    Ok::<(), PerError>(())
                })
                .expect("in place");
            });
            assert_eq!(direct, in_place, "{n}");
        }
        // 4 x 16K in one fragment, then a final length of 0.
        let bytes = enc(|w| w.open_type(&vec![7; 4 * K16]));
        assert_eq!((bytes[0], bytes[1 + 4 * K16]), (0xC4, 0));
    }

    #[test]
    fn results_stay_two_words() {
        assert_eq!(std::mem::size_of::<Result<u64, PerError>>(), 16);
    }

    #[test]
    fn reads_past_the_end_are_errors() {
        let mut r = PerReader::new(&[0xFF]);
        assert_eq!(r.bits(7), Ok(0x7F));
        assert!(r.bits(2).is_err());
        assert!(r.aligned_octets(1).is_err());
        assert!(PerReader::new(&[5, 1]).aligned_octets(usize::MAX).is_err());
        assert!(PerReader::new(&[0x80, 0xFF]).open_type().is_err());
        assert!(PerReader::new(&[0xC5]).open_type().is_err());
        assert_eq!(PerReader::new(&[]).bits(0), Ok(0));
        assert_eq!(
            PerReader::new(&[0x12; 9]).bits(64),
            Ok(0x1212_1212_1212_1212)
        );
    }
}

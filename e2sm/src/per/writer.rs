//! The ALIGNED PER bit writer (X.691): constrained and unconstrained whole numbers,
//! length determinants, bit and octet strings, known-multiplier strings, open types.

use super::*;

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

//! The ALIGNED PER bit reader (X.691), the inverse of [`super::PerWriter`]: every read is
//! bounds-checked and returns a [`PerError`] instead of panicking.

use super::*;

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

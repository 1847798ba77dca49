//! A small, fast ASN.1 ALIGNED PER (ITU-T X.691, 02/2021) bit writer and reader.
//!
//! The hand-written E2SM codecs of this crate ([`crate::rc::codec`], [`crate::kpm::codec`]) are
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

mod reader;
mod real;
mod writer;

pub use reader::PerReader;
pub use real::{real_contents, real_from_contents};
pub use writer::PerWriter;

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

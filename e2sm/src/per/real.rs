//! REAL contents octets (X.690 clause 8.5, with the CER/DER restrictions of clause 11.3.1
//! when encoding): what the PER encoding of a REAL (X.691 clause 15) carries in its
//! length-prefixed octets.

use super::{octets_for_unsigned, PerError};

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

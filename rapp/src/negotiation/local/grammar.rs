//! The GBNF grammars that constrain the model's answers: the service-intent template
//! `{"value": <number>, "reasoning": "<text>"}` with the number held to the round's bounds.

use super::super::vocabulary::Bounds;

/// GBNF alternatives (each a sequence of digit classes) matching exactly the decimal
/// integers in `lo..=hi`, without leading zeros.
fn integer_range(lo: u64, hi: u64) -> Vec<String> {
    fn pow10(e: u32) -> u64 {
        10u64.saturating_pow(e)
    }
    fn digits(v: u64) -> u32 {
        v.checked_ilog10().unwrap_or(0) + 1
    }
    /// Fixed-width (leading zeros allowed) patterns of `lo..=hi`, both `< 10^width`.
    fn fixed(
        lo: u64,
        hi: u64,
        width: u32,
        out: &mut Vec<Vec<(u64, u64)>>,
        prefix: Vec<(u64, u64)>,
    ) {
        if width == 0 {
            out.push(prefix);
            return;
        }
        let p = pow10(width - 1);
        let (a, b) = (lo / p, hi / p);
        let (rl, rh) = (lo % p, hi % p);
        let with = |d: (u64, u64)| {
            let mut v = prefix.clone();
            v.push(d);
            v
        };
        if a == b {
            fixed(rl, rh, width - 1, out, with((a, a)));
            return;
        }
        let mut first = a;
        if rl != 0 {
            fixed(rl, p - 1, width - 1, out, with((a, a)));
            first = a + 1;
        }
        let mut last = b;
        let tail = rh != p - 1;
        if tail {
            last = b - 1;
        }
        if first <= last {
            let mut v = with((first, last));
            v.extend(std::iter::repeat_n((0, 9), (width - 1) as usize));
            out.push(v);
        }
        if tail {
            fixed(0, rh, width - 1, out, with((b, b)));
        }
    }
    let mut patterns = Vec::new();
    if lo > hi {
        return Vec::new();
    }
    for width in digits(lo)..=digits(hi) {
        let from = if width == 1 { 0 } else { pow10(width - 1) }.max(lo);
        let to = (pow10(width) - 1).min(hi);
        if from <= to {
            fixed(from, to, width, &mut patterns, Vec::new());
        }
    }
    patterns
        .into_iter()
        .map(|classes| {
            classes
                .iter()
                .map(|&(a, b)| {
                    if a == b {
                        format!("\"{a}\"")
                    } else {
                        format!("[{a}-{b}]")
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// The GBNF rule body of a number within `bounds` (at most two decimals): integers
/// `ceil(min)..floor(max)` with an optional fraction below `floor(max)`. Bounds without an
/// integer inside get `floor(min).xx`; bounds that make no sense get any plain number (the
/// validation unit clamps what the grammar lets through).
fn number_rule(bounds: &Bounds) -> String {
    const ANY: &str = "[0-9] [0-9]? [0-9]? [0-9]? [0-9]? (\".\" [0-9] [0-9]?)?";
    const FRACTION: &str = "(\".\" [0-9] [0-9]?)?";
    // (Checked before clamping: `NaN.max(0.0)` is 0.)
    let (min, max) = (bounds.min_mbps, bounds.max_mbps);
    if !(min.is_finite() && max.is_finite() && min <= max && max < 1e15) {
        return ANY.into();
    }
    let min = min.max(0.0);
    let (lo, hi) = (min.ceil() as u64, max.floor() as u64);
    if lo > hi {
        return format!("\"{}.\" [0-9] [0-9]?", min.floor() as u64);
    }
    let mut alternatives: Vec<String> = Vec::new();
    if lo < hi {
        let below: Vec<String> = integer_range(lo, hi - 1);
        alternatives.push(format!("({}) {FRACTION}", below.join(" | ")));
    }
    alternatives.push(format!("\"{hi}\""));
    alternatives.join(" | ")
}

/// The GBNF grammar of an answer: exactly `{"value": <number>, "reasoning": "<text>"}`, the
/// number within `bounds` (see `number_rule`), the text one or more characters without
/// quotes, backslashes or control characters. (The text's length is capped while generating,
/// not in the grammar: a bounded repetition makes the grammar, and every sampling step, much
/// larger.)
pub fn intent_grammar(bounds: &Bounds) -> String {
    format!(
        "root ::= \"{{\\\"value\\\": \" number \", \\\"reasoning\\\": \\\"\" text \"\\\"}}\"\n\
         number ::= {}\n\
         text ::= [^\"\\\\\\x00-\\x1F]+\n",
        number_rule(bounds)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tiny matcher of the digit-class patterns [`integer_range`] emits.
    fn matches(pattern: &str, text: &str) -> bool {
        let classes: Vec<(u8, u8)> = pattern
            .split(' ')
            .map(|c| {
                let b = c.as_bytes();
                if b[0] == b'"' {
                    (b[1], b[1])
                } else {
                    (b[1], b[3])
                }
            })
            .collect();
        classes.len() == text.len()
            && classes
                .iter()
                .zip(text.bytes())
                .all(|(&(a, b), c)| a <= c && c <= b)
    }

    #[test]
    fn integer_ranges_are_exact() {
        for (lo, hi) in [
            (0, 0),
            (0, 9),
            (3, 7),
            (0, 100),
            (5, 1000),
            (10, 99),
            (17, 243),
            (99, 101),
            (120, 1999),
            (0, 1234),
            (1000, 1000),
        ] {
            let patterns = integer_range(lo, hi);
            for v in 0..=2100u64 {
                let text = v.to_string();
                let hits = patterns.iter().filter(|p| matches(p, &text)).count();
                let want = usize::from((lo..=hi).contains(&v));
                assert_eq!(hits, want, "{v} in {lo}..={hi}: {patterns:?}");
            }
        }
        assert!(integer_range(5, 4).is_empty());
    }

    #[test]
    fn grammar_follows_the_bounds() {
        let g = intent_grammar(&Bounds {
            min_mbps: 10.0,
            max_mbps: 100.0,
        });
        assert!(g.starts_with("root ::= \"{\\\"value\\\": \" number"), "{g}");
        assert!(g.contains("| \"100\""), "{g}");
        assert!(g.contains("x1F]+"), "{g}");
        let narrow = number_rule(&Bounds {
            min_mbps: 12.3,
            max_mbps: 12.7,
        });
        assert_eq!(narrow, "\"12.\" [0-9] [0-9]?");
        let single = number_rule(&Bounds {
            min_mbps: 40.0,
            max_mbps: 40.0,
        });
        assert_eq!(single, "\"40\"");
        let bad = number_rule(&Bounds {
            min_mbps: f64::NAN,
            max_mbps: 3.0,
        });
        assert!(bad.starts_with("[0-9]"));
    }
}

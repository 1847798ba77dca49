//! Extraction unit: turns an LLM's text into `{value, reasoning}`, tolerant of what real models
//! write — thinking blocks, JSON inside prose or code fences, restated earlier answers,
//! envelopes, trailing commas, JSON5-style objects (single quotes, bare keys, comments),
//! numbers as strings with units, hedges and notation (see [`extract`]).

use serde_json::Value;

/// A parsed answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Extracted {
    /// Demanded value, Mbps.
    pub value_mbps: f64,
    /// Reasoning text ("" when the model gave none).
    pub reasoning: String,
}

/// Why the text could not be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExtractionError {
    /// No JSON object anywhere in the text.
    #[error("no JSON object found in the model's answer: {0:?}")]
    NoJson(String),
    /// The object has no `value`.
    #[error("the model's JSON has no \"value\" member")]
    MissingValue,
    /// `value` is not a finite number (nor a string starting with one).
    #[error("the model's \"value\" is not a finite number: {0}")]
    NotANumber(String),
}

/// Extracts the service intent from model output.
///
/// What real models write, and what this does about it:
/// - reasoning models think aloud in `<think>...</think>`: those blocks are dropped;
/// - JSON sits in prose or code fences, sometimes after a restatement of an earlier answer or
///   a scratch object: of all the JSON objects in the text that hold a `value` (also inside
///   an envelope such as `{"answer": {...}}`), the **last** usable one wins;
/// - trailing commas (`{"value": 5,}`) are forgiven;
/// - an object that is not JSON but is JSON5 (single-quoted strings, bare keys, `//` and
///   `/* */` comments, `NaN`) is read as JSON5 (the `json5` crate); `NaN`/`Infinity` are then
///   not a number;
/// - the key is matched without regard to case (`"Value"`);
/// - numbers come as strings with units, hedges and notation: `"55 Mbps"`, `"~55"`,
///   `"about 55"`, `"5.5e1"`,
///   `"1,000 kbps"` (= 1 Mbps), `"1.2 Gbps"` (= 1200), `"55,5"` (= 55.5), `"40-60 Mbps"`
///   (a range: its midpoint, 50).
pub fn extract(text: &str) -> Result<Extracted, ExtractionError> {
    let cleaned = strip_trailing_commas(&strip_think_blocks(text));
    let objects = json_objects(&cleaned);
    if objects.is_empty() {
        return Err(ExtractionError::NoJson(text.chars().take(120).collect()));
    }
    let holders: Vec<&serde_json::Map<String, Value>> =
        objects.iter().filter_map(|o| value_holder(o, 0)).collect();
    let mut last_error = ExtractionError::MissingValue;
    for object in holders.iter().rev() {
        let Some(value) = value_of(object) else {
            continue;
        };
        let parsed = match value {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => number_in_text(s),
            _ => None,
        }
        .filter(|v| v.is_finite());
        let Some(value_mbps) = parsed else {
            if matches!(last_error, ExtractionError::MissingValue) {
                last_error = ExtractionError::NotANumber(value.to_string());
            }
            continue;
        };
        let reasoning = match object.get("reasoning") {
            Some(Value::String(s)) => s.trim().to_owned(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        return Ok(Extracted {
            value_mbps,
            reasoning,
        });
    }
    Err(last_error)
}

/// The text without `<think>...</think>` blocks (an unterminated block runs to the end).
pub(crate) fn strip_think_blocks(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<think>") {
        out.push_str(&rest[..start]);
        match rest[start..].find("</think>") {
            Some(end) => rest = &rest[start + end + "</think>".len()..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

/// Drops commas that directly precede `}` or `]` (whitespace aside), outside strings.
fn strip_trailing_commas(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    for (i, &c) in chars.iter().enumerate() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        if c == '"' {
            in_string = true;
        } else if c == ',' {
            let next = chars[i + 1..].iter().find(|n| !n.is_whitespace());
            if matches!(next, Some('}') | Some(']')) {
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// Every top-level `{...}` in the text that parses as a JSON object (or, failing that, as a
/// JSON5 object), in order.
fn json_objects(text: &str) -> Vec<serde_json::Map<String, Value>> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(offset) = text[from..].find('{') {
        let start = from + offset;
        let mut stream = serde_json::Deserializer::from_str(&text[start..]).into_iter::<Value>();
        match stream.next() {
            Some(Ok(Value::Object(map))) => {
                found.push(map);
                from = start + stream.byte_offset().max(1);
            }
            _ => match json5_object(&text[start..]) {
                Some((map, len)) => {
                    found.push(map);
                    from = start + len;
                }
                None => from = start + 1,
            },
        }
    }
    found
}

/// Longest JSON5 object tried, bytes: an answer object is short; the bound keeps a text full
/// of stray braces linear in practice.
const JSON5_MAX_BYTES: usize = 4096;
/// Deepest nesting of a JSON5 object tried (the parser recurses; model output is untrusted).
const JSON5_MAX_DEPTH: usize = 16;

/// A JSON5 object at the start of `text` (which starts with `{`) and its length in bytes:
/// the balanced `{...}` (braces inside single- or double-quoted strings and comments do not
/// count), at most [`JSON5_MAX_BYTES`] long and [`JSON5_MAX_DEPTH`] deep, whose first member
/// starts like a key, parsed by the `json5` crate. A `NaN` or infinite number becomes `null`
/// (a `serde_json::Value` holds finite numbers only).
fn json5_object(text: &str) -> Option<(serde_json::Map<String, Value>, usize)> {
    let first = text[1..].trim_start().chars().next()?;
    if !(first == '"' || first == '\'' || first == '/' || first == '_' || first.is_alphabetic()) {
        return None;
    }
    let end = balanced_object_end(text, JSON5_MAX_BYTES)?;
    match json5::from_str::<Value>(&text[..end]) {
        Ok(Value::Object(map)) => Some((map, end)),
        _ => None,
    }
}

/// The byte length of the `{...}` that `text` starts with, skipping quoted strings (either
/// quote, backslash escapes) and `//`/`/* */` comments; `None` if it never closes within
/// the first `limit` bytes or nests deeper than [`JSON5_MAX_DEPTH`].
fn balanced_object_end(text: &str, limit: usize) -> Option<usize> {
    let b = &text.as_bytes()[..text.len().min(limit)];
    let (mut depth, mut i) = (0usize, 0usize);
    while i < b.len() {
        match b[i] {
            q @ (b'"' | b'\'') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = text[i + 2..].find("*/").map(|e| i + 2 + e + 1)?;
            }
            b'{' => {
                depth += 1;
                if depth > JSON5_MAX_DEPTH {
                    return None;
                }
            }
            b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The object's `value` member, its key matched without regard to ASCII case (an exact
/// `value` first).
fn value_of(object: &serde_json::Map<String, Value>) -> Option<&Value> {
    object.get("value").or_else(|| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("value"))
            .map(|(_, v)| v)
    })
}

/// The object holding `value`: this one, or one nested in it (an envelope), depth <= 3.
fn value_holder(
    object: &serde_json::Map<String, Value>,
    depth: u8,
) -> Option<&serde_json::Map<String, Value>> {
    if value_of(object).is_some() {
        return Some(object);
    }
    if depth >= 3 {
        return None;
    }
    object.values().find_map(|v| match v {
        Value::Object(inner) => value_holder(inner, depth + 1),
        _ => None,
    })
}

/// Words a model puts before a figure it commits to ("about 50"), dropped before the number.
const HEDGES: [&str; 7] = [
    "about",
    "around",
    "approximately",
    "approx.",
    "roughly",
    "circa",
    "ca.",
];

/// The number a model wrote in a string, in Mbps: optional hedge (`~`, `≈`, "about", ...), sign, digits with
/// thousands separators or a decimal comma, exponent, an optional range (`40-60`: midpoint)
/// and an optional unit (bps, kbps, Mbps, Gbps; none = Mbps). Anything after that is ignored
/// ("55 Mbps (min 40)"); a string that does not start with a number is `None`.
fn number_in_text(s: &str) -> Option<f64> {
    let s = s.trim();
    let s = s
        .strip_prefix('~')
        .or_else(|| s.strip_prefix('\u{2248}'))
        .unwrap_or(s)
        .trim_start();
    let lower = s.to_ascii_lowercase();
    let s = HEDGES
        .iter()
        .find(|h| lower.starts_with(*h) && s[h.len()..].starts_with(|c: char| c.is_whitespace()))
        .map_or(s, |h| s[h.len()..].trim_start());
    let (first, rest) = leading_number(s)?;
    let rest = rest.trim_start();
    let (value, rest) = match rest
        .strip_prefix('-')
        .or_else(|| rest.strip_prefix('\u{2013}'))
        .or_else(|| rest.strip_prefix("to "))
        .and_then(|r| leading_number(r.trim_start()))
    {
        Some((second, after)) if second >= first => ((first + second) / 2.0, after),
        _ => (first, rest),
    };
    let unit = rest.trim_start().to_ascii_lowercase();
    let scale = if unit.starts_with("gbps") || unit.starts_with("gbit") {
        1e3
    } else if unit.starts_with("kbps") || unit.starts_with("kbit") {
        1e-3
    } else if unit.starts_with("bps") || unit.starts_with("bit/s") {
        1e-6
    } else {
        1.0
    };
    Some(value * scale)
}

/// The number at the start of `s` and what follows it: "55", "55.5", "-3e1", "1,000",
/// "55,5", ".5". `None` when `s` does not start with a number or continues like one that is
/// malformed ("1.2.3").
fn leading_number(s: &str) -> Option<(f64, &str)> {
    let b = s.as_bytes();
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let mut i = 0;
    let mut text = String::new();
    match b.first() {
        Some(b'-') => {
            text.push('-');
            i = 1;
        }
        Some(b'+') => i = 1,
        _ => {}
    }
    let mut int_digits = 0;
    while digit(i) {
        text.push(char::from(b[i]));
        i += 1;
        int_digits += 1;
        // "1,000": a comma followed by exactly three digits is a thousands separator.
        if b.get(i) == Some(&b',') && digit(i + 1) && digit(i + 2) && digit(i + 3) && !digit(i + 4)
        {
            i += 1;
        }
    }
    let mut frac_digits = 0;
    if matches!(b.get(i), Some(b'.') | Some(b',')) && digit(i + 1) {
        text.push('.');
        i += 1;
        while digit(i) {
            text.push(char::from(b[i]));
            i += 1;
            frac_digits += 1;
        }
    }
    if int_digits + frac_digits == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'e') | Some(b'E')) {
        let mut j = i + 1;
        let mut exp = String::from("e");
        if let Some(&sign @ (b'+' | b'-')) = b.get(j) {
            exp.push(char::from(sign));
            j += 1;
        }
        let before = j;
        while digit(j) {
            exp.push(char::from(b[j]));
            j += 1;
        }
        if j > before {
            text.push_str(&exp);
            i = j;
        }
    }
    if b.get(i) == Some(&b'.') && digit(i + 1) {
        return None;
    }
    Some((text.parse().ok()?, &s[i..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_json() {
        let e = extract(r#"{"value": 42.5, "reasoning": "fair"}"#).unwrap();
        assert_eq!(e.value_mbps, 42.5);
        assert_eq!(e.reasoning, "fair");
    }

    #[test]
    fn json_in_prose_and_fences_with_units_and_strings() {
        let text = "Sure! Here is my answer:\n```json\n{\"value\": \"55 Mbps\", \"reasoning\": \"We need video.\", \"extra\": 1}\n```\nThanks.";
        let e = extract(text).unwrap();
        assert_eq!(e.value_mbps, 55.0);
        assert_eq!(e.reasoning, "We need video.");
        assert_eq!(
            extract(r#"I think {"value":"55.5Mbps"}"#)
                .unwrap()
                .value_mbps,
            55.5
        );
        assert_eq!(
            extract(r#"{bad} then {"value": "7"}"#).unwrap().value_mbps,
            7.0
        );
    }

    #[test]
    fn json5_answers_are_read_and_hostile_braces_are_bounded() {
        let e = extract("{value: '55 Mbps', /* draft */ reasoning: 'video',}").unwrap();
        assert_eq!((e.value_mbps, e.reasoning.as_str()), (55.0, "video"));
        // Nesting deeper than the JSON5 limit is not handed to the (recursive) parser.
        let deep = format!("{}value: 1{}", "{a: ".repeat(40), "}".repeat(40));
        assert!(extract(&deep).is_err());
        // Stray braces by the thousand: no answer, no panic, no unbounded rescans.
        for text in [
            "{".repeat(50_000),
            "{a: ".repeat(20_000),
            "{'".repeat(20_000),
        ] {
            assert!(matches!(extract(&text), Err(ExtractionError::NoJson(_))));
        }
        // A multi-byte character at the scan limit does not split the text mid-character.
        let text = format!("{{value: 5, reasoning: '{}'}}", "é".repeat(3000));
        assert!(extract(&text).is_err());
    }

    #[test]
    fn clear_errors() {
        assert!(matches!(
            extract("I want 50 Mbps"),
            Err(ExtractionError::NoJson(_))
        ));
        assert_eq!(
            extract(r#"{"reasoning": "x"}"#),
            Err(ExtractionError::MissingValue)
        );
        assert!(matches!(
            extract(r#"{"value": "lots"}"#),
            Err(ExtractionError::NotANumber(_))
        ));
        assert!(matches!(
            extract(r#"{"value": [1]}"#),
            Err(ExtractionError::NotANumber(_))
        ));
    }
}

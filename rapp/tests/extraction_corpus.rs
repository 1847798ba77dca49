//! A corpus of messy, LLM-style answers run through the extraction unit
//! (`maestro_rapp::negotiation::extraction::extract`).
//!
//! Each case's expectation is what a careful reader takes from the text, not what `extract`
//! happens to do: the 85 inputs (without expectations or code) were given to a separate
//! session that had not seen the extraction unit, with the question "what throughput demand
//! does this answer commit to, and what is its reasoning — or must the agent be asked again
//! (no JSON answer / no value / not a number)?". Its answers, with a confidence and a note per
//! case, are in `tests/data/extraction_review.json` (2026-12-05). Where the code disagreed:
//! - fixed in the code: a hedge ("about 50"), a `"Value"` key, JSON5-style objects (single
//!   quotes, bare keys, comments; `NaN`/`Infinity`/1e400 are then not a number);
//! - kept, listed in [`KNOWN_MISSES`] with the reason: all of them cases the reviewer marked
//!   ambiguous. The test counts them and fails if a known miss starts to agree with the
//!   reader (take it off the list) or a case outside the list disagrees.
//!
//! One review answer is not a judgement of the text: the reviewer's copy of "very long prose
//! before" was shortened to its first 326 characters, which hold no answer; its note says an
//! answer object later in the full text should be used, so the expectation is that object.

use maestro_rapp::negotiation::extraction::{extract, ExtractionError};

/// Which error variant is expected.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    NoJson,
    MissingValue,
    NotANumber,
}

/// What a case expects.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// The value (Mbps) and a substring of the reasoning ("" matches any; use [`Expect::Exact`]
    /// to pin an empty reasoning).
    Ok(f64, &'static str),
    /// The value and the whole reasoning.
    Exact(f64, &'static str),
    /// The error variant.
    Err(Kind),
}

use Expect::{Err as E, Exact, Ok as O};
use Kind::{MissingValue, NoJson, NotANumber};

fn same(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
}

/// Runs one case; `None` if it behaved as expected, else a description of the difference.
fn check(name: &str, input: &str, expect: Expect) -> Option<String> {
    let got = extract(input);
    let ok = match (&got, expect) {
        (Ok(e), O(v, sub)) => same(e.value_mbps, v) && e.reasoning.contains(sub),
        (Ok(e), Exact(v, r)) => same(e.value_mbps, v) && e.reasoning == r,
        (Err(err), E(kind)) => match kind {
            NoJson => matches!(err, ExtractionError::NoJson(_)),
            MissingValue => matches!(err, ExtractionError::MissingValue),
            NotANumber => matches!(err, ExtractionError::NotANumber(_)),
        },
        _ => false,
    };
    (!ok).then(|| format!("{name}: expected {expect:?}, got {got:?}"))
}

fn corpus() -> Vec<(&'static str, String, Expect)> {
    let long_prose = "We have carefully weighed the situation of the cell. ".repeat(400);
    let long_reasoning = "because ".repeat(2_000);
    vec![
        // --- Plain JSON, numbers ----------------------------------------------------------
        ("plain", r#"{"value": 42.5, "reasoning": "fair share"}"#.into(), Exact(42.5, "fair share")),
        ("integer", r#"{"value": 55, "reasoning": "video"}"#.into(), Exact(55.0, "video")),
        ("float with .0", r#"{"value": 55.0, "reasoning": "video"}"#.into(), O(55.0, "video")),
        ("exponent", r#"{"value": 5.5e1, "reasoning": "sci"}"#.into(), O(55.0, "sci")),
        ("negative exponent", r#"{"value": 4500E-2}"#.into(), O(45.0, "")),
        ("zero", r#"{"value": 0, "reasoning": "we yield"}"#.into(), O(0.0, "we yield")),
        // Negative demands pass extraction; the validation unit clamps them to the bounds.
        ("negative", r#"{"value": -10, "reasoning": "odd"}"#.into(), O(-10.0, "odd")),
        ("minified", r#"{"value":60,"reasoning":"min"}"#.into(), O(60.0, "min")),
        (
            "pretty printed",
            "{\n  \"value\": 61.25,\n  \"reasoning\": \"pretty\"\n}\n".into(),
            O(61.25, "pretty"),
        ),
        (
            "keys reversed",
            r#"{"reasoning": "order does not matter", "value": 33}"#.into(),
            O(33.0, "order does not matter"),
        ),
        (
            "huge integer becomes f64",
            r#"{"value": 18446744073709551616}"#.into(),
            O(18_446_744_073_709_551_616.0, ""),
        ),
        // Beyond f64 range: JSON refuses the object, JSON5 reads it as infinite, not a number.
        ("out of f64 range", r#"{"value": 1e400}"#.into(), E(NotANumber)),
        // --- Numbers as strings -------------------------------------------------------------
        ("string int", r#"{"value": "55", "reasoning": "s"}"#.into(), O(55.0, "s")),
        ("string with unit", r#"{"value": "55.5 Mbps"}"#.into(), O(55.5, "")),
        ("string glued unit", r#"{"value": "55Mbps"}"#.into(), O(55.0, "")),
        ("string padded", r#"{"value": " 60 "}"#.into(), O(60.0, "")),
        ("string plus sign", r#"{"value": "+70"}"#.into(), O(70.0, "")),
        ("string leading dot", r#"{"value": ".5"}"#.into(), O(0.5, "")),
        ("string negative", r#"{"value": "-12.5 Mbps"}"#.into(), O(-12.5, "")),
        ("string with note", r#"{"value": "55 Mbps (min 40)"}"#.into(), O(55.0, "")),
        // A range commits to no single number: the reader asks again (a known miss).
        ("string range", r#"{"value": "40-60 Mbps"}"#.into(), E(NotANumber)),
        ("string range with to", r#"{"value": "40 to 60"}"#.into(), E(NotANumber)),
        ("string exponent", r#"{"value": "5.5e1"}"#.into(), Exact(55.0, "")),
        // Units are converted to Mbps.
        ("string gbps", r#"{"value": "1.2 Gbps", "reasoning": "big"}"#.into(), Exact(1200.0, "big")),
        ("string kbps", r#"{"value": "500 kbps"}"#.into(), Exact(0.5, "")),
        ("string thousands kbps", r#"{"value": "20,000 kbps"}"#.into(), Exact(20.0, "")),
        ("string thousands", r#"{"value": "1,000 Mbps"}"#.into(), Exact(1000.0, "")),
        ("string decimal comma", r#"{"value": "55,5"}"#.into(), Exact(55.5, "")),
        ("string words", r#"{"value": "about 50"}"#.into(), Exact(50.0, "")),
        ("string tilde", r#"{"value": "~50 Mbps"}"#.into(), Exact(50.0, "")),
        ("string empty", r#"{"value": ""}"#.into(), E(NotANumber)),
        ("string two dots", r#"{"value": "1.2.3"}"#.into(), E(NotANumber)),
        ("string NaN", r#"{"value": "NaN"}"#.into(), E(NotANumber)),
        ("string Infinity", r#"{"value": "Infinity"}"#.into(), E(NotANumber)),
        ("string -inf", r#"{"value": "-inf"}"#.into(), E(NotANumber)),
        // --- Other value types --------------------------------------------------------------
        ("null value", r#"{"value": null, "reasoning": "unsure"}"#.into(), E(NotANumber)),
        ("bool value", r#"{"value": true}"#.into(), E(NotANumber)),
        ("array value", r#"{"value": [50]}"#.into(), O(50.0, "")),
        ("object value", r#"{"value": {"mbps": 50}}"#.into(), O(50.0, "")),
        // Bare NaN / Infinity are not JSON but JSON5: a value that is not a finite number.
        ("bare NaN", r#"{"value": NaN}"#.into(), E(NotANumber)),
        ("bare Infinity", r#"{"value": Infinity}"#.into(), E(NotANumber)),
        ("no value", r#"{"reasoning": "I forgot"}"#.into(), E(MissingValue)),
        ("value key case", r#"{"Value": 50}"#.into(), Exact(50.0, "")),
        (
            "envelope without value",
            r#"{"answer": {"mbps": 50, "reasoning": "wrong key"}}"#.into(),
            E(MissingValue),
        ),
        // Duplicate keys: the last one wins (serde_json's map insert).
        ("duplicate value keys", r#"{"value": 10, "value": 20}"#.into(), O(20.0, "")),
        // --- Reasoning ----------------------------------------------------------------------
        ("reasoning missing", r#"{"value": 50}"#.into(), Exact(50.0, "")),
        ("reasoning trimmed", r#"{"value": 50, "reasoning": "  padded \n"}"#.into(), Exact(50.0, "padded")),
        ("reasoning number", r#"{"value": 50, "reasoning": 7}"#.into(), Exact(50.0, "7")),
        (
            "reasoning array",
            r#"{"value": 50, "reasoning": ["video", "latency"]}"#.into(),
            O(50.0, "video"),
        ),
        (
            "reasoning object",
            r#"{"value": 50, "reasoning": {"why": "video"}}"#.into(),
            Exact(50.0, r#"{"why":"video"}"#),
        ),
        ("reasoning null", r#"{"value": 50, "reasoning": null}"#.into(), Exact(50.0, "")),
        (
            "reasoning unicode",
            r#"{"value": 48, "reasoning": "Débit garanti — 視頻 🎥 ≥ 40 Mbps"}"#.into(),
            Exact(48.0, "Débit garanti — 視頻 🎥 ≥ 40 Mbps"),
        ),
        (
            "reasoning unicode escapes",
            r#"{"value": 48, "reasoning": "caf\u00e9 \ud83c\udfa5"}"#.into(),
            Exact(48.0, "café 🎥"),
        ),
        (
            "reasoning escaped quotes and braces",
            r#"{"value": 52, "reasoning": "They said \"{value: 99}\" but we need 52 } {"}"#.into(),
            Exact(52.0, r#"They said "{value: 99}" but we need 52 } {"#),
        ),
        (
            "reasoning with newlines",
            r#"{"value": 52, "reasoning": "line one\nline two"}"#.into(),
            Exact(52.0, "line one\nline two"),
        ),
        (
            "reasoning very long",
            format!(r#"{{"value": 44, "reasoning": "{long_reasoning}"}}"#),
            O(44.0, "because because"),
        ),
        // --- Nesting and extra fields -------------------------------------------------------
        (
            "extra fields",
            r#"{"agent": "bo1", "round": 3, "value": 57, "unit": "Mbps", "confidence": 0.9, "reasoning": "x"}"#.into(),
            O(57.0, "x"),
        ),
        (
            "nested extra fields",
            r#"{"value": 57, "meta": {"round": 3, "prev": {"value": 90}}, "reasoning": "nested"}"#.into(),
            O(57.0, "nested"),
        ),
        // An envelope around the answer is looked into.
        (
            "wrapped in envelope",
            r#"{"answer": {"value": 57, "reasoning": "wrapped"}}"#.into(),
            Exact(57.0, "wrapped"),
        ),
        ("inside array", r#"[{"value": 58, "reasoning": "array"}]"#.into(), O(58.0, "array")),
        // --- Fences and prose ---------------------------------------------------------------
        (
            "json fence",
            "```json\n{\"value\": 62, \"reasoning\": \"fenced\"}\n```".into(),
            O(62.0, "fenced"),
        ),
        (
            "bare fence",
            "```\n{\"value\": 63, \"reasoning\": \"bare fence\"}\n```".into(),
            O(63.0, "bare fence"),
        ),
        (
            "sure here is",
            "Sure! Here is my answer:\n{\"value\": 64, \"reasoning\": \"polite\"}".into(),
            O(64.0, "polite"),
        ),
        (
            "prose before and after fence",
            "Considering MAESTRO's feedback (mean 70 Mbps), we move.\n```json\n{\"value\": 65.5, \"reasoning\": \"moving toward 70\"}\n```\nLet me know if you need anything else!".into(),
            O(65.5, "toward 70"),
        ),
        (
            "markdown bullets around json",
            "**Analysis**\n- Our target: 100 Mbps\n- Mean: 60 Mbps\n\n**Answer**\n{\"value\": 66, \"reasoning\": \"bullets\"}".into(),
            O(66.0, "bullets"),
        ),
        (
            "markdown bullets only",
            "- value: 50\n- reasoning: we need video".into(),
            O(50.0, "we need video"),
        ),
        (
            "very long prose before",
            format!("{long_prose}\n{{\"value\": 67, \"reasoning\": \"after a lot of prose\"}}"),
            O(67.0, "after a lot of prose"),
        ),
        (
            "trailing garbage glued to the object",
            r#"{"value": 68, "reasoning": "glued"}<|im_end|>"#.into(),
            O(68.0, "glued"),
        ),
        (
            "braces in prose before",
            r#"Format {value, reasoning} understood. {"value": 69, "reasoning": "skip the stray brace"}"#.into(),
            O(69.0, "stray brace"),
        ),
        // --- Several objects ----------------------------------------------------------------
        // Models restate or draft before the final answer: the last usable object wins.
        (
            "two objects last wins",
            r#"{"value": 70, "reasoning": "first"} {"value": 80, "reasoning": "second"}"#.into(),
            Exact(80.0, "second"),
        ),
        (
            "first object lacks value",
            r#"{"note": "thinking"} {"value": 71, "reasoning": "real"}"#.into(),
            Exact(71.0, "real"),
        ),
        (
            "previous answer quoted first",
            r#"Last round I said {"value": 90}. Now: {"value": 72, "reasoning": "conceding"}"#.into(),
            Exact(72.0, "conceding"),
        ),
        (
            "last object unusable, earlier one taken",
            r#"{"value": 74, "reasoning": "ok"} {"value": "lots"}"#.into(),
            E(NotANumber),
        ),
        // A reasoning model's <think> block is dropped, draft answers and all.
        (
            "think block draft ignored",
            "<think>Maybe {\"value\": 100}? No, too greedy.</think>\n{\"value\": 73, \"reasoning\": \"final\"}".into(),
            Exact(73.0, "final"),
        ),
        (
            "unterminated think block",
            "<think>{\"value\": 100} and then the model ran out of tokens".into(),
            E(NoJson),
        ),
        // --- Not JSON -----------------------------------------------------------------------
        (
            "single quoted pseudo json",
            "{'value': 50, 'reasoning': 'python dict'}".into(),
            Exact(50.0, "python dict"),
        ),
        (
            "unquoted keys",
            "{value: 50, reasoning: \"js object\"}".into(),
            Exact(50.0, "js object"),
        ),
        // Trailing commas (common in model output) are forgiven, outside strings only.
        ("trailing comma", r#"{"value": 50, "reasoning": "x",}"#.into(), Exact(50.0, "x")),
        (
            "trailing comma nested object",
            r#"{"value": 50, "meta": {"round": 2,}, }"#.into(),
            Exact(50.0, ""),
        ),
        (
            "comma brace inside a string is kept",
            r#"{"value": 50, "reasoning": "a,} b",}"#.into(),
            Exact(50.0, "a,} b"),
        ),
        (
            "comment inside json",
            "{\"value\": 50, // Mbps\n \"reasoning\": \"x\"}".into(),
            Exact(50.0, "x"),
        ),
        ("truncated json", r#"{"value": 50, "reasoning": "cut off mid"#.into(), O(50.0, "cut off mid")),
        ("prose only", "We would like 50 Mbps, please.".into(), O(50.0, "")),
        ("empty", "".into(), E(NoJson)),
        ("whitespace", "  \n\t ".into(), E(NoJson)),
    ]
}

/// Cases where the code keeps a behaviour the reader would not choose, and why. Every one was
/// marked ambiguous by the reviewer.
const KNOWN_MISSES: [(&str, &str); 8] = [
    (
        "string range",
        "a range is read as its midpoint (documented); the reader asks again",
    ),
    (
        "string range with to",
        "a range is read as its midpoint (documented); the reader asks again",
    ),
    (
        "array value",
        "a value of the wrong type is refused so the agent is asked again",
    ),
    (
        "object value",
        "a value of the wrong type is refused so the agent is asked again",
    ),
    (
        "markdown bullets only",
        "no figure is taken from outside a JSON answer: the agent is asked again",
    ),
    (
        "prose only",
        "no figure is taken from outside a JSON answer: the agent is asked again",
    ),
    (
        "truncated json",
        "an answer cut off mid-object is asked again, not completed",
    ),
    (
        "last object unusable, earlier one taken",
        "the last *usable* answer wins; the reader takes the unusable last one as final",
    ),
];

#[test]
fn corpus_agrees_with_the_reader_except_the_known_misses() {
    let cases = corpus();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let names: std::collections::HashSet<&str> = cases.iter().map(|c| c.0).collect();
    assert_eq!(names.len(), cases.len(), "case names are unique");
    for (miss, _) in KNOWN_MISSES {
        assert!(names.contains(miss), "known miss {miss:?} is not a case");
    }
    let known = |name: &str| KNOWN_MISSES.iter().find(|(n, _)| *n == name);

    let mut disagreements = Vec::new();
    let mut misses = Vec::new();
    let mut now_agreeing = Vec::new();
    for (name, input, expect) in &cases {
        match (check(name, input, *expect), known(name)) {
            (None, None) => {}
            (Some(diff), None) => disagreements.push(diff),
            (Some(diff), Some((_, why))) => misses.push(format!("{diff} [known miss: {why}]")),
            (None, Some(_)) => now_agreeing.push(*name),
        }
    }
    let (mut ok, mut no_json, mut missing, mut nan) = (0, 0, 0, 0);
    for (_, _, expect) in &cases {
        match expect {
            O(..) | Exact(..) => ok += 1,
            E(NoJson) => no_json += 1,
            E(MissingValue) => missing += 1,
            E(NotANumber) => nan += 1,
        }
    }
    eprintln!(
        "extraction corpus: {} cases ({ok} answers, {no_json} NoJson, {missing} MissingValue, \
         {nan} NotANumber by the reader); {} agree with the reader, {} known misses, {} other \
         disagreements",
        cases.len(),
        cases.len() - misses.len() - disagreements.len(),
        misses.len(),
        disagreements.len()
    );
    for m in &misses {
        eprintln!("  {m}");
    }
    assert!(
        disagreements.is_empty(),
        "the extraction unit disagrees with the reader:\n{}",
        disagreements.join("\n")
    );
    assert!(
        now_agreeing.is_empty(),
        "now agree with the reader: take them off KNOWN_MISSES: {now_agreeing:?}"
    );
    assert_eq!(ok + no_json + missing + nan, cases.len());
}

#[test]
fn bare_number_answer_is_rejected_as_no_json() {
    for text in ["42", "42.5", " 42 \n", "```\n42\n```"] {
        let err = extract(text).unwrap_err();
        assert!(
            matches!(err, ExtractionError::NoJson(_)),
            "{text:?}: {err:?}"
        );
    }
    // The error quotes the answer so the correction prompt can show it.
    assert_eq!(extract("42"), Err(ExtractionError::NoJson("42".into())));
}

#[test]
fn no_json_error_quotes_at_most_120_characters() {
    let text = "x".repeat(500);
    match extract(&text) {
        Err(ExtractionError::NoJson(quoted)) => {
            assert_eq!(quoted.chars().count(), 120);
            assert_eq!(quoted, "x".repeat(120));
        }
        other => panic!("{other:?}"),
    }
    // Cut on characters, not bytes.
    let text = "é".repeat(200);
    match extract(&text) {
        Err(ExtractionError::NoJson(quoted)) => {
            assert_eq!(quoted.chars().count(), 120);
            assert_eq!(quoted.len(), 240);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn errors_name_the_offending_value() {
    assert_eq!(
        extract(r#"{"value": null}"#),
        Err(ExtractionError::NotANumber("null".into()))
    );
    assert_eq!(
        extract(r#"{"value": "NaN"}"#),
        Err(ExtractionError::NotANumber("\"NaN\"".into()))
    );
    assert_eq!(
        extract(r#"{"reasoning": "r"}"#),
        Err(ExtractionError::MissingValue)
    );
    let msg = extract(r#"{"value": [1, 2]}"#).unwrap_err().to_string();
    assert!(msg.contains("[1,2]"), "{msg}");
    assert!(msg.contains("not a finite number"), "{msg}");
}

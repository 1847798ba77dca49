//! Extraction unit: turns an LLM's text into `{value, reasoning}`, tolerant of what real models
//! write — JSON inside prose or code fences, numbers as strings, units such as "55 Mbps".

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
pub fn extract(text: &str) -> Result<Extracted, ExtractionError> {
    let object = first_json_object(text)
        .ok_or_else(|| ExtractionError::NoJson(text.chars().take(120).collect()))?;
    let value = object.get("value").ok_or(ExtractionError::MissingValue)?;
    let value_mbps = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => leading_number(s),
        _ => None,
    }
    .filter(|v| v.is_finite())
    .ok_or_else(|| ExtractionError::NotANumber(value.to_string()))?;
    let reasoning = match object.get("reasoning") {
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    Ok(Extracted {
        value_mbps,
        reasoning,
    })
}

/// The first `{...}` in the text that parses as a JSON object.
fn first_json_object(text: &str) -> Option<serde_json::Map<String, Value>> {
    text.char_indices()
        .filter(|(_, c)| *c == '{')
        .find_map(|(i, _)| {
            let mut stream = serde_json::Deserializer::from_str(&text[i..]).into_iter::<Value>();
            match stream.next() {
                Some(Ok(Value::Object(map))) => Some(map),
                _ => None,
            }
        })
}

/// "55", " 55.5 Mbps", "55Mbps", "-3e1" -> the number at the start.
fn leading_number(s: &str) -> Option<f64> {
    let s = s.trim();
    let end = s
        .char_indices()
        .take_while(|(i, c)| {
            c.is_ascii_digit() || *c == '.' || ((*c == '-' || *c == '+') && *i == 0)
        })
        .map(|(i, c)| i + c.len_utf8())
        .last()?;
    s[..end].parse().ok()
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

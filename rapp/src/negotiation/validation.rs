//! Validation unit: the last check on an agent's message before MAESTRO counts it — syntax
//! (the extraction unit's verdict), range (regulatory and observability bounds), and, under
//! "hard" pressure, agreement with the optimizer's directive. It clamps what is merely out of
//! range, substitutes the optimizer's value for what is unusable or defies a directive, and
//! says so in notes that go into the transcript.

use serde::{Deserialize, Serialize};

use super::engine::Bounds;
use super::extraction::Extracted;

/// How strongly the optimizer's advice is put to the agents (the paper's designs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PressureMode {
    /// No optimizer: agents negotiate on their own.
    None,
    /// The optimizer's value is advice in the prompt.
    Soft,
    /// The optimizer's value is a directive; validation enforces it.
    #[default]
    Hard,
}

impl std::fmt::Display for PressureMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::None => "none",
            Self::Soft => "soft",
            Self::Hard => "hard",
        })
    }
}

/// A message that passed validation, possibly corrected.
#[derive(Debug, Clone, PartialEq)]
pub struct Validated {
    /// The value MAESTRO counts, Mbps.
    pub value_mbps: f64,
    /// The reasoning (the agent's own, or the substitution's explanation).
    pub reasoning: String,
    /// What validation changed, for the transcript.
    pub notes: Vec<String>,
    /// The optimizer's value was used instead of the agent's.
    pub substituted: bool,
}

/// Validates an agent's extracted answer (`Err` = it could not be extracted even after the
/// agent was asked again).
pub fn validate(
    answer: Result<Extracted, String>,
    advice_mbps: f64,
    bounds: &Bounds,
    mode: PressureMode,
    hard_tolerance_mbps: f64,
) -> Validated {
    let substitute = |why: String| Validated {
        value_mbps: advice_mbps,
        reasoning: format!("[validation: substituted the optimizer's {advice_mbps:.2} Mbps]"),
        notes: vec![why],
        substituted: true,
    };
    let extracted = match answer {
        Ok(e) => e,
        Err(why) => return substitute(format!("fallback to the optimizer: {why}")),
    };
    let mut notes = Vec::new();
    let mut value = extracted.value_mbps;
    let clamped = bounds.clamp(value);
    if clamped != value {
        notes.push(format!(
            "{value:.2} Mbps is outside {:.2}..{:.2} Mbps, clamped to {clamped:.2}",
            bounds.min_mbps, bounds.max_mbps
        ));
        value = clamped;
    }
    if mode == PressureMode::Hard && (value - advice_mbps).abs() > hard_tolerance_mbps {
        let mut v = substitute(format!(
            "defied the directive: said {value:.2} Mbps, directed {advice_mbps:.2} Mbps"
        ));
        v.reasoning = format!("{} {}", extracted.reasoning, v.reasoning);
        return v;
    }
    Validated {
        value_mbps: value,
        reasoning: extracted.reasoning,
        notes,
        substituted: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: Bounds = Bounds {
        min_mbps: 1.0,
        max_mbps: 100.0,
    };

    fn said(v: f64) -> Result<Extracted, String> {
        Ok(Extracted {
            value_mbps: v,
            reasoning: "because".into(),
        })
    }

    #[test]
    fn in_range_answers_pass_unchanged() {
        let v = validate(said(42.0), 40.0, &B, PressureMode::Soft, 0.5);
        assert_eq!((v.value_mbps, v.substituted), (42.0, false));
        assert!(v.notes.is_empty());
    }

    #[test]
    fn out_of_range_is_clamped_and_noted() {
        let v = validate(said(500.0), 40.0, &B, PressureMode::None, 0.5);
        assert_eq!(v.value_mbps, 100.0);
        assert!(v.notes[0].contains("clamped"), "{:?}", v.notes);
    }

    #[test]
    fn hard_mode_substitutes_a_defiant_value_soft_mode_does_not() {
        let hard = validate(said(70.0), 40.0, &B, PressureMode::Hard, 0.5);
        assert_eq!((hard.value_mbps, hard.substituted), (40.0, true));
        assert!(hard.notes[0].contains("defied"));
        let ok = validate(said(40.3), 40.0, &B, PressureMode::Hard, 0.5);
        assert_eq!(ok.value_mbps, 40.3);
        let soft = validate(said(70.0), 40.0, &B, PressureMode::Soft, 0.5);
        assert_eq!(soft.value_mbps, 70.0);
    }

    #[test]
    fn unusable_answer_falls_back_to_the_optimizer() {
        let v = validate(Err("no JSON".into()), 33.0, &B, PressureMode::None, 0.5);
        assert_eq!((v.value_mbps, v.substituted), (33.0, true));
        assert!(v.notes[0].contains("fallback"));
    }
}

//! Validation unit: the last check on an agent's message before MAESTRO counts it — syntax
//! (the extraction unit's verdict), range (regulatory and observability bounds), and, under
//! "hard" pressure, agreement with the optimizer's directive. It clamps what is merely out of
//! range, substitutes the optimizer's value for what is unusable or defies a directive, and
//! says so in notes that go into the transcript.
//!
//! Under hard pressure the substitution can be switched off ([`Rules::hard_substitution`]), an
//! ablation: a defiant answer then counts as said (clamped) and an unusable one keeps the
//! agent's previous value, so a negotiation shows what the agents do without the unit.
//!
//! It also reads the reasoning ([`contradiction`]): an answer whose words contradict its value
//! (it states a demand of 40 Mbps but its value is 70; it accepts the directive but does not
//! state it) is flagged, and the engine asks the agent once more with the contradiction named.

use std::sync::LazyLock;

use regex::Regex;

use super::extraction::Extracted;
use super::vocabulary::Bounds;

pub use super::vocabulary::PressureMode;

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

/// What the validation unit enforces in a round.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rules {
    /// How the optimizer's value is put to the agents.
    pub mode: PressureMode,
    /// Under hard pressure, how far (Mbps) an answer may be from the directive.
    pub hard_tolerance_mbps: f64,
    /// Under hard pressure, whether the optimizer's directive stands in for an answer that
    /// defies it or cannot be extracted (the paper's unit). `false` is an ablation: a defiant
    /// answer is kept as said (clamped to the bounds) and an unusable one keeps the agent's
    /// previous value, each with a note. Under soft or no pressure it changes nothing (an
    /// unusable answer falls back to the optimizer's value either way).
    pub hard_substitution: bool,
}

/// Validates an agent's extracted answer (`Err` = it could not be extracted even after the
/// agent was asked again); `previous_mbps` is what the agent stated last round.
pub fn validate(
    answer: Result<Extracted, String>,
    advice_mbps: f64,
    previous_mbps: f64,
    bounds: &Bounds,
    rules: &Rules,
) -> Validated {
    let substitute = |why: String| Validated {
        value_mbps: advice_mbps,
        reasoning: format!("[validation: substituted the optimizer's {advice_mbps:.2} Mbps]"),
        notes: vec![why],
        substituted: true,
    };
    let hard = rules.mode == PressureMode::Hard;
    let extracted = match answer {
        Ok(e) => e,
        Err(why) if hard && !rules.hard_substitution => {
            let kept = bounds.clamp(previous_mbps);
            return Validated {
                value_mbps: kept,
                reasoning: format!(
                    "[validation: no usable answer; kept the previous {kept:.2} Mbps]"
                ),
                notes: vec![format!(
                    "kept the previous {kept:.2} Mbps (hard substitution off): {why}"
                )],
                substituted: false,
            };
        }
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
    let defiant = hard && (value - advice_mbps).abs() > rules.hard_tolerance_mbps;
    if defiant && !rules.hard_substitution {
        notes.push(format!(
            "defied the directive: said {value:.2} Mbps, directed {advice_mbps:.2} Mbps; kept \
             as said (hard substitution off)"
        ));
    } else if defiant {
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

/// A figure the reasoning states as its own demand: a demand verb, then within the same
/// clause a number of Mbps.
static DEMAND_FIGURE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:(?:we|i)\s+(?:[a-z']+\s+){0,3}?(ask|request|demand|propose|want|need|accept|settle|offer|state|choose|take|go)(?:s|ing|ed)?\b|our\s+(demand|request|offer|value|position|ask)\b)[^.;!?\d]{0,40}?(\d+(?:\.\d+)?)\s*(?:mbps|mbit/s|mb/s)",
    )
    .ok()
});

/// The reasoning accepts the optimizer's value or MAESTRO's directive.
static ACCEPTS_DIRECTIVE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(accept|follow|agree (?:to|with)|comply with|adopt|go with)\b[^.;!?]{0,40}?\b(directive|advice|optimi[sz]er|suggest(?:ed|ion)|recommend(?:ed|ation)|maestro)",
    )
    .ok()
});

/// Whether a negation ("not", "n't", "never", "refuse", "cannot", "won't", "no") ends the text
/// just before position `at`.
fn negated(text: &str, at: usize) -> bool {
    let start = text[..at]
        .char_indices()
        .rev()
        .nth(24)
        .map_or(0, |(i, _)| i);
    let before = text[start..at].to_lowercase();
    [
        " not ", "n't ", "never ", "refuse", "cannot ", " no ", "won't ",
    ]
    .iter()
    .any(|n| before.contains(n))
        || before.starts_with("not ")
        || before.starts_with("no ")
}

/// How far (Mbps) a stated figure may be from the value and still agree with it.
fn agrees(stated: f64, value: f64) -> bool {
    (stated - value).abs() <= 0.5_f64.max(0.01 * value.abs())
}

/// Where an answer's reasoning contradicts its value, said so it can be put to the agent:
/// the reasoning states its own demand as figures none of which is the value, or (under
/// advice or a directive) accepts the optimizer's value while the value is another.
pub fn contradiction(
    reasoning: &str,
    value_mbps: f64,
    advice_mbps: f64,
    mode: PressureMode,
) -> Option<String> {
    let stated: Vec<f64> = DEMAND_FIGURE
        .as_ref()
        .map(|re| {
            re.captures_iter(reasoning)
                .filter(|c| {
                    c.get(1)
                        .or_else(|| c.get(2))
                        .is_some_and(|verb| !negated(reasoning, verb.start()))
                })
                .filter_map(|c| c.get(3)?.as_str().parse::<f64>().ok())
                .collect()
        })
        .unwrap_or_default();
    if !stated.is_empty() && !stated.iter().any(|&s| agrees(s, value_mbps)) {
        let figures: Vec<String> = stated.iter().map(|s| format!("{s} Mbps")).collect();
        return Some(format!(
            "the reasoning states a demand of {} but the value is {value_mbps:.2} Mbps",
            figures.join(" / ")
        ));
    }
    if mode != PressureMode::None && !agrees(advice_mbps, value_mbps) {
        let accepts = ACCEPTS_DIRECTIVE.as_ref().and_then(|re| {
            re.captures_iter(reasoning)
                .filter_map(|c| c.get(1))
                .find(|verb| !negated(reasoning, verb.start()))
        });
        if let Some(verb) = accepts {
            return Some(format!(
                "the reasoning says it will \"{}\" the optimizer's {advice_mbps:.2} Mbps but the \
                 value is {value_mbps:.2} Mbps",
                verb.as_str().to_lowercase()
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasoning_that_contradicts_its_value_is_flagged() {
        let c = |r: &str, v: f64| contradiction(r, v, 40.0, PressureMode::Soft);
        // Stated demand differs from the value.
        let why = c("We ask for 40 Mbps to keep our video customers.", 70.0).unwrap();
        assert!(why.contains("40 Mbps") && why.contains("70.00"), "{why}");
        assert!(c("Our demand is 55.5 Mbps this round.", 30.0).is_some());
        // Agrees (within half a Mbps or 1%).
        assert!(c("We ask for 40 Mbps to keep our video customers.", 40.2).is_none());
        // Other operators' figures and rejected figures are not the agent's demand.
        assert!(c("bo-qos asks 80 Mbps; we need 35 Mbps.", 35.0).is_none());
        assert!(c("We cannot accept 20 Mbps; 60 is our floor.", 60.0).is_none());
        // Accepting the optimizer's value while stating another.
        let why = c("We accept the optimizer's suggestion.", 70.0).unwrap();
        assert!(why.contains("accept"), "{why}");
        assert!(c("We accept the optimizer's suggestion.", 40.0).is_none());
        assert!(c(
            "We do not accept the directive; our customers need more.",
            70.0
        )
        .is_none());
        // Without an optimizer there is no directive to accept.
        assert!(contradiction("We follow the advice.", 70.0, 40.0, PressureMode::None).is_none());
        // No figures, no acceptance: nothing to contradict.
        assert!(c("Premium video needs headroom.", 99.0).is_none());
    }

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

    /// The rules of `mode` with a 0.5 Mbps tolerance and the substitution on.
    fn rules(mode: PressureMode) -> Rules {
        Rules {
            mode,
            hard_tolerance_mbps: 0.5,
            hard_substitution: true,
        }
    }

    #[test]
    fn in_range_answers_pass_unchanged() {
        let v = validate(said(42.0), 40.0, 30.0, &B, &rules(PressureMode::Soft));
        assert_eq!((v.value_mbps, v.substituted), (42.0, false));
        assert!(v.notes.is_empty());
    }

    #[test]
    fn out_of_range_is_clamped_and_noted() {
        let v = validate(said(500.0), 40.0, 30.0, &B, &rules(PressureMode::None));
        assert_eq!(v.value_mbps, 100.0);
        assert!(v.notes[0].contains("clamped"), "{:?}", v.notes);
    }

    #[test]
    fn hard_mode_substitutes_a_defiant_value_soft_mode_does_not() {
        let hard = validate(said(70.0), 40.0, 30.0, &B, &rules(PressureMode::Hard));
        assert_eq!((hard.value_mbps, hard.substituted), (40.0, true));
        assert!(hard.notes[0].contains("defied"));
        let ok = validate(said(40.3), 40.0, 30.0, &B, &rules(PressureMode::Hard));
        assert_eq!(ok.value_mbps, 40.3);
        let soft = validate(said(70.0), 40.0, 30.0, &B, &rules(PressureMode::Soft));
        assert_eq!(soft.value_mbps, 70.0);
    }

    #[test]
    fn unusable_answer_falls_back_to_the_optimizer() {
        let v = validate(
            Err("no JSON".into()),
            33.0,
            30.0,
            &B,
            &rules(PressureMode::None),
        );
        assert_eq!((v.value_mbps, v.substituted), (33.0, true));
        assert!(v.notes[0].contains("fallback"));
    }

    #[test]
    fn without_hard_substitution_the_agent_is_taken_at_its_word() {
        let off = Rules {
            hard_substitution: false,
            ..rules(PressureMode::Hard)
        };
        // Defiant: kept as said, clamped, with both notes.
        let v = validate(said(500.0), 40.0, 30.0, &B, &off);
        assert_eq!((v.value_mbps, v.substituted), (100.0, false));
        assert_eq!(v.reasoning, "because");
        assert!(v.notes[0].contains("clamped"), "{:?}", v.notes);
        assert!(
            v.notes[1].contains("defied") && v.notes[1].contains("substitution off"),
            "{:?}",
            v.notes
        );
        // Unusable: the previous value (clamped into this round's bounds) stands.
        let v = validate(Err("no JSON".into()), 40.0, 30.0, &B, &off);
        assert_eq!((v.value_mbps, v.substituted), (30.0, false));
        assert!(v.notes[0].contains("kept the previous") && v.notes[0].contains("no JSON"));
        let v = validate(Err("no JSON".into()), 40.0, 0.2, &B, &off);
        assert_eq!(v.value_mbps, 1.0);
        // Soft pressure knows no directive: the switch changes nothing there.
        let soft = Rules {
            hard_substitution: false,
            ..rules(PressureMode::Soft)
        };
        let v = validate(Err("no JSON".into()), 40.0, 30.0, &B, &soft);
        assert_eq!((v.value_mbps, v.substituted), (40.0, true));
    }
}

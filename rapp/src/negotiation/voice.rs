//! MAESTRO's voice: the per-round message the mediator sends each agent, written by an LLM from
//! the round's state when the backend is one (the persona backend, a scripted simulator, keeps
//! the numeric template of [`super::mediator`]).
//!
//! The LLM writes words, never numbers. Its prompt gives the state with placeholders —
//! `{mean}`, `{target}`, `{min}`, `{max}`, `{spread}`, `{last}` — and asks for them where the
//! numbers belong; code fills them in ([`fill`]). A message with a digit of its own, an unknown
//! placeholder, no `{target}`, or an unusable length is refused and the template stands in,
//! with the reason recorded ([`Spoken::fallback`]). The numbers an agent reads from MAESTRO are
//! therefore always the ones the engine computed.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::llm::{AgentContext, AnswerFormat, Prompt};
use super::mediator::{Direction, Feedback};
use super::peers::sanitise;
use super::vocabulary::Bounds;
use super::vocabulary::PressureMode;

/// Characters a message may have (after filling).
pub const MAX_MESSAGE_CHARS: usize = 600;

/// Tokens the LLM may write for a message (about 400 characters of English; a longer message
/// would be refused anyway).
pub const MAX_MESSAGE_TOKENS: u32 = 96;

/// The numbers a message is about, Mbps; code fills them into the LLM's placeholders.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Numbers {
    /// MAESTRO's stake-weighted mean of the last round.
    pub mean: f64,
    /// The agent's value this round: the optimizer's advice or directive.
    pub target: f64,
    /// Lowest allowed demand.
    pub min: f64,
    /// Highest allowed demand.
    pub max: f64,
    /// Spread of the last round's demands.
    pub spread: f64,
    /// The agent's last demand.
    pub last: f64,
}

impl Numbers {
    fn value(&self, name: &str) -> Option<f64> {
        Some(match name {
            "mean" => self.mean,
            "target" => self.target,
            "min" => self.min,
            "max" => self.max,
            "spread" => self.spread,
            "last" => self.last,
            _ => return None,
        })
    }
}

/// What MAESTRO said to one agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spoken {
    /// The message, numbers filled in (`None` when the template stood in).
    pub message: Option<String>,
    /// Why the LLM's message was not used.
    pub fallback: Option<String>,
}

/// The mediator's instructions.
pub const VOICE_SYSTEM: &str = "You are MAESTRO, the mediator of a negotiation among business \
operators that share one 5G base station. Each round you write a short message (one to three \
sentences) to one operator, telling it where the group stands and which way to move to reach a \
consensus, politely and firmly. Never write a digit: where a number belongs write one of the \
placeholders {mean}, {target}, {min}, {max}, {spread}, {last} exactly as shown, followed by \
Mbps; the system fills the numbers in. Always mention {target} once. Write plain text only.";

/// The mediator's prompt for one agent (free text; see the module docs for what is checked).
pub fn prompt(
    topic: &str,
    agent_id: &str,
    direction: Direction,
    pressure: PressureMode,
    feedback: &Feedback,
    bounds: &Bounds,
) -> Prompt {
    let way = match direction {
        Direction::Raise => "raise its demand",
        Direction::Lower => "lower its demand",
        Direction::Hold => "hold its demand",
    };
    let ask = match pressure {
        PressureMode::None => "suggest it considers {target} Mbps",
        PressureMode::Soft => "advise it to move to {target} Mbps",
        PressureMode::Hard => "direct it to state exactly {target} Mbps",
    };
    let user = format!(
        "Topic: {}. The last round is over. The group's weighted mean is {{mean}} Mbps and the demands \
         spread over {{spread}} Mbps; the allowed range is {{min}} to {{max}} Mbps. Operator {} \
         last asked {{last}} Mbps and should {way}; {ask}. Write the message to operator {}.",
        sanitise(topic),
        sanitise(agent_id),
        sanitise(agent_id),
    );
    Prompt {
        system: VOICE_SYSTEM.to_owned(),
        user,
        context: AgentContext {
            round: feedback.round,
            own_target_mbps: feedback.mean_mbps,
            optimizer_suggestion_mbps: feedback.mean_mbps,
            pressure,
            ..AgentContext::unit("maestro", "Mediate the negotiation.", bounds.clone())
        },
        format: AnswerFormat::Prose {
            grammar: PROSE_GRAMMAR.to_owned(),
            max_tokens: MAX_MESSAGE_TOKENS,
        },
    }
}

/// GBNF of a message: one line of prose without digits (placeholders are letters in braces),
/// at least ten characters.
pub const PROSE_GRAMMAR: &str =
    "root ::= [A-Za-z{] char char char char char char char char char char*\nchar ::= [^0-9\\x00-\\x1F]\n";

static PLACEHOLDER: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"\{([A-Za-z_]+)\}").ok());

/// The LLM's `text` with its placeholders filled from `numbers`, or why it cannot be used.
pub fn fill(text: &str, numbers: &Numbers) -> Result<String, String> {
    let text = sanitise(text.trim().trim_matches('"'));
    let Some(re) = PLACEHOLDER.as_ref() else {
        return Err("placeholder pattern unavailable".into());
    };
    if text.chars().count() < 10 {
        return Err(format!("too short ({} characters)", text.chars().count()));
    }
    if text.chars().count() > MAX_MESSAGE_CHARS {
        return Err(format!("too long ({} characters)", text.chars().count()));
    }
    let words = re.replace_all(&text, "");
    if let Some(d) = words.chars().find(|c| c.is_ascii_digit()) {
        return Err(format!("it wrote a number of its own (digit {d:?})"));
    }
    let mut unknown = None;
    let mut has_target = false;
    let filled = re.replace_all(&text, |c: &regex::Captures<'_>| {
        let name = &c[1];
        has_target |= name == "target";
        match numbers.value(name) {
            Some(v) => format!("{v:.2}"),
            None => {
                unknown.get_or_insert_with(|| name.to_owned());
                String::new()
            }
        }
    });
    if let Some(name) = unknown {
        return Err(format!("unknown placeholder {{{name}}}"));
    }
    if !has_target {
        return Err("no {target} placeholder: the agent's value would be missing".into());
    }
    Ok(filled.into_owned())
}

/// What MAESTRO says to an agent, from the LLM's `answer` (or its failure).
pub fn spoken(answer: Result<String, String>, numbers: &Numbers) -> Spoken {
    match answer.and_then(|text| fill(&text, numbers)) {
        Ok(message) => Spoken {
            message: Some(message),
            fallback: None,
        },
        Err(why) => Spoken {
            message: None,
            fallback: Some(why),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: Numbers = Numbers {
        mean: 51.234,
        target: 48.5,
        min: 1.0,
        max: 120.0,
        spread: 30.0,
        last: 40.0,
    };

    #[test]
    fn placeholders_are_filled_by_code() {
        let m = fill(
            "The group stands at {mean} Mbps; please move from {last} Mbps to {target} Mbps.",
            &N,
        )
        .unwrap();
        assert_eq!(
            m,
            "The group stands at 51.23 Mbps; please move from 40.00 Mbps to 48.50 Mbps."
        );
    }

    #[test]
    fn a_message_with_numbers_of_its_own_or_without_the_target_is_refused() {
        let why = fill("Please move to 75 Mbps, as agreed with {target}.", &N).unwrap_err();
        assert!(why.contains("number of its own"), "{why}");
        let why = fill("Please move closer to the group, at {mean} Mbps.", &N).unwrap_err();
        assert!(why.contains("{target}"), "{why}");
        let why = fill("Please state {target} Mbps and {bonus} Mbps.", &N).unwrap_err();
        assert!(why.contains("unknown placeholder"), "{why}");
        assert!(fill("ok", &N).is_err());
        assert!(fill(&"a {target} ".repeat(200), &N).is_err());
    }

    #[test]
    fn an_unusable_answer_falls_back_with_its_reason() {
        let s = spoken(Err("backend down".into()), &N);
        assert_eq!(s.message, None);
        assert_eq!(s.fallback.as_deref(), Some("backend down"));
        let s = spoken(Ok("Move to {target} Mbps, please.".into()), &N);
        assert_eq!(s.message.as_deref(), Some("Move to 48.50 Mbps, please."));
    }

    #[test]
    fn the_prompt_carries_placeholders_not_numbers() {
        let feedback = Feedback {
            round: 2,
            mean_mbps: 51.234,
            min_mbps: 30.0,
            max_mbps: 60.0,
            spread_mbps: 30.0,
            directions: Vec::new(),
            summary: String::new(),
        };
        let p = prompt(
            "throughput",
            "bo1",
            Direction::Raise,
            PressureMode::Hard,
            &feedback,
            &Bounds {
                min_mbps: 1.0,
                max_mbps: 120.0,
            },
        );
        assert!(p.user.contains("{target}") && p.user.contains("raise"));
        assert!(!p.user.contains("51.23"), "{}", p.user);
        assert!(matches!(p.format, AnswerFormat::Prose { .. }));
    }
}

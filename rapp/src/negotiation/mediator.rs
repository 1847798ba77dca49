//! MAESTRO, the mediator: summarises a round's demands for everyone, tells each agent which way
//! the consensus lies, and decides when the negotiation has converged.

use serde::{Deserialize, Serialize};

use super::intent::ServiceIntent;

/// Which way an agent should move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Ask for more.
    Raise,
    /// Ask for less.
    Lower,
    /// Stay.
    Hold,
}

/// MAESTRO's answer to a round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feedback {
    /// The round answered.
    pub round: u32,
    /// Mean demand, Mbps.
    pub mean_mbps: f64,
    /// Lowest demand, Mbps.
    pub min_mbps: f64,
    /// Highest demand, Mbps.
    pub max_mbps: f64,
    /// max - min, Mbps.
    pub spread_mbps: f64,
    /// Per agent (in the order of the intents), toward the mean.
    pub directions: Vec<(String, Direction)>,
    /// Natural-language summary of all demands.
    pub summary: String,
}

/// Builds the feedback of a round. `epsilon` is the consensus tolerance (agents within half
/// of it of the mean are told to hold). Returns `None` for an empty round.
pub fn feedback(round: u32, intents: &[ServiceIntent], epsilon: f64) -> Option<Feedback> {
    if intents.is_empty() {
        return None;
    }
    let values: Vec<f64> = intents.iter().map(|i| i.value_mbps).collect();
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let directions = intents
        .iter()
        .map(|i| {
            let d = if (i.value_mbps - mean).abs() <= epsilon / 2.0 {
                Direction::Hold
            } else if i.value_mbps < mean {
                Direction::Raise
            } else {
                Direction::Lower
            };
            (i.agent_id.clone(), d)
        })
        .collect();
    let demands: Vec<String> = intents
        .iter()
        .map(|i| format!("{} asks {:.2} Mbps", i.agent_id, i.value_mbps))
        .collect();
    let summary = format!(
        "Round {round}: {}. Mean {mean:.2} Mbps, spread {:.2} Mbps. {}",
        demands.join("; "),
        max - min,
        if max - min < epsilon {
            "You agree: consensus reached.".to_owned()
        } else {
            format!("Move toward {mean:.2} Mbps to reach a consensus.")
        }
    );
    Some(Feedback {
        round,
        mean_mbps: mean,
        min_mbps: min,
        max_mbps: max,
        spread_mbps: max - min,
        directions,
        summary,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intent(id: &str, v: f64) -> ServiceIntent {
        ServiceIntent {
            agent_id: id.into(),
            round: 1,
            topic: "t".into(),
            value_mbps: v,
            reasoning: String::new(),
        }
    }

    #[test]
    fn summarises_and_directs_toward_the_mean() {
        let f = feedback(
            1,
            &[intent("a", 20.0), intent("b", 100.0), intent("c", 60.2)],
            1.0,
        )
        .unwrap();
        assert!((f.mean_mbps - 60.066_666).abs() < 1e-4);
        assert_eq!(f.spread_mbps, 80.0);
        assert_eq!(f.directions[0].1, Direction::Raise);
        assert_eq!(f.directions[1].1, Direction::Lower);
        assert_eq!(f.directions[2].1, Direction::Hold);
        assert!(f.summary.contains("a asks 20.00 Mbps"));
        assert!(feedback(0, &[], 1.0).is_none());
    }
}

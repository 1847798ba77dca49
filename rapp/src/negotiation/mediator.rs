//! MAESTRO, the mediator: summarises a round's demands for everyone, tells each agent which way
//! the consensus lies, and decides when the negotiation has converged. The consensus reference
//! is the stake-weighted mean of the demands (stakes from the agents' utilities, lowered by the
//! arbitral unit's penalties), the point MAESTRO's utility `U_0` pulls everyone toward.

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
    /// Stake-weighted mean demand, Mbps (the plain mean when all stakes are equal).
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

/// Up to this many demands are listed one by one in the summary.
pub const LISTED_DEMANDS: usize = 12;

/// Builds the feedback of a round with equal stakes. `epsilon` is the consensus tolerance
/// (agents within half of it of the mean are told to hold). Returns `None` for an empty round.
pub fn feedback(round: u32, intents: &[ServiceIntent], epsilon: f64) -> Option<Feedback> {
    let stakes = vec![1.0; intents.len()];
    weighted_feedback(round, intents, &stakes, epsilon)
}

/// Builds the feedback of a round around the mean weighted by `stakes` (one per intent, > 0).
/// Returns `None` for an empty round or mismatched stakes.
pub fn weighted_feedback(
    round: u32,
    intents: &[ServiceIntent],
    stakes: &[f64],
    epsilon: f64,
) -> Option<Feedback> {
    if intents.is_empty() || stakes.len() != intents.len() {
        return None;
    }
    let values: Vec<f64> = intents.iter().map(|i| i.value_mbps).collect();
    let total: f64 = stakes.iter().sum();
    if !(total > 0.0 && total.is_finite()) {
        return None;
    }
    let mean = values.iter().zip(stakes).map(|(v, w)| v * w).sum::<f64>() / total;
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
    // Every prompt carries the summary: list the demands for a table-sized negotiation, and
    // only their distribution beyond that (keeps a round O(n), not O(n^2), in text).
    let demands = if intents.len() <= LISTED_DEMANDS {
        intents
            .iter()
            .map(|i| format!("{} asks {:.2} Mbps", i.agent_id, i.value_mbps))
            .collect::<Vec<_>>()
            .join("; ")
    } else {
        format!(
            "{} operators ask between {min:.2} and {max:.2} Mbps",
            intents.len()
        )
    };
    let summary = format!(
        "Round {round}: {demands}. Mean {mean:.2} Mbps, spread {:.2} Mbps. {}",
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
        // A stake of 3 on 20 Mbps pulls the reference to (3*20 + 100) / 4 = 40.
        let w = weighted_feedback(
            1,
            &[intent("a", 20.0), intent("b", 100.0)],
            &[3.0, 1.0],
            1.0,
        )
        .unwrap();
        assert_eq!(w.mean_mbps, 40.0);
        assert!(weighted_feedback(1, &[intent("a", 1.0)], &[1.0, 2.0], 1.0).is_none());
    }
}

//! The theoretical optimal consensus, computed independently of the negotiation: the common
//! value `x*` in the bounds that minimises the parties' total utility,
//! `x* = argmin_{x in B} sum_i U_i(x)`, with every target first projected onto the bounds
//! (see [`Utility::projected`]).
//!
//! For quadratic utilities `U_i = a_i/2 (x - t_i)^2` it has the closed form
//! `x* = sum a_i t_i / sum a_i` (the stake-weighted mean of the targets, which lies in the
//! bounds because every projected target does); otherwise it is the root of the non-decreasing
//! `sum U_i'(x)`, found by bisection.

use super::engine::Bounds;
use super::utility::Utility;

/// Why there is no consensus to compute.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TheoryError {
    /// No parties.
    #[error("no utilities to optimise")]
    Empty,
    /// A utility is not convex or not finite.
    #[error("{0}")]
    BadUtility(String),
}

/// The optimal consensus: closed form when every utility is quadratic, bisection otherwise.
pub fn optimal_consensus(utilities: &[Utility], bounds: &Bounds) -> Result<f64, TheoryError> {
    check(utilities)?;
    let quadratic: Option<Vec<(f64, f64)>> = utilities
        .iter()
        .map(|u| match u.projected(bounds) {
            Utility::Quadratic { a, target } => Some((a, target)),
            Utility::Asymmetric { .. } => None,
        })
        .collect();
    match quadratic {
        Some(parts) => {
            let (num, den) = parts
                .iter()
                .fold((0.0, 0.0), |(n, d), (a, t)| (n + a * t, d + a));
            Ok(num / den)
        }
        None => numeric_consensus(utilities, bounds),
    }
}

/// The optimal consensus by bisection on `sum U_i'(x)` over the projected targets' range
/// (to 1e-9 Mbps), for any convex utilities.
pub fn numeric_consensus(utilities: &[Utility], bounds: &Bounds) -> Result<f64, TheoryError> {
    check(utilities)?;
    let projected: Vec<Utility> = utilities.iter().map(|u| u.projected(bounds)).collect();
    let total_gradient = |x: f64| projected.iter().map(|u| u.gradient(x)).sum::<f64>();
    let mut lo = projected
        .iter()
        .map(Utility::target)
        .fold(f64::INFINITY, f64::min);
    let mut hi = projected
        .iter()
        .map(Utility::target)
        .fold(f64::NEG_INFINITY, f64::max);
    // sum U' <= 0 at the lowest target and >= 0 at the highest: the root is in between.
    for _ in 0..200 {
        if hi - lo <= 1e-9 {
            break;
        }
        let mid = 0.5 * (lo + hi);
        if total_gradient(mid) < 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(0.5 * (lo + hi))
}

fn check(utilities: &[Utility]) -> Result<(), TheoryError> {
    if utilities.is_empty() {
        return Err(TheoryError::Empty);
    }
    utilities
        .iter()
        .try_for_each(Utility::check)
        .map_err(TheoryError::BadUtility)
}

#[cfg(test)]
mod tests {
    use super::*;

    const WIDE: Bounds = Bounds {
        min_mbps: 0.0,
        max_mbps: 1000.0,
    };

    fn q(a: f64, target: f64) -> Utility {
        Utility::Quadratic { a, target }
    }

    #[test]
    fn closed_form_is_the_stake_weighted_mean_of_projected_targets() {
        assert_eq!(
            optimal_consensus(&[q(1.0, 20.0), q(1.0, 100.0)], &WIDE),
            Ok(60.0)
        );
        assert_eq!(
            optimal_consensus(&[q(3.0, 20.0), q(1.0, 100.0)], &WIDE),
            Ok(40.0)
        );
        let tight = Bounds {
            min_mbps: 1.0,
            max_mbps: 40.0,
        };
        // 100 is projected to 40: (20 + 40) / 2.
        assert_eq!(
            optimal_consensus(&[q(1.0, 20.0), q(1.0, 100.0)], &tight),
            Ok(30.0)
        );
        assert_eq!(optimal_consensus(&[], &WIDE), Err(TheoryError::Empty));
    }

    #[test]
    fn bisection_agrees_with_the_closed_form_and_a_brute_force_minimum() {
        let us = [q(0.5, 12.0), q(2.0, 80.0), q(1.5, 33.0)];
        let closed = optimal_consensus(&us, &WIDE).unwrap();
        let numeric = numeric_consensus(&us, &WIDE).unwrap();
        assert!((closed - numeric).abs() < 1e-6, "{closed} vs {numeric}");

        // Asymmetric: compare with a fine grid search of the total cost.
        let us = [
            q(1.0, 20.0),
            Utility::Asymmetric {
                below: 4.0,
                above: 1.0,
                target: 100.0,
            },
        ];
        let x = optimal_consensus(&us, &WIDE).unwrap();
        let total = |x: f64| us.iter().map(|u| u.cost(x)).sum::<f64>();
        let best = (0..=100_000)
            .map(|i| f64::from(i) * 0.001)
            .min_by(|a, b| total(*a).total_cmp(&total(*b)))
            .unwrap();
        // Between the targets: (x - 20) + 4 (x - 100) = 0 -> x = 84.
        assert!((x - 84.0).abs() < 1e-6, "{x}");
        assert!((x - best).abs() < 2e-3, "{x} vs grid {best}");
    }
}

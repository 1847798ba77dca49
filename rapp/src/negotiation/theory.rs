//! The theoretical optimal consensus, computed independently of the negotiation: the common
//! value `x*` in the bounds that minimises the parties' total utility,
//! `x* = argmin_{x in B} sum_i U_i(x)`, with every target first projected onto the bounds
//! (see [`Utility::projected`]).
//!
//! For quadratic utilities `U_i = a_i/2 (x - t_i)^2` it has the closed form
//! `x* = sum a_i t_i / sum a_i` (the stake-weighted mean of the targets, which lies in the
//! bounds because every projected target does). For any other mix (asymmetric, logarithmic,
//! linear cost) there is no closed form: every `U_i` is convex and C1 with its minimum at its
//! target, so `sum U_i'(x)` is continuous, non-decreasing, `<= 0` at the lowest projected
//! target and `>= 0` at the highest, and `x*` is its root, found by bisection between the two
//! (to 1e-9 Mbps, or until the interval cannot be halved in `f64`). The minimiser is unique
//! whenever one utility is strictly convex around it, which every kind is near its target.

use super::utility::Utility;
use super::vocabulary::Bounds;

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

/// The optimal consensus: closed form when every utility is quadratic, bisection otherwise
/// (any mix of [`Utility`] kinds).
pub fn optimal_consensus(utilities: &[Utility], bounds: &Bounds) -> Result<f64, TheoryError> {
    check(utilities)?;
    let quadratic: Option<Vec<(f64, f64)>> = utilities
        .iter()
        .map(|u| match u.projected(bounds) {
            Utility::Quadratic { a, target } => Some((a, target)),
            _ => None,
        })
        .collect();
    match quadratic {
        Some(parts) => {
            let (num, den) = parts
                .iter()
                .fold((0.0, 0.0), |(n, d), (a, t)| (n + a * t, d + a));
            // In the bounds in exact arithmetic; the clamp catches an ulp of rounding.
            Ok(bounds.clamp(num / den))
        }
        None => numeric_consensus(utilities, bounds),
    }
}

/// The optimal consensus by bisection on `sum U_i'(x)` over the projected targets' range
/// (to 1e-9 Mbps), for any mix of the convex utilities.
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
        let mid = 0.5 * (lo + hi);
        if hi - lo <= 1e-9 || mid <= lo || mid >= hi {
            break;
        }
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
    use super::super::utility::tests::any_utility;
    use super::*;
    use proptest::prelude::*;

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

    /// The minimiser of `sum U_i` over `bounds` (targets projected) by brute force, from the
    /// costs alone: a grid of 4,001 points over the bounds, then 4,001 around the best one.
    fn grid_minimum(utilities: &[Utility], bounds: &Bounds) -> f64 {
        let projected: Vec<Utility> = utilities.iter().map(|u| u.projected(bounds)).collect();
        let total = |x: f64| projected.iter().map(|u| u.cost(x)).sum::<f64>();
        let best_of = |lo: f64, hi: f64| {
            (0..=4000)
                .map(|i| lo + (hi - lo) * f64::from(i) / 4000.0)
                .min_by(|a, b| total(*a).total_cmp(&total(*b)))
                .unwrap()
        };
        let step = (bounds.max_mbps - bounds.min_mbps) / 4000.0;
        let coarse = best_of(bounds.min_mbps, bounds.max_mbps);
        best_of(
            (coarse - 2.0 * step).max(bounds.min_mbps),
            (coarse + 2.0 * step).min(bounds.max_mbps),
        )
    }

    fn total_cost(utilities: &[Utility], bounds: &Bounds, x: f64) -> f64 {
        utilities.iter().map(|u| u.projected(bounds).cost(x)).sum()
    }

    #[test]
    fn a_mix_of_all_four_kinds_matches_the_grid() {
        let us = [
            q(1.0, 20.0),
            Utility::Asymmetric {
                below: 4.0,
                above: 1.0,
                target: 100.0,
            },
            Utility::Logarithmic {
                a: 2.0,
                target: 80.0,
            },
            Utility::LinearCost {
                price: 30.0,
                floor: 15.0,
                penalty: 10.0,
            },
        ];
        let x = optimal_consensus(&us, &WIDE).unwrap();
        let grid = grid_minimum(&us, &WIDE);
        assert!((x - grid).abs() < 1e-3, "{x} vs grid {grid}");
        // And the slopes balance there: (x - 20) + 4 (x - 100) + 2*80 (1 - 80/x) + 30 = 0.
        let slope = (x - 20.0) + 4.0 * (x - 100.0) + 160.0 * (1.0 - 80.0 / x) + 30.0;
        assert!(slope.abs() < 1e-6, "{slope}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// For random mixes of the four kinds and random bounds, the bisection's consensus is
        /// the brute-force minimiser of the total cost (or costs no more, where the total is flat).
        #[test]
        fn random_mixes_match_a_brute_force_minimum(
            us in prop::collection::vec(any_utility(), 1..8),
            min in 0.0f64..50.0,
            width in 1.0f64..250.0,
        ) {
            let bounds = Bounds { min_mbps: min, max_mbps: min + width };
            let x = optimal_consensus(&us, &bounds).unwrap();
            prop_assert!(x >= bounds.min_mbps && x <= bounds.max_mbps);
            let grid = grid_minimum(&us, &bounds);
            let (at_x, at_grid) = (total_cost(&us, &bounds, x), total_cost(&us, &bounds, grid));
            let tol = 1e-9 * at_grid.abs().max(1.0);
            prop_assert!(at_x <= at_grid + tol, "cost {at_x} at {x} > {at_grid} at grid {grid}");
            prop_assert!(
                (x - grid).abs() < 1e-3 || (at_x - at_grid).abs() <= tol,
                "{x} vs grid {grid}"
            );
        }
    }
}

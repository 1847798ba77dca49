//! Optimizer unit: the paper's update
//! `x_i(k+1) = x_i(k) - eta_i (grad U_i(x_i(k)) + grad_i U_0(x(k)))`.
//!
//! - `U_i` is the operator's [`Utility`] of any kind (its target projected onto the round's
//!   bounds).
//! - `U_0 = (mu_k / 2) sum_j w_j (x_j - xbar_w)^2` is MAESTRO's disagreement cost around the
//!   stake-weighted mean `xbar_w`, scaled by the arbitral unit's penalties; its pressure
//!   `mu_k = mu0 * growth^k` rises each round (a penalty method: the consensus constraint
//!   `x_i = xbar_w` is enforced ever more strongly).
//! - Stakes are secant curvatures, `w(x) = U'(x) / (x - t)` ([`Utility::curvature`]): the
//!   constant curvature `a` of a quadratic, either side's of an asymmetric one, `a t / x` of a
//!   logarithmic one. An agent's step uses its own at its demand, `w_i = w(x_i)`; MAESTRO
//!   weighs each demand by the stake at the mean, `w_i(xbar_w)`, so the mean is the fixed
//!   point `xbar_w = sum w_i(xbar_w) x_i / sum w_i(xbar_w)` ([`weighted_reference`]).
//! - The step `eta_i = 1 / (w_i (1 + mu_k))` makes the update exact for every utility (the
//!   own part is a Newton step, and `x - U'(x) / w(x) = t`):
//!   `x_i(k+1) = (t_i + mu_k xbar_w(k)) / (1 + mu_k)`. It is a convex combination of in-bounds
//!   values (so it stays in the bounds). At the opening (`x_i = t_i`) the fixed point solves
//!   `sum w_i(m) (t_i - m) = -sum U_i'(m) = 0`, the theoretical consensus of
//!   [`super::theory`]; each round keeps it there, since with `xbar_w(k) = x*` the new demands
//!   give `sum w_i(x*) (x_i(k+1) - x*) = -sum U_i'(x*) / (1 + mu_k) = 0` (and that root is the
//!   only one). So MAESTRO's weighted mean *is* the optimum from the first round on, for any
//!   mix; each demand sits `(t_i - xbar_w) / (1 + mu_k)` from it, so the spread falls as the
//!   pressure grows: with mu0 = 1 and growth 4 (mu = 4, 16, 64, 256), an 80 Mbps
//!   disagreement is under 0.32 Mbps after four rounds and every demand is within 0.01 Mbps
//!   of the optimum after eight. (`grad U_0` is taken with `xbar_w` held at the mediator's
//!   last published mean, which is what an agent knows.)

use super::utility::Utility;
use super::vocabulary::Bounds;

/// MAESTRO's pressure `mu_k` in round `k`.
pub fn pressure(mu0: f64, growth: f64, round: u32) -> f64 {
    mu0 * growth.powi(i32::try_from(round).unwrap_or(i32::MAX))
}

/// The stake of a utility at `x`: its secant curvature there, or, exactly on its target
/// (where the secant has no value), the curvature on the side of `toward`.
pub fn stake(utility: &Utility, x: f64, toward: f64) -> f64 {
    let t = utility.target();
    if (x - t).abs() <= 1e-12 * t.abs().max(1.0) {
        utility.target_curvature(toward >= t)
    } else {
        utility.curvature(x)
    }
}

/// MAESTRO's stake-weighted mean of the demands `x` (utilities already projected; `factors`
/// are the arbitral penalties, 1 = none), each stake taken at that mean: the root `m` of
/// `g(m) = sum f_i w_i(m) (x_i - m)`, found by bisection between the lowest and the highest
/// demand counted (`g >= 0` at the one, `<= 0` at the other), to `f64` precision. At the
/// opening, where every demand is its target, it is the theoretical consensus. Returns the
/// mean (recomputed from the stakes, as the mediator does) and the stakes.
pub fn weighted_reference(utilities: &[Utility], x: &[f64], factors: &[f64]) -> (f64, Vec<f64>) {
    let stakes_at = |m: f64| -> Vec<f64> {
        utilities
            .iter()
            .zip(x)
            .zip(factors)
            .map(|((u, &xi), &f)| if f > 0.0 { stake(u, m, xi) * f } else { 0.0 })
            .collect()
    };
    let counted = x.iter().zip(factors).filter(|(_, &f)| f > 0.0);
    let (mut lo, mut hi) = counted.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (&v, _)| {
        (lo.min(v), hi.max(v))
    });
    while lo < hi {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        let g: f64 = stakes_at(mid)
            .iter()
            .zip(x)
            .map(|(w, xi)| w * (xi - mid))
            .sum();
        if g > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let stakes = stakes_at(0.5 * (lo + hi));
    let (num, den) = x
        .iter()
        .zip(&stakes)
        .fold((0.0, 0.0), |(n, d), (xi, w)| (n + w * xi, d + w));
    (num / den, stakes)
}

/// The optimizer's suggestion for an agent with utility `utility` (target already projected
/// onto `bounds`) and last demand `x`, given MAESTRO's last stake-weighted mean `mean` and
/// pressure `mu`.
pub fn suggest(utility: &Utility, x: f64, mean: f64, mu: f64, bounds: &Bounds) -> f64 {
    let w = stake(utility, x, mean);
    let eta = 1.0 / (w * (1.0 + mu));
    let grad_own = utility.gradient(x);
    let grad_mediator = mu * w * (x - mean);
    bounds.clamp(x - eta * (grad_own + grad_mediator))
}

#[cfg(test)]
mod tests {
    use super::super::theory::optimal_consensus;
    use super::super::utility::tests::any_utility;
    use super::*;
    use proptest::prelude::*;

    const WIDE: Bounds = Bounds {
        min_mbps: 0.0,
        max_mbps: 1000.0,
    };

    #[test]
    fn closed_form_of_the_step() {
        let u = Utility::Quadratic {
            a: 3.0,
            target: 20.0,
        };
        // (20 + 4*60)/(1+4) = 52 whatever the last demand and the stake.
        assert!((suggest(&u, 20.0, 60.0, 4.0, &WIDE) - 52.0).abs() < 1e-12);
        assert!((suggest(&u, 33.0, 60.0, 4.0, &WIDE) - 52.0).abs() < 1e-12);
        assert_eq!(pressure(1.0, 4.0, 3), 64.0);
    }

    /// The stake-weighted mean MAESTRO publishes.
    fn weighted_mean(projected: &[Utility], x: &[f64]) -> f64 {
        weighted_reference(projected, x, &vec![1.0; x.len()]).0
    }

    /// Plays the optimizer alone ("hard" pressure): every agent states its suggestion and the
    /// mediator publishes the stake-weighted mean. Returns the demands after each round.
    fn iterate(utilities: &[Utility], bounds: &Bounds, rounds: u32) -> Vec<Vec<f64>> {
        let projected: Vec<Utility> = utilities.iter().map(|u| u.projected(bounds)).collect();
        let mut x: Vec<f64> = projected.iter().map(Utility::target).collect();
        let mut all = Vec::new();
        for k in 1..=rounds {
            let mean = weighted_mean(&projected, &x);
            let mu = pressure(1.0, 4.0, k);
            x = projected
                .iter()
                .zip(&x)
                .map(|(u, &xi)| suggest(u, xi, mean, mu, bounds))
                .collect();
            all.push(x.clone());
        }
        all
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// MAESTRO's weighted mean equals the independently computed optimum from round 1 on,
        /// and every demand is within 0.01 Mbps of it after eight rounds, for 2..1000 agents
        /// with random targets and stakes.
        #[test]
        fn iterate_converges_to_the_theoretical_consensus(
            parties in prop::collection::vec((0.0f64..200.0, 0.1f64..10.0), 2..1000),
            max in 50.0f64..300.0,
        ) {
            let bounds = Bounds { min_mbps: 1.0, max_mbps: max };
            let utilities: Vec<Utility> = parties
                .iter()
                .map(|&(target, a)| Utility::Quadratic { a, target })
                .collect();
            let theory = optimal_consensus(&utilities, &bounds).unwrap();
            let projected: Vec<Utility> =
                utilities.iter().map(|u| u.projected(&bounds)).collect();
            let rounds = iterate(&utilities, &bounds, 8);
            for x in &rounds {
                let mean = weighted_mean(&projected, x);
                prop_assert!((mean - theory).abs() < 1e-6, "mean {mean} vs {theory}");
                for xi in x {
                    prop_assert!(*xi >= bounds.min_mbps && *xi <= bounds.max_mbps);
                }
            }
            for xi in &rounds[7] {
                prop_assert!((xi - theory).abs() < 0.01, "{xi} vs {theory}");
            }
        }
    }

    #[test]
    fn asymmetric_utilities_approach_the_numeric_optimum() {
        let utilities = [
            Utility::Quadratic {
                a: 1.0,
                target: 20.0,
            },
            Utility::Asymmetric {
                below: 4.0,
                above: 1.0,
                target: 100.0,
            },
        ];
        let theory = optimal_consensus(&utilities, &WIDE).unwrap();
        assert!((theory - 84.0).abs() < 1e-6);
        let rounds = iterate(&utilities, &WIDE, 8);
        for &xi in rounds.last().unwrap() {
            // Stakes taken on the side each agent moves to keep the invariant exact here too.
            assert!((xi - theory).abs() < 0.01, "{xi} vs {theory}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// For random mixes of all four kinds and random bounds, agents that follow the
        /// optimizer exactly (no LLM) keep MAESTRO's weighted mean on the independently
        /// computed optimum from round 1 on, stay in the bounds, and are all within 0.01 Mbps
        /// of it after eight rounds.
        #[test]
        fn mixes_converge_to_the_theoretical_consensus(
            utilities in prop::collection::vec(any_utility(), 2..40),
            min in 0.0f64..30.0,
            width in 20.0f64..250.0,
        ) {
            let bounds = Bounds { min_mbps: min, max_mbps: min + width };
            let theory = optimal_consensus(&utilities, &bounds).unwrap();
            let projected: Vec<Utility> =
                utilities.iter().map(|u| u.projected(&bounds)).collect();
            let rounds = iterate(&utilities, &bounds, 8);
            for (k, x) in rounds.iter().enumerate() {
                let mean = weighted_mean(&projected, x);
                prop_assert!(
                    (mean - theory).abs() < 1e-6,
                    "round {}: mean {mean} vs theory {theory}", k + 1
                );
                for xi in x {
                    prop_assert!(*xi >= bounds.min_mbps && *xi <= bounds.max_mbps);
                }
            }
            for xi in &rounds[7] {
                prop_assert!((xi - theory).abs() < 0.01, "{xi} vs {theory}");
            }
        }

        /// Whatever the demand, MAESTRO's mean and the pressure, the suggestion is in the
        /// bounds, and (off the bounds' edges) it is the exact step `(t + mu m) / (1 + mu)`:
        /// the own part is a Newton step that lands on the target for every kind.
        #[test]
        fn the_suggestion_is_in_the_bounds_and_the_step_is_exact(
            u in any_utility(),
            at in 0.0f64..1.0,
            toward in 0.0f64..1.0,
            mu in 0.0f64..1e5,
            min in 0.0f64..30.0,
            width in 0.0f64..250.0,
        ) {
            let bounds = Bounds { min_mbps: min, max_mbps: min + width };
            let u = u.projected(&bounds);
            let x = min + at * width;
            let mean = min + toward * width;
            let s = suggest(&u, x, mean, mu, &bounds);
            prop_assert!(s >= bounds.min_mbps && s <= bounds.max_mbps, "{s} outside");
            let exact = (u.target() + mu * mean) / (1.0 + mu);
            prop_assert!(
                (s - exact).abs() <= 1e-9 * exact.abs().max(1.0),
                "{u:?} from {x}: {s} vs {exact}"
            );
        }
    }
}

//! Optimizer unit: the paper's update
//! `x_i(k+1) = x_i(k) - eta * (grad U_i(x_i(k)) + grad U_0(x_1..x_n))`.
//!
//! - U_i(x) = (w_i / 2) (x - t_i)^2: the operator's own utility around its target t_i.
//! - U_0 = (mu_k / 2) sum_j (x_j - xbar)^2: MAESTRO's disagreement cost, whose pressure
//!   mu_k = mu0 * growth^k rises each round (a penalty method: the consensus constraint
//!   x_i = xbar is enforced ever more strongly).
//! - With the step eta_k = 1 / (w_i + mu_k) the update is a contraction and reads
//!   x_i(k+1) = (w_i t_i + mu_k xbar(k)) / (w_i + mu_k): demands spread by a factor
//!   w / (w + mu_k) around the mean each round, so growth 4 reaches a 1 Mbps consensus from an
//!   80 Mbps disagreement in four rounds, as the paper reports. (grad U_0 is taken with xbar held
//!   at the mediator's last published mean, which is what an agent knows.)
//!
//! The result is clamped to the round's bounds (regulatory and observability units).

use super::engine::Bounds;

/// MAESTRO's pressure in round `k`.
pub fn pressure(mu0: f64, growth: f64, round: u32) -> f64 {
    mu0 * growth.powi(round as i32)
}

/// The optimizer's suggestion for an agent with own target `target`, weight `weight`, last
/// demand `x`, given the last published mean `mean` and pressure `mu`.
pub fn suggest(x: f64, target: f64, weight: f64, mean: f64, mu: f64, bounds: &Bounds) -> f64 {
    let eta = 1.0 / (weight + mu);
    let grad_own = weight * (x - bounds.clamp(target));
    let grad_mediator = mu * (x - mean);
    bounds.clamp(x - eta * (grad_own + grad_mediator))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_form_of_the_step() {
        let b = Bounds {
            min_mbps: 0.0,
            max_mbps: 200.0,
        };
        // (1*20 + 4*60)/(1+4) = 52 regardless of x.
        assert!((suggest(20.0, 20.0, 1.0, 60.0, 4.0, &b) - 52.0).abs() < 1e-12);
        assert!((suggest(33.0, 20.0, 1.0, 60.0, 4.0, &b) - 52.0).abs() < 1e-12);
        let tight = Bounds {
            min_mbps: 0.0,
            max_mbps: 40.0,
        };
        assert_eq!(suggest(100.0, 100.0, 1.0, 60.0, 1.0, &tight), 40.0);
        // The unreachable target 100 acts as 40: (40 + 1*30)/2 = 35.
        assert_eq!(suggest(40.0, 100.0, 1.0, 30.0, 1.0, &tight), 35.0);
        assert_eq!(pressure(1.0, 4.0, 3), 64.0);
    }
}

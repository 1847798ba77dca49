//! Utilities of the negotiation, in the paper's sense: a cost each party wants small, which the
//! optimizer unit descends (`x(k+1) = x(k) - eta grad U`).
//!
//! - [`Utility::Quadratic`]: `U(x) = a/2 (x - t)^2`, the paper's operator utility around its
//!   target `t` with stake (curvature) `a`.
//! - [`Utility::Asymmetric`]: `a_below/2 (x - t)^2` under the target and `a_above/2 (x - t)^2`
//!   over it: an operator hurt more by too little throughput than by paying for too much. It
//!   has no closed-form consensus; [`super::theory`] solves it numerically.

use serde::{Deserialize, Serialize};

use super::engine::Bounds;

/// One party's utility (a cost to minimise) over the negotiated value, Mbps.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Utility {
    /// `a/2 (x - target)^2`.
    Quadratic {
        /// Stake / curvature, > 0.
        a: f64,
        /// Target, Mbps.
        target: f64,
    },
    /// Piecewise quadratic around the target with different curvatures on each side.
    Asymmetric {
        /// Curvature under the target, > 0.
        below: f64,
        /// Curvature over the target, > 0.
        above: f64,
        /// Target, Mbps.
        target: f64,
    },
}

impl Utility {
    /// The target, Mbps.
    pub fn target(&self) -> f64 {
        match *self {
            Self::Quadratic { target, .. } | Self::Asymmetric { target, .. } => target,
        }
    }

    /// The same utility with its target projected onto `bounds`: an operator whose target is
    /// outside what regulation and the radio allow negotiates from the nearest allowed value.
    pub fn projected(&self, bounds: &Bounds) -> Self {
        match *self {
            Self::Quadratic { a, target } => Self::Quadratic {
                a,
                target: bounds.clamp(target),
            },
            Self::Asymmetric {
                below,
                above,
                target,
            } => Self::Asymmetric {
                below,
                above,
                target: bounds.clamp(target),
            },
        }
    }

    /// Curvature at `x` (the stake this party has at that point).
    pub fn curvature(&self, x: f64) -> f64 {
        match *self {
            Self::Quadratic { a, .. } => a,
            Self::Asymmetric {
                below,
                above,
                target,
            } => {
                if x < target {
                    below
                } else {
                    above
                }
            }
        }
    }

    /// `U(x)`.
    pub fn cost(&self, x: f64) -> f64 {
        let d = x - self.target();
        self.curvature(x) / 2.0 * d * d
    }

    /// `U'(x)`, non-decreasing in `x` (every utility here is convex).
    pub fn gradient(&self, x: f64) -> f64 {
        self.curvature(x) * (x - self.target())
    }

    /// Whether the parameters make a convex utility with a finite target.
    pub fn check(&self) -> Result<(), String> {
        let ok = |v: f64| v.is_finite() && v > 0.0;
        let fine = match *self {
            Self::Quadratic { a, target } => ok(a) && target.is_finite(),
            Self::Asymmetric {
                below,
                above,
                target,
            } => ok(below) && ok(above) && target.is_finite(),
        };
        if fine {
            Ok(())
        } else {
            Err(format!(
                "utility {self:?}: curvatures must be > 0 and the target finite"
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quadratic_and_asymmetric_values_and_gradients() {
        let q = Utility::Quadratic {
            a: 2.0,
            target: 10.0,
        };
        assert_eq!(q.cost(13.0), 9.0);
        assert_eq!(q.gradient(13.0), 6.0);
        let s = Utility::Asymmetric {
            below: 4.0,
            above: 1.0,
            target: 10.0,
        };
        assert_eq!(s.gradient(8.0), -8.0);
        assert_eq!(s.gradient(12.0), 2.0);
        assert_eq!(s.cost(8.0), 8.0);
        let b = Bounds {
            min_mbps: 0.0,
            max_mbps: 5.0,
        };
        assert_eq!(s.projected(&b).target(), 5.0);
        assert!(Utility::Quadratic {
            a: 0.0,
            target: 1.0
        }
        .check()
        .is_err());
    }
}

//! Utilities of the negotiation, in the paper's sense: a cost each party wants small, which the
//! optimizer unit descends (`x(k+1) = x(k) - eta grad U`). The paper gives the business
//! operators "custom algorithms with varied utility functions"; a scenario picks one per
//! operator. Every one is convex, C1 and smallest at its target `t`, so the sum over the
//! parties has one minimiser ([`super::theory`]) and `U'(x)` has the sign of `x - t`.
//!
//! - [`Utility::Quadratic`]: `U(x) = a/2 (x - t)^2`, the paper's operator utility around its
//!   target `t` with stake (curvature) `a`.
//! - [`Utility::Asymmetric`]: `a_below/2 (x - t)^2` under the target and `a_above/2 (x - t)^2`
//!   over it: an operator hurt more by too little throughput than by paying for too much.
//! - [`Utility::Logarithmic`]: a QoS-driven operator whose benefit grows like `ln x`
//!   (diminishing returns) and who pays a linear price for what it gets. With benefit
//!   `B ln x` and price `p x` the net cost `p x - B ln x` is smallest at `t = B / p`; written
//!   around its target and shifted to be 0 there it is
//!   `U(x) = a t^2 (x/t - ln(x/t) - 1)`, `U'(x) = a t (1 - t/x)`, `U''(x) = a t^2 / x^2`:
//!   curvature `a` at the target (it matches `a/2 (x - t)^2` there), steep below it (going to
//!   infinity as `x -> 0`: losing throughput hurts ever more) and flat above it (slope at most
//!   `a t`: extra throughput is worth little more than its price). It is defined for `x > 0`;
//!   below `t/1000` ([`LOG_KNEE`]) it continues along its tangent, so it stays finite (and
//!   convex) on any bounds, 0 included.
//! - [`Utility::LinearCost`]: a cost-driven operator that must have `floor` Mbps and pays
//!   `price` per Mbps above it; below the floor a quadratic penalty of curvature `penalty`.
//!   The corner at the floor is rounded Huber-style, `U'(x) = min(penalty (x - f), price)`:
//!   `penalty/2 (x - f)^2` up to `f + price/penalty`, then `price (x - f) - price^2/(2 penalty)`.
//!   So the cost is C1, its only minimum is exactly the floor (the optimum sits there unless
//!   the others pull it up), and a steep `penalty` makes the rounded corner narrow.
//!
//! [`Utility::curvature`] is the secant curvature `U'(x) / (x - t)`: the curvature of the
//! quadratic through the target that has the same slope at `x` (`a` for the quadratic; `a t / x`
//! for the logarithmic; `penalty`, then `price / (x - f)` for the linear cost). It is what the
//! optimizer uses as a stake: a Newton step `x - U'(x) / curvature(x)` lands exactly on the
//! target for every utility here, and the stake-weighted mean with stakes taken at the mean
//! solves `sum U_i'(m) = 0` (see [`super::optimizer`]).

use serde::{Deserialize, Serialize};

use super::vocabulary::Bounds;

/// Below `LOG_KNEE * target` a [`Utility::Logarithmic`] cost continues along its tangent.
pub const LOG_KNEE: f64 = 1e-3;

/// One party's utility (a cost to minimise) over the negotiated value, Mbps.
///
/// # Format
///
/// ```text
/// {"kind": "quadratic", "a": 1.0, "target": 60.0}
/// {"kind": "asymmetric", "below": 4.0, "above": 1.0, "target": 60.0}
/// {"kind": "logarithmic", "a": 1.0, "target": 80.0}
/// {"kind": "linear_cost", "price": 20.0, "floor": 25.0, "penalty": 10.0}
/// ```
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
    /// Concave QoS benefit net of a linear price: `a t^2 (x/t - ln(x/t) - 1)`.
    Logarithmic {
        /// Curvature at the target, > 0.
        a: f64,
        /// Target, Mbps, > 0.
        target: f64,
    },
    /// `price` per Mbps above `floor`, a quadratic `penalty` below it (Huber-rounded corner).
    LinearCost {
        /// Cost per Mbps above the floor, > 0.
        price: f64,
        /// Throughput the operator must have, Mbps (its target).
        floor: f64,
        /// Curvature of the penalty below the floor, > 0.
        penalty: f64,
    },
}

/// Cost, slope and secant curvature at one point.
struct Local {
    cost: f64,
    gradient: f64,
    curvature: f64,
}

/// `a/2 d^2` at distance `d` from the target.
fn quadratic(a: f64, d: f64) -> Local {
    Local {
        cost: a / 2.0 * d * d,
        gradient: a * d,
        curvature: a,
    }
}

/// `a t^2 (x/t - ln(x/t) - 1)`, along its tangent below `LOG_KNEE * t` (`t > 0`).
fn logarithmic(a: f64, t: f64, x: f64) -> Local {
    let knee = LOG_KNEE * t;
    if x >= knee {
        let e = (x - t) / t;
        Local {
            cost: a * t * t * (e - e.ln_1p()),
            gradient: a * t * (x - t) / x,
            curvature: a * t / x,
        }
    } else {
        let at_knee = logarithmic(a, t, knee);
        Local {
            cost: at_knee.cost + at_knee.gradient * (x - knee),
            gradient: at_knee.gradient,
            curvature: at_knee.gradient / (x - t),
        }
    }
}

/// `U'(x) = min(penalty (x - floor), price)`.
fn linear_cost(price: f64, floor: f64, penalty: f64, x: f64) -> Local {
    let corner = price / penalty;
    let d = x - floor;
    if d <= corner {
        quadratic(penalty, d)
    } else {
        Local {
            cost: price * d - price * corner / 2.0,
            gradient: price,
            curvature: price / d,
        }
    }
}

impl Utility {
    /// The `kind` tag, as in the scenario file.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Quadratic { .. } => "quadratic",
            Self::Asymmetric { .. } => "asymmetric",
            Self::Logarithmic { .. } => "logarithmic",
            Self::LinearCost { .. } => "linear_cost",
        }
    }

    /// The target (where the cost is smallest; a linear cost's floor), Mbps.
    pub fn target(&self) -> f64 {
        match *self {
            Self::Quadratic { target, .. }
            | Self::Asymmetric { target, .. }
            | Self::Logarithmic { target, .. } => target,
            Self::LinearCost { floor, .. } => floor,
        }
    }

    /// The same utility with its target projected onto `bounds`: an operator whose target is
    /// outside what regulation and the radio allow negotiates from the nearest allowed value.
    /// (A logarithmic target projected to 0 or below, where `ln` is undefined, becomes the
    /// quadratic with the same curvature at the target.)
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
            Self::Logarithmic { a, target } => {
                let target = bounds.clamp(target);
                if target > 0.0 {
                    Self::Logarithmic { a, target }
                } else {
                    Self::Quadratic { a, target }
                }
            }
            Self::LinearCost {
                price,
                floor,
                penalty,
            } => Self::LinearCost {
                price,
                floor: bounds.clamp(floor),
                penalty,
            },
        }
    }

    fn local(&self, x: f64) -> Local {
        match *self {
            Self::Quadratic { a, target } => quadratic(a, x - target),
            Self::Asymmetric {
                below,
                above,
                target,
            } => quadratic(if x < target { below } else { above }, x - target),
            Self::Logarithmic { a, target } if target > 0.0 => logarithmic(a, target, x),
            Self::Logarithmic { a, target } => quadratic(a, x - target),
            Self::LinearCost {
                price,
                floor,
                penalty,
            } => linear_cost(price, floor, penalty, x),
        }
    }

    /// The secant curvature `U'(x) / (x - t)` (> 0; at the target itself, the curvature just
    /// above it): the stake this party has at `x`. See the module doc.
    pub fn curvature(&self, x: f64) -> f64 {
        self.local(x).curvature
    }

    /// The curvature at the target, on the side above it (`above`) or below it: where the
    /// secant curvature has no value of its own.
    pub fn target_curvature(&self, above: bool) -> f64 {
        match *self {
            Self::Asymmetric {
                below, above: a, ..
            } => {
                if above {
                    a
                } else {
                    below
                }
            }
            _ => self.local(self.target()).curvature,
        }
    }

    /// `U(x)`, 0 at the target.
    pub fn cost(&self, x: f64) -> f64 {
        self.local(x).cost
    }

    /// `U'(x)`, non-decreasing in `x` (every utility here is convex), 0 at the target.
    pub fn gradient(&self, x: f64) -> f64 {
        self.local(x).gradient
    }

    /// Whether the parameters make a convex utility with a finite target; the error names
    /// the field (`utility.a`, `utility.floor`, ...).
    pub fn check(&self) -> Result<(), String> {
        let kind = self.kind();
        let positive = |field: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(format!(
                    "utility.{field} of a {kind} utility must be a number > 0, got {v}"
                ))
            }
        };
        let finite = |field: &str, v: f64| {
            if v.is_finite() {
                Ok(())
            } else {
                Err(format!(
                    "utility.{field} of a {kind} utility must be a finite number, got {v}"
                ))
            }
        };
        match *self {
            Self::Quadratic { a, target } => {
                positive("a", a)?;
                finite("target", target)
            }
            Self::Asymmetric {
                below,
                above,
                target,
            } => {
                positive("below", below)?;
                positive("above", above)?;
                finite("target", target)
            }
            Self::Logarithmic { a, target } => {
                positive("a", a)?;
                positive("target", target)
            }
            Self::LinearCost {
                price,
                floor,
                penalty,
            } => {
                positive("price", price)?;
                positive("penalty", penalty)?;
                finite("floor", floor)
            }
        }
    }

    /// [`Self::check`], and that the target is the operator's stated `target_mbps` (the value
    /// its agent opens with and argues for).
    pub fn check_stated(&self, target_mbps: f64) -> Result<(), String> {
        self.check()?;
        let t = self.target();
        if (t - target_mbps).abs() > 1e-9 * t.abs().max(1.0) {
            let field = match self {
                Self::LinearCost { .. } => "floor",
                _ => "target",
            };
            return Err(format!(
                "utility.{field} ({t}) must equal target_mbps ({target_mbps}), the value the \
                 agent opens with"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

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
        assert_eq!(s.target_curvature(false), 4.0);
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

    #[test]
    fn logarithmic_is_steep_below_and_flat_above_its_target() {
        let u = Utility::Logarithmic {
            a: 1.0,
            target: 50.0,
        };
        assert_eq!(u.cost(50.0), 0.0);
        assert_eq!(u.gradient(50.0), 0.0);
        assert_eq!(u.curvature(50.0), 1.0);
        // 25 Mbps short costs more than 25 Mbps over, and the slope over is capped by a t.
        assert!(u.cost(25.0) > u.cost(75.0));
        assert!((u.gradient(25.0) + 50.0).abs() < 1e-12);
        assert!(u.gradient(1e6) < 50.0);
        // a t^2 (x/t - ln(x/t) - 1) at x = 2t: 2500 (1 - ln 2).
        assert!((u.cost(100.0) - 2500.0 * (1.0 - 2f64.ln())).abs() < 1e-9);
        // Finite down to 0 (tangent below t/1000) and at 0 bounds a quadratic.
        assert!(u.cost(0.0).is_finite() && u.gradient(0.0) < 0.0);
        let zero = Bounds {
            min_mbps: 0.0,
            max_mbps: 0.0,
        };
        assert_eq!(
            u.projected(&zero),
            Utility::Quadratic {
                a: 1.0,
                target: 0.0
            }
        );
    }

    #[test]
    fn linear_cost_sits_on_its_floor_and_pays_a_price_above_it() {
        let u = Utility::LinearCost {
            price: 20.0,
            floor: 25.0,
            penalty: 10.0,
        };
        assert_eq!(u.target(), 25.0);
        assert_eq!(u.gradient(25.0), 0.0);
        assert_eq!(u.gradient(24.0), -10.0);
        assert_eq!(u.gradient(26.0), 10.0);
        // Corner rounded up to floor + price/penalty = 27; linear above.
        assert_eq!(u.gradient(27.0), 20.0);
        assert_eq!(u.gradient(40.0), 20.0);
        assert_eq!(u.cost(27.0), 20.0);
        assert_eq!(u.cost(40.0), 20.0 * 15.0 - 20.0);
        assert_eq!(u.curvature(35.0), 2.0);
        assert_eq!(u.target_curvature(true), 10.0);
    }

    #[test]
    fn check_names_the_field_and_stated_target_must_match() {
        let bad = Utility::LinearCost {
            price: 1.0,
            floor: 20.0,
            penalty: -1.0,
        };
        assert_eq!(
            bad.check().unwrap_err(),
            "utility.penalty of a linear_cost utility must be a number > 0, got -1"
        );
        let log0 = Utility::Logarithmic {
            a: 1.0,
            target: 0.0,
        };
        assert!(log0.check().unwrap_err().starts_with("utility.target"));
        let u = Utility::LinearCost {
            price: 1.0,
            floor: 20.0,
            penalty: 5.0,
        };
        assert!(u.check_stated(20.0).is_ok());
        assert!(u
            .check_stated(30.0)
            .unwrap_err()
            .starts_with("utility.floor (20) must equal target_mbps (30)"));
    }

    #[test]
    fn scenario_syntax_round_trips() {
        let u: Utility = serde_json::from_str(
            r#"{"kind": "linear_cost", "price": 2, "floor": 25, "penalty": 8}"#,
        )
        .unwrap();
        assert_eq!(
            u,
            Utility::LinearCost {
                price: 2.0,
                floor: 25.0,
                penalty: 8.0
            }
        );
        let v = serde_json::to_value(Utility::Logarithmic {
            a: 1.0,
            target: 80.0,
        })
        .unwrap();
        assert_eq!(v["kind"], "logarithmic");
    }

    /// Any utility of any kind with its target in 1..200 Mbps.
    pub(crate) fn any_utility() -> impl Strategy<Value = Utility> {
        prop_oneof![
            (0.1f64..10.0, 0.0f64..200.0).prop_map(|(a, target)| Utility::Quadratic { a, target }),
            (0.1f64..10.0, 0.1f64..10.0, 0.0f64..200.0).prop_map(|(below, above, target)| {
                Utility::Asymmetric {
                    below,
                    above,
                    target,
                }
            }),
            (0.1f64..10.0, 1.0f64..200.0)
                .prop_map(|(a, target)| Utility::Logarithmic { a, target }),
            (0.1f64..50.0, 0.0f64..200.0, 0.5f64..50.0).prop_map(|(price, floor, penalty)| {
                Utility::LinearCost {
                    price,
                    floor,
                    penalty,
                }
            }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// The gradient of every kind is the derivative of its cost (central finite difference),
        /// non-decreasing, 0 at the target, and the curvature is its secant slope.
        #[test]
        fn gradient_is_the_derivative_of_the_cost(
            u in any_utility(),
            x in 0.0f64..300.0,
            dx in 0.01f64..100.0,
        ) {
            let h = 1e-5 * x.abs().max(1.0);
            let fd = (u.cost(x + h) - u.cost(x - h)) / (2.0 * h);
            let g = u.gradient(x);
            prop_assert!(
                (fd - g).abs() <= 1e-4 * g.abs().max(1.0),
                "{u:?} at {x}: gradient {g} vs finite difference {fd}"
            );
            prop_assert!(u.gradient(x + dx) >= g, "{u:?}: gradient decreases after {x}");
            prop_assert!(u.cost(x) >= 0.0 && u.gradient(u.target()) == 0.0);
            let t = u.target();
            if (x - t).abs() > 1e-6 {
                let secant = u.curvature(x) * (x - t);
                prop_assert!(
                    (secant - g).abs() <= 1e-9 * g.abs().max(1.0),
                    "{u:?} at {x}: curvature * (x - t) = {secant} vs gradient {g}"
                );
            }
            prop_assert!(u.curvature(x) > 0.0);
        }
    }
}

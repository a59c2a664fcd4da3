//! An L_p penalty with `0 < p < 1`: `dw_j/dt = (1 - ||w||^2)*w_j - lambda*p*w_j^(p-1)`.

use super::{Dynamics, Globals, ParamSpec, Range, Variant};
use crate::error::{CoreError, Param, non_negative_finite};
use crate::method::Method;

/// The L_p penalty `lambda*sum_j w_j^p` with `0 < p < 1`:
/// `dw/dt = (1 - ||w||_2^2)*w - lambda*p*w^(p-1)`.
///
/// Not affine (the pull depends on `w`), so only the whole-vector solvers apply. The pull
/// `w^(p-1)` blows up as `w -> 0`, so a coordinate reaches 0 in finite time with infinite
/// speed: near death `w ~ (lambda*p*(2-p)*(t* - t))^(1/(2-p))`, whose derivative is unbounded,
/// so no Runge-Kutta step can be accurate across it in `w`. In the variable
/// `u = w^(2-p)` the flow is smooth:
///
/// ```text
/// du/dt = (2-p)*w^(1-p)*dw/dt = (2-p)*((1 - ||w||^2)*u - lambda*p)
/// ```
///
/// and `u` crosses 0 with slope `-(2-p)*lambda*p`, a regular event that the adaptive solver
/// locates like any other. The Euler loop stays in `w` (the published discretisation): a
/// small `w` overshoots below 0 in one step and is dropped.
///
/// # References
/// docs/theory.md §1 (the flow and the death rule); §2 does not apply.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lp {
    lambda: f64,
    p: f64,
}

/// `0 < p < 1`.
const P_RANGE: Range = Range::open(0.0, 1.0);

impl Lp {
    /// Its description: an exponent `p` (required); not affine, so not the reduced method.
    pub const VARIANT: Variant = Variant {
        name: "lp",
        about: "(1 - ||w||^2) w - lambda p w^(p-1), the penalty lambda*sum w^p",
        params: &[ParamSpec {
            name: "p",
            help: "the exponent of the penalty",
            range: P_RANGE,
            default: None,
        }],
        methods: &[Method::Direct, Method::Adaptive],
        build: |lambda, v| Ok(Box::new(Lp::new(lambda, v[0])?)),
    };

    /// `lambda >= 0` finite and `0 < p < 1`.
    ///
    /// # Errors
    /// [`CoreError::InvalidParameter`] naming `lambda` or `p`.
    pub fn new(lambda: f64, p: f64) -> Result<Self, CoreError> {
        let p = P_RANGE.check(Param::Variant("p"), p)?;
        Ok(Self {
            lambda: non_negative_finite(Param::Lambda, lambda)?,
            p,
        })
    }

    /// The exponent.
    pub fn p(&self) -> f64 {
        self.p
    }
}

impl Dynamics for Lp {
    fn name(&self) -> String {
        format!("lp (p = {})", self.p)
    }

    fn lambda(&self) -> f64 {
        self.lambda
    }

    #[inline]
    fn drift(&self, w: f64, g: &Globals) -> f64 {
        (1.0 - g.sq_norm) * w - self.lambda * self.p * w.powf(self.p - 1.0)
    }

    fn affine_shift(&self) -> Option<f64> {
        None
    }

    fn weight_to_state(&self, w: f64) -> f64 {
        w.max(0.0).powf(2.0 - self.p)
    }

    fn state_to_weight(&self, u: f64) -> f64 {
        u.max(0.0).powf(1.0 / (2.0 - self.p))
    }

    #[inline]
    fn state_drift(&self, u: f64, g: &Globals) -> f64 {
        (2.0 - self.p) * ((1.0 - g.sq_norm) * u - self.lambda * self.p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_drift_is_the_chain_rule_of_the_drift() {
        let d = Lp::new(1e-2, 0.5).unwrap();
        let g = Globals {
            sq_norm: 0.9,
            one_norm: 2.0,
            m_prime: 10,
        };
        for w in [1e-6, 1e-3, 0.1, 0.7] {
            let u = d.weight_to_state(w);
            // du/dt = phi'(w) * dw/dt with phi(w) = w^1.5, phi' = 1.5 w^0.5.
            let chain = 1.5 * w.sqrt() * d.drift(w, &g);
            assert!(
                (d.state_drift(u, &g) - chain).abs() <= 1e-12 * chain.abs(),
                "w = {w}"
            );
            assert!((d.state_to_weight(u) - w).abs() <= 1e-15 * w);
        }
        // Dead states map to 0, which is not alive.
        assert!(!d.is_alive(d.state_to_weight(-1e-9)));
        assert!(Lp::new(1e-2, 1.0).is_err() && Lp::new(1e-2, 0.0).is_err());
    }

    #[test]
    fn death_is_a_transversal_crossing_in_the_state_variable() {
        // In w the pull is unbounded near 0; in u = w^(2-p) the drift at u = 0 is the finite
        // -(2-p)*lambda*p, whatever ||w||^2 is: the event function crosses 0 with that slope.
        let d = Lp::new(1e-3, 0.5).unwrap();
        let g = Globals {
            sq_norm: 0.95,
            one_norm: 1.0,
            m_prime: 5,
        };
        assert!(d.drift(1e-12, &g) < -1e2);
        assert_eq!(d.state_drift(0.0, &g), -1.5 * 1e-3 * 0.5);
        let near = d.state_drift(d.weight_to_state(1e-12), &g);
        assert!((near + 7.5e-4).abs() < 1e-15, "{near}");
    }
}

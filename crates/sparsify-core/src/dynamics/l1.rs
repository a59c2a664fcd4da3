//! The published flow: `dw_j/dt = (1 - ||w||^2)*w_j - lambda`.

use super::{Dynamics, Globals, Variant};
use crate::error::{CoreError, Param, non_negative_finite};
use crate::method::Method;

/// The published L1 flow, `dw/dt = (1 - ||w||_2^2)*w - lambda` (affine, shift 0).
///
/// Its Euler update is `w + ((1 - ||w||^2)*w - lambda)*h`, the same operations in the same
/// order as [`crate::EulerSim`], so [`crate::DynamicsEuler`] over it reproduces that solver bit
/// for bit.
///
/// # References
/// docs/theory.md §1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct L1 {
    lambda: f64,
}

impl L1 {
    /// Its description: no parameter besides `lambda`; every method applies.
    pub const VARIANT: Variant = Variant {
        name: "l1",
        about: "(1 - ||w||^2) w - lambda, the published flow",
        params: &[],
        methods: &[Method::Direct, Method::Reduced, Method::Adaptive],
        build: |lambda, _| Ok(Box::new(L1::new(lambda)?)),
    };

    /// `lambda >= 0` and finite (0 only makes sense with an end time: nothing dies).
    ///
    /// # Errors
    /// [`CoreError::InvalidParameter`] naming `lambda`.
    pub fn new(lambda: f64) -> Result<Self, CoreError> {
        Ok(Self {
            lambda: non_negative_finite(Param::Lambda, lambda)?,
        })
    }
}

impl Dynamics for L1 {
    fn name(&self) -> String {
        "l1".to_owned()
    }

    fn lambda(&self) -> f64 {
        self.lambda
    }

    #[inline]
    fn drift(&self, w: f64, g: &Globals) -> f64 {
        (1.0 - g.sq_norm) * w - self.lambda
    }

    fn affine_shift(&self) -> Option<f64> {
        Some(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drift_and_update_are_the_published_expressions() {
        let d = L1::new(1e-3).unwrap();
        let g = Globals {
            sq_norm: 0.81,
            one_norm: 1.0,
            m_prime: 2,
        };
        let (w, h) = (0.3, 0.5);
        let a = 1.0 - 0.81;
        assert_eq!(d.drift(w, &g), a * w - 1e-3);
        // Bitwise the published `x + (a*x - lambda)*h`.
        assert_eq!(
            d.euler_update(w, &g, h).to_bits(),
            (w + (a * w - 1e-3) * h).to_bits()
        );
        assert!(L1::new(-1.0).is_err() && L1::new(f64::NAN).is_err());
    }
}

//! L1 plus weight decay: `dw_j/dt = (1 - ||w||^2 - mu)*w_j - lambda`.

use super::{Dynamics, Globals, ParamSpec, Range, Variant};
use crate::error::{CoreError, Param, non_negative_finite};
use crate::method::Method;

/// L1 with an L2 (weight-decay) term of strength `mu`:
/// `dw/dt = (1 - ||w||_2^2 - mu)*w - lambda`.
///
/// Still affine in `w` with a coefficient common to all survivors, so every survivor stays
/// `alpha*w0_j - beta` and the reduced solvers apply with the feature benefit `a -> a - mu`.
/// The slow manifold moves to `||w||^2 = 1 - mu` (for `mu < 1`); with `mu >= 1` every weight
/// decays and all die.
///
/// # References
/// docs/theory.md §2 (the affine structure needs only a drift `a(t)*w - lambda`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct L1L2 {
    lambda: f64,
    mu: f64,
}

impl L1L2 {
    /// Its description: a weight decay `mu` (required); affine, so every method applies.
    pub const VARIANT: Variant = Variant {
        name: "l1-l2",
        about: "(1 - ||w||^2 - mu) w - lambda, L1 plus a weight decay",
        params: &[ParamSpec {
            name: "mu",
            help: "the weight decay per unit time (mu = 0 is exactly l1)",
            range: Range::NON_NEGATIVE,
            default: None,
        }],
        methods: &[Method::Direct, Method::Reduced, Method::Adaptive],
        build: |lambda, v| Ok(Box::new(L1L2::new(lambda, v[0])?)),
    };

    /// `lambda >= 0` and `mu >= 0`, both finite.
    ///
    /// # Errors
    /// [`CoreError::InvalidParameter`] naming `lambda` or `mu`.
    pub fn new(lambda: f64, mu: f64) -> Result<Self, CoreError> {
        Ok(Self {
            lambda: non_negative_finite(Param::Lambda, lambda)?,
            mu: non_negative_finite(Param::Variant("mu"), mu)?,
        })
    }

    /// The weight decay.
    pub fn mu(&self) -> f64 {
        self.mu
    }
}

impl Dynamics for L1L2 {
    fn name(&self) -> String {
        format!("l1-l2 (mu = {})", self.mu)
    }

    fn lambda(&self) -> f64 {
        self.lambda
    }

    #[inline]
    fn drift(&self, w: f64, g: &Globals) -> f64 {
        ((1.0 - g.sq_norm) - self.mu) * w - self.lambda
    }

    fn affine_shift(&self) -> Option<f64> {
        Some(self.mu)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DynamicsEuler, InitialWeights, ReducedConfig, ReducedSim, SumMode};

    #[test]
    fn mu_zero_is_l1_and_mu_is_validated() {
        let g = Globals {
            sq_norm: 0.5,
            one_norm: 1.0,
            m_prime: 3,
        };
        let (a, b) = (
            L1L2::new(1e-3, 0.0).unwrap(),
            super::super::L1::new(1e-3).unwrap(),
        );
        assert_eq!(a.drift(0.2, &g), b.drift(0.2, &g));
        // With mu = 0.1: (1 - 0.5 - 0.1)*0.2 - 1e-3 = 0.079.
        let c = L1L2::new(1e-3, 0.1).unwrap();
        assert!((c.drift(0.2, &g) - 0.079).abs() < 1e-15);
        let e = L1L2::new(1e-3, -0.5).unwrap_err();
        assert!(e.to_string().contains("mu = -0.5"), "{e}");
    }

    #[test]
    fn reduced_solver_with_the_shift_follows_the_generic_euler_loop() {
        // The affine structure holds, so the reduced recursion with a -> a - mu must reproduce
        // the whole-vector loop: same death steps, norms within rounding (1e-12 relative for
        // sums of 300 terms over ~1e3 contracting steps).
        let w0 = InitialWeights::quantile(300, None).unwrap();
        let (lambda, mu, h) = (2e-3, 0.3, 0.5);
        let mut direct = DynamicsEuler::new(
            Box::new(L1L2::new(lambda, mu).unwrap()),
            h,
            SumMode::Sequential,
            w0.clone(),
        )
        .unwrap();
        let cfg = ReducedConfig::new(lambda, h)
            .unwrap()
            .with_weight_decay(mu)
            .unwrap();
        let mut reduced = ReducedSim::new(cfg, w0).unwrap();
        while !direct.is_done() {
            direct.step().unwrap();
            reduced.step().unwrap();
            let (x, y) = (direct.stats(), reduced.stats());
            assert_eq!(x.m_prime, y.m_prime, "step {}", x.step);
            assert!(
                (x.sq_norm - y.sq_norm).abs() <= 1e-12 * x.sq_norm,
                "step {}",
                x.step
            );
        }
        assert!(reduced.is_done());
        // The slow manifold sits at ||w||^2 = 1 - mu - O(lambda): 0.7 minus a few lambda.
        let s = reduced.stats();
        assert!((s.sq_norm - 0.7).abs() < 0.01, "{}", s.sq_norm);
    }
}

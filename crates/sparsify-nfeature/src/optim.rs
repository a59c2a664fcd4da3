//! The optimisers, as torch implements them.
//!
//! # References
//! - torch.optim.AdamW and torch.optim.SGD, single-tensor path (the reference transcribes them:
//!   `nfeature_ref.py`); Loshchilov & Hutter, "Decoupled Weight Decay Regularization" (2019).

use crate::error::{NFeatureError, Param, check};
use crate::float::Float;

/// torch.optim.AdamW's hyper-parameters (`amsgrad` off). [`Default`] gives torch's defaults:
/// `lr = 1e-3`, `beta1 = 0.9`, `beta2 = 0.999`, `eps = 1e-8`, `weight_decay = 0.01`. The paper
/// passes only `lr = 1e-3`, so it trained with the weight decay on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamWParams {
    /// Learning rate, finite and > 0 (torch: 1e-3).
    pub lr: f64,
    /// First-moment decay in [0, 1) (torch: 0.9).
    pub beta1: f64,
    /// Second-moment decay in [0, 1) (torch: 0.999).
    pub beta2: f64,
    /// Denominator offset, finite and >= 0 (torch: 1e-8).
    pub eps: f64,
    /// Decoupled weight decay, finite and >= 0 (torch: 0.01).
    pub weight_decay: f64,
}

impl Default for AdamWParams {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
        }
    }
}

impl AdamWParams {
    /// Checks every field's range.
    ///
    /// # Errors
    /// [`NFeatureError::InvalidParameter`] naming the first field out of range.
    pub fn validate(self) -> Result<Self, NFeatureError> {
        check_lr(self.lr)?;
        for (param, b) in [(Param::Beta1, self.beta1), (Param::Beta2, self.beta2)] {
            check(param, b, (0.0..1.0).contains(&b), "in [0, 1)")?;
        }
        check(
            Param::Eps,
            self.eps,
            self.eps.is_finite() && self.eps >= 0.0,
            "a finite number >= 0",
        )?;
        check(
            Param::WeightDecay,
            self.weight_decay,
            self.weight_decay.is_finite() && self.weight_decay >= 0.0,
            "a finite number >= 0",
        )?;
        Ok(self)
    }
}

/// Plain torch.optim.SGD (no momentum, dampening or weight decay): `W -= lr * g`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SgdParams {
    /// Learning rate, finite and > 0 (the paper's noise experiment: 0.02).
    pub lr: f64,
}

impl SgdParams {
    /// A validated learning rate.
    ///
    /// # Errors
    /// [`NFeatureError::InvalidParameter`] unless `lr` is finite and > 0.
    pub fn new(lr: f64) -> Result<Self, NFeatureError> {
        Ok(Self { lr: check_lr(lr)? })
    }
}

fn check_lr(lr: f64) -> Result<f64, NFeatureError> {
    check(
        Param::Lr,
        lr,
        lr.is_finite() && lr > 0.0,
        "a finite number > 0",
    )
}

/// Which optimiser trains the model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Optimizer {
    /// torch's AdamW.
    AdamW(AdamWParams),
    /// torch's plain SGD.
    Sgd(SgdParams),
}

impl Optimizer {
    /// The name the CLI uses (`adamw`, `sgd`).
    pub fn name(self) -> &'static str {
        match self {
            Optimizer::AdamW(_) => "adamw",
            Optimizer::Sgd(_) => "sgd",
        }
    }

    /// The learning rate.
    pub fn lr(self) -> f64 {
        match self {
            Optimizer::AdamW(p) => p.lr,
            Optimizer::Sgd(p) => p.lr,
        }
    }
}

/// The per-update scalars of AdamW's step `t` (1-based), in `f64` as torch computes them in
/// Python, rounded to `T` where they meet the tensors.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AdamWScalars<T> {
    /// `1 - lr * weight_decay`.
    pub(crate) decay: T,
    /// `1 - beta1` (torch's `lerp` weight).
    pub(crate) one_minus_b1: T,
    /// `beta2`.
    pub(crate) b2: T,
    /// `1 - beta2`.
    pub(crate) one_minus_b2: T,
    /// `sqrt(1 - beta2^t)`.
    pub(crate) bc2_sqrt: T,
    /// `eps`.
    pub(crate) eps: T,
    /// `-lr / (1 - beta1^t)`.
    pub(crate) neg_step_size: T,
}

impl<T: Float> AdamWScalars<T> {
    pub(crate) fn new(p: &AdamWParams, t: u64) -> Self {
        // Python's `beta ** t` is C's pow, as powf is (powi would multiply repeatedly).
        let t = t as f64;
        let bc1 = 1.0 - p.beta1.powf(t);
        let bc2_sqrt = (1.0 - p.beta2.powf(t)).sqrt();
        Self {
            decay: T::of(1.0 - p.lr * p.weight_decay),
            one_minus_b1: T::of(1.0 - p.beta1),
            b2: T::of(p.beta2),
            one_minus_b2: T::of(1.0 - p.beta2),
            bc2_sqrt: T::of(bc2_sqrt),
            eps: T::of(p.eps),
            neg_step_size: T::of(-(p.lr / bc1)),
        }
    }

    /// One AdamW update of one entry, in torch's order of operations (without fused
    /// multiply-add, as the reference): decay, `m += (1-b1)(g - m)`, `v = b2 v + ((1-b2) g) g`,
    /// `w += (-step_size * m) / (sqrt(v)/sqrt(1-b2^t) + eps)`.
    #[inline(always)]
    pub(crate) fn update(&self, w: &mut T, m: &mut T, v: &mut T, g: T) {
        let wd = *w * self.decay;
        let mm = *m + (g - *m) * self.one_minus_b1;
        let vv = *v * self.b2 + (g * self.one_minus_b2) * g;
        let denom = vv.sqrt() / self.bc2_sqrt + self.eps;
        *w = wd + (mm * self.neg_step_size) / denom;
        *m = mm;
        *v = vv;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Five AdamW updates with a constant gradient against the closed form of torch's
    /// recursion (`m_t = (1 - b1^t) g`, `v_t = (1 - b2^t) g^2`), as the reference's selftest.
    #[test]
    fn adamw_matches_closed_form_for_a_constant_gradient() {
        let p = AdamWParams {
            lr: 1e-2,
            weight_decay: 0.1,
            ..AdamWParams::default()
        }
        .validate()
        .expect("valid");
        for (w0, g) in [(0.5f64, 0.3f64), (-0.2, -1e-3), (0.0, 0.0)] {
            let (mut w, mut m, mut v) = (w0, 0.0, 0.0);
            let mut closed = w0;
            for t in 1..=5u64 {
                AdamWScalars::<f64>::new(&p, t).update(&mut w, &mut m, &mut v, g);
                let tf = t as i32;
                let mt = (1.0 - 0.9f64.powi(tf)) * g;
                let vt = (1.0 - 0.999f64.powi(tf)) * g * g;
                closed = closed * (1.0 - 1e-2 * 0.1)
                    - (1e-2 / (1.0 - 0.9f64.powi(tf))) * mt
                        / (vt.sqrt() / (1.0 - 0.999f64.powi(tf)).sqrt() + 1e-8);
            }
            // Two evaluations of the same recursion in different orders, numbers of order 1:
            // a few ulps.
            assert!((w - closed).abs() < 1e-15, "w0 {w0}: {w} vs {closed}");
        }
    }

    #[test]
    fn hyper_parameters_are_checked() {
        let bad = AdamWParams {
            beta2: 1.0,
            ..AdamWParams::default()
        };
        let err = bad.validate().expect_err("beta2 = 1");
        assert_eq!(
            err.to_string(),
            "beta2 = 1 is invalid: it must be in [0, 1)"
        );
        let err = SgdParams::new(-0.1).expect_err("negative lr");
        assert_eq!(
            err.to_string(),
            "lr = -0.1 is invalid: it must be a finite number > 0"
        );
    }
}

//! The published simulation's explicit Euler step, as one fused pass per step.
//!
//! One step, with `a = 1 - ||w||_2^2` from the current survivors:
//! `w_j <- w_j + (a*w_j - lambda)*h` for every survivor, then every `w_j <= 0` is dropped.
//! The update is evaluated exactly as numpy evaluates `w += ((1 - sq_norm)*w - lamb)*h`
//! (product, difference, product, sum; no fused multiply-add), and the same pass accumulates
//! `||w||_1` and `||w||_2^2` of the survivors for the next step in the configured
//! [`SumMode`]. In [`SumMode::Sequential`] the sums are left to right over the descending
//! survivors, Python's built-in `sum` order, so every recorded number equals the published
//! script's bit for bit.
//!
//! Survivors keep their order (docs/theory.md §2: each step is an increasing affine map while
//! `g = 1 + h*a > 0`). In floating point this is exact when `a >= 0`, because every operation
//! of the update is then monotone in `x` and rounding is monotone: the dropped coordinates are
//! a suffix and the vector is truncated after a scan from its end. When `a < 0` the vector is
//! filtered in order instead, exactly as numpy's `w[w > 0]`.
//! A dropped coordinate adds exactly `+0.0` to the sums, which leaves them bitwise unchanged.

use crate::drive::Stepper;
use crate::error::{CoreError, Param, positive_finite};
use crate::init::InitialWeights;
use crate::method::SolverCounts;
use crate::record::{StepStats, Sums};
use crate::sum::{self, SumMode};

/// Parameters of the Euler solver, validated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EulerConfig {
    lambda: f64,
    h: f64,
    sum: SumMode,
}

impl EulerConfig {
    /// `lambda` (L1 strength, per unit time) and `h` (step, time units) must be finite and `> 0`.
    ///
    /// # Errors
    /// [`CoreError::InvalidParameter`] naming `lambda` or `step`.
    pub fn new(lambda: f64, h: f64, sum: SumMode) -> Result<Self, CoreError> {
        Ok(Self {
            lambda: positive_finite(Param::Lambda, lambda)?,
            h: positive_finite(Param::Step, h)?,
            sum,
        })
    }

    /// The L1 strength.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }

    /// The step size.
    pub fn h(&self) -> f64 {
        self.h
    }

    /// The summation order.
    pub fn sum(&self) -> SumMode {
        self.sum
    }
}

/// The direct Euler solver: the whole vector of survivors, one fused pass per step.
#[derive(Debug, Clone)]
pub struct EulerSim {
    cfg: EulerConfig,
    w: Vec<f64>,
    step: u64,
    one_norm: f64,
    sq_norm: f64,
    gamma: f64,
    /// Steps after which `m'` changed.
    events: u64,
    /// The pairwise kernel for this processor, detected once.
    kernel: sum::Kernel,
}

impl EulerSim {
    /// A run from `w0` (sorted descending by construction) with `gamma_0 = (w_0 - w_1)/w_0`.
    ///
    /// # Errors
    /// [`CoreError::NonFinite`] if `||w0||^2` overflows; [`CoreError::UnstableStep`] if the
    /// first step already violates `1 + h*(1 - ||w0||^2) > 0`.
    pub fn new(cfg: EulerConfig, w0: InitialWeights) -> Result<Self, CoreError> {
        let w = w0.into_vec();
        let (one_norm, sq_norm) = sum::sums(&w, cfg.sum);
        crate::init::check_sq_norm(sq_norm)?;
        let gamma = (w[0] - w[1]) / w[0];
        let sim = Self {
            cfg,
            w,
            step: 0,
            one_norm,
            sq_norm,
            gamma,
            events: 0,
            kernel: sum::Kernel::detect(),
        };
        sim.check_stable()?;
        Ok(sim)
    }

    /// The configuration.
    pub fn config(&self) -> &EulerConfig {
        &self.cfg
    }

    /// The survivors, descending.
    pub fn weights(&self) -> &[f64] {
        &self.w
    }

    /// The number of survivors.
    pub fn m_prime(&self) -> usize {
        self.w.len()
    }

    /// Whether the run is over (at most one survivor).
    pub fn is_done(&self) -> bool {
        self.w.len() <= 1
    }

    /// The work done so far: one evaluation per step, events = steps that changed `m'`.
    pub fn counts(&self) -> SolverCounts {
        SolverCounts {
            steps: self.step,
            rejected: 0,
            evals: self.step,
            events: self.events,
        }
    }

    /// The current state.
    pub fn stats(&self) -> StepStats {
        StepStats::from_sums(
            Sums {
                step: self.step,
                h: self.cfg.h,
                m_prime: self.w.len(),
                one_norm: self.one_norm,
                sq_norm: self.sq_norm,
                w_max: self.w.first().copied().unwrap_or(f64::NAN),
                w_min: self.w.last().copied().unwrap_or(f64::NAN),
                gamma: self.gamma,
            },
            self.cfg.sum,
        )
    }

    /// One Euler step (no-op once the run is over).
    ///
    /// # Errors
    /// [`CoreError::UnstableStep`] when `1 + h*(1 - ||w||^2) <= 0`: the affine structure, and
    /// with it the order of the weights, would be lost.
    pub fn step(&mut self) -> Result<(), CoreError> {
        if self.is_done() {
            return Ok(());
        }
        self.check_stable()?;
        let (lambda, h) = (self.cfg.lambda, self.cfg.h);
        let a = 1.0 - self.sq_norm;
        // The script's order: gamma uses the largest weight before the step.
        self.gamma += lambda / self.w[0] * h * self.gamma;
        let update = sum::EulerUpdate { a, lambda, h };
        let (one, sq) = match self.cfg.sum {
            SumMode::Sequential => self.w.iter_mut().fold((0.0, 0.0), |(s1, s2), x| {
                *x = update.apply(*x);
                let kept = sum::survivor(*x);
                (s1 + kept, s2 + kept * kept)
            }),
            SumMode::Pairwise => sum::pairwise(self.kernel, &mut self.w, update),
        };
        let n_before = self.w.len();
        if a >= 0.0 {
            // Every operation of the update is monotone non-decreasing in x when a >= 0
            // (rounding is monotone), so the order survives in floating point too and the
            // dropped coordinates are a suffix: find it from the end, O(dropped).
            let n_keep = self.w.iter().rposition(|&x| x > 0.0).map_or(0, |i| i + 1);
            self.w.truncate(n_keep);
        } else {
            // a < 0 (||w||^2 > 1, a transient): a*x is decreasing in x, so rounding may swap
            // near-equal neighbours; filter in order, exactly as numpy's `w[w > 0]`.
            self.w.retain(|&x| x > 0.0);
        }
        if self.w.len() != n_before {
            self.events += 1;
        }
        self.one_norm = one;
        self.sq_norm = sq;
        self.step += 1;
        Ok(())
    }

    fn check_stable(&self) -> Result<(), CoreError> {
        if 1.0 + self.cfg.h * (1.0 - self.sq_norm) > 0.0 {
            Ok(())
        } else {
            Err(CoreError::UnstableStep {
                step: self.step,
                h: self.cfg.h,
                sq_norm: self.sq_norm,
            })
        }
    }
}

impl Stepper for EulerSim {
    fn stats(&self) -> StepStats {
        EulerSim::stats(self)
    }
    fn step(&mut self) -> Result<(), CoreError> {
        EulerSim::step(self)
    }
    fn m_prime(&self) -> usize {
        self.w.len()
    }
    fn current_weights(&mut self) -> &[f64] {
        &self.w
    }
    fn counts(&self) -> SolverCounts {
        EulerSim::counts(self)
    }
}

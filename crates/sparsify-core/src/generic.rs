//! The published Euler loop over any [`Dynamics`] variant, on the whole vector.
//!
//! One step: the global statistics of the survivors, then `w_j <- euler_update(w_j)` for
//! every survivor (`w + drift*h`), then the sums of the updated weights in the configured
//! [`SumMode`] (dropped coordinates count as 0, exactly as in [`crate::EulerSim`]), then every
//! coordinate that is not alive is dropped in order. For [`crate::dynamics::L1`] this is the
//! same arithmetic in the same order as [`crate::EulerSim`], which stays the fast path.
//!
//! # References
//! docs/theory.md §1.

use crate::drive::Stepper;
use crate::dynamics::{Dynamics, Globals};
use crate::error::{CoreError, Param, positive_finite};
use crate::init::InitialWeights;
use crate::method::SolverCounts;
use crate::record::{StepStats, Sums};
use crate::sum::{self, SumMode};

/// The direct Euler solver for any dynamics variant.
#[derive(Debug)]
pub struct DynamicsEuler<'a> {
    dynamics: Box<dyn Dynamics + 'a>,
    h: f64,
    sum: SumMode,
    w: Vec<f64>,
    step: u64,
    one_norm: f64,
    sq_norm: f64,
    gamma: f64,
    events: u64,
}

impl<'a> DynamicsEuler<'a> {
    /// A run of `dynamics` from `w0` with step `h` (time units, finite and `> 0`).
    ///
    /// # Errors
    /// [`CoreError::InvalidParameter`] for `h`, or for `lambda = 0` (nothing would ever die);
    /// [`CoreError::UnstableStep`] if `1 + h*(1 - ||w0||^2 - mu) <= 0`.
    pub fn new(
        dynamics: Box<dyn Dynamics + 'a>,
        h: f64,
        sum: SumMode,
        w0: InitialWeights,
    ) -> Result<Self, CoreError> {
        positive_finite(Param::Lambda, dynamics.lambda())?;
        let h = positive_finite(Param::Step, h)?;
        let w = w0.into_vec();
        let (one_norm, sq_norm) = sum::sums(&w, sum);
        crate::init::check_sq_norm(sq_norm)?;
        let gamma = (w[0] - w[1]) / w[0];
        let sim = Self {
            dynamics,
            h,
            sum,
            w,
            step: 0,
            one_norm,
            sq_norm,
            gamma,
            events: 0,
        };
        sim.check_stable()?;
        Ok(sim)
    }

    /// The dynamics.
    pub fn dynamics(&self) -> &dyn Dynamics {
        self.dynamics.as_ref()
    }

    /// The survivors, in their initial order.
    pub fn weights(&self) -> &[f64] {
        &self.w
    }

    /// Whether the run is over (at most one survivor).
    pub fn is_done(&self) -> bool {
        self.w.len() <= 1
    }

    /// The work done so far.
    pub fn counts(&self) -> SolverCounts {
        SolverCounts {
            steps: self.step,
            rejected: 0,
            evals: self.step,
            events: self.events,
        }
    }

    /// The current state, with [`crate::EulerSim::stats`]'s arithmetic; `w_max`/`w_min` are
    /// the largest and smallest survivors.
    pub fn stats(&self) -> StepStats {
        let (w_max, w_min) = self.extremes();
        StepStats::from_sums(
            Sums {
                step: self.step,
                h: self.h,
                m_prime: self.w.len(),
                one_norm: self.one_norm,
                sq_norm: self.sq_norm,
                w_max,
                w_min,
                gamma: self.gamma,
            },
            self.sum,
        )
    }

    /// One Euler step (no-op once the run is over).
    ///
    /// # Errors
    /// [`CoreError::UnstableStep`] when `1 + h*(1 - ||w||^2 - mu) <= 0`.
    pub fn step(&mut self) -> Result<(), CoreError> {
        if self.is_done() {
            return Ok(());
        }
        self.check_stable()?;
        let g = Globals {
            sq_norm: self.sq_norm,
            one_norm: self.one_norm,
            m_prime: self.w.len(),
        };
        let (lambda, h) = (self.dynamics.lambda(), self.h);
        let (w_max, _) = self.extremes();
        self.gamma += lambda / w_max * h * self.gamma;
        let d = self.dynamics.as_ref();
        self.w
            .iter_mut()
            .for_each(|x| *x = d.euler_update(*x, &g, h));
        // Sums before the filter, dropped coordinates as +0.0: EulerSim's order in both modes.
        let (one, sq) = sum::sums(&self.w, self.sum);
        let n_before = self.w.len();
        self.w.retain(|&x| d.is_alive(x));
        if self.w.len() != n_before {
            self.events += 1;
        }
        self.one_norm = one;
        self.sq_norm = sq;
        self.step += 1;
        Ok(())
    }

    fn extremes(&self) -> (f64, f64) {
        if self.dynamics.affine_shift().is_some() || self.w.is_empty() {
            // Order is kept (docs/theory.md §2): first and last.
            (
                self.w.first().copied().unwrap_or(f64::NAN),
                self.w.last().copied().unwrap_or(f64::NAN),
            )
        } else {
            self.w
                .iter()
                .fold((f64::NEG_INFINITY, f64::INFINITY), |(hi, lo), &x| {
                    (hi.max(x), lo.min(x))
                })
        }
    }

    fn check_stable(&self) -> Result<(), CoreError> {
        let mu = self.dynamics.affine_shift().unwrap_or(0.0);
        if 1.0 + self.h * ((1.0 - self.sq_norm) - mu) > 0.0 {
            Ok(())
        } else {
            Err(CoreError::UnstableStep {
                step: self.step,
                h: self.h,
                sq_norm: self.sq_norm + mu,
            })
        }
    }
}

impl Stepper for DynamicsEuler<'_> {
    fn stats(&self) -> StepStats {
        DynamicsEuler::stats(self)
    }
    fn step(&mut self) -> Result<(), CoreError> {
        DynamicsEuler::step(self)
    }
    fn m_prime(&self) -> usize {
        self.w.len()
    }
    fn current_weights(&mut self) -> &[f64] {
        &self.w
    }
    fn counts(&self) -> SolverCounts {
        DynamicsEuler::counts(self)
    }
}

#[cfg(test)]
mod tests {
    use crate::Stepper;
    use rand::SeedableRng;

    use super::*;
    use crate::dynamics::{L1, Lp};
    use crate::{EulerConfig, EulerSim};

    /// The L1 variant through the generic loop is the published solver, bit for bit, in both
    /// summation modes: every state, every weight.
    #[test]
    fn l1_through_the_trait_is_eulersim_bitwise() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(11);
        let w0 = InitialWeights::half_normal(&mut rng, 700, None).unwrap();
        for mode in [SumMode::Sequential, SumMode::Pairwise] {
            let (lambda, h) = (2e-3, 0.5);
            let mut fast =
                EulerSim::new(EulerConfig::new(lambda, h, mode).unwrap(), w0.clone()).unwrap();
            let mut generic =
                DynamicsEuler::new(Box::new(L1::new(lambda).unwrap()), h, mode, w0.clone())
                    .unwrap();
            while !fast.is_done() {
                fast.step().unwrap();
                generic.step().unwrap();
                assert_eq!(fast.stats(), generic.stats());
                assert_eq!(fast.weights(), generic.weights());
            }
            assert!(generic.is_done());
        }
    }

    #[test]
    fn lp_euler_keeps_order_and_ends_with_one_winner() {
        // The Lp Euler map w + h*((1-||w||^2) w - lambda p w^(p-1)) is increasing in w, so the
        // survivors stay the largest initial weights and the winner is argmax w0.
        let w0 = InitialWeights::quantile(200, None).unwrap();
        let top = w0.as_slice()[0];
        let mut sim = DynamicsEuler::new(
            Box::new(Lp::new(1e-4, 0.5).unwrap()),
            0.5,
            SumMode::Pairwise,
            w0,
        )
        .unwrap();
        let s = sim.run(&mut (), || false).unwrap();
        assert_eq!(s.final_state.m_prime, 1);
        assert!(s.final_state.w_max > top, "the winner grew from {top}");
        assert!((s.final_state.sq_norm - 1.0).abs() < 0.05);
    }

    #[test]
    fn lambda_zero_is_refused_for_euler() {
        let w0 = InitialWeights::quantile(10, None).unwrap();
        let e = DynamicsEuler::new(Box::new(L1::new(0.0).unwrap()), 0.5, SumMode::Pairwise, w0)
            .unwrap_err();
        assert!(e.to_string().contains("lambda = 0"), "{e}");
    }
}

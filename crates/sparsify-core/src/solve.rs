//! The one entry point: any dynamics variant, any method that applies to it, one result.
//!
//! | method     | published (`affine_shift = 0`) | other affine          | not affine            |
//! |------------|--------------------------------|-----------------------|-----------------------|
//! | `direct`   | [`EulerSim`] (bitwise)         | [`DynamicsEuler`]     | [`DynamicsEuler`]     |
//! | `reduced`  | [`ReducedSim`]                 | [`ReducedSim`] (mu)   | [`CoreError::NotAffine`] |
//! | `adaptive` | reduced flow                   | reduced flow          | whole-vector flow     |
//!
//! Every run ends with a [`Solution`]: the same [`StopReason`]s, [`SolverCounts`] and death
//! list for every solver.
//!
//! # References
//! docs/theory.md §1 (Euler), §2 (affine structure), §3-4 (the flow).

use crate::adaptive::{self, AdaptiveConfig};
use crate::drive::{self, Limits, Progress, Solution};
use crate::dynamics::Dynamics;
use crate::error::{CoreError, Param, positive_finite};
use crate::euler::{EulerConfig, EulerSim};
use crate::generic::DynamicsEuler;
use crate::init::InitialWeights;
use crate::method::Method;
use crate::prefix::PrefixMoments;
use crate::record::Observer;
use crate::reduced::{ReducedConfig, ReducedSim};
use crate::sum::SumMode;

/// A method with its settings, and the limits of the run: what [`solve`] needs besides the
/// dynamics and the initial weights.
#[derive(Debug, Clone, PartialEq)]
pub struct Solver {
    scheme: Scheme,
    t_end: Option<f64>,
    max_steps: Option<u64>,
    output_times: Vec<f64>,
}

/// A method's own settings.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Scheme {
    Direct { h: f64, sum: SumMode },
    Reduced { h: f64 },
    Adaptive(AdaptiveConfig),
}

/// What a solver starts from: the sorted initial weights, or their prefix moments (which own
/// them; reusable across runs, and what the reduced and adaptive-affine solvers work on).
#[derive(Debug, Clone)]
pub enum Start {
    /// The weights.
    Weights(InitialWeights),
    /// Their prefix moments.
    Moments(PrefixMoments),
}

impl From<InitialWeights> for Start {
    fn from(w0: InitialWeights) -> Self {
        Start::Weights(w0)
    }
}

impl From<PrefixMoments> for Start {
    fn from(table: PrefixMoments) -> Self {
        Start::Moments(table)
    }
}

impl Start {
    fn into_weights(self) -> InitialWeights {
        match self {
            Start::Weights(w0) => w0,
            Start::Moments(table) => InitialWeights::from_sorted_unchecked(table.into_w0()),
        }
    }

    fn into_table(self) -> PrefixMoments {
        match self {
            Start::Weights(w0) => PrefixMoments::new(w0.into_vec()),
            Start::Moments(table) => table,
        }
    }
}

impl Solver {
    /// The published Euler loop on the whole vector, step `h` (time units, finite and `> 0`),
    /// sums in order `sum`.
    ///
    /// # Errors
    /// [`CoreError::InvalidParameter`] naming `step`.
    pub fn direct(h: f64, sum: SumMode) -> Result<Self, CoreError> {
        Ok(Self::with_scheme(Scheme::Direct {
            h: positive_finite(Param::Step, h)?,
            sum,
        }))
    }

    /// The Euler recursion on `(alpha, beta)`, step `h` (affine variants only).
    ///
    /// # Errors
    /// [`CoreError::InvalidParameter`] naming `step`.
    pub fn reduced(h: f64) -> Result<Self, CoreError> {
        Ok(Self::with_scheme(Scheme::Reduced {
            h: positive_finite(Param::Step, h)?,
        }))
    }

    /// The continuous-time flow by Dormand-Prince 5(4) with tolerances `cfg`.
    pub fn adaptive(cfg: AdaptiveConfig) -> Self {
        Self::with_scheme(Scheme::Adaptive(cfg))
    }

    fn with_scheme(scheme: Scheme) -> Self {
        Self {
            scheme,
            t_end: None,
            max_steps: None,
            output_times: Vec::new(),
        }
    }

    /// Stops the run at the first step that reaches `t_end` (finite, `> 0`), with
    /// [`crate::StopReason::EndTime`]; required with `lambda = 0` (nothing dies).
    ///
    /// # Errors
    /// [`CoreError::InvalidParameter`] naming `t_end`.
    pub fn with_end_time(self, t_end: f64) -> Result<Self, CoreError> {
        Ok(Self {
            t_end: Some(positive_finite(Param::EndTime, t_end)?),
            ..self
        })
    }

    /// Fails with [`CoreError::TooManySteps`] after `max_steps` steps (adaptive: attempts),
    /// `>= 1`: a run that should end but does not is an error, not a hang.
    ///
    /// # Errors
    /// [`CoreError::InvalidParameter`] naming `max_steps` if it is 0.
    pub fn with_max_steps(self, max_steps: u64) -> Result<Self, CoreError> {
        if max_steps == 0 {
            return Err(CoreError::InvalidParameter {
                param: Param::MaxSteps,
                value: 0.0,
                valid: "an integer >= 1".to_owned(),
            });
        }
        Ok(Self {
            max_steps: Some(max_steps),
            ..self
        })
    }

    /// Reports the state at `times` (any order; times past the end are ignored) in
    /// [`Solution::outputs`].
    ///
    /// # Errors
    /// [`CoreError::InvalidParameter`] for a time that is not finite and `>= 0`.
    pub fn with_output_times(self, times: &[f64]) -> Result<Self, CoreError> {
        let mut v = Vec::with_capacity(times.len());
        for &t in times {
            if !(t.is_finite() && t >= 0.0) {
                return Err(CoreError::InvalidParameter {
                    param: Param::OutputTime,
                    value: t,
                    valid: "a finite number >= 0".to_owned(),
                });
            }
            v.push(t);
        }
        v.sort_by(f64::total_cmp);
        Ok(Self {
            output_times: v,
            ..self
        })
    }

    /// The method.
    pub fn method(&self) -> Method {
        match self.scheme {
            Scheme::Direct { .. } => Method::Direct,
            Scheme::Reduced { .. } => Method::Reduced,
            Scheme::Adaptive(_) => Method::Adaptive,
        }
    }

    /// Whether solving `dynamics` works on prefix moments (reduced, or adaptive on an affine
    /// variant): a caller with a large `m` may build them itself (to time or display that
    /// O(m) pass) and pass [`Start::Moments`].
    pub fn uses_prefix_moments(&self, dynamics: &dyn Dynamics) -> bool {
        match self.scheme {
            Scheme::Direct { .. } => false,
            Scheme::Reduced { .. } => true,
            Scheme::Adaptive(_) => dynamics.affine_shift().is_some(),
        }
    }

    /// The routine that solves `dynamics`: `EulerSim`, `DynamicsEuler`, `ReducedSim`,
    /// `adaptive_reduced` or `adaptive_full`.
    pub fn routine(&self, dynamics: &dyn Dynamics) -> &'static str {
        match self.scheme {
            Scheme::Direct { .. } if dynamics.affine_shift() == Some(0.0) => "EulerSim",
            Scheme::Direct { .. } => "DynamicsEuler",
            Scheme::Reduced { .. } => "ReducedSim",
            Scheme::Adaptive(_) if dynamics.affine_shift().is_some() => "adaptive_reduced",
            Scheme::Adaptive(_) => "adaptive_full",
        }
    }

    fn limits(&self) -> Limits {
        Limits {
            t_end: self.t_end,
            max_steps: self.max_steps,
            output_times: self.output_times.clone(),
        }
    }
}

/// Solves `dynamics` from `start` with `solver`, telling `observer` about every step (every
/// accepted step for the adaptive solver) and calling `monitor` before each; the run stops
/// with [`crate::StopReason::Interrupted`] when `monitor` returns `true`.
///
/// # Errors
/// [`CoreError::NotAffine`] for the reduced method on a variant without the affine structure;
/// [`CoreError::MissingParameter`] (`t_end`) with `lambda = 0` and no end time (Euler methods
/// refuse `lambda = 0` outright: [`CoreError::InvalidParameter`]); the solvers' own errors
/// ([`CoreError::UnstableStep`], [`CoreError::NonFinite`], [`CoreError::StepSizeTooSmall`],
/// [`CoreError::TooManySteps`]).
pub fn solve(
    dynamics: &dyn Dynamics,
    solver: &Solver,
    start: impl Into<Start>,
    observer: &mut impl Observer,
    mut monitor: impl FnMut(&Progress) -> bool,
) -> Result<Solution, CoreError> {
    let start = start.into();
    let limits = solver.limits();
    let lambda = dynamics.lambda();
    if lambda == 0.0 && solver.t_end.is_none() {
        return Err(CoreError::MissingParameter {
            param: Param::EndTime,
            reason: "with lambda = 0 nothing dies, so the run needs an end time".to_owned(),
        });
    }
    match solver.scheme {
        Scheme::Direct { h, sum } => {
            let w0 = start.into_weights();
            if dynamics.affine_shift() == Some(0.0) {
                let mut sim = EulerSim::new(EulerConfig::new(lambda, h, sum)?, w0)?;
                drive::drive(&mut sim, &limits, observer, &mut monitor)
            } else {
                let mut sim = DynamicsEuler::new(Box::new(dynamics), h, sum, w0)?;
                drive::drive(&mut sim, &limits, observer, &mut monitor)
            }
        }
        Scheme::Reduced { h } => {
            let mu = dynamics
                .affine_shift()
                .ok_or_else(|| CoreError::NotAffine {
                    dynamics: dynamics.name(),
                })?;
            let cfg = ReducedConfig::new(lambda, h)?.with_weight_decay(mu)?;
            let mut sim = ReducedSim::from_table(cfg, start.into_table())?;
            drive::drive(&mut sim, &limits, observer, &mut monitor)
        }
        Scheme::Adaptive(cfg) => {
            if dynamics.affine_shift().is_some() {
                let mut table = start.into_table();
                let (mut flow, y0, deaths) = adaptive::reduced_flow(dynamics, &mut table)?;
                adaptive::integrate(&mut flow, y0, deaths, &cfg, &limits, observer, &mut monitor)
            } else {
                let (mut flow, y0, deaths) = adaptive::full_flow(dynamics, start.into_weights())?;
                adaptive::integrate(&mut flow, y0, deaths, &cfg, &limits, observer, &mut monitor)
            }
        }
    }
}

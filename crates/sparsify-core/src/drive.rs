//! What every run reports ([`Solution`], one [`StopReason`]), and the one loop that runs a
//! step-by-step solver to the end, telling an [`Observer`].
//!
//! Every Euler-type solver (the bitwise [`crate::EulerSim`], the generic
//! [`crate::DynamicsEuler`], the O(1)-per-step [`crate::ReducedSim`]) implements [`Stepper`]
//! and gets its `run` from it, so stopping, interruption, stalls and what observers see are
//! the same for all of them; the adaptive solver ends its runs with the same reasons.
//!
//! # Stalls
//! A run can reach a state it never leaves while two or more weights survive. Tied survivors
//! stay tied (the drift is the same function for every survivor) and converge to the fixed
//! point of their common value, where none can die; Euler's rounding can also merge weights a
//! few ulps apart, or keep them a fixed number of ulps apart forever. An Euler-type run stops
//! with [`StopReason::Stalled`] once its survivors are a fixed point of one step or of two (a
//! rounding cycle) of the solver's own arithmetic: then nothing changes, ever. The check is
//! O(1) per step (the largest and smallest survivor moved by at most [`STALL_ULPS`] ulps and
//! `m'` did not change), confirmed by comparing the solver's state ([`Stepper::state`]: the
//! survivors, or the reduced solver's `(alpha, d, m')`) with a copy taken one or two steps
//! earlier. The adaptive solver stops when tied survivors sit at the flow's fixed point to
//! within its tolerances (see [`crate::adaptive`]).
//!
//! # References
//! docs/theory.md §1 (the loop), §2 (order and ties are kept).

use crate::error::{CoreError, Param};
use crate::method::SolverCounts;
use crate::record::{Observer, Recorder, StepStats};

/// A state whose largest and smallest survivors moved by at most this many ulps over a step is
/// checked for a stall.
pub const STALL_ULPS: f64 = 4.0;

/// Why a run ended: the same reasons for every solver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// One coordinate is left: winner-take-all.
    OneLeft,
    /// The last step (or event) dropped every remaining coordinate at once (lambda*h larger
    /// than the largest weight could absorb, or a tied group that dies together); the
    /// published script ends the same way and then fails to plot.
    AllDropped,
    /// No weight can die any more: the `m_prime` survivors are at a state the run does not leave
    /// (tied at their fixed point, or a fixed point of Euler's rounded step; see
    /// [`crate::drive`]).
    Stalled {
        /// The survivors left.
        m_prime: usize,
    },
    /// The requested end time was reached.
    EndTime,
    /// The caller asked to stop.
    Interrupted,
}

impl StopReason {
    /// A short name for summaries: `one_left`, `all_dropped`, `stalled`, `end_time`,
    /// `interrupted`.
    pub fn name(self) -> &'static str {
        match self {
            StopReason::OneLeft => "one_left",
            StopReason::AllDropped => "all_dropped",
            StopReason::Stalled { .. } => "stalled",
            StopReason::EndTime => "end_time",
            StopReason::Interrupted => "interrupted",
        }
    }

    /// The reason in a few words, for people.
    pub fn describe(self) -> String {
        match self {
            StopReason::OneLeft => "one coordinate left".to_owned(),
            StopReason::AllDropped => "the last step dropped every coordinate".to_owned(),
            StopReason::Stalled { m_prime } => {
                format!("stalled: {m_prime} tied survivors at a state no weight can die from")
            }
            StopReason::EndTime => "the end time was reached".to_owned(),
            StopReason::Interrupted => "interrupted".to_owned(),
        }
    }
}

/// A change of `m'`: after Euler step `step` (at `t = step*h`), or at a located crossing time
/// `t` of the adaptive solver (`step` is `None`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Death {
    /// The Euler step after which `m'` changed; `None` off the Euler grid.
    pub step: Option<u64>,
    /// The time.
    pub t: f64,
    /// Survivors after it.
    pub m_prime: usize,
}

/// Where a run is, before each step: what a progress display shows, and what a monitor needs
/// to decide to stop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Accepted steps so far.
    pub steps: u64,
    /// The time reached.
    pub t: f64,
    /// Survivors.
    pub m_prime: usize,
}

/// What every run reports, whatever the solver. For the adaptive solver, `step` in its
/// [`StepStats`] counts accepted steps and `gamma` is the exact relative gap of the two largest
/// weights (docs/theory.md §6).
#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    /// The state before the first step.
    pub initial_state: StepStats,
    /// The state after the last step taken.
    pub final_state: StepStats,
    /// Why the run ended.
    pub stop: StopReason,
    /// Steps, rejected steps, right-hand-side evaluations, death events.
    pub counts: SolverCounts,
    /// Every change of `m'`, in time order.
    pub deaths: Vec<Death>,
    /// The state at every requested output time up to the end, in increasing time. Euler's
    /// solution is its grid: the state at `t` is that of the last step with `step*h <= t`.
    pub outputs: Vec<StepStats>,
}

/// The limits of a run, and the times it reports.
#[derive(Debug, Clone, Default)]
pub(crate) struct Limits {
    pub(crate) t_end: Option<f64>,
    pub(crate) max_steps: Option<u64>,
    /// Sorted increasing, finite, `>= 0`.
    pub(crate) output_times: Vec<f64>,
}

/// A solver that advances one Euler step at a time. Implement the required methods and
/// [`Stepper::run`] / [`Stepper::run_recorded`] come with them: stopping, interruption, stalls
/// and what observers see are then the same as for the solvers here.
pub trait Stepper {
    /// The current state.
    fn stats(&self) -> StepStats;
    /// One step (a no-op once at most one coordinate is left).
    ///
    /// # Errors
    /// The solver's own, e.g. [`CoreError::UnstableStep`].
    fn step(&mut self) -> Result<(), CoreError>;
    /// The number of survivors.
    fn m_prime(&self) -> usize;
    /// The survivors now, descending; materialised if the solver holds them implicitly.
    fn current_weights(&mut self) -> &[f64];
    /// The work done so far.
    fn counts(&self) -> SolverCounts;
    /// The values that determine every later step (by default the survivors): a run whose
    /// state is the same after one or two steps has stalled (see the module docs).
    fn state(&mut self) -> &[f64] {
        self.current_weights()
    }
    /// Steps until one survivor is left (or none, or the run stalls), or until `should_stop()`
    /// returns true (checked before every step). The observer sees the initial state, then
    /// every step; it gets the weights only where [`Observer::wants_weights`] says so (an empty
    /// slice otherwise), so a solver that holds them implicitly stays O(1) per step.
    ///
    /// # Errors
    /// The solver's step error, with the observer holding the run up to that step;
    /// [`CoreError::NonFinite`] if the state overflows.
    fn run(
        &mut self,
        observer: &mut impl Observer,
        mut should_stop: impl FnMut() -> bool,
    ) -> Result<Solution, CoreError>
    where
        Self: Sized,
    {
        drive(self, &Limits::default(), observer, &mut |_| should_stop())
    }

    /// [`Stepper::run`] into a [`Recorder`], calling [`Recorder::finish`] however the run ends.
    ///
    /// # Errors
    /// As [`Stepper::run`]; the recorder keeps what was recorded before the error.
    fn run_recorded(
        &mut self,
        recorder: &mut Recorder,
        should_stop: impl FnMut() -> bool,
    ) -> Result<Solution, CoreError>
    where
        Self: Sized,
    {
        let result = self.run(recorder, should_stop);
        recorder.finish();
        result
    }
}

/// Whether a step from `before` to `after` may have left the state in place: `m'` unchanged
/// (and `>= 2`), the largest and smallest survivors moved by at most [`STALL_ULPS`] ulps.
pub(crate) fn barely_moved(before: &StepStats, after: &StepStats) -> bool {
    let close = |x: f64, y: f64| (x - y).abs() <= STALL_ULPS * f64::EPSILON * x.abs();
    after.m_prime >= 2
        && after.m_prime == before.m_prime
        && close(after.w_max, before.w_max)
        && close(after.w_min, before.w_min)
}

/// The loop of every Euler-type solver.
pub(crate) fn drive<S: Stepper + ?Sized>(
    sim: &mut S,
    limits: &Limits,
    observer: &mut impl Observer,
    monitor: &mut dyn FnMut(&Progress) -> bool,
) -> Result<Solution, CoreError> {
    let initial_state = sim.stats();
    if observer.wants_weights(&initial_state, &initial_state) {
        observer.start(&initial_state, sim.current_weights());
    } else {
        observer.start(&initial_state, &[]);
    }
    let times = &limits.output_times;
    let mut outputs = Vec::new();
    let mut next = 0;
    let mut deaths = Vec::new();
    let mut before = initial_state;
    let mut taken = 0u64;
    // The survivors at the step `probe.0`, taken when the state barely moved (see the module
    // docs): the same survivors one or two steps later are a fixed point or a 2-cycle.
    let mut probe: Option<(u64, Vec<f64>)> = None;
    let stop = loop {
        match sim.m_prime() {
            0 => break StopReason::AllDropped,
            1 => break StopReason::OneLeft,
            _ => {}
        }
        if limits.t_end.is_some_and(|te| before.t >= te) {
            break StopReason::EndTime;
        }
        let at = Progress {
            steps: before.step,
            t: before.t,
            m_prime: before.m_prime,
        };
        if monitor(&at) {
            break StopReason::Interrupted;
        }
        if let Some(max_steps) = limits.max_steps
            && taken >= max_steps
        {
            return Err(CoreError::TooManySteps {
                max_steps,
                t: before.t,
            });
        }
        sim.step()?;
        taken += 1;
        let after = sim.stats();
        if !after.sq_norm.is_finite() {
            return Err(CoreError::NonFinite {
                quantity: "||w||^2",
                value: after.sq_norm,
                step: after.step,
                cause: Param::Step,
            });
        }
        if observer.wants_weights(&before, &after) {
            observer.step(&before, &after, sim.current_weights());
        } else {
            observer.step(&before, &after, &[]);
        }
        while next < times.len() && times[next] < after.t {
            outputs.push(before);
            next += 1;
        }
        if after.m_prime != before.m_prime {
            deaths.push(Death {
                step: Some(after.step),
                t: after.t,
                m_prime: after.m_prime,
            });
        }
        let was = before;
        before = after;
        if !barely_moved(&was, &after) {
            probe = None;
            continue;
        }
        match &probe {
            Some((k, w)) if after.step - k <= 2 => {
                if sim.state() == w.as_slice() {
                    break StopReason::Stalled {
                        m_prime: after.m_prime,
                    };
                }
            }
            _ => probe = Some((after.step, sim.state().to_vec())),
        }
    };
    while next < times.len() && times[next] <= before.t {
        outputs.push(before);
        next += 1;
    }
    Ok(Solution {
        initial_state,
        final_state: before,
        stop,
        counts: sim.counts(),
        deaths,
        outputs,
    })
}

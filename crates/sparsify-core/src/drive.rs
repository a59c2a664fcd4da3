//! The one loop that runs a step-by-step solver to the end, telling an [`Observer`].
//!
//! Every Euler-type solver (the bitwise [`crate::EulerSim`], the generic
//! [`crate::DynamicsEuler`], the O(1)-per-step [`crate::ReducedSim`]) implements [`Stepper`]
//! and is run by [`drive`], so stopping, interruption and what observers see are the same for
//! all of them.

use crate::error::CoreError;
use crate::record::{Observer, Recorder, StepStats};

/// Why a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// One coordinate is left: winner-take-all.
    OneLeft,
    /// The last step dropped every remaining coordinate at once (lambda*h is larger than the
    /// largest weight could absorb); the published script ends the same way and then fails to
    /// plot.
    AllDropped,
    /// The caller asked to stop.
    Interrupted,
}

impl StopReason {
    /// A short name for summaries.
    pub fn name(self) -> &'static str {
        match self {
            StopReason::OneLeft => "one_left",
            StopReason::AllDropped => "all_dropped",
            StopReason::Interrupted => "interrupted",
        }
    }
}

/// What a finished (or stopped) run reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunSummary {
    /// The state before the first step.
    pub initial_state: StepStats,
    /// The state after the last step taken.
    pub final_state: StepStats,
    /// Why the run ended.
    pub stop: StopReason,
}

/// A solver that advances one Euler step at a time.
pub(crate) trait Stepper {
    /// The current state.
    fn stats(&self) -> StepStats;
    /// One step (a no-op once at most one coordinate is left).
    fn step(&mut self) -> Result<(), CoreError>;
    /// The number of survivors.
    fn m_prime(&self) -> usize;
    /// The survivors now, descending; materialised if the solver holds them implicitly.
    fn current_weights(&mut self) -> &[f64];
}

/// Steps `solver` until one survivor is left (or none), or until `should_stop()` returns true
/// (checked before every step). The observer sees the initial state, then every step; it gets
/// the weights only where [`Observer::wants_weights`] says so (an empty slice otherwise), so a
/// solver that holds them implicitly stays O(1) per step.
///
/// # Errors
/// The solver's step error, with the observer holding the run up to that step.
pub(crate) fn drive(
    solver: &mut impl Stepper,
    observer: &mut impl Observer,
    mut should_stop: impl FnMut() -> bool,
) -> Result<RunSummary, CoreError> {
    let initial_state = solver.stats();
    if observer.wants_weights(&initial_state, &initial_state) {
        observer.start(&initial_state, solver.current_weights());
    } else {
        observer.start(&initial_state, &[]);
    }
    let mut before = initial_state;
    while solver.m_prime() > 1 {
        if should_stop() {
            return Ok(RunSummary {
                initial_state,
                final_state: before,
                stop: StopReason::Interrupted,
            });
        }
        solver.step()?;
        let after = solver.stats();
        if observer.wants_weights(&before, &after) {
            observer.step(&before, &after, solver.current_weights());
        } else {
            observer.step(&before, &after, &[]);
        }
        before = after;
    }
    let stop = if solver.m_prime() == 0 {
        StopReason::AllDropped
    } else {
        StopReason::OneLeft
    };
    Ok(RunSummary {
        initial_state,
        final_state: before,
        stop,
    })
}

/// [`drive`] into a [`Recorder`], calling [`Recorder::finish`] however the run ends.
///
/// # Errors
/// As [`drive`]; the recorder keeps what was recorded before the error.
pub(crate) fn drive_recorded(
    solver: &mut impl Stepper,
    recorder: &mut Recorder,
    should_stop: impl FnMut() -> bool,
) -> Result<RunSummary, CoreError> {
    let result = drive(solver, recorder, should_stop);
    recorder.finish();
    result
}

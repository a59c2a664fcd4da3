//! The one loop that runs a step-by-step solver to the end, telling an [`Observer`].
//!
//! Every Euler-type solver (the bitwise [`crate::EulerSim`], the generic
//! [`crate::DynamicsEuler`], the O(1)-per-step [`crate::ReducedSim`]) implements [`Stepper`]
//! and gets its `run` from it, so stopping, interruption and what observers see are the same
//! for all of them.

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

/// A solver that advances one Euler step at a time. Implement the four required methods and
/// [`Stepper::run`] / [`Stepper::run_recorded`] come with them: stopping, interruption and
/// what observers see are then the same as for the solvers here.
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

    /// Steps until one survivor is left (or none), or until `should_stop()` returns true
    /// (checked before every step). The observer sees the initial state, then every step; it
    /// gets the weights only where [`Observer::wants_weights`] says so (an empty slice
    /// otherwise), so a solver that holds them implicitly stays O(1) per step.
    ///
    /// # Errors
    /// The solver's step error, with the observer holding the run up to that step.
    fn run(
        &mut self,
        observer: &mut impl Observer,
        mut should_stop: impl FnMut() -> bool,
    ) -> Result<RunSummary, CoreError>
    where
        Self: Sized,
    {
        let initial_state = self.stats();
        if observer.wants_weights(&initial_state, &initial_state) {
            observer.start(&initial_state, self.current_weights());
        } else {
            observer.start(&initial_state, &[]);
        }
        let mut before = initial_state;
        while self.m_prime() > 1 {
            if should_stop() {
                return Ok(RunSummary {
                    initial_state,
                    final_state: before,
                    stop: StopReason::Interrupted,
                });
            }
            self.step()?;
            let after = self.stats();
            if observer.wants_weights(&before, &after) {
                observer.step(&before, &after, self.current_weights());
            } else {
                observer.step(&before, &after, &[]);
            }
            before = after;
        }
        let stop = if self.m_prime() == 0 {
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

    /// [`Stepper::run`] into a [`Recorder`], calling [`Recorder::finish`] however the run ends.
    ///
    /// # Errors
    /// As [`Stepper::run`]; the recorder keeps what was recorded before the error.
    fn run_recorded(
        &mut self,
        recorder: &mut Recorder,
        should_stop: impl FnMut() -> bool,
    ) -> Result<RunSummary, CoreError>
    where
        Self: Sized,
    {
        let result = self.run(recorder, should_stop);
        recorder.finish();
        result
    }
}

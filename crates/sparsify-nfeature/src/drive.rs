//! The one run loop of every n-feature solver, telling an [`Observer`].
//!
//! As in `sparsify-core` (`drive.rs`, `record.rs`): a solver implements [`Stepper`]'s few
//! required methods and gets [`Stepper::run`], so stopping, interruption and what observers
//! see are the same for the optimisers ([`crate::Trainer`]) and the gradient flow
//! ([`crate::FlowSim`]).
//!
//! Every [`State`] describes one instant: the weights after `step` updates and the loss at
//! them. For an update `k + 1` that draws noise, the loss at step `k` is evaluated with that
//! update's noise (what the paper prints and the reference's `loss.csv` holds); the last state
//! of a run, however it ends, is evaluated without noise.

use rand::Rng;

use crate::float::Float;
use crate::model::{LossParts, Weights};

/// One instant of a run, as an [`Observer`] sees it.
#[derive(Debug, Clone, Copy)]
pub struct State<'a, T> {
    /// Updates taken so far.
    pub step: u64,
    /// Time: `step * h` for the gradient flow, `step` for the optimisers.
    pub t: f64,
    /// The loss at these weights, summed over instances.
    pub loss: LossParts,
    /// The weights after `step` updates.
    pub weights: &'a Weights<T>,
    /// For the gradient flow, the number of nonzero coordinates of each feature, in
    /// `(instance, feature)` order; `None` for the optimisers.
    pub active: Option<&'a [usize]>,
}

/// Receives the states of a run as it goes: every state from the first to the last, each
/// once, in step order.
pub trait Observer<T> {
    /// Called once per state, in step order.
    fn observe(&mut self, state: &State<'_, T>);
}

/// An observer that ignores everything.
impl<T> Observer<T> for () {
    fn observe(&mut self, _: &State<'_, T>) {}
}

/// Both observers see every call, `A` first.
impl<T, A: Observer<T>, B: Observer<T>> Observer<T> for (A, B) {
    fn observe(&mut self, state: &State<'_, T>) {
        self.0.observe(state);
        self.1.observe(state);
    }
}

/// An observer lent for one run, so that it stays usable afterwards.
impl<T, O: Observer<T> + ?Sized> Observer<T> for &mut O {
    fn observe(&mut self, state: &State<'_, T>) {
        (**self).observe(state);
    }
}

/// Why a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// Every step asked for was taken.
    Completed,
    /// The caller asked to stop (the stop closure returned true).
    Interrupted,
    /// The loss or the weights became NaN or infinite at this step (updates taken); the run
    /// stopped there.
    NonFinite {
        /// The step at which the state was first non-finite.
        step: u64,
    },
}

impl StopReason {
    /// A short name for summaries (`completed`, `interrupted`, `non_finite`).
    pub fn name(self) -> &'static str {
        match self {
            StopReason::Completed => "completed",
            StopReason::Interrupted => "interrupted",
            StopReason::NonFinite { .. } => "non_finite",
        }
    }
}

/// What a finished (or stopped) run reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunSummary {
    /// Updates taken by the solver in total (including earlier runs of the same solver).
    pub steps: u64,
    /// The loss at the first state this run saw.
    pub initial_loss: LossParts,
    /// The loss at the last state (noise-free).
    pub final_loss: LossParts,
    /// Why the run ended.
    pub stop: StopReason,
}

/// A solver that advances one update at a time. Implement the required methods and
/// [`Stepper::run`] comes with them.
pub trait Stepper<T: Float> {
    /// The current weights.
    fn weights(&self) -> &Weights<T>;
    /// Updates taken so far.
    fn steps_taken(&self) -> u64;
    /// The time of the current state (`steps_taken` unless the solver has a step size).
    fn time(&self) -> f64 {
        self.steps_taken() as f64
    }
    /// Per-feature counts of nonzero coordinates, if the solver keeps them.
    fn active(&self) -> Option<&[usize]> {
        None
    }
    /// Draws the next update's noise from `rng`, and computes the gradient and the loss at the
    /// current weights with it. Returns the loss and whether the weights are all finite.
    fn evaluate<R: Rng + ?Sized>(&mut self, rng: &mut R) -> (LossParts, bool);
    /// Applies the update computed by the last [`Stepper::evaluate`].
    fn apply(&mut self);
    /// The loss at the current weights without noise, and whether they are all finite.
    fn loss_now(&mut self) -> (LossParts, bool);

    /// Takes `steps` updates, or fewer if `should_stop()` returns true (polled before every
    /// update) or the state becomes non-finite. The observer sees the state before every
    /// update and the final state; noise vectors are drawn from `rng` in step order.
    fn run<R: Rng + ?Sized>(
        &mut self,
        rng: &mut R,
        steps: u64,
        observer: &mut impl Observer<T>,
        mut should_stop: impl FnMut() -> bool,
    ) -> RunSummary
    where
        Self: Sized,
    {
        let mut initial_loss = None;
        let mut stop = StopReason::Completed;
        for _ in 0..steps {
            if should_stop() {
                stop = StopReason::Interrupted;
                break;
            }
            let (loss, finite) = self.evaluate(rng);
            initial_loss.get_or_insert(loss);
            observer.observe(&State {
                step: self.steps_taken(),
                t: self.time(),
                loss,
                weights: self.weights(),
                active: self.active(),
            });
            if !finite || !loss.total.is_finite() {
                return RunSummary {
                    steps: self.steps_taken(),
                    initial_loss: initial_loss.unwrap_or(loss),
                    final_loss: loss,
                    stop: StopReason::NonFinite {
                        step: self.steps_taken(),
                    },
                };
            }
            self.apply();
        }
        let (loss, finite) = self.loss_now();
        observer.observe(&State {
            step: self.steps_taken(),
            t: self.time(),
            loss,
            weights: self.weights(),
            active: self.active(),
        });
        if !finite || !loss.total.is_finite() {
            stop = StopReason::NonFinite {
                step: self.steps_taken(),
            };
        }
        RunSummary {
            steps: self.steps_taken(),
            initial_loss: initial_loss.unwrap_or(loss),
            final_loss: loss,
            stop,
        }
    }
}

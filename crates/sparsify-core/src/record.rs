//! What a run records, consistently in time.
//!
//! A [`StepStats`] with `step = k` is the state after `k` Euler steps, at `t = k*h`, before step
//! `k + 1`: every field describes that one instant. The published script's history lists mix
//! instants (its `t` and scalars are from before a step, its `m'` and weights from after it);
//! [`ScriptRow`] reproduces that layout for comparison with the script, and nothing else here
//! does.

use crate::schedule::{CheckpointSchedule, script_logs_step};
use crate::sum::SumMode;

/// The state of a run at one instant: after `step` steps, at `t = step*h`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepStats {
    /// Steps taken so far.
    pub step: u64,
    /// Time, `step * h`.
    pub t: f64,
    /// The number of surviving (positive) coordinates `m'`.
    pub m_prime: usize,
    /// `||w||_1`, summed in the run's [`crate::SumMode`].
    pub one_norm: f64,
    /// `||w||_2^2`, summed in the run's [`crate::SumMode`].
    pub sq_norm: f64,
    /// The largest weight (the first survivor); NaN when none is left.
    pub w_max: f64,
    /// The last survivor in order, which is the smallest; NaN when none is left.
    pub w_min: f64,
    /// The survivors' `var/mean^2`: `((sq - one^2/n)/n) / (one/n)^2`, the script's arithmetic.
    pub relative_variance: f64,
    /// The published `gamma` recursion, `gamma <- gamma*(1 + lambda*h/w_max)`, an Euler
    /// approximation of the relative gap `(w_0 - w_1)/w_0` of the two largest weights.
    pub gamma: f64,
    /// The feature benefit `a = 1 - ||w||_2^2`.
    pub feature_benefit: f64,
    /// `sq - one^2/n`, the total squared deviation of the survivors from their mean.
    pub total_squared_deviation: f64,
}

/// The survivors' summary quantities of an Euler-type solver.
pub(crate) struct Sums {
    pub(crate) step: u64,
    pub(crate) h: f64,
    pub(crate) m_prime: usize,
    pub(crate) one_norm: f64,
    pub(crate) sq_norm: f64,
    pub(crate) w_max: f64,
    pub(crate) w_min: f64,
    pub(crate) gamma: f64,
}

impl StepStats {
    /// The state from the survivors' sums, in the published script's arithmetic:
    /// `tsd = sq - one^2/n`, `rho = (tsd/n) / (one/n)^2`, `a = 1 - sq`. The squares are numpy's
    /// `x**2` (libm `pow`) in [`SumMode::Sequential`], where bitwise equality needs them, and
    /// the correctly rounded `x*x` otherwise.
    pub(crate) fn from_sums(s: Sums, sum: SumMode) -> Self {
        let square = match sum {
            SumMode::Sequential => numpy_square,
            SumMode::Pairwise => |x: f64| x * x,
        };
        let n = s.m_prime as f64;
        let average = s.one_norm / n;
        let total_squared_deviation = s.sq_norm - square(s.one_norm) / n;
        StepStats {
            step: s.step,
            t: s.step as f64 * s.h,
            m_prime: s.m_prime,
            one_norm: s.one_norm,
            sq_norm: s.sq_norm,
            w_max: s.w_max,
            w_min: s.w_min,
            relative_variance: (total_squared_deviation / n) / square(average),
            gamma: s.gamma,
            feature_benefit: 1.0 - s.sq_norm,
            total_squared_deviation,
        }
    }
}

/// `x**2` as numpy evaluates it for a float64 scalar: the C library's `pow(x, 2.0)`, which is
/// not always the correctly rounded `x*x` (glibc's pow is accurate to ~0.52 ulp, and the
/// reference runs differ from `x*x` in the last bit at some steps). `black_box` keeps the
/// compiler from rewriting `powf(x, 2.0)` into `x*x`.
fn numpy_square(x: f64) -> f64 {
    x.powf(std::hint::black_box(2.0))
}

/// One entry of the published script's history lists, with its mixed instants: `t`,
/// `one_norm`, `feature_benefit`, `total_squared_deviation` and `relative_variance` are from
/// before step `step + 1`; `m_prime` and `gamma` from after it; and `w_max` from after the
/// *next* step, `step + 2`. That last one is an aliasing quirk of the script: the array it
/// appends to `w_history` is the one the next step's `w += ...` updates in place (before the
/// filter makes a new array), so each logged weight vector is one step later than its `m'`
/// (except the final entry, which no step follows).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScriptRow {
    /// The number of steps taken before this one (the script's `cnt`).
    pub step: u64,
    /// Time before the step.
    pub t: f64,
    /// `m'` after the step.
    pub m_prime: usize,
    /// `||w||_1` before the step.
    pub one_norm: f64,
    /// `1 - ||w||^2` before the step.
    pub feature_benefit: f64,
    /// Total squared deviation before the step.
    pub total_squared_deviation: f64,
    /// Relative variance before the step.
    pub relative_variance: f64,
    /// `gamma` after the step's update.
    pub gamma: f64,
    /// The script's `max(w_history[i])`: the largest weight after the following step (see above).
    pub w_max: f64,
}

/// `m'` changed: after step `step` (at `t = step*h`) there are `m_prime` survivors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeathEvent {
    /// The step after which `m'` changed.
    pub step: u64,
    /// `step * h`.
    pub t: f64,
    /// The number of survivors after that step.
    pub m_prime: usize,
}

/// The surviving weights after a step that the published script logs, for the weight figure.
///
/// Consistent in time, unlike the script's `w_history` (see [`ScriptRow`]): `weights` are the
/// survivors at `t = step*h`.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// Steps taken.
    pub step: u64,
    /// `step * h`.
    pub t: f64,
    /// The number of survivors.
    pub m_prime: usize,
    /// The survivors, descending; thinned to an evenly spaced subset (first and last kept)
    /// when longer than [`RecordConfig::snapshot_cap`].
    pub weights: Vec<f64>,
}

/// Receives the state of a run as it goes.
pub trait Observer {
    /// Called once with the initial state (step 0) and weights, before any step.
    fn start(&mut self, initial: &StepStats, w: &[f64]);
    /// Called after every step with the states before and after it and the weights after it.
    fn step(&mut self, before: &StepStats, after: &StepStats, w: &[f64]);
    /// Whether the coming [`Observer::step`] call for this pair of states reads `w`.
    ///
    /// Solvers that hold the weights only implicitly (the reduced solver, `w_j = alpha*w0_j -
    /// beta`) ask first and pass an empty slice when the answer is no, so that a step stays
    /// O(1); [`crate::EulerSim`] has the weights anyway and always passes them. The default
    /// says yes, which is always correct.
    fn wants_weights(&self, _before: &StepStats, _after: &StepStats) -> bool {
        true
    }
}

/// An observer that ignores everything.
impl Observer for () {
    fn start(&mut self, _: &StepStats, _: &[f64]) {}
    fn step(&mut self, _: &StepStats, _: &StepStats, _: &[f64]) {}
    fn wants_weights(&self, _: &StepStats, _: &StepStats) -> bool {
        false
    }
}

/// Both observers see every call, `A` first.
impl<A: Observer, B: Observer> Observer for (A, B) {
    fn start(&mut self, initial: &StepStats, w: &[f64]) {
        self.0.start(initial, w);
        self.1.start(initial, w);
    }
    fn step(&mut self, before: &StepStats, after: &StepStats, w: &[f64]) {
        self.0.step(before, after, w);
        self.1.step(before, after, w);
    }
    fn wants_weights(&self, before: &StepStats, after: &StepStats) -> bool {
        self.0.wants_weights(before, after) || self.1.wants_weights(before, after)
    }
}

/// An observer lent for one run: `sim.run(&mut (&mut recorder, &mut progress), ..)` keeps
/// both usable afterwards.
impl<O: Observer + ?Sized> Observer for &mut O {
    fn start(&mut self, initial: &StepStats, w: &[f64]) {
        (**self).start(initial, w);
    }
    fn step(&mut self, before: &StepStats, after: &StepStats, w: &[f64]) {
        (**self).step(before, after, w);
    }
    fn wants_weights(&self, before: &StepStats, after: &StepStats) -> bool {
        (**self).wants_weights(before, after)
    }
}

/// The death times of an L1 Euler run, each located inside its step: during a step the
/// smallest survivor `d` moves at the constant rate `a*d - lambda` (`a` the feature benefit
/// before the step), so it crossed 0 at `t + d/(lambda - a*d)`. Only steps that drop exactly
/// one coordinate are recorded (entries `(m' after the death, time)`); without this the
/// recording's quantisation to whole steps (up to `h`) would swamp an O(h) error being measured.
#[derive(Debug, Clone, PartialEq)]
pub struct InterpolatedDeaths {
    lambda: f64,
    /// `(m' after the death, interpolated time)`, in the order the deaths happened.
    pub deaths: Vec<(usize, f64)>,
}

impl InterpolatedDeaths {
    /// An empty record for a run with L1 strength `lambda`.
    pub fn new(lambda: f64) -> Self {
        Self {
            lambda,
            deaths: Vec::new(),
        }
    }
}

impl Observer for InterpolatedDeaths {
    fn start(&mut self, _: &StepStats, _: &[f64]) {}
    fn step(&mut self, before: &StepStats, after: &StepStats, _: &[f64]) {
        if after.m_prime + 1 == before.m_prime {
            let (d, a) = (before.w_min, before.feature_benefit);
            self.deaths
                .push((after.m_prime, before.t + d / (self.lambda - a * d)));
        }
    }
    fn wants_weights(&self, _: &StepStats, _: &StepStats) -> bool {
        false
    }
}

/// Which records a [`Recorder`] keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordConfig {
    /// States at the reference checkpoint schedule ([`CheckpointSchedule`]) and the last step.
    pub checkpoints: bool,
    /// Every step after which `m'` changed.
    pub deaths: bool,
    /// The published script's history rows ([`ScriptRow`]).
    pub script_log: bool,
    /// Weight snapshots at the script's logged steps.
    pub snapshots: bool,
    /// The most weights kept per snapshot (thinned evenly beyond it).
    pub snapshot_cap: usize,
}

impl RecordConfig {
    /// Checkpoints and death events: what `sparsify run` writes.
    pub fn checkpoints_and_deaths() -> Self {
        Self {
            checkpoints: true,
            deaths: true,
            script_log: false,
            snapshots: false,
            snapshot_cap: 0,
        }
    }

    /// Everything, with snapshots thinned to `snapshot_cap` weights each.
    pub fn everything(snapshot_cap: usize) -> Self {
        Self {
            checkpoints: true,
            deaths: true,
            script_log: true,
            snapshots: true,
            snapshot_cap,
        }
    }
}

/// The standard [`Observer`]: keeps the records its [`RecordConfig`] asks for.
#[derive(Debug, Clone)]
pub struct Recorder {
    config: RecordConfig,
    schedule: CheckpointSchedule,
    /// States at the checkpoint schedule, then the final state (no duplicates).
    pub checkpoints: Vec<StepStats>,
    /// Every change of `m'`.
    pub deaths: Vec<DeathEvent>,
    /// The published script's history rows.
    pub script_log: Vec<ScriptRow>,
    /// Weight snapshots at the script's logged steps.
    pub snapshots: Vec<Snapshot>,
    last: Option<StepStats>,
    /// A script row whose `w_max` the next step sets (the script's aliasing quirk).
    script_row_pending: bool,
}

impl Recorder {
    /// An empty recorder.
    pub fn new(config: RecordConfig) -> Self {
        Self {
            config,
            schedule: CheckpointSchedule::new(),
            checkpoints: Vec::new(),
            deaths: Vec::new(),
            script_log: Vec::new(),
            snapshots: Vec::new(),
            last: None,
            script_row_pending: false,
        }
    }

    /// Appends the final state to the checkpoints if it is not there yet. [`crate::Stepper::run`]
    /// calls this when the run ends, however it ends.
    pub fn finish(&mut self) {
        if let Some(last) = self.last
            && self.config.checkpoints
            && self.checkpoints.last().map(|c| c.step) != Some(last.step)
        {
            self.checkpoints.push(last);
        }
    }
}

impl Observer for Recorder {
    fn wants_weights(&self, before: &StepStats, after: &StepStats) -> bool {
        // Only snapshots read the weights, at the script's logged steps.
        self.config.snapshots && (script_logs_step(before.step) || after.m_prime == 1)
    }

    fn start(&mut self, initial: &StepStats, _w: &[f64]) {
        if self.config.checkpoints && self.schedule.contains(initial.step) {
            self.checkpoints.push(*initial);
        }
        self.last = Some(*initial);
    }

    fn step(&mut self, before: &StepStats, after: &StepStats, w: &[f64]) {
        if self.script_row_pending {
            if let Some(row) = self.script_log.last_mut() {
                row.w_max = after.w_max;
            }
            self.script_row_pending = false;
        }
        let c = &self.config;
        if c.checkpoints && self.schedule.contains(after.step) {
            self.checkpoints.push(*after);
        }
        if c.deaths && after.m_prime != before.m_prime {
            self.deaths.push(DeathEvent {
                step: after.step,
                t: after.t,
                m_prime: after.m_prime,
            });
        }
        if (c.script_log || c.snapshots) && (script_logs_step(before.step) || after.m_prime == 1) {
            if c.script_log {
                self.script_log.push(ScriptRow {
                    step: before.step,
                    t: before.t,
                    m_prime: after.m_prime,
                    one_norm: before.one_norm,
                    feature_benefit: before.feature_benefit,
                    total_squared_deviation: before.total_squared_deviation,
                    relative_variance: before.relative_variance,
                    gamma: after.gamma,
                    w_max: after.w_max,
                });
                self.script_row_pending = true;
            }
            if c.snapshots {
                self.snapshots.push(Snapshot {
                    step: after.step,
                    t: after.t,
                    m_prime: after.m_prime,
                    weights: thin(w, c.snapshot_cap),
                });
            }
        }
        self.last = Some(*after);
    }
}

/// At most `cap` (>= 2) evenly spaced elements of `w`, keeping the first and the last.
fn thin(w: &[f64], cap: usize) -> Vec<f64> {
    let cap = cap.max(2);
    if w.len() <= cap {
        return w.to_vec();
    }
    let last = w.len() - 1;
    (0..cap).map(|i| w[i * last / (cap - 1)]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Stepper;

    #[test]
    fn borrowed_observers_compose_and_stay_usable() {
        let w0 = crate::InitialWeights::quantile(200, None).expect("valid");
        let cfg = crate::EulerConfig::new(1e-2, 0.5, crate::SumMode::Sequential).expect("valid");
        let mut a = Recorder::new(RecordConfig::checkpoints_and_deaths());
        let mut b = Recorder::new(RecordConfig::checkpoints_and_deaths());
        let mut sim = crate::EulerSim::new(cfg, w0).expect("stable");
        sim.run(&mut (&mut a, &mut b), || false).expect("runs");
        // Both saw the same run: the same death events, and at least one.
        assert!(!a.deaths.is_empty());
        assert_eq!(a.deaths, b.deaths);
    }

    #[test]
    fn interpolated_deaths_fall_inside_their_step() {
        let w0 = crate::InitialWeights::quantile(50, None).expect("valid");
        let (lambda, h) = (2e-2, 0.1);
        let cfg = crate::EulerConfig::new(lambda, h, crate::SumMode::Sequential).expect("valid");
        let mut sim = crate::EulerSim::new(cfg, w0).expect("stable");
        let mut both = (
            InterpolatedDeaths::new(lambda),
            Recorder::new(RecordConfig::checkpoints_and_deaths()),
        );
        sim.run(&mut both, || false).expect("runs");
        let (interp, rec) = both;
        assert!(!interp.deaths.is_empty());
        for (m_prime, t) in interp.deaths {
            // The recorded event for this m' is at the end of the step that crossed 0.
            let ev = rec
                .deaths
                .iter()
                .find(|e| e.m_prime == m_prime)
                .expect("recorded");
            assert!(
                ev.t - h < t && t <= ev.t,
                "{t} not in ({}, {}]",
                ev.t - h,
                ev.t
            );
        }
    }

    #[test]
    fn thinning_keeps_ends_and_count() {
        let w: Vec<f64> = (0..1000).map(f64::from).collect();
        let t = thin(&w, 10);
        assert_eq!(t.len(), 10);
        assert_eq!((t[0], t[9]), (0.0, 999.0));
        assert!(t.windows(2).all(|p| p[0] < p[1]));
        assert_eq!(thin(&w[..5], 10), w[..5].to_vec());
    }
}

//! One training run of the n-feature model, as `sparsify train` (and a sweep's `train` cell)
//! asks for it: the weights drawn or given, the optimiser or the gradient flow run for a number
//! of updates, and what is recorded on the way (the loss at every step, the paper's metrics
//! every few steps, the weights at chosen steps).
//!
//! The model and its solvers are `sparsify-nfeature`'s; this module only chooses the
//! precision, seeds the streams and records (`docs/theory.md` §7 for the mathematics).
//!
//! # Seeds
//! The initial weights come from `Pcg64::seed_from_u64(seed)` (N(0, 1/m) per entry) unless the
//! caller passes them; the noise vectors, one per update, from a second stream
//! `Pcg64::seed_from_u64(seed ^ NOISE_STREAM)`, so a run with given weights and the same seed
//! draws the same noise.

use std::time::Instant;

use rand::SeedableRng;
use rand_pcg::Pcg64;
use serde::Serialize;
use sparsify_nfeature::metrics::{self, Counts};
use sparsify_nfeature::{
    Float, FlowConfig, FlowSim, LossParts, Noise, Observer, Optimizer, RunSummary, Shape, State,
    Stepper, TrainConfig, Trainer, Weights,
};

use crate::ExperimentError;

/// Mixed into the seed for the noise stream (ASCII "noise"): a different stream from the
/// initial weights' for the same seed.
pub const NOISE_STREAM: u64 = 0x006e_6f69_7365;

/// The floating-point precision a model is trained in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    /// `f32`, as the paper's torch code ran.
    F32,
    /// `f64`, as the reference fixtures were made.
    F64,
}

impl Dtype {
    /// `f32` or `f64`.
    pub fn name(self) -> &'static str {
        match self {
            Dtype::F32 => "f32",
            Dtype::F64 => "f64",
        }
    }
}

/// How the weights move.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Method {
    /// One of torch's optimisers, one update per step (noise, if any, drawn per update).
    Optimizer(Optimizer),
    /// The gradient flow of the same loss with exact zeros, proximal Euler steps of size `h`.
    Flow {
        /// The time step.
        h: f64,
    },
}

impl Method {
    /// `adamw`, `sgd` or `flow`.
    pub fn name(self) -> &'static str {
        match self {
            Method::Optimizer(o) => o.name(),
            Method::Flow { .. } => "flow",
        }
    }
}

/// Everything that defines one training run.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainSpec {
    /// The shape `(instances, n, m)`.
    pub shape: Shape,
    /// The L1 strength `lambda`.
    pub lambda: f64,
    /// Updates to take.
    pub steps: u64,
    /// The seed of the initial weights (unless given) and of the noise.
    pub seed: u64,
    /// The optimiser or the flow.
    pub method: Method,
    /// The hidden-layer noise (none for the flow).
    pub noise: Noise,
    /// The precision.
    pub dtype: Dtype,
    /// Steps (update counts) at which to keep the weights, ascending, each `<= steps`.
    pub save_steps: Vec<u64>,
    /// Record the metrics every this many steps (and at the first and the last), `>= 1`.
    pub record_every: u64,
}

/// The loss after `step` updates, summed over instances.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LossRow {
    /// Updates taken.
    pub step: u64,
    /// `sum (relu(P) - I)^2`.
    pub mse: f64,
    /// `lambda * sum |W|`.
    pub l1_term: f64,
    /// Their sum.
    pub total: f64,
}

/// The metrics after `step` updates (means over instances).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TrajectoryRow {
    /// Updates taken.
    pub step: u64,
    /// Time: `step * h` for the flow, `step` for the optimisers.
    pub t: f64,
    /// The loss parts.
    pub mse: f64,
    /// `lambda * sum |W|`.
    pub l1_term: f64,
    /// Their sum.
    pub total: f64,
    /// The mean over instances and features of `sum_k W_ik^4`.
    pub mean_fourth_norm: f64,
    /// The mean over instances of the number of polysemantic neurons.
    pub mean_polysemantic: f64,
    /// For the flow: the mean number of nonzero coordinates per feature (NaN otherwise).
    pub mean_active: f64,
}

/// What a training run produced.
#[derive(Debug, Clone)]
pub struct TrainOutcome {
    /// The initial weights (as `f64`; exact for an `f32` run).
    pub w0: Weights<f64>,
    /// The weights at the end (as `f64`; exact for an `f32` run).
    pub w_final: Weights<f64>,
    /// Steps, losses and why the run ended.
    pub summary: RunSummary,
    /// The loss after every update, row `k` after `k` updates.
    pub loss: Vec<LossRow>,
    /// The metrics every `record_every` steps and at the end.
    pub trajectory: Vec<TrajectoryRow>,
    /// The weights at the requested steps that were reached, in step order.
    pub saved: Vec<(u64, Weights<f64>)>,
    /// Per-instance counts at the end (the reference's `counts.csv`).
    pub counts: Vec<Counts>,
    /// Wall time of the updates alone, seconds.
    pub train_seconds: f64,
}

/// Checks the parts of a spec that the library's constructors do not: the steps to save and
/// the recording interval.
///
/// # Errors
/// [`ExperimentError::Inconsistent`] naming the problem.
pub fn check_spec(spec: &TrainSpec) -> Result<(), ExperimentError> {
    if spec.record_every == 0 {
        return Err(ExperimentError::Inconsistent(
            "record_every must be at least 1".into(),
        ));
    }
    if let Some(&s) = spec.save_steps.iter().find(|&&s| s > spec.steps) {
        return Err(ExperimentError::Inconsistent(format!(
            "cannot save the weights at step {s}: the run takes {} steps",
            spec.steps
        )));
    }
    if spec.save_steps.windows(2).any(|p| p[0] >= p[1]) {
        return Err(ExperimentError::Inconsistent(
            "the steps to save must be ascending and distinct".into(),
        ));
    }
    if matches!(spec.method, Method::Flow { .. }) && spec.noise != Noise::None {
        return Err(ExperimentError::Inconsistent(
            "the gradient flow has no noise: it is the flow of the noise-free loss".into(),
        ));
    }
    Ok(())
}

/// The initial weights of `spec`: `w0` if given (its shape must be `spec.shape`), else
/// N(0, 1/m) per entry from `Pcg64::seed_from_u64(spec.seed)`.
///
/// # Errors
/// [`ExperimentError::Inconsistent`] if `w0`'s shape differs from the spec's.
pub fn initial_weights(
    spec: &TrainSpec,
    w0: Option<Weights<f64>>,
) -> Result<Weights<f64>, ExperimentError> {
    match w0 {
        Some(w) if w.shape() != spec.shape => Err(ExperimentError::Inconsistent(format!(
            "the initial weights have shape {:?}, the run {:?}",
            w.shape(),
            spec.shape
        ))),
        Some(w) => Ok(w),
        None => Ok(Weights::normal(
            &mut Pcg64::seed_from_u64(spec.seed),
            spec.shape,
        )),
    }
}

/// Runs `spec` from `w0` (or from its seed), telling `progress` the step now and then and
/// stopping early when `stop()` turns true (the outcome then holds the steps taken).
///
/// # Errors
/// An invalid spec (see [`check_spec`]) or an optimiser/flow parameter out of range.
pub fn train(
    spec: &TrainSpec,
    w0: Option<Weights<f64>>,
    progress: &mut dyn FnMut(u64),
    stop: &dyn Fn() -> bool,
) -> Result<TrainOutcome, ExperimentError> {
    check_spec(spec)?;
    let w0 = initial_weights(spec, w0)?;
    match spec.dtype {
        Dtype::F32 => train_typed::<f32>(spec, w0, progress, stop),
        Dtype::F64 => train_typed::<f64>(spec, w0, progress, stop),
    }
}

fn train_typed<T: Float>(
    spec: &TrainSpec,
    w0: Weights<f64>,
    progress: &mut dyn FnMut(u64),
    stop: &dyn Fn() -> bool,
) -> Result<TrainOutcome, ExperimentError> {
    let start_weights: Weights<T> = w0.cast();
    let mut rec = TrainRecorder::<T> {
        spec,
        loss: Vec::with_capacity(usize::try_from(spec.steps).unwrap_or(0).saturating_add(1)),
        trajectory: Vec::new(),
        saved: Vec::new(),
        progress,
        _t: std::marker::PhantomData,
    };
    let mut rng = Pcg64::seed_from_u64(spec.seed ^ NOISE_STREAM);
    let start = Instant::now();
    let (summary, w_final) = match spec.method {
        Method::Optimizer(optimizer) => {
            let cfg = TrainConfig::new(spec.lambda, optimizer, spec.noise)?;
            let mut trainer = Trainer::new(cfg, start_weights);
            let summary = trainer.run(&mut rng, spec.steps, &mut rec, stop);
            rec.record_end(&trainer, &summary);
            (summary, trainer.into_weights())
        }
        Method::Flow { h } => {
            let cfg = FlowConfig::new(spec.lambda, h)?;
            let mut flow = FlowSim::new(cfg, start_weights);
            let summary = flow.run(&mut rng, spec.steps, &mut rec, stop);
            rec.record_end(&flow, &summary);
            (summary, flow.into_weights())
        }
    };
    let train_seconds = start.elapsed().as_secs_f64();
    let w_final = w_final.to_f64();
    let counts = metrics::counts(&w0, &w_final);
    Ok(TrainOutcome {
        loss: rec.loss,
        trajectory: rec.trajectory,
        saved: rec.saved,
        w0,
        w_final,
        summary,
        counts,
        train_seconds,
    })
}

/// Records the loss of every state, the metrics every `record_every` steps and at the last
/// state, and the weights at the requested steps.
struct TrainRecorder<'a, T> {
    spec: &'a TrainSpec,
    loss: Vec<LossRow>,
    trajectory: Vec<TrajectoryRow>,
    saved: Vec<(u64, Weights<f64>)>,
    progress: &'a mut dyn FnMut(u64),
    _t: std::marker::PhantomData<T>,
}

impl<T: Float> Observer<T> for TrainRecorder<'_, T> {
    fn observe(&mut self, state: &State<'_, T>) {
        let LossParts {
            mse,
            l1_term,
            total,
        } = state.loss;
        let step = state.step;
        let last = step == self.spec.steps;
        self.loss.push(LossRow {
            step,
            mse,
            l1_term,
            total,
        });
        if step.is_multiple_of(self.spec.record_every) || last {
            self.record(state);
        }
        if self.spec.save_steps.binary_search(&step).is_ok() {
            self.saved.push((step, state.weights.to_f64()));
        }
        (self.progress)(step);
    }
}

impl<T: Float> TrainRecorder<'_, T> {
    /// A run stopped early (interrupted, or non-finite) ends at a step off the recording grid:
    /// its last state is recorded too, so the trajectory always ends where the run did.
    fn record_end(&mut self, solver: &impl Stepper<T>, summary: &RunSummary) {
        if self.trajectory.last().map(|r| r.step) != Some(summary.steps) {
            self.record(&State {
                step: summary.steps,
                t: solver.time(),
                loss: summary.final_loss,
                weights: solver.weights(),
                active: solver.active(),
            });
        }
    }

    fn record(&mut self, state: &State<'_, T>) {
        let polysemantic = metrics::polysemantic_counts(state.weights);
        let fourth = metrics::mean_fourth_norm(state.weights);
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
        let mean_active = state.active.map_or(f64::NAN, |a| {
            a.iter().map(|&x| x as f64).sum::<f64>() / a.len().max(1) as f64
        });
        self.trajectory.push(TrajectoryRow {
            step: state.step,
            t: state.t,
            mse: state.loss.mse,
            l1_term: state.loss.l1_term,
            total: state.loss.total,
            mean_fourth_norm: mean(&fourth),
            mean_polysemantic: polysemantic.iter().sum::<usize>() as f64
                / polysemantic.len().max(1) as f64,
            mean_active,
        });
    }
}

/// Mean and population standard deviation (ddof 0, as the reference's `meta.json`) of `xs`.
pub fn mean_std(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// The paper's prediction `n^2 / 4m` of the number of polysemantic neurons.
pub fn n2_over_4m(n: usize, m: usize) -> f64 {
    (n as f64).powi(2) / (4.0 * m as f64)
}

/// The birthday count `n(n-1) / 4m`: half the expected pairs sharing an initial argmax.
pub fn n_n_minus_1_over_4m(n: usize, m: usize) -> f64 {
    n as f64 * (n as f64 - 1.0) / (4.0 * m as f64)
}

#[cfg(test)]
mod tests {
    use sparsify_nfeature::{AdamWParams, SgdParams, StopReason};

    use super::*;

    fn spec(method: Method, dtype: Dtype) -> TrainSpec {
        TrainSpec {
            shape: Shape::new(2, 4, 8).unwrap(),
            lambda: 1e-2,
            steps: 20,
            seed: 3,
            method,
            noise: Noise::None,
            dtype,
            save_steps: vec![0, 5, 20],
            record_every: 10,
        }
    }

    #[test]
    fn records_every_step_the_grid_and_the_saved_weights() {
        let s = spec(
            Method::Optimizer(Optimizer::AdamW(AdamWParams::default())),
            Dtype::F64,
        );
        let out = train(&s, None, &mut |_| {}, &|| false).unwrap();
        assert_eq!(out.summary.stop, StopReason::Completed);
        let steps: Vec<u64> = out.loss.iter().map(|r| r.step).collect();
        assert_eq!(steps, (0..=20).collect::<Vec<_>>());
        let grid: Vec<u64> = out.trajectory.iter().map(|r| r.step).collect();
        assert_eq!(grid, [0, 10, 20]);
        let saved: Vec<u64> = out.saved.iter().map(|(k, _)| *k).collect();
        assert_eq!(saved, [0, 5, 20]);
        assert_eq!(out.saved[0].1, out.w0, "step 0 is the initial weights");
        assert_eq!(
            out.saved[2].1, out.w_final,
            "the last step is the final weights"
        );
        assert_eq!(out.counts.len(), 2);
        assert!(
            out.trajectory[0].mean_active.is_nan(),
            "no active sets for AdamW"
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_run_and_another_seed_another() {
        let s = spec(
            Method::Optimizer(Optimizer::Sgd(SgdParams::new(0.02).unwrap())),
            Dtype::F32,
        );
        let a = train(&s, None, &mut |_| {}, &|| false).unwrap();
        let b = train(&s, None, &mut |_| {}, &|| false).unwrap();
        assert_eq!(a.w_final, b.w_final);
        let mut other = s.clone();
        other.seed = 4;
        let c = train(&other, None, &mut |_| {}, &|| false).unwrap();
        assert_ne!(a.w0, c.w0);
    }

    #[test]
    fn the_flow_records_its_active_coordinates_and_a_stop_keeps_what_was_done() {
        let s = spec(Method::Flow { h: 0.05 }, Dtype::F64);
        let polls = std::cell::Cell::new(0);
        let out = train(&s, None, &mut |_| {}, &|| {
            polls.set(polls.get() + 1);
            polls.get() > 7
        })
        .unwrap();
        assert_eq!(out.summary.stop, StopReason::Interrupted);
        assert_eq!(out.summary.steps, 7);
        let last = out.trajectory.last().unwrap();
        assert_eq!(last.step, 7, "an early stop records its last state");
        assert!(last.mean_active > 0.0 && last.mean_active <= 8.0);
        assert_eq!(out.loss.len(), 8);
    }

    #[test]
    fn bad_specs_are_refused() {
        let mut s = spec(Method::Flow { h: 0.05 }, Dtype::F64);
        s.save_steps = vec![30];
        assert!(train(&s, None, &mut |_| {}, &|| false).is_err());
        s.save_steps = vec![5, 5];
        assert!(train(&s, None, &mut |_| {}, &|| false).is_err());
        s.save_steps = vec![];
        s.noise = Noise::Gaussian { sigma: 0.1 };
        assert!(train(&s, None, &mut |_| {}, &|| false).is_err());
        s.noise = Noise::None;
        s.record_every = 0;
        assert!(train(&s, None, &mut |_| {}, &|| false).is_err());
        s.record_every = 1;
        let wrong = Weights::normal(&mut Pcg64::seed_from_u64(0), Shape::new(1, 4, 8).unwrap());
        assert!(train(&s, Some(wrong), &mut |_| {}, &|| false).is_err());
    }
}

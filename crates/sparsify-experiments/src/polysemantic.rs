//! Polysemantic neurons against `m`: the n-feature model trained at one `n` and several `m`,
//! its counts beside the three null models of `docs/theory.md` §8 (`n^2/4m`, the occupancy
//! model and the relocation model), and the fraction of features that end on their initial
//! argmax neuron.
//!
//! This is the shared routine behind claims 14-16 and the figures `polysemantic_vs_m` and
//! `winner_vs_initial_argmax`: [`polysemantic_vs_m`] trains, for each `m` of a
//! [`PolysemanticSpec`], `instances` independent models from one set of initial weights
//! (the same for every [`Training`] with the same seed, so the flow and AdamW are compared on
//! the same `W0`), and returns one [`MPoint`] per `m`:
//!
//! - the measured count of polysemantic neurons per instance (a neuron with at least two
//!   features whose `|W|` is in `[0.8, 1.2]`, §8.1) and the fraction of features whose final
//!   argmax neuron is their initial one;
//! - the relocation model (§8.10) fed each instance's actual `W0`: its count, and the fraction
//!   of features the trained model put on the neuron the model assigns;
//! - the closed forms `n^2/4m`, `n(n-1)/2m` (initial-argmax collisions, §8.3) and the occupancy
//!   model's exact mean and standard deviation (§8.6-§8.7);
//! - the relocation model's band for the *mean over `instances` instances*: the central
//!   `coverage` interval of the mean of `instances` counts drawn (with replacement) from a pool
//!   of `draws` relocation counts of random `W0` (§8.10, "as a distribution").
//!
//! # Seeds
//! The initial weights at `m` come from `Pcg64::seed_from_u64(w0_seed(seed, m))`, entry by
//! entry `N(0, 1/m)` ([`Weights::normal`]); the band's pool from
//! `Pcg64::seed_from_u64(seed ^ BAND_STREAM ^ m)`, its resampling from the same generator
//! afterwards. Everything is deterministic given the spec, and independent of the thread count
//! (instances run in parallel, each sequentially).
//!
//! # Cost (measured on the shared 2-core machine while other builds ran; CPU seconds)
//! The flow (`h = 0.1`, settling by `t ~ 4,000..7,500`): `n = 16`, 8 instances,
//! `m = 16, 32, 64, 128`: 5.6 s in all; `n = 256`, `m = 1024`: about 150 s per instance, most
//! of it the dense steps before the rows sparsify (`t ~ 500`, 30 ms a step). AdamW as the
//! paper (7,500 steps, f32): `n = 16`, 8 instances, the same four `m`: 2.9 s; `n = 32`, 16
//! instances, `m = 32..256`: about a minute; `n = 64`, `m = 512`, 16 instances: about 110 s
//! wall; `n = 256`, `m = 1024`: about 0.09 s a step for 16 instances (11 minutes). The
//! relocation band costs `draws` normal draws of `n m` entries per `m`, about a second for
//! 400 draws at `n = 256`, `m = 1024`.
//!
//! # References
//! docs/theory.md §8 (the models and what they assume), §7.4-§7.6 (AdamW and the proximal
//! flow).

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64;
use rayon::prelude::*;
use sparsify_nfeature::metrics::{self, Counts};
use sparsify_nfeature::{
    AdamWParams, FlowConfig, FlowSim, Noise, Observer, Optimizer, SgdParams, Shape, State, Stepper,
    StopReason, Weights,
};
use sparsify_theory::collisions::relocation::{relocate, relocation_band};
use sparsify_theory::collisions::{CountKind, CountModel};

use crate::ExperimentError;
use crate::train::{Dtype, Method, TrainSpec, mean_std, n2_over_4m, train};

/// Mixed into the seed for the relocation band's pool (ASCII "band"), so the pool is a
/// different stream from the trained models' initial weights.
pub const BAND_STREAM: u64 = 0x6261_6e64;

/// The seed of the initial weights at `m`: `seed + 1_000_003 m` (wrapping), so that every `m`
/// of a sweep draws its own weights and a given `(seed, m)` always the same ones.
pub fn w0_seed(seed: u64, m: usize) -> u64 {
    seed.wrapping_add((m as u64).wrapping_mul(1_000_003))
}

/// How the models are trained.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Training {
    /// torch's AdamW with its defaults (lr `1e-3`, weight decay `0.01`), as the paper trains:
    /// `steps` updates in `dtype`.
    AdamW {
        /// Updates (the paper: 7,500).
        steps: u64,
        /// Precision (the paper: f32).
        dtype: Dtype,
    },
    /// Plain SGD with learning rate `lr`, `steps` updates, in f64.
    Sgd {
        /// The learning rate.
        lr: f64,
        /// Updates.
        steps: u64,
    },
    /// The gradient flow with exact zeros (proximal Euler, step `h`, f64), run until it has
    /// *settled*, plus [`SETTLE_TIME`], or until time `t_max`. Settled means every feature of
    /// every instance has at most one nonzero coordinate: from then on no coordinate can
    /// revive (the force on a dead coordinate `(a, k)` needs a feature `b` with a positive
    /// overlap with `a` and `W_bk != 0`, impossible when both are 1-sparse on other neurons,
    /// and a same-sign pair on one neuron only shrinks one of them, docs/theory.md §7.5 and
    /// §7.10), so the support is final and only the magnitudes still move, at rate 8 per unit
    /// of `t` towards `1 - lambda/8`.
    Flow {
        /// The time step; below about `0.1` for stability at `n/m` near 1/4 (0.2 diverges at
        /// `n = 256, m = 1024` in the first steps, while `W` is dense).
        h: f64,
        /// The time at which to stop if it has not settled.
        t_max: f64,
    },
}

/// Time the flow runs on after it has settled, for the magnitudes to converge: a lone 1-sparse
/// feature approaches `|u| = 1` at rate `8 (1 - u^2)` (docs/theory.md §7.8), so from
/// `|u| = 1e-3` it is within `1e-6` of its fixed point after about 3 units of time; 20 is a
/// margin of more than 5.
pub const SETTLE_TIME: f64 = 20.0;

impl Training {
    /// The paper's training: AdamW, lr `1e-3`, weight decay `0.01`, 7,500 steps, float32.
    pub fn paper_adamw() -> Self {
        Training::AdamW {
            steps: 7_500,
            dtype: Dtype::F32,
        }
    }

    /// The flow as the claims run it: `h = 0.1`, stopped once settled or at `t = 10,000`
    /// (measured: settled between `t = 3,900` and `8,800` at `n = 16..64`; not every instance
    /// by `t = 10,000` at `n = 256`, `m = 1024`).
    pub fn flow() -> Self {
        Training::Flow {
            h: 0.1,
            t_max: 10_000.0,
        }
    }

    /// `adamw`, `sgd` or `flow`.
    pub fn name(&self) -> &'static str {
        match self {
            Training::AdamW { .. } => "adamw",
            Training::Sgd { .. } => "sgd",
            Training::Flow { .. } => "flow",
        }
    }
}

/// The relocation model's band for the mean over instances.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandSpec {
    /// Random `W0` relocated for the pool (per `m`), `>= 1`.
    pub draws: usize,
    /// Means of `instances` pool counts drawn with replacement, `>= 1`.
    pub resamples: usize,
    /// The central probability of the band, in `(0, 1)`: the band is the
    /// `[(1 - coverage)/2, (1 + coverage)/2]` quantiles of the resampled means.
    pub coverage: f64,
}

impl Default for BandSpec {
    /// 400 draws, 4,000 resamples, the central 99%.
    fn default() -> Self {
        Self {
            draws: 400,
            resamples: 4_000,
            coverage: 0.99,
        }
    }
}

/// What to run.
#[derive(Debug, Clone, PartialEq)]
pub struct PolysemanticSpec {
    /// Features.
    pub n: usize,
    /// The numbers of neurons, each `>= 1`.
    pub ms: Vec<usize>,
    /// Independent models per `m`.
    pub instances: usize,
    /// L1 strength (the paper: `1e-3`).
    pub lambda: f64,
    /// Seed of the initial weights (see [`w0_seed`]) and of the band.
    pub seed: u64,
    /// How the models are trained.
    pub training: Training,
    /// The relocation band.
    pub band: BandSpec,
}

/// The measurements and predictions at one `m`.
#[derive(Debug, Clone, PartialEq)]
pub struct MPoint {
    /// Neurons.
    pub m: usize,
    /// The paper's `n^2/4m`.
    pub n2_over_4m: f64,
    /// `n(n-1)/2m`, the expected initial-argmax collisions (pairs).
    pub initial_collisions_mean: f64,
    /// The occupancy model's exact mean.
    pub occupancy_mean: f64,
    /// The occupancy model's exact standard deviation (one instance).
    pub occupancy_std: f64,
    /// The mean of the band's pool (the relocation model's mean count over random `W0`).
    pub relocation_mean: f64,
    /// The population standard deviation of the pool (one instance).
    pub relocation_std: f64,
    /// The band for the mean over `instances` instances (see [`BandSpec`]).
    pub band: (f64, f64),
    /// Per instance, the trained model's counts ([`Counts`]; polysemantic neurons, initial
    /// collisions, winner fraction).
    pub counts: Vec<Counts>,
    /// Per instance, the relocation model's count for that instance's `W0`.
    pub relocation: Vec<usize>,
    /// Per (instance, feature), in that order: the neuron the relocation model assigns
    /// (`None`: unplaced).
    pub relocation_neurons: Vec<Option<usize>>,
    /// Per (instance, feature): the initial argmax neuron (largest `|W0|`, first on ties).
    pub initial_argmax: Vec<usize>,
    /// Per (instance, feature): the final argmax neuron (largest `|W|`, first on ties; neuron
    /// 0 for a feature whose row is all zero, as the paper's numpy `argmax` has it).
    pub final_argmax: Vec<usize>,
    /// Per instance, the fraction of features whose final argmax neuron is the one the
    /// relocation model assigns them (a feature the model leaves unplaced counts as a miss).
    pub relocation_neuron_agreement: Vec<f64>,
    /// Updates taken (the flow: the largest over instances, each of which stops on its own).
    pub steps: u64,
    /// The time reached (`steps h` for the flow, the largest over instances; `steps` for the
    /// optimisers).
    pub t_end: f64,
    /// For the flow, the latest time at which an instance settled (`None`: some instance did
    /// not settle by `t_max`, or an optimiser).
    pub settled_at: Option<f64>,
    /// Wall time of the training, seconds.
    pub train_seconds: f64,
}

impl MPoint {
    /// The measured polysemantic counts, per instance.
    pub fn polysemantic(&self) -> Vec<usize> {
        self.counts.iter().map(|c| c.polysemantic).collect()
    }

    /// The mean and population standard deviation of the measured count over instances.
    pub fn polysemantic_mean_std(&self) -> (f64, f64) {
        let v: Vec<f64> = self.counts.iter().map(|c| c.polysemantic as f64).collect();
        mean_std(&v)
    }

    /// The mean and population standard deviation over instances of the fraction of features
    /// whose final argmax is their initial argmax.
    pub fn winner_mean_std(&self) -> (f64, f64) {
        let v: Vec<f64> = self
            .counts
            .iter()
            .map(|c| c.winner_is_initial_argmax_fraction)
            .collect();
        mean_std(&v)
    }

    /// The mean over instances of the relocation model's count on the actual `W0`s.
    pub fn relocation_on_w0_mean(&self) -> f64 {
        let v: Vec<f64> = self.relocation.iter().map(|&c| c as f64).collect();
        mean_std(&v).0
    }

    /// Whether the measured mean count lies in the band (inclusive); false for a NaN.
    pub fn mean_in_band(&self) -> bool {
        let (mean, _) = self.polysemantic_mean_std();
        mean >= self.band.0 && mean <= self.band.1
    }
}

/// Trains `spec` at every `m` and measures each (module documentation).
///
/// # Errors
/// [`ExperimentError::Inconsistent`] for `n`, an `m` or `instances` of 0, an empty `ms`, a bad
/// band spec, or a run that did not complete (non-finite weights); an optimiser or flow
/// parameter out of range; a theory error.
///
/// # References
/// docs/theory.md §8.
pub fn polysemantic_vs_m(spec: &PolysemanticSpec) -> Result<Vec<MPoint>, ExperimentError> {
    check(spec)?;
    spec.ms.iter().map(|&m| measure_at(spec, m)).collect()
}

fn check(spec: &PolysemanticSpec) -> Result<(), ExperimentError> {
    let bad = |s: &str| Err(ExperimentError::Inconsistent(s.to_owned()));
    if spec.n == 0 || spec.instances == 0 {
        return bad("n and instances must be at least 1");
    }
    if spec.ms.is_empty() || spec.ms.contains(&0) {
        return bad("ms must be a non-empty list of neuron counts >= 1");
    }
    let b = spec.band;
    if b.draws == 0 || b.resamples == 0 || !(b.coverage > 0.0 && b.coverage < 1.0) {
        return bad("the band needs draws >= 1, resamples >= 1 and 0 < coverage < 1");
    }
    Ok(())
}

/// Every measurement at one `m`.
fn measure_at(spec: &PolysemanticSpec, m: usize) -> Result<MPoint, ExperimentError> {
    let n = spec.n;
    let shape = Shape::new(spec.instances, n, m)?;
    let w0 = Weights::<f64>::normal(&mut Pcg64::seed_from_u64(w0_seed(spec.seed, m)), shape);
    let run = train_one(spec, &w0)?;
    let finals = metrics::argmax_neurons(&run.w_final);
    let mut relocation = Vec::with_capacity(spec.instances);
    let mut relocation_neurons = Vec::with_capacity(spec.instances * n);
    let mut agreement = Vec::with_capacity(spec.instances);
    for i in 0..spec.instances {
        let model = relocate(w0.instance(i), n, m)?;
        relocation.push(model.polysemantic());
        relocation_neurons.extend_from_slice(model.neuron());
        let same = model
            .neuron()
            .iter()
            .zip(&finals[i * n..(i + 1) * n])
            .filter(|&(&r, &f)| r == Some(f))
            .count();
        agreement.push(same as f64 / n as f64);
    }
    let occupancy = CountModel::new(CountKind::Polysemantic, n, m)?;
    let collisions = CountModel::new(CountKind::Collisions, n, m)?;
    let (relocation_mean, relocation_std, band) = band_of_mean(spec, m)?;
    Ok(MPoint {
        m,
        n2_over_4m: n2_over_4m(n, m),
        initial_collisions_mean: collisions.mean(),
        occupancy_mean: occupancy.mean(),
        occupancy_std: occupancy.std_dev(),
        relocation_mean,
        relocation_std,
        band,
        counts: metrics::counts(&w0, &run.w_final),
        relocation_neuron_agreement: agreement,
        relocation,
        relocation_neurons,
        initial_argmax: metrics::argmax_neurons(&w0),
        final_argmax: finals,
        steps: run.steps,
        t_end: run.t_end,
        settled_at: run.settled_at,
        train_seconds: run.seconds,
    })
}

/// The pool's mean and standard deviation, and the central `coverage` band of the mean of
/// `instances` counts resampled from it.
fn band_of_mean(
    spec: &PolysemanticSpec,
    m: usize,
) -> Result<(f64, f64, (f64, f64)), ExperimentError> {
    let b = spec.band;
    let mut rng = Pcg64::seed_from_u64(spec.seed ^ BAND_STREAM ^ m as u64);
    let pool = relocation_band(&mut rng, spec.n, m, b.draws)?;
    let counts = pool.counts();
    let mut means: Vec<f64> = (0..b.resamples)
        .map(|_| {
            let sum: usize = (0..spec.instances)
                .map(|_| counts[rng.random_range(0..counts.len())])
                .sum();
            sum as f64 / spec.instances as f64
        })
        .collect();
    means.sort_by(f64::total_cmp);
    let q = |p: f64| {
        // The smallest resampled mean with at least a fraction p at or below it.
        let rank = ((p * means.len() as f64).ceil() as usize).clamp(1, means.len());
        means[rank - 1]
    };
    let tail = (1.0 - b.coverage) / 2.0;
    Ok((pool.mean(), pool.std_dev(), (q(tail), q(1.0 - tail))))
}

/// One trained batch of instances.
struct Run {
    w_final: Weights<f64>,
    steps: u64,
    t_end: f64,
    settled_at: Option<f64>,
    seconds: f64,
}

fn train_one(spec: &PolysemanticSpec, w0: &Weights<f64>) -> Result<Run, ExperimentError> {
    let start = std::time::Instant::now();
    let optimizer_run = |optimizer: Optimizer, steps: u64, dtype: Dtype| {
        let t = TrainSpec {
            shape: w0.shape(),
            lambda: spec.lambda,
            steps,
            seed: spec.seed,
            method: Method::Optimizer(optimizer),
            noise: Noise::None,
            dtype,
            save_steps: Vec::new(),
            record_every: steps.max(1),
        };
        let out = train(&t, Some(w0.clone()), &mut |_| {}, &|| false)?;
        completed(out.summary.stop)?;
        Ok::<_, ExperimentError>(Run {
            w_final: out.w_final,
            steps: out.summary.steps,
            t_end: out.summary.steps as f64,
            settled_at: None,
            seconds: start.elapsed().as_secs_f64(),
        })
    };
    match spec.training {
        Training::AdamW { steps, dtype } => {
            optimizer_run(Optimizer::AdamW(AdamWParams::default()), steps, dtype)
        }
        Training::Sgd { lr, steps } => {
            optimizer_run(Optimizer::Sgd(SgdParams::new(lr)?), steps, Dtype::F64)
        }
        Training::Flow { h, t_max } => {
            let cfg = FlowConfig::new(spec.lambda, h)?;
            if !(t_max.is_finite() && t_max > 0.0) {
                return Err(ExperimentError::Inconsistent(format!(
                    "the flow's t_max must be finite and > 0, not {t_max}"
                )));
            }
            // Each instance runs alone (in parallel), so each stops when it has settled.
            let shape = w0.shape();
            let one = Shape::new(1, shape.n, shape.m)?;
            let runs: Vec<Result<FlowRun, ExperimentError>> = (0..shape.instances)
                .into_par_iter()
                .map(|i| {
                    let w = Weights::from_vec(one, w0.instance(i).to_vec())?;
                    flow_until_settled(cfg, t_max, w)
                })
                .collect();
            let mut data = Vec::with_capacity(shape.len());
            let (mut steps, mut t_end, mut settled_at) = (0, 0.0_f64, Some(0.0_f64));
            for run in runs {
                let run = run?;
                data.extend_from_slice(run.w_final.as_slice());
                steps = steps.max(run.steps);
                t_end = t_end.max(run.t_end);
                settled_at = match (settled_at, run.settled_at) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                };
            }
            Ok(Run {
                w_final: Weights::from_vec(shape, data)?,
                steps,
                t_end,
                settled_at,
                seconds: start.elapsed().as_secs_f64(),
            })
        }
    }
}

/// One instance's flow.
struct FlowRun {
    w_final: Weights<f64>,
    steps: u64,
    t_end: f64,
    settled_at: Option<f64>,
}

/// Runs one instance's flow until it has settled plus [`SETTLE_TIME`], or to `t_max`.
fn flow_until_settled(
    cfg: FlowConfig,
    t_max: f64,
    w0: Weights<f64>,
) -> Result<FlowRun, ExperimentError> {
    let mut flow = FlowSim::new(cfg, w0);
    let watch = Settle::default();
    // ceil(t_max / h) steps at most; the stop closure ends it earlier once settled.
    let max_steps = (t_max / cfg.h()).ceil() as u64;
    let summary = flow.run(
        &mut Pcg64::seed_from_u64(0),
        max_steps,
        &mut SettleObserver(&watch),
        || {
            watch
                .settled_at
                .get()
                .is_some_and(|s| watch.t.get() >= s + SETTLE_TIME)
        },
    );
    completed(summary.stop)?;
    let t_end = flow.time();
    Ok(FlowRun {
        w_final: flow.into_weights(),
        steps: summary.steps,
        t_end,
        settled_at: watch.settled_at.get(),
    })
}

fn completed(stop: StopReason) -> Result<(), ExperimentError> {
    match stop {
        StopReason::Completed | StopReason::Interrupted => Ok(()),
        StopReason::NonFinite { step } => Err(ExperimentError::Inconsistent(format!(
            "the weights became non-finite at update {step}: lower the flow's h or the lr"
        ))),
    }
}

/// When the flow first had every feature at most 1-sparse, and the time now.
#[derive(Default)]
struct Settle {
    settled_at: std::cell::Cell<Option<f64>>,
    t: std::cell::Cell<f64>,
}

struct SettleObserver<'a>(&'a Settle);

impl<T> Observer<T> for SettleObserver<'_> {
    fn observe(&mut self, state: &State<'_, T>) {
        self.0.t.set(state.t);
        if self.0.settled_at.get().is_none()
            && state.active.is_some_and(|a| a.iter().all(|&x| x <= 1))
        {
            self.0.settled_at.set(Some(state.t));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(training: Training) -> PolysemanticSpec {
        PolysemanticSpec {
            n: 8,
            ms: vec![16, 32],
            instances: 4,
            lambda: 1e-3,
            seed: 5,
            training,
            band: BandSpec {
                draws: 50,
                resamples: 200,
                coverage: 0.9,
            },
        }
    }

    #[test]
    fn the_flow_settles_and_every_point_is_complete() {
        let points = polysemantic_vs_m(&spec(Training::flow())).unwrap();
        assert_eq!(points.len(), 2);
        for p in &points {
            assert_eq!(p.counts.len(), 4);
            assert_eq!(p.relocation.len(), 4);
            assert_eq!(p.relocation_neuron_agreement.len(), 4);
            let settled = p.settled_at.expect("n = 8 settles well before t = 10,000");
            // The last instance stops SETTLE_TIME after it settled, to within one step.
            assert!(
                (p.t_end - settled - SETTLE_TIME).abs() <= 0.1 + 1e-9,
                "{p:?}"
            );
            assert!(p.band.0 <= p.relocation_mean && p.relocation_mean <= p.band.1);
            // At most n/2 polysemantic neurons (each needs two of the n features).
            assert!(p.counts.iter().all(|c| c.polysemantic <= 4));
        }
    }

    #[test]
    fn flow_and_adamw_share_the_initial_weights_and_the_band() {
        let f = polysemantic_vs_m(&spec(Training::flow())).unwrap();
        let a = polysemantic_vs_m(&spec(Training::AdamW {
            steps: 50,
            dtype: Dtype::F32,
        }))
        .unwrap();
        for (x, y) in f.iter().zip(&a) {
            assert_eq!(x.relocation, y.relocation, "same W0, same model count");
            assert_eq!(x.band, y.band);
            assert_eq!(
                x.counts
                    .iter()
                    .map(|c| c.initial_collisions)
                    .collect::<Vec<_>>(),
                y.counts
                    .iter()
                    .map(|c| c.initial_collisions)
                    .collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn bad_specs_are_refused() {
        let mut s = spec(Training::flow());
        s.ms = vec![];
        assert!(polysemantic_vs_m(&s).is_err());
        s.ms = vec![0];
        assert!(polysemantic_vs_m(&s).is_err());
        s.ms = vec![16];
        s.band.coverage = 1.0;
        assert!(polysemantic_vs_m(&s).is_err());
        s.band.coverage = 0.9;
        s.training = Training::Flow {
            h: 0.1,
            t_max: f64::NAN,
        };
        assert!(polysemantic_vs_m(&s).is_err());
    }
}

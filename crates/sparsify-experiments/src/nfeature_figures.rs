//! Figures of the n-feature model (issue 10), for `cargo xtask figures`.
//!
//! - `fourth_norm_by_noise`: the paper's noise experiment (`experiments/fourth_norm.py`): SGD
//!   with `lambda = 0`, Bernoulli against Gaussian hidden-layer noise at several `sigma`; the
//!   mean over instances of the per-instance mean fourth norm `(1/n) sum_a sum_k W_ak^4`
//!   against the step, with a 95% band, on log axes (`docs/theory.md` §7.9, §8.1).
//! - `weight_correlations`: the instance mean of the correlation between feature `a`'s initial
//!   encoding and feature `b`'s final one, as an `n x n` heatmap (§8.2: the winner-take-all
//!   story says the final encoding of `a` is its initial argmax neuron, so the diagonal).
//!
//! - `polysemantic_vs_m`: the paper's collisions figure: the polysemantic-neuron count's mean
//!   and standard deviation over instances against `m`, for the gradient flow and AdamW from
//!   the same initial weights, beside `n^2/4m`, the occupancy model's mean and the relocation
//!   model's band for the mean (§8.3-§8.10).
//! - `winner_vs_initial_argmax`: from the same runs, the fraction of features whose final
//!   argmax neuron is their initial one, against `m/n` (§8.2; 1 if nothing interfered).
//!
//! The data routines ([`fourth_norm_curves`], [`weight_correlations`], [`collision_runs`]) are
//! separate from the figure assembly so the claims (18) and the tests can use the numbers.

use rand::SeedableRng;
use rand_pcg::Pcg64;
use rayon::prelude::*;
use sparsify_nfeature::metrics::mean_fourth_norm;
use sparsify_nfeature::{
    Float, Noise, Observer, Optimizer, SgdParams, Shape, State, Stepper, StopReason, TrainConfig,
    Trainer, Weights,
};
use sparsify_plot::{Axis, Band, ColourMap, Figure, Heatmap, LegendPos, Rgb, Series};

use crate::ExperimentError;
use crate::figure_sweeps::CollisionRow;
use crate::polysemantic::{BandSpec, MPoint, PolysemanticSpec, Training, polysemantic_vs_m};
use crate::train::{Dtype, Method, NOISE_STREAM, TrainSpec, n2_over_4m, train};
use sparsify_theory::collisions::{CountKind, CountModel};

/// Two-sided 97.5% quantiles of Student's t with 1..=30 degrees of freedom (standard tables,
/// e.g. Abramowitz and Stegun, Table 26.10), for the 95% band of a mean over few instances.
const T_975: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
];

/// The half-width factor `t_{0.975, k - 1} / sqrt(k)` of a 95% t-interval for the mean of `k`
/// samples (1.96 beyond 31 samples; NaN for fewer than 2).
pub fn t_half_width_factor(k: usize) -> f64 {
    if k < 2 {
        return f64::NAN;
    }
    let t = T_975.get(k - 2).copied().unwrap_or(1.96);
    t / (k as f64).sqrt()
}

/// The paper's noise experiment, or a smaller one of the same kind.
#[derive(Debug, Clone, PartialEq)]
pub struct NoiseStudy {
    /// Instances (trained side by side, sharing the noise sequence as the paper's code does).
    pub instances: usize,
    /// Features.
    pub n: usize,
    /// Neurons.
    pub m: usize,
    /// SGD's learning rate.
    pub lr: f64,
    /// Updates per run.
    pub steps: u64,
    /// The noise amplitudes, each run for Bernoulli and for Gaussian noise.
    pub sigmas: Vec<f64>,
    /// The seed of the initial weights (shared by every run, as the reference's `w0.npy`) and
    /// of the noise.
    pub seed: u64,
    /// Recorded steps per decade (geometric grid, plus step 0 and the last).
    pub per_decade: usize,
}

impl NoiseStudy {
    /// The paper's sizes (`n = 8`, `m = 16`, 5 instances, SGD lr 0.02, `sigma` in
    /// {0.07, 0.1, 0.15}) run for `steps` updates.
    pub fn paper(steps: u64) -> Self {
        Self {
            instances: 5,
            n: 8,
            m: 16,
            lr: 0.02,
            steps,
            sigmas: vec![0.07, 0.1, 0.15],
            seed: 13,
            per_decade: 20,
        }
    }
}

/// One run's fourth norms: for each recorded step, the per-instance mean fourth norm.
#[derive(Debug, Clone, PartialEq)]
pub struct FourthNormCurve {
    /// The noise of this run.
    pub noise: Noise,
    /// The recorded steps, ascending (0 first).
    pub steps: Vec<u64>,
    /// `values[j][i]`: instance `i`'s mean over features of `sum_k W_ak^4` after `steps[j]`.
    pub values: Vec<Vec<f64>>,
    /// How the run ended.
    pub stop: StopReason,
}

impl FourthNormCurve {
    /// `(step, mean over instances, lower, upper)` of the 95% t-band for every recorded step.
    pub fn mean_and_band(&self) -> Vec<(u64, f64, f64, f64)> {
        self.steps
            .iter()
            .zip(&self.values)
            .map(|(&s, v)| {
                let (mean, sd) = sample_mean_sd(v);
                let half = t_half_width_factor(v.len()) * sd;
                (s, mean, mean - half, mean + half)
            })
            .collect()
    }

    /// The mean over instances at the last recorded step.
    pub fn final_mean(&self) -> f64 {
        self.values.last().map_or(f64::NAN, |v| sample_mean_sd(v).0)
    }
}

/// Mean and sample standard deviation (`k - 1` in the denominator) of `v`.
fn sample_mean_sd(v: &[f64]) -> (f64, f64) {
    let k = v.len() as f64;
    let mean = v.iter().sum::<f64>() / k;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (k - 1.0);
    (mean, var.sqrt())
}

/// The steps `0`, then about `per_decade` per decade from 1 to `steps` (rounded, distinct),
/// then `steps`.
pub fn geometric_steps(steps: u64, per_decade: usize) -> Vec<u64> {
    let mut out = vec![0];
    if steps == 0 {
        return out;
    }
    let decades = (steps as f64).log10();
    let points = (decades * per_decade as f64).ceil().max(1.0) as usize;
    for j in 0..=points {
        let s = 10f64.powf(decades * j as f64 / points as f64).round() as u64;
        if s > *out.last().unwrap_or(&0) && s <= steps {
            out.push(s);
        }
    }
    if out.last() != Some(&steps) {
        out.push(steps);
    }
    out
}

/// Records the per-instance mean fourth norm at the chosen steps.
struct FourthNormRecorder<'a> {
    at: &'a [u64],
    next: usize,
    steps: Vec<u64>,
    values: Vec<Vec<f64>>,
}

impl<T: Float> Observer<T> for FourthNormRecorder<'_> {
    fn observe(&mut self, state: &State<'_, T>) {
        if self.at.get(self.next) == Some(&state.step) {
            self.next += 1;
            self.steps.push(state.step);
            self.values.push(mean_fourth_norm(state.weights));
        }
    }
}

/// Runs the study: for each `sigma`, Bernoulli then Gaussian, SGD with `lambda = 0` in `f32`
/// (as the paper) from one `W0 ~ N(0, 1/m)` drawn from `Pcg64(seed)`, each run's noise from
/// `Pcg64(seed ^ NOISE_STREAM)`. Runs in parallel (rayon); the result does not depend on the
/// thread count. `stop` is polled between updates.
///
/// # Errors
/// An invalid size, learning rate or `sigma`.
pub fn fourth_norm_curves(
    study: &NoiseStudy,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<Vec<FourthNormCurve>, ExperimentError> {
    let shape = Shape::new(study.instances, study.n, study.m)?;
    let w0: Weights<f32> = Weights::normal(&mut Pcg64::seed_from_u64(study.seed), shape);
    let at = geometric_steps(study.steps, study.per_decade);
    let optimizer = Optimizer::Sgd(SgdParams::new(study.lr)?);
    let runs: Vec<Noise> = study
        .sigmas
        .iter()
        .flat_map(|&sigma| [Noise::Bernoulli { sigma }, Noise::Gaussian { sigma }])
        .collect();
    runs.into_par_iter()
        .map(|noise| {
            let cfg = TrainConfig::new(0.0, optimizer, noise)?;
            let mut trainer = Trainer::new(cfg, w0.clone());
            let mut rec = FourthNormRecorder {
                at: &at,
                next: 0,
                steps: Vec::with_capacity(at.len()),
                values: Vec::with_capacity(at.len()),
            };
            let mut rng = Pcg64::seed_from_u64(study.seed ^ NOISE_STREAM);
            let summary = trainer.run(&mut rng, study.steps, &mut rec, stop);
            Ok(FourthNormCurve {
                noise,
                steps: rec.steps,
                values: rec.values,
                stop: summary.stop,
            })
        })
        .collect()
}

/// Shades of red (Bernoulli) and blue (Gaussian), light to dark with `sigma`, as the paper
/// colours each noise kind by a colour map of `sigma`.
fn noise_colour(noise: Noise, rank: usize, of: usize) -> Rgb {
    let t = if of <= 1 {
        1.0
    } else {
        rank as f64 / (of - 1) as f64
    };
    let mix =
        |light: u8, dark: u8| (f64::from(light) + t * (f64::from(dark) - f64::from(light))) as u8;
    match noise {
        Noise::Bernoulli { .. } => Rgb(mix(252, 165), mix(146, 15), mix(114, 21)),
        _ => Rgb(mix(107, 8), mix(174, 48), mix(214, 107)),
    }
}

/// `fourth_norm_by_noise` from the curves of [`fourth_norm_curves`] (`study` for the caption).
pub fn fourth_norm_figure(study: &NoiseStudy, curves: &[FourthNormCurve]) -> Figure {
    let mut fig = Figure::new(
        "Average fourth norm by noise (SGD, λ = 0)",
        Axis::log10("Training steps"),
        Axis::log10("Average fourth norm"),
        (1100, 750),
    )
    .caption(format!(
        "n = {}, m = {}, SGD lr {}, f32, {} steps; {} instances from one W0 (seed {}) sharing \
         one noise sequence; band: 95% t-interval of the mean",
        study.n,
        study.m,
        study.lr,
        thousands(study.steps),
        study.instances,
        study.seed,
    ))
    .legend(LegendPos::UpperLeft);
    let of = study.sigmas.len();
    for c in curves {
        let (kind, sigma) = match c.noise {
            Noise::Bernoulli { sigma } => ("Bernoulli", sigma),
            Noise::Gaussian { sigma } => ("Gaussian", sigma),
            Noise::None => ("none", 0.0),
        };
        let rank = study.sigmas.iter().position(|&s| s == sigma).unwrap_or(0);
        let colour = noise_colour(c.noise, rank, of);
        let rows = c.mean_and_band();
        // Step 0 cannot be drawn on a log axis; the band starts at the first update.
        let band: Vec<(f64, f64, f64)> = rows
            .iter()
            .filter(|r| r.0 > 0)
            .map(|&(s, _, lo, hi)| (s as f64, lo, hi))
            .collect();
        let mean: Vec<(f64, f64)> = rows
            .iter()
            .filter(|r| r.0 > 0)
            .map(|&(s, m, _, _)| (s as f64, m))
            .collect();
        fig = fig.band(Band::new("", band, colour)).series(Series::line(
            format!("{kind}, σ = {sigma}"),
            mean,
            colour,
        ));
    }
    fig
}

/// `n` with a comma between thousands (`100,000`).
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// A run whose initial and final encodings are correlated.
#[derive(Debug, Clone, PartialEq)]
pub struct CorrelationStudy {
    /// The training run (its `save_steps` and `record_every` are ignored).
    pub spec: TrainSpec,
}

impl CorrelationStudy {
    /// The paper's run: `n = 256`, `m = 4096`, 16 instances, AdamW lr 1e-3 (weight decay 0.01),
    /// `lambda = 1e-3`, 7,500 steps, `f32`.
    pub fn paper() -> Result<Self, ExperimentError> {
        Self::adamw(256, 4096, 16)
    }

    /// The default build's run: the paper's ratio `m/n = 16` at `n = 32`, `m = 512`, 16
    /// instances, otherwise as the paper (a few seconds).
    pub fn default_size() -> Result<Self, ExperimentError> {
        Self::adamw(32, 512, 16)
    }

    /// AdamW as the paper runs it at the given size.
    pub fn adamw(n: usize, m: usize, instances: usize) -> Result<Self, ExperimentError> {
        Ok(Self {
            spec: TrainSpec {
                shape: Shape::new(instances, n, m)?,
                lambda: 1e-3,
                steps: 7_500,
                seed: 4096,
                method: Method::Optimizer(Optimizer::AdamW(Default::default())),
                noise: Noise::None,
                dtype: Dtype::F32,
                save_steps: Vec::new(),
                record_every: 7_500,
            },
        })
    }
}

/// The `n x n` matrix `C[a][b]` (row-major), the mean over instances of the Pearson
/// correlation over the `m` neurons between `W0[i, a, :]` and `W[i, b, :]`; instances where a
/// row is constant (a dead feature) are left out of that entry's mean (NaN if all are).
///
/// # Errors
/// `w0` and `w` of different shapes.
pub fn correlation_matrix(
    w0: &Weights<f64>,
    w: &Weights<f64>,
) -> Result<Vec<f64>, ExperimentError> {
    if w0.shape() != w.shape() {
        return Err(ExperimentError::Inconsistent(format!(
            "initial weights of shape {:?}, final {:?}",
            w0.shape(),
            w.shape()
        )));
    }
    let Shape { instances, n, m } = w0.shape();
    // Centred, unit-norm rows: then the correlation is a dot product.
    let standardise = |x: &Weights<f64>| -> Vec<Option<Vec<f64>>> {
        x.as_slice()
            .chunks(m)
            .map(|row| {
                let mean = row.iter().sum::<f64>() / m as f64;
                let c: Vec<f64> = row.iter().map(|v| v - mean).collect();
                let norm = c.iter().map(|v| v * v).sum::<f64>().sqrt();
                (norm > 0.0).then(|| c.iter().map(|v| v / norm).collect())
            })
            .collect()
    };
    let (a0, af) = (standardise(w0), standardise(w));
    let mut sum = vec![0.0; n * n];
    let mut count = vec![0usize; n * n];
    for i in 0..instances {
        for a in 0..n {
            let Some(x) = &a0[i * n + a] else { continue };
            for b in 0..n {
                let Some(y) = &af[i * n + b] else { continue };
                sum[a * n + b] += x.iter().zip(y).map(|(p, q)| p * q).sum::<f64>();
                count[a * n + b] += 1;
            }
        }
    }
    Ok(sum
        .iter()
        .zip(&count)
        .map(|(&s, &c)| if c == 0 { f64::NAN } else { s / c as f64 })
        .collect())
}

/// The correlation matrix of [`correlation_matrix`] for a trained run, with what the figure
/// reports beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct Correlations {
    /// Features.
    pub n: usize,
    /// `n x n`, row `a` (initial feature) by column `b` (final feature).
    pub values: Vec<f64>,
    /// The mean of the diagonal.
    pub diagonal_mean: f64,
    /// The mean absolute off-diagonal entry.
    pub off_diagonal_mean_abs: f64,
}

/// Trains `study` and correlates its initial and final encodings.
///
/// # Errors
/// A training error, or a run that did not complete.
pub fn weight_correlations(
    study: &CorrelationStudy,
    stop: &dyn Fn() -> bool,
) -> Result<Correlations, ExperimentError> {
    let mut spec = study.spec.clone();
    spec.save_steps.clear();
    spec.record_every = spec.steps.max(1);
    let out = train(&spec, None, &mut |_| {}, stop)?;
    if out.summary.stop != StopReason::Completed {
        return Err(ExperimentError::Inconsistent(format!(
            "training ended with {}",
            out.summary.stop.name()
        )));
    }
    let n = spec.shape.n;
    let values = correlation_matrix(&out.w0, &out.w_final)?;
    let diag: Vec<f64> = (0..n).map(|a| values[a * n + a]).collect();
    let off: Vec<f64> = (0..n * n)
        .filter(|k| k / n != k % n)
        .map(|k| values[k].abs())
        .collect();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    Ok(Correlations {
        n,
        diagonal_mean: mean(&diag),
        off_diagonal_mean_abs: mean(&off),
        values,
    })
}

/// `weight_correlations` as a heatmap: initial feature `a` up the y axis, final feature `b`
/// along x, on a diverging scale symmetric about 0 (its end the largest `|C|`).
pub fn weight_correlation_figure(study: &CorrelationStudy, c: &Correlations) -> Figure {
    let n = c.n;
    let r = c
        .values
        .iter()
        .filter(|v| v.is_finite())
        .fold(0.0_f64, |acc, v| acc.max(v.abs()));
    let r = if r > 0.0 { r } else { 1.0 };
    let s = &study.spec;
    let method = match s.method {
        Method::Optimizer(Optimizer::AdamW(p)) => {
            format!("AdamW lr {}, wd {}", p.lr, p.weight_decay)
        }
        Method::Optimizer(o) => format!("{} lr {}", o.name(), o.lr()),
        Method::Flow { h } => format!("gradient flow, h = {h}"),
    };
    Figure::new(
        format!(
            "Correlation of initial and final encodings (n = {n}, m = {})",
            s.shape.m
        ),
        Axis::linear("final encoding of feature b").range(0.0, n as f64),
        Axis::linear("initial encoding of feature a").range(0.0, n as f64),
        (950, 820),
    )
    .caption(format!(
        "mean of {} instances; {method}, λ = {}, {} steps, {}, seed {}; mean diagonal {:.3}, \
         mean |off-diagonal| {:.3}",
        s.shape.instances,
        s.lambda,
        thousands(s.steps),
        s.dtype.name(),
        s.seed,
        c.diagonal_mean,
        c.off_diagonal_mean_abs,
    ))
    .grid(false)
    .legend(LegendPos::Hidden)
    .heatmap(Heatmap::new(
        "Pearson correlation over neurons (instance mean)",
        n,
        n,
        c.values.clone(),
        (-r, r),
        ColourMap::Diverging,
    ))
}

/// The collision study behind `polysemantic_vs_m` and `winner_vs_initial_argmax`: one
/// [`PolysemanticSpec`] run twice, under the gradient flow and under AdamW, from the same
/// initial weights (the same seed).
#[derive(Debug, Clone, PartialEq)]
pub struct CollisionStudy {
    /// The flow's spec ([`Training::flow`]).
    pub flow: PolysemanticSpec,
    /// AdamW's spec (the same but for the training).
    pub adamw: PolysemanticSpec,
}

impl CollisionStudy {
    /// `n` features, the given `ms`, `instances` per `m`, `lambda = 1e-3` (the paper's), seed
    /// 2024, the default relocation band (400 draws, the central 99% of the mean), the flow as
    /// the claims run it and AdamW with `adamw_steps` updates in f32 (the paper: 7,500).
    pub fn new(n: usize, ms: Vec<usize>, instances: usize, adamw_steps: u64) -> Self {
        let flow = PolysemanticSpec {
            n,
            ms,
            instances,
            lambda: 1e-3,
            seed: 2024,
            training: Training::flow(),
            band: BandSpec::default(),
        };
        let adamw = PolysemanticSpec {
            training: Training::AdamW {
                steps: adamw_steps,
                dtype: Dtype::F32,
            },
            ..flow.clone()
        };
        Self { flow, adamw }
    }

    /// The default build's size: `n = 32`, `m` in {32, 64, 128, 256}, 16 instances, the
    /// paper's AdamW (7,500 steps).
    pub fn default_size() -> Self {
        Self::new(32, vec![32, 64, 128, 256], 16, 7_500)
    }
}

/// The measurements of a [`CollisionStudy`], one [`MPoint`] per `m` for each training.
#[derive(Debug, Clone, PartialEq)]
pub struct CollisionRuns {
    /// Under the gradient flow.
    pub flow: Vec<MPoint>,
    /// Under AdamW.
    pub adamw: Vec<MPoint>,
}

/// Runs both trainings of `study` ([`polysemantic_vs_m`]).
///
/// # Errors
/// As [`polysemantic_vs_m`].
pub fn collision_runs(study: &CollisionStudy) -> Result<CollisionRuns, ExperimentError> {
    Ok(CollisionRuns {
        flow: polysemantic_vs_m(&study.flow)?,
        adamw: polysemantic_vs_m(&study.adamw)?,
    })
}

/// The flow's colour (matplotlib's tab:blue) and AdamW's (tab:orange).
const FLOW_COLOUR: Rgb = Rgb(31, 119, 180);
const ADAMW_COLOUR: Rgb = Rgb(255, 127, 14);

/// A measured mean against `x` with markers, and its `mean ± std` as vertical error bars (one
/// unlabelled two-point line each), every x multiplied by `shift` so that two series at the
/// same x stay apart on a log axis.
fn with_error_bars(
    mut fig: Figure,
    label: &str,
    points: &[(f64, f64, f64)],
    shift: f64,
    colour: Rgb,
) -> Figure {
    for &(x, mean, std) in points {
        fig = fig.series(Series::line(
            "",
            vec![(x * shift, mean - std), (x * shift, mean + std)],
            colour,
        ));
    }
    fig.series(
        Series::line(
            label,
            points.iter().map(|&(x, m, _)| (x * shift, m)).collect(),
            colour,
        )
        .with_markers(4),
    )
}

fn training_caption(spec: &PolysemanticSpec) -> String {
    match spec.training {
        Training::AdamW { steps, dtype } => format!(
            "AdamW lr 1e-3, wd 0.01, {} steps, {}",
            thousands(steps),
            dtype.name()
        ),
        Training::Sgd { lr, steps } => format!("SGD lr {lr}, {} steps", thousands(steps)),
        Training::Flow { h, .. } => format!("flow h = {h} until settled"),
    }
}

/// The caption both collision figures share: size, seed and the two trainings.
fn collision_caption(study: &CollisionStudy) -> String {
    let s = &study.flow;
    format!(
        "n = {}, λ = {}, {} instances per m from the same W0 (seed {}); {}; {}",
        s.n,
        s.lambda,
        s.instances,
        s.seed,
        training_caption(&study.flow),
        training_caption(&study.adamw),
    )
}

/// `polysemantic_vs_m`: per training, the mean count over instances with `± std` error bars
/// (the flow's drawn a little left of each `m`, AdamW's a little right); `n^2/4m` dashed; the
/// occupancy model's exact mean; the relocation model's band for the mean of `instances`
/// counts shaded (docs/theory.md §8.3-§8.10). `m` on a log axis.
pub fn polysemantic_figure(study: &CollisionStudy, runs: &CollisionRuns) -> Figure {
    let s = &study.flow;
    let mut fig = Figure::new(
        format!("Polysemantic neurons against m (n = {})", s.n),
        Axis::log10("neurons m"),
        Axis::linear("polysemantic neurons (mean over instances)"),
        (1100, 750),
    )
    .caption(collision_caption(study))
    .legend(LegendPos::UpperRight);
    let theory = &runs.flow;
    fig = fig.band(Band::new(
        format!(
            "relocation model: central {}% of the mean of {} ({} W0 per m)",
            s.band.coverage * 100.0,
            s.instances,
            s.band.draws
        ),
        theory
            .iter()
            .map(|p| (p.m as f64, p.band.0, p.band.1))
            .collect(),
        Rgb(150, 150, 150),
    ));
    fig = fig
        .series(
            Series::line(
                "n²/4m",
                theory.iter().map(|p| (p.m as f64, p.n2_over_4m)).collect(),
                Rgb::BLACK,
            )
            .dashed(),
        )
        .series(Series::line(
            "occupancy model (mean)",
            theory
                .iter()
                .map(|p| (p.m as f64, p.occupancy_mean))
                .collect(),
            Rgb::GREEN,
        ));
    let measured = |points: &[MPoint]| -> Vec<(f64, f64, f64)> {
        points
            .iter()
            .map(|p| {
                let (mean, std) = p.polysemantic_mean_std();
                (p.m as f64, mean, std)
            })
            .collect()
    };
    both_trainings(fig, runs, measured)
}

/// The flow's and AdamW's `(x, mean, std)` points as error-bar series, nudged apart in `x`
/// (x 0.96 and x 1.04 on the log axis) so that their bars do not overlap.
fn both_trainings(
    fig: Figure,
    runs: &CollisionRuns,
    measured: impl Fn(&[MPoint]) -> Vec<(f64, f64, f64)>,
) -> Figure {
    let fig = with_error_bars(
        fig,
        "gradient flow (mean ± 1 std)",
        &measured(&runs.flow),
        0.96,
        FLOW_COLOUR,
    );
    with_error_bars(
        fig,
        "AdamW (mean ± 1 std)",
        &measured(&runs.adamw),
        1.04,
        ADAMW_COLOUR,
    )
}

/// `winner_vs_initial_argmax`: per training, the mean over instances of the fraction of
/// features whose final argmax neuron is their initial one, with `± std` error bars, against
/// `m/n` on a log axis (the single-feature theory without interference: 1, docs/theory.md §8.2).
pub fn winner_figure(study: &CollisionStudy, runs: &CollisionRuns) -> Figure {
    let s = &study.flow;
    let n = s.n as f64;
    let measured = |points: &[MPoint]| -> Vec<(f64, f64, f64)> {
        points
            .iter()
            .map(|p| {
                let (mean, std) = p.winner_mean_std();
                (p.m as f64 / n, mean, std)
            })
            .collect()
    };
    let fig = Figure::new(
        format!(
            "Features that end on their initial argmax neuron (n = {})",
            s.n
        ),
        Axis::log10("m / n"),
        Axis::linear("fraction of features (mean over instances)").range(0.0, 1.0),
        (1100, 750),
    )
    .caption(collision_caption(study))
    .legend(LegendPos::UpperLeft);
    both_trainings(fig, runs, measured)
}

/// `polysemantic_vs_m` from a collision sweep's rows (`cargo xtask figures --paper`): the
/// rows of one `n` and optimiser (those of the first row), their means with `± std` error
/// bars, `n^2/4m` and the occupancy model's exact mean. The relocation band is left out (it
/// needs the pool of [`polysemantic_vs_m`]). `None` for no rows.
///
/// # Errors
/// A theory error (an `n` or `m` of 0).
pub fn polysemantic_figure_from_rows(
    rows: &[CollisionRow],
    source: &str,
) -> Result<Option<Figure>, ExperimentError> {
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let mut rows: Vec<&CollisionRow> = rows
        .iter()
        .filter(|r| r.n == first.n && r.optimizer == first.optimizer)
        .collect();
    rows.sort_by_key(|r| r.m);
    let n = first.n;
    let mut occupancy = Vec::with_capacity(rows.len());
    for r in &rows {
        occupancy.push((
            r.m as f64,
            CountModel::new(CountKind::Polysemantic, n, r.m)?.mean(),
        ));
    }
    let fig = Figure::new(
        format!(
            "Polysemantic neurons against m (n = {n}, {})",
            first.optimizer
        ),
        Axis::log10("neurons m"),
        Axis::linear("polysemantic neurons (mean over instances)"),
        (1100, 750),
    )
    .caption(format!(
        "from the sweep {source}: n = {n}, {} instances per m, {}",
        first.instances, first.optimizer
    ))
    .legend(LegendPos::UpperRight)
    .series(
        Series::line(
            "n²/4m",
            rows.iter()
                .map(|r| (r.m as f64, n2_over_4m(n, r.m)))
                .collect(),
            Rgb::BLACK,
        )
        .dashed(),
    )
    .series(Series::line(
        "occupancy model (mean)",
        occupancy,
        Rgb::GREEN,
    ));
    let points: Vec<(f64, f64, f64)> = rows
        .iter()
        .map(|r| (r.m as f64, r.polysemantic_mean, r.polysemantic_std))
        .collect();
    Ok(Some(with_error_bars(
        fig,
        &format!("{} (mean ± 1 std)", first.optimizer),
        &points,
        1.0,
        ADAMW_COLOUR,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_t_factor_matches_the_table_and_the_normal_limit() {
        // t_{0.975, 4} = 2.776 for 5 samples.
        assert!((t_half_width_factor(5) - 2.776 / 5f64.sqrt()).abs() < 1e-12);
        assert!((t_half_width_factor(100) - 0.196).abs() < 1e-12);
        assert!(t_half_width_factor(1).is_nan());
    }

    #[test]
    fn thousands_are_separated_by_commas() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(7_500), "7,500");
        assert_eq!(thousands(100_000), "100,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn geometric_steps_start_at_zero_end_at_the_last_and_increase() {
        let s = geometric_steps(100_000, 10);
        assert_eq!(s.first(), Some(&0));
        assert_eq!(s.last(), Some(&100_000));
        assert!(s.windows(2).all(|w| w[0] < w[1]));
        // Ten per decade over five decades, less the duplicates rounding makes near 1.
        assert!((40..=52).contains(&s.len()), "{}", s.len());
        assert_eq!(geometric_steps(0, 10), [0]);
        assert_eq!(geometric_steps(1, 10), [0, 1]);
    }

    #[test]
    fn correlations_of_a_row_with_itself_are_one_and_a_constant_row_is_left_out() {
        let shape = Shape::new(1, 2, 3).unwrap();
        let w0 = Weights::from_vec(shape, vec![1.0, 2.0, 3.0, 3.0, 1.0, 2.0]).unwrap();
        let same = correlation_matrix(&w0, &w0).unwrap();
        assert!((same[0] - 1.0).abs() < 1e-15 && (same[3] - 1.0).abs() < 1e-15);
        // corr((1,2,3),(3,1,2)) = -0.5, by hand: centred (-1,0,1)·(1,-1,0) / 2 = -1/2.
        assert!((same[1] + 0.5).abs() < 1e-15);
        let dead = Weights::from_vec(shape, vec![1.0, 2.0, 3.0, 0.0, 0.0, 0.0]).unwrap();
        let c = correlation_matrix(&w0, &dead).unwrap();
        assert!(c[1].is_nan() && c[3].is_nan());
        let other = Weights::from_vec(Shape::new(1, 2, 2).unwrap(), vec![0.0; 4]).unwrap();
        assert!(correlation_matrix(&w0, &other).is_err());
    }
}

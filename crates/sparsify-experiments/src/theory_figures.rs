//! Figures that put theory beside simulation, for `cargo xtask figures`.
//!
//! - `theory_vs_simulation`: `m'(t)` and `||w||_1(t)` of the published run (numpy seed 0,
//!   m = 1e5, lambda = 1e-5, h = 0.5) beside the continuum prediction (slow manifold, first
//!   order, Euler term, transient shift), the closed-form count of survivors from the run's own
//!   `w0`, and the published prediction; below, the relative residuals of `m'`.
//! - `death_times`: predicted against simulated death times for every coordinate (the first
//!   time `m' <= n`, `n = m/2 .. 1`, thinned to a log grid of n), leading order and corrected
//!   form; below, the differences in time units.
//! - `time_to_one_neuron`: the distribution over seeds of `lambda T` (time to a single
//!   survivor, closed form) for m = 1e3 .. 1e6, as empirical CDFs.
//!
//! Assembly only: the numbers come from `sparsify-core` (simulation), `sparsify-theory`
//! (predictions) and [`crate::claims`] (the Monte Carlo); `sparsify-plot` draws them.

use std::path::Path;

use sparsify_core::{InitialWeights, RecordConfig, Recorder, ReducedConfig, ReducedSim, Stepper};
use sparsify_plot::{Axis, Figure, LegendPos, PlotError, Residual, Rgb, Series};
use sparsify_theory::continuum::HalfNormalContinuum;
use sparsify_theory::death_times::{Discretisation, Order, PredictionConfig, death_times};
use sparsify_theory::published::SeedPrediction;
use sparsify_theory::slow_manifold::SlowManifold;

use crate::ExperimentError;
use crate::claims::{self, Profile, Reference};

/// Orange of matplotlib's tab10 (`tab:orange`).
const ORANGE: Rgb = Rgb(255, 127, 14);
/// Green of tab10 (`tab:green`).
const GREEN: Rgb = Rgb(44, 160, 44);
/// Red of tab10 (`tab:red`).
const RED: Rgb = Rgb(214, 39, 40);
/// Purple of tab10 (`tab:purple`).
const PURPLE: Rgb = Rgb(148, 103, 189);
/// Grey for the published baseline.
const GREY: Rgb = Rgb(127, 127, 127);

/// One figure, with or without a residual panel, and the file stem it is written under.
#[derive(Debug, Clone, PartialEq)]
pub struct TheoryFigure {
    /// File name without extension, e.g. `death_times`.
    pub stem: &'static str,
    /// The main panel.
    pub figure: Figure,
    /// The residual panel below it, if any.
    pub residual: Option<Residual>,
}

impl TheoryFigure {
    /// Renders to `path` (PNG or SVG by extension), atomically, with the residual panel if any.
    ///
    /// # Errors
    /// As [`sparsify_plot::render`].
    pub fn render(&self, path: &Path) -> Result<(), PlotError> {
        match &self.residual {
            Some(r) => sparsify_plot::render_panels(&self.figure, r, path),
            None => sparsify_plot::render(&self.figure, path),
        }
    }
}

use crate::published::{H, LAMBDA};

/// `theory_vs_simulation` and `death_times` (a few seconds). `cargo xtask figures` draws
/// `time_to_one_neuron` from a seed sweep instead ([`crate::figure_sweeps::time_to_one_neuron`]);
/// [`time_to_one_neuron`] here is the closed form alone, for the tests.
///
/// # Errors
/// A solver or theory error.
pub fn all() -> Result<Vec<TheoryFigure>, ExperimentError> {
    let w0 = crate::published::initial_weights()?;
    Ok(vec![theory_vs_simulation(w0)?, death_time_figure(w0)?])
}

/// `theory_vs_simulation` for the weights `w0` of the published run's parameters.
///
/// # Errors
/// A solver or theory error.
pub fn theory_vs_simulation(w0: &InitialWeights) -> Result<TheoryFigure, ExperimentError> {
    let m = w0.len();
    let cfg = ReducedConfig::new(LAMBDA, H)?;
    let mut sim = ReducedSim::new(cfg, w0.clone())?;
    let mut rec = Recorder::new(RecordConfig::checkpoints_and_deaths());
    sim.run_recorded(&mut rec, || false)?;
    // Checkpoints from t = 1 on (log axis), while more than one survives.
    let points: Vec<_> = rec
        .checkpoints
        .iter()
        .filter(|c| c.t >= 1.0 && c.m_prime >= 1)
        .collect();
    let times: Vec<f64> = points.iter().map(|c| c.t).collect();
    let pred_cfg = PredictionConfig::new(
        LAMBDA,
        Order::FirstOrder,
        Discretisation::Euler { h: H },
        true,
    )?;
    let continuum = HalfNormalContinuum::published(m)?;
    let curve = SlowManifold::new(continuum, pred_cfg).and_then(|s| s.curve(&times))?;
    // The closed form's m'(t): the number of coordinates whose predicted death is after t.
    let dt = death_times(w0.as_slice(), &pred_cfg)?;
    let deaths = dt.as_slice(); // non-increasing: deaths[n-1] is the first time with m' <= n
    let closed_count = |t: f64| -> f64 {
        // m'(t) = 1 + #{n in 1..m : deaths[n-1] > t}; deaths is non-increasing in n.
        1.0 + deaths.partition_point(|&d| d > t) as f64
    };
    let seed = SeedPrediction::new(m, LAMBDA)?;

    let sim_m: Vec<(f64, f64)> = points.iter().map(|c| (c.t, c.m_prime as f64)).collect();
    let sim_w1: Vec<(f64, f64)> = points.iter().map(|c| (c.t, c.one_norm)).collect();
    let cont_m: Vec<(f64, f64)> = curve.iter().map(|r| (r.t, r.m_prime)).collect();
    let cont_w1: Vec<(f64, f64)> = curve.iter().map(|r| (r.t, r.one_norm)).collect();
    let closed_m: Vec<(f64, f64)> = times.iter().map(|&t| (t, closed_count(t))).collect();
    let seed_m: Vec<(f64, f64)> = times
        .iter()
        .map(|&t| (t, seed.m_prime_clamped(t).unwrap_or(f64::NAN)))
        .collect();
    // Residuals while at least 10 survive: below that a single survivor more or less is 10%
    // or more, which says nothing about the theory and would swamp the panel's scale.
    let resid = |pred: &[(f64, f64)]| -> Vec<(f64, f64)> {
        pred.iter()
            .zip(&sim_m)
            .filter(|(_, s)| s.1 >= 10.0)
            .map(|(&(t, p), &(_, s))| (t, 100.0 * (p - s) / s))
            .collect()
    };
    let figure = Figure::new(
        "Theory against simulation (m = 10^5, λ = 10^-5)",
        Axis::log10("Training time t"),
        // Room below the curves for the legend, which would hide them anywhere else.
        Axis::log10("m'  and  ‖w‖₁").range(1e-3, 3e5),
        (900, 750),
    )
    .caption(
        "simulation: Euler h = 0.5, numpy seed 0; theory: first order, Euler term, transient shift",
    )
    .legend(LegendPos::LowerLeft)
    .series(Series::line("m' simulated", sim_m.clone(), Rgb::TAB_BLUE).width(4))
    .series(Series::line("m' continuum (expected w0)", cont_m.clone(), ORANGE).dashed())
    .series(
        Series::line("m' closed form (this w0)", closed_m.clone(), GREEN)
            .dashed()
            .width(1),
    )
    .series(
        Series::line("m' published prediction", seed_m, GREY)
            .dashed()
            .width(1),
    )
    .series(Series::line("‖w‖₁ simulated", sim_w1, PURPLE).width(4))
    .series(Series::line("‖w‖₁ continuum", cont_w1, RED).dashed());
    let residual = Residual::new(
        Axis::linear("m' error (%), m' ≥ 10").range(-6.0, 6.0),
        vec![
            Series::line("continuum", resid(&cont_m), ORANGE),
            Series::line("closed form", resid(&closed_m), GREEN).width(1),
        ],
    )
    .reference(0.0)
    .legend(LegendPos::LowerLeft)
    .height_fraction(0.3);
    Ok(TheoryFigure {
        stem: "theory_vs_simulation",
        figure,
        residual: Some(residual),
    })
}

/// `death_times`: predicted against simulated (published Euler run) death times.
///
/// # Errors
/// A solver or theory error.
pub fn death_time_figure(w0: &InitialWeights) -> Result<TheoryFigure, ExperimentError> {
    let m = w0.len();
    let sim = claims::simulated_first_times(w0, LAMBDA, Reference::Euler { h: H })?;
    let leading = claims::predicted_first_times(w0, LAMBDA, Order::Leading)?;
    let cfg = PredictionConfig::new(
        LAMBDA,
        Order::FirstOrder,
        Discretisation::Euler { h: H },
        true,
    )?;
    let corrected = death_times(w0.as_slice(), &cfg)?.as_slice().to_vec();
    // Every coordinate would be 5e4 points per line; 80 per decade of n shows the same curves.
    let mut ns: Vec<usize> = claims::log_counts(m / 2, 1, 80);
    ns.sort_unstable();
    let pairs = |pred: &[f64]| -> Vec<(f64, f64)> {
        ns.iter().rev().map(|&n| (sim[n], pred[n - 1])).collect()
    };
    let diffs = |pred: &[f64]| -> Vec<(f64, f64)> {
        ns.iter()
            .rev()
            .map(|&n| (sim[n], pred[n - 1] - sim[n]))
            .collect()
    };
    let (lo, hi) = (sim[m / 2], sim[1]);
    let figure = Figure::new(
        "Death times: closed form against simulation (m = 10^5, λ = 10^-5)",
        Axis::log10("simulated first time with m' ≤ n").range(lo / 1.2, hi * 1.2),
        Axis::log10("predicted time").range(lo / 1.2, hi * 1.2),
        (900, 750),
    )
    .caption(
        "n = m/2 .. 1; Euler h = 0.5, numpy seed 0; a death is recorded at the end of its step",
    )
    .legend(LegendPos::UpperLeft)
    .series(
        Series::line("prediction = simulation", vec![(lo, lo), (hi, hi)], GREY)
            .dashed()
            .width(1),
    )
    .series(Series::line("leading order", pairs(&leading), ORANGE).markers(2))
    .series(
        Series::line(
            "corrected (first order, Euler, transient)",
            pairs(&corrected),
            Rgb::TAB_BLUE,
        )
        .markers(2),
    );
    // Deaths are recorded at the end of the step in which they happen, so an exact prediction
    // lies between -h and 0 of the recorded time: the band drawn between the two lines.
    let residual = Residual::new(
        Axis::linear("pred. − sim. (time)").range(-0.8, 2.0),
        vec![
            Series::line("leading order", diffs(&leading), ORANGE).markers(2),
            Series::line("corrected", diffs(&corrected), Rgb::TAB_BLUE).markers(2),
            Series::line("−h (one step)", vec![(lo, -H), (hi, -H)], GREY)
                .dashed()
                .width(1),
        ],
    )
    .reference(0.0)
    .legend(LegendPos::UpperLeft)
    .height_fraction(0.45);
    Ok(TheoryFigure {
        stem: "death_times",
        figure,
        residual: Some(residual),
    })
}

/// `time_to_one_neuron`: empirical CDFs of `lambda T` over seeds, one per m of
/// [`claims::monte_carlo_plan`] for `profile`.
///
/// # Errors
/// A theory error.
pub fn time_to_one_neuron(profile: Profile) -> Result<TheoryFigure, ExperimentError> {
    let colours = [Rgb::TAB_BLUE, ORANGE, GREEN, RED, PURPLE];
    let mut figure = Figure::new(
        "Time to a single neuron over seeds",
        Axis::linear("λ T (closed form, leading order: independent of λ)").range(0.0, 7.5),
        Axis::linear("fraction of seeds with λ T below").range(0.0, 1.0),
        (900, 600),
    )
    .caption("half-normal w0, σ = 0.9/√m; empirical CDF over seeds; median marked")
    .legend(LegendPos::LowerRight);
    for (&(m, seeds), &colour) in claims::monte_carlo_plan(profile).iter().zip(&colours) {
        let mut samples = claims::lambda_t_samples(m, 0..seeds)?;
        samples.sort_by(f64::total_cmp);
        let s = claims::lambda_t_summary(m, &samples);
        let n = samples.len() as f64;
        let cdf: Vec<(f64, f64)> = samples
            .iter()
            .enumerate()
            .map(|(i, &x)| (x, (i as f64 + 0.5) / n))
            .collect();
        figure = figure
            .series(Series::line(
                format!(
                    "m = {} ({seeds} seeds): median {:.2}, 5-95% {:.2}-{:.2}",
                    crate::figures::format_param(m as f64),
                    s.q50,
                    s.q05,
                    s.q95
                ),
                cdf,
                colour,
            ))
            .series(Series::line("", vec![(s.q50, 0.5)], colour).markers(5));
    }
    Ok(TheoryFigure {
        stem: "time_to_one_neuron",
        figure,
        residual: None,
    })
}

//! The figures of a run: recorded data in, [`sparsify_plot::Figure`]s out.
//!
//! This module assembles figures (which series, from which records, thinned how, with which
//! titles and captions); `sparsify-plot` draws them. `cargo xtask figures` and `sparsify run
//! --figure` both call it, so a figure looks the same whichever made it. It does no I/O and
//! knows nothing of plotters.
//!
//! # The figures
//! | [`FigureKind`] | file stem | what |
//! |---|---|---|
//! | `Sparsification` | `sparsification` | the published main figure: `m'`, `‖W_i‖₁` and the published predictions, log-log |
//! | `Diagnostics` | `sparsification_diagnostics` | the published optional (`other_data`) curves |
//! | `RelativeVariance` | `relative_variance` | relative variance with the `rel_var_range` bounds of `w0` and of the ideal quantiles |
//! | `Weights` | `weights` | every recorded surviving weight as a fraction of the largest, with `1 − γ` |
//!
//! The published predictions (`predicted m'`, `predicted ‖W_i‖₁`, the theoretical
//! `w₁/("t·λ")`, `rel_var_range` and the ideal quantiles) come from
//! `sparsify_theory::published`, computed independently of the simulation.
//!
//! Titles carry `m` and `λ` (written `10^k` when a power of ten, as in the published title,
//! otherwise the number); captions carry `h`, the initialisation and its seed, and the data
//! source.
//!
//! # Where the data come from, and which quirks are kept
//! The published script logs its history at steps chosen by `int(3 ln(cnt+1))` changing, and
//! its history lists mix instants (see [`ScriptRow`]). The figures use:
//!
//! - **Scalar curves: the script's own history rows** ([`FigureData::script_log`], bit for bit
//!   the published lists, mixed instants included). Figure 1 is therefore exactly the published
//!   curve: `t` before a step against `m'` after it and `‖W_i‖₁` before it. The relative
//!   variance, the feature benefit, `λ‖w‖₁` and `"t·λ"` are before-step values at their own
//!   before-step `t` (consistent). As published, the `rel_var_range` bounds are taken at the
//!   row's after-step `m'` (at most one step's deaths away from the before-step `m'`: invisible).
//! - **Curves made from weight vectors: time-consistent snapshots** ([`FigureData::snapshots`]),
//!   not the script's `w_history`. Its entries alias the array that the *next* step updates in
//!   place before filtering, so each is one step later than its `m'` and may still hold the
//!   weights that step drives negative (which would make `median − smallest` meaningless).
//!   A snapshot holds the survivors after a logged step at that instant, `t = (cnt+1)·h`, and
//!   those curves (`w₁/("t·λ")`, `median − smallest`, the theoretical `w₁/("t·λ")`, the
//!   initial-weights ratio, and the weight cloud) are drawn at the snapshot's `t`.
//! - `1 − γ` in the weight figure is the row's after-step `γ`, drawn at the after-step time
//!   `t + h` so that it lines up with the weight snapshot it describes (the published figure
//!   draws it at the before-step `t`; on a log axis the two differ only in the first rows).
//! - The initial-weights ratio uses the true `w0`. The published script's `w_init` aliases the
//!   weights and ends as the weights after one (unfiltered) step; the ratio
//!   `(w1 − w_m')/(w_median − w_m')` is invariant under that step's affine map, so the two
//!   agree up to rounding.
//!
//! # Thinning
//! None. Every curve has one point per logged step (a few dozen), and the weight figure shows
//! every surviving weight at every logged step (about two million points for the published
//! run, as the published figure does): `sparsify-plot` bins them into a density, so the cost
//! and the file size do not grow with the number of points, and the colours are true counts.
//! Thinning evenly in rank would have hidden exactly the interesting part, the few largest
//! weights that pull away from the bulk.

use sparsify_core::{
    CoreError, EulerConfig, EulerSim, InitialWeights, RecordConfig, Recorder, ScriptRow, Snapshot,
    Stepper, SumMode,
};
use sparsify_plot::{Axis, Figure, LegendPos, PointCloud, Rgb, Scale, Series};
use sparsify_theory::published::{
    SeedPrediction, ideal_quantiles, rel_var_range, theoretical_w1_ratio,
};

/// The deep pink used for the published "pink" curves: matplotlib's `pink` (`#FFC0CB`) is too
/// pale to read on white, so the figures use `hotpink`-like `#E75480` with the same hue.
const PINK: Rgb = Rgb(231, 84, 128);
/// matplotlib's `cyan` is too pale on white for a dashed line; this is `darkturquoise`-like.
const CYAN: Rgb = Rgb(0, 190, 210);

/// Which figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FigureKind {
    /// The published main figure: `m'` and `‖W_i‖₁` with the published predictions.
    Sparsification,
    /// The published optional curves (`other_data = True`).
    Diagnostics,
    /// Relative variance against time, with the `rel_var_range` bounds.
    RelativeVariance,
    /// Surviving weights as a fraction of the largest, with `1 − γ`.
    Weights,
}

impl FigureKind {
    /// Every figure, in the order `cargo xtask figures` writes them.
    pub const ALL: [FigureKind; 4] = [
        FigureKind::Sparsification,
        FigureKind::Diagnostics,
        FigureKind::RelativeVariance,
        FigureKind::Weights,
    ];

    /// The fixed file stem of the figure in `figures/`.
    pub fn stem(self) -> &'static str {
        match self {
            FigureKind::Sparsification => "sparsification",
            FigureKind::Diagnostics => "sparsification_diagnostics",
            FigureKind::RelativeVariance => "relative_variance",
            FigureKind::Weights => "weights",
        }
    }

    /// Whether the figure needs weight snapshots (recorded with [`record_config`]).
    pub fn needs_snapshots(self) -> bool {
        matches!(self, FigureKind::Diagnostics | FigureKind::Weights)
    }
}

/// The parameters a figure states, besides `m` (which is the length of the initial weights).
#[derive(Debug, Clone, PartialEq)]
pub struct RunParams {
    /// The L1 strength `λ`.
    pub lambda: f64,
    /// The Euler step `h`.
    pub h: f64,
    /// How the initial weights were made, for the caption, e.g. `"|N(0, 0.81/m)|, numpy seed 0"`.
    pub init: String,
}

/// Everything the figures are made from: one run's initial weights and records.
#[derive(Debug, Clone, PartialEq)]
pub struct FigureData {
    /// Parameters for titles, captions and the predicted curves.
    pub params: RunParams,
    /// The initial weights, sorted descending.
    pub w0: Vec<f64>,
    /// The published script's history rows ([`Recorder::script_log`]).
    pub script_log: Vec<ScriptRow>,
    /// Weight snapshots at the script's logged steps ([`Recorder::snapshots`]); may be empty if
    /// only [`FigureKind::Sparsification`] or [`FigureKind::RelativeVariance`] is wanted.
    pub snapshots: Vec<Snapshot>,
}

/// What a run must record for every figure: the script's history rows and complete weight
/// snapshots (plus checkpoints and deaths, which the figures do not use).
pub fn record_config() -> RecordConfig {
    RecordConfig::everything(usize::MAX)
}

impl FigureData {
    /// Runs the Euler simulation from `w0` to one survivor with [`record_config`].
    ///
    /// # Errors
    /// An invalid `lambda` or `h`, or an unstable step ([`CoreError`]).
    pub fn simulate(
        params: RunParams,
        w0: InitialWeights,
        sum: SumMode,
    ) -> Result<Self, CoreError> {
        let cfg = EulerConfig::new(params.lambda, params.h, sum)?;
        let w0_vec = w0.as_slice().to_vec();
        let mut sim = EulerSim::new(cfg, w0)?;
        let mut recorder = Recorder::new(record_config());
        sim.run_recorded(&mut recorder, || false)?;
        Ok(Self::from_recorder(params, w0_vec, recorder))
    }

    /// The data of a run that has been recorded already (with at least the script log).
    pub fn from_recorder(params: RunParams, w0: Vec<f64>, recorder: Recorder) -> Self {
        Self {
            params,
            w0,
            script_log: recorder.script_log,
            snapshots: recorder.snapshots,
        }
    }

    /// `m`, the number of initial weights.
    pub fn m(&self) -> usize {
        self.w0.len()
    }
}

/// Every figure, in [`FigureKind::ALL`] order.
pub fn all(data: &FigureData) -> Vec<(FigureKind, Figure)> {
    FigureKind::ALL
        .iter()
        .map(|&kind| (kind, figure(kind, data)))
        .collect()
}

/// One figure.
pub fn figure(kind: FigureKind, data: &FigureData) -> Figure {
    match kind {
        FigureKind::Sparsification => sparsification(data),
        FigureKind::Diagnostics => diagnostics(data),
        FigureKind::RelativeVariance => relative_variance(data),
        FigureKind::Weights => weights(data),
    }
}

/// A parameter as the titles write it: `10^k` for an exact power of ten (`1e-5` is `10^-5`),
/// otherwise the shortest decimal that round-trips (`0.5`, `20000`), or `2e-7` style outside
/// `[0.001, 100000)`.
pub fn format_param(x: f64) -> String {
    if x.is_finite() && x > 0.0 {
        let k = x.log10().round();
        if format!("1e{k}").parse::<f64>() == Ok(x) {
            return format!("10^{k}");
        }
    }
    if x == 0.0 || (1e-3..1e5).contains(&x.abs()) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// The title suffix `(m = 10^5, λ = 10^-5)`.
fn title(what: &str, data: &FigureData) -> String {
    format!(
        "{what} (m = {}, λ = {})",
        format_param(data.m() as f64),
        format_param(data.params.lambda)
    )
}

/// The caption: `h`, the initialisation and where the data come from.
fn caption(data: &FigureData, source: &str) -> String {
    format!(
        "h = {}, init = {}; {source}",
        format_param(data.params.h),
        data.params.init
    )
}

/// The published predictions' common denominator `1/√m + λt` (its `"t * lamb"`).
fn t_lambda(data: &FigureData, t: f64) -> f64 {
    1.0 / (data.m() as f64).sqrt() + data.params.lambda * t
}

/// The published x range `[1, √10/λ]`.
fn time_axis(label: &str, data: &FigureData) -> Axis {
    Axis::log10(label).range(1.0, 10f64.sqrt() / data.params.lambda)
}

/// Figure 1, the published main figure: `m'` and `‖W_i‖₁` with the published predictions
/// `max(1/(1/√m + λt)², 1)` and `max(1/(1/√m + λt), 1)` (dashed), log-log, with the published
/// limits `x ∈ [1, √10/λ]`, `y ∈ [1/√10, m√10]`, from the script's own history rows.
pub fn sparsification(data: &FigureData) -> Figure {
    let rows = &data.script_log;
    let m = data.m() as f64;
    // `SeedPrediction::new` fails only for m = 0 or an invalid lambda, which a run rules out;
    // the curves are then simply left out.
    let prediction = SeedPrediction::new(data.m(), data.params.lambda).ok();
    let predicted = |f: fn(&SeedPrediction, f64) -> Result<f64, sparsify_theory::TheoryError>| {
        rows.iter()
            .map(|r| {
                let y = prediction.as_ref().and_then(|p| f(p, r.t).ok());
                (r.t, y.unwrap_or(f64::NAN))
            })
            .collect::<Vec<_>>()
    };
    let fig = Figure::new(
        title("Dynamics of sparsification", data),
        time_axis("Training time", data),
        Axis::log10("").range(1.0 / 10f64.sqrt(), m * 10f64.sqrt()),
        (720, 600),
    )
    .caption(caption(data, "the script's own history rows"))
    .legend(LegendPos::UpperRight);
    let series = vec![
        Series::line(
            "m'",
            rows.iter().map(|r| (r.t, r.m_prime as f64)).collect(),
            Rgb::BLUE,
        ),
        Series::line(
            "predicted m'",
            predicted(SeedPrediction::m_prime_clamped),
            CYAN,
        )
        .dashed(),
        Series::line(
            "‖W_i‖₁",
            rows.iter().map(|r| (r.t, r.one_norm)).collect(),
            Rgb::RED,
        ),
        Series::line(
            "predicted ‖W_i‖₁",
            predicted(SeedPrediction::one_norm_clamped),
            PINK,
        )
        .dashed(),
    ];
    with_drawable(fig, series)
}

/// Figure 2, the published optional curves: feature benefit, `λ‖w‖₁`, relative variance,
/// `w₁/("t·λ")` and its Gaussian-tail prediction
/// `(√ln m − √ln(m/m'))/(√ln(2m/m') − √ln(m/m'))`, the initial
/// `(w₁ − smallest)/(median − smallest)` at the current `m'`, `"t·λ" = 1/√m + λt`, and
/// `median − smallest`; log-log, y fitted to the data.
pub fn diagnostics(data: &FigureData) -> Figure {
    let rows = &data.script_log;
    let snaps = &data.snapshots;
    let w0 = &data.w0;
    let lambda = data.params.lambda;
    let fig = Figure::new(
        title("Sparsification diagnostics", data),
        time_axis("Training time", data),
        Axis::log10(""),
        (900, 760),
    )
    .caption(caption(data, "scalars: script rows; weights: snapshots"))
    .legend(LegendPos::UpperLeft);
    // Outside 1 <= m' <= m (a run that dropped everything) there is no prediction: NaN.
    let theoretical = |m_prime: usize| theoretical_w1_ratio(data.m(), m_prime).unwrap_or(f64::NAN);
    let initial_ratio = |m_prime: usize| match m_prime.checked_sub(1) {
        Some(last) if last < w0.len() => (w0[0] - w0[last]) / (w0[last / 2] - w0[last]),
        _ => f64::NAN,
    };
    let median_minus_smallest = |w: &[f64]| match w.len().checked_sub(1) {
        Some(last) => w[last / 2] - w[last],
        None => f64::NAN,
    };
    let series = vec![
        Series::line(
            "feature benefit 1 − ‖w‖²",
            rows.iter().map(|r| (r.t, r.feature_benefit)).collect(),
            Rgb::GREEN,
        )
        .with_markers(3),
        Series::line(
            "λ‖w‖₁",
            rows.iter().map(|r| (r.t, lambda * r.one_norm)).collect(),
            Rgb::PURPLE,
        ),
        Series::line(
            "relative variance",
            rows.iter().map(|r| (r.t, r.relative_variance)).collect(),
            Rgb::ORANGE,
        ),
        Series::line(
            "w₁ / (\"t·λ\")",
            snaps
                .iter()
                .map(|s| {
                    let w1 = s.weights.first().copied().unwrap_or(f64::NAN);
                    (s.t, w1 / t_lambda(data, s.t))
                })
                .collect(),
            PINK,
        ),
        Series::line(
            "theoretical w₁ / (\"t·λ\")",
            snaps
                .iter()
                .map(|s| (s.t, theoretical(s.m_prime)))
                .collect(),
            Rgb::GREY,
        ),
        Series::line(
            "initial (w₁ − smallest) / (median − smallest)",
            snaps
                .iter()
                .map(|s| (s.t, initial_ratio(s.m_prime)))
                .collect(),
            Rgb::BLACK,
        ),
        Series::line(
            "\"t·λ\" = 1/√m + λt",
            rows.iter().map(|r| (r.t, t_lambda(data, r.t))).collect(),
            PINK,
        )
        .dashed(),
        Series::line(
            "median − smallest",
            snaps
                .iter()
                .map(|s| (s.t, median_minus_smallest(&s.weights)))
                .collect(),
            Rgb::BLACK,
        )
        .dashed(),
    ];
    // The legend (eight entries) goes in the upper left, above the data: the y range runs from
    // the smallest value to as many decades above the largest as the data span.
    let mut fig = with_drawable(fig, series);
    if let Some((lo, hi)) = positive_y_extent(&fig.series) {
        let decades = (hi / lo).log10().max(1.0);
        fig.y = fig.y.range(lo / 2.0, hi * 10f64.powf(decades));
    }
    fig
}

/// The smallest and largest positive finite y of `series`, if any.
fn positive_y_extent(series: &[Series]) -> Option<(f64, f64)> {
    let ys = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .filter(|y| y.is_finite() && *y > 0.0);
    ys.fold(None, |acc, y| match acc {
        None => Some((y, y)),
        Some((lo, hi)) => Some((f64::min(lo, y), f64::max(hi, y))),
    })
}

/// Figure 3: relative variance against time (`o-`, as published) with the `rel_var_range`
/// lower and upper bounds of the actual initial weights (red) and of the ideal quantiles
/// `Φ⁻¹(0.5 + (j + 0.5)/(2m))` (dashed), at each row's `m'`; log x, linear y.
pub fn relative_variance(data: &FigureData) -> Figure {
    let rows = &data.script_log;
    let w0_range = rel_var_range(&data.w0);
    // `ideal_quantiles` fails only for m = 0; then there are no ideal bounds to draw.
    let ideal = ideal_quantiles(data.m(), None).unwrap_or_default();
    let ideal_range = rel_var_range(&ideal);
    let at_m_prime = |bound: &[f64]| -> Vec<(f64, f64)> {
        rows.iter()
            .map(|r| {
                let y = r
                    .m_prime
                    .checked_sub(1)
                    .and_then(|i| bound.get(i))
                    .copied()
                    .unwrap_or(f64::NAN);
                (r.t, y)
            })
            .collect()
    };
    let fig = Figure::new(
        title("Relative variance", data),
        Axis::log10("Time"),
        Axis::linear("relative variance  var(w)/mean(w)²"),
        (720, 600),
    )
    .caption(caption(data, "the script's own history rows"))
    .legend(LegendPos::UpperLeft);
    let series = vec![
        Series::line(
            "relative variance",
            rows.iter().map(|r| (r.t, r.relative_variance)).collect(),
            Rgb::ORANGE,
        )
        .with_markers(3),
        Series::line(
            "bounds from w0 (rel_var_range)",
            at_m_prime(&w0_range.low),
            Rgb::RED,
        ),
        Series::line("", at_m_prime(&w0_range.high), Rgb::RED),
        Series::line(
            "bounds from ideal quantiles",
            at_m_prime(&ideal_range.low),
            PINK,
        )
        .dashed(),
        Series::line("", at_m_prime(&ideal_range.high), PINK).dashed(),
    ];
    with_drawable(fig, series)
}

/// Figure 4: every recorded surviving weight as a fraction of the largest, against time (log
/// x), as a density of points, with `1 − γ` (the published Euler estimate of the
/// second-largest weight's fraction). The y axis runs to 1.25 so that the legend sits above the
/// data.
pub fn weights(data: &FigureData) -> Figure {
    let mut cloud = Vec::new();
    for s in &data.snapshots {
        if let Some(&w_max) = s.weights.first() {
            cloud.extend(s.weights.iter().map(|&w| (s.t, w / w_max)));
        }
    }
    let h = data.params.h;
    let n_points = cloud.len();
    let mut fig = Figure::new(
        title("Weights as a fraction of the largest", data),
        Axis::log10("Time"),
        Axis::linear("w_j / max w").range(0.0, 1.25),
        (720, 600),
    )
    .caption(caption(data, "all survivors at logged steps"))
    .legend(LegendPos::UpperLeft);
    if n_points > 0 {
        fig = fig.cloud(PointCloud::new(
            format!("surviving weights ({n_points} points)"),
            cloud,
        ));
    }
    let gamma = Series::line(
        "1 − γ (published estimate of w₂/w₁)",
        data.script_log
            .iter()
            .map(|r| (r.t + h, 1.0 - r.gamma))
            .collect(),
        Rgb::RED,
    );
    with_drawable(fig, vec![gamma])
}

/// Adds the series that have at least one point the figure's axes can show (finite, and
/// positive on a log axis), so that a short or degenerate run (e.g. every coordinate dropped
/// in one step) still gives a figure instead of a rendering error.
fn with_drawable(mut fig: Figure, series: Vec<Series>) -> Figure {
    let ok = |v: f64, scale: Scale| v.is_finite() && (scale == Scale::Linear || v > 0.0);
    for s in series {
        if s.points
            .iter()
            .any(|&(x, y)| ok(x, fig.x.scale) && ok(y, fig.y.scale))
        {
            fig = fig.series(s);
        }
    }
    fig
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_are_written_as_powers_of_ten_when_they_are() {
        assert_eq!(format_param(1e5), "10^5");
        assert_eq!(format_param(1e-5), "10^-5");
        assert_eq!(format_param(1.0), "10^0");
        assert_eq!(format_param(0.5), "0.5");
        assert_eq!(format_param(20000.0), "20000");
        assert_eq!(format_param(2e-7), "2e-7");
        assert_eq!(format_param(3e-5), "3e-5");
    }
}

//! `sparsify predict`: closed-form predictions without simulating.
//!
//! Two forms (THEORY.md sections 3 and 4):
//!
//! - from initial weights (a file or a built-in initialisation): the time at which the number
//!   of survivors first becomes `m'`, for every `m'` from `m - 1` down to 1, summed exactly
//!   from the weights in O(m) (`sparsify_theory::death_times`);
//! - `--continuum`: the half-normal continuum limit's curves `m'(t)`, `||w||_1(t)` and the
//!   relative variance `rho(t)` on a log grid of `t` (`sparsify_theory::slow_manifold`).
//!
//! `--order 1` (the default) is the corrected form: the first-order term
//! `-(1/4) ln(F(0)/F(theta))` and the transient's time shift; with `--step H` it predicts the
//! explicit Euler scheme of step `H` instead of the flow (`-((1 - H)/4) ln(F(0)/F(theta))` and
//! Euler's own transient shift). `--order 0` is the leading term
//! `(1/lambda) int_0^theta dth / sqrt(F)` alone.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;
use sparsify_core::InitialWeights;
use sparsify_theory::TheoryError;
use sparsify_theory::continuum::{HalfNormalContinuum, tail_moments};
use sparsify_theory::death_times::{Discretisation, Order, PredictionConfig, death_times};
use sparsify_theory::slow_manifold::{SlowManifold, Z_MAX, log_grid};

use crate::Context;
use crate::error::{CliError, exit};
use crate::init::{InitArgs, InitRecord, initial_weights};
use crate::io::{PendingOutput, fmt_f64};

const EXAMPLES: &str = "\
Examples:
  # Death times of the published run's weights (numpy seed 0, m = 1e5, lambda = 1e-5) for the
  # Euler scheme with h = 0.5, corrected to first order:
  sparsify predict --rng numpy --seed 0 --lambda 1e-5 --step 0.5 --out pred.csv

  # Death times from your own weights, leading order only:
  sparsify predict --init-file w0.npy --lambda 1e-3 --order 0 --out pred.csv

  # The continuum curves m'(t), ||w||_1(t), rho(t) for m = 1e6:
  sparsify predict --continuum --m 1e6 --lambda 1e-6 --out curve.csv

Outputs: m_prime,t (one row per m' = m-1 .. 1, t >= 0; `inf` when the largest weights are tied
and never separate) or, with --continuum, t,m_prime,one_norm,relative_variance.
Exit codes: 0 done; 1 the output could not be written; 2 a bad flag, value or input file.";

/// The flags of `sparsify predict`.
#[derive(Debug, Args)]
#[command(after_long_help = EXAMPLES)]
pub(crate) struct PredictArgs {
    #[command(flatten)]
    weights: InitArgs,

    /// Predict the half-normal continuum limit's curves instead of per-coordinate death times.
    #[arg(long, conflicts_with_all = ["init_file", "seed", "rng", "init"])]
    continuum: bool,

    /// L1 regularisation strength lambda, per unit time: a finite number > 0.
    #[arg(
        long,
        value_name = "LAMBDA",
        default_value = "1e-5",
        allow_negative_numbers = true
    )]
    lambda: f64,

    /// 1: the corrected form (first-order term and transient shift); 0: the leading term only.
    #[arg(long, value_name = "ORDER", default_value = "1", value_parser = parse_order)]
    order: Order,

    /// Predict the explicit Euler scheme with this step h (0 < h < 1) instead of the flow.
    #[arg(long, value_name = "H", allow_negative_numbers = true)]
    step: Option<f64>,

    /// --continuum: first time of the grid, > 0 [default: 1].
    #[arg(
        long,
        value_name = "T",
        requires = "continuum",
        allow_negative_numbers = true
    )]
    t_min: Option<f64>,

    /// --continuum: last time of the grid [default: when the continuum's m' reaches 1].
    #[arg(
        long,
        value_name = "T",
        requires = "continuum",
        allow_negative_numbers = true
    )]
    t_max: Option<f64>,

    /// --continuum: grid points per decade of t, >= 1.
    #[arg(long, value_name = "N", default_value_t = 40, requires = "continuum")]
    points_per_decade: usize,

    /// Write the prediction to this CSV (atomically).
    #[arg(long, value_name = "OUT.csv")]
    out: PathBuf,

    /// Also write what was predicted from what (the initialisation with its seed, lambda,
    /// order, step, grid, sparsify's version) to this JSON file, since the CSV has no room for
    /// it.
    #[arg(long, value_name = "OUT.json")]
    summary: Option<PathBuf>,
}

/// The `--summary` of `sparsify predict`: everything needed to reproduce the CSV.
#[derive(Debug, Serialize)]
struct PredictSummary<'a> {
    command: &'static str,
    sparsify_version: &'static str,
    /// `death_times` (per coordinate, from initial weights) or `continuum`.
    prediction: &'static str,
    lambda: f64,
    order: u8,
    /// The Euler step the prediction is for; `null` for the continuous flow.
    step: Option<f64>,
    transient_shift: bool,
    /// How the initial weights were made (death times only).
    initialisation: Option<InitRecord>,
    /// `m` and `sigma` of the continuum (continuum only).
    m: Option<usize>,
    sigma: Option<f64>,
    rows: usize,
    out: &'a std::path::Path,
}

/// `--order`: 0 or 1.
fn parse_order(s: &str) -> Result<Order, String> {
    match s.trim() {
        "0" => Ok(Order::Leading),
        "1" => Ok(Order::FirstOrder),
        _ => Err("need 0 (leading term) or 1 (first-order corrected form)".to_owned()),
    }
}

/// A library error caused by the value of `flag`, as one usage line.
fn theory(flag: &str, e: &TheoryError) -> CliError {
    CliError::usage(format!("{flag}: {e}"))
}

/// The flag a theory error is about.
fn flag_for(e: &TheoryError) -> &'static str {
    match e {
        TheoryError::InvalidParameter { name: "lambda", .. } => "--lambda",
        TheoryError::InvalidParameter { name: "h", .. } => "--step",
        TheoryError::InvalidParameter { name: "sigma", .. } => "--sigma",
        TheoryError::InvalidParameter { name: "t_min", .. } => "--t-min",
        TheoryError::InvalidParameter {
            name: "t_max" | "t",
            ..
        } => "--t-max",
        TheoryError::InvalidCount {
            name: "points_per_decade",
            ..
        } => "--points-per-decade",
        TheoryError::InvalidCount { name: "m", .. } => "--m",
        TheoryError::InvalidWeight { .. } | TheoryError::NotSortedDescending { .. } => {
            "initial weights"
        }
        _ => "sparsify predict",
    }
}

/// Runs `sparsify predict`.
pub(crate) fn execute(args: &PredictArgs, _ctx: &mut Context<'_>) -> Result<u8, CliError> {
    let discretisation = match args.step {
        Some(h) => Discretisation::Euler { h },
        None => Discretisation::Continuous,
    };
    // The transient shift belongs to the corrected form; order 0 is the bare leading term.
    let shift = args.order == Order::FirstOrder;
    let cfg = PredictionConfig::new(args.lambda, args.order, discretisation, shift)
        .map_err(|e| theory(flag_for(&e), &e))?;
    if !args.continuum {
        args.weights.check_seed()?;
    }
    if args.summary.as_deref() == Some(args.out.as_path()) {
        return Err(CliError::usage(format!(
            "--summary {}: the same file as --out; give them different paths",
            args.out.display()
        )));
    }
    let mut out = PendingOutput::create("--out", &args.out)?;
    let summary_out = match &args.summary {
        Some(path) => Some(PendingOutput::create("--summary", path)?),
        None => None,
    };
    let mut summary = PredictSummary {
        command: "predict",
        sparsify_version: env!("CARGO_PKG_VERSION"),
        prediction: if args.continuum {
            "continuum"
        } else {
            "death_times"
        },
        lambda: args.lambda,
        order: match args.order {
            Order::Leading => 0,
            Order::FirstOrder => 1,
        },
        step: args.step,
        transient_shift: shift,
        initialisation: None,
        m: None,
        sigma: None,
        rows: 0,
        out: &args.out,
    };
    if args.continuum {
        let rows = continuum_rows(args, cfg)?;
        out.write(|w| write_curve(w, &rows))?;
        summary.m = Some(args.weights.m);
        summary.sigma = Some(
            args.weights
                .sigma
                .unwrap_or_else(|| InitialWeights::default_sigma(args.weights.m)),
        );
        summary.rows = rows.len();
    } else {
        let (w0, record) = initial_weights(&args.weights)?;
        let times = death_times(w0.as_slice(), &cfg).map_err(|e| theory(flag_for(&e), &e))?;
        out.write(|w| write_death_times(w, times.as_slice()))?;
        summary.initialisation = Some(record);
        summary.rows = times.as_slice().len();
    }
    if let Some(mut summary_out) = summary_out {
        summary_out.write(|w| {
            serde_json::to_writer_pretty(&mut *w, &summary)?;
            writeln!(w)
        })?;
        out.commit()?;
        summary_out.commit()?;
    } else {
        out.commit()?;
    }
    Ok(exit::SUCCESS)
}

/// The continuum curve on the requested log grid of `t`.
fn continuum_rows(
    args: &PredictArgs,
    cfg: PredictionConfig,
) -> Result<Vec<sparsify_theory::slow_manifold::CurveRow>, CliError> {
    let continuum = match args.weights.sigma {
        Some(s) => HalfNormalContinuum::new(args.weights.m, s),
        None => HalfNormalContinuum::published(args.weights.m),
    }
    .map_err(|e| theory(flag_for(&e), &e))?;
    let manifold = SlowManifold::new(continuum, cfg).map_err(|e| theory(flag_for(&e), &e))?;
    let t_min = args.t_min.unwrap_or(1.0);
    let t_max = match args.t_max {
        Some(t) => t,
        None => {
            // The continuum's m' = 2 m Q(z) reaches 1 at z = Phi^-1(1 - 1/(2m)), far below
            // Z_MAX for any usize m.
            let z_one = z_where_one_survives(args.weights.m);
            manifold
                .time_at_theta(z_one * continuum.sigma())
                .map_err(|e| theory(flag_for(&e), &e))?
        }
    };
    if !(t_min.is_finite() && t_min > 0.0) {
        return Err(CliError::usage(format!(
            "--t-min {t_min}: must be a finite number > 0"
        )));
    }
    if !(t_max.is_finite() && t_max >= t_min) {
        return Err(CliError::usage(format!(
            "--t-max {t_max}: must be a finite number >= the first time of the grid, {t_min}"
        )));
    }
    let grid =
        log_grid(t_min, t_max, args.points_per_decade).map_err(|e| theory(flag_for(&e), &e))?;
    manifold.curve(&grid).map_err(|e| theory(flag_for(&e), &e))
}

/// `z` with `2 m Q(z) = 1`, `Q(z) = 1 - Phi(z)` (from the theory crate's erfc-based tail
/// moments, accurate in the far tail), by bisection on `[0, Z_MAX]`: `Q` is decreasing and 200
/// halvings reach the resolution of f64.
pub(crate) fn z_where_one_survives(m: usize) -> f64 {
    let target = 1.0 / (2.0 * m as f64);
    let q = |z: f64| tail_moments(z).map_or(0.0, |t| t.q);
    let (mut lo, mut hi) = (0.0, Z_MAX);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if q(mid) > target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

fn write_death_times(w: &mut dyn Write, times: &[f64]) -> std::io::Result<()> {
    writeln!(w, "m_prime,t")?;
    // times[n - 1] belongs to m' = n; rows from m - 1 down to 1, in the order they happen.
    // The transient shift (about 0.06 time units) can place the very first deaths of a run
    // with a strong pull (large lambda ||w0||_1) slightly before t = 0; nothing dies before
    // the run starts, so those times are written as 0.
    for (i, &t) in times.iter().enumerate().rev() {
        writeln!(w, "{},{}", i + 1, fmt_f64(t.max(0.0)))?;
    }
    Ok(())
}

fn write_curve(
    w: &mut dyn Write,
    rows: &[sparsify_theory::slow_manifold::CurveRow],
) -> std::io::Result<()> {
    writeln!(w, "t,m_prime,one_norm,relative_variance")?;
    for r in rows {
        writeln!(
            w,
            "{},{},{},{}",
            fmt_f64(r.t),
            fmt_f64(r.m_prime),
            fmt_f64(r.one_norm),
            fmt_f64(r.relative_variance)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_survivor_quantile() {
        // 2 m Q(z) = 1 at m = 1e5: Q = 5e-6, z = 4.4172 (tables of the normal quantile).
        let z = z_where_one_survives(100_000);
        assert!((z - 4.417_173).abs() < 1e-5, "{z}");
    }

    #[test]
    fn order_parses_0_and_1_only() {
        assert_eq!(parse_order("0"), Ok(Order::Leading));
        assert_eq!(parse_order("1"), Ok(Order::FirstOrder));
        assert!(parse_order("2").is_err());
    }
}

//! `sparsify predict`: closed-form predictions without simulating.
//!
//! Two forms (docs/theory.md §3 and §4):
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
//!
//! `--n N` predicts something else: the n-feature model's count of polysemantic neurons
//! (docs/theory.md §8), printed rather than written (module [`nfeature`]).

mod nfeature;

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::Ordering;

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
use crate::io::{Content, PendingOutput, check_distinct, fmt_f64, write_all};
use crate::memory;

const EXAMPLES: &str = "\
Examples:
  # Death times of the published run's weights (numpy seed 0, m = 1e5, lambda = 1e-5) for the
  # Euler scheme with h = 0.5, corrected to first order:
  sparsify predict --rng numpy --seed 0 --lambda 1e-5 --step 0.5 --out pred.csv

  # Death times from your own weights, leading order only:
  sparsify predict --init-file w0.npy --lambda 1e-3 --order 0 --out pred.csv

  # The continuum curves m'(t), ||w||_1(t), rho(t) for m = 1e6:
  sparsify predict --continuum --m 1e6 --lambda 1e-6 --out curve.csv

  # The n-feature model: n^2/4m, the occupancy model and the relocation model's band for
  # 64 features on 512 neurons, as JSON; and the relocation model for each instance of a W0:
  sparsify predict --n 64 --m 512 --json
  sparsify predict --n 32 --init-file w0.npy

With --n, the predictions are printed (text, or one JSON object with --json: n2_over_4m,
initial_collisions_mean, occupancy_mean, occupancy_std, relocation_mean, relocation_std,
relocation_band = [q05, q95] of one instance's count over --draws random W0 seeded by
--seed (null with --draws 0), and with --init-file, an array of shape (instances, n, m), relocation_per_instance).
Sizes whose band would take more than about ten seconds are refused (lower --draws).

Outputs: m_prime,t (one row per m' = m-1 .. 1, t >= 0; `inf` when the largest weights are tied
and never separate) or, with --continuum, t,m_prime,one_norm,relative_variance. They are
written as `sparsify run`'s are (see `sparsify run --help`): complete or not at all, through
symlinks and devices, never onto the --init-file or each other.

Ctrl-C or SIGTERM stops a prediction within a second and writes nothing; a second one exits at
once.

Exit codes: 0 done; 2 a bad flag, value or input file, or more memory than the machine has
(nothing written); 74 an output could not be written (no file replaced); 130 stopped by
Ctrl-C, 143 by SIGTERM (nothing written).";

/// The flags of `sparsify predict`.
#[derive(Debug, Args)]
#[command(after_long_help = EXAMPLES)]
#[command(group(clap::ArgGroup::new("nfeature_size").args(["m", "init_file"])))]
pub(crate) struct PredictArgs {
    #[command(flatten)]
    weights: InitArgs,

    /// Predict the n-feature model instead: the number of polysemantic neurons of N features
    /// on --m neurons (n^2/4m, the occupancy and relocation models of docs/theory.md §8),
    /// printed; with --init-file (an .npy of shape (instances, N, m)), also the relocation
    /// model's count for each instance.
    #[arg(
        long,
        value_name = "N",
        value_parser = parse_n,
        allow_hyphen_values = true,
        requires = "nfeature_size",
        conflicts_with_all = [
            "continuum", "lambda", "order", "step", "t_min", "t_max", "points_per_decade",
            "out", "summary", "rng", "init", "sigma", "abs",
        ]
    )]
    n: Option<usize>,

    /// With --n: print one JSON object instead of text.
    #[arg(long, requires = "n")]
    json: bool,

    /// With --n: random W0 relocated for the relocation model's mean and band (seeded by
    /// --seed), a whole number >= 0 (0: the closed forms alone) [default: 400].
    #[arg(long, value_name = "K", value_parser = parse_draws, requires = "n")]
    draws: Option<usize>,

    /// Predict the half-normal continuum limit's curves instead of per-coordinate death times.
    #[arg(long, conflicts_with_all = ["init_file", "seed", "rng", "init"])]
    continuum: bool,

    /// L1 regularisation strength lambda, per unit time: a finite number > 0.
    #[arg(
        long,
        value_name = "LAMBDA",
        default_value = "1e-5",
        allow_hyphen_values = true
    )]
    lambda: f64,

    /// 1: the corrected form (first-order term and transient shift); 0: the leading term only.
    #[arg(long, value_name = "ORDER", default_value = "1", value_parser = parse_order)]
    order: Order,

    /// Predict the explicit Euler scheme with this step h (0 < h < 1) instead of the flow.
    #[arg(long, value_name = "H", allow_hyphen_values = true)]
    step: Option<f64>,

    /// --continuum: first time of the grid, > 0 [default: 1].
    #[arg(
        long,
        value_name = "T",
        requires = "continuum",
        allow_hyphen_values = true
    )]
    t_min: Option<f64>,

    /// --continuum: last time of the grid [default: when the continuum's m' reaches 1].
    #[arg(
        long,
        value_name = "T",
        requires = "continuum",
        allow_hyphen_values = true
    )]
    t_max: Option<f64>,

    /// --continuum: grid points per decade of t, a whole number >= 1 (`1e3` style accepted).
    #[arg(
        long,
        value_name = "N",
        default_value = "40",
        value_parser = parse_points,
        requires = "continuum",
        allow_hyphen_values = true
    )]
    points_per_decade: usize,

    /// Write the prediction to this CSV (atomically); required except with --n.
    #[arg(long, value_name = "OUT.csv", required_unless_present = "n")]
    out: Option<PathBuf>,

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

/// `--n`: a whole number >= 1 (`1e3` style accepted).
fn parse_n(s: &str) -> Result<usize, String> {
    match crate::init::parse_count(s, "need a whole number of features >= 1, like 64") {
        Ok(0) => Err("need a whole number of features >= 1, like 64".to_owned()),
        other => other,
    }
}

/// `--draws`: a whole number >= 0 (`1e3` style accepted).
fn parse_draws(s: &str) -> Result<usize, String> {
    crate::init::parse_count(s, "need a whole number of draws >= 0, like 400")
}

/// `--points-per-decade`: a whole number, written as an integer or a float such as `1e3`.
fn parse_points(s: &str) -> Result<usize, String> {
    crate::init::parse_count(s, "need a whole number >= 1, like 40 or 1e3")
}

/// A library error caused by the value of `flag`, as one usage line.
fn theory(flag: &str, e: &TheoryError) -> CliError {
    CliError::usage(format!(
        "{flag}: {}",
        crate::error::short_floats(&e.to_string())
    ))
}

/// Bytes per weight of a death-time prediction: the weights, and the theory's prefix means,
/// centred moments and times (four vectors of m).
const DEATH_TIMES_BYTES_PER_WEIGHT: u64 = 4 * 8;

/// Bytes per grid point of a continuum curve: the time and its row of four numbers.
const CURVE_BYTES_PER_POINT: u64 = 5 * 8;

/// How often (in rows) writing a large CSV looks at the interrupt flag.
const ROWS_PER_POLL: usize = 1 << 16;

/// Runs `work` on its own thread and waits for it, looking at the interrupt flag every 20 ms:
/// its result, or an interrupted error (saying it was `doing`) within that long after a
/// Ctrl-C. The closed forms take seconds at m = 1e8 and poll nothing themselves; an abandoned
/// thread ends with the process, which exits right after.
fn interruptible<T: Send + 'static>(
    ctx: &Context<'_>,
    doing: &str,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, CliError> {
    let handle = std::thread::spawn(work);
    while !handle.is_finished() {
        if ctx.interrupted.load(Ordering::Relaxed) {
            return Err(CliError::interrupted(doing));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    Ok(handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
}

/// The flag a theory error is about.
fn flag_for(e: &TheoryError) -> &'static str {
    match e {
        TheoryError::InvalidParameter { name: "lambda", .. } => "--lambda",
        TheoryError::InvalidParameter { name: "h", .. } => "--step",
        // ||w0||^2 = m sigma^2 overflows (or theta is beyond the continuum) for a huge sigma;
        // with --init-file the caller says "--init-file" instead.
        TheoryError::InvalidParameter {
            name: "sigma" | "theta" | "sq_norm0",
            ..
        } => "--sigma",
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
pub(crate) fn execute(args: &PredictArgs, ctx: &mut Context<'_>) -> Result<u8, CliError> {
    if let Some(n) = args.n {
        return nfeature::execute(n, args, ctx);
    }
    // Clap's `requires` does not fire for these (checked by the tests): refuse them here.
    for (given, flag) in [(args.json, "--json"), (args.draws.is_some(), "--draws")] {
        if given {
            return Err(CliError::usage(format!(
                "{flag}: only with --n (the n-feature model's predictions)"
            )));
        }
    }
    // Clap requires --out unless --n is given.
    let Some(out_path) = args.out.as_deref() else {
        return Err(CliError::usage(
            "--out: required (or --n for the n-feature model)",
        ));
    };
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
    let out = PendingOutput::create("--out", out_path)?;
    let summary_out = match &args.summary {
        Some(path) => Some(PendingOutput::create("--summary", path)?),
        None => None,
    };
    let inputs: Vec<(&str, &std::path::Path)> = args
        .weights
        .init_file
        .as_deref()
        .map(|p| ("--init-file", p))
        .into_iter()
        .collect();
    let all: Vec<&PendingOutput> = std::iter::once(&out).chain(&summary_out).collect();
    check_distinct(&all, &inputs)?;
    let stop = || ctx.interrupted.load(Ordering::Relaxed);
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
        out: out_path,
    };
    let interrupted = std::io::Error::other("interrupted");
    let curve;
    let times;
    let csv: Content<'_>;
    if args.continuum {
        curve = continuum_rows(args, cfg, ctx)?;
        let rows = &curve;
        csv = Content::Text(Box::new(move |w| write_curve(w, rows, &stop)));
        summary.m = Some(args.weights.m);
        summary.sigma = Some(
            args.weights
                .sigma
                .unwrap_or_else(|| InitialWeights::default_sigma(args.weights.m)),
        );
        summary.rows = rows.len();
    } else {
        if args.weights.init_file.is_none() {
            memory::check(
                &format!("--m {}", args.weights.m),
                memory::Need::bytes(DEATH_TIMES_BYTES_PER_WEIGHT, args.weights.m, "weights"),
            )?;
        }
        let (w0, record) = initial_weights(&args.weights, &stop)?;
        if args.weights.init_file.is_some() {
            memory::check(
                "--init-file",
                memory::Need::bytes(DEATH_TIMES_BYTES_PER_WEIGHT - 8, w0.len(), "weights"),
            )?;
        }
        times = interruptible(ctx, "predicting the death times", move || {
            death_times(w0.as_slice(), &cfg)
        })?
        .map_err(|e| {
            let flag = match flag_for(&e) {
                "--sigma" | "initial weights" if args.weights.init_file.is_some() => "--init-file",
                flag => flag,
            };
            theory(flag, &e)
        })?;
        let t = times.as_slice();
        csv = Content::Text(Box::new(move |w| write_death_times(w, t, &stop)));
        summary.initialisation = Some(record);
        summary.rows = times.as_slice().len();
    }
    let mut outputs = vec![(out, csv)];
    if let Some(summary_out) = summary_out {
        let summary = &summary;
        outputs.push((
            summary_out,
            Content::Text(Box::new(move |w| {
                serde_json::to_writer_pretty(&mut *w, summary)?;
                writeln!(w)
            })),
        ));
    }
    match write_all(outputs) {
        Err(CliError::Io { source, .. }) if source.kind() == interrupted.kind() && stop() => {
            Err(CliError::interrupted("writing the prediction"))
        }
        other => other.map(|()| exit::SUCCESS),
    }
}

/// The continuum curve on the requested log grid of `t`.
fn continuum_rows(
    args: &PredictArgs,
    cfg: PredictionConfig,
    ctx: &Context<'_>,
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
            "--t-min {}: must be a finite number > 0",
            fmt_f64(t_min)
        )));
    }
    if !(t_max.is_finite() && t_max >= t_min) {
        return Err(CliError::usage(format!(
            "--t-max {}: must be a finite number >= the first time of the grid, {}",
            fmt_f64(t_max),
            fmt_f64(t_min)
        )));
    }
    // The grid has ceil(decades * points per decade) + 1 points; refused before it is made.
    // (The ratio itself must be finite: the grid is built from it.)
    if !(t_max / t_min).is_finite() {
        return Err(CliError::usage(format!(
            "--t-max {} / --t-min {}: the ratio overflows; narrow the range",
            fmt_f64(t_max),
            fmt_f64(t_min)
        )));
    }
    let points = ((t_max / t_min).log10() * args.points_per_decade as f64).ceil() + 2.0;
    let points = if points < usize::MAX as f64 {
        points as usize
    } else {
        usize::MAX
    };
    memory::check(
        &format!("--points-per-decade {}", args.points_per_decade),
        memory::Need::bytes(CURVE_BYTES_PER_POINT, points, "grid points"),
    )?;
    let grid =
        log_grid(t_min, t_max, args.points_per_decade).map_err(|e| theory(flag_for(&e), &e))?;
    interruptible(ctx, "computing the continuum curve", move || {
        manifold.curve(&grid)
    })?
    .map_err(|e| theory(flag_for(&e), &e))
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

fn write_death_times(
    w: &mut dyn Write,
    times: &[f64],
    stop: &dyn Fn() -> bool,
) -> std::io::Result<()> {
    writeln!(w, "m_prime,t")?;
    // times[n - 1] belongs to m' = n; rows from m - 1 down to 1, in the order they happen.
    // The transient shift (about 0.06 time units) can place the very first deaths of a run
    // with a strong pull (large lambda ||w0||_1) slightly before t = 0; nothing dies before
    // the run starts, so those times are written as 0. A NaN stays NaN (`f64::max` would
    // turn it into 0): the theory never returns one, and if it did, a 0 would hide it.
    for (i, &t) in times.iter().enumerate().rev() {
        if i % ROWS_PER_POLL == 0 && stop() {
            return Err(std::io::Error::other("interrupted"));
        }
        let t = if t < 0.0 { 0.0 } else { t };
        writeln!(w, "{},{}", i + 1, fmt_f64(t))?;
    }
    Ok(())
}

fn write_curve(
    w: &mut dyn Write,
    rows: &[sparsify_theory::slow_manifold::CurveRow],
    stop: &dyn Fn() -> bool,
) -> std::io::Result<()> {
    writeln!(w, "t,m_prime,one_norm,relative_variance")?;
    for (i, r) in rows.iter().enumerate() {
        if i % ROWS_PER_POLL == 0 && stop() {
            return Err(std::io::Error::other("interrupted"));
        }
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

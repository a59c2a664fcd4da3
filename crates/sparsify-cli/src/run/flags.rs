//! The flags of `sparsify run`, and its help: the dynamics flags are generated from the
//! registry of variants (`--dynamics NAME`, `--param NAME=VALUE`), so a new variant needs no
//! edit here.

use std::path::PathBuf;

use clap::builder::{PossibleValue, PossibleValuesParser};
use clap::{Args, ValueEnum};
use sparsify_core::{Method, SumMode, VARIANTS};

use crate::init::InitArgs;

/// `--max-steps` when not given: far above the published run (363,444 Euler steps) and every
/// test, and about 5 s of the reduced solver's O(1) steps; a run estimated to need more is
/// refused before it starts (see `plan::estimate_steps`).
pub(crate) const DEFAULT_MAX_STEPS: u64 = 1_000_000_000;
/// `--rtol` when not given.
pub(crate) const DEFAULT_RTOL: f64 = 1e-8;
/// `--atol` when not given.
pub(crate) const DEFAULT_ATOL: f64 = 1e-12;

pub(crate) const EXAMPLES: &str = "\
Examples:
  # Reproduce the published run (numpy's random stream with seed 0, m = 1e5, lambda = 1e-5,
  # h = 0.5) and keep everything it records:
  sparsify run --rng numpy --seed 0 --trajectory paper.csv --deaths paper-deaths.csv --summary paper.json

  # A quick look: 10^4 coordinates, stronger regularisation, a summary on the terminal:
  sparsify run --m 1e4 --lambda 1e-4

  # Start from your own weights (one number per line, signs dropped), with pairwise sums:
  sparsify run --init-file w0.txt --abs --sum pairwise --summary run.json

  # The published main figure, for other parameters:
  sparsify run --m 1e4 --lambda 1e-4 --rng numpy --figure small.png

  # The same Euler run in O(1) per step (the same death steps as the default direct solver):
  sparsify run --m 1e4 --lambda 1e-4 --rng numpy --method reduced --deaths small-deaths.csv

  # Continuous time: every death located exactly, tolerances 1e-10 / 1e-13:
  sparsify run --m 1e4 --lambda 1e-4 --method adaptive --rtol 1e-10 --atol 1e-13 --deaths exact.csv

  # Other dynamics: weight decay mu = 0.05, or an Lp penalty with p = 0.5:
  sparsify run --m 1e4 --lambda 1e-4 --dynamics l1-l2 --param mu=0.05 --method reduced
  sparsify run --m 1e3 --lambda 1e-3 --dynamics lp --param p=0.5 --method adaptive

  # A hundred million coordinates in seconds (parallel seeded draws, ~0.8 GB of memory):
  sparsify run --m 1e8 --method reduced --parallel-init --summary big.json

In --method adaptive the trajectory rows are the flow's state at the reference checkpoint
times t = step*h (h from --step, which sets only that grid), plus the end of the run with an
empty step field; the deaths CSV gives each located crossing time t with an empty step field.

A run whose survivors reach a state it cannot leave (tied weights at their fixed point, or
weights that Euler's rounding has merged) stops there: stop reason \"stalled\", exit 0. A run
estimated to need more than --max-steps steps is refused before it starts.

Outputs: a regular file is written to a temporary directory .sparsify-*.tmp beside it and
renamed into place once every output is complete, so it is replaced whole or not at all; a
symlink is followed (its target is replaced, the link kept); a device or FIFO (/dev/null,
/dev/stdout, a named pipe) is written directly. An output that is the --init-file or another
output (however spelled), a directory, or a path in a directory that does not exist is refused
before the run. When one output cannot be written, no file is replaced.

Signals: the first Ctrl-C (or SIGTERM) stops the run within a second; a run stopped in its
loop writes every output, marked \"complete\": false; stopped while drawing, sorting or
summing the initial weights, it writes nothing. A second Ctrl-C (or SIGTERM) exits at once,
removes the temporary files and leaves every output path as it was.

Exit codes: 0 done (one survivor left, or stalled); 2 a bad flag, value or input file, more
memory than the machine has, or more steps than --max-steps (refused before the run, nothing
written), or a step found unstable during the run or an overflow (nothing written); 74 an
output could not be written (no file replaced); 130 stopped by Ctrl-C, 143 stopped by SIGTERM.";

/// The flags of `sparsify run`.
#[derive(Debug, Args)]
#[command(after_long_help = EXAMPLES)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    pub(crate) weights: InitArgs,

    /// L1 regularisation strength lambda, per unit time: a finite number > 0.
    #[arg(
        long,
        value_name = "LAMBDA",
        default_value = "1e-5",
        allow_hyphen_values = true
    )]
    pub(crate) lambda: f64,

    /// Euler step size h, in time units: a finite number > 0, small enough that
    /// 1 + h*(1 - ||w||^2) stays > 0 (h < 1 always is for the default initialisation). With
    /// --method adaptive it only spaces the output grid t = step*h.
    #[arg(
        long,
        value_name = "H",
        default_value = "0.5",
        allow_hyphen_values = true
    )]
    pub(crate) step: f64,

    /// Draw the half-normal weights in parallel (pcg64 only): chunks of 2^20 draws, each from
    /// its own seeded Pcg64, then a parallel in-place sort. The same --seed gives *different*
    /// weights than without this flag (recorded as rng `pcg64-parallel` in the summary), but
    /// the same weights on any number of threads. Use it from m ~ 1e7 on, where the
    /// sequential draw takes seconds.
    #[arg(long, conflicts_with = "init_file")]
    pub(crate) parallel_init: bool,

    /// Summation order of ||w||_1 and ||w||_2^2, for --method direct only (refused with the
    /// others): `sequential` reproduces the published script bit for bit; `pairwise` is faster
    /// and more accurate [default: sequential].
    #[arg(long, value_name = "SUM", value_enum)]
    pub(crate) sum: Option<SumArg>,

    #[command(flatten)]
    pub(crate) solver: SolverArgs,

    /// Write the checkpoints to this CSV: step,t,m_prime,one_norm,sq_norm,w_max,w_min,
    /// relative_variance,gamma (every step to 50, then about 40 per decade, and the last).
    /// With --method adaptive: the state at t = step*h for those steps, and a last row at the
    /// end of the run with an empty step field.
    #[arg(long, value_name = "OUT.csv")]
    pub(crate) trajectory: Option<PathBuf>,

    /// Write every change of m' to this CSV: step,t,m_prime (after Euler step `step`, at
    /// t = step*h). With --method adaptive: one row per located death, `t` the crossing time
    /// and `step` empty.
    #[arg(long, value_name = "OUT.csv")]
    pub(crate) deaths: Option<PathBuf>,

    /// Write parameters, totals, initial and final state and timing to this JSON file.
    #[arg(long, value_name = "OUT.json")]
    pub(crate) summary: Option<PathBuf>,

    /// Draw the main figure (m' and ||W_i||_1 against time, with the published predictions,
    /// titled with this run's parameters) to OUT.png or OUT.svg, from the published script's
    /// own history rows of this run.
    #[arg(long, value_name = "OUT.png|OUT.svg")]
    pub(crate) figure: Option<PathBuf>,
}

/// Summation orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SumArg {
    /// Left to right over the sorted weights, the published script's order.
    Sequential,
    /// Blocks of 128 with 8 lanes, combined pairwise.
    Pairwise,
}

impl From<SumArg> for SumMode {
    fn from(s: SumArg) -> Self {
        match s {
            SumArg::Sequential => SumMode::Sequential,
            SumArg::Pairwise => SumMode::Pairwise,
        }
    }
}

/// The solver flags of `sparsify run`.
#[derive(Debug, Args)]
pub(crate) struct SolverArgs {
    /// Solver: `direct` is the published Euler loop on every coordinate (bitwise the published
    /// script with --dynamics l1 and --sum sequential); `reduced` is the same Euler recursion on
    /// two scalars with prefix moments (O(m log m) set-up, O(1) per step; the same death steps
    /// as direct; needs an affine dynamics, see --dynamics); `adaptive` integrates the flow in
    /// continuous time (Dormand-Prince 5(4), tolerances --rtol/--atol) and locates every death
    /// time exactly, without the O(h) shift of Euler: O(1) per step for affine dynamics, but
    /// O(m') per step and a restart at each of the m-1 deaths otherwise (about 7 s at m = 1e4
    /// for lp, growing like m^2).
    #[arg(long, value_name = "METHOD", value_enum, default_value_t = MethodArg::Direct)]
    pub(crate) method: MethodArg,

    /// Dynamics variant, with its parameters given by --param NAME=VALUE.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "l1",
        value_parser = dynamics_names(),
        long_help = dynamics_help()
    )]
    pub(crate) dynamics: String,

    /// A parameter of the --dynamics variant, NAME=VALUE (repeatable): each variant's names,
    /// ranges and defaults are listed under --dynamics; a required one must be given, and a
    /// name the variant does not take is refused.
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
    pub(crate) params: Vec<(String, f64)>,

    /// Relative tolerance of --method adaptive (refused with other methods): a number in
    /// [1e-14, 1) [default: 1e-8].
    #[arg(long, value_name = "RTOL", allow_hyphen_values = true)]
    pub(crate) rtol: Option<f64>,

    /// Absolute tolerance of --method adaptive (refused with other methods), in units of the
    /// weights: a finite number > 0 [default: 1e-12].
    #[arg(long, value_name = "ATOL", allow_hyphen_values = true)]
    pub(crate) atol: Option<f64>,

    /// The step budget: a run whose closed-form length (the slow-manifold time until one
    /// survivor is left, from the two largest initial weights up: an upper bound for l1) needs
    /// more steps than this is refused before it starts, and a run that exceeds it stops with
    /// an error [default: 1e9, about 5 s of --method reduced; the published run takes 363,444].
    #[arg(long, value_name = "N", value_parser = parse_steps)]
    pub(crate) max_steps: Option<u64>,
}

/// `--method`, with the help text of each value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum MethodArg {
    /// The published Euler loop on every coordinate, O(m') per step.
    Direct,
    /// The Euler recursion on (alpha, beta) with prefix moments, O(1) per step (affine
    /// dynamics only).
    Reduced,
    /// Continuous time, Dormand-Prince 5(4), located deaths.
    Adaptive,
}

impl From<MethodArg> for Method {
    fn from(m: MethodArg) -> Self {
        match m {
            MethodArg::Direct => Method::Direct,
            MethodArg::Reduced => Method::Reduced,
            MethodArg::Adaptive => Method::Adaptive,
        }
    }
}

/// The registry's names.
fn dynamics_names() -> PossibleValuesParser {
    PossibleValuesParser::new(VARIANTS.iter().map(|v| PossibleValue::new(v.name)))
}

/// `--dynamics` in full: every variant of the registry, its parameters (range, default) and
/// the methods that apply.
fn dynamics_help() -> String {
    let mut help = String::from(
        "Dynamics variant, with its parameters given by --param NAME=VALUE. The variants:\n",
    );
    for v in VARIANTS {
        help.push_str(&format!("\n  {}: dw/dt = {}", v.name, v.about));
        for p in v.params {
            let default = p
                .default
                .map_or_else(|| "required".to_owned(), |d| format!("default {d}"));
            help.push_str(&format!(
                "\n      --param {}=VALUE: {}, {} ({default})",
                p.name,
                p.help,
                p.range.describe(p.name)
            ));
        }
        let methods: Vec<&str> = v.methods.iter().map(|m| m.name()).collect();
        help.push_str(&format!("\n      methods: {}", methods.join(", ")));
    }
    help
}

/// `--param NAME=VALUE`.
fn parse_param(s: &str) -> Result<(String, f64), String> {
    let hint = "need NAME=VALUE with a number, like mu=0.05";
    let (name, value) = s.split_once('=').ok_or_else(|| hint.to_owned())?;
    let value: f64 = value.trim().parse().map_err(|_| hint.to_owned())?;
    Ok((name.trim().to_owned(), value))
}

/// `--max-steps`: a whole number >= 1, written as an integer or a float such as `1e9`.
pub(crate) fn parse_steps(s: &str) -> Result<u64, String> {
    const HINT: &str = "need a whole number >= 1, like 1000000000 or 1e9";
    let x: f64 = s.trim().parse().map_err(|_| HINT.to_owned())?;
    // Below 2^53 every whole f64 is exact, so the conversion loses nothing.
    if x.is_finite() && x >= 1.0 && x.fract() == 0.0 && x <= 2f64.powi(53) {
        Ok(x as u64)
    } else {
        Err(HINT.to_owned())
    }
}

//! `sparsify run`: one simulation from initial weights to a single survivor (Euler on the
//! whole vector, Euler on the reduced state, or the continuous-time flow), with its trajectory,
//! death events and summary.
//!
//! `flags` declares the flags (the dynamics ones generated from the library's registry),
//! `plan` checks them and estimates the run's length, `solve` runs the library's one entry
//! point, `outputs` writes the files and `human` the terminal summary and figure caption.

mod flags;
mod human;
mod outputs;
mod plan;
mod solve;

use std::path::Path;

use sparsify_core::{InitialWeights, ScriptRow};
use sparsify_experiments::figures::{self, FigureData, RunParams};
use sparsify_plot::PlotError;

use crate::Context;
use crate::error::{CliError, exit};
use crate::init::{self, InitKind, InitRecord, RngKind};
use crate::io::fmt_f64;
use crate::progress::Phase;
pub(crate) use flags::RunArgs;
use outputs::{Outputs, Report, RunSolver};
use plan::Plan;
pub(crate) use plan::flag_for;

/// Runs `sparsify run`; returns the exit code on success (0, or 130 when interrupted).
pub(crate) fn execute(args: &RunArgs, ctx: &mut Context<'_>) -> Result<u8, CliError> {
    let plan = Plan::new(args)?;
    args.weights.check_seed()?;
    check_parallel_init(args)?;
    let outputs = Outputs::create(args)?;
    let (w0, init) = run_initial_weights(args, ctx.progress)?;
    plan.check_budget(&w0)?;
    let m = w0.len();
    // The figure needs the initial weights (their number) after the simulation has taken them.
    let figure_w0 = args.figure.as_ref().map(|_| w0.as_slice().to_vec());
    let solver = RunSolver {
        method: plan.method,
        solver: plan.routine()?,
        dynamics: plan.variant.name,
        params: plan.params.clone(),
        rtol: plan.adaptive.map(|a| a.rtol()),
        atol: plan.adaptive.map(|a| a.atol()),
    };
    // The published script's history rows are what the figure plots; a few dozen rows.
    let outcome = solve::run(
        &plan,
        w0,
        args.figure.is_some(),
        ctx.progress,
        ctx.interrupted,
        args.weights.init_file.is_some(),
    )?;

    let report = Report {
        lambda: plan.lambda,
        h: plan.h,
        sum: plan.sum.name(),
        solver,
        m,
        init,
        parallel_init: args.parallel_init,
        outcome: &outcome,
    };
    let any_output = outputs.any() || args.figure.is_some();
    outputs.write_all(&report)?;
    if let (Some(path), Some(w0)) = (&args.figure, figure_w0) {
        write_figure(path, args, &plan, w0, &outcome.script_log)?;
    }
    if !any_output {
        report
            .print_human(ctx.stdout)
            .map_err(|e| CliError::io(Path::new("<stdout>"), e))?;
    }
    if outcome.interrupted() {
        let s = &outcome.final_state;
        let written = if any_output {
            "; outputs written, marked incomplete"
        } else {
            ""
        };
        let _ = writeln!(
            ctx.stderr,
            "interrupted at step {} (t = {}, m' = {}){written}",
            s.step,
            fmt_f64(s.t),
            s.m_prime
        );
        return Ok(exit::INTERRUPTED);
    }
    Ok(exit::SUCCESS)
}

/// `--parallel-init` draws half-normal weights with pcg64; with anything else it would
/// silently do nothing.
fn check_parallel_init(args: &RunArgs) -> Result<(), CliError> {
    if !args.parallel_init {
        return Ok(());
    }
    if args.weights.init == InitKind::Quantile {
        return Err(CliError::usage(
            "--parallel-init: applies to --init half-normal only (quantile weights are computed, \
             not drawn)",
        ));
    }
    if args.weights.rng == RngKind::Numpy {
        return Err(CliError::usage(
            "--parallel-init: draws with --rng pcg64 only (numpy's stream is sequential by \
             definition); drop one of the two",
        ));
    }
    Ok(())
}

/// The run's initial weights, with a spinner at large m; `--parallel-init` uses the parallel
/// seeded stream.
fn run_initial_weights(
    args: &RunArgs,
    progress: bool,
) -> Result<(InitialWeights, InitRecord), CliError> {
    let phase = Phase::start(
        progress
            && args.weights.init_file.is_none()
            && args.weights.m >= solve::PHASE_SPINNER_FROM_M,
        format!("drawing and sorting {} initial weights", args.weights.m),
    );
    let result = if args.parallel_init {
        InitialWeights::half_normal_parallel(args.weights.seed, args.weights.m, args.weights.sigma)
            .map_err(|e| CliError::core(flag_for(&e), &e))
            .map(|w0| {
                let record = InitRecord {
                    init: "half-normal",
                    rng: Some("pcg64-parallel"),
                    seed: Some(args.weights.seed),
                    sigma: Some(
                        args.weights
                            .sigma
                            .unwrap_or_else(|| InitialWeights::default_sigma(args.weights.m)),
                    ),
                    init_file: None,
                    abs: false,
                };
                (w0, record)
            })
    } else {
        init::initial_weights(&args.weights)
    };
    phase.finish();
    result
}

/// Renders the main figure of this run to `path` (after the other outputs are in place).
fn write_figure(
    path: &Path,
    args: &RunArgs,
    plan: &Plan,
    w0: Vec<f64>,
    script_log: &[ScriptRow],
) -> Result<(), CliError> {
    let data = FigureData {
        params: RunParams {
            lambda: plan.lambda,
            h: plan.h,
            init: human::init_caption(args, &plan.params),
        },
        w0,
        script_log: script_log.to_vec(),
        snapshots: Vec::new(),
    };
    let fig = figures::sparsification(&data);
    sparsify_plot::render(&fig, path).map_err(|e| match e {
        PlotError::Io { source, .. } => CliError::io(path, source),
        // Nothing drawable: an output that could not be written, said in the run's terms.
        PlotError::EmptyFigure { .. } => CliError::io(
            path,
            std::io::Error::other(
                "nothing to draw: the run has no logged step at t > 0 with a weight left",
            ),
        ),
        other => CliError::io(path, std::io::Error::other(other.to_string())),
    })
}

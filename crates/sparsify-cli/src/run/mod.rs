//! `sparsify run`: one simulation from initial weights to a single survivor (Euler on the
//! whole vector, Euler on the reduced state, or the continuous-time flow), with its trajectory,
//! death events and summary.
//!
//! `flags` declares the flags (the dynamics ones generated from the library's registry),
//! `plan` checks them and estimates the run's length, `solve` runs the library's one entry
//! point, `outputs` writes the files and `human` the terminal summary and figure caption.

pub(crate) mod flags;
mod human;
pub(crate) mod outputs;
pub(crate) mod plan;
pub(crate) mod solve;

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
    check_memory(args, &plan)?;
    let stop = || ctx.interrupted.load(std::sync::atomic::Ordering::Relaxed);
    let (w0, init) = run_initial_weights(args, ctx.progress, &stop)?;
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
        &stop,
        args.weights.init_file.is_some(),
        &mut (),
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
    let any_output = outputs.any();
    outputs.write_all(&report, |staged, shown_as| {
        write_figure(
            staged,
            shown_as,
            args,
            &plan,
            figure_w0.unwrap_or_default(),
            &outcome.script_log,
        )
    })?;
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
pub(crate) fn check_parallel_init(args: &RunArgs) -> Result<(), CliError> {
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
/// seeded stream. Stops within a second of an interrupt (then nothing is written).
pub(crate) fn run_initial_weights(
    args: &RunArgs,
    progress: bool,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<(InitialWeights, InitRecord), CliError> {
    let phase = Phase::start(
        progress
            && args.weights.init_file.is_none()
            && args.weights.m >= solve::PHASE_SPINNER_FROM_M,
        format!("drawing and sorting {} initial weights", args.weights.m),
    );
    let result = if args.parallel_init {
        InitialWeights::half_normal_parallel_until(
            args.weights.seed,
            args.weights.m,
            args.weights.sigma,
            stop,
        )
        .map_err(|e| CliError::core(flag_for(&e), &e))
        .and_then(|w0| w0.ok_or_else(|| CliError::interrupted("drawing the initial weights")))
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
        init::initial_weights(&args.weights, stop)
    };
    phase.finish();
    result
}

/// Renders the main figure of this run to `path` (a file in the output's staging directory);
/// errors name the user's path `shown_as`.
fn write_figure(
    path: &Path,
    shown_as: &Path,
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
        PlotError::Io { source, .. } => CliError::io(shown_as, source),
        // Nothing drawable: an output that could not be written, said in the run's terms.
        PlotError::EmptyFigure { .. } => CliError::io(
            shown_as,
            std::io::Error::other(
                "nothing to draw: the run has no logged step at t > 0 with a weight left",
            ),
        ),
        // The path given to the renderer is a staging name the user never chose: the
        // message names the user's path (above) and says what failed without it.
        PlotError::UnsupportedExtension { .. } => CliError::io(
            shown_as,
            std::io::Error::other("the file name must end in .png or .svg"),
        ),
        other => CliError::io(shown_as, std::io::Error::other(other.to_string())),
    })
}

/// Bytes per weight that the solver allocates on top of the weights themselves (8 bytes
/// each): none for `EulerSim`; the drift buffer of `DynamicsEuler`; the prefix moments' marks
/// (48 bytes per 1024 weights); the full adaptive flow's state, its seven Dormand-Prince
/// stages and their scratch vectors (about 15 vectors of m').
fn solver_bytes_per_weight(plan: &Plan) -> Result<f64, CliError> {
    let dynamics = plan.dynamics.as_ref();
    let solver = plan.solver()?;
    Ok(if solver.uses_prefix_moments(dynamics) {
        48.0 / 1024.0
    } else {
        match solver.routine(dynamics) {
            "EulerSim" => 0.0,
            "DynamicsEuler" => 8.0,
            _ => 15.0 * 8.0,
        }
    })
}

/// Refuses a run whose weights and solver need more memory than the machine has, before
/// anything is allocated (`--m 1e10` would need 80 GB for the weights alone).
pub(crate) fn check_memory(args: &RunArgs, plan: &Plan) -> Result<(), CliError> {
    if args.weights.init_file.is_some() {
        // The file's reader checks as it reads, and the file's size bounds the weights.
        return Ok(());
    }
    let figure_copy = if args.figure.is_some() { 8.0 } else { 0.0 };
    let per_weight = 8.0 + figure_copy + solver_bytes_per_weight(plan)?;
    crate::memory::check(
        &format!("--m {}", args.weights.m),
        crate::memory::Need::per_item(per_weight, args.weights.m, "weights"),
    )
}

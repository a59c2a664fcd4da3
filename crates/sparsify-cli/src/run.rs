//! `sparsify run`: one simulation from initial weights to a single survivor (Euler on the
//! whole vector, Euler on the reduced state, or the continuous-time flow: see `solve`), with its
//! trajectory, death events and summary.

mod solve;

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use serde::Serialize;
use sparsify_core::{
    CoreError, EulerConfig, InitialWeights, Method, ScriptRow, StepStats, SumMode,
};

use sparsify_plot::PlotError;

use crate::Context;
use crate::error::{CliError, exit};
use crate::init::{self, InitArgs, InitKind, InitRecord, RngKind};
use crate::io::{self, Content, PendingOutput, fmt_f64};
use crate::progress::Phase;
use solve::{Outcome, Plan, SolverArgs};
use sparsify_experiments::figures::{self, FigureData, RunParams};

const EXAMPLES: &str = "\
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
  sparsify run --m 1e4 --lambda 1e-4 --dynamics l1-l2 --mu 0.05 --method reduced
  sparsify run --m 1e3 --lambda 1e-3 --dynamics lp --p 0.5 --method adaptive

  # A hundred million coordinates in seconds (parallel seeded draws, ~0.8 GB of memory):
  sparsify run --m 1e8 --method reduced --parallel-init --summary big.json

In --method adaptive the trajectory rows are the flow's state at the reference checkpoint
times t = step*h (h from --step, which sets only that grid), plus the end of the run with an
empty step field; the deaths CSV gives each located crossing time t with an empty step field.

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

Exit codes: 0 done; 2 a bad flag, value or input file, or more memory than the machine has
(refused before the run, nothing written), or a step found unstable during the run (nothing
written); 74 an output could not be written (no file replaced); 130 stopped by Ctrl-C, 143
stopped by SIGTERM.";

/// The flags of `sparsify run`.
#[derive(Debug, Args)]
#[command(after_long_help = EXAMPLES)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    weights: InitArgs,

    /// L1 regularisation strength lambda, per unit time: a finite number > 0.
    #[arg(
        long,
        value_name = "LAMBDA",
        default_value = "1e-5",
        allow_hyphen_values = true
    )]
    lambda: f64,

    /// Euler step size h, in time units: a finite number > 0, small enough that
    /// 1 + h*(1 - ||w||^2) stays > 0 (h < 1 always is for the default initialisation). With
    /// --method adaptive it only spaces the output grid t = step*h.
    #[arg(
        long,
        value_name = "H",
        default_value = "0.5",
        allow_hyphen_values = true
    )]
    step: f64,

    /// Draw the half-normal weights in parallel (pcg64 only): chunks of 2^20 draws, each from
    /// its own seeded Pcg64, then a parallel in-place sort. The same --seed gives *different*
    /// weights than without this flag (recorded as rng `pcg64-parallel` in the summary), but
    /// the same weights on any number of threads. Use it from m ~ 1e7 on, where the
    /// sequential draw takes seconds.
    #[arg(long, conflicts_with = "init_file")]
    parallel_init: bool,

    /// Summation order of ||w||_1 and ||w||_2^2, for --method direct only (refused with the
    /// others): `sequential` reproduces the published script bit for bit; `pairwise` is faster
    /// and more accurate [default: sequential].
    #[arg(long, value_name = "SUM", value_enum)]
    sum: Option<SumArg>,

    #[command(flatten)]
    solver: SolverArgs,

    /// Write the checkpoints to this CSV: step,t,m_prime,one_norm,sq_norm,w_max,w_min,
    /// relative_variance,gamma (every step to 50, then about 40 per decade, and the last).
    /// With --method adaptive: the state at t = step*h for those steps, and a last row at the
    /// end of the run with an empty step field.
    #[arg(long, value_name = "OUT.csv")]
    trajectory: Option<PathBuf>,

    /// Write every change of m' to this CSV: step,t,m_prime (after Euler step `step`, at
    /// t = step*h). With --method adaptive: one row per located death, `t` the crossing time
    /// and `step` empty.
    #[arg(long, value_name = "OUT.csv")]
    deaths: Option<PathBuf>,

    /// Write parameters, totals, initial and final state and timing to this JSON file.
    #[arg(long, value_name = "OUT.json")]
    summary: Option<PathBuf>,

    /// Draw the main figure (m' and ||W_i||_1 against time, with the published predictions,
    /// titled with this run's parameters) to OUT.png or OUT.svg, from the published script's
    /// own history rows of this run.
    #[arg(long, value_name = "OUT.png|OUT.svg")]
    figure: Option<PathBuf>,
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

/// Runs `sparsify run`; returns the exit code on success (0, or 130 when interrupted).
pub(crate) fn execute(args: &RunArgs, ctx: &mut Context<'_>) -> Result<u8, CliError> {
    let sum = args.sum.unwrap_or(SumArg::Sequential);
    let cfg = EulerConfig::new(args.lambda, args.step, sum.into())
        .map_err(|e| CliError::core(flag_for(&e), &e))?;
    let sum_given = args
        .sum
        .and_then(|s| s.to_possible_value())
        .map(|v| v.get_name().to_owned());
    let plan = Plan::new(&args.solver, args.lambda, sum_given.as_deref())?;
    args.weights.check_seed()?;
    check_parallel_init(args)?;
    let outputs = Outputs::create(args)?;
    check_memory(args, &plan)?;
    let (w0, init) = run_initial_weights(args, ctx)?;
    let m = w0.len();
    // The figure needs the initial weights (their number) after the simulation has taken them.
    let figure_w0 = args.figure.as_ref().map(|_| w0.as_slice().to_vec());
    let solver = RunSolver {
        method: plan.method,
        solver: plan.solver_name(),
        dynamics: plan.dynamics_name.clone(),
        mu: plan.mu,
        p: plan.p,
        rtol: plan.adaptive.map(|a| a.rtol()),
        atol: plan.adaptive.map(|a| a.atol()),
    };
    // The published script's history rows are what the figure plots; a few dozen rows.
    let outcome = solve::run(
        plan,
        w0,
        cfg.h(),
        cfg.sum(),
        args.figure.is_some(),
        ctx.progress,
        ctx.interrupted,
    )?;

    let report = Report {
        cfg: &cfg,
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
            &cfg,
            figure_w0.unwrap_or_default(),
            &outcome.script_log,
        )
    })?;
    if !any_output {
        report
            .print_human(ctx.stdout)
            .map_err(|e| CliError::io(std::path::Path::new("<stdout>"), e))?;
    }
    if outcome.interrupted {
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

/// Bytes per weight of each solver on top of the weights themselves (8 bytes each), from
/// the vectors each allocates: the prefix moments' marks (48 bytes per 1024 weights), the
/// direct generic solver's drift buffer, and the full adaptive solver's state, its seven
/// Dormand-Prince stages and their scratch vectors (about 15 vectors of m').
fn solver_bytes_per_weight(plan: &Plan) -> f64 {
    match (
        plan.method,
        plan.uses_prefix_moments(),
        plan.dynamics_name.as_str(),
    ) {
        (Method::Direct, _, "l1") => 0.0,
        (Method::Direct, _, _) => 8.0,
        (_, true, _) => 48.0 / 1024.0,
        (_, false, _) => 15.0 * 8.0,
    }
}

/// Refuses a run whose weights and solver need more memory than the machine has, before
/// anything is allocated (`--m 1e10` would need 80 GB for the weights alone).
fn check_memory(args: &RunArgs, plan: &Plan) -> Result<(), CliError> {
    if args.weights.init_file.is_some() {
        // The file's reader checks as it reads, and the file's size bounds the weights.
        return Ok(());
    }
    let figure_copy = if args.figure.is_some() { 8.0 } else { 0.0 };
    let per_weight = 8.0 + figure_copy + solver_bytes_per_weight(plan);
    crate::memory::check(
        &format!("--m {}", args.weights.m),
        crate::memory::Need::per_item(per_weight, args.weights.m, "weights"),
    )
}

/// The run's initial weights, with a spinner at large m; `--parallel-init` uses the parallel
/// seeded stream. Stops within a second of an interrupt (then nothing is written).
fn run_initial_weights(
    args: &RunArgs,
    ctx: &Context<'_>,
) -> Result<(InitialWeights, InitRecord), CliError> {
    let phase = Phase::start(
        ctx.progress
            && args.weights.init_file.is_none()
            && args.weights.m >= solve::PHASE_SPINNER_FROM_M,
        format!("drawing and sorting {} initial weights", args.weights.m),
    );
    let stop = || ctx.interrupted.load(std::sync::atomic::Ordering::Relaxed);
    let result = if args.parallel_init {
        InitialWeights::half_normal_parallel_until(
            args.weights.seed,
            args.weights.m,
            args.weights.sigma,
            &stop,
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
        init::initial_weights(&args.weights, &stop)
    };
    phase.finish();
    result
}

/// `--figure PATH`: the extension must be `.png` or `.svg` (case-insensitive) and the
/// directory must accept a new file; checked before the run so a typo costs nothing.
fn check_figure_path(path: &Path) -> Result<PendingOutput, CliError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if !matches!(ext.as_deref(), Some("png" | "svg")) {
        return Err(CliError::usage(format!(
            "--figure {}: the file name must end in .png or .svg",
            crate::error::shown(path)
        )));
    }
    // The same checks (and messages) as the other outputs; the figure is rendered into the
    // staging directory and put in place with them.
    PendingOutput::create("--figure", path)
}

/// Renders the main figure of this run to `path` (a file in the output's staging directory);
/// errors name the user's path `shown_as`.
fn write_figure(
    path: &Path,
    shown_as: &Path,
    args: &RunArgs,
    cfg: &EulerConfig,
    w0: Vec<f64>,
    script_log: &[ScriptRow],
) -> Result<(), CliError> {
    let data = FigureData {
        params: RunParams {
            lambda: cfg.lambda(),
            h: cfg.h(),
            init: init_caption(args),
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

/// How the initial weights were made, as the figure caption says it, followed by the solver and
/// dynamics when they are not the published ones.
fn init_caption(args: &RunArgs) -> String {
    let solver = &args.solver;
    let mut caption = weights_caption(args);
    match (solver.mu, solver.p) {
        (Some(mu), _) => caption.push_str(&format!("; {} μ = {mu}", solver.dynamics)),
        (_, Some(p)) => caption.push_str(&format!("; {} p = {p}", solver.dynamics)),
        _ => {}
    }
    match Method::from(solver.method) {
        Method::Direct => {}
        Method::Reduced => caption.push_str("; reduced Euler"),
        Method::Adaptive => caption.push_str("; adaptive DP5(4), continuous time"),
    }
    caption
}

/// How the initial weights were made, as the figure caption says it.
fn weights_caption(args: &RunArgs) -> String {
    if let Some(path) = &args.weights.init_file {
        let name = path
            .file_name()
            .unwrap_or(path.as_os_str())
            .to_string_lossy();
        let abs = if args.weights.abs {
            " (absolute values)"
        } else {
            ""
        };
        return format!("file {name}{abs}");
    }
    let scale = args
        .weights
        .sigma
        .map_or_else(|| "σ = 0.9/√m".to_owned(), |s| format!("σ = {s}"));
    match (args.weights.init, args.weights.rng) {
        (InitKind::Quantile, _) => format!("quantile, {scale}"),
        (InitKind::HalfNormal, RngKind::Pcg64) if args.parallel_init => {
            format!(
                "|N(0, σ²)|, {scale}, pcg64-parallel seed {}",
                args.weights.seed
            )
        }
        (InitKind::HalfNormal, RngKind::Pcg64) => {
            format!("|N(0, σ²)|, {scale}, pcg64 seed {}", args.weights.seed)
        }
        (InitKind::HalfNormal, RngKind::Numpy) => {
            format!("|N(0, σ²)|, {scale}, numpy seed {}", args.weights.seed)
        }
    }
}

/// The flag whose value a library error is about.
pub(crate) fn flag_for(e: &CoreError) -> &'static str {
    match e {
        CoreError::InvalidParameter { name: "lambda", .. } => "--lambda",
        CoreError::InvalidParameter { name: "sigma", .. } => "--sigma",
        CoreError::InvalidParameter { name: "step", .. } | CoreError::UnstableStep { .. } => {
            "--step"
        }
        CoreError::TooFewWeights { .. } => "--m",
        // Other errors (from solvers this command does not use yet) name no flag of `run`.
        _ => "sparsify run",
    }
}

/// The requested outputs, resolved, checked and staged before the run.
struct Outputs {
    trajectory: Option<PendingOutput>,
    deaths: Option<PendingOutput>,
    summary: Option<PendingOutput>,
    figure: Option<PendingOutput>,
}

impl Outputs {
    fn create(args: &RunArgs) -> Result<Self, CliError> {
        let create = |flag, path: &Option<PathBuf>| {
            path.as_deref()
                .map(|p| PendingOutput::create(flag, p))
                .transpose()
        };
        let outputs = Self {
            trajectory: create("--trajectory", &args.trajectory)?,
            deaths: create("--deaths", &args.deaths)?,
            summary: create("--summary", &args.summary)?,
            figure: args.figure.as_deref().map(check_figure_path).transpose()?,
        };
        let all: Vec<&PendingOutput> = [
            &outputs.trajectory,
            &outputs.deaths,
            &outputs.summary,
            &outputs.figure,
        ]
        .into_iter()
        .flatten()
        .collect();
        let inputs: Vec<(&str, &Path)> = args
            .weights
            .init_file
            .as_deref()
            .map(|p| ("--init-file", p))
            .into_iter()
            .collect();
        io::check_distinct(&all, &inputs)?;
        Ok(outputs)
    }

    fn any(&self) -> bool {
        self.trajectory.is_some()
            || self.deaths.is_some()
            || self.summary.is_some()
            || self.figure.is_some()
    }

    /// Fills every output, then puts them all in place: a failed write replaces none.
    /// `figure(staged, shown_as)` renders the figure to `staged`.
    fn write_all(
        self,
        report: &Report<'_>,
        figure: impl FnOnce(&Path, &Path) -> Result<(), CliError>,
    ) -> Result<(), CliError> {
        let Self {
            trajectory,
            deaths,
            summary,
            figure: figure_out,
        } = self;
        let outputs = OutputPaths {
            trajectory: trajectory.as_ref().map(|o| o.path().display().to_string()),
            deaths: deaths.as_ref().map(|o| o.path().display().to_string()),
        };
        let mut contents: Vec<(PendingOutput, Content<'_>)> = Vec::new();
        if let Some(out) = trajectory {
            contents.push((out, Content::Text(Box::new(|w| report.write_trajectory(w)))));
        }
        if let Some(out) = deaths {
            contents.push((out, Content::Text(Box::new(|w| report.write_deaths(w)))));
        }
        if let Some(out) = summary {
            contents.push((
                out,
                Content::Text(Box::new(move |w| report.write_summary(w, outputs))),
            ));
        }
        if let Some(out) = figure_out {
            let shown_as = out.path().to_path_buf();
            contents.push((
                out,
                Content::Rendered(Box::new(move |staged| figure(staged, &shown_as))),
            ));
        }
        io::write_all(contents)
    }
}

/// Everything a run reports.
struct Report<'a> {
    cfg: &'a EulerConfig,
    solver: RunSolver,
    m: usize,
    init: InitRecord,
    parallel_init: bool,
    outcome: &'a Outcome,
}

const TRAJECTORY_HEADER: &str =
    "step,t,m_prime,one_norm,sq_norm,w_max,w_min,relative_variance,gamma";

/// A step number, or an empty field for an instant off the Euler grid (adaptive runs).
fn step_field(step: Option<u64>) -> String {
    step.map_or_else(String::new, |k| k.to_string())
}

impl Report<'_> {
    fn write_trajectory(&self, w: &mut dyn Write) -> std::io::Result<()> {
        writeln!(w, "{TRAJECTORY_HEADER}")?;
        for row in &self.outcome.checkpoints {
            let s = &row.state;
            let floats = [
                s.one_norm,
                s.sq_norm,
                s.w_max,
                s.w_min,
                s.relative_variance,
                s.gamma,
            ]
            .map(fmt_f64)
            .join(",");
            writeln!(
                w,
                "{},{},{},{floats}",
                step_field(row.step),
                fmt_f64(s.t),
                s.m_prime
            )?;
        }
        Ok(())
    }

    fn write_deaths(&self, w: &mut dyn Write) -> std::io::Result<()> {
        writeln!(w, "step,t,m_prime")?;
        for d in &self.outcome.deaths {
            writeln!(w, "{},{},{}", step_field(d.step), fmt_f64(d.t), d.m_prime)?;
        }
        Ok(())
    }

    fn write_summary(&self, w: &mut dyn Write, outputs: OutputPaths) -> std::io::Result<()> {
        let o = self.outcome;
        let direct = self.solver.method == Method::Direct;
        let json = SummaryJson {
            command: "run",
            sparsify_version: env!("CARGO_PKG_VERSION"),
            complete: !o.interrupted,
            parameters: Parameters {
                m: self.m,
                lambda: self.cfg.lambda(),
                h: self.cfg.h(),
                method: self.solver.method.name(),
                solver: self.solver.solver,
                dynamics: self.solver.dynamics.clone(),
                mu: self.solver.mu,
                p: self.solver.p,
                rtol: self.solver.rtol,
                atol: self.solver.atol,
                sum: direct.then(|| self.cfg.sum().name()),
                parallel_init: self.parallel_init,
                init: self.init.clone(),
            },
            totals: Totals {
                steps: o.counts.steps,
                final_t: o.final_state.t,
                final_m_prime: o.final_state.m_prime,
                stop_reason: o.stop,
                death_events: o.deaths.len(),
            },
            solver_counts: SolverCountsJson {
                steps: o.counts.steps,
                rejected_steps: o.counts.rejected,
                function_evaluations: o.counts.evals,
                events: o.counts.events,
            },
            initial_state: State::from(&o.initial_state),
            final_state: State::from(&o.final_state),
            wall_seconds: o.wall_seconds,
            setup_seconds: o.setup_seconds,
            outputs,
        };
        // serde_json writes NaN and infinities as `null` (they are not JSON numbers): a final
        // state with no survivor has w_max = null.
        serde_json::to_writer_pretty(&mut *w, &json)?;
        writeln!(w)
    }

    fn print_human(&self, w: &mut dyn Write) -> std::io::Result<()> {
        let o = self.outcome;
        let s = &o.final_state;
        let init = &self.init;
        let source = match (&init.init_file, init.rng, init.seed) {
            (Some(path), _, _) => {
                format!("weights from {}", crate::error::escape_controls(path))
            }
            (None, Some(rng), Some(seed)) => format!("{} init, {rng} seed {seed}", init.init),
            _ => format!("{} init", init.init),
        };
        let sigma = init
            .sigma
            // Six significant digits for a person; the JSON summary keeps every digit.
            .map_or_else(String::new, |x| format!(", sigma = {x:.5e}"));
        let solver = &self.solver;
        let how_solved = match solver.method {
            Method::Direct => format!("{} sums", self.cfg.sum().name()),
            Method::Reduced => "reduced Euler".to_owned(),
            Method::Adaptive => format!(
                "adaptive, rtol = {}, atol = {}",
                solver.rtol.map_or_else(String::new, fmt_f64),
                solver.atol.map_or_else(String::new, fmt_f64)
            ),
        };
        let dynamics = match (solver.mu, solver.p) {
            (Some(mu), _) => format!("{} (mu = {})", solver.dynamics, fmt_f64(mu)),
            (_, Some(p)) => format!("{} (p = {})", solver.dynamics, fmt_f64(p)),
            _ => solver.dynamics.clone(),
        };
        writeln!(
            w,
            "sparsify run: m = {}, lambda = {}, h = {}, dynamics {dynamics} ({source}{sigma}, \
             {how_solved})",
            self.m,
            fmt_f64(self.cfg.lambda()),
            fmt_f64(self.cfg.h()),
        )?;
        let how = match o.stop {
            "one_left" => "one coordinate left",
            "all_dropped" => "the last step dropped every coordinate",
            "interrupted" => "interrupted",
            other => other,
        };
        writeln!(
            w,
            "steps: {}, final t = {}, final m' = {} ({how})",
            o.counts.steps,
            fmt_f64(s.t),
            s.m_prime
        )?;
        if solver.method == Method::Adaptive {
            writeln!(
                w,
                "rejected steps: {}, function evaluations: {}, located deaths: {}",
                o.counts.rejected, o.counts.evals, o.counts.events
            )?;
        }
        match o.stop {
            "one_left" => writeln!(w, "winner weight: {}", fmt_f64(s.w_max))?,
            "interrupted" => writeln!(w, "largest weight: {}", fmt_f64(s.w_max))?,
            _ => {}
        }
        writeln!(w, "loop wall time: {:.3} s", o.wall_seconds)?;
        Ok(())
    }
}

/// The solver of a run, for the summary.
struct RunSolver {
    method: Method,
    solver: &'static str,
    dynamics: String,
    mu: Option<f64>,
    p: Option<f64>,
    rtol: Option<f64>,
    atol: Option<f64>,
}

#[derive(Serialize)]
struct SummaryJson {
    command: &'static str,
    sparsify_version: &'static str,
    complete: bool,
    parameters: Parameters,
    // Top-level `steps`, `final_t`, ...: `cargo xtask bench` reads `steps` and `wall_seconds`.
    #[serde(flatten)]
    totals: Totals,
    /// The solver's work, comparable across methods.
    solver_counts: SolverCountsJson,
    initial_state: State,
    /// For --method adaptive, `step` is the accepted steps and `gamma` the exact relative gap.
    final_state: State,
    /// Wall time of the solver's loop alone (no initialisation, no output), in seconds.
    wall_seconds: f64,
    /// Wall time of the solver's own set-up (the prefix moments of reduced and adaptive
    /// runs; 0 for direct), in seconds.
    setup_seconds: f64,
    outputs: OutputPaths,
}

#[derive(Serialize)]
struct Parameters {
    m: usize,
    lambda: f64,
    /// The Euler step; for --method adaptive, the spacing of the output grid t = step*h.
    h: f64,
    method: &'static str,
    /// The library routine that ran (EulerSim, DynamicsEuler, ReducedSim, solve_reduced,
    /// solve_full).
    solver: &'static str,
    dynamics: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    mu: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rtol: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    atol: Option<f64>,
    /// Direct only: the other methods have their own fixed order.
    #[serde(skip_serializing_if = "Option::is_none")]
    sum: Option<&'static str>,
    parallel_init: bool,
    #[serde(flatten)]
    init: InitRecord,
}

#[derive(Serialize)]
struct Totals {
    steps: u64,
    final_t: f64,
    final_m_prime: usize,
    stop_reason: &'static str,
    death_events: usize,
}

#[derive(Serialize)]
struct SolverCountsJson {
    steps: u64,
    rejected_steps: u64,
    function_evaluations: u64,
    events: u64,
}

#[derive(Serialize)]
struct OutputPaths {
    trajectory: Option<String>,
    deaths: Option<String>,
}

/// Every field of [`StepStats`].
#[derive(Serialize)]
struct State {
    step: u64,
    t: f64,
    m_prime: usize,
    one_norm: f64,
    sq_norm: f64,
    w_max: f64,
    w_min: f64,
    relative_variance: f64,
    gamma: f64,
    feature_benefit: f64,
    total_squared_deviation: f64,
}

impl From<&StepStats> for State {
    fn from(s: &StepStats) -> Self {
        Self {
            step: s.step,
            t: s.t,
            m_prime: s.m_prime,
            one_norm: s.one_norm,
            sq_norm: s.sq_norm,
            w_max: s.w_max,
            w_min: s.w_min,
            relative_variance: s.relative_variance,
            gamma: s.gamma,
            feature_benefit: s.feature_benefit,
            total_squared_deviation: s.total_squared_deviation,
        }
    }
}

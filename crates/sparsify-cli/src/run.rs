//! `sparsify run`: one Euler simulation from initial weights to a single survivor, with its
//! trajectory, death events and summary.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Instant;

use clap::{Args, ValueEnum};
use rand::SeedableRng;
use rand_pcg::Pcg64;
use serde::Serialize;
use sparsify_core::{
    CoreError, EulerConfig, EulerSim, InitialWeights, RecordConfig, Recorder, RunSummary,
    StepStats, StopReason, SumMode,
};

use sparsify_plot::PlotError;

use crate::Context;
use crate::error::{CliError, exit};
use crate::figures::{self, FigureData, RunParams};
use crate::io::{PendingOutput, fmt_f64, read_initial_weights};
use crate::progress::Progress;

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

Exit codes: 0 done; 1 an output could not be written; 2 a bad flag, value or input file
(nothing is run, nothing is written); 130 stopped by Ctrl-C (all outputs are still written,
the summary says \"complete\": false).";

/// The flags of `sparsify run`.
#[derive(Debug, Args)]
#[command(after_long_help = EXAMPLES)]
pub(crate) struct RunArgs {
    /// Number of coordinates m of the initial encoding: a whole number >= 2; `1e5` style is
    /// accepted.
    #[arg(
        long,
        value_name = "M",
        default_value = "100000",
        value_parser = parse_m,
        allow_negative_numbers = true
    )]
    m: usize,

    /// L1 regularisation strength lambda, per unit time: a finite number > 0.
    #[arg(
        long,
        value_name = "LAMBDA",
        default_value = "1e-5",
        allow_negative_numbers = true
    )]
    lambda: f64,

    /// Euler step size h, in time units: a finite number > 0, small enough that
    /// 1 + h*(1 - ||w||^2) stays > 0 (h < 1 always is for the default initialisation).
    #[arg(
        long,
        value_name = "H",
        default_value = "0.5",
        allow_negative_numbers = true
    )]
    step: f64,

    /// Seed of the random initialisation: 0 to 2^64-1 for pcg64, 0 to 2^32-1 for numpy.
    #[arg(
        long,
        value_name = "SEED",
        default_value_t = 0,
        allow_negative_numbers = true
    )]
    seed: u64,

    /// Random generator of the half-normal initialisation.
    #[arg(long, value_name = "RNG", value_enum, default_value_t = RngKind::Pcg64)]
    rng: RngKind,

    /// How the initial weights are made.
    #[arg(long, value_name = "INIT", value_enum, default_value_t = InitKind::HalfNormal)]
    init: InitKind,

    /// Scale sigma of the initial weights (standard deviation of the normal before taking
    /// absolute values): a finite number > 0 [default: 0.9/sqrt(m), so E||w0||^2 = 0.81].
    #[arg(long, value_name = "SIGMA", allow_negative_numbers = true)]
    sigma: Option<f64>,

    /// Read the initial weights from PATH instead: a 1-D float64 or float32 `.npy` array, or
    /// (any other extension) text with one number per line, blank lines and `#` comments
    /// allowed; any order; every weight finite and > 0 (see --abs).
    #[arg(
        long,
        value_name = "PATH",
        conflicts_with_all = ["m", "init", "rng", "sigma", "seed"]
    )]
    init_file: Option<PathBuf>,

    /// Take absolute values of the --init-file weights (zeros are still an error).
    #[arg(long, requires = "init_file")]
    abs: bool,

    /// Summation order of ||w||_1 and ||w||_2^2: `sequential` reproduces the published script
    /// bit for bit; `pairwise` is faster and more accurate.
    #[arg(long, value_name = "SUM", value_enum, default_value_t = SumArg::Sequential)]
    sum: SumArg,

    /// Write the checkpoints to this CSV: step,t,m_prime,one_norm,sq_norm,w_max,w_min,
    /// relative_variance,gamma (every step to 50, then about 40 per decade, and the last).
    #[arg(long, value_name = "OUT.csv")]
    trajectory: Option<PathBuf>,

    /// Write every change of m' to this CSV: step,t,m_prime.
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

/// Random generators for the half-normal initialisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum RngKind {
    /// rand_pcg's Pcg64, `seed_from_u64(seed)`, with Ziggurat normals.
    Pcg64,
    /// numpy's legacy `RandomState(seed)` and `normal`, bit for bit as the published script.
    Numpy,
}

/// Initialisations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum InitKind {
    /// |N(0, sigma^2)| draws, sorted descending.
    HalfNormal,
    /// Deterministic: sigma * Phi^-1(0.5 + (j + 0.5)/(2m)), j = 0..m-1 (no randomness).
    Quantile,
}

/// Summation orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SumArg {
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

/// `--m`: a whole number, written as an integer or a float such as `1e5`.
pub(crate) fn parse_m(s: &str) -> Result<usize, String> {
    const HINT: &str = "need a whole number >= 2, like 100000 or 1e5";
    let x: f64 = s.trim().parse().map_err(|_| HINT.to_owned())?;
    // Below 2^53 every whole f64 is exact, so the conversion loses nothing.
    if x.is_finite() && x >= 0.0 && x.fract() == 0.0 && x <= 2f64.powi(53) {
        Ok(x as usize)
    } else {
        Err(HINT.to_owned())
    }
}

/// How the initial weights were made, for the summary.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct InitRecord {
    init: &'static str,
    rng: Option<&'static str>,
    seed: Option<u64>,
    sigma: Option<f64>,
    init_file: Option<String>,
    abs: bool,
}

/// Runs `sparsify run`; returns the exit code on success (0, or 130 when interrupted).
pub(crate) fn execute(args: &RunArgs, ctx: &mut Context<'_>) -> Result<u8, CliError> {
    let cfg = EulerConfig::new(args.lambda, args.step, args.sum.into())
        .map_err(|e| CliError::core(flag_for(&e), &e))?;
    if args.init_file.is_none() && args.rng == RngKind::Numpy && args.init == InitKind::HalfNormal {
        check_numpy_seed(args.seed)?;
    }
    let outputs = Outputs::create(args)?;
    let (w0, init) = initial_weights(args)?;
    let m = w0.len();
    // The figure needs the initial weights (their number) after the simulation has taken them.
    let figure_w0 = args.figure.as_ref().map(|_| w0.as_slice().to_vec());
    let mut sim = EulerSim::new(cfg, w0).map_err(|e| CliError::core(flag_for(&e), &e))?;

    let interrupted = ctx.interrupted;
    let mut record = RecordConfig::checkpoints_and_deaths();
    // The published script's history rows are what the figure plots; a few dozen rows.
    record.script_log = args.figure.is_some();
    let mut observer = (Recorder::new(record), Progress::new(m, ctx.progress));
    let started = Instant::now();
    let result = sim.run(&mut observer, || interrupted.load(Ordering::Relaxed));
    let wall_seconds = started.elapsed().as_secs_f64();
    let (mut recorder, progress) = observer;
    progress.finish();
    recorder.finish();
    // An unstable step found mid-run is a bad --step (or --sigma) too: report it, write nothing.
    let summary = result.map_err(|e| CliError::core(flag_for(&e), &e))?;

    let report = Report {
        cfg: &cfg,
        m,
        init,
        summary: &summary,
        recorder: &recorder,
        wall_seconds,
    };
    let any_output = outputs.any() || args.figure.is_some();
    outputs.write_all(&report)?;
    if let (Some(path), Some(w0)) = (&args.figure, figure_w0) {
        write_figure(path, args, &cfg, w0, &recorder)?;
    }
    if !any_output {
        report
            .print_human(ctx.stdout)
            .map_err(|e| CliError::io(std::path::Path::new("<stdout>"), e))?;
    }
    if summary.stop == StopReason::Interrupted {
        let s = &summary.final_state;
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

/// `--figure PATH`: the extension must be `.png` or `.svg` (case-insensitive) and the
/// directory must accept a new file; checked before the run so a typo costs nothing.
fn check_figure_path(path: &Path) -> Result<(), CliError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if !matches!(ext.as_deref(), Some("png" | "svg")) {
        return Err(CliError::usage(format!(
            "--figure {}: the file name must end in .png or .svg",
            path.display()
        )));
    }
    // The same checks (and messages) as the other outputs; the probe file is removed at once,
    // and sparsify-plot writes the figure atomically itself.
    PendingOutput::create("--figure", path).map(drop)
}

/// Renders the main figure of this run to `path` (after the other outputs are in place).
fn write_figure(
    path: &Path,
    args: &RunArgs,
    cfg: &EulerConfig,
    w0: Vec<f64>,
    recorder: &Recorder,
) -> Result<(), CliError> {
    let data = FigureData {
        params: RunParams {
            lambda: cfg.lambda(),
            h: cfg.h(),
            init: init_caption(args),
        },
        w0,
        script_log: recorder.script_log.clone(),
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

/// How the initial weights were made, as the figure caption says it.
fn init_caption(args: &RunArgs) -> String {
    if let Some(path) = &args.init_file {
        let name = path
            .file_name()
            .unwrap_or(path.as_os_str())
            .to_string_lossy();
        let abs = if args.abs { " (absolute values)" } else { "" };
        return format!("file {name}{abs}");
    }
    let scale = args
        .sigma
        .map_or_else(|| "σ = 0.9/√m".to_owned(), |s| format!("σ = {s}"));
    match (args.init, args.rng) {
        (InitKind::Quantile, _) => format!("quantile, {scale}"),
        (InitKind::HalfNormal, RngKind::Pcg64) => {
            format!("|N(0, σ²)|, {scale}, pcg64 seed {}", args.seed)
        }
        (InitKind::HalfNormal, RngKind::Numpy) => {
            format!("|N(0, σ²)|, {scale}, numpy seed {}", args.seed)
        }
    }
}

/// The flag whose value a library error is about.
fn flag_for(e: &CoreError) -> &'static str {
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

pub(crate) fn check_numpy_seed(seed: u64) -> Result<u32, CliError> {
    u32::try_from(seed).map_err(|_| {
        CliError::usage(format!(
            "--seed {seed}: --rng numpy takes a 32-bit seed, 0 to {} (numpy's RandomState)",
            u32::MAX
        ))
    })
}

fn initial_weights(args: &RunArgs) -> Result<(InitialWeights, InitRecord), CliError> {
    initial_weights_from(&InitSource {
        init_file: args.init_file.as_deref(),
        abs: args.abs,
        m: args.m,
        sigma: args.sigma,
        seed: args.seed,
        rng: args.rng,
        init: args.init,
    })
}

/// The initialisation flags shared by `run` and `predict`.
pub(crate) struct InitSource<'a> {
    pub(crate) init_file: Option<&'a std::path::Path>,
    pub(crate) abs: bool,
    pub(crate) m: usize,
    pub(crate) sigma: Option<f64>,
    pub(crate) seed: u64,
    pub(crate) rng: RngKind,
    pub(crate) init: InitKind,
}

/// The initial weights the flags ask for, and how they were made.
pub(crate) fn initial_weights_from(
    args: &InitSource<'_>,
) -> Result<(InitialWeights, InitRecord), CliError> {
    if let Some(path) = args.init_file {
        let w0 = read_initial_weights("--init-file", path, args.abs)?;
        let record = InitRecord {
            init: "file",
            rng: None,
            seed: None,
            sigma: None,
            init_file: Some(path.display().to_string()),
            abs: args.abs,
        };
        return Ok((w0, record));
    }
    let core_err = |e: CoreError| CliError::core(flag_for(&e), &e);
    let (m, sigma) = (args.m, args.sigma);
    let (w0, init, rng, seed) = match (args.init, args.rng) {
        (InitKind::Quantile, _) => (
            InitialWeights::quantile(m, sigma).map_err(core_err)?,
            "quantile",
            None,
            None,
        ),
        (InitKind::HalfNormal, RngKind::Pcg64) => {
            let mut rng = Pcg64::seed_from_u64(args.seed);
            let w0 = InitialWeights::half_normal(&mut rng, m, sigma).map_err(core_err)?;
            (w0, "half-normal", Some("pcg64"), Some(args.seed))
        }
        (InitKind::HalfNormal, RngKind::Numpy) => {
            let seed = check_numpy_seed(args.seed)?;
            let w0 = InitialWeights::half_normal_numpy(seed, m, sigma).map_err(core_err)?;
            (w0, "half-normal", Some("numpy"), Some(args.seed))
        }
    };
    let record = InitRecord {
        init,
        rng,
        seed,
        sigma: Some(sigma.unwrap_or_else(|| InitialWeights::default_sigma(m))),
        init_file: None,
        abs: false,
    };
    Ok((w0, record))
}

/// The requested outputs, created (empty, temporary) before the run.
struct Outputs {
    trajectory: Option<PendingOutput>,
    deaths: Option<PendingOutput>,
    summary: Option<PendingOutput>,
}

impl Outputs {
    fn create(args: &RunArgs) -> Result<Self, CliError> {
        let requested = [
            ("--trajectory", &args.trajectory),
            ("--deaths", &args.deaths),
            ("--summary", &args.summary),
            ("--figure", &args.figure),
        ];
        for (i, (flag_a, a)) in requested.iter().enumerate() {
            for (flag_b, b) in &requested[i + 1..] {
                if let (Some(a), Some(b)) = (a, b)
                    && a == b
                {
                    return Err(CliError::usage(format!(
                        "{flag_a} and {flag_b} both name {}: give each output its own file",
                        a.display()
                    )));
                }
            }
        }
        if let Some(path) = &args.figure {
            check_figure_path(path)?;
        }
        let create = |flag, path: &Option<PathBuf>| {
            path.as_deref()
                .map(|p| PendingOutput::create(flag, p))
                .transpose()
        };
        Ok(Self {
            trajectory: create("--trajectory", &args.trajectory)?,
            deaths: create("--deaths", &args.deaths)?,
            summary: create("--summary", &args.summary)?,
        })
    }

    fn any(&self) -> bool {
        self.trajectory.is_some() || self.deaths.is_some() || self.summary.is_some()
    }

    /// Fills every output, then renames them all into place: a failed write leaves none.
    fn write_all(self, report: &Report<'_>) -> Result<(), CliError> {
        let Self {
            mut trajectory,
            mut deaths,
            mut summary,
        } = self;
        if let Some(out) = &mut trajectory {
            out.write(|w| report.write_trajectory(w))?;
        }
        if let Some(out) = &mut deaths {
            out.write(|w| report.write_deaths(w))?;
        }
        if let Some(out) = &mut summary {
            let outputs = OutputPaths {
                trajectory: trajectory.as_ref().map(|o| o.path().display().to_string()),
                deaths: deaths.as_ref().map(|o| o.path().display().to_string()),
            };
            out.write(|w| report.write_summary(w, outputs))?;
        }
        for out in [trajectory, deaths, summary].into_iter().flatten() {
            out.commit()?;
        }
        Ok(())
    }
}

/// Everything a run reports.
struct Report<'a> {
    cfg: &'a EulerConfig,
    m: usize,
    init: InitRecord,
    summary: &'a RunSummary,
    recorder: &'a Recorder,
    wall_seconds: f64,
}

const TRAJECTORY_HEADER: &str =
    "step,t,m_prime,one_norm,sq_norm,w_max,w_min,relative_variance,gamma";

impl Report<'_> {
    fn write_trajectory(&self, w: &mut dyn Write) -> std::io::Result<()> {
        writeln!(w, "{TRAJECTORY_HEADER}")?;
        for s in &self.recorder.checkpoints {
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
            writeln!(w, "{},{},{},{floats}", s.step, fmt_f64(s.t), s.m_prime)?;
        }
        Ok(())
    }

    fn write_deaths(&self, w: &mut dyn Write) -> std::io::Result<()> {
        writeln!(w, "step,t,m_prime")?;
        for d in &self.recorder.deaths {
            writeln!(w, "{},{},{}", d.step, fmt_f64(d.t), d.m_prime)?;
        }
        Ok(())
    }

    fn write_summary(&self, w: &mut dyn Write, outputs: OutputPaths) -> std::io::Result<()> {
        let s = self.summary;
        let json = SummaryJson {
            command: "run",
            sparsify_version: env!("CARGO_PKG_VERSION"),
            complete: s.stop != StopReason::Interrupted,
            parameters: Parameters {
                m: self.m,
                lambda: self.cfg.lambda(),
                h: self.cfg.h(),
                sum: self.cfg.sum().name(),
                init: self.init.clone(),
            },
            totals: Totals {
                steps: s.final_state.step,
                final_t: s.final_state.t,
                final_m_prime: s.final_state.m_prime,
                stop_reason: s.stop.name(),
                death_events: self.recorder.deaths.len(),
            },
            initial_state: State::from(&s.initial_state),
            final_state: State::from(&s.final_state),
            wall_seconds: self.wall_seconds,
            outputs,
        };
        // serde_json writes NaN and infinities as `null` (they are not JSON numbers): a final
        // state with no survivor has w_max = null.
        serde_json::to_writer_pretty(&mut *w, &json)?;
        writeln!(w)
    }

    fn print_human(&self, w: &mut dyn Write) -> std::io::Result<()> {
        let s = &self.summary.final_state;
        let init = &self.init;
        let source = match (&init.init_file, init.rng, init.seed) {
            (Some(path), _, _) => format!("weights from {path}"),
            (None, Some(rng), Some(seed)) => format!("{} init, {rng} seed {seed}", init.init),
            _ => format!("{} init", init.init),
        };
        let sigma = init
            .sigma
            .map_or_else(String::new, |x| format!(", sigma = {}", fmt_f64(x)));
        writeln!(
            w,
            "sparsify run: m = {}, lambda = {}, h = {} ({source}{sigma}, {} sums)",
            self.m,
            fmt_f64(self.cfg.lambda()),
            fmt_f64(self.cfg.h()),
            self.cfg.sum().name(),
        )?;
        let how = match self.summary.stop {
            StopReason::OneLeft => "one coordinate left",
            StopReason::AllDropped => "the last step dropped every coordinate",
            StopReason::Interrupted => "interrupted",
        };
        writeln!(
            w,
            "steps: {}, final t = {}, final m' = {} ({how})",
            s.step,
            fmt_f64(s.t),
            s.m_prime
        )?;
        match self.summary.stop {
            StopReason::OneLeft => writeln!(w, "winner weight: {}", fmt_f64(s.w_max))?,
            StopReason::Interrupted => writeln!(w, "largest weight: {}", fmt_f64(s.w_max))?,
            StopReason::AllDropped => {}
        }
        writeln!(w, "loop wall time: {:.3} s", self.wall_seconds)?;
        Ok(())
    }
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
    initial_state: State,
    final_state: State,
    /// Wall time of the Euler loop alone (no initialisation, no output), in seconds.
    wall_seconds: f64,
    outputs: OutputPaths,
}

#[derive(Serialize)]
struct Parameters {
    m: usize,
    lambda: f64,
    h: f64,
    sum: &'static str,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn m_accepts_integers_in_float_notation_only() {
        assert_eq!(parse_m("1e5"), Ok(100_000));
        assert_eq!(parse_m("100000"), Ok(100_000));
        assert_eq!(
            parse_m("1"),
            Ok(1),
            "m < 2 is left to the library's message"
        );
        for bad in ["2.5", "-3", "nan", "inf", "1e300", "ten", ""] {
            assert!(parse_m(bad).is_err(), "{bad}");
        }
    }
}

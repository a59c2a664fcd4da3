//! The files a run writes: the trajectory and deaths CSVs and the JSON summary, all created
//! before the run and committed together after it.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sparsify_core::{Method, StepStats};
use sparsify_experiments::csv::{DEATHS_HEADER, TRAJECTORY_HEADER, deaths_row, trajectory_row};

use super::flags::RunArgs;
use super::solve::Outcome;
use crate::error::CliError;
use crate::init::InitRecord;
use crate::io::{self, Content, PendingOutput};

/// Everything a run reports.
pub(crate) struct Report<'a> {
    pub(crate) lambda: f64,
    pub(crate) h: f64,
    pub(crate) sum: &'static str,
    pub(crate) solver: RunSolver,
    pub(crate) m: usize,
    pub(crate) init: InitRecord,
    pub(crate) parallel_init: bool,
    pub(crate) outcome: &'a Outcome,
}

/// The solver of a run, for the summary.
pub(crate) struct RunSolver {
    pub(crate) method: Method,
    pub(crate) solver: &'static str,
    pub(crate) dynamics: &'static str,
    /// Every parameter of the variant, in its order.
    pub(crate) params: Vec<(&'static str, f64)>,
    pub(crate) rtol: Option<f64>,
    pub(crate) atol: Option<f64>,
}

/// The requested outputs, resolved, checked and staged before the run.
pub(crate) struct Outputs {
    trajectory: Option<PendingOutput>,
    deaths: Option<PendingOutput>,
    summary: Option<PendingOutput>,
    figure: Option<PendingOutput>,
}

impl Outputs {
    pub(crate) fn create(args: &RunArgs) -> Result<Self, CliError> {
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

    pub(crate) fn any(&self) -> bool {
        self.trajectory.is_some()
            || self.deaths.is_some()
            || self.summary.is_some()
            || self.figure.is_some()
    }

    /// Fills every output, then puts them all in place: a failed write replaces none.
    /// `figure(staged, shown_as)` renders the figure to `staged`.
    pub(crate) fn write_all(
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

impl Report<'_> {
    fn write_trajectory(&self, w: &mut dyn Write) -> std::io::Result<()> {
        writeln!(w, "{TRAJECTORY_HEADER}")?;
        for row in &self.outcome.checkpoints {
            writeln!(w, "{}", trajectory_row(row.step, &row.state))?;
        }
        Ok(())
    }

    fn write_deaths(&self, w: &mut dyn Write) -> std::io::Result<()> {
        writeln!(w, "{DEATHS_HEADER}")?;
        for d in &self.outcome.deaths {
            writeln!(w, "{}", deaths_row(d.step, d.t, d.m_prime))?;
        }
        Ok(())
    }

    fn write_summary(&self, w: &mut dyn Write, outputs: OutputPaths) -> std::io::Result<()> {
        // serde_json writes NaN and infinities as `null` (they are not JSON numbers): a final
        // state with no survivor has w_max = null.
        serde_json::to_writer_pretty(&mut *w, &self.summary(outputs))?;
        writeln!(w)
    }

    /// The summary as `--summary` writes it, for a run that wrote no file (the Python module).
    pub(crate) fn summary_without_files(&self) -> Result<String, serde_json::Error> {
        let outputs = OutputPaths {
            trajectory: None,
            deaths: None,
        };
        serde_json::to_string(&self.summary(outputs))
    }

    fn summary(&self, outputs: OutputPaths) -> SummaryJson {
        let o = self.outcome;
        let direct = self.solver.method == Method::Direct;
        SummaryJson {
            command: "run",
            sparsify_version: env!("CARGO_PKG_VERSION"),
            complete: !o.interrupted(),
            parameters: Parameters {
                m: self.m,
                lambda: self.lambda,
                h: self.h,
                method: self.solver.method.name(),
                solver: self.solver.solver,
                dynamics: self.solver.dynamics,
                params: ParamMap(self.solver.params.clone()),
                rtol: self.solver.rtol,
                atol: self.solver.atol,
                sum: direct.then_some(self.sum),
                parallel_init: self.parallel_init,
                init: self.init.clone(),
            },
            totals: Totals {
                steps: o.counts.steps,
                final_t: o.final_state.t,
                final_m_prime: o.final_state.m_prime,
                stop_reason: o.stop.name(),
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
        }
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
    /// The library routine that ran (EulerSim, DynamicsEuler, ReducedSim, adaptive_reduced,
    /// adaptive_full).
    solver: &'static str,
    dynamics: &'static str,
    /// The variant's parameters by name (`mu`, `p`, ...), in its order.
    #[serde(flatten)]
    params: ParamMap,
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

/// A variant's parameters as JSON fields, in the variant's order.
struct ParamMap(Vec<(&'static str, f64)>);

impl Serialize for ParamMap {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
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

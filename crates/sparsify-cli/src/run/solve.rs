//! Carrying a run out: the library's one `solve` entry point (which picks the routine), with
//! the recorder and progress display, ending in the one [`Outcome`] that the outputs are
//! written from.

use std::time::Instant;

use sparsify_core::schedule::{CheckpointSchedule, script_logs_step};
use sparsify_core::{
    CoreError, Death, InitialWeights, Observer, Param, PrefixMoments, RecordConfig, Recorder,
    ScriptRow, SolverCounts, Start, StepStats, StopReason, solve,
};

use super::plan::{Plan, flag_for};
use crate::error::CliError;
use crate::progress::{Phase, Progress};

/// Set-up phases (drawing, sorting, prefix moments) get a spinner from this many weights on:
/// below it they take well under a second.
pub(crate) const PHASE_SPINNER_FROM_M: usize = 1_000_000;
/// The adaptive solver is asked for its state at the reference checkpoints up to this step:
/// far beyond any run's end (times past the end are ignored), and only ~600 checkpoints.
const LAST_GRID_STEP: u64 = 1_000_000_000_000_000;

/// A trajectory row: the state at one instant; `step` is `None` for an instant that is not on
/// the Euler grid `t = step*h` (the end of an adaptive run).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Row {
    pub(crate) step: Option<u64>,
    pub(crate) state: StepStats,
}

/// What every solver's run comes to.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) initial_state: StepStats,
    /// For the adaptive solver, `step` is its accepted steps and `gamma` the exact relative
    /// gap of the two largest weights.
    pub(crate) final_state: StepStats,
    pub(crate) stop: StopReason,
    pub(crate) checkpoints: Vec<Row>,
    pub(crate) deaths: Vec<Death>,
    /// The published script's history rows (when the figure asks for them); for the adaptive
    /// solver, the state at the script's logged times `t = cnt*h`, every field at that instant.
    pub(crate) script_log: Vec<ScriptRow>,
    pub(crate) counts: SolverCounts,
    /// Wall time of the solver's loop alone, in seconds.
    pub(crate) wall_seconds: f64,
    /// Wall time of the solver's own set-up (prefix moments), in seconds.
    pub(crate) setup_seconds: f64,
}

impl Outcome {
    /// Whether Ctrl-C stopped the run.
    pub(crate) fn interrupted(&self) -> bool {
        self.stop == StopReason::Interrupted
    }
}

/// Runs `plan` from `w0`, stopping early once `stop` returns true (an interrupt; it is polled
/// every step). `init_file` says whether the weights came from a file (an overflow of
/// `||w0||^2` is then that file's, not `--sigma`'s). `extra` sees every step of an Euler-type
/// run too (the Python module's weight snapshots; the CLI passes `&mut ()`); the adaptive
/// flow has no steps to show it.
pub(crate) fn run(
    plan: &Plan,
    w0: InitialWeights,
    script_log: bool,
    progress: bool,
    stop: &(dyn Fn() -> bool + Sync),
    init_file: bool,
    extra: &mut dyn Observer,
) -> Result<Outcome, CliError> {
    let core_err = |e: CoreError| {
        let flag = match e.param() {
            Some(Param::InitialWeights) if init_file => "--init-file",
            _ => flag_for(&e),
        };
        CliError::core(flag, &e)
    };
    let m = w0.len();
    let dynamics = plan.dynamics.as_ref();
    let solver = plan.solver()?;
    // The prefix-moment solvers take the weights over (no copy: 8 bytes a weight at m = 1e9).
    let mut setup_seconds = 0.0;
    let start = if solver.uses_prefix_moments(dynamics) {
        let phase = Phase::start(
            progress && m >= PHASE_SPINNER_FROM_M,
            format!("prefix moments of {m} weights"),
        );
        let started = Instant::now();
        let table = PrefixMoments::new_until(w0.into_vec(), stop)
            .ok_or_else(|| CliError::interrupted("computing the prefix moments"))?;
        setup_seconds = started.elapsed().as_secs_f64();
        phase.finish();
        Start::Moments(table)
    } else {
        Start::Weights(w0)
    };
    if plan.adaptive.is_some() {
        let grid = AdaptiveGrid::new(plan.h, script_log);
        let solver = solver
            .with_output_times(&grid.times)
            .map_err(|e| CliError::core("sparsify run", &e))?;
        let mut bar = Progress::new(m, progress);
        let started = Instant::now();
        let result = solve(dynamics, &solver, start, &mut (), |p| {
            bar.tick(p.steps, p.t, p.m_prime);
            stop()
        });
        let wall_seconds = started.elapsed().as_secs_f64();
        bar.finish();
        let s = result.map_err(|e| match e {
            // What only the adaptive method can run into is the method's, not a flag's.
            CoreError::StepSizeTooSmall { .. } => CliError::core("--method adaptive", &e),
            e => core_err(e),
        })?;
        let (checkpoints, script_log) = grid.rows(&s.outputs, &s.final_state, plan.h);
        return Ok(Outcome {
            initial_state: s.initial_state,
            final_state: s.final_state,
            stop: s.stop,
            checkpoints,
            deaths: s.deaths,
            script_log,
            counts: s.counts,
            wall_seconds,
            setup_seconds,
        });
    }
    let mut record = RecordConfig::checkpoints_and_deaths();
    record.script_log = script_log;
    let mut observer = (Recorder::new(record), (Progress::new(m, progress), extra));
    let started = Instant::now();
    let result = solve(dynamics, &solver, start, &mut observer, |_| stop());
    let wall_seconds = started.elapsed().as_secs_f64();
    let (mut recorder, (bar, _)) = observer;
    bar.finish();
    recorder.finish();
    // An unstable step found mid-run is a bad --step (or --sigma) too: report it, write nothing.
    let s = result.map_err(core_err)?;
    Ok(Outcome {
        initial_state: s.initial_state,
        final_state: s.final_state,
        stop: s.stop,
        checkpoints: recorder
            .checkpoints
            .iter()
            .map(|s| Row {
                step: Some(s.step),
                state: *s,
            })
            .collect(),
        deaths: s.deaths,
        script_log: recorder.script_log,
        counts: s.counts,
        wall_seconds,
        setup_seconds,
    })
}

/// The times an adaptive run reports: the reference checkpoint times `t = k*h` (and the
/// script's logged times, for the figure).
struct AdaptiveGrid {
    checkpoints: Vec<u64>,
    logged: Vec<u64>,
    steps: Vec<u64>,
    times: Vec<f64>,
    script_log: bool,
}

impl AdaptiveGrid {
    fn new(h: f64, script_log: bool) -> Self {
        let checkpoints: Vec<u64> = CheckpointSchedule::new()
            .take_while(|&k| k <= LAST_GRID_STEP)
            .collect();
        let logged = if script_log {
            script_logged_steps(LAST_GRID_STEP)
        } else {
            Vec::new()
        };
        let mut steps: Vec<u64> = checkpoints.iter().chain(&logged).copied().collect();
        steps.sort_unstable();
        steps.dedup();
        let times = steps.iter().map(|&k| k as f64 * h).collect();
        Self {
            checkpoints,
            logged,
            steps,
            times,
            script_log,
        }
    }

    /// The trajectory rows and script rows from the states at the grid's times (`outputs[i]` is
    /// the state at `times[i]`: the solver serves them in order, up to the end of the run).
    fn rows(&self, outputs: &[StepStats], last: &StepStats, h: f64) -> (Vec<Row>, Vec<ScriptRow>) {
        let at: Vec<(u64, StepStats)> = self
            .steps
            .iter()
            .copied()
            .zip(outputs.iter().copied())
            .collect();
        let mut rows: Vec<Row> = at
            .iter()
            .filter(|(k, _)| self.checkpoints.binary_search(k).is_ok())
            .map(|&(k, state)| Row {
                step: Some(k),
                state,
            })
            .collect();
        if rows.last().is_none_or(|r| r.state.t != last.t) {
            rows.push(Row {
                step: None,
                state: *last,
            });
        }
        let mut script: Vec<ScriptRow> = at
            .iter()
            .filter(|(k, _)| self.logged.binary_search(k).is_ok())
            .map(|&(k, st)| script_row(k, &st))
            .collect();
        if self.script_log && script.last().is_none_or(|r| r.t != last.t) {
            script.push(script_row((last.t / h).floor() as u64, last));
        }
        (rows, script)
    }
}

/// A script history row from one consistent instant (continuous time has no step to alias).
fn script_row(step: u64, s: &StepStats) -> ScriptRow {
    ScriptRow {
        step,
        t: s.t,
        m_prime: s.m_prime,
        one_norm: s.one_norm,
        feature_benefit: s.feature_benefit,
        total_squared_deviation: s.total_squared_deviation,
        relative_variance: s.relative_variance,
        gamma: s.gamma,
        w_max: s.w_max,
    }
}

/// The steps `cnt <= last` that the published script logs ([`script_logs_step`]): where
/// `floor(3 ln(cnt + 2))` steps up, so near `cnt + 2 = e^(j/3)`; each candidate is checked with
/// the script's own rule, so rounding at the boundary cannot add or lose one.
fn script_logged_steps(last: u64) -> Vec<u64> {
    let mut steps = Vec::new();
    for j in 1.. {
        let centre = (f64::from(j) / 3.0).exp() - 2.0;
        if centre > last as f64 {
            break;
        }
        let lo = (centre.floor() - 2.0).max(0.0) as u64;
        steps.extend((lo..=lo + 4).filter(|&c| c <= last && script_logs_step(c)));
    }
    steps.sort_unstable();
    steps.dedup();
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_steps_are_the_scripts_rule() {
        let brute: Vec<u64> = (0..=100_000).filter(|&c| script_logs_step(c)).collect();
        assert_eq!(script_logged_steps(100_000), brute);
    }
}

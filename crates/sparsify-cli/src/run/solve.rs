//! The solver flags of `sparsify run` (`--method`, `--dynamics` with `--mu`/`--p`, `--rtol`,
//! `--atol`), their validation, and the three ways a run is carried out, each ending in the one
//! [`Outcome`] that the outputs are written from.
//!
//! | method     | l1                       | l1-l2 (affine)         | lp (not affine)        |
//! |------------|--------------------------|------------------------|------------------------|
//! | `direct`   | `EulerSim` (bitwise)     | `DynamicsEuler`        | `DynamicsEuler`        |
//! | `reduced`  | `ReducedSim`             | `ReducedSim` (mu)      | refused (exit 2)       |
//! | `adaptive` | `solve_reduced`          | `solve_reduced`        | `solve_full`           |

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use clap::builder::PossibleValuesParser;
use clap::{Args, ValueEnum};
use sparsify_core::adaptive::{solve_full_monitored, solve_reduced_monitored};
use sparsify_core::schedule::{CheckpointSchedule, script_logs_step};
use sparsify_core::{
    AdaptiveConfig, CoreError, DYNAMICS_NAMES, DynamicsEuler, EulerConfig, EulerSim,
    InitialWeights, Method, PrefixMoments, RecordConfig, Recorder, ReducedConfig, ReducedSim,
    RunSummary, ScriptRow, SolverCounts, StepStats, Stepper, StopReason, SumMode, VariantParams,
    dynamics::Dynamics, dynamics_by_name,
};

use crate::error::CliError;
use crate::io::fmt_f64;
use crate::progress::{Phase, Progress};

/// `--rtol` when not given.
pub(crate) const DEFAULT_RTOL: f64 = 1e-8;
/// `--atol` when not given.
pub(crate) const DEFAULT_ATOL: f64 = 1e-12;
/// Set-up phases (drawing, sorting, prefix moments) get a spinner from this many weights on:
/// below it they take well under a second.
pub(crate) const PHASE_SPINNER_FROM_M: usize = 1_000_000;
/// The adaptive solver is asked for its state at the reference checkpoints up to this step:
/// far beyond any run's end (times past the end are ignored), and only ~600 checkpoints.
const LAST_GRID_STEP: u64 = 1_000_000_000_000_000;

/// The solver flags of `sparsify run`.
#[derive(Debug, Args)]
pub(crate) struct SolverArgs {
    /// Solver: `direct` is the published Euler loop on every coordinate (bitwise the published
    /// script with --dynamics l1 and --sum sequential); `reduced` is the same Euler recursion on
    /// two scalars with prefix moments (O(m log m) set-up, O(1) per step; the same death steps
    /// as direct; needs an affine dynamics, l1 or l1-l2); `adaptive` integrates the flow in
    /// continuous time (Dormand-Prince 5(4), tolerances --rtol/--atol) and locates every death
    /// time exactly, without the O(h) shift of Euler: O(1) per step for l1 and l1-l2, but
    /// O(m') per step and a restart at each of the m-1 deaths for lp (about 7 s at m = 1e4,
    /// growing like m^2).
    #[arg(long, value_name = "METHOD", value_enum, default_value_t = MethodArg::Direct)]
    pub(crate) method: MethodArg,

    /// Dynamics variant: `l1` is the published dw/dt = (1 - ||w||^2) w - lambda; `l1-l2` adds
    /// a weight decay, (1 - ||w||^2 - mu) w - lambda (needs --mu); `lp` replaces the L1 penalty
    /// by lambda*sum w^p, so dw/dt = (1 - ||w||^2) w - lambda p w^(p-1) (needs --p; not with
    /// --method reduced).
    #[arg(
        long,
        value_name = "NAME",
        default_value = "l1",
        value_parser = PossibleValuesParser::new(DYNAMICS_NAMES)
    )]
    pub(crate) dynamics: String,

    /// Weight decay mu of --dynamics l1-l2 (required by it, refused otherwise), per unit time:
    /// a finite number >= 0; mu = 0 is exactly the l1 run.
    #[arg(long, value_name = "MU", allow_hyphen_values = true)]
    pub(crate) mu: Option<f64>,

    /// Exponent p of --dynamics lp (required by it, refused otherwise): 0 < p < 1.
    #[arg(long, value_name = "P", allow_hyphen_values = true)]
    pub(crate) p: Option<f64>,

    /// Relative tolerance of --method adaptive (refused with other methods): a number in
    /// [1e-14, 1) [default: 1e-8].
    #[arg(long, value_name = "RTOL", allow_hyphen_values = true)]
    pub(crate) rtol: Option<f64>,

    /// Absolute tolerance of --method adaptive (refused with other methods), in units of the
    /// weights: a finite number > 0 [default: 1e-12].
    #[arg(long, value_name = "ATOL", allow_hyphen_values = true)]
    pub(crate) atol: Option<f64>,
}

/// `--method`, with the help text of each value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum MethodArg {
    /// The published Euler loop on every coordinate, O(m') per step.
    Direct,
    /// The Euler recursion on (alpha, beta) with prefix moments, O(1) per step (l1, l1-l2).
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

/// The validated solver choice of a run.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) method: Method,
    pub(crate) dynamics: Box<dyn Dynamics>,
    pub(crate) dynamics_name: String,
    pub(crate) mu: Option<f64>,
    pub(crate) p: Option<f64>,
    /// Set for `--method adaptive` only.
    pub(crate) adaptive: Option<AdaptiveConfig>,
}

impl Plan {
    /// Checks every combination of the solver flags (and `--sum`, given explicitly or not) and
    /// builds the dynamics. Every refusal is one message naming the flags and values.
    pub(crate) fn new(
        args: &SolverArgs,
        lambda: f64,
        sum_given: Option<&str>,
    ) -> Result<Self, CliError> {
        let method = Method::from(args.method);
        let name = args.dynamics.as_str();
        if let Some(mu) = args.mu
            && name != "l1-l2"
        {
            return Err(CliError::usage(format!(
                "--mu {}: only --dynamics l1-l2 takes a weight decay (this run has --dynamics \
                 {name})",
                fmt_f64(mu)
            )));
        }
        if let Some(p) = args.p
            && name != "lp"
        {
            return Err(CliError::usage(format!(
                "--p {}: only --dynamics lp takes an exponent (this run has --dynamics {name})",
                fmt_f64(p)
            )));
        }
        match (name, args.mu, args.p) {
            ("l1-l2", None, _) => {
                return Err(CliError::usage(
                    "--dynamics l1-l2 needs --mu MU, the weight decay: a finite number >= 0 \
                     (e.g. --mu 0.01)",
                ));
            }
            ("lp", _, None) => {
                return Err(CliError::usage(
                    "--dynamics lp needs --p P, the exponent of the penalty: 0 < p < 1 \
                     (e.g. --p 0.5)",
                ));
            }
            _ => {}
        }
        for (flag, value) in [("--rtol", args.rtol), ("--atol", args.atol)] {
            if let Some(v) = value
                && method != Method::Adaptive
            {
                return Err(CliError::usage(format!(
                    "{flag} {}: tolerances apply to --method adaptive only (this run has \
                     --method {method})",
                    fmt_f64(v)
                )));
            }
        }
        if let Some(sum) = sum_given
            && method != Method::Direct
        {
            return Err(CliError::usage(format!(
                "--sum {sum}: the summation order applies to --method direct only (--method \
                 {method} computes the norms from prefix moments or compensated sums)"
            )));
        }
        let params = VariantParams {
            mu: args.mu,
            p: args.p,
        };
        let dynamics = dynamics_by_name(name, lambda, params).map_err(|e| {
            let flag = match &e {
                CoreError::InvalidParameter { name: "mu", .. } => "--mu",
                CoreError::InvalidParameter { name: "p", .. } => "--p",
                CoreError::InvalidParameter { name: "lambda", .. } => "--lambda",
                _ => "--dynamics",
            };
            CliError::core(flag, &e)
        })?;
        if method == Method::Reduced && dynamics.affine_shift().is_none() {
            return Err(CliError::usage(format!(
                "--method reduced --dynamics {name}: the reduced solver needs every survivor to \
                 stay alpha*w0_j - beta, which holds only for a drift (1 - ||w||^2 - mu)*w - \
                 lambda; {name} lacks that affine structure: use --method direct or adaptive"
            )));
        }
        let adaptive = (method == Method::Adaptive)
            .then(|| {
                AdaptiveConfig::new(
                    args.rtol.unwrap_or(DEFAULT_RTOL),
                    args.atol.unwrap_or(DEFAULT_ATOL),
                    None,
                )
                .map_err(|e| {
                    let flag = match &e {
                        CoreError::InvalidParameter { name: "atol", .. } => "--atol",
                        _ => "--rtol",
                    };
                    CliError::core(flag, &e)
                })
            })
            .transpose()?;
        Ok(Self {
            method,
            dynamics,
            dynamics_name: name.to_owned(),
            mu: args.mu,
            p: args.p,
            adaptive,
        })
    }

    /// Whether the solver works on prefix moments of the sorted weights (reduced, or adaptive
    /// on an affine dynamics), which it builds in one O(m) set-up pass.
    pub(crate) fn uses_prefix_moments(&self) -> bool {
        match self.method {
            Method::Direct => false,
            Method::Reduced => true,
            Method::Adaptive => self.dynamics.affine_shift().is_some(),
        }
    }

    /// The solver as the summary names it: `EulerSim`, `DynamicsEuler`, `ReducedSim`,
    /// `solve_reduced` or `solve_full`.
    pub(crate) fn solver_name(&self) -> &'static str {
        match (
            self.method,
            self.uses_prefix_moments(),
            self.dynamics_name.as_str(),
        ) {
            (Method::Direct, _, "l1") => "EulerSim",
            (Method::Direct, _, _) => "DynamicsEuler",
            (Method::Reduced, _, _) => "ReducedSim",
            (Method::Adaptive, true, _) => "solve_reduced",
            (Method::Adaptive, false, _) => "solve_full",
        }
    }
}

/// What a solver starts from: the weights, or their prefix moments (which own them).
enum Start {
    Weights(InitialWeights),
    Table(PrefixMoments),
}

/// A trajectory row: the state at one instant; `step` is `None` for an instant that is not on
/// the Euler grid `t = step*h` (the end of an adaptive run).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Row {
    pub(crate) step: Option<u64>,
    pub(crate) state: StepStats,
}

/// A change of `m'`: after Euler step `step` (at `t = step*h`), or, for the adaptive solver,
/// at the located crossing time `t` (`step` is `None`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Death {
    pub(crate) step: Option<u64>,
    pub(crate) t: f64,
    pub(crate) m_prime: usize,
}

/// What every solver's run comes to.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) initial_state: StepStats,
    /// For the adaptive solver, `step` is its accepted steps and `gamma` the exact relative
    /// gap of the two largest weights.
    pub(crate) final_state: StepStats,
    /// `one_left`, `all_dropped` or `interrupted`.
    pub(crate) stop: &'static str,
    pub(crate) interrupted: bool,
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

/// Runs `plan` from `w0` with Euler step (or, for `adaptive`, output spacing) `h` and summation
/// order `sum` (direct only), stopping early when `interrupted` is set.
pub(crate) fn run(
    plan: Plan,
    w0: InitialWeights,
    h: f64,
    sum: SumMode,
    script_log: bool,
    progress: bool,
    interrupted: &AtomicBool,
) -> Result<Outcome, CliError> {
    let core_err = |e: CoreError| CliError::core(super::flag_for(&e), &e);
    let m = w0.len();
    let lambda = plan.dynamics.lambda();
    let mut record = RecordConfig::checkpoints_and_deaths();
    record.script_log = script_log;
    let stop = || interrupted.load(Ordering::Relaxed);
    // The prefix-moment solvers take the weights over (no copy: 8 bytes a weight at m = 1e9).
    let mut setup_seconds = 0.0;
    let start = if plan.uses_prefix_moments() {
        let phase = Phase::start(
            progress && m >= PHASE_SPINNER_FROM_M,
            format!("prefix moments of {m} weights"),
        );
        let started = Instant::now();
        let table = PrefixMoments::new_until(w0.into_vec(), &stop)
            .ok_or_else(|| CliError::interrupted("computing the prefix moments"))?;
        setup_seconds = started.elapsed().as_secs_f64();
        phase.finish();
        Start::Table(table)
    } else {
        Start::Weights(w0)
    };
    if let Some(cfg) = plan.adaptive {
        return run_adaptive(
            &plan,
            &cfg,
            start,
            m,
            h,
            script_log,
            progress,
            interrupted,
            setup_seconds,
        );
    }
    let mut observer = (Recorder::new(record), Progress::new(m, progress));
    let started = Instant::now();
    let (result, counts) = match start {
        Start::Table(table) => {
            let cfg = ReducedConfig::new(lambda, h)
                .and_then(|c| c.with_weight_decay(plan.dynamics.affine_shift().unwrap_or(0.0)))
                .map_err(core_err)?;
            let mut sim = ReducedSim::from_table(cfg, table).map_err(core_err)?;
            let result = sim.run(&mut observer, stop);
            (result, Some(sim.counts()))
        }
        Start::Weights(w0) if plan.dynamics_name == "l1" => {
            let cfg = EulerConfig::new(lambda, h, sum).map_err(core_err)?;
            let mut sim = EulerSim::new(cfg, w0).map_err(core_err)?;
            (sim.run(&mut observer, stop), None)
        }
        Start::Weights(w0) => {
            let mut sim = DynamicsEuler::new(plan.dynamics, h, sum, w0).map_err(core_err)?;
            let result = sim.run(&mut observer, stop);
            (result, Some(sim.counts()))
        }
    };
    let wall_seconds = started.elapsed().as_secs_f64();
    let (mut recorder, bar) = observer;
    bar.finish();
    recorder.finish();
    // An unstable step found mid-run is a bad --step (or --sigma) too: report it, write nothing.
    let summary: RunSummary = result.map_err(core_err)?;
    let steps = summary.final_state.step;
    let counts = counts.unwrap_or(SolverCounts {
        steps,
        rejected: 0,
        evals: steps,
        events: recorder.deaths.len() as u64,
    });
    Ok(Outcome {
        initial_state: summary.initial_state,
        final_state: summary.final_state,
        stop: summary.stop.name(),
        interrupted: summary.stop == StopReason::Interrupted,
        checkpoints: recorder
            .checkpoints
            .iter()
            .map(|s| Row {
                step: Some(s.step),
                state: *s,
            })
            .collect(),
        deaths: recorder
            .deaths
            .iter()
            .map(|d| Death {
                step: Some(d.step),
                t: d.t,
                m_prime: d.m_prime,
            })
            .collect(),
        script_log: recorder.script_log,
        counts,
        wall_seconds,
        setup_seconds,
    })
}

/// The adaptive solver: reduced system for affine dynamics (from `table`), whole vector
/// otherwise; asked for its state at the reference checkpoint times `t = k*h` (and the script's
/// logged times, for the figure).
#[allow(clippy::too_many_arguments)]
fn run_adaptive(
    plan: &Plan,
    cfg: &AdaptiveConfig,
    start: Start,
    m: usize,
    h: f64,
    script_log: bool,
    progress: bool,
    interrupted: &AtomicBool,
    setup_seconds: f64,
) -> Result<Outcome, CliError> {
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
    let times: Vec<f64> = steps.iter().map(|&k| k as f64 * h).collect();
    let mut bar = Progress::new(m, progress);
    let mut monitor = |p: &sparsify_core::AdaptiveProgress| {
        bar.tick(p.steps, p.t, p.m_prime);
        interrupted.load(Ordering::Relaxed)
    };
    let dynamics = plan.dynamics.as_ref();
    let started = Instant::now();
    let result = match start {
        Start::Table(mut table) => {
            solve_reduced_monitored(dynamics, cfg, &mut table, &times, &mut monitor)
        }
        Start::Weights(w0) => solve_full_monitored(dynamics, cfg, w0, &times, &mut monitor),
    };
    let wall_seconds = started.elapsed().as_secs_f64();
    bar.finish();
    let s = result.map_err(|e| CliError::core("--method adaptive", &e))?;
    // `outputs[i]` is the state at `times[i]`: the times are increasing and the solver serves
    // them in order, up to the end of the run.
    let at: Vec<(u64, StepStats)> = steps
        .iter()
        .copied()
        .zip(s.outputs.iter().copied())
        .collect();
    let mut rows: Vec<Row> = at
        .iter()
        .filter(|(k, _)| checkpoints.binary_search(k).is_ok())
        .map(|&(k, state)| Row {
            step: Some(k),
            state,
        })
        .collect();
    if rows.last().is_none_or(|r| r.state.t != s.final_state.t) {
        rows.push(Row {
            step: None,
            state: s.final_state,
        });
    }
    let mut script: Vec<ScriptRow> = at
        .iter()
        .filter(|(k, _)| logged.binary_search(k).is_ok())
        .map(|&(k, st)| script_row(k, &st))
        .collect();
    if script_log && script.last().is_none_or(|r| r.t != s.final_state.t) {
        let f = &s.final_state;
        script.push(script_row((f.t / h).floor() as u64, f));
    }
    Ok(Outcome {
        initial_state: s.initial_state,
        final_state: s.final_state,
        stop: s.stop.name(),
        interrupted: s.stop == sparsify_core::AdaptiveStop::Interrupted,
        checkpoints: rows,
        deaths: s
            .deaths
            .iter()
            .map(|d| Death {
                step: None,
                t: d.t,
                m_prime: d.m_prime,
            })
            .collect(),
        script_log: script,
        counts: s.counts,
        wall_seconds,
        setup_seconds,
    })
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

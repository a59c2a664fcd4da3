//! The commands in-process, for a program that embeds them (the Python module
//! `crates/sparsify-py`): the same parameters, defaults, checks and messages as the flags,
//! with arrays in and out instead of files.
//!
//! Every refusal is the message the command line would print for the same value (it names
//! the flag: `--lambda -1: ...`), so the two front ends cannot drift apart. Nothing here
//! computes anything: it fills the flags' structures and calls the same code paths as
//! `sparsify run`.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;

use clap::ValueEnum;
use sparsify_core::{CoreError, Death, InitialWeights, Method, Observer, StepStats, VARIANTS};

use crate::Context;
use crate::error::CliError;
use crate::init::{InitArgs, InitKind, InitRecord, RngKind};
use crate::io::fmt_f64;
use crate::run::flags::{MethodArg, RunArgs, SolverArgs, SumArg};
use crate::run::outputs::{Report, RunSolver};
use crate::run::plan::Plan;
use crate::run::{check_memory, check_parallel_init, run_initial_weights, solve};
use crate::train::{DtypeArg, GivenWeights, NoiseKind, OptimizerKind, TrainArgs, plan_with};
pub use sparsify_experiments::train::{TrainOutcome, TrainSpec};

/// What kind of failure an [`EmbedError`] is: a front end maps it to its own exception type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A bad parameter or input: nothing was run (the command line's exit code 2).
    Usage,
    /// Stopped by the caller's stop request before the run produced anything.
    Interrupted,
    /// Anything else (an output that could not be written).
    Other,
}

/// A refusal or failure, with the command line's one-line message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedError {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// The message `sparsify` prints after `error: `.
    pub message: String,
}

impl std::fmt::Display for EmbedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EmbedError {}

impl From<CliError> for EmbedError {
    fn from(e: CliError) -> Self {
        let kind = match &e {
            CliError::Usage(_) => ErrorKind::Usage,
            CliError::Interrupted(_) => ErrorKind::Interrupted,
            CliError::Io { .. } => ErrorKind::Other,
        };
        Self {
            kind,
            message: e.to_string(),
        }
    }
}

fn usage(message: String) -> EmbedError {
    EmbedError {
        kind: ErrorKind::Usage,
        message,
    }
}

/// One value of a `--flag` with a fixed set of names (`--method`, `--rng`, ...), refused as
/// clap refuses it.
fn value_of<T: ValueEnum>(flag: &str, value_name: &str, given: &str) -> Result<T, EmbedError> {
    T::from_str(given, false).map_err(|_| {
        let names: Vec<String> = T::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value())
            .map(|p| p.get_name().to_owned())
            .collect();
        usage(format!(
            "invalid value '{given}' for '{flag} <{value_name}>'; [possible values: {}] (see \
             --help)",
            names.join(", ")
        ))
    })
}

/// `--m` written as text (`"1e5"`, `"100000"`): a whole number, refused as the flag refuses it.
///
/// # Errors
/// Not a whole number from 0 to 2^53 (the library refuses m < 2 with its own message).
pub fn parse_m(given: &str) -> Result<usize, EmbedError> {
    crate::init::parse_m(given).map_err(|hint| {
        usage(format!(
            "invalid value '{given}' for '--m <M>': {hint} (see --help)"
        ))
    })
}

/// `--max-steps` written as text (`"1e9"`): a whole number >= 1, refused as the flag refuses
/// it.
///
/// # Errors
/// Not a whole number from 1 to 2^53.
pub fn parse_max_steps(given: &str) -> Result<u64, EmbedError> {
    crate::run::flags::parse_steps(given).map_err(|hint| {
        usage(format!(
            "invalid value '{given}' for '--max-steps <N>': {hint} (see --help)"
        ))
    })
}

/// The parameters of `sparsify run`, one field per flag; `None` is the flag left out (its
/// default applies, as on the command line).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunRequest {
    /// `--m` (default 100000).
    pub m: Option<usize>,
    /// `--seed` (default 0).
    pub seed: Option<u64>,
    /// `--rng`: `pcg64` (default) or `numpy`.
    pub rng: Option<String>,
    /// `--init`: `half-normal` (default) or `quantile`.
    pub init: Option<String>,
    /// `--sigma` (default 0.9/sqrt(m)).
    pub sigma: Option<f64>,
    /// `--lambda` (default 1e-5).
    pub lambda: Option<f64>,
    /// `--step` (default 0.5).
    pub step: Option<f64>,
    /// `--parallel-init`.
    pub parallel_init: bool,
    /// `--sum`: `sequential` (default, direct only) or `pairwise`.
    pub sum: Option<String>,
    /// `--method`: `direct` (default), `reduced` or `adaptive`.
    pub method: Option<String>,
    /// `--dynamics` (default `l1`).
    pub dynamics: Option<String>,
    /// `--param NAME=VALUE`, in order.
    pub params: Vec<(String, f64)>,
    /// `--rtol` (adaptive only).
    pub rtol: Option<f64>,
    /// `--atol` (adaptive only).
    pub atol: Option<f64>,
    /// `--max-steps` (default 1e9).
    pub max_steps: Option<u64>,
    /// `--abs`: absolute values of the given weights (only with given weights).
    pub abs: bool,
    /// Steps after which to keep every surviving weight (no flag: the files hold none).
    pub record: Vec<u64>,
}

/// What `sparsify run` would write, in memory.
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// The `--trajectory` rows: `(step, state)`; `step` is `None` for the last row of an
    /// adaptive run (not on the grid `t = step*h`).
    pub trajectory: Vec<(Option<u64>, StepStats)>,
    /// The `--deaths` rows.
    pub deaths: Vec<Death>,
    /// The `--summary` JSON (its `outputs` fields `null`).
    pub summary_json: String,
    /// The surviving weights, descending, after each step of [`RunRequest::record`] that the
    /// run reached.
    pub snapshots: BTreeMap<u64, Vec<f64>>,
    /// Whether the stop request ended the run before its end (the rows so far are kept).
    pub interrupted: bool,
}

impl RunRequest {
    /// The flags this request stands for, refused where the command line refuses them
    /// before a run. `given` says whether the caller passes its own weights (`--init-file`).
    fn args(&self, given: bool) -> Result<RunArgs, EmbedError> {
        if given {
            // clap's `conflicts_with_all` on --init-file, and `requires` on --abs.
            let conflicts = [
                ("--m <M>", self.m.is_some()),
                ("--init <INIT>", self.init.is_some()),
                ("--rng <RNG>", self.rng.is_some()),
                ("--sigma <SIGMA>", self.sigma.is_some()),
                ("--seed <SEED>", self.seed.is_some()),
                ("--parallel-init", self.parallel_init),
            ];
            if let Some((flag, _)) = conflicts.iter().find(|(_, set)| *set) {
                return Err(usage(format!(
                    "the argument '--init-file <PATH>' cannot be used with '{flag}' (see --help)"
                )));
            }
        } else if self.abs {
            return Err(usage(
                "the following required arguments were not provided: --init-file <PATH> (see \
                 --help)"
                    .to_owned(),
            ));
        }
        let rng = match &self.rng {
            Some(s) => value_of::<RngKind>("--rng", "RNG", s)?,
            None => RngKind::Pcg64,
        };
        let init = match &self.init {
            Some(s) => value_of::<InitKind>("--init", "INIT", s)?,
            None => InitKind::HalfNormal,
        };
        let method = match &self.method {
            Some(s) => value_of::<MethodArg>("--method", "METHOD", s)?,
            None => MethodArg::Direct,
        };
        let sum = self
            .sum
            .as_deref()
            .map(|s| value_of::<SumArg>("--sum", "SUM", s))
            .transpose()?;
        let dynamics = self.dynamics.clone().unwrap_or_else(|| "l1".to_owned());
        if !VARIANTS.iter().any(|v| v.name == dynamics) {
            let names: Vec<&str> = VARIANTS.iter().map(|v| v.name).collect();
            return Err(usage(format!(
                "invalid value '{dynamics}' for '--dynamics <NAME>'; [possible values: {}] (see \
                 --help)",
                names.join(", ")
            )));
        }
        if let Some(0) = self.max_steps {
            return Err(parse_max_steps("0")
                .err()
                .unwrap_or_else(|| usage("--max-steps 0".to_owned())));
        }
        Ok(RunArgs {
            weights: InitArgs {
                m: self.m.unwrap_or(DEFAULT_M),
                seed: self.seed.unwrap_or(0),
                rng,
                init,
                sigma: self.sigma,
                init_file: None,
                abs: self.abs,
            },
            lambda: self.lambda.unwrap_or(DEFAULT_LAMBDA),
            step: self.step.unwrap_or(DEFAULT_STEP),
            parallel_init: self.parallel_init,
            sum,
            solver: SolverArgs {
                method,
                dynamics,
                params: self.params.clone(),
                rtol: self.rtol,
                atol: self.atol,
                max_steps: self.max_steps,
            },
            trajectory: None,
            deaths: None,
            summary: None,
            figure: None,
        })
    }
}

/// `--m` when not given.
pub const DEFAULT_M: usize = 100_000;
/// `--lambda` when not given.
pub const DEFAULT_LAMBDA: f64 = 1e-5;
/// `--step` when not given.
pub const DEFAULT_STEP: f64 = 0.5;

/// Runs `sparsify run` as `request` asks, from `w0` when given (as `--init-file` would give
/// the same numbers: any order, checked, sorted descending). Polls `stop` every step (and
/// while drawing or sorting weights); once it returns true the run stops and returns what
/// it has, marked [`RunOutput::interrupted`].
///
/// # Errors
/// Every refusal of the command line, with its message; [`ErrorKind::Interrupted`] when
/// stopped before the run's loop.
pub fn run(
    request: &RunRequest,
    w0: Option<Vec<f64>>,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<RunOutput, EmbedError> {
    let given = w0.is_some();
    let args = request.args(given)?;
    let plan = Plan::new(&args)?;
    if !given {
        args.weights.check_seed()?;
        check_parallel_init(&args)?;
        check_memory(&args, &plan)?;
    }
    let method = plan.method;
    if method == Method::Adaptive && !request.record.is_empty() {
        return Err(usage(
            "record: weight snapshots are taken after Euler steps (--method direct or \
             reduced); the adaptive flow has no such steps"
                .to_owned(),
        ));
    }
    let (w0, init) = match w0 {
        Some(values) => (
            given_weights(values, args.weights.abs)?,
            array_record(&args),
        ),
        None => run_initial_weights(&args, false, stop)?,
    };
    plan.check_budget(&w0)?;
    let m = w0.len();
    let solver = RunSolver {
        method,
        solver: plan.routine()?,
        dynamics: plan.variant.name,
        params: plan.params.clone(),
        rtol: plan.adaptive.map(|a| a.rtol()),
        atol: plan.adaptive.map(|a| a.atol()),
    };
    let mut snapshots = Snapshots::new(&request.record);
    let outcome = solve::run(&plan, w0, false, false, stop, given, &mut snapshots)?;
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
    let summary_json = report.summary_without_files().map_err(|e| EmbedError {
        kind: ErrorKind::Other,
        message: format!("summary: {e}"),
    })?;
    Ok(RunOutput {
        trajectory: outcome
            .checkpoints
            .iter()
            .map(|r| (r.step, r.state))
            .collect(),
        interrupted: outcome.interrupted(),
        deaths: outcome.deaths,
        summary_json,
        snapshots: snapshots.taken,
    })
}

/// The caller's weights, checked as `--init-file`'s are; the messages name `w0`.
fn given_weights(values: Vec<f64>, abs: bool) -> Result<InitialWeights, EmbedError> {
    InitialWeights::from_values(values, abs).map_err(|e| match e {
        CoreError::InvalidWeight { index, value } => {
            let hint = if abs {
                "weights must be finite and nonzero (abs takes absolute values)"
            } else {
                "weights must be finite and > 0 (pass abs=True to take absolute values)"
            };
            usage(format!(
                "w0: invalid weight {} at index {index}: {hint}",
                fmt_f64(value)
            ))
        }
        CoreError::TooFewWeights { m } => usage(format!(
            "w0: holds {m} weight(s); need at least 2 to sparsify"
        )),
        other => usage(format!("w0: {other}")),
    })
}

/// How given weights are recorded in the summary (as `--init-file`, with no path).
fn array_record(args: &RunArgs) -> InitRecord {
    InitRecord {
        init: "array",
        rng: None,
        seed: None,
        sigma: None,
        init_file: None,
        abs: args.weights.abs,
    }
}

/// Keeps the surviving weights after the requested steps (step 0: the initial weights).
struct Snapshots {
    steps: Vec<u64>,
    taken: BTreeMap<u64, Vec<f64>>,
}

impl Snapshots {
    fn new(steps: &[u64]) -> Self {
        let mut steps = steps.to_vec();
        steps.sort_unstable();
        steps.dedup();
        Self {
            steps,
            taken: BTreeMap::new(),
        }
    }

    fn wanted(&self, step: u64) -> bool {
        self.steps.binary_search(&step).is_ok()
    }
}

impl Observer for Snapshots {
    fn start(&mut self, initial: &StepStats, w: &[f64]) {
        if self.wanted(initial.step) {
            self.taken.insert(initial.step, w.to_vec());
        }
    }

    fn step(&mut self, _before: &StepStats, after: &StepStats, w: &[f64]) {
        if self.wanted(after.step) {
            self.taken.insert(after.step, w.to_vec());
        }
    }

    fn wants_weights(&self, _before: &StepStats, after: &StepStats) -> bool {
        self.wanted(after.step)
    }
}

/// The parameters of `sparsify train`, one field per flag; `None` is the flag left out.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrainRequest {
    /// `--n` (required unless weights are given).
    pub n: Option<usize>,
    /// `--m` (required unless weights are given).
    pub m: Option<usize>,
    /// `--instances` (default 1, or the given weights').
    pub instances: Option<usize>,
    /// `--lambda` (default 1e-3).
    pub lambda: Option<f64>,
    /// `--steps` (default 7500).
    pub steps: Option<u64>,
    /// `--seed` (default 0).
    pub seed: Option<u64>,
    /// `--optimizer`: `adamw` (default), `sgd` or `flow`.
    pub optimizer: Option<String>,
    /// `--lr`.
    pub lr: Option<f64>,
    /// `--weight-decay`.
    pub weight_decay: Option<f64>,
    /// `--beta1`.
    pub beta1: Option<f64>,
    /// `--beta2`.
    pub beta2: Option<f64>,
    /// `--eps`.
    pub eps: Option<f64>,
    /// `--step` (the flow's time step).
    pub step: Option<f64>,
    /// `--noise`: `none` (default), `bernoulli` or `gaussian`.
    pub noise: Option<String>,
    /// `--sigma` (the noise's amplitude).
    pub sigma: Option<f64>,
    /// `--dtype`: `f32` (default) or `f64`.
    pub dtype: Option<String>,
    /// `--save-weights`.
    pub save_weights: Vec<u64>,
    /// `--record-every` (default 100).
    pub record_every: Option<u64>,
}

/// A size (`--n`, `--m`, `--instances`) written as text, refused as the flag refuses it.
///
/// # Errors
/// Not a whole number from 1 to 2^53.
pub fn parse_size(flag: &str, given: &str) -> Result<usize, EmbedError> {
    crate::train::parse_size(given).map_err(|hint| {
        usage(format!(
            "invalid value '{given}' for '{flag} <{}>': {hint} (see --help)",
            flag.trim_start_matches("--").to_ascii_uppercase()
        ))
    })
}

/// An update count (`--steps`, `--record-every`, `--save-weights`) written as text, refused as
/// the flag refuses it.
///
/// # Errors
/// Not a whole number from 0 to 2^53.
pub fn parse_updates(flag: &str, given: &str) -> Result<u64, EmbedError> {
    crate::train::parse_steps(given).map_err(|hint| {
        usage(format!(
            "invalid value '{given}' for '{flag} <{}>': {hint} (see --help)",
            flag.trim_start_matches("--").to_ascii_uppercase()
        ))
    })
}

impl TrainRequest {
    fn args(&self) -> Result<TrainArgs, EmbedError> {
        let optimizer = match &self.optimizer {
            Some(s) => value_of::<OptimizerKind>("--optimizer", "OPTIMIZER", s)?,
            None => OptimizerKind::Adamw,
        };
        let noise = match &self.noise {
            Some(s) => value_of::<NoiseKind>("--noise", "NOISE", s)?,
            None => NoiseKind::None,
        };
        let dtype = match &self.dtype {
            Some(s) => value_of::<DtypeArg>("--dtype", "DTYPE", s)?,
            None => DtypeArg::F32,
        };
        for (flag, n) in [
            ("--n", self.n),
            ("--m", self.m),
            ("--instances", self.instances),
        ] {
            if n == Some(0) {
                return Err(parse_size(flag, "0")
                    .err()
                    .unwrap_or_else(|| usage(format!("{flag} 0"))));
            }
        }
        Ok(TrainArgs {
            n: self.n,
            m: self.m,
            instances: self.instances,
            lambda: self.lambda.unwrap_or(DEFAULT_TRAIN_LAMBDA),
            steps: self.steps.unwrap_or(DEFAULT_TRAIN_STEPS),
            seed: self.seed.unwrap_or(0),
            optimizer,
            lr: self.lr,
            weight_decay: self.weight_decay,
            beta1: self.beta1,
            beta2: self.beta2,
            eps: self.eps,
            step: self.step,
            noise,
            sigma: self.sigma,
            dtype,
            init_file: None,
            save_weights: self.save_weights.clone(),
            record_every: self.record_every.unwrap_or(DEFAULT_RECORD_EVERY),
            out: std::path::PathBuf::new(),
        })
    }
}

/// `sparsify train --lambda` when not given.
pub const DEFAULT_TRAIN_LAMBDA: f64 = 1e-3;
/// `--steps` when not given.
pub const DEFAULT_TRAIN_STEPS: u64 = 7500;
/// `--record-every` when not given.
pub const DEFAULT_RECORD_EVERY: u64 = 100;

/// What `sparsify train` computes: the spec it ran and everything it recorded.
#[derive(Debug, Clone)]
pub struct TrainOutput {
    /// The checked parameters.
    pub spec: TrainSpec,
    /// The weights, losses, metrics and counts.
    pub outcome: TrainOutcome,
}

/// Runs `sparsify train` as `request` asks, from `w0` (shape `(instances, n, m)`, values in C
/// order) when given, as `--init-file` would. Stops after the current update once `stop`
/// returns true ([`TrainOutcome::summary`] says so).
///
/// # Errors
/// Every refusal of the command line, with its message; a run whose weights became
/// non-finite.
pub fn train(
    request: &TrainRequest,
    w0: Option<([usize; 3], Vec<f64>)>,
    stop: &dyn Fn() -> bool,
) -> Result<TrainOutput, EmbedError> {
    let args = request.args()?;
    let given = w0.map(|(dims, values)| GivenWeights {
        shown_as: "w0".to_owned(),
        dims,
        values,
    });
    let (spec, w0) = plan_with(&args, given)?;
    let outcome = sparsify_experiments::train::train(&spec, w0, &mut |_| {}, stop)
        .map_err(|e| usage(e.to_string()))?;
    Ok(TrainOutput { spec, outcome })
}

/// What a command line run in-process printed, and its exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandOutput {
    /// The exit code (see [`crate::exit`]).
    pub code: u8,
    /// What it printed on stdout.
    pub stdout: String,
    /// What it printed on stderr (one `error: ...` line on failure).
    pub stderr: String,
}

/// Runs `sparsify ARGS...` in-process, exactly as the binary would (without its signal
/// handlers: `interrupted` is the flag they would set), with no progress display.
pub fn command(args: &[String], interrupted: &AtomicBool) -> CommandOutput {
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let code = {
        let mut ctx = Context {
            stdout: &mut stdout,
            stderr: &mut stderr,
            interrupted,
            progress: false,
        };
        crate::main_with_args(
            std::iter::once("sparsify").chain(args.iter().map(String::as_str)),
            &mut ctx,
        )
    };
    CommandOutput {
        code,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// A sweep spec given as JSON (a Python dict through `json.dumps`) as the TOML that `sparsify
/// sweep plan` reads, tables and keys in the JSON's order.
///
/// # Errors
/// JSON that TOML cannot hold (`null`, a top level that is not an object).
pub fn spec_toml_from_json(json: &str) -> Result<String, EmbedError> {
    let value: toml::Table = serde_json::from_str(json).map_err(|e| {
        usage(format!(
            "spec: not a TOML document ({e}); null has no TOML form"
        ))
    })?;
    toml::to_string(&value).map_err(|e| usage(format!("spec: {e}")))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::{Cli, Command};

    /// The request's defaults are the flags' defaults: parse `sparsify run` with no flag and
    /// compare field by field.
    #[test]
    fn defaults_are_the_command_lines() {
        let cli = Cli::try_parse_from(["sparsify", "run"]).expect("parses");
        let Command::Run(flags) = cli.command else {
            panic!("not run")
        };
        let ours = RunRequest::default().args(false).expect("valid");
        assert_eq!(ours.weights.m, flags.weights.m);
        assert_eq!(ours.weights.seed, flags.weights.seed);
        assert_eq!(ours.weights.rng, flags.weights.rng);
        assert_eq!(ours.weights.init, flags.weights.init);
        assert_eq!(ours.weights.sigma, flags.weights.sigma);
        assert_eq!(ours.lambda.to_bits(), flags.lambda.to_bits());
        assert_eq!(ours.step.to_bits(), flags.step.to_bits());
        assert_eq!(ours.sum, flags.sum);
        assert_eq!(ours.solver.method, flags.solver.method);
        assert_eq!(ours.solver.dynamics, flags.solver.dynamics);
        assert_eq!(ours.solver.max_steps, flags.solver.max_steps);
    }

    /// The training request's defaults are `sparsify train`'s.
    #[test]
    fn train_defaults_are_the_command_lines() {
        let cli = Cli::try_parse_from(["sparsify", "train", "--out", "x"]).expect("parses");
        let Command::Train(flags) = cli.command else {
            panic!("not train")
        };
        let ours = TrainRequest::default().args().expect("valid");
        assert_eq!(ours.lambda.to_bits(), flags.lambda.to_bits());
        assert_eq!(ours.steps, flags.steps);
        assert_eq!(ours.seed, flags.seed);
        assert_eq!(ours.optimizer, flags.optimizer);
        assert_eq!(ours.noise, flags.noise);
        assert_eq!(ours.dtype, flags.dtype);
        assert_eq!(ours.record_every, flags.record_every);
        assert_eq!(
            (ours.n, ours.m, ours.instances),
            (flags.n, flags.m, flags.instances)
        );
    }

    /// A value outside a fixed set is refused with the names that are allowed.
    #[test]
    fn names_outside_the_set_are_refused() {
        let request = RunRequest {
            method: Some("euler".to_owned()),
            ..RunRequest::default()
        };
        let e = request.args(false).expect_err("refused");
        assert_eq!(e.kind, ErrorKind::Usage);
        assert!(
            e.message.contains("direct, reduced, adaptive"),
            "{}",
            e.message
        );
    }
}

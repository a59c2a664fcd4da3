//! What a cell runs: the kinds of cell, their parameters, their checks, and the one function
//! per kind that calls the library crates. Everything a solver entry point touches is in this
//! file, so a change of the solvers' API is a change here alone.
//!
//! - `run`: one simulation from initial weights to a single survivor (`sparsify-core`), the
//!   same solver choice as `sparsify run` (`sparsify_core::solve` picks the routine).
//! - `predict`: closed-form death times from the same initial weights
//!   (`sparsify_theory::death_times`), as `sparsify predict`.
//! - `train`: the n-feature model trained as `sparsify train` trains it
//!   (`crate::train`), with its counts averaged over the cell's instances.

use std::fmt::Write as _;

use rand::SeedableRng;
use rand_pcg::Pcg64;
use sparsify_core::schedule::CheckpointSchedule;
use sparsify_core::{
    AdaptiveConfig, CoreError, EulerConfig, InitialWeights, RecordConfig, Recorder, Solver,
    SolverCounts, StepStats, StopReason, SumMode, VARIANT_NAMES, solve, variant,
};
use sparsify_theory::death_times::{Discretisation, Order, PredictionConfig, death_times};

use super::spec::{Cell, DefaultValue as D, Grid, Outputs, ParamDef, Ty, Value, fmt_f64};
use crate::ExperimentError;

/// What a sweep's cells run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A simulation (`sparsify run`).
    Run,
    /// A closed-form prediction (`sparsify predict`).
    Predict,
    /// A training run of the n-feature model (`sparsify train`).
    Train,
}

impl Kind {
    /// The kind a spec names (`"run"`, `"predict"`, `"train"`).
    pub fn from_name(s: &str) -> Option<Self> {
        match s {
            "run" => Some(Kind::Run),
            "predict" => Some(Kind::Predict),
            "train" => Some(Kind::Train),
            _ => None,
        }
    }

    /// The name a spec gives this kind.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Run => "run",
            Kind::Predict => "predict",
            Kind::Train => "train",
        }
    }
}

const fn req(name: &'static str, ty: Ty) -> ParamDef {
    ParamDef {
        name,
        ty,
        default: None,
        required: true,
    }
}

const fn opt(name: &'static str, ty: Ty, default: Option<D>) -> ParamDef {
    ParamDef {
        name,
        ty,
        default,
        required: false,
    }
}

const METHODS: &[&str] = &["direct", "reduced", "adaptive"];

/// The parameters of a `run` cell (the flags of `sparsify run`): model parameters are
/// required, solver choices default as the CLI's flags do.
const RUN_PARAMS: &[ParamDef] = &[
    req("m", Ty::Int { min: 2 }),
    opt("seed", Ty::Int { min: 0 }, Some(D::Int(0))),
    req("lambda", Ty::Float),
    req("step", Ty::Float),
    opt("method", Ty::Choice(METHODS), Some(D::Str("direct"))),
    opt("dynamics", Ty::Choice(VARIANT_NAMES), Some(D::Str("l1"))),
    opt("mu", Ty::Float, None),
    opt("p", Ty::Float, None),
    opt("rtol", Ty::Float, None),
    opt("atol", Ty::Float, None),
    opt("sum", Ty::Choice(&["sequential", "pairwise"]), None),
    opt(
        "rng",
        Ty::Choice(&["pcg64", "numpy"]),
        Some(D::Str("pcg64")),
    ),
    opt(
        "init",
        Ty::Choice(&["half-normal", "quantile"]),
        Some(D::Str("half-normal")),
    ),
    opt("sigma", Ty::Float, None),
    opt("parallel_init", Ty::Bool, Some(D::Bool(false))),
];

/// The parameters of a `predict` cell (the flags of `sparsify predict` for death times):
/// `step` absent predicts the flow, present the Euler scheme of that step.
const PREDICT_PARAMS: &[ParamDef] = &[
    req("m", Ty::Int { min: 2 }),
    opt("seed", Ty::Int { min: 0 }, Some(D::Int(0))),
    req("lambda", Ty::Float),
    opt("step", Ty::Float, None),
    opt("order", Ty::Int { min: 0 }, Some(D::Int(1))),
    opt(
        "rng",
        Ty::Choice(&["pcg64", "numpy"]),
        Some(D::Str("pcg64")),
    ),
    opt(
        "init",
        Ty::Choice(&["half-normal", "quantile"]),
        Some(D::Str("half-normal")),
    ),
    opt("sigma", Ty::Float, None),
    opt("parallel_init", Ty::Bool, Some(D::Bool(false))),
];

/// The parameters of a `train` cell (the flags of `sparsify train`, without files).
const TRAIN_PARAMS: &[ParamDef] = &[
    req("n", Ty::Int { min: 1 }),
    req("m", Ty::Int { min: 1 }),
    opt("instances", Ty::Int { min: 1 }, Some(D::Int(1))),
    opt("seed", Ty::Int { min: 0 }, Some(D::Int(0))),
    req("lambda", Ty::Float),
    req("steps", Ty::Int { min: 0 }),
    opt(
        "optimizer",
        Ty::Choice(&["adamw", "sgd", "flow"]),
        Some(D::Str("adamw")),
    ),
    opt("lr", Ty::Float, None),
    opt("weight_decay", Ty::Float, None),
    opt("beta1", Ty::Float, None),
    opt("beta2", Ty::Float, None),
    opt("eps", Ty::Float, None),
    opt("step", Ty::Float, None),
    opt(
        "noise",
        Ty::Choice(&["none", "bernoulli", "gaussian"]),
        Some(D::Str("none")),
    ),
    opt("sigma", Ty::Float, None),
    opt("dtype", Ty::Choice(&["f32", "f64"]), Some(D::Str("f32"))),
];

/// The summary scalars of a `train` cell: how it ended, the final loss, and the paper's counts
/// as means (and the polysemantic count's population std) over the cell's instances, beside the
/// prediction `n^2/4m`. No timing: a cell's row must not depend on the machine.
const TRAIN_SCALARS: &[&str] = &[
    "stop_reason",
    "steps",
    "final_total_loss",
    "polysemantic_mean",
    "polysemantic_std",
    "initial_collisions_mean",
    "initial_collisions_opposite_sign_mean",
    "shared_opposite_sign_mean",
    "winner_is_initial_argmax_fraction_mean",
    "n2_over_4m",
];

/// The summary scalars of a `run` cell, in table order: the final state (the time to one
/// neuron is `final_t` when `stop_reason` is `one_left`, the winner's weight `w_max`) and the
/// solver's work.
const RUN_SCALARS: &[&str] = &[
    "stop_reason",
    "steps",
    "final_t",
    "final_m_prime",
    "w_max",
    "one_norm",
    "gamma",
    "rejected_steps",
    "function_evaluations",
];

/// The scalars that are names, not numbers (left out of the aggregate over seeds).
pub const TEXT_SCALARS: &[&str] = &["stop_reason"];

/// The summary scalars of a `predict` cell: the predicted times of the first death, of
/// `m' = floor(m/2)` and of `m' = 1`.
const PREDICT_SCALARS: &[&str] = &["t_first_death", "t_half", "t_one"];

/// The parameters a kind takes, in table order.
pub(crate) fn params(kind: Kind) -> &'static [ParamDef] {
    match kind {
        Kind::Run => RUN_PARAMS,
        Kind::Predict => PREDICT_PARAMS,
        Kind::Train => TRAIN_PARAMS,
    }
}

/// The summary scalars a kind reports, in table order.
pub fn scalar_names(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Run => RUN_SCALARS,
        Kind::Predict => PREDICT_SCALARS,
        Kind::Train => TRAIN_SCALARS,
    }
}

/// What a finished cell produced: its summary scalars as text (aligned with
/// [`scalar_names`]; integers in decimal, reals shortest round-trip) and the extra files the
/// spec asked for, as `(suffix, CSV text)`.
#[derive(Debug, Clone, PartialEq)]
pub struct CellOutput {
    /// The scalars, as they go into the merged table.
    pub scalars: Vec<String>,
    /// Extra per-cell files: `("trajectory", csv)`, `("deaths", csv)`.
    pub files: Vec<(&'static str, String)>,
}

/// How a cell ended.
#[derive(Debug)]
pub enum CellResult {
    /// It ran to the end.
    Done(CellOutput),
    /// It was stopped by `stop` (Ctrl-C): nothing is recorded, it runs again next time.
    Interrupted,
    /// It failed: the one-line reason is recorded, and it runs again only when asked.
    Failed(String),
}

/// A cell's parameters, typed.
struct P<'a> {
    grid: &'a Grid,
    cell: &'a Cell,
}

impl P<'_> {
    fn int(&self, name: &str) -> Option<u64> {
        match self.cell.get(self.grid, name) {
            Some(Value::Int(n)) => Some(*n),
            _ => None,
        }
    }
    fn float(&self, name: &str) -> Option<f64> {
        match self.cell.get(self.grid, name) {
            Some(Value::Float(x)) => Some(*x),
            _ => None,
        }
    }
    fn str(&self, name: &str) -> &str {
        match self.cell.get(self.grid, name) {
            Some(Value::Str(s)) => s,
            _ => "",
        }
    }
    fn flag(&self, name: &str) -> bool {
        matches!(self.cell.get(self.grid, name), Some(Value::Bool(true)))
    }
    fn m(&self) -> usize {
        self.int("m").unwrap_or(0) as usize
    }
}

/// Checks one cell's parameters the way the CLI checks its flags, without running anything:
/// `Err` is one line naming the parameters and values.
pub(crate) fn validate(kind: Kind, grid: &Grid, cell: &Cell) -> Result<(), String> {
    let p = P { grid, cell };
    match kind {
        Kind::Run => init_check(&p).and_then(|()| run_plan(&p).map(drop)),
        Kind::Predict => init_check(&p).and_then(|()| predict_config(&p).map(drop)),
        Kind::Train => train_spec(&p).map(drop),
    }
}

fn init_check(p: &P<'_>) -> Result<(), String> {
    if let Some(s) = p.float("sigma")
        && !(s.is_finite() && s > 0.0)
    {
        return Err(format!(
            "sigma = {}: must be a finite number > 0",
            fmt_f64(s)
        ));
    }
    let seed = p.int("seed").unwrap_or(0);
    if p.str("init") == "half-normal" && p.str("rng") == "numpy" && seed > u64::from(u32::MAX) {
        return Err(format!(
            "seed = {seed}: rng = \"numpy\" takes a 32-bit seed, 0 to {}",
            u32::MAX
        ));
    }
    if p.flag("parallel_init") && (p.str("init") != "half-normal" || p.str("rng") != "pcg64") {
        return Err(
            "parallel_init = true: draws half-normal weights with rng = \"pcg64\" only".to_owned(),
        );
    }
    Ok(())
}

/// The validated solver choice of a `run` cell.
struct RunPlan {
    method: &'static str,
    dynamics: Box<dyn sparsify_core::Dynamics>,
    h: f64,
    sum: SumMode,
    adaptive: Option<AdaptiveConfig>,
}

fn run_plan(p: &P<'_>) -> Result<RunPlan, String> {
    let lambda = p.float("lambda").unwrap_or(f64::NAN);
    let h = p.float("step").unwrap_or(f64::NAN);
    let method = match p.str("method") {
        "reduced" => "reduced",
        "adaptive" => "adaptive",
        _ => "direct",
    };
    let name = p.str("dynamics");
    let (mu, pp) = (p.float("mu"), p.float("p"));
    if mu.is_some() && name != "l1-l2" {
        return Err(format!(
            "mu is set but dynamics = \"{name}\": only \"l1-l2\" takes a weight decay"
        ));
    }
    if pp.is_some() && name != "lp" {
        return Err(format!(
            "p is set but dynamics = \"{name}\": only \"lp\" takes an exponent"
        ));
    }
    for (key, v) in [("rtol", p.float("rtol")), ("atol", p.float("atol"))] {
        if v.is_some() && method != "adaptive" {
            return Err(format!(
                "{key} is set but method = \"{method}\": tolerances apply to \"adaptive\" only"
            ));
        }
    }
    let sum = match p.cell.get(p.grid, "sum") {
        Some(Value::Str(s)) if method != "direct" => {
            return Err(format!(
                "sum = \"{s}\" with method = \"{method}\": the summation order applies to \
                 \"direct\" only"
            ));
        }
        Some(Value::Str(s)) if s == "pairwise" => SumMode::Pairwise,
        _ => SumMode::Sequential,
    };
    let core = |e: CoreError| e.to_string();
    // The same checks (and messages) as the solvers' constructors.
    EulerConfig::new(lambda, h, sum).map_err(core)?;
    let given: Vec<(&str, f64)> = [("mu", mu), ("p", pp)]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
    let dynamics = variant(name)
        .and_then(|v| v.dynamics(lambda, &given))
        .map_err(|e| match e {
            CoreError::MissingParameter { .. } | CoreError::InvalidParameter { .. } => {
                format!("dynamics = \"{name}\": {e}")
            }
            other => other.to_string(),
        })?;
    if method == "reduced" && dynamics.affine_shift().is_none() {
        return Err(format!(
            "method = \"reduced\" with dynamics = \"{name}\": the reduced solver needs an affine \
             drift (l1 or l1-l2); use \"direct\" or \"adaptive\""
        ));
    }
    let adaptive = (method == "adaptive")
        .then(|| {
            AdaptiveConfig::new(
                p.float("rtol").unwrap_or(1e-8),
                p.float("atol").unwrap_or(1e-12),
            )
        })
        .transpose()
        .map_err(core)?;
    Ok(RunPlan {
        method,
        dynamics,
        h,
        sum,
        adaptive,
    })
}

fn predict_config(p: &P<'_>) -> Result<PredictionConfig, String> {
    let order = match p.int("order") {
        Some(0) => Order::Leading,
        Some(1) => Order::FirstOrder,
        other => {
            return Err(format!(
                "order = {}: 0 (leading term) or 1 (first-order corrected form)",
                other.unwrap_or(0)
            ));
        }
    };
    let discretisation = match p.float("step") {
        Some(h) => Discretisation::Euler { h },
        None => Discretisation::Continuous,
    };
    PredictionConfig::new(
        p.float("lambda").unwrap_or(f64::NAN),
        order,
        discretisation,
        order == Order::FirstOrder,
    )
    .map_err(|e| e.to_string())
}

/// The cell's initial weights.
fn initial_weights(p: &P<'_>) -> Result<InitialWeights, CoreError> {
    let (m, sigma, seed) = (p.m(), p.float("sigma"), p.int("seed").unwrap_or(0));
    if p.flag("parallel_init") {
        return InitialWeights::half_normal_parallel(seed, m, sigma);
    }
    match (p.str("init"), p.str("rng")) {
        ("quantile", _) => InitialWeights::quantile(m, sigma),
        (_, "numpy") => InitialWeights::half_normal_numpy(seed as u32, m, sigma),
        _ => InitialWeights::half_normal(&mut Pcg64::seed_from_u64(seed), m, sigma),
    }
}

/// Runs one cell of kind `kind`; `stop` is polled between steps (a `true` abandons the cell).
/// A cell's result depends on its parameters alone (its seed among them), never on the thread,
/// shard or machine that runs it.
pub fn execute(
    kind: Kind,
    grid: &Grid,
    cell: &Cell,
    outputs: Outputs,
    stop: &dyn Fn() -> bool,
) -> CellResult {
    let p = P { grid, cell };
    let result = match kind {
        Kind::Run => execute_run(&p, outputs, stop),
        Kind::Predict => execute_predict(&p, outputs),
        Kind::Train => execute_train(&p, stop),
    };
    match result {
        Ok(Some(out)) => CellResult::Done(out),
        Ok(None) => CellResult::Interrupted,
        Err(e) => CellResult::Failed(e.to_string()),
    }
}

/// Peak memory of the grid's largest cell, in bytes, from the values `m` and `method` take
/// (without visiting every cell): 8 bytes per weight for the initial weights, plus one byte
/// per weight for the prefix-moment solvers' marks and sort scratch, or a second copy of the
/// weights for the direct solver's working vector; plus 16 MB for the process. Checked at
/// m = 1e8 (`--method reduced --parallel-init`): see the README's "Running on a cluster".
///
/// A `train` cell holds `instances * n * m` weights several times: the initial and final
/// weights in `f64` (16 bytes) and the weights, the gradient and the optimiser's two moments in
/// the cell's precision (4 or 8 bytes each), so `16 + 4 s` bytes per weight (32 for `f32`)
/// plus 16 MB, with the largest `instances`, `n` and `m` of the grid. Measured: 412 MB at
/// n = 256, m = 4096, 16 instances, AdamW f32, against 553 MB estimated (README).
pub fn max_memory_bytes(kind: Kind, grid: &Grid) -> u64 {
    if kind == Kind::Train {
        return train_memory_bytes(grid);
    }
    let ms = grid.values_of("m");
    let direct = kind == Kind::Run
        && grid
            .values_of("method")
            .iter()
            .any(|v| *v == Value::Str("direct".to_owned()));
    let m = ms
        .iter()
        .filter_map(|v| match v {
            Value::Int(n) => Some(*n),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    m.saturating_mul(if direct { 16 } else { 9 })
        .saturating_add(16 << 20)
}

/// The largest integer value parameter `name` takes in `grid` (`default` if it never is set).
fn max_int(grid: &Grid, name: &str, default: u64) -> u64 {
    grid.values_of(name)
        .iter()
        .filter_map(|v| match v {
            Value::Int(n) => Some(*n),
            _ => None,
        })
        .max()
        .unwrap_or(default)
}

/// [`max_memory_bytes`] of a `train` grid.
fn train_memory_bytes(grid: &Grid) -> u64 {
    let f64_cells = grid
        .values_of("dtype")
        .iter()
        .any(|v| *v == Value::Str("f64".to_owned()));
    let per_weight = 16 + 4 * if f64_cells { 8 } else { 4 };
    max_int(grid, "instances", 1)
        .saturating_mul(max_int(grid, "n", 1))
        .saturating_mul(max_int(grid, "m", 1))
        .saturating_mul(per_weight)
        .saturating_add(16 << 20)
}

/// The training run a `train` cell describes, checked as `sparsify train` checks its flags.
fn train_spec(p: &P<'_>) -> Result<crate::train::TrainSpec, String> {
    use crate::train::{Dtype, Method, TrainSpec, check_spec};
    use sparsify_nfeature::{
        AdamWParams, FlowConfig, Noise, Optimizer, SgdParams, Shape, TrainConfig,
    };
    let optimizer = p.str("optimizer");
    let adamw_only = ["weight_decay", "beta1", "beta2", "eps"];
    if let Some(key) = adamw_only
        .iter()
        .find(|k| optimizer != "adamw" && p.float(k).is_some())
    {
        return Err(format!(
            "{key} is set but optimizer = \"{optimizer}\": adamw only"
        ));
    }
    if optimizer != "flow" && p.float("step").is_some() {
        return Err(format!(
            "step is set but optimizer = \"{optimizer}\": only the flow has a time step"
        ));
    }
    if optimizer == "flow" && p.float("lr").is_some() {
        return Err("lr is set but optimizer = \"flow\": its time step is `step`".to_owned());
    }
    let noise = match (p.str("noise"), p.float("sigma")) {
        ("none", None) => Noise::None,
        ("none", Some(_)) => return Err("sigma is set but noise = \"none\"".to_owned()),
        (kind, None) => return Err(format!("noise = \"{kind}\" needs sigma")),
        ("bernoulli", Some(sigma)) => Noise::Bernoulli { sigma },
        (_, Some(sigma)) => Noise::Gaussian { sigma },
    };
    let e = |e: sparsify_nfeature::NFeatureError| e.to_string();
    let lambda = p.float("lambda").unwrap_or(f64::NAN);
    let method = match optimizer {
        "sgd" => Method::Optimizer(Optimizer::Sgd(
            SgdParams::new(p.float("lr").unwrap_or(0.02)).map_err(e)?,
        )),
        "flow" => Method::Flow {
            h: p.float("step").unwrap_or(0.05),
        },
        _ => {
            let d = AdamWParams::default();
            Method::Optimizer(Optimizer::AdamW(AdamWParams {
                lr: p.float("lr").unwrap_or(d.lr),
                beta1: p.float("beta1").unwrap_or(d.beta1),
                beta2: p.float("beta2").unwrap_or(d.beta2),
                eps: p.float("eps").unwrap_or(d.eps),
                weight_decay: p.float("weight_decay").unwrap_or(d.weight_decay),
            }))
        }
    };
    match method {
        Method::Optimizer(o) => TrainConfig::new(lambda, o, noise).map(drop),
        Method::Flow { h } => FlowConfig::new(lambda, h).map(drop),
    }
    .map_err(e)?;
    let size = |k: &str| p.int(k).unwrap_or(0) as usize;
    let spec = TrainSpec {
        shape: Shape::new(size("instances").max(1), size("n"), size("m")).map_err(e)?,
        lambda,
        steps: p.int("steps").unwrap_or(0),
        seed: p.int("seed").unwrap_or(0),
        method,
        noise,
        dtype: if p.str("dtype") == "f64" {
            Dtype::F64
        } else {
            Dtype::F32
        },
        save_steps: Vec::new(),
        record_every: p.int("steps").unwrap_or(0).max(1),
    };
    check_spec(&spec).map_err(|e| e.to_string())?;
    Ok(spec)
}

fn execute_train(
    p: &P<'_>,
    stop: &dyn Fn() -> bool,
) -> Result<Option<CellOutput>, ExperimentError> {
    use crate::train::{mean_std, n2_over_4m, train};
    let spec = train_spec(p).map_err(ExperimentError::Sweep)?;
    let out = train(&spec, None, &mut |_| {}, stop)?;
    if out.summary.stop == sparsify_nfeature::StopReason::Interrupted {
        return Ok(None);
    }
    let c = &out.counts;
    let mean = |f: &dyn Fn(&sparsify_nfeature::metrics::Counts) -> f64| {
        mean_std(&c.iter().map(f).collect::<Vec<_>>())
    };
    let (poly_mean, poly_std) = mean(&|x| x.polysemantic as f64);
    let scalars = vec![
        out.summary.stop.name().to_owned(),
        out.summary.steps.to_string(),
        fmt_f64(out.summary.final_loss.total),
        fmt_f64(poly_mean),
        fmt_f64(poly_std),
        fmt_f64(mean(&|x| x.initial_collisions as f64).0),
        fmt_f64(mean(&|x| x.initial_collisions_opposite_sign as f64).0),
        fmt_f64(mean(&|x| x.shared_opposite_sign as f64).0),
        fmt_f64(mean(&|x| x.winner_is_initial_argmax_fraction).0),
        fmt_f64(n2_over_4m(spec.shape.n, spec.shape.m)),
    ];
    Ok(Some(CellOutput {
        scalars,
        files: Vec::new(),
    }))
}

fn execute_run(
    p: &P<'_>,
    outputs: Outputs,
    stop: &dyn Fn() -> bool,
) -> Result<Option<CellOutput>, ExperimentError> {
    let plan = run_plan(p).map_err(ExperimentError::Sweep)?;
    let w0 = initial_weights(p)?;
    let record = outputs.trajectory || outputs.deaths;
    if let Some(cfg) = plan.adaptive {
        return run_adaptive(&plan, &cfg, w0, outputs, stop);
    }
    let solver = match plan.method {
        "reduced" => Solver::reduced(plan.h)?,
        _ => Solver::direct(plan.h, plan.sum)?,
    };
    let mut recorder = Recorder::new(RecordConfig::checkpoints_and_deaths());
    let dynamics = plan.dynamics.as_ref();
    let summary = if record {
        solve(dynamics, &solver, w0, &mut recorder, |_| stop())?
    } else {
        solve(dynamics, &solver, w0, &mut (), |_| stop())?
    };
    if summary.stop == StopReason::Interrupted {
        return Ok(None);
    }
    recorder.finish();
    let counts = summary.counts;
    let mut files = Vec::new();
    if outputs.trajectory {
        let rows: Vec<(Option<u64>, StepStats)> = recorder
            .checkpoints
            .iter()
            .map(|s| (Some(s.step), *s))
            .collect();
        files.push(("trajectory", trajectory_csv(&rows)));
    }
    if outputs.deaths {
        let rows: Vec<(Option<u64>, f64, usize)> = recorder
            .deaths
            .iter()
            .map(|d| (Some(d.step), d.t, d.m_prime))
            .collect();
        files.push(("deaths", deaths_csv(&rows)));
    }
    Ok(Some(CellOutput {
        scalars: run_scalars(summary.stop.name(), &summary.final_state, counts),
        files,
    }))
}

fn run_adaptive(
    plan: &RunPlan,
    cfg: &AdaptiveConfig,
    w0: InitialWeights,
    outputs: Outputs,
    stop: &dyn Fn() -> bool,
) -> Result<Option<CellOutput>, ExperimentError> {
    // The trajectory is the state at the reference checkpoint times t = k*h, as `sparsify
    // run --method adaptive` writes it (up to a step far beyond any run's end).
    let steps: Vec<u64> = if outputs.trajectory {
        CheckpointSchedule::new()
            .take_while(|&k| k <= 1_000_000_000_000_000)
            .collect()
    } else {
        Vec::new()
    };
    let times: Vec<f64> = steps.iter().map(|&k| k as f64 * plan.h).collect();
    let solver = Solver::adaptive(*cfg).with_output_times(&times)?;
    let s = solve(plan.dynamics.as_ref(), &solver, w0, &mut (), |_| stop())?;
    if s.stop == StopReason::Interrupted {
        return Ok(None);
    }
    let mut files = Vec::new();
    if outputs.trajectory {
        let mut rows: Vec<(Option<u64>, StepStats)> = steps
            .iter()
            .zip(&s.outputs)
            .map(|(&k, st)| (Some(k), *st))
            .collect();
        if rows.last().is_none_or(|r| r.1.t != s.final_state.t) {
            rows.push((None, s.final_state));
        }
        files.push(("trajectory", trajectory_csv(&rows)));
    }
    if outputs.deaths {
        let rows: Vec<(Option<u64>, f64, usize)> =
            s.deaths.iter().map(|d| (None, d.t, d.m_prime)).collect();
        files.push(("deaths", deaths_csv(&rows)));
    }
    Ok(Some(CellOutput {
        scalars: run_scalars(s.stop.name(), &s.final_state, s.counts),
        files,
    }))
}

fn run_scalars(stop: &str, f: &StepStats, c: SolverCounts) -> Vec<String> {
    vec![
        stop.to_owned(),
        c.steps.to_string(),
        fmt_f64(f.t),
        f.m_prime.to_string(),
        fmt_f64(f.w_max),
        fmt_f64(f.one_norm),
        fmt_f64(f.gamma),
        c.rejected.to_string(),
        c.evals.to_string(),
    ]
}

fn execute_predict(p: &P<'_>, outputs: Outputs) -> Result<Option<CellOutput>, ExperimentError> {
    let cfg = predict_config(p).map_err(ExperimentError::Sweep)?;
    let w0 = initial_weights(p)?;
    let times = death_times(w0.as_slice(), &cfg)?;
    let t = times.as_slice();
    // t[n - 1] is the time at which m' first becomes n (n = 1 .. m-1).
    let m = t.len() + 1;
    let at = |n: usize| fmt_f64(t[n.clamp(1, m - 1) - 1].max(0.0));
    let mut files = Vec::new();
    if outputs.deaths {
        let mut csv = String::from("m_prime,t\n");
        for (i, x) in t.iter().enumerate().rev() {
            let _ = writeln!(csv, "{},{}", i + 1, fmt_f64(x.max(0.0)));
        }
        files.push(("deaths", csv));
    }
    Ok(Some(CellOutput {
        scalars: vec![at(m - 1), at(m / 2), at(1)],
        files,
    }))
}

fn trajectory_csv(rows: &[(Option<u64>, StepStats)]) -> String {
    let mut csv = format!("{}\n", crate::csv::TRAJECTORY_HEADER);
    for (step, s) in rows {
        let _ = writeln!(csv, "{}", crate::csv::trajectory_row(*step, s));
    }
    csv
}

fn deaths_csv(rows: &[(Option<u64>, f64, usize)]) -> String {
    let mut csv = format!("{}\n", crate::csv::DEATHS_HEADER);
    for (step, t, m_prime) in rows {
        let _ = writeln!(csv, "{}", crate::csv::deaths_row(*step, *t, *m_prime));
    }
    csv
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn a_train_cell_is_budgeted_for_every_copy_of_its_weights() {
        let spec = |dtype: &str| {
            super::super::spec::parse(
                &format!(
                    "kind = \"train\"\n[params]\nn = 256\ninstances = 16\nlambda = 1e-3\n\
                     steps = 10\ndtype = \"{dtype}\"\n[axes]\nm = [1024, 4096]\n"
                ),
                Path::new("t.toml"),
            )
            .expect("valid")
        };
        let weights = 16 * 256 * 4096_u64;
        let f32_bytes = max_memory_bytes(Kind::Train, &spec("f32").grid);
        // 32 bytes a weight at the largest m, plus the process: above the 412 MB measured.
        assert_eq!(f32_bytes, 32 * weights + (16 << 20));
        assert!(f32_bytes > 412_000_000);
        assert_eq!(
            max_memory_bytes(Kind::Train, &spec("f64").grid),
            48 * weights + (16 << 20)
        );
    }
}

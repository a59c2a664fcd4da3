//! A run's flags, checked and turned into what the library solves: every refusal comes from
//! the variant's description (its parameters, their ranges, the methods that apply) or from
//! the library's typed errors, never from a list of variants written here.

use sparsify_core::{
    AdaptiveConfig, CoreError, Dynamics, EulerConfig, InitialWeights, Method, Param, Solver,
    SumMode, Variant, variant,
};
use sparsify_theory::death_times::{Discretisation, Order, PredictionConfig, death_times};

use super::flags::{DEFAULT_ATOL, DEFAULT_MAX_STEPS, DEFAULT_RTOL, RunArgs, SumArg};
use crate::error::CliError;
use crate::io::fmt_f64;

/// The flag a library error is about: the map is over [`Param`], so a parameter the library
/// adds is a compile error here until it has a flag.
pub(crate) fn flag_for(e: &CoreError) -> &'static str {
    match e.param() {
        Some(param) => flag_for_param(param),
        None => match e {
            CoreError::TooFewWeights { .. } => "--m",
            // The rest (unknown names, a failed adaptive step) name no one flag.
            _ => "sparsify run",
        },
    }
}

/// The flag that sets `param`.
fn flag_for_param(param: Param) -> &'static str {
    match param {
        Param::Lambda => "--lambda",
        Param::Step => "--step",
        Param::Sigma => "--sigma",
        Param::InitialWeights => "--sigma",
        Param::Rtol => "--rtol",
        Param::Atol => "--atol",
        Param::MaxSteps => "--max-steps",
        Param::Variant(_) => "--param",
        // Set by this command itself, never from a flag.
        Param::EndTime | Param::OutputTime => "sparsify run",
    }
}

/// The validated solver choice of a run.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) method: Method,
    pub(crate) variant: &'static Variant,
    /// Every parameter of the variant with its value (given or default), in its order.
    pub(crate) params: Vec<(&'static str, f64)>,
    pub(crate) dynamics: Box<dyn Dynamics>,
    pub(crate) lambda: f64,
    pub(crate) h: f64,
    pub(crate) sum: SumMode,
    /// Set for `--method adaptive` only.
    pub(crate) adaptive: Option<AdaptiveConfig>,
    pub(crate) max_steps: u64,
}

impl Plan {
    /// Checks every flag of the solver and its combinations. Every refusal is one message
    /// naming the flags and values.
    pub(crate) fn new(args: &RunArgs) -> Result<Self, CliError> {
        let sum = args.sum.unwrap_or(SumArg::Sequential);
        let cfg = EulerConfig::new(args.lambda, args.step, sum.into())
            .map_err(|e| CliError::core(flag_for(&e), &e))?;
        let solver = &args.solver;
        let method = Method::from(solver.method);
        let variant = variant(&solver.dynamics).map_err(|e| CliError::core("--dynamics", &e))?;
        let given: Vec<(&str, f64)> = solver
            .params
            .iter()
            .map(|(name, v)| (name.as_str(), *v))
            .collect();
        let params = variant
            .resolve(&given)
            .map_err(|e| param_error(variant, &e))?;
        for (flag, value) in [("--rtol", solver.rtol), ("--atol", solver.atol)] {
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
        if let Some(sum) = args.sum
            && method != Method::Direct
        {
            let sum = SumMode::from(sum);
            return Err(CliError::usage(format!(
                "--sum {sum}: the summation order applies to --method direct only (--method \
                 {method} computes the norms from prefix moments or compensated sums)"
            )));
        }
        if !variant.applies(method) {
            let methods: Vec<&str> = variant.methods.iter().map(|m| m.name()).collect();
            return Err(CliError::usage(format!(
                "--method {method} --dynamics {}: {method} does not apply to this variant{}; \
                 use --method {}",
                variant.name,
                if method == Method::Reduced {
                    " (the reduced solver needs the affine structure, every survivor staying \
                     alpha*w0_j - beta, which holds only for a drift (1 - ||w||^2 - mu)*w - \
                     lambda)"
                } else {
                    ""
                },
                methods.join(" or ")
            )));
        }
        let values: Vec<(&str, f64)> = params.iter().map(|&(n, v)| (n, v)).collect();
        let dynamics = variant
            .dynamics(args.lambda, &values)
            .map_err(|e| CliError::core(flag_for(&e), &e))?;
        let adaptive = (method == Method::Adaptive)
            .then(|| {
                AdaptiveConfig::new(
                    solver.rtol.unwrap_or(DEFAULT_RTOL),
                    solver.atol.unwrap_or(DEFAULT_ATOL),
                )
                .map_err(|e| CliError::core(flag_for(&e), &e))
            })
            .transpose()?;
        Ok(Self {
            method,
            variant,
            params,
            dynamics,
            lambda: cfg.lambda(),
            h: cfg.h(),
            sum: cfg.sum(),
            adaptive,
            max_steps: solver.max_steps.unwrap_or(DEFAULT_MAX_STEPS),
        })
    }

    /// The library's solver for this plan (output times are added by the caller).
    pub(crate) fn solver(&self) -> Result<Solver, CliError> {
        let core = |e: CoreError| CliError::core(flag_for(&e), &e);
        let solver = match (self.method, self.adaptive) {
            (Method::Adaptive, Some(cfg)) => Solver::adaptive(cfg),
            (Method::Reduced, _) => Solver::reduced(self.h).map_err(core)?,
            _ => Solver::direct(self.h, self.sum).map_err(core)?,
        };
        solver.with_max_steps(self.max_steps).map_err(core)
    }

    /// The routine that runs, as the summary names it.
    pub(crate) fn routine(&self) -> Result<&'static str, CliError> {
        Ok(self.solver()?.routine(self.dynamics.as_ref()))
    }

    /// Refuses a run whose closed-form length exceeds `--max-steps`, with the estimate.
    pub(crate) fn check_budget(&self, w0: &InitialWeights) -> Result<(), CliError> {
        let estimate = estimate_steps(w0.as_slice(), self.lambda, self.h, self.method);
        // NaN: the weights themselves overflow (||w0||^2 = inf); the solver says so, naming
        // them, and the budget stays its hard cap.
        if estimate.is_nan() || estimate <= self.max_steps as f64 {
            return Ok(());
        }
        let (t_end, _) = end_time(w0.as_slice(), self.lambda);
        let unit = if self.method == Method::Adaptive {
            "adaptive steps"
        } else {
            "Euler steps"
        };
        Err(CliError::usage(format!(
            "--lambda {} --step {}: this run would take about {} {unit} (it ends near \
             t = {} by the closed form), more than --max-steps {}: raise --lambda or --step, \
             or --max-steps if you mean it",
            fmt_f64(self.lambda),
            fmt_f64(self.h),
            fmt_f64(estimate.ceil()),
            fmt_f64(t_end),
            self.max_steps
        )))
    }
}

/// A variant's refusal of `--param`s, in the terms of the flags.
fn param_error(variant: &Variant, e: &CoreError) -> CliError {
    match e {
        CoreError::UnknownName { name, .. } => {
            let names: Vec<String> = variant
                .params
                .iter()
                .map(|p| format!("--param {}=VALUE", p.name))
                .collect();
            let takes = if names.is_empty() {
                "it takes none".to_owned()
            } else {
                format!("it takes {}", names.join(", "))
            };
            CliError::usage(format!(
                "--param {name}: --dynamics {} takes no parameter {name} ({takes})",
                variant.name
            ))
        }
        CoreError::InvalidParameter {
            param: Param::Variant(name),
            value,
            ..
        } => CliError::usage(format!("--param {name}={}: {e}", fmt_f64(*value))),
        CoreError::MissingParameter {
            param: Param::Variant(name),
            reason,
        } => CliError::usage(format!(
            "--dynamics {} needs --param {name}=VALUE: {reason}",
            variant.name
        )),
        other => CliError::core(flag_for(other), other),
    }
}

/// The time a run from `w0` takes to reach its last survivor (or its tied top group, which
/// stalls there), and that group's size. Leading order on the slow manifold (docs/theory.md
/// §3) for the top `k + 1` weights alone: more weights only make `F(theta)` larger and the
/// deaths earlier, so this is an upper bound for l1, from O(k) work and memory. Tied top
/// weights have reached their final state when the `(k+1)`-th dies, plus an O(1) relaxation.
fn end_time(w0: &[f64], lambda: f64) -> (f64, usize) {
    let tied = w0.iter().take_while(|&&x| x == w0[0]).count();
    if tied == w0.len() {
        return (0.0, tied);
    }
    let top = &w0[..=tied];
    let t = PredictionConfig::new(lambda, Order::Leading, Discretisation::Continuous, false)
        .and_then(|cfg| death_times(top, &cfg))
        .ok()
        .and_then(|times| times.first_time_at_most(tied))
        .unwrap_or(f64::INFINITY);
    (t, tied)
}

/// Relaxation onto the slow manifold and of a tied group onto its fixed point, in time units:
/// the transient decays like `e^{-2t}` (docs/theory.md §3), so 50 time units is ~40 decades.
const RELAXATION_TIME: f64 = 50.0;
/// The adaptive solver's typical accepted step once on the slow manifold: stability-limited at
/// about 1.5 time units (sparsify_core::adaptive).
const ADAPTIVE_STEP: f64 = 1.5;

/// The steps a run is expected to take: `t_end/h` for Euler, `t_end/1.5` plus one restart per
/// death for the adaptive solver. Used as an order of magnitude for every variant (the closed
/// form is l1's; their time scale is `1/lambda` too).
fn estimate_steps(w0: &[f64], lambda: f64, h: f64, method: Method) -> f64 {
    let (t, _) = end_time(w0, lambda);
    let t = t + RELAXATION_TIME;
    match method {
        Method::Direct | Method::Reduced => t / h,
        Method::Adaptive => t / ADAPTIVE_STEP + w0.len() as f64,
    }
}

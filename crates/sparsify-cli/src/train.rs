//! `sparsify train`: the paper's n-feature model, trained and counted
//! (`sparsify_experiments::train` over `sparsify-nfeature`; `docs/theory.md` §7).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use clap::{Args, ValueEnum};
use npyz::WriterBuilder;
use serde::Serialize;
use sparsify_experiments::train::{
    self, Dtype, LossRow, Method, TrainOutcome, TrainSpec, TrajectoryRow, mean_std,
};
use sparsify_nfeature::metrics::{self, Counts};
use sparsify_nfeature::{
    AdamWParams, FlowConfig, NFeatureError, Noise, Optimizer, Param, SgdParams, Shape, StopReason,
    TrainConfig, Weights,
};

use crate::Context;
use crate::error::{CliError, exit};
use crate::init::parse_count;
use crate::io::{Content, PendingOutput, check_distinct, fmt_f64, read_npy_array, write_all};
use crate::memory;

const EXAMPLES: &str = "\
Examples:
  # The paper's collisions experiment at one size (n = 256, m = 1024, 16 instances, AdamW with
  # lr 1e-3 and torch's default weight decay 0.01, lambda = 1e-3, 7,500 steps, float32):
  sparsify train --n 256 --m 1024 --instances 16 --out runs/m1024

  # The noise experiment: SGD, no L1, Bernoulli noise of amplitude 0.15, 20,000 steps:
  sparsify train --n 8 --m 16 --instances 5 --lambda 0 --optimizer sgd --noise bernoulli \\
      --sigma 0.15 --steps 20000 --record-every 5 --out runs/noise

  # The gradient flow of the same loss (exact zeros; proximal Euler steps of size 0.05):
  sparsify train --n 64 --m 256 --instances 16 --optimizer flow --step 0.05 --steps 20000 \\
      --out runs/flow

  # From your own initial weights, shape (instances, n, m), saving W after 1, 10 and 100 steps:
  sparsify train --init-file w0.npy --dtype f64 --save-weights 1,10,100 --steps 300 --out run

Outputs, in DIR (created if missing; its parent must exist):
  summary.json               every parameter and seed, the counts' mean and std over instances,
                             the predictions n^2/4m and n(n-1)/4m, timings, complete or not
  loss.csv                   step,mse,l1_term,total (summed over instances; row k after k updates)
  trajectory.csv             step,t,mse,l1_term,total,mean_fourth_norm,mean_polysemantic,mean_active
                             every --record-every steps and at the end (mean_active: the flow's
                             nonzero coordinates per feature; nan for the optimisers)
  counts.csv                 per instance, as the paper counts: polysemantic, initial_collisions,
                             initial_collisions_opposite_sign, shared_opposite_sign,
                             winner_is_initial_argmax_fraction
  polysemantic_neurons.csv   instance,neuron,n_on,n_positive,n_negative,opposite_sign,features,
                             initial_argmax_of
  features.csv               instance,feature,initial_argmax,initial_weight,final_argmax,
                             final_weight,final_on_count,winner_is_initial_argmax
  w_final.npy, w_step{K}.npy the weights (instances, n, m), float32 or float64 as --dtype
A feature is on a neuron if 0.8 <= |W| <= 1.2; a neuron is polysemantic if at least 2 features
are on it. Every file is written complete or not at all, together.

Seeds: W0 = N(0, 1/m) per entry from Pcg64 seeded with --seed (numpy's streams are not
reproduced: pass --init-file for the reference's weights); the noise, one vector per update
shared by every instance, from a second Pcg64 stream of the same seed.

Ctrl-C or SIGTERM stops training after the current update and writes every output for the
steps done (summary.json says \"complete\": false); a second one exits at once, writing nothing.

Exit codes: 0 done; 2 a bad flag, value or input file (nothing written); 74 an output could not
be written (no file replaced); 130 stopped by Ctrl-C, 143 by SIGTERM (outputs written).";

/// The flags of `sparsify train`.
#[derive(Debug, Args)]
#[command(after_long_help = EXAMPLES)]
pub(crate) struct TrainArgs {
    /// Features n (rows of each W); taken from --init-file when omitted there.
    #[arg(long, value_parser = parse_size)]
    pub(crate) n: Option<usize>,

    /// Hidden neurons m (columns of each W); taken from --init-file when omitted there.
    #[arg(long, value_parser = parse_size)]
    pub(crate) m: Option<usize>,

    /// Independent models trained side by side [default: 1, or --init-file's].
    #[arg(long, value_parser = parse_size)]
    pub(crate) instances: Option<usize>,

    /// L1 strength lambda: loss = sum (relu(W W^T) - I)^2 + lambda sum |W| (0 drops the term).
    #[arg(long, default_value_t = 1e-3, allow_hyphen_values = true)]
    pub(crate) lambda: f64,

    /// Updates to take (the paper: 7500 for the collisions, up to 100000 for the noise).
    #[arg(long, default_value = "7500", value_parser = parse_steps)]
    pub(crate) steps: u64,

    /// Seed of the initial weights (unless --init-file) and of the noise.
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,

    /// adamw and sgd as torch implements them; flow: the gradient flow with exact zeros.
    #[arg(long, value_enum, default_value_t = OptimizerKind::Adamw)]
    pub(crate) optimizer: OptimizerKind,

    /// Learning rate [default: 1e-3 for adamw, 0.02 for sgd, as the paper].
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) lr: Option<f64>,

    /// AdamW's decoupled weight decay [default: 0.01, torch's default: the paper passed only
    /// lr, so it trained with it].
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) weight_decay: Option<f64>,

    /// AdamW's beta1 [default: 0.9].
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) beta1: Option<f64>,

    /// AdamW's beta2 [default: 0.999].
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) beta2: Option<f64>,

    /// AdamW's eps [default: 1e-8].
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) eps: Option<f64>,

    /// The gradient flow's time step (--optimizer flow only; stable below 1/4) [default: 0.05].
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) step: Option<f64>,

    /// Noise added to the hidden layer, one vector per update shared by every instance.
    #[arg(long, value_enum, default_value_t = NoiseKind::None)]
    pub(crate) noise: NoiseKind,

    /// The noise's amplitude (bernoulli: +-sigma) or standard deviation (gaussian); required
    /// with --noise, refused without.
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) sigma: Option<f64>,

    /// Precision: f32 as the paper's torch code, f64 as the reference fixtures.
    #[arg(long, value_enum, default_value_t = DtypeArg::F32)]
    pub(crate) dtype: DtypeArg,

    /// Initial weights, a float64 or float32 .npy of shape (instances, n, m).
    #[arg(long, value_name = "W0.npy")]
    pub(crate) init_file: Option<PathBuf>,

    /// Also save W after these update counts, comma-separated (e.g. 1,10,100).
    #[arg(long, value_name = "STEPS", value_delimiter = ',', value_parser = parse_steps)]
    pub(crate) save_weights: Vec<u64>,

    /// Record the metrics (trajectory.csv) every K steps [default: 100].
    #[arg(long, value_name = "K", default_value = "100", value_parser = parse_steps)]
    pub(crate) record_every: u64,

    /// The directory to write into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub(crate) out: PathBuf,
}

/// `--optimizer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OptimizerKind {
    /// torch.optim.AdamW.
    Adamw,
    /// torch.optim.SGD without momentum.
    Sgd,
    /// The gradient flow, proximal (soft-threshold) Euler steps of size --step.
    Flow,
}

/// `--noise`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum NoiseKind {
    /// No noise.
    None,
    /// Each unit +sigma or -sigma with probability 1/2.
    Bernoulli,
    /// Each unit N(0, sigma^2).
    Gaussian,
}

/// `--dtype`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DtypeArg {
    /// 32-bit floats.
    F32,
    /// 64-bit floats.
    F64,
}

/// A size (`--n`, `--m`, `--instances`): a whole number >= 1.
pub(crate) fn parse_size(s: &str) -> Result<usize, String> {
    let hint = "need a whole number >= 1, like 256 or 1e3";
    match parse_count(s, hint)? {
        0 => Err(hint.to_owned()),
        n => Ok(n),
    }
}

/// A step count (`--steps`, `--save-weights`, `--record-every`): a whole number.
pub(crate) fn parse_steps(s: &str) -> Result<u64, String> {
    parse_count(s, "need a whole number of updates, like 7500 or 1e4").map(|n| n as u64)
}

/// The flag a library error is about.
fn flag_for(p: Param) -> &'static str {
    match p {
        Param::N => "--n",
        Param::M => "--m",
        Param::Instances => "--instances",
        Param::Lambda => "--lambda",
        Param::Lr => "--lr",
        Param::Beta1 => "--beta1",
        Param::Beta2 => "--beta2",
        Param::Eps => "--eps",
        Param::WeightDecay => "--weight-decay",
        Param::Sigma => "--sigma",
        Param::StepSize => "--step",
    }
}

/// A library error as a usage error naming its flag.
fn usage(e: &NFeatureError) -> CliError {
    match e {
        NFeatureError::InvalidParameter { param, .. } => {
            CliError::usage(format!("{}: {e}", flag_for(*param)))
        }
        _ => CliError::usage(e.to_string()),
    }
}

/// Bytes of memory per weight a run needs: the weights, AdamW's two moments, the gradient and
/// the products' scratch (all in `f64` at worst), W0 kept for the counts, and slack.
const BYTES_PER_WEIGHT: u64 = 8 * 8;

/// Initial weights given by the caller: how messages name them (`--init-file w0.npy`), their
/// shape `(instances, n, m)` and their values in C order.
pub(crate) struct GivenWeights {
    pub(crate) shown_as: String,
    pub(crate) dims: [usize; 3],
    pub(crate) values: Vec<f64>,
}

/// The spec the flags describe, with the initial weights if a file was given.
fn plan(args: &TrainArgs) -> Result<(TrainSpec, Option<Weights<f64>>), CliError> {
    let given = match &args.init_file {
        Some(path) => {
            let (dims, values) = read_npy_array("--init-file", path, 3)?;
            Some(GivenWeights {
                shown_as: format!("--init-file {}", path.display()),
                dims: [dims[0], dims[1], dims[2]],
                values,
            })
        }
        None => None,
    };
    plan_with(args, given)
}

/// The spec the flags describe, from the weights `given` instead of `--init-file` if any.
pub(crate) fn plan_with(
    args: &TrainArgs,
    given: Option<GivenWeights>,
) -> Result<(TrainSpec, Option<Weights<f64>>), CliError> {
    let refuse = |flag: &str, why: &str| Err(CliError::usage(format!("{flag}: {why}")));
    let adamw_only = [
        ("--weight-decay", args.weight_decay),
        ("--beta1", args.beta1),
        ("--beta2", args.beta2),
        ("--eps", args.eps),
    ];
    if let Some((flag, _)) = adamw_only
        .iter()
        .find(|(_, v)| v.is_some() && args.optimizer != OptimizerKind::Adamw)
    {
        return refuse(flag, "only --optimizer adamw has it");
    }
    if args.optimizer != OptimizerKind::Flow && args.step.is_some() {
        return refuse(
            "--step",
            "only --optimizer flow takes a time step (use --steps for the number of updates)",
        );
    }
    if args.optimizer == OptimizerKind::Flow && args.lr.is_some() {
        return refuse(
            "--lr",
            "the gradient flow has no learning rate; its time step is --step",
        );
    }
    let noise = match (args.noise, args.sigma) {
        (NoiseKind::None, None) => Noise::None,
        (NoiseKind::None, Some(_)) => {
            return refuse(
                "--sigma",
                "given without --noise bernoulli or --noise gaussian",
            );
        }
        (_, None) => return refuse("--noise", "needs --sigma, its amplitude"),
        (NoiseKind::Bernoulli, Some(sigma)) => Noise::Bernoulli { sigma },
        (NoiseKind::Gaussian, Some(sigma)) => Noise::Gaussian { sigma },
    }
    .validate()
    .map_err(|e| usage(&e))?;
    if args.optimizer == OptimizerKind::Flow && noise != Noise::None {
        return refuse(
            "--noise",
            "the gradient flow is the flow of the noise-free loss",
        );
    }
    let method = match args.optimizer {
        OptimizerKind::Adamw => {
            let d = AdamWParams::default();
            Method::Optimizer(Optimizer::AdamW(
                AdamWParams {
                    lr: args.lr.unwrap_or(d.lr),
                    beta1: args.beta1.unwrap_or(d.beta1),
                    beta2: args.beta2.unwrap_or(d.beta2),
                    eps: args.eps.unwrap_or(d.eps),
                    weight_decay: args.weight_decay.unwrap_or(d.weight_decay),
                }
                .validate()
                .map_err(|e| usage(&e))?,
            ))
        }
        OptimizerKind::Sgd => Method::Optimizer(Optimizer::Sgd(
            SgdParams::new(args.lr.unwrap_or(0.02)).map_err(|e| usage(&e))?,
        )),
        OptimizerKind::Flow => Method::Flow {
            h: args.step.unwrap_or(0.05),
        },
    };
    let (shape, w0) = match given {
        Some(GivenWeights {
            shown_as,
            dims,
            values,
        }) => {
            let [instances, n, m] = dims;
            for (flag, given, found) in [
                ("--instances", args.instances, instances),
                ("--n", args.n, n),
                ("--m", args.m, m),
            ] {
                if let Some(g) = given.filter(|&g| g != found) {
                    return refuse(
                        flag,
                        &format!("{g} disagrees with {shown_as}, of shape ({instances}, {n}, {m})"),
                    );
                }
            }
            if let Some(i) = values.iter().position(|x| !x.is_finite()) {
                return Err(CliError::usage(format!(
                    "{shown_as}: weight {} (instance {}, feature {}, neuron {}) is {}; need \
                         finite numbers",
                    i,
                    i / (n * m).max(1),
                    (i / m.max(1)) % n.max(1),
                    i % m.max(1),
                    values[i]
                )));
            }
            let shape = Shape::new(instances, n, m)
                .map_err(|e| CliError::usage(format!("{shown_as}: {e}")))?;
            let w = Weights::from_vec(shape, values)
                .map_err(|e| CliError::usage(format!("{shown_as}: {e}")))?;
            (shape, Some(w))
        }
        None => {
            let (Some(n), Some(m)) = (args.n, args.m) else {
                return refuse(
                    if args.n.is_none() { "--n" } else { "--m" },
                    "required (or give --init-file with the shape (instances, n, m))",
                );
            };
            let shape = Shape::new(args.instances.unwrap_or(1), n, m).map_err(|e| usage(&e))?;
            (shape, None)
        }
    };
    let mut save_steps = args.save_weights.clone();
    save_steps.sort_unstable();
    save_steps.dedup();
    if let Some(&s) = save_steps.iter().find(|&&s| s > args.steps) {
        return refuse(
            "--save-weights",
            &format!("step {s} is after the last update ({} steps)", args.steps),
        );
    }
    if args.record_every == 0 {
        return refuse("--record-every", "need at least 1");
    }
    let spec = TrainSpec {
        shape,
        lambda: args.lambda,
        steps: args.steps,
        seed: args.seed,
        method,
        noise,
        dtype: match args.dtype {
            DtypeArg::F32 => Dtype::F32,
            DtypeArg::F64 => Dtype::F64,
        },
        save_steps,
        record_every: args.record_every,
    };
    // Checked here so that every parameter error is a usage error naming its flag, before any
    // file exists (the library checks them again when it builds the solver).
    match spec.method {
        Method::Optimizer(o) => TrainConfig::new(spec.lambda, o, spec.noise).map(drop),
        Method::Flow { h } => FlowConfig::new(spec.lambda, h).map(drop),
    }
    .map_err(|e| usage(&e))?;
    train::check_spec(&spec).map_err(|e| CliError::usage(e.to_string()))?;
    let snapshots = spec.save_steps.len() as u64 + 2;
    memory::check(
        "the model",
        memory::Need::bytes(BYTES_PER_WEIGHT + 8 * snapshots, shape.len(), "weights"),
    )?;
    Ok((spec, w0))
}

/// The names of the files written into `--out`.
fn file_names(spec: &TrainSpec) -> Vec<String> {
    let mut names: Vec<String> = [
        "summary.json",
        "loss.csv",
        "trajectory.csv",
        "counts.csv",
        "polysemantic_neurons.csv",
        "features.csv",
        "w_final.npy",
    ]
    .map(str::to_owned)
    .to_vec();
    names.extend(spec.save_steps.iter().map(|k| format!("w_step{k}.npy")));
    names
}

/// Runs `sparsify train`.
pub(crate) fn execute(args: &TrainArgs, ctx: &mut Context<'_>) -> Result<u8, CliError> {
    let (spec, w0) = plan(args)?;
    // The directory is made only once every flag has been accepted; its files are checked as
    // every other output is (no input among them, no directory, no two the same).
    prepare_dir(&args.out)?;
    let names = file_names(&spec);
    let pending: Vec<PendingOutput> = names
        .iter()
        .map(|name| PendingOutput::create("--out", &args.out.join(name)))
        .collect::<Result<_, _>>()?;
    let inputs: Vec<(&str, &Path)> = args
        .init_file
        .as_deref()
        .map(|p| ("--init-file", p))
        .into_iter()
        .collect();
    check_distinct(&pending.iter().collect::<Vec<_>>(), &inputs)?;

    let bar = ctx.progress.then(|| {
        crate::progress::counter(
            spec.steps,
            "{bar:30} {pos}/{len} updates, {elapsed} (eta {eta}) {msg}",
        )
    });
    let mut progress = |step: u64| {
        if let Some(bar) = bar.as_ref().filter(|_| step.is_multiple_of(16)) {
            bar.set_position(step);
        }
    };
    let stop = || ctx.interrupted.load(Ordering::Relaxed);
    let outcome = train::train(&spec, w0, &mut progress, &stop)
        .map_err(|e| CliError::usage(e.to_string()))?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let initial_from = match &args.init_file {
        Some(p) => format!("--init-file {}", p.display()),
        None => format!("N(0, 1/m) from Pcg64 seed {}", spec.seed),
    };
    write_outputs(&spec, &outcome, &initial_from, &names, pending)?;

    let (mean, std) = poly_mean_std(&outcome.counts);
    let _ = writeln!(
        ctx.stderr,
        "{}: {} updates of {} instances (n = {}, m = {}) in {:.2} s; polysemantic neurons \
         {mean:.2} +- {std:.2} (n^2/4m = {:.2}); wrote {}",
        spec.method.name(),
        outcome.summary.steps,
        spec.shape.instances,
        spec.shape.n,
        spec.shape.m,
        outcome.train_seconds,
        train::n2_over_4m(spec.shape.n, spec.shape.m),
        args.out.display()
    );
    match outcome.summary.stop {
        StopReason::Completed => Ok(exit::SUCCESS),
        StopReason::Interrupted => {
            let _ = writeln!(
                ctx.stderr,
                "interrupted after {} of {} updates; the outputs hold what was done",
                outcome.summary.steps, spec.steps
            );
            Ok(exit::INTERRUPTED)
        }
        StopReason::NonFinite { step } => Err(CliError::usage(format!(
            "the weights or the loss became NaN or infinite at update {step} (outputs written, \
             summary.json says where); lower --lr{}",
            if matches!(spec.method, Method::Flow { .. }) {
                " or --step"
            } else {
                ""
            }
        ))),
    }
}

/// Creates `dir` if it does not exist (its parent must); refuses a path that is not a
/// directory.
fn prepare_dir(dir: &Path) -> Result<(), CliError> {
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(CliError::usage(format!(
            "--out {}: not a directory",
            dir.display()
        ))),
        Err(_) => std::fs::create_dir(dir).map_err(|e| {
            CliError::usage(format!(
                "--out {}: cannot create the directory: {}",
                dir.display(),
                crate::io::os_reason(&e)
            ))
        }),
    }
}

fn poly_mean_std(counts: &[Counts]) -> (f64, f64) {
    let xs: Vec<f64> = counts.iter().map(|c| c.polysemantic as f64).collect();
    mean_std(&xs)
}

/// The mean and std (ddof 0) over instances of one count.
#[derive(Serialize)]
struct MeanStd {
    mean: f64,
    std: f64,
}

impl MeanStd {
    fn of(counts: &[Counts], f: impl Fn(&Counts) -> f64) -> Self {
        let xs: Vec<f64> = counts.iter().map(f).collect();
        let (mean, std) = mean_std(&xs);
        Self { mean, std }
    }
}

/// `summary.json`.
#[derive(Serialize)]
struct Summary<'a> {
    command: &'static str,
    sparsify_version: &'static str,
    complete: bool,
    stop_reason: &'static str,
    non_finite_at_step: Option<u64>,
    instances: usize,
    n: usize,
    m: usize,
    lambda: f64,
    steps_requested: u64,
    steps: u64,
    seed: u64,
    initial_weights: &'a str,
    noise_stream: String,
    optimizer: &'static str,
    optimizer_parameters: serde_json::Value,
    noise: serde_json::Value,
    dtype: &'static str,
    record_every: u64,
    saved_steps: Vec<u64>,
    initial_loss: LossRow,
    final_loss: LossRow,
    summary_over_instances: serde_json::Value,
    prediction_n2_over_4m: f64,
    #[serde(rename = "prediction_n(n-1)_over_4m")]
    prediction_n_n_minus_1_over_4m: f64,
    train_seconds: f64,
    seconds_per_step: f64,
}

fn write_outputs(
    spec: &TrainSpec,
    outcome: &TrainOutcome,
    initial_from: &str,
    names: &[String],
    pending: Vec<PendingOutput>,
) -> Result<(), CliError> {
    let summary = summary(spec, outcome, initial_from);
    let neurons = metrics::polysemantic_neurons(&outcome.w0, &outcome.w_final);
    let features = metrics::feature_rows(&outcome.w0, &outcome.w_final);
    let f32_out = spec.dtype == Dtype::F32;
    let mut contents: Vec<Option<Content<'_>>> = vec![
        Some(Content::Text(Box::new(move |w| {
            serde_json::to_writer_pretty(&mut *w, &summary)?;
            writeln!(w)
        }))),
        Some(Content::Text(Box::new(|w| write_loss(w, &outcome.loss)))),
        Some(Content::Text(Box::new(|w| {
            write_trajectory(w, &outcome.trajectory)
        }))),
        Some(Content::Text(Box::new(|w| {
            write_counts(w, &outcome.counts)
        }))),
        Some(Content::Text(Box::new(move |w| write_neurons(w, &neurons)))),
        Some(Content::Text(Box::new(move |w| {
            write_features(w, &features)
        }))),
        Some(Content::Text(Box::new(move |w| {
            write_weights(w, &outcome.w_final, f32_out)
        }))),
    ];
    for k in &spec.save_steps {
        // A run stopped early has no weights for the steps it did not reach: their files are
        // not written (summary.json's saved_steps lists the ones that are).
        contents.push(
            outcome
                .saved
                .iter()
                .find(|(s, _)| s == k)
                .map(|(_, w)| -> Content<'_> {
                    Content::Text(Box::new(move |out| write_weights(out, w, f32_out)))
                }),
        );
    }
    debug_assert_eq!(names.len(), contents.len());
    let outputs: Vec<(PendingOutput, Content<'_>)> = pending
        .into_iter()
        .zip(contents)
        .filter_map(|(p, c)| c.map(|c| (p, c)))
        .collect();
    write_all(outputs)
}

fn summary<'a>(spec: &TrainSpec, outcome: &TrainOutcome, initial_from: &'a str) -> Summary<'a> {
    let c = &outcome.counts;
    let (n, m) = (spec.shape.n, spec.shape.m);
    let optimizer_parameters = match spec.method {
        Method::Optimizer(Optimizer::AdamW(p)) => serde_json::json!({
            "lr": p.lr, "beta1": p.beta1, "beta2": p.beta2, "eps": p.eps,
            "weight_decay": p.weight_decay,
        }),
        Method::Optimizer(Optimizer::Sgd(p)) => serde_json::json!({ "lr": p.lr, "momentum": 0.0 }),
        Method::Flow { h } => serde_json::json!({ "step": h, "scheme": "proximal Euler" }),
    };
    let noise = match spec.noise {
        Noise::None => serde_json::json!({ "kind": "none" }),
        Noise::Bernoulli { sigma } => serde_json::json!({ "kind": "bernoulli", "sigma": sigma }),
        Noise::Gaussian { sigma } => serde_json::json!({ "kind": "gaussian", "sigma": sigma }),
    };
    let over = serde_json::json!({
        "polysemantic": MeanStd::of(c, |x| x.polysemantic as f64),
        "initial_collisions": MeanStd::of(c, |x| x.initial_collisions as f64),
        "initial_collisions_opposite_sign":
            MeanStd::of(c, |x| x.initial_collisions_opposite_sign as f64),
        "shared_opposite_sign": MeanStd::of(c, |x| x.shared_opposite_sign as f64),
        "winner_is_initial_argmax_fraction":
            MeanStd::of(c, |x| x.winner_is_initial_argmax_fraction),
    });
    let row = |step, l: sparsify_nfeature::LossParts| LossRow {
        step,
        mse: l.mse,
        l1_term: l.l1_term,
        total: l.total,
    };
    let s = &outcome.summary;
    Summary {
        command: "train",
        sparsify_version: env!("CARGO_PKG_VERSION"),
        complete: s.stop == StopReason::Completed,
        stop_reason: s.stop.name(),
        non_finite_at_step: match s.stop {
            StopReason::NonFinite { step } => Some(step),
            _ => None,
        },
        instances: spec.shape.instances,
        n,
        m,
        lambda: spec.lambda,
        steps_requested: spec.steps,
        steps: s.steps,
        seed: spec.seed,
        initial_weights: initial_from,
        noise_stream: format!("Pcg64 seed {} ^ {:#x}", spec.seed, train::NOISE_STREAM),
        optimizer: spec.method.name(),
        optimizer_parameters,
        noise,
        dtype: spec.dtype.name(),
        record_every: spec.record_every,
        saved_steps: outcome.saved.iter().map(|(k, _)| *k).collect(),
        initial_loss: row(0, s.initial_loss),
        final_loss: row(s.steps, s.final_loss),
        summary_over_instances: over,
        prediction_n2_over_4m: train::n2_over_4m(n, m),
        prediction_n_n_minus_1_over_4m: train::n_n_minus_1_over_4m(n, m),
        train_seconds: outcome.train_seconds,
        seconds_per_step: outcome.train_seconds / (s.steps.max(1) as f64),
    }
}

fn write_loss(w: &mut dyn Write, rows: &[LossRow]) -> std::io::Result<()> {
    writeln!(w, "step,mse,l1_term,total")?;
    for r in rows {
        writeln!(
            w,
            "{},{},{},{}",
            r.step,
            fmt_f64(r.mse),
            fmt_f64(r.l1_term),
            fmt_f64(r.total)
        )?;
    }
    Ok(())
}

fn write_trajectory(w: &mut dyn Write, rows: &[TrajectoryRow]) -> std::io::Result<()> {
    writeln!(
        w,
        "step,t,mse,l1_term,total,mean_fourth_norm,mean_polysemantic,mean_active"
    )?;
    for r in rows {
        writeln!(
            w,
            "{},{},{},{},{},{},{},{}",
            r.step,
            fmt_f64(r.t),
            fmt_f64(r.mse),
            fmt_f64(r.l1_term),
            fmt_f64(r.total),
            fmt_f64(r.mean_fourth_norm),
            fmt_f64(r.mean_polysemantic),
            fmt_f64(r.mean_active)
        )?;
    }
    Ok(())
}

fn write_counts(w: &mut dyn Write, counts: &[Counts]) -> std::io::Result<()> {
    writeln!(
        w,
        "instance,polysemantic,initial_collisions,initial_collisions_opposite_sign,\
         shared_opposite_sign,winner_is_initial_argmax_fraction"
    )?;
    for c in counts {
        writeln!(
            w,
            "{},{},{},{},{},{}",
            c.instance,
            c.polysemantic,
            c.initial_collisions,
            c.initial_collisions_opposite_sign,
            c.shared_opposite_sign,
            fmt_f64(c.winner_is_initial_argmax_fraction)
        )?;
    }
    Ok(())
}

fn write_neurons(w: &mut dyn Write, rows: &[metrics::PolysemanticNeuron]) -> std::io::Result<()> {
    writeln!(
        w,
        "instance,neuron,n_on,n_positive,n_negative,opposite_sign,features,initial_argmax_of"
    )?;
    for r in rows {
        let features: Vec<String> = r.features.iter().map(usize::to_string).collect();
        writeln!(
            w,
            "{},{},{},{},{},{},{},{}",
            r.instance,
            r.neuron,
            r.n_on,
            r.n_positive,
            r.n_negative,
            u8::from(r.opposite_sign),
            features.join(" "),
            r.initial_argmax_of
        )?;
    }
    Ok(())
}

fn write_features(w: &mut dyn Write, rows: &[metrics::FeatureRow]) -> std::io::Result<()> {
    writeln!(
        w,
        "instance,feature,initial_argmax,initial_weight,final_argmax,final_weight,\
         final_on_count,winner_is_initial_argmax"
    )?;
    for r in rows {
        writeln!(
            w,
            "{},{},{},{},{},{},{},{}",
            r.instance,
            r.feature,
            r.initial_argmax,
            fmt_f64(r.initial_weight),
            r.final_argmax,
            fmt_f64(r.final_weight),
            r.final_on_count,
            u8::from(r.winner_is_initial_argmax)
        )?;
    }
    Ok(())
}

/// Writes `w` as an `.npy` of shape (instances, n, m), float32 (exact: the run was in f32) or
/// float64.
fn write_weights(out: &mut dyn Write, w: &Weights<f64>, f32_out: bool) -> std::io::Result<()> {
    let s = w.shape();
    let shape = [s.instances as u64, s.n as u64, s.m as u64];
    if f32_out {
        let mut npy = npyz::WriteOptions::<f32>::new()
            .default_dtype()
            .shape(&shape)
            .writer(out)
            .begin_nd()?;
        npy.extend(w.as_slice().iter().map(|&x| x as f32))?;
        npy.finish()
    } else {
        let mut npy = npyz::WriteOptions::<f64>::new()
            .default_dtype()
            .shape(&shape)
            .writer(out)
            .begin_nd()?;
        npy.extend(w.as_slice().iter().copied())?;
        npy.finish()
    }
}

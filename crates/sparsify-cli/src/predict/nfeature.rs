//! `sparsify predict --n N --m M`: the n-feature model's count of polysemantic neurons, as the
//! three null models of docs/theory.md §8 predict it, without training.
//!
//! - `n2_over_4m`: the paper's birthday estimate `n^2/4m` (§8.5);
//! - `initial_collisions_mean`: the expected pairs of features sharing their initial argmax
//!   neuron, `n(n-1)/2m` (§8.3), of which half have opposite signs;
//! - `occupancy_mean`, `occupancy_std`: the occupancy model's exact mean and standard deviation
//!   (§8.6-§8.7), one instance;
//! - `relocation_mean`, `relocation_std`, `relocation_band`: the relocation model (§8.10) over
//!   `--draws` random `W0` (entries `N(0, 1/m)`, `Pcg64::seed_from_u64(--seed)`): its mean,
//!   standard deviation and the band `[q05, q95]`, the 5% and 95% empirical quantiles of one
//!   instance's count (so about 90% of instances fall in it; the band of a *mean* over `I`
//!   instances is narrower, about `sqrt(I)` times);
//! - with `--init-file W0.npy` of shape `(instances, n, m)`: `relocation_per_instance`, the
//!   model's count for each instance's own `W0`.

use std::sync::atomic::Ordering;

use rand::SeedableRng;
use rand_pcg::Pcg64;
use serde::Serialize;
use sparsify_theory::TheoryError;
use sparsify_theory::collisions::relocation::{relocate, relocation_band};
use sparsify_theory::collisions::{CountKind, CountModel};

use super::{PredictArgs, interruptible};
use crate::Context;
use crate::error::{CliError, exit};
use crate::io::{fmt_f64, read_npy_array};
use crate::memory;

/// The largest `draws * n * m` (normal draws for the band) accepted: about ten seconds on one
/// core of the 2-core machine this was measured on (1e8 take about a second).
pub(super) const MAX_BAND_WORK: f64 = 1e9;

/// Random `W0` relocated for the band unless `--draws` says otherwise: the standard error of the
/// mean is then the count's spread over 20, and a 5% quantile rests on 20 draws.
const DEFAULT_DRAWS: usize = 400;

/// The quantiles of one instance's relocation count that make the band.
const BAND_QUANTILES: [f64; 2] = [0.05, 0.95];

/// Bytes per weight of the relocation model: the weight and its neuron in a feature's ranking.
const BYTES_PER_WEIGHT: u64 = 8 + 4;

/// What `--json` prints.
#[derive(Debug, Serialize)]
struct Prediction {
    n: usize,
    m: usize,
    n2_over_4m: f64,
    initial_collisions_mean: f64,
    occupancy_mean: f64,
    occupancy_std: f64,
    /// `null` with `--draws 0`.
    relocation_mean: Option<f64>,
    relocation_std: Option<f64>,
    /// `[q05, q95]` of one instance's count over the draws; `null` with `--draws 0`.
    relocation_band: Option<[usize; 2]>,
    relocation_band_quantiles: [f64; 2],
    relocation_draws: usize,
    seed: u64,
    /// With `--init-file`: the model's count for each instance's `W0`.
    #[serde(skip_serializing_if = "Option::is_none")]
    relocation_per_instance: Option<Vec<usize>>,
}

fn theory(flag: &str, e: &TheoryError) -> CliError {
    CliError::usage(format!(
        "{flag}: {}",
        crate::error::short_floats(&e.to_string())
    ))
}

/// Runs `sparsify predict --n N`.
pub(super) fn execute(n: usize, args: &PredictArgs, ctx: &mut Context<'_>) -> Result<u8, CliError> {
    let draws = args.draws.unwrap_or(DEFAULT_DRAWS);
    let seed = args.weights.seed;
    // With --init-file, the sizes come from the file (and --n must agree with it).
    let (m, per_instance_w0) = match &args.weights.init_file {
        Some(path) => {
            let (dims, values) = read_npy_array("--init-file", path, 3)?;
            let (instances, file_n, m) = (dims[0], dims[1], dims[2]);
            if file_n != n {
                return Err(CliError::usage(format!(
                    "--n {n}: disagrees with --init-file {}, of shape ({instances}, {file_n}, {m})",
                    path.display()
                )));
            }
            if instances == 0 || m == 0 {
                return Err(CliError::usage(format!(
                    "--init-file {}: shape ({instances}, {file_n}, {m}) has no weights; need \
                     at least one instance, feature and neuron",
                    path.display()
                )));
            }
            if let Some(i) = values.iter().position(|x| !x.is_finite()) {
                return Err(CliError::usage(format!(
                    "--init-file {}: weight {i} (instance {}, feature {}, neuron {}) is {}; \
                     need finite numbers",
                    path.display(),
                    i / (n * m),
                    (i / m) % n,
                    i % m,
                    fmt_f64(values[i])
                )));
            }
            (m, Some((instances, values)))
        }
        None => (args.weights.m, None),
    };
    if m == 0 {
        return Err(CliError::usage(
            "--m 0: need at least one neuron, a whole number >= 1",
        ));
    }
    let occupancy =
        CountModel::new(CountKind::Polysemantic, n, m).map_err(|e| theory(size_flag(&e), &e))?;
    let collisions =
        CountModel::new(CountKind::Collisions, n, m).map_err(|e| theory(size_flag(&e), &e))?;
    let weights = n as f64 * m as f64;
    let work = weights * draws as f64;
    if work > MAX_BAND_WORK {
        let fits = (MAX_BAND_WORK / weights).floor();
        let hint = if fits >= 1.0 {
            format!("lower --draws to at most {fits:.0}, or ")
        } else {
            String::new()
        };
        return Err(CliError::usage(format!(
            "--n {n} --m {m} --draws {draws}: the relocation band would draw {work:.2e} \
             normal weights, more than the {MAX_BAND_WORK:.0e} this command takes (about ten \
             seconds); {hint}use --draws 0 for the closed forms alone"
        )));
    }
    if draws > 0 {
        memory::check(
            &format!("--n {n} --m {m}"),
            memory::Need::bytes(BYTES_PER_WEIGHT, n.saturating_mul(m), "weights of W0"),
        )?;
    }
    let band = if draws == 0 {
        None
    } else {
        Some(
            interruptible(ctx, "drawing the relocation band", move || {
                relocation_band(&mut Pcg64::seed_from_u64(seed), n, m, draws)
            })?
            .map_err(|e| theory(size_flag(&e), &e))?,
        )
    };
    let relocation_band = match &band {
        Some(band) => {
            let quantile = |p: f64| band.quantile(p).map_err(|e| theory("sparsify predict", &e));
            Some([quantile(BAND_QUANTILES[0])?, quantile(BAND_QUANTILES[1])?])
        }
        None => None,
    };
    let per_instance = match per_instance_w0 {
        Some((instances, values)) => {
            let mut counts = Vec::with_capacity(instances);
            for (i, w0) in values.chunks(n * m).enumerate() {
                if ctx.interrupted.load(Ordering::Relaxed) {
                    return Err(CliError::interrupted(
                        "relocating the --init-file instances",
                    ));
                }
                let r = relocate(w0, n, m)
                    .map_err(|e| theory(&format!("--init-file instance {i}"), &e))?;
                counts.push(r.polysemantic());
            }
            Some(counts)
        }
        None => None,
    };
    let p = Prediction {
        n,
        m,
        n2_over_4m: (n as f64).powi(2) / (4.0 * m as f64),
        initial_collisions_mean: collisions.mean(),
        occupancy_mean: occupancy.mean(),
        occupancy_std: occupancy.std_dev(),
        relocation_mean: band.as_ref().map(|b| b.mean()),
        relocation_std: band.as_ref().map(|b| b.std_dev()),
        relocation_band,
        relocation_band_quantiles: BAND_QUANTILES,
        relocation_draws: draws,
        seed,
        relocation_per_instance: per_instance,
    };
    let text = if args.json {
        let mut s = serde_json::to_string_pretty(&p)
            .map_err(|e| CliError::usage(format!("sparsify predict: {e}")))?;
        s.push('\n');
        s
    } else {
        human(&p)
    };
    // A closed stdout (a pipe whose reader left) is not worth an error line of its own.
    let _ = ctx.stdout.write_all(text.as_bytes());
    Ok(exit::SUCCESS)
}

/// The flag a size error is about.
fn size_flag(e: &TheoryError) -> &'static str {
    match e {
        TheoryError::InvalidCount { name: "n", .. } => "--n",
        TheoryError::InvalidCount { name: "m", .. } => "--m",
        TheoryError::InvalidCount {
            name: "instances", ..
        } => "--draws",
        _ => "sparsify predict",
    }
}

/// The prediction as text for a person.
fn human(p: &Prediction) -> String {
    let mut s = format!(
        "Polysemantic neurons of n = {} features on m = {} neurons (docs/theory.md §8):\n\
         \x20 n^2/4m (the paper's estimate)           {:.3}\n\
         \x20 initial-argmax collisions n(n-1)/2m     {:.3} pairs (half of them opposite-sign)\n\
         \x20 occupancy model                         {:.3} +- {:.3}\n",
        p.n, p.m, p.n2_over_4m, p.initial_collisions_mean, p.occupancy_mean, p.occupancy_std,
    );
    match (p.relocation_mean, p.relocation_std, p.relocation_band) {
        (Some(mean), Some(std), Some([lo, hi])) => s.push_str(&format!(
            "  relocation model                        {mean:.3} +- {std:.3}; 90% of instances \
             in [{lo}, {hi}]\n    ({} random W0, seed {}; the band is the 5% and 95% \
             quantiles of one instance)\n",
            p.relocation_draws, p.seed
        )),
        _ => s.push_str("  relocation model                        not drawn (--draws 0)\n"),
    }
    if let Some(counts) = &p.relocation_per_instance {
        let list: Vec<String> = counts.iter().map(ToString::to_string).collect();
        s.push_str(&format!(
            "  relocation model on --init-file, per instance: {}\n",
            list.join(" ")
        ));
    }
    s
}

//! Claim 17: initial-argmax collisions of `W0 ~ N(0, 1/m)` match the birthday count
//! `n(n-1)/2m` within sampling error (`docs/theory.md` §8.2-§8.3).

use rand::SeedableRng;
use rand_pcg::Pcg64;
use rayon::prelude::*;
use sparsify_nfeature::metrics::initial_collisions;
use sparsify_nfeature::{Shape, Weights};
use sparsify_theory::collisions::{CountKind, CountModel};

use super::{Claim, Profile, Worst};
use crate::ExperimentError;

pub(crate) const STATEMENT: &str = "Initial-argmax collisions of W0 ~ N(0, 1/m): the mean number \
     of pairs of features sharing their largest-|W0| neuron is n(n-1)/2m, and of those with \
     opposite signs n(n-1)/4m, within sampling error (the exact variance of the count model, \
     docs/theory.md §8.3).";

/// Instances per draw: the weights of one draw are `16 n m` numbers, small at every size here.
const BATCH: usize = 16;

/// The sizes and instance counts: `(n, m, instances)`. Fast: about 3e7 normal draws; full:
/// ten times the instances and the paper's `n = 256` at two more `m`.
fn plan(profile: Profile) -> &'static [(usize, usize, usize)] {
    match profile {
        Profile::Fast => &[(32, 64, 2_048), (64, 512, 512), (256, 1024, 32)],
        Profile::Full => &[
            (32, 64, 20_480),
            (64, 512, 5_120),
            (256, 256, 320),
            (256, 1024, 320),
            (256, 4096, 160),
        ],
    }
}

/// The per-test two-sided bound on `|mean - E| / SE`. With at most 10 comparisons (5 sizes,
/// 2 counts), `P(|Z| > 4) = 6.3e-5` each, so a correct model fails by chance with probability
/// below 1e-3 (Bonferroni); the means of thousands of counts are close to normal (central
/// limit), and the seeds are fixed, so the outcome is reproducible.
pub(crate) const Z_TOLERANCE: f64 = 4.0;

/// How the initial weights are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Draw {
    /// `N(0, 1/m)` per entry, as the paper.
    Paper,
    /// A negative control: neuron `k`'s entries have variance `(1 + k/m)/m`, so the argmax is
    /// not uniform over neurons and collisions are more frequent than the birthday count.
    Tilted,
}

/// Claim 17 at `profile`.
pub(crate) fn run(profile: Profile) -> Result<Claim, ExperimentError> {
    collisions_with(profile, Draw::Paper)
}

/// The claim with initial weights drawn as `draw` (the negative control must fail).
///
/// Measured: the largest `|mean - E X| / sqrt(Var X / K)` over the sizes of the profile and
/// the two counts (all pairs and opposite-sign pairs), with `E X` and `Var X` the exact moments
/// of `sparsify_theory`'s [`CountModel`] and `K` the number of instances; tolerance
/// [`Z_TOLERANCE`].
pub fn collisions_with(profile: Profile, draw: Draw) -> Result<Claim, ExperimentError> {
    let mut worst = Worst::new();
    let mut parts = Vec::new();
    for (size_ix, &(n, m, instances)) in plan(profile).iter().enumerate() {
        let counts = sample_counts(n, m, instances, 1700 + 100 * size_ix as u64, draw)?;
        let k = counts.len() as f64;
        for (kind, pick, name) in [
            (CountKind::Collisions, 0, "pairs"),
            (CountKind::OppositeSignCollisions, 1, "opposite-sign"),
        ] {
            let model = CountModel::new(kind, n, m)?;
            let mean = counts
                .iter()
                .map(|c| if pick == 0 { c.0 } else { c.1 } as f64)
                .sum::<f64>()
                / k;
            let se = (model.variance() / k).sqrt();
            let z = (mean - model.mean()).abs() / se;
            worst.add(z);
            parts.push(format!(
                "n = {n}, m = {m}, {instances} instances, {name}: mean {mean:.4} vs {:.4} \
                 (SE {se:.4}, z = {z:.2})",
                model.mean()
            ));
        }
    }
    Ok(Claim::new(
        17,
        "initial_argmax_collisions",
        STATEMENT,
        worst.get(),
        Z_TOLERANCE,
        parts.join("; "),
    ))
}

/// Per instance `(pairs, opposite-sign pairs)` for `instances` draws of an `n x m` `W0`, in
/// batches of [`BATCH`] seeded `seed + batch` (in parallel; the result does not depend on the
/// thread count).
fn sample_counts(
    n: usize,
    m: usize,
    instances: usize,
    seed: u64,
    draw: Draw,
) -> Result<Vec<(usize, usize)>, ExperimentError> {
    let batches = instances.div_ceil(BATCH);
    let per: Vec<Result<Vec<(usize, usize)>, ExperimentError>> = (0..batches)
        .into_par_iter()
        .map(|b| {
            let size = BATCH.min(instances - b * BATCH);
            let shape = Shape::new(size, n, m)?;
            let mut w = Weights::<f64>::normal(&mut Pcg64::seed_from_u64(seed + b as u64), shape);
            if draw == Draw::Tilted {
                let scaled: Vec<f64> = w
                    .as_slice()
                    .iter()
                    .enumerate()
                    .map(|(j, x)| x * (1.0 + (j % m) as f64 / m as f64).sqrt())
                    .collect();
                w = Weights::from_vec(shape, scaled)?;
            }
            Ok(initial_collisions(&w))
        })
        .collect();
    let mut out = Vec::with_capacity(instances);
    for p in per {
        out.extend(p?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tilted_weights_collide_more_than_the_birthday_count() {
        // Negative control: with neuron k's variance (1 + k/m)/m the argmax favours the last
        // neurons, so the collision count is well above n(n-1)/2m and the claim fails.
        let claim = collisions_with(Profile::Fast, Draw::Tilted).unwrap();
        assert!(!claim.pass, "{}", claim.detail);
        assert!(claim.measured > 2.0 * Z_TOLERANCE, "{}", claim.detail);
    }
}

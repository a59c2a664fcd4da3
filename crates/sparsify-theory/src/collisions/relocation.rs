//! The relocation model (docs/theory.md §8): features claim neurons by their initial
//! rankings, and a same-sign conflict pushes the weaker feature to its next-ranked neuron.
//!
//! Each feature `a` ranks the neurons by `|W0[a, j]|` (descending; equal magnitudes by lower
//! neuron index) and has on neuron `j` the sign of `W0[a, j]` (`W0 < 0` is negative, `+0`
//! and `-0` alike positive). A neuron holds at most one feature of each sign: two
//! opposite-sign features can share it (the ReLU cannot tell them apart), two same-sign ones
//! cannot, and of those the one with the larger `|W0|` *at that neuron* keeps it (equal
//! magnitudes: the lower feature index). A pushed feature tries its next-ranked neuron.
//!
//! # The process and why its outcome is well defined
//! This is deferred acceptance (Gale and Shapley, 1962) with features proposing to the `2m`
//! slots (neuron, sign), each slot holding one feature and preferring larger `|W0|`, and every
//! feature's list containing each neuron once, in the slot of its sign there. All preferences
//! are strict (ties broken by index), so the process ends in the feature-optimal stable
//! assignment whatever the order in which free features propose (Dubins and Freedman 1981;
//! Roth and Sotomayor 1990, Theorem 2.12). [`relocate`] proposes from a first-in first-out
//! queue started in feature order; the tests check that other orders give the same outcome
//! and that the outcome is stable (no feature prefers a neuron whose slot holds a weaker
//! feature). A feature that every neuron rejects (possible only when same-sign features
//! outnumber the neurons) is left unplaced and counted apart.
//!
//! The count is the number of neurons holding two features, which are then of opposite
//! signs. The outcome depends on `W0` only through each row's ranking and signs and each
//! column's order of magnitudes, so it is invariant under scaling `W0`.
//!
//! # What it predicts (measured, not a guarantee)
//! Band means and standard deviations from [`relocation_band`] (Pcg64 seed 1; 400 draws,
//! 50 at n = 256), beside the occupancy model and issue 10's AdamW measurements:
//! n = 32, m = 64: 3.94 +- 1.54 (occupancy 3.08, AdamW 3.50 +- 0.94); n = 32, m = 128:
//! 1.88 +- 1.14 (1.73; 1.50 +- 1.12); n = 64, m = 128: 7.93 +- 2.20 (6.21; 6.12 +- 2.62);
//! n = 64, m = 512: 1.87 +- 1.20 (1.85; 1.81 +- 0.95); n = m = 256: 62.8 +- 5.1 (39.6; the
//! paper's figure about 74); n = 256, m = 1024: 16.1 +- 3.1 (14.1; the notebook's 10).
//! Relocation raises the count at `m ~ n` as the issue expected, but does not explain the
//! low count at n = 256, m = 1024.
//!
//! # References
//! docs/theory.md §8; D. Gale and L. S. Shapley, "College admissions and the stability of
//! marriage", Amer. Math. Monthly 69 (1962); A. E. Roth and M. Sotomayor, "Two-sided
//! matching" (1990), ch. 2.

use std::cmp::Ordering;
use std::collections::VecDeque;

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::error::TheoryError;

/// The stable outcome of the relocation process for one `W0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relocation {
    neuron: Vec<Option<usize>>,
    top: Vec<usize>,
    polysemantic: usize,
}

impl Relocation {
    /// `neuron()[a]`: the neuron feature `a` ends on, `None` if every neuron rejected it.
    pub fn neuron(&self) -> &[Option<usize>] {
        &self.neuron
    }

    /// The number of neurons holding two features (one of each sign): the model's count of
    /// polysemantic neurons.
    pub fn polysemantic(&self) -> usize {
        self.polysemantic
    }

    /// The number of features not on their top-ranked neuron (pushed at least once).
    pub fn moved(&self) -> usize {
        self.neuron
            .iter()
            .zip(&self.top)
            .filter(|&(&end, &top)| end != Some(top))
            .count()
    }

    /// The number of features every neuron rejected.
    pub fn unplaced(&self) -> usize {
        self.neuron.iter().filter(|x| x.is_none()).count()
    }
}

/// Runs the relocation process on `w0`, `n` rows of `m` entries (row-major: `w0[a*m + j]`
/// is feature `a` on neuron `j`). O(n m) time and memory in the usual case where features
/// move a few times; a feature that is pushed sorts its row lazily (top 8, 16, ... entries).
///
/// # Errors
/// [`TheoryError::InvalidCount`] if `n` or `m` is 0 or `w0.len() != n m`;
/// [`TheoryError::InvalidWeight`] for a non-finite entry (its flat index).
///
/// # References
/// docs/theory.md §8; the module documentation.
pub fn relocate(w0: &[f64], n: usize, m: usize) -> Result<Relocation, TheoryError> {
    validate(w0, n, m)?;
    Ok(deferred_acceptance(w0, n, m, 0..n))
}

/// The spread of the relocation count over random `W0`: `instances` draws of
/// `W0 ~ N(0, 1/m)` (entry by entry, row-major, from `rng` through `rand_distr`'s
/// `StandardNormal`), each relocated. Deterministic given the generator's state.
///
/// # Errors
/// [`TheoryError::InvalidCount`] if `n`, `m` or `instances` is 0 or `n m` overflows.
///
/// # References
/// docs/theory.md §8.
pub fn relocation_band<R: Rng + ?Sized>(
    rng: &mut R,
    n: usize,
    m: usize,
    instances: usize,
) -> Result<RelocationBand, TheoryError> {
    check_sizes(n, m)?;
    if instances == 0 {
        return Err(TheoryError::InvalidCount {
            name: "instances",
            value: 0,
            valid: "an integer >= 1".to_string(),
        });
    }
    let scale = 1.0 / (m as f64).sqrt();
    let mut w0 = vec![0.0; n * m];
    let mut counts = Vec::with_capacity(instances);
    for _ in 0..instances {
        for w in &mut w0 {
            let z: f64 = StandardNormal.sample(rng);
            *w = z * scale;
        }
        counts.push(deferred_acceptance(&w0, n, m, 0..n).polysemantic);
    }
    Ok(RelocationBand { counts })
}

/// Relocation counts over random instances, with their mean, spread and quantiles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelocationBand {
    counts: Vec<usize>,
}

impl RelocationBand {
    /// The count of each instance, in draw order.
    pub fn counts(&self) -> &[usize] {
        &self.counts
    }

    /// The mean count.
    pub fn mean(&self) -> f64 {
        self.counts.iter().map(|&c| c as f64).sum::<f64>() / self.counts.len() as f64
    }

    /// The standard deviation of the counts (population, `ddof = 0`).
    pub fn std_dev(&self) -> f64 {
        let mu = self.mean();
        let ss: f64 = self.counts.iter().map(|&c| (c as f64 - mu).powi(2)).sum();
        (ss / self.counts.len() as f64).sqrt()
    }

    /// The empirical `p`-quantile: the smallest count `c` with at least a fraction `p` of the
    /// instances at or below it (`p = 0` gives the minimum, `p = 1` the maximum).
    ///
    /// # Errors
    /// [`TheoryError::InvalidParameter`] unless `0 <= p <= 1`.
    pub fn quantile(&self, p: f64) -> Result<usize, TheoryError> {
        if !(0.0..=1.0).contains(&p) {
            return Err(TheoryError::InvalidParameter {
                name: "p",
                value: p,
                valid: "a probability in [0, 1]".to_string(),
            });
        }
        let mut sorted = self.counts.clone();
        sorted.sort_unstable();
        let len = sorted.len();
        // The smallest rank r (1-based) with r/len >= p.
        let rank = ((p * len as f64).ceil() as usize).clamp(1, len);
        Ok(sorted[rank - 1])
    }
}

fn check_sizes(n: usize, m: usize) -> Result<usize, TheoryError> {
    for (name, value) in [("n", n), ("m", m)] {
        if value == 0 {
            return Err(TheoryError::InvalidCount {
                name,
                value,
                valid: "an integer >= 1".to_string(),
            });
        }
    }
    // Neuron indices are stored as u32 in the rankings.
    if m > 1 << 32 {
        return Err(TheoryError::InvalidCount {
            name: "m",
            value: m,
            valid: "an integer in 1..=2^32".to_string(),
        });
    }
    n.checked_mul(m).ok_or_else(|| TheoryError::InvalidCount {
        name: "n",
        value: n,
        valid: format!("at most {} so that n m fits in memory", usize::MAX / m),
    })
}

fn validate(w0: &[f64], n: usize, m: usize) -> Result<(), TheoryError> {
    let len = check_sizes(n, m)?;
    if w0.len() != len {
        return Err(TheoryError::InvalidCount {
            name: "W0 length",
            value: w0.len(),
            valid: format!("n m = {n} x {m} = {len}"),
        });
    }
    match w0.iter().position(|w| !w.is_finite()) {
        Some(index) => Err(TheoryError::InvalidWeight {
            index,
            value: w0[index],
        }),
        None => Ok(()),
    }
}

/// One feature's neurons in its ranking order, sorted lazily.
struct Ranking {
    order: Vec<u32>,
    sorted: usize,
    next: usize,
}

impl Ranking {
    /// The next-ranked neuron of `row` after the first `next` (`None` when all are tried).
    fn next(&mut self, row: &[f64]) -> Option<usize> {
        if self.next == self.sorted {
            let m = row.len();
            if self.sorted == m {
                return None;
            }
            if self.order.is_empty() {
                // Neuron indices fit u32: m <= 2^32 is checked on entry.
                self.order = (0..m).map(|j| j as u32).collect();
            }
            let want = (2 * self.sorted).max(8).min(m);
            let cmp = |a: &u32, b: &u32| rank_cmp(row, *a as usize, *b as usize);
            let rest = &mut self.order[self.sorted..];
            let take = want - self.sorted;
            if take < rest.len() {
                rest.select_nth_unstable_by(take - 1, cmp);
            }
            rest[..take].sort_unstable_by(cmp);
            self.sorted = want;
        }
        let j = self.order[self.next] as usize;
        self.next += 1;
        Some(j)
    }
}

/// Ranking order of neurons `a`, `b` in one feature's row: larger `|w|` first, then lower
/// index.
fn rank_cmp(row: &[f64], a: usize, b: usize) -> Ordering {
    row[b].abs().total_cmp(&row[a].abs()).then(a.cmp(&b))
}

/// The top-ranked neuron of a row by one linear scan (no sort for the common case).
fn top_neuron(row: &[f64]) -> usize {
    (1..row.len()).fold(0, |best, j| {
        if rank_cmp(row, j, best) == Ordering::Less {
            j
        } else {
            best
        }
    })
}

/// Deferred acceptance with free features queued first-in first-out, starting from `order`.
fn deferred_acceptance(
    w0: &[f64],
    n: usize,
    m: usize,
    order: impl IntoIterator<Item = usize>,
) -> Relocation {
    let row = |a: usize| &w0[a * m..(a + 1) * m];
    let top: Vec<usize> = (0..n).map(|a| top_neuron(row(a))).collect();
    // slots[j][0] holds the positive feature on neuron j, slots[j][1] the negative one.
    let mut slots: Vec<[Option<usize>; 2]> = vec![[None, None]; m];
    let mut rankings: Vec<Option<Ranking>> = (0..n).map(|_| None).collect();
    let mut neuron: Vec<Option<usize>> = vec![None; n];
    let mut queue: VecDeque<usize> = order.into_iter().collect();
    while let Some(a) = queue.pop_front() {
        let j = match &mut rankings[a] {
            // First proposal: the top neuron, without sorting.
            None => {
                rankings[a] = Some(Ranking {
                    order: Vec::new(),
                    sorted: 0,
                    next: 0,
                });
                Some(top[a])
            }
            Some(r) => {
                if r.sorted == 0 {
                    // Pushed off its top neuron: rank the row now and skip the top.
                    r.next(row(a));
                }
                r.next(row(a))
            }
        };
        let Some(j) = j else {
            // Every neuron rejected it.
            continue;
        };
        let w = w0[a * m + j];
        let sign = usize::from(w < 0.0);
        match slots[j][sign] {
            None => {
                slots[j][sign] = Some(a);
                neuron[a] = Some(j);
            }
            Some(b) => {
                let held = w0[b * m + j].abs();
                let wins = w.abs() > held || (w.abs() == held && a < b);
                if wins {
                    slots[j][sign] = Some(a);
                    neuron[a] = Some(j);
                    neuron[b] = None;
                    queue.push_back(b);
                } else {
                    queue.push_back(a);
                }
            }
        }
    }
    let polysemantic = slots
        .iter()
        .filter(|s| s[0].is_some() && s[1].is_some())
        .count();
    Relocation {
        neuron,
        top,
        polysemantic,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::seq::SliceRandom;
    use rand_pcg::Pcg64;

    fn random_w0(rng: &mut Pcg64, n: usize, m: usize) -> Vec<f64> {
        (0..n * m)
            .map(|_| {
                let z: f64 = StandardNormal.sample(rng);
                z
            })
            .collect()
    }

    /// Checks the stable outcome's defining properties against `w0` directly: no two
    /// same-sign features share a neuron, and no feature prefers (ranks above its own) a
    /// neuron whose slot of its sign is empty or held by a weaker feature.
    fn check_stable(w0: &[f64], n: usize, m: usize, r: &Relocation) -> Result<(), String> {
        let mut held: Vec<[Vec<usize>; 2]> = vec![[Vec::new(), Vec::new()]; m];
        for (a, &j) in r.neuron().iter().enumerate() {
            if let Some(j) = j {
                held[j][usize::from(w0[a * m + j] < 0.0)].push(a);
            }
        }
        let mut shared = 0;
        for (j, h) in held.iter().enumerate() {
            if h[0].len() > 1 || h[1].len() > 1 {
                return Err(format!("neuron {j} holds same-sign features {h:?}"));
            }
            shared += usize::from(h[0].len() == 1 && h[1].len() == 1);
        }
        if shared != r.polysemantic() {
            return Err(format!(
                "{shared} shared neurons, count {}",
                r.polysemantic()
            ));
        }
        for a in 0..n {
            let row = &w0[a * m..(a + 1) * m];
            for j in 0..m {
                let better = match r.neuron()[a] {
                    Some(end) => rank_cmp(row, j, end) == Ordering::Less,
                    None => true,
                };
                if !better {
                    continue;
                }
                let w = row[j];
                match held[j][usize::from(w < 0.0)].first() {
                    None => return Err(format!("feature {a} prefers free neuron {j}")),
                    Some(&b) => {
                        let hb = w0[b * m + j].abs();
                        if w.abs() > hb || (w.abs() == hb && a < b) {
                            return Err(format!("feature {a} beats {b} on neuron {j}"));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    #[test]
    fn a_conflict_cascades_to_an_opposite_sign_pair() {
        // Features 0 and 1 both rank neuron 0 first with a positive sign; 1 is weaker there
        // (0.8 < 0.9) and moves to neuron 1, where it beats feature 2 (0.7 > 0.6), which moves
        // to neuron 2 and lands positive beside feature 3, negative there: one shared neuron.
        let w0 = [
            0.9, 0.5, 0.1, //
            0.8, 0.7, 0.2, //
            0.1, 0.6, 0.3, //
            0.0, 0.1, -0.9,
        ];
        let r = relocate(&w0, 4, 3).unwrap();
        assert_eq!(r.neuron(), &[Some(0), Some(1), Some(2), Some(2)]);
        assert_eq!(r.polysemantic(), 1);
        assert_eq!(r.moved(), 2);
        assert_eq!(r.unplaced(), 0);
        check_stable(&w0, 4, 3, &r).unwrap();
        // With feature 3 positive on neuron 2 instead, feature 2 (pushed off neuron 1) meets
        // a stronger same-sign feature there (0.9 > 0.3) and then on neuron 0 (0.9 > 0.1):
        // the cascade ends with feature 2 unplaced and no neuron shared.
        let mut same = w0;
        same[11] = 0.9;
        let r = relocate(&same, 4, 3).unwrap();
        assert_eq!(r.neuron(), &[Some(0), Some(1), None, Some(2)]);
        assert_eq!((r.polysemantic(), r.moved(), r.unplaced()), (0, 2, 1));
        check_stable(&same, 4, 3, &r).unwrap();
    }

    #[test]
    fn same_sign_features_beyond_the_neurons_are_unplaced() {
        // Three positive features on one neuron: one place per sign, so two are left over.
        let w0 = [0.3, 0.2, 0.1];
        let r = relocate(&w0, 3, 1).unwrap();
        assert_eq!(r.neuron(), &[Some(0), None, None]);
        assert_eq!((r.unplaced(), r.polysemantic()), (2, 0));
        check_stable(&w0, 3, 1, &r).unwrap();
    }

    #[test]
    fn the_outcome_is_stable_and_independent_of_the_proposal_order() {
        let mut rng = Pcg64::seed_from_u64(7);
        for &(n, m) in &[(8, 4), (16, 16), (32, 20), (64, 64), (20, 7)] {
            for _ in 0..20 {
                let w0 = random_w0(&mut rng, n, m);
                let reference = relocate(&w0, n, m).unwrap();
                check_stable(&w0, n, m, &reference).unwrap_or_else(|e| panic!("{n}x{m}: {e}"));
                let mut order: Vec<usize> = (0..n).collect();
                order.reverse();
                assert_eq!(deferred_acceptance(&w0, n, m, order.clone()), reference);
                order.shuffle(&mut rng);
                assert_eq!(deferred_acceptance(&w0, n, m, order), reference);
            }
        }
    }

    #[test]
    fn the_count_is_invariant_under_scaling() {
        let mut rng = Pcg64::seed_from_u64(3);
        let w0 = random_w0(&mut rng, 32, 32);
        // Scaling by a power of two is exact, so rankings and comparisons are unchanged.
        let scaled: Vec<f64> = w0.iter().map(|w| w * 0.125).collect();
        assert_eq!(
            relocate(&w0, 32, 32).unwrap(),
            relocate(&scaled, 32, 32).unwrap()
        );
    }

    #[test]
    fn with_m_far_above_n_squared_nothing_collides() {
        // n = 8, m = 100 n^2 = 6400. A count > 0 needs two features with a common top neuron
        // (otherwise nobody moves), probability at most C(8, 2)/6400 = 0.0044 per instance;
        // over 200 instances the number of non-zero instances is at most Binomial(200,
        // 0.0044), mean 0.875, and P(>= 7) < 1e-4.
        let mut rng = Pcg64::seed_from_u64(11);
        let band = relocation_band(&mut rng, 8, 6400, 200).unwrap();
        assert_eq!(band.counts().len(), 200);
        let nonzero = band.counts().iter().filter(|&&c| c > 0).count();
        assert!(nonzero <= 6, "{nonzero}");
        assert_eq!(band.quantile(0.9).unwrap(), 0);
        // And when every top neuron is distinct, nothing moves and nothing is shared.
        let w0 = random_w0(&mut rng, 8, 6400);
        let r = relocate(&w0, 8, 6400).unwrap();
        let mut tops: Vec<usize> = (0..8)
            .map(|a| top_neuron(&w0[a * 6400..][..6400]))
            .collect();
        tops.sort_unstable();
        tops.dedup();
        if tops.len() == 8 {
            assert_eq!((r.polysemantic(), r.moved()), (0, 0));
        }
    }

    #[test]
    fn the_band_is_deterministic_given_the_generator() {
        let a = relocation_band(&mut Pcg64::seed_from_u64(5), 16, 16, 30).unwrap();
        let b = relocation_band(&mut Pcg64::seed_from_u64(5), 16, 16, 30).unwrap();
        assert_eq!(a, b);
        let (lo, mid, hi) = (
            a.quantile(0.05).unwrap(),
            a.quantile(0.5).unwrap(),
            a.quantile(0.95).unwrap(),
        );
        assert!(lo <= mid && mid <= hi);
        let max = *a.counts().iter().max().unwrap();
        assert_eq!(a.quantile(1.0).unwrap(), max);
        assert!(a.quantile(1.5).is_err());
        assert!(a.mean() >= lo as f64 && a.mean() <= max as f64);
    }

    #[test]
    fn invalid_inputs_are_refused() {
        assert!(matches!(
            relocate(&[1.0, 2.0], 1, 3),
            Err(TheoryError::InvalidCount { .. })
        ));
        assert!(matches!(
            relocate(&[1.0, f64::NAN], 1, 2),
            Err(TheoryError::InvalidWeight { index: 1, .. })
        ));
        assert!(relocate(&[], 0, 2).is_err());
        assert!(relocation_band(&mut Pcg64::seed_from_u64(0), 2, 2, 0).is_err());
    }
}

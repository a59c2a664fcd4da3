//! Polysemanticity metrics, counted as the paper's `experiments/collisions.py` and
//! `experiments/fourth_norm.py` count them.
//!
//! A feature `a` is *on* neuron `k` if `0.8 <= |W[a,k]| <= 1.2` (inclusive); a neuron is
//! *polysemantic* if at least 2 features are on it. A feature's argmax is its neuron with the
//! largest `|W|` (the first on ties, as numpy's `argmax`). All comparisons are made in `f64`.
//!
//! # References
//! - `docs/theory.md` (collision counts); the paper's code, github
//!   tmychow/accidental-polysemanticity `experiments/collisions.py` (commit 630473f).

use crate::float::Float;
use crate::model::Weights;

/// The lower bound of the paper's "on" band for `|W|`.
pub const ON_LOW: f64 = 0.8;
/// The upper bound of the paper's "on" band for `|W|`.
pub const ON_HIGH: f64 = 1.2;

/// Whether a weight puts its feature "on" its neuron: `0.8 <= |w| <= 1.2`.
pub fn is_on(w: f64) -> bool {
    (ON_LOW..=ON_HIGH).contains(&w.abs())
}

/// One instance's counts, a row of the reference's `counts.csv`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Counts {
    /// The instance.
    pub instance: usize,
    /// Neurons with at least 2 features on them.
    pub polysemantic: usize,
    /// Pairs of features `a < b` whose initial argmax neurons coincide.
    pub initial_collisions: usize,
    /// Those of them whose initial weights at the shared neuron have opposite signs.
    pub initial_collisions_opposite_sign: usize,
    /// Polysemantic neurons whose on-features include both signs.
    pub shared_opposite_sign: usize,
    /// The fraction of features whose final argmax is their initial argmax.
    pub winner_is_initial_argmax_fraction: f64,
}

/// A polysemantic neuron, a row of the reference's `polysemantic_neurons.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct PolysemanticNeuron {
    /// The instance.
    pub instance: usize,
    /// The neuron.
    pub neuron: usize,
    /// Features on it (at least 2).
    pub n_on: usize,
    /// Of those, with a positive weight.
    pub n_positive: usize,
    /// Of those, with a negative weight.
    pub n_negative: usize,
    /// Both signs present.
    pub opposite_sign: bool,
    /// The features on it, ascending.
    pub features: Vec<usize>,
    /// How many features had this neuron as their initial argmax.
    pub initial_argmax_of: usize,
}

/// One feature's fate, a row of the reference's `features.csv`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeatureRow {
    /// The instance.
    pub instance: usize,
    /// The feature.
    pub feature: usize,
    /// Its initial argmax neuron.
    pub initial_argmax: usize,
    /// `W0` there.
    pub initial_weight: f64,
    /// Its final argmax neuron.
    pub final_argmax: usize,
    /// `W` there.
    pub final_weight: f64,
    /// Neurons it is on at the end.
    pub final_on_count: usize,
    /// `final_argmax == initial_argmax`.
    pub winner_is_initial_argmax: bool,
}

/// Per-(instance, feature) argmax of `|W|`, first on ties; `(instances * n)` entries.
pub fn argmax_neurons<T: Float>(w: &Weights<T>) -> Vec<usize> {
    let m = w.shape().m;
    w.as_slice()
        .chunks(m)
        .map(|row| {
            let mut best = 0;
            let mut best_abs = row[0].f64().abs();
            for (k, x) in row.iter().enumerate().skip(1) {
                let a = x.f64().abs();
                if a > best_abs {
                    best = k;
                    best_abs = a;
                }
            }
            best
        })
        .collect()
}

/// Per instance, the number of polysemantic neurons.
pub fn polysemantic_counts<T: Float>(w: &Weights<T>) -> Vec<usize> {
    let s = w.shape();
    (0..s.instances)
        .map(|i| on_per_neuron(w, i).iter().filter(|&&c| c >= 2).count())
        .collect()
}

fn on_per_neuron<T: Float>(w: &Weights<T>, i: usize) -> Vec<usize> {
    let s = w.shape();
    let mut count = vec![0usize; s.m];
    for row in w.instance(i).chunks(s.m) {
        for (c, x) in count.iter_mut().zip(row) {
            *c += usize::from(is_on(x.f64()));
        }
    }
    count
}

/// Per instance, `(pairs, opposite_sign_pairs)` of features whose initial argmax neurons
/// coincide; the sign compared is that of `W0` at the shared neuron.
pub fn initial_collisions<T: Float>(w0: &Weights<T>) -> Vec<(usize, usize)> {
    let s = w0.shape();
    let am = argmax_neurons(w0);
    (0..s.instances)
        .map(|i| {
            let mut pos = vec![0usize; s.m];
            let mut neg = vec![0usize; s.m];
            for a in 0..s.n {
                let k = am[i * s.n + a];
                let x = w0.get(i, a, k).f64();
                if x > 0.0 {
                    pos[k] += 1;
                } else if x < 0.0 {
                    neg[k] += 1;
                }
            }
            let pairs = pos
                .iter()
                .zip(&neg)
                .map(|(p, q)| (p + q) * (p + q).saturating_sub(1) / 2)
                .sum();
            let opposite = pos.iter().zip(&neg).map(|(p, q)| p * q).sum();
            (pairs, opposite)
        })
        .collect()
}

/// Every polysemantic neuron of `w`, by instance then neuron; `initial_argmax_of` counts the
/// features whose argmax in `w0` is that neuron.
pub fn polysemantic_neurons<T: Float>(w0: &Weights<T>, w: &Weights<T>) -> Vec<PolysemanticNeuron> {
    let s = w.shape();
    let am0 = argmax_neurons(w0);
    let mut rows = Vec::new();
    for i in 0..s.instances {
        for (k, &c) in on_per_neuron(w, i).iter().enumerate() {
            if c < 2 {
                continue;
            }
            let features: Vec<usize> = (0..s.n).filter(|&a| is_on(w.get(i, a, k).f64())).collect();
            let n_positive = features
                .iter()
                .filter(|&&a| w.get(i, a, k).f64() > 0.0)
                .count();
            let n_negative = features
                .iter()
                .filter(|&&a| w.get(i, a, k).f64() < 0.0)
                .count();
            rows.push(PolysemanticNeuron {
                instance: i,
                neuron: k,
                n_on: features.len(),
                n_positive,
                n_negative,
                opposite_sign: n_positive > 0 && n_negative > 0,
                features,
                initial_argmax_of: am0[i * s.n..(i + 1) * s.n]
                    .iter()
                    .filter(|&&x| x == k)
                    .count(),
            });
        }
    }
    rows
}

/// One row per (instance, feature): initial and final argmax, the weights there, the final
/// on-count.
pub fn feature_rows<T: Float>(w0: &Weights<T>, w: &Weights<T>) -> Vec<FeatureRow> {
    let s = w.shape();
    let (am0, am1) = (argmax_neurons(w0), argmax_neurons(w));
    let mut rows = Vec::with_capacity(s.instances * s.n);
    for i in 0..s.instances {
        for a in 0..s.n {
            let (k0, k1) = (am0[i * s.n + a], am1[i * s.n + a]);
            let row = &w.instance(i)[a * s.m..(a + 1) * s.m];
            rows.push(FeatureRow {
                instance: i,
                feature: a,
                initial_argmax: k0,
                initial_weight: w0.get(i, a, k0).f64(),
                final_argmax: k1,
                final_weight: w.get(i, a, k1).f64(),
                final_on_count: row.iter().filter(|x| is_on(x.f64())).count(),
                winner_is_initial_argmax: k0 == k1,
            });
        }
    }
    rows
}

/// The per-instance counts (rows of `counts.csv`).
pub fn counts<T: Float>(w0: &Weights<T>, w: &Weights<T>) -> Vec<Counts> {
    let s = w.shape();
    let poly = polysemantic_counts(w);
    let col = initial_collisions(w0);
    let mut shared = vec![0usize; s.instances];
    for r in polysemantic_neurons(w0, w) {
        shared[r.instance] += usize::from(r.opposite_sign);
    }
    let (am0, am1) = (argmax_neurons(w0), argmax_neurons(w));
    (0..s.instances)
        .map(|i| {
            let same = (0..s.n)
                .filter(|&a| am0[i * s.n + a] == am1[i * s.n + a])
                .count();
            Counts {
                instance: i,
                polysemantic: poly[i],
                initial_collisions: col[i].0,
                initial_collisions_opposite_sign: col[i].1,
                shared_opposite_sign: shared[i],
                winner_is_initial_argmax_fraction: same as f64 / s.n as f64,
            }
        })
        .collect()
}

/// `sum_k W[i,a,k]^4` per (instance, feature), in `f64`.
pub fn fourth_norms<T: Float>(w: &Weights<T>) -> Vec<f64> {
    w.as_slice()
        .chunks(w.shape().m)
        .map(|row| row.iter().map(|x| x.f64().powi(4)).sum())
        .collect()
}

/// Per instance, the mean over features of the fourth norm (what `fourth_norm.py` plots).
pub fn mean_fourth_norm<T: Float>(w: &Weights<T>) -> Vec<f64> {
    let n = w.shape().n;
    fourth_norms(w)
        .chunks(n)
        .map(|c| c.iter().sum::<f64>() / n as f64)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Shape;

    /// The reference's selftest matrix: features 0 and 1 collide at neuron 0 with opposite
    /// signs initially and end on it with opposite signs.
    #[test]
    fn counts_on_a_hand_made_matrix() {
        let shape = Shape::new(1, 4, 3).expect("shape");
        let w0 = Weights::from_vec(
            shape,
            vec![
                0.9, 0.1, 0.0, -0.95, 0.2, 0.0, 0.1, 0.7, 0.2, 0.0, 0.3, -0.5,
            ],
        )
        .expect("w0");
        let w = Weights::from_vec(
            shape,
            vec![1.0, 0.0, 0.0, -0.9, 0.0, 0.0, 0.0, 1.1, 0.0, 0.0, 0.0, -1.2],
        )
        .expect("w");
        assert_eq!(polysemantic_counts(&w), vec![1]);
        assert_eq!(initial_collisions(&w0), vec![(1, 1)]);
        let c = counts(&w0, &w);
        assert_eq!(c[0].shared_opposite_sign, 1);
        assert_eq!(c[0].winner_is_initial_argmax_fraction, 1.0);
        let rows = polysemantic_neurons(&w0, &w);
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (
                rows[0].neuron,
                rows[0].features.clone(),
                rows[0].initial_argmax_of
            ),
            (0, vec![0, 1], 2)
        );
        let mut same = w.clone().into_vec();
        same[3] = 0.9;
        let same = Weights::from_vec(shape, same).expect("w");
        assert_eq!(counts(&w0, &same)[0].shared_opposite_sign, 0);
        let f4 = fourth_norms(&w);
        // 0.9^4 etc. computed two ways (powi vs products): a few ulps.
        for (x, y) in f4
            .iter()
            .zip([1.0, 0.9f64.powi(4), 1.1f64.powi(4), 1.2f64.powi(4)])
        {
            assert!((x - y).abs() < 1e-15);
        }
        let rows = feature_rows(&w0, &w);
        assert_eq!(rows.len(), 4);
        assert_eq!(
            (
                rows[3].initial_argmax,
                rows[3].final_argmax,
                rows[3].final_on_count
            ),
            (2, 2, 1)
        );
    }

    #[test]
    fn on_band_is_inclusive() {
        let w = Weights::from_vec(Shape::new(1, 2, 1).expect("shape"), vec![0.8, -1.2]).expect("w");
        assert_eq!(polysemantic_counts(&w), vec![1]);
        assert!(!is_on(0.7999999999999999) && !is_on(1.2000000000000002));
    }
}

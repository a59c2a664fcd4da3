//! Initial weights at scale: parallel, seeded half-normal generation and an in-place parallel
//! sort, for the reduced solvers at m = 1e8..1e9.
//!
//! The weights are generated in chunks of [`CHUNK`] draws, chunk `i` from its own
//! `Pcg64::seed_from_u64(splitmix64(splitmix64(seed) ^ i))`, so the result depends only on
//! `(seed, m, sigma)`, never on the number of threads. The pair `(seed, i)` is combined
//! asymmetrically: a symmetric mix such as `splitmix64(seed) ^ splitmix64(i)` would give chunk
//! `i` of seed `s` the same draws as chunk `s` of seed `i` (correlating a sweep over seeds), and
//! chunk `s` of seed `s` the sequential stream of seed 0. Two chunk seeds coincide only if
//! `splitmix64(s) ^ splitmix64(s')` is below the chunk count, a chance of ~2^-54 per pair. **This stream differs from
//! [`InitialWeights::half_normal`]'s** (one sequential `Pcg64`), so the same seed gives
//! different weights through the two functions; both are |N(0, sigma^2)| samples.
//!
//! Memory: one `Vec<f64>` of m (8 bytes per weight), filled in place and sorted in place by
//! rayon's parallel pattern-defeating quicksort (`par_sort_unstable_by`, no second copy). The
//! reduced solver then adds its prefix-moment marks (`48*m/1024` bytes, see
//! [`crate::prefix`]): about 8.05 GB at m = 1e9.
//!
//! # References
//! docs/theory.md §2 (the reduced solver needs only the sorted weights), §4 (half-normal start).

use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use statrs::distribution::{ContinuousCDF, Normal};

use crate::error::{CoreError, Param, positive_finite};
use crate::init::InitialWeights;
use crate::numpy::NumpyRandomState;

/// Draws per independently seeded chunk.
pub const CHUNK: usize = 1 << 20;

impl InitialWeights {
    /// `m` draws of `|N(0, sigma^2)|` generated in parallel from `seed` (see the module docs for
    /// the stream), sorted descending in parallel and in place. `sigma = None` means
    /// [`Self::default_sigma`].
    ///
    /// # Errors
    /// `m < 2`, or `sigma` not finite and `> 0`.
    pub fn half_normal_parallel(
        seed: u64,
        m: usize,
        sigma: Option<f64>,
    ) -> Result<Self, CoreError> {
        if m < 2 {
            return Err(CoreError::TooFewWeights { m });
        }
        let sigma = positive_finite(
            Param::Sigma,
            sigma.unwrap_or_else(|| Self::default_sigma(m)),
        )?;
        let mut w = vec![0.0f64; m];
        let base = splitmix64(seed);
        w.par_chunks_mut(CHUNK).enumerate().for_each(|(i, chunk)| {
            let mut rng = rand_pcg::Pcg64::seed_from_u64(splitmix64(base ^ i as u64));
            for x in chunk {
                let z: f64 = StandardNormal.sample(&mut rng);
                *x = (sigma * z).abs();
            }
        });
        w.par_sort_unstable_by(|a, b| b.total_cmp(a));
        Ok(Self::from_sorted_unchecked(w))
    }
}

/// A request to stop, polled between chunks of work: true means "stop now".
pub type Stop<'a> = &'a (dyn Fn() -> bool + Sync);

/// Weights between two polls of the stop request while drawing or computing weights (a few
/// milliseconds of work), and the largest piece sorted without a poll. The first piece is
/// never interrupted: a problem of at most this size is done whole, as without a stop request.
pub const STOP_POLL: usize = 1 << 20;

impl InitialWeights {
    /// [`Self::half_normal_parallel`], polling `stop` every [`STOP_POLL`] draws and between
    /// the pieces of the sort: `Ok(None)` soon after it returns true (within milliseconds per
    /// thread, plus one partition pass of the largest piece being split). The weights are
    /// the same as `half_normal_parallel`'s.
    ///
    /// # Errors
    /// `m < 2`, or `sigma` not finite and `> 0`.
    pub fn half_normal_parallel_until(
        seed: u64,
        m: usize,
        sigma: Option<f64>,
        stop: Stop<'_>,
    ) -> Result<Option<Self>, CoreError> {
        let sigma = Self::check_m_sigma(m, sigma)?;
        let mut w = vec![0.0f64; m];
        let base = splitmix64(seed);
        let skipped = std::sync::atomic::AtomicBool::new(false);
        w.par_chunks_mut(CHUNK).enumerate().for_each(|(i, chunk)| {
            if i > 0 && stop() {
                skipped.store(true, std::sync::atomic::Ordering::Relaxed);
                return;
            }
            let mut rng = rand_pcg::Pcg64::seed_from_u64(splitmix64(base ^ i as u64));
            for x in chunk {
                let z: f64 = StandardNormal.sample(&mut rng);
                *x = (sigma * z).abs();
            }
        });
        if skipped.into_inner() || !sort_descending_until(&mut w, stop) {
            return Ok(None);
        }
        Ok(Some(Self::from_sorted_unchecked(w)))
    }

    /// [`Self::half_normal`], polling `stop` every [`STOP_POLL`] draws and while sorting:
    /// `Ok(None)` soon after it returns true. The weights are the same as `half_normal`'s.
    ///
    /// # Errors
    /// `m < 2`, or `sigma` not finite and `> 0`.
    pub fn half_normal_until(
        rng: &mut impl Rng,
        m: usize,
        sigma: Option<f64>,
        stop: Stop<'_>,
    ) -> Result<Option<Self>, CoreError> {
        let sigma = Self::check_m_sigma(m, sigma)?;
        let mut w = Vec::with_capacity(m);
        while w.len() < m {
            if !w.is_empty() && stop() {
                return Ok(None);
            }
            let k = (m - w.len()).min(STOP_POLL);
            w.extend((0..k).map(|_| {
                let z: f64 = StandardNormal.sample(rng);
                (sigma * z).abs()
            }));
        }
        Ok(sorted_until(w, stop))
    }

    /// [`Self::half_normal_numpy`] (bit for bit), polling `stop` every [`STOP_POLL`] draws and
    /// while sorting: `Ok(None)` soon after it returns true.
    ///
    /// # Errors
    /// `m < 2`, or `sigma` not finite and `> 0`.
    pub fn half_normal_numpy_until(
        seed: u32,
        m: usize,
        sigma: Option<f64>,
        stop: Stop<'_>,
    ) -> Result<Option<Self>, CoreError> {
        let sigma = Self::check_m_sigma(m, sigma)?;
        let mut state = NumpyRandomState::new(seed);
        let mut w = Vec::with_capacity(m);
        while w.len() < m {
            if !w.is_empty() && stop() {
                return Ok(None);
            }
            let k = (m - w.len()).min(STOP_POLL);
            w.extend((0..k).map(|_| state.normal(0.0, sigma).abs()));
        }
        Ok(sorted_until(w, stop))
    }

    /// [`Self::quantile`], polling `stop` every [`STOP_POLL`] weights: `Ok(None)` soon after
    /// it returns true. The weights are the same as `quantile`'s.
    ///
    /// # Errors
    /// `m < 2`, or `sigma` not finite and `> 0`.
    pub fn quantile_until(
        m: usize,
        sigma: Option<f64>,
        stop: Stop<'_>,
    ) -> Result<Option<Self>, CoreError> {
        let sigma = Self::check_m_sigma(m, sigma)?;
        // The same expression as `quantile`, piece by piece: weight j depends on j alone.
        let normal = Normal::standard();
        let two_m = 2.0 * m as f64;
        let mut w = Vec::with_capacity(m);
        while w.len() < m {
            if !w.is_empty() && stop() {
                return Ok(None);
            }
            let start = w.len();
            let end = m.min(start + STOP_POLL);
            w.extend(
                (start..end).map(|j| sigma * normal.inverse_cdf(0.5 + (j as f64 + 0.5) / two_m)),
            );
        }
        w.reverse();
        Ok(Some(Self::from_sorted_unchecked(w)))
    }
}

/// `w` sorted descending, or `None` if `stop` returned true meanwhile.
fn sorted_until(mut w: Vec<f64>, stop: Stop<'_>) -> Option<InitialWeights> {
    sort_descending_until(&mut w, stop).then(|| InitialWeights::from_sorted_unchecked(w))
}

/// Sorts `w` descending (by `f64::total_cmp`) in place, in parallel, polling `stop` before
/// splitting a piece; false if it stopped (then `w` is a permutation of its input, partly
/// sorted).
///
/// Pieces of more than [`STOP_POLL`] values are split at their median by
/// `select_nth_unstable_by` (an O(n) partition) and the halves sorted in parallel; smaller
/// pieces are sorted whole. The order is a total order on the values, and the weights carry no
/// identity beyond their bits, so the result is the same as any other descending sort's.
pub fn sort_descending_until(w: &mut [f64], stop: Stop<'_>) -> bool {
    let desc = |a: &f64, b: &f64| b.total_cmp(a);
    if w.len() <= STOP_POLL {
        w.sort_unstable_by(desc);
        return true;
    }
    if stop() {
        return false;
    }
    let mid = w.len() / 2;
    w.select_nth_unstable_by(mid, desc);
    let (hi, lo) = w.split_at_mut(mid);
    let (a, b) = rayon::join(
        || sort_descending_until(hi, stop),
        || sort_descending_until(lo, stop),
    );
    a && b
}

/// SplitMix64's output function: decorrelates nearby seeds and chunk indices.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stoppable_initialisations_give_the_same_weights_or_stop() {
        let never = || false;
        let always = || true;
        // Several pieces of the stoppable sort and of the draws (STOP_POLL = 2^20).
        let m = 2 * STOP_POLL + 777;
        let a = InitialWeights::half_normal_parallel(5, m, None).unwrap();
        let b = InitialWeights::half_normal_parallel_until(5, m, None, &never).unwrap();
        assert_eq!(Some(a), b);
        let mut rng = rand_pcg::Pcg64::seed_from_u64(3);
        let a = InitialWeights::half_normal(&mut rng, m, None).unwrap();
        let mut rng = rand_pcg::Pcg64::seed_from_u64(3);
        let b = InitialWeights::half_normal_until(&mut rng, m, None, &never).unwrap();
        assert_eq!(Some(a), b);
        let a = InitialWeights::half_normal_numpy(4, 5000, None).unwrap();
        let b = InitialWeights::half_normal_numpy_until(4, 5000, None, &never).unwrap();
        assert_eq!(Some(a), b);
        let a = InitialWeights::quantile(STOP_POLL + 5, Some(0.3)).unwrap();
        let b = InitialWeights::quantile_until(STOP_POLL + 5, Some(0.3), &never).unwrap();
        assert_eq!(Some(a), b);
        // A stop request before the start stops each of them, and errors still come first.
        assert_eq!(
            InitialWeights::half_normal_parallel_until(5, m, None, &always),
            Ok(None)
        );
        assert_eq!(InitialWeights::quantile_until(m, None, &always), Ok(None));
        assert!(InitialWeights::quantile_until(1, None, &always).is_err());
    }

    #[test]
    fn the_stoppable_sort_sorts_ties_and_stops() {
        // Many ties and zeros (the partition must not degrade or lose values), more than one
        // piece so the split path runs.
        let n = 3 * STOP_POLL + 1;
        let mut w: Vec<f64> = (0..n).map(|i| ((i * 7919) % 1000) as f64 * 0.5).collect();
        let mut expected = w.clone();
        expected.sort_unstable_by(|a, b| b.total_cmp(a));
        assert!(sort_descending_until(&mut w, &|| false));
        assert_eq!(w.len(), expected.len());
        assert_eq!(w, expected);
        let mut v = w.clone();
        assert!(!sort_descending_until(&mut v, &|| true));
        // One piece is sorted whole, stop request or not.
        let mut v = vec![1.0, 3.0, 2.0];
        assert!(sort_descending_until(&mut v, &|| true));
        assert_eq!(v, [3.0, 2.0, 1.0]);
    }

    #[test]
    fn parallel_draws_are_sorted_seeded_and_half_normal() {
        let m = 3 * CHUNK + 12_345;
        let a = InitialWeights::half_normal_parallel(42, m, None).unwrap();
        let w = a.as_slice();
        assert!(w.windows(2).all(|p| p[0] >= p[1]));
        assert!(w.iter().all(|&x| x >= 0.0));
        // Same seed, same weights, whatever the scheduling.
        let b = InitialWeights::half_normal_parallel(42, m, None).unwrap();
        assert_eq!(a, b);
        let c = InitialWeights::half_normal_parallel(43, m, None).unwrap();
        assert_ne!(a, c);
        // Not the sequential stream of any seed, and seeds do not swap chunks: with a
        // symmetric mix, seed 0 (one chunk) drew exactly `half_normal` with seed 0.
        let mut rng = rand_pcg::Pcg64::seed_from_u64(0);
        let small = 5000;
        assert_ne!(
            InitialWeights::half_normal_parallel(0, small, None).unwrap(),
            InitialWeights::half_normal(&mut rng, small, None).unwrap()
        );
        // E||w||^2 = 0.81 with sd 0.81*sqrt(2/m) = 3.5e-4: 5 sd is 1.8e-3. The median of
        // |N(0,1)| is 0.6745, so w[m/2]*sqrt(m)/0.9 is within ~1e-3 of it (sd ~ 1/(2 f sqrt m)).
        let sq: f64 = w.iter().map(|x| x * x).sum();
        assert!((sq - 0.81).abs() < 1.8e-3, "{sq}");
        let median = w[m / 2] * (m as f64).sqrt() / 0.9;
        assert!((median - 0.6745).abs() < 3e-3, "{median}");
    }
}

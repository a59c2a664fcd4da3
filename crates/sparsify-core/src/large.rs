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
//! THEORY.md §2 (the reduced solver needs only the sorted weights), §4 (half-normal start).

use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

use crate::error::{CoreError, Param, positive_finite};
use crate::init::InitialWeights;

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

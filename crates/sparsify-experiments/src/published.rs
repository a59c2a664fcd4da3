//! The published run's inputs: m = 10^5, lambda = 10^-5, h = 0.5, weights from numpy's legacy
//! stream with seed 0 (Lecomte's gist; `docs/theory.md` §1). Several claims, the figures and
//! the benchmarks start from these weights; they are drawn once per process and shared.

use std::sync::OnceLock;

use sparsify_core::InitialWeights;

use crate::ExperimentError;

/// The number of coordinates `m` of the published run.
pub const M: usize = 100_000;
/// The L1 strength `lambda` of the published run (per unit time).
pub const LAMBDA: f64 = 1e-5;
/// The Euler step `h` of the published run (time units).
pub const H: f64 = 0.5;
/// The numpy seed of the published run's initial weights.
pub const SEED: u32 = 0;

/// The published run's initial weights: `|N(0, (0.9/sqrt(m))^2)|` drawn by numpy's
/// `RandomState(0)` and sorted descending, bit for bit as the gist draws them. Computed on
/// first use and shared afterwards (a clone is O(m)).
///
/// # Errors
/// None in practice (the parameters are valid); a core error is passed on rather than hidden.
pub fn initial_weights() -> Result<&'static InitialWeights, ExperimentError> {
    static W0: OnceLock<InitialWeights> = OnceLock::new();
    if let Some(w0) = W0.get() {
        return Ok(w0);
    }
    let w0 = InitialWeights::half_normal_numpy(SEED, M, None)?;
    Ok(W0.get_or_init(|| w0))
}

/// The caption's description of the published initialisation.
pub fn init_caption() -> String {
    format!("|N(0, σ²)|, σ = 0.9/√m, numpy seed {SEED}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_weights_are_drawn_once_and_sorted() {
        let a = initial_weights().unwrap();
        let b = initial_weights().unwrap();
        assert!(
            std::ptr::eq(a, b),
            "the second call must reuse the first draw"
        );
        assert_eq!(a.len(), M);
        assert!(a.as_slice().windows(2).all(|p| p[0] >= p[1]));
    }
}

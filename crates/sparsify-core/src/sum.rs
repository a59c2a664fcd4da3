//! Summation order, an explicit choice.
//!
//! The published script sums with Python's built-in `sum`: sequential, left to right over the
//! weights sorted descending. Reproducing its outputs bit for bit needs exactly that order
//! ([`SumMode::Sequential`]). [`SumMode::Pairwise`] sums blocks of 128 with 8 interleaved
//! accumulators and combines blocks pairwise (numpy's `np.sum` scheme): error `O(eps log n)`
//! instead of `O(eps n)`, and vectorisable, so faster.

use std::fmt;
use std::str::FromStr;

/// How the sums `||w||_1 = sum w_j` and `||w||_2^2 = sum w_j^2` are accumulated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SumMode {
    /// Left to right, one accumulator each: the published script's order, bitwise reproduction.
    Sequential,
    /// Blocks of [`PAIRWISE_BLOCK`] with 8 lanes, blocks combined pairwise: faster, more accurate.
    Pairwise,
}

/// The leaf size of the pairwise recursion (numpy's `PW_BLOCKSIZE`).
pub const PAIRWISE_BLOCK: usize = 128;

impl SumMode {
    /// The name used on the command line and in summaries.
    pub fn name(self) -> &'static str {
        match self {
            SumMode::Sequential => "sequential",
            SumMode::Pairwise => "pairwise",
        }
    }
}

impl fmt::Display for SumMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SumMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "sequential" => Ok(SumMode::Sequential),
            "pairwise" => Ok(SumMode::Pairwise),
            _ => Err(format!(
                "unknown summation mode '{s}': use sequential or pairwise"
            )),
        }
    }
}

/// `(v, 0)` for a survivor (`v > 0`), `(0.0, 1)` for a dropped coordinate (`v <= 0` or NaN).
///
/// Adding the `0.0` to a positive running sum leaves it bitwise unchanged, so a fused pass can
/// sum before it filters.
#[inline]
pub(crate) fn survivor(v: f64) -> (f64, usize) {
    if v > 0.0 { (v, 0) } else { (0.0, 1) }
}

/// `(sum w_j, sum w_j^2)` over non-negative weights `w`, in the given order.
///
/// Negative entries count as 0 (they are dropped coordinates).
pub fn sums(w: &[f64], mode: SumMode) -> (f64, f64) {
    match mode {
        SumMode::Sequential => w.iter().fold((0.0, 0.0), |(s1, s2), &x| {
            let (kept, _) = survivor(x);
            (s1 + kept, s2 + kept * kept)
        }),
        // A copy keeps one pairwise kernel (the in-place one of the Euler step); this is O(m) once.
        SumMode::Pairwise => {
            let (s1, s2, _) = pairwise(&mut w.to_vec(), &mut |x| x);
            (s1, s2)
        }
    }
}

/// Applies `f` to every element in place and returns the pairwise `(sum, sum of squares)` of the
/// results that are `> 0`, and the count of the others (dropped coordinates add exactly nothing).
pub(crate) fn pairwise(w: &mut [f64], f: &mut impl FnMut(f64) -> f64) -> (f64, f64, usize) {
    if w.len() <= PAIRWISE_BLOCK {
        return block8(w, f);
    }
    // Split at a multiple of the block size so leaves stay full and lanes stay aligned.
    let half = (w.len() / 2).div_ceil(PAIRWISE_BLOCK) * PAIRWISE_BLOCK;
    let (a, b) = w.split_at_mut(half);
    let (a1, a2, ad) = pairwise(a, f);
    let (b1, b2, bd) = pairwise(b, f);
    (a1 + b1, a2 + b2, ad + bd)
}

fn block8(w: &mut [f64], f: &mut impl FnMut(f64) -> f64) -> (f64, f64, usize) {
    let mut s1 = [0.0f64; 8];
    let mut s2 = [0.0f64; 8];
    let mut dropped = 0usize;
    let mut chunks = w.chunks_exact_mut(8);
    for c in &mut chunks {
        for k in 0..8 {
            let v = f(c[k]);
            c[k] = v;
            let (kept, gone) = survivor(v);
            dropped += gone;
            s1[k] += kept;
            s2[k] += kept * kept;
        }
    }
    let mut t1 = ((s1[0] + s1[1]) + (s1[2] + s1[3])) + ((s1[4] + s1[5]) + (s1[6] + s1[7]));
    let mut t2 = ((s2[0] + s2[1]) + (s2[2] + s2[3])) + ((s2[4] + s2[5]) + (s2[6] + s2[7]));
    for x in chunks.into_remainder() {
        let v = f(*x);
        *x = v;
        let (kept, gone) = survivor(v);
        dropped += gone;
        t1 += kept;
        t2 += kept * kept;
    }
    (t1, t2, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_is_left_to_right() {
        // 1 + 1e-16 + 1e-16 rounds to 1 left to right, while 1e-16 + 1e-16 + 1 would not.
        let (s1, _) = sums(&[1.0, 1e-16, 1e-16], SumMode::Sequential);
        assert_eq!(s1, 1.0);
        let (s1, _) = sums(&[1e-16, 1e-16, 1.0], SumMode::Sequential);
        assert_eq!(s1, 1.0 + 2e-16);
    }

    #[test]
    fn pairwise_is_more_accurate_than_sequential() {
        // 1e6 copies of 0.1: the exact sum is 1e5 * (1 + 5.55e-17/0.1)..., i.e. n*fl(0.1).
        let w = vec![0.1f64; 1_000_000];
        let exact = 1_000_000.0 * 0.1f64; // one rounding of the exact n*fl(0.1)
        let (seq, _) = sums(&w, SumMode::Sequential);
        let (pw, _) = sums(&w, SumMode::Pairwise);
        // Sequential drifts by ~n*eps relative; pairwise stays within a few ulps.
        assert!(
            (pw - exact).abs() <= 4.0 * f64::EPSILON * exact,
            "pw = {pw}"
        );
        assert!((seq - exact).abs() > (pw - exact).abs());
    }

    #[test]
    fn pairwise_handles_every_length_and_clamps_at_zero() {
        for n in [0usize, 1, 7, 8, 9, 127, 128, 129, 1000, 4097] {
            let mut w: Vec<f64> = (0..n).map(|j| (j % 5) as f64 - 1.0).collect();
            let expect1: f64 = w.iter().map(|&x| x.max(0.0)).sum();
            let expect2: f64 = w.iter().map(|&x| x.max(0.0).powi(2)).sum();
            let (s1, s2, _) = pairwise(&mut w, &mut |x| x);
            // Small integers: every partial sum is exact, so any order gives the same result.
            assert_eq!((s1, s2), (expect1, expect2), "n = {n}");
        }
    }

    #[test]
    fn parse_round_trips() {
        for m in [SumMode::Sequential, SumMode::Pairwise] {
            assert_eq!(m.name().parse::<SumMode>(), Ok(m));
        }
        assert!("kahan".parse::<SumMode>().unwrap_err().contains("kahan"));
    }
}

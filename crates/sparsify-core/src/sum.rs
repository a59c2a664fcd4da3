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

/// `v` for a survivor (`v > 0`), `0.0` for a dropped coordinate (`v <= 0` or NaN).
///
/// Adding the `0.0` to a positive running sum leaves it bitwise unchanged, so a fused pass can
/// sum before it filters.
#[inline]
pub(crate) fn survivor(v: f64) -> f64 {
    // A bit mask rather than a branch or `max`: it compiles to compare-and-mask, which
    // vectorises (a select or `max` became scalar `maxsd` plus shuffles in the pairwise leaf).
    let mask = u64::from(v > 0.0).wrapping_neg();
    f64::from_bits(v.to_bits() & mask)
}

/// `(sum w_j, sum w_j^2)` over non-negative weights `w`, in the given order.
///
/// Negative entries count as 0 (they are dropped coordinates).
pub fn sums(w: &[f64], mode: SumMode) -> (f64, f64) {
    match mode {
        SumMode::Sequential => w.iter().fold((0.0, 0.0), |(s1, s2), &x| {
            let kept = survivor(x);
            (s1 + kept, s2 + kept * kept)
        }),
        // A copy keeps one pairwise kernel (the in-place one of the Euler step); this is O(m) once.
        SumMode::Pairwise => pairwise(Kernel::detect(), &mut w.to_vec(), EulerUpdate::IDENTITY),
    }
}

/// The published Euler update of one weight, `x + (a*x - lambda)*h`, in numpy's order of
/// operations (no fused multiply-add).
#[derive(Debug, Clone, Copy)]
pub(crate) struct EulerUpdate {
    /// Feature benefit `1 - ||w||^2`.
    pub(crate) a: f64,
    /// L1 strength.
    pub(crate) lambda: f64,
    /// Step size.
    pub(crate) h: f64,
}

impl EulerUpdate {
    /// The identity map, for summing without updating (`a = 0`, `lambda = 0` gives `x + 0*h`,
    /// which is `x` for the non-negative `x` summed here).
    pub(crate) const IDENTITY: Self = Self {
        a: 0.0,
        lambda: 0.0,
        h: 0.0,
    };

    #[inline(always)]
    pub(crate) fn apply(self, x: f64) -> f64 {
        x + (self.a * x - self.lambda) * self.h
    }
}

/// Applies `u` to every element in place and returns the pairwise `(sum, sum of squares)` of
/// the results that are `> 0` (dropped coordinates add exactly nothing).
///
/// Leaves of [`PAIRWISE_BLOCK`] elements are summed with [`LANES`] interleaved accumulators;
/// leaf sums are combined as a binary counter combines carries, which is the balanced pairwise
/// tree over leaves (exactly balanced when their number is a power of two). Error bound
/// `O(eps * log2(n/128))` relative to the sum of absolute values. AVX2 is used where the
/// processor has it (detected at run time through `pulp`'s safe wrappers), with the same
/// lane order, so results do not depend on the machine.
pub(crate) fn pairwise(kernel: Kernel, w: &mut [f64], u: EulerUpdate) -> (f64, f64) {
    match kernel {
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx2(simd) => simd.vectorize(avx2::Pairwise { simd, w, u }),
        Kernel::Portable => pairwise_kernel(w, u, PortableLeaf),
    }
}

/// Which implementation of the pairwise leaf runs. Both accumulate element `k` of every
/// 8-element chunk into lane `k` and reduce the lanes in the same tree, so they give bitwise
/// identical sums: the choice changes speed, never results.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kernel {
    /// AVX2 (x86-64-v3), detected at run time: two 4-wide registers per sum.
    #[cfg(target_arch = "x86_64")]
    Avx2(pulp::x86::V3),
    /// Plain Rust, vectorised by the compiler for the baseline instruction set.
    Portable,
}

impl Kernel {
    /// The fastest kernel this processor supports.
    pub(crate) fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        if let Some(simd) = pulp::x86::V3::try_new() {
            return Kernel::Avx2(simd);
        }
        Kernel::Portable
    }
}

#[inline(always)]
fn pairwise_kernel<L: Leaf>(w: &mut [f64], u: EulerUpdate, leaf: L) -> (f64, f64) {
    if w.len() <= PAIRWISE_BLOCK {
        return leaf.leaf(w, u);
    }
    // The stack holds partial sums of 2^k consecutive leaves for decreasing k; a new leaf
    // merges with the equal-sized partial sums on top, like carries in binary addition. Depth
    // is at most log2(number of leaves) + 1: 40 entries cover 2^39 leaves of 128 weights,
    // 5.6e8 GB of f64, far past any memory.
    let mut stack = [(0.0f64, 0.0f64); 40];
    let mut depth = 0usize;
    for (i, block) in w.chunks_mut(PAIRWISE_BLOCK).enumerate() {
        let mut acc = leaf.leaf(block, u);
        let mut carries = (i + 1).trailing_zeros();
        while carries > 0 {
            depth -= 1;
            let (a1, a2) = stack[depth];
            acc = (a1 + acc.0, a2 + acc.1);
            carries -= 1;
        }
        stack[depth] = acc;
        depth += 1;
    }
    // Unequal leftovers, smallest (latest) first.
    let mut total = (0.0, 0.0);
    while depth > 0 {
        depth -= 1;
        total = (stack[depth].0 + total.0, stack[depth].1 + total.1);
    }
    total
}

/// The sum of one leaf of at most [`PAIRWISE_BLOCK`] weights, updated in place. A trait rather
/// than a closure so that it is inlined into the AVX2-enabled caller (closures were not, and
/// every intrinsic became a call).
trait Leaf: Copy {
    fn leaf(self, w: &mut [f64], u: EulerUpdate) -> (f64, f64);
}

#[derive(Clone, Copy)]
struct PortableLeaf;

impl Leaf for PortableLeaf {
    #[inline(always)]
    fn leaf(self, w: &mut [f64], u: EulerUpdate) -> (f64, f64) {
        leaf(w, u)
    }
}

/// Lanes of the pairwise leaf: enough independent chains to hide the latency of an add, few
/// enough that the accumulators stay in registers.
pub const LANES: usize = 8;

#[inline(always)]
fn leaf(w: &mut [f64], u: EulerUpdate) -> (f64, f64) {
    // Two passes over the leaf (it is in L1 cache): update and sum, then sum the squares. With
    // both sums in one loop the vectoriser packed s1[k] with s2[k] into one register instead
    // of neighbouring lanes, which left half the work scalar.
    let mut s1 = [0.0f64; LANES];
    let mut chunks = w.chunks_exact_mut(LANES);
    for c in &mut chunks {
        for k in 0..LANES {
            c[k] = u.apply(c[k]);
            s1[k] += survivor(c[k]);
        }
    }
    let mut t1 = tree(&s1);
    for x in chunks.into_remainder() {
        *x = u.apply(*x);
        t1 += survivor(*x);
    }
    let mut s2 = [0.0f64; LANES];
    let mut chunks = w.chunks_exact(LANES);
    for c in &mut chunks {
        for k in 0..LANES {
            let kept = survivor(c[k]);
            s2[k] += kept * kept;
        }
    }
    let mut t2 = tree(&s2);
    for &x in chunks.remainder() {
        let kept = survivor(x);
        t2 += kept * kept;
    }
    (t1, t2)
}

/// The lanes summed as a balanced tree, halves first (`s[k] + s[k + 4]`, then `+ 2`, then
/// `+ 1`): the order in which a vector register is reduced, so the vectoriser keeps lanes in
/// place.
#[inline(always)]
fn tree(s: &[f64; LANES]) -> f64 {
    let h: [f64; 4] = std::array::from_fn(|k| s[k] + s[k + 4]);
    let q = [h[0] + h[2], h[1] + h[3]];
    q[0] + q[1]
}

/// The pairwise leaf with explicit AVX2 registers: lanes 0-3 and 4-7 of the portable leaf.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use core::arch::x86_64::{__m256d, _CMP_GT_OQ};

    use pulp::x86::V3;

    use super::{EulerUpdate, LANES, survivor};

    #[inline(always)]
    fn load(c: &[f64]) -> __m256d {
        let a: [f64; 4] = [c[0], c[1], c[2], c[3]];
        pulp::cast(a)
    }

    #[inline(always)]
    fn lanes(v: __m256d) -> [f64; 4] {
        pulp::cast(v)
    }

    /// [`super::pairwise_kernel`] with the AVX2 leaf, as an operation that `V3::vectorize`
    /// compiles with AVX2 enabled (through a closure it was not inlined, and every intrinsic became a call).
    pub(super) struct Pairwise<'a> {
        pub(super) simd: V3,
        pub(super) w: &'a mut [f64],
        pub(super) u: EulerUpdate,
    }

    impl pulp::NullaryFnOnce for Pairwise<'_> {
        type Output = (f64, f64);

        #[inline(always)]
        fn call(self) -> (f64, f64) {
            super::pairwise_kernel(self.w, self.u, Avx2Leaf(self.simd))
        }
    }

    #[derive(Clone, Copy)]
    struct Avx2Leaf(V3);

    impl super::Leaf for Avx2Leaf {
        #[inline(always)]
        fn leaf(self, w: &mut [f64], u: EulerUpdate) -> (f64, f64) {
            leaf(self.0, w, u)
        }
    }

    #[inline(always)]
    fn leaf(simd: V3, w: &mut [f64], u: EulerUpdate) -> (f64, f64) {
        let avx = simd.avx;
        let (a, lambda, h) = (
            avx._mm256_set1_pd(u.a),
            avx._mm256_set1_pd(u.lambda),
            avx._mm256_set1_pd(u.h),
        );
        let zero = avx._mm256_setzero_pd();
        let (mut s1, mut s2) = ((zero, zero), (zero, zero));
        // v = x + (a*x - lambda)*h, kept = v where v > 0 else 0: numpy's order, no FMA.
        let step = |x: __m256d| {
            let v = avx._mm256_add_pd(
                x,
                avx._mm256_mul_pd(avx._mm256_sub_pd(avx._mm256_mul_pd(a, x), lambda), h),
            );
            let kept = avx._mm256_and_pd(v, avx._mm256_cmp_pd::<_CMP_GT_OQ>(v, zero));
            (v, kept)
        };
        let mut chunks = w.chunks_exact_mut(LANES);
        for c in &mut chunks {
            let (v0, k0) = step(load(&c[..4]));
            let (v1, k1) = step(load(&c[4..]));
            c[..4].copy_from_slice(&lanes(v0));
            c[4..].copy_from_slice(&lanes(v1));
            s1 = (avx._mm256_add_pd(s1.0, k0), avx._mm256_add_pd(s1.1, k1));
            s2 = (
                avx._mm256_add_pd(s2.0, avx._mm256_mul_pd(k0, k0)),
                avx._mm256_add_pd(s2.1, avx._mm256_mul_pd(k1, k1)),
            );
        }
        // The portable tree: h[k] = s[k] + s[k + 4], then (h0 + h2) + (h1 + h3).
        let tree = |(lo, hi): (__m256d, __m256d)| {
            let h = lanes(avx._mm256_add_pd(lo, hi));
            (h[0] + h[2]) + (h[1] + h[3])
        };
        let (mut t1, mut t2) = (tree(s1), tree(s2));
        for x in chunks.into_remainder() {
            *x = u.apply(*x);
            let kept = survivor(*x);
            t1 += kept;
            t2 += kept * kept;
        }
        (t1, t2)
    }
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
            let (s1, s2) = pairwise(Kernel::detect(), &mut w, EulerUpdate::IDENTITY);
            // Small integers: every partial sum is exact, so any order gives the same result.
            assert_eq!((s1, s2), (expect1, expect2), "n = {n}");
        }
    }

    #[test]
    fn every_kernel_gives_bitwise_identical_sums() {
        // The AVX2 leaf must reproduce the portable leaf's lane order exactly, whatever the
        // length (full leaves, partial chunks, remainders) and with dropped values mixed in.
        let u = EulerUpdate {
            a: 0.013,
            lambda: 1e-3,
            h: 0.5,
        };
        for n in [1usize, 7, 8, 9, 100, 128, 129, 1000, 4099, 70_001] {
            let w: Vec<f64> = (0..n)
                .map(|j| ((j * 7919) % 1009) as f64 * 1e-5 + 1e-9 * j as f64)
                .collect();
            let mut a = w.clone();
            let portable = pairwise_kernel(&mut a, u, PortableLeaf);
            let mut b = w.clone();
            let detected = pairwise(Kernel::detect(), &mut b, u);
            assert_eq!(portable.0.to_bits(), detected.0.to_bits(), "n = {n}");
            assert_eq!(portable.1.to_bits(), detected.1.to_bits(), "n = {n}");
            assert_eq!(a, b, "updated weights differ, n = {n}");
            assert!(
                a.iter().any(|&x| x <= 0.0) || n < 10,
                "test must include drops"
            );
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

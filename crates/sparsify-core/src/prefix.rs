//! Prefix moments of the sorted initial weights about the smallest survivor, without
//! cancellation and in O(m/BLOCK) extra memory.
//!
//! For the survivors `j < n` of the descending `w0` and the pivot `p = w0[n-1]` (the smallest
//! survivor), with `u_j = w0_j - p >= 0`:
//!
//! - `E1(n) = sum_{j<n} u_j`, `E2(n) = sum_{j<n} u_j^2`,
//! - `C(n) = sum_{j<n} (w0_j - mean_n)^2`, the centred sum of squares.
//!
//! Every survivor is `w_j = alpha*u_j + d` with `d = w_{n-1} > 0` (docs/theory.md §2, written about the
//! pivot instead of about 0), so `||w||_1 = alpha*E1 + n*d`,
//! `||w||_2^2 = alpha^2*E2 + d*(2*alpha*E1 + n*d)` and the total squared deviation is
//! `alpha^2*C`: sums of non-negative terms, with no cancellation at any m. (The textbook form
//! `alpha^2*S2 - 2*alpha*beta*S1 + beta^2*n` subtracts numbers of size `(alpha*w0_0)^2` to get
//! 1, and loses `log10((w0_0/(w0_0 - theta))^2)` digits late in a run.)
//!
//! The moments come from forward recurrences whose terms are all `>= 0`, with
//! `delta = w0[n-1] - w0[n] >= 0`:
//!
//! ```text
//! E1(n+1) = E1(n) + n*delta
//! E2(n+1) = E2(n) + delta*(2*E1(n) + n*delta)
//! C(n+1)  = C(n)  + E1(n+1)^2 / (n*(n+1))          (Welford: (w0_n - mean_n) = -E1(n+1)/n)
//! ```
//!
//! accumulated with Neumaier compensation, so each is within a few ulps of its exact value
//! (the terms are rounded once each, and a compensated sum of non-negative terms has relative
//! error O(eps) independent of n).
//!
//! Memory: storing all three for every n would cost 24 bytes per weight (24 GB at m = 1e9, on
//! top of the 8 GB of `w0`). Instead the compensated state is kept at every [`BLOCK`]-th n
//! (48 bytes per block) and one block at a time is recomputed on demand from its mark, into a
//! cache of `BLOCK` entries. The solvers query n in decreasing order, so every block is
//! recomputed at most once: O(m) extra work in total, O(1) amortised per query, and
//! `48*m/BLOCK + 24*BLOCK` bytes (12 MB at m = 1e9).
//!
//! # References
//! docs/theory.md §2 (affine structure, prefix sums), §3 (`F = n*(theta - mu)^2 + c`).

/// Every this many n the compensated recurrence state is stored.
pub const BLOCK: usize = 1024;

/// The moments of the `n` largest initial weights about the smallest of them, `p = w0[n-1]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moments {
    /// The number of weights, `n >= 1`.
    pub n: usize,
    /// The pivot `p = w0[n-1]`.
    pub pivot: f64,
    /// `E1 = sum_{j<n} (w0_j - p)`.
    pub e1: f64,
    /// `E2 = sum_{j<n} (w0_j - p)^2`.
    pub e2: f64,
    /// `C = sum_{j<n} (w0_j - mean)^2`.
    pub c: f64,
}

impl Moments {
    /// `F(theta) = sum_{j<n} (w0_j - theta)^2` for `s = p - theta` (docs/theory.md §3):
    /// `E2 + s*(2*E1 + n*s)`, a sum of non-negative terms while `s >= 0`.
    #[inline]
    pub fn f_at(&self, s: f64) -> f64 {
        self.e2 + s * (2.0 * self.e1 + self.n as f64 * s)
    }

    /// `G(theta) = sum_{j<n} (w0_j - theta) = E1 + n*s` for `s = p - theta`.
    #[inline]
    pub fn g_at(&self, s: f64) -> f64 {
        self.e1 + self.n as f64 * s
    }
}

/// A Neumaier-compensated running sum of non-negative terms.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Compensated {
    sum: f64,
    comp: f64,
}

impl Compensated {
    #[inline]
    fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.comp += (self.sum - t) + x;
        } else {
            self.comp += (x - t) + self.sum;
        }
        self.sum = t;
    }

    #[inline]
    fn value(self) -> f64 {
        self.sum + self.comp
    }
}

/// The recurrence state at one n.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Mark {
    e1: Compensated,
    e2: Compensated,
    c: Compensated,
}

impl Mark {
    /// From n to n+1, with `delta = w0[n-1] - w0[n]`.
    #[inline]
    fn advance(&mut self, n: usize, delta: f64) {
        let nf = n as f64;
        let e1 = self.e1.value();
        self.e1.add(nf * delta);
        self.e2.add(delta * (2.0 * e1 + nf * delta));
        let e1_next = self.e1.value();
        self.c.add(e1_next * e1_next / (nf * (nf + 1.0)));
    }
}

/// Weights between two polls of the stop request in [`PrefixMoments::new_until`].
pub const STOP_POLL: usize = 1 << 20;

/// One step of the forward recurrence: the mark at `n` (stored every [`BLOCK`]), then the state
/// at `n + 1`.
#[inline]
fn mark_step(w0: &[f64], marks: &mut Vec<Mark>, mut state: Mark, n: usize) -> Mark {
    if (n - 1).is_multiple_of(BLOCK) {
        marks.push(state);
    }
    if n < w0.len() {
        state.advance(n, w0[n - 1] - w0[n]);
    }
    state
}

/// The sorted initial weights with their prefix moments (see the module docs).
#[derive(Debug, Clone)]
pub struct PrefixMoments {
    w0: Vec<f64>,
    /// The state at `n = 1 + b*BLOCK` for every block `b`.
    marks: Vec<Mark>,
    /// The block whose moments are cached, if any.
    cached_block: Option<usize>,
    /// `(e1, e2, c)` for `n = 1 + b*BLOCK + i`.
    cache: Vec<[f64; 3]>,
}

impl PrefixMoments {
    /// One O(m) pass over `w0`, which must be sorted descending (as
    /// [`crate::InitialWeights`] always is) and non-empty.
    pub fn new(w0: Vec<f64>) -> Self {
        let m = w0.len();
        let mut marks = Vec::with_capacity(m / BLOCK + 1);
        let mut state = Mark::default();
        for n in 1..=m {
            state = mark_step(&w0, &mut marks, state, n);
        }
        Self::from_marks(w0, marks)
    }

    /// [`Self::new`], polling `stop` every [`STOP_POLL`] weights (a few milliseconds of
    /// work): `None` as soon as it returns true. The moments are the same as `new`'s.
    pub fn new_until(w0: Vec<f64>, stop: &(dyn Fn() -> bool + Sync)) -> Option<Self> {
        let m = w0.len();
        let mut marks = Vec::with_capacity(m / BLOCK + 1);
        let mut state = Mark::default();
        for n in 1..=m {
            if n.is_multiple_of(STOP_POLL) && stop() {
                return None;
            }
            state = mark_step(&w0, &mut marks, state, n);
        }
        Some(Self::from_marks(w0, marks))
    }

    fn from_marks(w0: Vec<f64>, marks: Vec<Mark>) -> Self {
        Self {
            w0,
            marks,
            cached_block: None,
            cache: Vec::with_capacity(BLOCK),
        }
    }

    /// The weights, descending.
    pub fn w0(&self) -> &[f64] {
        &self.w0
    }

    /// The number of weights `m`.
    pub fn len(&self) -> usize {
        self.w0.len()
    }

    /// Whether there are no weights (never, for weights from [`crate::InitialWeights`]).
    pub fn is_empty(&self) -> bool {
        self.w0.is_empty()
    }

    /// The moments of the `n` largest weights, `1 <= n <= m` (clamped into that range).
    /// Amortised O(1) when queried with non-increasing n, O(BLOCK) for a jump to a new block.
    pub fn at(&mut self, n: usize) -> Moments {
        let n = n.clamp(1, self.w0.len().max(1));
        let block = (n - 1) / BLOCK;
        if self.cached_block != Some(block) {
            self.fill(block);
        }
        let [e1, e2, c] = self.cache[(n - 1) % BLOCK];
        Moments {
            n,
            pivot: self.w0[n - 1],
            e1,
            e2,
            c,
        }
    }

    /// Gives back the weights.
    pub fn into_w0(self) -> Vec<f64> {
        self.w0
    }

    fn fill(&mut self, block: usize) {
        let mut state = self.marks[block];
        let first = 1 + block * BLOCK;
        let last = (first + BLOCK - 1).min(self.w0.len());
        self.cache.clear();
        for n in first..=last {
            self.cache
                .push([state.e1.value(), state.e2.value(), state.c.value()]);
            if n < last {
                state.advance(n, self.w0[n - 1] - self.w0[n]);
            }
        }
        self.cached_block = Some(block);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The moments by their definitions, in exact rational arithmetic on small integers.
    fn naive(w0: &[f64], n: usize) -> (f64, f64, f64) {
        let p = w0[n - 1];
        let e1: f64 = w0[..n].iter().map(|x| x - p).sum();
        let e2: f64 = w0[..n].iter().map(|x| (x - p) * (x - p)).sum();
        let mean = w0[..n].iter().sum::<f64>() / n as f64;
        let c: f64 = w0[..n].iter().map(|x| (x - mean) * (x - mean)).sum();
        (e1, e2, c)
    }

    #[test]
    fn moments_match_their_definitions_across_blocks() {
        // Integers with n(n+1) | ... : e1, e2 are exact integers in any order; c is checked to
        // 1e-13 relative (its Welford terms divide by n(n+1)).
        let m = 3 * BLOCK + 17;
        let w0: Vec<f64> = (0..m).map(|j| ((m - j) / 3) as f64).collect();
        let mut pm = PrefixMoments::new(w0.clone());
        for n in [m, m - 1, 2 * BLOCK + 1, 2 * BLOCK, BLOCK + 5, 3, 2, 1] {
            let mo = pm.at(n);
            let (e1, e2, c) = naive(&w0, n);
            assert_eq!((mo.e1, mo.e2), (e1, e2), "n = {n}");
            assert!(
                (mo.c - c).abs() <= 1e-13 * c.max(1e-300),
                "n = {n}: {} vs {c}",
                mo.c
            );
            assert_eq!(mo.pivot, w0[n - 1]);
        }
        // Random access (increasing n) works too, only slower.
        assert_eq!(pm.at(m).e1, naive(&w0, m).0);
    }

    #[test]
    fn no_cancellation_where_the_textbook_form_loses_digits() {
        // Two weights 1 + 1e-9 and 1: E2(2) = 1e-18 exactly up to the rounding of the gap,
        // while S2 - S1^2/n cancels 18 digits.
        let w0 = vec![1.0 + 1e-9, 1.0];
        let gap = w0[0] - w0[1];
        let mut pm = PrefixMoments::new(w0.clone());
        let mo = pm.at(2);
        assert_eq!(mo.e2, gap * gap);
        assert!((mo.c - gap * gap / 2.0).abs() <= 1e-15 * mo.c);
        let s1 = w0[0] + w0[1];
        let textbook = (w0[0] * w0[0] + w0[1] * w0[1]) - s1 * s1 / 2.0;
        assert!((textbook - mo.c).abs() > 1e-3 * mo.c, "textbook {textbook}");
    }
}

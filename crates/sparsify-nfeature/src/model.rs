//! The model: weights, noise, loss and its hand-written gradient.
//!
//! Per instance `i`, with `W_i` of shape `(n, m)`, the batch the `n x n` identity and `xi` one
//! noise vector of length `m` (shared by every row and instance):
//! `P_i[a, b] = <W_ia + xi, W_ib> = (W_i W_i^T)[a, b] + (W_i xi)[b]`, output `relu(P_i)`,
//! `loss = sum_{i,a,b} (relu(P_i[a,b]) - delta_ab)^2 + lambda * sum |W|` (the L1 term only when
//! `lambda > 0`), and
//! `dL/dW_i = (D_i + D_i^T) W_i + (D_i^T 1) xi^T + lambda sign(W_i)`,
//! `D_i = 2 (relu(P_i) - I) * [P_i > 0]`, with torch's `relu'(0) = 0` and `sign(0) = 0`.
//!
//! # References
//! - `docs/theory.md` (the n-feature model); the paper's code, github
//!   tmychow/accidental-polysemanticity `models/autoencoder.py` (commit 630473f).

use faer::linalg::matmul::matmul;
use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::{Accum, MatMut, MatRef, Par};
use rand::{Rng, RngExt};
use rand_distr::{Distribution, StandardNormal};

use crate::error::{NFeatureError, Param, check, check_count};
use crate::float::Float;

/// The model's size: `instances` independent models of `n` features on `m` neurons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Independent models trained side by side.
    pub instances: usize,
    /// Features (rows of each `W_i`).
    pub n: usize,
    /// Hidden neurons (columns of each `W_i`).
    pub m: usize,
}

impl Shape {
    /// A validated shape; every size at least 1.
    ///
    /// # Errors
    /// [`NFeatureError::InvalidParameter`] for a zero size.
    pub fn new(instances: usize, n: usize, m: usize) -> Result<Self, NFeatureError> {
        Ok(Self {
            instances: check_count(Param::Instances, instances)?,
            n: check_count(Param::N, n)?,
            m: check_count(Param::M, m)?,
        })
    }

    /// Entries of one instance, `n * m`.
    pub fn per_instance(&self) -> usize {
        self.n * self.m
    }

    /// All entries, `instances * n * m`.
    pub fn len(&self) -> usize {
        self.instances * self.n * self.m
    }

    /// Never true for a validated shape; here for clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Weights of shape `(instances, n, m)`, stored in C order (instance, feature, neuron), as a
/// numpy `.npy` array of that shape holds them.
#[derive(Debug, Clone, PartialEq)]
pub struct Weights<T> {
    shape: Shape,
    data: Vec<T>,
}

impl<T: Float> Weights<T> {
    /// Weights from a caller's array in C order (e.g. read from `.npy`).
    ///
    /// # Errors
    /// [`NFeatureError::WrongLength`] unless `data.len() == shape.len()`;
    /// [`NFeatureError::NonFiniteWeight`] for a NaN or infinite entry.
    pub fn from_vec(shape: Shape, data: Vec<T>) -> Result<Self, NFeatureError> {
        if data.len() != shape.len() {
            return Err(NFeatureError::WrongLength {
                what: "initial weights",
                expected: shape.len(),
                got: data.len(),
            });
        }
        if let Some((index, w)) = data.iter().enumerate().find(|(_, w)| !w.f64().is_finite()) {
            return Err(NFeatureError::NonFiniteWeight {
                index,
                value: w.f64(),
            });
        }
        Ok(Self { shape, data })
    }

    /// The paper's initialisation: every entry N(0, 1/m), drawn in C order as
    /// `StandardNormal / sqrt(m)` in `f64` and rounded to `T`.
    pub fn normal(rng: &mut (impl Rng + ?Sized), shape: Shape) -> Self {
        let scale = 1.0 / (shape.m as f64).sqrt();
        let data = (0..shape.len())
            .map(|_| {
                let z: f64 = StandardNormal.sample(rng);
                T::of(z * scale)
            })
            .collect();
        Self { shape, data }
    }

    /// The shape.
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// All entries in C order.
    pub fn as_slice(&self) -> &[T] {
        &self.data
    }

    /// Instance `i`'s `n x m` block, row-major.
    pub fn instance(&self, i: usize) -> &[T] {
        let len = self.shape.per_instance();
        &self.data[i * len..(i + 1) * len]
    }

    /// `W[i, a, k]`.
    pub fn get(&self, i: usize, a: usize, k: usize) -> T {
        self.data[(i * self.shape.n + a) * self.shape.m + k]
    }

    /// The weights widened to `f64`.
    pub fn to_f64(&self) -> Weights<f64> {
        Weights {
            shape: self.shape,
            data: self.data.iter().map(|w| w.f64()).collect(),
        }
    }

    /// The weights rounded to another precision.
    pub fn cast<U: Float>(&self) -> Weights<U> {
        Weights {
            shape: self.shape,
            data: self.data.iter().map(|w| U::of(w.f64())).collect(),
        }
    }

    /// Consumes the weights into their C-order entries.
    pub fn into_vec(self) -> Vec<T> {
        self.data
    }

    pub(crate) fn data_mut(&mut self) -> &mut [T] {
        &mut self.data
    }
}

/// The hidden-layer noise: one vector `xi` of length `m` per step, shared by every batch row
/// and every instance (as the paper's `AutoEncoder.forward` draws it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Noise {
    /// No noise (`xi = 0`, and its term is skipped).
    None,
    /// Each unit `+sigma` or `-sigma` with probability 1/2.
    Bernoulli {
        /// The amplitude, > 0.
        sigma: f64,
    },
    /// Each unit N(0, sigma^2).
    Gaussian {
        /// The standard deviation, > 0.
        sigma: f64,
    },
}

impl Noise {
    /// Checks `sigma` (finite and > 0).
    ///
    /// # Errors
    /// [`NFeatureError::InvalidParameter`] naming `sigma`.
    pub fn validate(self) -> Result<Self, NFeatureError> {
        match self {
            Noise::None => Ok(self),
            Noise::Bernoulli { sigma } | Noise::Gaussian { sigma } => {
                check(
                    Param::Sigma,
                    sigma,
                    sigma.is_finite() && sigma > 0.0,
                    "a finite number > 0",
                )?;
                Ok(self)
            }
        }
    }

    /// The name the CLI uses (`none`, `bernoulli`, `gaussian`).
    pub fn kind(self) -> &'static str {
        match self {
            Noise::None => "none",
            Noise::Bernoulli { .. } => "bernoulli",
            Noise::Gaussian { .. } => "gaussian",
        }
    }

    /// Draws one noise vector into `xi` (in `f64`, rounded to `T`); returns false (and draws
    /// nothing) for [`Noise::None`].
    pub fn draw<T: Float>(self, rng: &mut (impl Rng + ?Sized), xi: &mut [T]) -> bool {
        match self {
            Noise::None => false,
            Noise::Bernoulli { sigma } => {
                for x in xi.iter_mut() {
                    *x = T::of(if rng.random::<bool>() { sigma } else { -sigma });
                }
                true
            }
            Noise::Gaussian { sigma } => {
                for x in xi.iter_mut() {
                    let z: f64 = StandardNormal.sample(rng);
                    *x = T::of(z * sigma);
                }
                true
            }
        }
    }
}

/// The loss at one instant, summed over instances.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossParts {
    /// `sum (relu(P) - I)^2` over instances, rows and outputs.
    pub mse: f64,
    /// `lambda * sum |W|` if `lambda > 0`, else 0.
    pub l1_term: f64,
    /// `mse + l1_term`.
    pub total: f64,
}

impl LossParts {
    pub(crate) fn new(mse: f64, abs_sum: f64, lambda: f64) -> Self {
        let l1_term = if lambda > 0.0 { lambda * abs_sum } else { 0.0 };
        Self {
            mse,
            l1_term,
            total: mse + l1_term,
        }
    }
}

/// Scratch of one instance: `n x n` matrices (column-major) and `n`-vectors, plus the `n x m`
/// product `S W` (row-major, like `W`).
#[derive(Debug, Clone)]
pub(crate) struct Workspace<T> {
    /// `W W^T`, lower triangle (column-major `n x n`); then `S = D + D^T`, full.
    pub(crate) p: Vec<T>,
    /// `D` (column-major `n x n`).
    pub(crate) d: Vec<T>,
    /// `W xi` (length `n`).
    pub(crate) c: Vec<T>,
    /// `D^T 1` (length `n`).
    pub(crate) colsum: Vec<T>,
    /// `S W`, row-major `n x m`.
    pub(crate) sw: Vec<T>,
}

impl<T: Float> Workspace<T> {
    pub(crate) fn new(shape: Shape) -> Self {
        let nn = shape.n * shape.n;
        Self {
            p: vec![T::ZERO; nn],
            d: vec![T::ZERO; nn],
            c: vec![T::ZERO; shape.n],
            colsum: vec![T::ZERO; shape.n],
            sw: vec![T::ZERO; shape.per_instance()],
        }
    }
}

/// `P = W W^T + 1 (W xi)^T`, then `D`, `S = D + D^T` and `D^T 1`; returns `sum (relu(P)-I)^2`
/// (summed in `f64`). With `want_product`, also `S W` into `ws.sw`. Without noise, `S` comes
/// straight from `W W^T` ([`s_from_gram`]).
///
/// `W W^T` is symmetric, so only its lower triangle is computed (faer's triangular-output
/// product, `n(n+1)/2 * m` multiply-adds); `S W` is one dense product (`n^2 m`). Both run with
/// `Par::Seq`, so the reduction order is fixed and results do not depend on the thread count.
pub(crate) fn forward_backward<T: Float>(
    w: &[T],
    n: usize,
    m: usize,
    xi: Option<&[T]>,
    ws: &mut Workspace<T>,
    want_product: bool,
) -> f64 {
    // W (n x m row-major) is A = W^T (m x n column-major) in the same memory.
    let a = MatRef::from_column_major_slice(w, m, n);
    {
        let g = MatMut::from_column_major_slice_mut(&mut ws.p, n, n);
        triangular::matmul(
            g,
            BlockStructure::TriangularLower,
            Accum::Replace,
            a.transpose(),
            BlockStructure::Rectangular,
            a,
            BlockStructure::Rectangular,
            T::ONE,
            Par::Seq,
        );
    }
    if let Some(xi) = xi {
        for (b, c) in ws.c.iter_mut().enumerate() {
            let row = &w[b * m..(b + 1) * m];
            let mut acc = T::ZERO;
            for (wk, xk) in row.iter().zip(xi) {
                acc += *wk * *xk;
            }
            *c = acc;
        }
    }
    let mse = if xi.is_some() {
        let mse = d_from_gram(ws, n, true);
        if want_product {
            build_s(ws, n);
        }
        mse
    } else {
        s_from_gram(&mut ws.p, n)
    };
    if want_product {
        let s = MatRef::from_column_major_slice(&ws.p, n, n);
        let swt = MatMut::from_column_major_slice_mut(&mut ws.sw, m, n);
        matmul(swt, Accum::Replace, a, s, T::ONE, Par::Seq);
    }
    mse
}

/// From the lower triangle of `W W^T` in `ws.p` (and `W xi` in `ws.c` if `noisy`): `D` into
/// `ws.d`, `D^T 1` into `ws.colsum` (if `noisy`); returns `sum (relu(P) - I)^2`, summed in
/// `f64` column by column.
pub(crate) fn d_from_gram<T: Float>(ws: &mut Workspace<T>, n: usize, noisy: bool) -> f64 {
    let mut mse = 0.0f64;
    let two = T::of(2.0);
    for b in 0..n {
        let cb = if noisy { ws.c[b] } else { T::ZERO };
        for a in 0..n {
            // The lower triangle holds (W W^T)[max(a,b), min(a,b)].
            let (r, s) = if a >= b { (a, b) } else { (b, a) };
            let g = ws.p[s * n + r];
            let p = if noisy { g + cb } else { g };
            let pos = p > T::ZERO;
            let relu = if pos { p } else { T::ZERO };
            let e = if a == b { relu - T::ONE } else { relu };
            mse += e.f64() * e.f64();
            ws.d[b * n + a] = if pos { two * e } else { T::ZERO };
        }
    }
    if noisy {
        for b in 0..n {
            let mut acc = T::ZERO;
            for a in 0..n {
                acc += ws.d[b * n + a];
            }
            ws.colsum[b] = acc;
        }
    }
    mse
}

/// Without noise: from the lower triangle of `G = W W^T` in `p` (column-major `n x n`),
/// `S = D + D^T` into `p` (full), and returns `sum (relu(G) - I)^2` in `f64`.
///
/// Without noise `P = G` is symmetric, so `D = 2 (relu(G) - I) [G > 0]` is too and
/// `S = 2 D = 4 (relu(G) - I) [G > 0]`: scalings by powers of two, so these are the bits
/// [`d_from_gram`] then [`build_s`] give. The upper triangle is first mirrored from the lower
/// (in cache-sized blocks), then one contiguous pass per column builds `S` and accumulates the
/// squares in eight `f64` lanes (lane `j` takes entries `8q + j` of each column's off-diagonal
/// runs; lanes added in order at the end), so the pass vectorises and its order is fixed.
pub(crate) fn s_from_gram<T: Float>(p: &mut [T], n: usize) -> f64 {
    const BLOCK: usize = 32;
    // Upper (r < c), at c n + r, from the lower (c, r), at r n + c.
    for c0 in (0..n).step_by(BLOCK) {
        for r0 in (0..=c0).step_by(BLOCK) {
            for c in c0..(c0 + BLOCK).min(n) {
                for r in r0..(r0 + BLOCK).min(c) {
                    p[c * n + r] = p[r * n + c];
                }
            }
        }
    }
    let four = T::of(4.0);
    let mut lanes = [0.0f64; 8];
    let off_diagonal = |run: &mut [T], lanes: &mut [f64; 8]| {
        let mut chunks = run.chunks_exact_mut(8);
        for chunk in &mut chunks {
            for (x, lane) in chunk.iter_mut().zip(lanes.iter_mut()) {
                let e = if *x > T::ZERO { *x } else { T::ZERO };
                *lane += e.f64() * e.f64();
                *x = four * e;
            }
        }
        for (x, lane) in chunks.into_remainder().iter_mut().zip(lanes.iter_mut()) {
            let e = if *x > T::ZERO { *x } else { T::ZERO };
            *lane += e.f64() * e.f64();
            *x = four * e;
        }
    };
    let mut diagonal = 0.0f64;
    for (b, col) in p.chunks_exact_mut(n).enumerate() {
        let (above, rest) = col.split_at_mut(b);
        off_diagonal(above, &mut lanes);
        if let Some((d, below)) = rest.split_first_mut() {
            let pos = *d > T::ZERO;
            let e = (if pos { *d } else { T::ZERO }) - T::ONE;
            diagonal += e.f64() * e.f64();
            *d = if pos { four * e } else { T::ZERO };
            off_diagonal(below, &mut lanes);
        }
    }
    lanes.iter().sum::<f64>() + diagonal
}

/// `S = D + D^T` into `ws.p` (column-major, full; overwrites `W W^T`, no longer needed).
pub(crate) fn build_s<T: Float>(ws: &mut Workspace<T>, n: usize) {
    for b in 0..n {
        for a in 0..n {
            ws.p[b * n + a] = ws.d[b * n + a] + ws.d[a * n + b];
        }
    }
}

/// `sum |w|` in `f64`: eight running sums over `w` in chunks of eight (lane `j` takes the
/// entries `8q + j`), then the eight added in order, so that it vectorises and its order is
/// fixed. NaN or infinite if any entry is.
pub(crate) fn abs_sum<T: Float>(w: &[T]) -> f64 {
    let mut acc = [0.0f64; 8];
    let chunks = w.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for j in 0..8 {
            acc[j] += c[j].abs().f64();
        }
    }
    for (j, x) in rest.iter().enumerate() {
        acc[j] += x.abs().f64();
    }
    acc.iter().sum()
}

/// The loss of `w` with noise `xi` (none if `None`), summed over instances.
pub fn loss<T: Float>(w: &Weights<T>, xi: Option<&[T]>, lambda: f64) -> LossParts {
    let shape = w.shape();
    let mut ws = Workspace::new(shape);
    let mut mse = 0.0;
    let mut abs = 0.0;
    for i in 0..shape.instances {
        mse += forward_backward(w.instance(i), shape.n, shape.m, xi, &mut ws, false);
        abs += abs_sum(w.instance(i));
    }
    LossParts::new(mse, abs, lambda)
}

/// The full gradient `dL/dW` at `w` (same layout as `w`), and the loss.
///
/// `(D + D^T) W + (D^T 1) xi^T + lambda sign(W)`, added in that order as the reference does.
pub fn gradient<T: Float>(
    w: &Weights<T>,
    xi: Option<&[T]>,
    lambda: f64,
) -> (LossParts, Weights<T>) {
    let shape = w.shape();
    let (n, m) = (shape.n, shape.m);
    let mut ws = Workspace::new(shape);
    let mut grad = Vec::with_capacity(shape.len());
    let mut mse = 0.0;
    let mut abs = 0.0;
    let l1 = l1_strength::<T>(lambda);
    for i in 0..shape.instances {
        let wi = w.instance(i);
        mse += forward_backward(wi, n, m, xi, &mut ws, true);
        abs += abs_sum(wi);
        for a in 0..n {
            let row = a * m..(a + 1) * m;
            finish_gradient(
                &mut ws.sw[row.clone()],
                &wi[row.clone()],
                ws.colsum[a],
                xi,
                l1,
            );
            grad.extend_from_slice(&ws.sw[row]);
        }
    }
    (
        LossParts::new(mse, abs, lambda),
        Weights { shape, data: grad },
    )
}

/// Turns one row's `(S W)[a, :]` (in `g`) into that row of the gradient, in place:
/// `g_k = (S W)[a,k] + colsum[a] xi[k] + lambda sign(w_k)`, added in that order as the
/// reference does (the noise term only with noise, the L1 term only for `l1 = Some(lambda)`,
/// `lambda > 0`). One branch-free loop per case, so that each vectorises.
#[inline]
pub(crate) fn finish_gradient<T: Float>(
    g: &mut [T],
    w: &[T],
    colsum: T,
    xi: Option<&[T]>,
    l1: Option<T>,
) {
    match (xi, l1) {
        (None, None) => {}
        (None, Some(lam)) => {
            for (g, &w) in g.iter_mut().zip(w) {
                *g += lam * w.sign();
            }
        }
        (Some(xi), None) => {
            for (g, &x) in g.iter_mut().zip(xi) {
                *g += colsum * x;
            }
        }
        (Some(xi), Some(lam)) => {
            for ((g, &x), &w) in g.iter_mut().zip(xi).zip(w) {
                *g += colsum * x;
                *g += lam * w.sign();
            }
        }
    }
}

/// The L1 term's strength as [`finish_gradient`] takes it: `None` for `lambda = 0` (the term
/// is dropped, as the paper's code does).
pub(crate) fn l1_strength<T: Float>(lambda: f64) -> Option<T> {
    (lambda > 0.0).then(|| T::of(lambda))
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    fn weights(rng: &mut rand_pcg::Pcg64, shape: Shape) -> Weights<f64> {
        Weights::normal(rng, shape)
    }

    /// The hand-written gradient against central differences of the loss, with and without
    /// noise and L1, at draws whose kinks (`P = 0`, `W = 0`) are farther than the step.
    #[test]
    fn gradient_matches_central_differences() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(5);
        let shape = Shape::new(2, 5, 7).expect("shape");
        let cases = [
            (Noise::None, 0.0),
            (Noise::None, 0.05),
            (Noise::Bernoulli { sigma: 0.3 }, 0.0),
            (Noise::Gaussian { sigma: 0.3 }, 0.02),
            (Noise::Bernoulli { sigma: 0.3 }, 0.1),
        ];
        let h = 1e-6;
        for (noise, lambda) in cases {
            let mut checked = false;
            for _ in 0..50 {
                let w = weights(&mut rng, shape);
                let mut xi = vec![0.0; shape.m];
                let noisy = noise.draw(&mut rng, &mut xi);
                let xi = noisy.then_some(xi.as_slice());
                // Kinks must be farther than the difference step can move them.
                let min_w = w
                    .as_slice()
                    .iter()
                    .map(|x| x.abs())
                    .fold(f64::INFINITY, f64::min);
                let min_p = min_abs_preactivation(&w, xi);
                if min_w < 1e-4 || min_p < 1e-4 {
                    continue;
                }
                let (_, g) = gradient(&w, xi, lambda);
                let mut max_err = 0.0f64;
                let mut max_g = 0.0f64;
                for idx in 0..shape.len() {
                    let mut plus = w.clone();
                    plus.data_mut()[idx] += h;
                    let mut minus = w.clone();
                    minus.data_mut()[idx] -= h;
                    let fd = (loss(&plus, xi, lambda).total - loss(&minus, xi, lambda).total)
                        / (2.0 * h);
                    max_err = max_err.max((fd - g.as_slice()[idx]).abs());
                    max_g = max_g.max(fd.abs());
                }
                // Truncation O(h^2) ~ 1e-12 plus rounding ~1e-16/h ~ 1e-10, relative to the
                // largest gradient: 1e-7 leaves a wide margin yet any missing term (O(1e-2)
                // or larger) fails.
                assert!(
                    max_err / max_g.max(1.0) < 1e-7,
                    "{noise:?} lambda {lambda}: max error {max_err:e}"
                );
                checked = true;
                break;
            }
            assert!(checked, "no draw away from kinks for {noise:?}");
        }
    }

    fn min_abs_preactivation(w: &Weights<f64>, xi: Option<&[f64]>) -> f64 {
        let s = w.shape();
        let mut min = f64::INFINITY;
        for i in 0..s.instances {
            for a in 0..s.n {
                for b in 0..s.n {
                    let p: f64 = (0..s.m)
                        .map(|k| (w.get(i, a, k) + xi.map_or(0.0, |x| x[k])) * w.get(i, b, k))
                        .sum();
                    min = min.min(p.abs());
                }
            }
        }
        min
    }

    /// torch's conventions: `sign(0) = 0` (no L1 force at an exact zero) and `relu'(0) = 0`
    /// (a dead feature under noise, whose `P[a,a] = 0` exactly, gets no revival gradient).
    /// The noise-free shortcut gives the bits of the general path: `S` exactly, and the loss
    /// to rounding (its sum runs in another order). The Gram matrix has positive, negative and
    /// zero entries (both signs of zero), a diagonal on both sides of 1, and sizes that are
    /// not multiples of the block or the lane count.
    #[test]
    fn noise_free_s_matches_the_general_path() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(21);
        for n in [1usize, 7, 33, 70] {
            let shape = Shape::new(1, n, 4).expect("shape");
            let mut general = Workspace::<f32>::new(shape);
            for c in 0..n {
                for r in c..n {
                    let x: f32 = match rng.random_range(0..5) {
                        0 => 0.0,
                        1 => -0.0,
                        _ => rng.random_range(-2.0f32..2.0),
                    };
                    general.p[c * n + r] = x;
                }
            }
            let mut fast = general.p.clone();
            let mse_general = d_from_gram(&mut general, n, false);
            build_s(&mut general, n);
            let mse_fast = s_from_gram(&mut fast, n);
            assert_eq!(fast.len(), general.p.len());
            for (i, (a, b)) in fast.iter().zip(&general.p).enumerate() {
                assert_eq!(a.to_bits(), b.to_bits(), "n = {n}, entry {i}: {a} vs {b}");
            }
            // n^2 squares of size <= 9 summed in f64 in two orders: 1e-12 relative is ~1e4
            // ulps of slack, far below any single wrong term (>= 1e-9 relative here).
            assert!(
                (mse_fast - mse_general).abs() <= 1e-12 * mse_general.max(1.0),
                "n = {n}: {mse_fast} vs {mse_general}"
            );
        }
    }

    #[test]
    fn subgradient_conventions_are_torchs() {
        let shape = Shape::new(1, 2, 3).expect("shape");
        let w = Weights::from_vec(shape, vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0]).expect("w");
        // Orthonormal rows: P = I, so only lambda sign(W) remains, 0 at the zeros.
        let (_, g) = gradient(&w, None, 0.5);
        assert_eq!(g.as_slice(), &[0.5, 0.0, 0.0, 0.0, 0.5, 0.0]);
        let w = Weights::from_vec(shape, vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0]).expect("w");
        let xi = [0.1, 0.2, 0.3];
        let (_, g) = gradient(&w, Some(&xi), 0.0);
        // W0 = e0, W1 = 0: P00 = 1.1, P10 = <xi, W0> = 0.1, P01 = P11 = 0, so D00 = 0.2,
        // D10 = 0.2 and D01 = D11 = 0 (relu'(0) = 0). Row 0: (D00 + D00) W0 + (D00 + D10) xi
        // = (0.44, 0.08, 0.12); row 1: (D10 + D01) W0 = (0.2, 0, 0), no xi term (the
        // reference's selftest has the same numbers).
        let expect = [0.44, 0.08, 0.12, 0.2, 0.0, 0.0];
        for (x, y) in g.as_slice().iter().zip(expect) {
            // A handful of roundings of numbers of order 1.
            assert!((x - y).abs() < 1e-15, "{:?}", g.as_slice());
        }
    }

    #[test]
    fn l1_term_only_when_lambda_positive() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(9);
        let w = weights(&mut rng, Shape::new(3, 4, 6).expect("shape"));
        let abs: f64 = w.as_slice().iter().map(|x| x.abs()).sum();
        let with = loss(&w, None, 0.01);
        let without = loss(&w, None, 0.0);
        assert_eq!(without.l1_term, 0.0);
        assert_eq!(with.mse, without.mse);
        // Two orders of summation of 72 numbers of order 0.3: ~1e-14 apart.
        assert!((with.l1_term - 0.01 * abs).abs() < 1e-14);
        assert_eq!(with.total, with.mse + with.l1_term);
    }

    #[test]
    fn bad_input_is_refused_with_its_name_and_range() {
        let shape = Shape::new(1, 2, 2).expect("shape");
        let err = Weights::from_vec(shape, vec![0.0f64; 3]).expect_err("short");
        assert!(err.to_string().contains("4"), "{err}");
        let err = Weights::from_vec(shape, vec![0.0, f64::NAN, 0.0, 0.0]).expect_err("nan");
        assert!(err.to_string().contains("index 1"), "{err}");
        let err = Shape::new(1, 0, 2).expect_err("n = 0");
        assert_eq!(
            err.to_string(),
            "n = 0 is invalid: it must be an integer >= 1"
        );
        let err = Noise::Gaussian { sigma: -1.0 }
            .validate()
            .expect_err("sigma");
        assert!(err.to_string().starts_with("sigma = -1"), "{err}");
    }
}

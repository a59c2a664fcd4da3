//! The exact distribution of a count of shared neurons, by a dynamic programme over the
//! multiply occupied neurons (docs/theory.md §8).
//!
//! An assignment of `n` labelled features to `m` neurons is a set partition of the features
//! into `b` blocks (the non-empty neurons) with an injective labelling of the blocks, so a
//! partition has probability `m^(b falling)/m^n`. Every count modelled here is a sum over the
//! neurons holding `k >= 2` features of an independent contribution whose law `w_k` depends
//! only on `k` (singletons contribute 0):
//! - collisions: `C(k, 2)`;
//! - opposite-sign collisions: `p (k - p)` with `p ~ Binomial(k, 1/2)`;
//! - occupancy: `1` with probability `1 - 2^(1-k)` (both signs present), else `0`.
//!
//! Let `s` features lie in `j` blocks of size `>= 2` and write `e = s - j` (the excess; then
//! `b = n - e`). With `T_j(s, .)` the sum over partitions of `s` labelled features into `j`
//! blocks of size `>= 2` of the convolution of the blocks' `w_k`,
//!
//! ```text
//! P(X = x) = sum_{j, s} C(n, s) T_j(s, x) m^((n - e) falling) / m^n,
//! T_j(s, .) = sum_{k >= 2} C(s - 1, k - 1) w_k * T_{j-1}(s - k, .)     (the block of one
//!                                                                      distinguished feature)
//! ```
//!
//! The programme stores `U_j(s) = C(n, s) T_j(s) / m^e` with one logarithmic scale per state
//! (no overflow or underflow at any size), and multiplies at the end by
//! `R(e) = m^((n - e) falling) / m^(n - e) = prod_{i < n - e} (1 - i/m)`.
//! States are `(j, e)` with `1 <= j <= e`; `e` is cut at `e_max` and `x` at `x_max` (chosen
//! from the exact moments, 12 standard deviations above the mean, widened until the dropped
//! mass is below `1e-12`). Cutting `x` drops only mass above `x_max`; cutting `e` drops mass
//! at any `x` for the two counts not bounded below by `e` (collisions are:
//! `C(k, 2) >= k - 1`). The mass dropped is reported as [`CountDistribution::missing_mass`],
//! computed as `1 - sum(pmf)` after the fact. Work is about `e_max^3/6 * x_max` times the support of `w_k`.
//!
//! # References
//! docs/theory.md §8.

use super::{CountKind, CountModel};
use crate::error::{TheoryError, positive};
use crate::sum::Neumaier;

/// The largest truncated tail mass accepted for a distribution called exact.
const MAX_MISSING_MASS: f64 = 1e-12;

/// The exact distribution of a count, truncated where its tail mass is below `1e-12`.
#[derive(Debug, Clone, PartialEq)]
pub struct CountDistribution {
    model: CountModel,
    pmf: Vec<f64>,
    missing_mass: f64,
}

impl CountDistribution {
    /// The model this is the distribution of.
    pub fn model(&self) -> CountModel {
        self.model
    }

    /// `pmf()[x] = P(X = x)` for `x = 0 ..= x_max`; accurate to about `1e-12` relative.
    pub fn pmf(&self) -> &[f64] {
        &self.pmf
    }

    /// The probability the truncation dropped, `max(0, 1 - sum(pmf))`: at most `1e-12`
    /// (`1e-9` when nothing is truncated and this is rounding only).
    pub fn missing_mass(&self) -> f64 {
        self.missing_mass
    }

    /// `P(X <= x)` (left to right sum of the pmf).
    pub fn cdf(&self, x: u64) -> f64 {
        let upto = usize::try_from(x).map_or(self.pmf.len(), |x| (x + 1).min(self.pmf.len()));
        self.pmf[..upto].iter().sum()
    }

    /// The mean of the computed pmf, `sum_x x pmf[x]`.
    pub fn mean(&self) -> f64 {
        let mut s = Neumaier::new();
        for (x, &p) in self.pmf.iter().enumerate() {
            s.add(x as f64 * p);
        }
        s.value()
    }

    /// The `r`-th central moment of the computed pmf (`r = 2` is the variance).
    pub fn central_moment(&self, r: i32) -> f64 {
        let mu = self.mean();
        let mut s = Neumaier::new();
        for (x, &p) in self.pmf.iter().enumerate() {
            s.add((x as f64 - mu).powi(r) * p);
        }
        s.value()
    }

    /// The `p`-quantile: the smallest `x` with `P(X <= x) >= p`.
    ///
    /// # Errors
    /// [`TheoryError::InvalidParameter`] unless `0 < p < 1`; [`TheoryError::NoConvergence`]
    /// if `p` lies in the truncated tail (above `1 - missing_mass`, to rounding).
    pub fn quantile(&self, p: f64) -> Result<u64, TheoryError> {
        if !(p > 0.0 && p < 1.0) {
            return Err(TheoryError::InvalidParameter {
                name: "p",
                value: p,
                valid: "a probability in (0, 1)".to_string(),
            });
        }
        let mut cdf = 0.0;
        for (x, &mass) in self.pmf.iter().enumerate() {
            cdf += mass;
            if cdf >= p {
                return Ok(x as u64);
            }
        }
        Err(TheoryError::NoConvergence {
            routine: "count quantile",
            detail: format!(
                "p = {p} lies beyond the computed pmf (total {cdf}, x <= {})",
                self.pmf.len() - 1
            ),
        })
    }
}

impl CountModel {
    /// The exact distribution of the count (the module documentation of `exact.rs` gives the
    /// programme), truncated 12 standard deviations above the mean, then 24, 48, ... until
    /// the dropped mass is at most `1e-12` (the tails are heavier than normal), and reported.
    ///
    /// `max_work` bounds the programme's inner-loop count; the estimate is made before any
    /// allocation, and `1e8` takes about a second in an optimised build. The work does not
    /// grow with `m`, only with how far the count spreads: `n = 1024, m = 1e5` and
    /// `n = 256, m = 4096` take milliseconds, `n = 256, m = 1024` a fraction of a second,
    /// while `n = m = 256` needs about `1e8` and `n = m = 1024` `1e10` or more. Where it is that wide the standardised
    /// count is close to normal, and [`CountModel::mean`] and [`CountModel::std_dev`] are
    /// exact at any size.
    ///
    /// # Errors
    /// [`TheoryError::InvalidCount`] (name `max_work`) if the estimated work of a cut
    /// exceeds `max_work`; [`TheoryError::NoConvergence`] if the untruncated pmf sums to less
    /// than `1 - 1e-9` (rounding that large would be a defect).
    ///
    /// # References
    /// docs/theory.md §8.
    pub fn distribution(&self, max_work: u64) -> Result<CountDistribution, TheoryError> {
        let mut sds = 12.0;
        loop {
            let plan = Plan::new(self, sds);
            let work = plan.work(self.kind);
            if work > max_work as f64 {
                return Err(TheoryError::InvalidCount {
                    name: "max_work",
                    value: usize::try_from(max_work).unwrap_or(usize::MAX),
                    valid: format!(
                        "at least {work:.3e}, the estimated work of the exact distribution of \
                         n = {}, m = {} (e_max = {}, x_max = {}); use the exact mean and \
                         variance instead",
                        self.n, self.m, plan.e_max, plan.x_max
                    ),
                });
            }
            let pmf = plan.run(self)?;
            let total: f64 = pmf.iter().sum();
            let missing_mass = (1.0 - total).max(0.0);
            let at_caps = plan.e_max == plan.e_cap && plan.x_max == plan.x_cap;
            if missing_mass <= MAX_MISSING_MASS
                || (at_caps && missing_mass <= 1e3 * MAX_MISSING_MASS)
            {
                return Ok(CountDistribution {
                    model: *self,
                    pmf,
                    missing_mass,
                });
            }
            if at_caps {
                return Err(TheoryError::NoConvergence {
                    routine: "exact count distribution",
                    detail: format!(
                        "n = {}, m = {}: the untruncated pmf sums to {total}, 1 - {missing_mass:.3e}",
                        self.n, self.m
                    ),
                });
            }
            // The tails are heavier than normal (one neuron with k features adds C(k, 2)):
            // widen the cut until the dropped mass is negligible.
            sds *= 2.0;
        }
    }
}

/// The truncation of the programme.
struct Plan {
    n: usize,
    m: usize,
    e_max: usize,
    x_max: usize,
    /// The largest possible excess, `n - 1`.
    e_cap: usize,
    /// The largest possible count.
    x_cap: usize,
}

/// A vector stored as `exp(log_scale) * v`, `max(v) = 1`, or empty (all zero).
#[derive(Clone)]
struct Scaled {
    log_scale: f64,
    v: Vec<f64>,
}

impl Plan {
    /// The cut `sds` standard deviations (plus `sds`) above the mean, within the caps.
    fn new(model: &CountModel, sds: f64) -> Self {
        let (n, m) = (model.n, model.m);
        let tail = |mean: f64, sd: f64| (mean + sds * sd + sds).ceil();
        // Both caps are at most n^2/2 <= 2^63 here: exact as f64, and `as` saturates anyway.
        let x_cap = model.max_count() as usize;
        let e_cap = n - 1;
        let x_max = (tail(model.mean(), model.std_dev()) as usize).min(x_cap);
        // The excess e = n - (occupied neurons) is at most the number of collisions, so the
        // same cut of the collision count bounds it; so does the cut of e's own law, which is
        // much narrower when m <= n.
        let c = CountModel {
            kind: CountKind::Collisions,
            ..*model
        };
        let (e_mean, e_sd) = excess_moments(n, m);
        let mut e_max = (tail(c.mean(), c.std_dev()) as usize)
            .min(tail(e_mean, e_sd) as usize)
            .min(e_cap);
        if model.kind == CountKind::Collisions {
            // Collisions >= excess: states with e > x_max cannot reach x <= x_max.
            e_max = e_max.min(x_max);
        }
        Self {
            n,
            m,
            e_max,
            x_max,
            e_cap: if model.kind == CountKind::Collisions {
                e_cap.min(x_max)
            } else {
                e_cap
            },
            x_cap,
        }
    }

    /// The inner-loop count: for each state `(j, e)` and block size `k`, `x_max + 1` times the
    /// number of values of `w_k` at most `x_max`, plus the `n` terms of `ln R`.
    fn work(&self, kind: CountKind) -> f64 {
        let x_max = self.x_max;
        // prefix[k] = sum over k' = 2..=k of the support of w_k' below the cut.
        let mut prefix = vec![0.0; self.e_max + 3];
        for k in 2..prefix.len() {
            let supp = match kind {
                CountKind::Collisions => usize::from(k * (k - 1) / 2 <= x_max),
                CountKind::Polysemantic => 2,
                CountKind::OppositeSignCollisions => {
                    (0..=k / 2).take_while(|&p| p * (k - p) <= x_max).count()
                }
            };
            prefix[k] = prefix[k - 1] + supp as f64;
        }
        let mut total = self.n as f64;
        for e in 1..=self.e_max {
            for j in 1..=e.min(self.n - e) {
                total += prefix[e - j + 2] * (x_max + 1) as f64;
            }
        }
        total
    }

    fn run(&self, model: &CountModel) -> Result<Vec<f64>, TheoryError> {
        let (n, e_max, len) = (self.n, self.e_max, self.x_max + 1);
        let ln_m = positive("m", self.m as f64)?.ln();
        let s_max = (2 * e_max).min(n);
        // ln s! and ln n!/(n - s)! for s <= s_max, by compensated sums.
        let mut ln_fact = vec![0.0; s_max + 1];
        let mut ln_fall = vec![0.0; s_max + 1];
        let (mut a, mut b) = (Neumaier::new(), Neumaier::new());
        for s in 1..=s_max {
            a.add((s as f64).ln());
            b.add(((n - s + 1) as f64).ln());
            ln_fact[s] = a.value();
            ln_fall[s] = b.value();
        }
        let ln_choose_n = |s: usize| ln_fall[s] - ln_fact[s];
        let ln_choose = |a: usize, b: usize| ln_fact[a] - ln_fact[b] - ln_fact[a - b];
        // Entries beyond x_max would only add to dropped states.
        let blocks: Vec<Vec<(usize, f64)>> = (0..=e_max + 1)
            .map(|k| {
                let mut law = block_law(model.kind, k, &ln_fact);
                law.retain(|&(shift, _)| shift < len);
                law
            })
            .collect();

        // states[e][j], 0 <= j <= e; j = 0 only at e = 0 (no block).
        let mut states: Vec<Vec<Option<Scaled>>> = Vec::with_capacity(e_max + 1);
        let mut base = vec![0.0; len];
        base[0] = 1.0;
        states.push(vec![Some(Scaled {
            log_scale: 0.0,
            v: base,
        })]);
        let mut acc = vec![0.0; len];
        for e in 1..=e_max {
            let mut row: Vec<Option<Scaled>> = vec![None; e + 1];
            for (j, slot) in row.iter_mut().enumerate().take(e.min(n - e) + 1).skip(1) {
                let s = j + e;
                // Sources (j - 1, e - (k - 1)) for k = 2 ..= e - j + 2.
                let source = |k: usize| -> Option<(&Scaled, f64)> {
                    let e_src = e - (k - 1);
                    let src = states[e_src].get(j - 1)?.as_ref()?;
                    let lf = ln_choose_n(s) - ln_choose_n(s - k) + ln_choose(s - 1, k - 1)
                        - (k - 1) as f64 * ln_m;
                    Some((src, src.log_scale + lf))
                };
                // The common scale: the largest source that contributes at all.
                let top = (2..=e - j + 2)
                    .filter(|&k| !blocks[k].is_empty())
                    .filter_map(|k| source(k).map(|(_, l)| l))
                    .fold(f64::NEG_INFINITY, f64::max);
                if top == f64::NEG_INFINITY {
                    continue;
                }
                acc.iter_mut().for_each(|a| *a = 0.0);
                for (k, law) in blocks.iter().enumerate().take(e - j + 3).skip(2) {
                    let Some((src, l)) = source(k) else { continue };
                    let scale = (l - top).exp();
                    for &(shift, prob) in law {
                        let f = scale * prob;
                        if f == 0.0 {
                            continue;
                        }
                        for (a, &v) in acc[shift..].iter_mut().zip(&src.v) {
                            *a += f * v;
                        }
                    }
                }
                let peak = acc.iter().copied().fold(0.0, f64::max);
                if peak > 0.0 {
                    *slot = Some(Scaled {
                        log_scale: top + peak.ln(),
                        v: acc.iter().map(|a| a / peak).collect(),
                    });
                }
            }
            states.push(row);
        }

        // pmf = sum over states of U R(e); ln R(e) = sum_{i < n - e} ln(1 - i/m), -inf when
        // n - e > m (more blocks than neurons).
        let mut pmf = vec![0.0; len];
        let mut ln_r = Neumaier::new();
        let first = n - e_max;
        for i in 0..first {
            ln_r.add((-(i as f64) / self.m as f64).ln_1p());
        }
        for e in (0..=e_max).rev() {
            // Now ln_r = ln R(e) = sum over i < n - e.
            if n - e <= self.m {
                for st in states[e].iter().flatten() {
                    let f = (st.log_scale + ln_r.value()).exp();
                    for (p, &v) in pmf.iter_mut().zip(&st.v) {
                        *p += f * v;
                    }
                }
            }
            ln_r.add((-((n - e) as f64) / self.m as f64).ln_1p());
        }
        Ok(pmf)
    }
}

/// Mean and standard deviation of the excess `e = n - (occupied neurons) = n - m + Z`, `Z`
/// the number of empty neurons: `E Z = m q1`, `Var Z = m q1 (1 - q1) + m (m - 1)(q2 - q1^2)`
/// with `q_r = (1 - r/m)^n`. Only the truncation is chosen from these (and widened if it
/// drops too much), so the cancellation in `q2 - q1^2` at large `m` (about `m^2 eps`) is
/// harmless.
fn excess_moments(n: usize, m: usize) -> (f64, f64) {
    let (nf, mf) = (n as f64, m as f64);
    let q = |r: f64| {
        if r >= mf {
            0.0
        } else {
            (nf * (-r / mf).ln_1p()).exp()
        }
    };
    let (q1, q2) = (q(1.0), q(2.0));
    let mean = nf - mf + mf * q1;
    let var = mf * q1 * (1.0 - q1) + mf * (mf - 1.0) * (q2 - q1 * q1);
    (mean, var.max(0.0).sqrt())
}

/// The law `w_k` of one neuron's contribution given `k` features on it, as (value,
/// probability) pairs; empty for `k < 2` (singletons contribute nothing and are not blocks).
fn block_law(kind: CountKind, k: usize, ln_fact: &[f64]) -> Vec<(usize, f64)> {
    if k < 2 {
        return Vec::new();
    }
    match kind {
        CountKind::Collisions => vec![(k * (k - 1) / 2, 1.0)],
        CountKind::Polysemantic => {
            let same = (-((k - 1) as f64) * std::f64::consts::LN_2).exp();
            vec![
                (0, same),
                (1, -(-((k - 1) as f64) * std::f64::consts::LN_2).exp_m1()),
            ]
        }
        CountKind::OppositeSignCollisions => (0..=k / 2)
            .map(|p| {
                // p and k - p positives give the same count: double unless p = k/2.
                let ln_prob =
                    ln_fact[k] - ln_fact[p] - ln_fact[k - p] - k as f64 * std::f64::consts::LN_2;
                let twice = if 2 * p == k { 1.0 } else { 2.0 };
                (p * (k - p), twice * ln_prob.exp())
            })
            .collect(),
    }
}

//! The flow in continuous time: Dormand-Prince 5(4) with step-size control and located deaths.
//!
//! Two systems, one driver (reached through [`crate::solve`] with [`crate::Method::Adaptive`]):
//!
//! - **reduced** (affine variants): with `s = p - theta` (`p = w0[n-1]` the
//!   smallest survivor's initial value, so `w_j = alpha*(w0_j - p + s)`),
//!   `alpha' = a*alpha`, `s' = -lambda/alpha`, `a = 1 - alpha^2*F(theta) - mu` with
//!   `F = E2 + s*(2*E1 + n*s)` from the prefix moments (docs/theory.md §2-3). Coordinate `n-1` dies when
//!   `s` reaches 0; `s` is the integrated variable (not `theta`) so that the distance to the next
//!   death has full relative precision. O(1) per evaluation.
//! - **full vector** (any variant): `u_j' = state_drift(u_j)` for every survivor,
//!   in the variant's smooth state variable `u = weight_to_state(w)`; O(m') per evaluation.
//!
//! After every accepted step the driver looks for deaths (a state `<= 0` at the step's end; the
//! dying coordinate's drift is negative near 0 for every variant here, so a crossing cannot
//! hide inside a step), finds the earliest crossing on the dense output by bracketed
//! regula falsi (to a few ulps of t), moves to it, drops the coordinate (and any other that
//! crosses at the same time), and restarts the integrator there: the right-hand side changes
//! at a death, so no step straddles one. Output times are served from the dense output of the
//! step that contains them. With `lambda = 0` nothing dies and an end time is required. A run
//! whose survivors are tied and no longer move stops as stalled (see [`crate::drive`]).
//!
//! After the O(1) transient the system is mildly stiff (fast rate about 2, slow time scale
//! `1/lambda`): DP5(4)'s steps are then limited by stability to about 1.5 time units, not by
//! accuracy, so a run to `t ~ 1/lambda` takes ~`1/(1.5*lambda)` steps.
//!
//! # References
//! docs/theory.md §2 (reduced system), §3 (slow manifold, stiffness), §4.

use crate::dp5::{Dp5, System, bracketed_root};
use crate::drive::{Death, Limits, Progress, Solution, StopReason};
use crate::dynamics::{Dynamics, Globals};
use crate::error::{CoreError, Param, positive_finite};
use crate::init::InitialWeights;
use crate::prefix::{Moments, PrefixMoments};
use crate::record::{Observer, StepStats};
use crate::reduced::{drop_dead, positive};

/// Tolerances of the adaptive solver, validated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdaptiveConfig {
    rtol: f64,
    atol: f64,
}

impl AdaptiveConfig {
    /// Relative tolerance `rtol` in `[1e-14, 1)`, absolute tolerance `atol > 0` (in units of
    /// the integrated variables: weights and `alpha`).
    ///
    /// # Errors
    /// [`CoreError::InvalidParameter`] naming `rtol` or `atol`.
    pub fn new(rtol: f64, atol: f64) -> Result<Self, CoreError> {
        if !(1e-14..1.0).contains(&rtol) {
            return Err(CoreError::InvalidParameter {
                param: Param::Rtol,
                value: rtol,
                valid: "a number in [1e-14, 1)".to_owned(),
            });
        }
        let atol = positive_finite(Param::Atol, atol)?;
        Ok(Self { rtol, atol })
    }

    /// The relative tolerance.
    pub fn rtol(&self) -> f64 {
        self.rtol
    }

    /// The absolute tolerance.
    pub fn atol(&self) -> f64 {
        self.atol
    }
}

/// A system the driver integrates: its right-hand side, what its variables mean, and how a
/// death changes it.
pub(crate) trait Flow: System {
    /// The survivors, with integrated variables `y`.
    fn m_prime(&self, y: &[f64]) -> usize;
    /// The components whose crossing of 0 is a death.
    fn event_components(&self, y: &[f64]) -> std::ops::Range<usize>;
    /// The state of the run (components clamped at 0: the dense output may undershoot).
    fn stats(&mut self, step: u64, t: f64, y: &[f64]) -> StepStats;
    /// Drops the coordinates that die at `t_star` (the earliest of `crossings`, found in the
    /// last accepted step of `dp`); returns the variables to restart from.
    fn drop_at(&mut self, dp: &Dp5, t_star: f64, crossings: &[(usize, f64)]) -> Vec<f64>;
    /// Whether every survivor has the same value.
    fn all_tied(&self, y: &[f64]) -> bool;
    /// `dw/dt` of the largest survivor, whose state is `at`.
    fn top_rate(&self, at: &StepStats) -> f64;
    /// The survivors' weights, descending.
    fn weights(&mut self, y: &[f64]) -> &[f64];
}

/// The reduced flow of an affine variant from `table`, ready for [`integrate`]: the flow, its
/// initial variables and the deaths at `t = 0` (weights that start at 0).
///
/// # Errors
/// [`CoreError::NotAffine`]; [`CoreError::TooFewWeights`].
pub(crate) fn reduced_flow<'a>(
    dynamics: &dyn Dynamics,
    table: &'a mut PrefixMoments,
) -> Result<(ReducedFlow<'a>, Vec<f64>, Vec<Death>), CoreError> {
    let mu = dynamics
        .affine_shift()
        .ok_or_else(|| CoreError::NotAffine {
            dynamics: dynamics.name(),
        })?;
    let m = table.len();
    if m < 2 {
        return Err(CoreError::TooFewWeights { m });
    }
    let (top, second) = (table.w0()[0], table.w0()[1]);
    let mut n = m;
    let mut mo = table.at(n);
    // Weights that start at exactly 0 are dead at t = 0.
    let pivot = mo.pivot;
    let s = drop_dead(table, &mut n, &mut mo, pivot, 1.0);
    let deaths = if n < m {
        vec![Death {
            step: None,
            t: 0.0,
            m_prime: n,
        }]
    } else {
        Vec::new()
    };
    let flow = ReducedFlow {
        table,
        mo,
        n,
        lambda: dynamics.lambda(),
        mu,
        top,
        second,
        buf: Vec::new(),
    };
    crate::init::check_sq_norm(flow.mo.f_at(s))?;
    Ok((flow, vec![1.0, s], deaths))
}

/// The whole-vector flow of any variant from `w0`, ready for [`integrate`].
///
/// # Errors
/// [`CoreError::NonFinite`] if `||w0||^2` overflows.
pub(crate) fn full_flow(
    dynamics: &dyn Dynamics,
    w0: InitialWeights,
) -> Result<(FullFlow<'_>, Vec<f64>, Vec<Death>), CoreError> {
    let m = w0.len();
    crate::init::check_sq_norm(compensated_sums(w0.as_slice()).1)?;
    let mut u: Vec<f64> = w0
        .as_slice()
        .iter()
        .map(|&w| dynamics.weight_to_state(w))
        .collect();
    u.retain(|&x| x > 0.0);
    let deaths = if u.len() < m {
        vec![Death {
            step: None,
            t: 0.0,
            m_prime: u.len(),
        }]
    } else {
        Vec::new()
    };
    let flow = FullFlow {
        dynamics,
        w: Vec::with_capacity(u.len()),
    };
    Ok((flow, u, deaths))
}

/// The one event loop of the adaptive solver: steps, locates deaths on the dense output,
/// restarts after each, serves output times, tells the observer after every accepted step, and
/// stops for the same reasons as every solver.
///
/// # Errors
/// [`CoreError::StepSizeTooSmall`], [`CoreError::TooManySteps`].
pub(crate) fn integrate(
    flow: &mut impl Flow,
    y0: Vec<f64>,
    mut deaths: Vec<Death>,
    cfg: &AdaptiveConfig,
    limits: &Limits,
    observer: &mut impl Observer,
    monitor: &mut dyn FnMut(&Progress) -> bool,
) -> Result<Solution, CoreError> {
    let max_steps = limits.max_steps.unwrap_or(u64::MAX);
    let mut dp = Dp5::new(flow, 0.0, y0, cfg.rtol, cfg.atol, max_steps);
    let initial_state = flow.stats(0, 0.0, &dp.y);
    if observer.wants_weights(&initial_state, &initial_state) {
        observer.start(&initial_state, flow.weights(&dp.y));
    } else {
        observer.start(&initial_state, &[]);
    }
    let times = &limits.output_times;
    let mut outputs = Vec::new();
    let mut next = 0;
    while next < times.len() && times[next] <= 0.0 {
        outputs.push(initial_state);
        next += 1;
    }
    let mut buf = Vec::new();
    let mut before = initial_state;
    let stop = loop {
        let m_prime = flow.m_prime(&dp.y);
        match m_prime {
            0 => break StopReason::AllDropped,
            1 => break StopReason::OneLeft,
            _ => {}
        }
        if limits.t_end.is_some_and(|te| dp.t >= te) {
            break StopReason::EndTime;
        }
        let at = Progress {
            steps: dp.counts.steps,
            t: dp.t,
            m_prime,
        };
        if monitor(&at) {
            break StopReason::Interrupted;
        }
        dp.step(flow, limits.t_end)?;
        // Every event variable decreases through 0 (the drift of a dying coordinate is negative
        // near 0): a death is a sign change at the step's end. The earliest crossing wins.
        let crossings: Vec<(usize, f64)> = flow
            .event_components(&dp.y)
            .filter(|&j| !positive(dp.y[j]))
            .map(|j| (j, bracketed_root(|t| dp.dense(j, t), dp.t_old, dp.t)))
            .collect();
        let event = crossings.iter().map(|&(_, t)| t).reduce(f64::min);
        let t_hi = event.unwrap_or(dp.t);
        while next < times.len() && times[next] <= t_hi {
            let t = times[next];
            buf.clear();
            buf.extend((0..dp.y.len()).map(|j| dp.dense(j, t)));
            outputs.push(flow.stats(dp.counts.steps, t, &buf));
            next += 1;
        }
        if let Some(t_star) = event {
            let y = flow.drop_at(&dp, t_star, &crossings);
            dp.counts.events += 1;
            deaths.push(Death {
                step: None,
                t: t_star,
                m_prime: flow.m_prime(&y),
            });
            dp.restart(t_star, y);
        }
        let after = flow.stats(dp.counts.steps, dp.t, &dp.y);
        if observer.wants_weights(&before, &after) {
            observer.step(&before, &after, flow.weights(&dp.y));
        } else {
            observer.step(&before, &after, &[]);
        }
        let was = before;
        before = after;
        // A flow approaches its fixed point without reaching it, and the integrated state
        // jitters around it at the tolerance: a tied state has stalled once its common value
        // moves slower than 100*(rtol*w + atol) per unit time (the rate, not the step's change,
        // which a short step can round to 0).
        if event.is_none()
            && after.m_prime >= 2
            && after.m_prime == was.m_prime
            && after.w_max == after.w_min
            && flow.top_rate(&after).abs() <= 100.0 * (cfg.rtol * after.w_max + cfg.atol)
            && flow.all_tied(&dp.y)
        {
            break StopReason::Stalled {
                m_prime: after.m_prime,
            };
        }
    };
    Ok(Solution {
        initial_state,
        final_state: before,
        stop,
        counts: dp.counts,
        deaths,
        outputs,
    })
}

/// The reduced system `y = (alpha, s)`: `w_j = alpha*(w0_j - p + s)` for the survivors.
pub(crate) struct ReducedFlow<'a> {
    table: &'a mut PrefixMoments,
    mo: Moments,
    n: usize,
    lambda: f64,
    mu: f64,
    top: f64,
    second: f64,
    buf: Vec<f64>,
}

impl System for ReducedFlow<'_> {
    #[inline]
    fn rhs(&mut self, y: &[f64], dy: &mut [f64]) {
        let (alpha, s) = (y[0], y[1]);
        let sq = alpha * alpha * self.mo.f_at(s);
        dy[0] = ((1.0 - sq) - self.mu) * alpha;
        dy[1] = -self.lambda / alpha;
    }
}

impl Flow for ReducedFlow<'_> {
    fn m_prime(&self, _: &[f64]) -> usize {
        self.n
    }

    fn event_components(&self, _: &[f64]) -> std::ops::Range<usize> {
        // s is decreasing (s' = -lambda/alpha < 0); alpha never crosses 0.
        1..2
    }

    fn stats(&mut self, step: u64, t: f64, y: &[f64]) -> StepStats {
        let (alpha, s) = (y[0], y[1].max(0.0));
        let (mo, n) = (&self.mo, self.n);
        let nf = n as f64;
        let one = alpha * mo.g_at(s);
        let sq = alpha * alpha * mo.f_at(s);
        let tsd = alpha * alpha * mo.c;
        let mean = one / nf;
        let top_gap = (self.top - mo.pivot) + s;
        StepStats {
            step,
            t,
            m_prime: n,
            one_norm: one,
            sq_norm: sq,
            w_max: alpha * top_gap,
            w_min: alpha * s,
            relative_variance: (tsd / nf) / (mean * mean),
            gamma: (self.top - self.second) / top_gap,
            feature_benefit: 1.0 - sq,
            total_squared_deviation: tsd,
        }
    }

    fn drop_at(&mut self, dp: &Dp5, t_star: f64, _: &[(usize, f64)]) -> Vec<f64> {
        let alpha = dp.dense(0, t_star);
        // theta = p exactly at the crossing: the next survivor is s = w0[n-2] - p away.
        let s = drop_dead(self.table, &mut self.n, &mut self.mo, 0.0, 1.0);
        vec![alpha, s]
    }

    fn all_tied(&self, _: &[f64]) -> bool {
        self.n >= 1 && self.table.w0()[0] == self.mo.pivot
    }

    fn top_rate(&self, at: &StepStats) -> f64 {
        ((1.0 - at.sq_norm) - self.mu) * at.w_max - self.lambda
    }

    fn weights(&mut self, y: &[f64]) -> &[f64] {
        let (alpha, s, p) = (y[0], y[1].max(0.0), self.mo.pivot);
        self.buf.clear();
        self.buf.extend(
            self.table.w0()[..self.n]
                .iter()
                .map(|&x| alpha * ((x - p) + s)),
        );
        &self.buf
    }
}

/// The whole-vector system in the variant's state variables.
pub(crate) struct FullFlow<'a> {
    dynamics: &'a dyn Dynamics,
    w: Vec<f64>,
}

impl System for FullFlow<'_> {
    fn rhs(&mut self, u: &[f64], du: &mut [f64]) {
        let d = self.dynamics;
        self.w.clear();
        self.w.extend(u.iter().map(|&x| d.state_to_weight(x)));
        let (one, sq) = compensated_sums(&self.w);
        let g = Globals {
            sq_norm: sq,
            one_norm: one,
            m_prime: u.len(),
        };
        for (x, dx) in u.iter().zip(du.iter_mut()) {
            *dx = d.state_drift(*x, &g);
        }
    }
}

impl Flow for FullFlow<'_> {
    fn m_prime(&self, y: &[f64]) -> usize {
        y.len()
    }

    fn event_components(&self, y: &[f64]) -> std::ops::Range<usize> {
        0..y.len()
    }

    fn stats(&mut self, step: u64, t: f64, u: &[f64]) -> StepStats {
        let d = self.dynamics;
        self.w.clear();
        self.w
            .extend(u.iter().map(|&x| d.state_to_weight(x.max(0.0))));
        full_stats(&self.w, step, t)
    }

    fn drop_at(&mut self, dp: &Dp5, t_star: f64, crossings: &[(usize, f64)]) -> Vec<f64> {
        // Coordinates whose crossing is within a few ulps of the earliest die with it (exact
        // ties in w0 give identical trajectories and identical roots).
        let tol = 8.0 * f64::EPSILON * t_star.abs().max(dp.h_old);
        let mut dying = vec![false; dp.y.len()];
        for &(j, t) in crossings {
            dying[j] = t <= t_star + tol;
        }
        (0..dp.y.len())
            .filter(|&j| !dying[j])
            .map(|j| dp.dense(j, t_star))
            .filter(|&x| x > 0.0)
            .collect()
    }

    fn all_tied(&self, y: &[f64]) -> bool {
        y.iter().all(|&x| x == y[0])
    }

    fn top_rate(&self, at: &StepStats) -> f64 {
        let g = Globals {
            sq_norm: at.sq_norm,
            one_norm: at.one_norm,
            m_prime: at.m_prime,
        };
        self.dynamics.drift(at.w_max, &g)
    }

    fn weights(&mut self, u: &[f64]) -> &[f64] {
        let d = self.dynamics;
        self.w.clear();
        self.w
            .extend(u.iter().map(|&x| d.state_to_weight(x.max(0.0))));
        &self.w
    }
}

/// `(sum w, sum w^2)` with Neumaier compensation.
fn compensated_sums(w: &[f64]) -> (f64, f64) {
    let mut acc = [(0.0f64, 0.0f64); 2];
    for &x in w {
        for (k, v) in [x, x * x].into_iter().enumerate() {
            let (s, c) = &mut acc[k];
            let t = *s + v;
            *c += if s.abs() >= v.abs() {
                (*s - t) + v
            } else {
                (v - t) + *s
            };
            *s = t;
        }
    }
    (acc[0].0 + acc[0].1, acc[1].0 + acc[1].1)
}

/// The state of survivors `w` (any order): `gamma` is the exact relative gap
/// `(w_(1) - w_(2))/w_(1)` of the two largest (NaN with one survivor).
fn full_stats(w: &[f64], step: u64, t: f64) -> StepStats {
    let n = w.len() as f64;
    let (one, sq) = compensated_sums(w);
    let mean = one / n;
    let tsd: f64 = w.iter().map(|x| (x - mean) * (x - mean)).sum();
    let (mut first, mut second) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    for &x in w {
        if x > first {
            second = first;
            first = x;
        } else if x > second {
            second = x;
        }
    }
    let w_min = w.iter().copied().fold(f64::INFINITY, f64::min);
    let nan_if_empty = |x: f64| if w.is_empty() { f64::NAN } else { x };
    StepStats {
        step,
        t,
        m_prime: w.len(),
        one_norm: one,
        sq_norm: sq,
        w_max: nan_if_empty(first),
        w_min: nan_if_empty(w_min),
        relative_variance: (tsd / n) / (mean * mean),
        gamma: if w.len() >= 2 {
            (first - second) / first
        } else {
            f64::NAN
        },
        feature_benefit: 1.0 - sq,
        total_squared_deviation: tsd,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamics::{L1, L1L2, Lp, Opaque};
    use crate::{Solver, StopReason, solve};

    fn adaptive(rtol: f64, atol: f64) -> Solver {
        Solver::adaptive(AdaptiveConfig::new(rtol, atol).unwrap())
    }

    /// `||w||^2` with lambda = 0: `s' = 2 s (1 - s)`, the logistic curve.
    fn logistic(s0: f64, t: f64) -> f64 {
        let e = (2.0 * t).exp();
        s0 * e / (1.0 - s0 + s0 * e)
    }

    #[test]
    fn lambda_zero_follows_the_logistic_closed_form_to_tolerance() {
        let w0 = InitialWeights::quantile(1000, None).unwrap();
        let s0: f64 = w0.as_slice().iter().map(|x| x * x).sum();
        let times = [0.0, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0];
        let rtol = 1e-10;
        let solver = adaptive(rtol, 1e-14)
            .with_end_time(10.0)
            .unwrap()
            .with_output_times(&times)
            .unwrap();
        let l1 = L1::new(0.0).unwrap();
        let reduced = solve(&l1, &solver, w0.clone(), &mut (), |_| false).unwrap();
        let full = solve(&Opaque(l1), &solver, w0, &mut (), |_| false).unwrap();
        for summary in [&reduced, &full] {
            assert_eq!(summary.stop, StopReason::EndTime);
            assert_eq!(summary.outputs.len(), times.len());
            assert!(summary.deaths.is_empty());
            for o in &summary.outputs {
                // A controller that keeps the local error below rtol gives a global error of a
                // few rtol on this contracting problem; dense output adds about as much.
                let exact = logistic(s0, o.t);
                assert!(
                    (o.sq_norm - exact).abs() <= 10.0 * rtol * exact,
                    "t = {}",
                    o.t
                );
                assert_eq!(o.m_prime, 1000);
            }
            assert_eq!(summary.final_state.t, 10.0);
        }
        // Evaluations: two to choose the first step, six per attempt (first same as last).
        let c = reduced.counts;
        assert_eq!(c.evals, 2 + 6 * (c.steps + c.rejected));
    }

    #[test]
    fn configuration_errors_name_the_parameter() {
        let e = AdaptiveConfig::new(0.0, 1e-9).unwrap_err();
        assert_eq!(e.param(), Some(Param::Rtol));
        let e = AdaptiveConfig::new(1e-6, -1.0).unwrap_err();
        assert_eq!(e.param(), Some(Param::Atol));
        let solver = adaptive(1e-6, 1e-9);
        let e = solver.clone().with_end_time(f64::INFINITY).unwrap_err();
        assert_eq!(e.param(), Some(Param::EndTime));
        let w0 = InitialWeights::quantile(10, None).unwrap();
        let e = solve(&L1::new(0.0).unwrap(), &solver, w0.clone(), &mut (), |_| {
            false
        })
        .unwrap_err();
        assert!(e.to_string().contains("missing t_end"), "{e}");
        let reduced = Solver::reduced(0.5).unwrap();
        let e = solve(
            &Lp::new(1e-3, 0.5).unwrap(),
            &reduced,
            w0.clone(),
            &mut (),
            |_| false,
        )
        .unwrap_err();
        assert!(matches!(e, CoreError::NotAffine { .. }), "{e}");
        let e = solver.clone().with_output_times(&[f64::NAN]).unwrap_err();
        assert_eq!(e.param(), Some(Param::OutputTime));
        let tight = solver.with_max_steps(3).unwrap();
        let e = solve(&Opaque(L1::new(1e-3).unwrap()), &tight, w0, &mut (), |_| {
            false
        })
        .unwrap_err();
        assert!(
            matches!(e, CoreError::TooManySteps { max_steps: 3, .. }),
            "{e}"
        );
    }

    #[test]
    fn a_monitor_sees_every_step_and_can_stop_the_run() {
        let w0 = InitialWeights::quantile(50, None).unwrap();
        let solver = adaptive(1e-8, 1e-12);
        let l1 = L1::new(1e-2).unwrap();
        let mut seen = Vec::new();
        let s = solve(&l1, &solver, w0.clone(), &mut (), |p| {
            seen.push(*p);
            p.steps >= 10
        })
        .unwrap();
        assert_eq!(s.stop, StopReason::Interrupted);
        assert_eq!(s.counts.steps, 10);
        assert_eq!(seen.len(), 11);
        assert!(seen.windows(2).all(|w| w[0].t < w[1].t));
        let s = solve(&Opaque(l1), &solver, w0, &mut (), |p| p.t > 1.0).unwrap();
        assert_eq!(s.stop, StopReason::Interrupted);
        assert!(s.final_state.t > 1.0 && s.final_state.m_prime > 1);
    }

    #[test]
    fn reduced_and_full_agree_with_weight_decay() {
        // Same flow, two formulations: death times agree to a small multiple of the tolerance
        // relative to the time scale (global errors of both, plus root finding on the dense
        // output), and every coordinate dies in the same order.
        let w0 = InitialWeights::quantile(60, None).unwrap();
        let solver = adaptive(1e-10, 1e-13);
        let d = L1L2::new(5e-3, 0.2).unwrap();
        let a = solve(&d, &solver, w0.clone(), &mut (), |_| false).unwrap();
        let b = solve(&Opaque(d), &solver, w0, &mut (), |_| false).unwrap();
        assert_eq!(a.deaths.len(), 59);
        assert_eq!(a.deaths.len(), b.deaths.len());
        for (x, y) in a.deaths.iter().zip(&b.deaths) {
            assert_eq!(x.m_prime, y.m_prime);
            assert!((x.t - y.t).abs() <= 1e-7 * x.t, "{} vs {}", x.t, y.t);
        }
    }
}

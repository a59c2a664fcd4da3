//! The flow in continuous time: Dormand-Prince 5(4) with step-size control and located deaths.
//!
//! Two systems, one driver:
//!
//! - **reduced** ([`solve_reduced`], affine variants): with `s = p - theta` (`p = w0[n-1]` the
//!   smallest survivor's initial value, so `w_j = alpha*(w0_j - p + s)`),
//!   `alpha' = a*alpha`, `s' = -lambda/alpha`, `a = 1 - alpha^2*F(theta) - mu` with
//!   `F = E2 + s*(2*E1 + n*s)` from the prefix moments (THEORY §2-3). Coordinate `n-1` dies when
//!   `s` reaches 0; `s` is the integrated variable (not `theta`) so that the distance to the next
//!   death has full relative precision. O(1) per evaluation.
//! - **full vector** ([`solve_full`], any variant): `u_j' = state_drift(u_j)` for every survivor,
//!   in the variant's smooth state variable `u = weight_to_state(w)`; O(m') per evaluation.
//!
//! After every accepted step the driver looks for deaths (a state `<= 0` at the step's end; the
//! dying coordinate's drift is negative near 0 for every variant here, so a crossing cannot
//! hide inside a step), finds the earliest crossing on the dense output by bracketed
//! regula falsi (to a few ulps of t), moves to it, drops the coordinate (and any other that
//! crosses at the same time), and restarts the integrator there: the right-hand side changes
//! at a death, so no step straddles one. Output times are served from the dense output of the
//! step that contains them. With `lambda = 0` nothing dies and an end time is required.
//!
//! After the O(1) transient the system is mildly stiff (fast rate about 2, slow time scale
//! `1/lambda`): DP5(4)'s steps are then limited by stability to about 1.5 time units, not by
//! accuracy, so a run to `t ~ 1/lambda` takes ~`1/(1.5*lambda)` steps.
//!
//! # References
//! THEORY.md §2 (reduced system), §3 (slow manifold, stiffness), §4.

use crate::dp5::{Dp5, System, bracketed_root};
use crate::dynamics::{Dynamics, Globals};
use crate::error::{CoreError, positive_finite};
use crate::init::InitialWeights;
use crate::method::SolverCounts;
use crate::prefix::{Moments, PrefixMoments};
use crate::record::StepStats;
use crate::reduced::positive;

/// Tolerances and limits of the adaptive solver, validated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdaptiveConfig {
    rtol: f64,
    atol: f64,
    t_end: Option<f64>,
    max_steps: u64,
}

impl AdaptiveConfig {
    /// Relative tolerance `rtol` in `[1e-14, 1)`, absolute tolerance `atol > 0` (in units of
    /// the integrated variables: weights and `alpha`), and an optional end time `t_end > 0`
    /// (required when `lambda = 0`). No step limit until [`Self::with_max_steps`].
    ///
    /// # Errors
    /// [`CoreError::InvalidParameter`] naming `rtol`, `atol` or `t_end`.
    pub fn new(rtol: f64, atol: f64, t_end: Option<f64>) -> Result<Self, CoreError> {
        if !(1e-14..1.0).contains(&rtol) {
            return Err(CoreError::InvalidParameter {
                name: "rtol",
                value: rtol,
                valid: "a number in [1e-14, 1)",
            });
        }
        let atol = positive_finite("atol", atol)?;
        let t_end = t_end.map(|t| positive_finite("t_end", t)).transpose()?;
        Ok(Self {
            rtol,
            atol,
            t_end,
            max_steps: u64::MAX,
        })
    }

    /// Stops with [`CoreError::TooManySteps`] after `max_steps` step attempts (`>= 1`).
    ///
    /// # Errors
    /// [`CoreError::InvalidParameter`] naming `max_steps` if it is 0.
    pub fn with_max_steps(self, max_steps: u64) -> Result<Self, CoreError> {
        if max_steps == 0 {
            return Err(CoreError::InvalidParameter {
                name: "max_steps",
                value: 0.0,
                valid: "an integer >= 1",
            });
        }
        Ok(Self { max_steps, ..self })
    }

    /// The relative tolerance.
    pub fn rtol(&self) -> f64 {
        self.rtol
    }

    /// The absolute tolerance.
    pub fn atol(&self) -> f64 {
        self.atol
    }

    /// The end time, if any.
    pub fn t_end(&self) -> Option<f64> {
        self.t_end
    }
}

/// Why an adaptive run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdaptiveStop {
    /// One coordinate is left.
    OneLeft,
    /// The last event removed every remaining coordinate (exact ties).
    AllDropped,
    /// The end time was reached.
    EndTime,
    /// The monitor of a `*_monitored` solver asked to stop (a Ctrl-C, say): the final state is
    /// the end of the last accepted step, with every death up to it located.
    Interrupted,
}

impl AdaptiveStop {
    /// A short name for summaries.
    pub fn name(self) -> &'static str {
        match self {
            AdaptiveStop::OneLeft => "one_left",
            AdaptiveStop::AllDropped => "all_dropped",
            AdaptiveStop::EndTime => "end_time",
            AdaptiveStop::Interrupted => "interrupted",
        }
    }
}

/// A located death: at time `t` (to a few ulps of the dense output's root) `m'` became
/// `m_prime`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeathTime {
    /// The crossing time.
    pub t: f64,
    /// Survivors after it.
    pub m_prime: usize,
}

/// What an adaptive run reports. In its [`StepStats`], `step` counts accepted steps so far and
/// `gamma` is the exact relative gap of the two largest weights (the quantity the Euler
/// recursion approximates, THEORY §6): `(w0_0 - w0_1)/(w0_0 - theta)` for the reduced system,
/// `(w_(1) - w_(2))/w_(1)` of the survivors for the full vector (NaN with one survivor).
#[derive(Debug, Clone, PartialEq)]
pub struct AdaptiveSummary {
    /// The state at `t = 0`.
    pub initial_state: StepStats,
    /// The state at the end.
    pub final_state: StepStats,
    /// Why the run ended.
    pub stop: AdaptiveStop,
    /// Steps, rejected steps, right-hand-side evaluations, death events.
    pub counts: SolverCounts,
    /// Every death event, in time order.
    pub deaths: Vec<DeathTime>,
    /// The state at every requested output time up to the end, in increasing time.
    pub outputs: Vec<StepStats>,
}

/// Where an adaptive run is, before each step: what a progress display shows, and what a
/// monitor needs to decide to stop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdaptiveProgress {
    /// Accepted steps so far.
    pub steps: u64,
    /// The time reached.
    pub t: f64,
    /// Survivors.
    pub m_prime: usize,
}

/// The reduced continuous-time flow of an affine variant from `w0`, recording the state at
/// `output_times` (any order; values past the end are ignored).
///
/// # Errors
/// [`CoreError::NotAffine`], [`CoreError::MissingParameter`] (`t_end` with `lambda = 0`),
/// [`CoreError::InvalidParameter`] for an output time that is not finite and `>= 0`,
/// [`CoreError::StepSizeTooSmall`], [`CoreError::TooManySteps`].
pub fn solve_reduced(
    dynamics: &dyn Dynamics,
    cfg: &AdaptiveConfig,
    w0: InitialWeights,
    output_times: &[f64],
) -> Result<AdaptiveSummary, CoreError> {
    let mut table = PrefixMoments::new(w0.into_vec());
    solve_reduced_table(dynamics, cfg, &mut table, output_times)
}

/// [`solve_reduced`] from prefix moments built already.
///
/// # Errors
/// As [`solve_reduced`].
pub fn solve_reduced_table(
    dynamics: &dyn Dynamics,
    cfg: &AdaptiveConfig,
    table: &mut PrefixMoments,
    output_times: &[f64],
) -> Result<AdaptiveSummary, CoreError> {
    solve_reduced_monitored(dynamics, cfg, table, output_times, &mut |_| false)
}

/// [`solve_reduced_table`], calling `monitor` before every step (an O(1) call: for progress
/// displays); the run stops with [`AdaptiveStop::Interrupted`] when it returns `true`.
///
/// # Errors
/// As [`solve_reduced`].
pub fn solve_reduced_monitored(
    dynamics: &dyn Dynamics,
    cfg: &AdaptiveConfig,
    table: &mut PrefixMoments,
    output_times: &[f64],
    monitor: &mut dyn FnMut(&AdaptiveProgress) -> bool,
) -> Result<AdaptiveSummary, CoreError> {
    let mu = dynamics
        .affine_shift()
        .ok_or_else(|| CoreError::NotAffine {
            dynamics: dynamics.name(),
        })?;
    let lambda = dynamics.lambda();
    check_end(lambda, cfg)?;
    let times = sorted_times(output_times)?;
    let m = table.len();
    if m < 2 {
        return Err(CoreError::TooFewWeights { m });
    }
    let (top, second) = (table.w0()[0], table.w0()[1]);
    let mut n = m;
    let mut mo = table.at(n);
    let mut deaths = Vec::new();
    // Weights that start at exactly 0 are dead at t = 0.
    let mut s = mo.pivot;
    drop_while_dead(table, &mut n, &mut mo, &mut s);
    if n < m {
        deaths.push(DeathTime { t: 0.0, m_prime: n });
    }
    let mut sys = ReducedFlow { mo, n, lambda, mu };
    let mut dp = Dp5::new(
        &mut sys,
        0.0,
        vec![1.0, s],
        cfg.rtol,
        cfg.atol,
        cfg.max_steps,
    );
    let stats = |step: u64, t: f64, alpha: f64, s: f64, mo: &Moments, n: usize| {
        reduced_stats(step, t, alpha, s, mo, n, top, second)
    };
    let initial_state = stats(0, 0.0, 1.0, s, &sys.mo, sys.n);
    let mut outputs = Vec::new();
    let mut next = 0;
    while next < times.len() && times[next] <= 0.0 {
        outputs.push(initial_state);
        next += 1;
    }
    let stop = loop {
        if sys.n == 0 {
            break AdaptiveStop::AllDropped;
        }
        if sys.n == 1 {
            break AdaptiveStop::OneLeft;
        }
        if cfg.t_end.is_some_and(|te| dp.t >= te) {
            break AdaptiveStop::EndTime;
        }
        let at = AdaptiveProgress {
            steps: dp.counts.steps,
            t: dp.t,
            m_prime: sys.n,
        };
        if monitor(&at) {
            break AdaptiveStop::Interrupted;
        }
        dp.step(&mut sys, cfg.t_end)?;
        // s is decreasing (s' = -lambda/alpha < 0): a death is a sign change at the end.
        let event = if dp.y[1] > 0.0 {
            None
        } else {
            Some(bracketed_root(|t| dp.dense(1, t), dp.t_old, dp.t))
        };
        let t_hi = event.unwrap_or(dp.t);
        while next < times.len() && times[next] <= t_hi {
            let t = times[next];
            let (alpha, s) = (dp.dense(0, t), dp.dense(1, t));
            outputs.push(stats(dp.counts.steps, t, alpha, s.max(0.0), &sys.mo, sys.n));
            next += 1;
        }
        if let Some(t_star) = event {
            let alpha = dp.dense(0, t_star);
            // theta = p exactly at the crossing: the next survivor is s = w0[n-2] - p away.
            let mut s = 0.0;
            drop_while_dead(table, &mut sys.n, &mut sys.mo, &mut s);
            dp.counts.events += 1;
            deaths.push(DeathTime {
                t: t_star,
                m_prime: sys.n,
            });
            dp.restart(t_star, vec![alpha, s]);
        }
    };
    let final_state = stats(
        dp.counts.steps,
        dp.t,
        dp.y[0],
        dp.y[1].max(0.0),
        &sys.mo,
        sys.n,
    );
    Ok(AdaptiveSummary {
        initial_state,
        final_state,
        stop,
        counts: dp.counts,
        deaths,
        outputs,
    })
}

/// The full-vector continuous-time flow of any variant from `w0`, recording the state at
/// `output_times` (any order; values past the end are ignored). O(m') per evaluation: for small
/// m, for variants without the affine structure, and to check [`solve_reduced`].
///
/// # Errors
/// [`CoreError::MissingParameter`] (`t_end` with `lambda = 0`), [`CoreError::InvalidParameter`]
/// for an output time that is not finite and `>= 0`, [`CoreError::StepSizeTooSmall`],
/// [`CoreError::TooManySteps`].
pub fn solve_full(
    dynamics: &dyn Dynamics,
    cfg: &AdaptiveConfig,
    w0: InitialWeights,
    output_times: &[f64],
) -> Result<AdaptiveSummary, CoreError> {
    solve_full_monitored(dynamics, cfg, w0, output_times, &mut |_| false)
}

/// [`solve_full`], calling `monitor` before every step; the run stops with
/// [`AdaptiveStop::Interrupted`] when it returns `true`.
///
/// # Errors
/// As [`solve_full`].
pub fn solve_full_monitored(
    dynamics: &dyn Dynamics,
    cfg: &AdaptiveConfig,
    w0: InitialWeights,
    output_times: &[f64],
    monitor: &mut dyn FnMut(&AdaptiveProgress) -> bool,
) -> Result<AdaptiveSummary, CoreError> {
    check_end(dynamics.lambda(), cfg)?;
    let times = sorted_times(output_times)?;
    let m = w0.len();
    let mut u: Vec<f64> = w0
        .as_slice()
        .iter()
        .map(|&w| dynamics.weight_to_state(w))
        .collect();
    let mut deaths = Vec::new();
    u.retain(|&x| x > 0.0);
    if u.len() < m {
        deaths.push(DeathTime {
            t: 0.0,
            m_prime: u.len(),
        });
    }
    let mut sys = FullFlow {
        dynamics,
        w: Vec::with_capacity(u.len()),
    };
    let mut dp = Dp5::new(&mut sys, 0.0, u, cfg.rtol, cfg.atol, cfg.max_steps);
    let initial_state = full_stats(dynamics, 0, 0.0, &dp.y);
    let mut outputs = Vec::new();
    let mut next = 0;
    while next < times.len() && times[next] <= 0.0 {
        outputs.push(initial_state);
        next += 1;
    }
    let mut buf = Vec::new();
    let stop = loop {
        match dp.y.len() {
            0 => break AdaptiveStop::AllDropped,
            1 => break AdaptiveStop::OneLeft,
            _ => {}
        }
        if cfg.t_end.is_some_and(|te| dp.t >= te) {
            break AdaptiveStop::EndTime;
        }
        let at = AdaptiveProgress {
            steps: dp.counts.steps,
            t: dp.t,
            m_prime: dp.y.len(),
        };
        if monitor(&at) {
            break AdaptiveStop::Interrupted;
        }
        dp.step(&mut sys, cfg.t_end)?;
        // The earliest crossing among the coordinates that end the step at or below 0.
        let crossings: Vec<(usize, f64)> = (0..dp.y.len())
            .filter(|&j| !positive(dp.y[j]))
            .map(|j| (j, bracketed_root(|t| dp.dense(j, t), dp.t_old, dp.t)))
            .collect();
        let event = crossings.iter().map(|&(_, t)| t).reduce(f64::min);
        let t_hi = event.unwrap_or(dp.t);
        while next < times.len() && times[next] <= t_hi {
            let t = times[next];
            buf.clear();
            buf.extend((0..dp.y.len()).map(|j| dp.dense(j, t).max(0.0)));
            outputs.push(full_stats(dynamics, dp.counts.steps, t, &buf));
            next += 1;
        }
        if let Some(t_star) = event {
            // Coordinates whose crossing is within a few ulps of the earliest die with it
            // (exact ties in w0 give identical trajectories and identical roots).
            let tol = 8.0 * f64::EPSILON * t_star.abs().max(dp.h_old);
            let mut dying = vec![false; dp.y.len()];
            for &(j, t) in &crossings {
                dying[j] = t <= t_star + tol;
            }
            let y: Vec<f64> = (0..dp.y.len())
                .filter(|&j| !dying[j])
                .map(|j| dp.dense(j, t_star))
                .filter(|&x| x > 0.0)
                .collect();
            dp.counts.events += 1;
            deaths.push(DeathTime {
                t: t_star,
                m_prime: y.len(),
            });
            dp.restart(t_star, y);
        }
    };
    let final_state = full_stats(dynamics, dp.counts.steps, dp.t, &dp.y);
    Ok(AdaptiveSummary {
        initial_state,
        final_state,
        stop,
        counts: dp.counts,
        deaths,
        outputs,
    })
}

fn check_end(lambda: f64, cfg: &AdaptiveConfig) -> Result<(), CoreError> {
    if lambda == 0.0 && cfg.t_end.is_none() {
        return Err(CoreError::MissingParameter {
            name: "t_end",
            reason: "with lambda = 0 nothing dies, so the run needs an end time",
        });
    }
    Ok(())
}

fn sorted_times(times: &[f64]) -> Result<Vec<f64>, CoreError> {
    let mut v = Vec::with_capacity(times.len());
    for &t in times {
        if !(t.is_finite() && t >= 0.0) {
            return Err(CoreError::InvalidParameter {
                name: "output time",
                value: t,
                valid: "a finite number >= 0",
            });
        }
        v.push(t);
    }
    v.sort_by(f64::total_cmp);
    Ok(v)
}

/// Drops the smallest survivor while it is dead (`s <= 0`), moving the pivot: the next
/// survivor is `s + (w0[n-2] - w0[n-1])` above the old pivot's crossing.
fn drop_while_dead(table: &mut PrefixMoments, n: &mut usize, mo: &mut Moments, s: &mut f64) {
    while !positive(*s) && *n > 0 {
        *n -= 1;
        if *n == 0 {
            break;
        }
        let p_old = mo.pivot;
        *mo = table.at(*n);
        *s += mo.pivot - p_old;
    }
}

/// The reduced system `y = (alpha, s)`.
struct ReducedFlow {
    mo: Moments,
    n: usize,
    lambda: f64,
    mu: f64,
}

impl System for ReducedFlow {
    #[inline]
    fn rhs(&mut self, y: &[f64], dy: &mut [f64]) {
        let (alpha, s) = (y[0], y[1]);
        let sq = alpha * alpha * self.mo.f_at(s);
        dy[0] = ((1.0 - sq) - self.mu) * alpha;
        dy[1] = -self.lambda / alpha;
    }
}

#[allow(clippy::too_many_arguments)]
fn reduced_stats(
    step: u64,
    t: f64,
    alpha: f64,
    s: f64,
    mo: &Moments,
    n: usize,
    top: f64,
    second: f64,
) -> StepStats {
    let nf = n as f64;
    let one = alpha * mo.g_at(s);
    let sq = alpha * alpha * mo.f_at(s);
    let tsd = alpha * alpha * mo.c;
    let mean = one / nf;
    let top_gap = (top - mo.pivot) + s;
    StepStats {
        step,
        t,
        m_prime: n,
        one_norm: one,
        sq_norm: sq,
        w_max: alpha * top_gap,
        w_min: alpha * s,
        relative_variance: (tsd / nf) / (mean * mean),
        gamma: (top - second) / top_gap,
        feature_benefit: 1.0 - sq,
        total_squared_deviation: tsd,
    }
}

/// The whole-vector system in the variant's state variables.
struct FullFlow<'a> {
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

fn full_stats(dynamics: &dyn Dynamics, step: u64, t: f64, u: &[f64]) -> StepStats {
    let w: Vec<f64> = u.iter().map(|&x| dynamics.state_to_weight(x)).collect();
    let n = w.len() as f64;
    let (one, sq) = compensated_sums(&w);
    let mean = one / n;
    let tsd: f64 = w.iter().map(|x| (x - mean) * (x - mean)).sum();
    let (mut first, mut second) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    for &x in &w {
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
    use crate::dynamics::{L1, L1L2, Lp};

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
        let cfg = AdaptiveConfig::new(rtol, 1e-14, Some(10.0)).unwrap();
        let l1 = L1::new(0.0).unwrap();
        let reduced = solve_reduced(&l1, &cfg, w0.clone(), &times).unwrap();
        let full = solve_full(&l1, &cfg, w0, &times).unwrap();
        for summary in [&reduced, &full] {
            assert_eq!(summary.stop, AdaptiveStop::EndTime);
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
        assert!(
            AdaptiveConfig::new(0.0, 1e-9, None)
                .unwrap_err()
                .to_string()
                .contains("rtol")
        );
        assert!(
            AdaptiveConfig::new(1e-6, -1.0, None)
                .unwrap_err()
                .to_string()
                .contains("atol")
        );
        assert!(AdaptiveConfig::new(1e-6, 1e-9, Some(f64::INFINITY)).is_err());
        let cfg = AdaptiveConfig::new(1e-6, 1e-9, None).unwrap();
        let w0 = InitialWeights::quantile(10, None).unwrap();
        let e = solve_reduced(&L1::new(0.0).unwrap(), &cfg, w0.clone(), &[]).unwrap_err();
        assert!(e.to_string().contains("missing t_end"), "{e}");
        let e = solve_reduced(&Lp::new(1e-3, 0.5).unwrap(), &cfg, w0.clone(), &[]).unwrap_err();
        assert!(matches!(e, CoreError::NotAffine { .. }), "{e}");
        let e = solve_full(&L1::new(1e-3).unwrap(), &cfg, w0.clone(), &[f64::NAN]).unwrap_err();
        assert!(e.to_string().contains("output time"), "{e}");
        let tight = cfg.with_max_steps(3).unwrap();
        let e = solve_full(&L1::new(1e-3).unwrap(), &tight, w0, &[]).unwrap_err();
        assert!(
            matches!(e, CoreError::TooManySteps { max_steps: 3, .. }),
            "{e}"
        );
    }

    #[test]
    fn a_monitor_sees_every_step_and_can_stop_the_run() {
        let w0 = InitialWeights::quantile(50, None).unwrap();
        let cfg = AdaptiveConfig::new(1e-8, 1e-12, None).unwrap();
        let l1 = L1::new(1e-2).unwrap();
        let mut seen = Vec::new();
        let mut table = PrefixMoments::new(w0.clone().into_vec());
        let s = solve_reduced_monitored(&l1, &cfg, &mut table, &[], &mut |p| {
            seen.push(*p);
            p.steps >= 10
        })
        .unwrap();
        assert_eq!(s.stop, AdaptiveStop::Interrupted);
        assert_eq!(s.counts.steps, 10);
        assert_eq!(seen.len(), 11);
        assert!(seen.windows(2).all(|w| w[0].t < w[1].t));
        let s = solve_full_monitored(&l1, &cfg, w0, &[], &mut |p| p.t > 1.0).unwrap();
        assert_eq!(s.stop, AdaptiveStop::Interrupted);
        assert!(s.final_state.t > 1.0 && s.final_state.m_prime > 1);
    }

    #[test]
    fn reduced_and_full_agree_with_weight_decay() {
        // Same flow, two formulations: death times agree to a small multiple of the tolerance
        // relative to the time scale (global errors of both, plus root finding on the dense
        // output), and every coordinate dies in the same order.
        let w0 = InitialWeights::quantile(60, None).unwrap();
        let cfg = AdaptiveConfig::new(1e-10, 1e-13, None).unwrap();
        let d = L1L2::new(5e-3, 0.2).unwrap();
        let a = solve_reduced(&d, &cfg, w0.clone(), &[]).unwrap();
        let b = solve_full(&d, &cfg, w0, &[]).unwrap();
        assert_eq!(a.deaths.len(), 59);
        assert_eq!(a.deaths.len(), b.deaths.len());
        for (x, y) in a.deaths.iter().zip(&b.deaths) {
            assert_eq!(x.m_prime, y.m_prime);
            assert!((x.t - y.t).abs() <= 1e-7 * x.t, "{} vs {}", x.t, y.t);
        }
    }
}

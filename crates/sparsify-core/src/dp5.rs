//! Dormand-Prince 5(4) with PI step-size control and its 4th-order dense output, for
//! autonomous systems whose dimension may shrink at events.
//!
//! The tableau, error coefficients, dense-output coefficients and the PI controller
//! (`beta = 0.04`, safety 0.9, step ratio in `[0.2, 10]`) are those of Hairer's `DOPRI5`
//! (Hairer, Norsett & Wanner, *Solving ODEs I*, §II.4-5, §II.6 for dense output). The error
//! norm is the RMS of `err_i / (atol + rtol*max(|y0_i|, |y1_i|))`; a step is accepted when it
//! is `<= 1`. A non-finite trial is rejected and the step shrunk fivefold.
//!
//! # References
//! docs/theory.md §3-4 (the flow is mildly stiff after the transient: steps are stability-limited).

use crate::error::CoreError;
use crate::method::SolverCounts;

/// An autonomous system `y' = f(y)`.
pub(crate) trait System {
    /// Writes `f(y)` into `dy` (same length as `y`).
    fn rhs(&mut self, y: &[f64], dy: &mut [f64]);
}

const C2: f64 = 1.0 / 5.0;
const C3: f64 = 3.0 / 10.0;
const C4: f64 = 4.0 / 5.0;
const C5: f64 = 8.0 / 9.0;
const A21: f64 = 1.0 / 5.0;
const A31: f64 = 3.0 / 40.0;
const A32: f64 = 9.0 / 40.0;
const A41: f64 = 44.0 / 45.0;
const A42: f64 = -56.0 / 15.0;
const A43: f64 = 32.0 / 9.0;
const A51: f64 = 19372.0 / 6561.0;
const A52: f64 = -25360.0 / 2187.0;
const A53: f64 = 64448.0 / 6561.0;
const A54: f64 = -212.0 / 729.0;
const A61: f64 = 9017.0 / 3168.0;
const A62: f64 = -355.0 / 33.0;
const A63: f64 = 46732.0 / 5247.0;
const A64: f64 = 49.0 / 176.0;
const A65: f64 = -5103.0 / 18656.0;
const A71: f64 = 35.0 / 384.0;
const A73: f64 = 500.0 / 1113.0;
const A74: f64 = 125.0 / 192.0;
const A75: f64 = -2187.0 / 6784.0;
const A76: f64 = 11.0 / 84.0;
const E1: f64 = 71.0 / 57600.0;
const E3: f64 = -71.0 / 16695.0;
const E4: f64 = 71.0 / 1920.0;
const E5: f64 = -17253.0 / 339200.0;
const E6: f64 = 22.0 / 525.0;
const E7: f64 = -1.0 / 40.0;
const D1: f64 = -12715105075.0 / 11282082432.0;
const D3: f64 = 87487479700.0 / 32700410799.0;
const D4: f64 = -10690763975.0 / 1880347072.0;
const D5: f64 = 701980252875.0 / 199316789632.0;
const D6: f64 = -1453857185.0 / 822651844.0;
const D7: f64 = 69997945.0 / 29380423.0;
// The C's of the stages are unused by an autonomous system but document the tableau.
const _: [f64; 4] = [C2, C3, C4, C5];

/// Integrator state: the current point, the last accepted step's dense output, counters.
#[derive(Debug, Clone)]
pub(crate) struct Dp5 {
    pub(crate) t: f64,
    pub(crate) y: Vec<f64>,
    k: [Vec<f64>; 7],
    ytmp: Vec<f64>,
    y1: Vec<f64>,
    rtol: f64,
    atol: f64,
    /// The next step size to try.
    pub(crate) h: f64,
    facold: f64,
    /// Whether `k[0] = f(y)` is valid (first same as last).
    fsal: bool,
    last_rejected: bool,
    pub(crate) counts: SolverCounts,
    /// Start and length of the last accepted step, and its dense-output coefficients.
    pub(crate) t_old: f64,
    pub(crate) h_old: f64,
    rcont: [Vec<f64>; 5],
    max_steps: u64,
}

impl Dp5 {
    pub(crate) fn new(
        sys: &mut impl System,
        t: f64,
        y: Vec<f64>,
        rtol: f64,
        atol: f64,
        max_steps: u64,
    ) -> Self {
        let n = y.len();
        let z = || vec![0.0; n];
        let mut s = Self {
            t,
            k: std::array::from_fn(|_| z()),
            ytmp: z(),
            y1: z(),
            y,
            rtol,
            atol,
            h: 0.0,
            facold: 1e-4,
            fsal: false,
            last_rejected: false,
            counts: SolverCounts::default(),
            t_old: t,
            h_old: 0.0,
            rcont: std::array::from_fn(|_| z()),
            max_steps,
        };
        s.h = s.initial_step(sys);
        s
    }

    /// Hairer's starting step: `h0 = 0.01*||y||/||f||`, refined by one Euler probe so that
    /// `h^5 * max(||f||, ||f'||) ~ 0.01`.
    fn initial_step(&mut self, sys: &mut impl System) -> f64 {
        self.eval0(sys);
        let sk = |y: f64| self.atol + self.rtol * y.abs();
        let n = self.y.len().max(1) as f64;
        let norm = |v: &[f64], y: &[f64]| {
            (v.iter()
                .zip(y)
                .map(|(a, b)| (a / sk(*b)).powi(2))
                .sum::<f64>()
                / n)
                .sqrt()
        };
        let dnf = norm(&self.k[0], &self.y);
        let dny = norm(&self.y, &self.y);
        let mut h = if dnf <= 1e-10 || dny <= 1e-10 {
            1e-6
        } else {
            0.01 * dny / dnf
        };
        for i in 0..self.y.len() {
            self.ytmp[i] = self.y[i] + h * self.k[0][i];
        }
        let (ytmp, k1) = (&self.ytmp, &mut self.k[1]);
        sys.rhs(ytmp, k1);
        self.counts.evals += 1;
        let diff: Vec<f64> = self.k[1]
            .iter()
            .zip(&self.k[0])
            .map(|(a, b)| a - b)
            .collect();
        let der2 = norm(&diff, &self.y) / h;
        let der12 = der2.max(dnf);
        let h1 = if der12 <= 1e-15 {
            (h * 1e-3).max(1e-6)
        } else {
            (0.01 / der12).powf(0.2)
        };
        h = (100.0 * h).min(h1);
        h
    }

    fn eval0(&mut self, sys: &mut impl System) {
        if !self.fsal {
            let (y, k0) = (&self.y, &mut self.k[0]);
            sys.rhs(y, k0);
            self.counts.evals += 1;
            self.fsal = true;
        }
    }

    /// Takes one accepted step, no further than `t_limit` (retrying rejected ones).
    pub(crate) fn step(
        &mut self,
        sys: &mut impl System,
        t_limit: Option<f64>,
    ) -> Result<(), CoreError> {
        loop {
            if self.counts.steps + self.counts.rejected >= self.max_steps {
                return Err(CoreError::TooManySteps {
                    max_steps: self.max_steps,
                    t: self.t,
                });
            }
            let mut h = self.h;
            let mut hits_limit = false;
            if let Some(limit) = t_limit
                && self.t + h >= limit
            {
                h = limit - self.t;
                hits_limit = true;
            }
            if h.is_nan() || 0.1 * h.abs() <= self.t.abs() * f64::EPSILON {
                return Err(CoreError::StepSizeTooSmall { t: self.t, h });
            }
            let err = self.trial(sys, h);
            const BETA: f64 = 0.04;
            let fac11 = err.powf(0.2 - BETA * 0.75);
            if err <= 1.0 {
                let fac = (fac11 / self.facold.powf(BETA) / 0.9).clamp(0.1, 5.0);
                let mut hnew = h / fac;
                if self.last_rejected {
                    hnew = hnew.min(h);
                }
                self.facold = err.max(1e-4);
                self.accept(h);
                // A step cut short by the limit says nothing about the next one.
                self.h = if hits_limit { hnew.max(self.h) } else { hnew };
                self.last_rejected = false;
                return Ok(());
            }
            self.counts.rejected += 1;
            self.last_rejected = true;
            self.h = if err.is_finite() {
                h / (fac11 / 0.9).min(5.0)
            } else {
                h / 5.0
            };
        }
    }

    /// The stages of one trial step of size `h`; leaves `y1` and `k[6] = f(y1)`; returns the
    /// error norm (infinite for a non-finite trial).
    fn trial(&mut self, sys: &mut impl System, h: f64) -> f64 {
        self.eval0(sys);
        let n = self.y.len();
        let y = &self.y;
        macro_rules! stage {
            ($out:expr, $($c:expr => $i:expr),+) => {{
                for j in 0..n {
                    self.ytmp[j] = y[j] + h * (0.0 $(+ $c * self.k[$i][j])+);
                }
                let (ytmp, k) = (&self.ytmp, &mut self.k[$out]);
                sys.rhs(ytmp, k);
            }};
        }
        stage!(1, A21 => 0);
        stage!(2, A31 => 0, A32 => 1);
        stage!(3, A41 => 0, A42 => 1, A43 => 2);
        stage!(4, A51 => 0, A52 => 1, A53 => 2, A54 => 3);
        stage!(5, A61 => 0, A62 => 1, A63 => 2, A64 => 3, A65 => 4);
        let k = &self.k;
        for j in 0..n {
            self.y1[j] = y[j]
                + h * (A71 * k[0][j]
                    + A73 * k[2][j]
                    + A74 * k[3][j]
                    + A75 * k[4][j]
                    + A76 * k[5][j]);
        }
        let (y1, k6) = (&self.y1, &mut self.k[6]);
        sys.rhs(y1, k6);
        self.counts.evals += 6;
        let k = &self.k;
        let mut acc = 0.0;
        for j in 0..n {
            let e = h
                * (E1 * k[0][j]
                    + E3 * k[2][j]
                    + E4 * k[3][j]
                    + E5 * k[4][j]
                    + E6 * k[5][j]
                    + E7 * k[6][j]);
            let sk = self.atol + self.rtol * y[j].abs().max(self.y1[j].abs());
            acc += (e / sk).powi(2);
        }
        let err = (acc / n.max(1) as f64).sqrt();
        if err.is_finite() && self.y1.iter().all(|v| v.is_finite()) {
            err
        } else {
            f64::INFINITY
        }
    }

    // Several parallel arrays are read at the same index: a range loop is the clear form.
    #[allow(clippy::needless_range_loop)]
    fn accept(&mut self, h: f64) {
        let n = self.y.len();
        let k = &self.k;
        for j in 0..n {
            let (y0, y1) = (self.y[j], self.y1[j]);
            let dy = y1 - y0;
            let bspl = h * k[0][j] - dy;
            self.rcont[0][j] = y0;
            self.rcont[1][j] = dy;
            self.rcont[2][j] = bspl;
            self.rcont[3][j] = dy - h * k[6][j] - bspl;
            self.rcont[4][j] = h
                * (D1 * k[0][j]
                    + D3 * k[2][j]
                    + D4 * k[3][j]
                    + D5 * k[4][j]
                    + D6 * k[5][j]
                    + D7 * k[6][j]);
        }
        self.t_old = self.t;
        self.h_old = h;
        self.t += h;
        std::mem::swap(&mut self.y, &mut self.y1);
        self.k.swap(0, 6);
        self.counts.steps += 1;
    }

    /// Component `i` of the dense output of the last accepted step at time `t` (4th order,
    /// meant for `t` inside that step).
    #[inline]
    pub(crate) fn dense(&self, i: usize, t: f64) -> f64 {
        let s = (t - self.t_old) / self.h_old;
        let s1 = 1.0 - s;
        let r = &self.rcont;
        r[0][i] + s * (r[1][i] + s1 * (r[2][i] + s * (r[3][i] + s1 * r[4][i])))
    }

    /// Restarts at `(t, y)` after an event: the dimension may change, the next step size is
    /// kept, the first-same-as-last derivative is recomputed.
    pub(crate) fn restart(&mut self, t: f64, y: Vec<f64>) {
        let n = y.len();
        for v in self.k.iter_mut().chain(self.rcont.iter_mut()) {
            v.resize(n, 0.0);
        }
        self.ytmp.resize(n, 0.0);
        self.y1.resize(n, 0.0);
        self.t = t;
        self.y = y;
        self.fsal = false;
    }
}

/// The root of `f` on `[a, b]` with `f(a) > 0 >= f(b)`, by the Illinois variant of regula
/// falsi: superlinear, and bracketing, so it never leaves the interval. Stops when the bracket
/// is below `4 eps` of its ends or `f` hits 0.
pub(crate) fn bracketed_root(mut f: impl FnMut(f64) -> f64, mut a: f64, mut b: f64) -> f64 {
    let (mut fa, mut fb) = (f(a), f(b));
    if !crate::reduced::positive(fa) {
        return a;
    }
    let mut side = 0i8;
    for _ in 0..200 {
        if (b - a).abs() <= 4.0 * f64::EPSILON * a.abs().max(b.abs()) || fb == 0.0 {
            break;
        }
        let mut c = (a * fb - b * fa) / (fb - fa);
        if !(c > a.min(b) && c < a.max(b)) {
            c = 0.5 * (a + b);
        }
        let fc = f(c);
        if fc > 0.0 {
            a = c;
            fa = fc;
            if side == 1 {
                fb *= 0.5;
            }
            side = 1;
        } else {
            b = c;
            fb = fc;
            if side == -1 {
                fa *= 0.5;
            }
            side = -1;
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Decay;
    impl System for Decay {
        fn rhs(&mut self, y: &[f64], dy: &mut [f64]) {
            dy[0] = -y[0];
            dy[1] = y[0] - y[1] * y[1];
        }
    }

    #[test]
    fn exponential_decay_meets_its_tolerance_and_dense_output_is_accurate() {
        // y0' = -y0: y0(t) = e^-t. The global error of an error-per-step controller is a
        // small multiple of rtol over a few time units; 20*rtol leaves room for that.
        let rtol = 1e-9;
        let mut dp = Dp5::new(&mut Decay, 0.0, vec![1.0, 0.0], rtol, 1e-12, 10_000);
        let mut worst: f64 = 0.0;
        while dp.t < 5.0 {
            dp.step(&mut Decay, Some(5.0)).unwrap();
            for q in [0.25, 0.5, 0.75] {
                let t = dp.t_old + q * dp.h_old;
                worst = worst.max((dp.dense(0, t) - (-t).exp()).abs() / (-t).exp());
            }
        }
        assert_eq!(dp.t, 5.0);
        assert!((dp.y[0] - (-5.0f64).exp()).abs() <= 20.0 * rtol * (-5.0f64).exp());
        // Dense output is 4th order: a few times the step's own error.
        assert!(worst <= 100.0 * rtol, "dense output error {worst:e}");
        assert!(dp.counts.steps < 200, "{:?}", dp.counts);
    }

    #[test]
    fn illinois_finds_a_simple_root() {
        let r = bracketed_root(|x| 2.0 - x * x, 0.0, 2.0);
        assert!((r - 2f64.sqrt()).abs() <= 4.0 * f64::EPSILON * 2.0);
    }
}

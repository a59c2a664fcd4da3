//! A progress bar for long runs, on stderr, only when stderr is a terminal.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sparsify_core::{Observer, StepStats};

use crate::io::fmt_f64;

/// Bar length: the bar shows the fraction of the decades from `m` down to 1 that `m'` has
/// crossed, `ln(m/m') / ln(m)`, in thousandths. A linear `m - m'` would sit at 99.9 % for most
/// of a run, because most steps are spent with few survivors.
const BAR_LEN: u64 = 1000;
/// The bar appears only for runs longer than this, so short runs print nothing.
const SHOW_AFTER: Duration = Duration::from_millis(500);
/// At most about ten updates a second.
const UPDATE_EVERY: Duration = Duration::from_millis(100);
/// Steps between clock reads while few coordinates survive: such a step takes nanoseconds.
const CHECK_EVERY: u64 = 256;
/// Above this many survivors a step takes microseconds, and the clock is read after each.
const CHECK_ALWAYS_ABOVE: usize = 10_000;

/// An [`Observer`] that updates a progress bar with the step, `t` and `m'`.
#[derive(Debug)]
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    m: usize,
    started: Instant,
    last_update: Instant,
    visible: bool,
}

impl Progress {
    /// A bar for a run from `m` coordinates; `enabled = false` makes every call a no-op (for a
    /// stderr that is not a terminal, and for tests).
    pub(crate) fn new(m: usize, enabled: bool) -> Self {
        let now = Instant::now();
        let bar = enabled.then(|| {
            let bar = ProgressBar::with_draw_target(Some(BAR_LEN), ProgressDrawTarget::hidden());
            let style = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} decades of m' {percent}%  {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        });
        Self {
            bar,
            m,
            started: now,
            last_update: now,
            visible: false,
        }
    }

    /// Removes the bar from the terminal.
    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    fn update(&mut self, s: &StepStats) {
        let Some(bar) = &self.bar else { return };
        let now = Instant::now();
        if now.duration_since(self.last_update) < UPDATE_EVERY {
            return;
        }
        self.last_update = now;
        if !self.visible && now.duration_since(self.started) >= SHOW_AFTER {
            bar.set_draw_target(ProgressDrawTarget::stderr_with_hz(10));
            self.visible = true;
        }
        let (m, n) = (self.m as f64, s.m_prime.max(1) as f64);
        let done = if self.m > 1 {
            (m / n).ln() / m.ln()
        } else {
            1.0
        };
        bar.set_position((done * BAR_LEN as f64).round() as u64);
        bar.set_message(format!(
            "step {}  t = {}  m' = {}",
            s.step,
            fmt_f64(s.t),
            s.m_prime
        ));
    }
}

impl Observer for Progress {
    fn start(&mut self, _initial: &StepStats, _w: &[f64]) {}

    fn step(&mut self, _before: &StepStats, after: &StepStats, _w: &[f64]) {
        if after.m_prime > CHECK_ALWAYS_ABOVE || after.step.is_multiple_of(CHECK_EVERY) {
            self.update(after);
        }
    }
}

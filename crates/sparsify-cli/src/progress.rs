//! A progress bar for long runs, and a spinner for long set-up phases, on stderr, only when
//! stderr is a terminal.

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

    /// Where a solver without an [`Observer`] hook is (the adaptive solver's monitor): `step`
    /// is its accepted steps. Cheap enough to call before every step.
    pub(crate) fn tick(&mut self, step: u64, t: f64, m_prime: usize) {
        if self.bar.is_some() && (m_prime > CHECK_ALWAYS_ABOVE || step.is_multiple_of(CHECK_EVERY))
        {
            self.update(step, t, m_prime);
        }
    }

    fn update(&mut self, step: u64, t: f64, m_prime: usize) {
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
        let (m, n) = (self.m as f64, m_prime.max(1) as f64);
        let done = if self.m > 1 {
            (m / n).ln() / m.ln()
        } else {
            1.0
        };
        bar.set_position((done * BAR_LEN as f64).round() as u64);
        bar.set_message(format!("step {step}  t = {}  m' = {m_prime}", fmt_f64(t)));
    }
}

impl Observer for Progress {
    fn start(&mut self, _initial: &StepStats, _w: &[f64]) {}

    fn step(&mut self, _before: &StepStats, after: &StepStats, _w: &[f64]) {
        self.tick(after.step, after.t, after.m_prime);
    }

    /// The bar never reads the weights: saying so keeps a reduced step O(1) (the default
    /// `true` would make the reduced solver materialise all m' weights every step).
    fn wants_weights(&self, _before: &StepStats, _after: &StepStats) -> bool {
        false
    }
}

/// A counting bar on stderr (`total` units, drawn with indicatif's `template`), for the
/// commands that count updates or cells (`train`, `sweep run`, `sweep status`). Never
/// animated by a tick thread (see [`Phase`]): the caller sets its position.
pub(crate) fn counter(total: u64, template: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// A message line for one set-up phase (drawing, sorting, prefix moments at large m), shown
/// only when enabled; cleared by [`Phase::finish`] or when dropped.
///
/// Drawn once from the calling thread, never animated: the binary holds the stderr lock for
/// the whole command, so indicatif's steady-tick thread would block on it forever (and the
/// bar's `finish` would wait for that thread).
#[derive(Debug)]
pub(crate) struct Phase {
    spinner: Option<ProgressBar>,
}

impl Phase {
    /// Starts a spinner saying `msg` (a no-op unless `enabled`).
    pub(crate) fn start(enabled: bool, msg: impl Into<String>) -> Self {
        let spinner = enabled.then(|| {
            let spinner = ProgressBar::new_spinner();
            let style = ProgressStyle::with_template("{spinner} {msg}...")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
            spinner.set_style(style);
            spinner.set_message(msg.into());
            spinner.tick();
            spinner
        });
        Self { spinner }
    }

    /// Removes the spinner.
    pub(crate) fn finish(self) {}
}

impl Drop for Phase {
    fn drop(&mut self) {
        if let Some(s) = &self.spinner {
            s.finish_and_clear();
        }
    }
}

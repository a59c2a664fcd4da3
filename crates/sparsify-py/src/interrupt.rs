//! Ctrl-C while the GIL is released: the library's loops poll a stop closure; this one asks
//! Python whether a signal came, from the calling thread, about every 50 ms.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::ThreadId;
use std::time::Instant;

use pyo3::exceptions::PyKeyboardInterrupt;
use pyo3::prelude::*;

/// Time between two calls of `PyErr_CheckSignals`, in nanoseconds: well under the second a
/// notebook user waits, and re-taking the GIL 20 times a second costs nothing measurable.
const SIGNAL_POLL_NS: u64 = 50_000_000;
/// Polls between two readings of the clock start at 1 and adapt (see [`Interrupt::stop`]), so
/// a run of O(1) steps (a few ns each) does not read the clock every step, and a run of slow
/// steps still reads it every step.
const MAX_STRIDE: u64 = 4096;

/// The stop request of one call, and the exception that caused it.
pub(crate) struct Interrupt {
    started: Instant,
    caller: ThreadId,
    stopped: AtomicBool,
    /// Polls since the clock was last read, and how many to wait before reading it again.
    polls: AtomicU64,
    stride: AtomicU64,
    /// Nanoseconds since `started` at the last clock reading and at the last signal check.
    last_clock: AtomicU64,
    last_check: AtomicU64,
    error: Mutex<Option<PyErr>>,
}

impl Interrupt {
    /// A stop request for a computation started now from this thread.
    pub(crate) fn new() -> Self {
        Self {
            started: Instant::now(),
            caller: std::thread::current().id(),
            stopped: AtomicBool::new(false),
            polls: AtomicU64::new(0),
            stride: AtomicU64::new(1),
            last_clock: AtomicU64::new(0),
            last_check: AtomicU64::new(0),
            error: Mutex::new(None),
        }
    }

    /// Whether to stop: true once a signal handler raised. Cheap between clock readings (one
    /// atomic add). Only the calling thread checks signals: Python runs handlers in the main
    /// thread alone, and a worker thread of a parallel phase never takes the GIL here.
    pub(crate) fn stop(&self) -> bool {
        if self.stopped.load(Ordering::Relaxed) {
            return true;
        }
        let stride = self.stride.load(Ordering::Relaxed);
        if self.polls.fetch_add(1, Ordering::Relaxed) + 1 < stride {
            return false;
        }
        self.polls.store(0, Ordering::Relaxed);
        let now = u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        // Aim at a clock reading every 1..10 ms: double the stride when readings come faster,
        // halve it when slower.
        let since_clock = now.saturating_sub(self.last_clock.swap(now, Ordering::Relaxed));
        let stride = if since_clock < 1_000_000 {
            (stride * 2).min(MAX_STRIDE)
        } else if since_clock > 10_000_000 {
            (stride / 2).max(1)
        } else {
            stride
        };
        self.stride.store(stride, Ordering::Relaxed);
        if now.saturating_sub(self.last_check.load(Ordering::Relaxed)) < SIGNAL_POLL_NS
            || std::thread::current().id() != self.caller
        {
            return false;
        }
        self.last_check.store(now, Ordering::Relaxed);
        if let Err(e) = Python::attach(|py| py.check_signals()) {
            if let Ok(mut slot) = self.error.lock() {
                *slot = Some(e);
            }
            self.stopped.store(true, Ordering::Relaxed);
            return true;
        }
        false
    }

    /// Whether a signal stopped the computation.
    pub(crate) fn stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }

    /// The exception the signal handler raised (`KeyboardInterrupt` for Ctrl-C).
    pub(crate) fn into_error(self) -> PyErr {
        self.error
            .into_inner()
            .ok()
            .flatten()
            .unwrap_or_else(|| PyKeyboardInterrupt::new_err("interrupted"))
    }
}

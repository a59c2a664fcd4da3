//! The driver: runs the cells one process owns (`--shard I/N`), `jobs` at a time, skipping
//! finished ones, recording each as it ends.
//!
//! A shard owns the cells `i` with `i mod N = I` (strided, so every shard gets its share of
//! each axis). Workers take the owned cells in increasing order from a shared counter; which
//! worker runs a cell changes nothing in its result, which depends on its parameters alone.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use super::exec::{self, CellResult};
use super::store::{CellRecord, CellState, SweepDir, hostname, params_text};
use crate::ExperimentError;

/// Which cells a process owns: those with `index mod count == index_of_shard`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard, `0 <= index < count`.
    pub index: u64,
    /// Number of shards.
    pub count: u64,
}

impl Shard {
    /// Every cell.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// `I/N` with `0 <= I < N`.
    ///
    /// # Errors
    /// One line saying what is allowed.
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || format!("--shard {s}: need I/N with whole numbers 0 <= I < N, like 3/16");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (i, n): (u64, u64) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        Self::new(i, n).ok_or_else(bad)
    }

    /// Shard `index` of `count`, if `index < count`.
    pub fn new(index: u64, count: u64) -> Option<Self> {
        (index < count).then_some(Self { index, count })
    }

    /// Whether this shard owns cell `cell`.
    pub fn owns(&self, cell: u64) -> bool {
        cell % self.count == self.index
    }
}

/// How to run.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// Cells run at once (threads), >= 1.
    pub jobs: usize,
    /// The cells this process owns.
    pub shard: Shard,
    /// Run failed cells again too.
    pub retry_failed: bool,
}

/// What the driver reports as it goes (to draw a progress bar).
#[derive(Debug, Clone, Copy)]
pub enum Event {
    /// Before the first cell: how many owned cells will run, and how many were skipped.
    Start {
        /// Cells to run now.
        todo: u64,
        /// Owned cells already done.
        done: u64,
        /// Owned cells that failed before and are not retried.
        failed: u64,
    },
    /// A cell ended (`ok` false: it failed).
    Finished {
        /// Its number.
        index: u64,
        /// Whether it is done (not failed).
        ok: bool,
    },
}

/// What a run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunReport {
    /// Cells this shard owns.
    pub owned: u64,
    /// Owned cells done before this run.
    pub already_done: u64,
    /// Owned cells failed before this run and not retried.
    pub skipped_failed: u64,
    /// Cells this run finished.
    pub done: u64,
    /// Cells this run recorded as failed.
    pub failed: u64,
    /// Whether `interrupted` stopped the run (the running cells are not recorded).
    pub interrupted: bool,
}

/// Runs the cells of `dir` that `opts.shard` owns and that are not done (nor failed, unless
/// `opts.retry_failed`), `opts.jobs` at a time. `interrupted` is polled before each cell and
/// between solver steps: once set, running cells are abandoned (not recorded) and no cell
/// starts. `on_event` is called on the calling thread.
///
/// # Errors
/// [`ExperimentError::Sweep`] for `jobs = 0`; I/O errors writing a record (the run stops).
pub fn run(
    dir: &SweepDir,
    opts: RunOptions,
    interrupted: &AtomicBool,
    on_event: &mut dyn FnMut(Event),
) -> Result<RunReport, ExperimentError> {
    if opts.jobs == 0 {
        return Err(ExperimentError::Sweep(
            "--jobs 0: need at least 1 cell at a time".to_owned(),
        ));
    }
    let status = dir.status()?;
    let mut report = RunReport {
        owned: 0,
        already_done: 0,
        skipped_failed: 0,
        done: 0,
        failed: 0,
        interrupted: false,
    };
    let mut todo = Vec::new();
    let mut index = opts.shard.index;
    while index < dir.grid().len() {
        report.owned += 1;
        match status.states[index as usize] {
            CellState::Done => report.already_done += 1,
            CellState::Failed if !opts.retry_failed => report.skipped_failed += 1,
            // A cell marked running by another process is owned by this shard: the marker is
            // left by a killed run of this same shard, so it runs again.
            _ => todo.push(index),
        }
        index += opts.shard.count;
    }
    on_event(Event::Start {
        todo: todo.len() as u64,
        done: report.already_done,
        failed: report.skipped_failed,
    });
    let next = AtomicUsize::new(0);
    let host = hostname();
    let (tx, rx) = mpsc::channel::<Result<Option<(u64, bool)>, ExperimentError>>();
    let jobs = opts.jobs.min(todo.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let tx = tx.clone();
            let (todo, next, host) = (&todo, &next, &host);
            scope.spawn(move || {
                while !interrupted.load(Ordering::Relaxed) {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&index) = todo.get(k) else { break };
                    let outcome = run_cell(dir, index, host, interrupted);
                    let stop = outcome.is_err();
                    if tx.send(outcome).is_err() || stop {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut first_error = None;
        for msg in rx {
            match msg {
                Ok(Some((index, ok))) => {
                    if ok {
                        report.done += 1;
                    } else {
                        report.failed += 1;
                    }
                    on_event(Event::Finished { index, ok });
                }
                Ok(None) => {}
                Err(e) => {
                    // A record that cannot be written: stop every worker after its cell.
                    interrupted.store(true, Ordering::Relaxed);
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    })?;
    report.interrupted = interrupted.load(Ordering::Relaxed);
    Ok(report)
}

/// Runs one cell and records it: `Some((index, done))`, or `None` if it was interrupted.
fn run_cell(
    dir: &SweepDir,
    index: u64,
    host: &str,
    interrupted: &AtomicBool,
) -> Result<Option<(u64, bool)>, ExperimentError> {
    let spec = &dir.spec;
    dir.mark_running(index, host)?;
    let started = Instant::now();
    let cell = spec.grid.cell(index);
    let stop = || interrupted.load(Ordering::Relaxed);
    // A panic in a solver is a failed cell, recorded like any other failure, not a lost shard.
    let result = catch_unwind(AssertUnwindSafe(|| {
        exec::execute(spec.kind, &spec.grid, &cell, spec.outputs, &stop)
    }))
    .unwrap_or_else(|panic| {
        let msg = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        CellResult::Failed(format!("panicked: {msg}"))
    });
    let wall_seconds = started.elapsed().as_secs_f64();
    let mut record = CellRecord {
        index,
        status: String::new(),
        params: params_text(&spec.grid, index),
        scalars: Vec::new(),
        error: None,
        wall_seconds,
        host: host.to_owned(),
        sparsify_version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    let outcome = match result {
        CellResult::Interrupted => {
            dir.unmark_running(index);
            return Ok(None);
        }
        CellResult::Done(out) => {
            record.status = "done".to_owned();
            record.scalars = out.scalars;
            dir.write_cell(&record, &out.files)?;
            true
        }
        CellResult::Failed(msg) => {
            record.status = "failed".to_owned();
            record.error = Some(msg.lines().collect::<Vec<_>>().join("; "));
            dir.write_cell(&record, &[])?;
            false
        }
    };
    dir.unmark_running(index);
    Ok(Some((index, outcome)))
}

//! The Python module `sparsify`: the command line's `run`, `train`, `predict`, `verify` and
//! `sweep` as functions on numpy arrays, for notebooks.
//!
//! This crate is glue only: every parameter is checked, defaulted and refused by
//! `sparsify_cli::embed` exactly as the flags are (the messages are the command line's), and
//! every number comes from the library crates. It is **not** a place for numerics.
//!
//! Conventions of every function:
//! - the GIL is released while the libraries compute ([`Python::detach`]);
//! - Ctrl-C raises `KeyboardInterrupt` within about a tenth of a second: the computation polls
//!   [`Interrupt`], which calls `PyErr_CheckSignals` from the calling thread, and stops; no
//!   thread is left running;
//! - a bad argument raises `ValueError` (a bad value, with the command line's message) or
//!   `TypeError` (a value of the wrong type).
#![deny(missing_docs)]

mod arrays;
mod commands;
mod interrupt;
mod run;
mod train;

use pyo3::prelude::*;

/// The module `sparsify`.
#[pymodule]
fn sparsify(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(run::run, m)?)?;
    m.add_function(wrap_pyfunction!(arrays::w0_source, m)?)?;
    m.add_function(wrap_pyfunction!(train::train, m)?)?;
    m.add_function(wrap_pyfunction!(commands::predict, m)?)?;
    m.add_function(wrap_pyfunction!(commands::verify, m)?)?;
    let sweep = PyModule::new(m.py(), "sweep")?;
    sweep.add(
        "__doc__",
        "Sweeps as `sparsify sweep`: plan(spec, out), run(dir, jobs=, shard=), status(dir), \
         merge(dir).",
    )?;
    sweep.add_function(wrap_pyfunction!(commands::plan, &sweep)?)?;
    sweep.add_function(wrap_pyfunction!(commands::run, &sweep)?)?;
    sweep.add_function(wrap_pyfunction!(commands::status, &sweep)?)?;
    sweep.add_function(wrap_pyfunction!(commands::merge, &sweep)?)?;
    m.add_submodule(&sweep)?;
    m.add_class::<run::RunResult>()?;
    m.add_class::<train::TrainResult>()?;
    Ok(())
}

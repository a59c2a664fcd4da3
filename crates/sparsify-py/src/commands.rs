//! `sparsify.predict`, `sparsify.verify` and `sparsify.sweep.*`: the command line itself, run
//! in-process on a worker thread (`sparsify_cli::embed::command`), its files read back as
//! arrays and dicts. Thin by design: the flags are the command's, so are the checks.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use numpy::PyArray1;
use pyo3::exceptions::{PyKeyboardInterrupt, PyOSError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString};
use sparsify_cli::embed::{self, CommandOutput};
use sparsify_cli::exit;

/// How often the calling thread checks for Ctrl-C while the command runs.
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// Runs `sparsify ARGS...` on a scoped worker thread with the GIL released; the calling thread
/// checks for signals every 50 ms and, on Ctrl-C, sets the command's interrupt flag, waits for
/// it to stop (it does within a second) and raises. No thread outlives the call.
fn call(py: Python<'_>, args: Vec<String>) -> PyResult<CommandOutput> {
    let interrupted = AtomicBool::new(false);
    let mut raised: Option<PyErr> = None;
    let output = std::thread::scope(|scope| {
        let (tx, rx) = mpsc::channel();
        let flag = &interrupted;
        let args = &args;
        let worker = scope.spawn(move || {
            let out = embed::command(args, flag);
            // The receiver only goes away once this thread is joined.
            let _ = tx.send(());
            out
        });
        let mut rx = rx;
        loop {
            // The receiver is moved in and out: it may be sent to another thread, not shared.
            let (back, done) = py.detach(move || {
                let done = rx.recv_timeout(SIGNAL_POLL);
                (rx, done)
            });
            rx = back;
            if !matches!(done, Err(mpsc::RecvTimeoutError::Timeout)) {
                break;
            }
            if raised.is_none()
                && let Err(e) = py.check_signals()
            {
                raised = Some(e);
                interrupted.store(true, Ordering::Relaxed);
            }
        }
        py.detach(|| worker.join())
    });
    let output = output.map_err(|_| PyRuntimeError::new_err("the command panicked"))?;
    if let Some(e) = raised {
        return Err(e);
    }
    Ok(output)
}

/// The exception for a failed command: `ValueError` for a refused flag (exit 2) with the
/// command line's message, `OSError` for an output (74), `KeyboardInterrupt` (130).
fn failure(out: &CommandOutput) -> PyErr {
    let message = out
        .stderr
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("failed")
        .trim_start_matches("error: ")
        .to_owned();
    match out.code {
        exit::USAGE => PyValueError::new_err(message),
        exit::IO => PyOSError::new_err(message),
        exit::INTERRUPTED | exit::TERMINATED => PyKeyboardInterrupt::new_err(message),
        _ => PyRuntimeError::new_err(message),
    }
}

/// `--flag VALUE` for a given keyword argument (`True` is the flag alone, `False` and `None`
/// leave it out); floats as Python's repr, which reads back exactly.
fn flag(args: &mut Vec<String>, name: &str, value: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
    let Some(v) = value.filter(|v| !v.is_none()) else {
        return Ok(());
    };
    let text = if v.is_instance_of::<PyBool>() {
        if v.extract::<bool>()? {
            args.push(name.to_owned());
        }
        return Ok(());
    } else if v.is_instance_of::<PyFloat>() {
        v.repr()?.to_string()
    } else if v.is_instance_of::<PyInt>() || v.is_instance_of::<PyString>() {
        v.str()?.to_string()
    } else {
        return Err(PyTypeError::new_err(format!(
            "{}: need a number or a string, got {}",
            name.trim_start_matches("--").replace('-', "_"),
            v.get_type().name()?
        )));
    };
    args.push(name.to_owned());
    args.push(text);
    Ok(())
}

/// A CSV's columns: float64 arrays where every cell is a number (empty cells NaN), lists of
/// strings otherwise.
fn csv_columns<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyDict>> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let columns = PyDict::new(py);
    for (i, name) in header.iter().enumerate() {
        let cells: Vec<&str> = rows
            .iter()
            .map(|r| r.get(i).copied().unwrap_or(""))
            .collect();
        let numbers: Option<Vec<f64>> = cells
            .iter()
            .map(|c| {
                if c.is_empty() {
                    Some(f64::NAN)
                } else {
                    c.parse().ok()
                }
            })
            .collect();
        match numbers {
            Some(v) => columns.set_item(*name, PyArray1::from_vec(py, v))?,
            None => columns.set_item(*name, PyList::new(py, cells)?)?,
        }
    }
    Ok(columns)
}

fn json<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    py.import("json")?.call_method1("loads", (text,))
}

fn temp_dir() -> PyResult<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix("sparsify-py-")
        .tempdir()
        .map_err(|e| PyOSError::new_err(format!("cannot create a temporary directory: {e}")))
}

fn read(path: &std::path::Path) -> PyResult<String> {
    std::fs::read_to_string(path)
        .map_err(|e| PyOSError::new_err(format!("cannot read {}: {e}", path.display())))
}

/// Predicts death times (or, with `continuum=True`, whole curves) in closed form, without
/// simulating: `sparsify predict` as a function, every argument its flag of the same name
/// (`lam` is `--lambda`, `h` is `--step`, `w0` is `--init-file`).
///
/// Returns:
///     dict: "table", the `--out` CSV as a dict of float64 arrays (m_prime, t, or the
///     continuum's columns), and "summary", the `--summary` JSON.
#[pyfunction]
#[pyo3(signature = (
    m=None, lam=None, seed=None, rng=None, init=None, sigma=None, w0=None, abs=false,
    continuum=false, order=None, h=None, t_min=None, t_max=None, points_per_decade=None
))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn predict<'py>(
    py: Python<'py>,
    m: Option<&Bound<'py, PyAny>>,
    lam: Option<&Bound<'py, PyAny>>,
    seed: Option<&Bound<'py, PyAny>>,
    rng: Option<&Bound<'py, PyAny>>,
    init: Option<&Bound<'py, PyAny>>,
    sigma: Option<&Bound<'py, PyAny>>,
    w0: Option<&Bound<'py, PyAny>>,
    abs: bool,
    continuum: bool,
    order: Option<&Bound<'py, PyAny>>,
    h: Option<&Bound<'py, PyAny>>,
    t_min: Option<&Bound<'py, PyAny>>,
    t_max: Option<&Bound<'py, PyAny>>,
    points_per_decade: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let dir = temp_dir()?;
    let mut args = vec!["predict".to_owned()];
    for (name, value) in [
        ("--m", m),
        ("--lambda", lam),
        ("--seed", seed),
        ("--rng", rng),
        ("--init", init),
        ("--sigma", sigma),
        ("--order", order),
        ("--step", h),
        ("--t-min", t_min),
        ("--t-max", t_max),
        ("--points-per-decade", points_per_decade),
    ] {
        flag(&mut args, name, value)?;
    }
    if let Some(w0) = w0 {
        // The weights go through the command's own reader: a float64 .npy of the values.
        let (values, _) = crate::arrays::float_array("w0", w0, 1)?;
        let path = dir.path().join("w0.npy");
        let array = PyArray1::from_vec(py, values.into_vec_c());
        py.import("numpy")?
            .call_method1("save", (path.display().to_string(), array))?;
        args.extend(["--init-file".to_owned(), path.display().to_string()]);
    }
    if abs {
        args.push("--abs".to_owned());
    }
    if continuum {
        args.push("--continuum".to_owned());
    }
    let (out, summary) = (dir.path().join("out.csv"), dir.path().join("summary.json"));
    args.extend([
        "--out".to_owned(),
        out.display().to_string(),
        "--summary".to_owned(),
        summary.display().to_string(),
    ]);
    let result = call(py, args)?;
    if result.code != exit::SUCCESS {
        return Err(failure(&result));
    }
    let d = PyDict::new(py);
    d.set_item("table", csv_columns(py, &read(&out)?)?)?;
    d.set_item("summary", json(py, &read(&summary)?)?)?;
    Ok(d)
}

/// Checks the theoretical claims against simulation: `sparsify verify --json` as a function.
///
/// Args:
///     profile: "fast" (default, seconds) or the other profiles of `sparsify verify`.
///     claims: claim ids or names to run (default all).
///
/// Returns:
///     list of dict: one record per claim (id, name, statement, measured, tolerance, pass,
///     detail, seconds). A failed claim is a record with pass False, not an exception.
#[pyfunction]
#[pyo3(signature = (profile="fast", claims=None))]
pub(crate) fn verify<'py>(
    py: Python<'py>,
    profile: &str,
    claims: Option<Vec<String>>,
) -> PyResult<Bound<'py, PyAny>> {
    let mut args = vec![
        "verify".to_owned(),
        "--profile".to_owned(),
        profile.to_owned(),
        "--json".to_owned(),
    ];
    for c in claims.unwrap_or_default() {
        args.extend(["--claim".to_owned(), c]);
    }
    let result = call(py, args)?;
    if !(result.code == exit::SUCCESS || result.code == exit::CLAIM_FAILED) {
        return Err(failure(&result));
    }
    json(py, &result.stdout)?.get_item("claims")
}

/// Expands a sweep spec (a dict, as the TOML spec of `sparsify sweep plan`: kind, params,
/// axes, outputs) into numbered cells in the new directory `out`.
#[pyfunction]
pub(crate) fn plan(py: Python<'_>, spec: &Bound<'_, PyDict>, out: &str) -> PyResult<()> {
    let text: String = py
        .import("json")?
        .call_method1("dumps", (spec,))
        .map_err(|e| PyTypeError::new_err(format!("spec: not JSON-like ({e})")))?
        .extract()?;
    let toml = embed::spec_toml_from_json(&text).map_err(|e| PyValueError::new_err(e.message))?;
    let dir = temp_dir()?;
    let path = dir.path().join("spec.toml");
    std::fs::write(&path, toml)
        .map_err(|e| PyOSError::new_err(format!("cannot write {}: {e}", path.display())))?;
    let args = vec![
        "sweep".to_owned(),
        "plan".to_owned(),
        path.display().to_string(),
        "--out".to_owned(),
        out.to_owned(),
    ];
    let result = call(py, args)?;
    if result.code != exit::SUCCESS {
        return Err(failure(&result));
    }
    Ok(())
}

/// Runs the sweep's unfinished cells in `dir` (`jobs` at a time, this `shard` "I/N" of them),
/// as `sparsify sweep run`; finished cells are skipped. Raises RuntimeError if a cell failed.
#[pyfunction]
#[pyo3(signature = (dir, jobs=None, shard=None, retry_failed=false))]
pub(crate) fn run(
    py: Python<'_>,
    dir: &str,
    jobs: Option<&Bound<'_, PyAny>>,
    shard: Option<&Bound<'_, PyAny>>,
    retry_failed: bool,
) -> PyResult<()> {
    let mut args = vec!["sweep".to_owned(), "run".to_owned(), dir.to_owned()];
    flag(&mut args, "--jobs", jobs)?;
    flag(&mut args, "--shard", shard)?;
    if retry_failed {
        args.push("--retry-failed".to_owned());
    }
    let result = call(py, args)?;
    if result.code != exit::SUCCESS {
        return Err(failure(&result));
    }
    Ok(())
}

/// The cells of the sweep in `dir` counted by state (`sparsify sweep status`), as printed.
#[pyfunction]
pub(crate) fn status(py: Python<'_>, dir: &str) -> PyResult<String> {
    let result = call(
        py,
        vec!["sweep".to_owned(), "status".to_owned(), dir.to_owned()],
    )?;
    if result.code != exit::SUCCESS && result.code != exit::CLAIM_FAILED {
        return Err(failure(&result));
    }
    Ok(result.stdout)
}

/// One row per cell and the aggregate over seeds (`sparsify sweep merge`), as dicts of
/// columns: {"table": ..., "aggregate": ...}; float64 arrays for numbers, lists otherwise.
#[pyfunction]
#[pyo3(signature = (dir, partial=false))]
pub(crate) fn merge<'py>(
    py: Python<'py>,
    dir: &str,
    partial: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let tmp = temp_dir()?;
    let (table, aggregate) = (tmp.path().join("t.csv"), tmp.path().join("a.csv"));
    let mut args = vec![
        "sweep".to_owned(),
        "merge".to_owned(),
        dir.to_owned(),
        "--out".to_owned(),
        table.display().to_string(),
        "--aggregate".to_owned(),
        aggregate.display().to_string(),
    ];
    if partial {
        args.push("--partial".to_owned());
    }
    let result = call(py, args)?;
    if result.code != exit::SUCCESS {
        return Err(failure(&result));
    }
    let d = PyDict::new(py);
    d.set_item("table", csv_columns(py, &read(&table)?)?)?;
    d.set_item("aggregate", csv_columns(py, &read(&aggregate)?)?)?;
    Ok(d)
}

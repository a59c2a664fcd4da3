//! `sparsify.run`: `sparsify run` as a function, its files as arrays.

use std::collections::BTreeMap;

use numpy::{PyArray1, PyArrayMethods};
use pyo3::exceptions::{PyKeyError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt};
use sparsify_cli::embed::{self, EmbedError, ErrorKind, RunRequest};

use crate::arrays::{Values, float_array};
use crate::interrupt::Interrupt;

/// A trajectory row: its step (none off the Euler grid) and state.
type Row = (Option<u64>, sparsify_core::StepStats);

/// The columns of `.trajectory`, as the `--trajectory` CSV has them.
const TRAJECTORY_COLUMNS: [&str; 9] = [
    "step",
    "t",
    "m_prime",
    "one_norm",
    "sq_norm",
    "w_max",
    "w_min",
    "relative_variance",
    "gamma",
];

/// An error of the embedded command as a Python exception: `ValueError` for a refused value.
pub(crate) fn to_py(e: EmbedError, interrupt: Interrupt) -> PyErr {
    match e.kind {
        ErrorKind::Interrupted => interrupt.into_error(),
        ErrorKind::Usage => PyValueError::new_err(e.message),
        ErrorKind::Other => pyo3::exceptions::PyRuntimeError::new_err(e.message),
    }
}

/// A count given as an int or a whole float (`1e5`), read as the flag reads its text.
pub(crate) fn count_text(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<String> {
    if obj.is_instance_of::<PyBool>()
        || !(obj.is_instance_of::<PyInt>() || obj.is_instance_of::<PyFloat>())
    {
        return Err(PyTypeError::new_err(format!(
            "{name}: need an int (or a whole float such as 1e5), got {}",
            obj.get_type().name()?
        )));
    }
    Ok(obj.str()?.to_string())
}

/// A non-negative integer such as a seed; a negative or too large one is refused with the
/// message `flag` gives it on the command line.
pub(crate) fn whole(name: &str, flag: &str, obj: &Bound<'_, PyAny>) -> PyResult<u64> {
    if obj.is_instance_of::<PyBool>() || !obj.is_instance_of::<PyInt>() {
        return Err(PyTypeError::new_err(format!(
            "{name}: need an int, got {}",
            obj.get_type().name()?
        )));
    }
    obj.extract::<u64>().map_err(|_| {
        let text = obj.str().map(|s| s.to_string()).unwrap_or_default();
        // What the flag's parser (`u64::from_str`) says of the same text.
        let why = text
            .parse::<u64>()
            .err()
            .map_or_else(String::new, |e| e.to_string());
        PyValueError::new_err(format!(
            "invalid value '{text}' for '{flag}': {why} (see --help)"
        ))
    })
}

/// `params={"mu": 0.05}` as `--param mu=0.05 ...`, in the dict's order.
pub(crate) fn params_of(params: Option<&Bound<'_, PyDict>>) -> PyResult<Vec<(String, f64)>> {
    let Some(params) = params else {
        return Ok(Vec::new());
    };
    params
        .iter()
        .map(|(k, v)| {
            let name: String = k.extract().map_err(|_| {
                PyTypeError::new_err("params: the names must be strings, like {\"mu\": 0.05}")
            })?;
            let value: f64 = v
                .extract()
                .map_err(|_| PyTypeError::new_err(format!("params: {name} must be a number")))?;
            Ok((name, value))
        })
        .collect()
}

/// Simulates one encoding w in R^m under dw_j/dt = (1 - ||w||^2) w_j - lambda until one
/// coordinate is left: `sparsify run` as a function.
///
/// Every argument is the flag of the same name (`lam` is `--lambda`, `h` is `--step`, `w0`
/// is `--init-file`), with its default, its checks and its message: a refused value raises
/// `ValueError` with the command line's message (which names the flag), a value of the wrong
/// type `TypeError`.
///
/// Args:
///     m: number of coordinates, an int >= 2 or a whole float (default 100000).
///     lam: L1 strength lambda > 0 (default 1e-5).
///     h: Euler step > 0 (default 0.5); with method="adaptive", the output grid t = step*h.
///     method: "direct" (the published loop, default), "reduced" (O(1) per step, the same
///         death steps) or "adaptive" (continuous time, located deaths).
///     dynamics: "l1" (default), "l1-l2" or "lp"; its parameters in `params`.
///     params: the variant's parameters, e.g. {"mu": 0.05} (`--param mu=0.05`).
///     seed: seed of the random initialisation (default 0; numpy: 0 to 2^32-1).
///     rng: "pcg64" (default; "pcg" is the same) or "numpy" (the published script's stream).
///     init: "half-normal" (default) or "quantile".
///     sigma: scale of the initial weights (default 0.9/sqrt(m)).
///     sum: "sequential" (default) or "pairwise" (direct only).
///     rtol, atol: tolerances of method="adaptive" (defaults 1e-8, 1e-12).
///     max_steps: the step budget (default 1e9).
///     parallel_init: draw the half-normal weights in parallel (rng="pcg64" only).
///     w0: initial weights (1-D array, any order, each finite and > 0), instead of m, seed,
///         rng, init and sigma; float64 is read in place, other exact dtypes converted.
///     abs: take absolute values of `w0`.
///     record: steps after which to keep every surviving weight (`weights_at(step)`);
///         step 0 is the initial weights. Not with method="adaptive".
///
/// Returns:
///     RunResult: `.trajectory` (dict of float64 arrays, the `--trajectory` CSV's columns),
///     `.deaths`, `.summary` (the `--summary` JSON as a dict), `.weights_at(step)`.
///
/// Raises:
///     ValueError, TypeError: a bad argument. KeyboardInterrupt: Ctrl-C (within ~0.1 s).
///
/// The GIL is released while the run computes.
#[pyfunction]
#[pyo3(signature = (
    m=None, lam=None, h=None, method=None, dynamics=None, params=None, seed=None, rng=None,
    init=None, sigma=None, sum=None, rtol=None, atol=None, max_steps=None, parallel_init=false,
    w0=None, abs=false, record=None
))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn run(
    py: Python<'_>,
    m: Option<&Bound<'_, PyAny>>,
    lam: Option<f64>,
    h: Option<f64>,
    method: Option<String>,
    dynamics: Option<String>,
    params: Option<&Bound<'_, PyDict>>,
    seed: Option<&Bound<'_, PyAny>>,
    rng: Option<String>,
    init: Option<String>,
    sigma: Option<f64>,
    sum: Option<String>,
    rtol: Option<f64>,
    atol: Option<f64>,
    max_steps: Option<&Bound<'_, PyAny>>,
    parallel_init: bool,
    w0: Option<&Bound<'_, PyAny>>,
    abs: bool,
    record: Option<Vec<u64>>,
) -> PyResult<RunResult> {
    let m = m
        .map(|m| {
            let text = count_text("m", m)?;
            embed::parse_m(&text).map_err(|e| PyValueError::new_err(e.message))
        })
        .transpose()?;
    let max_steps = max_steps
        .map(|n| {
            let text = count_text("max_steps", n)?;
            embed::parse_max_steps(&text).map_err(|e| PyValueError::new_err(e.message))
        })
        .transpose()?;
    let request = RunRequest {
        m,
        seed: seed
            .map(|s| whole("seed", "--seed <SEED>", s))
            .transpose()?,
        // The spelling "pcg" is pcg64, the only pcg the command line has.
        rng: rng.map(|r| if r == "pcg" { "pcg64".to_owned() } else { r }),
        init,
        sigma,
        lambda: lam,
        step: h,
        parallel_init,
        sum,
        method,
        dynamics,
        params: params_of(params)?,
        rtol,
        atol,
        max_steps,
        abs,
        record: record.unwrap_or_default(),
    };
    let values = w0.map(|w| float_array("w0", w, 1)).transpose()?;
    let interrupt = Interrupt::new();
    let result = {
        // The one copy of w0 (the solver's working vector) is made with the GIL released.
        let (borrowed, converted) = match values {
            Some((Values::Converted(v), _)) => (None, Some(v)),
            Some((v, _)) => (Some(v), None),
            None => (None, None),
        };
        let in_place = borrowed.as_ref().and_then(Values::slice);
        // A strided view has no slice: gathered here, the one copy all the same.
        let converted = converted.or_else(|| {
            borrowed
                .as_ref()
                .filter(|_| in_place.is_none())
                .map(|v| v.clone_c())
        });
        let stop = || interrupt.stop();
        py.detach(|| {
            let w0 = in_place.map(<[f64]>::to_vec).or(converted);
            embed::run(&request, w0, &stop)
        })
    };
    let out = match result {
        Ok(out) => out,
        Err(e) => return Err(to_py(e, interrupt)),
    };
    if out.interrupted || interrupt.stopped() {
        return Err(interrupt.into_error());
    }
    RunResult::new(py, out)
}

/// The result of `sparsify.run`: what `sparsify run` writes to its files.
#[pyclass(frozen, module = "sparsify")]
pub(crate) struct RunResult {
    trajectory: Py<PyDict>,
    deaths: Py<PyDict>,
    summary_json: String,
    snapshots: BTreeMap<u64, Py<PyArray1<f64>>>,
}

impl RunResult {
    fn new(py: Python<'_>, out: embed::RunOutput) -> PyResult<Self> {
        let rows = &out.trajectory;
        let column = |f: &dyn Fn(&Row) -> f64| PyArray1::from_vec(py, rows.iter().map(f).collect());
        let trajectory = PyDict::new(py);
        // Steps are exact in float64 (below 2^53); an adaptive run's last row has none (NaN),
        // as its CSV row has an empty field.
        let step = |r: &(Option<u64>, _)| r.0.map_or(f64::NAN, |s| s as f64);
        trajectory.set_item(TRAJECTORY_COLUMNS[0], column(&step))?;
        trajectory.set_item(TRAJECTORY_COLUMNS[1], column(&|r| r.1.t))?;
        trajectory.set_item(TRAJECTORY_COLUMNS[2], column(&|r| r.1.m_prime as f64))?;
        trajectory.set_item(TRAJECTORY_COLUMNS[3], column(&|r| r.1.one_norm))?;
        trajectory.set_item(TRAJECTORY_COLUMNS[4], column(&|r| r.1.sq_norm))?;
        trajectory.set_item(TRAJECTORY_COLUMNS[5], column(&|r| r.1.w_max))?;
        trajectory.set_item(TRAJECTORY_COLUMNS[6], column(&|r| r.1.w_min))?;
        trajectory.set_item(TRAJECTORY_COLUMNS[7], column(&|r| r.1.relative_variance))?;
        trajectory.set_item(TRAJECTORY_COLUMNS[8], column(&|r| r.1.gamma))?;
        let deaths = PyDict::new(py);
        let d = &out.deaths;
        deaths.set_item(
            "step",
            PyArray1::from_vec(
                py,
                d.iter()
                    .map(|d| d.step.map_or(f64::NAN, |s| s as f64))
                    .collect(),
            ),
        )?;
        deaths.set_item("t", PyArray1::from_vec(py, d.iter().map(|d| d.t).collect()))?;
        deaths.set_item(
            "m_prime",
            PyArray1::from_vec(py, d.iter().map(|d| d.m_prime as f64).collect()),
        )?;
        let snapshots = out
            .snapshots
            .into_iter()
            .map(|(k, w)| {
                let a = PyArray1::from_vec(py, w);
                a.readwrite().make_nonwriteable();
                (k, a.unbind())
            })
            .collect();
        Ok(Self {
            trajectory: trajectory.unbind(),
            deaths: deaths.unbind(),
            summary_json: out.summary_json,
            snapshots,
        })
    }
}

#[pymethods]
impl RunResult {
    /// The checkpoints (every step to 50, then about 40 per decade, and the last) as a dict
    /// of 1-D float64 arrays: step, t, m_prime, one_norm, sq_norm, w_max, w_min,
    /// relative_variance, gamma (the `--trajectory` CSV's columns; step is NaN on an
    /// adaptive run's last row).
    #[getter]
    fn trajectory(&self, py: Python<'_>) -> Py<PyDict> {
        self.trajectory.clone_ref(py)
    }

    /// Every change of m' as a dict of 1-D float64 arrays: step, t, m_prime (the `--deaths`
    /// CSV; step is NaN for the adaptive method's located deaths).
    #[getter]
    fn deaths(&self, py: Python<'_>) -> Py<PyDict> {
        self.deaths.clone_ref(py)
    }

    /// The run's parameters, totals, initial and final state and timing: the `--summary`
    /// JSON as a dict.
    #[getter]
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py.import("json")?
            .call_method1("loads", (&self.summary_json,))
    }

    /// The steps whose weights were recorded (`record=`), ascending.
    #[getter]
    fn recorded_steps(&self) -> Vec<u64> {
        self.snapshots.keys().copied().collect()
    }

    /// The surviving weights after Euler step `step`, descending (read-only float64): only
    /// for a step given in `record=` that the run reached; KeyError otherwise.
    fn weights_at(&self, py: Python<'_>, step: u64) -> PyResult<Py<PyArray1<f64>>> {
        self.snapshots
            .get(&step)
            .map(|a| a.clone_ref(py))
            .ok_or_else(|| {
                PyKeyError::new_err(format!(
                    "step {step}: no weights recorded there (recorded: {:?}); pass \
                     record=[{step}] to sparsify.run",
                    self.snapshots.keys().collect::<Vec<_>>()
                ))
            })
    }

    /// `.trajectory` as a pandas DataFrame (needs pandas).
    fn to_pandas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let pandas = py.import("pandas").map_err(|e| {
            pyo3::exceptions::PyImportError::new_err(format!(
                "to_pandas needs pandas (pip install pandas): {e}"
            ))
        })?;
        pandas.call_method1("DataFrame", (self.trajectory.bind(py),))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let rows = self
            .trajectory
            .bind(py)
            .get_item("t")?
            .map_or(0, |a| a.len().unwrap_or(0));
        Ok(format!(
            "RunResult({rows} checkpoints, {} deaths; .trajectory, .deaths, .summary, \
             .weights_at(step))",
            self.deaths
                .bind(py)
                .get_item("t")?
                .map_or(0, |a| a.len().unwrap_or(0))
        ))
    }
}

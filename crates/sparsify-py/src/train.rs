//! `sparsify.train`: `sparsify train` (the paper's n-feature model) as a function, its files
//! as arrays.

use numpy::PyArray1;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use sparsify_cli::embed::{self, TrainRequest};
use sparsify_experiments::train::Dtype;
use sparsify_nfeature::{StopReason, Weights};

use crate::arrays::{Values, float_array};
use crate::interrupt::Interrupt;
use crate::run::{count_text, to_py, whole};

/// A size given as an int or a whole float (`1e3`), read as the flag reads it.
fn size(name: &str, flag: &str, obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<usize>> {
    obj.map(|o| {
        let text = count_text(name, o)?;
        embed::parse_size(flag, &text).map_err(|e| PyValueError::new_err(e.message))
    })
    .transpose()
}

/// An update count given as an int or a whole float, read as the flag reads it.
fn updates(name: &str, flag: &str, obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<u64>> {
    obj.map(|o| {
        let text = count_text(name, o)?;
        embed::parse_updates(flag, &text).map_err(|e| PyValueError::new_err(e.message))
    })
    .transpose()
}

/// Trains the paper's n-feature model: `instances` tied-weight models y = relu(W W^T x) of n
/// features on m neurons, loss sum (y - x)^2 + lambda sum |W| on the identity batch, full
/// batch; `sparsify train` as a function.
///
/// Every argument is the flag of the same name (`lam` is `--lambda`, `w0` is `--init-file`),
/// with its default, checks and message (`ValueError` names the flag).
///
/// Args:
///     n, m: features and neurons (required unless `w0` gives them).
///     instances: models side by side (default 1, or w0's).
///     lam: L1 strength (default 1e-3; 0 drops the term).
///     steps: updates (default 7500).
///     seed: seed of W0 = N(0, 1/m) (unless `w0`) and of the noise (default 0).
///     optimizer: "adamw" (default, torch's, weight decay 0.01), "sgd" or "flow" (the
///         gradient flow with exact zeros).
///     lr: learning rate (default 1e-3 adamw, 0.02 sgd).
///     weight_decay, beta1, beta2, eps: AdamW's (defaults 0.01, 0.9, 0.999, 1e-8).
///     step: the flow's time step (default 0.05).
///     noise: "none" (default), "bernoulli" or "gaussian", amplitude `sigma`.
///     dtype: "f32" (default, as the paper's torch code) or "f64".
///     w0: initial weights of shape (instances, n, m), C or Fortran order, any exact dtype.
///     save_weights: update counts after which to keep W (in `.saved`).
///     record_every: record the metrics every K updates (default 100).
///
/// Returns:
///     TrainResult: `.w0`, `.w_final` and `.saved[step]` as (instances, n, m) arrays (float32
///     when the model ran in float32), `.loss` and `.trajectory` (dicts of 1-D float64
///     arrays), `.counts` (dict of per-instance arrays), `.summary` (dict).
///
/// The GIL is released while training; Ctrl-C raises KeyboardInterrupt after the current
/// update.
#[pyfunction]
#[pyo3(signature = (
    n=None, m=None, instances=None, lam=None, steps=None, seed=None, optimizer=None, lr=None,
    weight_decay=None, beta1=None, beta2=None, eps=None, step=None, noise=None, sigma=None,
    dtype=None, w0=None, save_weights=None, record_every=None
))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn train(
    py: Python<'_>,
    n: Option<&Bound<'_, PyAny>>,
    m: Option<&Bound<'_, PyAny>>,
    instances: Option<&Bound<'_, PyAny>>,
    lam: Option<f64>,
    steps: Option<&Bound<'_, PyAny>>,
    seed: Option<&Bound<'_, PyAny>>,
    optimizer: Option<String>,
    lr: Option<f64>,
    weight_decay: Option<f64>,
    beta1: Option<f64>,
    beta2: Option<f64>,
    eps: Option<f64>,
    step: Option<f64>,
    noise: Option<String>,
    sigma: Option<f64>,
    dtype: Option<String>,
    w0: Option<&Bound<'_, PyAny>>,
    save_weights: Option<Vec<Bound<'_, PyAny>>>,
    record_every: Option<&Bound<'_, PyAny>>,
) -> PyResult<TrainResult> {
    let save_weights = save_weights
        .unwrap_or_default()
        .iter()
        .map(|s| updates("save_weights", "--save-weights", Some(s)).map(|v| v.unwrap_or(0)))
        .collect::<PyResult<Vec<u64>>>()?;
    let request = TrainRequest {
        n: size("n", "--n", n)?,
        m: size("m", "--m", m)?,
        instances: size("instances", "--instances", instances)?,
        lambda: lam,
        steps: updates("steps", "--steps", steps)?,
        seed: seed
            .map(|s| whole("seed", "--seed <SEED>", s))
            .transpose()?,
        optimizer,
        lr,
        weight_decay,
        beta1,
        beta2,
        eps,
        step,
        noise,
        sigma,
        dtype,
        save_weights,
        record_every: updates("record_every", "--record-every", record_every)?,
    };
    let w0 = w0
        .map(|w| -> PyResult<([usize; 3], Values<'_>)> {
            let (values, shape) = float_array("w0", w, 3)?;
            Ok(([shape[0], shape[1], shape[2]], values))
        })
        .transpose()?;
    let interrupt = Interrupt::new();
    let result = {
        // C order is read in place; Fortran order (or any other) is gathered in C order.
        let w0 = w0.map(|(dims, values)| (dims, values.into_vec_c()));
        let stop = || interrupt.stop();
        py.detach(|| embed::train(&request, w0, &stop))
    };
    let out = match result {
        Ok(out) => out,
        Err(e) => return Err(to_py(e, interrupt)),
    };
    if out.outcome.summary.stop == StopReason::Interrupted || interrupt.stopped() {
        return Err(interrupt.into_error());
    }
    if let StopReason::NonFinite { step } = out.outcome.summary.stop {
        return Err(PyRuntimeError::new_err(format!(
            "the weights or the loss became NaN or infinite at update {step}; lower --lr"
        )));
    }
    TrainResult::new(py, out)
}

/// The weights as an `(instances, n, m)` array in the model's precision.
fn weights_array<'py>(
    py: Python<'py>,
    w: &Weights<f64>,
    dtype: Dtype,
) -> PyResult<Bound<'py, PyAny>> {
    let s = w.shape();
    let dims = [s.instances, s.n, s.m];
    let flat: Bound<'py, PyAny> = match dtype {
        // The f32 run's weights are f32 values held in f64: the conversion back is exact.
        Dtype::F32 => {
            PyArray1::from_vec(py, w.as_slice().iter().map(|&x| x as f32).collect()).into_any()
        }
        Dtype::F64 => PyArray1::from_slice(py, w.as_slice()).into_any(),
    };
    flat.call_method1("reshape", (dims,))
}

/// A named column and how to read it from a row.
type Column<'a, R> = (&'a str, &'a dyn Fn(&R) -> f64);

/// Columns of float64 as a dict of 1-D arrays.
fn columns<'py, R>(
    py: Python<'py>,
    rows: &[R],
    cols: &[Column<'_, R>],
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (name, f) in cols {
        d.set_item(*name, PyArray1::from_vec(py, rows.iter().map(f).collect()))?;
    }
    Ok(d)
}

/// The result of `sparsify.train`: what `sparsify train` writes into its directory.
#[pyclass(frozen, module = "sparsify", get_all)]
pub(crate) struct TrainResult {
    /// The initial weights, (instances, n, m).
    w0: Py<PyAny>,
    /// The final weights, (instances, n, m).
    w_final: Py<PyAny>,
    /// `{step: weights}` for each `save_weights` step reached.
    saved: Py<PyDict>,
    /// The loss after every update (`loss.csv`): step, mse, l1_term, total.
    loss: Py<PyDict>,
    /// The metrics every `record_every` updates (`trajectory.csv`).
    trajectory: Py<PyDict>,
    /// Per instance, as the paper counts (`counts.csv`).
    counts: Py<PyDict>,
    /// steps, stop reason, precision, method, train_seconds.
    summary: Py<PyDict>,
}

impl TrainResult {
    fn new(py: Python<'_>, out: embed::TrainOutput) -> PyResult<Self> {
        let o = &out.outcome;
        let dtype = out.spec.dtype;
        let saved = PyDict::new(py);
        for (k, w) in &o.saved {
            saved.set_item(k, weights_array(py, w, dtype)?)?;
        }
        let loss = columns(
            py,
            &o.loss,
            &[
                ("step", &|r| r.step as f64),
                ("mse", &|r| r.mse),
                ("l1_term", &|r| r.l1_term),
                ("total", &|r| r.total),
            ],
        )?;
        let trajectory = columns(
            py,
            &o.trajectory,
            &[
                ("step", &|r| r.step as f64),
                ("t", &|r| r.t),
                ("mse", &|r| r.mse),
                ("l1_term", &|r| r.l1_term),
                ("total", &|r| r.total),
                ("mean_fourth_norm", &|r| r.mean_fourth_norm),
                ("mean_polysemantic", &|r| r.mean_polysemantic),
                ("mean_active", &|r| r.mean_active),
            ],
        )?;
        let counts = columns(
            py,
            &o.counts,
            &[
                ("instance", &|c| c.instance as f64),
                ("polysemantic", &|c| c.polysemantic as f64),
                ("initial_collisions", &|c| c.initial_collisions as f64),
                ("initial_collisions_opposite_sign", &|c| {
                    c.initial_collisions_opposite_sign as f64
                }),
                ("shared_opposite_sign", &|c| c.shared_opposite_sign as f64),
                ("winner_is_initial_argmax_fraction", &|c| {
                    c.winner_is_initial_argmax_fraction
                }),
            ],
        )?;
        let summary = PyDict::new(py);
        summary.set_item("steps", o.summary.steps)?;
        summary.set_item("method", out.spec.method.name())?;
        summary.set_item("dtype", dtype.name())?;
        summary.set_item("lambda", out.spec.lambda)?;
        summary.set_item("seed", out.spec.seed)?;
        summary.set_item("train_seconds", o.train_seconds)?;
        summary.set_item("complete", o.summary.stop == StopReason::Completed)?;
        Ok(Self {
            w0: weights_array(py, &o.w0, dtype)?.unbind(),
            w_final: weights_array(py, &o.w_final, dtype)?.unbind(),
            saved: saved.unbind(),
            loss: loss.unbind(),
            trajectory: trajectory.unbind(),
            counts: counts.unbind(),
            summary: summary.unbind(),
        })
    }
}

#[pymethods]
impl TrainResult {
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let shape = self.w_final.bind(py).getattr("shape")?.str()?.to_string();
        Ok(format!(
            "TrainResult(W {shape}; .w0, .w_final, .saved, .loss, .trajectory, .counts, \
             .summary)"
        ))
    }
}

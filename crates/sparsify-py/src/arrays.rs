//! Arrays in: numpy arrays (or anything `numpy.asarray` takes, a torch tensor's `.numpy()`)
//! read as float64 where that is exact, refused where it is not.
//!
//! A float64 array is read in place, through a read-only borrow of its buffer; the only copy
//! is the solver's own working vector, made straight from that buffer after the GIL is
//! released. Other dtypes are converted element by element into that same vector (float32,
//! float16 and integers up to 2^53 are exact in float64); bool, complex, object and string
//! arrays are refused with `TypeError`, 64-bit integers beyond 2^53 with `ValueError`.

use numpy::{
    PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArray,
    PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

/// The largest integer below which every integer is exact in float64.
const EXACT_INT: u64 = 1 << 53;

/// An input array's values: borrowed in place (float64) or converted.
pub(crate) enum Values<'py> {
    /// A float64 array's buffer, borrowed read-only.
    Borrowed(PyReadonlyArrayDyn<'py, f64>),
    /// Converted values, in C order.
    Converted(Vec<f64>),
}

impl Values<'_> {
    /// The values as one slice in C order, when no copy is needed to get it.
    pub(crate) fn slice(&self) -> Option<&[f64]> {
        match self {
            // `as_slice` also accepts Fortran order, whose memory order is not C order.
            Values::Borrowed(a) if a.is_c_contiguous() => a.as_slice().ok(),
            Values::Borrowed(_) => None,
            Values::Converted(v) => Some(v),
        }
    }

    /// The values in C order, copied.
    pub(crate) fn clone_c(&self) -> Vec<f64> {
        match self {
            Values::Borrowed(a) => a.as_array().iter().copied().collect(),
            Values::Converted(v) => v.clone(),
        }
    }

    /// The values in C order, owned: the one copy (none when already converted).
    pub(crate) fn into_vec_c(self) -> Vec<f64> {
        match self {
            Values::Borrowed(a) => match a.as_slice() {
                Ok(s) if a.is_c_contiguous() => s.to_vec(),
                // Any other layout is gathered in logical (C) order.
                _ => a.as_array().iter().copied().collect(),
            },
            Values::Converted(v) => v,
        }
    }
}

/// An input `name` as an array of `ndim` dimensions, with its shape.
///
/// # Errors
/// `TypeError` for a dtype that float64 does not hold exactly or that is not a number;
/// `ValueError` for the wrong number of dimensions or an integer beyond 2^53.
pub(crate) fn float_array<'py>(
    name: &str,
    obj: &Bound<'py, PyAny>,
    ndim: usize,
) -> PyResult<(Values<'py>, Vec<usize>)> {
    let py = obj.py();
    let array: Bound<'py, PyUntypedArray> = match obj.cast::<PyUntypedArray>() {
        Ok(a) => a.clone(),
        Err(_) => {
            let asarray = py.import("numpy")?.getattr("asarray")?;
            let converted = asarray.call1((obj,)).map_err(|e| {
                PyTypeError::new_err(format!("{name}: not an array of numbers ({e})"))
            })?;
            converted.cast_into::<PyUntypedArray>()?
        }
    };
    let shape = array.shape().to_vec();
    let dtype = array.dtype();
    // A dtype that is no real number is a wrong type, whatever the shape.
    if !matches!(dtype.kind(), b'f' | b'i' | b'u') {
        return Err(PyTypeError::new_err(format!(
            "{name}: dtype {} cannot be read as float64 exactly (need a float or integer array)",
            dtype.str()?
        )));
    }
    if array.ndim() != ndim {
        return Err(PyValueError::new_err(format!(
            "{name}: need a {ndim}-D array, got shape {shape:?}"
        )));
    }
    if dtype.is_equiv_to(&numpy::dtype::<f64>(py)) {
        let typed = array.cast::<PyArrayDyn<f64>>()?;
        return Ok((Values::Borrowed(typed.try_readonly()?), shape));
    }
    macro_rules! convert {
        ($($t:ty => $exact:expr),* $(,)?) => {
            $(
                if dtype.is_equiv_to(&numpy::dtype::<$t>(py)) {
                    let typed = array.cast::<PyArrayDyn<$t>>()?.try_readonly()?;
                    let view = typed.as_array();
                    let mut out = Vec::with_capacity(view.len());
                    for (index, &x) in view.iter().enumerate() {
                        let exact: fn($t) -> Option<f64> = $exact;
                        match exact(x) {
                            Some(v) => out.push(v),
                            None => {
                                return Err(PyValueError::new_err(format!(
                                    "{name}: element {index} ({x}) is not exact in float64 \
                                     (integers up to 2^53 are)"
                                )));
                            }
                        }
                    }
                    return Ok((Values::Converted(out), shape));
                }
            )*
        };
    }
    convert!(
        f32 => |x| Some(f64::from(x)),
        i8 => |x| Some(f64::from(x)),
        i16 => |x| Some(f64::from(x)),
        i32 => |x| Some(f64::from(x)),
        u8 => |x| Some(f64::from(x)),
        u16 => |x| Some(f64::from(x)),
        u32 => |x| Some(f64::from(x)),
        i64 => |x| (x.unsigned_abs() <= EXACT_INT).then_some(x as f64),
        u64 => |x| (x <= EXACT_INT).then_some(x as f64),
    );
    Err(PyTypeError::new_err(format!(
        "{name}: dtype {} cannot be read as float64 exactly (need a float or integer array)",
        dtype.str()?
    )))
}

/// `(address, borrowed)`: where the module reads `w0`'s values from, and whether that is the
/// array's own buffer (no copy). For tests and measurements of the no-copy path: compare the
/// address with `w0.ctypes.data`.
#[pyfunction]
pub(crate) fn w0_source(w0: &Bound<'_, PyAny>) -> PyResult<(usize, bool)> {
    let (values, _) = float_array("w0", w0, 1)?;
    let borrowed = matches!(values, Values::Borrowed(_));
    let address = values.slice().map_or(0, |s| s.as_ptr() as usize);
    Ok((address, borrowed))
}

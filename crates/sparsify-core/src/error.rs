//! The one error type of this crate.

use std::fmt;

/// Everything that can go wrong in `sparsify-core`: invalid parameters or weights, and an
/// unstable Euler step. Messages name the parameter, its value and the valid range.
#[derive(Debug, Clone, PartialEq)]
pub enum CoreError {
    /// A scalar parameter is outside its valid range.
    InvalidParameter {
        /// The parameter's name as a user knows it (e.g. `lambda`).
        name: &'static str,
        /// The offending value.
        value: f64,
        /// The valid range, in words (e.g. `a finite number > 0`).
        valid: &'static str,
    },
    /// Too few weights to sparsify.
    TooFewWeights {
        /// How many weights were given.
        m: usize,
    },
    /// A given weight is zero, negative or not finite.
    InvalidWeight {
        /// Its 0-based position in the input as given (before sorting).
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// The Euler step would flip the sign of every weight: `1 + h*(1 - ||w||^2) <= 0`.
    UnstableStep {
        /// The step about to be taken (0-based).
        step: u64,
        /// The step size.
        h: f64,
        /// `||w||_2^2` before the step.
        sq_norm: f64,
    },
}

impl fmt::Display for CoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CoreError::InvalidParameter { name, value, valid } => {
                write!(f, "invalid {name} = {value}: must be {valid}")
            }
            CoreError::TooFewWeights { m } => {
                write!(f, "invalid m = {m}: need at least 2 weights to sparsify")
            }
            CoreError::InvalidWeight { index, value } => write!(
                f,
                "invalid weight {value} at index {index}: weights must be finite and > 0 \
                 (take absolute values first if signs do not matter)"
            ),
            CoreError::UnstableStep { step, h, sq_norm } => {
                let limit = 1.0 / (sq_norm - 1.0);
                write!(
                    f,
                    "invalid step h = {h}: unstable at step {step}, where ||w||^2 = {sq_norm} \
                     makes 1 + h*(1 - ||w||^2) <= 0 (Euler would flip every sign); \
                     need h < 1/(||w||^2 - 1) = {limit}"
                )
            }
        }
    }
}

impl std::error::Error for CoreError {}

/// Checks that `value` is finite and strictly positive.
pub(crate) fn positive_finite(name: &'static str, value: f64) -> Result<f64, CoreError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(CoreError::InvalidParameter {
            name,
            value,
            valid: "a finite number > 0",
        })
    }
}

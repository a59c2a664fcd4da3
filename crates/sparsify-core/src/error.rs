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
    /// A dynamics variant or method name that is not known.
    UnknownName {
        /// What was being named (e.g. `dynamics`).
        what: &'static str,
        /// The name given.
        name: String,
        /// The valid names, in words.
        valid: &'static str,
    },
    /// The reduced solvers need the affine structure `w_j = alpha*w0_j - beta`, which this
    /// dynamics variant does not keep.
    NotAffine {
        /// The variant's name.
        dynamics: String,
    },
    /// A parameter that this configuration requires was not given.
    MissingParameter {
        /// The parameter's name.
        name: &'static str,
        /// Why it is required.
        reason: &'static str,
    },
    /// The adaptive solver's step size fell below what the time resolution allows.
    StepSizeTooSmall {
        /// The time reached.
        t: f64,
        /// The step size proposed there.
        h: f64,
    },
    /// The adaptive solver took more steps than allowed.
    TooManySteps {
        /// The limit.
        max_steps: u64,
        /// The time reached.
        t: f64,
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
            CoreError::UnknownName { what, name, valid } => {
                write!(f, "unknown {what} '{name}': use {valid}")
            }
            CoreError::NotAffine { dynamics } => write!(
                f,
                "dynamics '{dynamics}' does not keep the affine structure w_j = alpha*w0_j - beta: \
                 use the direct Euler or the full-vector adaptive solver"
            ),
            CoreError::MissingParameter { name, reason } => {
                write!(f, "missing {name}: {reason}")
            }
            CoreError::StepSizeTooSmall { t, h } => write!(
                f,
                "step size h = {h:e} at t = {t} is below the time resolution: \
                 loosen rtol/atol or check the dynamics for a singularity"
            ),
            CoreError::TooManySteps { max_steps, t } => write!(
                f,
                "more than max_steps = {max_steps} steps, stopped at t = {t}: \
                 raise max_steps or loosen rtol/atol"
            ),
        }
    }
}

impl std::error::Error for CoreError {}

/// Checks that `value` is finite and `>= 0`.
pub(crate) fn non_negative_finite(name: &'static str, value: f64) -> Result<f64, CoreError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(CoreError::InvalidParameter {
            name,
            value,
            valid: "a finite number >= 0",
        })
    }
}

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

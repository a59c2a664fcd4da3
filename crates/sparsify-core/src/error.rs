//! The one error type of this crate, and the parameters its errors name.

use std::fmt;

/// A parameter or input that an error is about: typed, so that a caller's map from errors to
/// its own names (command-line flags, say) is checked by the compiler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Param {
    /// The L1 strength `lambda`.
    Lambda,
    /// The Euler step `h`.
    Step,
    /// The scale `sigma` of a half-normal initialisation.
    Sigma,
    /// The initial weights as a whole (e.g. `||w0||^2` overflows).
    InitialWeights,
    /// The adaptive solver's relative tolerance.
    Rtol,
    /// The adaptive solver's absolute tolerance.
    Atol,
    /// The end time of a run.
    EndTime,
    /// The step budget of a run.
    MaxSteps,
    /// A requested output time.
    OutputTime,
    /// A parameter of a dynamics variant, by the name its [`crate::dynamics::Variant`] gives.
    Variant(&'static str),
}

impl Param {
    /// The name as a user knows it (`lambda`, `step`, `mu`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Param::Lambda => "lambda",
            Param::Step => "step",
            Param::Sigma => "sigma",
            Param::InitialWeights => "initial weights",
            Param::Rtol => "rtol",
            Param::Atol => "atol",
            Param::EndTime => "t_end",
            Param::MaxSteps => "max_steps",
            Param::OutputTime => "output time",
            Param::Variant(name) => name,
        }
    }
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything that can go wrong in `sparsify-core`: invalid parameters or weights, an unstable
/// Euler step, a non-finite state. Messages name the parameter, its value and the valid range.
#[derive(Debug, Clone, PartialEq)]
pub enum CoreError {
    /// A scalar parameter is outside its valid range.
    InvalidParameter {
        /// Which parameter.
        param: Param,
        /// The offending value.
        value: f64,
        /// The valid range, in words (e.g. `a finite number > 0`).
        valid: String,
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
        /// `||w||^2` before the step.
        sq_norm: f64,
    },
    /// A quantity of the run is not finite (an overflow, or NaN), caused by `cause`.
    NonFinite {
        /// The quantity, e.g. `||w0||^2`.
        quantity: &'static str,
        /// Its value (infinite or NaN).
        value: f64,
        /// Steps taken when it was found.
        step: u64,
        /// The input that made it so.
        cause: Param,
    },
    /// A dynamics variant, method or parameter name that is not known.
    UnknownName {
        /// What was being named (e.g. `dynamics`).
        what: String,
        /// The name given.
        name: String,
        /// The valid names, in words.
        valid: String,
    },
    /// The reduced solvers need the affine structure `w_j = alpha*w0_j - beta`, which this
    /// dynamics variant does not keep.
    NotAffine {
        /// The variant's name.
        dynamics: String,
    },
    /// A parameter that this configuration requires was not given.
    MissingParameter {
        /// Which parameter.
        param: Param,
        /// Why it is required.
        reason: String,
    },
    /// The adaptive solver's step size fell below what the time resolution allows.
    StepSizeTooSmall {
        /// The time reached.
        t: f64,
        /// The step size proposed there.
        h: f64,
    },
    /// The run took more steps than allowed.
    TooManySteps {
        /// The limit.
        max_steps: u64,
        /// The time reached.
        t: f64,
    },
}

impl CoreError {
    /// The parameter or input this error is about, if it is about one.
    pub fn param(&self) -> Option<Param> {
        match self {
            CoreError::InvalidParameter { param, .. }
            | CoreError::MissingParameter { param, .. } => Some(*param),
            CoreError::NonFinite { cause, .. } => Some(*cause),
            CoreError::UnstableStep { .. } => Some(Param::Step),
            CoreError::TooManySteps { .. } => Some(Param::MaxSteps),
            CoreError::InvalidWeight { .. } => Some(Param::InitialWeights),
            CoreError::TooFewWeights { .. }
            | CoreError::UnknownName { .. }
            | CoreError::NotAffine { .. }
            | CoreError::StepSizeTooSmall { .. } => None,
        }
    }
}

impl fmt::Display for CoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CoreError::InvalidParameter {
                param,
                value,
                valid,
            } => {
                write!(f, "invalid {param} = {value}: must be {valid}")
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
            CoreError::NonFinite {
                quantity,
                value,
                step,
                cause,
            } => match cause {
                Param::InitialWeights => write!(
                    f,
                    "the initial weights are too large: {quantity} = {value} overflows \
                     (every weight must be small enough that the sum of squares is finite)"
                ),
                _ => write!(
                    f,
                    "{quantity} = {value} after step {step}: the run overflowed, caused by \
                     {cause} (use a smaller value)"
                ),
            },
            CoreError::UnknownName { what, name, valid } => {
                write!(f, "unknown {what} '{name}': use {valid}")
            }
            CoreError::NotAffine { dynamics } => write!(
                f,
                "dynamics '{dynamics}' does not keep the affine structure w_j = alpha*w0_j - beta: \
                 use the direct Euler or the full-vector adaptive solver"
            ),
            CoreError::MissingParameter { param, reason } => {
                write!(f, "missing {param}: {reason}")
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
pub(crate) fn non_negative_finite(param: Param, value: f64) -> Result<f64, CoreError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(CoreError::InvalidParameter {
            param,
            value,
            valid: "a finite number >= 0".to_owned(),
        })
    }
}

/// Checks that `value` is finite and strictly positive.
pub(crate) fn positive_finite(param: Param, value: f64) -> Result<f64, CoreError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(CoreError::InvalidParameter {
            param,
            value,
            valid: "a finite number > 0".to_owned(),
        })
    }
}

//! The one error type of this crate.

use std::fmt;

/// A parameter of the n-feature model, its optimisers or its flow, as a user knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    /// The number of features `n`.
    N,
    /// The number of hidden neurons `m`.
    M,
    /// The number of independent instances trained side by side.
    Instances,
    /// The L1 strength `lambda`.
    Lambda,
    /// The learning rate.
    Lr,
    /// AdamW's first-moment decay.
    Beta1,
    /// AdamW's second-moment decay.
    Beta2,
    /// AdamW's denominator offset.
    Eps,
    /// AdamW's decoupled weight decay.
    WeightDecay,
    /// The noise scale.
    Sigma,
    /// The gradient flow's time step.
    StepSize,
}

impl Param {
    /// The parameter's name as the CLI and the paper spell it.
    pub fn name(self) -> &'static str {
        match self {
            Param::N => "n",
            Param::M => "m",
            Param::Instances => "instances",
            Param::Lambda => "lambda",
            Param::Lr => "lr",
            Param::Beta1 => "beta1",
            Param::Beta2 => "beta2",
            Param::Eps => "eps",
            Param::WeightDecay => "weight_decay",
            Param::Sigma => "sigma",
            Param::StepSize => "step",
        }
    }
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything that can go wrong in `sparsify-nfeature`. Messages name the parameter, its value
/// and the valid range.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum NFeatureError {
    /// A scalar parameter is outside its valid range.
    InvalidParameter {
        /// Which parameter.
        param: Param,
        /// The offending value.
        value: f64,
        /// The valid range, in words (e.g. `a finite number > 0`).
        valid: &'static str,
    },
    /// Given weights do not have `instances * n * m` entries.
    WrongLength {
        /// What was given (e.g. `initial weights`).
        what: &'static str,
        /// `instances * n * m`.
        expected: usize,
        /// The number of entries given.
        got: usize,
    },
    /// A given weight is not finite.
    NonFiniteWeight {
        /// Its flat index in `(instances, n, m)` C order.
        index: usize,
        /// The offending value.
        value: f64,
    },
}

impl fmt::Display for NFeatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NFeatureError::InvalidParameter {
                param,
                value,
                valid,
            } => {
                write!(f, "{param} = {value} is invalid: it must be {valid}")
            }
            NFeatureError::WrongLength {
                what,
                expected,
                got,
            } => write!(
                f,
                "{what} have {got} entries, but instances * n * m = {expected}"
            ),
            NFeatureError::NonFiniteWeight { index, value } => write!(
                f,
                "initial weight at flat index {index} is {value}: weights must be finite"
            ),
        }
    }
}

impl std::error::Error for NFeatureError {}

/// `Ok(value)` if `ok(value)`, else the error naming `param` and `valid`.
pub(crate) fn check(
    param: Param,
    value: f64,
    ok: bool,
    valid: &'static str,
) -> Result<f64, NFeatureError> {
    if ok {
        Ok(value)
    } else {
        Err(NFeatureError::InvalidParameter {
            param,
            value,
            valid,
        })
    }
}

/// A count parameter that must be at least 1.
pub(crate) fn check_count(param: Param, value: usize) -> Result<usize, NFeatureError> {
    if value >= 1 {
        Ok(value)
    } else {
        Err(NFeatureError::InvalidParameter {
            param,
            value: value as f64,
            valid: "an integer >= 1",
        })
    }
}

//! The one error type of this crate.

use std::fmt;

/// Everything that can go wrong in `sparsify-theory`: a parameter or weight outside its
/// domain, or a numerical routine that did not reach its tolerance. Messages name the
/// parameter, its value and the valid range.
#[derive(Debug, Clone, PartialEq)]
pub enum TheoryError {
    /// A scalar parameter is outside its valid range.
    InvalidParameter {
        /// The parameter's name as a user knows it (e.g. `lambda`).
        name: &'static str,
        /// The offending value.
        value: f64,
        /// The valid range, in words (e.g. `a finite number > 0`).
        valid: String,
    },
    /// A count parameter is outside its valid range.
    InvalidCount {
        /// The parameter's name (e.g. `m`).
        name: &'static str,
        /// The offending value.
        value: usize,
        /// The valid range, in words.
        valid: String,
    },
    /// A given initial weight is zero, negative or not finite.
    InvalidWeight {
        /// Its 0-based position in the input.
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// The initial weights are not sorted in descending (non-increasing) order.
    NotSortedDescending {
        /// The 0-based position of the first weight larger than its predecessor.
        index: usize,
        /// The weight before it.
        previous: f64,
        /// The weight at `index`.
        value: f64,
    },
    /// An iterative routine did not reach its tolerance within its budget.
    NoConvergence {
        /// Which routine (e.g. `adaptive quadrature`).
        routine: &'static str,
        /// What happened, in words, with the numbers that matter.
        detail: String,
    },
}

impl fmt::Display for TheoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TheoryError::InvalidParameter { name, value, valid } => {
                write!(f, "invalid {name} = {value}: must be {valid}")
            }
            TheoryError::InvalidCount { name, value, valid } => {
                write!(f, "invalid {name} = {value}: must be {valid}")
            }
            TheoryError::InvalidWeight { index, value } => write!(
                f,
                "invalid initial weight w0[{index}] = {value}: must be a finite number > 0"
            ),
            TheoryError::NotSortedDescending {
                index,
                previous,
                value,
            } => write!(
                f,
                "initial weights not sorted descending: w0[{index}] = {value} > w0[{}] = {previous}; \
                 must satisfy w0[j] >= w0[j+1] for every j",
                index - 1
            ),
            TheoryError::NoConvergence { routine, detail } => {
                write!(f, "{routine} did not converge: {detail}")
            }
        }
    }
}

impl std::error::Error for TheoryError {}

/// `Ok(value)` if `value` is finite and `> 0`, else [`TheoryError::InvalidParameter`].
pub(crate) fn positive(name: &'static str, value: f64) -> Result<f64, TheoryError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(TheoryError::InvalidParameter {
            name,
            value,
            valid: "a finite number > 0".to_string(),
        })
    }
}

/// `Ok(value)` if `value` is finite and `>= 0`, else [`TheoryError::InvalidParameter`].
pub(crate) fn non_negative(name: &'static str, value: f64) -> Result<f64, TheoryError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(TheoryError::InvalidParameter {
            name,
            value,
            valid: "a finite number >= 0".to_string(),
        })
    }
}

/// `Ok(value)` if `value` is finite, else [`TheoryError::InvalidParameter`].
pub(crate) fn finite(name: &'static str, value: f64) -> Result<f64, TheoryError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(TheoryError::InvalidParameter {
            name,
            value,
            valid: "a finite number".to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_parameter_value_and_range() {
        let e = positive("lambda", -1.0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid lambda = -1: must be a finite number > 0"
        );
        let e = TheoryError::NotSortedDescending {
            index: 3,
            previous: 0.5,
            value: 0.7,
        };
        assert!(e.to_string().contains("w0[3] = 0.7 > w0[2] = 0.5"));
        assert!(non_negative("t", f64::NAN).is_err());
        assert!(finite("z", f64::INFINITY).is_err());
        assert_eq!(non_negative("t", 0.0), Ok(0.0));
    }
}

//! The one error type of this crate.

use std::fmt;
use std::path::PathBuf;

use sparsify_core::CoreError;
use sparsify_nfeature::NFeatureError;
use sparsify_plot::PlotError;
use sparsify_theory::TheoryError;

/// Everything an experiment can fail on: a simulation, a prediction, a figure, or a file.
/// Each variant keeps the library error it wraps, so a caller can still match on it.
#[derive(Debug)]
#[non_exhaustive]
pub enum ExperimentError {
    /// A simulation in `sparsify-core` refused its input or failed.
    Core(CoreError),
    /// A closed form in `sparsify-theory` refused its input or failed.
    Theory(TheoryError),
    /// Drawing a figure failed.
    Plot(PlotError),
    /// The n-feature model refused its input.
    NFeature(NFeatureError),
    /// Reading or writing a file failed.
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// An experiment's own consistency check failed (the message says which).
    Inconsistent(String),
    /// A sweep spec was refused before anything ran: one line per problem, each naming the
    /// key, its value and what is allowed.
    InvalidSpec {
        /// The spec file.
        path: PathBuf,
        /// Every problem found, one line each.
        errors: Vec<String>,
    },
    /// A sweep directory cannot be used as asked (not a sweep directory, planned from another
    /// spec, cells not finished for a merge, a bad shard or job count): the message says which
    /// and what to do.
    Sweep(String),
}

impl fmt::Display for ExperimentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExperimentError::Core(e) => write!(f, "simulation: {e}"),
            ExperimentError::Theory(e) => write!(f, "prediction: {e}"),
            ExperimentError::Plot(e) => write!(f, "figure: {e}"),
            ExperimentError::NFeature(e) => write!(f, "n-feature model: {e}"),
            ExperimentError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            ExperimentError::Inconsistent(msg) => f.write_str(msg),
            ExperimentError::InvalidSpec { path, errors } => {
                write!(f, "{}: {}", path.display(), errors.join("; "))
            }
            ExperimentError::Sweep(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for ExperimentError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ExperimentError::Core(e) => Some(e),
            ExperimentError::Theory(e) => Some(e),
            ExperimentError::Plot(e) => Some(e),
            ExperimentError::NFeature(e) => Some(e),
            ExperimentError::Io { source, .. } => Some(source),
            ExperimentError::Inconsistent(_)
            | ExperimentError::InvalidSpec { .. }
            | ExperimentError::Sweep(_) => None,
        }
    }
}

impl From<CoreError> for ExperimentError {
    fn from(e: CoreError) -> Self {
        ExperimentError::Core(e)
    }
}

impl From<TheoryError> for ExperimentError {
    fn from(e: TheoryError) -> Self {
        ExperimentError::Theory(e)
    }
}

impl From<NFeatureError> for ExperimentError {
    fn from(e: NFeatureError) -> Self {
        ExperimentError::NFeature(e)
    }
}

impl From<PlotError> for ExperimentError {
    fn from(e: PlotError) -> Self {
        ExperimentError::Plot(e)
    }
}

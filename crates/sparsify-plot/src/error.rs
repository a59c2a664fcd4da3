//! The one error type of this crate.

use std::error::Error;
use std::fmt;
use std::io;
use std::path::PathBuf;

/// Everything that can go wrong while turning a figure description into a file.
///
/// Messages are written for the person who ran the command: they name the
/// offending path, series, axis or parameter, its value and what would be valid.
#[derive(Debug)]
#[non_exhaustive]
pub enum PlotError {
    /// The output path does not end in `.png` or `.svg` (case-insensitive).
    UnsupportedExtension {
        /// The path that was requested.
        path: PathBuf,
    },
    /// The requested image size is outside `MIN_SIDE..=MAX_SIDE` pixels per side.
    InvalidSize {
        /// Requested width in pixels.
        width: u32,
        /// Requested height in pixels.
        height: u32,
    },
    /// The figure (or a panel) has neither line series nor a point cloud.
    EmptyFigure {
        /// Title of the figure, to say which one.
        title: String,
    },
    /// A series has no point that can be drawn.
    EmptySeries {
        /// Label of the series.
        label: String,
        /// How many points it had before non-finite and (on log axes)
        /// non-positive coordinates were skipped.
        n_points: usize,
    },
    /// An explicit axis range cannot be used.
    InvalidRange {
        /// Which axis: `"x"`, `"y"` or `"residual y"`.
        axis: &'static str,
        /// Requested lower end.
        lo: f64,
        /// Requested upper end.
        hi: f64,
        /// Why it cannot be used, e.g. "a log axis needs both ends positive".
        reason: &'static str,
    },
    /// A style or layout parameter is out of its valid range.
    InvalidParameter {
        /// Parameter name, with the series it belongs to when there is one.
        name: String,
        /// The value given.
        value: f64,
        /// The valid range, in words.
        valid: &'static str,
    },
    /// The bundled DejaVu Sans font could not be loaded (a build problem, not a user error).
    Font,
    /// plotters reported an error while drawing.
    Draw {
        /// plotters' own message.
        message: String,
    },
    /// Writing the output file (or its temporary sibling) failed.
    Io {
        /// The output path that was requested.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
}

impl fmt::Display for PlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnsupportedExtension { path } => write!(
                f,
                "cannot tell which image format to write for '{}': the file name must end in .png or .svg",
                path.display()
            ),
            Self::InvalidSize { width, height } => write!(
                f,
                "image size {width}x{height} pixels is not supported: each side must be between {} and {} pixels",
                crate::MIN_SIDE,
                crate::MAX_SIDE
            ),
            Self::EmptyFigure { title } => write!(
                f,
                "figure \"{title}\" has nothing to draw: add at least one series or point cloud"
            ),
            Self::EmptySeries { label, n_points: 0 } => {
                write!(f, "series \"{label}\" has no points")
            }
            Self::EmptySeries { label, n_points } => write!(
                f,
                "series \"{label}\" has no point that can be drawn: all {n_points} points are \
                 non-finite, or non-positive on a log axis"
            ),
            Self::InvalidRange {
                axis,
                lo,
                hi,
                reason,
            } => write!(f, "{axis}-axis range [{lo}, {hi}] cannot be used: {reason}"),
            Self::InvalidParameter { name, value, valid } => {
                write!(f, "{name} = {value} is out of range: it must be {valid}")
            }
            Self::Font => write!(
                f,
                "the bundled DejaVu Sans font could not be loaded (the crate was built with a corrupt font file)"
            ),
            Self::Draw { message } => write!(f, "drawing the figure failed: {message}"),
            Self::Io { path, source } => {
                write!(f, "cannot write figure to '{}': {source}", path.display())
            }
        }
    }
}

impl Error for PlotError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_what_went_wrong() {
        let e = PlotError::UnsupportedExtension {
            path: PathBuf::from("out/fig.jpg"),
        };
        assert_eq!(
            e.to_string(),
            "cannot tell which image format to write for 'out/fig.jpg': the file name must end in .png or .svg"
        );
        let e = PlotError::InvalidSize {
            width: 0,
            height: 500,
        };
        assert!(e.to_string().contains("0x500") && e.to_string().contains("between 100 and 10000"));
        let e = PlotError::EmptySeries {
            label: "m'".to_owned(),
            n_points: 4,
        };
        assert!(e.to_string().contains("all 4 points"));
        let e = PlotError::Io {
            path: PathBuf::from("/x/fig.png"),
            source: io::Error::new(io::ErrorKind::PermissionDenied, "permission denied"),
        };
        assert_eq!(
            e.to_string(),
            "cannot write figure to '/x/fig.png': permission denied"
        );
        assert!(e.source().is_some());
    }
}

//! Plot space: data values on linear axes, their base-10 logarithms on log
//! axes. The map from data to plot space, an axis interval there (fitted to
//! the data or given), and the plotters coordinate over it with our ticks.

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};

use super::P;
use crate::ticks::Ticks;
use crate::{Axis, PlotError, Scale};

/// An axis interval in plot space.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Span {
    pub(super) scale: Scale,
    pub(super) lo: f64,
    pub(super) hi: f64,
}

/// Maps a data value to plot space; `None` for values that cannot be drawn.
pub(super) fn to_plot(scale: Scale, v: f64) -> Option<f64> {
    match scale {
        _ if !v.is_finite() => None,
        Scale::Linear => Some(v),
        Scale::Log10 if v > 0.0 => Some(v.log10()),
        Scale::Log10 => None,
    }
}

/// Maps a data point to plot space; `None` if either coordinate cannot be drawn.
pub(super) fn point_to_plot(xs: Scale, ys: Scale, (x, y): P) -> Option<P> {
    Some((to_plot(xs, x)?, to_plot(ys, y)?))
}

/// The explicit range of `axis` (validated), or the range of `values` (plot
/// space) widened by 5 % of its span on each side, as matplotlib does.
pub(super) fn span(
    axis: &Axis,
    name: &'static str,
    values: impl Iterator<Item = f64>,
) -> Result<Span, PlotError> {
    let scale = axis.scale;
    if let Some((lo, hi)) = axis.range {
        let bad = |reason| PlotError::InvalidRange {
            axis: name,
            lo,
            hi,
            reason,
        };
        if !lo.is_finite() || !hi.is_finite() {
            return Err(bad("both ends must be finite numbers"));
        }
        if lo >= hi {
            return Err(bad("the lower end must be below the upper end"));
        }
        if scale == Scale::Log10 && lo <= 0.0 {
            return Err(bad("a log axis needs both ends positive"));
        }
        let (Some(lo), Some(hi)) = (to_plot(scale, lo), to_plot(scale, hi)) else {
            return Err(bad("a log axis needs both ends positive"));
        };
        return Ok(Span { scale, lo, hi });
    }
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    // Validation guarantees at least one drawable point, so lo <= hi here.
    let (lo, hi) = if lo < hi {
        let margin = 0.05 * (hi - lo);
        (lo - margin, hi + margin)
    } else {
        // A single value: half a decade either side on a log axis, 10 % (at least 1) on a linear one.
        let d = match scale {
            Scale::Log10 => 0.5,
            Scale::Linear => (0.1 * lo.abs()).max(1.0),
        };
        (lo - d, lo + d)
    };
    Ok(Span { scale, lo, hi })
}

/// A plot-space interval with our own tick positions. plotters' `WithKeyPoints`
/// wrapper would do, but over `f64` it loses the mesh label formatter, so
/// this is the same linear map with our ticks.
#[derive(Clone)]
pub(super) struct PlotAxis {
    lo: f64,
    hi: f64,
    major: Vec<f64>,
    minor: Vec<f64>,
}

impl PlotAxis {
    pub(super) fn new(span: Span, ticks: &Ticks) -> Self {
        Self {
            lo: span.lo,
            hi: span.hi,
            major: ticks.major_positions(),
            minor: ticks.minor.clone(),
        }
    }
}

impl Ranged for PlotAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    /// The linear map of plotters' `RangedCoordf64`, rounding the same way.
    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let frac = (v - self.lo) / (self.hi - self.lo);
        let len = limit.1 - limit.0;
        if len == 0 || !frac.is_finite() {
            return limit.0;
        }
        if len > 0 {
            limit.0 + (f64::from(len) * frac + 1e-3).floor() as i32
        } else {
            limit.0 + (f64::from(len) * frac - 1e-3).ceil() as i32
        }
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.minor.clone()
        } else {
            self.major.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_axes_skip_non_positive_and_non_finite_values() {
        assert_eq!(to_plot(Scale::Log10, 100.0), Some(2.0));
        assert_eq!(to_plot(Scale::Log10, 0.0), None);
        assert_eq!(to_plot(Scale::Log10, -1.0), None);
        assert_eq!(to_plot(Scale::Linear, -1.0), Some(-1.0));
        assert_eq!(to_plot(Scale::Linear, f64::NAN), None);
        assert_eq!(to_plot(Scale::Linear, f64::INFINITY), None);
    }

    #[test]
    fn fitted_ranges_have_five_percent_margins() {
        let s = span(&Axis::linear("x"), "x", [0.0, 10.0].into_iter()).unwrap();
        assert_eq!((s.lo, s.hi), (-0.5, 10.5));
        let s = span(&Axis::log10("x"), "x", [0.0, 4.0].into_iter()).unwrap();
        assert_eq!((s.lo, s.hi), (-0.2, 4.2));
        let s = span(&Axis::log10("x"), "x", [2.0].into_iter()).unwrap();
        assert_eq!((s.lo, s.hi), (1.5, 2.5));
        let s = span(&Axis::log10("x").range(1.0, 1e3), "x", [9.0].into_iter()).unwrap();
        assert_eq!((s.lo, s.hi), (0.0, 3.0));
    }

    #[test]
    fn explicit_ranges_are_validated() {
        let err = |axis: Axis| {
            span(&axis, "y", std::iter::empty())
                .unwrap_err()
                .to_string()
        };
        assert!(
            err(Axis::log10("y").range(0.0, 10.0)).contains("a log axis needs both ends positive")
        );
        assert!(err(Axis::linear("y").range(2.0, 1.0)).contains("lower end must be below"));
        assert!(err(Axis::linear("y").range(f64::NAN, 1.0)).contains("finite"));
    }
}

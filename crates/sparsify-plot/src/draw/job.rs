//! A figure checked and resolved before any file is created: sizes and
//! styles validated, every layer known to have a drawable point, and the axis
//! ranges fitted in plot space.

use std::ops::RangeInclusive;

use super::P;
use super::space::{Span, point_to_plot, span, to_plot};
use crate::{
    Band, Figure, Heatmap, MAX_SIDE, MIN_SIDE, PlotError, PointCloud, Residual, Scale, Series,
};

/// A validated figure with its axis ranges resolved to plot space.
pub(crate) struct Job<'a> {
    pub(super) fig: &'a Figure,
    pub(super) residual: Option<&'a Residual>,
    pub(super) x: Span,
    pub(super) y: Span,
    pub(super) residual_y: Option<Span>,
}

impl<'a> Job<'a> {
    /// Checks everything that can be checked before a file is created.
    pub(crate) fn prepare(
        fig: &'a Figure,
        residual: Option<&'a Residual>,
    ) -> Result<Self, PlotError> {
        let (w, h) = fig.size;
        if !(MIN_SIDE..=MAX_SIDE).contains(&w) || !(MIN_SIDE..=MAX_SIDE).contains(&h) {
            return Err(PlotError::InvalidSize {
                width: w,
                height: h,
            });
        }
        if fig.series.is_empty()
            && fig.cloud.is_none()
            && fig.bands.is_empty()
            && fig.heatmap.is_none()
        {
            return Err(PlotError::EmptyFigure {
                title: fig.title.clone(),
            });
        }
        let (xs, ys) = (fig.x.scale, fig.y.scale);
        for s in &fig.series {
            check_series(s, xs, ys)?;
        }
        if let Some(c) = &fig.cloud {
            check_cloud(c, xs, ys)?;
        }
        for b in &fig.bands {
            check_band(b, xs, ys)?;
        }
        if let Some(h) = &fig.heatmap {
            if fig.cloud.is_some() {
                return Err(PlotError::InvalidParameter {
                    name: format!("heatmap \"{}\" beside a point cloud", h.label),
                    value: 1.0,
                    valid: "a heatmap or a point cloud, not both (one colour bar)",
                });
            }
            check_heatmap(h, xs, ys)?;
        }
        if let Some(r) = residual {
            if !(0.1..=0.7).contains(&r.height_fraction) {
                return Err(PlotError::InvalidParameter {
                    name: "residual height_fraction".to_owned(),
                    value: r.height_fraction,
                    valid: "between 0.1 and 0.7",
                });
            }
            if r.series.is_empty() {
                return Err(PlotError::EmptyFigure {
                    title: format!("{} (residual panel)", fig.title),
                });
            }
            for s in &r.series {
                check_series(s, xs, r.y.scale)?;
            }
            if let Some(v) = r.reference
                && to_plot(r.y.scale, v).is_none()
            {
                return Err(PlotError::InvalidParameter {
                    name: "residual reference line".to_owned(),
                    value: v,
                    valid: "finite (and positive on a log axis)",
                });
            }
        }

        // Every drawable point of every layer, in plot space, for fitting ranges.
        let main_pts = || {
            fig.series
                .iter()
                .flat_map(|s| s.points.iter())
                .copied()
                .chain(fig.cloud.iter().flat_map(|c| c.points.iter().copied()))
                .chain(
                    fig.bands
                        .iter()
                        .flat_map(|b| b.points.iter().flat_map(|&(x, lo, hi)| [(x, lo), (x, hi)])),
                )
                .chain(
                    fig.heatmap
                        .iter()
                        .flat_map(|h| [(h.x.0, h.y.0), (h.x.1, h.y.1)]),
                )
                .filter_map(move |p| point_to_plot(xs, ys, p))
        };
        let residual_pts = || {
            residual
                .into_iter()
                .flat_map(|r| r.series.iter().flat_map(|s| s.points.iter()))
                .filter_map(move |&p| {
                    point_to_plot(xs, residual.map_or(Scale::Linear, |r| r.y.scale), p)
                })
        };
        let x = span(&fig.x, "x", main_pts().chain(residual_pts()).map(|p| p.0))?;
        let y = span(&fig.y, "y", main_pts().map(|p| p.1))?;
        let residual_y = match residual {
            Some(r) => {
                let reference = r.reference.and_then(|v| to_plot(r.y.scale, v));
                Some(span(
                    &r.y,
                    "residual y",
                    residual_pts().map(|p| p.1).chain(reference),
                )?)
            }
            None => None,
        };
        Ok(Self {
            fig,
            residual,
            x,
            y,
            residual_y,
        })
    }
}

fn check_series(s: &Series, xs: Scale, ys: Scale) -> Result<(), PlotError> {
    check_pixels(s.style.width, 1..=50, "between 1 and 50 pixels", || {
        format!("line width of series \"{}\"", s.label)
    })?;
    if let Some(m) = s.style.marker {
        check_pixels(m.size, 1..=100, "between 1 and 100 pixels", || {
            format!("marker size of series \"{}\"", s.label)
        })?;
    }
    check_drawable(&s.label, &s.points, xs, ys)
}

fn check_cloud(c: &PointCloud, xs: Scale, ys: Scale) -> Result<(), PlotError> {
    check_pixels(c.cell_px, 1..=50, "between 1 and 50 pixels", || {
        format!("cell size of point cloud \"{}\"", c.label)
    })?;
    check_drawable(&c.label, &c.points, xs, ys)
}

fn check_band(b: &Band, xs: Scale, ys: Scale) -> Result<(), PlotError> {
    if !(b.opacity > 0.0 && b.opacity <= 1.0) {
        return Err(PlotError::InvalidParameter {
            name: format!("opacity of band \"{}\"", b.label),
            value: b.opacity,
            valid: "in (0, 1]",
        });
    }
    // A polygon needs two drawable points in a row.
    let drawable: Vec<bool> = b
        .points
        .iter()
        .map(|&(x, lo, hi)| {
            point_to_plot(xs, ys, (x, lo)).is_some() && point_to_plot(xs, ys, (x, hi)).is_some()
        })
        .collect();
    if drawable.windows(2).any(|w| w[0] && w[1]) {
        Ok(())
    } else {
        Err(PlotError::EmptySeries {
            label: b.label.clone(),
            n_points: b.points.len(),
        })
    }
}

fn check_heatmap(h: &Heatmap, xs: Scale, ys: Scale) -> Result<(), PlotError> {
    let bad = |name: &str, value: f64, valid: &'static str| PlotError::InvalidParameter {
        name: format!("{name} of heatmap \"{}\"", h.label),
        value,
        valid,
    };
    if h.rows == 0 || h.cols == 0 {
        return Err(bad(
            "rows x columns",
            (h.rows * h.cols) as f64,
            "at least one row and one column",
        ));
    }
    if h.values.len() != h.rows.saturating_mul(h.cols) {
        return Err(bad(
            "number of values",
            h.values.len() as f64,
            "rows * columns",
        ));
    }
    if xs != Scale::Linear || ys != Scale::Linear {
        return Err(bad(
            "axis scale",
            0.0,
            "linear axes (a heatmap's cells are uniform)",
        ));
    }
    for (name, (lo, hi)) in [
        ("x extent", h.x),
        ("y extent", h.y),
        ("colour range", h.range),
    ] {
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(bad(
                name,
                hi - lo,
                "finite ends with the lower below the upper",
            ));
        }
    }
    Ok(())
}

/// A length in pixels must lie in `range` (described by `valid`); `name`,
/// built only on failure, says which length it is.
fn check_pixels(
    value: u32,
    range: RangeInclusive<u32>,
    valid: &'static str,
    name: impl FnOnce() -> String,
) -> Result<(), PlotError> {
    if range.contains(&value) {
        Ok(())
    } else {
        Err(PlotError::InvalidParameter {
            name: name(),
            value: f64::from(value),
            valid,
        })
    }
}

/// A layer needs at least one point that can be drawn on these scales.
fn check_drawable(label: &str, points: &[P], xs: Scale, ys: Scale) -> Result<(), PlotError> {
    if points.iter().any(|&p| point_to_plot(xs, ys, p).is_some()) {
        Ok(())
    } else {
        Err(PlotError::EmptySeries {
            label: label.to_owned(),
            n_points: points.len(),
        })
    }
}

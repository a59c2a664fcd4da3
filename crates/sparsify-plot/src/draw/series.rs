//! Line and marker series: the line clipped to the axes (solid or dashed),
//! the markers inside them, and the series' legend entry.

use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::clip::polylines;
use super::fonts::Fonts;
use super::space::point_to_plot;
use super::{Chart, colour, draw_err, legend};
use crate::{LineKind, MarkerShape, PlotError, Scale, Series, Style};

/// How a series is stroked and marked at one image size, shared by its
/// drawing and its legend glyph.
#[derive(Clone, Copy)]
pub(super) struct Pen {
    /// Solid, dashed or no line.
    pub(super) line: LineKind,
    /// The line (and the cross marker).
    pub(super) stroke: ShapeStyle,
    /// The circle marker.
    pub(super) fill: ShapeStyle,
    /// Dash and gap lengths of a dashed line, in pixels.
    pub(super) dash: (i32, i32),
    /// Marker shape and radius in pixels, if any.
    pub(super) marker: Option<(MarkerShape, u32)>,
}

impl Pen {
    fn new(style: &Style, fonts: &Fonts) -> Self {
        let c = colour(style.colour);
        let width = fonts.px(style.width);
        // Dashes about three line widths long with gaps half as long, like matplotlib's '--'.
        let dash = (3 * width + fonts.px(4)) as i32;
        let gap = (dash / 2).max(3);
        Self {
            line: style.line,
            stroke: c.stroke_width(width),
            fill: c.filled(),
            dash: (dash, gap),
            marker: style.marker.map(|m| (m.shape, fonts.px(m.size))),
        }
    }
}

/// Draws series `s` clipped to `rect` `(x0, x1, y0, y1)` (plot space) and,
/// if it has a label, adds its legend entry with a line `legend_len` pixels long.
pub(super) fn draw_series<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    s: &Series,
    xs: Scale,
    ys: Scale,
    rect: (f64, f64, f64, f64),
    legend_len: i32,
    fonts: &Fonts,
) -> Result<(), PlotError> {
    let pen = Pen::new(&s.style, fonts);
    let Pen { stroke, fill, .. } = pen;
    let plot_pts = || s.points.iter().map(|&p| point_to_plot(xs, ys, p));
    let lines = || polylines(plot_pts(), rect).into_iter();
    let (dash, gap) = pen.dash;
    match pen.line {
        LineKind::Solid => {
            chart
                .draw_series(lines().map(|pl| PathElement::new(pl, stroke)))
                .map_err(draw_err)?;
        }
        LineKind::Dashed => {
            chart
                .draw_series(lines().map(|pl| DashedPathElement::new(pl, dash, gap, stroke)))
                .map_err(draw_err)?;
        }
        LineKind::None => {}
    }
    if let Some((shape, size)) = pen.marker {
        let (x0, x1, y0, y1) = rect;
        let inside = plot_pts()
            .flatten()
            .filter(|&(x, y)| x >= x0 && x <= x1 && y >= y0 && y <= y1);
        match shape {
            MarkerShape::Circle => chart
                .draw_series(inside.map(|p| Circle::new(p, size, fill)))
                .map_err(draw_err)?,
            MarkerShape::Cross => chart
                .draw_series(inside.map(|p| Cross::new(p, size, stroke)))
                .map_err(draw_err)?,
        };
    }
    if s.label.is_empty() {
        return Ok(());
    }
    legend::series_entry(chart, &s.label, pen, legend_len)
}

//! The legend: an entry per labelled layer, whose glyph shows the series'
//! line and marker together (matplotlib's 'o-'), and the box that lists them.

use plotters::element::{DashedPathElement, IntoDynElement};
use plotters::prelude::*;

use super::fonts::Fonts;
use super::series::Pen;
use super::{BackendCoord, Chart, P, draw_err};
use crate::{LegendPos, LineKind, MarkerShape, PlotError};

/// Length in pixels of the line in a legend glyph.
pub(super) fn glyph_len(fonts: &Fonts) -> i32 {
    (28.0 * fonts.tick / 16.0) as i32
}

/// Adds the legend entry `label` for a series drawn with `pen`: a line `len`
/// pixels long (dashes two thirds as long as the series'), with the marker at
/// its middle.
pub(super) fn series_entry<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    label: &str,
    pen: Pen,
    len: i32,
) -> Result<(), PlotError> {
    let (half, seg) = ((len / 2, 0), vec![(0, 0), (len, 0)]);
    let (dash, gap) = (pen.dash.0 * 2 / 3, pen.dash.1 * 2 / 3);
    let Pen { stroke, fill, .. } = pen;
    let at = EmptyElement::<BackendCoord, DB>::at;
    // One arm per glyph: plotters composes only concrete element types (a boxed
    // `DynElement` part would need a `'static` backend).
    match (pen.line, pen.marker) {
        (LineKind::Solid, None) => entry(chart, label, move |p| {
            at(p) + PathElement::new(seg.clone(), stroke)
        }),
        (LineKind::Dashed, None) => entry(chart, label, move |p| {
            at(p) + DashedPathElement::new(seg.clone(), dash, gap, stroke)
        }),
        (LineKind::None, None) => entry(chart, label, at),
        (LineKind::Solid, Some((MarkerShape::Circle, r))) => entry(chart, label, move |p| {
            at(p) + PathElement::new(seg.clone(), stroke) + Circle::new(half, r, fill)
        }),
        (LineKind::Solid, Some((MarkerShape::Cross, r))) => entry(chart, label, move |p| {
            at(p) + PathElement::new(seg.clone(), stroke) + Cross::new(half, r, stroke)
        }),
        (LineKind::Dashed, Some((MarkerShape::Circle, r))) => entry(chart, label, move |p| {
            at(p)
                + DashedPathElement::new(seg.clone(), dash, gap, stroke)
                + Circle::new(half, r, fill)
        }),
        (LineKind::Dashed, Some((MarkerShape::Cross, r))) => entry(chart, label, move |p| {
            at(p)
                + DashedPathElement::new(seg.clone(), dash, gap, stroke)
                + Cross::new(half, r, stroke)
        }),
        (LineKind::None, Some((MarkerShape::Circle, r))) => {
            entry(chart, label, move |p| at(p) + Circle::new(half, r, fill))
        }
        (LineKind::None, Some((MarkerShape::Cross, r))) => {
            entry(chart, label, move |p| at(p) + Cross::new(half, r, stroke))
        }
    }
}

/// Adds a legend entry drawn by `glyph` (called with the entry's left
/// centre), attached to an empty series so that one glyph can show both the
/// line and the marker.
fn entry<'a, DB, E, F>(chart: &mut Chart<'a, DB>, label: &str, glyph: F) -> Result<(), PlotError>
where
    DB: DrawingBackend + 'a,
    E: IntoDynElement<'a, DB, BackendCoord>,
    F: Fn(BackendCoord) -> E + 'a,
{
    chart
        .draw_series(std::iter::empty::<PathElement<P>>())
        .map_err(draw_err)?
        .label(label)
        .legend(glyph);
    Ok(())
}

/// Draws the box listing the labelled layers at `pos` (nothing if hidden),
/// leaving room for glyphs `glyph_len` pixels long.
pub(super) fn draw_box<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    pos: LegendPos,
    fonts: &Fonts,
    glyph_len: i32,
) -> Result<(), PlotError> {
    let position = match pos {
        LegendPos::UpperLeft => SeriesLabelPosition::UpperLeft,
        LegendPos::UpperRight => SeriesLabelPosition::UpperRight,
        LegendPos::LowerLeft => SeriesLabelPosition::LowerLeft,
        LegendPos::LowerRight => SeriesLabelPosition::LowerRight,
        LegendPos::Hidden => return Ok(()),
    };
    chart
        .configure_series_labels()
        .position(position)
        .margin(fonts.pad)
        .legend_area_size(glyph_len as u32 + fonts.pad / 2)
        .label_font(fonts.text(fonts.legend))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(170, 170, 170))
        .draw()
        .map_err(draw_err)?;
    Ok(())
}

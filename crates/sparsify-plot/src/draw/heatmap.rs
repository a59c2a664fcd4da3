//! A heatmap: one filled rectangle per finite cell, coloured by its value on
//! the heatmap's colour map, and its colour bar of values (linear ticks)
//! right of the plotting area.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::fonts::Fonts;
use super::{Chart, colour, draw_err};
use crate::ticks::ticks;
use crate::{Heatmap, PlotError, Scale};

/// Position of `v` on the colour map of `h`, in `[0, 1]` (clamped; NaN stays NaN).
pub(super) fn fraction(h: &Heatmap, v: f64) -> f64 {
    ((v - h.range.0) / (h.range.1 - h.range.0)).clamp(0.0, 1.0)
}

/// Fills every finite cell of `h` (axes are linear, checked by the job).
pub(super) fn draw_heatmap<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    h: &Heatmap,
) -> Result<(), PlotError> {
    let dx = (h.x.1 - h.x.0) / h.cols as f64;
    let dy = (h.y.1 - h.y.0) / h.rows as f64;
    let cells = h
        .values
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_finite())
        .map(|(k, &v)| {
            let (r, c) = ((k / h.cols) as f64, (k % h.cols) as f64);
            Rectangle::new(
                [
                    (h.x.0 + c * dx, h.y.0 + r * dy),
                    (h.x.0 + (c + 1.0) * dx, h.y.0 + (r + 1.0) * dy),
                ],
                colour(h.map.at(fraction(h, v))).filled(),
            )
        });
    chart.draw_series(cells).map_err(draw_err)?;
    Ok(())
}

/// A vertical bar of the colour map from pixel row `top` to `bottom` of
/// `area`, with linear ticks of the value and the heatmap's label as a
/// rotated title.
pub(super) fn draw_value_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    fonts: &Fonts,
    h: &Heatmap,
    top: i32,
    bottom: i32,
) -> Result<(), PlotError> {
    let x0 = (fonts.pad * 2) as i32;
    let x1 = x0 + (fonts.tick * 0.9) as i32;
    let height = (bottom - top).max(1);
    // 64 bands are smooth to the eye and keep the SVG small.
    let bands = 64;
    for b in 0..bands {
        let (t_lo, t_hi) = (
            f64::from(b) / f64::from(bands),
            f64::from(b + 1) / f64::from(bands),
        );
        let y_hi = bottom - (t_hi * f64::from(height)).round() as i32;
        let y_lo = bottom - (t_lo * f64::from(height)).round() as i32;
        area.draw(&Rectangle::new(
            [(x0, y_hi), (x1, y_lo)],
            colour(h.map.at((t_lo + t_hi) / 2.0)).filled(),
        ))
        .map_err(draw_err)?;
    }
    area.draw(&Rectangle::new(
        [(x0, top), (x1, bottom)],
        BLACK.stroke_width(1),
    ))
    .map_err(draw_err)?;
    let label_style = fonts
        .text(fonts.tick)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let max_labels = (f64::from(height) / (2.6 * fonts.tick)) as usize;
    let marks = ticks(
        Scale::Linear,
        h.range.0,
        h.range.1,
        max_labels,
        height as u32,
    );
    let mut label_right = x1;
    for (v, text) in &marks.major {
        let y = bottom - (fraction(h, *v) * f64::from(height)).round() as i32;
        let tick_end = x1 + fonts.tick_mark as i32;
        area.draw(&PathElement::new(
            vec![(x1, y), (tick_end, y)],
            BLACK.stroke_width(1),
        ))
        .map_err(draw_err)?;
        let label_x = tick_end + (fonts.pad / 2) as i32;
        area.draw_text(text, &label_style, (label_x, y))
            .map_err(draw_err)?;
        let (tw, _) = area
            .estimate_text_size(text, &label_style)
            .map_err(draw_err)?;
        label_right = label_right.max(label_x + tw as i32);
    }
    let title_style = fonts
        .text(fonts.tick)
        .transform(FontTransform::Rotate270)
        .pos(Pos::new(HPos::Center, VPos::Top));
    area.draw_text(
        &h.label,
        &title_style,
        (label_right + fonts.pad as i32, (top + bottom) / 2),
    )
    .map_err(draw_err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ColourMap;

    #[test]
    fn values_map_linearly_onto_the_range_and_clamp() {
        let h = Heatmap::new("c", 1, 1, vec![0.0], (-0.5, 1.5), ColourMap::Diverging);
        assert_eq!(fraction(&h, -0.5), 0.0);
        assert_eq!(fraction(&h, 0.5), 0.5);
        assert_eq!(fraction(&h, 1.5), 1.0);
        assert_eq!(fraction(&h, 9.0), 1.0);
        assert_eq!(fraction(&h, -9.0), 0.0);
    }
}

//! The colour bar of a point cloud: a vertical viridis strip right of the
//! plotting area, with counts at powers of ten and a rotated title.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::cloud::count_fraction;
use super::fonts::Fonts;
use super::{colour, draw_err};
use crate::ticks::power_of_ten;
use crate::{PlotError, PointCloud, viridis};

/// Width in pixels of the strip the colour bar takes: gap, bar, tick marks,
/// labels and the rotated title.
pub(super) fn colour_bar_width<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    fonts: &Fonts,
) -> Result<u32, PlotError> {
    let (label_w, _) = root
        .estimate_text_size("10⁴", &fonts.text(fonts.tick))
        .map_err(draw_err)?;
    let (_, title_h) = root
        .estimate_text_size("points per cell", &fonts.text(fonts.tick))
        .map_err(draw_err)?;
    Ok(fonts.pad * 2
        + bar_width(fonts)
        + fonts.tick_mark
        + fonts.pad / 2
        + label_w
        + fonts.pad
        + title_h)
}

/// Width of the bar itself, in pixels.
fn bar_width(fonts: &Fonts) -> u32 {
    (fonts.tick * 0.9) as u32
}

/// A vertical viridis bar from pixel row `top` to `bottom` of `area`, with
/// counts at powers of ten and a rotated title.
pub(super) fn draw_colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    fonts: &Fonts,
    cloud: &PointCloud,
    max: u32,
    top: i32,
    bottom: i32,
) -> Result<(), PlotError> {
    let x0 = (fonts.pad * 2) as i32;
    let x1 = x0 + bar_width(fonts) as i32;
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
        let t = if max <= 1 { 0.0 } else { (t_lo + t_hi) / 2.0 };
        area.draw(&Rectangle::new(
            [(x0, y_hi), (x1, y_lo)],
            colour(viridis(t)).filled(),
        ))
        .map_err(draw_err)?;
    }
    area.draw(&Rectangle::new(
        [(x0, top), (x1, bottom)],
        BLACK.stroke_width(1),
    ))
    .map_err(draw_err)?;

    let mut marks: Vec<u32> = std::iter::successors(Some(1u32), |c| c.checked_mul(10))
        .take_while(|c| *c <= max)
        .collect();
    if marks.len() < 2 && max > 1 {
        marks.push(max);
    }
    let label_style = fonts
        .text(fonts.tick)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let mut label_right = x1;
    for c in marks {
        let y = if max <= 1 {
            (top + bottom) / 2
        } else {
            bottom - (count_fraction(c, max) * f64::from(height)).round() as i32
        };
        let tick_end = x1 + fonts.tick_mark as i32;
        area.draw(&PathElement::new(
            vec![(x1, y), (tick_end, y)],
            BLACK.stroke_width(1),
        ))
        .map_err(draw_err)?;
        let text = if c < 10_000 {
            c.to_string()
        } else {
            power_of_ten(c.ilog10() as i32)
        };
        let label_x = tick_end + (fonts.pad / 2) as i32;
        area.draw_text(&text, &label_style, (label_x, y))
            .map_err(draw_err)?;
        let (tw, _) = area
            .estimate_text_size(&text, &label_style)
            .map_err(draw_err)?;
        label_right = label_right.max(label_x + tw as i32);
    }
    let title = format!("points per {} px cell", cloud.cell_px);
    let title_style = fonts
        .text(fonts.tick)
        .transform(FontTransform::Rotate270)
        .pos(Pos::new(HPos::Center, VPos::Top));
    area.draw_text(
        &title,
        &title_style,
        (label_right + fonts.pad as i32, (top + bottom) / 2),
    )
    .map_err(draw_err)?;
    Ok(())
}

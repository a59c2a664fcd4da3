//! The header: the title and the one-line caption under it, centred, each
//! shrunk if needed so that it fits the width (long captions on small images).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::draw_err;
use super::fonts::Fonts;
use crate::PlotError;

const CAPTION_GREY: RGBColor = RGBColor(70, 70, 70);

/// Draws `title` and `caption` at the top of `root`; returns the height in
/// pixels they take, padding included.
pub(super) fn draw_header<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    fonts: &Fonts,
    title: &str,
    caption: Option<&str>,
) -> Result<u32, PlotError> {
    let pad = fonts.pad;
    let (w, _) = root.dim_in_pixel();
    let avail = w.saturating_sub(2 * pad).max(1);
    let fitted = |text: &str,
                  size: f64,
                  colour: &'static RGBColor|
     -> Result<(TextStyle<'static>, u32), PlotError> {
        let style = fonts.text(size).color(colour);
        let (tw, _) = root.estimate_text_size(text, &style).map_err(draw_err)?;
        let size = if tw > avail {
            size * f64::from(avail) / f64::from(tw)
        } else {
            size
        };
        let style = fonts
            .text(size)
            .color(colour)
            .pos(Pos::new(HPos::Center, VPos::Top));
        let (_, th) = root.estimate_text_size(text, &style).map_err(draw_err)?;
        Ok((style, th))
    };
    let (title_style, title_h) = fitted(title, fonts.title, &BLACK)?;
    root.draw_text(title, &title_style, (w as i32 / 2, pad as i32))
        .map_err(draw_err)?;
    let mut header_h = pad + title_h + pad;
    if let Some(caption) = caption {
        let (style, cap_h) = fitted(caption, fonts.caption, &CAPTION_GREY)?;
        root.draw_text(caption, &style, (w as i32 / 2, (header_h - pad / 2) as i32))
            .map_err(draw_err)?;
        header_h += cap_h + pad / 2;
    }
    Ok(header_h)
}

//! Font sizes and spacing for one image size.

use plotters::prelude::*;

use crate::output::FAMILY;

/// Font sizes and spacing, scaled with the image so that a 1200x1000 image
/// looks like a 600x500 one at twice the resolution.
pub(super) struct Fonts {
    /// The factor applied to the 600x500-style sizes (also to line widths and markers).
    scale: f64,
    /// Title size in points.
    pub(super) title: f64,
    /// Caption size (the line under the title).
    pub(super) caption: f64,
    /// Axis label size.
    pub(super) label: f64,
    /// Tick label size (also the colour bar's labels and title).
    pub(super) tick: f64,
    /// Legend text size.
    pub(super) legend: f64,
    /// The unit of spacing between elements, in pixels.
    pub(super) pad: u32,
    /// Length of a tick mark, in pixels.
    pub(super) tick_mark: u32,
}

impl Fonts {
    /// The sizes for an image of `(width, height)` pixels.
    pub(super) fn for_size((w, h): (u32, u32)) -> Self {
        let s = (f64::from(w.min(h)) / 500.0).clamp(0.2, 20.0);
        // Text shrinks with the image only down to 75 %: below that tick
        // labels (superscripts especially) stop being readable.
        let t = s.max(0.75);
        Self {
            scale: s,
            title: 22.0 * t,
            caption: 16.0 * t,
            label: 18.0 * t,
            tick: 16.0 * t,
            legend: 15.0 * t,
            pad: (8.0 * s).round().max(2.0) as u32,
            tick_mark: (5.0 * s).round().max(2.0) as u32,
        }
    }

    /// A length given in pixels at the 500-pixel reference size, scaled to this image.
    pub(super) fn px(&self, len: u32) -> u32 {
        ((f64::from(len) * self.scale).round() as u32).max(1)
    }

    /// Black text in the bundled font at `size`.
    pub(super) fn text(&self, size: f64) -> TextStyle<'static> {
        TextStyle::from((FontFamily::Name(FAMILY), size)).color(&BLACK)
    }
}

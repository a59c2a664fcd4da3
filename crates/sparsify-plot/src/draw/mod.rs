//! Validation, layout and drawing with plotters.
//!
//! Everything is drawn in *plot space*: data values on linear axes, their
//! base-10 logarithms on log axes. Doing the log transform here (instead of
//! using plotters' log coordinates) gives us full control of tick positions
//! and labels, lets us clip lines exactly, and lets the point cloud be binned
//! on a grid that is uniform on screen.
//!
//! One file per part of the figure: [`job`] validates a figure and fits its
//! ranges (in [`space`], plot space and the axis coordinate); [`layout`]
//! places the [`header`] (title, caption), the panels and the colour bar; a
//! [`panel`] draws the axes frame and its layers: the [`cloud`] density, the
//! [`series`] (lines clipped by [`clip`], markers) and the [`legend`]; the
//! [`colour_bar`] gives the cloud's counts. [`fonts`] sizes text and spacing
//! for the image.

use plotters::prelude::*;

use crate::{PlotError, Rgb};

mod band;
mod clip;
mod cloud;
mod colour_bar;
mod fonts;
mod header;
mod heatmap;
mod job;
mod layout;
mod legend;
mod panel;
mod series;
mod space;

pub(crate) use job::Job;

/// A point in plot space.
type P = (f64, f64);
/// A pixel position, as plotters' backends use.
type BackendCoord = (i32, i32);
/// A panel's chart: plot space on both axes, with our ticks.
type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<space::PlotAxis, space::PlotAxis>>;

/// A plotters drawing error as ours.
pub(crate) fn draw_err<E: std::error::Error + Send + Sync>(
    e: DrawingAreaErrorKind<E>,
) -> PlotError {
    PlotError::Draw {
        message: e.to_string(),
    }
}

/// Our colour as plotters'.
fn colour(c: Rgb) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

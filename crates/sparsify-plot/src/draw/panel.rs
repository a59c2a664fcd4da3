//! One panel: the axes frame with ticks, labels and grid, then its layers in
//! order (density cloud, reference line, series) and its legend box.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::band::draw_band;
use super::cloud::draw_cloud;
use super::fonts::Fonts;
use super::heatmap::draw_heatmap;
use super::series::draw_series;
use super::space::{PlotAxis, Span};
use super::{draw_err, legend};
use crate::ticks::Ticks;
use crate::{Band, Heatmap, LegendPos, PlotError, PointCloud, Series};

/// Everything one panel draws, with its ranges, ticks and margins resolved.
pub(super) struct Panel<'p> {
    pub(super) x: Span,
    pub(super) y: Span,
    pub(super) x_ticks: &'p Ticks,
    pub(super) y_ticks: &'p Ticks,
    /// `None` hides x tick labels and the x label (upper panel of a pair).
    pub(super) x_label: Option<&'p str>,
    pub(super) y_label: &'p str,
    pub(super) series: &'p [Series],
    pub(super) cloud: Option<&'p PointCloud>,
    pub(super) bands: &'p [Band],
    pub(super) heatmap: Option<&'p Heatmap>,
    pub(super) legend: LegendPos,
    pub(super) grid: bool,
    /// A horizontal reference line at this plot-space y, if any.
    pub(super) reference: Option<f64>,
    /// Height in pixels below the plotting area (tick labels and x label).
    pub(super) x_area: u32,
    /// Width in pixels left of the plotting area (tick labels and y label).
    pub(super) y_area: u32,
}

impl Panel<'_> {
    /// Draws the panel; returns the largest cell count of the cloud, if any.
    pub(super) fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        fonts: &Fonts,
    ) -> Result<Option<u32>, PlotError> {
        let x_coord = PlotAxis::new(self.x, self.x_ticks);
        let y_coord = PlotAxis::new(self.y, self.y_ticks);
        let mut chart = ChartBuilder::on(area)
            .x_label_area_size(self.x_area)
            .y_label_area_size(self.y_area)
            .build_cartesian_2d(x_coord, y_coord)
            .map_err(draw_err)?;

        let show_x = self.x_label.is_some();
        let x_fmt = |v: &f64| {
            if show_x {
                self.x_ticks.label_at(*v)
            } else {
                String::new()
            }
        };
        let y_fmt = |v: &f64| self.y_ticks.label_at(*v);
        let tick_style = fonts.text(fonts.tick);
        let desc_style = fonts.text(fonts.label);
        let mut mesh = chart.configure_mesh();
        mesh.x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .label_style(tick_style)
            .axis_desc_style(desc_style)
            .y_desc(self.y_label)
            .set_all_tick_mark_size(fonts.tick_mark)
            .axis_style(BLACK.stroke_width(1))
            .bold_line_style(RGBColor(190, 190, 190).stroke_width(1))
            .light_line_style(RGBColor(238, 238, 238).stroke_width(1));
        if let Some(label) = self.x_label {
            mesh.x_desc(label);
        }
        if !self.grid {
            mesh.disable_mesh();
        }
        mesh.draw().map_err(draw_err)?;

        let rect = (self.x.lo, self.x.hi, self.y.lo, self.y.hi);
        let mut max_count = None;
        if let Some(h) = self.heatmap {
            draw_heatmap(&mut chart, h)?;
        }
        if let Some(cloud) = self.cloud {
            max_count = draw_cloud(&mut chart, cloud, self.x.scale, self.y.scale, rect)?;
        }
        if let Some(v) = self.reference
            && v >= self.y.lo
            && v <= self.y.hi
        {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(self.x.lo, v), (self.x.hi, v)],
                    BLACK.stroke_width(1),
                )))
                .map_err(draw_err)?;
        }
        for b in self.bands {
            draw_band(&mut chart, b, self.x.scale, self.y.scale, rect)?;
        }
        let legend_len = legend::glyph_len(fonts);
        let mut any_label = max_count.is_some() || self.bands.iter().any(|b| !b.label.is_empty());
        for s in self.series {
            draw_series(
                &mut chart,
                s,
                self.x.scale,
                self.y.scale,
                rect,
                legend_len,
                fonts,
            )?;
            any_label |= !s.label.is_empty();
        }
        if any_label {
            legend::draw_box(&mut chart, self.legend, fonts, legend_len)?;
        }
        Ok(max_count)
    }
}

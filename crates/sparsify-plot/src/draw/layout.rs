//! The page layout: the header, the colour bar's strip on the right, the main
//! panel and the residual panel below it with one shared left margin, and the
//! ticks each axis gets for its length in pixels.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::colour_bar::{colour_bar_width, draw_colour_bar};
use super::draw_err;
use super::fonts::Fonts;
use super::header::draw_header;
use super::heatmap::draw_value_bar;
use super::job::Job;
use super::panel::Panel;
use super::space::{Span, to_plot};
use crate::PlotError;
use crate::ticks::{Ticks, ticks};

impl Job<'_> {
    /// Draws the whole image on `root`.
    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), PlotError> {
        let fig = self.fig;
        let fonts = Fonts::for_size(fig.size);
        let pad = fonts.pad;
        root.fill(&WHITE).map_err(draw_err)?;

        let header_h = draw_header(root, &fonts, &fig.title, fig.caption.as_deref())?;
        let body = root.margin(header_h, pad, pad, 3 * pad);

        // The colour bar of a point cloud takes a strip on the right; the
        // residual panel gets the same strip (left blank) so x axes line up.
        let cbar_w = if fig.cloud.is_some() || fig.heatmap.is_some() {
            colour_bar_width(root, &fonts)?
        } else {
            0
        };
        let (body_w, body_h) = body.dim_in_pixel();
        let (charts, cbar_area) = body.split_horizontally(body_w.saturating_sub(cbar_w));

        let tick_style = fonts.text(fonts.tick);
        let (_, tick_h) = root
            .estimate_text_size("10⁵", &tick_style)
            .map_err(draw_err)?;
        let (_, label_h) = root
            .estimate_text_size("Training time", &fonts.text(fonts.label))
            .map_err(draw_err)?;
        let tick_mark = fonts.tick_mark;
        let x_area = tick_mark + pad / 2 + tick_h + pad + label_h + pad / 2;

        let plot_w = body_w.saturating_sub(cbar_w + 80);
        // About four font sizes per label: "10⁻⁵" or "0.25" plus a gap.
        let x_ticks = axis_ticks(self.x, plot_w, 4.0, &fonts);

        let (main_area, residual_area, main_plot_h) = match self.residual {
            Some(r) => {
                let avail = body_h.saturating_sub(x_area + 2 * pad);
                let main_h = (f64::from(avail) * (1.0 - r.height_fraction)) as u32;
                let (a, b) = charts.split_vertically(main_h + pad);
                (a, Some(b), main_h)
            }
            None => (charts, None, body_h.saturating_sub(x_area)),
        };
        let y_ticks = axis_ticks(self.y, main_plot_h, 2.6, &fonts);
        let residual_ticks = self.residual_y.map(|ry| {
            let h = body_h.saturating_sub(main_plot_h + x_area + 2 * pad);
            axis_ticks(ry, h, 2.6, &fonts)
        });
        // One left margin for both panels, wide enough for the widest tick label.
        let mut widest = 0;
        for t in std::iter::once(&y_ticks).chain(residual_ticks.as_ref()) {
            for (_, s) in &t.major {
                widest = widest.max(root.estimate_text_size(s, &tick_style).map_err(draw_err)?.0);
            }
        }
        let y_label_h =
            if fig.y.label.is_empty() && self.residual.is_none_or(|r| r.y.label.is_empty()) {
                0
            } else {
                label_h + pad / 2
            };
        let y_area = tick_mark + pad / 2 + widest + pad + y_label_h;

        let main_panel = Panel {
            x: self.x,
            y: self.y,
            x_ticks: &x_ticks,
            y_ticks: &y_ticks,
            x_label: (self.residual.is_none()).then_some(fig.x.label.as_str()),
            y_label: &fig.y.label,
            series: &fig.series,
            cloud: fig.cloud.as_ref(),
            bands: &fig.bands,
            heatmap: fig.heatmap.as_ref(),
            legend: fig.legend,
            grid: fig.grid,
            reference: None,
            x_area: if self.residual.is_some() { pad } else { x_area },
            y_area,
        };
        let max_count = main_panel.draw(&main_area, &fonts)?;
        if let (Some(max_count), Some(cloud)) = (max_count, fig.cloud.as_ref()) {
            let plot = main_area.get_pixel_range();
            let bar = cbar_area.get_pixel_range();
            // The bar spans the plotting area vertically: from below the top
            // margin to above the x label area.
            let top = plot.1.start - bar.1.start;
            let bottom = plot.1.end - bar.1.start - main_panel.x_area as i32;
            draw_colour_bar(&cbar_area, &fonts, cloud, max_count, top, bottom)?;
        }
        if let Some(h) = fig.heatmap.as_ref() {
            let plot = main_area.get_pixel_range();
            let bar = cbar_area.get_pixel_range();
            let top = plot.1.start - bar.1.start;
            let bottom = plot.1.end - bar.1.start - main_panel.x_area as i32;
            draw_value_bar(&cbar_area, &fonts, h, top, bottom)?;
        }
        if let (Some(r), Some(ry), Some(rt), Some(area)) = (
            self.residual,
            self.residual_y,
            residual_ticks.as_ref(),
            residual_area,
        ) {
            let panel = Panel {
                x: self.x,
                y: ry,
                x_ticks: &x_ticks,
                y_ticks: rt,
                x_label: Some(fig.x.label.as_str()),
                y_label: &r.y.label,
                series: &r.series,
                cloud: None,
                bands: &[],
                heatmap: None,
                legend: r.legend,
                grid: fig.grid,
                reference: r.reference.and_then(|v| to_plot(ry.scale, v)),
                x_area,
                y_area,
            };
            panel.draw(&area, &fonts)?;
        }
        Ok(())
    }
}

/// Ticks for `span` over `px_len` pixels, at most one major label per
/// `per_label` tick-font sizes.
fn axis_ticks(span: Span, px_len: u32, per_label: f64, fonts: &Fonts) -> Ticks {
    ticks(
        span.scale,
        span.lo,
        span.hi,
        (f64::from(px_len) / (per_label * fonts.tick)) as usize,
        px_len,
    )
}

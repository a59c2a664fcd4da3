//! Validation, layout and drawing with plotters.
//!
//! Everything is drawn in *plot space*: data values on linear axes, their
//! base-10 logarithms on log axes. Doing the log transform here (instead of
//! using plotters' log coordinates) gives us full control of tick positions
//! and labels, lets us clip lines exactly, and lets the point cloud be binned
//! on a grid that is uniform on screen.

use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::element::{DashedPathElement, IntoDynElement};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::output::FAMILY;
use crate::ticks::{Ticks, power_of_ten, ticks};
use crate::{
    Axis, Figure, LegendPos, LineKind, MAX_SIDE, MIN_SIDE, MarkerShape, PlotError, PointCloud,
    Residual, Rgb, Scale, Series, viridis,
};

type P = (f64, f64);
/// A pixel position, as plotters' backends use.
type BackendCoord = (i32, i32);

const CAPTION_GREY: RGBColor = RGBColor(70, 70, 70);
type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<PlotAxis, PlotAxis>>;

/// A plot-space interval with our own tick positions. plotters' `WithKeyPoints`
/// wrapper would do, but over `f64` it loses the mesh label formatter, so
/// this is the same linear map with our ticks.
#[derive(Clone)]
struct PlotAxis {
    lo: f64,
    hi: f64,
    major: Vec<f64>,
    minor: Vec<f64>,
}

impl PlotAxis {
    fn new(span: Span, ticks: &Ticks) -> Self {
        Self {
            lo: span.lo,
            hi: span.hi,
            major: ticks.major_positions(),
            minor: ticks.minor.clone(),
        }
    }
}

impl Ranged for PlotAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    /// The linear map of plotters' `RangedCoordf64`, rounding the same way.
    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let frac = (v - self.lo) / (self.hi - self.lo);
        let len = limit.1 - limit.0;
        if len == 0 || !frac.is_finite() {
            return limit.0;
        }
        if len > 0 {
            limit.0 + (f64::from(len) * frac + 1e-3).floor() as i32
        } else {
            limit.0 + (f64::from(len) * frac - 1e-3).ceil() as i32
        }
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.minor.clone()
        } else {
            self.major.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// A validated figure with its axis ranges resolved to plot space.
pub(crate) struct Job<'a> {
    fig: &'a Figure,
    residual: Option<&'a Residual>,
    x: Span,
    y: Span,
    residual_y: Option<Span>,
}

/// An axis interval in plot space.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Span {
    scale: Scale,
    lo: f64,
    hi: f64,
}

/// Maps a data value to plot space; `None` for values that cannot be drawn.
fn to_plot(scale: Scale, v: f64) -> Option<f64> {
    match scale {
        _ if !v.is_finite() => None,
        Scale::Linear => Some(v),
        Scale::Log10 if v > 0.0 => Some(v.log10()),
        Scale::Log10 => None,
    }
}

fn point_to_plot(xs: Scale, ys: Scale, (x, y): P) -> Option<P> {
    Some((to_plot(xs, x)?, to_plot(ys, y)?))
}

pub(crate) fn draw_err<E: std::error::Error + Send + Sync>(
    e: DrawingAreaErrorKind<E>,
) -> PlotError {
    PlotError::Draw {
        message: e.to_string(),
    }
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
        if fig.series.is_empty() && fig.cloud.is_none() {
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
                .chain(fig.cloud.iter().flat_map(|c| c.points.iter()))
                .filter_map(move |&p| point_to_plot(xs, ys, p))
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

    /// Draws the whole image on `root`.
    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), PlotError> {
        let fig = self.fig;
        let fonts = Fonts::for_size(fig.size);
        let pad = fonts.pad;
        root.fill(&WHITE).map_err(draw_err)?;

        // Header: title and the one-line caption, centred, each shrunk if
        // needed so that it fits the width (long captions on small images).
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
        let (title_style, title_h) = fitted(&fig.title, fonts.title, &BLACK)?;
        root.draw_text(&fig.title, &title_style, (w as i32 / 2, pad as i32))
            .map_err(draw_err)?;
        let mut header_h = pad + title_h + pad;
        if let Some(caption) = &fig.caption {
            let (style, cap_h) = fitted(caption, fonts.caption, &CAPTION_GREY)?;
            root.draw_text(caption, &style, (w as i32 / 2, (header_h - pad / 2) as i32))
                .map_err(draw_err)?;
            header_h += cap_h + pad / 2;
        }
        let body = root.margin(header_h, pad, pad, 3 * pad);

        // The colour bar of a point cloud takes a strip on the right; the
        // residual panel gets the same strip (left blank) so x axes line up.
        let cbar_w = if fig.cloud.is_some() {
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
        let x_ticks = ticks(
            self.x.scale,
            self.x.lo,
            self.x.hi,
            // About four font sizes per label: "10⁻⁵" or "0.25" plus a gap.
            (f64::from(plot_w) / (4.0 * fonts.tick)) as usize,
            plot_w,
        );

        let (main_area, residual_area, main_plot_h) = match self.residual {
            Some(r) => {
                let avail = body_h.saturating_sub(x_area + 2 * pad);
                let main_h = (f64::from(avail) * (1.0 - r.height_fraction)) as u32;
                let (a, b) = charts.split_vertically(main_h + pad);
                (a, Some(b), main_h)
            }
            None => (charts, None, body_h.saturating_sub(x_area)),
        };
        let y_ticks = axis_ticks(self.y, main_plot_h, &fonts);
        let residual_ticks = self.residual_y.map(|ry| {
            let h = body_h.saturating_sub(main_plot_h + x_area + 2 * pad);
            axis_ticks(ry, h, &fonts)
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

fn axis_ticks(span: Span, px_len: u32, fonts: &Fonts) -> Ticks {
    ticks(
        span.scale,
        span.lo,
        span.hi,
        (f64::from(px_len) / (2.6 * fonts.tick)) as usize,
        px_len,
    )
}

fn check_series(s: &Series, xs: Scale, ys: Scale) -> Result<(), PlotError> {
    if !(1..=50).contains(&s.style.width) {
        return Err(PlotError::InvalidParameter {
            name: format!("line width of series \"{}\"", s.label),
            value: f64::from(s.style.width),
            valid: "between 1 and 50 pixels",
        });
    }
    if let Some(m) = s.style.marker
        && !(1..=100).contains(&m.size)
    {
        return Err(PlotError::InvalidParameter {
            name: format!("marker size of series \"{}\"", s.label),
            value: f64::from(m.size),
            valid: "between 1 and 100 pixels",
        });
    }
    if !s.points.iter().any(|&p| point_to_plot(xs, ys, p).is_some()) {
        return Err(PlotError::EmptySeries {
            label: s.label.clone(),
            n_points: s.points.len(),
        });
    }
    Ok(())
}

fn check_cloud(c: &PointCloud, xs: Scale, ys: Scale) -> Result<(), PlotError> {
    if !(1..=50).contains(&c.cell_px) {
        return Err(PlotError::InvalidParameter {
            name: format!("cell size of point cloud \"{}\"", c.label),
            value: f64::from(c.cell_px),
            valid: "between 1 and 50 pixels",
        });
    }
    if !c.points.iter().any(|&p| point_to_plot(xs, ys, p).is_some()) {
        return Err(PlotError::EmptySeries {
            label: c.label.clone(),
            n_points: c.points.len(),
        });
    }
    Ok(())
}

/// The explicit range of `axis` (validated), or the range of `values` (plot
/// space) widened by 5 % of its span on each side, as matplotlib does.
fn span(
    axis: &Axis,
    name: &'static str,
    values: impl Iterator<Item = f64>,
) -> Result<Span, PlotError> {
    let scale = axis.scale;
    if let Some((lo, hi)) = axis.range {
        let bad = |reason| PlotError::InvalidRange {
            axis: name,
            lo,
            hi,
            reason,
        };
        if !lo.is_finite() || !hi.is_finite() {
            return Err(bad("both ends must be finite numbers"));
        }
        if lo >= hi {
            return Err(bad("the lower end must be below the upper end"));
        }
        if scale == Scale::Log10 && lo <= 0.0 {
            return Err(bad("a log axis needs both ends positive"));
        }
        let (Some(lo), Some(hi)) = (to_plot(scale, lo), to_plot(scale, hi)) else {
            return Err(bad("a log axis needs both ends positive"));
        };
        return Ok(Span { scale, lo, hi });
    }
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    // Validation guarantees at least one drawable point, so lo <= hi here.
    let (lo, hi) = if lo < hi {
        let margin = 0.05 * (hi - lo);
        (lo - margin, hi + margin)
    } else {
        // A single value: half a decade either side on a log axis, 10 % (at least 1) on a linear one.
        let d = match scale {
            Scale::Log10 => 0.5,
            Scale::Linear => (0.1 * lo.abs()).max(1.0),
        };
        (lo - d, lo + d)
    };
    Ok(Span { scale, lo, hi })
}

/// Font sizes and spacing, scaled with the image so that a 1200x1000 image
/// looks like a 600x500 one at twice the resolution.
struct Fonts {
    /// The factor applied to the 600x500-style sizes (also to line widths and markers).
    scale: f64,
    title: f64,
    caption: f64,
    label: f64,
    tick: f64,
    legend: f64,
    pad: u32,
    tick_mark: u32,
}

impl Fonts {
    fn for_size((w, h): (u32, u32)) -> Self {
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
    fn px(&self, len: u32) -> u32 {
        ((f64::from(len) * self.scale).round() as u32).max(1)
    }

    fn text(&self, size: f64) -> TextStyle<'static> {
        TextStyle::from((FontFamily::Name(FAMILY), size)).color(&BLACK)
    }
}

struct Panel<'p> {
    x: Span,
    y: Span,
    x_ticks: &'p Ticks,
    y_ticks: &'p Ticks,
    /// `None` hides x tick labels and the x label (upper panel of a pair).
    x_label: Option<&'p str>,
    y_label: &'p str,
    series: &'p [Series],
    cloud: Option<&'p PointCloud>,
    legend: LegendPos,
    grid: bool,
    reference: Option<f64>,
    x_area: u32,
    y_area: u32,
}

impl Panel<'_> {
    /// Draws the panel; returns the largest cell count of the cloud, if any.
    fn draw<DB: DrawingBackend>(
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
        let legend_len = (28.0 * fonts.tick / 16.0) as i32;
        let mut any_label = max_count.is_some();
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

        let position = match self.legend {
            LegendPos::UpperLeft => SeriesLabelPosition::UpperLeft,
            LegendPos::UpperRight => SeriesLabelPosition::UpperRight,
            LegendPos::LowerLeft => SeriesLabelPosition::LowerLeft,
            LegendPos::LowerRight => SeriesLabelPosition::LowerRight,
            LegendPos::Hidden => return Ok(max_count),
        };
        if any_label {
            chart
                .configure_series_labels()
                .position(position)
                .margin(fonts.pad)
                .legend_area_size(legend_len as u32 + fonts.pad / 2)
                .label_font(fonts.text(fonts.legend))
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(170, 170, 170))
                .draw()
                .map_err(draw_err)?;
        }
        Ok(max_count)
    }
}

fn colour(c: Rgb) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

fn draw_series<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    s: &Series,
    xs: Scale,
    ys: Scale,
    rect: (f64, f64, f64, f64),
    legend_len: i32,
    fonts: &Fonts,
) -> Result<(), PlotError> {
    let c = colour(s.style.colour);
    let width = fonts.px(s.style.width);
    let stroke = c.stroke_width(width);
    let fill = c.filled();
    let plot_pts = || s.points.iter().map(|&p| point_to_plot(xs, ys, p));
    // Dashes about three line widths long with gaps half as long, like matplotlib's '--'.
    let dash = (3 * width + fonts.px(4)) as i32;
    let gap = (dash / 2).max(3);
    match s.style.line {
        LineKind::Solid => {
            chart
                .draw_series(
                    polylines(plot_pts(), rect)
                        .into_iter()
                        .map(|pl| PathElement::new(pl, stroke)),
                )
                .map_err(draw_err)?;
        }
        LineKind::Dashed => {
            chart
                .draw_series(
                    polylines(plot_pts(), rect)
                        .into_iter()
                        .map(|pl| DashedPathElement::new(pl, dash, gap, stroke)),
                )
                .map_err(draw_err)?;
        }
        LineKind::None => {}
    }
    let marker = s.style.marker.map(|m| (m.shape, fonts.px(m.size)));
    if let Some((shape, size)) = marker {
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
    let (half, seg) = ((legend_len / 2, 0), vec![(0, 0), (legend_len, 0)]);
    let (short_dash, short_gap) = (dash * 2 / 3, gap * 2 / 3);
    let label = s.label.as_str();
    let at = EmptyElement::<BackendCoord, DB>::at;
    match (s.style.line, marker) {
        (LineKind::Solid, None) => legend(chart, label, move |p| {
            at(p) + PathElement::new(seg.clone(), stroke)
        }),
        (LineKind::Dashed, None) => legend(chart, label, move |p| {
            at(p) + DashedPathElement::new(seg.clone(), short_dash, short_gap, stroke)
        }),
        (LineKind::None, None) => legend(chart, label, at),
        (LineKind::Solid, Some((MarkerShape::Circle, r))) => legend(chart, label, move |p| {
            at(p) + PathElement::new(seg.clone(), stroke) + Circle::new(half, r, fill)
        }),
        (LineKind::Solid, Some((MarkerShape::Cross, r))) => legend(chart, label, move |p| {
            at(p) + PathElement::new(seg.clone(), stroke) + Cross::new(half, r, stroke)
        }),
        (LineKind::Dashed, Some((MarkerShape::Circle, r))) => legend(chart, label, move |p| {
            at(p)
                + DashedPathElement::new(seg.clone(), short_dash, short_gap, stroke)
                + Circle::new(half, r, fill)
        }),
        (LineKind::Dashed, Some((MarkerShape::Cross, r))) => legend(chart, label, move |p| {
            at(p)
                + DashedPathElement::new(seg.clone(), short_dash, short_gap, stroke)
                + Cross::new(half, r, stroke)
        }),
        (LineKind::None, Some((MarkerShape::Circle, r))) => {
            legend(chart, label, move |p| at(p) + Circle::new(half, r, fill))
        }
        (LineKind::None, Some((MarkerShape::Cross, r))) => {
            legend(chart, label, move |p| at(p) + Cross::new(half, r, stroke))
        }
    }
}

/// Adds a legend entry drawn by `glyph` (called with the entry's left
/// centre), attached to an empty series so that one glyph can show both the
/// line and the marker (matplotlib's 'o-').
fn legend<'a, DB, E, F>(chart: &mut Chart<'a, DB>, label: &str, glyph: F) -> Result<(), PlotError>
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

/// Bins the cloud into square cells of `cell_px` pixels and fills each
/// occupied cell with viridis(ln(count) / ln(max)). Returns the largest count,
/// or `None` if no point falls inside the axis ranges.
fn draw_cloud<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    cloud: &PointCloud,
    xs: Scale,
    ys: Scale,
    (x0, x1, y0, y1): (f64, f64, f64, f64),
) -> Result<Option<u32>, PlotError> {
    let (w, h) = chart.plotting_area().dim_in_pixel();
    let nx = (w / cloud.cell_px).max(1) as usize;
    let ny = (h / cloud.cell_px).max(1) as usize;
    let (dx, dy) = ((x1 - x0) / nx as f64, (y1 - y0) / ny as f64);
    let mut counts = vec![0u32; nx * ny];
    for p in cloud
        .points
        .iter()
        .filter_map(|&p| point_to_plot(xs, ys, p))
    {
        if p.0 < x0 || p.0 > x1 || p.1 < y0 || p.1 > y1 {
            continue;
        }
        // A point exactly on the upper edge belongs to the last cell.
        let i = (((p.0 - x0) / dx) as usize).min(nx - 1);
        let j = (((p.1 - y0) / dy) as usize).min(ny - 1);
        counts[j * nx + i] = counts[j * nx + i].saturating_add(1);
    }
    let max = counts.iter().copied().max().unwrap_or(0);
    if max == 0 {
        return Ok(None);
    }
    let cells = counts
        .iter()
        .enumerate()
        .filter(|(_, c)| **c > 0)
        .map(|(k, &c)| {
            let (i, j) = ((k % nx) as f64, (k / nx) as f64);
            let fill = colour(viridis(count_fraction(c, max)));
            Rectangle::new(
                [
                    (x0 + i * dx, y0 + j * dy),
                    (x0 + (i + 1.0) * dx, y0 + (j + 1.0) * dy),
                ],
                fill.filled(),
            )
        });
    let anno = chart.draw_series(cells).map_err(draw_err)?;
    if !cloud.label.is_empty() {
        let swatch = colour(viridis(0.5));
        anno.label(cloud.label.as_str()).legend(move |(x, y)| {
            Rectangle::new([(x + 8, y - 5), (x + 18, y + 5)], swatch.filled())
        });
    }
    Ok(Some(max))
}

/// Position of `count` on the logarithmic colour scale from 1 to `max`.
fn count_fraction(count: u32, max: u32) -> f64 {
    if max <= 1 {
        0.0
    } else {
        f64::from(count).ln() / f64::from(max).ln()
    }
}

fn colour_bar_width<DB: DrawingBackend>(
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

fn bar_width(fonts: &Fonts) -> u32 {
    (fonts.tick * 0.9) as u32
}

/// A vertical viridis bar from pixel row `top` to `bottom` of `area`, with
/// counts at powers of ten and a rotated title.
fn draw_colour_bar<DB: DrawingBackend>(
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

/// Splits a sequence of plot-space points into polylines clipped to `rect`
/// `(x0, x1, y0, y1)`. A `None` (a skipped point) breaks the line, and so
/// does a segment that leaves the rectangle.
fn polylines(pts: impl Iterator<Item = Option<P>>, rect: (f64, f64, f64, f64)) -> Vec<Vec<P>> {
    let mut out = Vec::new();
    let mut cur: Vec<P> = Vec::new();
    let mut prev: Option<P> = None;
    for p in pts {
        if let (Some(a), Some(b)) = (prev, p) {
            match clip(a, b, rect) {
                Some((start, end)) => {
                    if cur.last() != Some(&start) {
                        flush(&mut cur, &mut out);
                        cur.push(start);
                    }
                    cur.push(end);
                }
                None => flush(&mut cur, &mut out),
            }
        } else {
            flush(&mut cur, &mut out);
        }
        prev = p;
    }
    flush(&mut cur, &mut out);
    out
}

fn flush(cur: &mut Vec<P>, out: &mut Vec<Vec<P>>) {
    if cur.len() >= 2 {
        out.push(std::mem::take(cur));
    } else {
        cur.clear();
    }
}

/// Liang-Barsky clipping of segment `a`-`b` to `rect`. Unclipped ends are
/// returned bit-for-bit, so consecutive segments join exactly.
fn clip(a: P, b: P, (x0, x1, y0, y1): (f64, f64, f64, f64)) -> Option<(P, P)> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a.0 - x0),
        (dx, x1 - a.0),
        (-dy, a.1 - y0),
        (dy, y1 - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                if r > t1 {
                    return None;
                }
                t0 = t0.max(r);
            } else {
                if r < t0 {
                    return None;
                }
                t1 = t1.min(r);
            }
        }
    }
    let at = |t: f64| (a.0 + t * dx, a.1 + t * dy);
    let start = if t0 == 0.0 { a } else { at(t0) };
    let end = if t1 == 1.0 { b } else { at(t1) };
    Some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: (f64, f64, f64, f64) = (0.0, 10.0, 0.0, 10.0);

    #[test]
    fn clip_keeps_inside_segments_exact_and_cuts_crossing_ones() {
        assert_eq!(
            clip((1.0, 1.0), (2.0, 3.0), R),
            Some(((1.0, 1.0), (2.0, 3.0)))
        );
        assert_eq!(
            clip((5.0, 5.0), (15.0, 5.0), R),
            Some(((5.0, 5.0), (10.0, 5.0)))
        );
        assert_eq!(
            clip((-5.0, 5.0), (5.0, 5.0), R),
            Some(((0.0, 5.0), (5.0, 5.0)))
        );
        assert_eq!(clip((11.0, 0.0), (20.0, 5.0), R), None);
    }

    #[test]
    fn polylines_break_at_skipped_points_and_exits() {
        let pts = [
            Some((1.0, 1.0)),
            Some((2.0, 2.0)),
            None,
            Some((3.0, 3.0)),
            Some((4.0, 4.0)),
            Some((20.0, 4.0)),
            Some((30.0, 4.0)),
            Some((5.0, 5.0)),
        ];
        let out = polylines(pts.into_iter(), R);
        assert_eq!(out.len(), 3);
        assert_eq!(out[0], vec![(1.0, 1.0), (2.0, 2.0)]);
        assert_eq!(out[1], vec![(3.0, 3.0), (4.0, 4.0), (10.0, 4.0)]);
        // Re-entry at x = 10 on the segment (30, 4)-(5, 5): y = 4 + 20/25. The
        // computed entry point may differ from the exact one by an ulp or two.
        let (entry, end) = (out[2][0], out[2][1]);
        assert!((entry.0 - 10.0).abs() < 1e-12 && (entry.1 - 4.8).abs() < 1e-12);
        assert_eq!(end, (5.0, 5.0));
    }

    #[test]
    fn log_axes_skip_non_positive_and_non_finite_values() {
        assert_eq!(to_plot(Scale::Log10, 100.0), Some(2.0));
        assert_eq!(to_plot(Scale::Log10, 0.0), None);
        assert_eq!(to_plot(Scale::Log10, -1.0), None);
        assert_eq!(to_plot(Scale::Linear, -1.0), Some(-1.0));
        assert_eq!(to_plot(Scale::Linear, f64::NAN), None);
        assert_eq!(to_plot(Scale::Linear, f64::INFINITY), None);
    }

    #[test]
    fn fitted_ranges_have_five_percent_margins() {
        let s = span(&Axis::linear("x"), "x", [0.0, 10.0].into_iter()).unwrap();
        assert_eq!((s.lo, s.hi), (-0.5, 10.5));
        let s = span(&Axis::log10("x"), "x", [0.0, 4.0].into_iter()).unwrap();
        assert_eq!((s.lo, s.hi), (-0.2, 4.2));
        let s = span(&Axis::log10("x"), "x", [2.0].into_iter()).unwrap();
        assert_eq!((s.lo, s.hi), (1.5, 2.5));
        let s = span(&Axis::log10("x").range(1.0, 1e3), "x", [9.0].into_iter()).unwrap();
        assert_eq!((s.lo, s.hi), (0.0, 3.0));
    }

    #[test]
    fn explicit_ranges_are_validated() {
        let err = |axis: Axis| {
            span(&axis, "y", std::iter::empty())
                .unwrap_err()
                .to_string()
        };
        assert!(
            err(Axis::log10("y").range(0.0, 10.0)).contains("a log axis needs both ends positive")
        );
        assert!(err(Axis::linear("y").range(2.0, 1.0)).contains("lower end must be below"));
        assert!(err(Axis::linear("y").range(f64::NAN, 1.0)).contains("finite"));
    }

    #[test]
    fn colour_scale_is_logarithmic_in_counts() {
        assert_eq!(count_fraction(1, 1000), 0.0);
        assert!((count_fraction(10, 1000) - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(count_fraction(1000, 1000), 1.0);
        assert_eq!(count_fraction(1, 1), 0.0);
    }
}

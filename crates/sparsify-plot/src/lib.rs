//! Figures for sparsify: plain series in, PNG and SVG out.
//!
//! **What it is for.** Turning already-computed numbers (lists of `(x, y)`
//! points with a label and a style) into the figures of the paper: log-log
//! dynamics plots with predicted curves, a main panel with a residual panel
//! below it, and a large point cloud of surviving weights. It is the only
//! crate of the workspace that knows plotters, so the figure code elsewhere
//! stays plain data.
//!
//! **What it is not for.** It knows nothing about the simulation (no
//! dependency on `sparsify-core`), computes no statistics, reads no files and
//! has no interactive output. It is not a general plotting library: it offers
//! the handful of figure shapes sparsify needs and renders them the same way
//! on every machine.
//!
//! # Rendering guarantees
//! - The bundled DejaVu Sans font is registered once (through plotters'
//!   `ab_glyph` backend) and used for PNG and SVG, so no system font is needed
//!   and a PNG is byte-for-byte the same on any machine. SVG files contain real
//!   `<text>` elements with `font-family="DejaVu Sans, sans-serif"`.
//! - The only file written is the requested output, atomically: the image is
//!   rendered to a temporary file in the same directory, flushed, then renamed
//!   over the destination. A failed render leaves no file behind and does not
//!   touch an existing one.
//! - Points with a non-finite coordinate, or a non-positive one on a log axis,
//!   are skipped (a line is broken there, as matplotlib does with NaN). A
//!   series with no drawable point at all is an error.
//! - Lines are clipped to the axis ranges; markers outside them are dropped.
//!
//! # Example
//! ```
//! use sparsify_plot::{render, Axis, Figure, LegendPos, Rgb, Series};
//!
//! let t: Vec<f64> = (0..=50).map(|i| 10f64.powf(f64::from(i) / 10.0)).collect();
//! let measured = t.iter().map(|&t| (t, 1e5 / (1.0 + 1e-3 * t).powi(2))).collect();
//! let predicted = t.iter().map(|&t| (t, 1e5 / (1.0 + 1.1e-3 * t).powi(2))).collect();
//! let fig = Figure::new(
//!     "Dynamics of sparsification",
//!     Axis::log10("Training time"),
//!     Axis::log10("m'"),
//!     (600, 500),
//! )
//! .caption("m = 10⁵, λ = 10⁻⁵, h = 0.5, init = normal, seed = 0")
//! .series(Series::line("m'", measured, Rgb::BLUE))
//! .series(Series::line("predicted m'", predicted, Rgb::CYAN).dashed())
//! .legend(LegendPos::UpperRight);
//!
//! let dir = tempfile::tempdir()?;
//! render(&fig, &dir.path().join("dynamics.svg"))?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

use std::path::Path;

mod colour;
mod draw;
mod error;
mod output;
mod ticks;

pub use colour::{Rgb, diverging, viridis};
pub use error::PlotError;
pub use ticks::power_of_ten;

/// Smallest supported image side, in pixels.
pub const MIN_SIDE: u32 = 100;
/// Largest supported image side, in pixels.
pub const MAX_SIDE: u32 = 10_000;

/// How a line is stroked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// A continuous line.
    Solid,
    /// Dashes about three line widths long with gaps half as long (matplotlib's `'--'`).
    Dashed,
    /// No line: markers only.
    None,
}

/// The shape of a point marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerShape {
    /// A filled disc (matplotlib's `'o'`).
    Circle,
    /// A diagonal cross (matplotlib's `'x'`).
    Cross,
}

/// A point marker: shape and radius in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marker {
    /// Shape of the marker.
    pub shape: MarkerShape,
    /// Radius in pixels (half the width of the marker), between 1 and 100;
    /// scaled like the fonts (see [`Style::width`]).
    pub size: u32,
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Colour of the line and of the markers.
    pub colour: Rgb,
    /// Solid, dashed or no line.
    pub line: LineKind,
    /// Line width in pixels, between 1 and 50, for an image whose shorter
    /// side is 500 px; widths, marker sizes and fonts all scale with the
    /// shorter side so a 1200x1000 image looks like a sharper 600x500 one.
    pub width: u32,
    /// Markers drawn at each point, if any.
    pub marker: Option<Marker>,
}

/// One labelled set of `(x, y)` points.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend text (may contain any Unicode DejaVu Sans covers, e.g. `λ`, `‖W‖₁`).
    pub label: String,
    /// Data points in data units, in drawing order.
    pub points: Vec<(f64, f64)>,
    /// How to draw them.
    pub style: Style,
}

impl Series {
    /// A solid line of width 2 through `points`, without markers.
    pub fn line(label: impl Into<String>, points: Vec<(f64, f64)>, colour: Rgb) -> Self {
        Self {
            label: label.into(),
            points,
            style: Style {
                colour,
                line: LineKind::Solid,
                width: 2,
                marker: None,
            },
        }
    }

    /// Makes the line dashed (keeps markers, if any).
    pub fn dashed(mut self) -> Self {
        self.style.line = LineKind::Dashed;
        self
    }

    /// Markers only: filled circles of radius `size` pixels, no line.
    pub fn markers(mut self, size: u32) -> Self {
        self.style.line = LineKind::None;
        self.style.marker = Some(Marker {
            shape: MarkerShape::Circle,
            size,
        });
        self
    }

    /// Keeps the line and adds circle markers of radius `size` (matplotlib's `'o-'`).
    pub fn with_markers(mut self, size: u32) -> Self {
        self.style.marker = Some(Marker {
            shape: MarkerShape::Circle,
            size,
        });
        self
    }

    /// Changes the marker shape (no effect without markers).
    pub fn marker_shape(mut self, shape: MarkerShape) -> Self {
        if let Some(m) = &mut self.style.marker {
            m.shape = shape;
        }
        self
    }

    /// Sets the line width in pixels.
    pub fn width(mut self, width: u32) -> Self {
        self.style.width = width;
        self
    }
}

/// A large cloud of points (50 000 to several million), drawn as a 2-D density.
///
/// The plotting area is divided into square cells of `cell_px` pixels; each
/// cell holding at least one point is filled with the viridis colour of
/// `ln(count) / ln(max count)`, and a colour bar on the right gives the counts.
///
/// Why a density and not one marker per point: the sparsification cloud has
/// up to 10⁵ weights stacked on each recorded time, so individual markers
/// overplot into solid bars that hide where the weights are (a 1-pixel spread
/// and 10 000 points look identical), and an SVG with 500 000 `<circle>`
/// elements is tens of megabytes and unusable. Binning shows the distribution
/// along y at every time, keeps isolated points visible (a count of 1 gets the
/// darkest, most contrasting colour), and bounds the output to one rectangle
/// per occupied cell whatever the number of points. The logarithmic colour
/// scale is needed because counts span several orders of magnitude.
#[derive(Debug, Clone, PartialEq)]
pub struct PointCloud {
    /// Legend text for the cloud.
    pub label: String,
    /// Data points in data units; order does not matter.
    pub points: Vec<(f64, f64)>,
    /// Side of a density cell in pixels, between 1 and 50.
    pub cell_px: u32,
}

impl PointCloud {
    /// A cloud with 4-pixel cells: small enough to resolve the recorded times
    /// of a log-spaced history as separate columns, large enough that a
    /// single point is visible.
    pub fn new(label: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self {
            label: label.into(),
            points,
            cell_px: 4,
        }
    }

    /// Sets the cell side in pixels.
    pub fn cell_px(mut self, cell_px: u32) -> Self {
        self.cell_px = cell_px;
        self
    }
}

/// A shaded band between two curves (a confidence band): at each `x`, from
/// `lower` to `upper`, filled translucently so the lines drawn over it stay
/// visible.
///
/// The band is one polygon per run of drawable points (a point with a
/// non-finite value, or a non-positive one on a log axis, breaks it), clamped
/// to the axis ranges. It is drawn above the point cloud and below every
/// series, and its label (if not empty) gets a filled swatch in the legend.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    /// Legend text (empty: no legend entry).
    pub label: String,
    /// `(x, lower, upper)` in data units, in drawing order (usually ascending x).
    pub points: Vec<(f64, f64, f64)>,
    /// Fill colour.
    pub colour: Rgb,
    /// Opacity of the fill, in `(0, 1]`.
    pub opacity: f64,
}

impl Band {
    /// A band with opacity 0.2 (light enough that several overlap legibly).
    pub fn new(label: impl Into<String>, points: Vec<(f64, f64, f64)>, colour: Rgb) -> Self {
        Self {
            label: label.into(),
            points,
            colour,
            opacity: 0.2,
        }
    }

    /// Sets the opacity of the fill.
    pub fn opacity(mut self, opacity: f64) -> Self {
        self.opacity = opacity;
        self
    }
}

/// How a heatmap's values map to colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColourMap {
    /// Viridis from the low end of the range to the high end.
    Viridis,
    /// Blue through white to red (matplotlib's `coolwarm` ends), white at the
    /// middle of the range: for signed quantities such as correlations, with
    /// a range symmetric about 0.
    Diverging,
}

impl ColourMap {
    /// The colour at `t` in `[0, 1]` (clamped; NaN maps to the middle).
    pub fn at(self, t: f64) -> Rgb {
        match self {
            ColourMap::Viridis => viridis(t),
            ColourMap::Diverging => colour::diverging(t),
        }
    }
}

/// A matrix of values drawn as coloured cells, with a colour bar of the values
/// on the right (the matrix analogue of matplotlib's `imshow`).
///
/// Cell `(r, c)` (row `r`, column `c`, value `values[r * cols + c]`) covers
/// `x` from `x.0 + c dx` to `x.0 + (c + 1) dx` and `y` from `y.0 + r dy` to
/// `y.0 + (r + 1) dy`, with `dx = (x.1 - x.0) / cols` and `dy = (y.1 - y.0) /
/// rows`, in data units on linear axes: row 0 is at the bottom. A NaN cell is
/// left blank. Values outside `range` take the colour of its nearer end.
#[derive(Debug, Clone, PartialEq)]
pub struct Heatmap {
    /// The colour bar's title (what the values are).
    pub label: String,
    /// Number of rows, `>= 1`.
    pub rows: usize,
    /// Number of columns, `>= 1`.
    pub cols: usize,
    /// `rows * cols` values, row by row.
    pub values: Vec<f64>,
    /// The x extent `(left, right)` of the whole matrix, in data units.
    pub x: (f64, f64),
    /// The y extent `(bottom, top)` of the whole matrix, in data units.
    pub y: (f64, f64),
    /// The values at the two ends of the colour map, `lo < hi`.
    pub range: (f64, f64),
    /// The colour map.
    pub map: ColourMap,
}

impl Heatmap {
    /// A `rows x cols` heatmap over `[0, cols] x [0, rows]` (one unit per cell).
    pub fn new(
        label: impl Into<String>,
        rows: usize,
        cols: usize,
        values: Vec<f64>,
        range: (f64, f64),
        map: ColourMap,
    ) -> Self {
        Self {
            label: label.into(),
            rows,
            cols,
            values,
            x: (0.0, cols as f64),
            y: (0.0, rows as f64),
            range,
            map,
        }
    }

    /// Places the matrix over `x` and `y` (data units) instead of one unit per cell.
    pub fn extent(mut self, x: (f64, f64), y: (f64, f64)) -> Self {
        self.x = x;
        self.y = y;
        self
    }
}

/// How data values map to positions along an axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Position proportional to the value.
    Linear,
    /// Position proportional to `log10(value)`; ticks are labelled `10ᵏ`.
    Log10,
}

/// One axis: label, scale and optional explicit range.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// Axis title, drawn along the axis.
    pub label: String,
    /// Linear or logarithmic.
    pub scale: Scale,
    /// Explicit `(lo, hi)` in data units, `lo < hi` (both positive on a log
    /// axis). `None` fits the data with a 5 % margin, as matplotlib does.
    pub range: Option<(f64, f64)>,
}

impl Axis {
    /// A linear axis fitted to the data.
    pub fn linear(label: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            scale: Scale::Linear,
            range: None,
        }
    }

    /// A base-10 logarithmic axis fitted to the data.
    pub fn log10(label: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            scale: Scale::Log10,
            range: None,
        }
    }

    /// Fixes the range to `[lo, hi]` in data units.
    pub fn range(mut self, lo: f64, hi: f64) -> Self {
        self.range = Some((lo, hi));
        self
    }
}

/// Where the legend box goes (inside the plotting area).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegendPos {
    /// Top left corner.
    UpperLeft,
    /// Top right corner.
    UpperRight,
    /// Bottom left corner.
    LowerLeft,
    /// Bottom right corner.
    LowerRight,
    /// No legend.
    Hidden,
}

/// A single-panel figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// Title, centred at the top.
    pub title: String,
    /// One smaller line under the title, e.g. "m = 10⁵, λ = 10⁻⁵, h = 0.5, init = normal, seed = 0".
    pub caption: Option<String>,
    /// Horizontal axis.
    pub x: Axis,
    /// Vertical axis.
    pub y: Axis,
    /// Line and marker series, drawn in order on top of the cloud.
    pub series: Vec<Series>,
    /// An optional point cloud drawn as a density beneath the series.
    pub cloud: Option<PointCloud>,
    /// Shaded bands, drawn in order above the cloud and below the series.
    pub bands: Vec<Band>,
    /// An optional heatmap drawn beneath everything else (a figure has a
    /// heatmap or a point cloud, not both: each needs the colour bar).
    pub heatmap: Option<Heatmap>,
    /// Legend corner.
    pub legend: LegendPos,
    /// Whether to draw light grid lines at the ticks.
    pub grid: bool,
    /// Image size `(width, height)` in pixels.
    pub size: (u32, u32),
}

impl Figure {
    /// An empty figure with a grid and the legend in the upper right corner.
    pub fn new(title: impl Into<String>, x: Axis, y: Axis, size: (u32, u32)) -> Self {
        Self {
            title: title.into(),
            caption: None,
            x,
            y,
            series: Vec::new(),
            cloud: None,
            bands: Vec::new(),
            heatmap: None,
            legend: LegendPos::UpperRight,
            grid: true,
            size,
        }
    }

    /// Sets the one-line caption under the title.
    pub fn caption(mut self, caption: impl Into<String>) -> Self {
        self.caption = Some(caption.into());
        self
    }

    /// Appends a series.
    pub fn series(mut self, series: Series) -> Self {
        self.series.push(series);
        self
    }

    /// Sets the point cloud.
    pub fn cloud(mut self, cloud: PointCloud) -> Self {
        self.cloud = Some(cloud);
        self
    }

    /// Appends a shaded band.
    pub fn band(mut self, band: Band) -> Self {
        self.bands.push(band);
        self
    }

    /// Sets the heatmap.
    pub fn heatmap(mut self, heatmap: Heatmap) -> Self {
        self.heatmap = Some(heatmap);
        self
    }

    /// Sets the legend corner.
    pub fn legend(mut self, legend: LegendPos) -> Self {
        self.legend = legend;
        self
    }

    /// Turns grid lines on or off.
    pub fn grid(mut self, grid: bool) -> Self {
        self.grid = grid;
        self
    }
}

/// The lower panel of [`render_panels`]: shares the main figure's x axis
/// (range and scale), has its own y axis and series.
#[derive(Debug, Clone, PartialEq)]
pub struct Residual {
    /// Vertical axis of the residual panel.
    pub y: Axis,
    /// Series of the residual panel.
    pub series: Vec<Series>,
    /// A thin black horizontal line at this y value (e.g. 0 for differences, 1 for ratios).
    pub reference: Option<f64>,
    /// Legend corner of the residual panel.
    pub legend: LegendPos,
    /// Share of the plotting height given to the residual panel, in `[0.1, 0.7]`.
    pub height_fraction: f64,
}

impl Residual {
    /// A residual panel taking 30 % of the height, without legend or reference line.
    pub fn new(y: Axis, series: Vec<Series>) -> Self {
        Self {
            y,
            series,
            reference: None,
            legend: LegendPos::Hidden,
            height_fraction: 0.3,
        }
    }

    /// Draws a horizontal reference line at `y`.
    pub fn reference(mut self, y: f64) -> Self {
        self.reference = Some(y);
        self
    }

    /// Sets the legend corner.
    pub fn legend(mut self, legend: LegendPos) -> Self {
        self.legend = legend;
        self
    }

    /// Sets the share of the plotting height given to this panel.
    pub fn height_fraction(mut self, fraction: f64) -> Self {
        self.height_fraction = fraction;
        self
    }
}

/// Renders `figure` to `path`, as PNG or SVG according to the extension
/// (`.png` / `.svg`, case-insensitive), atomically.
///
/// # Errors
/// [`PlotError::UnsupportedExtension`], [`PlotError::InvalidSize`],
/// [`PlotError::EmptyFigure`], [`PlotError::EmptySeries`],
/// [`PlotError::InvalidRange`], [`PlotError::InvalidParameter`] before anything
/// is written; [`PlotError::Io`] or [`PlotError::Draw`] while writing, in which
/// case no file is left at `path`.
pub fn render(figure: &Figure, path: &Path) -> Result<(), PlotError> {
    let job = draw::Job::prepare(figure, None)?;
    output::write(&job, figure.size, path)
}

/// Renders `main` with `residual` as a second panel below it, sharing the x
/// axis (tick labels and x label appear only under the residual panel).
///
/// # Errors
/// As [`render`]; the residual panel must have at least one series.
pub fn render_panels(main: &Figure, residual: &Residual, path: &Path) -> Result<(), PlotError> {
    let job = draw::Job::prepare(main, Some(residual))?;
    output::write(&job, main.size, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_builders_compose() {
        let s = Series::line("a", vec![(1.0, 2.0)], Rgb::RED);
        assert_eq!(s.style.line, LineKind::Solid);
        assert_eq!((s.style.width, s.style.marker), (2, None));
        let s = s.dashed().with_markers(3).width(4);
        assert_eq!(s.style.line, LineKind::Dashed);
        assert_eq!(s.style.width, 4);
        assert_eq!(
            s.style.marker,
            Some(Marker {
                shape: MarkerShape::Circle,
                size: 3
            })
        );
        let s = Series::line("b", vec![], Rgb::BLUE)
            .markers(2)
            .marker_shape(MarkerShape::Cross);
        assert_eq!(s.style.line, LineKind::None);
        assert_eq!(s.style.marker.map(|m| m.shape), Some(MarkerShape::Cross));
    }

    #[test]
    fn figure_builders_compose() {
        let fig = Figure::new(
            "t",
            Axis::log10("x").range(1.0, 10.0),
            Axis::linear("y"),
            (600, 500),
        )
        .caption("c")
        .series(Series::line("a", vec![(1.0, 1.0)], Rgb::RED))
        .cloud(PointCloud::new("w", vec![(1.0, 0.5)]).cell_px(2))
        .legend(LegendPos::LowerLeft)
        .grid(false);
        assert_eq!(fig.x.range, Some((1.0, 10.0)));
        assert_eq!(fig.caption.as_deref(), Some("c"));
        assert_eq!(fig.cloud.map(|c| c.cell_px), Some(2));
        assert_eq!((fig.legend, fig.grid), (LegendPos::LowerLeft, false));
        let r = Residual::new(Axis::linear("r"), vec![])
            .reference(0.0)
            .height_fraction(0.4);
        assert_eq!(
            (r.reference, r.height_fraction, r.legend),
            (Some(0.0), 0.4, LegendPos::Hidden)
        );
    }

    #[test]
    fn every_kind_renders_into_a_tempdir() {
        let dir = tempfile::tempdir().unwrap();
        let line: Vec<(f64, f64)> = (1..=100)
            .map(|i| (f64::from(i), 1e4 / f64::from(i * i)))
            .collect();
        let cloud: Vec<(f64, f64)> = (1..=50_000)
            .map(|i| (f64::from(1 + i % 97), f64::from(i % 1000) / 1000.0))
            .collect();
        let fig = Figure::new("Lines", Axis::log10("t"), Axis::log10("m'"), (320, 240))
            .series(Series::line("m'", line.clone(), Rgb::BLUE))
            .series(Series::line("pred", line.clone(), Rgb::CYAN).dashed());
        let cloud_fig = Figure::new("Cloud", Axis::log10("t"), Axis::linear("w"), (320, 240))
            .cloud(PointCloud::new("w", cloud));
        let res = Residual::new(
            Axis::linear("r"),
            vec![Series::line("r", line, Rgb::RED).markers(2)],
        );
        for ext in ["png", "svg"] {
            render(&fig, &dir.path().join(format!("lines.{ext}"))).unwrap();
            render(&cloud_fig, &dir.path().join(format!("cloud.{ext}"))).unwrap();
            render_panels(&fig, &res, &dir.path().join(format!("panels.{ext}"))).unwrap();
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 6);
    }

    #[test]
    fn bands_and_heatmaps_render_and_bad_ones_are_refused_before_writing() {
        let dir = tempfile::tempdir().unwrap();
        let band: Vec<(f64, f64, f64)> = (1..=50)
            .map(|i| (f64::from(i), 0.5 / f64::from(i), 2.0 / f64::from(i)))
            .collect();
        let mean: Vec<(f64, f64)> = band
            .iter()
            .map(|&(x, lo, hi)| (x, (lo + hi) / 2.0))
            .collect();
        let fig = Figure::new("Band", Axis::log10("t"), Axis::log10("y"), (320, 240))
            .band(Band::new("95%", band, Rgb::RED))
            .series(Series::line("mean", mean, Rgb::RED));
        let values: Vec<f64> = (0..12).map(|k| f64::from(k) / 6.0 - 1.0).collect();
        let heat = Figure::new("Heat", Axis::linear("c"), Axis::linear("r"), (320, 240)).heatmap(
            Heatmap::new("v", 3, 4, values.clone(), (-1.0, 1.0), ColourMap::Diverging),
        );
        for ext in ["png", "svg"] {
            render(&fig, &dir.path().join(format!("band.{ext}"))).unwrap();
            render(&heat, &dir.path().join(format!("heat.{ext}"))).unwrap();
        }
        // Each mistake is refused before any file is created.
        let wrong_len = Figure::new("H", Axis::linear("c"), Axis::linear("r"), (320, 240)).heatmap(
            Heatmap::new("v", 3, 5, values.clone(), (-1.0, 1.0), ColourMap::Viridis),
        );
        let log_axis = Figure::new("H", Axis::log10("c"), Axis::linear("r"), (320, 240)).heatmap(
            Heatmap::new("v", 3, 4, values.clone(), (-1.0, 1.0), ColourMap::Viridis),
        );
        let flat = Figure::new("H", Axis::linear("c"), Axis::linear("r"), (320, 240)).heatmap(
            Heatmap::new("v", 3, 4, values, (1.0, 1.0), ColourMap::Viridis),
        );
        let opaque = Figure::new("B", Axis::linear("t"), Axis::linear("y"), (320, 240))
            .band(Band::new("b", vec![(1.0, 0.0, 1.0), (2.0, 0.0, 1.0)], Rgb::RED).opacity(0.0));
        let lonely = Figure::new("B", Axis::linear("t"), Axis::linear("y"), (320, 240))
            .band(Band::new("b", vec![(1.0, 0.0, 1.0)], Rgb::RED));
        for bad in [wrong_len, log_axis, flat, opaque, lonely] {
            assert!(
                render(&bad, &dir.path().join("bad.png")).is_err(),
                "{}",
                bad.title
            );
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 4);
    }
}

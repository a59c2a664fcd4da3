//! The point cloud as a 2-D density: points binned into square cells that are
//! uniform on screen, each occupied cell filled with viridis on a logarithmic
//! scale of its count.

use plotters::prelude::*;

use super::space::point_to_plot;
use super::{Chart, colour, draw_err};
use crate::{PlotError, PointCloud, Scale, viridis};

/// Bins the cloud into square cells of `cell_px` pixels and fills each
/// occupied cell with viridis(ln(count) / ln(max)). Returns the largest count,
/// or `None` if no point falls inside the axis ranges.
pub(super) fn draw_cloud<DB: DrawingBackend>(
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
pub(super) fn count_fraction(count: u32, max: u32) -> f64 {
    if max <= 1 {
        0.0
    } else {
        f64::from(count).ln() / f64::from(max).ln()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_scale_is_logarithmic_in_counts() {
        assert_eq!(count_fraction(1, 1000), 0.0);
        assert!((count_fraction(10, 1000) - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(count_fraction(1000, 1000), 1.0);
        assert_eq!(count_fraction(1, 1), 0.0);
    }
}

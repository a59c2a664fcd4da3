//! Shaded bands: one translucent polygon per run of drawable points, the
//! upper curve forwards and the lower one back, clamped to the axis ranges.

use plotters::prelude::*;

use super::space::point_to_plot;
use super::{Chart, P, colour, draw_err};
use crate::{Band, PlotError, Scale};

/// Draws `band` inside `rect` `(x0, x1, y0, y1)` (plot space) and adds its
/// legend entry (a filled swatch) if it has a label.
pub(super) fn draw_band<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    band: &Band,
    xs: Scale,
    ys: Scale,
    rect: (f64, f64, f64, f64),
) -> Result<(), PlotError> {
    let fill = colour(band.colour).mix(band.opacity).filled();
    let polygons = runs(band, xs, ys, rect);
    let anno = chart
        .draw_series(polygons.into_iter().map(|pts| Polygon::new(pts, fill)))
        .map_err(draw_err)?;
    if !band.label.is_empty() {
        // The swatch is drawn opaquer than the band, so a light band is still recognisable.
        let swatch = colour(band.colour).mix(band.opacity.max(0.4)).filled();
        anno.label(band.label.as_str())
            .legend(move |(x, y)| Rectangle::new([(x + 2, y - 5), (x + 24, y + 5)], swatch));
    }
    Ok(())
}

/// The band's polygons in plot space: for each maximal run of at least two
/// drawable points, the upper curve in order then the lower one reversed,
/// every vertex clamped to `rect`.
fn runs(band: &Band, xs: Scale, ys: Scale, (x0, x1, y0, y1): (f64, f64, f64, f64)) -> Vec<Vec<P>> {
    let clamp = |(x, y): P| (x.clamp(x0, x1), y.clamp(y0, y1));
    let mut out = Vec::new();
    let mut upper: Vec<P> = Vec::new();
    let mut lower: Vec<P> = Vec::new();
    let mut flush = |upper: &mut Vec<P>, lower: &mut Vec<P>| {
        if upper.len() >= 2 {
            let mut poly = std::mem::take(upper);
            poly.extend(lower.drain(..).rev());
            out.push(poly);
        }
        upper.clear();
        lower.clear();
    };
    for &(x, lo, hi) in &band.points {
        match (
            point_to_plot(xs, ys, (x, hi)),
            point_to_plot(xs, ys, (x, lo)),
        ) {
            (Some(u), Some(l)) => {
                upper.push(clamp(u));
                lower.push(clamp(l));
            }
            _ => flush(&mut upper, &mut lower),
        }
    }
    flush(&mut upper, &mut lower);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Rgb;

    #[test]
    fn a_gap_splits_the_band_and_vertices_are_clamped() {
        let band = Band::new(
            "b",
            vec![
                (1.0, 0.0, 2.0),
                (2.0, 0.5, 3.0),
                (3.0, f64::NAN, 1.0),
                (4.0, 0.0, 1.0),
                (5.0, -5.0, 1.0),
            ],
            Rgb::RED,
        );
        let polys = runs(&band, Scale::Linear, Scale::Linear, (0.0, 10.0, -1.0, 2.5));
        assert_eq!(polys.len(), 2);
        assert_eq!(
            polys[0],
            vec![(1.0, 2.0), (2.0, 2.5), (2.0, 0.5), (1.0, 0.0)],
            "upper forwards, lower back, 3.0 clamped to 2.5"
        );
        assert_eq!(
            polys[1],
            vec![(4.0, 1.0), (5.0, 1.0), (5.0, -1.0), (4.0, 0.0)]
        );
    }

    #[test]
    fn a_lone_point_draws_nothing() {
        let band = Band::new("b", vec![(1.0, 1.0, 2.0), (2.0, -1.0, 2.0)], Rgb::RED);
        // On a log y axis the second point's lower end is not drawable.
        assert!(runs(&band, Scale::Linear, Scale::Log10, (0.0, 3.0, -1.0, 1.0)).is_empty());
    }
}

//! Lines clipped to the plotting area: a sequence of plot-space points split
//! into polylines at skipped points and where it leaves the axis ranges.

use super::P;

/// Splits a sequence of plot-space points into polylines clipped to `rect`
/// `(x0, x1, y0, y1)`. A `None` (a skipped point) breaks the line, and so
/// does a segment that leaves the rectangle.
pub(super) fn polylines(
    pts: impl Iterator<Item = Option<P>>,
    rect: (f64, f64, f64, f64),
) -> Vec<Vec<P>> {
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
}

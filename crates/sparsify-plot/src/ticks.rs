//! Tick positions and tick labels, computed here rather than by plotters so
//! that log axes are labelled as powers of ten and the result does not depend
//! on plotters' heuristics.
//!
//! All positions are in *plot space*: the value itself on a linear axis, its
//! base-10 logarithm on a log axis.

use crate::Scale;

/// Major (labelled, bold grid) and minor (light grid) tick positions in plot space.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Ticks {
    /// Labelled positions, ascending, each with its label.
    pub(crate) major: Vec<(f64, String)>,
    /// Unlabelled positions for light grid lines.
    pub(crate) minor: Vec<f64>,
}

impl Ticks {
    /// The label of the major tick at plot-space position `v` (the mesh
    /// formatter is called with exactly the positions we supplied, but we
    /// match with a tolerance to be safe about float round-trips).
    pub(crate) fn label_at(&self, v: f64) -> String {
        let tol = 1e-9 * (1.0 + v.abs());
        self.major
            .iter()
            .find(|(p, _)| (p - v).abs() <= tol)
            .map(|(_, s)| s.clone())
            .unwrap_or_default()
    }

    pub(crate) fn major_positions(&self) -> Vec<f64> {
        self.major.iter().map(|(p, _)| *p).collect()
    }
}

/// Ticks for the plot-space interval `[lo, hi]` with at most `max_ticks` labels.
/// `px_len` is the axis length in pixels, used to decide whether minor
/// decade lines (2..9 x 10^k) would be too dense to help.
pub(crate) fn ticks(scale: Scale, lo: f64, hi: f64, max_ticks: usize, px_len: u32) -> Ticks {
    let max_ticks = max_ticks.max(2);
    match scale {
        Scale::Linear => {
            let step = step_with_at_least_three(lo, hi, max_ticks);
            let major = multiples(lo, hi, step)
                .into_iter()
                .map(|v| (v, format_value(v, step)))
                .collect();
            Ticks {
                major,
                minor: Vec::new(),
            }
        }
        Scale::Log10 => log_ticks(lo, hi, max_ticks, px_len),
    }
}

fn log_ticks(lo: f64, hi: f64, max_ticks: usize, px_len: u32) -> Ticks {
    // A tolerance so that a range ending exactly on a decade keeps that decade.
    let k_min = (lo - 1e-9).ceil() as i64;
    let k_max = (hi + 1e-9).floor() as i64;
    let n_decades = k_max - k_min + 1;
    if n_decades < 2 {
        // Less than two powers of ten in view: label round values instead.
        let (v_lo, v_hi) = (10f64.powf(lo), 10f64.powf(hi));
        let step = step_with_at_least_three(v_lo, v_hi, max_ticks);
        let major = multiples(v_lo, v_hi, step)
            .into_iter()
            .filter(|v| *v > 0.0)
            .map(|v| (v.log10(), format_value(v, step)))
            .collect();
        return Ticks {
            major,
            minor: Vec::new(),
        };
    }
    let stride = [1i64, 2, 3, 4, 5, 10, 20, 25, 50, 100]
        .into_iter()
        .find(|s| (n_decades + s - 1) / s <= max_ticks as i64)
        .unwrap_or(100);
    let major: Vec<(f64, String)> = (k_min..=k_max)
        .filter(|k| k.rem_euclid(stride) == 0)
        .map(|k| (k as f64, power_of_ten(k as i32)))
        .collect();
    let px_per_decade = f64::from(px_len) / (hi - lo);
    let mut minor = Vec::new();
    if stride == 1 {
        // Light lines at 2..9 x 10^k only when they are at least 5 px apart
        // at the dense end (between 9 and 10), otherwise they form a grey band.
        if px_per_decade * (10f64 / 9.0).log10() >= 5.0 {
            for k in (k_min - 1)..=k_max {
                for j in 2..=9 {
                    let p = k as f64 + f64::from(j).log10();
                    if p >= lo && p <= hi {
                        minor.push(p);
                    }
                }
            }
        }
    } else {
        minor.extend(
            (k_min..=k_max)
                .filter(|k| k.rem_euclid(stride) != 0)
                .map(|k| k as f64),
        );
    }
    Ticks { major, minor }
}

/// A round step giving at most `max_ticks` intervals, refined (up to three
/// times the label budget) when that leaves fewer than three labels in
/// `[lo, hi]`: a short panel with a single labelled value cannot be read.
fn step_with_at_least_three(lo: f64, hi: f64, max_ticks: usize) -> f64 {
    let mut step = nice_step(hi - lo, max_ticks);
    for n in max_ticks..=3 * max_ticks {
        step = nice_step(hi - lo, n);
        if multiples(lo, hi, step).len() >= 3 {
            break;
        }
    }
    step
}

/// The smallest step of the form {1, 2, 5} x 10^k giving at most `max_ticks` intervals over `span`.
fn nice_step(span: f64, max_ticks: usize) -> f64 {
    let raw = span / max_ticks as f64;
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw * (1.0 - 1e-12))
        .unwrap_or(10.0 * mag)
}

/// Integer multiples of `step` inside `[lo, hi]`, computed as `i * step` so
/// that errors do not accumulate; values within rounding of zero become zero.
fn multiples(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let i_lo = (lo / step - 1e-9).ceil() as i64;
    let i_hi = (hi / step + 1e-9).floor() as i64;
    (i_lo..=i_hi)
        .map(|i| {
            let v = i as f64 * step;
            if v.abs() < step * 1e-9 { 0.0 } else { v }
        })
        .collect()
}

/// `10^exp` written with Unicode superscripts, e.g. `power_of_ten(-2)` is `"10⁻²"`.
///
/// DejaVu Sans (bundled) has these glyphs, so the label renders identically in
/// PNG; SVG viewers need any font with the superscript block, which all common
/// sans-serif fonts have. Handy for titles too: `format!("m = {}", power_of_ten(5))`.
pub fn power_of_ten(exp: i32) -> String {
    format!("10{}", superscript(exp))
}

fn superscript(n: i32) -> String {
    n.to_string()
        .chars()
        .map(|c| match c {
            '-' => '⁻',
            '0' => '⁰',
            '1' => '¹',
            '2' => '²',
            '3' => '³',
            '4' => '⁴',
            '5' => '⁵',
            '6' => '⁶',
            '7' => '⁷',
            '8' => '⁸',
            _ => '⁹',
        })
        .collect()
}

/// A tick label for value `v` on a grid of spacing `step`: plain decimals for
/// moderate magnitudes, `a×10ᵏ` otherwise; negative numbers use the proper
/// minus sign (U+2212) as matplotlib does.
fn format_value(v: f64, step: f64) -> String {
    if v == 0.0 {
        return "0".to_owned();
    }
    let a = v.abs();
    let sign = if v < 0.0 { "\u{2212}" } else { "" };
    if !(1e-3..1e5).contains(&a) {
        let e = a.log10().floor() as i32;
        let mantissa = a / 10f64.powi(e);
        let m = trim_zeros(&format!("{mantissa:.2}"));
        return if m == "1" {
            format!("{sign}{}", power_of_ten(e))
        } else {
            format!("{sign}{m}×{}", power_of_ten(e))
        };
    }
    let decimals = if step < 1.0 {
        (-step.log10().floor()) as usize
    } else {
        0
    };
    format!("{sign}{a:.decimals$}")
}

fn trim_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(t: &Ticks) -> Vec<&str> {
        t.major.iter().map(|(_, s)| s.as_str()).collect()
    }

    #[test]
    fn powers_of_ten_use_superscripts() {
        assert_eq!(power_of_ten(5), "10⁵");
        assert_eq!(power_of_ten(-2), "10⁻²");
        assert_eq!(power_of_ten(0), "10⁰");
        assert_eq!(power_of_ten(-10), "10⁻¹⁰");
    }

    #[test]
    fn log_axis_over_many_decades_thins_labels() {
        // 1 .. 3e5 on 500 px with room for 8 labels: every decade fits.
        let t = ticks(Scale::Log10, 0.0, 3e5f64.log10(), 8, 500);
        assert_eq!(labels(&t), ["10⁰", "10¹", "10²", "10³", "10⁴", "10⁵"]);
        // 91 px per decade puts 9 and 10 x 10^k only 4 px apart: no minor lines.
        assert!(t.minor.is_empty());
        // At 1000 px they are 8 px apart: 2..9 in five decades, 2 and 3 in the sixth.
        let t = ticks(Scale::Log10, 0.0, 3e5f64.log10(), 8, 1000);
        assert_eq!(t.minor.len(), 5 * 8 + 2);
        // 12 decades with room for 5 labels: every third decade, others light.
        let t = ticks(Scale::Log10, -6.0, 6.0, 5, 300);
        assert_eq!(labels(&t), ["10⁻⁶", "10⁻³", "10⁰", "10³", "10⁶"]);
        assert_eq!(t.minor.len(), 13 - 5);
    }

    #[test]
    fn log_axis_within_one_decade_labels_round_values() {
        let t = ticks(Scale::Log10, 0.3f64.log10(), 0.9f64.log10(), 6, 400);
        assert_eq!(
            labels(&t),
            ["0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9"]
        );
    }

    #[test]
    fn linear_ticks_are_round() {
        let t = ticks(Scale::Linear, -0.05, 1.05, 6, 400);
        assert_eq!(labels(&t), ["0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        let t = ticks(Scale::Linear, -3.0, 3.0, 6, 400);
        assert_eq!(
            labels(&t),
            ["\u{2212}3", "\u{2212}2", "\u{2212}1", "0", "1", "2", "3"]
        );
        let t = ticks(Scale::Linear, 0.0, 4e5, 5, 400);
        assert_eq!(labels(&t), ["0", "10⁵", "2×10⁵", "3×10⁵", "4×10⁵"]);
        assert_eq!(t.label_at(2e5), "2×10⁵");
    }
}

//! Renders one figure of each kind from synthetic data shaped like the
//! published ones, so the look can be checked by eye:
//!
//! ```text
//! cargo run -p sparsify-plot --example gallery -- /tmp/sparsify-plot-gallery
//! ```
//!
//! The data follow the closed-form predictions with a deterministic wiggle;
//! they are not simulation output.

use std::error::Error;
use std::path::PathBuf;

use sparsify_plot::{
    Axis, Figure, LegendPos, MarkerShape, PointCloud, Residual, Rgb, Series, power_of_ten, render,
    render_panels,
};

const M: f64 = 1e5;
const LAMBDA: f64 = 1e-5;

fn main() -> Result<(), Box<dyn Error>> {
    let dir = std::env::args_os().nth(1).map_or_else(
        || PathBuf::from("/tmp/sparsify-plot-gallery"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&dir)?;

    let t = recorded_times();
    let caption = format!(
        "m = {}, λ = {}, h = 0.5, init = normal(0, 0.9/√m), seed = 0",
        power_of_ten(5),
        power_of_ten(-5)
    );
    let pred_m = |t: f64| (1.0 / (1.0 / M.sqrt() + LAMBDA * t).powi(2)).max(1.0);
    let pred_l1 = |t: f64| (1.0 / (1.0 / M.sqrt() + LAMBDA * t)).max(1.0);
    let m_prime = |t: f64| {
        (pred_m(t) * (1.0 + 0.08 * (t.ln() * 1.7).sin()))
            .max(1.0)
            .round()
    };
    let l1 = |t: f64| pred_l1(t) * (1.0 + 0.04 * (t.ln() * 1.3).cos());

    let main = Figure::new(
        "Dynamics of sparsification (m = 10^5, λ = 10^-5)",
        Axis::log10("Training time").range(1.0, 10f64.sqrt() / LAMBDA),
        Axis::log10("").range(1.0 / 10f64.sqrt(), M * 10f64.sqrt()),
        (600, 500),
    )
    .caption(caption.clone())
    .series(Series::line(
        "m'",
        t.iter().map(|&t| (t, m_prime(t))).collect(),
        Rgb::BLUE,
    ))
    .series(
        Series::line(
            "predicted m'",
            t.iter().map(|&t| (t, pred_m(t))).collect(),
            Rgb::CYAN,
        )
        .dashed(),
    )
    .series(Series::line(
        "‖W_i‖₁",
        t.iter().map(|&t| (t, l1(t))).collect(),
        Rgb::RED,
    ))
    .series(
        Series::line(
            "predicted ‖W_i‖₁",
            t.iter().map(|&t| (t, pred_l1(t))).collect(),
            Rgb::PINK,
        )
        .dashed(),
    )
    .legend(LegendPos::UpperRight);
    for ext in ["png", "svg"] {
        render(&main, &dir.join(format!("main.{ext}")))?;
    }

    let relvar = Figure::new(
        "Relative variance",
        Axis::log10("Time"),
        Axis::linear("relative variance"),
        (600, 500),
    )
    .caption(caption.clone())
    .series(
        Series::line(
            "measured",
            t.iter()
                .map(|&t| (t, 0.57 + 0.05 * (t.ln()).sin()))
                .collect(),
            Rgb::ORANGE,
        )
        .with_markers(3),
    )
    .series(Series::line(
        "bounds",
        t.iter().map(|&t| (t, 0.5 - 0.1 / t.sqrt())).collect(),
        Rgb::RED,
    ))
    .series(Series::line(
        "",
        t.iter().map(|&t| (t, 0.68 + 0.1 / t.sqrt())).collect(),
        Rgb::RED,
    ))
    .series(
        Series::line(
            "ideal bounds",
            t.iter().map(|&t| (t, 0.52)).collect(),
            Rgb::PINK,
        )
        .dashed(),
    )
    .series(Series::line("", t.iter().map(|&t| (t, 0.62)).collect(), Rgb::PINK).dashed())
    .legend(LegendPos::LowerRight);
    for ext in ["png", "svg"] {
        render(&relvar, &dir.join(format!("relvar.{ext}")))?;
    }

    // Surviving weights as a fraction of the largest: sorted half-normal
    // initial weights shifted down until m'(t) of them remain.
    let init = half_normal_sorted(M as usize);
    let mut cloud = Vec::new();
    let mut top = Vec::new();
    for &t in &t {
        let alive = (m_prime(t) as usize).clamp(1, init.len());
        let shift = if alive < init.len() { init[alive] } else { 0.0 };
        let w_max = init[0] - shift;
        cloud.extend(init[..alive].iter().map(|w| (t, (w - shift) / w_max)));
        let second = if alive > 1 {
            (init[1] - shift) / w_max
        } else {
            0.0
        };
        top.push((t, second));
    }
    let n_points = cloud.len();
    let weights = Figure::new(
        "Relative weights as a fraction of the biggest weight",
        Axis::log10("Time"),
        Axis::linear("w / max w").range(0.0, 1.05),
        (600, 500),
    )
    .caption(caption.clone())
    .cloud(PointCloud::new(
        format!("weights ({n_points} points)"),
        cloud,
    ))
    .series(Series::line("1 − γ", top, Rgb::RED).width(2))
    .legend(LegendPos::LowerLeft);
    for ext in ["png", "svg"] {
        render(&weights, &dir.join(format!("weights.{ext}")))?;
    }

    let ratio: Vec<(f64, f64)> = t.iter().map(|&t| (t, m_prime(t) / pred_m(t))).collect();
    let panel_main = main.clone().legend(LegendPos::LowerLeft);
    let residual = Residual::new(
        Axis::linear("measured / predicted"),
        vec![
            Series::line("m' ratio", ratio, Rgb::BLUE)
                .with_markers(2)
                .marker_shape(MarkerShape::Circle),
        ],
    )
    .reference(1.0);
    for ext in ["png", "svg"] {
        render_panels(&panel_main, &residual, &dir.join(format!("panels.{ext}")))?;
    }

    let big = Figure {
        size: (1200, 1000),
        ..main.clone()
    };
    render(&big, &dir.join("main_1200.png"))?;
    let small = Figure {
        size: (360, 300),
        ..main
    };
    render(&small, &dir.join("main_360.png"))?;
    Ok(())
}

/// Times at which the published script records: whenever
/// `floor(3 ln(cnt + 1))` changes, with step 0.5.
fn recorded_times() -> Vec<f64> {
    let mut t = Vec::new();
    for cnt in 0u32..600_000 {
        let now = (3.0 * f64::from(cnt + 1).ln()) as i64;
        let next = (3.0 * f64::from(cnt + 2).ln()) as i64;
        if now != next {
            t.push(0.5 * f64::from(cnt));
        }
    }
    t
}

/// `n` absolute values of a normal sample, sorted descending, from a fixed
/// xorshift stream and Box-Muller (good enough for a picture).
fn half_normal_sorted(n: usize) -> Vec<f64> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut uniform = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let mut w: Vec<f64> = (0..n)
        .map(|_| {
            let (u, v) = (uniform(), uniform());
            ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()).abs()
        })
        .collect();
    w.sort_by(|a, b| b.total_cmp(a));
    w
}

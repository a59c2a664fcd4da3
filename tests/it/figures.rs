//! Integration tests: figures.
//!
//! The data behind every figure of `cargo xtask figures` (each series' points and the weight
//! cloud, summarised) is an insta snapshot, so a change in what a figure shows is reviewed;
//! figure 1 is checked against the published script's own history lists; every figure is
//! rendered to PNG and SVG and the files are checked (format, size, text); `sparsify run
//! --figure` draws the same figure 1 for any parameters.
//!
//! Numbers in snapshots have 6 significant digits: the figures show far less, and the run is
//! bitwise reproducible (sequential sums), so this only moves when a curve really changes.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::OnceLock;

use sparsify_core::{InitialWeights, SumMode};
use sparsify_experiments::figures::{self, FigureData, FigureKind, RunParams};
use sparsify_plot::{Figure, LineKind, Scale, Series};

use crate::common::{csv, num};

/// The caption's initialisation, as `cargo xtask figures` and `sparsify run --rng numpy` say it.
const PUBLISHED_INIT: &str = "|N(0, σ²)|, σ = 0.9/√m, numpy seed 0";

/// The published run, as `cargo xtask figures` makes it (simulated once per test binary).
fn published() -> &'static FigureData {
    static DATA: OnceLock<FigureData> = OnceLock::new();
    DATA.get_or_init(|| {
        let w0 = InitialWeights::half_normal_numpy(0, 100_000, None).expect("valid");
        let params = RunParams {
            lambda: 1e-5,
            h: 0.5,
            init: PUBLISHED_INIT.to_owned(),
        };
        FigureData::simulate(params, w0, SumMode::Sequential).expect("stable run")
    })
}

fn g(x: f64) -> String {
    format!("{x:.5e}")
}

fn scale(s: Scale) -> &'static str {
    match s {
        Scale::Linear => "linear",
        Scale::Log10 => "log10",
    }
}

/// The data behind a figure, as text: titles, axes, then each series point by point and a
/// per-time summary of the weight cloud.
fn describe(fig: &Figure) -> String {
    let mut out = String::new();
    let range = |r: Option<(f64, f64)>| {
        r.map_or("fitted".to_owned(), |(a, b)| {
            format!("[{}, {}]", g(a), g(b))
        })
    };
    let _ = writeln!(out, "title: {}", fig.title);
    let _ = writeln!(out, "caption: {}", fig.caption.as_deref().unwrap_or(""));
    let _ = writeln!(out, "size: {:?}", fig.size);
    let _ = writeln!(
        out,
        "x: {:?} {} {}",
        fig.x.label,
        scale(fig.x.scale),
        range(fig.x.range)
    );
    let _ = writeln!(
        out,
        "y: {:?} {} {}",
        fig.y.label,
        scale(fig.y.scale),
        range(fig.y.range)
    );
    let _ = writeln!(out, "legend: {:?}", fig.legend);
    for s in &fig.series {
        let line = match s.style.line {
            LineKind::Solid => "solid",
            LineKind::Dashed => "dashed",
            LineKind::None => "no line",
        };
        let _ = writeln!(
            out,
            "\nseries {:?}: {} points, {line}, colour {:?}, markers {:?}",
            s.label,
            s.points.len(),
            s.style.colour,
            s.style.marker.map(|m| m.size)
        );
        for &(x, y) in &s.points {
            let _ = writeln!(out, "  {} {}", g(x), g(y));
        }
    }
    if let Some(cloud) = &fig.cloud {
        let _ = writeln!(
            out,
            "\ncloud {:?}: {} points",
            cloud.label,
            cloud.points.len()
        );
        let _ = writeln!(out, "  t: count min p10 median p90 max (of y)");
        let mut start = 0;
        while start < cloud.points.len() {
            let t = cloud.points[start].0;
            let end = cloud.points[start..]
                .iter()
                .position(|p| p.0 != t)
                .map_or(cloud.points.len(), |n| start + n);
            let mut ys: Vec<f64> = cloud.points[start..end].iter().map(|p| p.1).collect();
            ys.sort_by(f64::total_cmp);
            let q = |p: f64| ys[((ys.len() - 1) as f64 * p).round() as usize];
            let _ = writeln!(
                out,
                "  {}: {} {} {} {} {} {}",
                g(t),
                ys.len(),
                g(q(0.0)),
                g(q(0.1)),
                g(q(0.5)),
                g(q(0.9)),
                g(q(1.0))
            );
            start = end;
        }
    }
    out
}

#[test]
fn figure_data_snapshots() {
    let data = published();
    for (kind, fig) in figures::all(data) {
        insta::assert_snapshot!(format!("figure_{}", kind.stem()), describe(&fig));
    }
}

fn series<'a>(fig: &'a Figure, label: &str) -> &'a Series {
    fig.series
        .iter()
        .find(|s| s.label == label)
        .unwrap_or_else(|| panic!("no series {label:?} in {}", fig.title))
}

#[test]
fn figure_one_plots_the_published_history_lists_exactly() {
    let fig = figures::sparsification(published());
    assert_eq!(
        fig.title,
        "Dynamics of sparsification (m = 10^5, λ = 10^-5)"
    );
    let (header, rows) = csv("paper_m1e5_l1e-5.seed_history.csv");
    let col = |name: &str| header.iter().position(|h| h == name).expect("column");
    let (t, m_prime, one_norm) = (
        col("t_history"),
        col("m_prime_history"),
        col("one_norm_history"),
    );
    let expected_m: Vec<(f64, f64)> = rows
        .iter()
        .map(|r| (num(&r[t]), num::<f64>(&r[m_prime])))
        .collect();
    let expected_l1: Vec<(f64, f64)> = rows
        .iter()
        .map(|r| (num(&r[t]), num(&r[one_norm])))
        .collect();
    // Bitwise: the figure plots the script's own numbers.
    assert_eq!(series(&fig, "m'").points, expected_m);
    assert_eq!(series(&fig, "‖W_i‖₁").points, expected_l1);
    // The published predictions, with the published limits.
    let lambda: f64 = 1e-5;
    let pred = series(&fig, "predicted m'");
    assert_eq!(pred.style.line, LineKind::Dashed);
    for &(t, y) in &pred.points {
        assert_eq!(
            y,
            (1.0 / (1.0 / 1e5f64.sqrt() + lambda * t).powi(2)).max(1.0)
        );
    }
    assert_eq!(fig.x.range, Some((1.0, 10f64.sqrt() / lambda)));
    assert_eq!(fig.y.range, Some((1.0 / 10f64.sqrt(), 1e5 * 10f64.sqrt())));
}

#[test]
fn titles_follow_the_parameters() {
    let w0 = InitialWeights::quantile(2000, None).expect("valid");
    let params = RunParams {
        lambda: 3e-4,
        h: 0.25,
        init: "quantile".to_owned(),
    };
    let data = FigureData::simulate(params, w0, SumMode::Pairwise).expect("stable run");
    for (kind, fig) in figures::all(&data) {
        assert!(
            fig.title.ends_with("(m = 2000, λ = 3e-4)"),
            "{kind:?}: {}",
            fig.title
        );
        let caption = fig.caption.as_deref().unwrap_or("");
        assert!(
            caption.starts_with("h = 0.25, init = quantile"),
            "{kind:?}: {caption}"
        );
    }
    // The weight figure holds every survivor of every logged step.
    let n: usize = data.snapshots.iter().map(|s| s.m_prime).sum();
    let fig = figures::weights(&data);
    assert_eq!(fig.cloud.as_ref().map(|c| c.points.len()), Some(n));
}

#[test]
fn a_run_that_drops_everything_at_once_still_assembles() {
    // Every weight dies in the first step: the published script fails here (quirk 8). Our
    // figures still assemble, every series they do have is drawable on log axes (a point with
    // t > 0), a figure with something to draw renders, and one with nothing is refused with
    // `EmptyFigure` (which `sparsify run --figure` reports as one line) rather than a panic or
    // an empty picture.
    let w0 = InitialWeights::quantile(10, None).expect("valid");
    let params = RunParams {
        lambda: 10.0,
        h: 0.5,
        init: "quantile".to_owned(),
    };
    let data = FigureData::simulate(params, w0, SumMode::Sequential).expect("stable run");
    assert_eq!(data.script_log.last().map(|r| r.m_prime), Some(0));
    let dir = tempfile::tempdir().expect("temp dir");
    let all = figures::all(&data);
    assert_eq!(all.len(), 4, "the four published figures");
    let (mut drawn, mut refused) = (0, 0);
    for (kind, fig) in &all {
        for s in &fig.series {
            assert!(
                s.points.iter().any(|p| p.0 > 0.0),
                "{}: series '{}' has nothing drawable",
                kind.stem(),
                s.label
            );
        }
        let path = dir.path().join(format!("{}.svg", kind.stem()));
        let result = sparsify_plot::render(fig, &path);
        if fig.series.is_empty() && fig.cloud.is_none() {
            assert!(
                matches!(result, Err(sparsify_plot::PlotError::EmptyFigure { .. })),
                "{}: {result:?}",
                kind.stem()
            );
            assert!(!path.exists(), "{}: nothing is written", kind.stem());
            refused += 1;
        } else {
            result.unwrap_or_else(|e| panic!("{} does not render: {e}", kind.stem()));
            assert!(std::fs::metadata(&path).expect("written").len() > 0);
            drawn += 1;
        }
    }
    eprintln!("{drawn} figures drawn, {refused} refused as empty");
    assert_eq!(drawn + refused, 4);
}

/// `(width, height)` from a PNG's IHDR chunk, after checking the signature.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(bytes.len() > 24, "PNG too short");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR", "first chunk is IHDR");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

/// The text of every `<text>` element of an SVG, unescaped enough for our labels.
fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|chunk| {
            let body = chunk.split_once('>')?.1;
            let text = body.split_once("</text>")?.0;
            Some(
                text.trim()
                    .replace("&quot;", "\"")
                    .replace("&apos;", "'")
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&amp;", "&"),
            )
        })
        .collect()
}

#[test]
fn every_figure_renders_to_valid_png_and_svg_with_its_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (kind, fig) in figures::all(published()) {
        let png = dir.path().join(format!("{}.png", kind.stem()));
        let svg = dir.path().join(format!("{}.svg", kind.stem()));
        sparsify_plot::render(&fig, &png).expect("png renders");
        sparsify_plot::render(&fig, &svg).expect("svg renders");

        let bytes = std::fs::read(&png).expect("png written");
        assert_eq!(png_size(&bytes), fig.size, "{}", png.display());

        let text = std::fs::read_to_string(&svg).expect("svg written");
        assert!(text.trim_start().starts_with("<svg"), "{}", svg.display());
        let (w, h) = fig.size;
        assert!(
            text.contains(&format!("width=\"{w}\" height=\"{h}\"")),
            "{}",
            svg.display()
        );
        assert!(text.trim_end().ends_with("</svg>"));
        let texts = svg_texts(&text);
        let mut expected = vec![fig.title.clone(), fig.x.label.clone()];
        expected.extend(fig.caption.clone());
        expected.extend(fig.series.iter().map(|s| s.label.clone()));
        for want in expected.iter().filter(|s| !s.is_empty()) {
            assert!(texts.contains(want), "{}: no text {want:?}", svg.display());
        }
    }
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names.len(),
        8,
        "exactly the figures, no temporary files: {names:?}"
    );
    assert!(Path::new(&dir.path().join("weights.png")).exists());
}

#[test]
fn stems_are_the_published_file_names() {
    let stems: Vec<&str> = FigureKind::ALL.iter().map(|k| k.stem()).collect();
    assert_eq!(
        stems,
        [
            "sparsification",
            "sparsification_diagnostics",
            "relative_variance",
            "weights"
        ]
    );
}

/// Runs the `sparsify` command line in-process: `(exit code, stderr)`.
fn sparsify(args: &[&str]) -> (u8, String) {
    let (code, _, stderr) = crate::common::sparsify_in_process(args, false);
    (code, stderr)
}

#[test]
fn sparsify_run_figure_draws_figure_one_for_its_parameters() {
    let dir = tempfile::tempdir().expect("tempdir");
    let svg = dir.path().join("small.svg");
    let png = dir.path().join("small.PNG");
    for out in [&svg, &png] {
        let path = out.to_str().expect("utf-8 temp path");
        let (code, stderr) = sparsify(&[
            "run", "--m", "2000", "--lambda", "1e-3", "--rng", "numpy", "--figure", path,
        ]);
        assert_eq!(code, 0, "{stderr}");
    }
    // The same figure as the library assembles for the same run, byte for byte.
    let w0 = InitialWeights::half_normal_numpy(0, 2000, None).expect("valid");
    let params = RunParams {
        lambda: 1e-3,
        h: 0.5,
        init: PUBLISHED_INIT.to_owned(),
    };
    let data = FigureData::simulate(params, w0, SumMode::Sequential).expect("stable run");
    let fig = figures::sparsification(&data);
    assert_eq!(
        fig.title,
        "Dynamics of sparsification (m = 2000, λ = 10^-3)"
    );
    let expected = dir.path().join("expected.svg");
    sparsify_plot::render(&fig, &expected).expect("renders");
    let read = |p: &Path| std::fs::read(p).expect("written");
    assert_eq!(read(&svg), read(&expected));
    assert_eq!(png_size(&read(&png)), fig.size);
}

#[test]
fn sparsify_run_figure_rejects_bad_paths_before_running() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().to_str().expect("utf-8 temp path");
    let cases = [
        (format!("{d}/figure.pdf"), "must end in .png or .svg"),
        (
            format!("{d}/missing/figure.png"),
            "is not an existing directory",
        ),
        (d.to_owned(), "--figure"),
    ];
    for (path, message) in &cases {
        let (code, stderr) = sparsify(&["run", "--m", "100", "--figure", path]);
        assert_eq!(code, sparsify_cli::exit::USAGE, "{path}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(message), "{path}: {stderr}");
    }
    let summary = format!("{d}/same.svg");
    let (code, stderr) = sparsify(&["run", "--summary", &summary, "--figure", &summary]);
    assert_eq!(code, sparsify_cli::exit::USAGE, "{stderr}");
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("dir").count(),
        0,
        "nothing written"
    );
}

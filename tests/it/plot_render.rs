//! End-to-end checks: every kind of figure written as PNG and SVG into a
//! temporary directory, the files inspected, and the failure paths checked
//! for leaving nothing behind.

use std::fs;
use std::path::Path;

use sparsify_plot::{
    Axis, Figure, LegendPos, PlotError, PointCloud, Residual, Rgb, Series, render, render_panels,
};

const TITLE: &str = "Dynamics of sparsification (m = 10^5, λ = 10^-5)";
const CAPTION: &str = "m = 10⁵, λ = 10⁻⁵, h = 0.5, init = normal, seed = 0";

fn log_times() -> Vec<f64> {
    (0..=55).map(|i| 10f64.powf(f64::from(i) / 10.0)).collect()
}

fn dynamics(size: (u32, u32)) -> Figure {
    let t = log_times();
    let pred = |t: f64| (1.0 / (1.0 / 1e5f64.sqrt() + 1e-5 * t).powi(2)).max(1.0);
    Figure::new(
        TITLE,
        Axis::log10("Training time").range(1.0, 10f64.sqrt() * 1e5),
        Axis::log10("count").range(1.0 / 10f64.sqrt(), 1e5 * 10f64.sqrt()),
        size,
    )
    .caption(CAPTION)
    .series(Series::line(
        "m'",
        t.iter().map(|&t| (t, pred(t).round())).collect(),
        Rgb::BLUE,
    ))
    .series(
        Series::line(
            "predicted m prime",
            t.iter().map(|&t| (t, pred(t))).collect(),
            Rgb::CYAN,
        )
        .dashed(),
    )
    .series(
        Series::line(
            "samples",
            t.iter().step_by(5).map(|&t| (t, pred(t))).collect(),
            Rgb::GREEN,
        )
        .markers(3),
    )
    .legend(LegendPos::UpperRight)
}

fn weights(size: (u32, u32)) -> Figure {
    // 60 recorded times x 1000 weights = 60 000 points, with t = 0 first
    // (skipped on the log axis, as in the published history).
    let mut cloud = Vec::new();
    for k in 0..60 {
        let t = if k == 0 {
            0.0
        } else {
            10f64.powf(f64::from(k) / 12.0)
        };
        cloud.extend((0..1000).map(|i| (t, 1.0 - f64::from(i) / 1000.0)));
    }
    Figure::new(
        "Relative weights as a fraction of the biggest weight",
        Axis::log10("Time"),
        Axis::linear("w over max w").range(0.0, 1.05),
        size,
    )
    .caption(CAPTION)
    .cloud(PointCloud::new("surviving weights", cloud))
    .series(Series::line(
        "one minus gamma",
        vec![(1.0, 0.99), (1e5, 0.9)],
        Rgb::RED,
    ))
    .legend(LegendPos::LowerLeft)
}

fn residual() -> Residual {
    let ratio = log_times()
        .iter()
        .map(|&t| (t, 1.0 + 0.05 * t.ln().sin()))
        .collect();
    Residual::new(
        Axis::linear("ratio"),
        vec![Series::line("measured over predicted", ratio, Rgb::BLUE)],
    )
    .reference(1.0)
    .legend(LegendPos::LowerLeft)
}

/// Width and height from a PNG's IHDR chunk, after checking the signature.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR", "first chunk is IHDR");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The text content of every `<text>` element, unescaped back to plain text.
fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|rest| {
            let body = &rest[rest.find('>')? + 1..];
            let content = &body[..body.find("</text>")?];
            Some(
                content
                    .trim()
                    .replace("&apos;", "'")
                    .replace("&quot;", "\"")
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&amp;", "&"),
            )
        })
        .collect()
}

fn assert_svg_has_text(svg: &str, texts: &[&str]) {
    assert!(svg.starts_with("<svg"), "SVG root element");
    assert!(svg.trim_end().ends_with("</svg>"), "SVG is complete");
    assert!(svg.contains("font-family=\"DejaVu Sans, sans-serif\""));
    // Real <text> elements, not glyph outlines: each string is the whole
    // content of one element.
    let found = svg_texts(svg);
    for t in texts {
        assert!(
            found.iter().any(|f| f == t),
            "SVG lacks a <text> {t:?}; has {found:?}"
        );
    }
}

#[test]
fn single_panel_figures_render_as_png_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    for (name, fig) in [
        ("dynamics", dynamics((600, 500))),
        ("weights", weights((640, 480))),
    ] {
        let png = dir.path().join(format!("{name}.png"));
        render(&fig, &png).unwrap();
        assert_eq!(png_size(&fs::read(&png).unwrap()), fig.size);

        let svg_path = dir.path().join(format!("{name}.svg"));
        render(&fig, &svg_path).unwrap();
        let svg = fs::read_to_string(&svg_path).unwrap();
        let mut texts = vec![
            fig.title.as_str(),
            fig.x.label.as_str(),
            fig.y.label.as_str(),
            CAPTION,
        ];
        texts.extend(fig.series.iter().map(|s| s.label.as_str()));
        texts.extend(fig.cloud.iter().map(|c| c.label.as_str()));
        assert_svg_has_text(&svg, &texts);
        assert!(svg.contains(&format!("width=\"{}\"", fig.size.0)));
    }
    // Nothing but the outputs: no temporary files left behind.
    assert_eq!(
        entries(dir.path()),
        ["dynamics.png", "dynamics.svg", "weights.png", "weights.svg"]
    );
}

#[test]
fn panels_render_as_png_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    let main = dynamics((700, 650));
    let res = residual();
    let png = dir.path().join("panels.PNG");
    render_panels(&main, &res, &png).unwrap();
    assert_eq!(png_size(&fs::read(&png).unwrap()), (700, 650));

    let svg_path = dir.path().join("panels.svg");
    render_panels(&main, &res, &svg_path).unwrap();
    let svg = fs::read_to_string(&svg_path).unwrap();
    assert_svg_has_text(
        &svg,
        &[
            TITLE,
            "Training time",
            "count",
            "ratio",
            "m'",
            "measured over predicted",
        ],
    );
    // The shared x axis is labelled once, under the lower panel.
    let texts = svg_texts(&svg);
    assert_eq!(texts.iter().filter(|t| *t == "Training time").count(), 1);
    // "10³" labels the main panel's y axis and the lower panel's x axis; the
    // main panel's x ticks are unlabelled.
    assert_eq!(texts.iter().filter(|t| *t == "10³").count(), 2);
    assert_eq!(entries(dir.path()), ["panels.PNG", "panels.svg"]);
}

#[test]
fn log_axes_have_power_of_ten_labels() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.svg");
    render(&dynamics((600, 500)), &path).unwrap();
    let svg = fs::read_to_string(&path).unwrap();
    assert_svg_has_text(&svg, &["10⁰", "10¹", "10²", "10³", "10⁴", "10⁵"]);
}

#[test]
fn rendering_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.png"), dir.path().join("b.png"));
    render(&weights((500, 400)), &a).unwrap();
    render(&weights((500, 400)), &b).unwrap();
    assert_eq!(fs::read(&a).unwrap(), fs::read(&b).unwrap());
}

#[test]
fn rendering_replaces_an_existing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fig.png");
    fs::write(&path, b"old").unwrap();
    render(&dynamics((300, 250)), &path).unwrap();
    assert_eq!(png_size(&fs::read(&path).unwrap()), (300, 250));
    assert_eq!(entries(dir.path()), ["fig.png"]);
}

#[test]
fn unsupported_extension_is_reported_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["fig.jpg", "fig", "fig.png.bak"] {
        let err = render(&dynamics((600, 500)), &dir.path().join(name)).unwrap_err();
        assert!(
            matches!(err, PlotError::UnsupportedExtension { .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains(name), "{err}");
        assert!(err.to_string().contains(".png or .svg"), "{err}");
    }
    assert!(entries(dir.path()).is_empty());
}

#[test]
fn empty_figure_and_empty_series_fail_without_touching_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fig.svg");

    let empty = Figure::new("Nothing", Axis::linear("x"), Axis::linear("y"), (600, 500));
    let err = render(&empty, &path).unwrap_err();
    assert!(matches!(err, PlotError::EmptyFigure { .. }), "{err:?}");
    assert!(
        err.to_string().contains("\"Nothing\" has nothing to draw"),
        "{err}"
    );
    assert!(!path.exists(), "a failed render leaves no output file");

    // An existing file survives a failed render untouched.
    fs::write(&path, "previous figure").unwrap();
    let no_points = empty.clone().series(Series::line("m'", vec![], Rgb::BLUE));
    let err = render(&no_points, &path).unwrap_err();
    assert_eq!(err.to_string(), "series \"m'\" has no points");
    let all_skipped =
        Figure::new("Log", Axis::log10("t"), Axis::log10("m'"), (600, 500)).series(Series::line(
            "m'",
            vec![(0.0, 1.0), (1.0, -2.0), (f64::NAN, 3.0)],
            Rgb::BLUE,
        ));
    let err = render(&all_skipped, &path).unwrap_err();
    assert!(
        matches!(err, PlotError::EmptySeries { n_points: 3, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("non-positive on a log axis"),
        "{err}"
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), "previous figure");

    let err = render_panels(
        &dynamics((600, 500)),
        &Residual::new(Axis::linear("r"), vec![]),
        &path,
    )
    .unwrap_err();
    assert!(err.to_string().contains("residual panel"), "{err}");
    assert_eq!(entries(dir.path()), ["fig.svg"]);
}

#[test]
fn undrawable_points_are_skipped_not_errors() {
    let dir = tempfile::tempdir().unwrap();
    let fig =
        Figure::new("Mixed", Axis::log10("t"), Axis::log10("y"), (400, 300)).series(Series::line(
            "y",
            vec![
                (0.0, 1.0),
                (1.0, 10.0),
                (2.0, 0.0),
                (3.0, f64::INFINITY),
                (4.0, 100.0),
                (5.0, 1000.0),
            ],
            Rgb::BLUE,
        ));
    let path = dir.path().join("mixed.png");
    render(&fig, &path).unwrap();
    assert_eq!(png_size(&fs::read(&path).unwrap()), (400, 300));
}

#[test]
fn invalid_parameters_are_reported_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fig.png");
    let err = render(&dynamics((50, 500)), &path).unwrap_err();
    assert!(err.to_string().contains("50x500"), "{err}");
    let mut fig = dynamics((600, 500));
    fig.y = Axis::log10("y").range(0.0, 10.0);
    let err = render(&fig, &path).unwrap_err();
    assert_eq!(
        err.to_string(),
        "y-axis range [0, 10] cannot be used: a log axis needs both ends positive"
    );
    let fig =
        dynamics((600, 500)).series(Series::line("thick", vec![(1.0, 1.0)], Rgb::RED).width(0));
    let err = render(&fig, &path).unwrap_err();
    assert!(
        err.to_string()
            .contains("line width of series \"thick\" = 0"),
        "{err}"
    );
    let err = render_panels(
        &dynamics((600, 500)),
        &residual().height_fraction(0.95),
        &path,
    )
    .unwrap_err();
    assert!(err.to_string().contains("height_fraction = 0.95"), "{err}");
    assert!(entries(dir.path()).is_empty());
}

#[test]
fn io_failure_names_the_path_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-such-dir").join("fig.png");
    let err = render(&dynamics((600, 500)), &path).unwrap_err();
    assert!(matches!(err, PlotError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("no-such-dir"), "{err}");
    assert!(std::error::Error::source(&err).is_some());
    assert!(entries(dir.path()).is_empty());
}

//! Fixture loading shared by the topic modules.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The four reference configurations, by file prefix.
pub(crate) const PREFIXES: [&str; 4] = [
    "paper_m1e5_l1e-5",
    "quantile_m1e5_l1e-5",
    "small_m1e4_l1e-4",
    "tiny_quantile_m1e3_l1e-3",
];

/// `tests/fixtures/reference/<name>`.
pub(crate) fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/reference")
        .join(name)
}

/// The initial weights of a reference configuration.
pub(crate) fn w0(prefix: &str) -> Vec<f64> {
    let bytes = std::fs::read(fixture(&format!("{prefix}.w0.npy"))).expect("fixture w0.npy");
    npyz::NpyFile::new(&bytes[..])
        .expect("valid npy")
        .into_vec::<f64>()
        .expect("float64 npy")
}

/// The reference run's parameters: `(m, lambda, h)`.
pub(crate) fn meta(prefix: &str) -> (usize, f64, f64) {
    let text = std::fs::read_to_string(fixture(&format!("{prefix}.meta.json"))).expect("meta");
    let v: serde_json::Value = serde_json::from_str(&text).expect("meta json");
    (
        v["m"].as_u64().expect("m") as usize,
        v["lamb"].as_f64().expect("lamb"),
        v["h"].as_f64().expect("h"),
    )
}

/// Every CSV reader of the tests goes through this: the header line and the non-empty rows of
/// `path`, split at commas (no quoting: none of our files or fixtures quote).
fn read_csv(path: &Path) -> (String, Vec<Vec<String>>) {
    let content = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut lines = content.lines();
    let header = lines.next().expect("a header line").to_owned();
    let rows = lines
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    (header, rows)
}

/// A reference CSV fixture as (header fields, rows of fields). Numbers written as
/// `np.float64(x)` are unwrapped.
pub(crate) fn csv(name: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let (header, rows) = read_csv(&fixture(name));
    let rows = rows
        .into_iter()
        .map(|r| {
            r.iter()
                .map(|f| {
                    f.trim_start_matches("np.float64(")
                        .trim_end_matches(')')
                        .to_owned()
                })
                .collect()
        })
        .collect();
    (header.split(',').map(str::to_owned).collect(), rows)
}

/// A CSV file as its header line and rows of fields (fields may be empty).
pub(crate) fn text_csv(path: &Path) -> (String, Vec<Vec<String>>) {
    read_csv(path)
}

/// A CSV file of numbers: the header and every field parsed as `f64` (integers too, exactly).
pub(crate) fn numeric_csv(path: &Path) -> (String, Vec<Vec<f64>>) {
    let (header, rows) = read_csv(path);
    let rows = rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|f| {
                    f.parse::<f64>()
                        .unwrap_or_else(|_| panic!("{}: not a number: {f}", path.display()))
                })
                .collect()
        })
        .collect();
    (header, rows)
}

/// A JSON file, parsed.
pub(crate) fn read_json(path: &Path) -> Value {
    let content = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&content).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The path of a reference fixture as a string (for command lines).
pub(crate) fn fixture_str(name: &str) -> String {
    fixture(name)
        .to_str()
        .expect("UTF-8 fixture path")
        .to_owned()
}

/// Parses a field, naming it on failure.
pub(crate) fn num<T: std::str::FromStr>(field: &str) -> T {
    field
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {field}"))
}

/// `|a - b| <= rel * max(|a|, |b|)`, with NaN equal to NaN.
pub(crate) fn close(a: f64, b: f64, rel: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= rel * a.abs().max(b.abs())
}

/// One reference checkpoint: the step, m', and the scalars in [`CHECKPOINT_SCALARS`] order.
pub(crate) struct RefCheckpoint {
    pub(crate) step: u64,
    pub(crate) m_prime: usize,
    pub(crate) scalars: [f64; 7],
}

/// The names of [`RefCheckpoint::scalars`], in order (the CSV's float columns).
pub(crate) const CHECKPOINT_SCALARS: [&str; 7] = [
    "t",
    "one_norm",
    "sq_norm",
    "w_max",
    "w_min",
    "relative_variance",
    "gamma",
];

/// The reference checkpoints of a configuration, header checked.
pub(crate) fn ref_checkpoints(prefix: &str) -> Vec<RefCheckpoint> {
    let (header, rows) = csv(&format!("{prefix}.checkpoints.csv"));
    assert_eq!(
        header.join(","),
        "step,t,m_prime,one_norm,sq_norm,w_max,w_min,relative_variance,gamma"
    );
    rows.iter()
        .map(|r| RefCheckpoint {
            step: num(&r[0]),
            m_prime: num(&r[2]),
            scalars: [1, 3, 4, 5, 6, 7, 8].map(|i| num(&r[i])),
        })
        .collect()
}

/// A state's scalars in [`CHECKPOINT_SCALARS`] order.
pub(crate) fn scalars(s: &sparsify_core::StepStats) -> [f64; 7] {
    [
        s.t,
        s.one_norm,
        s.sq_norm,
        s.w_max,
        s.w_min,
        s.relative_variance,
        s.gamma,
    ]
}

/// The reference death events of a configuration: `(step, m' after it)`.
pub(crate) fn ref_deaths(prefix: &str) -> Vec<(u64, usize)> {
    csv(&format!("{prefix}.deaths.csv"))
        .1
        .iter()
        .map(|r| (num(&r[0]), num(&r[2])))
        .collect()
}

/// Runs the `sparsify` command line in-process (`args` without the program name), with the
/// Ctrl-C flag already set if `interrupted`: `(exit code, stdout, stderr)`.
pub(crate) fn sparsify_in_process(args: &[&str], interrupted: bool) -> (u8, String, String) {
    let flag = std::sync::atomic::AtomicBool::new(interrupted);
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let code = sparsify_cli::main_with_args(
        std::iter::once("sparsify").chain(args.iter().copied()),
        &mut sparsify_cli::Context {
            stdout: &mut stdout,
            stderr: &mut stderr,
            interrupted: &flag,
            progress: false,
        },
    );
    (
        code,
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

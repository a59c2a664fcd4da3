//! Integration tests: the `sparsify` binary.
//!
//! # How the binary is found
//! Cargo sets `CARGO_BIN_EXE_<name>` only for a package's own binaries, and this package is not
//! `sparsify-cli`; artifact dependencies (which would build another package's binary for us)
//! are unstable. So the first test that needs the binary runs
//! `$CARGO build -p sparsify-cli --bin sparsify --message-format=json` once per test process
//! and takes the executable's path from cargo's own report: it works in a fresh clone with a
//! plain `cargo test --workspace` or `cargo test -p sparsify-tests`, never runs a stale binary
//! (cargo rebuilds it if its sources changed), and needs no guess about the target directory.
//! If the build fails, every test that needs the binary fails loudly with cargo's output.
//!
//! A few tests also call the library behind the binary in-process
//! (`sparsify_cli::main_with_args`) where a process cannot be steered exactly, such as an
//! interrupt that arrives before the first step.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use npyz::WriterBuilder;
use serde_json::Value;

use crate::common::{fixture, fixture_str, numeric_csv, read_json, w0};

/// The `sparsify` binary, built (or found up to date) once per test process.
pub(crate) fn sparsify_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(build_sparsify)
}

fn build_sparsify() -> PathBuf {
    // Cargo tells the test process which cargo runs it; fall back to the one on PATH.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(&cargo)
        .args([
            "build",
            "--package",
            "sparsify-cli",
            "--bin",
            "sparsify",
            "--message-format=json-render-diagnostics",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cargo:?} to build the sparsify binary: {e}"));
    assert!(
        out.status.success(),
        "`cargo build -p sparsify-cli --bin sparsify` failed ({}); see its messages above",
        out.status
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let exe = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["reason"] == "compiler-artifact" && v["target"]["name"] == "sparsify")
        .find_map(|v| v["executable"].as_str().map(PathBuf::from))
        .expect("cargo reported no executable for the sparsify binary");
    assert!(exe.is_file(), "cargo reported {exe:?}, which is not a file");
    exe
}

/// Runs `sparsify run <args>` in `dir`.
pub(crate) fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(sparsify_bin())
        .arg("run")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("the sparsify binary starts")
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The file names in `dir`, sorted.
pub(crate) fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("readable dir")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// Requires exact equality of two numeric CSV files (NaN equal to NaN): the library is
/// bitwise faithful in sequential mode, so this also checks that every float printed by the
/// CLI reads back to the same `f64`.
fn assert_same_csv(ours: &Path, reference: &Path) {
    let (h1, r1) = numeric_csv(ours);
    let (h2, r2) = numeric_csv(reference);
    assert_eq!(
        h1,
        h2,
        "headers of {} and {}",
        ours.display(),
        reference.display()
    );
    assert_eq!(r1.len(), r2.len(), "row counts of {}", ours.display());
    for (i, (a, b)) in r1.iter().zip(&r2).enumerate() {
        let same = a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| x == y || (x.is_nan() && y.is_nan()));
        assert!(same, "{} row {i}: {a:?} != {b:?}", ours.display());
    }
}

/// Writes `data` as an `.npy` file of element type `T` and the given shape.
pub(crate) fn write_npy<T: npyz::AutoSerialize + Copy>(path: &Path, shape: &[u64], data: &[T]) {
    let file = std::fs::File::create(path).expect("create npy");
    let mut w = npyz::WriteOptions::new()
        .default_dtype()
        .shape(shape)
        .writer(std::io::BufWriter::new(file))
        .begin_nd()
        .expect("npy header");
    w.extend(data.iter().copied()).expect("npy data");
    w.finish().expect("npy finish");
}

// ----------------------------------------------------------------------------------------------
// Invalid input: exit code 2, one line naming the flag and value, no output file.

/// Runs an invalid command line with all three outputs requested in a fresh directory that
/// holds `inputs`, and checks the contract for user errors.
pub(crate) fn assert_rejected(args: &[&str], inputs: &[(&str, &[u8])], must_mention: &[&str]) {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, content) in inputs {
        std::fs::write(dir.path().join(name), content).expect("write input");
    }
    let before = listing(dir.path());
    let mut full: Vec<&str> = args.to_vec();
    // Outputs the case does not choose itself go into the (valid) test directory, so that a
    // file appearing there would be a partial output.
    for (flag, name) in [
        ("--trajectory", "t.csv"),
        ("--deaths", "d.csv"),
        ("--summary", "s.json"),
    ] {
        if !args.contains(&flag) {
            full.extend([flag, name]);
        }
    }
    let out = run_in(dir.path(), &full);
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{args:?}: exit status {} with stderr {stderr:?}",
        out.status
    );
    assert_eq!(
        stderr.lines().count(),
        1,
        "{args:?}: not one line: {stderr:?}"
    );
    assert!(stderr.starts_with("error: "), "{args:?}: {stderr:?}");
    let lower = stderr.to_lowercase();
    for word in must_mention {
        assert!(
            lower.contains(&word.to_lowercase()),
            "{args:?}: {stderr:?} does not mention {word:?}"
        );
    }
    assert!(
        text(&out.stdout).is_empty(),
        "{args:?}: stdout {:?}",
        text(&out.stdout)
    );
    assert_eq!(listing(dir.path()), before, "{args:?}: files appeared");
}

#[test]
fn out_of_range_parameters_are_one_line_errors_naming_flag_and_value() {
    let cases: &[(&[&str], &[&str])] = &[
        (&["--lambda", "-1"], &["--lambda", "-1", "> 0"]),
        (&["--lambda", "abc"], &["--lambda", "abc"]),
        (&["--lambda", "inf"], &["--lambda", "inf", "finite"]),
        (&["--step", "0"], &["--step", "0", "> 0"]),
        (&["--m", "1"], &["--m", "1", "at least 2"]),
        (&["--m", "2.5"], &["--m", "2.5", "whole number"]),
        (&["--m", "-3"], &["--m", "-3"]),
        (&["--sigma", "nan"], &["--sigma", "nan", "> 0"]),
        (&["--sigma", "-0.1"], &["--sigma", "-0.1"]),
        (
            &["--rng", "numpy", "--seed", "4294967296"],
            &["--seed", "4294967296", "4294967295"],
        ),
        (&["--seed", "-1"], &["--seed", "-1"]),
        (
            &["--rng", "mt19937"],
            &["--rng", "mt19937", "pcg64", "numpy"],
        ),
        (
            &["--init", "uniform"],
            &["--init", "uniform", "half-normal"],
        ),
        (&["--sum", "kahan"], &["--sum", "kahan", "pairwise"]),
        (&["--bogus"], &["--bogus"]),
        // Unstable from the first step: ||w0||^2 is about m*sigma^2 = 1000.
        (
            &["--m", "1000", "--sigma", "1", "--step", "100"],
            &["--step", "100", "unstable"],
        ),
        (&["--abs"], &["--init-file"]),
    ];
    for (args, words) in cases {
        assert_rejected(args, &[], words);
    }
}

#[test]
fn bad_init_files_are_one_line_errors_naming_file_and_position() {
    let int64 = tempfile::tempdir().expect("temp dir");
    let (i64_path, two_d_path) = (int64.path().join("i.npy"), int64.path().join("m.npy"));
    write_npy::<i64>(&i64_path, &[3], &[1, 2, 3]);
    write_npy::<f64>(&two_d_path, &[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let int64_bytes = std::fs::read(&i64_path).expect("npy");
    let two_d_bytes = std::fs::read(&two_d_path).expect("npy");
    let zero_f64 = tempfile::tempdir().expect("temp dir");
    let zero_path = zero_f64.path().join("z.npy");
    write_npy::<f64>(&zero_path, &[3], &[0.3, 0.0, 0.1]);
    let zero_npy = std::fs::read(&zero_path).expect("npy");

    type Case<'a> = (&'a [&'a str], (&'a str, &'a [u8]), &'a [&'a str]);
    let cases: &[Case<'_>] = &[
        (
            &["--init-file", "w.txt"],
            ("w.txt", b"0.5\n0\n0.25\n"),
            &["--init-file", "w.txt", "line 2", "0"],
        ),
        (
            &["--init-file", "w.txt"],
            ("w.txt", b"# weights\n0.5\n\n-0.25\n"),
            &["w.txt", "line 4", "-0.25", "--abs"],
        ),
        (
            &["--init-file", "w.txt"],
            ("w.txt", b"0.5\nnan\n"),
            &["w.txt", "line 2", "nan"],
        ),
        (
            &["--init-file", "w.txt"],
            ("w.txt", b"0.5\n0.25\nseven\n"),
            &["w.txt", "line 3", "seven"],
        ),
        (
            &["--init-file", "w.txt"],
            ("w.txt", b"0.5 0.25\n"),
            &["w.txt", "line 1", "0.5 0.25"],
        ),
        (
            // --abs does not make a zero valid.
            &["--init-file", "w.txt", "--abs"],
            ("w.txt", b"-0.5\n0\n"),
            &["w.txt", "line 2", "0"],
        ),
        (
            &["--init-file", "w.txt"],
            ("w.txt", b"0.5\n"),
            &["w.txt", "1 weight", "at least 2"],
        ),
        (
            &["--init-file", "i.npy"],
            ("i.npy", &int64_bytes),
            &["--init-file", "i.npy", "<i8", "float64"],
        ),
        (
            &["--init-file", "m.npy"],
            ("m.npy", &two_d_bytes),
            &["m.npy", "(2, 3)", "1-d"],
        ),
        (
            &["--init-file", "z.npy"],
            ("z.npy", &zero_npy),
            &["z.npy", "index 1", "0"],
        ),
        (
            &["--init-file", "t.npy"],
            ("t.npy", b"0.5\n0.25\n"),
            &["t.npy", "not a valid .npy"],
        ),
        (
            &["--init-file", "missing.npy"],
            ("other.txt", b""),
            &["--init-file", "missing.npy", "cannot read"],
        ),
        (
            &["--init-file", "missing.txt"],
            ("other.txt", b""),
            &["--init-file", "missing.txt", "cannot read"],
        ),
        (
            &["--init-file", "w.txt", "--m", "10"],
            ("w.txt", b"0.5\n0.25\n"),
            &["--init-file", "--m", "cannot be used with"],
        ),
        (
            &["--init-file", "w.txt", "--seed", "3"],
            ("w.txt", b"0.5\n0.25\n"),
            &["--init-file", "--seed", "cannot be used with"],
        ),
    ];
    for (args, input, words) in cases {
        assert_rejected(args, &[*input], words);
    }
}

#[test]
fn outputs_that_cannot_be_created_fail_before_the_run() {
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["--trajectory", "no/such/dir/t.csv"],
            &[
                "--trajectory",
                "no/such/dir/t.csv",
                "not an existing directory",
            ],
        ),
        // A regular file where a directory should be.
        (
            &["--summary", "plain.txt/s.json"],
            &["--summary", "plain.txt/s.json"],
        ),
        (&["--deaths", "."], &["--deaths", "directory"]),
        (
            &["--trajectory", "same.csv", "--deaths", "same.csv"],
            &["--trajectory", "--deaths", "same.csv"],
        ),
    ];
    for (args, words) in cases {
        assert_rejected(args, &[("plain.txt", b"x")], words);
    }
}

// ----------------------------------------------------------------------------------------------
// Runs that reproduce the reference.

#[test]
fn numpy_seed_0_reproduces_the_small_reference_run_exactly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run_in(
        dir.path(),
        &[
            "--rng",
            "numpy",
            "--seed",
            "0",
            "--m",
            "1e4",
            "--lambda",
            "1e-4",
            "--trajectory",
            "t.csv",
            "--deaths",
            "d.csv",
            "--summary",
            "s.json",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    // Output files were asked for: nothing on stdout, no temporary files left behind.
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    assert_eq!(listing(dir.path()), ["d.csv", "s.json", "t.csv"]);
    let prefix = "small_m1e4_l1e-4";
    assert_same_csv(
        &dir.path().join("t.csv"),
        &fixture(&format!("{prefix}.checkpoints.csv")),
    );
    assert_same_csv(
        &dir.path().join("d.csv"),
        &fixture(&format!("{prefix}.deaths.csv")),
    );

    let s = read_json(&dir.path().join("s.json"));
    assert_eq!(s["complete"], true);
    assert_eq!(s["sparsify_version"], env!("CARGO_PKG_VERSION"));
    assert!(s["wall_seconds"].as_f64().is_some_and(|x| x >= 0.0));
    let p = &s["parameters"];
    assert_eq!(p["m"], 10_000);
    assert_eq!(p["lambda"], 1e-4);
    assert_eq!(p["h"], 0.5);
    assert_eq!(p["seed"], 0);
    assert_eq!(p["rng"], "numpy");
    assert_eq!(p["init"], "half-normal");
    assert_eq!(p["sum"], "sequential");
    assert_eq!(p["sigma"], 0.9 / 100.0);
    assert_eq!(p["init_file"], Value::Null);
    let meta = read_json(&fixture(&format!("{prefix}.meta.json")));
    assert_eq!(s["steps"], meta["total_steps"]);
    assert_eq!(s["final_t"], meta["final_t"]);
    assert_eq!(s["stop_reason"], "one_left");
    let deaths = numeric_csv(&fixture(&format!("{prefix}.deaths.csv")))
        .1
        .len();
    assert_eq!(s["death_events"], deaths);
    for state in ["initial_state", "final_state"] {
        for key in [
            "step",
            "t",
            "m_prime",
            "one_norm",
            "sq_norm",
            "w_max",
            "w_min",
            "relative_variance",
            "gamma",
            "feature_benefit",
            "total_squared_deviation",
        ] {
            assert!(
                s[state][key].is_number(),
                "{state}.{key}: {}",
                s[state][key]
            );
        }
    }
    assert_eq!(s["final_state"]["m_prime"], 1);
    assert_eq!(s["initial_state"]["m_prime"], 10_000);
}

#[test]
fn npy_init_file_reproduces_the_tiny_quantile_reference_run_exactly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let prefix = "tiny_quantile_m1e3_l1e-3";
    let w0 = fixture_str(&format!("{prefix}.w0.npy"));
    let out = run_in(
        dir.path(),
        &[
            "--init-file",
            &w0,
            "--lambda",
            "1e-3",
            "--trajectory",
            "t.csv",
            "--deaths",
            "d.csv",
            "--summary",
            "s.json",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    assert_same_csv(
        &dir.path().join("t.csv"),
        &fixture(&format!("{prefix}.checkpoints.csv")),
    );
    assert_same_csv(
        &dir.path().join("d.csv"),
        &fixture(&format!("{prefix}.deaths.csv")),
    );
    let s = read_json(&dir.path().join("s.json"));
    assert_eq!(s["complete"], true);
    assert_eq!(s["parameters"]["init"], "file");
    assert_eq!(s["parameters"]["init_file"], w0.as_str());
    assert_eq!(s["parameters"]["m"], 1000);
    assert_eq!(s["parameters"]["seed"], Value::Null);
}

#[test]
fn unsorted_signed_text_weights_with_abs_give_the_same_run() {
    // The tiny reference weights, shuffled by a fixed permutation, every third one negated,
    // with comments and blank lines: --abs and sorting must recover the reference run.
    let prefix = "tiny_quantile_m1e3_l1e-3";
    let w0 = w0(prefix);
    let n = w0.len();
    let mut body = String::from("# tiny quantile weights, shuffled\n\n");
    for k in 0..n {
        // 7 is coprime with 1000, so k -> 7k mod n is a permutation.
        let x = w0[(7 * k + 3) % n];
        let x = if k % 3 == 0 { -x } else { x };
        body.push_str(&format!("{x:?}  # weight {k}\n"));
        if k % 100 == 0 {
            body.push('\n');
        }
    }
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("w0.txt"), body).expect("write weights");
    let out = run_in(
        dir.path(),
        &[
            "--init-file",
            "w0.txt",
            "--abs",
            "--lambda",
            "1e-3",
            "--trajectory",
            "t.csv",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    assert_same_csv(
        &dir.path().join("t.csv"),
        &fixture(&format!("{prefix}.checkpoints.csv")),
    );
}

#[test]
fn float32_npy_weights_are_read_exactly() {
    // The same float32 weights as .npy and as text (each f32 widened exactly to f64) must give
    // the same run, bit for bit.
    let w32: Vec<f32> = w0("tiny_quantile_m1e3_l1e-3")
        .iter()
        .map(|&x| x as f32)
        .collect();
    let dir = tempfile::tempdir().expect("temp dir");
    write_npy::<f32>(&dir.path().join("w.npy"), &[w32.len() as u64], &w32);
    let as_text: String = w32
        .iter()
        .map(|&x| format!("{:?}\n", f64::from(x)))
        .collect();
    std::fs::write(dir.path().join("w.txt"), as_text).expect("write text");
    for (input, output) in [("w.npy", "from_npy.csv"), ("w.txt", "from_txt.csv")] {
        let out = run_in(
            dir.path(),
            &[
                "--init-file",
                input,
                "--lambda",
                "1e-3",
                "--trajectory",
                output,
            ],
        );
        assert!(out.status.success(), "{input}: {out:?}");
    }
    assert_same_csv(
        &dir.path().join("from_npy.csv"),
        &dir.path().join("from_txt.csv"),
    );
    let (_, rows) = numeric_csv(&dir.path().join("from_npy.csv"));
    assert_eq!(rows[0][2], 1000.0, "m' at step 0");
    assert_eq!(rows.last().expect("rows")[2], 1.0, "m' at the end");
}

// ----------------------------------------------------------------------------------------------
// Other behaviour.

#[test]
fn without_output_flags_a_short_summary_goes_to_stdout() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run_in(
        dir.path(),
        &["--m", "1000", "--lambda", "1e-3", "--init", "quantile"],
    );
    assert!(out.status.success(), "{out:?}");
    assert!(out.stderr.is_empty(), "stderr: {}", text(&out.stderr));
    let stdout = text(&out.stdout);
    for word in [
        "m = 1000",
        "lambda = 0.001",
        "h = 0.5",
        "steps:",
        "final t",
        "final m' = 1",
        "winner weight",
        "wall time",
    ] {
        assert!(stdout.contains(word), "{word:?} missing from {stdout}");
    }
    assert!(
        listing(dir.path()).is_empty(),
        "no files without output flags"
    );
}

#[test]
fn help_teaches_flags_and_examples() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run_in(dir.path(), &["--help"]);
    assert!(out.status.success(), "{out:?}");
    let help = text(&out.stdout);
    for word in [
        "--m",
        "1e5",
        "--lambda",
        "--step",
        "--seed",
        "--rng",
        "--init",
        "--sigma",
        "0.9/sqrt(m)",
        "--init-file",
        "--abs",
        "--sum",
        "--trajectory",
        "--deaths",
        "--summary",
        "Examples",
        "--rng numpy --seed 0",
        "[default: 1e-5]",
    ] {
        assert!(help.contains(word), "{word:?} missing from --help");
    }
}

#[test]
fn a_run_that_drops_everything_writes_nan_as_nan_and_null() {
    // lambda*h far above every weight: the first step drops all coordinates, leaving no largest
    // weight (NaN), which CSV must spell so Python reads it and JSON must write as null.
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run_in(
        dir.path(),
        &[
            "--m",
            "100",
            "--lambda",
            "1",
            "--trajectory",
            "t.csv",
            "--summary",
            "s.json",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let csv = std::fs::read_to_string(dir.path().join("t.csv")).expect("trajectory");
    let last = csv.lines().last().expect("rows");
    assert!(last.starts_with("1,0.5,0,"), "{last}");
    assert!(last.contains(",nan,"), "{last}");
    assert!(!csv.contains("NaN"), "{csv}");
    let s = read_json(&dir.path().join("s.json"));
    assert_eq!(s["stop_reason"], "all_dropped");
    assert_eq!(s["final_state"]["w_max"], Value::Null);
    assert_eq!(s["complete"], true);
}

#[test]
fn pairwise_sums_run_to_one_survivor() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run_in(
        dir.path(),
        &[
            "--m",
            "5000",
            "--lambda",
            "1e-3",
            "--sum",
            "pairwise",
            "--seed",
            "7",
            "--summary",
            "s.json",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let s = read_json(&dir.path().join("s.json"));
    assert_eq!(s["parameters"]["sum"], "pairwise");
    assert_eq!(s["parameters"]["rng"], "pcg64");
    assert_eq!(s["parameters"]["seed"], 7);
    assert_eq!(s["final_m_prime"], 1);
}

#[test]
fn an_interrupt_before_the_first_step_still_writes_every_output() {
    // In-process, with the flag already set: the run stops before step 1, deterministically.
    let dir = tempfile::tempdir().expect("temp dir");
    let path = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let (t, d, s) = (path("t.csv"), path("d.csv"), path("s.json"));
    let args = [
        "run",
        "--m",
        "1000",
        "--trajectory",
        &t,
        "--deaths",
        &d,
        "--summary",
        &s,
    ];
    let (code, _, stderr) = crate::common::sparsify_in_process(&args, true);
    assert_eq!(code, sparsify_cli::exit::INTERRUPTED, "{}", stderr);
    assert!(stderr.contains("interrupted at step 0"), "{}", stderr);
    let summary = read_json(Path::new(&s));
    assert_eq!(summary["complete"], false);
    assert_eq!(summary["stop_reason"], "interrupted");
    assert_eq!(summary["steps"], 0);
    let (_, rows) = numeric_csv(Path::new(&t));
    assert_eq!(rows.len(), 1, "the initial state only");
    assert_eq!(rows[0][2], 1000.0);
    assert!(numeric_csv(Path::new(&d)).1.is_empty());
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_the_binary_with_code_130_and_complete_outputs() {
    use std::time::{Duration, Instant};

    let dir = tempfile::tempdir().expect("temp dir");
    // lambda = 1e-12 needs far more steps than this test waits for (about 8e12: above the
    // default step budget, which --max-steps lifts).
    let mut child = Command::new(sparsify_bin())
        .args([
            "run",
            "--m",
            "1e5",
            "--lambda",
            "1e-12",
            "--max-steps",
            "1e15",
            "--trajectory",
            "t.csv",
            "--summary",
            "s.json",
        ])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the sparsify binary starts");
    // The temporary outputs appear after the Ctrl-C handler is installed (it is the first
    // thing main does), so once they exist the signal is handled, not fatal.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !listing(dir.path())
        .iter()
        .any(|n| n.starts_with(".sparsify-"))
    {
        assert!(Instant::now() < deadline, "no temporary output appeared");
        std::thread::sleep(Duration::from_millis(10));
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(kill.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the run did not stop within 10 s of SIGINT");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let out = child.wait_with_output().expect("output");
    assert_eq!(status.code(), Some(130), "{status}: {}", text(&out.stderr));
    assert_eq!(listing(dir.path()), ["s.json", "t.csv"]);
    let s = read_json(&dir.path().join("s.json"));
    assert_eq!(s["complete"], false);
    assert_eq!(s["stop_reason"], "interrupted");
    let (_, rows) = numeric_csv(&dir.path().join("t.csv"));
    assert_eq!(
        rows.last().expect("rows")[0],
        s["steps"].as_f64().expect("steps"),
        "the trajectory ends at the state where the run stopped"
    );
}

#[test]
fn an_interrupted_verify_reports_what_finished_and_exits_130() {
    // In-process with the flag already set: no claim starts, the command answers at once.
    let (code, stdout, stderr) =
        crate::common::sparsify_in_process(&["verify", "--profile", "full", "--json"], true);
    assert_eq!(code, sparsify_cli::exit::INTERRUPTED, "{stderr}");
    let all = sparsify_experiments::claims::CLAIMS.len();
    assert!(
        stderr.contains(&format!("interrupted: 0 of {all} claims finished")),
        "{stderr}"
    );
    let report: Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    assert_eq!(report["all_pass"], false, "an interrupted run never passes");
    assert_eq!(report["claims"].as_array().map(Vec::len), Some(0));
}

#[test]
fn verify_exit_codes_tell_a_pass_from_bad_usage() {
    let (code, stdout, stderr) =
        crate::common::sparsify_in_process(&["verify", "--claim", "12"], false);
    assert_eq!(code, sparsify_cli::exit::SUCCESS, "{stdout}{stderr}");
    assert!(stdout.contains("1 of 1 claims pass"), "{stdout}");
    // One past the last registered claim.
    let past = (sparsify_experiments::claims::CLAIMS.len() + 1).to_string();
    for bad in [
        &["verify", "--profile", "medium"][..],
        &["verify", "--claim", past.as_str()],
        &["verify", "--claim", "0"],
    ] {
        let (code, _, stderr) = crate::common::sparsify_in_process(bad, false);
        assert_eq!(code, sparsify_cli::exit::USAGE, "{bad:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{bad:?}: {stderr}");
    }
    assert_ne!(sparsify_cli::exit::IO, sparsify_cli::exit::CLAIM_FAILED);
}

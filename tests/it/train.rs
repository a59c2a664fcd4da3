//! `sparsify train` through the real binary: the reference trajectories element by element,
//! the output files and their formats, bad input (exit 2, one line, nothing written) and an
//! interrupt (exit 130, complete outputs of the steps done).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cli::{sparsify_bin, text, write_npy};
use crate::common::{numeric_csv, read_json, text_csv};

fn nfeature_fixture(case: &str, file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/nfeature")
        .join(case)
        .join(file)
}

fn train(args: &[&str]) -> std::process::Output {
    Command::new(sparsify_bin())
        .arg("train")
        .args(args)
        .output()
        .expect("sparsify runs")
}

/// `(shape, values)` of an `.npy` file of float64 or float32.
fn read_npy(path: &Path) -> (Vec<u64>, Vec<f64>, String) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let npy = npyz::NpyFile::new(&bytes[..]).expect("valid npy");
    let shape = npy.shape().to_vec();
    let descr = npy.dtype().descr().trim_matches('\'').to_owned();
    let values = if descr.ends_with("f4") {
        npy.into_vec::<f32>()
            .expect("f32")
            .into_iter()
            .map(f64::from)
            .collect()
    } else {
        npy.into_vec::<f64>().expect("f64")
    };
    (shape, values, descr)
}

/// Trains a reference trajectory case in float64 from its `w0.npy` and compares the saved
/// weights and every loss row. The reference agrees with the paper's torch code to 6e-16;
/// a float64 port that sums in another order drifts by rounding, ~1e-15 per step at these
/// sizes, so 1e-12 on weights of order 1 (absolute) and on the loss (relative) after 300
/// steps leaves a margin of ~10 without hiding a wrong update (which moves W by ~lr = 1e-3).
fn check_reference(case: &str, extra: &[&str]) {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("run");
    let w0 = nfeature_fixture(case, "w0.npy");
    let mut args = vec![
        "--init-file",
        w0.to_str().expect("utf-8"),
        "--dtype",
        "f64",
        "--steps",
        "300",
        "--save-weights",
        "1,10,100,300",
        "--out",
        out.to_str().expect("utf-8"),
    ];
    args.extend_from_slice(extra);
    let o = train(&args);
    assert!(o.status.success(), "{case}: {}", text(&o.stderr));
    for k in [1, 10, 100, 300] {
        let name = format!("w_step{k}.npy");
        let (s1, ours, descr) = read_npy(&out.join(&name));
        let (s2, reference, _) = read_npy(&nfeature_fixture(case, &name));
        assert_eq!(s1, s2, "{case} {name}: shape");
        assert_eq!(descr, "<f8", "a float64 run writes float64");
        assert_eq!(ours.len(), reference.len());
        let worst = ours
            .iter()
            .zip(&reference)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0_f64, |m, e| if e.is_nan() { f64::NAN } else { m.max(e) });
        assert!(worst <= 1e-12, "{case} {name}: max |diff| = {worst:e}");
    }
    let (h1, ours) = numeric_csv(&out.join("loss.csv"));
    let (h2, reference) = numeric_csv(&nfeature_fixture(case, "loss.csv"));
    assert_eq!(h1, h2);
    assert_eq!(
        ours.len(),
        reference.len(),
        "{case}: one loss row per step 0..=300"
    );
    for (a, b) in ours.iter().zip(&reference) {
        assert_eq!(a[0], b[0], "{case}: step");
        for j in 1..4 {
            let rel = (a[j] - b[j]).abs() / b[j].abs().max(1e-300);
            assert!(
                rel <= 1e-12,
                "{case} step {}: column {j}: {} vs {}",
                a[0],
                a[j],
                b[j]
            );
        }
    }
    // The final weights are the step-300 weights, and the summary says the run completed.
    assert_eq!(
        read_npy(&out.join("w_final.npy")).1,
        read_npy(&out.join("w_step300.npy")).1
    );
    let summary = read_json(&out.join("summary.json"));
    assert_eq!(summary["complete"], true);
    assert_eq!(summary["steps"], 300);
    assert_eq!(summary["dtype"], "f64");
    assert_eq!(summary["saved_steps"], serde_json::json!([1, 10, 100, 300]));
}

#[test]
fn adamw_reproduces_the_reference_trajectory() {
    check_reference("traj_n8_m16_adamw", &["--lambda", "1e-3"]);
}

#[test]
fn sgd_reproduces_the_reference_trajectory() {
    check_reference(
        "traj_n8_m16_sgd_l1",
        &["--lambda", "1e-2", "--optimizer", "sgd", "--lr", "0.02"],
    );
}

#[test]
fn every_output_is_written_with_the_reference_columns() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("run");
    let o = train(&[
        "--n",
        "8",
        "--m",
        "16",
        "--instances",
        "3",
        "--steps",
        "200",
        "--record-every",
        "50",
        "--seed",
        "5",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .expect("out dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "counts.csv",
            "features.csv",
            "loss.csv",
            "polysemantic_neurons.csv",
            "summary.json",
            "trajectory.csv",
            "w_final.npy"
        ]
    );
    for (file, fixture_case) in [
        ("counts.csv", "stats_n32_m64"),
        ("features.csv", ""),
        ("polysemantic_neurons.csv", ""),
    ] {
        let (header, _) = text_csv(&out.join(file));
        if !fixture_case.is_empty() {
            let (reference, _) = text_csv(&nfeature_fixture(fixture_case, file));
            assert_eq!(header, reference, "{file}");
        }
    }
    let (header, rows) = text_csv(&out.join("counts.csv"));
    assert!(header.starts_with("instance,polysemantic,"));
    assert_eq!(rows.len(), 3, "one row per instance");
    let (_, features) = text_csv(&out.join("features.csv"));
    assert_eq!(features.len(), 3 * 8, "one row per instance and feature");
    let (header, traj) = numeric_csv(&out.join("trajectory.csv"));
    assert_eq!(
        header,
        "step,t,mse,l1_term,total,mean_fourth_norm,mean_polysemantic,mean_active"
    );
    let steps: Vec<f64> = traj.iter().map(|r| r[0]).collect();
    assert_eq!(steps, [0.0, 50.0, 100.0, 150.0, 200.0]);
    let (_, loss) = numeric_csv(&out.join("loss.csv"));
    assert_eq!(loss.len(), 201);
    // AdamW with L1 lowers the loss from its start.
    assert!(
        loss[200][3] < loss[0][3],
        "{:?} -> {:?}",
        loss[0],
        loss[200]
    );
    let (shape, _, descr) = read_npy(&out.join("w_final.npy"));
    assert_eq!(shape, [3, 8, 16]);
    assert_eq!(descr, "<f4", "float32 is the default, as the paper ran");
    let summary = read_json(&out.join("summary.json"));
    assert_eq!(summary["seed"], 5);
    assert_eq!(summary["optimizer"], "adamw");
    assert_eq!(summary["optimizer_parameters"]["weight_decay"], 0.01);
    assert_eq!(summary["prediction_n2_over_4m"], 1.0);
    assert_eq!(summary["prediction_n(n-1)_over_4m"], 0.875);
    assert!(summary["summary_over_instances"]["polysemantic"]["mean"].is_number());

    // The same seed gives the same weights, bit for bit.
    let again = dir.path().join("again");
    let o = train(&[
        "--n",
        "8",
        "--m",
        "16",
        "--instances",
        "3",
        "--steps",
        "200",
        "--seed",
        "5",
        "--out",
        again.to_str().expect("utf-8"),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        std::fs::read(out.join("w_final.npy")).expect("read"),
        std::fs::read(again.join("w_final.npy")).expect("read")
    );
}

#[test]
fn the_gradient_flow_records_its_active_coordinates() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("flow");
    let o = train(&[
        "--n",
        "4",
        "--m",
        "32",
        "--instances",
        "2",
        "--optimizer",
        "flow",
        "--step",
        "0.05",
        "--lambda",
        "0.05",
        "--steps",
        "2000",
        "--record-every",
        "500",
        "--dtype",
        "f64",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let (_, traj) = numeric_csv(&out.join("trajectory.csv"));
    let active: Vec<f64> = traj.iter().map(|r| r[7]).collect();
    assert_eq!(active[0], 32.0, "every coordinate is active at the start");
    assert!(
        active.windows(2).all(|p| p[1] <= p[0]),
        "L1 only removes coordinates here: {active:?}"
    );
    assert!(*active.last().expect("rows") < 32.0, "{active:?}");
    assert_eq!(traj.last().expect("rows")[1], 2000.0 * 0.05, "t = step * h");
}

/// Each bad command line: exit 2, one line on stderr naming the flag, and no directory made.
#[test]
fn bad_input_is_refused_in_one_line_and_nothing_is_written() {
    let dir = tempfile::tempdir().expect("temp dir");
    let w0 = nfeature_fixture("traj_n8_m16_adamw", "w0.npy");
    let w0 = w0.to_str().expect("utf-8");
    let nan = dir.path().join("nan.npy");
    write_npy::<f64>(&nan, &[1, 2, 2], &[0.1, f64::NAN, 0.2, 0.3]);
    let flat = dir.path().join("flat.npy");
    write_npy::<f64>(&flat, &[4], &[0.1, 0.2, 0.3, 0.4]);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--init-file", w0, "--n", "9"], "--n"),
        (vec!["--init-file", w0, "--instances", "3"], "--instances"),
        (
            vec!["--init-file", nan.to_str().expect("utf-8")],
            "--init-file",
        ),
        (
            vec!["--init-file", flat.to_str().expect("utf-8")],
            "--init-file",
        ),
        (vec!["--n", "8", "--m", "16", "--sigma", "0.1"], "--sigma"),
        (
            vec!["--n", "8", "--m", "16", "--noise", "gaussian"],
            "--noise",
        ),
        (vec!["--n", "8", "--m", "16", "--lr", "-1e-3"], "--lr"),
        (
            vec![
                "--n",
                "8",
                "--m",
                "16",
                "--optimizer",
                "sgd",
                "--weight-decay",
                "0.1",
            ],
            "--weight-decay",
        ),
        (vec!["--n", "8", "--m", "16", "--step", "0.1"], "--step"),
        (
            vec![
                "--n",
                "8",
                "--m",
                "16",
                "--optimizer",
                "flow",
                "--step",
                "0",
            ],
            "--step",
        ),
        (vec!["--n", "8", "--m", "16", "--lambda", "-1"], "--lambda"),
        (vec!["--n", "0", "--m", "16"], "--n"),
        (vec!["--m", "16"], "--n"),
        (
            vec![
                "--n",
                "8",
                "--m",
                "16",
                "--steps",
                "10",
                "--save-weights",
                "20",
            ],
            "--save-weights",
        ),
        (
            vec!["--n", "8", "--m", "16", "--record-every", "0"],
            "--record-every",
        ),
        (vec!["--n", "8", "--m", "16", "--beta1", "1"], "--beta1"),
        (
            vec!["--n", "100000", "--m", "100000", "--instances", "1000"],
            "memory",
        ),
    ];
    for (i, (args, flag)) in cases.iter().enumerate() {
        let out = dir.path().join(format!("out{i}"));
        let mut full = args.clone();
        full.extend(["--out", out.to_str().expect("utf-8")]);
        let o = train(&full);
        let stderr = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.contains(flag),
            "{args:?} should name {flag}: {stderr}"
        );
        assert!(!out.exists(), "{args:?}: nothing may be written");
    }
    // --out naming a file is refused, and the file is left alone.
    let file = dir.path().join("a_file");
    std::fs::write(&file, "keep").expect("write");
    let o = train(&[
        "--n",
        "2",
        "--m",
        "4",
        "--out",
        file.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert_eq!(std::fs::read_to_string(&file).expect("read"), "keep");
}

#[test]
fn an_interrupted_training_still_writes_every_output() {
    // In-process, with the flag already set: the run stops before its first update.
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("run");
    let out_str = out.to_string_lossy().into_owned();
    let args = [
        "train",
        "--n",
        "4",
        "--m",
        "8",
        "--steps",
        "100",
        "--save-weights",
        "0,50",
        "--out",
        &out_str,
    ];
    let (code, _, stderr) = crate::common::sparsify_in_process(&args, true);
    assert_eq!(code, sparsify_cli::exit::INTERRUPTED, "{stderr}");
    assert!(
        stderr.contains("interrupted after 0 of 100 updates"),
        "{stderr}"
    );
    let summary = read_json(&out.join("summary.json"));
    assert_eq!(summary["complete"], false);
    assert_eq!(summary["stop_reason"], "interrupted");
    assert_eq!(summary["steps"], 0);
    assert_eq!(summary["saved_steps"], serde_json::json!([0]));
    assert!(out.join("w_step0.npy").exists());
    assert!(!out.join("w_step50.npy").exists(), "never reached");
    let (_, traj) = numeric_csv(&out.join("trajectory.csv"));
    assert_eq!(traj.len(), 1, "the initial state only");
}

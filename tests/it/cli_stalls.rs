//! Runs that never ended (issue 8, "Runs that never end"), through the binary: tied weights
//! and weights one ulp apart stop as stalled with exit 0 and complete outputs in every solver;
//! a run whose closed-form length exceeds the step budget is refused before it starts; an
//! overflow is reported as one, naming the input that caused it.

use crate::cli::{assert_rejected, listing, run_in, text};
use crate::common::{read_json, text_csv};

/// Runs `sparsify run --init-file w0.txt <args>` with all outputs on `weights` (one per line),
/// requires exit 0 and every output, and returns the summary.
fn run_from(weights: &str, args: &[&str]) -> serde_json::Value {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("w0.txt"), weights).expect("write weights");
    let mut full = vec!["--init-file", "w0.txt"];
    full.extend(args);
    full.extend([
        "--deaths",
        "d.csv",
        "--trajectory",
        "t.csv",
        "--summary",
        "s.json",
    ]);
    let out = run_in(dir.path(), &full);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        text(&out.stderr)
    );
    assert_eq!(listing(dir.path()), ["d.csv", "s.json", "t.csv", "w0.txt"]);
    let s = read_json(&dir.path().join("s.json"));
    // The trajectory ends at the final state, and the deaths file has every change of m'.
    let (_, rows) = text_csv(&dir.path().join("t.csv"));
    let last_m: usize = rows.last().expect("a row")[2].parse().expect("m'");
    assert_eq!(Some(last_m as u64), s["final_m_prime"].as_u64(), "{args:?}");
    let (_, deaths) = text_csv(&dir.path().join("d.csv"));
    assert_eq!(
        Some(deaths.len() as u64),
        s["death_events"].as_u64(),
        "{args:?}"
    );
    s
}

const METHODS: [&str; 3] = ["direct", "reduced", "adaptive"];

/// Two equal largest weights (and a smaller one that dies), or all weights equal: every
/// solver stops with the tied survivors, says "stalled", and exits 0 with complete outputs.
#[test]
fn tied_weights_stall_in_every_solver() {
    for (weights, tied) in [("0.6\n0.6\n0.1\n", 2), ("0.4\n0.4\n0.4\n0.4\n", 4)] {
        for method in METHODS {
            let s = run_from(weights, &["--lambda", "1e-3", "--method", method]);
            assert_eq!(s["stop_reason"], "stalled", "{method} {weights:?}");
            assert_eq!(s["final_m_prime"], tied, "{method} {weights:?}");
            assert_eq!(s["complete"], true);
            let f = &s["final_state"];
            assert_eq!(f["w_max"], f["w_min"], "{method}: the survivors are tied");
        }
    }
}

/// Two weights one ulp apart: Euler's rounding keeps them together in the direct solver (which
/// used to loop forever) and it stalls; the reduced solver, whose affine form keeps the gap,
/// separates them and ends with one survivor.
#[test]
fn weights_one_ulp_apart_end_in_the_euler_solvers() {
    let weights = "0.5\n0.49999999999999994\n0.3\n";
    let direct = run_from(weights, &["--lambda", "1e-2"]);
    assert_eq!(direct["stop_reason"], "stalled");
    assert_eq!(direct["final_m_prime"], 2);
    let reduced = run_from(weights, &["--lambda", "1e-2", "--method", "reduced"]);
    assert_eq!(reduced["stop_reason"], "one_left");
    assert_eq!(reduced["final_m_prime"], 1);
}

/// A lambda or a step so small that the run makes no progress is refused up front with the
/// closed-form estimate, and --max-steps moves the budget both ways.
#[test]
fn runs_beyond_the_step_budget_are_refused_with_the_estimate() {
    assert_rejected(
        &["--m", "100", "--lambda", "5e-324"],
        &[],
        &["--lambda 5e-324", "--max-steps", "steps"],
    );
    assert_rejected(
        &["--m", "100", "--step", "1e-300"],
        &[],
        &["--step 1e-300", "--max-steps", "Euler steps"],
    );
    assert_rejected(
        &["--m", "100", "--lambda", "1e-3", "--max-steps", "10"],
        &[],
        &["--max-steps 10", "about"],
    );
    assert_rejected(
        &["--max-steps", "0"],
        &[],
        &["--max-steps", "whole number >= 1"],
    );
    // The same small run passes with the default budget.
    let s = run_from("0.6\n0.5\n0.1\n", &["--lambda", "1e-3"]);
    assert_eq!(s["stop_reason"], "one_left");
}

/// Weights whose squares overflow are reported as an overflow of the initial weights, naming
/// the input (the file, or --sigma), not --step.
#[test]
fn an_overflow_names_the_input_that_caused_it() {
    for method in METHODS {
        assert_rejected(
            &["--init-file", "w.txt", "--method", method],
            &[("w.txt", b"1e200\n2e200\n3e200\n")],
            &["--init-file", "too large", "overflows"],
        );
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run_in(dir.path(), &["--m", "100", "--sigma", "1e200"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--sigma") && !stderr.contains("--step"),
        "{stderr}"
    );
}

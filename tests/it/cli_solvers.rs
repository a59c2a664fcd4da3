//! Integration tests: `sparsify run --method/--dynamics` (the reduced and adaptive solvers and
//! the other dynamics through the binary), their invalid combinations, and what they write.
//!
//! The reference is the small fixture run (numpy seed 0, m = 1e4, lambda = 1e-4, h = 0.5): the
//! reduced solver must give its death events exactly; the adaptive solver, which integrates the
//! flow in continuous time, must give death times close to Euler's.

use std::path::Path;

use serde_json::Value;

use crate::cli::{assert_rejected, listing, run_in, text};
use crate::common::{fixture, fixture_str, num, read_json, text_csv};

/// The small reference configuration, as flags.
const SMALL: [&str; 8] = [
    "--rng", "numpy", "--seed", "0", "--m", "1e4", "--lambda", "1e-4",
];
const SMALL_DEATHS: &str = "small_m1e4_l1e-4.deaths.csv";

/// Runs `sparsify run <args> --deaths d.csv --trajectory t.csv --summary s.json` in a fresh
/// directory, requires success, and returns the directory.
fn run_all_outputs(args: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut full = args.to_vec();
    full.extend([
        "--deaths",
        "d.csv",
        "--trajectory",
        "t.csv",
        "--summary",
        "s.json",
    ]);
    let out = run_in(dir.path(), &full);
    assert!(
        out.status.success(),
        "{args:?}: {} {}",
        out.status,
        text(&out.stderr)
    );
    assert!(out.stderr.is_empty(), "{args:?}: {}", text(&out.stderr));
    assert_eq!(listing(dir.path()), ["d.csv", "s.json", "t.csv"]);
    dir
}

/// The reference death events as `(step, t, m')`.
fn reference_deaths() -> Vec<(u64, f64, usize)> {
    let (_, r) = text_csv(Path::new(&fixture_str(SMALL_DEATHS)));
    r.iter()
        .map(|f| (num(&f[0]), num(&f[1]), num(&f[2])))
        .collect()
}

#[test]
fn reduced_gives_the_reference_death_events_exactly() {
    let dir = run_all_outputs(&[&SMALL[..], &["--method", "reduced"]].concat());
    let ours = std::fs::read_to_string(dir.path().join("d.csv")).expect("deaths");
    let reference = std::fs::read_to_string(fixture(SMALL_DEATHS)).expect("fixture");
    // Same step and m' for every event (and so the same t = step*h, printed the same way).
    assert_eq!(ours, reference);
    // The trajectory has the reference's checkpoint steps and m' (its floats differ from the
    // direct run's by rounding only, see sparsify_core::reduced).
    let (h1, r1) = text_csv(&dir.path().join("t.csv"));
    let (h2, r2) = text_csv(&fixture("small_m1e4_l1e-4.checkpoints.csv"));
    assert_eq!(h1, h2);
    assert_eq!(r1.len(), r2.len());
    for (a, b) in r1.iter().zip(&r2) {
        assert_eq!((&a[0], &a[2]), (&b[0], &b[2]));
    }
}

#[test]
fn adaptive_death_times_are_close_to_the_euler_reference() {
    let dir = run_all_outputs(&[&SMALL[..], &["--method", "adaptive"]].concat());
    let (header, deaths) = text_csv(&dir.path().join("d.csv"));
    assert_eq!(header, "step,t,m_prime");
    // One located crossing per coordinate, step field empty, times increasing.
    assert_eq!(deaths.len(), 9999);
    assert!(deaths.iter().all(|d| d[0].is_empty()));
    let located: Vec<(f64, usize)> = deaths.iter().map(|d| (num(&d[1]), num(&d[2]))).collect();
    assert!(located.windows(2).all(|w| w[0].0 < w[1].0));
    // Euler's event "after step k there are m' survivors" against the first time the flow has
    // at most m' survivors. Euler's deaths are late by up to one step (h = 0.5) plus its O(h)
    // shift, about (h/4) ln(F0/F) <= 0.125*ln(1e4) = 1.2 over this run: 3 bounds both.
    for (step, t_euler, m_prime) in reference_deaths() {
        let t_flow = located
            .iter()
            .find(|&&(_, n)| n <= m_prime)
            .map(|&(t, _)| t)
            .expect("the flow reaches every m' Euler does");
        assert!(
            (t_flow - t_euler).abs() <= 3.0,
            "step {step}: m' = {m_prime} at t = {t_euler} (Euler) vs {t_flow} (flow)"
        );
    }
    // Trajectory rows: at t = step*h exactly, then the end of the run with an empty step.
    let (_, traj) = text_csv(&dir.path().join("t.csv"));
    let (last, grid) = traj.split_last().expect("rows");
    for r in grid {
        let k: u64 = num(&r[0]);
        assert_eq!(num::<f64>(&r[1]), k as f64 * 0.5, "{r:?}");
    }
    assert!(last[0].is_empty(), "{last:?}");
    assert_eq!(num::<f64>(&last[1]), located[located.len() - 1].0);
    assert_eq!(last[2], "1");
    // The grid is the reference's checkpoint steps up to the end of the run.
    let (_, reference) = text_csv(&fixture("small_m1e4_l1e-4.checkpoints.csv"));
    let end = num::<f64>(&last[1]);
    let expected: Vec<&String> = reference
        .iter()
        .map(|r| &r[0])
        .filter(|k| num::<f64>(k) * 0.5 <= end)
        .collect();
    let ours: Vec<&String> = grid.iter().map(|r| &r[0]).collect();
    assert_eq!(ours, expected);
}

#[test]
fn l1_l2_with_mu_0_is_exactly_the_l1_run() {
    let reference = std::fs::read_to_string(fixture(SMALL_DEATHS)).expect("fixture");
    for method in ["direct", "reduced"] {
        let args = [
            &SMALL[..],
            &["--method", method, "--dynamics", "l1-l2", "--param", "mu=0"],
        ]
        .concat();
        let dir = run_all_outputs(&args);
        let ours = std::fs::read_to_string(dir.path().join("d.csv")).expect("deaths");
        assert!(ours == reference, "{method}: death events differ from l1");
        let s = read_json(&dir.path().join("s.json"));
        assert_eq!(s["parameters"]["dynamics"], "l1-l2");
        assert_eq!(s["parameters"]["mu"], 0.0);
    }
}

#[test]
fn lp_runs_end_to_end_with_direct_and_adaptive() {
    let base = [
        "--m",
        "1e3",
        "--lambda",
        "1e-3",
        "--init",
        "quantile",
        "--dynamics",
        "lp",
        "--param",
        "p=0.5",
    ];
    let mut end_times = Vec::new();
    for (method, solver) in [("direct", "DynamicsEuler"), ("adaptive", "adaptive_full")] {
        let dir = run_all_outputs(&[&base[..], &["--method", method]].concat());
        let s = read_json(&dir.path().join("s.json"));
        assert_eq!(s["parameters"]["method"], method);
        assert_eq!(s["parameters"]["solver"], solver);
        assert_eq!(s["parameters"]["dynamics"], "lp");
        assert_eq!(s["parameters"]["p"], 0.5);
        assert_eq!(s["final_m_prime"], 1);
        assert_eq!(s["complete"], true);
        let (_, deaths) = text_csv(&dir.path().join("d.csv"));
        assert_eq!(deaths.last().map(|d| d[2].as_str()), Some("1"));
        end_times.push(s["final_t"].as_f64().expect("final_t"));
    }
    // The last death of Euler (h = 0.5) and of the flow: Euler is late by under one step
    // plus its O(h) shift, about 1.4 here; 3 leaves room without hiding a wrong flow.
    assert!((end_times[0] - end_times[1]).abs() <= 3.0, "{end_times:?}");
}

#[test]
fn invalid_solver_combinations_are_one_line_errors_and_write_nothing() {
    let cases: &[(&[&str], &[&str])] = &[
        (
            &[
                "--method",
                "reduced",
                "--dynamics",
                "lp",
                "--param",
                "p=0.5",
            ],
            &["--method reduced", "--dynamics lp", "affine"],
        ),
        (
            &["--dynamics", "lp"],
            &["--dynamics lp", "--param p=VALUE", "0 < p < 1"],
        ),
        (
            &["--dynamics", "l1-l2"],
            &["--dynamics l1-l2", "--param mu=VALUE", ">= 0"],
        ),
        (
            &["--param", "mu=0.1"],
            &["--param mu", "--dynamics l1", "takes none"],
        ),
        (
            &["--dynamics", "l1-l2", "--param", "mu=0", "--param", "p=0.5"],
            &["--param p", "l1-l2", "--param mu=VALUE"],
        ),
        (
            &["--dynamics", "lp", "--param", "p=0.5", "--param", "mu=1"],
            &["--param mu", "--dynamics lp"],
        ),
        (
            &["--dynamics", "lp", "--param", "p=1.5"],
            &["--param p=1.5", "0 < p < 1"],
        ),
        (
            &["--dynamics", "l1-l2", "--param", "mu=-1"],
            &["--param mu=-1", ">= 0"],
        ),
        (
            &["--dynamics", "l2"],
            &["--dynamics", "l2", "l1", "l1-l2", "lp"],
        ),
        (
            &["--method", "rk4"],
            &["--method", "rk4", "direct", "reduced", "adaptive"],
        ),
        (&["--rtol", "1e-6"], &["--rtol 1e-6", "--method adaptive"]),
        (
            &["--method", "reduced", "--atol", "1e-9"],
            &["--atol 1e-9", "--method adaptive", "reduced"],
        ),
        (
            &["--method", "adaptive", "--rtol", "0"],
            &["--rtol", "0", "[1e-14, 1)"],
        ),
        (
            &["--method", "adaptive", "--atol", "-1"],
            &["--atol", "-1", "> 0"],
        ),
        (
            &["--method", "reduced", "--sum", "pairwise"],
            &["--sum pairwise", "--method direct"],
        ),
        (
            &["--method", "adaptive", "--sum", "sequential"],
            &["--sum sequential", "--method direct"],
        ),
        (
            &["--parallel-init", "--rng", "numpy"],
            &["--parallel-init", "--rng pcg64"],
        ),
        (
            &["--parallel-init", "--init", "quantile"],
            &["--parallel-init", "half-normal"],
        ),
        // Unstable Euler steps are refused by the reduced solver too.
        (
            &[
                "--method", "reduced", "--m", "1000", "--sigma", "1", "--step", "100",
            ],
            &["--step", "100", "unstable"],
        ),
    ];
    for (args, words) in cases {
        assert_rejected(args, &[], words);
    }
}

#[test]
fn summaries_name_the_method_dynamics_tolerances_and_solver_work() {
    let args = [
        "--m",
        "2000",
        "--lambda",
        "1e-3",
        "--dynamics",
        "l1-l2",
        "--param",
        "mu=0.05",
    ];
    let direct = run_all_outputs(&args);
    let reduced = run_all_outputs(&[&args[..], &["--method", "reduced"]].concat());
    let adaptive = run_all_outputs(
        &[
            &args[..],
            &["--method", "adaptive", "--rtol", "1e-9", "--atol", "1e-13"],
        ]
        .concat(),
    );
    let s = |dir: &tempfile::TempDir| read_json(&dir.path().join("s.json"));
    let (d, r, a) = (s(&direct), s(&reduced), s(&adaptive));
    for (json, method, solver) in [
        (&d, "direct", "DynamicsEuler"),
        (&r, "reduced", "ReducedSim"),
        (&a, "adaptive", "adaptive_reduced"),
    ] {
        let p = &json["parameters"];
        assert_eq!(p["method"], method);
        assert_eq!(p["solver"], solver);
        assert_eq!(p["dynamics"], "l1-l2");
        assert_eq!(p["mu"], 0.05);
        assert!(p.get("p").is_none());
        assert_eq!(p["parallel_init"], false);
        let c = &json["solver_counts"];
        for key in ["steps", "rejected_steps", "function_evaluations", "events"] {
            assert!(
                c[key].is_u64(),
                "{method}: solver_counts.{key} = {}",
                c[key]
            );
        }
        assert_eq!(c["steps"], json["steps"]);
        assert!(json["setup_seconds"].is_f64());
        assert_eq!(json["final_m_prime"], 1);
    }
    // Only direct has a summation order; only adaptive has tolerances.
    assert_eq!(d["parameters"]["sum"], "sequential");
    assert!(r["parameters"].get("sum").is_none() && a["parameters"].get("sum").is_none());
    assert!(d["parameters"].get("rtol").is_none() && r["parameters"].get("atol").is_none());
    assert_eq!(a["parameters"]["rtol"], 1e-9);
    assert_eq!(a["parameters"]["atol"], 1e-13);
    // Euler: one evaluation per step, nothing rejected, one event per step that changed m'.
    for json in [&d, &r] {
        let c = &json["solver_counts"];
        assert_eq!(c["function_evaluations"], c["steps"]);
        assert_eq!(c["rejected_steps"], 0);
        assert_eq!(c["events"], json["death_events"]);
    }
    // Direct and reduced run the same recursion: the same death events.
    let deaths = |dir: &tempfile::TempDir| std::fs::read(dir.path().join("d.csv")).expect("d");
    assert_eq!(deaths(&direct), deaths(&reduced));
    // Adaptive: every coordinate dies at its own located time; DP5(4) makes six evaluations
    // per try after the first, plus its starting-step probes and a restart at every event.
    let c = &a["solver_counts"];
    assert_eq!(c["events"], 1999);
    assert_eq!(a["death_events"], 1999);
    let tries = c["steps"].as_u64().expect("u64") + c["rejected_steps"].as_u64().expect("u64");
    assert!(c["function_evaluations"].as_u64().expect("u64") >= 6 * tries);
}

#[test]
fn parallel_init_is_recorded_and_draws_its_own_stream() {
    let base = ["--m", "5000", "--lambda", "1e-3", "--method", "reduced"];
    let plain = run_all_outputs(&base);
    let parallel = run_all_outputs(&[&base[..], &["--parallel-init"]].concat());
    let (a, b) = (
        read_json(&plain.path().join("s.json")),
        read_json(&parallel.path().join("s.json")),
    );
    assert_eq!(a["parameters"]["rng"], "pcg64");
    assert_eq!(a["parameters"]["parallel_init"], false);
    assert_eq!(b["parameters"]["rng"], "pcg64-parallel");
    assert_eq!(b["parameters"]["parallel_init"], true);
    assert_ne!(
        a["initial_state"]["w_max"], b["initial_state"]["w_max"],
        "a different stream from the same seed"
    );
}

#[test]
fn an_interrupted_adaptive_run_still_writes_every_output() {
    // In-process, with the flag already set: the solver stops before its first step.
    let dir = tempfile::tempdir().expect("temp dir");
    let path = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let (t, d, s) = (path("t.csv"), path("d.csv"), path("s.json"));
    let args = [
        "run",
        "--m",
        "1000",
        "--method",
        "adaptive",
        "--trajectory",
        &t,
        "--deaths",
        &d,
        "--summary",
        &s,
    ];
    let (code, _, stderr) = crate::common::sparsify_in_process(&args, true);
    assert_eq!(code, sparsify_cli::exit::INTERRUPTED, "{}", stderr);
    let summary: Value = read_json(Path::new(&s));
    assert_eq!(summary["complete"], false);
    assert_eq!(summary["stop_reason"], "interrupted");
    assert_eq!(summary["steps"], 0);
    let (_, traj) = text_csv(Path::new(&t));
    assert_eq!(traj.len(), 1, "the initial state only: {traj:?}");
    assert_eq!(traj[0][0], "0");
    assert!(text_csv(Path::new(&d)).1.is_empty());
}

#[test]
fn help_teaches_the_solver_flags() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run_in(dir.path(), &["--help"]);
    assert!(out.status.success(), "{out:?}");
    let help = text(&out.stdout);
    for word in [
        "--method",
        "[default: direct]",
        "--dynamics",
        "[default: l1]",
        "--param",
        "NAME=VALUE",
        "p=VALUE: the exponent of the penalty, a number with 0 < p < 1 (required)",
        "methods: direct, adaptive",
        "--max-steps",
        "--rtol",
        "[default: 1e-8]",
        "--atol",
        "[default: 1e-12]",
        "--parallel-init",
        "--method direct only",
        "--method reduced --deaths",
        "--method adaptive --rtol 1e-10",
        "--dynamics l1-l2 --param mu=0.05",
        "--dynamics lp --param p=0.5",
        "--m 1e8 --method reduced --parallel-init",
        "empty step",
    ] {
        assert!(help.contains(word), "{word:?} missing from --help");
    }
}

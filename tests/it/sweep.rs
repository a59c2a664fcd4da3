//! `sparsify sweep`, through the real binary: plan, run (jobs, shards, resumption, a SIGKILL
//! mid-run), status, merge (byte-identical however the cells were run), slurm.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::cli::{sparsify_bin, text};
use crate::common::sparsify_in_process;

/// 3 lambdas x 4 seeds of the reduced solver at m = 500: a few milliseconds a cell.
const SMALL: &str = "\
kind = \"run\"
[params]
m = 500
step = 0.5
method = \"reduced\"
[axes]
lambda = { from = 1e-3, to = 1e-2, points = 3, log = true }
seed = { from = 0, to = 3 }
";

fn sweep(dir: &Path, args: &[&str]) -> Output {
    sweep_env(dir, args, &[])
}

fn sweep_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(sparsify_bin());
    cmd.arg("sweep")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("SLURM_ARRAY_TASK_COUNT");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the sparsify binary starts")
}

fn ok(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Plans `spec` into `root/name` and returns the directory.
fn planned(root: &Path, name: &str, spec: &str) -> PathBuf {
    let spec_path = root.join(format!("{name}.toml"));
    std::fs::write(&spec_path, spec).expect("write spec");
    ok(&sweep(
        root,
        &["plan", &format!("{name}.toml"), "--out", name],
    ));
    root.join(name)
}

/// Merges `dir` into `root/<tag>.csv` and returns (table, aggregate) bytes.
fn merged(root: &Path, dir: &Path, tag: &str) -> (Vec<u8>, Vec<u8>) {
    let table = root.join(format!("{tag}.csv"));
    ok(&sweep(
        root,
        &[
            "merge",
            dir.to_str().expect("utf-8 path"),
            "--out",
            table.to_str().expect("utf-8 path"),
        ],
    ));
    let agg = root.join(format!("{tag}.agg.csv"));
    (
        std::fs::read(&table).expect("table"),
        std::fs::read(&agg).expect("aggregate"),
    )
}

fn data_rows(table: &[u8]) -> Vec<Vec<String>> {
    String::from_utf8_lossy(table)
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

#[test]
fn merge_is_the_same_bytes_for_any_jobs_and_shards_and_twice() {
    let root = tempfile::tempdir().expect("temp dir");
    let r = root.path();
    let one = planned(r, "one", SMALL);
    let two = planned(r, "two", SMALL);
    let sharded = planned(r, "sharded", SMALL);
    ok(&sweep(r, &["run", "one", "--jobs", "1"]));
    ok(&sweep(r, &["run", "two", "--jobs", "2"]));
    // Three shards as three processes at once, as a job array runs them.
    let children: Vec<_> = (0..3)
        .map(|i| {
            Command::new(sparsify_bin())
                .args(["sweep", "run", "sharded", "--shard", &format!("{i}/3")])
                .current_dir(r)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("the sparsify binary starts")
        })
        .collect();
    for c in children {
        ok(&c.wait_with_output().expect("shard output"));
    }
    let (t1, a1) = merged(r, &one, "one");
    let (t2, a2) = merged(r, &two, "two");
    let (t3, a3) = merged(r, &sharded, "sharded");
    let (t1_again, a1_again) = merged(r, &one, "one-again");
    assert!(
        t1 == t2 && t1 == t3,
        "tables differ between --jobs 1, --jobs 2 and 3 shards"
    );
    assert!(
        a1 == a2 && a1 == a3,
        "aggregates differ between jobs/shards"
    );
    assert!(
        t1 == t1_again && a1 == a1_again,
        "merging twice changed the bytes"
    );

    // The table has one row per cell in cell order, each done, with the parameters of the
    // grid: lambda slowest, seed fastest.
    let rows = data_rows(&t1);
    assert_eq!(rows.len(), 12);
    let header = String::from_utf8_lossy(&t1)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    let col = |name: &str| {
        header
            .split(',')
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name} in {header}"))
    };
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row[0], i.to_string());
        assert_eq!(row[col("status")], "done");
        assert_eq!(row[col("seed")], (i % 4).to_string());
        assert_eq!(row[col("stop_reason")], "one_left");
    }
    assert_eq!(rows[0][col("lambda")], "0.001");
    assert_eq!(rows[11][col("lambda")], "0.01");

    // The aggregate: 3 lambda groups x 8 numeric scalars, n = 4 seeds each, and its mean of
    // final_t is the mean of the table's 4 values (summed in cell order, as the merge does).
    let agg = data_rows(&a1);
    assert_eq!(agg.len(), 3 * 8);
    let agg_header = String::from_utf8_lossy(&a1)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    let acol = |name: &str| {
        agg_header
            .split(',')
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    let final_t: Vec<f64> = rows[..4]
        .iter()
        .map(|r| r[col("final_t")].parse().expect("number"))
        .collect();
    let row = agg
        .iter()
        .find(|r| r[acol("scalar")] == "final_t" && r[acol("lambda")] == "0.001")
        .expect("final_t of the first group");
    assert_eq!(row[acol("n")], "4");
    let mean: f64 = row[acol("mean")].parse().expect("mean");
    assert_eq!(mean, final_t.iter().sum::<f64>() / 4.0);
    let min = final_t.iter().copied().fold(f64::INFINITY, f64::min);
    assert_eq!(row[acol("min")].parse::<f64>().expect("min"), min);
}

/// A `train` cell is `sparsify train` with the cell's parameters: the same counts.
#[test]
fn a_train_cell_gives_what_sparsify_train_gives() {
    let root = tempfile::tempdir().expect("temp dir");
    let r = root.path();
    let spec = "kind = \"train\"\n[params]\nn = 8\nm = 16\ninstances = 2\nlambda = 1e-3\n\
                steps = 300\n[axes]\nseed = [3, 4]\n";
    let dir = planned(r, "t", spec);
    ok(&sweep(r, &["run", "t", "--jobs", "2"]));
    let (table, aggregate) = merged(r, &dir, "t");
    let rows = data_rows(&table);
    assert_eq!(rows.len(), 2);
    let header = String::from_utf8_lossy(&table)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    let col = |name: &str| {
        header
            .split(',')
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name} in {header}"))
    };
    let out = Command::new(sparsify_bin())
        .args([
            "train",
            "--n",
            "8",
            "--m",
            "16",
            "--instances",
            "2",
            "--steps",
            "300",
            "--seed",
            "4",
            "--out",
            "one",
        ])
        .current_dir(r)
        .output()
        .expect("train");
    ok(&out);
    let s = crate::common::read_json(&r.join("one/summary.json"));
    let row = &rows[1];
    assert_eq!(row[col("seed")], "4");
    assert_eq!(row[col("stop_reason")], "completed");
    assert_eq!(row[col("steps")], "300");
    let mean = s["summary_over_instances"]["polysemantic"]["mean"]
        .as_f64()
        .expect("mean");
    assert_eq!(
        row[col("polysemantic_mean")].parse::<f64>().expect("f64"),
        mean
    );
    assert_eq!(
        row[col("final_total_loss")].parse::<f64>().expect("f64"),
        s["final_loss"]["total"].as_f64().expect("total")
    );
    assert!(!aggregate.is_empty());
}

#[test]
fn a_cell_gives_what_sparsify_run_gives() {
    // Cell 5 of SMALL is lambda = 10^-2.5 (the middle of the log range), seed 1: the CLI's own
    // run of those parameters must print the same steps and final t.
    let root = tempfile::tempdir().expect("temp dir");
    let r = root.path();
    let dir = planned(r, "s", SMALL);
    ok(&sweep(r, &["run", "s"]));
    let (table, _) = merged(r, &dir, "s");
    let rows = data_rows(&table);
    assert_eq!(rows.len(), 12);
    let lambda = rows[5][4].clone();
    let run = Command::new(sparsify_bin())
        .args([
            "run",
            "--m",
            "500",
            "--seed",
            "1",
            "--lambda",
            &lambda,
            "--method",
            "reduced",
            "--summary",
            "one.json",
        ])
        .current_dir(r)
        .output()
        .expect("run");
    ok(&run);
    let s = crate::common::read_json(&r.join("one.json"));
    let header = String::from_utf8_lossy(&table)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    let col = |name: &str| header.split(',').position(|h| h == name).unwrap_or(0);
    assert_eq!(rows[5][col("seed")], "1");
    assert_eq!(rows[5][col("steps")], s["steps"].to_string());
    assert_eq!(
        rows[5][col("final_t")].parse::<f64>().expect("final_t"),
        s["final_t"].as_f64().expect("final_t")
    );
}

#[test]
fn a_bad_spec_is_refused_with_one_line_per_problem_and_nothing_written() {
    let root = tempfile::tempdir().expect("temp dir");
    let r = root.path();
    std::fs::write(
        r.join("bad.toml"),
        "kind = \"run\"\ncolour = 1\n[params]\nm = 2.5\nlambda = 1e-3\nstep = 0.5\n\
         method = \"fast\"\n[axes]\nseed = []\n",
    )
    .expect("write");
    let out = sweep(r, &["plan", "bad.toml", "--out", "d"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 4, "{err}");
    assert!(lines.iter().all(|l| l.starts_with("error: ")), "{err}");
    for needle in ["colour", "m = 2.5", "\"fast\"", "axes.seed"] {
        assert!(err.contains(needle), "{needle} not in {err}");
    }
    assert!(
        !r.join("d").exists(),
        "a refused spec created its directory"
    );

    // A value every cell shares is checked by the solver's constructor, and said once.
    std::fs::write(
        r.join("neg.toml"),
        "kind = \"run\"\n[params]\nm = 10\nlambda = -1\nstep = 0.5\n[axes]\nseed = [1, 2]\n",
    )
    .expect("write");
    let out = sweep(r, &["plan", "neg.toml", "--out", "d"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr).lines().count(),
        1,
        "{}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).contains("lambda"),
        "{}",
        text(&out.stderr)
    );

    // A train spec with a flag that only AdamW has, given to SGD: refused like the CLI's.
    std::fs::write(
        r.join("train.toml"),
        "kind = \"train\"\n[params]\nn = 4\nm = 8\nlambda = 1e-3\nsteps = 10\n\
         optimizer = \"sgd\"\nbeta1 = 0.5\n",
    )
    .expect("write");
    let out = sweep(r, &["plan", "train.toml", "--out", "d"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("beta1"), "{}", text(&out.stderr));
    assert!(!r.join("d").exists());

    // Bad flags: one line, exit 2.
    let dir = planned(r, "ok", SMALL);
    assert!(dir.is_dir());
    for args in [
        &["run", "ok", "--shard", "3/3"][..],
        &["run", "ok", "--jobs", "0"],
        &["run", "nowhere"],
        &["slurm", "ok", "--array-size", "0"],
        &["slurm", "ok", "--array-size", "2", "--mem", "lots"],
    ] {
        let out = sweep(r, args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert_eq!(text(&out.stderr).lines().count(), 1, "{args:?}");
    }
    // Planning another spec into a planned directory is refused; the same spec is a no-op.
    std::fs::write(r.join("other.toml"), SMALL.replace("m = 500", "m = 600")).expect("write");
    let out = sweep(r, &["plan", "other.toml", "--out", "ok"]);
    assert_eq!(out.status.code(), Some(2));
    ok(&sweep(r, &["plan", "ok.toml", "--out", "ok"]));
}

#[test]
fn shards_resume_and_merge_waits_for_every_cell() {
    let root = tempfile::tempdir().expect("temp dir");
    let r = root.path();
    planned(r, "s", SMALL);
    // The shard from a Slurm array task's environment.
    let out = sweep_env(
        r,
        &["run", "s"],
        &[
            ("SLURM_ARRAY_TASK_ID", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "2"),
        ],
    );
    assert!(
        ok(&out).starts_with("shard 1/2: 6 cells owned; 6 done now"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        ok(&sweep(r, &["status", "s"]))
            .starts_with("12 cells: 6 done, 0 running, 0 failed, 6 missing")
    );
    let out = sweep(r, &["merge", "s", "--out", "t.csv"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(!r.join("t.csv").exists());
    ok(&sweep(r, &["merge", "s", "--out", "t.csv", "--partial"]));
    let partial = std::fs::read_to_string(r.join("t.csv")).expect("table");
    assert_eq!(partial.matches(",missing,").count(), 6);
    // Running everything now runs only the other half.
    let out = ok(&sweep(r, &["run", "s", "--jobs", "2"]));
    assert!(
        out.contains("6 done now") && out.contains("6 were done"),
        "{out}"
    );
    assert!(ok(&sweep(r, &["status", "s"])).starts_with("12 cells: 12 done"));
}

#[test]
fn a_failed_cell_records_its_error_and_runs_again_only_when_asked() {
    let root = tempfile::tempdir().expect("temp dir");
    let r = root.path();
    // sigma = 3 makes ||w0||^2 ~ 9 m, so 1 + h (1 - ||w||^2) < 0 on the first Euler step: the
    // constructors accept the parameters, the run refuses the step.
    planned(
        r,
        "f",
        "kind = \"run\"\n[params]\nm = 50\nlambda = 1e-3\nstep = 0.5\n[axes]\n\
         sigma = [0.1, 3.0]\n",
    );
    let out = sweep(r, &["run", "f"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("1 done now, 1 failed now"),
        "{}",
        text(&out.stdout)
    );
    let status = ok(&sweep(r, &["status", "f"]));
    assert!(
        status.starts_with("2 cells: 1 done, 0 running, 1 failed"),
        "{status}"
    );
    assert!(status.contains("failed 1: "), "{status}");
    let out = sweep(r, &["run", "f"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("0 done now, 0 failed now; 1 were done, 1 failed"),
        "{}",
        text(&out.stdout)
    );
    let out = sweep(r, &["run", "f", "--retry-failed"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("0 done now, 1 failed now"),
        "{}",
        text(&out.stdout)
    );
    // Failed cells are rows of the table with their error, and left out of the aggregate.
    ok(&sweep(r, &["merge", "f", "--out", "t.csv"]));
    let table = std::fs::read_to_string(r.join("t.csv")).expect("table");
    assert_eq!(table.matches(",failed,").count(), 1, "{table}");
    let agg = std::fs::read_to_string(r.join("t.agg.csv")).expect("agg");
    assert!(
        agg.lines()
            .skip(1)
            .all(|l| l.starts_with("50,0.001,0.5,direct,l1,,,,,,pcg64,half-normal,0.1,")),
        "{agg}"
    );
}

#[test]
fn trajectories_and_deaths_are_kept_when_asked() {
    let root = tempfile::tempdir().expect("temp dir");
    let r = root.path();
    let dir = planned(
        r,
        "o",
        "kind = \"run\"\n[params]\nm = 100\nlambda = 1e-3\nstep = 0.5\n[axes]\n\
         method = [\"direct\", \"adaptive\"]\n[outputs]\ntrajectory = true\ndeaths = true\n",
    );
    ok(&sweep(r, &["run", "o"]));
    for id in ["0", "1"] {
        let t = std::fs::read_to_string(dir.join(format!("cells/0/{id}.trajectory.csv")))
            .expect("trajectory");
        assert!(t.starts_with("step,t,m_prime,"), "{t}");
        let d =
            std::fs::read_to_string(dir.join(format!("cells/0/{id}.deaths.csv"))).expect("deaths");
        // Every one of the 99 deaths is a row, or fewer when several die in one Euler step.
        let n = d.lines().count() - 1;
        assert!((1..=99).contains(&n), "{n} death rows");
    }
    let p = planned(
        r,
        "p",
        "kind = \"predict\"\n[params]\nm = 100\nlambda = 1e-3\n[outputs]\ndeaths = true\n",
    );
    ok(&sweep(r, &["run", "p"]));
    let d = std::fs::read_to_string(p.join("cells/0/0.deaths.csv")).expect("predicted deaths");
    assert_eq!(d.lines().count(), 1 + 99, "m_prime,t for m' = 99 .. 1");
}

#[test]
fn an_interrupted_run_records_nothing_and_exits_130() {
    let root = tempfile::tempdir().expect("temp dir");
    let r = root.path();
    let dir = planned(r, "s", SMALL);
    let (code, _, stderr) =
        sparsify_in_process(&["sweep", "run", dir.to_str().expect("utf-8")], true);
    assert_eq!(code, 130, "{stderr}");
    assert!(stderr.starts_with("interrupted"), "{stderr}");
    assert!(
        ok(&sweep(r, &["status", "s"]))
            .starts_with("12 cells: 0 done, 0 running, 0 failed, 12 missing")
    );
}

#[cfg(unix)]
#[test]
fn a_shard_killed_mid_run_loses_at_most_its_running_cell() {
    use std::time::{Duration, Instant};

    // 60 direct-solver cells of about 10 ms each: the kill lands mid-run.
    let spec = "kind = \"run\"\n[params]\nm = 20000\nlambda = 1e-3\nstep = 0.5\n[axes]\n\
                seed = { from = 0, to = 59 }\n";
    let root = tempfile::tempdir().expect("temp dir");
    let r = root.path();
    let killed = planned(r, "killed", spec);
    let clean = planned(r, "clean", spec);
    let done = |dir: &Path| {
        std::fs::read_dir(dir.join("cells/0"))
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".done.json"))
                    .count()
            })
            .unwrap_or(0)
    };
    let mut child = Command::new(sparsify_bin())
        .args(["sweep", "run", "killed", "--jobs", "2"])
        .current_dir(r)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the sparsify binary starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    while done(&killed) < 3 {
        assert!(Instant::now() < deadline, "no cell finished in 30 s");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let after_kill = done(&killed);
    // Whatever the kill left, the directory reads: status counts it, a partial merge parses
    // every record.
    let status = ok(&sweep(r, &["status", "killed"]));
    assert!(status.starts_with("60 cells: "), "{status}");
    ok(&sweep(
        r,
        &["merge", "killed", "--out", "partial.csv", "--partial"],
    ));
    // Running again finishes the rest and keeps what was done: the cells that ran before the
    // kill are skipped (exactly `after_kill` of them, or the run may have been killed right
    // after the last cell).
    let out = ok(&sweep(r, &["run", "killed"]));
    assert!(
        out.contains(&format!("{after_kill} were done")),
        "{out} (after kill: {after_kill})"
    );
    ok(&sweep(r, &["run", "clean", "--jobs", "2"]));
    let (t1, a1) = merged(r, &killed, "killed");
    let (t2, a2) = merged(r, &clean, "clean");
    assert!(
        t1 == t2 && a1 == a2,
        "a killed and resumed sweep merges differently from a clean one"
    );
}

#[test]
fn slurm_prints_an_array_script_with_one_shard_per_task() {
    let root = tempfile::tempdir().expect("temp dir");
    let r = root.path();
    planned(r, "s", SMALL);
    let script = ok(&sweep(
        r,
        &[
            "slurm",
            "s",
            "--array-size",
            "3",
            "--cpus",
            "2",
            "--time",
            "00:10:00",
        ],
    ));
    assert!(script.starts_with("#!/bin/bash\n"), "{script}");
    for line in [
        "#SBATCH --array=0-2\n",
        "#SBATCH --cpus-per-task=2\n",
        "#SBATCH --time=00:10:00\n",
        "--shard \"$SLURM_ARRAY_TASK_ID/3\"",
    ] {
        assert!(script.contains(line), "{line} not in {script}");
    }
    // Memory: 2 cells at once of m = 500 weights, 9 bytes each, plus 16 MB for the process,
    // plus a quarter: ceil(1.25 * 2 * (4500 + 16 MiB) / 1 MiB) = 41 MB.
    assert!(script.contains("#SBATCH --mem=41M\n"), "{script}");
}

//! `cargo xtask bench`: `sparsify run` side by side with the published Python loop and a
//! vectorized numpy loop, on the published configuration, with ratios.
//!
//! Every contender starts from the same initial weights (numpy seed 0) and is timed over its
//! loop only: the binary reports its loop time in the run summary, the Python baselines
//! (`xtask/bench/loops.py`) time theirs with `perf_counter`. Each is run several times and the
//! best time is kept (the minimum is the least noisy estimate on a shared machine).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

use crate::{flag_value, workspace_root};

/// One contender's best loop time.
struct Timing {
    name: String,
    seconds: f64,
    steps: u64,
}

/// Runs the benchmark. `--quick` uses fewer repetitions and skips the slow published loop;
/// `--m`, `--lambda` change the configuration (default: the published m = 1e5, lambda = 1e-5);
/// `--scale M` runs only `sparsify run --method reduced --parallel-init` at m = M (e.g. 1e8)
/// and reports its phases and peak memory.
pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    if args.iter().any(|a| a == "--train") {
        let rest: Vec<String> = args.iter().filter(|a| *a != "--train").cloned().collect();
        return crate::bench_train::run(&rest);
    }
    let quick = args.iter().any(|a| a == "--quick");
    if let Some(scale_m) = flag_value(args, "--scale") {
        let exe = build_release()?;
        let lambda = flag_value(args, "--lambda").unwrap_or("1e-5");
        return scale(&exe, scale_m, lambda, if quick { 1 } else { 3 });
    }
    let m = flag_value(args, "--m").unwrap_or("1e5");
    let lambda = flag_value(args, "--lambda").unwrap_or("1e-5");
    let reps = if quick { 2 } else { 5 };
    let root = workspace_root();
    let exe = build_release()?;
    let methods = supported_methods(&exe);

    let mut timings = Vec::new();
    for (label, extra) in [
        ("sparsify run --sum sequential", vec!["--sum", "sequential"]),
        ("sparsify run --sum pairwise", vec!["--sum", "pairwise"]),
        ("sparsify run --method reduced", vec!["--method", "reduced"]),
    ] {
        if extra[0] == "--method" && !methods {
            eprintln!("skipping {label}: this sparsify has no --method flag yet");
            continue;
        }
        timings.push(time_sparsify(&exe, label, m, lambda, &extra, reps)?);
    }

    let loops = root.join("xtask/bench/loops.py");
    match python_with_numpy() {
        Some(python) => {
            timings.push(time_python(&python, &loops, "numpy", m, lambda, reps)?);
            if !quick {
                timings.push(time_python(&python, &loops, "published", m, lambda, 1)?);
            }
        }
        None => eprintln!(
            "skipping the Python baselines: no python3 with numpy found \
             (install with: python3 -m pip install numpy)"
        ),
    }
    print_table(&timings, m, lambda);
    Ok(())
}

/// Builds the release binary and returns its path.
pub(crate) fn build_release() -> anyhow::Result<PathBuf> {
    let root = workspace_root();
    eprintln!("building sparsify (release)...");
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "-p", "sparsify-cli", "--quiet"])
        .current_dir(&root)
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("cargo build --release -p sparsify-cli failed");
    }
    Ok(root.join("target/release/sparsify"))
}

/// `--scale M`: the reduced solver from M parallel-drawn weights, the best of `reps` runs:
/// the whole process's wall time (draw + sort + prefix moments + loop), the solver's set-up
/// and loop times from its summary, and the peak resident memory when GNU time is at
/// `/usr/bin/time` (a child's peak RSS is not readable otherwise; skipped without it).
#[allow(clippy::print_stdout)] // The table is this command's output.
fn scale(exe: &Path, m: &str, lambda: &str, reps: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let summary = dir.path().join("summary.json");
    let gnu_time = Path::new("/usr/bin/time");
    let have_time = gnu_time.is_file();
    if !have_time {
        eprintln!("/usr/bin/time not found: peak memory is not reported");
    }
    let mut best: Option<(f64, f64, f64, Option<u64>, u64)> = None;
    for _ in 0..reps {
        let mut cmd = if have_time {
            let mut c = Command::new(gnu_time);
            c.arg("-v").arg(exe);
            c
        } else {
            Command::new(exe)
        };
        cmd.args([
            "run",
            "--method",
            "reduced",
            "--parallel-init",
            "--seed",
            "0",
            "--m",
            m,
            "--lambda",
            lambda,
        ])
        .arg("--summary")
        .arg(&summary);
        let started = std::time::Instant::now();
        let out = cmd.output().context("running sparsify")?;
        let total = started.elapsed().as_secs_f64();
        if !out.status.success() {
            bail!(
                "sparsify run at m = {m} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&summary)?)?;
        let loop_s = v["wall_seconds"].as_f64().context("no wall_seconds")?;
        let setup_s = v["setup_seconds"].as_f64().unwrap_or(f64::NAN);
        let steps = v["steps"].as_u64().unwrap_or(0);
        // GNU time -v: "Maximum resident set size (kbytes): 789884".
        let rss_kb = String::from_utf8_lossy(&out.stderr).lines().find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes):")
                .and_then(|x| x.trim().parse::<u64>().ok())
        });
        if best.is_none_or(|b| total < b.0) {
            best = Some((total, setup_s, loop_s, rss_kb, steps));
        }
    }
    let Some((total, setup_s, loop_s, rss_kb, steps)) = best else {
        bail!("no run")
    };
    eprintln!("scale m = {m}: {total:.2} s");
    println!(
        "\nsparsify run --method reduced --parallel-init, m = {m}, lambda = {lambda}, h = 0.5 \
         (best of {reps})\n"
    );
    println!(
        "| {:>8} | {:>14} | {:>16} | {:>8} | {:>8} | {:>13} |",
        "m", "process (s)", "prefix moments", "loop", "steps", "peak RSS"
    );
    println!(
        "|{:->10}|{:->16}|{:->18}|{:->10}|{:->10}|{:->15}|",
        "", "", "", "", "", ""
    );
    let rss = rss_kb.map_or("-".to_owned(), |kb| format!("{:.0} MB", kb as f64 / 1024.0));
    println!(
        "| {m:>8} | {total:>14.2} | {setup_s:>16.2} | {loop_s:>8.2} | {steps:>8} | {rss:>13} |"
    );
    Ok(())
}

fn supported_methods(exe: &Path) -> bool {
    Command::new(exe)
        .args(["run", "--help"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("--method"))
        .unwrap_or(false)
}

fn time_sparsify(
    exe: &Path,
    label: &str,
    m: &str,
    lambda: &str,
    extra: &[&str],
    reps: usize,
) -> anyhow::Result<Timing> {
    let dir = tempfile::tempdir()?;
    let summary = dir.path().join("summary.json");
    let mut best = f64::INFINITY;
    let mut steps = 0;
    for _ in 0..reps {
        let out = Command::new(exe)
            .args([
                "run", "--rng", "numpy", "--seed", "0", "--m", m, "--lambda", lambda,
            ])
            .args(extra)
            .arg("--summary")
            .arg(&summary)
            .output()
            .with_context(|| format!("running {}", exe.display()))?;
        if !out.status.success() {
            bail!("{label} failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&summary)?)?;
        let secs = v["wall_seconds"]
            .as_f64()
            .context("summary has no wall_seconds")?;
        steps = v["steps"].as_u64().unwrap_or(0);
        best = best.min(secs);
    }
    eprintln!("{label}: {best:.4} s");
    Ok(Timing {
        name: label.to_owned(),
        seconds: best,
        steps,
    })
}

fn python_with_numpy() -> Option<String> {
    ["python3", "python"]
        .into_iter()
        .map(String::from)
        .find(|p| {
            Command::new(p)
                .args(["-c", "import numpy"])
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false)
        })
}

fn time_python(
    python: &str,
    script: &Path,
    mode: &str,
    m: &str,
    lambda: &str,
    reps: usize,
) -> anyhow::Result<Timing> {
    let mut best = f64::INFINITY;
    let mut steps = 0;
    for _ in 0..reps {
        let out = Command::new(python)
            .arg(script)
            .args([mode, m, lambda, "0.5", "0"])
            .output()
            .context("running python")?;
        if !out.status.success() {
            bail!(
                "{mode} loop failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
        best = best.min(v["seconds"].as_f64().context("no seconds")?);
        steps = v["steps"].as_u64().unwrap_or(0);
    }
    let name = match mode {
        "published" => "published Python loop",
        _ => "vectorized numpy loop",
    };
    eprintln!("{name}: {best:.4} s");
    Ok(Timing {
        name: name.to_owned(),
        seconds: best,
        steps,
    })
}

#[allow(clippy::print_stdout)] // The table is this command's output.
fn print_table(timings: &[Timing], m: &str, lambda: &str) {
    let find = |needle: &str| {
        timings
            .iter()
            .find(|t| t.name.contains(needle))
            .map(|t| t.seconds)
    };
    let (numpy, published, sequential) =
        (find("numpy"), find("published"), find("--sum sequential"));
    println!(
        "\nm = {m}, lambda = {lambda}, h = 0.5, numpy seed 0 (best of several runs, loop only)\n"
    );
    println!(
        "| {:<32} | {:>10} | {:>8} | {:>12} | {:>10} | {:>13} |",
        "contender", "seconds", "steps", "vs published", "vs numpy", "vs sequential"
    );
    println!(
        "|{:-<34}|{:->12}|{:->10}|{:->14}|{:->12}|{:->15}|",
        "", "", "", "", "", ""
    );
    let ratio =
        |base: Option<f64>, t: f64| base.map_or("-".to_owned(), |b| format!("{:.1}x", b / t));
    for t in timings {
        println!(
            "| {:<32} | {:>10.4} | {:>8} | {:>12} | {:>10} | {:>13} |",
            t.name,
            t.seconds,
            t.steps,
            ratio(published, t.seconds),
            ratio(numpy, t.seconds),
            ratio(sequential, t.seconds)
        );
    }
}

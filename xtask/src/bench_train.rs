//! `cargo xtask bench --train`: one training step of the n-feature model (the paper's collision
//! experiment: n = 256, 16 instances, lambda = 1e-3, AdamW lr 1e-3, no noise) in `sparsify
//! train`, against a numpy version of the same step (`xtask/bench/nfeature_step.py`, written
//! from the reference README's formulas) and against the paper's own torch step
//! (`xtask/bench/nfeature_step_torch.py`) when torch is installed, with the ratios the issue
//! sets as targets: at least 3x the paper's torch code and 1.5x numpy, in float32.
//!
//! The contenders run one after another, round after round (so a load that comes and goes
//! hits them alike), and each keeps its best round: seconds per step, timed by each over its
//! own loop (`sparsify train` reports its loop time in `summary.json`).

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};

use crate::bench::build_release;
use crate::{flag_value, workspace_root};

/// What is timed: one contender at one size and precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Contender {
    Sparsify,
    SparsifyFlow,
    Numpy,
    Torch,
}

impl Contender {
    fn label(self) -> &'static str {
        match self {
            Self::Sparsify => "sparsify train (adamw)",
            Self::SparsifyFlow => "sparsify train (flow, dense)",
            Self::Numpy => "numpy (xtask/bench)",
            Self::Torch => "the paper's torch step",
        }
    }
}

/// One measured row.
struct Row {
    m: usize,
    dtype: &'static str,
    contender: Contender,
    seconds_per_step: f64,
}

const N: usize = 256;
const INSTANCES: usize = 16;

/// Runs the benchmark: `--m 1024,4096` (the default), `--rounds R` (default 3, 1 with
/// `--quick`), `--steps S` per timed run (default 8).
pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    let quick = args.iter().any(|a| a == "--quick");
    let ms: Vec<usize> = flag_value(args, "--m")
        .unwrap_or("1024,4096")
        .split(',')
        .map(|s| {
            s.trim()
                .parse::<usize>()
                .with_context(|| format!("--m: '{s}'"))
        })
        .collect::<anyhow::Result<_>>()?;
    let rounds: usize = flag_value(args, "--rounds")
        .map(str::parse)
        .transpose()
        .context("--rounds")?
        .unwrap_or(if quick { 1 } else { 3 });
    let steps: usize = flag_value(args, "--steps")
        .map(str::parse)
        .transpose()
        .context("--steps")?
        .unwrap_or(8);
    if rounds == 0 || steps == 0 || ms.contains(&0) {
        bail!("--rounds, --steps and every --m must be positive");
    }
    let root = workspace_root();
    let exe = build_release()?;
    let python = python_with("numpy");
    let torch = python.as_deref().is_some_and(|p| has_module(p, "torch"));
    if python.is_none() {
        eprintln!("no python3 with numpy: timing sparsify alone (pip install numpy)");
    }
    if !torch {
        eprintln!(
            "torch is not installed: no ratio against the paper's torch step \
             (the issue measured it on this kind of machine at 0.092 s/step for m = 1024 and \
             0.619 for m = 4096, float32)"
        );
    }
    let dir = tempfile::tempdir()?;
    let mut rows = Vec::new();
    for &m in &ms {
        for dtype in ["float32", "float64"] {
            let mut contenders = vec![Contender::Sparsify];
            if dtype == "float32" {
                contenders.push(Contender::SparsifyFlow);
            }
            if python.is_some() {
                contenders.push(Contender::Numpy);
            }
            if torch && dtype == "float32" {
                contenders.push(Contender::Torch);
            }
            let mut best = vec![f64::INFINITY; contenders.len()];
            for round in 0..rounds {
                for (c, b) in contenders.iter().zip(best.iter_mut()) {
                    let s = match c {
                        Contender::Sparsify | Contender::SparsifyFlow => {
                            time_sparsify(&exe, dir.path(), m, dtype, steps, *c)?
                        }
                        Contender::Numpy | Contender::Torch => {
                            let script = if *c == Contender::Numpy {
                                "nfeature_step.py"
                            } else {
                                "nfeature_step_torch.py"
                            };
                            time_script(
                                python.as_deref().unwrap_or("python3"),
                                &root.join("xtask/bench").join(script),
                                m,
                                dtype,
                                steps,
                            )?
                        }
                    };
                    eprintln!(
                        "m = {m}, {dtype}, round {}: {}: {s:.4} s/step",
                        round + 1,
                        c.label()
                    );
                    *b = b.min(s);
                }
            }
            for (c, s) in contenders.into_iter().zip(best) {
                rows.push(Row {
                    m,
                    dtype,
                    contender: c,
                    seconds_per_step: s,
                });
            }
        }
    }
    print_table(&rows, rounds, steps);
    Ok(())
}

/// Seconds per step of `sparsify train` over `steps` updates (its loop time).
fn time_sparsify(
    exe: &Path,
    dir: &Path,
    m: usize,
    dtype: &str,
    steps: usize,
    c: Contender,
) -> anyhow::Result<f64> {
    let out_dir = dir.join("train");
    let dt = if dtype == "float32" { "f32" } else { "f64" };
    let optimizer = if c == Contender::SparsifyFlow {
        "flow"
    } else {
        "adamw"
    };
    let (n, inst, m, steps) = (
        N.to_string(),
        INSTANCES.to_string(),
        m.to_string(),
        steps.to_string(),
    );
    let out = Command::new(exe)
        .args(["train", "--n", &n, "--m", &m, "--instances", &inst])
        .args(["--steps", &steps, "--record-every", &steps, "--dtype", dt])
        .args(["--optimizer", optimizer, "--out"])
        .arg(&out_dir)
        .output()
        .with_context(|| format!("running {}", exe.display()))?;
    if !out.status.success() {
        bail!(
            "sparsify train failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = std::fs::read_to_string(out_dir.join("summary.json"))?;
    let v: serde_json::Value = serde_json::from_str(&text)?;
    find_f64(&v, "seconds_per_step").context("summary.json has no seconds_per_step")
}

/// The first number under `key` anywhere in `v`.
fn find_f64(v: &serde_json::Value, key: &str) -> Option<f64> {
    match v {
        serde_json::Value::Object(map) => map
            .get(key)
            .and_then(serde_json::Value::as_f64)
            .or_else(|| map.values().find_map(|x| find_f64(x, key))),
        serde_json::Value::Array(a) => a.iter().find_map(|x| find_f64(x, key)),
        _ => None,
    }
}

/// Seconds per step of a Python baseline.
fn time_script(
    python: &str,
    script: &Path,
    m: usize,
    dtype: &str,
    steps: usize,
) -> anyhow::Result<f64> {
    let out = Command::new(python)
        .arg(script)
        .args([
            N.to_string(),
            m.to_string(),
            INSTANCES.to_string(),
            dtype.to_owned(),
            steps.to_string(),
        ])
        .output()
        .with_context(|| format!("running {}", script.display()))?;
    if !out.status.success() {
        bail!(
            "{} failed: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    v["seconds_per_step"]
        .as_f64()
        .context("no seconds_per_step in the script's output")
}

fn has_module(python: &str, module: &str) -> bool {
    Command::new(python)
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn python_with(module: &str) -> Option<String> {
    ["python3", "python"]
        .into_iter()
        .map(String::from)
        .find(|p| has_module(p, module))
}

#[allow(clippy::print_stdout)] // The table is this command's output.
fn print_table(rows: &[Row], rounds: usize, steps: usize) {
    println!(
        "\nn = {N}, {INSTANCES} instances, lambda = 1e-3, AdamW lr 1e-3, no noise; seconds per \
         step, best of {rounds} round(s) of {steps} steps\n"
    );
    println!(
        "| {:>5} | {:<7} | {:<28} | {:>10} | {:>12} | {:>12} |",
        "m", "dtype", "contender", "s/step", "numpy / this", "torch / this"
    );
    println!(
        "|{:->7}|{:-<9}|{:-<30}|{:->12}|{:->14}|{:->14}|",
        "", "", "", "", "", ""
    );
    let find = |m: usize, dtype: &str, c: Contender| {
        rows.iter()
            .find(|r| r.m == m && r.dtype == dtype && r.contender == c)
            .map(|r| r.seconds_per_step)
    };
    for r in rows {
        let ratio = |c: Contender| {
            find(r.m, r.dtype, c).map_or("-".to_owned(), |b| {
                format!("{:.2}x", b / r.seconds_per_step)
            })
        };
        println!(
            "| {:>5} | {:<7} | {:<28} | {:>10.4} | {:>12} | {:>12} |",
            r.m,
            r.dtype,
            r.contender.label(),
            r.seconds_per_step,
            ratio(Contender::Numpy),
            ratio(Contender::Torch)
        );
    }
    println!(
        "\ntargets (float32 AdamW): numpy / this >= 1.5x, torch / this >= 3x. The flow row is \
         one dense prox-Euler step (from the initial, dense W); its cost falls as W sparsifies."
    );
}

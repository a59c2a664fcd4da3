//! `cargo xtask figures [--out DIR]`: regenerates every figure of `figures/` (PNG and SVG).
//!
//! Runs the published simulation (m = 10^5, λ = 10^-5, h = 0.5, initial weights drawn from
//! numpy's stream with seed 0, sequential sums: bit for bit the published run), assembles the
//! figures with `sparsify_experiments::figures` (the same code as `sparsify run --figure`) and renders
//! each as `<stem>.png` and `<stem>.svg` with `sparsify-plot`, which writes atomically. Prints
//! each file written and the elapsed times.

#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use sparsify_core::SumMode;
use sparsify_experiments::figures::{self, FigureData, RunParams};
use sparsify_experiments::published::{self, H, LAMBDA, M, SEED};

use crate::{flag_value, workspace_root};

/// Runs the task with its arguments.
pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    let out =
        flag_value(args, "--out").map_or_else(|| workspace_root().join("figures"), PathBuf::from);
    if let Some(unknown) = args
        .iter()
        .enumerate()
        .find(|&(i, a)| a != "--out" && (i == 0 || args[i - 1] != "--out"))
        .map(|(_, a)| a)
    {
        anyhow::bail!("unknown argument '{unknown}' (usage: cargo xtask figures [--out DIR])");
    }
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;

    let start = Instant::now();
    let w0 = published::initial_weights()?.clone();
    let params = RunParams {
        lambda: LAMBDA,
        h: H,
        init: published::init_caption(),
    };
    let data = FigureData::simulate(params, w0, SumMode::Sequential)?;
    let simulated = start.elapsed();
    println!(
        "simulated m = {M}, lambda = {LAMBDA:e}, h = {H}, numpy seed {SEED}: {} logged steps in {:.2} s",
        data.script_log.len(),
        simulated.as_secs_f64()
    );

    // Each figure renders independently: one thread per figure.
    let figures = figures::all(&data);
    let results: Vec<anyhow::Result<Vec<PathBuf>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = figures
            .iter()
            .map(|(kind, fig)| {
                let out = &out;
                scope.spawn(move || {
                    let mut written = Vec::new();
                    for ext in ["png", "svg"] {
                        let path = out.join(format!("{}.{ext}", kind.stem()));
                        sparsify_plot::render(fig, &path)
                            .with_context(|| format!("rendering {}", path.display()))?;
                        written.push(path);
                    }
                    Ok(written)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a rendering thread panicked")))
            })
            .collect()
    });
    for result in results {
        for path in result? {
            println!("wrote {}", path.display());
        }
    }
    // Theory against simulation: theory_vs_simulation, death_times, time_to_one_neuron.
    crate::verify::render_theory_figures(&out)?;
    println!(
        "figures done in {:.2} s (simulation {:.2} s, rendering {:.2} s)",
        start.elapsed().as_secs_f64(),
        simulated.as_secs_f64(),
        (start.elapsed() - simulated).as_secs_f64()
    );
    Ok(())
}

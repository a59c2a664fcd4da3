//! `cargo xtask figures [--out DIR] [--paper] [--sweep-dir DIR] [--jobs K] [--plan-only]`:
//! regenerates every figure of `figures/` (PNG and SVG).
//!
//! Runs the published simulation (m = 10^5, λ = 10^-5, h = 0.5, initial weights drawn from
//! numpy's stream with seed 0, sequential sums: bit for bit the published run), assembles the
//! figures with `sparsify_experiments::figures` (the same code as `sparsify run --figure`) and renders
//! each as `<stem>.png` and `<stem>.svg` with `sparsify-plot`, which writes atomically; then
//! the theory figures, the n-feature figures (`fourth_norm_by_noise`, `weight_correlations`,
//! and from one pair of flow and AdamW runs `polysemantic_vs_m` and `winner_vs_initial_argmax`,
//! about 45 s) and the figures built from sweeps (`time_to_one_neuron`), whose sweeps are planned and run
//! resumably under `--sweep-dir` (default `target/sweeps`). Prints each file written and the
//! elapsed times.
//!
//! `--paper` runs the paper-size versions instead: `weight_correlations` at n = 256, m = 4096,
//! the seed study at m = 1e6..1e8 (`sweeps/paper_time_to_one_neuron.toml`) and the collision
//! sweep (`sweeps/paper_collisions.toml`, drawn as `polysemantic_vs_m_paper`, AdamW only), in `--sweep-dir` (default `target/paper-sweeps`);
//! hours on two cores, resumable (a killed run loses only its running cells). With
//! `--plan-only` it plans the sweep directories and stops, so that they can be run on a cluster
//! (`sparsify sweep slurm DIR`); a later `--paper` run then finds the cells done and draws.

#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use anyhow::Context as _;
use sparsify_core::SumMode;
use sparsify_experiments::figure_sweeps::{
    self, PAPER_COLLISIONS, PAPER_TIME_TO_ONE_NEURON, TIME_TO_ONE_NEURON, Table,
};
use sparsify_experiments::figures::{self, FigureData, RunParams};
use sparsify_experiments::nfeature_figures::{self, CollisionStudy, CorrelationStudy, NoiseStudy};
use sparsify_experiments::published::{self, H, LAMBDA, M, SEED};
use sparsify_experiments::sweep::Event;
use sparsify_plot::Figure;

use crate::{flag_value, workspace_root};

/// Runs the task with its arguments.
pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    let opts = Options::parse(args)?;
    let out = opts.out.clone();
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    if opts.plan_only {
        return plan_paper_sweeps(&opts);
    }

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
    // Theory against simulation: theory_vs_simulation, death_times.
    crate::verify::render_theory_figures(&out)?;
    nfeature_figures(&opts)?;
    sweep_figures(&opts)?;
    println!(
        "figures done in {:.2} s (published simulation {:.2} s, everything else {:.2} s)",
        start.elapsed().as_secs_f64(),
        simulated.as_secs_f64(),
        (start.elapsed() - simulated).as_secs_f64()
    );
    Ok(())
}

/// The command line of `cargo xtask figures`.
struct Options {
    out: PathBuf,
    paper: bool,
    sweep_dir: PathBuf,
    jobs: usize,
    plan_only: bool,
}

const USAGE: &str =
    "usage: cargo xtask figures [--out DIR] [--paper] [--sweep-dir DIR] [--jobs K] [--plan-only]";

impl Options {
    fn parse(args: &[String]) -> anyhow::Result<Self> {
        let root = workspace_root();
        let paper = args.iter().any(|a| a == "--paper");
        let plan_only = args.iter().any(|a| a == "--plan-only");
        let mut i = 0;
        while i < args.len() {
            match args[i].as_str() {
                "--paper" | "--plan-only" => i += 1,
                "--out" | "--sweep-dir" | "--jobs" if i + 1 < args.len() => i += 2,
                other => anyhow::bail!("unknown or incomplete argument '{other}' ({USAGE})"),
            }
        }
        if plan_only && !paper {
            anyhow::bail!("--plan-only plans the paper's sweeps: use it with --paper ({USAGE})");
        }
        let jobs = match flag_value(args, "--jobs") {
            Some(k) => k
                .parse::<usize>()
                .ok()
                .filter(|&k| k >= 1)
                .with_context(|| format!("--jobs {k}: need a whole number >= 1"))?,
            None => std::thread::available_parallelism().map_or(1, usize::from),
        };
        let default_dir = if paper { "paper-sweeps" } else { "sweeps" };
        Ok(Self {
            out: flag_value(args, "--out").map_or_else(|| root.join("figures"), PathBuf::from),
            paper,
            sweep_dir: flag_value(args, "--sweep-dir")
                .map_or_else(|| root.join("target").join(default_dir), PathBuf::from),
            jobs,
            plan_only,
        })
    }

    /// The sweep directory of the spec `spec` (`sweeps/<stem>.toml` -> `<sweep-dir>/<stem>`).
    fn dir_of(&self, spec: &str) -> PathBuf {
        let stem = Path::new(spec)
            .file_stem()
            .map_or_else(|| spec.to_owned(), |s| s.to_string_lossy().into_owned());
        self.sweep_dir.join(stem)
    }
}

/// Renders `fig` as `<stem>.png` and `<stem>.svg` in `out`.
fn render_both(fig: &Figure, out: &Path, stem: &str) -> anyhow::Result<()> {
    for ext in ["png", "svg"] {
        let path = out.join(format!("{stem}.{ext}"));
        sparsify_plot::render(fig, &path)
            .with_context(|| format!("rendering {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// `fourth_norm_by_noise` (the paper's 100,000 steps: about 10 s) and `weight_correlations`
/// (n = 32, m = 512 by default, about a minute; the paper's n = 256, m = 4096 with --paper).
fn nfeature_figures(opts: &Options) -> anyhow::Result<()> {
    let start = Instant::now();
    let never = || false;
    let study = NoiseStudy::paper(100_000);
    let curves = nfeature_figures::fourth_norm_curves(&study, &never)?;
    render_both(
        &nfeature_figures::fourth_norm_figure(&study, &curves),
        &opts.out,
        "fourth_norm_by_noise",
    )?;
    println!(
        "fourth_norm_by_noise: {} steps in {:.2} s",
        study.steps,
        start.elapsed().as_secs_f64()
    );
    let start = Instant::now();
    let study = if opts.paper {
        CorrelationStudy::paper()?
    } else {
        CorrelationStudy::default_size()?
    };
    let c = nfeature_figures::weight_correlations(&study, &never)?;
    render_both(
        &nfeature_figures::weight_correlation_figure(&study, &c),
        &opts.out,
        "weight_correlations",
    )?;
    println!(
        "weight_correlations: n = {}, m = {} in {:.2} s (diagonal {:.3}, off-diagonal |C| {:.3})",
        study.spec.shape.n,
        study.spec.shape.m,
        start.elapsed().as_secs_f64(),
        c.diagonal_mean,
        c.off_diagonal_mean_abs
    );
    collision_figures(&opts.out)
}

/// `polysemantic_vs_m` and `winner_vs_initial_argmax` from one pair of runs (the flow and
/// AdamW at n = 32, m = 32..256, 16 instances: see `CollisionStudy::default_size`).
fn collision_figures(out: &Path) -> anyhow::Result<()> {
    let start = Instant::now();
    let study = CollisionStudy::default_size();
    let runs = nfeature_figures::collision_runs(&study)?;
    render_both(
        &nfeature_figures::polysemantic_figure(&study, &runs),
        out,
        "polysemantic_vs_m",
    )?;
    render_both(
        &nfeature_figures::winner_figure(&study, &runs),
        out,
        "winner_vs_initial_argmax",
    )?;
    println!(
        "polysemantic_vs_m, winner_vs_initial_argmax: n = {}, {} instances, flow and AdamW in \
         {:.2} s",
        study.flow.n,
        study.flow.instances,
        start.elapsed().as_secs_f64()
    );
    for (name, points) in [("flow", &runs.flow), ("adamw", &runs.adamw)] {
        for p in points {
            let (mean, std) = p.polysemantic_mean_std();
            let (win, win_std) = p.winner_mean_std();
            println!(
                "  {name} m = {}: polysemantic {mean:.2} ± {std:.2} (n²/4m {:.2}, occupancy \
                 {:.2}, relocation band [{:.2}, {:.2}]); winner = initial argmax {win:.3} ± \
                 {win_std:.3}; trained in {:.1} s",
                p.m, p.n2_over_4m, p.occupancy_mean, p.band.0, p.band.1, p.train_seconds
            );
        }
    }
    Ok(())
}

/// Plans, runs (resumably) and merges the sweep of `spec` in its directory; returns its table.
fn sweep_table(opts: &Options, spec: &str) -> anyhow::Result<Table> {
    let start = Instant::now();
    let dir = opts.dir_of(spec);
    let spec_path = workspace_root().join(spec);
    let interrupted = AtomicBool::new(false);
    let mut finished = 0_u64;
    let mut todo = 0_u64;
    let mut on_event = |e: Event| match e {
        Event::Start { todo: t, done, .. } => {
            todo = t;
            println!(
                "sweep {}: {t} cells to run, {done} already done",
                dir.display()
            );
        }
        Event::Finished { .. } => {
            finished += 1;
            // About ten progress lines per sweep.
            if todo >= 10 && finished.is_multiple_of(todo / 10) {
                println!("  {finished}/{todo} cells");
            }
        }
    };
    let outcome =
        figure_sweeps::run_sweep(&spec_path, &dir, opts.jobs, &interrupted, &mut on_event)
            .with_context(|| format!("sweep {spec} in {}", dir.display()))?;
    println!(
        "sweep {spec}: {} cells ({} failed) merged into {} in {:.2} s",
        outcome.merge.cells,
        outcome.merge.failed,
        outcome.table.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(Table::read(&outcome.table)?)
}

/// The figures built from sweeps: `time_to_one_neuron` (and with --paper the collision sweep's
/// table, for `polysemantic_vs_m`).
fn sweep_figures(opts: &Options) -> anyhow::Result<()> {
    let spec = if opts.paper {
        PAPER_TIME_TO_ONE_NEURON
    } else {
        TIME_TO_ONE_NEURON
    };
    let table = sweep_table(opts, spec)?;
    let fig = figure_sweeps::time_to_one_neuron(&table, spec)?;
    for ext in ["png", "svg"] {
        let path = opts.out.join(format!("{}.{ext}", fig.stem));
        fig.render(&path)
            .with_context(|| format!("rendering {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    if opts.paper {
        let table = sweep_table(opts, PAPER_COLLISIONS)?;
        let rows = figure_sweeps::collision_rows(&table)?;
        match nfeature_figures::polysemantic_figure_from_rows(&rows, PAPER_COLLISIONS)? {
            Some(fig) => render_both(&fig, &opts.out, "polysemantic_vs_m_paper")?,
            None => println!(
                "polysemantic_vs_m_paper: no finished cells in {PAPER_COLLISIONS} yet (run \
                 cargo xtask figures --paper again to resume)"
            ),
        }
        for r in rows {
            println!(
                "  n = {}, m = {}, {} {} instances: polysemantic {:.2} ± {:.2}, n²/4m = {:.2}",
                r.n,
                r.m,
                r.instances,
                r.optimizer,
                r.polysemantic_mean,
                r.polysemantic_std,
                (r.n * r.n) as f64 / (4.0 * r.m as f64)
            );
        }
    }
    Ok(())
}

/// `--paper --plan-only`: plans the paper's sweeps and says how to run them on a cluster.
fn plan_paper_sweeps(opts: &Options) -> anyhow::Result<()> {
    for spec in [PAPER_TIME_TO_ONE_NEURON, PAPER_COLLISIONS] {
        let dir = opts.dir_of(spec);
        let planned = figure_sweeps::plan(&workspace_root().join(spec), &dir)
            .with_context(|| format!("planning {spec} into {}", dir.display()))?;
        println!(
            "planned {spec}: {} cells in {}\n  on a cluster: sparsify sweep slurm {} \
             --array-size N > job.sbatch && sbatch job.sbatch\n  here: cargo xtask figures \
             --paper --sweep-dir {}",
            planned.grid().len(),
            dir.display(),
            dir.display(),
            opts.sweep_dir.display()
        );
    }
    Ok(())
}

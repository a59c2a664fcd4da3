//! Figures that are distributions, built from sweeps (issue 11): the spec is a committed TOML
//! file (`sweeps/*.toml`), the sweep is planned into a directory and run there with the sweep
//! machinery ([`crate::sweep`]: resumable, every cell its own file), merged into a table, and
//! the figure is drawn from the table alone. The same directory can be handed to a cluster
//! instead (`sparsify sweep slurm DIR`): once its cells are done, drawing skips them all.
//!
//! - `time_to_one_neuron`: the empirical CDF over seeds of `lambda T`, `T` the simulated time
//!   to a single survivor (a `run` sweep with a `seed` axis), one curve per `m`, beside the
//!   leading-order closed form `lambda T = int_0^{w0[1]} dth/sqrt(F(th))` of the same initial
//!   weights (`docs/theory.md` §3.11) where they are cheap to redraw (`m <= 1e6`).
//! - the paper's collision sweep (`sweeps/paper_collisions.toml`, `train` cells): planned, run
//!   and merged here; [`CollisionRow`] reads its table for the `polysemantic_vs_m` figure.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use rand::SeedableRng;
use rand_pcg::Pcg64;
use rayon::prelude::*;
use sparsify_core::InitialWeights;
use sparsify_plot::{Axis, Figure, LegendPos, Residual, Rgb, Series};

use crate::ExperimentError;
use crate::claims::{lambda_t, lambda_t_summary};
use crate::sweep::{self, Event, MergeReport, RunOptions, RunReport, Shard, SweepDir};
use crate::theory_figures::TheoryFigure;

/// The default build's seed study (m = 1e3..1e5, 200 seeds each, the adaptive flow).
pub const TIME_TO_ONE_NEURON: &str = "sweeps/time_to_one_neuron.toml";
/// The paper-size seed study (m = 1e6..1e8), for `cargo xtask figures --paper`.
pub const PAPER_TIME_TO_ONE_NEURON: &str = "sweeps/paper_time_to_one_neuron.toml";
/// The paper's collision sweep (n = 256, m = 256..4096 step 256, 16 instances, AdamW, 7,500
/// steps), for `cargo xtask figures --paper`.
pub const PAPER_COLLISIONS: &str = "sweeps/paper_collisions.toml";

/// A planned sweep after a run: where its merged tables are and what was done.
#[derive(Debug, Clone)]
pub struct SweepOutcome {
    /// The sweep directory.
    pub dir: PathBuf,
    /// `DIR/table.csv`, one row per cell (if every cell is finished).
    pub table: PathBuf,
    /// `DIR/aggregate.csv`, over seeds.
    pub aggregate: PathBuf,
    /// What this run did.
    pub run: RunReport,
    /// What the merge found.
    pub merge: MergeReport,
}

/// Plans the spec file `spec` into `dir` (a no-op if `dir` was planned from the same spec;
/// refused if from another).
///
/// # Errors
/// An unreadable or invalid spec, or a directory planned from another spec.
pub fn plan(spec: &Path, dir: &Path) -> Result<SweepDir, ExperimentError> {
    let text = fs::read_to_string(spec).map_err(|source| ExperimentError::Io {
        path: spec.to_path_buf(),
        source,
    })?;
    SweepDir::plan(&text, spec, dir)
}

/// Plans `spec` into `dir`, runs every cell not yet finished (`jobs` at a time; failed cells
/// are not retried), and merges the directory into `DIR/table.csv` and `DIR/aggregate.csv`.
/// Resumable: a killed run loses at most its running cells, and a re-run skips finished ones.
/// `on_event` sees the driver's events (for progress).
///
/// # Errors
/// As [`plan`], [`sweep::run`] and [`sweep::merge`] (which refuses unfinished cells, e.g.
/// after `interrupted`).
pub fn run_sweep(
    spec: &Path,
    dir: &Path,
    jobs: usize,
    interrupted: &AtomicBool,
    on_event: &mut dyn FnMut(Event),
) -> Result<SweepOutcome, ExperimentError> {
    let sweep_dir = plan(spec, dir)?;
    let opts = RunOptions {
        jobs,
        shard: Shard::ALL,
        retry_failed: false,
    };
    let run = sweep::run(&sweep_dir, opts, interrupted, on_event)?;
    let (table, aggregate) = (dir.join("table.csv"), dir.join("aggregate.csv"));
    let merge = sweep::merge(&sweep_dir, &table, &aggregate, false)?;
    Ok(SweepOutcome {
        dir: dir.to_path_buf(),
        table,
        aggregate,
        run,
        merge,
    })
}

/// A merged table: its header and its rows, as text (values exactly as the cells wrote them).
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Column names.
    pub header: Vec<String>,
    /// One row per cell.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// Parses a merged table (plain comma-separated values: no field of a merged table holds a
    /// comma except the last, `error`, which is kept whole).
    ///
    /// # Errors
    /// [`ExperimentError::Inconsistent`] for an empty table.
    pub fn parse(text: &str) -> Result<Self, ExperimentError> {
        let mut lines = text.lines();
        let header: Vec<String> = lines
            .next()
            .ok_or_else(|| ExperimentError::Inconsistent("an empty table".into()))?
            .split(',')
            .map(str::to_owned)
            .collect();
        let width = header.len();
        let rows = lines
            .filter(|l| !l.is_empty())
            .map(|l| l.splitn(width, ',').map(str::to_owned).collect())
            .collect();
        Ok(Self { header, rows })
    }

    /// Reads and parses `path`.
    ///
    /// # Errors
    /// An unreadable file, or as [`Table::parse`].
    pub fn read(path: &Path) -> Result<Self, ExperimentError> {
        let text = fs::read_to_string(path).map_err(|source| ExperimentError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text)
    }

    /// The index of column `name`.
    ///
    /// # Errors
    /// [`ExperimentError::Inconsistent`] naming the missing column.
    pub fn column(&self, name: &str) -> Result<usize, ExperimentError> {
        self.header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| ExperimentError::Inconsistent(format!("the table has no column {name}")))
    }
}

/// One `m` of a seed study: `lambda T` of every seed that reached a single survivor, and the
/// seeds that did not.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedSamples {
    /// The number of weights.
    pub m: usize,
    /// The L1 strength.
    pub lambda: f64,
    /// `(seed, lambda * final_t)` of the cells that stopped with one survivor, in table order.
    pub samples: Vec<(u64, f64)>,
    /// Cells that failed or stopped otherwise.
    pub other: usize,
}

/// Groups a `run` sweep's table by `(m, lambda)` (in order of first appearance): `lambda T`
/// for every cell that stopped with one survivor.
///
/// # Errors
/// A missing column or an unparsable number.
pub fn seed_samples(table: &Table) -> Result<Vec<SeedSamples>, ExperimentError> {
    let (cm, cl, cs) = (
        table.column("m")?,
        table.column("lambda")?,
        table.column("seed")?,
    );
    let (cstat, cstop, ct) = (
        table.column("status")?,
        table.column("stop_reason")?,
        table.column("final_t")?,
    );
    let num = |s: &str| -> Result<f64, ExperimentError> {
        s.parse::<f64>()
            .map_err(|_| ExperimentError::Inconsistent(format!("not a number in the table: {s}")))
    };
    let mut out: Vec<SeedSamples> = Vec::new();
    for row in &table.rows {
        let cell = |c: usize| row.get(c).map_or("", String::as_str);
        let (m, lambda) = (num(cell(cm))? as usize, num(cell(cl))?);
        let i = match out.iter().position(|g| g.m == m && g.lambda == lambda) {
            Some(i) => i,
            None => {
                out.push(SeedSamples {
                    m,
                    lambda,
                    samples: Vec::new(),
                    other: 0,
                });
                out.len() - 1
            }
        };
        if cell(cstat) == "done" && cell(cstop) == "one_left" {
            let seed = num(cell(cs))? as u64;
            out[i].samples.push((seed, lambda * num(cell(ct))?));
        } else {
            out[i].other += 1;
        }
    }
    Ok(out)
}

/// The leading-order closed form of `lambda T` for the initial weights a `run` cell draws with
/// the table's defaults (`init = "half-normal"`, `rng = "pcg64"`, `sigma` unset: `0.9/sqrt(m)`;
/// `parallel_init` as `parallel`), seed by seed (in parallel).
///
/// # Errors
/// A drawing or theory error.
pub fn closed_form_samples(
    m: usize,
    seeds: &[u64],
    parallel: bool,
) -> Result<Vec<f64>, ExperimentError> {
    seeds
        .par_iter()
        .map(|&seed| {
            let w0 = if parallel {
                InitialWeights::half_normal_parallel(seed, m, None)?
            } else {
                InitialWeights::half_normal(&mut Pcg64::seed_from_u64(seed), m, None)?
            };
            lambda_t(&w0)
        })
        .collect()
}

/// The largest `m` whose closed form is redrawn for the figure (each seed costs a draw and a
/// sort of `m` weights).
pub const CLOSED_FORM_MAX_M: usize = 1_000_000;

/// `time_to_one_neuron` from a `run` sweep's merged table: per `m`, the empirical CDF of the
/// simulated `lambda T` over seeds (solid), and for `m <= CLOSED_FORM_MAX_M` the closed form of
/// the same seeds' weights (dashed), with the median marked; below, seed by seed, simulated
/// minus closed form against the closed form (the first-order term, `O(lambda)`). The table must come from cells
/// with the default initialisation (half-normal, pcg64, default sigma).
///
/// # Errors
/// As [`seed_samples`]; a table with no finished seed.
pub fn time_to_one_neuron(table: &Table, source: &str) -> Result<TheoryFigure, ExperimentError> {
    let groups = seed_samples(table)?;
    if groups.iter().all(|g| g.samples.is_empty()) {
        return Err(ExperimentError::Inconsistent(
            "no cell of the seed study reached a single survivor".into(),
        ));
    }
    let first = |name: &str| -> String {
        table
            .column(name)
            .ok()
            .and_then(|c| table.rows.first().and_then(|r| r.get(c)).cloned())
            .unwrap_or_default()
    };
    let (method, step, parallel) = (first("method"), first("step"), first("parallel_init"));
    let colours = [
        Rgb::TAB_BLUE,
        Rgb(255, 127, 14),
        Rgb(44, 160, 44),
        Rgb(214, 39, 40),
        Rgb(148, 103, 189),
    ];
    let lambdas: Vec<String> = {
        let mut l: Vec<String> = groups
            .iter()
            .map(|g| crate::figures::format_param(g.lambda))
            .collect();
        l.dedup();
        l
    };
    let mut figure = Figure::new(
        "Time to a single neuron over seeds (half-normal w0, σ = 0.9/√m)",
        Axis::linear("λ T").range(0.0, 7.5),
        Axis::linear("fraction of seeds below").range(0.0, 1.0),
        (1100, 800),
    )
    .caption(format!(
        "solid: sweep {source}, {method}{}, λ = {}; dashed: closed form (leading order) of the \
         same w0; below: their difference per seed",
        if method == "adaptive" {
            String::new()
        } else {
            format!(" h = {step}")
        },
        lambdas.join(", ")
    ))
    .legend(LegendPos::LowerRight);
    let cdf = |v: &[f64]| -> Vec<(f64, f64)> {
        let n = v.len() as f64;
        v.iter()
            .enumerate()
            .map(|(i, &x)| (x, (i as f64 + 0.5) / n))
            .collect()
    };
    let mut residual = Vec::new();
    for (g, &colour) in groups.iter().zip(colours.iter().cycle()) {
        if g.samples.is_empty() {
            continue;
        }
        let mut sim: Vec<f64> = g.samples.iter().map(|s| s.1).collect();
        sim.sort_by(f64::total_cmp);
        let s = lambda_t_summary(g.m, &sim);
        let skipped = if g.other > 0 {
            format!(", {} not at one survivor", g.other)
        } else {
            String::new()
        };
        figure = figure
            .series(Series::line(
                format!(
                    "m = {}, {} seeds{skipped}: median {:.2}, 90% in {:.2}-{:.2}",
                    crate::figures::format_param(g.m as f64),
                    s.seeds,
                    s.q50,
                    s.q05,
                    s.q95
                ),
                cdf(&sim),
                colour,
            ))
            .series(Series::line("", vec![(s.q50, 0.5)], colour).markers(5));
        if g.m <= CLOSED_FORM_MAX_M {
            let seeds: Vec<u64> = g.samples.iter().map(|s| s.0).collect();
            let closed = closed_form_samples(g.m, &seeds, parallel == "true")?;
            // Seed by seed: the closed form of the same weights against the simulation.
            let diffs: Vec<(f64, f64)> = closed
                .iter()
                .zip(&g.samples)
                .map(|(&c, &(_, sim))| (c, sim - c))
                .collect();
            residual.push(Series::line("", diffs, colour).markers(2));
            let mut closed = closed;
            closed.sort_by(f64::total_cmp);
            figure = figure.series(Series::line("", cdf(&closed), colour).dashed().width(1));
        }
    }
    let residual = (!residual.is_empty()).then(|| {
        Residual::new(Axis::linear("sim. − closed"), residual)
            .reference(0.0)
            .height_fraction(0.25)
    });
    Ok(TheoryFigure {
        stem: "time_to_one_neuron",
        figure,
        residual,
    })
}

/// One `m` of the collision sweep's merged table (a `train` sweep): the counts' means over the
/// cell's instances.
#[derive(Debug, Clone, PartialEq)]
pub struct CollisionRow {
    /// Features.
    pub n: usize,
    /// Neurons.
    pub m: usize,
    /// Instances per cell.
    pub instances: usize,
    /// The optimiser (`adamw`, `sgd`, `flow`).
    pub optimizer: String,
    /// Mean polysemantic neurons over instances.
    pub polysemantic_mean: f64,
    /// Their population standard deviation over instances.
    pub polysemantic_std: f64,
    /// Mean initial-argmax collisions.
    pub initial_collisions_mean: f64,
    /// Mean fraction of features ending on their initial argmax neuron.
    pub winner_fraction_mean: f64,
}

/// The done rows of a `train` sweep's merged table, in table order.
///
/// # Errors
/// A missing column or an unparsable number.
pub fn collision_rows(table: &Table) -> Result<Vec<CollisionRow>, ExperimentError> {
    let col = |name: &str| table.column(name);
    let (cn, cm, ci, co, cs) = (
        col("n")?,
        col("m")?,
        col("instances")?,
        col("optimizer")?,
        col("status")?,
    );
    let (cp, cps, cc, cw) = (
        col("polysemantic_mean")?,
        col("polysemantic_std")?,
        col("initial_collisions_mean")?,
        col("winner_is_initial_argmax_fraction_mean")?,
    );
    let num = |s: &str| -> Result<f64, ExperimentError> {
        s.parse::<f64>()
            .map_err(|_| ExperimentError::Inconsistent(format!("not a number in the table: {s}")))
    };
    let mut out = Vec::new();
    for row in &table.rows {
        let cell = |c: usize| row.get(c).map_or("", String::as_str);
        if cell(cs) != "done" {
            continue;
        }
        out.push(CollisionRow {
            n: num(cell(cn))? as usize,
            m: num(cell(cm))? as usize,
            instances: num(cell(ci))? as usize,
            optimizer: cell(co).to_owned(),
            polysemantic_mean: num(cell(cp))?,
            polysemantic_std: num(cell(cps))?,
            initial_collisions_mean: num(cell(cc))?,
            winner_fraction_mean: num(cell(cw))?,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_parses_and_groups_by_m_keeping_only_one_survivor_runs() {
        let text = "index,id,m,seed,lambda,status,stop_reason,final_t,error\n\
                    0,0,10,0,0.5,done,one_left,4,\n\
                    1,1,10,1,0.5,done,end_time,9,\n\
                    2,2,20,0,0.5,failed,,,boom, with a comma\n\
                    3,3,20,1,0.5,done,one_left,6,\n";
        let t = Table::parse(text).unwrap();
        assert_eq!(t.rows[2].len(), 9);
        assert_eq!(t.rows[2][8], "boom, with a comma");
        let g = seed_samples(&t).unwrap();
        assert_eq!(g.len(), 2);
        assert_eq!(
            (g[0].m, g[0].samples.clone(), g[0].other),
            (10, vec![(0, 2.0)], 1)
        );
        assert_eq!(
            (g[1].m, g[1].samples.clone(), g[1].other),
            (20, vec![(1, 3.0)], 1)
        );
        assert!(t.column("nope").is_err());
        assert!(Table::parse("").is_err());
    }
}

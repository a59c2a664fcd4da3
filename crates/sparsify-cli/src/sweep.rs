//! `sparsify sweep plan|run|status|merge|slurm`: grids of runs over parameters and seeds, on
//! one machine or as a Slurm job array. The flags and messages are here; everything else is
//! `sparsify_experiments::sweep`.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use indicatif::ProgressBar;
use sparsify_experiments::ExperimentError;
use sparsify_experiments::sweep::{
    self, CellState, Event, RunOptions, Shard, SlurmOptions, SweepDir,
};

use crate::Context;
use crate::error::{CliError, exit};

const EXAMPLES: &str = "\
Examples:
  # A spec: 3 lambdas x 100 seeds of the reduced solver at m = 1e4.
  cat > seeds.toml <<'EOF'
  kind = \"run\"
  [params]
  m = 1e4
  step = 0.5
  method = \"reduced\"
  [axes]
  lambda = { from = 1e-5, to = 1e-3, points = 3, log = true }
  seed = { from = 0, to = 99 }
  EOF
  sparsify sweep plan seeds.toml --out seeds        # 300 numbered cells in seeds/
  sparsify sweep run seeds --jobs 2                 # run them (again: skips finished cells)
  sparsify sweep status seeds
  sparsify sweep merge seeds --out seeds.csv        # + seeds.agg.csv, over seeds

  # On a Slurm cluster: 16 tasks, 4 CPUs each; then merge as above.
  sparsify sweep slurm seeds --array-size 16 --cpus 4 > seeds.sbatch && sbatch seeds.sbatch

Exit codes: 0 done; 1 some cells failed (run: retry with --retry-failed); 2 a bad spec, flag or
directory (one line per problem); 74 a file could not be read or written; 130 interrupted
(run: only the running cells are lost).";

/// The flags of `sparsify sweep`.
#[derive(Debug, Args)]
#[command(after_long_help = EXAMPLES)]
pub(crate) struct SweepArgs {
    #[command(subcommand)]
    command: SweepCommand,
}

#[derive(Debug, Subcommand)]
enum SweepCommand {
    /// Check a TOML spec and expand its grid into numbered cells in a new directory.
    Plan(PlanArgs),
    /// Run the cells this process owns that are not finished yet.
    Run(RunArgs),
    /// Count the cells done, running, failed and missing.
    Status(StatusArgs),
    /// One CSV row per cell, and an aggregate over seeds (mean, std, quantiles).
    Merge(MergeArgs),
    /// Print an sbatch script that runs the sweep as a Slurm job array.
    Slurm(SlurmArgs),
}

#[derive(Debug, Args)]
struct PlanArgs {
    /// The sweep spec (TOML: kind, [params], [axes], [outputs]; see --help of `sweep`).
    #[arg(value_name = "SPEC.toml")]
    spec: PathBuf,
    /// The sweep directory to create (planning the same spec again is a no-op).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// The sweep directory.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// Cells run at once (one thread each), >= 1.
    #[arg(long, value_name = "K", default_value_t = 1)]
    jobs: usize,
    /// Run only the cells i with i mod N = I (0 <= I < N) [default: SLURM_ARRAY_TASK_ID /
    /// SLURM_ARRAY_TASK_COUNT when set, else 0/1].
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// Run the cells that failed before as well.
    #[arg(long)]
    retry_failed: bool,
}

#[derive(Debug, Args)]
struct StatusArgs {
    /// The sweep directory.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
}

#[derive(Debug, Args)]
struct MergeArgs {
    /// The sweep directory.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// The table: index,id,<parameters>,status,<scalars>,error, one row per cell.
    #[arg(long, value_name = "TABLE.csv")]
    out: PathBuf,
    /// The aggregate over seeds [default: TABLE.agg.csv beside --out].
    #[arg(long, value_name = "AGG.csv")]
    aggregate: Option<PathBuf>,
    /// Merge even if cells are not finished (their rows say `missing` or `running`).
    #[arg(long)]
    partial: bool,
}

#[derive(Debug, Args)]
struct SlurmArgs {
    /// The sweep directory.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// Array tasks, one shard each (1 to the number of cells).
    #[arg(long, value_name = "N")]
    array_size: u64,
    /// Time limit per task, Slurm's syntax (e.g. 02:00:00) [default: estimated from finished
    /// cells, else 01:00:00].
    #[arg(long, value_name = "TIME")]
    time: Option<String>,
    /// Memory per task, e.g. 4G or 800M [default: estimated from the spec].
    #[arg(long, value_name = "SIZE")]
    mem: Option<String>,
    /// CPUs per task (cells run at once in each task).
    #[arg(long, value_name = "C", default_value_t = 1)]
    cpus: u32,
}

/// Runs `sparsify sweep ...`.
pub(crate) fn execute(args: &SweepArgs, ctx: &mut Context<'_>) -> Result<u8, CliError> {
    let result = match &args.command {
        SweepCommand::Plan(a) => plan(a, ctx),
        SweepCommand::Run(a) => run(a, ctx),
        SweepCommand::Status(a) => status(a, ctx),
        SweepCommand::Merge(a) => merge(a, ctx),
        SweepCommand::Slurm(a) => slurm(a, ctx),
    };
    match result {
        Ok(code) => Ok(code),
        Err(Failure::Cli(e)) => Err(e),
        Err(Failure::Lines(lines)) => {
            for line in lines {
                let _ = writeln!(ctx.stderr, "error: {line}");
            }
            Ok(exit::USAGE)
        }
    }
}

/// A command's failure: a CLI error, or several usage lines (a spec's problems).
enum Failure {
    Cli(CliError),
    Lines(Vec<String>),
}

impl From<CliError> for Failure {
    fn from(e: CliError) -> Self {
        Failure::Cli(e)
    }
}

impl From<ExperimentError> for Failure {
    fn from(e: ExperimentError) -> Self {
        match e {
            ExperimentError::InvalidSpec { path, errors } => Failure::Lines(
                errors
                    .into_iter()
                    .map(|e| format!("{}: {e}", path.display()))
                    .collect(),
            ),
            ExperimentError::Io { path, source } => Failure::Cli(CliError::io(&path, source)),
            other => Failure::Cli(CliError::usage(other.to_string())),
        }
    }
}

fn out_err(e: std::io::Error) -> CliError {
    CliError::io(Path::new("<stdout>"), e)
}

fn plan(a: &PlanArgs, ctx: &mut Context<'_>) -> Result<u8, Failure> {
    let text = std::fs::read_to_string(&a.spec)
        .map_err(|e| CliError::usage(format!("{}: cannot read the spec: {e}", a.spec.display())))?;
    let dir = SweepDir::plan(&text, &a.spec, &a.out)?;
    let grid = dir.grid();
    let axes: Vec<String> = grid.axes().map(|(n, k)| format!("{n} ({k})")).collect();
    let axes = if axes.is_empty() {
        "no axes".to_owned()
    } else {
        axes.join(" x ")
    };
    writeln!(
        ctx.stdout,
        "planned {} cells of kind \"{}\" in {}: {axes}",
        grid.len(),
        dir.spec.kind.name(),
        a.out.display()
    )
    .map_err(out_err)?;
    Ok(exit::SUCCESS)
}

/// `--shard`, or the Slurm array task's environment, or every cell.
fn shard(a: &RunArgs) -> Result<Shard, CliError> {
    if let Some(s) = &a.shard {
        return Shard::parse(s).map_err(CliError::usage);
    }
    let var = |k: &str| std::env::var(k).ok();
    match (var("SLURM_ARRAY_TASK_ID"), var("SLURM_ARRAY_TASK_COUNT")) {
        (Some(i), Some(n)) => {
            let parsed = (i.trim().parse::<u64>(), n.trim().parse::<u64>());
            match parsed {
                (Ok(i), Ok(n)) => Shard::new(i, n).ok_or_else(|| {
                    CliError::usage(format!(
                        "SLURM_ARRAY_TASK_ID={i} is not below SLURM_ARRAY_TASK_COUNT={n} (an \
                         array that does not start at 0, or a single task resubmitted): pass \
                         --shard I/N"
                    ))
                }),
                _ => Err(CliError::usage(format!(
                    "SLURM_ARRAY_TASK_ID={i}, SLURM_ARRAY_TASK_COUNT={n}: not whole numbers; \
                     pass --shard I/N"
                ))),
            }
        }
        _ => Ok(Shard::ALL),
    }
}

fn run(a: &RunArgs, ctx: &mut Context<'_>) -> Result<u8, Failure> {
    if a.jobs == 0 {
        return Err(CliError::usage("--jobs 0: need at least 1 cell at a time").into());
    }
    let shard = shard(a)?;
    let dir = SweepDir::open(&a.dir)?;
    let opts = RunOptions {
        jobs: a.jobs,
        shard,
        retry_failed: a.retry_failed,
    };
    let mut bar: Option<ProgressBar> = None;
    let progress = ctx.progress;
    let mut on_event = |e: Event| match e {
        Event::Start { todo, .. } if progress => {
            bar = Some(crate::progress::counter(
                todo,
                "[{elapsed_precise}] {wide_bar} {pos}/{len} cells  {msg}",
            ));
        }
        Event::Finished { ok, .. } => {
            if let Some(b) = &bar {
                if !ok {
                    b.set_message("some failed");
                }
                b.inc(1);
            }
        }
        Event::Start { .. } => {}
    };
    let report = sweep::run(&dir, opts, ctx.interrupted, &mut on_event)?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let failed_total = report.failed + report.skipped_failed;
    writeln!(
        ctx.stdout,
        "shard {}/{}: {} cells owned; {} done now, {} failed now; {} were done, {} failed \
         before{}",
        shard.index,
        shard.count,
        report.owned,
        report.done,
        report.failed,
        report.already_done,
        report.skipped_failed,
        if a.retry_failed || report.skipped_failed == 0 {
            ""
        } else {
            " (not retried: --retry-failed)"
        }
    )
    .map_err(out_err)?;
    if report.interrupted {
        let _ = writeln!(
            ctx.stderr,
            "interrupted: the running cells are not recorded; run again to finish"
        );
        return Ok(exit::INTERRUPTED);
    }
    if failed_total > 0 {
        let _ = writeln!(
            ctx.stderr,
            "{failed_total} of this shard's cells failed (their errors: sparsify sweep status \
             {}); run again with --retry-failed",
            a.dir.display()
        );
        return Ok(exit::CLAIM_FAILED);
    }
    Ok(exit::SUCCESS)
}

fn status(a: &StatusArgs, ctx: &mut Context<'_>) -> Result<u8, Failure> {
    let dir = SweepDir::open(&a.dir)?;
    let st = dir.status()?;
    let total = dir.grid().len();
    let [done, running, failed, missing] = [
        CellState::Done,
        CellState::Running,
        CellState::Failed,
        CellState::Missing,
    ]
    .map(|s| st.count(s));
    if ctx.progress {
        let b = crate::progress::counter(total, "{wide_bar} {pos}/{len} cells done");
        b.set_position(done);
        b.abandon();
    }
    let stale = if st.stale > 0 {
        format!(" ({} left by killed processes of this host)", st.stale)
    } else {
        String::new()
    };
    writeln!(
        ctx.stdout,
        "{total} cells: {done} done, {running} running, {failed} failed, {missing} \
         missing{stale}"
    )
    .map_err(out_err)?;
    // The first few failures, with their errors: enough to see what went wrong.
    for (i, _) in st
        .states
        .iter()
        .enumerate()
        .filter(|(_, s)| **s == CellState::Failed)
        .take(10)
    {
        let error = dir
            .read_record(i as u64, "failed")
            .map(|r| r.error.unwrap_or_default())
            .unwrap_or_else(|e| e.to_string());
        writeln!(ctx.stdout, "failed {}: {error}", dir.grid().id(i as u64)).map_err(out_err)?;
    }
    Ok(exit::SUCCESS)
}

fn merge(a: &MergeArgs, ctx: &mut Context<'_>) -> Result<u8, Failure> {
    let dir = SweepDir::open(&a.dir)?;
    let aggregate = a.aggregate.clone().unwrap_or_else(|| {
        let stem = a
            .out
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "table".to_owned());
        a.out.with_file_name(format!("{stem}.agg.csv"))
    });
    if aggregate == a.out {
        return Err(CliError::usage(format!(
            "--aggregate {}: the same file as --out; give them different paths",
            a.out.display()
        ))
        .into());
    }
    let r = sweep::merge(&dir, &a.out, &aggregate, a.partial)?;
    writeln!(
        ctx.stdout,
        "merged {} cells ({} done, {} failed, {} missing) into {}; {} groups over seeds into {}",
        r.cells,
        r.done,
        r.failed,
        r.missing,
        a.out.display(),
        r.groups,
        aggregate.display()
    )
    .map_err(out_err)?;
    Ok(exit::SUCCESS)
}

/// `--mem`: a whole number of megabytes, with an optional K, M, G or T suffix (Slurm's units,
/// powers of 1024; no suffix means M).
fn parse_mem(s: &str) -> Result<u64, CliError> {
    let bad = || {
        CliError::usage(format!(
            "--mem {s}: need a whole number with an optional unit K, M, G or T, like 4G or 800M"
        ))
    };
    let t = s.trim();
    let (digits, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => (&t[..i], &t[i..]),
        None => (t, "M"),
    };
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let mb = match unit.to_ascii_uppercase().as_str() {
        "K" | "KB" => n.div_ceil(1024),
        "M" | "MB" => n,
        "G" | "GB" => n.saturating_mul(1024),
        "T" | "TB" => n.saturating_mul(1024 * 1024),
        _ => return Err(bad()),
    };
    if mb == 0 {
        return Err(bad());
    }
    Ok(mb)
}

fn slurm(a: &SlurmArgs, ctx: &mut Context<'_>) -> Result<u8, Failure> {
    let mem_mb = a.mem.as_deref().map(parse_mem).transpose()?;
    if let Some(t) = &a.time
        && (t.is_empty()
            || !t
                .chars()
                .all(|c| c.is_ascii_digit() || c == ':' || c == '-'))
    {
        return Err(CliError::usage(format!(
            "--time {t}: Slurm's syntax, digits with `:` and `-` (e.g. 02:00:00 or 1-12:00:00)"
        ))
        .into());
    }
    let dir = SweepDir::open(&a.dir)?;
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("sparsify"));
    let script = sweep::sbatch_script(
        &dir,
        &SlurmOptions {
            array_size: a.array_size,
            time: a.time.clone(),
            mem_mb,
            cpus: a.cpus,
            exe,
        },
    )?;
    ctx.stdout.write_all(script.as_bytes()).map_err(out_err)?;
    Ok(exit::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mem_takes_slurm_units() {
        assert_eq!(parse_mem("800").ok(), Some(800));
        assert_eq!(parse_mem("4G").ok(), Some(4096));
        assert_eq!(parse_mem("2048K").ok(), Some(2));
        for bad in ["", "0", "4X", "-1G", "1.5G"] {
            assert!(parse_mem(bad).is_err(), "{bad}");
        }
    }
}

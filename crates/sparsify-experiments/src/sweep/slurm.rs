//! The `sbatch` script of a sweep: a job array with one shard per task.

use std::path::Path;

use super::exec::max_memory_bytes;
use super::store::SweepDir;
use crate::ExperimentError;

/// What the script asks Slurm for.
#[derive(Debug, Clone)]
pub struct SlurmOptions {
    /// Array tasks (shards), >= 1.
    pub array_size: u64,
    /// `--time` per task (Slurm's syntax, e.g. `02:00:00`); estimated when `None`.
    pub time: Option<String>,
    /// `--mem` per task in MB; estimated from the spec when `None`.
    pub mem_mb: Option<u64>,
    /// CPUs per task: cells run at once in each task (`--jobs`).
    pub cpus: u32,
    /// The `sparsify` executable the tasks run (an absolute path).
    pub exe: std::path::PathBuf,
}

/// `--time` when no cell has run yet to estimate it from.
const DEFAULT_TIME: &str = "01:00:00";

/// A ready `sbatch` script for `dir`: `--array=0-(N-1)`, each task `sparsify sweep run DIR
/// --shard $SLURM_ARRAY_TASK_ID/N --jobs CPUS`, memory per
/// task `cpus x` the largest cell's estimate (plus a quarter), time from the cells already
/// done (twice the slowest cell times the cells per CPU, at least ten minutes) or one hour.
///
/// # Errors
/// [`ExperimentError::Sweep`] for `array_size = 0`, `cpus = 0`, or more tasks than cells.
pub fn sbatch_script(dir: &SweepDir, opts: &SlurmOptions) -> Result<String, ExperimentError> {
    let cells = dir.grid().len();
    if opts.array_size == 0 || opts.array_size > cells {
        return Err(ExperimentError::Sweep(format!(
            "--array-size {}: need 1 to {cells} tasks (the sweep has {cells} cells)",
            opts.array_size
        )));
    }
    if opts.cpus == 0 {
        return Err(ExperimentError::Sweep(
            "--cpus 0: need at least 1".to_owned(),
        ));
    }
    let per_task = cells.div_ceil(opts.array_size);
    let cell_bytes = max_memory_bytes(dir.spec.kind, dir.grid());
    let cpus = u64::from(opts.cpus);
    let mem_mb = opts.mem_mb.unwrap_or_else(|| {
        let bytes = cell_bytes.saturating_mul(cpus.min(per_task));
        (bytes + bytes / 4).div_ceil(1 << 20)
    });
    let (time, time_note) = match &opts.time {
        Some(t) => (t.clone(), "as asked (--time)".to_owned()),
        None => estimate_time(dir, per_task.div_ceil(cpus)),
    };
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let dir_abs = abs(&dir.path);
    let d = quote(&dir_abs.display().to_string());
    let exe = quote(&abs(&opts.exe).display().to_string());
    let logs = quote(
        &dir_abs
            .join("slurm")
            .join("%A_%a.out")
            .display()
            .to_string(),
    );
    let last = opts.array_size - 1;
    Ok(format!(
        "#!/bin/bash
# Sweep {dir}: {cells} cells of kind \"{kind}\" in {n} array tasks (task I runs the cells
# i with i mod {n} = I, about {per_task} each, {cpus} at a time).
# Memory: {cell_mb} MB for the largest cell (estimated from the spec), x {cpus_used} at a time,
# plus a quarter. Time: {time_note}.
# A task that is cancelled or killed loses only the cells it was running: submit the script
# again (or one task: sbatch --array=I ...) and finished cells are skipped.
#SBATCH --job-name={name}
#SBATCH --array=0-{last}
#SBATCH --ntasks=1
#SBATCH --cpus-per-task={cpus}
#SBATCH --mem={mem_mb}M
#SBATCH --time={time}
#SBATCH --output={logs}
#SBATCH --open-mode=append
set -euo pipefail
# The shard count is written out (not SLURM_ARRAY_TASK_COUNT), so that one task resubmitted
# alone (sbatch --array=I this.sbatch) still runs shard I of {n}.
exec {exe} sweep run {d} --shard \"$SLURM_ARRAY_TASK_ID/{n}\" --jobs \"${{SLURM_CPUS_PER_TASK:-{cpus}}}\"
",
        dir = dir_abs.display(),
        kind = dir.spec.kind.name(),
        n = opts.array_size,
        cell_mb = cell_bytes.div_ceil(1 << 20),
        cpus_used = cpus.min(per_task),
        name = dir.spec.name,
    ))
}

/// A `--time` from the finished cells: twice the slowest of up to 1000 of them, times the
/// cells each CPU runs, at least ten minutes; or [`DEFAULT_TIME`] when none is finished.
fn estimate_time(dir: &SweepDir, cells_per_cpu: u64) -> (String, String) {
    let walls = dir.sample_wall_seconds(1000);
    let Some(slowest) = walls.iter().copied().reduce(f64::max) else {
        return (
            DEFAULT_TIME.to_owned(),
            "a guess, since no cell has run yet; run a few first (sparsify sweep run DIR \
             --shard 0/1000) and ask again for an estimate, or pass --time"
                .to_owned(),
        );
    };
    let secs = (2.0 * slowest * cells_per_cpu as f64).max(600.0).ceil() as u64;
    (
        format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60),
        format!(
            "twice the slowest of {} finished cells ({slowest:.3} s) x {cells_per_cpu} cells \
             per CPU, at least 10 minutes",
            walls.len()
        ),
    )
}

/// `s` as one shell word (single quotes).
fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-%+=:,".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

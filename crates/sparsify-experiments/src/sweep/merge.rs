//! Merging a sweep: one row per cell, and an aggregate over seeds.
//!
//! The table is `index,id,<parameters>,status,<scalars>,error`, in cell order; every value is
//! the text its cell record holds, copied, so merging never rounds and merging twice gives the
//! same bytes. Machine-dependent fields (wall time, host) are left out, so the table does not
//! depend on which shard, thread or machine ran a cell.
//!
//! The aggregate groups the done cells by every parameter except `seed` (groups in order of
//! their first cell) and gives, per numeric scalar, `n`, the mean, the sample standard
//! deviation (`n - 1` in the denominator; `nan` for `n = 1`), the minimum, the quantiles 5, 25,
//! 50, 75, 95 % (linear interpolation between order statistics, numpy's default "linear",
//! Hyndman-Fan type 7) and the maximum. Sums run in cell order, so they are reproducible. A NaN
//! scalar makes its group's mean and standard deviation NaN; quantiles order NaN last.
//!
//! # References
//! R. J. Hyndman and Y. Fan, "Sample quantiles in statistical packages", The American
//! Statistician 50 (1996), definition 7.

use std::path::Path;

use rayon::prelude::*;

use super::exec::{TEXT_SCALARS, scalar_names};
use super::spec::fmt_f64;
use super::store::{CellState, SweepDir, group_order, push_field, write_atomic};
use crate::ExperimentError;

/// Cells read at once (in parallel) before their rows are appended in order.
const CHUNK: u64 = 16_384;

/// The quantiles of the aggregate table.
const QUANTILES: [(&str, f64); 5] = [
    ("q05", 0.05),
    ("q25", 0.25),
    ("median", 0.5),
    ("q75", 0.75),
    ("q95", 0.95),
];

/// What a merge wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MergeReport {
    /// Rows of the table (cells).
    pub cells: u64,
    /// Done cells.
    pub done: u64,
    /// Failed cells.
    pub failed: u64,
    /// Cells with no record (only with `partial`).
    pub missing: u64,
    /// Groups of the aggregate table.
    pub groups: usize,
}

/// Merges `dir` into the table `table` and the aggregate `aggregate` (both written
/// atomically). Without `partial`, every cell must be done or failed.
///
/// # Errors
/// [`ExperimentError::Sweep`] if cells are unfinished (without `partial`) or a record is
/// unreadable; I/O errors.
pub fn merge(
    dir: &SweepDir,
    table: &Path,
    aggregate: &Path,
    partial: bool,
) -> Result<MergeReport, ExperimentError> {
    let grid = dir.grid();
    let kind = dir.spec.kind;
    let status = dir.status()?;
    let unfinished = status
        .states
        .iter()
        .filter(|s| matches!(s, CellState::Missing | CellState::Running))
        .count() as u64;
    if unfinished > 0 && !partial {
        return Err(ExperimentError::Sweep(format!(
            "{}: {unfinished} of {} cells are not finished (see `sparsify sweep status`); run \
             them, or merge what there is with --partial",
            dir.path.display(),
            grid.len()
        )));
    }
    let scalars = scalar_names(kind);
    let numeric: Vec<usize> = (0..scalars.len())
        .filter(|&i| !TEXT_SCALARS.contains(&scalars[i]))
        .collect();
    let names = grid.names();
    let seed_col = names.iter().position(|n| *n == "seed");

    let mut out = String::from("index,id");
    for n in names {
        out.push(',');
        out.push_str(n);
    }
    out.push_str(",status");
    for s in scalars {
        out.push(',');
        out.push_str(s);
    }
    out.push_str(",error\n");

    // For the aggregate: each done cell's group key and numeric scalars.
    let mut keys: Vec<Vec<String>> = Vec::new();
    let mut values: Vec<Vec<f64>> = Vec::new();
    let mut report = MergeReport {
        cells: grid.len(),
        done: 0,
        failed: 0,
        missing: 0,
        groups: 0,
    };
    let mut start = 0;
    while start < grid.len() {
        let end = (start + CHUNK).min(grid.len());
        let rows: Vec<Result<Row, ExperimentError>> = (start..end)
            .into_par_iter()
            .map(|index| row(dir, index, status.states[index as usize], &numeric))
            .collect();
        for r in rows {
            let r = r?;
            out.push_str(&r.line);
            match r.state {
                CellState::Done => {
                    report.done += 1;
                    let mut key = r.params;
                    if let Some(c) = seed_col {
                        key.remove(c);
                    }
                    keys.push(key);
                    values.push(r.numeric);
                }
                CellState::Failed => report.failed += 1,
                _ => report.missing += 1,
            }
        }
        start = end;
    }
    let agg = aggregate_table(names, seed_col, scalars, &numeric, &keys, &values);
    report.groups = agg.1;
    write_atomic(table, out.as_bytes())?;
    write_atomic(aggregate, agg.0.as_bytes())?;
    Ok(report)
}

struct Row {
    line: String,
    state: CellState,
    params: Vec<String>,
    numeric: Vec<f64>,
}

fn row(
    dir: &SweepDir,
    index: u64,
    state: CellState,
    numeric: &[usize],
) -> Result<Row, ExperimentError> {
    let grid = dir.grid();
    let n_scalars = scalar_names(dir.spec.kind).len();
    let cell = grid.cell(index);
    let params: Vec<String> = cell
        .values
        .iter()
        .map(|v| v.as_ref().map(ToString::to_string).unwrap_or_default())
        .collect();
    let mut line = format!("{index},{}", grid.id(index));
    for p in &params {
        line.push(',');
        push_field(&mut line, p);
    }
    let (status, scalars, error) = match state {
        CellState::Done | CellState::Failed => {
            let s = if state == CellState::Done {
                "done"
            } else {
                "failed"
            };
            let rec = dir.read_record(index, s)?;
            (s, rec.scalars, rec.error.unwrap_or_default())
        }
        CellState::Running => ("running", Vec::new(), String::new()),
        CellState::Missing => ("missing", Vec::new(), String::new()),
    };
    if state == CellState::Done && scalars.len() != n_scalars {
        return Err(ExperimentError::Sweep(format!(
            "{}: {} scalars, expected {n_scalars}; delete it to run the cell again",
            dir.record_path(index, "done").display(),
            scalars.len()
        )));
    }
    line.push(',');
    line.push_str(status);
    for i in 0..n_scalars {
        line.push(',');
        if let Some(s) = scalars.get(i) {
            push_field(&mut line, s);
        }
    }
    line.push(',');
    push_field(&mut line, &error);
    line.push('\n');
    // Every numeric scalar was written by `fmt_f64` or as an integer: parsing the text gives
    // back the exact value (Rust's float parsing is correctly rounded).
    let numeric = if state == CellState::Done {
        numeric
            .iter()
            .map(|&i| scalars[i].parse::<f64>().unwrap_or(f64::NAN))
            .collect()
    } else {
        Vec::new()
    };
    Ok(Row {
        line,
        state,
        params,
        numeric,
    })
}

/// The aggregate CSV and its number of groups.
fn aggregate_table(
    names: &[&str],
    seed_col: Option<usize>,
    scalars: &[&str],
    numeric: &[usize],
    keys: &[Vec<String>],
    values: &[Vec<f64>],
) -> (String, usize) {
    let mut out = String::new();
    let group_names: Vec<&str> = names
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != seed_col)
        .map(|(_, n)| *n)
        .collect();
    for n in &group_names {
        out.push_str(n);
        out.push(',');
    }
    out.push_str("scalar,n,mean,std,min");
    for (q, _) in QUANTILES {
        out.push(',');
        out.push_str(q);
    }
    out.push_str(",max\n");
    let (order, group_of) = group_order(keys);
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); order.len()];
    for (cell, &g) in group_of.iter().enumerate() {
        members[g].push(cell);
    }
    for (key, cells) in order.iter().zip(&members) {
        for (col, &s) in numeric.iter().enumerate() {
            let xs: Vec<f64> = cells.iter().map(|&c| values[c][col]).collect();
            for k in key {
                push_field(&mut out, k);
                out.push(',');
            }
            out.push_str(scalars[s]);
            let stats = summary(&xs);
            out.push_str(&format!(",{}", xs.len()));
            for x in stats {
                out.push(',');
                out.push_str(&fmt_f64(x));
            }
            out.push('\n');
        }
    }
    (out, order.len())
}

/// Mean, sample std, min, the [`QUANTILES`], max of `xs` (non-empty).
fn summary(xs: &[f64]) -> Vec<f64> {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let std = if xs.len() > 1 {
        (xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        f64::NAN
    };
    let mut sorted = xs.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut out = vec![mean, std, sorted[0]];
    out.extend(QUANTILES.iter().map(|&(_, q)| quantile(&sorted, q)));
    out.push(sorted[sorted.len() - 1]);
    out
}

/// Quantile `q` of `sorted` (ascending, non-empty): `x[j] + g (x[j+1] - x[j])` with
/// `j + g = q (n - 1)` (Hyndman-Fan type 7).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let j = pos.floor() as usize;
    let g = pos - j as f64;
    match sorted.get(j + 1) {
        Some(&next) if g > 0.0 => sorted[j] + g * (next - sorted[j]),
        _ => sorted[j],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_numpy_linear() {
        // numpy.quantile([1, 2, 3, 4], [0.25, 0.5, 0.95]) = [1.75, 2.5, 3.85].
        let xs = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&xs, 0.25), 1.75);
        assert_eq!(quantile(&xs, 0.5), 2.5);
        // 0.95 * 3 = 2.85 is not exact in binary: 3 + 0.85.. * 1 to within an ulp of 3.85.
        assert!((quantile(&xs, 0.95) - 3.85).abs() < 1e-15);
        assert_eq!(quantile(&[7.0], 0.5), 7.0);
    }

    #[test]
    fn std_is_the_sample_standard_deviation() {
        // Mean 5, squared deviations 9+1+1+9 = 20, /3.
        let s = summary(&[2.0, 4.0, 6.0, 8.0]);
        assert_eq!(s[0], 5.0);
        assert!((s[1] - (20.0f64 / 3.0).sqrt()).abs() < 1e-15);
        assert!(summary(&[1.0])[1].is_nan());
    }
}

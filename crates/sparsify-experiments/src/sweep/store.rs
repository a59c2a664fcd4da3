//! The sweep directory on disk: the spec, one file per finished cell (written atomically), the
//! markers of running cells, and the status read back from file names alone.
//!
//! ```text
//! DIR/sweep.toml                     the spec, byte for byte as planned
//! DIR/plan.csv                       index,id,<parameters>: the grid, for people
//! DIR/cells/<bucket>/<id>.done.json  a finished cell: parameters, scalars, wall time
//! DIR/cells/<bucket>/<id>.failed.json a failed cell: parameters, the error
//! DIR/cells/<bucket>/<id>.<out>.csv  the trajectory/deaths the spec asked for
//! DIR/running/<id>                   "<host> <pid>" while a process runs the cell
//! DIR/slurm/                         the Slurm tasks' logs
//! ```
//! A bucket holds the cells `1000 b .. 1000 b + 999`, so no directory holds more than about
//! 4000 files even at 1e6 cells. Every file is written to a temporary file in its own
//! directory and renamed into place: a reader (or a killed writer) sees the whole file or none.

use std::collections::HashMap;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::spec::{self, Grid, Spec};
use crate::ExperimentError;

/// Cells per bucket directory.
const BUCKET: u64 = 1000;

/// An opened sweep directory: its path and its validated spec.
#[derive(Debug, Clone)]
pub struct SweepDir {
    /// The directory.
    pub path: PathBuf,
    /// The spec it was planned from.
    pub spec: Spec,
}

/// A finished or failed cell, as its file holds it.
#[derive(Debug, Serialize, Deserialize)]
pub struct CellRecord {
    /// The cell's number.
    pub index: u64,
    /// `done` or `failed`.
    pub status: String,
    /// Parameter name and value (text), in the kind's order.
    pub params: Vec<(String, String)>,
    /// The summary scalars as text, in [`super::exec::scalar_names`] order (empty if failed).
    pub scalars: Vec<String>,
    /// Why the cell failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Wall time of the cell, seconds (never merged: it depends on the machine).
    pub wall_seconds: f64,
    /// The host that ran it.
    pub host: String,
    /// The sparsify version that ran it.
    pub sparsify_version: String,
}

/// Where each cell stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellState {
    /// Not run yet (or lost with a killed process).
    Missing,
    /// A process is running it.
    Running,
    /// Finished.
    Done,
    /// Failed; retried only with `--retry-failed`.
    Failed,
}

/// Counts of cells in each state, and each cell's state.
#[derive(Debug, Clone)]
pub struct Status {
    /// One state per cell, by index.
    pub states: Vec<CellState>,
    /// Running markers left by processes of this host that no longer exist (those cells
    /// count as missing).
    pub stale: u64,
}

impl Status {
    /// How many cells are in `state`.
    pub fn count(&self, state: CellState) -> u64 {
        self.states.iter().filter(|s| **s == state).count() as u64
    }
}

impl SweepDir {
    /// Creates `dir` from the spec file `spec_path` (its text `text`): refuses a directory
    /// that holds anything but the same spec (planning twice is a no-op).
    ///
    /// # Errors
    /// [`ExperimentError::InvalidSpec`] for a bad spec; [`ExperimentError::Sweep`] for a
    /// directory planned from another spec or not empty; I/O errors.
    pub fn plan(text: &str, spec_path: &Path, dir: &Path) -> Result<Self, ExperimentError> {
        let spec = spec::parse(text, spec_path)?;
        let spec_file = dir.join("sweep.toml");
        if dir.exists() {
            match fs::read_to_string(&spec_file) {
                Ok(old) if old == text => {}
                Ok(_) => {
                    return Err(ExperimentError::Sweep(format!(
                        "{}: already planned from another spec; plan into a new directory",
                        dir.display()
                    )));
                }
                Err(_) if is_empty_dir(dir) => {}
                Err(_) => {
                    return Err(ExperimentError::Sweep(format!(
                        "{}: exists and is not a sweep directory; plan into a new or empty one",
                        dir.display()
                    )));
                }
            }
        }
        for sub in ["cells", "running", "slurm"] {
            let p = dir.join(sub);
            fs::create_dir_all(&p).map_err(|e| io(&p, e))?;
        }
        let this = Self {
            path: dir.to_path_buf(),
            spec,
        };
        if !spec_file.exists() {
            let mut csv = String::from("index,id");
            for name in this.spec.grid.names() {
                csv.push(',');
                csv.push_str(name);
            }
            csv.push('\n');
            for index in 0..this.spec.grid.len() {
                this.push_params_row(&mut csv, index);
            }
            write_atomic(&dir.join("plan.csv"), csv.as_bytes())?;
            // The spec last: its presence says the directory is complete.
            write_atomic(&spec_file, text.as_bytes())?;
        }
        Ok(this)
    }

    /// Opens a planned sweep directory.
    ///
    /// # Errors
    /// [`ExperimentError::Sweep`] if `dir` has no `sweep.toml`; the spec's own errors.
    pub fn open(dir: &Path) -> Result<Self, ExperimentError> {
        let spec_file = dir.join("sweep.toml");
        let text = fs::read_to_string(&spec_file).map_err(|_| {
            ExperimentError::Sweep(format!(
                "{}: not a sweep directory (no sweep.toml); make one with `sparsify sweep plan \
                 SPEC --out {}`",
                dir.display(),
                dir.display()
            ))
        })?;
        let spec = spec::parse_checked(&text, &spec_file, false)?;
        Ok(Self {
            path: dir.to_path_buf(),
            spec,
        })
    }

    /// The grid.
    pub fn grid(&self) -> &Grid {
        &self.spec.grid
    }

    /// Appends `index,id,<parameter values>` and a newline.
    pub(crate) fn push_params_row(&self, out: &mut String, index: u64) {
        let grid = self.grid();
        let cell = grid.cell(index);
        out.push_str(&index.to_string());
        out.push(',');
        out.push_str(&grid.id(index));
        for v in &cell.values {
            out.push(',');
            if let Some(v) = v {
                push_field(out, &v.to_string());
            }
        }
        out.push('\n');
    }

    /// The directory of cell `index`'s files.
    pub fn bucket_dir(&self, index: u64) -> PathBuf {
        let w = self.grid().id_width().saturating_sub(3).max(1);
        self.path
            .join("cells")
            .join(format!("{:0w$}", index / BUCKET))
    }

    /// The record file of cell `index` in state `done` or `failed`.
    pub fn record_path(&self, index: u64, status: &str) -> PathBuf {
        self.bucket_dir(index)
            .join(format!("{}.{status}.json", self.grid().id(index)))
    }

    /// Writes cell `index`'s extra files, then its record (atomically each; the record last, so
    /// a record always has its files). A `done` record removes an older `failed` one.
    ///
    /// # Errors
    /// I/O errors.
    pub fn write_cell(
        &self,
        record: &CellRecord,
        files: &[(&'static str, String)],
    ) -> Result<(), ExperimentError> {
        let dir = self.bucket_dir(record.index);
        fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
        let id = self.grid().id(record.index);
        for (suffix, text) in files {
            write_atomic(&dir.join(format!("{id}.{suffix}.csv")), text.as_bytes())?;
        }
        let mut json = serde_json::to_vec(record)
            .map_err(|e| ExperimentError::Inconsistent(format!("cell record: {e}")))?;
        json.push(b'\n');
        write_atomic(&self.record_path(record.index, &record.status), &json)?;
        if record.status == "done" {
            let failed = self.record_path(record.index, "failed");
            match fs::remove_file(&failed) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(&failed, e)),
            }
        }
        Ok(())
    }

    /// Reads cell `index`'s record in state `status`.
    ///
    /// # Errors
    /// I/O errors; a record that does not parse or names another cell.
    pub fn read_record(&self, index: u64, status: &str) -> Result<CellRecord, ExperimentError> {
        let path = self.record_path(index, status);
        // Records are a few hundred bytes: open, read into a buffer that fits, close. (fs::read
        // would also stat the file for its size, a fifth of a merge's system calls.)
        let mut bytes = Vec::with_capacity(2048);
        fs::File::open(&path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(|e| io(&path, e))?;
        let rec: CellRecord = serde_json::from_slice(&bytes).map_err(|e| {
            ExperimentError::Sweep(format!(
                "{}: not a cell record ({e}); delete it to run the cell again",
                path.display()
            ))
        })?;
        if rec.index != index {
            return Err(ExperimentError::Sweep(format!(
                "{}: holds cell {}, not {index}; delete it to run the cell again",
                path.display(),
                rec.index
            )));
        }
        Ok(rec)
    }

    /// Marks cell `index` as running in this process.
    pub(crate) fn mark_running(&self, index: u64, host: &str) -> Result<(), ExperimentError> {
        let path = self.path.join("running").join(self.grid().id(index));
        write_atomic(&path, format!("{host} {}\n", std::process::id()).as_bytes())
    }

    /// Removes cell `index`'s running marker (if a killed process left one, too).
    pub(crate) fn unmark_running(&self, index: u64) {
        // A marker that cannot be removed only makes `status` say "running" for a while; the
        // cell's own record is what counts.
        let _ = fs::remove_file(self.path.join("running").join(self.grid().id(index)));
    }

    /// Every cell's state, from the file names of `cells/` and the markers of `running/`.
    ///
    /// # Errors
    /// I/O errors reading the directories.
    pub fn status(&self) -> Result<Status, ExperimentError> {
        let n = self.grid().len();
        let mut states = vec![CellState::Missing; n as usize];
        let cells = self.path.join("cells");
        for bucket in read_dir_names(&cells)? {
            for name in read_dir_names(&cells.join(&bucket))? {
                let (id, state) = if let Some(id) = name.strip_suffix(".done.json") {
                    (id, CellState::Done)
                } else if let Some(id) = name.strip_suffix(".failed.json") {
                    (id, CellState::Failed)
                } else {
                    continue;
                };
                if let Some(i) = self.parse_id(id) {
                    // Done wins over failed (a retried cell removes its failed record after
                    // writing the done one; a kill in between leaves both).
                    if states[i as usize] != CellState::Done {
                        states[i as usize] = state;
                    }
                }
            }
        }
        let host = hostname();
        let mut stale = 0;
        let running = self.path.join("running");
        for name in read_dir_names(&running)? {
            let Some(i) = self.parse_id(&name) else {
                continue;
            };
            if states[i as usize] != CellState::Missing {
                continue;
            }
            let marker = fs::read_to_string(running.join(&name)).unwrap_or_default();
            let mut parts = marker.split_whitespace();
            let (h, pid) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            if h == host && !Path::new("/proc").join(pid).exists() {
                stale += 1;
            } else {
                states[i as usize] = CellState::Running;
            }
        }
        Ok(Status { states, stale })
    }

    fn parse_id(&self, id: &str) -> Option<u64> {
        let grid = self.grid();
        if id.len() != grid.id_width() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        id.parse().ok().filter(|&i| i < grid.len())
    }

    /// Wall times of up to `limit` finished cells (for the Slurm time estimate).
    pub(crate) fn sample_wall_seconds(&self, limit: usize) -> Vec<f64> {
        let Ok(status) = self.status() else {
            return Vec::new();
        };
        status
            .states
            .iter()
            .enumerate()
            .filter(|(_, s)| **s == CellState::Done)
            .take(limit)
            .filter_map(|(i, _)| self.read_record(i as u64, "done").ok())
            .map(|r| r.wall_seconds)
            .collect()
    }
}

/// This machine's host name (Linux: the kernel's), `unknown` if it cannot be read.
pub(crate) fn hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Appends one CSV field, quoted (RFC 4180) if it holds a comma, quote or line break.
pub(crate) fn push_field(out: &mut String, field: &str) {
    if field.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, renamed into
/// place, so a reader sees the old file, or the whole new one, never a part.
///
/// # Errors
/// [`ExperimentError::Io`] naming `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ExperimentError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(|e| io(path, e))?;
    tmp.write_all(bytes).map_err(|e| io(path, e))?;
    tmp.persist(path).map_err(|e| io(path, e.error))?;
    Ok(())
}

fn io(path: &Path, source: std::io::Error) -> ExperimentError {
    ExperimentError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn is_empty_dir(dir: &Path) -> bool {
    fs::read_dir(dir).is_ok_and(|mut d| d.next().is_none())
}

fn read_dir_names(dir: &Path) -> Result<Vec<String>, ExperimentError> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(dir, e)),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io(dir, e))?;
        if let Ok(name) = entry.file_name().into_string() {
            names.push(name);
        }
    }
    Ok(names)
}

/// Parameter names and values (text) of a cell, for its record.
pub(crate) fn params_text(grid: &Grid, index: u64) -> Vec<(String, String)> {
    let cell = grid.cell(index);
    grid.names()
        .iter()
        .zip(&cell.values)
        .filter_map(|(n, v)| v.as_ref().map(|v| ((*n).to_owned(), v.to_string())))
        .collect()
}

/// Groups of cell indices by a key, in order of first appearance.
pub(crate) fn group_order<K: std::hash::Hash + Eq + Clone>(keys: &[K]) -> (Vec<K>, Vec<usize>) {
    let mut seen: HashMap<K, usize> = HashMap::new();
    let mut order = Vec::new();
    let mut group_of = Vec::with_capacity(keys.len());
    for k in keys {
        let g = *seen.entry(k.clone()).or_insert_with(|| {
            order.push(k.clone());
            order.len() - 1
        });
        group_of.push(g);
    }
    (order, group_of)
}

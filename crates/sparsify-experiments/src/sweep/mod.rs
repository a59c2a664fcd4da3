//! Sweeps: grids of runs over parameters and seeds, resumable, sharded across processes (a
//! Slurm job array), and exact.
//!
//! A sweep is planned from a TOML spec ([`spec`]) into a directory ([`store`]); any number of
//! processes then run the cells they own ([`driver`], `--shard I/N`, `--jobs K`), each cell
//! written atomically as its own file; [`merge`] turns the directory into one table and an
//! aggregate over seeds; [`slurm`] prints the `sbatch` script. What a cell runs is in
//! [`exec`], the one file that calls the solvers.
//!
//! Guarantees: a cell's result depends on its parameters alone (its seed among them), so the
//! merged table is the same bytes whatever the shards, jobs or machines; a killed process loses
//! at most the cells it was running; finished cells are never run again; failed cells record
//! their error and run again only when asked.
//!
//! This module is not a command line: `sparsify sweep` (in `sparsify-cli`) is the glue.

pub mod driver;
pub mod exec;
pub mod merge;
pub mod slurm;
pub mod spec;
pub mod store;

pub use driver::{Event, RunOptions, RunReport, Shard, run};
pub use exec::Kind;
pub use merge::{MergeReport, merge};
pub use slurm::{SlurmOptions, sbatch_script};
pub use spec::{Spec, parse};
pub use store::{CellState, Status, SweepDir};

//! The `sparsify` command-line tool, as a library: argument parsing, files, progress and
//! errors for people, over `sparsify-core`, `sparsify-theory` and `sparsify-experiments`.
//!
//! The binary (`src/main.rs`) installs the Ctrl-C handler and calls [`main_with_args`]; the
//! integration tests call it in-process too, with their own interrupt flag and buffers.
//!
//! This crate is **not** for numerical work or experiments: every simulation lives in the
//! library crates, the claims and figure assembly in `sparsify-experiments`, and this one only
//! turns flags into their calls and their results into files.
//!
//! # Layout
//! One module per subcommand (`run`, `predict`, `verify`, `sweep`), plus shared helpers: `io` (atomic
//! outputs, `.npy` and text input, number formatting) and `error` (the error type and exit
//! codes). Adding a subcommand is one module and one variant of `Command`.
#![deny(missing_docs)]

pub mod embed;
mod error;
mod init;
mod io;
mod memory;
mod predict;
mod progress;
mod run;
mod sweep;
pub(crate) mod train;
mod verify;

use std::ffi::OsString;
use std::io::Write;
use std::sync::atomic::AtomicBool;

use clap::error::ErrorKind;
use clap::{Parser, Subcommand};

pub use error::exit;
pub use io::exit_removing_staged_outputs;

/// Where a command writes and what tells it to stop.
pub struct Context<'a> {
    /// Human-readable results (when no output file is requested) and `--help`.
    pub stdout: &'a mut dyn Write,
    /// Error messages (one line each) and notices.
    pub stderr: &'a mut dyn Write,
    /// Set (by a Ctrl-C handler, or a test) to stop a run; requested outputs are still written.
    pub interrupted: &'a AtomicBool,
    /// Whether to draw a progress bar on the process's stderr (only if it is a terminal).
    pub progress: bool,
}

/// Simulations of how L1 regularisation sparsifies one feature's encoding.
#[derive(Debug, Parser)]
#[command(
    name = "sparsify",
    version,
    subcommand_required = true,
    arg_required_else_help = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the simulation from initial weights until one coordinate is left.
    ///
    /// By default (--method direct) each Euler step is w += ((1 - ||w||^2) w - lambda) h on the
    /// surviving coordinates, then every coordinate <= 0 is dropped; --method reduced does the
    /// same in O(1) per step, --method adaptive follows the flow in continuous time. By default
    /// the run prints a short summary; --trajectory, --deaths and --summary write files instead
    /// (atomically: complete or not at all).
    Run(run::RunArgs),
    /// Predict death times (or, with --continuum, whole curves) in closed form, without
    /// simulating.
    ///
    /// From initial weights: the time at which the number of survivors first becomes m', for
    /// every m' from m-1 down to 1 (docs/theory.md §3). --continuum: m'(t), ||w||_1(t) and
    /// the relative variance of the half-normal continuum limit on a log grid of t (section 4).
    Predict(predict::PredictArgs),
    /// Check every theoretical claim against simulation and print a table.
    ///
    /// Exit codes: 0 every claim passed, 1 a claim failed (a NaN in its measurement fails it),
    /// 2 bad usage, 74 an output could not be written.
    Verify(verify::VerifyArgs),
    /// Grids of runs over parameters and seeds, resumable, on one machine or a Slurm cluster.
    ///
    /// `plan` expands a TOML spec into numbered cells in a directory; `run` runs the cells this
    /// process owns (--jobs K at a time, --shard I/N), each written atomically as its own file,
    /// skipping finished ones; `status` counts them; `merge` writes one row per cell and an
    /// aggregate over seeds; `slurm` prints an sbatch script for a job array.
    Sweep(sweep::SweepArgs),
    /// Train the paper's n-feature model (n features on m neurons, tied weights, L1) and count
    /// its polysemantic neurons.
    ///
    /// y = relu(W W^T x) on the identity batch, loss sum (y - x)^2 + lambda sum |W|, trained by
    /// AdamW (torch's, with its default weight decay 0.01, as the paper), plain SGD, or the
    /// gradient flow with exact zeros; instances in parallel, float32 by default.
    Train(train::TrainArgs),
}

/// Runs the command line `args` (the first item is the program name) and returns the process
/// exit code (see [`exit`]). Never panics on user input: every problem becomes one
/// `error: ...` line on `ctx.stderr`.
pub fn main_with_args<I, T>(args: I, ctx: &mut Context<'_>) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => return report_clap_error(&e, ctx),
    };
    let result = match &cli.command {
        Command::Run(args) => run::execute(args, ctx),
        Command::Predict(args) => predict::execute(args, ctx),
        Command::Verify(args) => verify::execute(args, ctx),
        Command::Sweep(args) => sweep::execute(args, ctx),
        Command::Train(args) => train::execute(args, ctx),
    };
    result.unwrap_or_else(|e| {
        // If stderr itself is gone there is nowhere left to tell; the exit code still says it.
        // An interrupt is what the user asked for, not an error.
        let prefix = if e.exit_code() == exit::INTERRUPTED {
            ""
        } else {
            "error: "
        };
        let _ = writeln!(ctx.stderr, "{prefix}{e}");
        e.exit_code()
    })
}

/// Prints clap's help or version to stdout, or its parse error as one line on stderr.
fn report_clap_error(e: &clap::Error, ctx: &mut Context<'_>) -> u8 {
    let text = e.render().to_string();
    let _ = match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => write!(ctx.stdout, "{text}"),
        // `sparsify` alone: the whole help, on stderr, as a usage error.
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => write!(ctx.stderr, "{text}"),
        _ => writeln!(
            ctx.stderr,
            "{}",
            error::escape_controls(&clap_one_line(&text))
        ),
    };
    u8::try_from(e.exit_code()).unwrap_or(exit::USAGE)
}

/// Clap's multi-line error (message, tips, usage, "for more information") as one line: the
/// message and tips joined by `; `, the usage dropped.
fn clap_one_line(text: &str) -> String {
    let mut line = String::new();
    for part in text.lines().map(str::trim).filter(|l| {
        !(l.is_empty() || l.starts_with("Usage:") || l.starts_with("For more information"))
    }) {
        if !line.is_empty() {
            // "...not provided:" introduces what follows; anything else is a separate clause.
            line.push_str(if line.ends_with(':') { " " } else { "; " });
        }
        line.push_str(part);
    }
    format!("{line} (see --help)")
}

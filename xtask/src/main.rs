//! Project automation: `cargo xtask figures | verify | bench`.
//!
//! Calls the libraries directly (no shelling out to the `sparsify` binary except where a
//! benchmark times the binary itself). Only this crate and `sparsify-cli` touch the filesystem.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod bench;
mod bench_train;
mod figures;
mod verify;

const USAGE: &str = "\
usage: cargo xtask <task> [options]

tasks:
  figures [--out DIR]     regenerate every figure (PNG + SVG) into DIR (default: figures/)
  verify  [--profile fast|full]
                          run every theoretical claim and write figures/claims.md
  bench   [--quick] [--m M] [--lambda L]
                          time sparsify against the published Python loop and numpy
  bench   --scale M       time sparsify run --method reduced --parallel-init at m = M
                          (e.g. 1e8): process, prefix moments, loop, peak RSS
  bench   --train [--quick] [--m 1024,4096] [--rounds R] [--steps S]
                          one n-feature training step (n = 256, 16 instances, AdamW) in
                          sparsify train vs numpy (xtask/bench) and the paper's torch step
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(task) = args.first() else {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    };
    let rest = &args[1..];
    let result = match task.as_str() {
        "figures" => figures::run(rest),
        "verify" => verify::run(rest),
        "bench" => bench::run(rest),
        "-h" | "--help" | "help" => {
            eprint!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => {
            eprintln!("error: unknown task '{other}'\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (the parent of this crate's manifest directory).
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The value after `flag` in `args`, if present.
pub(crate) fn flag_value<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

//! The `sparsify` command-line tool: installs the signal handling and hands the command line to
//! [`sparsify_cli::main_with_args`].
//!
//! Ctrl-C (SIGINT) and SIGTERM are handled alike: the first sets the flag that every loop
//! polls, so a run stops within a second and still writes its outputs (exit 130, or 143 for
//! SIGTERM); the second means the user will not wait: the staging directories of the outputs
//! are removed and the process exits at once with the same code, leaving every output path as
//! it was.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use sparsify_cli::{Context, exit, exit_removing_staged_outputs, main_with_args};

/// Set by the first signal; the loops poll it.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// The first signal received (0 before any).
static SIGNAL: AtomicI32 = AtomicI32::new(0);

/// The exit code for a run stopped by `signal`: 128 + its number, as a shell reports it.
fn code_for(signal: i32) -> u8 {
    if signal == SIGTERM {
        exit::TERMINATED
    } else {
        exit::INTERRUPTED
    }
}

fn main() -> ExitCode {
    // First thing, so that a signal at any later moment stops the run cleanly and its outputs
    // are still written.
    let handler = Signals::new([SIGINT, SIGTERM]).map(|mut signals| {
        std::thread::spawn(move || {
            for signal in signals.forever() {
                // The signal is recorded before the flag is set, so that the code main returns
                // for a stopped run is the first signal's.
                if SIGNAL
                    .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst)
                    .is_err()
                {
                    exit_removing_staged_outputs(code_for(SIGNAL.load(Ordering::SeqCst)));
                }
                INTERRUPTED.store(true, Ordering::SeqCst);
            }
        })
    });
    let stderr = std::io::stderr();
    let progress = stderr.is_terminal();
    let mut stderr = stderr.lock();
    if let Err(e) = handler {
        use std::io::Write;
        let _ = writeln!(
            stderr,
            "warning: cannot handle Ctrl-C ({e}); Ctrl-C will lose this run's outputs"
        );
    }
    let stdout = std::io::stdout();
    let mut stdout = stdout.lock();
    let mut ctx = Context {
        stdout: &mut stdout,
        stderr: &mut stderr,
        interrupted: &INTERRUPTED,
        progress,
    };
    let code = main_with_args(std::env::args_os(), &mut ctx);
    if code == exit::INTERRUPTED {
        return ExitCode::from(code_for(SIGNAL.load(Ordering::SeqCst)));
    }
    ExitCode::from(code)
}

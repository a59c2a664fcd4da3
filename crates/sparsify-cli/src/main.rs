//! The `sparsify` command-line tool: installs the Ctrl-C handler and hands the command line to
//! [`sparsify_cli::main_with_args`].

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use sparsify_cli::{Context, exit, main_with_args};

/// Set by the first Ctrl-C; the Euler loop polls it before every step.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

fn main() -> ExitCode {
    // First thing, so that a Ctrl-C at any later moment stops the run cleanly and its outputs
    // are still written. A second Ctrl-C means the user will not wait: exit at once.
    let handler = ctrlc::set_handler(|| {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            std::process::exit(i32::from(exit::INTERRUPTED));
        }
    });
    let stderr = std::io::stderr();
    let progress = stderr.is_terminal();
    let mut stderr = stderr.lock();
    if let Err(e) = handler {
        use std::io::Write;
        let _ = writeln!(
            stderr,
            "warning: cannot install a Ctrl-C handler ({e}); Ctrl-C will lose this run's outputs"
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
    ExitCode::from(main_with_args(std::env::args_os(), &mut ctx))
}

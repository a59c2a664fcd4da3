//! The CLI's one error type, and the exit codes it maps to.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use sparsify_core::CoreError;

/// Exit codes of the `sparsify` binary.
pub mod exit {
    /// The command did what was asked.
    pub const SUCCESS: u8 = 0;
    /// `sparsify verify`: at least one claim failed (every output was still written).
    pub const CLAIM_FAILED: u8 = 1;
    /// A bad flag, value or input file: nothing was run and nothing was written.
    pub const USAGE: u8 = 2;
    /// Reading or writing a file failed after the arguments were accepted (disk full,
    /// permissions changed mid-run, ...): `EX_IOERR` of sysexits(3), so that a script can tell
    /// a failed disk from a failed claim.
    pub const IO: u8 = 74;
    /// Stopped by Ctrl-C (128 + SIGINT); every requested output was still written.
    pub const INTERRUPTED: u8 = 130;
}

/// Everything that makes a command fail. The `Display` form is one line without the leading
/// `error: `, which the caller adds.
#[derive(Debug)]
pub(crate) enum CliError {
    /// The user asked for something invalid (exit code 2). The message names the flag, the
    /// value and what is allowed.
    Usage(String),
    /// Writing an output failed after the run (exit code 74).
    Io {
        /// The output the user asked for.
        path: PathBuf,
        /// What failed.
        source: io::Error,
    },
}

impl CliError {
    /// A usage error with this message.
    pub(crate) fn usage(msg: impl Into<String>) -> Self {
        CliError::Usage(msg.into())
    }

    /// A library error caused by the value of `flag`: the library's message already names the
    /// parameter, its value and the valid range; this adds the flag the user typed.
    pub(crate) fn core(flag: &str, err: &CoreError) -> Self {
        CliError::Usage(format!("{flag}: {err}"))
    }

    /// A failure to write `path`.
    pub(crate) fn io(path: &Path, source: io::Error) -> Self {
        CliError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// The process exit code for this error.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => exit::USAGE,
            CliError::Io { .. } => exit::IO,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Messages are kept on one line: a newline inside one (from an OS error, say)
            // would break scripts that read the first stderr line.
            CliError::Usage(msg) => f.write_str(&one_line(msg)),
            CliError::Io { path, source } => write!(
                f,
                "cannot write {}: {}",
                path.display(),
                one_line(&source.to_string())
            ),
        }
    }
}

impl std::error::Error for CliError {}

/// `s` with its line breaks replaced by `; `.
pub(crate) fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

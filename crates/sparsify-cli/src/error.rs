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
    /// Stopped by Ctrl-C (128 + SIGINT): a run stopped in its loop still writes every
    /// requested output (marked incomplete); stopped before its loop, or in `predict`, it
    /// writes none.
    pub const INTERRUPTED: u8 = 130;
    /// Stopped by SIGTERM (128 + SIGTERM), which is handled exactly like Ctrl-C.
    pub const TERMINATED: u8 = 143;
}

/// Everything that makes a command fail. The `Display` form is one line without the leading
/// `error: `, which the caller adds.
#[derive(Debug)]
pub(crate) enum CliError {
    /// The user asked for something invalid (exit code 2). The message names the flag, the
    /// value and what is allowed.
    Usage(String),
    /// Stopped by Ctrl-C or SIGTERM before anything could be written (exit code 130; the
    /// binary turns it into 143 for SIGTERM). Says what was under way.
    Interrupted(String),
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
        CliError::Usage(format!("{flag}: {}", short_floats(&err.to_string())))
    }

    /// Stopped by a signal while `doing` (e.g. `drawing the initial weights`).
    pub(crate) fn interrupted(doing: impl Into<String>) -> Self {
        CliError::Interrupted(doing.into())
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
            CliError::Interrupted(_) => exit::INTERRUPTED,
            CliError::Io { .. } => exit::IO,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Messages are kept on one line: a newline inside one (from an OS error, say)
            // would break scripts that read the first stderr line.
            CliError::Usage(msg) => f.write_str(&escape_controls(&one_line(msg))),
            CliError::Interrupted(doing) => write!(
                f,
                "interrupted while {}; nothing was written",
                escape_controls(&one_line(doing))
            ),
            CliError::Io { path, source } => write!(
                f,
                "cannot write {}: {}",
                shown(path),
                escape_controls(&one_line(&source.to_string()))
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

/// A path for a message: control characters (an escape sequence in a file name would steer
/// the terminal) written as escapes, `\u{1b}`, `\n`, ...
pub(crate) fn shown(path: &Path) -> String {
    escape_controls(&path.display().to_string())
}

/// `s` with every control character escaped as Rust writes it (`\n`, `\t`, `\u{1b}`), so that
/// bytes from an input (a file name, a value in a file) never reach the terminal raw.
pub(crate) fn escape_controls(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_owned();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A library's message with every number longer than 21 characters (a float printed
/// positionally: `1e300` as 301 digits, `1e-300` as 302) rewritten in Rust's short form
/// (`1e300`); shorter numbers, integers up to 2^64 included, are left alone.
pub(crate) fn short_floats(msg: &str) -> String {
    const LONGEST_KEPT: usize = 21;
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        let tail = &rest[start..];
        let len = tail
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(tail.len());
        let token = &tail[..len];
        out.push_str(&rest[..start]);
        match token.parse::<f64>() {
            Ok(x) if token.len() > LONGEST_KEPT => out.push_str(&format!("{x:?}")),
            _ => out.push_str(token),
        }
        rest = &tail[len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_bytes_are_escaped() {
        assert_eq!(escape_controls("a\u{1b}[31mb\n"), "a\\u{1b}[31mb\\n");
        assert_eq!(escape_controls("plain é"), "plain é");
    }

    #[test]
    fn long_positional_floats_become_short() {
        let big = format!("invalid sigma = {}: must be small", 1e300);
        assert_eq!(short_floats(&big), "invalid sigma = 1e300: must be small");
        let small = format!("h = {} here", 1e-300);
        assert_eq!(short_floats(&small), "h = 1e-300 here");
        let kept = "step 18446744073709551615 at t = 0.5, m = 100000";
        assert_eq!(short_floats(kept), kept);
        assert_eq!(short_floats(&format!("-{}", 1e300)), "-1e300");
    }
}

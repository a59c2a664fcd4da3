//! Everything that touches files: outputs (`output`: atomic, written through devices and
//! symlinks, never onto an input), initial-weight files (`npy` and text), number formatting.

mod npy;
mod output;

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use sparsify_core::{CoreError, InitialWeights};

use crate::error::{CliError, escape_controls, shown};
use crate::memory;

pub(crate) use npy::read_npy_array;
pub use output::exit_removing_staged_outputs;
pub(crate) use output::{Content, PendingOutput, check_distinct, os_reason, write_all};

pub(crate) use sparsify_experiments::csv::fmt_f64;

/// Initial weights from a file given by `flag`: a 1-D `.npy` array of float64 or float32, or
/// (any other extension) text with one number per line, blank lines and `#` comments allowed.
/// Any order; `abs` takes absolute values first.
///
/// # Errors
/// A usage error naming the flag, the file and, for a bad value, its line or index.
pub(crate) fn read_initial_weights(
    flag: &str,
    path: &Path,
    abs: bool,
) -> Result<InitialWeights, CliError> {
    let shown_path = shown(path);
    let is_npy = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"));
    // For text, the line of each value (an index into the array needs no table).
    let (values, lines) = if is_npy {
        (npy::read_npy(flag, path)?, None)
    } else {
        let (values, lines) = read_text(flag, path)?;
        (values, Some(lines))
    };
    InitialWeights::from_values(values, abs).map_err(|e| match e {
        CoreError::InvalidWeight { index, value } => {
            let at = match lines.as_ref().and_then(|l| l.get(index)) {
                Some(line) => format!("line {line}"),
                None => format!("index {index}"),
            };
            let hint = if abs {
                "weights must be finite and nonzero (--abs takes absolute values)"
            } else {
                "weights must be finite and > 0 (pass --abs to take absolute values)"
            };
            CliError::usage(format!(
                "{flag} {shown_path}: invalid weight {} at {at}: {hint}",
                fmt_f64(value)
            ))
        }
        CoreError::TooFewWeights { m } => CliError::usage(format!(
            "{flag} {shown_path}: holds {m} weight(s); need at least 2 to sparsify"
        )),
        other => CliError::usage(format!("{flag} {shown_path}: {other}")),
    })
}

/// The longest line of a weights file: a number takes at most a few dozen characters, so a
/// longer line is not one (a binary file, or `/dev/zero`), and reading it whole could exhaust
/// memory.
const MAX_LINE: usize = 4096;

/// Values between two checks of the memory they take.
const CHECK_MEMORY_EVERY: usize = 1 << 20;

/// The numbers of a text file and the 1-based line of each. Read line by line, so memory grows
/// with the numbers read, and checked against the memory available as it grows (the file may
/// be a FIFO or a device with no end).
fn read_text(flag: &str, path: &Path) -> Result<(Vec<f64>, Vec<usize>), CliError> {
    let shown_path = shown(path);
    let file = fs::File::open(path).map_err(|e| {
        CliError::usage(format!(
            "{flag} {shown_path}: cannot read: {}",
            output::os_reason(&e)
        ))
    })?;
    let mut reader = BufReader::new(file);
    let mut values = Vec::new();
    let mut lines = Vec::new();
    let mut buf = Vec::new();
    for number in 1usize.. {
        buf.clear();
        let read = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(|e| {
                CliError::usage(format!(
                    "{flag} {shown_path}: cannot read as text: {}",
                    output::os_reason(&e)
                ))
            })?;
        if read == 0 {
            break;
        }
        if buf.len() > MAX_LINE && buf.last() != Some(&b'\n') {
            return Err(CliError::usage(format!(
                "{flag} {shown_path}: line {number} is longer than {MAX_LINE} bytes; expected \
                 one number per line (is this a text file?)"
            )));
        }
        let Ok(line) = std::str::from_utf8(&buf) else {
            return Err(CliError::usage(format!(
                "{flag} {shown_path}: line {number} is not UTF-8 text; expected one number per \
                 line (a .npy file needs the .npy extension)"
            )));
        };
        let field = line.split('#').next().unwrap_or_default().trim();
        if field.is_empty() {
            continue;
        }
        let value: f64 = field.parse().map_err(|_| {
            CliError::usage(format!(
                "{flag} {shown_path}: line {number}: cannot read '{}' as a number \
                 (expected one number per line; '#' starts a comment)",
                escape_controls(field)
            ))
        })?;
        if values.len().is_multiple_of(CHECK_MEMORY_EVERY) {
            // 8 bytes for the value and 8 for its line, for up to twice as many as will have
            // been read at the next check (the vectors double as they grow).
            memory::check(
                &format!("{flag} {shown_path}"),
                memory::Need::bytes(32, values.len() + CHECK_MEMORY_EVERY, "values"),
            )?;
        }
        if values.try_reserve(1).is_err() || lines.try_reserve(1).is_err() {
            return Err(CliError::usage(format!(
                "{flag} {shown_path}: out of memory after {} values",
                values.len()
            )));
        }
        values.push(value);
        lines.push(number);
    }
    Ok((values, lines))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_round_trip_and_use_python_readable_words() {
        for x in [0.5, 1.0, 6.151731454508504e-07, 1e300, 0.1 + 0.2, 22281.0] {
            assert_eq!(fmt_f64(x).parse::<f64>().unwrap(), x);
        }
        assert_eq!(fmt_f64(22281.0), "22281.0");
        assert_eq!(fmt_f64(f64::NAN), "nan");
        assert_eq!(fmt_f64(f64::INFINITY), "inf");
        assert_eq!(fmt_f64(f64::NEG_INFINITY), "-inf");
    }
}

//! Everything that touches files: atomic outputs, initial-weight files, number formatting.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use npyz::{DType, NpyFile, TypeChar};
use sparsify_core::{CoreError, InitialWeights};
use tempfile::NamedTempFile;

use crate::error::CliError;

/// An output file that appears only when complete.
///
/// [`PendingOutput::create`] makes a temporary file in the target's directory at once, so an
/// output that cannot be created (missing directory, no permission) fails before any work is
/// done; [`PendingOutput::write`] fills it and [`PendingOutput::commit`] renames it into place,
/// which is atomic within one file system. Dropping it uncommitted deletes the temporary file,
/// so a failed run leaves nothing behind.
#[derive(Debug)]
pub(crate) struct PendingOutput {
    path: PathBuf,
    tmp: NamedTempFile,
}

impl PendingOutput {
    /// Creates the temporary file for `path`, given by `flag`.
    ///
    /// # Errors
    /// A usage error naming the flag and the path if `path` is a directory or its directory
    /// does not accept a new file.
    pub(crate) fn create(flag: &str, path: &Path) -> Result<Self, CliError> {
        let shown = path.display();
        if path.file_name().is_none() || path.is_dir() {
            return Err(CliError::usage(format!(
                "{flag} {shown}: is a directory, not a file name"
            )));
        }
        // `Path::parent` of a bare file name is "", which means the current directory.
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let mut builder = tempfile::Builder::new();
        builder.prefix(".sparsify-").suffix(".tmp");
        // Temporary files are private (0600) by default; outputs should get the usual
        // permissions that the umask allows, like any file the user creates.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(fs::Permissions::from_mode(0o666));
        }
        if !dir.is_dir() {
            return Err(CliError::usage(format!(
                "{flag} {shown}: '{}' is not an existing directory",
                dir.display()
            )));
        }
        let tmp = builder.tempfile_in(dir).map_err(|e| {
            // tempfile adds the random temporary name to the message; the user never chose
            // that name, so show the operating system's reason alone.
            let reason = e
                .get_ref()
                .and_then(std::error::Error::source)
                .map_or_else(|| e.to_string(), ToString::to_string);
            CliError::usage(format!(
                "{flag} {shown}: cannot create a file in directory '{}': {reason}",
                dir.display()
            ))
        })?;
        Ok(Self {
            path: path.to_path_buf(),
            tmp,
        })
    }

    /// The final path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the whole content through a buffer.
    ///
    /// # Errors
    /// An I/O error naming the final path.
    pub(crate) fn write(
        &mut self,
        fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> Result<(), CliError> {
        let path = self.path.clone();
        let mut w = BufWriter::new(self.tmp.as_file_mut());
        fill(&mut w)
            .and_then(|()| w.flush())
            .map_err(|e| CliError::io(&path, e))?;
        drop(w);
        self.tmp
            .as_file()
            .sync_all()
            .map_err(|e| CliError::io(&path, e))
    }

    /// Renames the temporary file into place.
    ///
    /// # Errors
    /// An I/O error naming the final path; the temporary file is then deleted.
    pub(crate) fn commit(self) -> Result<(), CliError> {
        let Self { path, tmp, .. } = self;
        tmp.persist(&path)
            .map_err(|e| CliError::io(&path, e.error))?;
        Ok(())
    }
}

/// A float for CSV: Rust's shortest round-trip digits, in `{:?}` form.
///
/// `{:?}` rather than `{}`: both print the shortest digits that read back to the same `f64`,
/// but `{}` never uses an exponent (1e-300 would be 300 zeros), while `{:?}` switches to
/// `1.5e-7` outside `[1e-4, 1e16)`, like Python's `repr` (whose reference files these outputs
/// are compared with; Python writes `e-07` where Rust writes `e-7`, and both read either).
/// NaN is written `nan` and infinities `inf`/`-inf`, which Python's `float()` and pandas read.
pub(crate) fn fmt_f64(x: f64) -> String {
    if x.is_nan() {
        "nan".to_owned()
    } else {
        format!("{x:?}")
    }
}

/// Where a value came from in an input file, for error messages.
#[derive(Debug, Clone, Copy)]
enum Position {
    /// 1-based line of a text file.
    Line(usize),
    /// 0-based index into a `.npy` array.
    Index(usize),
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Position::Line(n) => write!(f, "line {n}"),
            Position::Index(i) => write!(f, "index {i}"),
        }
    }
}

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
    let shown = path.display();
    let is_npy = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"));
    let (values, positions) = if is_npy {
        let values = read_npy(flag, path)?;
        let positions = (0..values.len()).map(Position::Index).collect();
        (values, positions)
    } else {
        read_text(flag, path)?
    };
    InitialWeights::from_values(values, abs).map_err(|e| match e {
        CoreError::InvalidWeight { index, value } => {
            let at = positions
                .get(index)
                .map_or_else(|| format!("index {index}"), ToString::to_string);
            let hint = if abs {
                "weights must be finite and nonzero (--abs takes absolute values)"
            } else {
                "weights must be finite and > 0 (pass --abs to take absolute values)"
            };
            CliError::usage(format!(
                "{flag} {shown}: invalid weight {value} at {at}: {hint}"
            ))
        }
        CoreError::TooFewWeights { m } => CliError::usage(format!(
            "{flag} {shown}: holds {m} weight(s); need at least 2 to sparsify"
        )),
        other => CliError::usage(format!("{flag} {shown}: {other}")),
    })
}

fn read_npy(flag: &str, path: &Path) -> Result<Vec<f64>, CliError> {
    let shown = path.display();
    let bytes =
        fs::read(path).map_err(|e| CliError::usage(format!("{flag} {shown}: cannot read: {e}")))?;
    let npy = NpyFile::new(&bytes[..])
        .map_err(|e| CliError::usage(format!("{flag} {shown}: not a valid .npy file: {e}")))?;
    if npy.shape().len() != 1 {
        return Err(CliError::usage(format!(
            "{flag} {shown}: array has shape {:?}; need a 1-D array",
            npy.shape()
        )));
    }
    let dtype = npy.dtype();
    let size = match &dtype {
        DType::Plain(ts) if ts.type_char() == TypeChar::Float => ts.size_field(),
        _ => 0,
    };
    let read_err = |e: io::Error| CliError::usage(format!("{flag} {shown}: cannot read data: {e}"));
    match size {
        8 => npy.into_vec::<f64>().map_err(read_err),
        4 => Ok(npy
            .into_vec::<f32>()
            .map_err(read_err)?
            .into_iter()
            .map(f64::from)
            .collect()),
        _ => Err(CliError::usage(format!(
            "{flag} {shown}: dtype {} is not supported; need float64 ('<f8') or float32 ('<f4')",
            dtype.descr()
        ))),
    }
}

fn read_text(flag: &str, path: &Path) -> Result<(Vec<f64>, Vec<Position>), CliError> {
    let shown = path.display();
    let text = fs::read_to_string(path)
        .map_err(|e| CliError::usage(format!("{flag} {shown}: cannot read as text: {e}")))?;
    let mut values = Vec::new();
    let mut positions = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let field = line.split('#').next().unwrap_or_default().trim();
        if field.is_empty() {
            continue;
        }
        let value: f64 = field.parse().map_err(|_| {
            CliError::usage(format!(
                "{flag} {shown}: line {}: cannot read '{field}' as a number \
                 (expected one number per line; '#' starts a comment)",
                i + 1
            ))
        })?;
        values.push(value);
        positions.push(Position::Line(i + 1));
    }
    Ok((values, positions))
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

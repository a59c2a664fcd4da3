//! Outputs that appear complete or not at all.
//!
//! Every output path is resolved and checked before the run ([`PendingOutput::create`]):
//!
//! - a regular file (or a new one) is filled in a private staging directory
//!   `.sparsify-XXXXXX.tmp/` beside it and renamed over it, which is atomic within one file
//!   system; a symlink is followed first, so its target is replaced and the link kept;
//! - a device or FIFO (`/dev/null`, `/dev/stdout`, a named pipe) is opened and written
//!   directly, since it cannot be replaced (renaming over `/dev/null` would destroy it);
//! - a directory, a socket, a path whose directory does not exist, and any output that is an
//!   input or another output (compared after resolving links, as canonical directory plus
//!   file name, and by device and inode when the file exists) are refused with exit 2.
//!
//! [`write_all`] writes every staged output first, then the devices and FIFOs, and renames the
//! staged ones into place only when all have been written: when one fails, none of the files
//! is replaced (what a device or FIFO has already received cannot be taken back).
//!
//! The staging directories are listed in a process-wide registry so that a second Ctrl-C
//! ([`exit_removing_staged_outputs`]) can remove them before exiting: no `.sparsify-*` entry is
//! ever left behind by a signal the process can catch.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use tempfile::TempDir;

use crate::error::{CliError, shown};

/// The staging directories that exist now (see the module docs).
static STAGED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn staged() -> MutexGuard<'static, Vec<PathBuf>> {
    STAGED.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Removes every staging directory and exits with `code`, holding the registry so that no
/// staging directory can be created or committed meanwhile. For a second Ctrl-C or SIGTERM:
/// the outputs of the run are abandoned and every file the user named is left as it was
/// (unless the outputs were already being renamed into place, which then completes first).
pub fn exit_removing_staged_outputs(code: u8) -> ! {
    let guard = staged();
    for dir in guard.iter() {
        let _ = fs::remove_dir_all(dir);
    }
    std::process::exit(i32::from(code))
}

/// A staging directory that is in the registry while it exists.
#[derive(Debug)]
struct Staging {
    dir: Option<TempDir>,
}

impl Staging {
    fn new(in_dir: &Path) -> io::Result<Self> {
        let mut registry = staged();
        let dir = tempfile::Builder::new()
            .prefix(".sparsify-")
            .suffix(".tmp")
            .tempdir_in(in_dir)?;
        registry.push(dir.path().to_path_buf());
        Ok(Self { dir: Some(dir) })
    }

    fn path(&self) -> &Path {
        self.dir.as_ref().map_or(Path::new(""), TempDir::path)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take() {
            let mut registry = staged();
            registry.retain(|p| p != dir.path());
            // Removed while the registry is held, so an exiting signal handler never sees a
            // directory half removed.
            let _ = dir.close();
        }
    }
}

/// What a path names, once links are followed.
#[derive(Debug)]
enum Target {
    /// A regular file, or one to be created: `real` is its canonical directory joined with
    /// its file name; the content is staged in `staging` and renamed to `real`.
    File { real: PathBuf, staging: Staging },
    /// A device or FIFO, written directly through the user's path.
    Stream {
        /// A character device (`/dev/null`, a terminal): several outputs may share one.
        char_device: bool,
    },
}

/// Identity of an existing file: device and inode.
type DevIno = (u64, u64);

/// One output the user asked for, checked and staged before the run.
#[derive(Debug)]
pub(crate) struct PendingOutput {
    flag: &'static str,
    path: PathBuf,
    target: Target,
    dev_ino: Option<DevIno>,
    /// The name of the staged file inside the staging directory (`out.png` keeps the
    /// extension, which the figure renderer reads).
    staged_name: String,
}

impl PendingOutput {
    /// Resolves `path` (given by `flag`) and prepares it, or says why it cannot be written.
    ///
    /// # Errors
    /// A usage error naming the flag and the path: a directory, a socket, a directory that
    /// does not exist, a symlink loop, or a directory that does not accept a new file.
    pub(crate) fn create(flag: &'static str, path: &Path) -> Result<Self, CliError> {
        let refuse = |why: String| CliError::usage(format!("{flag} {}: {why}", shown(path)));
        if names_a_directory(path) {
            return Err(refuse("is a directory, not a file name".to_owned()));
        }
        let extension = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .filter(|e| e.chars().all(|c| c.is_ascii_alphanumeric()));
        let staged_name = extension.map_or_else(|| "out".to_owned(), |e| format!("out.{e}"));
        match fs::metadata(path) {
            Ok(md) => {
                let dev_ino = dev_ino(&md);
                if md.is_dir() {
                    return Err(refuse("is a directory, not a file name".to_owned()));
                }
                if md.is_file() {
                    let real = fs::canonicalize(path)
                        .map_err(|e| refuse(format!("cannot resolve: {}", os_reason(&e))))?;
                    let staging = stage_beside(&real).map_err(refuse)?;
                    return Ok(Self {
                        flag,
                        path: path.to_path_buf(),
                        target: Target::File { real, staging },
                        dev_ino,
                        staged_name,
                    });
                }
                let char_device = is_char_device(&md);
                if !(char_device || is_fifo_or_block(&md)) {
                    return Err(refuse(
                        "is a socket or other special file that cannot be written".to_owned(),
                    ));
                }
                Ok(Self {
                    flag,
                    path: path.to_path_buf(),
                    target: Target::Stream { char_device },
                    dev_ino,
                    staged_name,
                })
            }
            Err(_) => {
                // A new file, or a dangling symlink: follow the links to the path that will
                // be created.
                let end = follow_links(path).map_err(refuse)?;
                let Some(name) = end.file_name() else {
                    return Err(refuse("is a directory, not a file name".to_owned()));
                };
                let dir = parent_dir(&end);
                let real_dir = fs::canonicalize(dir)
                    .ok()
                    .filter(|d| d.is_dir())
                    .ok_or_else(|| {
                        refuse(format!("'{}' is not an existing directory", shown(dir)))
                    })?;
                let real = real_dir.join(name);
                let staging = stage_beside(&real).map_err(refuse)?;
                Ok(Self {
                    flag,
                    path: path.to_path_buf(),
                    target: Target::File { real, staging },
                    dev_ino: None,
                    staged_name,
                })
            }
        }
    }

    /// The path as the user gave it.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Whether `self` and `other` are the same file (character devices never count: several
    /// outputs may go to one terminal or to `/dev/null`).
    fn same_as(&self, other: &Identity) -> bool {
        if matches!(self.target, Target::Stream { char_device: true }) || other.char_device {
            return false;
        }
        let same_inode = self.dev_ino.is_some() && self.dev_ino == other.dev_ino;
        let same_path = match (&self.target, &other.real) {
            (Target::File { real, .. }, Some(other)) => real == other,
            _ => false,
        };
        same_inode || same_path
    }

    fn identity(&self) -> Identity {
        Identity {
            real: match &self.target {
                Target::File { real, .. } => Some(real.clone()),
                Target::Stream { .. } => None,
            },
            dev_ino: self.dev_ino,
            char_device: matches!(self.target, Target::Stream { char_device: true }),
        }
    }
}

/// What a file is, for comparing an output with an input or another output.
#[derive(Debug)]
struct Identity {
    real: Option<PathBuf>,
    dev_ino: Option<DevIno>,
    char_device: bool,
}

/// Refuses any output that is an input or another output.
///
/// `outputs` are the outputs of one command; `inputs` its input files with their flags.
///
/// # Errors
/// A usage error naming both flags and paths.
pub(crate) fn check_distinct(
    outputs: &[&PendingOutput],
    inputs: &[(&str, &Path)],
) -> Result<(), CliError> {
    for (i, out) in outputs.iter().enumerate() {
        for (flag, input) in inputs {
            let Ok(md) = fs::metadata(input) else {
                // An input that cannot be read is reported when it is read.
                continue;
            };
            let id = Identity {
                real: fs::canonicalize(input).ok(),
                dev_ino: dev_ino(&md),
                char_device: is_char_device(&md),
            };
            if out.same_as(&id) {
                return Err(CliError::usage(format!(
                    "{} {}: the same file as {flag} {}; an output never replaces an input",
                    out.flag,
                    shown(&out.path),
                    shown(input)
                )));
            }
        }
        for other in &outputs[i + 1..] {
            if out.same_as(&other.identity()) {
                return Err(CliError::usage(format!(
                    "{} {} and {} {} are the same file: give each output its own file",
                    out.flag,
                    shown(&out.path),
                    other.flag,
                    shown(&other.path)
                )));
            }
        }
    }
    Ok(())
}

/// Writes an output's text through a buffer.
pub(crate) type WriteText<'a> = Box<dyn FnOnce(&mut dyn Write) -> io::Result<()> + 'a>;

/// Renders an output to the path it is given.
pub(crate) type Render<'a> = Box<dyn FnOnce(&Path) -> Result<(), CliError> + 'a>;

/// The content of one output.
pub(crate) enum Content<'a> {
    /// Written through a buffer.
    Text(WriteText<'a>),
    /// A file that renders itself to the path it is given (a figure).
    Rendered(Render<'a>),
}

/// Writes every output and puts them in place together: the staged files first, then the
/// devices and FIFOs, then every staged file is renamed over its target. When any write fails
/// no file is replaced and every staging directory is removed.
///
/// # Errors
/// An I/O error naming the output's path as the user gave it (never a temporary name).
pub(crate) fn write_all(outputs: Vec<(PendingOutput, Content<'_>)>) -> Result<(), CliError> {
    let (files, streams): (Vec<_>, Vec<_>) = outputs
        .into_iter()
        .partition(|(out, _)| matches!(out.target, Target::File { .. }));
    let mut ready = Vec::with_capacity(files.len());
    for (out, content) in files {
        let Target::File { staging, .. } = &out.target else {
            continue;
        };
        let staged = staging.path().join(&out.staged_name);
        fill(&out.path, &staged, content)?;
        ready.push((out, staged));
    }
    for (out, content) in streams {
        write_stream(&out.path, content)?;
    }
    // Renamed while the registry is held: a second Ctrl-C now waits for the last rename.
    let registry = staged();
    for (out, staged) in &ready {
        if let Target::File { real, .. } = &out.target {
            fs::rename(staged, real).map_err(|e| CliError::io(&out.path, e))?;
        }
    }
    drop(registry);
    Ok(())
}

/// Fills the staged file `staged` of the output `path`, synced to disk.
fn fill(path: &Path, staged: &Path, content: Content<'_>) -> Result<(), CliError> {
    match content {
        Content::Text(write) => {
            let file = fs::File::create(staged).map_err(|e| CliError::io(path, e))?;
            let mut w = BufWriter::new(file);
            write(&mut w)
                .and_then(|()| w.flush())
                .map_err(|e| CliError::io(path, e))?;
            let file = w
                .into_inner()
                .map_err(|e| CliError::io(path, e.into_error()))?;
            file.sync_all().map_err(|e| CliError::io(path, e))
        }
        Content::Rendered(render) => {
            render(staged)?;
            fs::File::open(staged)
                .and_then(|f| f.sync_all())
                .map_err(|e| CliError::io(path, e))
        }
    }
}

/// Writes `content` straight into the device or FIFO `path`.
fn write_stream(path: &Path, content: Content<'_>) -> Result<(), CliError> {
    let io_err = |e| CliError::io(path, e);
    // No truncation and no creation: the path is a device or FIFO that exists.
    let file = fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(io_err)?;
    let mut w = BufWriter::new(file);
    match content {
        Content::Text(write) => write(&mut w).and_then(|()| w.flush()).map_err(io_err),
        Content::Rendered(render) => {
            // Rendered in a private directory of the system's temporary area (the device's
            // own directory, such as /dev, is no place for it), then copied.
            let dir = tempfile::Builder::new()
                .prefix(".sparsify-")
                .suffix(".tmp")
                .tempdir()
                .map_err(io_err)?;
            let name = path
                .extension()
                .map_or_else(|| "out".into(), |e| format!("out.{}", e.to_string_lossy()));
            let staged = dir.path().join(name);
            render(&staged)?;
            let mut src = fs::File::open(&staged).map_err(io_err)?;
            io::copy(&mut src, &mut w)
                .and_then(|_| w.flush())
                .map_err(io_err)
        }
    }
}

/// A staging directory beside `real`, or why there cannot be one.
fn stage_beside(real: &Path) -> Result<Staging, String> {
    let dir = parent_dir(real);
    Staging::new(dir).map_err(|e| {
        format!(
            "cannot create a file in directory '{}': {}",
            shown(dir),
            os_reason(&e)
        )
    })
}

/// The directory of `path` (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// `path` ends in a separator, `.` or `..`: it can only name a directory.
fn names_a_directory(path: &Path) -> bool {
    let raw = path.as_os_str().to_string_lossy();
    path.file_name().is_none() || raw.ends_with('/') || raw.ends_with(std::path::MAIN_SEPARATOR)
}

/// Follows `path` through symlinks to the first path that does not exist (at most 40 links,
/// as the kernel allows).
fn follow_links(path: &Path) -> Result<PathBuf, String> {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&current) {
            Ok(md) if md.file_type().is_symlink() => {
                let next = fs::read_link(&current)
                    .map_err(|e| format!("cannot read the symlink: {}", os_reason(&e)))?;
                current = if next.is_absolute() {
                    next
                } else {
                    parent_dir(&current).join(next)
                };
            }
            _ => return Ok(current),
        }
    }
    Err("too many levels of symbolic links".to_owned())
}

/// The operating system's reason alone: tempfile and others add the (temporary) path to
/// their messages, which the user never chose.
pub(crate) fn os_reason(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => io::Error::from_raw_os_error(code).to_string(),
        None => e
            .get_ref()
            .and_then(std::error::Error::source)
            .map_or_else(|| e.kind().to_string(), ToString::to_string),
    }
}

#[cfg(unix)]
fn dev_ino(md: &fs::Metadata) -> Option<DevIno> {
    use std::os::unix::fs::MetadataExt;
    Some((md.dev(), md.ino()))
}

/// Elsewhere files are compared by their canonical paths alone.
#[cfg(not(unix))]
fn dev_ino(_md: &fs::Metadata) -> Option<DevIno> {
    None
}

#[cfg(unix)]
fn is_char_device(md: &fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    md.file_type().is_char_device()
}

#[cfg(not(unix))]
fn is_char_device(_md: &fs::Metadata) -> bool {
    false
}

#[cfg(unix)]
fn is_fifo_or_block(md: &fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    let t = md.file_type();
    t.is_fifo() || t.is_block_device()
}

#[cfg(not(unix))]
fn is_fifo_or_block(_md: &fs::Metadata) -> bool {
    false
}

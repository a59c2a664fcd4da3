//! Choosing the format, registering the bundled font and writing the file atomically.

use std::io::Write;
use std::path::Path;
use std::sync::OnceLock;

use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use crate::PlotError;
use crate::draw::{Job, draw_err};

/// Family name under which the bundled font is registered. plotters uses it
/// as a lookup key for the `ab_glyph` font table and the SVG backend copies it
/// verbatim into `font-family`, where it reads as a CSS fallback list.
pub(crate) const FAMILY: &str = "DejaVu Sans, sans-serif";

const DEJAVU_SANS: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Png,
    Svg,
}

/// Validates the path, renders `job` into a temporary file next to `path`
/// and renames it over `path`.
pub(crate) fn write(job: &Job<'_>, size: (u32, u32), path: &Path) -> Result<(), PlotError> {
    let format = format_of(path)?;
    ensure_font()?;
    let io_err = |source| PlotError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let suffix = match format {
        Format::Png => ".tmp.png",
        Format::Svg => ".tmp.svg",
    };
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(suffix);
    // Ordinary file permissions (subject to the umask) rather than tempfile's 0600.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    // Dropping `tmp` on any early return deletes the temporary file.
    let mut tmp = builder.tempfile_in(dir).map_err(io_err)?;

    match format {
        Format::Png => {
            // The image encoder picks PNG from the temporary name's suffix and
            // rewrites the file in place, so `tmp` still owns the same inode.
            let root = BitMapBackend::new(tmp.path(), size).into_drawing_area();
            job.draw(&root)?;
            root.present().map_err(draw_err)?;
        }
        Format::Svg => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
                job.draw(&root)?;
                root.present().map_err(draw_err)?;
            }
            tmp.as_file_mut()
                .write_all(svg.as_bytes())
                .map_err(io_err)?;
        }
    }
    tmp.as_file().sync_all().map_err(io_err)?;
    tmp.persist(path).map_err(|e| io_err(e.error))?;
    Ok(())
}

fn format_of(path: &Path) -> Result<Format, PlotError> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match ext.as_deref() {
        Some("png") => Ok(Format::Png),
        Some("svg") => Ok(Format::Svg),
        _ => Err(PlotError::UnsupportedExtension {
            path: path.to_path_buf(),
        }),
    }
}

/// Registers the bundled font on first use; later calls are free.
pub(crate) fn ensure_font() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok =
        *REGISTERED.get_or_init(|| register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS).is_ok());
    if ok { Ok(()) } else { Err(PlotError::Font) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_is_case_insensitive_and_required() {
        assert_eq!(format_of(Path::new("a/b.PNG")).ok(), Some(Format::Png));
        assert_eq!(format_of(Path::new("b.svg")).ok(), Some(Format::Svg));
        for bad in ["b.jpg", "b", "b.png.txt", "dir/"] {
            let err = format_of(Path::new(bad)).unwrap_err();
            assert!(err.to_string().contains(".png or .svg"), "{err}");
        }
    }

    #[test]
    fn bundled_font_registers() {
        assert!(ensure_font().is_ok());
        assert!(ensure_font().is_ok());
    }
}

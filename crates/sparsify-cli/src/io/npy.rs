//! `.npy` input: the header is parsed and checked against the file's length before any data
//! is read, and memory grows only with the data actually read.
//!
//! The format (numpy's `format.py`, versions 1.0 to 3.0): the magic string `\x93NUMPY`, two
//! version bytes, the header's length (2 bytes little-endian in version 1, 4 bytes in 2 and
//! 3), then the header, a Python dict literal such as
//! `{'descr': '<f8', 'fortran_order': False, 'shape': (1000,), }` padded with spaces and a
//! newline, then the data. Only a 1-D array of float64 or float32, either byte order, is
//! accepted: `'<f8'`, `'>f8'`, `'<f4'`, `'>f4'` ([`ACCEPTED_DTYPES`]).

use std::fs;
use std::io::{self, Read};
use std::path::Path;

use crate::error::{CliError, shown};
use crate::memory;

/// Every `descr` that is read, as the error message lists them.
pub(crate) const ACCEPTED_DTYPES: &str =
    "float64 ('<f8' little-endian or '>f8' big-endian) or float32 ('<f4' or '>f4')";

/// The longest header accepted. numpy's own headers of a 1-D array are 128 bytes; its reader
/// refuses more than 10,000 bytes by default (`max_header_size`).
const MAX_HEADER: usize = 10_000;

/// Values read and converted per block.
const BLOCK_VALUES: usize = 8192;

/// The values of the 1-D float array in `path` (given by `flag`), as `f64`.
///
/// # Errors
/// A usage error, on one line, naming the flag, the file, what was expected and what was
/// found.
pub(crate) fn read_npy(flag: &str, path: &Path) -> Result<Vec<f64>, CliError> {
    let (shape, values) = read_npy_array(flag, path, 1)?;
    debug_assert_eq!(shape.len(), 1);
    Ok(values)
}

/// The shape and the values (in C order, as `f64`) of the float array of `ndim` dimensions in
/// `path` (given by `flag`). A Fortran-ordered file is reordered to C order.
///
/// # Errors
/// A usage error, on one line, naming the flag, the file, what was expected and what was
/// found.
pub(crate) fn read_npy_array(
    flag: &str,
    path: &Path,
    ndim: usize,
) -> Result<(Vec<usize>, Vec<f64>), CliError> {
    let bad = |why: String| CliError::usage(format!("{flag} {}: {why}", shown(path)));
    let mut file = fs::File::open(path)
        .map_err(|e| bad(format!("cannot read: {}", super::output::os_reason(&e))))?;
    // Known only for a regular file; a FIFO or device says nothing about its length.
    let file_len = file
        .metadata()
        .ok()
        .filter(fs::Metadata::is_file)
        .map(|m| m.len());
    let header = read_header(&mut file).map_err(|e| bad(format!("not a valid .npy file: {e}")))?;
    let fields = parse_header(&header.text)
        .map_err(|e| bad(format!("not a valid .npy file: in the header, {e}")))?;
    if fields.shape.len() != ndim {
        return Err(bad(format!(
            "array has shape {}; need a {ndim}-D array",
            shape_text(&fields.shape)
        )));
    }
    let n = fields
        .shape
        .iter()
        .try_fold(1_u64, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| {
            bad(format!(
                "header claims shape {}, more values than any file can hold",
                shape_text(&fields.shape)
            ))
        })?;
    let (size, big_endian) = match fields.descr.as_str() {
        "<f8" => (8, false),
        ">f8" => (8, true),
        "<f4" => (4, false),
        ">f4" => (4, true),
        other => {
            return Err(bad(format!(
                "dtype '{other}' is not supported; need {ACCEPTED_DTYPES}"
            )));
        }
    };
    let claimed = n.checked_mul(size).ok_or_else(|| {
        bad(format!(
            "header claims {n} values, more than any file can hold"
        ))
    })?;
    if let Some(len) = file_len {
        let present = len.saturating_sub(header.data_offset);
        if present != claimed {
            return Err(bad(format!(
                "header claims shape {} of {} bytes each, {claimed} bytes of data, but the \
                 file holds {present} bytes after its {}-byte header{}",
                shape_text(&fields.shape),
                size,
                header.data_offset,
                if present < claimed {
                    " (truncated?)"
                } else {
                    " (trailing bytes?)"
                }
            )));
        }
    }
    let n_values = usize::try_from(n)
        .map_err(|_| bad(format!("header claims {n} values, more than fit in memory")))?;
    memory::check(
        &format!("{flag} {}", shown(path)),
        memory::Need::bytes(8, n_values, "values"),
    )?;
    let values = read_values(&mut file, n_values, size as usize, big_endian)
        .map_err(|e| bad(format!("cannot read data: {e}")))?;
    let shape: Vec<usize> = fields.shape.iter().map(|&d| d as usize).collect();
    let values = if fields.fortran_order && shape.len() > 1 {
        fortran_to_c(&shape, &values)
    } else {
        values
    };
    Ok((shape, values))
}

/// The values of a Fortran-ordered (column-major) array of `shape`, in C (row-major) order.
fn fortran_to_c(shape: &[usize], values: &[f64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(values.len());
    let mut index = vec![0_usize; shape.len()];
    for _ in 0..values.len() {
        // The Fortran offset of the C-order multi-index: the first index varies fastest.
        let mut offset = 0;
        for d in (0..shape.len()).rev() {
            offset = offset * shape[d] + index[d];
        }
        out.push(values[offset]);
        for d in (0..shape.len()).rev() {
            index[d] += 1;
            if index[d] < shape[d] {
                break;
            }
            index[d] = 0;
        }
    }
    out
}

/// The header's text and where the data start.
struct Header {
    text: String,
    data_offset: u64,
}

fn read_header(r: &mut impl Read) -> Result<Header, String> {
    let mut magic = [0u8; 8];
    read_fully(r, &mut magic).map_err(|found| {
        format!("expected the 8-byte preamble \\x93NUMPY and a version, found {found} bytes")
    })?;
    if &magic[..6] != b"\x93NUMPY" {
        return Err(format!(
            "expected the magic string \\x93NUMPY at the start, found {}",
            escape_bytes(&magic[..6])
        ));
    }
    let (major, minor) = (magic[6], magic[7]);
    let len_bytes = match major {
        1 => 2,
        2 | 3 => 4,
        _ => {
            return Err(format!(
                "expected format version 1.0, 2.0 or 3.0, found {major}.{minor}"
            ));
        }
    };
    let mut len_buf = [0u8; 4];
    read_fully(r, &mut len_buf[..len_bytes]).map_err(|found| {
        format!("expected a {len_bytes}-byte header length, found {found} bytes")
    })?;
    let header_len = u32::from_le_bytes(len_buf) as usize;
    if header_len > MAX_HEADER {
        return Err(format!(
            "expected a header of at most {MAX_HEADER} bytes, found a length of {header_len}"
        ));
    }
    let mut bytes = vec![0u8; header_len];
    read_fully(r, &mut bytes).map_err(|found| {
        format!("the file ends inside the header: expected {header_len} bytes, found {found}")
    })?;
    let text = if major == 3 {
        String::from_utf8(bytes).map_err(|_| "expected a UTF-8 header (version 3.0)".to_owned())?
    } else {
        // Versions 1 and 2 are latin-1: every byte is one character.
        bytes.iter().map(|&b| char::from(b)).collect()
    };
    Ok(Header {
        text,
        data_offset: (8 + len_bytes + header_len) as u64,
    })
}

/// Fills `buf`, or returns how many bytes there were.
fn read_fully(r: &mut impl Read, buf: &mut [u8]) -> Result<(), usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => return Err(got),
            Ok(k) => got += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Err(got),
        }
    }
    Ok(())
}

/// The three fields of a header.
#[derive(Debug, PartialEq)]
struct Fields {
    descr: String,
    fortran_order: bool,
    shape: Vec<u64>,
}

/// A value of the header's dict.
#[derive(Debug, PartialEq)]
enum Value {
    Str(String),
    Bool(bool),
    Tuple(Vec<u64>),
}

/// Parses `{'descr': ..., 'fortran_order': ..., 'shape': (...), }` (any key order, Python's
/// whitespace and trailing commas); every error says what was expected and what was found.
fn parse_header(text: &str) -> Result<Fields, String> {
    let mut p = Parser {
        chars: text.chars().collect(),
        pos: 0,
    };
    p.expect('{')?;
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    loop {
        p.skip_ws();
        if p.eat('}') {
            break;
        }
        let key = p.string().map_err(|e| format!("{e} (a key)"))?;
        p.expect(':')?;
        if !matches!(key.as_str(), "descr" | "fortran_order" | "shape") {
            return Err(format!(
                "the dict has the key '{}'; expected only 'descr', 'fortran_order' and 'shape'",
                escape_str(&key)
            ));
        }
        let value = p
            .value()
            .map_err(|e| format!("'{}': {e}", escape_str(&key)))?;
        match (key.as_str(), value) {
            ("descr", Value::Str(s)) => descr = Some(s),
            ("fortran_order", Value::Bool(b)) => fortran = Some(b),
            ("shape", Value::Tuple(t)) => shape = Some(t),
            ("descr" | "fortran_order" | "shape", v) => {
                return Err(format!(
                    "'{key}': expected {}, found {}",
                    match key.as_str() {
                        "descr" => "a dtype string such as '<f8'",
                        "fortran_order" => "True or False",
                        _ => "a tuple of whole numbers such as (1000,)",
                    },
                    v.kind()
                ));
            }
            (other, _) => {
                return Err(format!(
                    "the dict has the key '{}'; expected only 'descr', 'fortran_order' and \
                     'shape'",
                    escape_str(other)
                ));
            }
        }
        p.skip_ws();
        if p.eat(',') {
            continue;
        }
        p.expect('}')?;
        break;
    }
    p.skip_ws();
    if p.pos < p.chars.len() {
        return Err(format!(
            "expected only spaces after the closing '}}', found {}",
            p.found()
        ));
    }
    let missing = |k: &str| format!("the dict lacks the key '{k}'");
    Ok(Fields {
        descr: descr.ok_or_else(|| missing("descr"))?,
        fortran_order: fortran.ok_or_else(|| missing("fortran_order"))?,
        shape: shape.ok_or_else(|| missing("shape"))?,
    })
}

impl Value {
    fn kind(&self) -> String {
        match self {
            Value::Str(s) => format!("the string '{}'", escape_str(s)),
            Value::Bool(b) => if *b { "True" } else { "False" }.to_owned(),
            Value::Tuple(t) => shape_text(t),
        }
    }
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn skip_ws(&mut self) {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_ws();
        if self.chars.get(self.pos) == Some(&c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// What is at the current position, for a message.
    fn found(&self) -> String {
        match self.chars.get(self.pos) {
            None => "the end of the header".to_owned(),
            Some(_) => {
                let rest: String = self.chars[self.pos..].iter().take(12).collect();
                format!(
                    "'{}' at character {}",
                    escape_str(rest.trim_end()),
                    self.pos
                )
            }
        }
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("expected '{c}', found {}", self.found()))
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.skip_ws();
        let quote = match self.chars.get(self.pos) {
            Some(&q @ ('\'' | '"')) => q,
            _ => return Err(format!("expected a quoted string, found {}", self.found())),
        };
        let start = self.pos;
        self.pos += 1;
        let mut s = String::new();
        while let Some(&c) = self.chars.get(self.pos) {
            self.pos += 1;
            if c == quote {
                return Ok(s);
            }
            s.push(c);
        }
        self.pos = start;
        Err(format!(
            "expected a closing {quote}, found the end of the header"
        ))
    }

    fn value(&mut self) -> Result<Value, String> {
        self.skip_ws();
        match self.chars.get(self.pos) {
            Some('\'' | '"') => self.string().map(Value::Str),
            Some('(') => self.tuple().map(Value::Tuple),
            _ => {
                for (word, b) in [("True", true), ("False", false)] {
                    let end = self.pos + word.len();
                    if self
                        .chars
                        .get(self.pos..end)
                        .is_some_and(|w| w.iter().copied().eq(word.chars()))
                    {
                        self.pos = end;
                        return Ok(Value::Bool(b));
                    }
                }
                Err(format!(
                    "expected a string, True, False or a tuple, found {}",
                    self.found()
                ))
            }
        }
    }

    fn tuple(&mut self) -> Result<Vec<u64>, String> {
        self.expect('(')?;
        let mut items = Vec::new();
        loop {
            if self.eat(')') {
                return Ok(items);
            }
            self.skip_ws();
            let start = self.pos;
            while self.chars.get(self.pos).is_some_and(char::is_ascii_digit) {
                self.pos += 1;
            }
            if self.pos == start {
                return Err(format!(
                    "expected a whole number in the shape, found {}",
                    self.found()
                ));
            }
            let digits: String = self.chars[start..self.pos].iter().collect();
            let n = digits
                .parse::<u64>()
                .map_err(|_| format!("shape entry {digits} is larger than 2^64 - 1"))?;
            items.push(n);
            if !self.eat(',') {
                self.expect(')')?;
                return Ok(items);
            }
        }
    }
}

/// `(n,)` or `(a, b)`, as Python writes a shape.
fn shape_text(shape: &[u64]) -> String {
    match shape {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Bytes as Python writes a bytes literal's content: printable ASCII as is, others `\xNN`.
fn escape_bytes(bytes: &[u8]) -> String {
    bytes
        .iter()
        .flat_map(|&b| std::ascii::escape_default(b))
        .map(char::from)
        .collect()
}

/// Control characters escaped.
fn escape_str(s: &str) -> String {
    crate::error::escape_controls(s)
}

/// Reads `n` values of `size` bytes in the given byte order, block by block, so that memory
/// grows with the data actually read (a FIFO may end early).
fn read_values(r: &mut impl Read, n: usize, size: usize, big_endian: bool) -> io::Result<Vec<f64>> {
    let mut values: Vec<f64> = Vec::new();
    let mut block = vec![0u8; BLOCK_VALUES * size];
    let mut left = n;
    while left > 0 {
        let k = left.min(BLOCK_VALUES);
        let buf = &mut block[..k * size];
        r.read_exact(buf).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                io::Error::new(
                    e.kind(),
                    format!(
                        "the data end after fewer than {} of the {n} values the header claims",
                        n - left + k
                    ),
                )
            } else {
                e
            }
        })?;
        values
            .try_reserve(k)
            .map_err(|_| io::Error::new(io::ErrorKind::OutOfMemory, "out of memory"))?;
        values.extend(buf.chunks_exact(size).map(|c| decode(c, big_endian)));
        left -= k;
    }
    Ok(values)
}

fn decode(c: &[u8], big_endian: bool) -> f64 {
    match (c.len(), big_endian) {
        (8, false) => f64::from_le_bytes(c.try_into().unwrap_or([0; 8])),
        (8, true) => f64::from_be_bytes(c.try_into().unwrap_or([0; 8])),
        (_, false) => f64::from(f32::from_le_bytes(c.try_into().unwrap_or([0; 4]))),
        (_, true) => f64::from(f32::from_be_bytes(c.try_into().unwrap_or([0; 4]))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numpys_own_header_parses() {
        let f = parse_header("{'descr': '<f8', 'fortran_order': False, 'shape': (1000,), }    \n")
            .unwrap();
        assert_eq!(
            f,
            Fields {
                descr: "<f8".into(),
                fortran_order: false,
                shape: vec![1000]
            }
        );
        let f = parse_header("{\"shape\":(2,3),\"descr\":\">f4\",\"fortran_order\":True}").unwrap();
        assert_eq!(f.shape, [2, 3]);
        assert!(f.fortran_order);
    }

    #[test]
    fn header_errors_say_what_was_expected_and_found() {
        for (text, words) in [
            (
                "{'descr': '<f8', 'shape': (3,)}",
                "lacks the key 'fortran_order'",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': [3]}",
                "'shape': expected",
            ),
            (
                "{'descr': '<f8', 'fortran_order': 0, 'shape': (3,)}",
                "expected a string, True",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), 'x': 1}",
                "key 'x'",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (-3,)}",
                "whole number",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,)}",
                "2^64",
            ),
            ("['descr']", "expected '{'"),
            ("{'descr': '<f8'", "found the end of the header"),
        ] {
            let e = parse_header(text).unwrap_err();
            assert!(e.contains(words), "{text}: {e}");
            assert_eq!(e.lines().count(), 1, "{e}");
        }
    }
}

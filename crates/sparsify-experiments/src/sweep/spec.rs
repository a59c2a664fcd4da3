//! The sweep spec (TOML): its parsing and validation, and the grid it expands into.
//!
//! ```toml
//! kind = "run"                      # "run" | "predict" | "train"
//! name = "seeds"                    # optional, names the Slurm job
//! [params]                          # fixed for every cell
//! m = 1e4
//! lambda = 1e-4
//! step = 0.5
//! method = "reduced"
//! [axes]                            # the grid: the first axis varies slowest
//! lambda = { from = 1e-5, to = 1e-3, points = 3, log = true }
//! seed = { from = 0, to = 99 }      # integers, both ends included (`step` optional)
//! m = [1e3, 1e4]                    # or a list
//! [outputs]                         # summary scalars are always kept
//! trajectory = true                 # run: the checkpoint rows; predict: --
//! deaths = false                    # run: every change of m'; predict: the death times
//! ```
//!
//! Cell `i` of a grid with axis lengths `n_0, .., n_{k-1}` takes value `i_j` of axis `j`,
//! where `i = ((i_0 n_1 + i_1) n_2 + ..) + i_{k-1}` (mixed radix, last axis fastest), so a
//! cell's number and parameters follow from the spec alone: [`Grid::cell`] is O(k) and the
//! grid is never held in memory.

use std::fmt;
use std::path::Path;

use toml::{Table, Value as Toml};

use super::exec::{self, Kind};
use crate::ExperimentError;

/// At most this many distinct problems are listed; a spec with more is wrong in one way that
/// repeats, and the first lines say how.
const MAX_ERRORS: usize = 20;
/// At most this many cells in one sweep: `status` keeps one byte per cell.
const MAX_CELLS: u64 = 100_000_000;

/// A parameter's value in one cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A whole number (`m`, `seed`, `order`).
    Int(u64),
    /// A real number (`lambda`, `step`, ...).
    Float(f64),
    /// A name (`method`, `dynamics`, ...).
    Str(String),
    /// A switch (`parallel_init`).
    Bool(bool),
}

impl fmt::Display for Value {
    /// The text a cell's value has in every file: integers in decimal, reals in Rust's
    /// shortest round-trip form (`1e-5`, `0.5`), so parsing the text gives the same bits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(n) => write!(f, "{n}"),
            Value::Float(x) => f.write_str(&fmt_f64(*x)),
            Value::Str(s) => f.write_str(s),
            Value::Bool(b) => write!(f, "{b}"),
        }
    }
}

pub use crate::csv::fmt_f64;

/// The type of a parameter, with what it allows.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Ty {
    /// A whole number `>= min` (written as an integer or a whole float such as `1e5`).
    Int { min: u64 },
    /// A finite real number.
    Float,
    /// One of these names.
    Choice(&'static [&'static str]),
    /// `true` or `false`.
    Bool,
}

/// One parameter a kind of cell takes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ParamDef {
    pub(crate) name: &'static str,
    pub(crate) ty: Ty,
    /// What a cell gets when the spec does not say; `None` for a required parameter or an
    /// optional one that stays absent.
    pub(crate) default: Option<DefaultValue>,
    pub(crate) required: bool,
}

/// A default value (a `const`-friendly [`Value`]).
#[derive(Debug, Clone, Copy)]
pub(crate) enum DefaultValue {
    Int(u64),
    Str(&'static str),
    Bool(bool),
}

impl From<DefaultValue> for Value {
    fn from(d: DefaultValue) -> Self {
        match d {
            DefaultValue::Int(n) => Value::Int(n),
            DefaultValue::Str(s) => Value::Str(s.to_owned()),
            DefaultValue::Bool(b) => Value::Bool(b),
        }
    }
}

/// Which per-cell files a sweep keeps besides the summary scalars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outputs {
    /// `run`: the checkpoint rows (`<id>.trajectory.csv`).
    pub trajectory: bool,
    /// `run`: every change of m' (`<id>.deaths.csv`); `predict`: the death times.
    pub deaths: bool,
}

/// A validated sweep spec: a kind, fixed parameters and axes.
#[derive(Debug, Clone)]
pub struct Spec {
    /// What each cell runs.
    pub kind: Kind,
    /// The sweep's name (the Slurm job name); `sparsify-sweep` when the spec gives none.
    pub name: String,
    /// The per-cell files kept.
    pub outputs: Outputs,
    /// The grid.
    pub grid: Grid,
}

/// The grid: every parameter of the kind, fixed or along an axis.
#[derive(Debug, Clone)]
pub struct Grid {
    /// The kind's parameter names, in its fixed order (the columns of the merged table).
    names: Vec<&'static str>,
    /// For each parameter: its fixed value (absent if `None`), or the axis it follows.
    slots: Vec<Slot>,
    /// The axes in the spec's order: parameter position and values.
    axes: Vec<(usize, Vec<Value>)>,
    len: u64,
}

#[derive(Debug, Clone)]
enum Slot {
    Fixed(Option<Value>),
    Axis(usize),
}

/// One cell: its number and every parameter's value (`None` for an optional parameter the
/// spec leaves out), in the kind's parameter order.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// The cell's number, 0-based, in grid order.
    pub index: u64,
    /// The parameters, aligned with [`Grid::names`].
    pub values: Vec<Option<Value>>,
}

impl Cell {
    /// The value of parameter `name`, if the kind has it and it is set.
    pub fn get(&self, grid: &Grid, name: &str) -> Option<&Value> {
        let i = grid.names.iter().position(|n| *n == name)?;
        self.values[i].as_ref()
    }
}

impl Grid {
    /// Number of cells (the product of the axis lengths; 1 without axes).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the grid has no cell (never: an empty axis is refused).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The parameter names, in the kind's order.
    pub fn names(&self) -> &[&'static str] {
        &self.names
    }

    /// The axes: parameter name and number of values, in the spec's order.
    pub fn axes(&self) -> impl Iterator<Item = (&'static str, usize)> + '_ {
        self.axes.iter().map(|(p, v)| (self.names[*p], v.len()))
    }

    /// Every value parameter `name` takes in the grid: its axis, or its one fixed value.
    pub fn values_of(&self, name: &str) -> Vec<Value> {
        let Some(i) = self.names.iter().position(|n| *n == name) else {
            return Vec::new();
        };
        match &self.slots[i] {
            Slot::Fixed(v) => v.iter().cloned().collect(),
            Slot::Axis(a) => self.axes[*a].1.clone(),
        }
    }

    /// Cell `index` (`index < len()`), decoded from its mixed-radix digits.
    pub fn cell(&self, index: u64) -> Cell {
        let mut digits = vec![0usize; self.axes.len()];
        let mut rest = index;
        for (d, (_, values)) in digits.iter_mut().zip(&self.axes).rev() {
            let n = values.len() as u64;
            *d = (rest % n) as usize;
            rest /= n;
        }
        let values = self
            .slots
            .iter()
            .map(|slot| match slot {
                Slot::Fixed(v) => v.clone(),
                Slot::Axis(a) => Some(self.axes[*a].1[digits[*a]].clone()),
            })
            .collect();
        Cell { index, values }
    }

    /// The width of every cell id: the digits of the last index (at least 1).
    pub fn id_width(&self) -> usize {
        self.len.saturating_sub(1).max(1).to_string().len()
    }

    /// The id of cell `index`: its number, zero-padded to [`Grid::id_width`], so ids sort in
    /// cell order and stay the same whoever expands the spec.
    pub fn id(&self, index: u64) -> String {
        format!("{index:0w$}", w = self.id_width())
    }
}

/// Parses and validates the spec text `text` (read from `path`, named in the errors): every
/// key, type, range and each cell's parameters (through the kind's own checks, e.g. the
/// solver's constructors), before anything runs.
///
/// # Errors
/// [`ExperimentError::InvalidSpec`] with one line per problem (at most 20).
pub fn parse(text: &str, path: &Path) -> Result<Spec, ExperimentError> {
    parse_checked(text, path, true)
}

/// [`parse`], with the per-cell checks only if `check_cells` (a planned directory's spec was
/// checked cell by cell when it was planned; reopening it skips that O(cells) pass).
pub(crate) fn parse_checked(
    text: &str,
    path: &Path,
    check_cells: bool,
) -> Result<Spec, ExperimentError> {
    let invalid = |errors: Vec<String>| ExperimentError::InvalidSpec {
        path: path.to_path_buf(),
        errors,
    };
    let table: Table = text
        .parse()
        .map_err(|e: toml::de::Error| invalid(vec![one_line(&e.to_string())]))?;
    let mut errors = Errors::default();
    for key in table.keys() {
        if !["kind", "name", "params", "axes", "outputs"].contains(&key.as_str()) {
            errors.push(format!(
                "unknown key `{key}`: a spec has kind, name, [params], [axes] and [outputs]"
            ));
        }
    }
    let kind = match table.get("kind") {
        None => {
            errors.push("`kind` is missing: kind = \"run\", \"predict\" or \"train\"".to_owned());
            None
        }
        Some(Toml::String(s)) => match Kind::from_name(s) {
            Some(k) => Some(k),
            None => {
                errors.push(format!(
                    "kind = \"{s}\": not a kind of cell; kind is \"run\", \"predict\" or \"train\""
                ));
                None
            }
        },
        Some(other) => {
            errors.push(format!(
                "kind = {other}: must be a string, \"run\" or \"predict\""
            ));
            None
        }
    };
    let name = match table.get("name") {
        None => "sparsify-sweep".to_owned(),
        Some(Toml::String(s))
            if !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) =>
        {
            s.clone()
        }
        Some(other) => {
            errors.push(format!(
                "name = {other}: must be a non-empty string of letters, digits, `-`, `_` and `.` \
                 (it names the Slurm job)"
            ));
            String::new()
        }
    };
    let empty = Table::new();
    let sub = |key: &str, errors: &mut Errors| -> Table {
        match table.get(key) {
            None => empty.clone(),
            Some(Toml::Table(t)) => t.clone(),
            Some(_) => {
                errors.push(format!("`{key}` must be a table, [{key}]"));
                empty.clone()
            }
        }
    };
    let params = sub("params", &mut errors);
    let axes = sub("axes", &mut errors);
    let outputs_table = sub("outputs", &mut errors);
    let Some(kind) = kind else {
        return Err(invalid(errors.into_lines()));
    };
    let outputs = parse_outputs(kind, &outputs_table, &mut errors);
    let grid = build_grid(kind, &params, &axes, &mut errors);
    if errors.is_empty() && check_cells {
        // Every cell through the kind's own checks; a problem that every cell shares (a bad
        // fixed parameter) is reported once.
        for index in 0..grid.len() {
            if let Err(e) = exec::validate(kind, &grid, &grid.cell(index)) {
                errors.push(e);
                if errors.full() {
                    break;
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(Spec {
            kind,
            name,
            outputs,
            grid,
        })
    } else {
        Err(invalid(errors.into_lines()))
    }
}

/// Problems found so far, each once.
#[derive(Debug, Default)]
struct Errors(Vec<String>);

impl Errors {
    fn push(&mut self, e: String) {
        if !self.0.contains(&e) && !self.full() {
            self.0.push(e);
        }
    }
    fn full(&self) -> bool {
        self.0.len() >= MAX_ERRORS
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    fn into_lines(self) -> Vec<String> {
        self.0
    }
}

fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn parse_outputs(kind: Kind, table: &Table, errors: &mut Errors) -> Outputs {
    let mut out = Outputs {
        trajectory: false,
        deaths: false,
    };
    for (key, value) in table {
        let Toml::Boolean(b) = value else {
            errors.push(format!("outputs.{key} = {value}: must be true or false"));
            continue;
        };
        match (key.as_str(), kind) {
            ("trajectory", Kind::Run) => out.trajectory = *b,
            ("deaths", Kind::Run | Kind::Predict) => out.deaths = *b,
            _ => errors.push(format!(
                "outputs.{key}: not an output of kind \"{}\"; it keeps {}",
                kind.name(),
                match kind {
                    Kind::Run => "trajectory and deaths",
                    _ => "deaths (the predicted death times)",
                }
            )),
        }
    }
    out
}

fn build_grid(kind: Kind, params: &Table, axes: &Table, errors: &mut Errors) -> Grid {
    let defs = exec::params(kind);
    let names: Vec<&'static str> = defs.iter().map(|d| d.name).collect();
    let known = names.join(", ");
    for key in params.keys().chain(axes.keys()) {
        if !names.contains(&key.as_str()) {
            errors.push(format!(
                "`{key}` is not a parameter of kind \"{}\"; its parameters are {known}",
                kind.name()
            ));
        }
    }
    let mut slots = Vec::with_capacity(defs.len());
    let mut grid_axes: Vec<(usize, Vec<Value>)> = Vec::new();
    let mut axis_pos = Vec::new();
    for (i, def) in defs.iter().enumerate() {
        let fixed = params.get(def.name);
        let axis = axes.get(def.name);
        let slot = match (fixed, axis) {
            (Some(_), Some(_)) => {
                errors.push(format!(
                    "`{}` is both in [params] and in [axes]: give it in one place",
                    def.name
                ));
                Slot::Fixed(None)
            }
            (Some(v), None) => {
                Slot::Fixed(convert(def, v, &format!("params.{}", def.name), errors))
            }
            (None, Some(a)) => {
                let values = axis_values(def, a, errors);
                if let Some(values) = values {
                    axis_pos.push(axes.keys().position(|k| k == def.name).unwrap_or(0));
                    grid_axes.push((i, values));
                    Slot::Axis(grid_axes.len() - 1)
                } else {
                    Slot::Fixed(None)
                }
            }
            (None, None) => {
                if def.required {
                    errors.push(format!(
                        "`{}` is missing: kind \"{}\" needs it in [params] or [axes]",
                        def.name,
                        kind.name()
                    ));
                }
                Slot::Fixed(def.default.map(Value::from))
            }
        };
        slots.push(slot);
    }
    // The axes in the spec's order (the first written varies slowest), not the kind's.
    let mut order: Vec<usize> = (0..grid_axes.len()).collect();
    order.sort_by_key(|&a| axis_pos[a]);
    let mut renumber = vec![0; grid_axes.len()];
    for (new, &old) in order.iter().enumerate() {
        renumber[old] = new;
    }
    for slot in &mut slots {
        if let Slot::Axis(a) = slot {
            *a = renumber[*a];
        }
    }
    let sorted: Vec<(usize, Vec<Value>)> = order.iter().map(|&a| grid_axes[a].clone()).collect();
    let mut len: u64 = 1;
    for (p, values) in &sorted {
        match len.checked_mul(values.len() as u64) {
            Some(n) if n <= MAX_CELLS => len = n,
            _ => {
                errors.push(format!(
                    "the grid has more than 1e8 cells (at axis `{}`): split the sweep",
                    names[*p]
                ));
                break;
            }
        }
    }
    Grid {
        names,
        slots,
        axes: sorted,
        len,
    }
}

/// The values of one axis: a list, an integer range `{ from, to [, step] }`, or `points`
/// values from `from` to `to`, evenly or (`log = true`) geometrically spaced.
fn axis_values(def: &ParamDef, axis: &Toml, errors: &mut Errors) -> Option<Vec<Value>> {
    let name = def.name;
    let what = format!("axes.{name}");
    let values = match axis {
        Toml::Array(items) => {
            if items.is_empty() {
                errors.push(format!("{what} = []: an axis needs at least one value"));
                return None;
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                out.push(convert(def, item, &format!("{what}[{i}]"), errors)?);
            }
            out
        }
        Toml::Table(t) => range_values(def, t, &what, errors)?,
        other => {
            errors.push(format!(
                "{what} = {other}: an axis is a list [a, b, ..] or a range {{ from = .., to = .. }} \
                 (put a single value in [params])"
            ));
            return None;
        }
    };
    // By their text, which is exact (shortest round-trip for reals): O(n) for long axes.
    let mut seen = std::collections::HashSet::with_capacity(values.len());
    for v in &values {
        if !seen.insert(v.to_string()) {
            errors.push(format!(
                "{what}: the value {v} appears twice; each cell of a grid must be different"
            ));
            return None;
        }
    }
    Some(values)
}

fn range_values(def: &ParamDef, t: &Table, what: &str, errors: &mut Errors) -> Option<Vec<Value>> {
    for key in t.keys() {
        if !["from", "to", "step", "points", "log"].contains(&key.as_str()) {
            errors.push(format!(
                "{what}.{key}: a range has from, to and either step (integers) or points \
                 (with log = true for geometric spacing)"
            ));
            return None;
        }
    }
    let num = |key: &str| -> Option<f64> {
        match t.get(key) {
            Some(Toml::Integer(n)) => Some(*n as f64),
            Some(Toml::Float(x)) => Some(*x),
            _ => None,
        }
    };
    let (Some(from), Some(to)) = (num("from"), num("to")) else {
        errors.push(format!("{what}: a range needs numbers `from` and `to`"));
        return None;
    };
    let log = match t.get("log") {
        None => false,
        Some(Toml::Boolean(b)) => *b,
        Some(v) => {
            errors.push(format!("{what}.log = {v}: must be true or false"));
            return None;
        }
    };
    if !(from.is_finite() && to.is_finite()) {
        errors.push(format!("{what}: from and to must be finite"));
        return None;
    }
    let raw: Vec<f64> = match (t.get("points"), t.get("step")) {
        (Some(_), Some(_)) => {
            errors.push(format!("{what}: give `points` or `step`, not both"));
            return None;
        }
        (Some(p), None) => {
            let n = match p {
                Toml::Integer(n) if *n >= 2 && *n <= 1_000_000 => *n as usize,
                _ => {
                    errors.push(format!(
                        "{what}.points = {p}: must be a whole number from 2 to 1000000"
                    ));
                    return None;
                }
            };
            if log && !(from > 0.0 && to > 0.0) {
                errors.push(format!(
                    "{what}: a log range needs from > 0 and to > 0 (got {} and {})",
                    fmt_f64(from),
                    fmt_f64(to)
                ));
                return None;
            }
            spaced(from, to, n, log)
        }
        (None, step) => {
            if log {
                errors.push(format!("{what}: log = true needs `points`"));
                return None;
            }
            let step = match step {
                None => 1,
                Some(Toml::Integer(s)) if *s >= 1 => *s,
                Some(s) => {
                    errors.push(format!("{what}.step = {s}: must be a whole number >= 1"));
                    return None;
                }
            };
            let (Some(Toml::Integer(a)), Some(Toml::Integer(b))) = (t.get("from"), t.get("to"))
            else {
                errors.push(format!(
                    "{what}: a range without `points` counts in whole numbers: from and to must \
                     be integers (or give points = N)"
                ));
                return None;
            };
            if b < a {
                errors.push(format!("{what}: to = {b} is below from = {a}"));
                return None;
            }
            let count = (b - a) / step + 1;
            if count > 100_000_000 {
                errors.push(format!("{what}: {count} values; at most 1e8 per axis"));
                return None;
            }
            (0..count).map(|k| (a + k * step) as f64).collect()
        }
    };
    let mut out = Vec::with_capacity(raw.len());
    for x in raw {
        let v = match def.ty {
            Ty::Int { .. } => Toml::Float(x.round()),
            Ty::Float => Toml::Float(x),
            Ty::Choice(_) | Ty::Bool => {
                errors.push(format!(
                    "{what}: `{}` takes names or switches, not a numeric range: list them",
                    def.name
                ));
                return None;
            }
        };
        out.push(convert(def, &v, what, errors)?);
    }
    Some(out)
}

/// `n >= 2` values from `from` to `to` (both exact), evenly spaced, or geometrically when
/// `log` (then `from, to > 0`): `x_k = exp(ln a + k (ln b - ln a)/(n-1))`.
fn spaced(from: f64, to: f64, n: usize, log: bool) -> Vec<f64> {
    let last = (n - 1) as f64;
    (0..n)
        .map(|k| {
            if k == 0 {
                from
            } else if k == n - 1 {
                to
            } else if log {
                let (a, b) = (from.log10(), to.log10());
                10f64.powf(a + (b - a) * k as f64 / last)
            } else {
                from + (to - from) * k as f64 / last
            }
        })
        .collect()
}

/// A TOML value as parameter `def`, or one line saying why not.
fn convert(def: &ParamDef, v: &Toml, what: &str, errors: &mut Errors) -> Option<Value> {
    match (def.ty, v) {
        (Ty::Int { min }, Toml::Integer(n)) if *n >= 0 && *n as u64 >= min => {
            Some(Value::Int(*n as u64))
        }
        // Below 2^53 every whole f64 is exact, so `1e5` is the integer 100000.
        (Ty::Int { min }, Toml::Float(x))
            if x.is_finite() && x.fract() == 0.0 && *x >= min as f64 && *x <= 2f64.powi(53) =>
        {
            Some(Value::Int(*x as u64))
        }
        (Ty::Int { min }, _) => {
            errors.push(format!(
                "{what} = {v}: `{}` is a whole number >= {min} (1e5 style is fine)",
                def.name
            ));
            None
        }
        (Ty::Float, Toml::Float(x)) if x.is_finite() => Some(Value::Float(*x)),
        (Ty::Float, Toml::Integer(n)) => Some(Value::Float(*n as f64)),
        (Ty::Float, _) => {
            errors.push(format!("{what} = {v}: `{}` is a finite number", def.name));
            None
        }
        (Ty::Choice(names), Toml::String(s)) if names.contains(&s.as_str()) => {
            Some(Value::Str(s.clone()))
        }
        (Ty::Choice(names), _) => {
            errors.push(format!(
                "{what} = {v}: `{}` is one of {}",
                def.name,
                names
                    .iter()
                    .map(|n| format!("\"{n}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            None
        }
        (Ty::Bool, Toml::Boolean(b)) => Some(Value::Bool(*b)),
        (Ty::Bool, _) => {
            errors.push(format!("{what} = {v}: `{}` is true or false", def.name));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> Result<Spec, Vec<String>> {
        parse(text, Path::new("t.toml")).map_err(|e| match e {
            ExperimentError::InvalidSpec { errors, .. } => errors,
            other => vec![other.to_string()],
        })
    }

    #[test]
    fn last_axis_varies_fastest_and_fixed_params_fill_every_cell() {
        let s = spec(
            "kind = \"run\"\n[params]\nlambda = 1e-3\nstep = 0.5\n[axes]\nm = [10, 20]\n\
             seed = { from = 5, to = 7 }\n",
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(s.grid.len(), 6);
        let c = s.grid.cell(4);
        assert_eq!(c.get(&s.grid, "m"), Some(&Value::Int(20)));
        assert_eq!(c.get(&s.grid, "seed"), Some(&Value::Int(6)));
        assert_eq!(c.get(&s.grid, "lambda"), Some(&Value::Float(1e-3)));
        assert_eq!(s.grid.id(4), "4");
    }

    #[test]
    fn log_range_hits_both_ends_exactly() {
        let v = spaced(1e-5, 1e-3, 3, true);
        assert_eq!(v.len(), 3);
        assert_eq!((v[0], v[2]), (1e-5, 1e-3));
        // The middle of a geometric range is the geometric mean, 1e-4, to a few ulps.
        assert!((v[1] / 1e-4 - 1.0).abs() < 1e-14, "{}", v[1]);
    }

    #[test]
    fn every_problem_is_one_line() {
        let errs = spec(
            "kind = \"run\"\nbogus = 1\n[params]\nm = 2.5\nlambda = -1\nstep = 0.5\n\
             method = \"fast\"\n[axes]\nseed = []\n",
        )
        .err()
        .unwrap_or_default();
        assert!(errs.len() >= 4, "{errs:?}");
        assert!(errs.iter().all(|e| !e.contains('\n')), "{errs:?}");
        assert!(errs.iter().any(|e| e.contains("bogus")), "{errs:?}");
        assert!(
            errs.iter().any(|e| e.contains("params.m = 2.5")),
            "{errs:?}"
        );
        assert!(errs.iter().any(|e| e.contains("\"fast\"")), "{errs:?}");
    }

    #[test]
    fn a_train_spec_names_its_missing_parameters() {
        let errs = spec("kind = \"train\"\n").err().unwrap_or_default();
        for key in ["n", "m", "lambda", "steps"] {
            assert!(
                errs.iter()
                    .any(|e| e.contains(&format!("`{key}`")) || e.contains(&format!("{key} "))),
                "{key}: {errs:?}"
            );
        }
    }
}

//! The extension point: a dynamics variant says how one coordinate moves given the global
//! statistics of the survivors, when it dies, and whether the affine structure of docs/theory.md §2
//! survives (so that the reduced solvers apply); its [`Variant`] describes it to callers (name,
//! typed parameters with ranges and defaults, the methods that apply).
//!
//! Every variant has the form `dw_j/dt = drift(w_j; ||w||_2^2, ||w||_1, m')` on the surviving
//! coordinates, identical for all of them (a mean-field flow), and a coordinate is dropped
//! once it is no longer alive (`w_j <= 0` for all variants here). The published flow is
//! [`L1`]; [`L1L2`] adds weight decay and keeps the affine structure; [`Lp`] (`0 < p < 1`)
//! does not, and its drift is singular at 0 (see its docs for how deaths are still located).
//!
//! Every variant is solved by [`crate::solve`] with any method its description lists. A
//! variant defined outside this crate works the same way (see
//! `crates/sparsify-core/examples/user_dynamics.rs`); a built-in one is its file plus one line
//! in [`VARIANTS`].
//!
//! # Adding a dynamics variant
//! 1. Create `dynamics/<name>.rs` with a struct holding its validated parameters and a
//!    constructor `new(lambda, ..) -> Result<Self, CoreError>` (reject bad values with
//!    [`CoreError::InvalidParameter`] naming [`Param::Variant`]).
//! 2. Implement [`Dynamics`]: `name`, `lambda`, `drift(w, globals)`; return `Some(mu)` from
//!    `affine_shift` only if the drift is exactly `(1 - ||w||^2 - mu)*w - lambda`.
//! 3. If the drift is singular where a coordinate dies, override
//!    `weight_to_state`/`state_to_weight`/`state_drift` with a variable in which it is smooth
//!    and reaches 0 transversally.
//! 4. Describe it: a `pub const VARIANT: Variant` (name, parameters with ranges and defaults,
//!    methods, and a `build` function), and add the module to the `variants!` list below.
//! 5. Test it in its file: the drift against a hand-computed value and a known special case;
//!    add one line to `tests/it/conformance.rs` for the solver suite.
//!
//! # References
//! docs/theory.md §1 (the flow), §2 (affine structure and when it holds).

use std::fmt;

use crate::error::{CoreError, Param};
use crate::method::Method;

/// The built-in variants: one line each, `module => Type`. Declares the module, re-exports the
/// type and lists its [`Variant`] in [`VARIANTS`].
macro_rules! variants {
    ($($module:ident => $ty:ident),+ $(,)?) => {
        $(mod $module; pub use $module::$ty;)+
        /// Every built-in variant's description, in the order `--help` lists them.
        pub const VARIANTS: &[Variant] = &[$($ty::VARIANT),+];
        /// The built-in variants' names, in the same order.
        pub const VARIANT_NAMES: &[&str] = &[$($ty::VARIANT.name),+];
    };
}

variants! {
    l1 => L1,
    l1_l2 => L1L2,
    lp => Lp,
}

/// The global statistics of the survivors that a drift may depend on, at one instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Globals {
    /// `||w||_2^2` over the survivors.
    pub sq_norm: f64,
    /// `||w||_1` over the survivors.
    pub one_norm: f64,
    /// The number of survivors `m'`.
    pub m_prime: usize,
}

/// A dynamics variant: the drift of one surviving coordinate (see the module docs).
///
/// Contract: the drift is the same function for every survivor (so tied survivors stay tied);
/// `weight_to_state` is increasing on `w > 0` with `weight_to_state(0) = 0` and
/// `state_to_weight` its inverse (clamping `u <= 0` to 0), so a coordinate is alive exactly
/// while its state is `> 0`. `affine_shift() == Some(0.0)` means the drift is the published
/// one, which the direct method solves with the bitwise fast path [`crate::EulerSim`].
pub trait Dynamics: fmt::Debug + Send + Sync {
    /// The name with its parameters, for summaries (e.g. `l1-l2 (mu = 0.1)`).
    fn name(&self) -> String;

    /// The L1 strength `lambda` (per unit time), `>= 0`.
    fn lambda(&self) -> f64;

    /// `dw/dt` of a surviving coordinate with value `w > 0`.
    fn drift(&self, w: f64, g: &Globals) -> f64;

    /// One explicit Euler step of a coordinate, `w + drift*h`, as the published loop
    /// evaluates it (variants override it only to fix the order of operations).
    fn euler_update(&self, w: f64, g: &Globals, h: f64) -> f64 {
        w + self.drift(w, g) * h
    }

    /// `Some(mu)` when the drift is exactly `(1 - ||w||^2 - mu)*w - lambda`: every survivor is
    /// then `alpha*w0_j - beta` and the reduced solvers apply with `a -> a - mu`.
    fn affine_shift(&self) -> Option<f64>;

    /// Whether a coordinate with value `w` survives (the published filter `w > 0`).
    fn is_alive(&self, w: f64) -> bool {
        w > 0.0
    }

    /// The variable the adaptive solver integrates, `u = phi(w)` (identity by default).
    fn weight_to_state(&self, w: f64) -> f64 {
        w
    }

    /// The inverse of [`Self::weight_to_state`], `w = phi^-1(u)`, with `u <= 0` mapped to a
    /// value that is not alive.
    fn state_to_weight(&self, u: f64) -> f64 {
        u
    }

    /// `du/dt = phi'(w)*drift(w)` in terms of `u` (by default the drift itself).
    fn state_drift(&self, u: f64, g: &Globals) -> f64 {
        self.drift(self.state_to_weight(u), g)
    }
}

/// A variant behind a pointer is a variant: `Box::new(&dynamics)` lends one to a solver that
/// owns a box, and `Opaque(boxed)` wraps a boxed one.
macro_rules! forward_dynamics {
    ($($ptr:ty),+) => {$(
        impl<T: Dynamics + ?Sized> Dynamics for $ptr {
            fn name(&self) -> String {
                (**self).name()
            }
            fn lambda(&self) -> f64 {
                (**self).lambda()
            }
            #[inline]
            fn drift(&self, w: f64, g: &Globals) -> f64 {
                (**self).drift(w, g)
            }
            #[inline]
            fn euler_update(&self, w: f64, g: &Globals, h: f64) -> f64 {
                (**self).euler_update(w, g, h)
            }
            fn affine_shift(&self) -> Option<f64> {
                (**self).affine_shift()
            }
            #[inline]
            fn is_alive(&self, w: f64) -> bool {
                (**self).is_alive(w)
            }
            fn weight_to_state(&self, w: f64) -> f64 {
                (**self).weight_to_state(w)
            }
            fn state_to_weight(&self, u: f64) -> f64 {
                (**self).state_to_weight(u)
            }
            #[inline]
            fn state_drift(&self, u: f64, g: &Globals) -> f64 {
                (**self).state_drift(u, g)
            }
        }
    )+};
}

forward_dynamics!(&T, Box<T>);

/// The same dynamics without its affine structure, so that [`crate::solve`] uses the
/// whole-vector solvers ([`crate::DynamicsEuler`], the full adaptive flow) for it: for
/// cross-checks of the reduced solvers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Opaque<D>(pub D);

impl<D: Dynamics> Dynamics for Opaque<D> {
    fn name(&self) -> String {
        self.0.name()
    }
    fn lambda(&self) -> f64 {
        self.0.lambda()
    }
    #[inline]
    fn drift(&self, w: f64, g: &Globals) -> f64 {
        self.0.drift(w, g)
    }
    #[inline]
    fn euler_update(&self, w: f64, g: &Globals, h: f64) -> f64 {
        self.0.euler_update(w, g, h)
    }
    fn affine_shift(&self) -> Option<f64> {
        None
    }
    #[inline]
    fn is_alive(&self, w: f64) -> bool {
        self.0.is_alive(w)
    }
    fn weight_to_state(&self, w: f64) -> f64 {
        self.0.weight_to_state(w)
    }
    fn state_to_weight(&self, u: f64) -> f64 {
        self.0.state_to_weight(u)
    }
    #[inline]
    fn state_drift(&self, u: f64, g: &Globals) -> f64 {
        self.0.state_drift(u, g)
    }
}

/// The valid values of a real parameter: finite, between `min` and `max`, each bound
/// inclusive or not (an infinite bound means none).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    /// The lower bound.
    pub min: f64,
    /// Whether `min` itself is valid.
    pub min_inclusive: bool,
    /// The upper bound.
    pub max: f64,
    /// Whether `max` itself is valid.
    pub max_inclusive: bool,
}

impl Range {
    /// `x >= 0`, finite.
    pub const NON_NEGATIVE: Range = Range {
        min: 0.0,
        min_inclusive: true,
        max: f64::INFINITY,
        max_inclusive: false,
    };

    /// `min < x < max`.
    pub const fn open(min: f64, max: f64) -> Range {
        Range {
            min,
            min_inclusive: false,
            max,
            max_inclusive: false,
        }
    }

    /// Whether `x` is finite and within the bounds.
    pub fn contains(&self, x: f64) -> bool {
        let above = if self.min_inclusive {
            x >= self.min
        } else {
            x > self.min
        };
        let below = if self.max_inclusive {
            x <= self.max
        } else {
            x < self.max
        };
        x.is_finite() && above && below
    }

    /// The range in words for a parameter called `name`, e.g. `a finite number >= 0` or
    /// `a number with 0 < p < 1`.
    pub fn describe(&self, name: &str) -> String {
        let lo = if self.min_inclusive { "<=" } else { "<" };
        let hi = if self.max_inclusive { "<=" } else { "<" };
        match (self.min.is_finite(), self.max.is_finite()) {
            (true, true) => format!("a number with {} {lo} {name} {hi} {}", self.min, self.max),
            (true, false) => format!("a finite number {} {}", flip(lo), self.min),
            (false, true) => format!("a finite number {hi} {}", self.max),
            (false, false) => "a finite number".to_owned(),
        }
    }

    /// `Ok(x)` if `x` is in the range, else [`CoreError::InvalidParameter`] naming `param`.
    ///
    /// # Errors
    /// As said.
    pub fn check(&self, param: Param, x: f64) -> Result<f64, CoreError> {
        if self.contains(x) {
            Ok(x)
        } else {
            Err(CoreError::InvalidParameter {
                param,
                value: x,
                valid: self.describe(param.name()),
            })
        }
    }
}

/// `<=` read from the other side: `min <= x` is `x >= min`.
fn flip(op: &str) -> &'static str {
    if op == "<=" { ">=" } else { ">" }
}

/// One real parameter of a variant, besides `lambda`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParamSpec {
    /// The name (`mu`, `p`): what `--param NAME=VALUE` and [`Param::Variant`] say.
    pub name: &'static str,
    /// What it is, in a few words, with its unit.
    pub help: &'static str,
    /// Its valid values.
    pub range: Range,
    /// The value when not given; `None` makes it required.
    pub default: Option<f64>,
}

/// How a [`Variant`] builds its dynamics: from `lambda` and its parameters' values, in order.
pub type BuildFn = fn(lambda: f64, values: &[f64]) -> Result<Box<dyn Dynamics>, CoreError>;

/// A dynamics variant described for callers: what it is called, what it takes, which methods
/// solve it, and how to build it from validated values.
#[derive(Debug, Clone, Copy)]
pub struct Variant {
    /// The name (`l1`, `l1-l2`, `lp`).
    pub name: &'static str,
    /// One line: the drift `dw/dt`, then what it is, for help texts.
    pub about: &'static str,
    /// Its parameters besides `lambda`.
    pub params: &'static [ParamSpec],
    /// The methods that apply ([`Method::Reduced`] only for affine variants).
    pub methods: &'static [Method],
    /// The dynamics at L1 strength `lambda` with `values[i]` for `params[i]` (each within its
    /// range already).
    pub build: BuildFn,
}

impl Variant {
    /// Whether `method` applies to this variant.
    pub fn applies(&self, method: Method) -> bool {
        self.methods.contains(&method)
    }

    /// Every parameter's value: the given ones (checked against their ranges), defaults for
    /// the rest, in the order of [`Self::params`].
    ///
    /// # Errors
    /// [`CoreError::UnknownName`] for a name this variant does not take,
    /// [`CoreError::MissingParameter`] for a required one not given,
    /// [`CoreError::InvalidParameter`] for a value outside its range.
    pub fn resolve(&self, given: &[(&str, f64)]) -> Result<Vec<(&'static str, f64)>, CoreError> {
        if let Some((name, _)) = given
            .iter()
            .find(|(name, _)| !self.params.iter().any(|p| p.name == *name))
        {
            return Err(CoreError::UnknownName {
                what: format!("parameter of dynamics {}", self.name),
                name: (*name).to_owned(),
                valid: self.param_list(),
            });
        }
        self.params
            .iter()
            .map(|spec| {
                let param = Param::Variant(spec.name);
                let value = given
                    .iter()
                    .rev()
                    .find(|(name, _)| *name == spec.name)
                    .map(|&(_, v)| v)
                    .or(spec.default)
                    .ok_or_else(|| CoreError::MissingParameter {
                        param,
                        reason: format!(
                            "the {} dynamics needs {}, {}: {}",
                            self.name,
                            spec.name,
                            spec.help,
                            spec.range.describe(spec.name)
                        ),
                    })?;
                Ok((spec.name, spec.range.check(param, value)?))
            })
            .collect()
    }

    /// The dynamics at L1 strength `lambda` with the `given` parameters (see [`Self::resolve`]).
    ///
    /// # Errors
    /// As [`Self::resolve`], and the variant's own constructor's.
    pub fn dynamics(
        &self,
        lambda: f64,
        given: &[(&str, f64)],
    ) -> Result<Box<dyn Dynamics>, CoreError> {
        let values: Vec<f64> = self.resolve(given)?.into_iter().map(|(_, v)| v).collect();
        (self.build)(lambda, &values)
    }

    /// The parameter names in words (`mu` or `none`).
    fn param_list(&self) -> String {
        if self.params.is_empty() {
            return format!("none (the {} dynamics takes only lambda)", self.name);
        }
        self.params
            .iter()
            .map(|p| p.name)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The built-in variant called `name`.
///
/// # Errors
/// [`CoreError::UnknownName`] listing the built-in names.
pub fn variant(name: &str) -> Result<&'static Variant, CoreError> {
    VARIANTS
        .iter()
        .find(|v| v.name == name)
        .ok_or_else(|| CoreError::UnknownName {
            what: "dynamics".to_owned(),
            name: name.to_owned(),
            valid: VARIANTS
                .iter()
                .map(|v| v.name)
                .collect::<Vec<_>>()
                .join(", "),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_builds_each_variant_and_names_what_is_missing() {
        let l1 = variant("l1").unwrap().dynamics(1e-3, &[]).unwrap();
        assert_eq!(l1.name(), "l1");
        let d = variant("l1-l2")
            .unwrap()
            .dynamics(1e-3, &[("mu", 0.1)])
            .unwrap();
        assert_eq!(d.affine_shift(), Some(0.1));
        let d = variant("lp")
            .unwrap()
            .dynamics(1e-3, &[("p", 0.5)])
            .unwrap();
        assert_eq!(d.affine_shift(), None);
        let e = variant("l1-l2").unwrap().dynamics(1e-3, &[]).unwrap_err();
        assert!(e.to_string().contains("missing mu"), "{e}");
        assert_eq!(e.param(), Some(Param::Variant("mu")));
        let e = variant("lp")
            .unwrap()
            .dynamics(1e-3, &[("p", 1.0)])
            .unwrap_err();
        assert!(e.to_string().contains("0 < p < 1"), "{e}");
        let e = variant("l1")
            .unwrap()
            .dynamics(1e-3, &[("mu", 0.1)])
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("unknown parameter of dynamics l1 'mu'"),
            "{e}"
        );
        let e = variant("l2").unwrap_err();
        assert!(e.to_string().contains("unknown dynamics 'l2'"), "{e}");
    }

    /// The description says which methods apply; the dynamics says whether it is affine. They
    /// must agree, or the CLI would offer a method that the solver refuses.
    #[test]
    fn described_methods_match_the_affine_structure() {
        for v in VARIANTS {
            let given: Vec<(&str, f64)> = v
                .params
                .iter()
                .map(|p| {
                    (
                        p.name,
                        p.default
                            .unwrap_or(0.5 * (p.range.min.max(0.0) + p.range.max.min(1.0))),
                    )
                })
                .collect();
            let d = v.dynamics(1e-3, &given).unwrap();
            assert_eq!(
                v.applies(Method::Reduced),
                d.affine_shift().is_some(),
                "{}",
                v.name
            );
            assert!(
                v.applies(Method::Direct) && v.applies(Method::Adaptive),
                "{}",
                v.name
            );
        }
    }

    #[test]
    fn ranges_check_and_describe() {
        let r = Range::open(0.0, 1.0);
        assert!(r.contains(0.5) && !r.contains(0.0) && !r.contains(1.0) && !r.contains(f64::NAN));
        assert_eq!(r.describe("p"), "a number with 0 < p < 1");
        assert_eq!(Range::NON_NEGATIVE.describe("mu"), "a finite number >= 0");
        assert!(!Range::NON_NEGATIVE.contains(f64::INFINITY));
    }
}

//! The extension point: a dynamics variant says how one coordinate moves given the global
//! statistics of the survivors, when it dies, and whether the affine structure of THEORY §2
//! survives (so that the reduced solvers apply).
//!
//! Every variant has the form `dw_j/dt = drift(w_j; ||w||_2^2, ||w||_1, m')` on the surviving
//! coordinates, identical for all of them (a mean-field flow), and a coordinate is dropped
//! once it is no longer alive (`w_j <= 0` for all variants here). The published flow is
//! [`L1`]; [`L1L2`] adds weight decay and keeps the affine structure; [`Lp`] (`0 < p < 1`)
//! does not, and its drift is singular at 0 (see its docs for how deaths are still located).
//!
//! Solvers over the trait: [`crate::DynamicsEuler`] (the published Euler loop, any variant),
//! [`crate::adaptive::solve_full`] (continuous time, whole vector, any variant), and, for
//! variants with [`Dynamics::affine_shift`], [`crate::ReducedSim`] and
//! [`crate::adaptive::solve_reduced`]. [`crate::EulerSim`] stays the bitwise fast path of [`L1`].
//!
//! # Adding a dynamics variant
//! 1. Create `dynamics/<name>.rs` with a struct holding its validated parameters and a
//!    constructor `new(lambda, ..) -> Result<Self, CoreError>` (reject bad values with
//!    [`CoreError::InvalidParameter`]).
//! 2. Implement [`Dynamics`]: `name`, `lambda`, `drift(w, globals)`; return `Some(mu)` from
//!    `affine_shift` only if the drift is exactly `(1 - ||w||^2 - mu)*w - lambda`.
//! 3. If the drift is singular where a coordinate dies, override `weight_to_state`/`state_to_weight`/
//!    `state_drift` with a variable in which it is smooth and reaches 0 transversally.
//! 4. Register the name in [`dynamics_by_name`] (and its `valid` list) and re-export it here.
//! 5. Test it in its file: the drift against a hand-computed value, a known special case, and
//!    Euler against the adaptive solver at small m.
//!
//! # References
//! THEORY.md §1 (the flow), §2 (affine structure and when it holds).

mod l1;
mod l1_l2;
mod lp;

use std::fmt;

pub use l1::L1;
pub use l1_l2::L1L2;
pub use lp::Lp;

use crate::error::CoreError;

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
/// Contract: the drift is the same function for every survivor; `weight_to_state` is increasing on
/// `w > 0` with `weight_to_state(0) = 0` and `state_to_weight` its inverse (clamping `u <= 0` to 0), so a
/// coordinate is alive exactly while its state is `> 0`.
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

    /// The inverse of [`Self::weight_to_state`], `w = phi^-1(u)`, with `u <= 0` mapped to a value that
    /// is not alive.
    fn state_to_weight(&self, u: f64) -> f64 {
        u
    }

    /// `du/dt = phi'(w)*drift(w)` in terms of `u` (by default the drift itself).
    fn state_drift(&self, u: f64, g: &Globals) -> f64 {
        self.drift(self.state_to_weight(u), g)
    }
}

/// Parameters of the variants beyond `lambda`; each variant reads the ones it needs.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct VariantParams {
    /// Weight decay `mu` of `l1-l2`.
    pub mu: Option<f64>,
    /// Exponent `p` of `lp`.
    pub p: Option<f64>,
}

/// The names [`dynamics_by_name`] knows.
pub const DYNAMICS_NAMES: [&str; 3] = ["l1", "l1-l2", "lp"];

/// The variant called `name` (`l1`, `l1-l2` with `mu`, `lp` with `p`) at L1 strength `lambda`.
///
/// # Errors
/// [`CoreError::UnknownName`] for another name, [`CoreError::MissingParameter`] when `mu` or
/// `p` is needed and not given, and the variant's own parameter errors.
pub fn dynamics_by_name(
    name: &str,
    lambda: f64,
    params: VariantParams,
) -> Result<Box<dyn Dynamics>, CoreError> {
    match name {
        "l1" => Ok(Box::new(L1::new(lambda)?)),
        "l1-l2" => {
            let mu = params.mu.ok_or(CoreError::MissingParameter {
                name: "mu",
                reason: "the l1-l2 dynamics needs a weight decay mu >= 0",
            })?;
            Ok(Box::new(L1L2::new(lambda, mu)?))
        }
        "lp" => {
            let p = params.p.ok_or(CoreError::MissingParameter {
                name: "p",
                reason: "the lp dynamics needs an exponent 0 < p < 1",
            })?;
            Ok(Box::new(Lp::new(lambda, p)?))
        }
        _ => Err(CoreError::UnknownName {
            what: "dynamics",
            name: name.to_owned(),
            valid: "l1, l1-l2 (with mu) or lp (with p)",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_builds_each_variant_and_names_what_is_missing() {
        let none = VariantParams::default();
        assert_eq!(dynamics_by_name("l1", 1e-3, none).unwrap().name(), "l1");
        let d = dynamics_by_name(
            "l1-l2",
            1e-3,
            VariantParams {
                mu: Some(0.1),
                p: None,
            },
        )
        .unwrap();
        assert_eq!(d.affine_shift(), Some(0.1));
        let d = dynamics_by_name(
            "lp",
            1e-3,
            VariantParams {
                mu: None,
                p: Some(0.5),
            },
        )
        .unwrap();
        assert_eq!(d.affine_shift(), None);
        let e = dynamics_by_name("l1-l2", 1e-3, none).unwrap_err();
        assert!(e.to_string().contains("missing mu"), "{e}");
        let e = dynamics_by_name("lp", 1e-3, none).unwrap_err();
        assert!(e.to_string().contains("missing p"), "{e}");
        let e = dynamics_by_name("l2", 1e-3, none).unwrap_err();
        assert!(e.to_string().contains("unknown dynamics 'l2'"), "{e}");
        for name in DYNAMICS_NAMES {
            let params = VariantParams {
                mu: Some(0.0),
                p: Some(0.5),
            };
            assert!(dynamics_by_name(name, 1e-3, params).is_ok(), "{name}");
        }
    }
}

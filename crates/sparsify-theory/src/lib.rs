//! Closed forms for L1 sparsification of one feature encoding.
//!
//! One feature's encoding `w` in R^m follows `dw_j/dt = (1 - ||w||_2^2) w_j - lambda` on its
//! positive coordinates; a coordinate that reaches 0 stays 0. This crate *predicts* that
//! process without simulating it:
//!
//! - [`published`]: the seed gist's own predictions and diagnostics, evaluated exactly as the
//!   gist does (`||w||_1 ~ 1/(1/sqrt(m) + lambda t)`, `m' ~ ||w||_1^2`, the "theoretical
//!   w1/(t lambda)" curve, `rel_var_range` bitwise, the ideal quantiles);
//! - [`death_times`]: the death time of every coordinate in closed form from any sorted initial
//!   weights, in O(m), with first-order, explicit-Euler and transient corrections;
//! - [`continuum`]: the half-normal continuum limit `N`, `G`, `F` and the relative variance;
//! - [`slow_manifold`]: whole curves `m'(t)`, `||w||_1(t)`, `rho(t)` from the continuum, and
//!   the full stiff `(alpha, theta)` flow with its transient;
//! - [`winner`]: the relative gap of the two largest weights and the final weight;
//! - [`collisions`]: for the n-feature model, the exact distributions of initial-argmax
//!   collisions and of the occupancy model's polysemantic count, and the relocation model.
//!
//! It is **not** a simulator (that is `sparsify-core`, which this crate deliberately does not
//! depend on, so that agreement between theory and simulation means something), and it does no
//! file I/O, plotting or argument parsing: callers pass numbers in and take plain rows out.
//!
//! # Summation order
//! Sums whose order is a contract (`rel_var_range`, reproducing numpy's `cumsum`) are
//! sequential left to right. All others are accumulated left to right in a documented order
//! (increasing `theta`, descending weights) with Neumaier's compensated sum, which keeps prefix
//! values available and bounds the error independently of the number of terms.
//!
//! # Example
//! ```
//! use sparsify_theory::death_times::{death_times, Discretisation, Order, PredictionConfig};
//!
//! let w0 = [0.9, 0.5, 0.3, 0.1];
//! let cfg = PredictionConfig::new(1e-3, Order::FirstOrder, Discretisation::Continuous, true)?;
//! let times = death_times(&w0, &cfg)?;
//! // The smallest weight dies first; the last death (m' = 1) comes last.
//! assert!(times.first_time_at_most(3).unwrap() < times.first_time_at_most(1).unwrap());
//! # Ok::<(), sparsify_theory::TheoryError>(())
//! ```
//!
//! # References
//! The mathematics is in the project's docs/theory.md (sections cited per item); the baseline is
//! the published gist "Numerical simulation of the sparsification of an encoding affected by
//! feature benefit and l1 regularization" (Victor Lecomte, 2023).
#![deny(missing_docs)]

pub mod collisions;
pub mod continuum;
pub mod death_times;
mod error;
pub mod published;
mod quadrature;
pub mod slow_manifold;
mod sum;
pub mod winner;

pub use error::TheoryError;

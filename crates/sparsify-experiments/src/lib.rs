//! The experiments of sparsify as a library: the claims harness ([`claims`]), the assembly of
//! the published figures ([`figures`]) and of the theory-against-simulation figures
//! ([`theory_figures`]), and the published run's inputs ([`published`]), built once.
//!
//! It is the application layer that the `sparsify` binary, `cargo xtask` and the tests share:
//! it simulates with `sparsify-core`, predicts with `sparsify-theory` and hands plain series to
//! `sparsify-plot`. It is **not** a command line (no clap, no terminal, no exit codes: those are
//! `sparsify-cli`'s), and it does no file I/O except rendering a figure to the path it is
//! given.
//!
//! # Example
//! ```
//! use sparsify_experiments::claims::{Profile, run_claim};
//!
//! // Claim 12: the reduced solver's death steps equal the direct solver's.
//! let claim = run_claim(12, Profile::Fast).expect("claim 12 exists");
//! assert!(claim.pass, "{}", claim.detail);
//! ```
#![deny(missing_docs)]

pub mod claims;
pub mod csv;
mod error;
pub mod figure_sweeps;
pub mod figures;
pub mod nfeature_figures;
pub mod polysemantic;
pub mod published;
pub mod sweep;
pub mod theory_figures;
pub mod train;

pub use error::ExperimentError;

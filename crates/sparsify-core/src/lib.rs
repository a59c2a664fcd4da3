//! Sparsification dynamics of one feature encoding under L1 regularisation.
//!
//! One feature's encoding `w` in R^m starts as sorted half-normal weights and follows
//! `dw_j/dt = (1 - ||w||_2^2) w_j - lambda` on its positive coordinates; a coordinate that
//! reaches 0 is dropped. This crate holds the initialisations ([`init`]), the Euler solver of
//! the published simulation ([`euler`], bit-for-bit in [`SumMode::Sequential`]) and what a run
//! records ([`record`]). Beside it: the reduced Euler solver ([`reduced`], O(1) per step on
//! `(alpha, d)` with cancellation-free prefix moments from [`prefix`]), the continuous-time flow
//! ([`adaptive`], Dormand-Prince 5(4) with located deaths), the extension point for other
//! dynamics ([`dynamics`]: self-describing [`Variant`]s, with the generic Euler loop in
//! [`generic`]) and parallel initialisation at scale ([`large`]). One entry point, [`solve`],
//! solves any variant with any [`Method`] that applies and returns one [`Solution`] (one
//! [`StopReason`], [`SolverCounts`] from every solver).
//!
//! It is **not** for closed-form predictions (that is `sparsify-theory`, kept independent so that
//! agreement between the two means something), plotting, or file I/O: callers pass weights in
//! and take plain data out.
//!
//! # Example
//! ```
//! use rand::SeedableRng;
//! use sparsify_core::{EulerConfig, EulerSim, InitialWeights, Recorder, RecordConfig, Stepper, SumMode};
//!
//! let mut rng = rand_pcg::Pcg64::seed_from_u64(7);
//! let w0 = InitialWeights::half_normal(&mut rng, 1000, None)?;
//! let cfg = EulerConfig::new(1e-3, 0.5, SumMode::Sequential)?;
//! let mut sim = EulerSim::new(cfg, w0.clone())?;
//! let mut rec = Recorder::new(RecordConfig::checkpoints_and_deaths());
//! let summary = sim.run(&mut rec, || false)?;
//! assert_eq!(summary.final_state.m_prime, 1);
//! // Winner-take-all is deterministic: the survivor started as the largest weight.
//! assert!(summary.final_state.w_max > 0.0);
//! # Ok::<(), sparsify_core::CoreError>(())
//! ```
#![deny(missing_docs)]

pub mod adaptive;
mod dp5;
pub mod drive;
pub mod dynamics;
mod error;
pub mod euler;
pub mod generic;
pub mod init;
pub mod large;
pub mod method;
pub mod numpy;
pub mod prefix;
pub mod record;
pub mod reduced;
pub mod schedule;
mod solve;
pub mod sum;

pub use adaptive::AdaptiveConfig;
pub use drive::{Death, Progress, STALL_ULPS, Solution, Stepper, StopReason};
pub use dynamics::{
    Dynamics, Globals, ParamSpec, Range, VARIANT_NAMES, VARIANTS, Variant, variant,
};
pub use error::{CoreError, Param};
pub use euler::{EulerConfig, EulerSim};
pub use generic::DynamicsEuler;
pub use init::InitialWeights;
pub use method::{Method, SolverCounts};
pub use numpy::NumpyRandomState;
pub use prefix::{Moments, PrefixMoments};
pub use record::{
    DeathEvent, InterpolatedDeaths, Observer, RecordConfig, Recorder, ScriptRow, Snapshot,
    StepStats,
};
pub use reduced::{ReducedConfig, ReducedSim};
pub use solve::{Solver, Start, solve};
pub use sum::SumMode;

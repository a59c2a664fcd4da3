//! The n-feature toy model of incidental polysemanticity, trained as the paper's code trains it.
//!
//! `instances` independent tied-weight models `W_i` of `n` features on `m` hidden neurons,
//! full batch (the identity), `output = relu((x W + xi) W^T)`, loss
//! `sum (relu(P) - I)^2 + lambda * sum |W|` ([`model`]); torch's AdamW and SGD ([`optim`]) in
//! the paper's loop ([`Trainer`]); the continuous-time gradient flow of the same loss with exact
//! zeros ([`FlowSim`]); and the paper's polysemanticity counts ([`metrics`]). Runs in `f32` (as
//! the paper) or `f64` (as the reference fixtures), instances in parallel with rayon, each
//! instance's matrix products sequential (faer, `Par::Seq`), so results do not depend on the
//! thread count. Randomness is passed in.
//!
//! It is **not** for file I/O (callers pass weights in as arrays and take plain data out), the
//! command line, plotting, or closed-form predictions. It does not reproduce torch's or numpy's
//! random streams: reference initial weights are read by the caller and passed in.
//!
//! # Example
//! ```
//! use rand::SeedableRng;
//! use sparsify_nfeature::{
//!     AdamWParams, Noise, Optimizer, Shape, Stepper, StopReason, TrainConfig, Trainer, Weights,
//! };
//!
//! let mut rng = rand_pcg::Pcg64::seed_from_u64(1);
//! let shape = Shape::new(2, 8, 16)?;
//! let w0 = Weights::<f32>::normal(&mut rng, shape);
//! let config = TrainConfig::new(1e-3, Optimizer::AdamW(AdamWParams::default()), Noise::None)?;
//! let mut trainer = Trainer::new(config, w0);
//! let summary = trainer.run(&mut rng, 100, &mut (), || false);
//! assert_eq!(summary.stop, StopReason::Completed);
//! assert!(summary.final_loss.total < summary.initial_loss.total);
//! # Ok::<(), sparsify_nfeature::NFeatureError>(())
//! ```
//!
//! # Speed
//! See the crate's `README.md` (`cargo bench -p sparsify-nfeature --bench step`).
#![deny(missing_docs)]

mod drive;
mod error;
mod float;
pub mod flow;
pub mod metrics;
pub mod model;
pub mod optim;
mod train;

pub use drive::{Observer, RunSummary, State, Stepper, StopReason};
pub use error::{NFeatureError, Param};
pub use float::Float;
pub use flow::{FlowConfig, FlowSim};
pub use model::{LossParts, Noise, Shape, Weights};
pub use optim::{AdamWParams, Optimizer, SgdParams};
pub use train::{TrainConfig, Trainer};

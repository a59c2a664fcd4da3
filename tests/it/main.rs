//! The one integration-test binary: each module is a topic.

mod cli;
mod cli_solvers;
mod cli_stalls;
mod common;
mod figures;
mod hostile;
mod nfeature;
mod nfeature_figures;
mod plot_render;
mod polysemantic;
mod properties;
mod reference;
mod snapshots;
mod solvers;
mod sweep;
mod theory;
mod train;

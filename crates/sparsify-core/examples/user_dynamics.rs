//! A dynamics variant defined outside the library, solved by its direct and adaptive solvers
//! and recorded, without editing any library file:
//! `cargo run --release -p sparsify-core --example user_dynamics`.
//!
//! The variant saturates the feature benefit,
//! `dw_j/dt = tanh(kappa*(1 - ||w||^2))/kappa * w_j - lambda` (`kappa -> 0` is the published
//! flow). The benefit is common to every survivor, so
//! survivors keep their order, but it is not `1 - ||w||^2 - mu`: the reduced solvers do not
//! apply, and the description says so.
#![allow(clippy::print_stdout)]

use sparsify_core::dynamics::{Dynamics, Globals, ParamSpec, Range, Variant};
use sparsify_core::{
    AdaptiveConfig, CoreError, InitialWeights, Method, Param, RecordConfig, Recorder, Solver,
    StopReason, SumMode, solve,
};

/// The saturating-benefit variant.
#[derive(Debug, Clone, Copy)]
struct Saturating {
    lambda: f64,
    kappa: f64,
}

impl Saturating {
    /// Its description: one parameter with a range and a default; direct and adaptive only.
    const VARIANT: Variant = Variant {
        name: "saturating",
        about: "tanh(kappa (1 - ||w||^2))/kappa w - lambda",
        params: &[ParamSpec {
            name: "kappa",
            help: "how soon the feature benefit saturates",
            range: Range::open(0.0, f64::INFINITY),
            default: Some(2.0),
        }],
        methods: &[Method::Direct, Method::Adaptive],
        build: |lambda, v| Ok(Box::new(Saturating::new(lambda, v[0])?)),
    };

    fn new(lambda: f64, kappa: f64) -> Result<Self, CoreError> {
        Range::NON_NEGATIVE.check(Param::Lambda, lambda)?;
        Self::VARIANT.params[0]
            .range
            .check(Param::Variant("kappa"), kappa)?;
        Ok(Self { lambda, kappa })
    }
}

impl Dynamics for Saturating {
    fn name(&self) -> String {
        format!("saturating (kappa = {})", self.kappa)
    }

    fn lambda(&self) -> f64 {
        self.lambda
    }

    fn drift(&self, w: f64, g: &Globals) -> f64 {
        (self.kappa * (1.0 - g.sq_norm)).tanh() / self.kappa * w - self.lambda
    }

    fn affine_shift(&self) -> Option<f64> {
        None
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (m, lambda, h) = (500, 2e-3, 0.25);
    let variant = &Saturating::VARIANT;
    // A parameter the variant does not take is refused from its description.
    let refused = variant.dynamics(lambda, &[("mu", 0.1)]);
    assert!(matches!(refused, Err(CoreError::UnknownName { .. })));
    let dynamics = variant.dynamics(lambda, &[])?;
    let w0 = InitialWeights::quantile(m, None)?;

    let mut recorder = Recorder::new(RecordConfig::checkpoints_and_deaths());
    let direct = solve(
        dynamics.as_ref(),
        &Solver::direct(h, SumMode::Pairwise)?,
        w0.clone(),
        &mut recorder,
        |_| false,
    )?;
    recorder.finish();
    let adaptive = solve(
        dynamics.as_ref(),
        &Solver::adaptive(AdaptiveConfig::new(1e-9, 1e-12)?),
        w0,
        &mut (),
        |_| false,
    )?;
    let deaths = |s: &sparsify_core::Solution| m - s.final_state.m_prime;
    println!(
        "{}: m = {m}, lambda = {lambda}\n\
         direct (h = {h}):  {} (t = {:.1}, {} steps, {} death events, {} checkpoints recorded)\n\
         adaptive:          {} (t = {:.1}, {} steps, {} located deaths)\n\
         death count: {}",
        dynamics.name(),
        direct.stop.describe(),
        direct.final_state.t,
        direct.counts.steps,
        direct.counts.events,
        recorder.checkpoints.len(),
        adaptive.stop.describe(),
        adaptive.final_state.t,
        adaptive.counts.steps,
        adaptive.deaths.len(),
        deaths(&adaptive),
    );
    // Both solvers end with the winner alone, having seen the same number of deaths; Euler's
    // last death is O(h) later than the flow's, but not by more than a few percent here.
    let ok = direct.stop == StopReason::OneLeft
        && adaptive.stop == StopReason::OneLeft
        && deaths(&direct) == deaths(&adaptive)
        && recorder.deaths.len() as u64 == direct.counts.events
        && (direct.final_state.t - adaptive.final_state.t).abs() < 0.05 * adaptive.final_state.t;
    if ok {
        Ok(())
    } else {
        Err("the direct and adaptive solvers disagree".into())
    }
}

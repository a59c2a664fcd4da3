//! Claim 13: in the trained n-feature model, polysemantic neurons hold features of both signs.

use sparsify_nfeature::metrics::polysemantic_neurons;
use sparsify_nfeature::{AdamWParams, Noise, Optimizer, Shape, StopReason};

use super::{Claim, Profile};
use crate::ExperimentError;
use crate::train::{Dtype, Method, TrainSpec, train};

pub(crate) const STATEMENT: &str = "In the paper's n-feature model trained as its code trains \
     it (AdamW lr 1e-3 with weight decay 0.01, lambda = 1e-3, 7,500 steps, float32), every \
     polysemantic neuron holds features of both signs: at least 95% of them are opposite-sign \
     (same-sign features on one neuron interfere through the ReLU and one is pushed off, \
     docs/theory.md §8), and some polysemantic neurons exist.";

/// The trained sizes: fast, n = 32 and m = 64 with 8 instances (about a second in release);
/// full, m = 64, 128, 256 with 16 instances each (the reference's stats cases).
fn plan(profile: Profile) -> &'static [(usize, usize, usize)] {
    match profile {
        Profile::Fast => &[(8, 32, 64)],
        Profile::Full => &[(16, 32, 64), (16, 32, 128), (16, 32, 256)],
    }
}

/// Claim 13. The measured value is `1 - fraction` of polysemantic neurons with both signs;
/// tolerance 0.05. The reference fixtures found 423 of 423 opposite-sign (issue 10), so the
/// 5% allowance is for a rare same-sign pair caught mid-separation at the last step.
pub(crate) fn run(profile: Profile) -> Result<Claim, ExperimentError> {
    opposite_sign_with(profile, true)
}

/// The claim, or with `want_opposite = false` its negative control: the fraction of
/// polysemantic neurons whose features share one sign, which must then fail.
pub fn opposite_sign_with(profile: Profile, want_opposite: bool) -> Result<Claim, ExperimentError> {
    let (mut total, mut matching) = (0_usize, 0_usize);
    let mut parts = Vec::new();
    for (seed, &(instances, n, m)) in plan(profile).iter().enumerate() {
        let spec = TrainSpec {
            shape: Shape::new(instances, n, m)?,
            lambda: 1e-3,
            steps: 7_500,
            seed: 1300 + seed as u64,
            method: Method::Optimizer(Optimizer::AdamW(AdamWParams::default())),
            noise: Noise::None,
            dtype: Dtype::F32,
            save_steps: Vec::new(),
            record_every: 7_500,
        };
        let out = train(&spec, None, &mut |_| {}, &|| false)?;
        if out.summary.stop != StopReason::Completed {
            return Err(ExperimentError::Inconsistent(format!(
                "n = {n}, m = {m}: training ended with {}",
                out.summary.stop.name()
            )));
        }
        let neurons = polysemantic_neurons(&out.w0, &out.w_final);
        let opposite = neurons.iter().filter(|p| p.opposite_sign).count();
        total += neurons.len();
        matching += if want_opposite {
            opposite
        } else {
            neurons.len() - opposite
        };
        parts.push(format!(
            "n = {n}, m = {m}, {instances} instances: {opposite} of {} polysemantic neurons \
             opposite-sign",
            neurons.len()
        ));
    }
    // No polysemantic neuron at all is no evidence: the measurement is then NaN (fails).
    let measured = if total == 0 {
        f64::NAN
    } else {
        1.0 - matching as f64 / total as f64
    };
    Ok(Claim::new(
        13,
        "polysemantic_neurons_are_opposite_sign",
        STATEMENT,
        measured,
        0.05,
        parts.join("; "),
    )
    .require(total > 0, "at least one polysemantic neuron"))
}

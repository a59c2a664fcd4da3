//! Claim 18: with `lambda = 0` and SGD, Bernoulli hidden-layer noise drives the fourth norm up
//! (towards one-hot encodings) while Gaussian noise of the same variance does not
//! (`docs/theory.md` §7.9: Gaussian noise has no privileged basis, Bernoulli noise's fourth
//! cumulant sees exactly the fourth norm).

use super::{Claim, Profile, Worst};
use crate::ExperimentError;
use crate::nfeature_figures::{FourthNormCurve, NoiseStudy, fourth_norm_curves};
use sparsify_nfeature::{Noise, StopReason};

pub(crate) const STATEMENT: &str = "In the paper's noise experiment (n = 8, m = 16, 5 instances, \
     SGD lr 0.02, lambda = 0, float32), Bernoulli noise of sigma 0.15 (full: also 0.1) drives \
     the mean fourth norm above 0.5 by the end, while Gaussian noise of the same sigma keeps it \
     below 0.25 throughout (docs/theory.md §7.9).";

/// The Bernoulli run's final mean fourth norm must exceed this.
pub(crate) const BERNOULLI_ABOVE: f64 = 0.5;
/// The Gaussian run's mean fourth norm must stay below this at every recorded step.
pub(crate) const GAUSSIAN_BELOW: f64 = 0.25;

/// `(seeds, sigmas, steps)`. Fast: one seed, sigma 0.15, 10,000 steps (the reference's
/// Bernoulli curve is at about 0.7 by then, issue 9); full: three seeds, sigma 0.1 and 0.15,
/// the paper's 100,000 steps.
fn plan(profile: Profile) -> (&'static [u64], &'static [f64], u64) {
    match profile {
        Profile::Fast => (&[13], &[0.15], 10_000),
        Profile::Full => (&[13, 14, 15], &[0.1, 0.15], 100_000),
    }
}

/// Claim 18.
pub(crate) fn run(profile: Profile) -> Result<Claim, ExperimentError> {
    let (_, sigmas, _) = plan(profile);
    noise_with(profile, sigmas)
}

/// The claim with the given noise amplitudes (a too-small `sigma` is the negative control:
/// Bernoulli noise of sigma 0.07 barely moves the fourth norm in 10,000 steps, so it fails).
///
/// Measured: the worse of `0.5 / B` and `G / 0.25`, with `B` the smallest final mean (over
/// instances) fourth norm of a Bernoulli run and `G` the largest mean fourth norm of a
/// Gaussian run at any recorded step; tolerance 1 (both thresholds are the claim's own, the
/// issue's; the reference's Bernoulli 0.15 curve reaches 0.77 and its Gaussian one stays near
/// 0.15). At the start `E (fourth norm) = 3/m = 0.19` (§7.9), so the Gaussian threshold leaves
/// room for the sampling spread of 40 rows. Side condition: every run completed.
pub fn noise_with(profile: Profile, sigmas: &[f64]) -> Result<Claim, ExperimentError> {
    let (seeds, _, steps) = plan(profile);
    let mut worst = Worst::new();
    let mut parts = Vec::new();
    let mut completed = true;
    for &seed in seeds {
        let study = NoiseStudy {
            sigmas: sigmas.to_vec(),
            seed,
            per_decade: 10,
            ..NoiseStudy::paper(steps)
        };
        let never = || false;
        let curves = fourth_norm_curves(&study, &never)?;
        for c in &curves {
            completed &= c.stop == StopReason::Completed;
            let (ratio, what) = judge(c);
            worst.add(ratio);
            parts.push(format!("seed {seed}, {what}"));
        }
    }
    Ok(Claim::new(
        18,
        "bernoulli_noise_raises_the_fourth_norm",
        STATEMENT,
        worst.get(),
        1.0,
        format!("{steps} steps; {}", parts.join("; ")),
    )
    .require(completed, "every run completed"))
}

/// A curve's ratio to its threshold (at most 1 passes) and a description.
fn judge(c: &FourthNormCurve) -> (f64, String) {
    match c.noise {
        Noise::Bernoulli { sigma } => {
            let b = c.final_mean();
            (
                BERNOULLI_ABOVE / b,
                format!("Bernoulli sigma {sigma}: final mean {b:.3} (> {BERNOULLI_ABOVE})"),
            )
        }
        Noise::Gaussian { sigma } => {
            let mut g = Worst::new();
            for row in c.mean_and_band() {
                g.add(row.1);
            }
            let g = g.get();
            (
                g / GAUSSIAN_BELOW,
                format!("Gaussian sigma {sigma}: largest mean {g:.3} (< {GAUSSIAN_BELOW})"),
            )
        }
        Noise::None => (f64::NAN, "no noise".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_little_bernoulli_noise_fails_and_a_nan_curve_fails() {
        let weak = noise_with(Profile::Fast, &[0.07]).unwrap();
        assert!(!weak.pass, "{}", weak.detail);
        assert!(weak.measured > 1.5, "{}", weak.detail);
        let nan = FourthNormCurve {
            noise: Noise::Bernoulli { sigma: 0.15 },
            steps: vec![0, 1],
            values: vec![vec![0.2; 5], vec![f64::NAN, 0.9, 0.9, 0.9, 0.9]],
            stop: StopReason::Completed,
        };
        assert!(judge(&nan).0.is_nan());
    }
}

//! Claim 12: the reduced and direct solvers give identical death events.

use sparsify_core::{
    EulerConfig, EulerSim, InitialWeights, RecordConfig, Recorder, ReducedConfig, ReducedSim,
    Stepper, SumMode,
};

use super::sim::half_normal;
use super::{Claim, Profile};
use crate::ExperimentError;

pub(crate) const STATEMENT: &str = "The reduced O(1)-per-step solver and the direct O(m')-per-step \
     Euler loop give identical death events (step and m' of every change), run to one survivor.";

/// Death events as `(step after which m' changed, new m')`.
pub type DeathEvents = Vec<(u64, usize)>;

/// The death events `(step, m')` of the direct solver (sequential sums, the published loop) and
/// of the reduced solver, from the same weights.
///
/// # Errors
/// A solver error.
pub fn death_events(
    w0: &InitialWeights,
    lambda: f64,
    h: f64,
) -> Result<(DeathEvents, DeathEvents), ExperimentError> {
    let cfg = EulerConfig::new(lambda, h, SumMode::Sequential)?;
    let mut direct = EulerSim::new(cfg, w0.clone())?;
    let mut rec = Recorder::new(RecordConfig::checkpoints_and_deaths());
    direct.run_recorded(&mut rec, || false)?;
    let a = rec.deaths.iter().map(|d| (d.step, d.m_prime)).collect();
    let cfg = ReducedConfig::new(lambda, h)?;
    let mut reduced = ReducedSim::new(cfg, w0.clone())?;
    let mut rec = Recorder::new(RecordConfig::checkpoints_and_deaths());
    reduced.run_recorded(&mut rec, || false)?;
    let b = rec.deaths.iter().map(|d| (d.step, d.m_prime)).collect();
    Ok((a, b))
}

/// Claim 12. Fast: the published run (numpy seed 0, m = 1e5, lambda = 1e-5) and pcg seeds 1..=4
/// at m = 1e4 (lambda = 1e-4); full adds numpy seeds 1..=4 at m = 1e5 and one run at m = 1e6
/// (lambda = 1e-6). h = 0.5. Measured: the number of runs whose event lists differ; tolerance 0.
/// (The reduced solver's module documentation bounds the chance of a legitimate difference, a
/// death decided by rounding at ~1e-14 of the weight scale, at ~1e-5 per run.)
pub(crate) fn run(profile: Profile) -> Result<Claim, ExperimentError> {
    let mut runs: Vec<(String, InitialWeights, f64)> = vec![(
        "numpy seed 0, m = 1e5".into(),
        crate::published::initial_weights()?.clone(),
        crate::published::LAMBDA,
    )];
    for seed in 1..=4 {
        runs.push((
            format!("pcg seed {seed}, m = 1e4"),
            half_normal(10_000, seed)?,
            1e-4,
        ));
    }
    if profile == Profile::Full {
        for seed in 1..=4 {
            runs.push((
                format!("numpy seed {seed}, m = 1e5"),
                InitialWeights::half_normal_numpy(seed, 100_000, None)?,
                1e-5,
            ));
        }
        runs.push(("seed 11, m = 1e6".into(), half_normal(1_000_000, 11)?, 1e-6));
    }
    let (mut differing, mut events) = (0_u32, 0_usize);
    let mut notes = Vec::new();
    for (name, w0, lambda) in &runs {
        let (a, b) = death_events(w0, *lambda, 0.5)?;
        events += a.len();
        if a != b {
            differing += 1;
            let at = a.iter().zip(&b).position(|(x, y)| x != y);
            notes.push(format!("{name}: first difference at event {at:?}"));
        }
    }
    let detail = format!(
        "{} runs, {events} death events compared; {differing} runs differ{}",
        runs.len(),
        if notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", notes.join("; "))
        }
    );
    Ok(Claim::new(
        12,
        "reduced_equals_direct",
        STATEMENT,
        f64::from(differing),
        0.0,
        detail,
    )
    .require(events > 0, "some death events were compared"))
}

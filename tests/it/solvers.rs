//! The reduced and adaptive solvers and the dynamics variants against the direct solver, the
//! reference runs and closed forms.

use sparsify_core::{InitialWeights, RecordConfig, Recorder, ReducedConfig, ReducedSim, StepStats};

use crate::common::{PREFIXES, csv, meta, num, w0};

/// The reference checkpoints as `(step, m', [t, one_norm, sq_norm, w_max, w_min, relvar, gamma])`.
fn ref_checkpoints(prefix: &str) -> Vec<(u64, usize, [f64; 7])> {
    csv(&format!("{prefix}.checkpoints.csv"))
        .1
        .iter()
        .map(|r| {
            (
                num(&r[0]),
                num(&r[2]),
                [1, 3, 4, 5, 6, 7, 8].map(|i| num(&r[i])),
            )
        })
        .collect()
}

fn scalars(s: &StepStats) -> [f64; 7] {
    [
        s.t,
        s.one_norm,
        s.sq_norm,
        s.w_max,
        s.w_min,
        s.relative_variance,
        s.gamma,
    ]
}

fn ref_deaths(prefix: &str) -> Vec<(u64, usize)> {
    csv(&format!("{prefix}.deaths.csv"))
        .1
        .iter()
        .map(|r| (num(&r[0]), num(&r[2])))
        .collect()
}

/// The reduced solver reproduces every death event (step and m') of the direct solver on every
/// reference fixture (the direct solver reproduces the fixtures bit for bit, tests/it/reference.rs,
/// so the fixtures stand in for it), and every checkpoint scalar within 1e-10 relative.
/// `w_min` just before a death is `alpha*(w0_j - theta)`, a difference of numbers of size
/// `w_max`, so its error is measured against `w_max` (the same 1e-10).
#[test]
fn reduced_reproduces_every_reference_death_event() {
    for prefix in PREFIXES {
        let (m, lambda, h) = meta(prefix);
        let w = InitialWeights::from_values(w0(prefix), false).expect("fixture weights");
        assert_eq!(w.len(), m);
        let mut sim =
            ReducedSim::new(ReducedConfig::new(lambda, h).expect("valid"), w).expect("stable");
        let mut rec = Recorder::new(RecordConfig::checkpoints_and_deaths());
        sim.run_recorded(&mut rec, || false).expect("runs");
        let deaths: Vec<(u64, usize)> = rec.deaths.iter().map(|d| (d.step, d.m_prime)).collect();
        assert_eq!(deaths, ref_deaths(prefix), "{prefix}");
        assert_eq!(sim.counts().events as usize, deaths.len());
        let reference = ref_checkpoints(prefix);
        assert_eq!(rec.checkpoints.len(), reference.len(), "{prefix}");
        let mut worst = [0.0f64; 7];
        for (ours, (step, m_prime, r)) in rec.checkpoints.iter().zip(&reference) {
            assert_eq!((ours.step, ours.m_prime), (*step, *m_prime), "{prefix}");
            for (i, (a, b)) in scalars(ours).iter().zip(r).enumerate() {
                let scale = if i == 4 { r[3] } else { a.abs().max(b.abs()) };
                let err = if a == b { 0.0 } else { (a - b).abs() / scale };
                worst[i] = worst[i].max(err);
                assert!(err <= 1e-10, "{prefix} step {step} column {i}: {a} vs {b}");
            }
        }
        let worst: Vec<String> = worst.iter().map(|x| format!("{x:.1e}")).collect();
        eprintln!("{prefix}: worst relative differences {worst:?}");
    }
}

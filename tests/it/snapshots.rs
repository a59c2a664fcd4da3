//! Snapshots of run summaries from the built-in initialisations: any numerical change to the
//! solver or the initialisations shows up here for review. Numbers are printed to 12
//! significant digits, far above the sum-order noise (~1e-15) yet tight enough to catch any
//! real change.

use rand::SeedableRng;
use sparsify_core::{
    EulerConfig, EulerSim, InitialWeights, RecordConfig, Recorder, Stepper, SumMode,
};

fn summary(w0: InitialWeights, lambda: f64, sum: SumMode) -> String {
    let m = w0.len();
    let cfg = EulerConfig::new(lambda, 0.5, sum).expect("valid");
    let mut sim = EulerSim::new(cfg, w0).expect("stable");
    let mut rec = Recorder::new(RecordConfig::checkpoints_and_deaths());
    let s = sim.run_recorded(&mut rec, || false).expect("runs");
    let f = |x: f64| format!("{x:.11e}");
    let mut out = format!(
        "m: {m}\nlambda: {lambda:e}\nsum: {sum}\nstop: {}\nsteps: {}\nfinal_t: {}\ndeath_events: {}\n\
         initial: one_norm {} sq_norm {} w_max {} rel_var {}\n\
         final: w_max {} gamma {}\n",
        s.stop.name(),
        s.final_state.step,
        s.final_state.t,
        rec.deaths.len(),
        f(s.initial_state.one_norm),
        f(s.initial_state.sq_norm),
        f(s.initial_state.w_max),
        f(s.initial_state.relative_variance),
        f(s.final_state.w_max),
        f(s.final_state.gamma),
    );
    // m' at the first checkpoint of each decade of time: the shape of the sparsification curve.
    for target in [10, 100, 1000, 10_000, 100_000] {
        let Some(c) = rec.checkpoints.iter().find(|c| c.step >= target) else {
            break;
        };
        out += &format!(
            "step {:>6}: m' {:>6} one_norm {}\n",
            c.step,
            c.m_prime,
            f(c.one_norm)
        );
    }
    out
}

#[test]
fn pcg64_seed_1_half_normal() {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(1);
    let w0 = InitialWeights::half_normal(&mut rng, 2000, None).expect("valid");
    insta::assert_snapshot!(summary(w0, 1e-3, SumMode::Sequential));
}

#[test]
fn numpy_seed_0_half_normal() {
    let w0 = InitialWeights::half_normal_numpy(0, 2000, None).expect("valid");
    insta::assert_snapshot!(summary(w0, 1e-3, SumMode::Sequential));
}

#[test]
fn quantile_pairwise() {
    let w0 = InitialWeights::quantile(5000, None).expect("valid");
    insta::assert_snapshot!(summary(w0, 3e-4, SumMode::Pairwise));
}

//! The reduced and adaptive solvers and the dynamics variants against the direct solver, the
//! reference runs and closed forms.

use rand::SeedableRng;
use sparsify_core::dynamics::{Dynamics, L1, Lp, Opaque};
use sparsify_core::{
    AdaptiveConfig, EulerConfig, EulerSim, InitialWeights, InterpolatedDeaths, RecordConfig,
    Recorder, ReducedConfig, ReducedSim, Solution, Solver, Stepper, StopReason, SumMode,
};

use crate::common::{CHECKPOINT_SCALARS, PREFIXES, meta, ref_checkpoints, ref_deaths, scalars, w0};
use sparsify_experiments::claims::{Worst, worst};

/// The adaptive solver on `d` (the reduced flow for an affine variant; wrap it in `Opaque` for
/// the whole-vector flow), reporting the state at `times`.
fn adaptive(
    d: &dyn Dynamics,
    cfg: &AdaptiveConfig,
    w0: InitialWeights,
    times: &[f64],
) -> Result<Solution, sparsify_core::CoreError> {
    let solver = Solver::adaptive(*cfg).with_output_times(times)?;
    sparsify_core::solve(d, &solver, w0, &mut (), |_| false)
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
        let mut worst = [Worst::new(); 7];
        for (ours, r) in rec.checkpoints.iter().zip(&reference) {
            assert_eq!((ours.step, ours.m_prime), (r.step, r.m_prime), "{prefix}");
            for (i, (a, b)) in scalars(ours).iter().zip(&r.scalars).enumerate() {
                let scale = if i == 4 {
                    r.scalars[3]
                } else {
                    a.abs().max(b.abs())
                };
                let err = if a == b { 0.0 } else { (a - b).abs() / scale };
                worst[i].add(err);
                let (step, column) = (r.step, CHECKPOINT_SCALARS[i]);
                assert!(err <= 1e-10, "{prefix} step {step} {column}: {a} vs {b}");
            }
        }
        let worst: Vec<String> = worst.iter().map(|x| format!("{:.1e}", x.get())).collect();
        eprintln!("{prefix}: worst relative differences {worst:?}");
    }
}

/// Continuous time against the published Euler discretisation on every fixture: for each
/// reference death event (step k, m'), the adaptive solver's time of the first death that
/// leaves at most m' survivors is within 2.5 time units of `k*h`. docs/theory.md §3 puts Euler's O(h)
/// shift at about `(h/4)*ln(F(0)/F(theta))`, which reaches ~2.3 for h = 0.5 at the end of the
/// m = 1e5 runs (`F` falls from 0.81 to ~1e-8). Also pins the work: DP5(4) is
/// stability-limited after the transient, so the steps that do not end at a death average
/// over half a time unit (measured: 1.7 for the m = 1e5 runs, 0.7 for the m = 1e3 run, whose
/// deaths come every 1.5 time units and cut steps short) and there is one restart per death.
#[test]
fn adaptive_death_times_match_euler_within_its_step_shift() {
    for prefix in PREFIXES {
        let (m, lambda, h) = meta(prefix);
        let w = InitialWeights::from_values(w0(prefix), false).expect("fixture weights");
        let cfg = AdaptiveConfig::new(1e-8, 1e-12).expect("valid");
        let s = adaptive(&L1::new(lambda).expect("valid"), &cfg, w, &[]).expect("runs");
        assert_eq!(s.stop, StopReason::OneLeft);
        assert_eq!(
            s.counts.events as usize,
            m - 1,
            "{prefix}: no exact ties in w0"
        );
        let mut j = 0;
        for (step, m_prime) in ref_deaths(prefix) {
            while s.deaths[j].m_prime > m_prime {
                j += 1;
            }
            let (te, ta) = (step as f64 * h, s.deaths[j].t);
            assert!(
                (te - ta).abs() <= 2.5,
                "{prefix} m' = {m_prime}: {te} vs {ta}"
            );
        }
        let free_steps = (s.counts.steps - s.counts.events) as f64;
        let mean_step = s.final_state.t / free_steps;
        assert!((0.5..3.0).contains(&mean_step), "{prefix}: {:?}", s.counts);
        eprintln!("{prefix}: {:?}, t_end {:.1}", s.counts, s.final_state.t);
    }
}

/// Euler converges to the flow at order 1: halving h halves the error of the (linearly
/// interpolated) death times. Measured ratios are 1.9988, 1.9994, 1.9997 for h = 0.2 -> 0.025;
/// the band [1.95, 2.05] allows for the O(h^2) remainder at the largest h. The reference is the
/// adaptive solver at rtol 1e-12, whose error (~1e-9 here) is far below Euler's (>= 0.04).
#[test]
fn euler_converges_to_the_flow_at_order_one() {
    let w0 = InitialWeights::quantile(200, None).expect("valid");
    let lambda = 2e-3;
    let cfg = AdaptiveConfig::new(1e-12, 1e-15).expect("valid");
    let flow = adaptive(&L1::new(lambda).expect("valid"), &cfg, w0.clone(), &[]).expect("runs");
    let exact = |m_prime: usize| {
        flow.deaths
            .iter()
            .find(|d| d.m_prime == m_prime)
            .map(|d| d.t)
    };
    let mut errors = Vec::new();
    for h in [0.2, 0.1, 0.05, 0.025] {
        let mut sim = ReducedSim::new(ReducedConfig::new(lambda, h).expect("valid"), w0.clone())
            .expect("stable");
        let mut obs = InterpolatedDeaths::new(lambda);
        sim.run(&mut obs, || false).expect("runs");
        assert_eq!(obs.deaths.len(), 199, "one death per step at these h");
        let err = obs
            .deaths
            .iter()
            .map(|&(m_prime, t)| (t - exact(m_prime).expect("same deaths")).abs());
        let err = worst(err);
        errors.push(err);
    }
    for pair in errors.windows(2) {
        let ratio = pair[0] / pair[1];
        assert!((1.95..=2.05).contains(&ratio), "errors {errors:?}");
    }
}

/// The full-vector and reduced adaptive solvers integrate the same flow in different
/// variables: on the tiny fixture every death agrees to 1e-7 relative at rtol 1e-10 (both
/// global errors are ~1e-9 relative over ~1e3 time units; the bound leaves a factor ~10), and
/// the states at output times agree too.
#[test]
fn full_vector_and_reduced_adaptive_agree() {
    let prefix = "tiny_quantile_m1e3_l1e-3";
    let (_, lambda, _) = meta(prefix);
    let w = InitialWeights::from_values(w0(prefix), false).expect("fixture weights");
    let cfg = AdaptiveConfig::new(1e-10, 1e-13).expect("valid");
    let l1 = L1::new(lambda).expect("valid");
    let times = [0.5, 10.0, 100.0, 1000.0];
    let a = adaptive(&l1, &cfg, w.clone(), &times).expect("runs");
    let b = adaptive(&Opaque(l1), &cfg, w, &times).expect("runs");
    assert_eq!(a.deaths.len(), b.deaths.len());
    let mut diff = Worst::new();
    for (x, y) in a.deaths.iter().zip(&b.deaths) {
        assert_eq!(x.m_prime, y.m_prime);
        diff.add((x.t - y.t).abs() / x.t);
    }
    let diff = diff.get();
    assert!(diff <= 1e-7, "worst relative difference {diff:e}");
    assert_eq!(a.outputs.len(), b.outputs.len());
    assert_eq!(
        a.outputs.len(),
        times.len(),
        "one output per requested time"
    );
    assert_eq!(a.outputs.len(), times.len());
    assert_eq!(b.outputs.len(), times.len());
    for (x, y) in a.outputs.iter().zip(&b.outputs) {
        assert_eq!(x.m_prime, y.m_prime);
        assert!((x.sq_norm - y.sq_norm).abs() <= 1e-7 * x.sq_norm);
        assert!((x.one_norm - y.one_norm).abs() <= 1e-7 * x.one_norm);
    }
    eprintln!(
        "full vs reduced: worst death-time difference {diff:e}; {:?} vs {:?}",
        a.counts, b.counts
    );
}

/// At m = 1e7 the reduced solver against the direct solver in pairwise mode (the accurate
/// one): identical m' after every step and the same sums to 1e-12 relative. 40 steps of
/// lambda = 1e-5, h = 0.5 kill ~1.4% of the survivors per step (lambda*h = 5e-6 against a
/// weight scale 2.8e-4), so every step is a death event, and this stays within the time budget
/// (the direct solver costs ~10 ms per step here). This is where the textbook form
/// `alpha^2*S2 - 2*alpha*beta*S1 + beta^2*n` cancels; the pivot form does not.
#[test]
fn reduced_matches_direct_pairwise_at_ten_million() {
    let m = 10_000_000;
    let mut rng = rand_pcg::Pcg64::seed_from_u64(2026);
    let w = InitialWeights::half_normal(&mut rng, m, None).expect("valid");
    let (lambda, h) = (1e-5, 0.5);
    let mut direct = EulerSim::new(
        EulerConfig::new(lambda, h, SumMode::Pairwise).expect("valid"),
        w.clone(),
    )
    .expect("stable");
    let mut reduced =
        ReducedSim::new(ReducedConfig::new(lambda, h).expect("valid"), w).expect("stable");
    for _ in 0..40 {
        let before = direct.stats().m_prime;
        direct.step().expect("stable");
        reduced.step().expect("stable");
        let (x, y) = (direct.stats(), reduced.stats());
        assert!(x.m_prime < before, "every step kills");
        assert_eq!(x.m_prime, y.m_prime, "step {}", x.step);
        assert!(
            (x.sq_norm - y.sq_norm).abs() <= 1e-12 * x.sq_norm,
            "step {}",
            x.step
        );
        assert!(
            (x.one_norm - y.one_norm).abs() <= 1e-12 * x.one_norm,
            "step {}",
            x.step
        );
        assert!(
            (x.w_min - y.w_min).abs() <= 1e-12 * x.w_max,
            "step {}",
            x.step
        );
    }
}

/// The L_p variant (not affine) through both whole-vector solvers: Euler's death times
/// (`k*h`) approach the adaptive solver's as h shrinks, at order 1 (the error is the O(h) shift
/// plus up to one step of quantisation, so the ratio per halving is noisier than for L1: band
/// [1.5, 2.6]).
#[test]
fn lp_euler_converges_to_the_adaptive_flow() {
    let w0 = InitialWeights::quantile(100, None).expect("valid");
    let lp = Lp::new(1e-3, 0.5).expect("valid");
    let cfg = AdaptiveConfig::new(1e-10, 1e-14).expect("valid");
    let flow = adaptive(&lp, &cfg, w0.clone(), &[]).expect("runs");
    assert_eq!(flow.stop, StopReason::OneLeft);
    let mut errors = Vec::new();
    for h in [0.2, 0.1, 0.05] {
        let mut sim =
            sparsify_core::DynamicsEuler::new(Box::new(lp), h, SumMode::Pairwise, w0.clone())
                .expect("stable");
        let mut rec = Recorder::new(RecordConfig::checkpoints_and_deaths());
        sim.run_recorded(&mut rec, || false).expect("runs");
        let mut err = Worst::new();
        for d in &rec.deaths {
            if let Some(e) = flow.deaths.iter().find(|e| e.m_prime == d.m_prime) {
                err.add((d.t - e.t).abs());
            }
        }
        errors.push(err.get());
    }
    eprintln!("lp errors {errors:?}, adaptive {:?}", flow.counts);
    for pair in errors.windows(2) {
        let ratio = pair[0] / pair[1];
        assert!((1.5..=2.6).contains(&ratio), "errors {errors:?}");
    }
}

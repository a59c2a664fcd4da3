//! Whole runs of the published configuration (m = 1e5, lambda = 1e-5, h = 0.5, numpy seed 0
//! initialisation, 363,444 Euler steps) with each solver: direct sequential (bitwise the
//! published loop), direct pairwise, reduced (set-up included: prefix moments of the sorted
//! weights; `reduced` through its tight loop `advance`, `reduced_observed` through `run` with
//! an observer), and the adaptive continuous-time flow for comparison.
//!
//! `cargo bench -p sparsify-core --bench solvers`

use criterion::{Criterion, criterion_group, criterion_main};
use sparsify_core::dynamics::L1;
use sparsify_core::{
    AdaptiveConfig, EulerConfig, EulerSim, InitialWeights, ReducedConfig, ReducedSim, Solver,
    Stepper, SumMode, solve,
};

const LAMBDA: f64 = 1e-5;
const H: f64 = 0.5;

fn solvers(c: &mut Criterion) {
    let w0 = InitialWeights::half_normal_numpy(0, 100_000, None).expect("valid");
    let mut group = c.benchmark_group("paper_m1e5");
    group.sample_size(10);
    for sum in [SumMode::Sequential, SumMode::Pairwise] {
        group.bench_function(format!("direct_{sum}"), |b| {
            b.iter(|| {
                let cfg = EulerConfig::new(LAMBDA, H, sum).expect("valid");
                let mut sim = EulerSim::new(cfg, w0.clone()).expect("stable");
                sim.run(&mut (), || false).expect("runs")
            })
        });
    }
    group.bench_function("reduced", |b| {
        b.iter(|| {
            let cfg = ReducedConfig::new(LAMBDA, H).expect("valid");
            let mut sim = ReducedSim::new(cfg, w0.clone()).expect("stable");
            while !sim.is_done() {
                sim.advance(u64::MAX).expect("stable");
            }
            sim.stats()
        })
    });
    // Through the observer interface: the state is computed and handed over every step.
    group.bench_function("reduced_observed", |b| {
        b.iter(|| {
            let cfg = ReducedConfig::new(LAMBDA, H).expect("valid");
            let mut sim = ReducedSim::new(cfg, w0.clone()).expect("stable");
            sim.run(&mut (), || false).expect("runs")
        })
    });
    group.bench_function("adaptive_reduced_rtol1e-8", |b| {
        let l1 = L1::new(LAMBDA).expect("valid");
        let solver = Solver::adaptive(AdaptiveConfig::new(1e-8, 1e-12).expect("valid"));
        b.iter(|| solve(&l1, &solver, w0.clone(), &mut (), |_| false).expect("runs"))
    });
    group.finish();
}

criterion_group!(benches, solvers);
criterion_main!(benches);

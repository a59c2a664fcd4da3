//! One full-batch update of the paper's collision experiment (n = 256, 16 instances, no
//! noise, lambda = 1e-3) at m = 1024 and 4096: dense AdamW in f32 (what the paper ran) and
//! f64, and one prox-Euler step of the gradient flow from the dense initial state (its cost
//! falls as W sparsifies; see the crate README). Compare with `xtask/bench/nfeature_step.py`
//! (numpy) run on the same machine at the same time.
//!
//! `cargo bench -p sparsify-nfeature --bench step`

use criterion::{Criterion, criterion_group, criterion_main};
use rand::SeedableRng;
use sparsify_nfeature::{
    AdamWParams, Float, FlowConfig, FlowSim, Noise, Optimizer, Shape, Stepper, TrainConfig,
    Trainer, Weights,
};

const N: usize = 256;
const INSTANCES: usize = 16;

fn adamw<T: Float>(c: &mut Criterion, m: usize) {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(0);
    let shape = Shape::new(INSTANCES, N, m).expect("shape");
    let w0 = Weights::<T>::normal(&mut rng, shape);
    let config = TrainConfig::new(1e-3, Optimizer::AdamW(AdamWParams::default()), Noise::None)
        .expect("config");
    let mut trainer = Trainer::new(config, w0);
    c.bench_function(&format!("adamw_{}_n{N}_m{m}_i{INSTANCES}", T::NAME), |b| {
        b.iter(|| {
            let loss = trainer.evaluate(&mut rng);
            trainer.apply();
            loss
        })
    });
}

fn flow(c: &mut Criterion, m: usize) {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(0);
    let shape = Shape::new(INSTANCES, N, m).expect("shape");
    let w0 = Weights::<f32>::normal(&mut rng, shape);
    let mut sim = FlowSim::new(FlowConfig::new(1e-3, 0.05).expect("config"), w0);
    c.bench_function(&format!("flow_dense_float32_n{N}_m{m}_i{INSTANCES}"), |b| {
        b.iter(|| {
            let loss = sim.evaluate(&mut rng);
            sim.apply();
            loss
        })
    });
}

fn steps(c: &mut Criterion) {
    for m in [1024, 4096] {
        adamw::<f32>(c, m);
        adamw::<f64>(c, m);
        flow(c, m);
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = steps
}
criterion_main!(benches);

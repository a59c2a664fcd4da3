//! The reduced solver at scale: `cargo run --release -p sparsify-core --example scale -- M [LAMBDA] [H] [SEED]`.
//!
//! Generates `M` seeded half-normal weights in parallel ([`InitialWeights::half_normal_parallel`]),
//! sorts them in place, builds the prefix moments, runs the reduced Euler solver to one
//! survivor, and prints the time of each phase. Measure peak memory with `/usr/bin/time -v`.
#![allow(clippy::print_stdout)]

use std::time::Instant;

use sparsify_core::{InitialWeights, PrefixMoments, ReducedConfig, ReducedSim};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.to_owned());
    let m: f64 = arg(0, "1e8").parse()?;
    let lambda: f64 = arg(1, "1e-5").parse()?;
    let h: f64 = arg(2, "0.5").parse()?;
    let seed: u64 = arg(3, "0").parse()?;
    let m = m as usize;

    let t0 = Instant::now();
    let w0 = InitialWeights::half_normal_parallel(seed, m, None)?;
    let t_gen = t0.elapsed();
    let t1 = Instant::now();
    let table = PrefixMoments::new(w0.into_vec());
    let t_table = t1.elapsed();
    let t2 = Instant::now();
    let mut sim = ReducedSim::from_table(ReducedConfig::new(lambda, h)?, table)?;
    while !sim.is_done() {
        sim.advance(u64::MAX)?;
    }
    let summary_state = sim.stats();
    let t_run = t2.elapsed();
    let c = sim.counts();
    println!(
        "m = {m}, lambda = {lambda}, h = {h}, seed = {seed}\n\
         generate + sort: {:.2} s\nprefix moments:  {:.2} s\nrun:             {:.3} s \
         ({} steps, {} death events, {:.1} ns/step)\ntotal:           {:.2} s\n\
         final: t = {}, m' = {}, ||w||^2 = {}",
        t_gen.as_secs_f64(),
        t_table.as_secs_f64(),
        t_run.as_secs_f64(),
        c.steps,
        c.events,
        t_run.as_secs_f64() * 1e9 / c.steps as f64,
        t0.elapsed().as_secs_f64(),
        summary_state.t,
        summary_state.m_prime,
        summary_state.sq_norm,
    );
    Ok(())
}

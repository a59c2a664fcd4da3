//! The relocation model instance by instance against the flow and SGD from the same `W0`:
//! per-feature agreement of the final neuron, and the counts.
//!
//! ```text
//! cargo run -p sparsify-experiments --example relocation_per_instance -- N M INSTANCES SGD_LR SGD_STEPS
//! ```
#![allow(clippy::print_stdout)]

use sparsify_experiments::polysemantic::{
    BandSpec, MPoint, PolysemanticSpec, Training, polysemantic_vs_m,
};

fn agree(a: &[usize], b: &[usize]) -> f64 {
    a.iter().zip(b).filter(|(x, y)| x == y).count() as f64 / a.len() as f64
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args[0].parse()?;
    let m: usize = args[1].parse()?;
    let instances: usize = args[2].parse()?;
    let lr: f64 = args[3].parse()?;
    let steps: u64 = args[4].parse()?;
    let run = |training| -> Result<MPoint, Box<dyn std::error::Error>> {
        let spec = PolysemanticSpec {
            n,
            ms: vec![m],
            instances,
            lambda: 1e-3,
            seed: 7,
            training,
            band: BandSpec {
                draws: 10,
                resamples: 10,
                coverage: 0.9,
            },
        };
        Ok(polysemantic_vs_m(&spec)?.remove(0))
    };
    let flow = run(Training::flow())?;
    let sgd = run(Training::Sgd { lr, steps })?;
    let model: Vec<usize> = flow
        .relocation_neurons
        .iter()
        .map(|x| x.unwrap_or(usize::MAX))
        .collect();
    println!(
        "n {n} m {m}: final neuron agreement flow-sgd {:.3}, flow-model {:.3}, sgd-model {:.3}, \
         flow-initial {:.3}, sgd-initial {:.3}",
        agree(&flow.final_argmax, &sgd.final_argmax),
        agree(&flow.final_argmax, &model),
        agree(&sgd.final_argmax, &model),
        agree(&flow.final_argmax, &flow.initial_argmax),
        agree(&sgd.final_argmax, &sgd.initial_argmax),
    );
    println!(
        "counts flow {:?}\n       sgd  {:?}\n      model {:?}",
        flow.polysemantic(),
        sgd.polysemantic(),
        flow.relocation
    );
    println!(
        "flow t_end {} sgd s {:.1} flow s {:.1}",
        flow.t_end, sgd.train_seconds, flow.train_seconds
    );
    Ok(())
}

//! Measures polysemantic counts against `m` with [`polysemantic_vs_m`] and prints one
//! Markdown row per `m` (the table of docs/theory.md §8.12).
//!
//! ```text
//! cargo run --release -p sparsify-experiments --example polysemantic_table -- \
//!     N M1,M2,... INSTANCES flow|adamw|sgd [SEED]
//! ```
#![allow(clippy::print_stdout)]

use sparsify_experiments::polysemantic::{BandSpec, PolysemanticSpec, Training, polysemantic_vs_m};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 4 {
        return Err("usage: N M1,M2,... INSTANCES flow|adamw|sgd [SEED]".into());
    }
    let n: usize = args[0].parse()?;
    let ms = args[1]
        .split(',')
        .map(str::parse)
        .collect::<Result<Vec<usize>, _>>()?;
    let instances: usize = args[2].parse()?;
    let training = match args[3].as_str() {
        "flow" => Training::flow(),
        "adamw" => Training::paper_adamw(),
        "sgd" => Training::Sgd {
            lr: 0.02,
            steps: 30_000,
        },
        other => return Err(format!("unknown training {other}").into()),
    };
    let seed = args.get(4).map_or(Ok(1), |s| s.parse())?;
    let spec = PolysemanticSpec {
        n,
        ms,
        instances,
        lambda: 1e-3,
        seed,
        training,
        band: BandSpec::default(),
    };
    println!(
        "| n | m | n²/4m | occupancy | relocation mean ± std [99% band of the mean] | \
         relocation on W0 | {} mean ± std | winner fraction | model neuron agreement | \
         t_end (settled) | s |",
        training.name()
    );
    for p in polysemantic_vs_m(&spec)? {
        let (mean, std) = p.polysemantic_mean_std();
        let (wm, ws) = p.winner_mean_std();
        let agree = p.relocation_neuron_agreement.iter().sum::<f64>() / instances as f64;
        println!(
            "| {n} | {} | {:.2} | {:.2} ± {:.2} | {:.2} ± {:.2} [{:.2}, {:.2}] | {:.2} | \
             {mean:.2} ± {std:.2} | {wm:.3} ± {ws:.3} | {agree:.3} | {:.0} ({}) | {:.1} |",
            p.m,
            p.n2_over_4m,
            p.occupancy_mean,
            p.occupancy_std,
            p.relocation_mean,
            p.relocation_std,
            p.band.0,
            p.band.1,
            p.relocation_on_w0_mean(),
            p.t_end,
            p.settled_at.map_or("no".to_owned(), |t| format!("{t:.0}")),
            p.train_seconds,
        );
        println!(
            "    per instance: measured {:?} model {:?}",
            p.polysemantic(),
            p.relocation
        );
    }
    Ok(())
}

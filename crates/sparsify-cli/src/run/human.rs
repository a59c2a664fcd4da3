//! What a run says to a person: the terminal summary, and the figure's caption.

use std::io::Write;

use sparsify_core::{Method, StopReason};

use super::flags::RunArgs;
use super::outputs::Report;
use crate::init::{InitKind, RngKind};
use crate::io::fmt_f64;

impl Report<'_> {
    /// The summary on the terminal, when no output file is asked for.
    pub(crate) fn print_human(&self, w: &mut dyn Write) -> std::io::Result<()> {
        let o = self.outcome;
        let s = &o.final_state;
        let init = &self.init;
        let source = match (&init.init_file, init.rng, init.seed) {
            (Some(path), _, _) => {
                format!("weights from {}", crate::error::escape_controls(path))
            }
            (None, Some(rng), Some(seed)) => format!("{} init, {rng} seed {seed}", init.init),
            _ => format!("{} init", init.init),
        };
        let sigma = init
            .sigma
            // Six significant digits for a person; the JSON summary keeps every digit.
            .map_or_else(String::new, |x| format!(", sigma = {x:.5e}"));
        let solver = &self.solver;
        let how_solved = match solver.method {
            Method::Direct => format!("{} sums", self.sum),
            Method::Reduced => "reduced Euler".to_owned(),
            Method::Adaptive => format!(
                "adaptive, rtol = {}, atol = {}",
                solver.rtol.map_or_else(String::new, fmt_f64),
                solver.atol.map_or_else(String::new, fmt_f64)
            ),
        };
        let params: Vec<String> = solver
            .params
            .iter()
            .map(|(name, v)| format!("{name} = {}", fmt_f64(*v)))
            .collect();
        let dynamics = if params.is_empty() {
            solver.dynamics.to_owned()
        } else {
            format!("{} ({})", solver.dynamics, params.join(", "))
        };
        writeln!(
            w,
            "sparsify run: m = {}, lambda = {}, h = {}, dynamics {dynamics} ({source}{sigma}, \
             {how_solved})",
            self.m,
            fmt_f64(self.lambda),
            fmt_f64(self.h),
        )?;
        writeln!(
            w,
            "steps: {}, final t = {}, final m' = {} ({})",
            o.counts.steps,
            fmt_f64(s.t),
            s.m_prime,
            o.stop.describe()
        )?;
        if solver.method == Method::Adaptive {
            writeln!(
                w,
                "rejected steps: {}, function evaluations: {}, located deaths: {}",
                o.counts.rejected, o.counts.evals, o.counts.events
            )?;
        }
        match o.stop {
            StopReason::OneLeft => writeln!(w, "winner weight: {}", fmt_f64(s.w_max))?,
            StopReason::Interrupted => writeln!(w, "largest weight: {}", fmt_f64(s.w_max))?,
            StopReason::Stalled { .. } => writeln!(w, "tied weight: {}", fmt_f64(s.w_max))?,
            StopReason::AllDropped | StopReason::EndTime => {}
        }
        writeln!(w, "loop wall time: {:.3} s", o.wall_seconds)?;
        Ok(())
    }
}

/// How the initial weights were made, as the figure caption says it, followed by the solver and
/// dynamics when they are not the published ones (`params` are the variant's, in its order).
pub(crate) fn init_caption(args: &RunArgs, params: &[(&'static str, f64)]) -> String {
    let solver = &args.solver;
    let mut caption = weights_caption(args);
    if !params.is_empty() {
        let values: Vec<String> = params
            .iter()
            .map(|(name, v)| format!("{} = {v}", greek(name)))
            .collect();
        caption.push_str(&format!("; {} {}", solver.dynamics, values.join(", ")));
    }
    match Method::from(solver.method) {
        Method::Direct => {}
        Method::Reduced => caption.push_str("; reduced Euler"),
        Method::Adaptive => caption.push_str("; adaptive DP5(4), continuous time"),
    }
    caption
}

/// A parameter's name as a figure writes it (`mu` as `μ`).
fn greek(name: &str) -> &str {
    match name {
        "mu" => "μ",
        "lambda" => "λ",
        "kappa" => "κ",
        other => other,
    }
}

/// How the initial weights were made, as the figure caption says it.
fn weights_caption(args: &RunArgs) -> String {
    if let Some(path) = &args.weights.init_file {
        let name = path
            .file_name()
            .unwrap_or(path.as_os_str())
            .to_string_lossy();
        let abs = if args.weights.abs {
            " (absolute values)"
        } else {
            ""
        };
        return format!("file {name}{abs}");
    }
    let scale = args
        .weights
        .sigma
        .map_or_else(|| "σ = 0.9/√m".to_owned(), |s| format!("σ = {s}"));
    match (args.weights.init, args.weights.rng) {
        (InitKind::Quantile, _) => format!("quantile, {scale}"),
        (InitKind::HalfNormal, RngKind::Pcg64) if args.parallel_init => {
            format!(
                "|N(0, σ²)|, {scale}, pcg64-parallel seed {}",
                args.weights.seed
            )
        }
        (InitKind::HalfNormal, RngKind::Pcg64) => {
            format!("|N(0, σ²)|, {scale}, pcg64 seed {}", args.weights.seed)
        }
        (InitKind::HalfNormal, RngKind::Numpy) => {
            format!("|N(0, σ²)|, {scale}, numpy seed {}", args.weights.seed)
        }
    }
}

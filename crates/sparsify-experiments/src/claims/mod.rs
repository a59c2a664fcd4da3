//! The claims harness: every theoretical claim of `docs/theory.md` checked against simulation.
//!
//! Each claim is a function of a [`Profile`] that simulates with `sparsify-core`, predicts with
//! `sparsify-theory` (the two crates are independent, so agreement means something) and returns
//! a [`Claim`]: the statement in words, one measured number, the tolerance it must stay within
//! and whether it did. `sparsify verify`, `cargo xtask verify` (which writes
//! `figures/claims.md`) and the named tests in `tests/it/theory.rs` all run these functions.
//!
//! Every claim measures a *worst case* (largest error, largest violation, count of failures)
//! and passes when that number is finite and at most its tolerance, and any side condition
//! stated in its detail holds. Where one claim has two tolerances (say 0.2% here and 2% there),
//! the measured number is the worst error as a fraction of its own tolerance, so the tolerance
//! is 1; the detail gives the raw numbers.
//!
//! A claim never panics: a solver error becomes a failed claim whose detail names the error.
//!
//! # Profiles
//! [`Profile::Fast`] finishes in well under a minute in release mode (CI runs it; the tests run
//! it at opt-level 1); [`Profile::Full`] uses m up to 1e7 and more seeds.

mod balance;
mod collisions;
mod continuum;
mod convergence;
mod death_times;
mod gamma;
mod noise;
mod order;
mod polysemantic;
mod reduction;
mod relocation;
mod relvar;
mod scaling;
mod sim;
mod solvers;
mod winner;

use std::fmt::Write as _;
use std::str::FromStr;
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

pub use collisions::{Draw, collisions_with};
pub use continuum::{ContinuumCheck, continuum_errors};
pub use convergence::euler_errors;
pub use death_times::{
    DeathTimeCheck, Reference, death_time_errors, predicted_first_times, simulated_first_times,
};
pub use gamma::gamma_error;
pub use noise::noise_with;
pub use polysemantic::opposite_sign_with;
pub use reduction::reduction_with;
pub use relocation::{
    BandPoint, Measurements, WinnerPoint, band_verdict, measurements, spearman, winner_verdict,
};
pub use relvar::start_standard_error;
pub use scaling::{LambdaTSummary, lambda_t, lambda_t_samples, lambda_t_summary, monte_carlo_plan};
pub(crate) use sim::log_counts;

use crate::ExperimentError;
pub use solvers::{DeathEvents, death_events};
pub use winner::{final_weight_with, winner_take_all_with};

/// How much work the claims do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// m up to 1e5 and a few seeds: seconds in release mode; what CI and the tests run.
    Fast,
    /// m up to 1e7 and more seeds: minutes.
    Full,
}

impl Profile {
    /// Every profile, in order of cost.
    pub const ALL: [Profile; 2] = [Profile::Fast, Profile::Full];

    /// `fast` or `full`.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Fast => "fast",
            Profile::Full => "full",
        }
    }

    /// One line on what the profile runs, for a command line's help.
    pub fn describe(self) -> &'static str {
        match self {
            Profile::Fast => "m up to 1e5, a few seeds: seconds in release mode (CI runs it)",
            Profile::Full => "m up to 1e7, more seeds: minutes",
        }
    }
}

impl FromStr for Profile {
    type Err = String;

    /// `fast` or `full` (exactly as [`Profile::name`] writes them).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Profile::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| format!("unknown profile '{s}': use fast or full"))
    }
}

/// The worst (largest) of `values`, NaN as soon as any value is NaN, and NaN for no values:
/// a claim's measurement that hides a NaN, or measured nothing, must fail, and `f64::max`
/// would silently drop the NaN. Every claim combines its errors with this (or [`Worst`]).
pub fn worst(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut w = Worst::new();
    for v in values {
        w.add(v);
    }
    w.get()
}

/// An accumulator for [`worst`]: the largest value added, NaN if any was NaN or none was added.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Worst {
    value: f64,
    seen: bool,
}

impl Worst {
    /// Nothing added yet.
    pub fn new() -> Self {
        Worst {
            value: f64::NEG_INFINITY,
            seen: false,
        }
    }

    /// Adds `v`; a NaN sticks.
    pub fn add(&mut self, v: f64) {
        self.value = if self.value.is_nan() || v.is_nan() {
            f64::NAN
        } else {
            self.value.max(v)
        };
        self.seen = true;
    }

    /// The worst value so far (NaN if a NaN was added or nothing was).
    pub fn get(self) -> f64 {
        if self.seen { self.value } else { f64::NAN }
    }
}

impl Default for Worst {
    fn default() -> Self {
        Self::new()
    }
}

/// One checked claim.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Claim {
    /// The claim's number (1..=12 for the single encoding, in `docs/theory.md`'s order; 13 on for
    /// the n-feature model).
    pub id: u32,
    /// A short name, as in the test `claim_NN_<name>`.
    pub name: &'static str,
    /// The claim, in words.
    pub statement: String,
    /// The measured worst case (an error, a violation or a count; see the detail).
    pub measured: f64,
    /// The largest value of `measured` that passes.
    pub tolerance: f64,
    /// `measured` is finite and `<= tolerance`, and every side condition holds.
    pub pass: bool,
    /// What was run and the raw numbers behind `measured`.
    pub detail: String,
    /// Wall time of the check, in seconds.
    pub seconds: f64,
    /// Whether every side condition held.
    #[serde(skip)]
    conditions_hold: bool,
}

impl Claim {
    /// A claim that passes iff `measured` is finite and `<= tolerance`.
    pub(crate) fn new(
        id: u32,
        name: &'static str,
        statement: impl Into<String>,
        measured: f64,
        tolerance: f64,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            id,
            name,
            statement: statement.into(),
            measured,
            tolerance,
            pass: measured.is_finite() && measured <= tolerance,
            detail: detail.into(),
            seconds: 0.0,
            conditions_hold: true,
        }
    }

    /// ANDs a side condition into `pass`, saying in the detail which one failed.
    pub(crate) fn require(mut self, ok: bool, what: &str) -> Self {
        if !ok {
            self.pass = false;
            self.conditions_hold = false;
            let _ = write!(self.detail, "; FAILED: {what}");
        }
        self
    }

    /// The same measurement judged against another tolerance (for negative controls: a
    /// tolerance below the measured value must fail).
    pub fn with_tolerance(mut self, tolerance: f64) -> Self {
        self.tolerance = tolerance;
        self.pass = self.conditions_hold && self.measured.is_finite() && self.measured <= tolerance;
        self
    }

    /// A failed claim for a check that could not run.
    fn errored(spec: &ClaimSpec, err: &ExperimentError) -> Self {
        Self {
            id: spec.id,
            name: spec.name,
            statement: spec.statement.to_string(),
            measured: f64::NAN,
            tolerance: f64::NAN,
            pass: false,
            detail: format!("could not run: {err}"),
            seconds: 0.0,
            conditions_hold: false,
        }
    }
}

/// A claim's number, name, statement and check.
#[derive(Debug, Clone, Copy)]
pub struct ClaimSpec {
    /// The claim's number.
    pub id: u32,
    /// Its short name.
    pub name: &'static str,
    /// The claim in words.
    pub statement: &'static str,
    run: fn(Profile) -> Result<Claim, ExperimentError>,
}

impl ClaimSpec {
    /// Runs the check (timed); an error becomes a failed claim.
    pub fn run(&self, profile: Profile) -> Claim {
        let start = Instant::now();
        let mut claim = (self.run)(profile).unwrap_or_else(|e| Claim::errored(self, &e));
        claim.seconds = start.elapsed().as_secs_f64();
        claim
    }
}

/// Every claim, in order.
pub const CLAIMS: [ClaimSpec; 19] = [
    ClaimSpec {
        id: 1,
        name: "winner_take_all",
        statement: winner::STATEMENT,
        run: winner::winner_take_all,
    },
    ClaimSpec {
        id: 2,
        name: "order_and_relative_variance_bounds",
        statement: order::STATEMENT,
        run: order::run,
    },
    ClaimSpec {
        id: 3,
        name: "closed_form_death_times",
        statement: death_times::STATEMENT,
        run: death_times::run,
    },
    ClaimSpec {
        id: 4,
        name: "continuum_matches_quantile_simulation",
        statement: continuum::STATEMENT,
        run: continuum::run,
    },
    ClaimSpec {
        id: 5,
        name: "balance",
        statement: balance::BALANCE_STATEMENT,
        run: balance::balance,
    },
    ClaimSpec {
        id: 6,
        name: "m_prime_identity",
        statement: balance::IDENTITY_STATEMENT,
        run: balance::identity,
    },
    ClaimSpec {
        id: 7,
        name: "relative_variance_limits",
        statement: relvar::STATEMENT,
        run: relvar::run,
    },
    ClaimSpec {
        id: 8,
        name: "time_to_one_neuron",
        statement: scaling::STATEMENT,
        run: scaling::run,
    },
    ClaimSpec {
        id: 9,
        name: "gamma_recursion",
        statement: gamma::STATEMENT,
        run: gamma::run,
    },
    ClaimSpec {
        id: 10,
        name: "final_weight",
        statement: winner::FINAL_STATEMENT,
        run: winner::final_weight,
    },
    ClaimSpec {
        id: 11,
        name: "euler_order_one",
        statement: convergence::STATEMENT,
        run: convergence::run,
    },
    ClaimSpec {
        id: 12,
        name: "reduced_equals_direct",
        statement: solvers::STATEMENT,
        run: solvers::run,
    },
    ClaimSpec {
        id: 13,
        name: "polysemantic_neurons_are_opposite_sign",
        statement: polysemantic::STATEMENT,
        run: polysemantic::run,
    },
    ClaimSpec {
        id: 14,
        name: "flow_count_in_relocation_band",
        statement: relocation::FLOW_STATEMENT,
        run: relocation::flow_band,
    },
    ClaimSpec {
        id: 15,
        name: "adamw_count_in_relocation_band",
        statement: relocation::ADAMW_STATEMENT,
        run: relocation::adamw_band,
    },
    ClaimSpec {
        id: 16,
        name: "winner_fraction_rises_with_m_over_n",
        statement: relocation::WINNER_STATEMENT,
        run: relocation::winner,
    },
    ClaimSpec {
        id: 17,
        name: "initial_argmax_collisions",
        statement: collisions::STATEMENT,
        run: collisions::run,
    },
    ClaimSpec {
        id: 18,
        name: "bernoulli_noise_raises_the_fourth_norm",
        statement: noise::STATEMENT,
        run: noise::run,
    },
    ClaimSpec {
        id: 19,
        name: "n_equals_1_is_the_single_feature_model",
        statement: reduction::STATEMENT,
        run: reduction::run,
    },
];

/// Runs claim `id` (a number of [`CLAIMS`]), or `None` if there is no such claim.
pub fn run_claim(id: u32, profile: Profile) -> Option<Claim> {
    CLAIMS.iter().find(|c| c.id == id).map(|c| c.run(profile))
}

/// The specs of the given claims (every claim if `ids` is empty), in id order.
pub fn selected(ids: &[u32]) -> Vec<&'static ClaimSpec> {
    CLAIMS
        .iter()
        .filter(|c| ids.is_empty() || ids.contains(&c.id))
        .collect()
}

/// Runs the given claims (every claim if `ids` is empty) in parallel, returned in id order.
pub fn run_claims(ids: &[u32], profile: Profile) -> Vec<Claim> {
    let mut claims = Vec::new();
    let sink = std::sync::Mutex::new(&mut claims);
    run_claims_each(ids, profile, &|| false, &|c| {
        // A poisoned lock means another claim's sink panicked; keep the claims we have.
        if let Ok(mut v) = sink.lock() {
            v.push(c);
        }
    });
    claims.sort_by_key(|c| c.id);
    claims
}

/// Runs the given claims (every claim if `ids` is empty) in parallel and hands each to
/// `sink` as soon as it is done, in completion order: a caller that must stop early (Ctrl-C)
/// keeps what finished. A claim not yet started when `stop()` turns true is skipped (one that
/// is running finishes: claims are not interruptible inside).
pub fn run_claims_each(
    ids: &[u32],
    profile: Profile,
    stop: &(dyn Fn() -> bool + Sync),
    sink: &(dyn Fn(Claim) + Sync),
) {
    // Claims are independent: rayon spreads them over the cores.
    selected(ids).par_iter().for_each(|c| {
        if !stop() {
            sink(c.run(profile));
        }
    });
}

/// The measured value and the tolerance as short text.
pub fn format_number(x: f64) -> String {
    if x.is_nan() {
        "n/a".to_owned()
    } else if x == 0.0 {
        "0".to_owned()
    } else if x.fract() == 0.0 && x.abs() < 1e6 {
        format!("{x:.0}")
    } else if (1e-3..1e4).contains(&x.abs()) {
        format!("{x:.4}")
    } else {
        format!("{x:.2e}")
    }
}

/// The claims as a Markdown table (id, claim, measured, tolerance, result, detail).
pub fn markdown_table(claims: &[Claim]) -> String {
    let mut s = String::from(
        "| id | claim | measured | tolerance | result | details |\n|---|---|---|---|---|---|\n",
    );
    for c in claims {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} |",
            c.id,
            c.statement.replace('|', "\\|"),
            format_number(c.measured),
            format_number(c.tolerance),
            if c.pass { "pass" } else { "**FAIL**" },
            c.detail.replace('|', "\\|"),
        );
    }
    s
}

/// The claims as a plain-text table for a terminal: id, claim (wrapped), measured, tolerance,
/// pass/fail and seconds; then each claim's detail.
pub fn text_table(claims: &[Claim]) -> String {
    const WIDTH: usize = 64;
    let mut s = format!(
        "{:>3}  {:<WIDTH$}  {:>10}  {:>10}  {:<4}  {:>6}\n",
        "id", "claim", "measured", "tolerance", "", "s"
    );
    for c in claims {
        let lines = wrap(&c.statement, WIDTH);
        for (i, line) in lines.iter().enumerate() {
            if i == 0 {
                let _ = writeln!(
                    s,
                    "{:>3}  {:<WIDTH$}  {:>10}  {:>10}  {:<4}  {:>6.2}",
                    c.id,
                    line,
                    format_number(c.measured),
                    format_number(c.tolerance),
                    if c.pass { "pass" } else { "FAIL" },
                    c.seconds
                );
            } else {
                let _ = writeln!(s, "     {line}");
            }
        }
    }
    s.push('\n');
    for c in claims {
        let _ = writeln!(s, "{:>3}: {}", c.id, c.detail);
    }
    s
}

/// Greedy word wrap at `width` characters.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let last = lines.last_mut().map_or(0, |l| l.chars().count());
        if last > 0 && last + 1 + word.chars().count() > width {
            lines.push(String::new());
        }
        if let Some(line) = lines.last_mut() {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_is_the_largest_value_and_a_nan_anywhere_sticks() {
        assert_eq!(worst([0.5, 2.0, 1.0]), 2.0);
        assert_eq!(worst([-3.0, -1.0]), -1.0);
        // `f64::max` would return 2.0 for each of these.
        assert!(worst([f64::NAN, 2.0]).is_nan());
        assert!(worst([2.0, f64::NAN]).is_nan());
        assert!(worst([2.0, f64::NAN, 3.0]).is_nan());
        // Nothing measured is no evidence.
        assert!(worst(std::iter::empty()).is_nan());
        assert_eq!(worst([f64::INFINITY, 1.0]), f64::INFINITY);
    }

    #[test]
    fn a_claim_whose_measurement_is_nan_fails() {
        let nan = Claim::new(99, "test", "s", worst([0.0, f64::NAN]), 1.0, "");
        assert!(!nan.pass);
        let ok = Claim::new(99, "test", "s", worst([0.0, 0.5]), 1.0, "");
        assert!(ok.pass);
        assert!(!ok.require(false, "a side condition").pass);
    }

    #[test]
    fn profiles_parse_from_their_names_only() {
        for p in Profile::ALL {
            assert_eq!(p.name().parse::<Profile>(), Ok(p));
        }
        assert!("Fast".parse::<Profile>().is_err());
        assert!("".parse::<Profile>().is_err());
    }
}

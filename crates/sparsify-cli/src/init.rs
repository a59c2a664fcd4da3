//! The initialisation flags shared by `sparsify run` and `sparsify predict`, and the weights
//! they ask for.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use rand::SeedableRng;
use rand_pcg::Pcg64;
use serde::Serialize;
use sparsify_core::{CoreError, InitialWeights};

use crate::error::CliError;
use crate::io::read_initial_weights;
use crate::run::flag_for;

/// Where the initial weights come from: a built-in initialisation or a file.
#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// Number of coordinates m of the initial encoding: a whole number >= 2; `1e5` style is
    /// accepted.
    #[arg(
        long,
        value_name = "M",
        default_value = "100000",
        value_parser = parse_m,
        allow_hyphen_values = true
    )]
    pub(crate) m: usize,

    /// Seed of the random initialisation: 0 to 2^64-1 for pcg64, 0 to 2^32-1 for numpy.
    #[arg(
        long,
        value_name = "SEED",
        default_value_t = 0,
        allow_hyphen_values = true
    )]
    pub(crate) seed: u64,

    /// Random generator of the half-normal initialisation.
    #[arg(long, value_name = "RNG", value_enum, default_value_t = RngKind::Pcg64)]
    pub(crate) rng: RngKind,

    /// How the initial weights are made.
    #[arg(long, value_name = "INIT", value_enum, default_value_t = InitKind::HalfNormal)]
    pub(crate) init: InitKind,

    /// Scale sigma of the initial weights (standard deviation of the normal before taking
    /// absolute values; with `predict --continuum`, of the continuum): a finite number > 0
    /// [default: 0.9/sqrt(m), so E||w0||^2 = 0.81].
    #[arg(long, value_name = "SIGMA", allow_hyphen_values = true)]
    pub(crate) sigma: Option<f64>,

    /// Read the initial weights from PATH instead: a 1-D float64 or float32 `.npy` array, or
    /// (any other extension) text with one number per line, blank lines and `#` comments
    /// allowed; any order; every weight finite and > 0 (see --abs).
    #[arg(
        long,
        value_name = "PATH",
        conflicts_with_all = ["m", "init", "rng", "sigma", "seed"]
    )]
    pub(crate) init_file: Option<PathBuf>,

    /// Take absolute values of the --init-file weights (zeros are still an error).
    #[arg(long, requires = "init_file")]
    pub(crate) abs: bool,
}

impl InitArgs {
    /// Refuses a seed the chosen generator cannot take (numpy's is 32-bit), before anything
    /// else is done.
    pub(crate) fn check_seed(&self) -> Result<(), CliError> {
        if self.init_file.is_none()
            && self.rng == RngKind::Numpy
            && self.init == InitKind::HalfNormal
        {
            check_numpy_seed(self.seed)?;
        }
        Ok(())
    }
}

/// Random generators for the half-normal initialisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum RngKind {
    /// rand_pcg's Pcg64, `seed_from_u64(seed)`, with Ziggurat normals.
    Pcg64,
    /// numpy's legacy `RandomState(seed)` and `normal`, bit for bit as the published script.
    Numpy,
}

/// Initialisations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum InitKind {
    /// |N(0, sigma^2)| draws, sorted descending.
    HalfNormal,
    /// Deterministic: sigma * Phi^-1(0.5 + (j + 0.5)/(2m)), j = 0..m-1 (no randomness).
    Quantile,
}

/// `--m`: a whole number, written as an integer or a float such as `1e5`.
pub(crate) fn parse_m(s: &str) -> Result<usize, String> {
    parse_count(s, "need a whole number >= 2, like 100000 or 1e5")
}

/// The largest count accepted: 2^53, below which every whole number is an exact `f64`.
pub(crate) const MAX_COUNT: u64 = 1 << 53;

/// A count (`--m`, `--points-per-decade`): a whole number from 0 to 2^53, written as an
/// integer (read exactly) or a float such as `1e5`. A number past 2^53 is refused, not
/// rounded: `9007199254740993` is not read as `9007199254740992`.
pub(crate) fn parse_count(s: &str, hint: &str) -> Result<usize, String> {
    let too_big = || format!("{hint}; at most 2^53 = {MAX_COUNT}");
    match exact_whole(s.trim()) {
        Some(Whole::Value(n)) if n <= u128::from(MAX_COUNT) => {
            usize::try_from(n).map_err(|_| too_big())
        }
        Some(Whole::Value(_) | Whole::Huge) => Err(too_big()),
        Some(Whole::Fraction) | None => Err(hint.to_owned()),
    }
}

/// What a decimal numeral is, read exactly (no rounding through `f64`).
enum Whole {
    /// A whole number that fits in a `u128`.
    Value(u128),
    /// A whole number beyond `u128`.
    Huge,
    /// Not whole, or negative.
    Fraction,
}

/// Reads `digits[.digits][(e|E)[+|-]digits]` exactly; `None` if it is not such a numeral.
fn exact_whole(s: &str) -> Option<Whole> {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], s[i + 1..].parse::<i64>().ok()?),
        None => (s, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !(int.bytes().all(|b| b.is_ascii_digit()) && frac.bytes().all(|b| b.is_ascii_digit())) {
        return if mantissa.starts_with('-') && mantissa[1..].parse::<f64>().is_ok() {
            Some(Whole::Fraction)
        } else {
            None
        };
    }
    // value = digits * 10^shift, with every digit of the mantissa in `digits`.
    let digits = format!("{int}{frac}");
    let digits = digits.trim_start_matches('0');
    let shift = exponent.checked_sub(i64::try_from(frac.len()).ok()?)?;
    if digits.is_empty() {
        return Some(Whole::Value(0));
    }
    let (kept, shift) = if shift < 0 {
        let cut = usize::try_from(-shift).ok()?;
        if cut > digits.len() {
            return Some(Whole::Fraction);
        }
        let (kept, dropped) = digits.split_at(digits.len() - cut);
        if dropped.bytes().any(|b| b != b'0') {
            return Some(Whole::Fraction);
        }
        (kept, 0)
    } else {
        (digits, shift)
    };
    // 39 digits or more, or a shift that large, is past u128 (about 3.4e38).
    if kept.len() + usize::try_from(shift).unwrap_or(usize::MAX) > 39 {
        return Some(Whole::Huge);
    }
    let mut n: u128 = if kept.is_empty() {
        0
    } else {
        kept.parse().ok()?
    };
    for _ in 0..shift {
        match n.checked_mul(10) {
            Some(v) => n = v,
            None => return Some(Whole::Huge),
        }
    }
    Some(Whole::Value(n))
}

/// How the initial weights were made, for the summary.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct InitRecord {
    pub(crate) init: &'static str,
    pub(crate) rng: Option<&'static str>,
    pub(crate) seed: Option<u64>,
    pub(crate) sigma: Option<f64>,
    pub(crate) init_file: Option<String>,
    pub(crate) abs: bool,
}

/// `--seed` for `--rng numpy`, which takes a 32-bit seed (numpy's `RandomState`).
pub(crate) fn check_numpy_seed(seed: u64) -> Result<u32, CliError> {
    u32::try_from(seed).map_err(|_| {
        CliError::usage(format!(
            "--seed {seed}: --rng numpy takes a 32-bit seed, 0 to {} (numpy's RandomState)",
            u32::MAX
        ))
    })
}

/// The initial weights the flags ask for, and how they were made; stops soon after `stop`
/// returns true (an interrupt), with nothing made.
pub(crate) fn initial_weights(
    args: &InitArgs,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<(InitialWeights, InitRecord), CliError> {
    if let Some(path) = &args.init_file {
        let w0 = read_initial_weights("--init-file", path, args.abs)?;
        let record = InitRecord {
            init: "file",
            rng: None,
            seed: None,
            sigma: None,
            init_file: Some(path.display().to_string()),
            abs: args.abs,
        };
        return Ok((w0, record));
    }
    let core_err = |e: CoreError| CliError::core(flag_for(&e), &e);
    let made = |w0: Option<InitialWeights>| {
        w0.ok_or_else(|| CliError::interrupted("making the initial weights"))
    };
    let (m, sigma) = (args.m, args.sigma);
    let (w0, init, rng, seed) = match (args.init, args.rng) {
        (InitKind::Quantile, _) => (
            made(InitialWeights::quantile_until(m, sigma, stop).map_err(core_err)?)?,
            "quantile",
            None,
            None,
        ),
        (InitKind::HalfNormal, RngKind::Pcg64) => {
            let mut rng = Pcg64::seed_from_u64(args.seed);
            let w0 = InitialWeights::half_normal_until(&mut rng, m, sigma, stop);
            let w0 = made(w0.map_err(core_err)?)?;
            (w0, "half-normal", Some("pcg64"), Some(args.seed))
        }
        (InitKind::HalfNormal, RngKind::Numpy) => {
            let seed = check_numpy_seed(args.seed)?;
            let w0 = InitialWeights::half_normal_numpy_until(seed, m, sigma, stop);
            let w0 = made(w0.map_err(core_err)?)?;
            (w0, "half-normal", Some("numpy"), Some(args.seed))
        }
    };
    let record = InitRecord {
        init,
        rng,
        seed,
        sigma: Some(sigma.unwrap_or_else(|| InitialWeights::default_sigma(m))),
        init_file: None,
        abs: false,
    };
    Ok((w0, record))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn m_accepts_integers_in_float_notation_only() {
        assert_eq!(parse_m("1e5"), Ok(100_000));
        assert_eq!(parse_m("100000"), Ok(100_000));
        assert_eq!(
            parse_m("1"),
            Ok(1),
            "m < 2 is left to the library's message"
        );
        for bad in ["2.5", "-3", "nan", "inf", "1e300", "ten", ""] {
            assert!(parse_m(bad).is_err(), "{bad}");
        }
        // 2^53 is the last count accepted; past it, refused rather than rounded, however
        // it is written.
        assert_eq!(parse_m("9007199254740992"), Ok(1 << 53));
        assert_eq!(parse_m("1.5e3"), Ok(1500));
        assert_eq!(parse_m("0.1e2"), Ok(10));
        for past in [
            "9007199254740993",
            "1e16",
            "18446744073709551616",
            "9.007199254740993e15",
            "1e400",
        ] {
            let e = parse_m(past).unwrap_err();
            assert!(e.contains("2^53"), "{past}: {e}");
        }
    }
}

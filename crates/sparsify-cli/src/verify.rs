//! `sparsify verify`: the claims of `sparsify_experiments::claims`, as a table or JSON.

use std::path::Path;
use std::time::Instant;

use clap::Args;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use serde::Serialize;
use sparsify_experiments::claims::{self, Claim, Profile};

use crate::Context;
use crate::error::{CliError, exit};

/// The flags of `sparsify verify`.
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// fast: m up to 1e5, a few seeds (under a minute); full: m up to 1e7, more seeds.
    #[arg(
        long,
        default_value = "fast",
        value_parser = PossibleValuesParser::new(Profile::ALL.map(Profile::name))
            .try_map(|s| s.parse::<Profile>())
    )]
    profile: Profile,

    /// Print the results as JSON instead of a table.
    #[arg(long)]
    json: bool,

    /// Run only this claim (1 to 12); repeat for several.
    #[arg(long = "claim", value_name = "ID", value_parser = clap::value_parser!(u32).range(1..=12))]
    claims: Vec<u32>,
}

/// The JSON form of a verification.
#[derive(Serialize)]
struct Report<'a> {
    command: &'static str,
    sparsify_version: &'static str,
    profile: Profile,
    all_pass: bool,
    wall_seconds: f64,
    claims: &'a [Claim],
}

/// Runs `sparsify verify`: exit 0 if every claim passes, 1 if any fails, 74 if stdout fails.
pub(crate) fn execute(args: &VerifyArgs, ctx: &mut Context<'_>) -> Result<u8, CliError> {
    let start = Instant::now();
    let results = claims::run_claims(&args.claims, args.profile);
    let wall_seconds = start.elapsed().as_secs_f64();
    let all_pass = results.iter().all(|c| c.pass);
    let stdout_err = |e| CliError::io(Path::new("<stdout>"), e);
    if args.json {
        let report = Report {
            command: "verify",
            sparsify_version: env!("CARGO_PKG_VERSION"),
            profile: args.profile,
            all_pass,
            wall_seconds,
            claims: &results,
        };
        serde_json::to_writer_pretty(&mut *ctx.stdout, &report)
            .map_err(|e| stdout_err(e.into()))?;
        writeln!(ctx.stdout).map_err(stdout_err)?;
    } else {
        write!(ctx.stdout, "{}", claims::text_table(&results)).map_err(stdout_err)?;
        let failed = results.iter().filter(|c| !c.pass).count();
        writeln!(
            ctx.stdout,
            "\n{} of {} claims pass ({} profile, {:.1} s)",
            results.len() - failed,
            results.len(),
            args.profile.name(),
            wall_seconds
        )
        .map_err(stdout_err)?;
    }
    Ok(if all_pass {
        exit::SUCCESS
    } else {
        exit::CLAIM_FAILED
    })
}

//! `sparsify verify`: the claims of `sparsify_experiments::claims`, as a table or JSON.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

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

    /// Run only this claim (a number of `sparsify verify`'s table); repeat for several.
    #[arg(long = "claim", value_name = "ID", value_parser = claim_id)]
    claims: Vec<u32>,
}

/// A claim's number, refused unless a claim has it (the numbers need not be contiguous).
fn claim_id(s: &str) -> Result<u32, String> {
    let ids: Vec<String> = claims::CLAIMS.iter().map(|c| c.id.to_string()).collect();
    s.parse::<u32>()
        .ok()
        .filter(|id| claims::CLAIMS.iter().any(|c| c.id == *id))
        .ok_or_else(|| format!("no claim {s}: the claims are {}", ids.join(", ")))
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

/// How often the waiting thread looks at the interrupt flag: Ctrl-C is answered within this.
const POLL: Duration = Duration::from_millis(50);

/// Runs `sparsify verify`: exit 0 if every claim passes, 1 if any fails, 74 if stdout fails,
/// 130 if interrupted (the claims that finished are still reported).
pub(crate) fn execute(args: &VerifyArgs, ctx: &mut Context<'_>) -> Result<u8, CliError> {
    let start = Instant::now();
    let (results, interrupted) = run_interruptibly(args, ctx);
    let wall_seconds = start.elapsed().as_secs_f64();
    let wanted = claims::selected(&args.claims).len();
    let all_pass = !interrupted && results.iter().all(|c| c.pass);
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
    if interrupted {
        let _ = writeln!(
            ctx.stderr,
            "interrupted: {} of {wanted} claims finished and are reported above",
            results.len()
        );
        return Ok(exit::INTERRUPTED);
    }
    Ok(if all_pass {
        exit::SUCCESS
    } else {
        exit::CLAIM_FAILED
    })
}

/// Runs the selected claims on a worker thread and waits for them, looking at the interrupt
/// flag every [`POLL`]. On an interrupt it returns at once with the claims that finished (in
/// id order) and `true`; the worker is left to finish in the background (the process exits
/// right after, so it is not waited for: a claim at m = 1e7 cannot be stopped mid-run), and
/// starts no further claim.
fn run_interruptibly(args: &VerifyArgs, ctx: &Context<'_>) -> (Vec<Claim>, bool) {
    let (tx, rx) = mpsc::channel();
    let (ids, profile) = (args.claims.clone(), args.profile);
    let wanted = claims::selected(&ids).len();
    // The worker's own stop flag: `ctx.interrupted` is borrowed, and the worker may outlive
    // this call.
    let cancel = Arc::new(AtomicBool::new(false));
    let worker_cancel = Arc::clone(&cancel);
    std::thread::spawn(move || {
        claims::run_claims_each(
            &ids,
            profile,
            &|| worker_cancel.load(Ordering::Relaxed),
            &|c| {
                // The receiver is gone only after an interrupt: nobody wants the claim then.
                let _ = tx.send(c);
            },
        );
    });
    let mut done = Vec::with_capacity(wanted);
    let mut interrupted = false;
    while done.len() < wanted {
        if ctx.interrupted.load(Ordering::Relaxed) {
            cancel.store(true, Ordering::Relaxed);
            interrupted = true;
            break;
        }
        match rx.recv_timeout(POLL) {
            Ok(c) => done.push(c),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            // The worker ended without sending every claim (it cannot: each claim catches its
            // own errors); report what there is.
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    done.sort_by_key(|c| c.id);
    (done, interrupted)
}

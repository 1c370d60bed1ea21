//! The shrink flags of a run and a replay, and the printed report of a shrunk failure
//! (its steps, the minimal ops, the trace written, and a ready-to-paste regression test).

use std::path::PathBuf;
use std::time::Duration;

use crate::level::ops::FuzzOp;
use crate::level::reduce::{default_shrunk_trace_path, describe_step, reduce, FailureSignature};
use crate::level::regression::regression_test_for;
use crate::level::runner::{RunConfig, RunFailure};
use crate::level::trace::{replay_command, Trace};
use crate::support::seed::parse_duration;
use crate::support::shrink::ShrinkLimits;

/// The shrinking flags of a run.
#[derive(Clone, Debug, PartialEq, Eq, clap::Args)]
pub struct ShrinkArgs {
    /// Do not shrink a failed run (by default a failure is shrunk to a minimal op
    /// sequence, written as a trace, and printed with a regression test).
    #[arg(long)]
    pub no_shrink: bool,

    /// Where to write the shrunk trace [default: manifest-level-fuzz-SEED-shrunk.jsonl].
    #[arg(long, value_name = "FILE")]
    pub shrink_out: Option<PathBuf>,

    /// Most runs shrinking may make.
    #[arg(long, value_name = "N", default_value_t = ShrinkLimits::default().attempts_max,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub shrink_attempts: usize,

    /// Most time shrinking may take (30s, 2m, 1h).
    #[arg(long, value_name = "DURATION", default_value = "2m",
          value_parser = parse_duration)]
    pub shrink_time: Duration,
}

impl Default for ShrinkArgs {
    fn default() -> Self {
        ShrinkArgs {
            no_shrink: false,
            shrink_out: None,
            shrink_attempts: ShrinkLimits::default().attempts_max,
            shrink_time: Duration::from_secs(120),
        }
    }
}

impl ShrinkArgs {
    /// The limits these flags set.
    pub fn limits(&self) -> ShrinkLimits {
        ShrinkLimits {
            attempts_max: self.shrink_attempts,
            time_max: Some(self.shrink_time),
            ..ShrinkLimits::default()
        }
    }
}

/// The CLI's handling of a failed run, after its report was printed: unless
/// `--no-shrink`, shrink it (logging each step to stderr), then print the minimal
/// sequence and its failure, write it as a trace, and print a regression test (stdout).
pub fn shrink_and_report(
    config: &RunConfig,
    ops: &[FuzzOp],
    failure: &RunFailure,
    args: &ShrinkArgs,
) {
    if args.no_shrink {
        return;
    }
    let Some(signature) = FailureSignature::of(failure) else {
        return;
    };
    eprintln!(
        "shrinking (--no-shrink skips this): {} ops, failing {signature} at op {}",
        ops.len(),
        failure
            .op_index
            .map_or_else(|| "?".into(), |i| i.to_string())
    );
    let reduced = reduce(config, ops, failure, args.limits(), |step, ops| {
        eprintln!("{}", describe_step(step, Some(ops)));
    });
    let reduced = match reduced {
        Ok(reduced) => reduced,
        Err(error) => {
            eprintln!("{error}");
            return;
        }
    };
    println!("{}", reduced.summary());
    println!("minimal ops ({}):", reduced.ops.len());
    for (index, op) in reduced.ops.iter().enumerate() {
        println!("  {index:3}: {op}");
    }
    println!("the minimal ops fail like this:");
    for line in reduced.failure.to_string().lines() {
        println!("  {line}");
    }
    let path = args
        .shrink_out
        .clone()
        .unwrap_or_else(|| default_shrunk_trace_path(config.seed));
    let trace = Trace::new(&reduced.config, reduced.ops.clone())
        .with_failure(Some(reduced.signature.clone()));
    match trace.write(&path) {
        Ok(()) => println!(
            "shrunk trace: {} (replay: {})",
            path.display(),
            replay_command(&reduced.config, &path)
        ),
        Err(error) => eprintln!("could not write the shrunk trace: {error}"),
    }
    println!(
        "regression test (fails until the bug is fixed; paste into \
         crates/manifest-level-fuzz/tests/):\n"
    );
    print!("{}", regression_test_for(&reduced));
}

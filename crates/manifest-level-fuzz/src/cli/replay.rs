//! `--record` and `--replay`: the trace flags, which flags a replay accepts, and the
//! replay itself (the configuration comes from the trace's header).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::CommandFactory;

use super::shrink::{shrink_and_report, ShrinkArgs};
use super::{Cli, EXIT_FAILURE, EXIT_USAGE};
use crate::level::reduce::FailureSignature;
use crate::level::runner::{run_ops, FailureCause, RunConfig};
use crate::level::trace::{Trace, TraceError};

/// The trace flags of a run: `--record FILE` and `--replay FILE`.
#[derive(Clone, Debug, Default, PartialEq, Eq, clap::Args)]
pub struct TraceArgs {
    /// Write the run's configuration and ops to FILE as a trace (JSON lines: a header
    /// with format_version and the whole config, then one op per line) before running.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,

    /// Run the trace in FILE again, bit for bit: the configuration comes from its header,
    /// so flags that set the configuration (--seed, --events-max, --table-count-max,
    /// --node-size, --inject-fault, ...) are rejected with it; -v, --record and the
    /// shrink flags are allowed.
    #[arg(long, value_name = "FILE", conflicts_with = "smoke")]
    pub replay: Option<PathBuf>,
}

/// The arguments that may be given with `--replay` (they do not change the run).
pub const REPLAY_COMPATIBLE_ARGS: [&str; 9] = [
    "replay",
    "record",
    "verbose",
    "no_shrink",
    "shrink_out",
    "shrink_attempts",
    "shrink_time",
    "help",
    "version",
];

/// Rejects `--replay` together with an argument that sets the run's configuration: the
/// configuration comes from the trace's header, and silently preferring either would
/// make a replay that is not the recorded run (or not the command line's). `command` is
/// the (sub)command whose `matches` these are. An error exits with code 2.
pub fn check_replay_args(
    command: &clap::Command,
    matches: &clap::ArgMatches,
) -> Result<(), clap::Error> {
    use clap::parser::ValueSource;
    let has_replay = command.get_arguments().any(|arg| arg.get_id() == "replay");
    if !has_replay || matches.value_source("replay") != Some(ValueSource::CommandLine) {
        return Ok(());
    }
    let conflicting: Vec<String> = command
        .get_arguments()
        .filter(|arg| !REPLAY_COMPATIBLE_ARGS.contains(&arg.get_id().as_str()))
        .filter(|arg| {
            let id = arg.get_id().as_str();
            matches.value_source(id) == Some(ValueSource::CommandLine)
        })
        .map(|arg| match arg.get_long() {
            Some(long) => format!("--{long}"),
            None => arg.get_id().to_string(),
        })
        .collect();
    if conflicting.is_empty() {
        return Ok(());
    }
    let mut command = command.clone();
    Err(command.error(
        clap::error::ErrorKind::ArgumentConflict,
        format!(
            "--replay takes the run's configuration from the trace header; {} cannot be \
             given with it",
            conflicting.join(", ")
        ),
    ))
}

/// The CLI's `--replay FILE`: reads the trace (a bad one is a usage error, exit 2), runs
/// its ops under its config (`verbose` logs every op), and reports like a seed run:
/// exit 0 if every check holds, else the failure, whether it is the one the trace
/// recorded, and (unless `--no-shrink`) its shrunk form; exit 1.
pub fn replay_cli(
    path: &Path,
    verbose: bool,
    trace_args: &TraceArgs,
    shrink_args: &ShrinkArgs,
) -> ExitCode {
    let usage_error = |message: String| {
        let _ = Cli::command()
            .error(clap::error::ErrorKind::ValueValidation, message)
            .print();
        ExitCode::from(EXIT_USAGE)
    };
    let trace = match Trace::read(path) {
        Ok(trace) => trace,
        Err(error) => {
            let hint = other_target_hint(&error, path);
            return usage_error(format!("--replay {}: {error}{hint}", path.display()));
        }
    };
    let config = RunConfig {
        log_ops: verbose,
        ..trace.config().clone()
    };
    println!(
        "replay: {}: {} ops, config {}",
        path.display(),
        trace.ops.len(),
        serde_json::to_string(trace.config()).expect("a config serializes")
    );
    if let Some(expected) = &trace.header.failure {
        println!("replay: the trace records the failure: {expected}");
    }
    if let Some(record) = &trace_args.record {
        if let Err(error) = Trace::new(&config, trace.ops.clone()).write(record) {
            return usage_error(format!("--record: {error}"));
        }
        println!("recorded: {}", record.display());
    }
    match run_ops(&config, &trace.ops) {
        Ok(report) => {
            println!("{report}");
            if let Some(expected) = &trace.header.failure {
                println!("replay: the recorded failure ({expected}) did not happen");
            }
            ExitCode::SUCCESS
        }
        Err(failure) if matches!(failure.cause, FailureCause::InvalidOp(_)) => {
            usage_error(format!("--replay {}: {}", path.display(), failure.cause))
        }
        Err(failure) => {
            eprintln!("{failure}");
            match (&trace.header.failure, FailureSignature::of(&failure)) {
                (Some(expected), Some(found)) if *expected == found => {
                    eprintln!("replay: reproduced the recorded failure: {found}");
                }
                (Some(expected), found) => eprintln!(
                    "replay: the trace records {expected}, but this run failed with {}",
                    found.map_or_else(|| failure.cause.to_string(), |f| f.to_string())
                ),
                (None, _) => {}
            }
            shrink_and_report(&config, &trace.ops, &failure, shrink_args);
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// How to replay a trace of the other fuzz target, when that is what `error` says.
fn other_target_hint(error: &TraceError, path: &Path) -> String {
    match error {
        TraceError::WrongTarget { found, .. } if found == "segmented-array" => format!(
            " (replay it with: manifest-level-fuzz segmented-array --replay {})",
            path.display()
        ),
        _ => String::new(),
    }
}

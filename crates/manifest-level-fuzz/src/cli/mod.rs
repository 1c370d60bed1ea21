//! The command line (`clap` derive): the default run's flags at the top level, plus an
//! optional subcommand.
//!
//! ```text
//! manifest-level-fuzz [--seed <u64 | 40-hex commit hash>] [--events-max N]
//!                     [--table-count-max N] [--node-size BYTES] [-v] [--smoke]
//! manifest-level-fuzz run [same flags]
//! ```
//!
//! Exit codes: 0 success, 1 a failed run, 2 a bad argument (clap's usage-error code,
//! also used for parameters that do not fit together).
//!
//! New modes plug in as variants of [`Command`] with their own argument structs; new
//! flags of the default run go into [`RunArgs`].

pub mod bench;
pub mod campaign;
pub mod replay;
pub mod report;
pub mod segmented_array;
pub mod shape;
pub mod shrink;
pub mod values;

use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
#[cfg(feature = "fault-injection")]
use manifest_level::Fault;

use self::values::{check_mode_parser, op_set_parser};
use crate::level::environment::deep::CheckMode;
use crate::level::generate::INSERT_COUNT_MAX;
use crate::level::ops::OpSet;
use crate::level::runner::{self, RunConfig};
use crate::support::prng::parse_seed;
use crate::support::seed::entropy_seed;

/// Exit code of a failed run.
pub const EXIT_FAILURE: u8 = 1;

/// Exit code of a bad argument (clap's own code for usage errors).
pub const EXIT_USAGE: u8 = 2;

/// Deterministic, seed-reproducible, model-based fuzzer for manifest-level.
#[derive(Debug, Parser)]
#[command(
    name = "manifest-level-fuzz",
    version,
    about,
    long_about = "Deterministic, seed-reproducible, model-based fuzzer for manifest-level.\n\n\
        Runs random inserts, retirements, snapshots and removals against a ManifestLevel \
        and a reference model and checks they agree after every op. Everything derives \
        from one seed: a failure prints the command that reproduces it.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// The default run's arguments (when no subcommand is given).
    #[command(flatten)]
    pub run: RunArgs,
    /// A subcommand; none runs the fuzzer with the top-level arguments.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the seed-faithful fuzzer (what runs without a subcommand).
    Run(RunArgs),
    /// Fuzz the segmented array alone against a `Vec` model, deterministically from a
    /// seed, across element types and node sizes.
    SegmentedArray(segmented_array::SegmentedArrayArgs),
    /// Run many seeds on all cores (a range, or for a while), saving every result to a
    /// findings file as it finishes and shrinking failures; `--shard k/n` splits a range
    /// across machines.
    Campaign(campaign::CampaignArgs),
    /// Write the static page of the last campaign in a findings file (what
    /// `campaign --report DIR` writes when the campaign ends).
    Report(report::ReportArgs),
    /// Measure the fuzzer's throughput: seeds 1..=5 at --events-max 200000 by default,
    /// median of several runs per seed, ops/s per seed and in all.
    Bench(bench::BenchArgs),
}

/// Arguments of one fuzzer run.
#[derive(Clone, Debug, Args)]
pub struct RunArgs {
    /// The seed: a decimal u64, or a 40-hex-digit git commit hash (its low 64 bits).
    /// Drawn from the OS clock and entropy, and printed, when absent.
    #[arg(long, value_parser = parse_seed_arg)]
    pub seed: Option<u64>,

    /// Run at most this many ops (default 200000); the count is
    /// min(events-max, exponential(mean 100000)).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub events_max: Option<u64>,

    /// `--table-count-max`, `--node-size`, `--insert-count-max`, `--growth-tables`.
    #[command(flatten)]
    pub shape: shape::ShapeArgs,

    /// Log every op before running it (to stderr).
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Run a fixed seed at a bounded size (a fraction of a second), for CI.
    #[arg(long, conflicts_with_all = ["seed", "events_max"])]
    pub smoke: bool,

    /// Plant a deliberate bug in the level (a demo that the checks catch it), by name:
    /// RetireKeepsCounters, RemoveTakesNeighbour, DescendingSkipsFirstNode,
    /// KeyRangeNotShrunk, SearchOffByOneAtNodeBoundary, RemoveKeepsValueCount, ...
    #[cfg(feature = "fault-injection")]
    #[arg(long, value_name = "NAME", value_parser = runner::parse_fault)]
    pub inject_fault: Option<Fault>,

    /// What to check after every op: `faithful` (the seed's checks) or `deep` (those,
    /// then the level against the model: every visibility class both ways, random key
    /// ranges, counters, find/contains, key_range_contains, verify; whole at exponentially
    /// spaced ops and at the end, in rotating windows between). Same ops and tables either
    /// way.
    #[arg(long, value_name = "MODE", default_value = "faithful", value_parser = check_mode_parser())]
    pub check: CheckMode,

    /// Which ops to draw: `faithful` (the seed's five) or `extended` (also retained
    /// snapshots, compaction, next_table walks, overlap queries against a second level,
    /// reset, and misuse that must fail with the right error).
    #[arg(long = "ops", value_name = "SET", default_value = "faithful", value_parser = op_set_parser())]
    pub op_set: OpSet,

    /// Swarm testing: this seed draws its own op weights, switching some ops off, and
    /// its level's shape and key type (each shape flag given replaces its draw).
    #[arg(long)]
    pub swarm: bool,

    /// Run the seed twice in this process, from a fresh start each time, and compare the
    /// op streams, the final digests and the outcomes (exit 1 if they differ).
    #[arg(long)]
    pub check_determinism: bool,

    /// `--record FILE`, `--replay FILE`.
    #[command(flatten)]
    pub trace: replay::TraceArgs,

    /// `--no-shrink`, `--shrink-out FILE`, `--shrink-attempts N`, `--shrink-time D`.
    #[command(flatten)]
    pub shrink: shrink::ShrinkArgs,
}

impl RunArgs {
    /// The run configuration, with `seed` for the seed (used when `--seed` is absent).
    pub fn to_config(&self, drawn_seed: u64) -> RunConfig {
        let base = if self.smoke {
            RunConfig::smoke()
        } else {
            RunConfig {
                events_max: self.events_max,
                ..RunConfig::new(self.seed.unwrap_or(drawn_seed))
            }
        };
        let config = RunConfig {
            log_ops: self.verbose > 0,
            #[cfg(feature = "fault-injection")]
            fault: self.inject_fault,
            check: self.check,
            swarm: self.swarm,
            ..base.with_ops(self.op_set)
        };
        self.shape.apply(config)
    }
}

fn parse_seed_arg(text: &str) -> Result<u64, String> {
    parse_seed(text).map_err(|error| error.to_string())
}

/// Parses the process arguments and runs; the process's exit code.
pub fn main() -> ExitCode {
    let mut command = Cli::command();
    let matches = command.get_matches_mut();
    // `--replay` takes the configuration from the trace: reject flags that set it.
    let (run_command, run_matches) = match matches.subcommand() {
        Some(("run", sub)) => (command.find_subcommand("run").cloned(), sub),
        Some(_) => (None, &matches),
        None => (Some(command.clone()), &matches),
    };
    if let Some(run_command) = run_command {
        if let Err(error) = replay::check_replay_args(&run_command, run_matches) {
            error.exit();
        }
    }
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    execute(cli)
}

/// Runs parsed arguments: prints the log and the summary or the failure report.
pub fn execute(cli: Cli) -> ExitCode {
    match cli.command {
        None => run_fuzzer(&cli.run),
        Some(Command::Run(args)) => run_fuzzer(&args),
        Some(Command::SegmentedArray(args)) => segmented_array::run_cli(&args),
        Some(Command::Campaign(args)) => campaign::run_cli(&args),
        Some(Command::Bench(args)) => bench::run_cli(&args),
        Some(Command::Report(args)) => report::run_cli(&args),
    }
}

fn run_fuzzer(args: &RunArgs) -> ExitCode {
    if let Some(path) = &args.trace.replay {
        return replay::replay_cli(path, args.verbose > 0, &args.trace, &args.shrink);
    }
    if args.seed.is_none() && !args.smoke {
        // Drawn seeds are printed before anything else, so even a crash reproduces.
        let seed = entropy_seed();
        println!("seed: {seed}");
        return run_config(&args.to_config(seed), args);
    }
    run_config(&args.to_config(0), args)
}

fn run_config(config: &RunConfig, args: &RunArgs) -> ExitCode {
    if let Err(error) = config.validate() {
        let _ = Cli::command()
            .error(ErrorKind::ValueValidation, error)
            .print();
        return ExitCode::from(EXIT_USAGE);
    }
    let plan = runner::plan(config);
    print_run_header(config, &plan);
    if let Some(path) = &args.trace.record {
        let trace = crate::level::trace::Trace::new(config, plan.ops.clone());
        if let Err(error) = trace.write(path) {
            let _ = Cli::command()
                .error(ErrorKind::Io, format!("--record: {error}"))
                .print();
            return ExitCode::from(EXIT_USAGE);
        }
        println!("recorded: {}", path.display());
    }
    if args.check_determinism {
        return run_twice(config);
    }
    match runner::run_plan(config, &plan) {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("{failure}");
            shrink::shrink_and_report(config, &plan.ops, &failure, &args.shrink);
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// The run's first lines: the seed, its op count and shape, and whatever it runs with
/// that is not the seed's default (level shape, keys, ballast, levels, swarm, fault).
fn print_run_header(config: &RunConfig, plan: &runner::RunPlan) {
    println!(
        "manifest-level-fuzz: seed={} op_count={} table_count_max={} node_size={} check={} ops={} weights: {}",
        config.seed,
        plan.ops.len(),
        config.table_count_max,
        config.node_size,
        config.check,
        config.ops,
        plan.weights
    );
    if config.insert_count_max != INSERT_COUNT_MAX || config.growth_tables != 0 {
        println!(
            "level shape: insert_count_max={} growth_tables={}",
            config.insert_count_max, config.growth_tables
        );
    }
    if config.key != crate::level::key::KeyWidth::U64 {
        println!(
            "keys: {} (the model's u64 keys embedded, order kept)",
            config.key
        );
    }
    if config.ballast_percent != 0 {
        println!(
            "pool ballast: {}% of the node pool held back from the levels",
            config.ballast_percent
        );
    }
    if config.third_level {
        println!("levels: 3 (A, B and C on one node pool)");
    }
    if config.swarm {
        println!(
            "swarm: {}",
            crate::level::swarm::describe(&plan.weights, config.ops)
        );
    }
    #[cfg(feature = "fault-injection")]
    if let Some(fault) = config.fault {
        println!("planted fault: {}", runner::fault_name(fault));
    }
}

/// `--check-determinism`: the seed twice, compared; exit 1 on a difference, else the
/// run's own exit code.
fn run_twice(config: &RunConfig) -> ExitCode {
    match crate::level::determinism::check_determinism(config) {
        Ok(Ok(report)) => {
            println!(
                "determinism: two runs agree (same ops, digest {:016x})",
                report.digest
            );
            println!("{report}");
            ExitCode::SUCCESS
        }
        Ok(Err(failure)) => {
            println!("determinism: two runs agree (the same failure)");
            eprintln!("{failure}");
            ExitCode::from(EXIT_FAILURE)
        }
        Err(nondeterminism) => {
            eprintln!("{nondeterminism}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("manifest-level-fuzz").chain(args.iter().copied()))
    }

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn seeds_in_both_forms() {
        assert_eq!(parse(&["--seed", "42"]).unwrap().run.seed, Some(42));
        let hash = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(
            parse(&["--seed", hash]).unwrap().run.seed,
            Some(0x89ab_cdef_0123_4567)
        );
        assert_eq!(parse(&[]).unwrap().run.seed, None);
        for bad in ["-1", "abc", "0x10", "18446744073709551616", ""] {
            let error = parse(&["--seed", bad]).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{bad}");
        }
    }

    #[test]
    fn defaults_and_subcommand() {
        let cli = parse(&[]).unwrap();
        let config = cli.run.to_config(5);
        assert_eq!(config, RunConfig::new(5));
        let cli = parse(&["run", "--seed", "3", "--events-max", "10"]).unwrap();
        let Some(Command::Run(args)) = cli.command else {
            panic!("expected the run subcommand");
        };
        assert_eq!(args.to_config(0).events_max, Some(10));
        assert_eq!(
            parse(&["--smoke"]).unwrap().run.to_config(9),
            RunConfig::smoke()
        );
        assert!(parse(&["--smoke", "--seed", "1"]).is_err());
        assert!(parse(&["-v"]).unwrap().run.to_config(1).log_ops);
    }

    #[test]
    fn bad_numbers() {
        for args in [
            &["--events-max", "0"][..],
            &["--events-max", "x"],
            &["--table-count-max", "0"],
            &["--node-size", "1000"],
            &["--node-size", "0"],
            &["--bogus"],
        ] {
            assert_eq!(parse(args).unwrap_err().exit_code(), 2, "{args:?}");
        }
    }

    #[cfg(feature = "fault-injection")]
    #[test]
    fn fault_names() {
        for fault in Fault::ALL {
            let name = runner::fault_name(fault);
            let cli = parse(&["--inject-fault", &name]).unwrap();
            assert_eq!(cli.run.inject_fault, Some(fault));
        }
        let cli = parse(&["--inject-fault", "retire-keeps-counters"]).unwrap();
        assert_eq!(cli.run.inject_fault, Some(Fault::RetireKeepsCounters));
        assert!(parse(&["--inject-fault", "nope"]).is_err());
    }
}

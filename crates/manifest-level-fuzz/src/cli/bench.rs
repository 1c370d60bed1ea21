//! `manifest-level-fuzz bench`: the fuzzer's throughput per seed and in all.

use std::process::ExitCode;

use clap::Args;

use super::values::{check_mode_parser, op_set_parser};
use super::EXIT_FAILURE;
use crate::level::bench::{measure, total_ops_per_sec, BenchConfig};
use crate::level::environment::deep::CheckMode;
use crate::level::ops::OpSet;
use crate::support::seed::{parse_seed_range, SeedPlan};

/// Arguments of `bench`.
#[derive(Clone, Debug, Args)]
pub struct BenchArgs {
    /// The seeds: A..B (B excluded) or A..=B.
    #[arg(long, value_name = "A..B", default_value = "1..=5", value_parser = parse_seed_range)]
    pub seeds: SeedPlan,

    /// Cap on each seed's op count.
    #[arg(long, value_name = "N", default_value_t = 200_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub events_max: u64,

    /// Runs per seed; the median counts.
    #[arg(long, value_name = "N", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub repeat: u64,

    /// What to check after every op.
    #[arg(long, value_name = "MODE", default_value = "faithful", value_parser = check_mode_parser())]
    pub check: CheckMode,

    /// Which ops to draw.
    #[arg(long = "ops", value_name = "SET", default_value = "faithful", value_parser = op_set_parser())]
    pub op_set: OpSet,
}

/// Runs `bench` from the command line.
pub fn run_cli(args: &BenchArgs) -> ExitCode {
    println!(
        "bench: seeds {:?}, events_max {}, {} run(s) each, check {}, ops {:?}",
        args.seeds,
        args.events_max,
        args.repeat,
        args.check.name(),
        args.op_set
    );
    let SeedPlan::Range { start, end } = args.seeds else {
        unreachable!("parse_seed_range gives a range");
    };
    let config = BenchConfig {
        seeds: start..end,
        events_max: args.events_max,
        repeat: args.repeat,
        check: args.check,
        op_set: args.op_set,
    };
    let results = match measure(&config) {
        Ok(results) => results,
        Err(failure) => {
            eprintln!("bench: a run failed:\n{failure}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    for result in &results {
        println!(
            "seed {:>4}: {:>7} ops in {:>9.3} ms (median) = {:>9.0} ops/s",
            result.seed,
            result.ops,
            result.median.as_secs_f64() * 1e3,
            result.ops as f64 / result.median.as_secs_f64().max(1e-9)
        );
    }
    let ops: usize = results.iter().map(|r| r.ops).sum();
    let seconds: f64 = results.iter().map(|r| r.median.as_secs_f64()).sum();
    println!(
        "total: {ops} ops in {seconds:.3} s = {:.0} ops/s",
        total_ops_per_sec(&results)
    );
    ExitCode::SUCCESS
}

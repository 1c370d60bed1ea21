//! `manifest-level-fuzz bench`: the fuzzer's throughput per seed and in all.

use std::process::ExitCode;

use clap::Args;

use super::values::{check_mode_parser, op_set_parser};
use super::{EXIT_FAILURE, EXIT_USAGE};
use crate::level::bench::{
    measure, measure_every_mode, seed_config, total_ops_per_sec, BenchConfig,
};
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

    /// Swarm testing: each seed draws its own op weights and level shape.
    #[arg(long)]
    pub swarm: bool,

    /// `--table-count-max`, `--node-size`, `--insert-count-max`, `--growth-tables`.
    #[command(flatten)]
    pub shape: super::shape::ShapeArgs,

    /// Measure every mode (seed mode; --check deep; --ops extended; --ops extended --check
    /// deep, without and with --swarm), each as ops/s and as a ratio to the seed mode's in
    /// the same run, the modes interleaved round by round (--check, --ops and --swarm are
    /// then ignored).
    #[arg(long)]
    pub every_mode: bool,
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
        swarm: args.swarm,
        shape: args.shape.overrides(),
    };
    if let Err(error) = seed_config(&config, start).validate() {
        eprintln!("bench: {error}");
        return ExitCode::from(EXIT_USAGE);
    }
    if args.every_mode {
        return run_every_mode(&config);
    }
    let results = match measure(&config) {
        Ok(results) => results,
        Err(failure) => return run_failed(&failure),
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

/// `bench --every-mode`: one line per mode, ops/s and ratio to the seed mode.
fn run_every_mode(config: &BenchConfig) -> ExitCode {
    let results = match measure_every_mode(config) {
        Ok(results) => results,
        Err(failure) => return run_failed(&failure),
    };
    for result in &results {
        println!(
            "check {:<8} ops {:<9} swarm {:<5}: {:>9.0} ops/s = {:.3}x the seed mode",
            result.mode.check.name(),
            format!("{:?}", result.mode.op_set),
            result.mode.swarm,
            result.ops_per_sec,
            result.ratio
        );
    }
    ExitCode::SUCCESS
}

/// A measured run failed (a bug the fuzzer found while measuring): say so, exit 1.
fn run_failed(failure: &str) -> ExitCode {
    eprintln!("bench: a run failed:\n{failure}");
    ExitCode::from(EXIT_FAILURE)
}

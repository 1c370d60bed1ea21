//! `manifest-level-fuzz bench`: the fuzzer's own throughput on the seed workload.
//!
//! Runs each seed of a range several times (seed-faithful config unless told otherwise:
//! 1024 tables, 1024-byte nodes, every check of spec §4 on), keeps each seed's median
//! execution time, and reports ops/s per seed and in all (total ops over the sum of the
//! medians), so the figure compares with TigerBeetle's "ops for seeds 1–5 in N s".

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use crate::campaign::{parse_seed_range, SeedPlan};
use crate::level::environment::deep::CheckMode;
use crate::level::ops::OpSet;
use crate::level::runner::{self, RunConfig};

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
    #[arg(long, value_enum, value_name = "MODE", default_value_t = CheckMode::Faithful)]
    pub check: CheckMode,

    /// Which ops to draw.
    #[arg(long = "ops", value_enum, value_name = "SET", default_value_t = OpSet::Faithful)]
    pub op_set: OpSet,
}

/// One seed's measurement.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SeedThroughput {
    /// The seed.
    pub seed: u64,
    /// Ops the seed runs.
    pub ops: usize,
    /// Median execution time over the repeats.
    pub median: Duration,
}

/// Measures every seed of `args`; `Err` names the first run that failed.
pub fn measure(args: &BenchArgs) -> Result<Vec<SeedThroughput>, String> {
    let SeedPlan::Range { start, end } = args.seeds else {
        return Err("bench needs a seed range".to_string());
    };
    let mut results = Vec::new();
    let mut times = Vec::with_capacity(args.repeat as usize);
    for seed in start..end {
        let mut config = RunConfig::new(seed).with_ops(args.op_set);
        config.events_max = Some(args.events_max);
        config.check = args.check;
        times.clear();
        let mut ops = 0;
        for _ in 0..args.repeat {
            let report = runner::run(&config).map_err(|failure| failure.to_string())?;
            ops = report.ops_run;
            times.push(report.elapsed);
        }
        times.sort_unstable();
        results.push(SeedThroughput {
            seed,
            ops,
            median: times[times.len() / 2],
        });
    }
    Ok(results)
}

/// Total ops over the summed medians.
pub fn total_ops_per_sec(results: &[SeedThroughput]) -> f64 {
    let ops: usize = results.iter().map(|r| r.ops).sum();
    let seconds: f64 = results.iter().map(|r| r.median.as_secs_f64()).sum();
    ops as f64 / seconds.max(1e-9)
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
    let results = match measure(args) {
        Ok(results) => results,
        Err(failure) => {
            eprintln!("bench: a run failed:\n{failure}");
            return ExitCode::from(1);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_every_seed_with_its_op_count() {
        let args = BenchArgs {
            seeds: SeedPlan::Range { start: 1, end: 4 },
            events_max: 300,
            repeat: 3,
            check: CheckMode::Faithful,
            op_set: OpSet::Faithful,
        };
        let results = measure(&args).unwrap();
        assert_eq!(
            results.iter().map(|r| r.seed).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        for result in &results {
            let mut config = RunConfig::new(result.seed);
            config.events_max = Some(300);
            assert_eq!(result.ops, runner::run(&config).unwrap().ops_run);
            assert!(result.median > Duration::ZERO);
        }
        assert!(total_ops_per_sec(&results) > 0.0);
    }
}

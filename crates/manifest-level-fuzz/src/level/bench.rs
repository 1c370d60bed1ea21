//! The fuzzer's own throughput (`manifest-level-fuzz bench`) on the seed workload.
//!
//! Runs each seed of a range several times (seed-faithful config unless told otherwise:
//! 1024 tables, 1024-byte nodes, every check of docs/SEMANTICS.md §4 on), keeps each seed's median
//! execution time, and reports ops/s per seed and in all (total ops over the sum of the
//! medians), so the figure compares with TigerBeetle's "ops for seeds 1–5 in N s".

use std::ops::Range;
use std::time::Duration;

use crate::level::environment::deep::CheckMode;
use crate::level::ops::OpSet;
use crate::level::runner::{self, RunConfig};

/// What to measure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BenchConfig {
    /// The seeds, each measured on its own.
    pub seeds: Range<u64>,
    /// Cap on each seed's op count.
    pub events_max: u64,
    /// Runs per seed; the median counts.
    pub repeat: u64,
    /// What to check after every op.
    pub check: CheckMode,
    /// Which ops to draw.
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
pub fn measure(args: &BenchConfig) -> Result<Vec<SeedThroughput>, String> {
    assert!(args.repeat > 0, "bench needs at least one run per seed");
    let mut results = Vec::new();
    let mut times = Vec::with_capacity(args.repeat as usize);
    for seed in args.seeds.clone() {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_every_seed_with_its_op_count() {
        let args = BenchConfig {
            seeds: 1..4,
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

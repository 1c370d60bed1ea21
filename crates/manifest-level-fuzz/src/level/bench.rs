//! The fuzzer's own throughput (`manifest-level-fuzz bench`) on the seed workload.
//!
//! Runs each seed of a range several times (seed-faithful config unless told otherwise:
//! 1024 tables, 1024-byte nodes, every check of docs/SEMANTICS.md §4 on), keeps each seed's
//! median execution time, and reports ops/s per seed and in all (total ops over the sum of
//! the medians), so the figure compares with TigerBeetle's "ops for seeds 1–5 in N s".
//! [`measure_every_mode`] measures every mode of [`MODES`] on the same seeds and reports
//! each as a ratio to the seed mode's figure of the same run.

use std::ops::Range;
use std::time::Duration;

use crate::level::configuration::ConfigurationOverrides;
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
    /// Swarm testing: the seed draws its own op weights and level shape.
    pub swarm: bool,
    /// Level-shape values every seed uses (and, with swarm, keeps instead of drawing).
    pub shape: ConfigurationOverrides,
}

/// A mode `bench --every-mode` measures: a check mode, an op set and swarm on or off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mode {
    /// What to check after every op.
    pub check: CheckMode,
    /// Which ops to draw.
    pub op_set: OpSet,
    /// Swarm testing.
    pub swarm: bool,
}

/// Every mode, the seed mode first (the others are reported as ratios to it).
pub const MODES: [Mode; 5] = [
    Mode {
        check: CheckMode::Faithful,
        op_set: OpSet::Faithful,
        swarm: false,
    },
    Mode {
        check: CheckMode::Deep,
        op_set: OpSet::Faithful,
        swarm: false,
    },
    Mode {
        check: CheckMode::Faithful,
        op_set: OpSet::Extended,
        swarm: false,
    },
    Mode {
        check: CheckMode::Deep,
        op_set: OpSet::Extended,
        swarm: false,
    },
    Mode {
        check: CheckMode::Deep,
        op_set: OpSet::Extended,
        swarm: true,
    },
];

/// One mode's measurement: its total ops/s and its ratio to the seed mode's in the same run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ModeThroughput {
    /// The mode.
    pub mode: Mode,
    /// Total ops over the summed medians ([`total_ops_per_sec`]).
    pub ops_per_sec: f64,
    /// `ops_per_sec` over the seed mode's (the first of [`MODES`]).
    pub ratio: f64,
}

/// Measures every mode of [`MODES`] on `args`' seeds, repeats and op cap (`args`' own
/// mode is ignored); `Err` names the first run that failed.
///
/// The repeats interleave the modes: each round runs every mode on every seed, so a slow
/// spell of the machine falls on all modes alike, and each (mode, seed) keeps the median
/// of its rounds.
pub fn measure_every_mode(args: &BenchConfig) -> Result<Vec<ModeThroughput>, String> {
    assert!(args.repeat > 0, "bench needs at least one run per seed");
    let configs = MODES.map(|mode| BenchConfig {
        check: mode.check,
        op_set: mode.op_set,
        swarm: mode.swarm,
        ..args.clone()
    });
    let seeds: Vec<u64> = args.seeds.clone().collect();
    let repeat = args.repeat as usize;
    // times[mode][seed] holds that pair's run times; ops[mode][seed] its op count.
    let mut times = vec![vec![Vec::with_capacity(repeat); seeds.len()]; MODES.len()];
    let mut ops = vec![vec![0usize; seeds.len()]; MODES.len()];
    for _ in 0..repeat {
        for (mode, config) in configs.iter().enumerate() {
            for (index, &seed) in seeds.iter().enumerate() {
                let report = runner::run(&seed_config(config, seed))
                    .map_err(|failure| failure.to_string())?;
                ops[mode][index] = report.ops_run;
                times[mode][index].push(report.elapsed);
            }
        }
    }
    let mut results: Vec<ModeThroughput> = Vec::with_capacity(MODES.len());
    for (mode, (times, ops)) in MODES.into_iter().zip(times.iter_mut().zip(&ops)) {
        let per_seed: Vec<SeedThroughput> = seeds
            .iter()
            .zip(times.iter_mut().zip(ops))
            .map(|(&seed, (times, &ops))| SeedThroughput {
                seed,
                ops,
                median: median(times),
            })
            .collect();
        let ops_per_sec = total_ops_per_sec(&per_seed);
        let baseline = results
            .first()
            .map_or(ops_per_sec, |seed_mode| seed_mode.ops_per_sec);
        results.push(ModeThroughput {
            mode,
            ops_per_sec,
            ratio: ops_per_sec / baseline.max(1e-9),
        });
    }
    assert_eq!(results.len(), MODES.len());
    Ok(results)
}

/// The median of `times` (sorted in place; the upper one of an even count).
fn median(times: &mut [Duration]) -> Duration {
    assert!(!times.is_empty());
    times.sort_unstable();
    times[times.len() / 2]
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
        let config = seed_config(args, seed);
        times.clear();
        let mut ops = 0;
        for _ in 0..args.repeat {
            let report = runner::run(&config).map_err(|failure| failure.to_string())?;
            ops = report.ops_run;
            times.push(report.elapsed);
        }
        results.push(SeedThroughput {
            seed,
            ops,
            median: median(&mut times),
        });
    }
    Ok(results)
}

/// The configuration `bench` runs `seed` with.
pub fn seed_config(args: &BenchConfig, seed: u64) -> RunConfig {
    RunConfig {
        events_max: Some(args.events_max),
        check: args.check,
        swarm: args.swarm,
        ..RunConfig::new(seed).with_ops(args.op_set)
    }
    .with_shape(args.shape)
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
            swarm: false,
            shape: ConfigurationOverrides::default(),
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

    #[test]
    fn measures_every_mode_against_the_seed_mode() {
        let args = BenchConfig {
            seeds: 1..3,
            events_max: 200,
            repeat: 1,
            check: CheckMode::Deep,
            op_set: OpSet::Extended,
            swarm: true,
            shape: ConfigurationOverrides::default(),
        };
        let results = measure_every_mode(&args).unwrap();
        assert_eq!(results.iter().map(|r| r.mode).collect::<Vec<_>>(), MODES);
        assert_eq!(results[0].ratio, 1.0);
        for result in &results {
            assert!(result.ops_per_sec > 0.0);
            let expected = result.ops_per_sec / results[0].ops_per_sec;
            assert!((result.ratio - expected).abs() < 1e-9);
        }
    }
}

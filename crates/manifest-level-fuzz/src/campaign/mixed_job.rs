//! Both fuzzers in one campaign, the default target: most seeds run the level fuzzer, and
//! every [`ARRAY_SEED_EVERY`]-th seed runs the segmented-array fuzzer, so a campaign also
//! exercises the parts of the segmented array the level never calls (its element-wise
//! insert and remove, range removal, sorted inserts, iteration from an index).

use super::level_job::FuzzSeedJob;
use super::segmented_array_job::SegmentedArraySeedJob;
use super::{SeedJob, SeedOutcome};

/// One seed in this many (those with `seed % ARRAY_SEED_EVERY == ARRAY_SEED_EVERY - 1`)
/// runs the segmented-array fuzzer; the others run the level fuzzer.
pub const ARRAY_SEED_EVERY: u64 = 8;

/// The [`SeedJob`] of `manifest-level-fuzz campaign --target all` (the default).
pub struct MixedSeedJob {
    /// The level fuzzer's job, for most seeds.
    pub level: FuzzSeedJob,
    /// The segmented-array fuzzer's job, for one seed in [`ARRAY_SEED_EVERY`].
    pub array: SegmentedArraySeedJob,
}

impl MixedSeedJob {
    /// Whether `seed` runs the segmented-array fuzzer.
    pub fn runs_array(seed: u64) -> bool {
        seed % ARRAY_SEED_EVERY == ARRAY_SEED_EVERY - 1
    }

    fn job(&self, seed: u64) -> &dyn SeedJob {
        if MixedSeedJob::runs_array(seed) {
            &self.array
        } else {
            &self.level
        }
    }
}

impl SeedJob for MixedSeedJob {
    fn run(&self, seed: u64) -> SeedOutcome {
        self.job(seed).run(seed)
    }

    fn shrink(&self, seed: u64, outcome: &SeedOutcome) -> Option<serde_json::Value> {
        self.job(seed).shrink(seed, outcome)
    }

    /// The level fuzzer's states: the array's seeds count none.
    fn state_names(&self) -> &'static [&'static str] {
        self.level.state_names()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_seed_in_eight_runs_the_array() {
        let array: Vec<u64> = (0..32)
            .filter(|&seed| MixedSeedJob::runs_array(seed))
            .collect();
        assert_eq!(array, [7, 15, 23, 31]);
    }
}

//! The segmented-array fuzzer as a campaign job: each seed is a run of the base
//! configuration with that seed; a failing one is shrunk and its minimal ops written as a
//! trace.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::{SeedJob, SeedOutcome};
use crate::segmented_array::{
    replay_command, run, shrink_failure, Failure, Op, SegmentedArrayFuzzConfig,
};
use crate::support::shrink::ShrinkLimits;
use crate::support::signature::FailureSignature;

/// The [`SeedJob`] of `manifest-level-fuzz campaign --target segmented-array`.
pub struct SegmentedArraySeedJob {
    /// The configuration every seed runs with (its `seed` is replaced).
    pub base: SegmentedArrayFuzzConfig,
    /// Shrinking limits per failing seed; `None` skips shrinking.
    pub shrink: Option<ShrinkLimits>,
    /// The directory shrunk traces go to (created when the first one is written).
    pub traces: PathBuf,
    /// The failure database each shrunk trace is also stored in ([`super::regressions`]);
    /// `None` stores nothing.
    pub regressions: Option<PathBuf>,
    /// Failures of seeds that are waiting to be shrunk.
    failures: Mutex<HashMap<u64, Failure>>,
}

impl SegmentedArraySeedJob {
    /// A job running `base` per seed.
    pub fn new(
        base: SegmentedArrayFuzzConfig,
        shrink: Option<ShrinkLimits>,
        traces: PathBuf,
    ) -> SegmentedArraySeedJob {
        SegmentedArraySeedJob {
            base: SegmentedArrayFuzzConfig {
                record: false,
                ..base
            },
            shrink,
            traces,
            regressions: None,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// The configuration of `seed`.
    pub fn config(&self, seed: u64) -> SegmentedArrayFuzzConfig {
        SegmentedArrayFuzzConfig { seed, ..self.base }
    }

    /// The path of `seed`'s shrunk trace.
    pub fn trace_path(&self, seed: u64) -> PathBuf {
        self.traces
            .join(crate::segmented_array::default_shrunk_trace_path(Some(
                seed,
            )))
    }
}

impl SeedJob for SegmentedArraySeedJob {
    fn run(&self, seed: u64) -> SeedOutcome {
        let config = self.config(seed);
        let reproduce = config.reproduce_command();
        match run(config) {
            Ok(report) => SeedOutcome {
                ops: report.ops,
                failure: None,
                reproduce,
                op_mix: Some(
                    Op::KIND_NAMES
                        .iter()
                        .zip(report.op_counts)
                        .filter(|(_, count)| *count > 0)
                        .map(|(name, count)| (name.to_string(), count))
                        .collect(),
                ),
                ..SeedOutcome::default()
            },
            Err(failure) => {
                let outcome = SeedOutcome {
                    ops: failure.op_index + 1,
                    failure: Some(failure.to_string()),
                    reproduce,
                    ..SeedOutcome::default()
                };
                if self.shrink.is_some() {
                    self.failures
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .insert(seed, failure);
                }
                outcome
            }
        }
    }

    fn shrink(&self, seed: u64, _outcome: &SeedOutcome) -> Option<serde_json::Value> {
        let limits = self.shrink?;
        let failure = self
            .failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(&seed)?;
        let (trace, _shrunk) = shrink_failure(&failure, limits);
        let path = self.trace_path(seed);
        let written = std::fs::create_dir_all(&self.traces)
            .map_err(|error| error.to_string())
            .and_then(|()| trace.write(&path).map_err(|error| error.to_string()));
        if written.is_ok() {
            let signature = failure.signature();
            super::regressions::keep(
                self.regressions.as_deref(),
                "segmented-array",
                &signature,
                &path,
            );
        }
        let record = ShrunkArrayRecord {
            signature: failure.signature(),
            ops_before: failure.trace.ops.len(),
            failed_at: failure.op_index,
            ops_after: trace.ops.len(),
            ops: trace.ops.clone(),
            trace: written.as_ref().ok().map(|()| path.display().to_string()),
            trace_error: written.err(),
            replay: replay_command(&trace, &path),
            regression_test: Some(
                trace.regression_test(&format!("segmented_array_regression_seed_{seed}")),
            ),
        };
        Some(serde_json::to_value(record).expect("a shrunk record serializes"))
    }
}

/// What [`SegmentedArraySeedJob`] records for a shrunk seed (the `result` of a `shrunk`
/// finding).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShrunkArrayRecord {
    /// The failure every shrinking step kept.
    pub signature: FailureSignature<String>,
    /// The failing seed's op count (up to the failing op).
    pub ops_before: usize,
    /// The index of the op the seed failed at.
    pub failed_at: u64,
    /// The minimal sequence's op count.
    pub ops_after: usize,
    /// The minimal sequence.
    pub ops: Vec<Op>,
    /// The shrunk trace's path, if it was written.
    pub trace: Option<String>,
    /// Why the trace could not be written, if so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_error: Option<String>,
    /// The command that replays the shrunk trace.
    pub replay: String,
    /// The ready-to-paste `#[test]` that replays the shrunk ops.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regression_test: Option<String>,
}

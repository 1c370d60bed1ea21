//! The level fuzzer as a campaign job: each seed is a run of the base configuration with
//! that seed; a failing one is shrunk and its minimal ops written as a trace.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::{Peaks, SeedJob, SeedOutcome};
use crate::level::configuration::ConfigurationOverrides;
use crate::level::determinism::check_determinism;
use crate::level::ops::{FuzzOp, OpKind};
use crate::level::reduce::{default_shrunk_trace_path, reduce, FailureSignature};
use crate::level::regression::regression_test_for;
use crate::level::runner::{self, RunConfig, RunFailure};
use crate::level::states::State;
use crate::level::trace::{replay_command, Trace};
use crate::support::shrink::ShrinkLimits;

/// The [`SeedJob`] of `manifest-level-fuzz campaign`: each seed is a fuzzer run of
/// `base` with that seed; a failing one is shrunk ([`reduce`]) and its minimal ops are
/// written as a trace in `traces`.
pub struct FuzzSeedJob {
    /// The configuration every seed runs with (its `seed` is replaced).
    pub base: RunConfig,
    /// Shrinking limits per failing seed; `None` skips shrinking.
    pub shrink: Option<ShrinkLimits>,
    /// The directory shrunk traces go to (created when the first one is written).
    pub traces: PathBuf,
    /// The failure database each shrunk trace is also stored in ([`super::regressions`]);
    /// `None` stores nothing.
    pub regressions: Option<PathBuf>,
    /// The level-shape values every swarm seed keeps instead of drawing them.
    pub overrides: ConfigurationOverrides,
    /// Every this many seeds (those with `seed % n == 0`), run the seed twice and compare
    /// ([`check_determinism`]); `None`: never.
    pub determinism_every: Option<u64>,
    /// Failures of seeds that are waiting to be shrunk.
    failures: Mutex<HashMap<u64, RunFailure>>,
}

impl FuzzSeedJob {
    /// A job running `base` per seed.
    pub fn new(base: RunConfig, shrink: Option<ShrinkLimits>, traces: PathBuf) -> FuzzSeedJob {
        FuzzSeedJob {
            base: RunConfig {
                log_ops: false,
                ..base
            },
            shrink,
            traces,
            regressions: None,
            overrides: ConfigurationOverrides::default(),
            determinism_every: None,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// The configuration of `seed` (with `swarm`, its drawn level shape).
    pub fn config(&self, seed: u64) -> RunConfig {
        RunConfig {
            seed,
            ..self.base.clone()
        }
        .with_drawn_configuration(self.overrides)
    }

    /// The path of `seed`'s shrunk trace.
    pub fn trace_path(&self, seed: u64) -> PathBuf {
        self.traces.join(default_shrunk_trace_path(seed))
    }
}

impl SeedJob for FuzzSeedJob {
    fn run(&self, seed: u64) -> SeedOutcome {
        let config = self.config(seed);
        let reproduce = config.reproduce_command();
        let shape = Some(configuration_record(&config));
        let twice = self
            .determinism_every
            .is_some_and(|every| seed % every == 0);
        let outcome = if twice && config.validate().is_ok() {
            match check_determinism(&config) {
                Ok(outcome) => outcome,
                Err(nondeterminism) => {
                    return SeedOutcome {
                        failure: Some(nondeterminism.to_string()),
                        reproduce: format!("{reproduce} --check-determinism"),
                        config: shape,
                        ..SeedOutcome::default()
                    }
                }
            }
        } else {
            runner::run(&config)
        };
        match outcome {
            Ok(report) => SeedOutcome {
                ops: report.ops_run as u64,
                failure: None,
                reproduce,
                config: shape,
                peaks: Some(Peaks {
                    tables: report.peak_tables as u64,
                    nodes: u64::from(report.peak_nodes),
                }),
                states: Some(
                    report
                        .states
                        .iter()
                        .filter(|(_, count)| *count > 0)
                        .map(|(state, count)| (state.name().to_string(), count))
                        .collect(),
                ),
                op_mix: Some(
                    OpKind::ALL
                        .iter()
                        .map(|kind| (kind.name().to_string(), report.op_counts.get(*kind)))
                        .filter(|(_, count)| *count > 0)
                        .collect(),
                ),
            },
            Err(failure) => {
                let outcome = SeedOutcome {
                    ops: failure.op_index.map_or(0, |index| index as u64 + 1),
                    failure: Some(failure.to_string()),
                    reproduce,
                    config: shape,
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

    fn state_names(&self) -> &'static [&'static str] {
        &State::NAMES
    }

    fn shrink(&self, seed: u64, _outcome: &SeedOutcome) -> Option<serde_json::Value> {
        let limits = self.shrink?;
        let failure = self
            .failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(&seed)?;
        let config = self.config(seed);
        let ops = runner::plan(&config).ops;
        let reduced = match reduce(&config, &ops, &failure, limits, |_, _| {}) {
            Ok(reduced) => reduced,
            Err(error) => return Some(serde_json::json!({ "error": error.to_string() })),
        };
        let path = self.trace_path(seed);
        let trace = Trace::new(&reduced.config, reduced.ops.clone())
            .with_failure(Some(reduced.signature.clone()));
        let written = std::fs::create_dir_all(&self.traces)
            .map_err(|error| error.to_string())
            .and_then(|()| trace.write(&path).map_err(|error| error.to_string()));
        if written.is_ok() {
            super::regressions::keep(
                self.regressions.as_deref(),
                "level",
                &reduced.signature,
                &path,
            );
        }
        let record = ShrunkRecord {
            signature: reduced.signature.clone(),
            ops_before: reduced.original_len,
            failed_at: reduced.failed_at,
            ops_after: reduced.ops.len(),
            ops: reduced.ops.clone(),
            attempts: reduced.attempts,
            truncated: reduced.truncated,
            trace: written.as_ref().ok().map(|()| path.display().to_string()),
            trace_error: written.err(),
            replay: replay_command(&reduced.config, &path),
            regression_test: Some(regression_test_for(&reduced)),
        };
        Some(serde_json::to_value(record).expect("a shrunk record serializes"))
    }
}

/// The `config` of a level seed's record: its level shape, the key type and the number
/// of levels sharing the node pool.
fn configuration_record(config: &RunConfig) -> serde_json::Value {
    let mut record = serde_json::to_value(config.configuration()).expect("a shape serializes");
    record["key"] = config.key.name().into();
    // The level count says what `third_level` says, and more.
    if let Some(fields) = record.as_object_mut() {
        fields.remove("third_level");
    }
    record["levels"] = config.levels().into();
    record
}

/// What [`FuzzSeedJob`] records for a shrunk seed (the `result` of a `shrunk` finding).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShrunkRecord {
    /// The failure every shrinking step kept.
    pub signature: FailureSignature,
    /// The seed's op count.
    pub ops_before: usize,
    /// The index of the op the seed failed at.
    pub failed_at: usize,
    /// The minimal sequence's op count.
    pub ops_after: usize,
    /// The minimal sequence.
    pub ops: Vec<FuzzOp>,
    /// Runs made while shrinking.
    pub attempts: usize,
    /// Whether a limit stopped shrinking early.
    pub truncated: bool,
    /// The shrunk trace's path, if it was written.
    pub trace: Option<String>,
    /// Why the trace could not be written, if so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_error: Option<String>,
    /// The command that replays the shrunk trace.
    pub replay: String,
    /// The ready-to-paste `#[test]` that replays the shrunk ops
    /// ([`regression_test_for`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regression_test: Option<String>,
}

//! Shrinking a failed run: from a seed's thousands of ops to the few that still fail the
//! same check.
//!
//! [`reduce`] drives the generic delta debugger of [`shrink`](crate::support::shrink) over
//! [`FuzzOp`]s, with [`run_ops`] as the predicate:
//!
//! - a candidate *fails* only if [`run_ops`] fails with the same [`FailureSignature`] as
//!   the original failure (the same [`Check`], or a panic at the same place with the
//!   same message prefix): a different failure is a different bug;
//! - an op list that cannot apply ([`FailureCause::InvalidOp`]) does not fail, so only
//!   valid sequences are ever kept;
//! - ops simplify by lowering their count ([`simpler`]: 1, half, one less).
//!
//! The ops after the failing one never ran, so shrinking starts from the prefix that ends
//! with it. Everything is deterministic: the same failure shrinks to the same ops.

use core::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use crate::support::signature::message_prefix;

use crate::level::environment::Check;
use crate::level::ops::FuzzOp;
use crate::level::runner::{run_ops, FailureCause, RunConfig, RunFailure};
use crate::support::shrink::{shrink, ShrinkLimits, ShrinkStep};

/// What makes two level failures "the same" for shrinking: the same [`Check`], or a panic
/// at the same place with the same message prefix.
pub type FailureSignature = crate::support::signature::FailureSignature<Check>;

impl FailureSignature {
    /// The signature of `failure`, or `None` when it is not a failure of the level (an
    /// invalid op list or configuration).
    pub fn of(failure: &RunFailure) -> Option<FailureSignature> {
        match &failure.cause {
            FailureCause::Check(check) => Some(FailureSignature::Check { check: check.what }),
            FailureCause::Panic { message, location } => Some(FailureSignature::Panic {
                location: location.clone(),
                message_prefix: message_prefix(message),
            }),
            FailureCause::InvalidOp(_) | FailureCause::Config(_) => None,
        }
    }

    /// Whether `failure` has this signature.
    pub fn matches(&self, failure: &RunFailure) -> bool {
        FailureSignature::of(failure).as_ref() == Some(self)
    }
}

/// Simpler versions of `op`, simplest first: its count lowered to 1, to half, and by one
/// (ops without a count have none); a compaction's outputs lowered to 1; a released
/// snapshot's index lowered to 0 (the oldest).
pub fn simpler(op: &FuzzOp) -> Vec<FuzzOp> {
    let mut simpler = Vec::new();
    if let Some(count) = op.count() {
        let mut counts: Vec<u32> = vec![1, count / 2, count.saturating_sub(1)];
        counts.retain(|&c| c >= 1 && c < count);
        counts.dedup();
        simpler.extend(counts.into_iter().map(|c| op.with_count(c)));
    }
    match *op {
        FuzzOp::Compact { inputs, outputs } if outputs > 1 => {
            simpler.push(FuzzOp::Compact { inputs, outputs: 1 });
        }
        FuzzOp::ReleaseSnapshot { index } if index > 0 => {
            simpler.push(FuzzOp::ReleaseSnapshot { index: 0 });
        }
        _ => {}
    }
    simpler
}

/// Why a failure could not be shrunk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReduceError {
    /// The failure is not one of the level ([`FailureCause::InvalidOp`] or
    /// [`FailureCause::Config`]), or it happened before any op ran.
    NotShrinkable(String),
    /// Running the ops up to the failing one did not fail the same way (the run is not
    /// deterministic, or `ops` are not the failed run's ops).
    DoesNotReproduce(String),
}

impl fmt::Display for ReduceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReduceError::NotShrinkable(why) => write!(f, "cannot shrink: {why}"),
            ReduceError::DoesNotReproduce(why) => {
                write!(f, "cannot shrink: the failure does not reproduce: {why}")
            }
        }
    }
}

impl std::error::Error for ReduceError {}

/// A shrunk failure.
#[derive(Clone, Debug)]
pub struct Reduced {
    /// The configuration the ops run with (the failed run's, without op logging).
    pub config: RunConfig,
    /// The failure every kept candidate reproduced.
    pub signature: FailureSignature,
    /// The failed run's op count.
    pub original_len: usize,
    /// The index of the op the failed run failed at (shrinking starts from the ops up to
    /// it).
    pub failed_at: usize,
    /// The minimal failing sequence.
    pub ops: Vec<FuzzOp>,
    /// The failure of the minimal sequence.
    pub failure: RunFailure,
    /// Runs made while shrinking.
    pub attempts: usize,
    /// Whether a limit stopped shrinking early (the ops still fail, but may not be
    /// minimal).
    pub truncated: bool,
    /// Wall time spent shrinking.
    pub elapsed: Duration,
}

impl Reduced {
    /// `shrunk 2000 ops (failed at op 3) -> 2 ops in 31 runs (0.012s), still failing
    /// check table_count_visible`.
    pub fn summary(&self) -> String {
        format!(
            "shrunk {} ops (failed at op {}) -> {} ops in {} runs ({:.3}s){}, still failing {}",
            self.original_len,
            self.failed_at,
            self.ops.len(),
            self.attempts,
            self.elapsed.as_secs_f64(),
            if self.truncated {
                " (stopped at a limit)"
            } else {
                ""
            },
            self.signature
        )
    }
}

/// Shrinks the failed run of `ops` under `config` to a minimal op list that fails the
/// same way, calling `log` at every accepted step.
///
/// `failure` is what running `ops` (from a seed or explicitly) gave.
pub fn reduce(
    config: &RunConfig,
    ops: &[FuzzOp],
    failure: &RunFailure,
    limits: ShrinkLimits,
    mut log: impl FnMut(&ShrinkStep, &[FuzzOp]),
) -> Result<Reduced, ReduceError> {
    let signature = FailureSignature::of(failure)
        .ok_or_else(|| ReduceError::NotShrinkable(failure.cause.to_string()))?;
    let index = failure
        .op_index
        .ok_or_else(|| ReduceError::NotShrinkable("no op ran".into()))?;
    if index >= ops.len() {
        return Err(ReduceError::DoesNotReproduce(format!(
            "the failure is at op {index} of a {}-op list",
            ops.len()
        )));
    }
    let config = RunConfig {
        log_ops: false,
        ..config.clone()
    };
    let started = Instant::now();
    let fails = |candidate: &[FuzzOp]| match run_ops(&config, candidate) {
        Ok(_) => false,
        Err(failure) => signature.matches(&failure),
    };
    let prefix = ops[..=index].to_vec();
    if !fails(&prefix) {
        let found = match run_ops(&config, &prefix) {
            Ok(_) => "the ops pass".to_string(),
            Err(other) => other.cause.to_string(),
        };
        return Err(ReduceError::DoesNotReproduce(format!(
            "expected {signature}, got: {found}"
        )));
    }
    let shrunk = shrink(prefix, limits, fails, simpler, &mut log);
    let failure = run_ops(&config, &shrunk.ops).expect_err("the shrunk ops fail");
    debug_assert!(signature.matches(&failure));
    Ok(Reduced {
        config,
        signature,
        original_len: ops.len(),
        failed_at: index,
        ops: shrunk.ops,
        failure,
        attempts: shrunk.attempts + 2,
        truncated: shrunk.truncated,
        elapsed: started.elapsed(),
    })
}

/// One concise log line for a shrink step (`shrink: dropped 512 ops at 0 -> 1488 left`).
pub fn describe_step(step: &ShrinkStep, ops: Option<&[FuzzOp]>) -> String {
    match step {
        ShrinkStep::DroppedChunk {
            start,
            removed,
            len,
        } => format!("shrink: dropped {removed} op(s) at {start} -> {len} left"),
        ShrinkStep::Simplified { index } => match ops.and_then(|ops| ops.get(*index)) {
            Some(op) => format!("shrink: simplified op {index} to {op}"),
            None => format!("shrink: simplified op {index}"),
        },
        ShrinkStep::Round {
            round,
            len,
            attempts,
        } => format!("shrink: round {round} done: {len} ops, {attempts} runs"),
    }
}

/// The default file of a shrunk trace: `manifest-level-fuzz-<seed>-shrunk.jsonl`.
pub fn default_shrunk_trace_path(seed: u64) -> PathBuf {
    PathBuf::from(format!("manifest-level-fuzz-{seed}-shrunk.jsonl"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::level::runner::run;

    #[test]
    fn simpler_counts() {
        assert_eq!(
            simpler(&FuzzOp::InsertTables { count: 10 }),
            [1, 5, 9].map(|count| FuzzOp::InsertTables { count })
        );
        assert_eq!(
            simpler(&FuzzOp::RemoveVisible { count: 3 }),
            [1, 2].map(|count| FuzzOp::RemoveVisible { count })
        );
        assert_eq!(
            simpler(&FuzzOp::UpdateTables { count: 2 }),
            [FuzzOp::UpdateTables { count: 1 }]
        );
        assert!(simpler(&FuzzOp::UpdateTables { count: 1 }).is_empty());
        assert!(simpler(&FuzzOp::TakeSnapshot).is_empty());
        assert_eq!(
            simpler(&FuzzOp::Compact {
                inputs: 4,
                outputs: 3
            }),
            [(1, 1), (2, 2), (3, 3), (4, 1)]
                .map(|(inputs, outputs)| FuzzOp::Compact { inputs, outputs })
        );
        assert_eq!(
            simpler(&FuzzOp::ReleaseSnapshot { index: 3 }),
            [FuzzOp::ReleaseSnapshot { index: 0 }]
        );
        assert!(simpler(&FuzzOp::ReleaseSnapshot { index: 0 }).is_empty());
        assert!(simpler(&FuzzOp::Reset).is_empty());
    }

    #[test]
    fn message_prefixes() {
        assert_eq!(
            message_prefix("index out of bounds: the len is 3 but the index is 5"),
            "index out of bounds: the len is"
        );
        assert_eq!(
            message_prefix("assertion `left == right` failed\n  left: 1\n right: 2"),
            "assertion `left == right` failed"
        );
        assert_eq!(message_prefix("12 things"), "");
    }

    #[test]
    fn passing_and_invalid_runs_are_not_shrinkable() {
        let config = RunConfig::new(1);
        let invalid = run_ops(
            &config,
            &[FuzzOp::TakeSnapshot, FuzzOp::RemoveVisible { count: 1 }],
        )
        .unwrap_err();
        assert_eq!(FailureSignature::of(&invalid), None);
        let error = reduce(&config, &[], &invalid, ShrinkLimits::default(), |_, _| {}).unwrap_err();
        assert!(matches!(error, ReduceError::NotShrinkable(_)), "{error}");
        // A real run passes: nothing to shrink (the signature never matches).
        assert!(run(&RunConfig {
            events_max: Some(100),
            ..config
        })
        .is_ok());
    }

    #[test]
    fn signatures_display() {
        let check = FailureSignature::Check {
            check: Check::KeyRangeLatest,
        };
        assert_eq!(check.to_string(), "check key_range_latest");
        let json = serde_json::to_string(&check).unwrap();
        assert_eq!(json, r#"{"kind":"check","check":"key_range_latest"}"#);
        let panic = FailureSignature::Panic {
            location: Some("src/a.rs:1:2".into()),
            message_prefix: "boom".into(),
        };
        assert_eq!(panic.to_string(), "panic at src/a.rs:1:2: boom");
        let back: FailureSignature =
            serde_json::from_str(&serde_json::to_string(&panic).unwrap()).unwrap();
        assert_eq!(back, panic);
    }
}

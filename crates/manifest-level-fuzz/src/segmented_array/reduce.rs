//! Shrinking a failed segmented-array run to a minimal op list that fails the same check.

use super::ops::{Op, Position};
use super::report::Failure;
use super::runner::run_ops;
use super::trace::Trace;
use crate::support::signature::FailureSignature;

/// What makes two failures "the same" for shrinking ([`Failure::signature`]).
pub fn failure_signature(failure: &Failure) -> FailureSignature<String> {
    failure.signature()
}

/// Simpler variants of one op, simplest first (for shrinking): smaller counts, then a
/// zero spread or pattern, then plainer positions (the ends) for inserts and removes.
pub(super) fn simpler_ops(op: &Op) -> Vec<Op> {
    let mut simpler = Vec::new();
    if let Some(count) = shrinkable_count(op) {
        for candidate in [1, count / 2, count - count / 4] {
            let variant = with_count(*op, candidate);
            if candidate >= 1 && candidate < count && !simpler.contains(&variant) {
                simpler.push(variant);
            }
        }
    }
    match *op {
        Op::InsertSorted { count, key, spread } if spread > 0 => {
            simpler.push(Op::InsertSorted {
                count,
                key,
                spread: 0,
            });
        }
        Op::Iterate {
            start,
            len,
            pattern,
        } if pattern != 0 => {
            simpler.push(Op::Iterate {
                start,
                len,
                pattern: 0,
            });
        }
        _ => {}
    }
    if let Some(at) = plain_position(op) {
        for plain in [Position::Start, Position::End] {
            if plain != at {
                simpler.push(with_position(*op, plain));
            }
        }
    }
    simpler
}

/// The count shrinking may lower (an iteration's length counts too).
fn shrinkable_count(op: &Op) -> Option<u16> {
    match *op {
        Op::InsertSlice { count, .. }
        | Op::RemoveRange { count, .. }
        | Op::InsertSorted { count, .. }
        | Op::Cursors { count, .. }
        | Op::Sibling { count, .. } => Some(count),
        Op::Iterate { len, .. } => Some(len),
        Op::Insert { .. } | Op::Remove { .. } | Op::LowerBound { .. } | Op::Clear => None,
    }
}

/// `op` with its [`shrinkable_count`] replaced by `count`.
fn with_count(mut op: Op, new: u16) -> Op {
    match &mut op {
        Op::InsertSlice { count, .. }
        | Op::RemoveRange { count, .. }
        | Op::InsertSorted { count, .. }
        | Op::Cursors { count, .. }
        | Op::Sibling { count, .. }
        | Op::Iterate { len: count, .. } => *count = new,
        Op::Insert { .. } | Op::Remove { .. } | Op::LowerBound { .. } | Op::Clear => {}
    }
    op
}

/// The position shrinking may move to an end: that of an insert or a removal.
fn plain_position(op: &Op) -> Option<Position> {
    match *op {
        Op::Insert { at }
        | Op::Remove { at }
        | Op::InsertSlice { at, .. }
        | Op::RemoveRange { at, .. } => Some(at),
        _ => None,
    }
}

/// `op` with its [`plain_position`] replaced by `new`.
fn with_position(mut op: Op, new: Position) -> Op {
    if let Op::Insert { at }
    | Op::Remove { at }
    | Op::InsertSlice { at, .. }
    | Op::RemoveRange { at, .. } = &mut op
    {
        *at = new;
    }
    op
}

/// Shrinks a failure's op list (deterministic delta debugging, [`crate::support::shrink::shrink`])
/// to a locally minimal one that still fails the same check ([`failure_signature`]), and
/// returns the shrunk trace with its failure. Every op list is valid, so every candidate
/// is a real run.
pub fn shrink_failure(
    failure: &Failure,
    limits: crate::support::shrink::ShrinkLimits,
) -> (Trace, Failure) {
    let setup = failure.trace.setup();
    let faults = failure.trace.faults();
    let signature = failure_signature(failure);
    let fails = |ops: &[Op]| match run_ops(setup, ops, faults) {
        Err(found) => failure_signature(&found) == signature,
        Ok(_) => false,
    };
    let shrunk = crate::support::shrink::shrink(
        failure.trace.ops.clone(),
        limits,
        fails,
        simpler_ops,
        |_, _| {},
    );
    let shrunk_failure = match run_ops(setup, &shrunk.ops, faults) {
        Err(found) => Failure {
            seed: failure.seed,
            ..found
        },
        Ok(_) => unreachable!("shrinking keeps a failing sequence"),
    };
    let trace = Trace::of(setup, faults, shrunk.ops).with_failure(Some(signature));
    (trace, shrunk_failure)
}

/// Where the CLI writes the shrunk trace of a failing `seed` (the current directory).
pub fn default_shrunk_trace_path(seed: Option<u64>) -> std::path::PathBuf {
    match seed {
        Some(seed) => format!("segmented-array-fuzz-{seed}-shrunk.jsonl").into(),
        None => "segmented-array-fuzz-replay-shrunk.jsonl".into(),
    }
}

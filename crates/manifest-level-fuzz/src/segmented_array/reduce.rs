//! Shrinking a failed segmented-array run to a minimal op list that fails the same check.

use super::ops::{Op, Position};
use super::runner::{run_ops, Failure, Faults, Trace};

/// What makes two failures "the same" for shrinking: the failed check, without the
/// details after a `:` (an element position, which moves as ops are dropped).
pub fn failure_signature(failure: &Failure) -> &str {
    failure.check.split(':').next().unwrap_or(&failure.check)
}

/// Simpler variants of one op, simplest first (for shrinking): smaller counts, plainer
/// positions, narrower key windows.
pub(super) fn simpler_ops(op: &Op) -> Vec<Op> {
    fn smaller(count: u16) -> Vec<u16> {
        let mut counts = Vec::new();
        for candidate in [1, count / 2, count - count / 4] {
            if candidate >= 1 && candidate < count && !counts.contains(&candidate) {
                counts.push(candidate);
            }
        }
        counts
    }
    fn plainer(at: Position) -> Vec<Position> {
        [Position::Start, Position::End]
            .into_iter()
            .filter(|&plain| plain != at)
            .collect()
    }
    let mut simpler = Vec::new();
    match *op {
        Op::Insert { at } | Op::Remove { at } => {
            for at in plainer(at) {
                simpler.push(match op {
                    Op::Insert { .. } => Op::Insert { at },
                    _ => Op::Remove { at },
                });
            }
        }
        Op::InsertSlice { at, count } => {
            simpler.extend(
                smaller(count)
                    .into_iter()
                    .map(|count| Op::InsertSlice { at, count }),
            );
            simpler.extend(
                plainer(at)
                    .into_iter()
                    .map(|at| Op::InsertSlice { at, count }),
            );
        }
        Op::RemoveRange { at, count } => {
            simpler.extend(
                smaller(count)
                    .into_iter()
                    .map(|count| Op::RemoveRange { at, count }),
            );
            simpler.extend(
                plainer(at)
                    .into_iter()
                    .map(|at| Op::RemoveRange { at, count }),
            );
        }
        Op::InsertSorted { count, key, spread } => {
            simpler.extend(smaller(count).into_iter().map(|count| Op::InsertSorted {
                count,
                key,
                spread,
            }));
            if spread > 0 {
                simpler.push(Op::InsertSorted {
                    count,
                    key,
                    spread: 0,
                });
            }
        }
        Op::Cursors { at, count } => {
            simpler.extend(
                smaller(count)
                    .into_iter()
                    .map(|count| Op::Cursors { at, count }),
            );
        }
        Op::Iterate {
            start,
            len,
            pattern,
        } => {
            simpler.extend(smaller(len).into_iter().map(|len| Op::Iterate {
                start,
                len,
                pattern,
            }));
            if pattern != 0 {
                simpler.push(Op::Iterate {
                    start,
                    len,
                    pattern: 0,
                });
            }
        }
        Op::Sibling { grow, count } => {
            simpler.extend(
                smaller(count)
                    .into_iter()
                    .map(|count| Op::Sibling { grow, count }),
            );
        }
        Op::LowerBound { .. } | Op::Clear => {}
    }
    simpler
}

/// Shrinks a failure's op list (deterministic delta debugging, [`crate::support::shrink::shrink`])
/// to a locally minimal one that still fails the same check ([`failure_signature`]), and
/// returns the shrunk trace with its failure. Every op list is valid, so every candidate
/// is a real run.
pub fn shrink_failure(
    failure: &Failure,
    faults: Faults,
    limits: crate::support::shrink::ShrinkLimits,
) -> (Trace, Failure) {
    let setup = failure.trace.setup;
    let signature = failure_signature(failure).to_string();
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
    (
        Trace {
            setup,
            ops: shrunk.ops,
        },
        shrunk_failure,
    )
}

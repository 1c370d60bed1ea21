//! The determinism check (`--check-determinism`): a seed run twice in one process, from a
//! fresh start each time, must give the same ops, the same final state and the same
//! outcome.
//!
//! Everything a run does is meant to follow from its configuration: a hash map's
//! iteration order, an uninitialized read, a clock or an address that leaks into a
//! decision would make a failure impossible to reproduce from its seed. The check plans
//! the ops twice and compares them op by op, then runs them twice and compares the
//! outcomes: for a passing run every field of the report but the wall time (the digest
//! covers every table and counter), for a failing one the whole failure (op index, op,
//! cause).

// The outcomes compared carry whole `RunFailure`s (config included), once per check, on
// the cold path: their size does not matter.
#![allow(clippy::result_large_err)]

use core::fmt;

use crate::level::runner::{self, RunConfig, RunFailure, RunReport};

/// How two runs of one seed differed.
#[derive(Clone, Debug, PartialEq)]
pub enum Nondeterminism {
    /// The two plans differ: at `index` (or in length, when `index` is their common
    /// length).
    Ops {
        /// The first op index where they differ.
        index: usize,
        /// The first plan's op there, if any.
        first: Option<String>,
        /// The second plan's op there, if any.
        second: Option<String>,
    },
    /// The two runs ended differently.
    Outcome {
        /// The first run's outcome.
        first: String,
        /// The second run's outcome.
        second: String,
    },
}

impl fmt::Display for Nondeterminism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Nondeterminism::Ops {
                index,
                first,
                second,
            } => write!(
                f,
                "nondeterministic: the two plans differ at op {index}: {} then {}",
                first.as_deref().unwrap_or("(end)"),
                second.as_deref().unwrap_or("(end)")
            ),
            Nondeterminism::Outcome { first, second } => write!(
                f,
                "nondeterministic: the same ops ended differently:\n  first:  {first}\n  second: {second}"
            ),
        }
    }
}

impl std::error::Error for Nondeterminism {}

/// Runs `config`'s seed twice from a fresh start and compares plans and outcomes; the
/// (first) outcome when both agree.
///
/// # Panics
///
/// If the config is invalid (see [`RunConfig::validate`]).
pub fn check_determinism(
    config: &RunConfig,
) -> Result<Result<RunReport, RunFailure>, Nondeterminism> {
    let first_plan = runner::plan(config);
    let second_plan = runner::plan(config);
    if let Some(index) = first_difference(&first_plan.ops, &second_plan.ops) {
        let describe = |ops: &[crate::level::ops::FuzzOp]| ops.get(index).map(|op| op.to_string());
        return Err(Nondeterminism::Ops {
            index,
            first: describe(&first_plan.ops),
            second: describe(&second_plan.ops),
        });
    }
    let first = runner::run_plan(config, &first_plan);
    let second = runner::run_plan(config, &second_plan);
    let comparable = |outcome: &Result<RunReport, RunFailure>| match outcome {
        Ok(report) => Ok(RunReport {
            elapsed: core::time::Duration::ZERO,
            ..report.clone()
        }),
        Err(failure) => Err(failure.clone()),
    };
    if comparable(&first) != comparable(&second) {
        let describe = |outcome: &Result<RunReport, RunFailure>| match outcome {
            Ok(report) => report.to_string(),
            Err(failure) => failure.to_string().replace('\n', " | "),
        };
        return Err(Nondeterminism::Outcome {
            first: describe(&first),
            second: describe(&second),
        });
    }
    Ok(first)
}

/// The first index where `a` and `b` differ (their common length when one is a prefix of
/// the other), or `None` when they are equal.
fn first_difference<T: PartialEq>(a: &[T], b: &[T]) -> Option<usize> {
    let common = a.iter().zip(b).position(|(x, y)| x != y);
    match common {
        Some(index) => Some(index),
        None if a.len() != b.len() => Some(a.len().min(b.len())),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_difference_finds_changes_and_length_mismatches() {
        assert_eq!(first_difference(&[1, 2, 3], &[1, 2, 3]), None);
        assert_eq!(first_difference(&[1, 2, 3], &[1, 5, 3]), Some(1));
        assert_eq!(first_difference(&[1, 2], &[1, 2, 3]), Some(2));
    }

    #[test]
    fn a_seed_agrees_with_itself() {
        let config = RunConfig {
            events_max: Some(500),
            ..RunConfig::deep(3)
        };
        let report = check_determinism(&config).unwrap().unwrap();
        assert_eq!(report.digest, runner::run(&config).unwrap().digest);
    }
}

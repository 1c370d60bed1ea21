//! What a run gave: a [`Report`] of a passing run, or the [`Failure`] of a failing one.

use std::fmt;

use super::ops::Op;
use super::setup::Setup;
use super::trace::Trace;
use crate::support::panic::CaughtPanic;
use crate::support::signature::FailureSignature;

/// What a passing run did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The seed, for seed runs.
    pub seed: Option<u64>,
    /// The setup the run used (normalized).
    pub setup: Setup,
    /// Ops run.
    pub ops: u64,
    /// Ops run per kind, by [`Op::kind_index`].
    pub op_counts: [u64; Op::KINDS],
    /// Elements inserted into the main array.
    pub inserted: u64,
    /// Elements removed from the main array (including by `clear`).
    pub removed: u64,
    /// Operations that returned [`Error::CapacityExhausted`], as expected.
    ///
    /// [`Error::CapacityExhausted`]: manifest_level::Error::CapacityExhausted
    pub capacity_errors: u64,
    /// Operations that returned [`Error::NodePoolExhausted`], as allowed.
    ///
    /// [`Error::NodePoolExhausted`]: manifest_level::Error::NodePoolExhausted
    pub pool_errors: u64,
    /// Operations that returned [`Error::IndexOutOfBounds`], as expected.
    ///
    /// [`Error::IndexOutOfBounds`]: manifest_level::Error::IndexOutOfBounds
    pub bounds_errors: u64,
    /// `lower_bound` checks against the model.
    pub searches: u64,
    /// The largest length the array reached.
    pub len_max: u32,
    /// The largest node count the array reached.
    pub node_count_max: u32,
    /// The array's length at the end.
    pub len_final: u32,
    /// Every op, when [`SegmentedArrayFuzzConfig::record`] was set.
    ///
    /// [`SegmentedArrayFuzzConfig::record`]: super::SegmentedArrayFuzzConfig::record
    pub trace: Option<Trace>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(seed) = self.seed {
            write!(f, "seed {seed}: ")?;
        }
        writeln!(f, "{} ops passed on {}", self.ops, self.setup)?;
        write!(f, "  ops:")?;
        for (name, count) in Op::KIND_NAMES.iter().zip(self.op_counts) {
            if count > 0 {
                write!(f, " {name} {count}")?;
            }
        }
        writeln!(f)?;
        write!(
            f,
            "  {} inserted, {} removed, {} searches; length max {}, final {}; nodes max {}; \
             errors as expected: {} capacity, {} pool, {} bounds",
            self.inserted,
            self.removed,
            self.searches,
            self.len_max,
            self.len_final,
            self.node_count_max,
            self.capacity_errors,
            self.pool_errors,
            self.bounds_errors,
        )
    }
}

/// A failed check: where, what was expected, what was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The seed, for seed runs.
    pub seed: Option<u64>,
    /// The setup the run used (normalized).
    pub setup: Setup,
    /// Index of the failing op (0-based).
    pub op_index: u64,
    /// The failing op, with what its positions resolved to.
    pub op: String,
    /// Which check failed (`no panic` for a panic).
    pub check: String,
    /// Where in the check, when it compares sequences (`length`, `element 3`).
    pub detail: Option<String>,
    /// What the model expected.
    pub expected: String,
    /// What the array did.
    pub found: String,
    /// The panic, when the check is `no panic`.
    pub panic: Option<CaughtPanic>,
    /// The ops up to and including the failing one: replay with [`run_ops`].
    ///
    /// [`run_ops`]: crate::segmented_array::run_ops
    pub trace: Trace,
}

impl Failure {
    /// What makes two failures the same bug: the check (without its [`Failure::detail`],
    /// which moves as ops are dropped), or the panic's place and message prefix.
    pub fn signature(&self) -> FailureSignature<String> {
        match &self.panic {
            Some(panic) => FailureSignature::of_panic(panic),
            None => FailureSignature::Check {
                check: self.check.clone(),
            },
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "segmented array fuzz failure")?;
        if let Some(seed) = self.seed {
            write!(f, ", seed {seed}")?;
        }
        writeln!(f, ", op {}: {}", self.op_index, self.op)?;
        writeln!(f, "  setup: {}", self.setup)?;
        match &self.detail {
            Some(detail) => writeln!(f, "  check: {}: {detail}", self.check)?,
            None => writeln!(f, "  check: {}", self.check)?,
        }
        writeln!(f, "  expected: {}", self.expected)?;
        write!(f, "  found:    {}", self.found)
    }
}

impl std::error::Error for Failure {}

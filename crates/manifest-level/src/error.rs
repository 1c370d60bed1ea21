//! The one error type of the crate: every mistake a caller can make.

use thiserror::Error;

/// A caller's mistake. Every operation that returns it has changed nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Error)]
#[non_exhaustive]
pub enum Error {
    /// The node pool has no free node left for the operation.
    #[error("node pool exhausted: {needed} node(s) needed, {free} free")]
    NodePoolExhausted {
        /// Nodes the operation needed.
        needed: u32,
        /// Nodes free in the pool.
        free: u32,
    },
    /// The level (or array) already holds as many elements as it was built for.
    #[error("capacity exhausted: already holding {capacity} element(s)")]
    CapacityExhausted {
        /// The capacity fixed at construction.
        capacity: u32,
    },
    /// A table that is not well formed.
    #[error("invalid table: {0}")]
    InvalidTable(&'static str),
    /// A key range whose `key_min > key_max`.
    #[error("invalid key range: key_min > key_max")]
    InvalidKeyRange,
    /// A snapshot argument out of its domain.
    #[error("invalid snapshot {snapshot}: {reason}")]
    InvalidSnapshot {
        /// The snapshot given.
        snapshot: u64,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The table to remove (or look up through a reference) is not in the level.
    #[error("table not found in the level")]
    TableNotFound,
    /// `set_snapshot_max` on a table whose `snapshot_max` is already set.
    #[error("table already retired at snapshot {snapshot_max}")]
    TableAlreadyRetired {
        /// The table's current `snapshot_max`.
        snapshot_max: u64,
    },
    /// A [`TableRef`](crate::TableRef) taken before the level last changed shape, or
    /// taken from another level.
    #[error("stale table reference (generation {reference}, level at {level})")]
    StaleReference {
        /// The generation the reference carries.
        reference: u32,
        /// The level's current generation.
        level: u32,
    },
    /// A construction parameter or query argument out of its domain.
    #[error("invalid argument: {0}")]
    InvalidArgument(&'static str),
    /// An index past the end of an array.
    #[error("index {index} out of bounds (length {len})")]
    IndexOutOfBounds {
        /// The index given.
        index: u32,
        /// The array's length.
        len: u32,
    },
}

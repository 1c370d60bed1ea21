//! The op model: plain data, total (any op is valid in any state), so seed runs, traces,
//! shrunk reproducers and libFuzzer inputs all run through the same code.

use serde::{Deserialize, Serialize};

/// Where an op acts, resolved against the array when the op runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    /// Index 0.
    Start,
    /// Index `len` (one past the last element).
    End,
    /// Index `i % (len + 1)`.
    Index(u32),
    /// The first element of node `node % node_count`, moved by `delta` and clamped to
    /// `0..=len` (0 when the array is empty).
    Boundary {
        /// The node, modulo the node count.
        node: u16,
        /// Offset from the node's first element.
        delta: i8,
    },
    /// Index `len + 1 + n`: out of bounds, for the error paths.
    Past(u8),
}

/// One step of a run. Every op is valid in every state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// One [`SegmentedArray::insert`] at `at` (in sorted mode with a key that keeps the
    /// order: the key of the element at `at`, else of the last one).
    ///
    /// [`SegmentedArray::insert`]: manifest_level::SegmentedArray::insert
    Insert {
        /// Where.
        at: Position,
    },
    /// One [`SegmentedArray::insert_slice`] of `count` new elements at `at` (in sorted mode,
    /// all with the key [`Op::Insert`] would use).
    ///
    /// [`SegmentedArray::insert_slice`]: manifest_level::SegmentedArray::insert_slice
    InsertSlice {
        /// Where.
        at: Position,
        /// How many.
        count: u16,
    },
    /// `count` calls of [`SegmentedArray::insert_sorted`], keys in `key..=key + spread`
    /// (clamped to the key domain). In positional mode the elements are appended instead.
    ///
    /// [`SegmentedArray::insert_sorted`]: manifest_level::SegmentedArray::insert_sorted
    InsertSorted {
        /// How many.
        count: u16,
        /// The smallest key.
        key: u64,
        /// Width of the key window; 0 inserts one key `count` times.
        spread: u32,
    },
    /// One [`SegmentedArray::remove`](manifest_level::SegmentedArray::remove) at `at`.
    Remove {
        /// Where.
        at: Position,
    },
    /// One [`SegmentedArray::remove_range`] of `count` elements from `at`.
    ///
    /// [`SegmentedArray::remove_range`]: manifest_level::SegmentedArray::remove_range
    RemoveRange {
        /// Where.
        at: Position,
        /// How many.
        count: u16,
    },
    /// [`SegmentedArray::lower_bound`] of `key` against the model's `partition_point`
    /// (sorted mode); in positional mode, `get(key % (len + 1))` against the model.
    ///
    /// [`SegmentedArray::lower_bound`]: manifest_level::SegmentedArray::lower_bound
    LowerBound {
        /// The domain key.
        key: u64,
    },
    /// Index → cursor → index round trips, `element_at` and `get`, for `count + 1`
    /// consecutive indexes from `at` (up to `len`).
    Cursors {
        /// The first index.
        at: Position,
        /// How many more.
        count: u16,
    },
    /// [`SegmentedArray::range`] over `len` elements from `start`, stepping from the front
    /// or the back by the bits of `pattern`.
    ///
    /// [`SegmentedArray::range`]: manifest_level::SegmentedArray::range
    Iterate {
        /// The first index.
        start: Position,
        /// The range's length (clamped to the end).
        len: u16,
        /// Bit `i % 64` set: step `i` takes from the back.
        pattern: u64,
    },
    /// On the second array of the pool (if the setup has one): insert `count` elements in
    /// its middle (`grow`) or remove up to `count` from its front.
    Sibling {
        /// Insert or remove.
        grow: bool,
        /// How many.
        count: u16,
    },
    /// [`SegmentedArray::clear`](manifest_level::SegmentedArray::clear).
    Clear,
}

impl Op {
    /// Number of op variants.
    pub const KINDS: usize = 10;

    /// The op's variant index (`0..KINDS`), in declaration order.
    pub fn kind_index(&self) -> usize {
        match self {
            Op::Insert { .. } => 0,
            Op::InsertSlice { .. } => 1,
            Op::InsertSorted { .. } => 2,
            Op::Remove { .. } => 3,
            Op::RemoveRange { .. } => 4,
            Op::LowerBound { .. } => 5,
            Op::Cursors { .. } => 6,
            Op::Iterate { .. } => 7,
            Op::Sibling { .. } => 8,
            Op::Clear => 9,
        }
    }

    /// The names of the op variants, by [`Op::kind_index`].
    pub const KIND_NAMES: [&'static str; Op::KINDS] = [
        "insert",
        "insert_slice",
        "insert_sorted",
        "remove",
        "remove_range",
        "lower_bound",
        "cursors",
        "iterate",
        "sibling",
        "clear",
    ];
}

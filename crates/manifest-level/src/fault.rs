//! Deliberate bugs a level can be told to have, so tests can prove the fuzzer finds them.
//!
//! Only compiled with the `fault-injection` feature; never enable it in production.

/// One planted bug. A level has at most one active at a time
/// ([`ManifestLevel::inject_fault`](crate::ManifestLevel::inject_fault)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fault {
    /// `set_snapshot_max` leaves `table_count_visible` and `value_count_visible` unchanged.
    RetireKeepsCounters,
    /// `remove_table` removes the table after the one asked for, when there is one.
    RemoveTakesNeighbour,
    /// Descending iteration stops before reaching the first node of the tables array.
    DescendingSkipsFirstNode,
    /// `key_range_latest` never shrinks on retire or remove.
    KeyRangeNotShrunk,
    /// The key search skips one element when its answer is the first of a node.
    SearchOffByOneAtNodeBoundary,
    /// `remove_table` forgets to subtract the table's `value_count`.
    RemoveKeepsValueCount,
    /// `next_table` with `key_exclusive` returns a table touching the exclusive key.
    NextTableInclusive,
    /// `table_with_least_overlap` breaks ties toward the larger key.
    LeastOverlapPrefersLast,
    /// `remove_table` does not bump the generation, so stale references are accepted.
    RemoveKeepsGeneration,
    /// `insert_table` of a retired table counts it as visible to latest (counters and
    /// `key_range_latest` grow), as if every inserted table were live.
    RetiredInsertCountsVisible,
}

impl Fault {
    /// Every fault, in declaration order.
    pub const ALL: [Fault; 10] = [
        Fault::RetireKeepsCounters,
        Fault::RemoveTakesNeighbour,
        Fault::DescendingSkipsFirstNode,
        Fault::KeyRangeNotShrunk,
        Fault::SearchOffByOneAtNodeBoundary,
        Fault::RemoveKeepsValueCount,
        Fault::NextTableInclusive,
        Fault::LeastOverlapPrefersLast,
        Fault::RemoveKeepsGeneration,
        Fault::RetiredInsertCountsVisible,
    ];
}

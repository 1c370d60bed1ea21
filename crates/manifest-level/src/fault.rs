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
    /// A node of index block 1 or later (node 128 on) that grows or shrinks in place (an
    /// insert or remove without a split or merge, or a borrow) shifts the starts of the
    /// later index blocks but not the offsets of the later nodes of its own block (the
    /// range of offsets to shift ends where the first block ends, so it is empty), so
    /// those nodes' starts go stale: absolute indexes, references and `get` then name the
    /// wrong tables there until a split or merge before them reindexes. Only matters past
    /// 128 nodes.
    IndexStalePastFirstBlock,
    /// A split or merge refreshes the group fences only of groups it creates (as if they
    /// were append-only), so the existing groups after it keep their old fences although
    /// the nodes shifted under them (each group's first node is now another one): a search
    /// for a key between a stale and the true fence goes through the wrong group and lands
    /// on the wrong table. Only matters past 512 nodes (one group before that).
    GroupFencesStaleAfterShift,
    /// A merge of a node into the one before it drops the merged node from the array
    /// without releasing it to the pool: the pool's acquired count drifts above the
    /// levels' node count by one per merge (the last node, emptied, is still released).
    MergeLeaksNode,
    /// The invisible visibility class reads `snapshot_max` as exclusive: a table retired at
    /// exactly one of the query's snapshots counts as invisible to it, although that
    /// snapshot still sees it (the visible class is unaffected).
    InvisibleSnapshotMaxExclusive,
    /// An insert refused with [`Error::NodePoolExhausted`](crate::Error::NodePoolExhausted)
    /// has already counted its table in `table_count_visible` and `value_count_visible`:
    /// a half-applied change behind a typed error. Only matters when a pool runs dry.
    ExhaustedInsertCountsTable,
    /// `key_range_contains` for latest compares only the upper 64 bits of keys wider
    /// than 64 bits: a `u128` key that shares its high half with an edge of
    /// `key_range_latest` but lies outside it counts as inside. `u64` keys are unaffected.
    KeyRangeContainsHighHalf,
}

impl Fault {
    /// Every fault, in declaration order.
    pub const ALL: [Fault; 16] = [
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
        Fault::IndexStalePastFirstBlock,
        Fault::GroupFencesStaleAfterShift,
        Fault::MergeLeaksNode,
        Fault::InvisibleSnapshotMaxExclusive,
        Fault::ExhaustedInsertCountsTable,
        Fault::KeyRangeContainsHighHalf,
    ];
}

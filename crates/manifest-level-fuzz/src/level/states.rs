//! State coverage: named events a run reached, counted ("sometimes" assertions).
//!
//! A check that passes says nothing about the states it passed in. These counters say
//! which of the level's interesting states a run actually visited: a campaign sums them
//! into "seeds that reached each state", and `campaign --require-states` fails when some
//! state was never reached, so a generator change that quietly stops reaching, say,
//! levels of more than 512 nodes shows at once.
//!
//! Most events are observed from the outside: the level's public counters (node count,
//! length, capacity) around each op, its node layout (`node_start`, `node_tables`) where
//! an op's answers sit, and the model's own answers. The layout changes that leave no
//! trace in the contents (a split, a merge, a borrow, packing) come from the level's own
//! [`LayoutEvents`] counters, taken around each op. These are coverage signals only: no
//! check takes an expected answer from them.
//!
//! [`LayoutEvents`]: manifest_level::LayoutEvents

use core::fmt;

#[cfg(doc)]
use manifest_level::LayoutEvents;

/// One event the environment counts (see [`State::ALL`] for the list).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    /// An op that adds tables (insert, compaction) made the level take a new node.
    NodeAcquired,
    /// An op that removes tables (remove, compaction) made the level give a node back
    /// (a merge or an emptied node).
    NodeReleased,
    /// The level first grew past 128 nodes (the node-start index's first block).
    NodesPast128,
    /// An op changed or searched a level of more than 512 nodes (more than one group).
    OpPast512Nodes,
    /// The level held its capacity.
    LevelFull,
    /// A removal emptied a non-empty level.
    LevelEmptiedByRemoval,
    /// [`FuzzOp::Reset`](crate::level::ops::FuzzOp::Reset) of a level of several nodes.
    ResetMultiNode,
    /// A compaction that left the level with fewer nodes.
    CompactionReleasedNode,
    /// `table_with_least_overlap` where two tables or more share the least overlap.
    LeastOverlapTie,
    /// `table_with_least_overlap` whose answer overlaps nothing (the search may stop).
    LeastOverlapZero,
    /// The level held 4,096 tables or more.
    TablesPast4096,
    /// [`FuzzOp::Rebuild`](crate::level::ops::FuzzOp::Rebuild) of a level of several nodes.
    RebuildMultiNode,
    /// A retired table inserted (a rebuild's replay of a retired table).
    RetiredTableInserted,
    /// The run's level has `u128` keys (counted once per run; see
    /// [`crate::level::key`]).
    U128Keys,
    /// An insert found the node pool exhausted (the ballast held the node it needed):
    /// the typed error changed nothing, and the insert went through once the ballast let
    /// go (see [`crate::level::environment::ballast`]).
    PoolExhausted,
    /// A full node split in two ([`LayoutEvents::splits`]).
    NodeSplit,
    /// A node under half full took in its whole next node ([`LayoutEvents::merges`]).
    NodeMerged,
    /// A node under half full borrowed from its next node
    /// ([`LayoutEvents::borrows_from_next`]). The array never borrows from the previous
    /// node: a node under half full is always rebalanced with the one after it, and the
    /// last node may stay under half.
    BorrowedFromNext,
    /// The last node lost its last table and went back to the pool
    /// ([`LayoutEvents::last_node_releases`]).
    LastNodeReleased,
    /// `compact` packed tables into earlier nodes ([`LayoutEvents::pack_elements_moved`]).
    PackMovedTables,
    /// `compact` emptied nodes and gave them back ([`LayoutEvents::pack_nodes_released`]).
    PackReleasedNode,
    /// `compact` swapped nodes into pool order ([`LayoutEvents::defragment_swaps`]).
    DefragmentSwappedNodes,
    /// An inserted table sits at a node's edge, and the table across the edge has the same
    /// `key_max`: a run of equal `key_max` crosses a node boundary, where a key search
    /// must look past the node its fences pick.
    EqualKeyMaxAcrossNodes,
    /// Two consecutive answers of a `next_table` walk lie in different nodes.
    NextTableCrossedNode,
    /// Levels A, B and a third level C held nodes of their one pool at once (a run with
    /// `--levels 3`).
    ThreeLevelsOnOnePool,
}

/// How many [`State`]s there are.
pub const STATE_COUNT: usize = State::ALL.len();

impl State {
    /// Every state, in declaration order.
    pub const ALL: [State; 25] = [
        State::NodeAcquired,
        State::NodeReleased,
        State::NodesPast128,
        State::OpPast512Nodes,
        State::LevelFull,
        State::LevelEmptiedByRemoval,
        State::ResetMultiNode,
        State::CompactionReleasedNode,
        State::LeastOverlapTie,
        State::LeastOverlapZero,
        State::TablesPast4096,
        State::RebuildMultiNode,
        State::RetiredTableInserted,
        State::U128Keys,
        State::PoolExhausted,
        State::NodeSplit,
        State::NodeMerged,
        State::BorrowedFromNext,
        State::LastNodeReleased,
        State::PackMovedTables,
        State::PackReleasedNode,
        State::DefragmentSwappedNodes,
        State::EqualKeyMaxAcrossNodes,
        State::NextTableCrossedNode,
        State::ThreeLevelsOnOnePool,
    ];

    /// Every state's name, in [`State::ALL`] order.
    pub const NAMES: [&'static str; STATE_COUNT] = [
        "node_acquired",
        "node_released",
        "nodes_past_128",
        "op_past_512_nodes",
        "level_full",
        "level_emptied_by_removal",
        "reset_multi_node",
        "compaction_released_node",
        "least_overlap_tie",
        "least_overlap_zero",
        "tables_past_4096",
        "rebuild_multi_node",
        "retired_table_inserted",
        "u128_keys",
        "pool_exhausted",
        "node_split",
        "node_merged",
        "borrowed_from_next",
        "last_node_released",
        "pack_moved_tables",
        "pack_released_node",
        "defragment_swapped_nodes",
        "equal_key_max_across_nodes",
        "next_table_crossed_node",
        "three_levels_on_one_pool",
    ];

    /// The snake-case name findings records use.
    pub fn name(self) -> &'static str {
        State::NAMES[self as usize]
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How often a run reached each [`State`]. Fixed size, no allocation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StateCounts {
    counts: [u64; STATE_COUNT],
}

impl StateCounts {
    /// Counts one more `state`.
    pub fn note(&mut self, state: State) {
        self.counts[state as usize] += 1;
    }

    /// Counts `state` when `happened`.
    pub fn note_if(&mut self, happened: bool, state: State) {
        self.counts[state as usize] += u64::from(happened);
    }

    /// How often `state` was reached.
    pub fn get(&self, state: State) -> u64 {
        self.counts[state as usize]
    }

    /// Every state with its count, in [`State::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (State, u64)> + '_ {
        State::ALL.iter().map(|&state| (state, self.get(state)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_declaration_order() {
        for (index, state) in State::ALL.iter().enumerate() {
            assert_eq!(*state as usize, index);
        }
        let mut names = State::NAMES.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), STATE_COUNT);
        let mut counts = StateCounts::default();
        counts.note(State::LevelFull);
        counts.note_if(false, State::LevelFull);
        counts.note_if(true, State::LevelFull);
        assert_eq!(counts.get(State::LevelFull), 2);
        assert_eq!(counts.iter().filter(|(_, count)| *count > 0).count(), 1);
    }
}

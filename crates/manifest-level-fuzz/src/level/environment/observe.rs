//! What the environment notes after each op: the peaks (tables, nodes) and the states
//! of [`crate::level::states`] the op reached, seen through the level's public counters,
//! its layout events and, for the states of one table or one answer, its node layout.

use manifest_level::{Key, LayoutEvents, ManifestLevel, TableInfo};

use crate::level::environment::Environment;
use crate::level::key::FuzzKey;
use crate::level::ops::FuzzOp;
use crate::level::states::{State, StateCounts};

/// A node count past which the level's node-start index needs a second block.
const INDEX_BLOCK_NODES: u32 = 128;

/// A node count past which the level's searches cross more than one group.
const GROUP_NODES: u32 = 512;

/// A table count worth noting: the level of a real tree below the largest ones.
const BIG_LEVEL_TABLES: u32 = 4096;

/// The level's node count, length and layout events, taken before and after an op.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Counters {
    nodes: u32,
    len: u32,
    events: LayoutEvents,
}

impl Counters {
    /// `env`'s counters now.
    pub(crate) fn of<K: FuzzKey>(env: &Environment<'_, K>) -> Counters {
        Counters {
            nodes: env.level.node_count(),
            len: env.level.len(),
            events: env.level.layout_events(),
        }
    }
}

impl<K: FuzzKey> Environment<'_, K> {
    /// Notes the peaks and the states `op` reached, from the counters `before` it and
    /// now. O(1).
    pub(crate) fn observe(&mut self, op: &FuzzOp, before: Counters) {
        let after = Counters::of(self);
        self.peak_nodes = self.peak_nodes.max(after.nodes);
        self.peak_tables = self.peak_tables.max(after.len as usize);
        let adds = matches!(op, FuzzOp::InsertTables { .. } | FuzzOp::Compact { .. });
        let removes = matches!(
            op,
            FuzzOp::RemoveVisible { .. } | FuzzOp::RemoveInvisible { .. } | FuzzOp::Compact { .. }
        );
        let compacts = matches!(op, FuzzOp::Compact { .. });
        let touches_level = !matches!(
            op,
            FuzzOp::TakeSnapshot
                | FuzzOp::RetainSnapshot
                | FuzzOp::ReleaseSnapshot { .. }
                | FuzzOp::InsertTablesB { .. }
                | FuzzOp::RemoveTablesB { .. }
        );
        let capacity = self.level.capacity();
        let states = &mut self.states;
        states.note_if(adds && after.nodes > before.nodes, State::NodeAcquired);
        states.note_if(removes && after.nodes < before.nodes, State::NodeReleased);
        states.note_if(
            before.nodes <= INDEX_BLOCK_NODES && after.nodes > INDEX_BLOCK_NODES,
            State::NodesPast128,
        );
        states.note_if(
            touches_level && before.nodes.max(after.nodes) > GROUP_NODES,
            State::OpPast512Nodes,
        );
        states.note_if(
            before.len < capacity && after.len == capacity,
            State::LevelFull,
        );
        states.note_if(
            removes && before.len > 0 && after.len == 0,
            State::LevelEmptiedByRemoval,
        );
        states.note_if(
            matches!(op, FuzzOp::Reset) && before.nodes > 1,
            State::ResetMultiNode,
        );
        states.note_if(
            matches!(op, FuzzOp::Rebuild) && before.nodes > 1,
            State::RebuildMultiNode,
        );
        states.note_if(
            compacts && after.nodes < before.nodes,
            State::CompactionReleasedNode,
        );
        states.note_if(
            before.len < BIG_LEVEL_TABLES && after.len >= BIG_LEVEL_TABLES,
            State::TablesPast4096,
        );
        note_layout_events(states, &before.events, &after.events);
    }
}

/// Notes the layout changes between `before` and `after` (one count per op and kind).
fn note_layout_events(states: &mut StateCounts, before: &LayoutEvents, after: &LayoutEvents) {
    let changes = [
        (before.splits, after.splits, State::NodeSplit),
        (before.merges, after.merges, State::NodeMerged),
        (
            before.borrows_from_next,
            after.borrows_from_next,
            State::BorrowedFromNext,
        ),
        (
            before.last_node_releases,
            after.last_node_releases,
            State::LastNodeReleased,
        ),
        (
            before.pack_elements_moved,
            after.pack_elements_moved,
            State::PackMovedTables,
        ),
        (
            before.pack_nodes_released,
            after.pack_nodes_released,
            State::PackReleasedNode,
        ),
        (
            before.defragment_swaps,
            after.defragment_swaps,
            State::DefragmentSwappedNodes,
        ),
    ];
    for (before, after, state) in changes {
        debug_assert!(after >= before, "{state}: layout events only grow");
        states.note_if(after > before, state);
    }
}

/// The node of `level` that holds index `index` (< len): the last whose start is at or
/// before it, by bisection over the node starts. O(log nodes).
pub(crate) fn node_of<K: Key>(level: &ManifestLevel<'_, K>, index: u32) -> u32 {
    debug_assert!(index < level.len());
    // The answer lies in `low..high`; each round halves it, and 33 rounds halve any u32.
    let (mut low, mut high) = (0, level.node_count());
    for _ in 0..33 {
        if high - low <= 1 {
            break;
        }
        let middle = low + (high - low) / 2;
        if level.node_start(middle) <= index {
            low = middle;
        } else {
            high = middle;
        }
    }
    assert!(
        high - low <= 1,
        "bisection over {} nodes",
        level.node_count()
    );
    low
}

/// Notes [`State::EqualKeyMaxAcrossNodes`] when the table just inserted at `index` sits at
/// its node's edge and the table across that edge has the same `key_max`. O(log nodes).
pub(crate) fn note_insert_at<K: Key>(
    states: &mut StateCounts,
    level: &ManifestLevel<'_, K>,
    index: u32,
) {
    if index >= level.len() || level.node_count() < 2 {
        return;
    }
    let node = node_of(level, index);
    let tables = level.node_tables(node);
    // A planted fault may leave the starts stale: then there is no edge to look at.
    let Some(relative) = index.checked_sub(level.node_start(node)) else {
        return;
    };
    let Some(table) = tables.get(relative as usize) else {
        return;
    };
    let before = (relative == 0 && node > 0)
        .then(|| level.node_tables(node - 1).last())
        .flatten();
    let after = (relative as usize + 1 == tables.len() && node + 1 < level.node_count())
        .then(|| level.node_tables(node + 1).first())
        .flatten();
    let equal = |other: Option<&TableInfo<K>>| other.is_some_and(|o| o.key_max == table.key_max);
    states.note_if(equal(before) || equal(after), State::EqualKeyMaxAcrossNodes);
}

#[cfg(test)]
mod tests {
    use manifest_level::NodePool;

    use super::*;

    /// Each index's node, from the node lengths alone.
    fn nodes_by_length(level: &ManifestLevel<'_, u64>) -> Vec<u32> {
        (0..level.node_count())
            .flat_map(|node| std::iter::repeat_n(node, level.node_tables(node).len()))
            .collect()
    }

    fn level_of<'pool>(
        pool: &'pool NodePool,
        tables: &[TableInfo<u64>],
    ) -> ManifestLevel<'pool, u64> {
        let mut level = ManifestLevel::new(pool, 64).unwrap();
        for table in tables {
            level.insert_table(*table).unwrap();
        }
        assert!(level.node_count() > 3, "{} nodes", level.node_count());
        level
    }

    #[test]
    fn node_of_and_equal_key_max_runs_across_nodes() {
        let pool = NodePool::new(256, 64).unwrap(); // 4 tables per node
                                                    // Distinct key ranges, inserted out of order: no run crosses a node.
        let distinct: Vec<TableInfo<u64>> = (0..40u64)
            .map(|i| (i * 17) % 40)
            .map(|k| TableInfo::new(1, k + 1, 1, 10 * k, 10 * k + 5, 1))
            .collect();
        // One key range retired snapshot after snapshot: one run of equal key_max.
        let run: Vec<TableInfo<u64>> = (0..12u64)
            .map(|i| TableInfo {
                snapshot_max: 2 * i + 1,
                ..TableInfo::new(1, i + 1, 2 * i + 1, 10, 10, 1)
            })
            .collect();
        for (tables, crosses) in [(&distinct, false), (&run, true)] {
            let level = level_of(&pool, tables);
            let expected = nodes_by_length(&level);
            let mut states = StateCounts::default();
            for index in 0..level.len() {
                assert_eq!(node_of(&level, index), expected[index as usize], "{index}");
                note_insert_at(&mut states, &level, index);
            }
            let edges = 2 * (level.node_count() - 1);
            let noted = states.get(State::EqualKeyMaxAcrossNodes);
            assert_eq!(noted, if crosses { u64::from(edges) } else { 0 });
        }
    }
}

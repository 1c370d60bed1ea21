//! What the environment notes after each op: the peaks (tables, nodes) and the states
//! of [`crate::level::states`] the op reached, seen through the level's public counters.

use crate::level::environment::Environment;
use crate::level::key::FuzzKey;
use crate::level::ops::FuzzOp;
use crate::level::states::State;

/// A node count past which the level's node-start index needs a second block.
const INDEX_BLOCK_NODES: u32 = 128;

/// A node count past which the level's searches cross more than one group.
const GROUP_NODES: u32 = 512;

/// A table count worth noting: the level of a real tree below the largest ones.
const BIG_LEVEL_TABLES: u32 = 4096;

/// The level's node count and length, taken before and after an op.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Counters {
    nodes: u32,
    len: u32,
}

impl Counters {
    /// `env`'s counters now.
    pub(crate) fn of<K: FuzzKey>(env: &Environment<'_, K>) -> Counters {
        Counters {
            nodes: env.level.node_count(),
            len: env.level.len(),
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
    }
}

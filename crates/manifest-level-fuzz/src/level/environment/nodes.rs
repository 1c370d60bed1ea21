//! The deep checks' view of the level's nodes: each node a check visits is held to the
//! segmented array's layout rules and to the model's tables, through the level's layout
//! accessors (`node_count`, `node_start`, `node_tables`, `node_capacity`) alone.
//!
//! A node `i` of a level of `n` tables in `c` nodes, each holding at most `capacity`:
//!
//! - starts where node `i - 1` ends (node 0 at index 0), and node `i + 1` starts where it
//!   ends (the last node ends at `n`);
//! - holds at least one table and at most `capacity`, and at least `capacity / 2` unless
//!   it is the last node;
//! - holds, at level indexes `start..start + len`, exactly the model's tables at those
//!   indexes, field by field.
//!
//! These are the layout rules the level's own `verify()` checks whole; here they are
//! checked by the deep checks for the nodes an op touched (around the model's [touched
//! keys](crate::level::model::Model::touched)) and for one more node in rotation, so every
//! node is seen within `c` ops and the cost per op is a few nodes whatever the level's
//! size. The model's side is its own slice arithmetic; the level's side is found by
//! bisecting `node_start`, never by the level's key searches.

use manifest_level::ManifestLevel;

use crate::level::environment::observe::node_of;
use crate::level::environment::{check, check_eq, Check, CheckFailure};
use crate::level::key::{embed_table, FuzzKey};
use crate::level::model::Model;

/// Where one node sits: its level index of the first table and its length.
fn extent<K: FuzzKey>(level: &ManifestLevel<'_, K>, node: u32) -> (usize, usize) {
    (
        level.node_start(node) as usize,
        level.node_tables(node).len(),
    )
}

/// Checks node `node` of `level` against the layout rules and `model` (see the [module
/// docs](self)). O(capacity).
pub fn check_node<K: FuzzKey>(
    level: &ManifestLevel<'_, K>,
    model: &Model,
    node: u32,
) -> Result<(), CheckFailure> {
    let node_count = level.node_count();
    assert!(node < node_count, "node {node} of {node_count}");
    let (start, len) = extent(level, node);
    let expected_start = match node.checked_sub(1) {
        None => 0,
        Some(previous) => {
            let (previous_start, previous_len) = extent(level, previous);
            previous_start + previous_len
        }
    };
    check_eq!(Check::NodeContents, expected: (node, expected_start), found: (node, start));
    let expected_end = if node + 1 == node_count {
        level.len() as usize
    } else {
        level.node_start(node + 1) as usize
    };
    check_eq!(Check::NodeContents, expected: (node, expected_end), found: (node, start + len));
    let capacity = level.node_capacity() as usize;
    let least = if node + 1 == node_count {
        1
    } else {
        capacity / 2
    };
    check!(
        (least..=capacity).contains(&len),
        Check::NodeContents,
        format!("node {node} of {node_count} holds {least}..={capacity} tables"),
        format!("{len}"),
    );
    let Some(expected) = model.tables().get(start..start + len) else {
        return Err(CheckFailure::described(
            Check::NodeContents,
            format!("node {node} within the model's {} tables", model.len()),
            format!("tables {start}..{}", start + len),
        ));
    };
    for (offset, (table, expected)) in level.node_tables(node).iter().zip(expected).enumerate() {
        let expected = embed_table::<K>(expected);
        check_eq!(
            Check::NodeContents,
            expected: (node, start + offset, expected),
            found: (node, start + offset, *table),
        );
    }
    Ok(())
}

/// The place `(key_max, snapshot_min)` in level order: the level index of the model's
/// first table at or after it (the last table, when every table comes before it), the
/// node holding that index, and whether that index is the node's first. `None` when the
/// level is empty, which the model must be too. O(log n + log nodes).
pub fn place<K: FuzzKey>(
    level: &ManifestLevel<'_, K>,
    model: &Model,
    (key_max, snapshot_min): (u64, u64),
) -> Result<Option<(u32, bool)>, CheckFailure> {
    if level.is_empty() || model.is_empty() {
        check_eq!(Check::TableCount, expected: model.len(), found: level.len() as usize);
        return Ok(None);
    }
    let index = model
        .lower_bound(key_max, snapshot_min)
        .min(model.len() - 1);
    check!(
        index < level.len() as usize,
        Check::TableCount,
        format!("more than {index} tables"),
        format!("{}", level.len()),
    );
    let node = node_of(level, index as u32);
    Ok(Some((node, level.node_start(node) as usize == index)))
}

#[cfg(test)]
mod tests {
    use manifest_level::{NodePool, TableInfo};

    use super::*;

    fn table(key: u64) -> TableInfo<u64> {
        TableInfo::new(1, key + 1, 1, 10 * key, 10 * key + 5, 1)
    }

    fn filled(pool: &NodePool, count: u64) -> (ManifestLevel<'_, u64>, Model) {
        let mut level = ManifestLevel::new(pool, 64).unwrap();
        let mut model = Model::with_capacity(64);
        for key in 0..count {
            level.insert_table(table(key)).unwrap();
            model.insert(table(key));
        }
        (level, model)
    }

    #[test]
    fn every_node_of_a_level_matching_its_model_passes() {
        let pool = NodePool::new(256, 64).unwrap(); // 4 tables per node
        let (level, model) = filled(&pool, 30);
        assert!(level.node_count() > 2);
        for node in 0..level.node_count() {
            check_node(&level, &model, node).unwrap();
        }
        for key_max in [0, 55, 10_000] {
            let (node, first) = place(&level, &model, (key_max, 0)).unwrap().unwrap();
            check_node(&level, &model, node).unwrap();
            assert_eq!(first, key_max == 0);
        }
        let empty = Model::with_capacity(1);
        assert!(place(&level, &empty, (0, 0)).is_err());
    }

    #[test]
    fn a_table_the_model_lacks_or_holds_otherwise_fails_its_node() {
        let pool = NodePool::new(256, 64).unwrap();
        let (mut level, model) = filled(&pool, 30);
        // One table changed in the model only: its node fails, the first node passes.
        let mut changed = model.clone();
        let index = model.len() - 1;
        changed.set_snapshot_max(index, 7);
        let last = level.node_count() - 1;
        check_node(&level, &changed, 0).unwrap();
        let failure = check_node(&level, &changed, last).unwrap_err();
        assert_eq!(failure.what, Check::NodeContents);
        // The level lost its first table: every node is shifted against the model.
        level.remove_table(&table(0)).unwrap();
        let failure = check_node(&level, &model, 0).unwrap_err();
        assert_eq!(failure.what, Check::NodeContents);
    }
}

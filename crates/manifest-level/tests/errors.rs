//! Every caller mistake of docs/SEMANTICS.md §2 is a typed error that leaves the level
//! exactly as it was: full contents both ways, length, counters, key_range_latest,
//! generation, node count and the pool's free count.

mod common;

use common::{snapshot, Snapshot};
use manifest_level::{
    Error, KeyRange, ManifestLevel, NodePool, Query, TableInfo, TableRef, GROWTH_FACTOR,
    NODE_COUNT_MAX, NODE_SIZE_MAX, SNAPSHOT_LATEST, SNAPSHOT_MAX_LIVE,
};

fn table(address: u64, snapshot_min: u64, key_min: u64, key_max: u64) -> TableInfo<u64> {
    TableInfo::new(
        u128::from(address) * 7,
        address,
        snapshot_min,
        key_min,
        key_max,
        10 + address as u32,
    )
}

/// A level with live tables, retired ones, and two tables sharing a key_max.
fn populated<'pool>(pool: &'pool NodePool, capacity: u32) -> ManifestLevel<'pool, u64> {
    let mut level = ManifestLevel::new(pool, capacity).unwrap();
    for i in 0..10u64 {
        level
            .insert_table(table(i + 1, 1, i * 10, i * 10 + 5))
            .unwrap();
    }
    // Retire [30, 35] and [90, 95] at snapshot 3; replace [30, 35] at 4, sharing its key_max.
    for key_max in [35, 95] {
        let (reference, _) = level
            .iter(Query::visible(&[SNAPSHOT_LATEST]).within(KeyRange::point(key_max)))
            .next()
            .unwrap();
        level.set_snapshot_max(3, reference).unwrap();
    }
    level.insert_table(table(20, 4, 31, 35)).unwrap();
    level
}

#[track_caller]
fn assert_unchanged(level: &ManifestLevel<'_, u64>, before: &Snapshot<u64>) {
    level.verify();
    assert_eq!(&snapshot(level), before);
}

#[test]
fn capacity_exhausted() {
    let pool = NodePool::new(256, ManifestLevel::<u64>::nodes_needed(256, 12).unwrap()).unwrap();
    let mut level = populated(&pool, 12);
    level.insert_table(table(21, 5, 200, 210)).unwrap();
    assert_eq!(level.len(), 12);
    let before = snapshot(&level);
    assert_eq!(
        level.insert_table(table(22, 5, 300, 310)),
        Err(Error::CapacityExhausted { capacity: 12 })
    );
    assert_unchanged(&level, &before);
    // Even a malformed table is refused without a change (its own error comes first).
    assert!(level.insert_table(table(0, 5, 300, 310)).is_err());
    assert_unchanged(&level, &before);
}

#[test]
fn node_pool_exhausted() {
    // 256-byte nodes hold 4 tables: the 5th insert must split the level's only node, and a
    // pool of 1 node has nothing left for it.
    let pool = NodePool::new(256, 1).unwrap();
    let mut level = ManifestLevel::<u64>::new(&pool, 100).unwrap();
    for i in 0..4 {
        level
            .insert_table(table(i + 1, 1, i * 10, i * 10 + 5))
            .unwrap();
    }
    assert_eq!(pool.free_count(), 0);
    let before = snapshot(&level);
    // At the end, in the middle, at the start: every one needs the split.
    for t in [
        table(9, 1, 100, 105),
        table(10, 1, 6, 6),
        table(11, 1, 0, 0),
    ] {
        assert_eq!(
            level.insert_table(t),
            Err(Error::NodePoolExhausted { needed: 1, free: 0 })
        );
        assert_unchanged(&level, &before);
    }
    // A second level on the same pool cannot even start.
    let mut other = ManifestLevel::<u64>::new(&pool, 10).unwrap();
    let other_before = snapshot(&other);
    assert_eq!(
        other.insert_table(table(1, 1, 0, 1)),
        Err(Error::NodePoolExhausted { needed: 1, free: 0 })
    );
    assert_unchanged(&other, &other_before);
    assert_eq!((other.len(), other.node_count()), (0, 0));
    // Removing a table frees no node while the node still holds others...
    level.remove_table(&table(1, 1, 0, 5)).unwrap();
    assert_eq!(pool.free_count(), 0);
    // ...but emptying the level does, and the other level can start.
    level.reset();
    assert_eq!(pool.free_count(), 1);
    other.insert_table(table(1, 1, 0, 1)).unwrap();
    let before = snapshot(&level);
    assert_eq!(
        level.insert_table(table(2, 1, 5, 6)),
        Err(Error::NodePoolExhausted { needed: 1, free: 0 })
    );
    assert_unchanged(&level, &before);
    // With every node returned, the level starts again.
    drop(other);
    assert_eq!(pool.free_count(), 1);
    level.insert_table(table(2, 1, 5, 6)).unwrap();
    assert_eq!((level.len(), level.node_count()), (1, 1));
}

#[test]
fn malformed_tables_on_insert() {
    let pool = NodePool::new(512, 64).unwrap();
    let mut level = populated(&pool, 64);
    let before = snapshot(&level);
    let mut zero_address = table(50, 5, 500, 510);
    zero_address.address = 0;
    assert_eq!(
        level.insert_table(zero_address),
        Err(Error::InvalidTable("address is 0"))
    );
    assert_unchanged(&level, &before);
    assert_eq!(
        level.insert_table(table(51, 5, 511, 510)),
        Err(Error::InvalidTable("key_min > key_max"))
    );
    assert_unchanged(&level, &before);
    let mut snapshots_reversed = table(52, 5, 500, 510);
    snapshots_reversed.snapshot_max = 4;
    assert_eq!(
        level.insert_table(snapshots_reversed),
        Err(Error::InvalidTable("snapshot_min > snapshot_max"))
    );
    assert_unchanged(&level, &before);
    // Well formed ones still go in afterwards.
    level.insert_table(table(53, 5, 500, 510)).unwrap();
}

#[test]
fn removing_absent_or_malformed_tables() {
    let pool = NodePool::new(512, 64).unwrap();
    let mut level = populated(&pool, 64);
    let before = snapshot(&level);
    let present = table(5, 1, 40, 45);
    assert!(level.contains(&present));
    let absent = [
        table(99, 1, 40, 45),
        table(5, 2, 40, 45),
        table(5, 1, 41, 45),
        table(5, 1, 40, 46),
        table(5, 1, 1000, 1001),
        TableInfo {
            checksum: 1,
            ..present
        },
        TableInfo {
            value_count: 0,
            ..present
        },
        TableInfo {
            snapshot_max: 7,
            ..present
        },
        // The retired [30, 35] as it was before retirement.
        table(4, 1, 30, 35),
    ];
    for t in absent {
        assert_eq!(level.remove_table(&t), Err(Error::TableNotFound), "{t:?}");
        assert_unchanged(&level, &before);
    }
    let malformed = [
        TableInfo {
            address: 0,
            ..present
        },
        TableInfo {
            key_min: 46,
            ..present
        },
        TableInfo {
            snapshot_min: 8,
            snapshot_max: 7,
            ..present
        },
    ];
    for t in malformed {
        assert!(
            matches!(level.remove_table(&t), Err(Error::InvalidTable(_))),
            "{t:?}"
        );
        assert_unchanged(&level, &before);
    }
    // Removing twice: the second is TableNotFound.
    level.remove_table(&present).unwrap();
    let before = snapshot(&level);
    assert_eq!(level.remove_table(&present), Err(Error::TableNotFound));
    assert_unchanged(&level, &before);
}

#[test]
fn retiring_twice_and_bad_snapshots() {
    let pool = NodePool::new(512, 64).unwrap();
    let mut level = populated(&pool, 64);
    let retired = table(4, 1, 30, 35);
    let (reference, found) = level.find(&retired).unwrap();
    assert_eq!(found.snapshot_max, 3);
    let before = snapshot(&level);
    assert_eq!(
        level.set_snapshot_max(5, reference),
        Err(Error::TableAlreadyRetired { snapshot_max: 3 })
    );
    assert_unchanged(&level, &before);

    let (live, _) = level.find(&table(6, 1, 50, 55)).unwrap();
    for snapshot in [SNAPSHOT_LATEST, SNAPSHOT_MAX_LIVE] {
        assert!(
            matches!(
                level.set_snapshot_max(snapshot, live),
                Err(Error::InvalidSnapshot { snapshot: s, .. }) if s == snapshot
            ),
            "{snapshot}"
        );
        assert_unchanged(&level, &before);
    }
    // Below the table's snapshot_min: it would never have been visible.
    let (late, _) = level.find(&table(20, 4, 31, 35)).unwrap();
    assert!(matches!(
        level.set_snapshot_max(3, late),
        Err(Error::InvalidSnapshot { snapshot: 3, .. })
    ));
    assert_unchanged(&level, &before);
    // The same reference still works for a valid snapshot (retiring keeps the generation).
    level.set_snapshot_max(SNAPSHOT_LATEST - 1, live).unwrap();
    level.set_snapshot_max(4, late).unwrap();
    let before = snapshot(&level);
    assert_eq!(
        level.set_snapshot_max(9, late),
        Err(Error::TableAlreadyRetired { snapshot_max: 4 })
    );
    assert_unchanged(&level, &before);
}

#[test]
fn stale_references() {
    let pool = NodePool::new(512, 64).unwrap();
    let mut level = populated(&pool, 64);
    let t = table(7, 1, 60, 65);

    // Taken before an insert.
    let (reference, _) = level.find(&t).unwrap();
    level.insert_table(table(30, 5, 300, 301)).unwrap();
    let before = snapshot(&level);
    assert_eq!(
        level.set_snapshot_max(5, reference),
        Err(Error::StaleReference {
            reference: reference.generation(),
            level: level.generation()
        })
    );
    assert_eq!(
        level.get(reference),
        Err(Error::StaleReference {
            reference: reference.generation(),
            level: level.generation()
        })
    );
    assert_unchanged(&level, &before);

    // Taken before a remove (of another table).
    let (reference, _) = level.find(&t).unwrap();
    level.remove_table(&table(30, 5, 300, 301)).unwrap();
    let before = snapshot(&level);
    assert!(matches!(
        level.set_snapshot_max(5, reference),
        Err(Error::StaleReference { .. })
    ));
    assert_unchanged(&level, &before);

    // Taken from iteration before a reset.
    let (reference, _) = level
        .iter(Query::visible(&[SNAPSHOT_LATEST]))
        .next()
        .unwrap();
    let mut other_pool_level = ManifestLevel::<u64>::new(&pool, 8).unwrap();
    // From another level at the very same generation and index.
    other_pool_level.insert_table(t).unwrap();
    while other_pool_level.generation() != level.generation() {
        other_pool_level.insert_table(table(40, 1, 60, 65)).unwrap();
        other_pool_level
            .remove_table(&table(40, 1, 60, 65))
            .unwrap();
    }
    let (foreign, _) = other_pool_level.find(&t).unwrap();
    assert_eq!(foreign.generation(), level.generation());
    let before = snapshot(&level);
    assert!(matches!(
        level.set_snapshot_max(5, foreign),
        Err(Error::StaleReference { .. })
    ));
    assert!(matches!(
        level.get(foreign),
        Err(Error::StaleReference { .. })
    ));
    assert_unchanged(&level, &before);
    // A default reference belongs to no level.
    assert!(matches!(
        level.set_snapshot_max(5, TableRef::default()),
        Err(Error::StaleReference { .. })
    ));
    assert_unchanged(&level, &before);
    // The reference is still good for its own level until it changes shape.
    level.get(reference).unwrap();
    level.reset();
    let before = snapshot(&level);
    assert!(matches!(
        level.set_snapshot_max(5, reference),
        Err(Error::StaleReference { .. })
    ));
    assert_unchanged(&level, &before);
}

#[test]
fn overlap_queries_refuse_max_above_growth_factor() {
    let pool = NodePool::new(512, 64).unwrap();
    let a = populated(&pool, 32);
    let b = populated(&pool, 32);
    let before = snapshot(&a);
    for max in [GROWTH_FACTOR + 1, usize::MAX] {
        assert_eq!(
            a.tables_overlapping_with_key_range(KeyRange::full(), SNAPSHOT_LATEST, max),
            Err(Error::InvalidArgument("max above GROWTH_FACTOR"))
        );
        assert_eq!(
            a.table_with_least_overlap(&b, SNAPSHOT_LATEST, max),
            Err(Error::InvalidArgument("max above GROWTH_FACTOR"))
        );
    }
    // GROWTH_FACTOR itself is fine.
    a.tables_overlapping_with_key_range(KeyRange::full(), SNAPSHOT_LATEST, GROWTH_FACTOR)
        .unwrap();
    a.table_with_least_overlap(&b, SNAPSHOT_LATEST, GROWTH_FACTOR)
        .unwrap();
    assert_unchanged(&a, &before);
}

#[test]
fn key_range_and_construction_arguments() {
    assert_eq!(KeyRange::new(2u64, 1), Err(Error::InvalidKeyRange));
    assert_eq!(KeyRange::new(u128::MAX, 0), Err(Error::InvalidKeyRange));
    assert!(KeyRange::new(1u64, 1).is_ok());

    for (size, count) in [
        (0, 4),
        (8, 4),
        (17, 4),
        (100, 4),
        (NODE_SIZE_MAX + 16, 1),
        (64, NODE_COUNT_MAX + 1),
        (64, u32::MAX),
    ] {
        assert!(
            matches!(NodePool::new(size, count), Err(Error::InvalidArgument(_))),
            "{size} x {count}"
        );
    }
    let pool = NodePool::new(16, 0).unwrap();
    assert_eq!((pool.node_count(), pool.free_count()), (0, 0));

    // Nodes too small for two tables.
    let pool = NodePool::new(64, 8).unwrap();
    assert!(matches!(
        ManifestLevel::<u64>::new(&pool, 10),
        Err(Error::InvalidArgument(_))
    ));
    assert!(ManifestLevel::<u64>::nodes_needed(64, 10).is_err());
    assert!(ManifestLevel::<u64>::nodes_needed(128, 10).is_ok());
    assert_eq!(pool.free_count(), 8);

    // Every error explains itself.
    for error in [
        Error::NodePoolExhausted { needed: 1, free: 0 },
        Error::CapacityExhausted { capacity: 1 },
        Error::InvalidTable("x"),
        Error::InvalidKeyRange,
        Error::InvalidSnapshot {
            snapshot: 1,
            reason: "x",
        },
        Error::TableNotFound,
        Error::TableAlreadyRetired { snapshot_max: 1 },
        Error::StaleReference {
            reference: 1,
            level: 2,
        },
        Error::InvalidArgument("x"),
        Error::IndexOutOfBounds { index: 1, len: 0 },
    ] {
        assert!(!error.to_string().is_empty());
    }
}

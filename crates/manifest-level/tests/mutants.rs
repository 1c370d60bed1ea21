//! Checks that kill mutants `cargo mutants` found missed by the model and fuzz suites (see
//! MUTANTS.md for the run and the disposition of every missed mutant).
//!
//! Each test names the mutant(s) it kills. They pin down small public behaviours that the
//! randomized suites do not observe (an accessor nobody compares, a tie order the
//! generators never produce).

use manifest_level::{KeyRange, ManifestLevel, NodePool, Query, TableInfo, SNAPSHOT_LATEST};

fn table(address: u64, snapshot_min: u64, key_min: u64, key_max: u64) -> TableInfo<u64> {
    TableInfo::new(
        u128::from(address) * 7,
        address,
        snapshot_min,
        key_min,
        key_max,
        10,
    )
}

/// Kills `replace Query::matches -> bool with true` (the library's own iteration uses
/// `matches_visibility` and its own range test, so only a direct call observes `matches`).
#[test]
fn query_matches_checks_visibility_and_key_range() {
    let live = table(1, 5, 10, 20);
    let mut retired = table(2, 5, 30, 40);
    retired.snapshot_max = 7;

    let latest = Query::visible(&[SNAPSHOT_LATEST]);
    assert!(latest.matches(&live));
    assert!(
        !latest.matches(&retired),
        "retired table is not visible to latest"
    );

    let old = Query::visible(&[6]);
    assert!(old.matches(&live) && old.matches(&retired));
    assert!(
        !Query::visible(&[4]).matches(&live),
        "created after snapshot 4"
    );

    let inside = latest.within(KeyRange::new(15, 25).unwrap());
    assert!(inside.matches(&live));
    let outside = latest.within(KeyRange::new(21, 29).unwrap());
    assert!(!outside.matches(&live), "key range filter");
    assert!(!Query::visible(&[6])
        .within(KeyRange::point(25))
        .matches(&retired));

    let invisible = Query::invisible(&[6]);
    assert!(!invisible.matches(&retired), "snapshot 6 still sees it");
    assert!(Query::invisible(&[8]).matches(&retired));
    assert!(!Query::invisible(&[8]).matches(&live));
}

/// Kills `replace ManifestLevel::node_count -> u32 with 0` (and with 1): the level's node
/// count is the pool's acquired count when the level is the pool's only user.
#[test]
fn node_count_is_what_the_level_took_from_the_pool() {
    let node_size = 256;
    let pool = NodePool::new(
        node_size,
        ManifestLevel::<u64>::nodes_needed(node_size, 200).unwrap(),
    )
    .unwrap();
    let mut level = ManifestLevel::<u64>::new(&pool, 200).unwrap();
    assert_eq!(level.node_count(), 0);
    assert_eq!(pool.acquired_count(), 0);
    let mut tables = Vec::new();
    for i in 0..150u64 {
        let t = table(i + 1, 1, i * 10, i * 10 + 5);
        level.insert_table(t).unwrap();
        tables.push(t);
        assert_eq!(
            level.node_count(),
            pool.acquired_count(),
            "after {} inserts",
            i + 1
        );
    }
    // Keys (8 bytes) and tables (64 bytes) on 256-byte nodes: many nodes by now.
    assert!(level.node_count() > 10, "{}", level.node_count());
    for t in tables.iter().step_by(3) {
        let reference = level.find(t).unwrap().0;
        level.set_snapshot_max(2, reference).unwrap();
        let mut retired = *t;
        retired.snapshot_max = 2;
        level.remove_table(&retired).unwrap();
        assert_eq!(level.node_count(), pool.acquired_count());
    }
    level.reset();
    assert_eq!(level.node_count(), 0);
    assert_eq!(pool.acquired_count(), 0);
}

/// Kills `replace > with == in ManifestLevel::insert_table` (the scan past equal `key_max`
/// stops at the first table with a larger `snapshot_min`): a table retired long ago,
/// inserted after a newer one with the same `key_max`, goes before it. The generators only
/// insert tables newer than every table already there, so they never reach this order.
#[test]
fn insert_older_table_with_same_key_max_goes_first() {
    let pool = NodePool::new(256, ManifestLevel::<u64>::nodes_needed(256, 16).unwrap()).unwrap();
    let mut level = ManifestLevel::<u64>::new(&pool, 16).unwrap();
    let newer = table(1, 10, 5, 20);
    level.insert_table(newer).unwrap();
    // Visible to snapshots 3..=5 only: disjoint in time from `newer` (10..).
    let mut older = table(2, 3, 8, 20);
    older.snapshot_max = 5;
    let reference = level.insert_table(older).unwrap();
    assert_eq!(reference.index(), 0, "older snapshot_min first");
    let order: Vec<u64> = level
        .iter(Query::visible(&[4, SNAPSHOT_LATEST]))
        .map(|(_, t)| t.address)
        .collect();
    assert_eq!(order, [2, 1]);
    // A third one between them in time goes between them.
    let mut middle = table(3, 6, 12, 20);
    middle.snapshot_max = 8;
    assert_eq!(level.insert_table(middle).unwrap().index(), 1);
    level.verify();
}

/// Kills `replace ManifestLevel::inject_fault with ()`: a planted fault must take effect
/// (otherwise the fault tests prove nothing). Only built where the library has the
/// `fault-injection` feature, which the fuzzer crate's dev-dependency turns on when both
/// packages are tested together (as `scripts/mutants.sh` does).
#[cfg(feature = "fault-injection")]
#[test]
fn injected_fault_takes_effect() {
    use manifest_level::Fault;
    let pool = NodePool::new(256, ManifestLevel::<u64>::nodes_needed(256, 16).unwrap()).unwrap();
    let mut level = ManifestLevel::<u64>::new(&pool, 16).unwrap();
    level.set_auto_verify(false);
    level.inject_fault(Some(Fault::RetireKeepsCounters));
    let reference = level.insert_table(table(1, 1, 0, 9)).unwrap();
    level.set_snapshot_max(2, reference).unwrap();
    assert_eq!(
        level.table_count_visible(),
        1,
        "the fault keeps the counter"
    );
    level.inject_fault(None);
    let reference = level.insert_table(table(2, 3, 0, 9)).unwrap();
    level.set_snapshot_max(4, reference).unwrap();
    assert_eq!(level.table_count_visible(), 1, "without the fault it drops");
}

/// Kills `replace <= with > in KeyRange::intersects` (second operand): nothing in the
/// library calls `KeyRange::intersects` (`TableInfo::intersects` compares on its own).
#[test]
fn key_range_intersects_both_ways() {
    let r = |a: u64, b: u64| KeyRange::new(a, b).unwrap();
    for (a, b, expected) in [
        (r(0, 10), r(5, 15), true),
        (r(5, 15), r(0, 10), true),
        (r(0, 10), r(10, 20), true),
        (r(10, 20), r(0, 10), true),
        (r(0, 10), r(3, 4), true),
        (r(3, 4), r(0, 10), true),
        (r(0, 10), r(11, 20), false),
        (r(11, 20), r(0, 10), false),
    ] {
        assert_eq!(a.intersects(&b), expected, "{a:?} {b:?}");
    }
}

/// Kills `replace SegmentedArray::node_count_max -> u32 with 0` (and with 1): the accessor
/// reports the worst case the side tables were sized for, which bounds the nodes in use.
#[test]
fn segmented_array_node_count_max_is_the_worst_case() {
    use manifest_level::SegmentedArray;
    // 64-byte nodes hold 8 u64s; half full, 100 elements need 25 nodes.
    let pool = NodePool::new(64, 25).unwrap();
    let mut array = SegmentedArray::<u64>::new(&pool, 100).unwrap();
    assert_eq!(array.node_count_max(), 25);
    assert_eq!(
        array.node_count_max(),
        SegmentedArray::<u64>::nodes_needed(64, 100).unwrap()
    );
    let elements: Vec<u64> = (0..100).collect();
    array.insert_slice(0, &elements).unwrap();
    assert!(array.node_count() <= array.node_count_max());
    assert!(array.node_count() > 1);
}

/// Kills `replace <impl Debug for ManifestLevel>::fmt -> Result with Ok(Default::default())`
/// (and the same for `SegmentedArray`): the hand-written `Debug` output names the type and
/// its counters; nothing else formats it.
#[test]
fn debug_output_shows_the_counters() {
    use manifest_level::SegmentedArray;
    let pool = NodePool::new(256, ManifestLevel::<u64>::nodes_needed(256, 16).unwrap()).unwrap();
    let mut level = ManifestLevel::<u64>::new(&pool, 16).unwrap();
    level.insert_table(table(1, 1, 0, 9)).unwrap();
    level.insert_table(table(2, 1, 10, 19)).unwrap();
    let text = format!("{level:?}");
    for part in [
        "ManifestLevel",
        "len: 2",
        "table_count_visible: 2",
        "value_count_visible: 20",
        "generation: 2",
    ] {
        assert!(text.contains(part), "{part} in {text}");
    }

    let pool = NodePool::new(64, 4).unwrap();
    let mut array = SegmentedArray::<u64>::new(&pool, 16).unwrap();
    array.insert_slice(0, &[1, 2, 3]).unwrap();
    let text = format!("{array:?}");
    for part in [
        "SegmentedArray",
        "len: 3",
        "node_count: 1",
        "node_capacity: 8",
    ] {
        assert!(text.contains(part), "{part} in {text}");
    }
}

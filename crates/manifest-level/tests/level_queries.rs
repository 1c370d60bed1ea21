//! The compaction helpers against brute force: `table_with_least_overlap`,
//! `tables_overlapping_with_key_range`, and `next_table` stepping through whole ranges.

mod common;

use common::{evolve, meets, tables_meet, vis, Model, Rng, Snapshots, TableGen, TestKey};
use manifest_level::{
    Direction, Error, KeyRange, ManifestLevel, NextTable, NodePool, Overlap, Query, TableInfo,
    GROWTH_FACTOR, SNAPSHOT_LATEST,
};

const DIRECTIONS: [Direction; 2] = [Direction::Ascending, Direction::Descending];

/// One level with its model and history.
struct Built<'pool, K: TestKey> {
    level: ManifestLevel<'pool, K>,
    model: Model<K>,
    tables: TableGen,
    snapshots: Snapshots,
}

fn build<'pool, K: TestKey>(
    rng: &mut Rng,
    pool: &'pool NodePool,
    span: u64,
    width_max: u64,
    steps: usize,
) -> Built<'pool, K> {
    let mut built = Built {
        level: ManifestLevel::new(pool, 300).unwrap(),
        model: Model::new(),
        tables: TableGen::new(span, width_max),
        snapshots: Snapshots::new(),
    };
    evolve(
        rng,
        &mut built.level,
        &mut built.model,
        &mut built.tables,
        &mut built.snapshots,
        steps,
    );
    built
}

/// Covers the domain `0..=span` with adjacent live tables (sometimes a one-key gap), then
/// lets the level evolve a little (retire, replace, remove).
fn tile<'pool, K: TestKey>(
    rng: &mut Rng,
    pool: &'pool NodePool,
    span: u64,
    width_max: u64,
    steps: usize,
) -> Built<'pool, K> {
    let mut built = build::<K>(rng, pool, span, width_max, 0);
    let mut x = rng.between(0, 3);
    while x <= span && built.level.len() < built.level.capacity() / 2 {
        let width = rng.between(0, width_max);
        let address = built.tables.next_address;
        built.tables.next_address += 1;
        let table = TableInfo::new(
            rng.next_u128(),
            address,
            built.snapshots.current,
            K::at(x),
            K::at(x + width),
            rng.below(100) as u32,
        );
        built.level.insert_table(table).unwrap();
        built.model.insert(table);
        x += width + 1 + u64::from(rng.chance(1, 4));
    }
    evolve(
        rng,
        &mut built.level,
        &mut built.model,
        &mut built.tables,
        &mut built.snapshots,
        steps,
    );
    built
}

/// A snapshot to query two levels with different histories at.
fn query_snapshot(rng: &mut Rng, a: &Snapshots, b: &Snapshots) -> u64 {
    match rng.below(5) {
        0 | 1 => SNAPSHOT_LATEST,
        2 => a.any(rng),
        3 => b.any(rng),
        _ => rng.between(1, a.current.max(b.current)),
    }
}

/// Checks an `Overlap` against the brute-force list of tables and the range it must cover.
fn check_overlap<K: TestKey>(
    overlap: &Overlap<K>,
    level: &ManifestLevel<'_, K>,
    model: &Model<K>,
    expected: &[TableInfo<K>],
    range: KeyRange<K>,
) {
    assert_eq!(overlap.tables(), expected);
    assert_eq!(overlap.len(), expected.len());
    assert_eq!(overlap.is_empty(), expected.is_empty());
    assert_eq!(overlap.references().len(), expected.len());
    for (reference, table) in overlap.references().iter().zip(expected) {
        assert_eq!(level.get(*reference), Ok(table));
        assert_eq!(&model.tables[reference.index() as usize], table);
    }
    let widened = expected
        .iter()
        .fold((range.key_min(), range.key_max()), |(lo, hi), t| {
            (lo.min(t.key_min), hi.max(t.key_max))
        });
    assert_eq!(
        (overlap.key_range().key_min(), overlap.key_range().key_max()),
        widened
    );
}

/// Brute force: the visible table of A intersecting the fewest visible tables of B (at most
/// `max`), ties to the smaller key; with those B tables.
fn least_overlap_brute<K: TestKey>(
    a: &Model<K>,
    b: &Model<K>,
    snapshot: u64,
    max: usize,
) -> Option<(TableInfo<K>, Vec<TableInfo<K>>)> {
    let b_visible = b.visible(snapshot);
    let mut best: Option<(TableInfo<K>, Vec<TableInfo<K>>)> = None;
    for table in a.visible(snapshot) {
        let overlaps: Vec<TableInfo<K>> = b_visible
            .iter()
            .filter(|t| tables_meet(t, &table))
            .copied()
            .collect();
        if overlaps.len() > max {
            continue;
        }
        if best
            .as_ref()
            .is_none_or(|(_, current)| overlaps.len() < current.len())
        {
            best = Some((table, overlaps));
        }
    }
    best
}

fn least_overlap_pairs<K: TestKey>(seed: u64, pairs: usize) {
    let mut rng = Rng::new(seed);
    let mut answered = [0usize; 3]; // none, zero overlap, some overlap
    for pair in 0..pairs {
        let node_size = *rng.pick(&[256, 512, 1024]);
        let pool = NodePool::new(
            node_size,
            2 * ManifestLevel::<K>::nodes_needed(node_size, 300).unwrap(),
        )
        .unwrap();
        let span = rng.between(200, 3000);
        // Level A has wide tables, level B narrow ones (as level n and n + 1 tend to).
        let steps_a = rng.between(0, 120) as usize;
        let steps_b = rng.between(0, 200) as usize;
        let width_a = rng.between(10, 200);
        let width_b = rng.between(0, 30);
        let a = build::<K>(&mut rng, &pool, span, width_a, steps_a);
        let b = if rng.chance(2, 3) {
            tile::<K>(&mut rng, &pool, span, width_b, steps_b / 4)
        } else {
            build::<K>(&mut rng, &pool, span, width_b, steps_b)
        };
        for _ in 0..4 {
            let snapshot = query_snapshot(&mut rng, &a.snapshots, &b.snapshots);
            let max = rng.between(0, GROWTH_FACTOR as u64) as usize;
            let got = a
                .level
                .table_with_least_overlap(&b.level, snapshot, max)
                .unwrap();
            let expected = least_overlap_brute(&a.model, &b.model, snapshot, max);
            match (got, expected) {
                (None, None) => answered[0] += 1,
                (Some(got), Some((table, overlaps))) => {
                    assert_eq!(
                        got.table, table,
                        "pair {pair} snapshot {snapshot} max {max}"
                    );
                    assert_eq!(a.level.get(got.reference), Ok(&table));
                    assert_eq!(a.model.tables[got.reference.index() as usize], table);
                    assert!(vis(&table, snapshot));
                    check_overlap(
                        &got.overlap,
                        &b.level,
                        &b.model,
                        &overlaps,
                        table.key_range(),
                    );
                    answered[1 + usize::from(!overlaps.is_empty())] += 1;
                }
                (got, expected) => {
                    panic!("pair {pair} snapshot {snapshot} max {max}: {got:?} vs {expected:?}")
                }
            }
        }
        // max above the growth factor is refused.
        assert_eq!(
            a.level
                .table_with_least_overlap(&b.level, SNAPSHOT_LATEST, GROWTH_FACTOR + 1)
                .unwrap_err(),
            Error::InvalidArgument("max above GROWTH_FACTOR")
        );
    }
    eprintln!("least overlap answers (none, zero, some): {answered:?}");
    assert!(answered.iter().all(|&n| n > 0), "{answered:?}");
}

fn overlapping_ranges<K: TestKey>(seed: u64, levels: usize) {
    let mut rng = Rng::new(seed);
    let mut answered = [0usize; 3]; // none (too many), empty, some
    for _ in 0..levels {
        let node_size = *rng.pick(&[256, 512, 1024]);
        let pool = NodePool::new(
            node_size,
            ManifestLevel::<K>::nodes_needed(node_size, 300).unwrap(),
        )
        .unwrap();
        let span = rng.between(100, 2000);
        let width = rng.between(0, 60);
        let steps = rng.between(0, 250) as usize;
        let built = build::<K>(&mut rng, &pool, span, width, steps);
        for _ in 0..12 {
            let snapshot = built.snapshots.any(&mut rng);
            let range = built.tables.range(&mut rng, &built.model);
            let max = rng.between(0, GROWTH_FACTOR as u64) as usize;
            let expected: Vec<TableInfo<K>> = built
                .model
                .visible(snapshot)
                .into_iter()
                .filter(|t| meets(t, range.key_min(), range.key_max()))
                .collect();
            let got = built
                .level
                .tables_overlapping_with_key_range(range, snapshot, max)
                .unwrap();
            if expected.len() > max {
                assert_eq!(got, None, "{range:?} at {snapshot}, max {max}");
                answered[0] += 1;
            } else {
                let got = got.expect("at most max intersect");
                check_overlap(&got, &built.level, &built.model, &expected, range);
                answered[1 + usize::from(!expected.is_empty())] += 1;
            }
        }
        assert_eq!(
            built
                .level
                .tables_overlapping_with_key_range(KeyRange::full(), SNAPSHOT_LATEST, 9)
                .unwrap_err(),
            Error::InvalidArgument("max above GROWTH_FACTOR")
        );
    }
    eprintln!("overlapping answers (too many, empty, some): {answered:?}");
    assert!(answered.iter().all(|&n| n > 0), "{answered:?}");
}

fn next_table_steps<K: TestKey>(seed: u64, levels: usize) {
    let mut rng = Rng::new(seed);
    let mut stepped = 0usize;
    for _ in 0..levels {
        let node_size = *rng.pick(&[256, 512, 1024]);
        let pool = NodePool::new(
            node_size,
            ManifestLevel::<K>::nodes_needed(node_size, 300).unwrap(),
        )
        .unwrap();
        let span = rng.between(100, 2000);
        let width = rng.between(0, 60);
        let steps = rng.between(0, 250) as usize;
        let built = build::<K>(&mut rng, &pool, span, width, steps);
        let (level, model) = (&built.level, &built.model);
        for _ in 0..10 {
            let snapshot = built.snapshots.any(&mut rng);
            let snapshots = [snapshot];
            let range = built.tables.range(&mut rng, model);
            for direction in DIRECTIONS {
                let expected = model.query(
                    manifest_level::Visibility::Visible,
                    &snapshots,
                    direction,
                    Some((range.key_min(), range.key_max())),
                );
                let iterated: Vec<TableInfo<K>> = level
                    .iter(
                        Query::visible(&snapshots)
                            .direction(direction)
                            .within(range),
                    )
                    .map(|(_, t)| *t)
                    .collect();
                assert_eq!(iterated, expected);
                // Step with key_exclusive = the previous table's far edge.
                let mut got = Vec::new();
                let mut key_exclusive = None;
                loop {
                    let next = level.next_table(NextTable {
                        snapshot,
                        key_range: range,
                        key_exclusive,
                        direction,
                    });
                    let Some((reference, table)) = next else {
                        break;
                    };
                    assert_eq!(level.get(reference), Ok(table));
                    got.push(*table);
                    assert!(got.len() <= expected.len(), "stepping does not end");
                    let edge = match direction {
                        Direction::Ascending => table.key_max,
                        Direction::Descending => table.key_min,
                    };
                    // Naive stepping: the edge may lie past the range, which ends the walk.
                    key_exclusive = Some(edge);
                }
                assert_eq!(got, expected, "{range:?} at {snapshot} {direction:?}");
                stepped += got.len();

                // An arbitrary exclusive key inside the range.
                let key = if expected.is_empty() || rng.chance(1, 3) {
                    *rng.pick(&[range.key_min(), range.key_max()])
                } else {
                    let t = rng.pick(&expected);
                    let k = *rng.pick(&[t.key_min, t.key_max]);
                    k.clamp(range.key_min(), range.key_max())
                };
                let want = expected.iter().find(|t| match direction {
                    Direction::Ascending => t.key_min > key,
                    Direction::Descending => t.key_max < key,
                });
                let found = level
                    .next_table(NextTable {
                        snapshot,
                        key_range: range,
                        key_exclusive: Some(key),
                        direction,
                    })
                    .map(|(_, t)| t);
                assert_eq!(found, want, "exclusive {key:?} in {range:?} {direction:?}");

                // An exclusive key outside the range: the same definition applies (before
                // the range nothing is excluded that intersects; past it nothing is left).
                let outside = [range.key_min().pred(), range.key_max().succ()];
                for key in outside.into_iter().flatten() {
                    let want = expected.iter().find(|t| match direction {
                        Direction::Ascending => t.key_min > key,
                        Direction::Descending => t.key_max < key,
                    });
                    let found = level
                        .next_table(NextTable {
                            snapshot,
                            key_range: range,
                            key_exclusive: Some(key),
                            direction,
                        })
                        .map(|(_, t)| t);
                    assert_eq!(
                        found, want,
                        "outside exclusive {key:?} in {range:?} {direction:?}"
                    );
                }
            }
        }
    }
    assert!(stepped > 500, "stepped through {stepped} tables only");
}

#[test]
#[cfg_attr(miri, ignore)]
fn table_with_least_overlap_u64() {
    least_overlap_pairs::<u64>(11, 120);
}

#[test]
#[cfg_attr(miri, ignore)]
fn table_with_least_overlap_u128() {
    least_overlap_pairs::<u128>(12, 40);
}

#[test]
#[cfg_attr(miri, ignore)]
fn tables_overlapping_with_key_range_u64() {
    overlapping_ranges::<u64>(13, 60);
}

#[test]
#[cfg_attr(miri, ignore)]
fn tables_overlapping_with_key_range_u128() {
    overlapping_ranges::<u128>(14, 20);
}

#[test]
#[cfg_attr(miri, ignore)]
fn next_table_walks_like_the_iterator_u64() {
    next_table_steps::<u64>(15, 50);
}

#[test]
#[cfg_attr(miri, ignore)]
fn next_table_walks_like_the_iterator_u128() {
    next_table_steps::<u128>(16, 15);
}

/// Hand-made cases: ties go to the smaller key; zero overlap stops the sweep early; a
/// table of A exactly touching B's edges counts them.
#[test]
fn least_overlap_by_hand() {
    let pool = NodePool::new(512, 64).unwrap();
    let mut a = ManifestLevel::<u64>::new(&pool, 16).unwrap();
    let mut b = ManifestLevel::<u64>::new(&pool, 16).unwrap();
    let t = |address: u64, key_min: u64, key_max: u64| {
        TableInfo::new(u128::from(address), address, 1, key_min, key_max, 1)
    };
    // B: [0,9] [10,19] [20,29] [30,39]
    for (i, lo) in [0u64, 10, 20, 30].into_iter().enumerate() {
        b.insert_table(t(100 + i as u64, lo, lo + 9)).unwrap();
    }
    // A: [5,12] touches 2, [19,20] touches 2, [35,50] touches 1.
    a.insert_table(t(1, 5, 12)).unwrap();
    a.insert_table(t(2, 19, 20)).unwrap();
    a.insert_table(t(3, 35, 50)).unwrap();
    let got = a
        .table_with_least_overlap(&b, SNAPSHOT_LATEST, 8)
        .unwrap()
        .unwrap();
    assert_eq!(got.table.address, 3);
    assert_eq!(got.overlap.len(), 1);
    assert_eq!(
        got.overlap.key_range(),
        KeyRange::new(30, 50).unwrap(),
        "A's range widened by B's"
    );
    // With max = 0 nothing qualifies.
    assert!(a
        .table_with_least_overlap(&b, SNAPSHOT_LATEST, 0)
        .unwrap()
        .is_none());
    // A tie between [5,12] and [19,20] (2 each) once [35,50] is gone: the smaller key wins.
    a.remove_table(&t(3, 35, 50)).unwrap();
    let got = a
        .table_with_least_overlap(&b, SNAPSHOT_LATEST, 2)
        .unwrap()
        .unwrap();
    assert_eq!(got.table.address, 1);
    assert_eq!(
        got.overlap
            .tables()
            .iter()
            .map(|t| t.address)
            .collect::<Vec<_>>(),
        [100, 101]
    );
    // A table with no overlap wins outright.
    a.insert_table(t(4, 60, 70)).unwrap();
    let got = a
        .table_with_least_overlap(&b, SNAPSHOT_LATEST, 8)
        .unwrap()
        .unwrap();
    assert_eq!((got.table.address, got.overlap.len()), (4, 0));
    assert_eq!(got.overlap.key_range(), KeyRange::new(60, 70).unwrap());
    // Retired tables of B do not count for latest, but do for an old snapshot.
    let (reference, _) = b.find(&t(100, 0, 9)).unwrap();
    b.set_snapshot_max(1, reference).unwrap();
    a.remove_table(&t(4, 60, 70)).unwrap();
    let got = a
        .table_with_least_overlap(&b, SNAPSHOT_LATEST, 8)
        .unwrap()
        .unwrap();
    assert_eq!((got.table.address, got.overlap.len()), (1, 1));
    let got = a.table_with_least_overlap(&b, 1, 8).unwrap().unwrap();
    assert_eq!((got.table.address, got.overlap.len()), (1, 2));
    // An empty level A has no answer.
    let empty = ManifestLevel::<u64>::new(&pool, 4).unwrap();
    assert!(empty
        .table_with_least_overlap(&b, SNAPSHOT_LATEST, 8)
        .unwrap()
        .is_none());
    // An empty level B: every table of A has zero overlap; the first wins.
    let got = a
        .table_with_least_overlap(&empty, SNAPSHOT_LATEST, 0)
        .unwrap()
        .unwrap();
    assert_eq!((got.table.address, got.overlap.len()), (1, 0));
}

//! Nothing allocates after construction: a counting global allocator watches 100,000 random
//! inserts, retirements, removals, iterations, lookups and compaction queries (and, with the
//! `verify` feature these tests enable, the full `verify()` after every mutation).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use manifest_level::{
    Direction, Error, KeyRange, ManifestLevel, NextTable, NodePool, Query, TableInfo,
    GROWTH_FACTOR, SNAPSHOT_LATEST,
};

#[path = "common/rng.rs"]
mod rng;
use rng::Rng;

/// Counts allocations made by the current thread while its window is open. Both the switch
/// and the count are per thread: tests running at the same time on other threads (the
/// harness, or another test) neither count nor disturb the count.
struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

/// Adds one to this thread's count if its window is open.
fn note() {
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        let _ = COUNT.try_with(|count| count.set(count.get() + 1));
    }
}

// SAFETY: forwards every call to `System` unchanged; only counts on the side.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: the caller's guarantees are passed on to `System`.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note();
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` with counting on for this thread; returns its result and the number of
/// allocations, reallocations and deallocations it made.
fn counted<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let start = COUNT.with(Cell::get);
    COUNTING.with(|c| c.set(true));
    let result = f();
    COUNTING.with(|c| c.set(false));
    (result, COUNT.with(Cell::get) - start)
}

#[test]
fn the_counter_sees_allocations() {
    let (boxed, count) = counted(|| Box::new(42u64));
    assert!(count >= 1);
    let ((), count) = counted(|| drop(boxed));
    assert!(count >= 1);
    let (_, count) = counted(|| Vec::<u8>::with_capacity(10));
    assert!(count >= 1);
}

const TABLES_MAX: u32 = 4096;
const SPAN: u64 = 1 << 16;
const OPS: usize = 100_000;

#[test]
#[cfg_attr(miri, ignore)]
fn no_allocation_after_construction() {
    // Construction allocates: the pool, the levels' side tables, the model's buffer.
    let node_size = 512;
    let per_level = ManifestLevel::<u64>::nodes_needed(node_size, TABLES_MAX).unwrap();
    let pool = NodePool::new(node_size, 2 * per_level).unwrap();
    let mut level = ManifestLevel::<u64>::new(&pool, TABLES_MAX).unwrap();
    let mut other = ManifestLevel::<u64>::new(&pool, TABLES_MAX).unwrap();
    // The tables now in `level`, sorted by key_min; no two overlap at all, so the level
    // invariant holds for every snapshot. Reserved for the most the level can hold.
    let mut model: Vec<TableInfo<u64>> = Vec::with_capacity(TABLES_MAX as usize);
    let mut rng = Rng::from_state(0xA110C);
    // A fixed level B for the overlap query: adjacent tables of width 4096.
    for i in 0..SPAN / 4096 {
        other
            .insert_table(TableInfo::new(1, i + 1, 1, i * 4096, i * 4096 + 4095, 1))
            .unwrap();
    }

    let mut stats = [0usize; 10];
    let ((), allocations) = counted(|| {
        let mut snapshot = 1u64;
        let mut address = 1u64;
        for op in 0..OPS {
            if op % 25_000 == 24_999 {
                level.reset();
                model.clear();
            }
            if op % 1_000 == 999 {
                level.compact();
            }
            // Hover around a hundred tables (verify() runs after every mutation, O(n)).
            let grow = model.len() < 64 || (model.len() < 160 && rng.below(2) == 0);
            let which = if grow { 0 } else { 1 + rng.below(9) };
            stats[which as usize] += 1;
            match which {
                0 => {
                    // Insert a table in a free gap of the model.
                    let key_min = rng.below(SPAN);
                    let at = model.partition_point(|t| t.key_min <= key_min);
                    if at > 0 && model[at - 1].key_max >= key_min {
                        continue;
                    }
                    let room = model.get(at).map_or(SPAN, |t| t.key_min - key_min);
                    if room == 0 {
                        continue;
                    }
                    let key_max = key_min + rng.below(room.min(64));
                    let table = TableInfo::new(
                        rng.next_u64().into(),
                        address,
                        snapshot,
                        key_min,
                        key_max,
                        8,
                    );
                    address += 1;
                    match level.insert_table(table) {
                        Ok(_) => model.insert(at, table),
                        Err(Error::CapacityExhausted { .. }) => {}
                        Err(error) => panic!("{error:?}"),
                    }
                }
                1 | 2 => {
                    // Retire a live table, found by lookup or by a ranged iteration.
                    if model.is_empty() {
                        continue;
                    }
                    let at = rng.below(model.len() as u64) as usize;
                    let t = model[at];
                    let reference = if which == 1 {
                        level.find(&t).unwrap().0
                    } else {
                        let latest = [SNAPSHOT_LATEST];
                        let query = Query::visible(&latest).within(t.key_range());
                        match level.iter(query).next() {
                            Some((reference, _)) => reference,
                            None => continue,
                        }
                    };
                    let target = *level.get(reference).unwrap();
                    match level.set_snapshot_max(snapshot, reference) {
                        Ok(()) => {
                            let at = model.partition_point(|m| m.key_min < target.key_min);
                            model[at].snapshot_max = snapshot;
                        }
                        Err(Error::TableAlreadyRetired { .. }) => {}
                        Err(error) => panic!("{error:?}"),
                    }
                    snapshot += u64::from(rng.below(4) == 0);
                }
                3 => {
                    // Remove a table no one sees (retired before the held snapshot).
                    let held = [snapshot.saturating_sub(2).max(1)];
                    let direction = if rng.below(2) == 0 {
                        Direction::Ascending
                    } else {
                        Direction::Descending
                    };
                    let found = level
                        .iter(Query::invisible(&held).direction(direction))
                        .next()
                        .map(|(_, t)| *t);
                    if let Some(t) = found {
                        level.remove_table(&t).unwrap();
                        let at = model.partition_point(|m| m.key_min < t.key_min);
                        assert_eq!(model.remove(at), t);
                    }
                }
                4 => {
                    // Remove any table; then removing it again is an error.
                    if model.is_empty() {
                        continue;
                    }
                    let at = rng.below(model.len() as u64) as usize;
                    let t = model.remove(at);
                    level.remove_table(&t).unwrap();
                    assert_eq!(level.remove_table(&t), Err(Error::TableNotFound));
                }
                5 => {
                    // Ranged iteration both ways, for latest and an older snapshot.
                    let lo = rng.below(SPAN);
                    let range = KeyRange::new(lo, lo + rng.below(1024)).unwrap();
                    let snapshots = [SNAPSHOT_LATEST, rng.below(snapshot) + 1];
                    let up = level.iter(Query::visible(&snapshots[..1]).within(range));
                    let down =
                        level.iter(Query::visible(&snapshots[..1]).descending().within(range));
                    assert_eq!(up.count(), down.count());
                    let both = level.iter(Query::visible(&snapshots).within(range)).count();
                    let dead = level.iter(Query::invisible(&snapshots[1..])).count();
                    assert!(both + dead <= level.len() as usize);
                }
                6 => {
                    // Lookups and the key range.
                    let key = rng.below(SPAN);
                    let contains = level.key_range_contains(SNAPSHOT_LATEST, key);
                    assert_eq!(
                        contains,
                        level.key_range_latest().is_some_and(|r| r.contains(key))
                    );
                    if let Some(t) = model.get(rng.below(model.len() as u64 + 1) as usize) {
                        assert!(level.contains(t));
                        assert!(level.find(t).is_some());
                    }
                }
                7 => {
                    // Walk a range with next_table.
                    let lo = rng.below(SPAN);
                    let range = KeyRange::new(lo, lo + rng.below(1024)).unwrap();
                    let direction = if rng.below(2) == 0 {
                        Direction::Ascending
                    } else {
                        Direction::Descending
                    };
                    let mut key_exclusive = None;
                    let mut steps = 0;
                    while let Some((_, t)) = level.next_table(NextTable {
                        snapshot: SNAPSHOT_LATEST,
                        key_range: range,
                        key_exclusive,
                        direction,
                    }) {
                        steps += 1;
                        let edge = match direction {
                            Direction::Ascending => t.key_max,
                            Direction::Descending => t.key_min,
                        };
                        if !range.contains(edge) {
                            break;
                        }
                        key_exclusive = Some(edge);
                    }
                    assert!(steps <= level.len());
                }
                8 => {
                    // Compaction queries.
                    let lo = rng.below(SPAN);
                    let range = KeyRange::new(lo, lo + rng.below(512)).unwrap();
                    let max = rng.below(GROWTH_FACTOR as u64 + 1) as usize;
                    let overlap = level
                        .tables_overlapping_with_key_range(range, SNAPSHOT_LATEST, max)
                        .unwrap();
                    assert!(overlap.is_none_or(|o| o.len() <= max));
                    if rng.below(16) == 0 {
                        let least = level
                            .table_with_least_overlap(&other, SNAPSHOT_LATEST, max)
                            .unwrap();
                        assert!(least.is_none_or(|l| l.overlap.len() <= max));
                    }
                }
                _ => {
                    // Caller mistakes are errors, not allocations either.
                    assert!(level
                        .tables_overlapping_with_key_range(range_full(), SNAPSHOT_LATEST, 9)
                        .is_err());
                    let bad = TableInfo::new(0, 0, 1, 5, 4, 0);
                    assert!(level.insert_table(bad).is_err());
                }
            }
        }
        assert_eq!(level.len() as usize, model.len());
        level.verify();
    });
    assert_eq!(
        allocations, 0,
        "allocations after construction; ops per kind {stats:?}"
    );
    assert!(stats.iter().all(|&n| n > 1000), "{stats:?}");
}

fn range_full() -> KeyRange<u64> {
    KeyRange::full()
}

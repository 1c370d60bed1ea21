//! The benchmark baselines (`benches/baselines/mod.rs`) answer exactly like the real
//! `ManifestLevel` on random workloads, so the benchmarks compare like with like.

#[path = "../benches/baselines/mod.rs"]
mod baselines;

use baselines::{BTreeMapLevel, IndexSetLevel, LevelOps, OverlapView, Rng, SortedVecLevel, Table};
use manifest_level::{
    Direction, KeyRange, ManifestLevel, NextTable, NodePool, Query, TableInfo, SNAPSHOT_LATEST,
};

/// A random sequence of inserts, retirements, snapshot bumps and removals that keeps the
/// level invariant: tables live in disjoint key slots, and a slot gets a new table only
/// after the snapshot has moved past the retirement of its previous one.
struct Workload {
    rng: Rng,
    slot_count: usize,
    slot_width: u64,
    /// Per slot: the live table, and the largest `snapshot_max` retired in it.
    slots: Vec<(Option<Table>, u64)>,
    /// Every table present.
    tables: Vec<Table>,
    snapshot: u64,
    address: u64,
}

enum Change {
    Insert(Table),
    Retire(Table, u64),
    Remove(Table),
    None,
}

impl Workload {
    fn new(seed: u64, slot_count: usize, slot_width: u64) -> Workload {
        Workload {
            rng: Rng::multiply_shift(seed),
            slot_count,
            slot_width,
            slots: vec![(None, 0); slot_count],
            tables: Vec::new(),
            snapshot: 1,
            address: 0,
        }
    }

    fn key_max(&self) -> u64 {
        self.slot_count as u64 * self.slot_width
    }

    fn step(&mut self) -> Change {
        match self.rng.below(10) {
            0..=3 => {
                let slot = self.rng.below(self.slot_count as u64) as usize;
                let (live, retired_max) = self.slots[slot];
                if live.is_some() || retired_max >= self.snapshot {
                    return Change::None;
                }
                let base = slot as u64 * self.slot_width;
                // Narrow ranges often share key_max with an earlier table of the slot.
                let key_max = base + self.rng.between(self.slot_width / 2, self.slot_width - 1);
                let key_min = key_max - self.rng.below(key_max - base + 1);
                self.address += 1;
                let table = TableInfo::new(
                    u128::from(self.rng.next_u64()),
                    self.address,
                    self.snapshot,
                    key_min,
                    if self.rng.chance(1, 2) {
                        base + self.slot_width - 1
                    } else {
                        key_max
                    },
                    self.rng.between(1, 100) as u32,
                );
                self.slots[slot].0 = Some(table);
                self.tables.push(table);
                Change::Insert(table)
            }
            4..=5 => {
                let live: Vec<usize> = (0..self.slot_count)
                    .filter(|&s| self.slots[s].0.is_some())
                    .collect();
                if live.is_empty() {
                    return Change::None;
                }
                let slot = live[self.rng.below(live.len() as u64) as usize];
                let table = self.slots[slot].0.take().unwrap();
                self.slots[slot].1 = self.snapshot;
                let position = self.tables.iter().position(|t| *t == table).unwrap();
                self.tables[position].snapshot_max = self.snapshot;
                Change::Retire(table, self.snapshot)
            }
            6..=7 => {
                self.snapshot += 1;
                Change::None
            }
            _ => {
                if self.tables.is_empty() {
                    return Change::None;
                }
                let index = self.rng.below(self.tables.len() as u64) as usize;
                let table = self.tables.swap_remove(index);
                for slot in &mut self.slots {
                    if slot.0 == Some(table) {
                        slot.0 = None;
                    }
                }
                Change::Remove(table)
            }
        }
    }

    fn apply<L: LevelOps>(level: &mut L, change: &Change) {
        match change {
            Change::Insert(table) => level.insert(*table),
            Change::Retire(table, snapshot) => level.retire(table, *snapshot),
            Change::Remove(table) => level.remove(table),
            Change::None => {}
        }
    }

    fn random_range(&mut self) -> KeyRange<u64> {
        match self.rng.below(6) {
            0 => KeyRange::full(),
            1 => KeyRange::point(self.rng.below(self.key_max() + 10)),
            _ => {
                let a = self.rng.below(self.key_max() + 10);
                let b = self.rng.below(self.key_max() + 10);
                KeyRange::new(a.min(b), a.max(b)).unwrap()
            }
        }
    }

    fn random_snapshot(&mut self) -> u64 {
        match self.rng.below(4) {
            0 => SNAPSHOT_LATEST,
            1 => self.snapshot,
            _ => self.rng.between(1, self.snapshot),
        }
    }
}

fn overlap<O: OverlapView>(overlap: Option<O>) -> Option<(Vec<Table>, KeyRange<u64>)> {
    overlap.map(|o| (o.tables().to_vec(), o.key_range()))
}

/// Asks `real` and `other` the same random questions; panics at the first difference.
fn compare<L: LevelOps>(name: &str, real: &ManifestLevel<'_, u64>, other: &L, w: &mut Workload) {
    assert_eq!(LevelOps::len(real), other.len(), "{name}: len");
    assert_eq!(real.counters(), other.counters(), "{name}: counters");
    for table in w.tables.clone() {
        assert_eq!(
            LevelOps::find(real, &table),
            other.find(&table),
            "{name}: find"
        );
        let mut stranger = table;
        stranger.address += 1_000_000;
        assert_eq!(other.find(&stranger), None, "{name}: find a stranger");
    }
    for _ in 0..24 {
        let snapshots = match w.rng.below(4) {
            0 => vec![],
            1 | 2 => vec![w.random_snapshot()],
            _ => vec![w.random_snapshot(), w.random_snapshot()],
        };
        let mut query = if w.rng.chance(3, 4) {
            Query::visible(&snapshots)
        } else {
            Query::invisible(&snapshots)
        };
        if w.rng.chance(1, 2) {
            query = query.descending();
        }
        if w.rng.chance(3, 4) {
            query = query.within(w.random_range());
        }
        assert_eq!(
            real.collect(query),
            other.collect(query),
            "{name}: {query:?}"
        );
        assert_eq!(
            real.first(query),
            other.first(query),
            "{name}: first {query:?}"
        );
    }
    for _ in 0..24 {
        let key_range = w.random_range();
        let key_exclusive = match w.rng.below(4) {
            0 => None,
            1 => Some(key_range.key_min()),
            // Anywhere, also outside the range.
            2 => Some(w.rng.below(w.key_max() + 10)),
            _ => Some(w.rng.between(
                key_range.key_min(),
                key_range.key_max().min(w.key_max() + 10),
            )),
        };
        let args = NextTable {
            snapshot: w.random_snapshot(),
            key_range,
            key_exclusive,
            direction: if w.rng.chance(1, 2) {
                Direction::Ascending
            } else {
                Direction::Descending
            },
        };
        assert_eq!(
            LevelOps::next_table(real, args),
            other.next_table(args),
            "{name}: {args:?}"
        );
        let snapshot = w.random_snapshot();
        let max = w.rng.below(9) as usize;
        assert_eq!(
            overlap(real.overlapping(key_range, snapshot, max)),
            overlap(other.overlapping(key_range, snapshot, max)),
            "{name}: overlapping {key_range:?} at {snapshot} max {max}"
        );
    }
}

fn least_overlap<L: LevelOps>(
    level: &L,
    other: &L,
    snapshot: u64,
    max: usize,
) -> Option<(Table, Vec<Table>, KeyRange<u64>)> {
    level
        .least_overlap(other, snapshot, max)
        .map(|(table, o)| (table, o.tables().to_vec(), o.key_range()))
}

#[test]
fn baselines_answer_like_the_level() {
    for seed in 1..=3u64 {
        let pools = [
            NodePool::new(256, ManifestLevel::<u64>::nodes_needed(256, 256).unwrap()).unwrap(),
            NodePool::new(256, ManifestLevel::<u64>::nodes_needed(256, 256).unwrap()).unwrap(),
        ];
        let mut real_a = ManifestLevel::<u64>::new(&pools[0], 256).unwrap();
        let mut real_b = ManifestLevel::<u64>::new(&pools[1], 256).unwrap();
        let mut vec_a = SortedVecLevel::new(256);
        let mut vec_b = SortedVecLevel::new(256);
        let mut btree_a = BTreeMapLevel::new(256);
        let mut btree_b = BTreeMapLevel::new(256);
        let mut indexset_a = IndexSetLevel::new(256);
        let mut indexset_b = IndexSetLevel::new(256);
        // Level A's slots are about 5 of B's wide (and not aligned with them), so A's
        // tables overlap several of B's, over the same key space.
        let mut workload_a = Workload::new(seed << 32, 10, 5 * 64 + 17);
        let mut workload_b = Workload::new(seed, 54, 64);
        for step in 0..400 {
            for (w, real, vec, btree, indexset) in [
                (
                    &mut workload_a,
                    &mut real_a,
                    &mut vec_a,
                    &mut btree_a,
                    &mut indexset_a,
                ),
                (
                    &mut workload_b,
                    &mut real_b,
                    &mut vec_b,
                    &mut btree_b,
                    &mut indexset_b,
                ),
            ] {
                let change = w.step();
                Workload::apply(real, &change);
                Workload::apply(vec, &change);
                Workload::apply(btree, &change);
                Workload::apply(indexset, &change);
                if step % 8 == 0 {
                    compare("sorted_vec", real, vec, w);
                    compare("btreemap", real, btree, w);
                    compare("indexset", real, indexset, w);
                }
            }
            if step % 8 == 0 {
                let snapshot = workload_b.random_snapshot();
                let max = workload_b.rng.below(9) as usize;
                let expected = least_overlap(&real_a, &real_b, snapshot, max);
                assert_eq!(
                    expected,
                    least_overlap(&vec_a, &vec_b, snapshot, max),
                    "sorted_vec least overlap"
                );
                assert_eq!(
                    expected,
                    least_overlap(&btree_a, &btree_b, snapshot, max),
                    "btreemap least overlap"
                );
                assert_eq!(
                    expected,
                    least_overlap(&indexset_a, &indexset_b, snapshot, max),
                    "indexset least overlap"
                );
            }
        }
        // Rebuilding from sorted order gives the same structure as the real level's.
        let mut sorted = workload_b.tables.clone();
        sorted.sort_by_key(|t| (t.key_max, t.snapshot_min));
        vec_b.rebuild_sorted(&sorted);
        btree_b.rebuild_sorted(&sorted);
        indexset_b.rebuild_sorted(&sorted);
        compare("sorted_vec rebuilt", &real_b, &vec_b, &mut workload_b);
        compare("btreemap rebuilt", &real_b, &btree_b, &mut workload_b);
        compare("indexset rebuilt", &real_b, &indexset_b, &mut workload_b);
        real_b.rebuild_sorted(&sorted);
        compare("level rebuilt", &real_b, &vec_b, &mut workload_b);
    }
}

//! Model-based randomized test of `ManifestLevel` against a plain sorted `Vec<TableInfo>`,
//! with up to 8 retained older snapshots.
//!
//! Every step is one random operation (insert tables that keep the level invariant, retire
//! tables at the current snapshot, take or drop snapshots, remove tables that no retained
//! snapshot sees, remove live tables; once per run, reset); after it, everything observable is
//! compared with the model, recomputed by brute force from the definitions of
//! docs/SEMANTICS.md §1 and §2.

mod common;

use common::{
    all_tables, collect, snapshot, vis, Model, Rng, Snapshot, Snapshots, TableGen, TestKey,
};
use manifest_level::{
    Direction, Error, KeyRange, ManifestLevel, NextTable, NodePool, Query, TableInfo, TableRef,
    Visibility, SNAPSHOT_LATEST, SNAPSHOT_MAX_LIVE,
};

const DIRECTIONS: [Direction; 2] = [Direction::Ascending, Direction::Descending];

struct Config {
    node_size: usize,
    capacity: u32,
    steps: usize,
    seed: u64,
    /// The pool's node count as a fraction (numerator over 4) of the worst case.
    pool_quarters: u32,
}

struct Env<'pool, K: TestKey> {
    rng: Rng,
    level: ManifestLevel<'pool, K>,
    model: Model<K>,
    tables: TableGen,
    snapshots: Snapshots,
    /// Some tables that were removed, to look up as absent.
    removed: Vec<TableInfo<K>>,
    /// Whether the pool is smaller than the worst case (node exhaustion is then expected).
    pool_small: bool,
    /// Counts of what happened, to prove the run exercised each path.
    stats: Stats,
}

#[derive(Debug, Default)]
struct Stats {
    inserted: usize,
    inserted_sharing_key_max: usize,
    retired: usize,
    removed_invisible: usize,
    removed_live: usize,
    capacity_errors: usize,
    pool_errors: usize,
    max_len: u32,
    max_retained: usize,
    deep_checks: usize,
}

fn run<K: TestKey>(config: Config) {
    let worst = ManifestLevel::<K>::nodes_needed(config.node_size, config.capacity).unwrap();
    let nodes = (worst * config.pool_quarters / 4).max(2);
    let pool = NodePool::new(config.node_size, nodes).unwrap();
    let mut env = Env {
        rng: Rng::new(config.seed),
        level: ManifestLevel::<K>::new(&pool, config.capacity).unwrap(),
        model: Model::new(),
        tables: TableGen::new(u64::from(config.capacity) * 40 + 64, 40),
        snapshots: Snapshots::new(),
        removed: Vec::new(),
        pool_small: nodes < worst,
        stats: Stats::default(),
    };
    let phase = (config.steps / 4).max(1);
    for step in 0..config.steps {
        let growing = (step / phase) % 2 == 0;
        if step == config.steps * 5 / 8 {
            env.reset();
        } else {
            env.step(growing);
        }
        env.stats.max_len = env.stats.max_len.max(env.level.len());
        env.stats.max_retained = env.stats.max_retained.max(env.snapshots.retained.len());
        env.cheap_check();
        // Deep checks cost O(n) per query; space them out on big levels.
        let every = 1 + env.level.len() as usize / 128;
        if step % every == 0 || step + 1 == config.steps {
            env.deep_check();
        }
    }
    let stats = &env.stats;
    eprintln!(
        "node {} cap {} {}: {stats:?}",
        config.node_size,
        config.capacity,
        core::any::type_name::<K>()
    );
    // The run must have exercised every path it is meant to.
    assert!(stats.inserted > 0 && stats.retired > 0 && stats.removed_invisible > 0);
    assert!(stats.removed_live > 0 && stats.inserted_sharing_key_max > 0);
    assert!(
        stats.max_retained == 8,
        "retained snapshots: {}",
        stats.max_retained
    );
    if env.pool_small {
        assert!(stats.pool_errors > 0);
    } else {
        assert_eq!(stats.pool_errors, 0);
        assert!(stats.capacity_errors > 0);
        assert_eq!(stats.max_len, config.capacity);
    }
    drop(env);
    assert_eq!(pool.free_count(), pool.node_count());
}

impl<K: TestKey> Env<'_, K> {
    fn step(&mut self, growing: bool) {
        let weights: [u64; 7] = if growing {
            [10, 3, 2, 1, 2, 1, 1]
        } else {
            [3, 4, 2, 1, 6, 2, 1]
        };
        match self.rng.weighted(&weights) {
            0 => {
                // Bigger batches for bigger levels, so every run fills its level.
                let batch = (u64::from(self.level.capacity()) / 40).max(10);
                let n = self.rng.between(1, batch);
                for _ in 0..n {
                    if !self.insert() {
                        break;
                    }
                }
            }
            1 => self.retire(),
            2 => self.snapshots.take(&mut self.rng),
            3 => self.snapshots.drop_one(&mut self.rng),
            4 => self.remove_invisible(),
            5 => self.remove_live(),
            _ => self.compact(),
        }
    }

    /// `compact` moves tables between nodes only: the same tables in the same order (both
    /// ways), the same counters and generation, references still valid; the level then
    /// holds its tables in nodes at least 15/16 full and returns the rest to the pool.
    fn compact(&mut self) {
        let before = snapshot(&self.level);
        // References from both directions: each remembers the node its table was in, and
        // must still name its table (by index) once compaction moved it elsewhere.
        let latest = [SNAPSHOT_LATEST];
        let taken: Vec<(TableRef, TableInfo<K>)> = DIRECTIONS
            .iter()
            .flat_map(|&direction| {
                self.level
                    .iter(Query::visible(&latest).direction(direction))
                    .map(|(reference, table)| (reference, *table))
            })
            .collect();
        let free = self.level.pool().free_count();
        let nodes = self.level.node_count();
        self.level.compact();
        self.level.verify();
        let after = snapshot(&self.level);
        // Everything but the node use is unchanged.
        let expected = Snapshot {
            node_count: after.node_count,
            pool_free: after.pool_free,
            ..before
        };
        assert_eq!(after, expected);
        let packed = self.level.node_count();
        let capacity = self.level.node_capacity();
        let target = capacity - capacity / 16;
        assert!(packed <= self.level.len().div_ceil(target) && packed <= nodes);
        assert_eq!(self.level.pool().free_count(), free + (nodes - packed));
        for (reference, table) in taken {
            assert_eq!(self.level.get(reference), Ok(&table));
            assert_eq!(self.model.tables[reference.index() as usize], table);
        }
    }

    /// Inserts one random table; false when the level refused it.
    fn insert(&mut self) -> bool {
        let Some(table) = self
            .tables
            .make(&mut self.rng, &self.model, self.snapshots.current)
        else {
            return true;
        };
        let shares_key_max = self.model.tables.iter().any(|t| t.key_max == table.key_max);
        // Only a full level or a small pool can refuse; then compare everything before and
        // after (for the first refusals; later ones compare the cheap parts).
        let errors = self.stats.capacity_errors + self.stats.pool_errors;
        let may_fail = self.level.len() == self.level.capacity() || self.pool_small;
        let before = (may_fail && errors < 40).then(|| snapshot(&self.level));
        let unchanged = |level: &ManifestLevel<'_, K>, before: &Option<Snapshot<K>>| {
            if let Some(before) = before {
                assert_eq!(&snapshot(level), before);
            }
        };
        let (len, free) = (self.level.len(), self.level.pool().free_count());
        let generation = self.level.generation();
        match self.level.insert_table(table) {
            Ok(reference) => {
                let at = self.model.insert(table);
                assert_eq!(
                    reference.index() as usize,
                    at,
                    "reference index of {table:?}"
                );
                assert_eq!(self.level.get(reference), Ok(&table));
                assert_eq!(self.level.generation(), generation.wrapping_add(1));
                self.stats.inserted += 1;
                self.stats.inserted_sharing_key_max += usize::from(shares_key_max);
                return true;
            }
            Err(Error::CapacityExhausted { capacity }) => {
                assert_eq!(capacity, self.level.capacity());
                assert_eq!(len, capacity);
                self.stats.capacity_errors += 1;
            }
            Err(Error::NodePoolExhausted {
                needed,
                free: reported,
            }) => {
                assert!(self.pool_small, "the worst-case pool ran out");
                assert!(needed > reported && needed <= 2);
                assert_eq!(reported, free);
                self.stats.pool_errors += 1;
            }
            Err(error) => panic!("insert {table:?}: {error:?}"),
        }
        assert_eq!(self.level.generation(), generation);
        assert_eq!(self.level.len(), len);
        assert_eq!(self.level.pool().free_count(), free);
        unchanged(&self.level, &before);
        false
    }

    /// Retires 1..=5 live tables at the current snapshot, with references from `find`, from
    /// iteration, or from a ranged query.
    fn retire(&mut self) {
        let latest = [SNAPSHOT_LATEST];
        let n = self.rng.between(1, 5) as usize;
        let references: Vec<TableRef> = match self.rng.below(3) {
            0 => {
                let live = self.model.visible(SNAPSHOT_LATEST);
                (0..n.min(live.len()))
                    .map(|_| {
                        let t = self.rng.pick(&live);
                        self.level.find(t).expect("live table present").0
                    })
                    .collect()
            }
            1 => {
                let direction = *self.rng.pick(&DIRECTIONS);
                self.level
                    .iter(Query::visible(&latest).direction(direction))
                    .take(n)
                    .map(|(r, _)| r)
                    .collect()
            }
            _ => {
                let range = self.tables.range(&mut self.rng, &self.model);
                self.level
                    .iter(Query::visible(&latest).within(range))
                    .take(n)
                    .map(|(r, _)| r)
                    .collect()
            }
        };
        let snapshot_max = self.snapshots.current;
        for reference in references {
            let table = *self.level.get(reference).unwrap();
            let at = self.model.position(&table).unwrap();
            assert_eq!(reference.index() as usize, at);
            if !table.is_live() {
                // `find` may pick the same table twice: the second retire is an error.
                let before = snapshot(&self.level);
                assert_eq!(
                    self.level.set_snapshot_max(snapshot_max, reference),
                    Err(Error::TableAlreadyRetired {
                        snapshot_max: table.snapshot_max
                    })
                );
                assert_eq!(snapshot(&self.level), before);
                continue;
            }
            let generation = self.level.generation();
            self.level
                .set_snapshot_max(snapshot_max, reference)
                .unwrap();
            assert_eq!(
                self.level.generation(),
                generation,
                "retire keeps the generation"
            );
            self.model.tables[at].snapshot_max = snapshot_max;
            assert_eq!(self.level.get(reference), Ok(&self.model.tables[at]));
            assert!(!vis(&self.model.tables[at], SNAPSHOT_LATEST));
            assert!(vis(&self.model.tables[at], snapshot_max));
            self.stats.retired += 1;
        }
    }

    /// Removes up to 1..=6 of the tables no retained snapshot sees, listed by the level.
    fn remove_invisible(&mut self) {
        let retained = self.snapshots.retained.clone();
        let direction = *self.rng.pick(&DIRECTIONS);
        let dead = collect(
            &self.level,
            &self.model,
            Query::invisible(&retained).direction(direction),
        );
        assert_eq!(
            dead,
            self.model
                .query(Visibility::Invisible, &retained, direction, None)
        );
        let n = (self.rng.between(1, 6) as usize).min(dead.len());
        for table in dead.iter().take(n) {
            self.remove(table);
            self.stats.removed_invisible += 1;
        }
    }

    fn remove_live(&mut self) {
        let live = self.model.visible(SNAPSHOT_LATEST);
        if live.is_empty() {
            return;
        }
        let table = *self.rng.pick(&live);
        self.remove(&table);
        self.stats.removed_live += 1;
    }

    fn remove(&mut self, table: &TableInfo<K>) {
        let stale = self.level.find(table).unwrap().0;
        let generation = self.level.generation();
        self.level.remove_table(table).unwrap();
        self.model.remove(table);
        assert_eq!(self.level.generation(), generation.wrapping_add(1));
        assert!(!self.level.contains(table));
        // A reference taken before the removal is stale now.
        assert!(matches!(
            self.level.set_snapshot_max(self.snapshots.current, stale),
            Err(Error::StaleReference { .. })
        ));
        assert!(matches!(
            self.level.get(stale),
            Err(Error::StaleReference { .. })
        ));
        if self.removed.len() == 16 {
            self.removed.swap_remove(self.rng.index(16));
        }
        self.removed.push(*table);
    }

    fn reset(&mut self) {
        let generation = self.level.generation();
        self.level.reset();
        self.model.tables.clear();
        assert_eq!(self.level.generation(), generation.wrapping_add(1));
        assert_eq!(self.level.node_count(), 0);
        assert_eq!(
            self.level.pool().free_count(),
            self.level.pool().node_count()
        );
    }

    /// O(1)-ish checks after every step.
    fn cheap_check(&self) {
        assert_eq!(self.level.len() as usize, self.model.len());
        assert_eq!(self.level.is_empty(), self.model.tables.is_empty());
        assert_eq!(
            self.level.table_count_visible(),
            self.model.table_count_visible()
        );
        assert_eq!(
            self.level.value_count_visible(),
            self.model.value_count_visible()
        );
        assert_eq!(
            self.level
                .key_range_latest()
                .map(|r| (r.key_min(), r.key_max())),
            self.model.key_range_latest()
        );
    }

    fn deep_check(&mut self) {
        self.stats.deep_checks += 1;
        self.level.verify();
        let level = &self.level;
        let model = &self.model;
        let rng = &mut self.rng;
        let current = self.snapshots.current;
        let retained = &self.snapshots.retained;

        // Every table, both directions.
        assert_eq!(all_tables(level, Direction::Ascending), model.tables);
        let mut reversed = model.tables.clone();
        reversed.reverse();
        assert_eq!(all_tables(level, Direction::Descending), reversed);

        // Single snapshots: the level invariant holds, so the early-stopping range
        // iteration must still equal brute force.
        let mut singles = vec![SNAPSHOT_LATEST, current];
        singles.extend_from_slice(retained);
        singles.push(rng.between(1, current));
        for &s in &singles {
            model.assert_disjoint(s);
            let snapshots = [s];
            for direction in DIRECTIONS {
                let query = Query::visible(&snapshots).direction(direction);
                let expected = model.query(Visibility::Visible, &snapshots, direction, None);
                assert_eq!(collect(level, model, query), expected, "snapshot {s}");
                for _ in 0..2 {
                    let range = self.tables.range(rng, model);
                    let expected = model.query(
                        Visibility::Visible,
                        &snapshots,
                        direction,
                        Some((range.key_min(), range.key_max())),
                    );
                    assert_eq!(
                        collect(level, model, query.within(range)),
                        expected,
                        "snapshot {s} {direction:?} {range:?}"
                    );
                }
            }
        }

        // Snapshot sets, both visibilities.
        let mut with_latest = retained.clone();
        with_latest.push(SNAPSHOT_LATEST);
        let mut subset: Vec<u64> = retained
            .iter()
            .copied()
            .filter(|_| rng.chance(1, 2))
            .collect();
        subset.push(current);
        let sets: [&[u64]; 4] = [retained, &with_latest, &[], &subset];
        for snapshots in sets {
            for visibility in [Visibility::Visible, Visibility::Invisible] {
                for direction in DIRECTIONS {
                    let query = Query {
                        visibility,
                        snapshots,
                        direction,
                        key_range: None,
                    };
                    let expected = model.query(visibility, snapshots, direction, None);
                    assert_eq!(collect(level, model, query), expected);
                    let range = self.tables.range(rng, model);
                    let expected = model.query(
                        visibility,
                        snapshots,
                        direction,
                        Some((range.key_min(), range.key_max())),
                    );
                    assert_eq!(
                        collect(level, model, query.within(range)),
                        expected,
                        "{visibility:?} {snapshots:?} {direction:?} {range:?}"
                    );
                }
            }
        }

        // key_range_contains: exact for latest, never a false "no" for older snapshots.
        let latest_range = model.key_range_latest();
        let mut keys: Vec<K> = (0..8)
            .map(|_| K::at(rng.between(0, self.tables.span)))
            .collect();
        if let Some((lo, hi)) = latest_range {
            keys.extend([lo, hi]);
            keys.extend([lo.pred(), hi.succ()].into_iter().flatten());
        }
        for t in model.tables.iter().take(4) {
            keys.extend([t.key_min, t.key_max]);
        }
        for &key in &keys {
            let expected = latest_range.is_some_and(|(lo, hi)| lo <= key && key <= hi);
            assert_eq!(
                level.key_range_contains(SNAPSHOT_LATEST, key),
                expected,
                "{key:?}"
            );
            for &s in singles.iter().skip(1) {
                let present = model
                    .tables
                    .iter()
                    .any(|t| vis(t, s) && t.key_min <= key && key <= t.key_max);
                if present {
                    assert!(level.key_range_contains(s, key), "{key:?} at {s}");
                }
            }
        }

        // find / contains for present tables, altered copies, and removed tables.
        for _ in 0..4.min(model.len()) {
            let at = rng.index(model.len());
            let t = model.tables[at];
            let (reference, found) = level.find(&t).expect("present");
            assert_eq!((found, reference.index() as usize), (&t, at));
            assert!(level.contains(&t));
            let mut other_max = t;
            other_max.snapshot_max = if t.is_live() {
                current
            } else {
                SNAPSHOT_MAX_LIVE
            };
            assert_eq!(level.find(&other_max).map(|(_, f)| *f), Some(t));
            assert!(!level.contains(&other_max));
            let mut other_count = t;
            other_count.value_count ^= 1;
            assert!(level.find(&other_count).is_some() && !level.contains(&other_count));
            for altered in [
                TableInfo {
                    address: t.address + (1 << 40),
                    ..t
                },
                TableInfo {
                    checksum: t.checksum ^ 1,
                    ..t
                },
                TableInfo {
                    snapshot_min: t.snapshot_min + 1,
                    ..t
                },
                TableInfo {
                    key_max: K::at(self.tables.span + 100),
                    ..t
                },
            ] {
                assert!(level.find(&altered).is_none(), "{altered:?}");
                assert!(!level.contains(&altered));
            }
        }
        let gone: Vec<TableInfo<K>> = self.removed.iter().take(4).copied().collect();
        for t in &gone {
            assert!(self.level.find(t).is_none() && !self.level.contains(t));
            let before = snapshot(&self.level);
            assert_eq!(
                self.level.remove_table(t),
                Err(Error::TableNotFound),
                "{t:?}"
            );
            assert_eq!(snapshot(&self.level), before);
        }
    }
}

macro_rules! level_model_tests {
    ($($name:ident: $key:ty, $node:expr, $cap:expr, $steps:expr, $quarters:expr;)*) => {$(
        #[test]
        #[cfg_attr(miri, ignore)]
        fn $name() {
            run::<$key>(Config {
                node_size: $node,
                capacity: $cap,
                steps: $steps,
                seed: 0xC0DE ^ ($node as u64) ^ (($cap as u64) << 16),
                pool_quarters: $quarters,
            });
        }
    )*};
}

level_model_tests! {
    node_256_cap_33: u64, 256, 33, 500, 4;
    node_256_cap_34: u64, 256, 34, 500, 4;
    node_256_cap_1024: u64, 256, 1024, 600, 4;
    node_512_cap_33: u64, 512, 33, 500, 4;
    node_512_cap_34: u64, 512, 34, 500, 4;
    node_512_cap_1024: u64, 512, 1024, 600, 4;
    node_1024_cap_33: u64, 1024, 33, 500, 4;
    node_1024_cap_34: u64, 1024, 34, 500, 4;
    node_1024_cap_1024: u64, 1024, 1024, 600, 4;
    u128_node_256_cap_34: u128, 256, 34, 500, 4;
    u128_node_1024_cap_1024: u128, 1024, 1024, 500, 4;
    small_pool_node_256_cap_1024: u64, 256, 1024, 400, 1;
}

/// Tables at the very ends of the key space (including `K::MAX`, shared by a retired table
/// and its replacement) and a table inserted already retired, against the model.
fn extreme_keys<K: TestKey>() {
    let pool = NodePool::new(256, ManifestLevel::<K>::nodes_needed(256, 16).unwrap()).unwrap();
    let mut level = ManifestLevel::<K>::new(&pool, 16).unwrap();
    let mut model = Model::new();
    let (min, max) = (K::MIN, K::MAX);
    let below_max = max.pred().unwrap();
    let far_below_max = (0..9).fold(below_max, |k, _| k.pred().unwrap());
    let t = |address: u64, snapshot: u64, lo: K, hi: K| {
        TableInfo::new(
            u128::from(address),
            address,
            snapshot,
            lo,
            hi,
            address as u32,
        )
    };
    let mut insert = |level: &mut ManifestLevel<'_, K>, table: TableInfo<K>| {
        level.insert_table(table).unwrap();
        model.insert(table);
    };
    insert(&mut level, t(1, 1, min, min));
    insert(&mut level, t(2, 1, K::at(1), K::at(10)));
    insert(&mut level, t(3, 1, far_below_max, below_max));
    insert(&mut level, t(4, 1, max, max));
    assert_eq!(
        level.key_range_latest(),
        Some(KeyRange::new(min, max).unwrap())
    );
    // Retire [max, max] at 2, replace it at 3 (same key_max, later snapshot_min).
    let (reference, _) = level.find(&t(4, 1, max, max)).unwrap();
    level.set_snapshot_max(2, reference).unwrap();
    insert(&mut level, t(5, 3, max, max));
    // A table inserted already retired: seen by snapshot 1 only, never by latest.
    let retired = TableInfo {
        snapshot_max: 1,
        ..t(6, 1, K::at(20), K::at(30))
    };
    let (count, values) = (level.table_count_visible(), level.value_count_visible());
    insert(&mut level, retired);
    assert_eq!(
        (level.table_count_visible(), level.value_count_visible()),
        (count, values)
    );
    let mut model = model.clone();
    model.tables.iter_mut().for_each(|m| {
        if m.address == 4 {
            m.snapshot_max = 2;
        }
    });
    let check = |level: &ManifestLevel<'_, K>, model: &Model<K>| {
        level.verify();
        assert_eq!(all_tables(level, Direction::Ascending), model.tables);
        let ranges = [
            KeyRange::point(min),
            KeyRange::point(max),
            KeyRange::full(),
            KeyRange::new(below_max, max).unwrap(),
            KeyRange::new(K::at(5), far_below_max).unwrap(),
            KeyRange::new(K::at(11), K::at(19)).unwrap(),
        ];
        for s in [SNAPSHOT_LATEST, 1, 2, 3] {
            let snapshots = [s];
            for range in ranges {
                for direction in DIRECTIONS {
                    let expected = model.query(
                        Visibility::Visible,
                        &snapshots,
                        direction,
                        Some((range.key_min(), range.key_max())),
                    );
                    let query = Query::visible(&snapshots)
                        .direction(direction)
                        .within(range);
                    assert_eq!(collect(level, model, query), expected, "{s} {range:?}");
                    // next_table walks the same tables.
                    let mut walked = Vec::new();
                    let mut key_exclusive = None;
                    while let Some((_, table)) = level.next_table(NextTable {
                        snapshot: s,
                        key_range: range,
                        key_exclusive,
                        direction,
                    }) {
                        walked.push(*table);
                        let edge = match direction {
                            Direction::Ascending => table.key_max,
                            Direction::Descending => table.key_min,
                        };
                        if !range.contains(edge) {
                            break;
                        }
                        key_exclusive = Some(edge);
                    }
                    assert_eq!(walked, expected, "walk {s} {range:?} {direction:?}");
                }
            }
        }
        let invisible = model.query(Visibility::Invisible, &[], Direction::Ascending, None);
        assert_eq!(collect(level, model, Query::invisible(&[])), invisible);
        assert_eq!(
            level.key_range_latest().map(|r| (r.key_min(), r.key_max())),
            model.key_range_latest()
        );
    };
    check(&level, &model);
    assert!(level.key_range_contains(SNAPSHOT_LATEST, max));
    assert!(level.key_range_contains(SNAPSHOT_LATEST, min));
    // Retiring the lowest table moves the low edge; removing the highest moves the high one.
    let (reference, _) = level.find(&t(1, 1, min, min)).unwrap();
    level.set_snapshot_max(3, reference).unwrap();
    model.tables[0].snapshot_max = 3;
    assert!(!level.key_range_contains(SNAPSHOT_LATEST, min));
    level.remove_table(&t(5, 3, max, max)).unwrap();
    model.remove(&t(5, 3, max, max));
    assert!(!level.key_range_contains(SNAPSHOT_LATEST, max));
    assert!(level.key_range_contains(SNAPSHOT_LATEST, below_max));
    check(&level, &model);
    // Removing the retired tables leaves the level consistent.
    for table in model.query(Visibility::Invisible, &[], Direction::Descending, None) {
        level.remove_table(&table).unwrap();
        model.remove(&table);
    }
    check(&level, &model);
}

#[test]
fn extreme_keys_u64() {
    extreme_keys::<u64>();
}

#[test]
fn extreme_keys_u128() {
    extreme_keys::<u128>();
}

/// References keep naming their tables across `compact()`, which moves tables to other
/// nodes. A reference remembers the node its table was in (a hint for speed only):
/// `get` and `set_snapshot_max` must reach the table at the reference's index whatever
/// that node holds now. References from `find`, from `insert_table` and from iteration in
/// both directions; the oracle is a sorted `Vec` of the inserted tables.
#[test]
fn references_reach_their_tables_after_compact_moved_them() {
    const COUNT: u64 = 500;
    let capacity = COUNT as u32 + 1;
    let pool = NodePool::new(
        256,
        ManifestLevel::<u64>::nodes_needed(256, capacity).unwrap(),
    )
    .unwrap();
    let mut level = ManifestLevel::<u64>::new(&pool, capacity).unwrap();
    let mut rng = Rng::new(7);
    let mut slots: Vec<u64> = (0..COUNT).collect();
    rng.shuffle(&mut slots);
    // Disjoint tables in random order: 4 per node, nodes about 70% full before compact().
    let table =
        |slot: u64| TableInfo::new(u128::from(slot), slot + 1, 1, slot * 10, slot * 10 + 5, 10);
    let mut model: Vec<TableInfo<u64>> = slots.iter().map(|&slot| table(slot)).collect();
    for &slot in &slots {
        level.insert_table(table(slot)).unwrap();
    }
    model.sort_by_key(|table| table.key_max);
    let last = level.insert_table(table(COUNT)).unwrap();
    model.push(table(COUNT));

    let latest = [SNAPSHOT_LATEST];
    let mut taken: Vec<(TableRef, TableInfo<u64>)> = vec![(last, table(COUNT))];
    for direction in DIRECTIONS {
        let query = Query::visible(&latest).direction(direction);
        taken.extend(
            level
                .iter(query)
                .map(|(reference, table)| (reference, *table)),
        );
    }
    for expected in model.iter().step_by(7) {
        let (reference, found) = level.find(expected).unwrap();
        taken.push((reference, *found));
    }
    let nodes = level.node_count();
    level.compact();
    assert!(
        level.node_count() < nodes,
        "compact() moved tables to fewer nodes"
    );

    for (reference, table) in &taken {
        assert_eq!(level.get(*reference), Ok(table));
        assert_eq!(model[reference.index() as usize], *table);
    }
    // Retire every third table through a reference taken before compact().
    for (reference, _) in taken.iter().skip(1).step_by(3) {
        let at = reference.index() as usize;
        if !vis(&model[at], SNAPSHOT_LATEST) {
            continue;
        }
        level.set_snapshot_max(5, *reference).unwrap();
        model[at].snapshot_max = 5;
    }
    level.verify();
    assert_eq!(all_tables(&level, Direction::Ascending), model);
}

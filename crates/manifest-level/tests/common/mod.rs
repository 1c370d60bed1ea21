//! Shared helpers of the integration tests: a deterministic PRNG (`rng.rs`), a reference
//! model of a level written from the definitions of docs/SEMANTICS.md §1 and §2 (not from
//! the library's helpers), and a generator of tables that keeps the level invariant.
#![allow(dead_code)]

use manifest_level::{
    Direction, Key, KeyRange, ManifestLevel, Query, TableInfo, Visibility, SNAPSHOT_LATEST,
    SNAPSHOT_MAX_LIVE,
};

mod rng;
pub use rng::Rng;

/// A key type for the tests: maps a small "domain coordinate" monotonically onto keys, so
/// u128 runs exercise the high bits.
pub trait TestKey: Key {
    fn at(x: u64) -> Self;
    /// The key just below, if any.
    fn pred(self) -> Option<Self>;
    /// The key just above, if any.
    fn succ(self) -> Option<Self>;
}

impl TestKey for u64 {
    fn at(x: u64) -> u64 {
        x
    }
    fn pred(self) -> Option<u64> {
        self.checked_sub(1)
    }
    fn succ(self) -> Option<u64> {
        self.checked_add(1)
    }
}

impl TestKey for u128 {
    fn at(x: u64) -> u128 {
        (u128::MAX - (1u128 << 80)) + u128::from(x)
    }
    fn pred(self) -> Option<u128> {
        self.checked_sub(1)
    }
    fn succ(self) -> Option<u128> {
        self.checked_add(1)
    }
}

// ---- The reference model, from the definitions of docs/SEMANTICS.md §1 and §2 -------------

/// `visible(t, s)` ⇔ `snapshot_min <= s <= snapshot_max`.
pub fn vis<K>(t: &TableInfo<K>, s: u64) -> bool {
    t.snapshot_min <= s && s <= t.snapshot_max
}

/// `invisible(t, snapshots)` ⇔ not visible to latest nor to any of `snapshots`.
pub fn invis<K>(t: &TableInfo<K>, snapshots: &[u64]) -> bool {
    !vis(t, SNAPSHOT_LATEST) && snapshots.iter().all(|&s| !vis(t, s))
}

/// Whether the table shares a key with `[lo, hi]`.
pub fn meets<K: Key>(t: &TableInfo<K>, lo: K, hi: K) -> bool {
    t.key_min <= hi && lo <= t.key_max
}

/// Whether two tables share a key.
pub fn tables_meet<K: Key>(a: &TableInfo<K>, b: &TableInfo<K>) -> bool {
    meets(a, b.key_min, b.key_max)
}

/// The tables of a level as a plain vector sorted by `(key_max, snapshot_min)`.
#[derive(Clone, Debug, Default)]
pub struct Model<K> {
    pub tables: Vec<TableInfo<K>>,
}

impl<K: Key> Model<K> {
    pub fn new() -> Self {
        Model { tables: Vec::new() }
    }

    pub fn len(&self) -> usize {
        self.tables.len()
    }

    /// Inserts after every table with a smaller or equal `(key_max, snapshot_min)`.
    pub fn insert(&mut self, t: TableInfo<K>) -> usize {
        let at = self
            .tables
            .partition_point(|x| (x.key_max, x.snapshot_min) <= (t.key_max, t.snapshot_min));
        self.tables.insert(at, t);
        at
    }

    pub fn position(&self, t: &TableInfo<K>) -> Option<usize> {
        self.tables.iter().position(|x| x == t)
    }

    pub fn remove(&mut self, t: &TableInfo<K>) {
        let at = self.position(t).expect("model holds the table");
        self.tables.remove(at);
    }

    /// Brute force: every table passing the visibility filter and intersecting the range,
    /// in `(key_max, snapshot_min)` order, reversed for descending.
    pub fn query(
        &self,
        visibility: Visibility,
        snapshots: &[u64],
        direction: Direction,
        range: Option<(K, K)>,
    ) -> Vec<TableInfo<K>> {
        let mut out: Vec<TableInfo<K>> = self
            .tables
            .iter()
            .filter(|t| match visibility {
                Visibility::Visible => snapshots.iter().any(|&s| vis(t, s)),
                Visibility::Invisible => invis(t, snapshots),
            })
            .filter(|t| range.is_none_or(|(lo, hi)| meets(t, lo, hi)))
            .copied()
            .collect();
        if direction == Direction::Descending {
            out.reverse();
        }
        out
    }

    /// Tables visible to `s`, ascending.
    pub fn visible(&self, s: u64) -> Vec<TableInfo<K>> {
        self.query(Visibility::Visible, &[s], Direction::Ascending, None)
    }

    pub fn table_count_visible(&self) -> u32 {
        self.tables
            .iter()
            .filter(|t| vis(t, SNAPSHOT_LATEST))
            .count() as u32
    }

    pub fn value_count_visible(&self) -> u64 {
        self.tables
            .iter()
            .filter(|t| vis(t, SNAPSHOT_LATEST))
            .map(|t| u64::from(t.value_count))
            .sum()
    }

    pub fn key_range_latest(&self) -> Option<(K, K)> {
        let mut range: Option<(K, K)> = None;
        for t in self.tables.iter().filter(|t| vis(t, SNAPSHOT_LATEST)) {
            range = Some(match range {
                None => (t.key_min, t.key_max),
                Some((lo, hi)) => (lo.min(t.key_min), hi.max(t.key_max)),
            });
        }
        range
    }

    /// Checks the level invariant for snapshot `s` on the model itself.
    pub fn assert_disjoint(&self, s: u64) {
        let visible = self.visible(s);
        for pair in visible.windows(2) {
            assert!(
                pair[0].key_max < pair[1].key_min,
                "model breaks the level invariant at snapshot {s}: {:?} / {:?}",
                pair[0],
                pair[1]
            );
        }
    }
}

/// Runs `level.iter(query)` and returns the tables, checking every reference on the way:
/// it resolves to the same table, and its index is the table's position in `model`.
pub fn collect<K: Key>(
    level: &ManifestLevel<'_, K>,
    model: &Model<K>,
    query: Query<'_, K>,
) -> Vec<TableInfo<K>> {
    let mut out = Vec::new();
    for (reference, table) in level.iter(query) {
        assert_eq!(level.get(reference).expect("fresh reference"), table);
        assert_eq!(reference.generation(), level.generation());
        let at = reference.index() as usize;
        assert!(at < model.len(), "reference index {at} past the model");
        assert_eq!(
            &model.tables[at], table,
            "reference index {at} is not the table"
        );
        out.push(*table);
    }
    out
}

/// Everything observable about a level, to check an error changed nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot<K> {
    pub tables: Vec<TableInfo<K>>,
    pub tables_descending: Vec<TableInfo<K>>,
    pub len: u32,
    pub table_count_visible: u32,
    pub value_count_visible: u64,
    pub key_range_latest: Option<KeyRange<K>>,
    pub generation: u32,
    pub node_count: u32,
    pub pool_free: u32,
}

/// Every table regardless of visibility, in `direction` order.
pub fn all_tables<K: Key>(level: &ManifestLevel<'_, K>, direction: Direction) -> Vec<TableInfo<K>> {
    // Visible(&[LATEST]) and Invisible(&[]) (= not visible to latest) partition the level;
    // merge them by position.
    let latest = [SNAPSHOT_LATEST];
    let mut a = level
        .iter(Query::visible(&latest).direction(direction))
        .map(|(r, t)| (r.index(), *t))
        .collect::<Vec<_>>();
    let b = level
        .iter(Query::invisible(&[]).direction(direction))
        .map(|(r, t)| (r.index(), *t));
    a.extend(b);
    match direction {
        Direction::Ascending => a.sort_by_key(|(i, _)| *i),
        Direction::Descending => a.sort_by_key(|(i, _)| core::cmp::Reverse(*i)),
    }
    a.into_iter().map(|(_, t)| t).collect()
}

pub fn snapshot<K: Key>(level: &ManifestLevel<'_, K>) -> Snapshot<K> {
    Snapshot {
        tables: all_tables(level, Direction::Ascending),
        tables_descending: all_tables(level, Direction::Descending),
        len: level.len(),
        table_count_visible: level.table_count_visible(),
        value_count_visible: level.value_count_visible(),
        key_range_latest: level.key_range_latest(),
        generation: level.generation(),
        node_count: level.node_count(),
        pool_free: level.pool().free_count(),
    }
}

// ---- Table generation ----------------------------------------------------------------------

/// Makes tables that keep the level invariant for every snapshot.
///
/// A new table is created at the current snapshot `c`, so it is visible to every snapshot
/// `>= c`. An existing table shares a snapshot with it iff its `snapshot_max >= c` (live, or
/// retired at `c`): those are the blockers it must not overlap. Tables retired before `c`
/// may overlap it, and the generator deliberately reuses their `key_max` and ranges.
#[derive(Clone, Debug)]
pub struct TableGen {
    pub next_address: u64,
    /// Keys are drawn from domain coordinates `0..=span`.
    pub span: u64,
    pub width_max: u64,
}

impl TableGen {
    pub fn new(span: u64, width_max: u64) -> Self {
        TableGen {
            next_address: 1,
            span,
            width_max,
        }
    }

    fn fill<K: TestKey>(&mut self, rng: &mut Rng, snapshot: u64, lo: K, hi: K) -> TableInfo<K> {
        let address = self.next_address;
        self.next_address += 1;
        TableInfo {
            checksum: rng.next_u128(),
            address,
            snapshot_min: snapshot,
            snapshot_max: SNAPSHOT_MAX_LIVE,
            key_min: lo,
            key_max: hi,
            value_count: rng.below(1000) as u32,
        }
    }

    /// A table at `snapshot` that overlaps no blocker of `model`, or `None` after a few
    /// failed attempts.
    pub fn make<K: TestKey>(
        &mut self,
        rng: &mut Rng,
        model: &Model<K>,
        snapshot: u64,
    ) -> Option<TableInfo<K>> {
        let fits = |lo: K, hi: K| {
            !model
                .tables
                .iter()
                .any(|t| t.snapshot_max >= snapshot && meets(t, lo, hi))
        };
        for _ in 0..8 {
            // Sometimes reuse a retired (non-blocking) table's key_max or whole range.
            if rng.chance(1, 3) {
                let retired: Vec<&TableInfo<K>> = model
                    .tables
                    .iter()
                    .filter(|t| t.snapshot_max < snapshot)
                    .collect();
                if !retired.is_empty() {
                    let r = **rng.pick(&retired);
                    let (lo, hi) = match rng.below(3) {
                        0 => (r.key_min, r.key_max),
                        1 => (r.key_max, r.key_max),
                        _ => (K::at(rng.between(0, self.span)).min(r.key_max), r.key_max),
                    };
                    if fits(lo, hi) {
                        return Some(self.fill(rng, snapshot, lo, hi));
                    }
                    continue;
                }
            }
            let width = if rng.chance(1, 4) {
                0
            } else {
                rng.between(0, self.width_max)
            };
            let x = rng.between(0, self.span.saturating_sub(width));
            let (lo, hi) = (K::at(x), K::at(x + width));
            if fits(lo, hi) {
                return Some(self.fill(rng, snapshot, lo, hi));
            }
        }
        None
    }

    /// A random key range over the domain (sometimes a point, sometimes the whole key space,
    /// sometimes hugging a table's edge).
    pub fn range<K: TestKey>(&self, rng: &mut Rng, model: &Model<K>) -> KeyRange<K> {
        match rng.below(10) {
            0 => KeyRange::full(),
            1 | 2 if !model.tables.is_empty() => {
                // Touch a table edge exactly, from either side.
                let t = rng.pick(&model.tables);
                let (lo, hi) = if rng.chance(1, 2) {
                    (t.key_max, t.key_max)
                } else {
                    (t.key_min, t.key_min)
                };
                let lo = if rng.chance(1, 2) {
                    lo
                } else {
                    K::at(rng.between(0, self.span))
                        .min(lo)
                        .min(K::at(self.span))
                };
                KeyRange::new(lo.min(hi), hi.max(lo)).unwrap()
            }
            3 => KeyRange::point(K::at(rng.between(0, self.span))),
            _ => {
                let a = rng.between(0, self.span + 8);
                let b = rng.between(0, self.span + 8);
                KeyRange::new(K::at(a.min(b)), K::at(a.max(b))).unwrap()
            }
        }
    }
}

/// A level's snapshot bookkeeping during random evolution.
#[derive(Clone, Debug)]
pub struct Snapshots {
    pub current: u64,
    /// Older snapshots still held by readers (at most 8), each `< current`.
    pub retained: Vec<u64>,
}

impl Snapshots {
    pub fn new() -> Self {
        Snapshots {
            current: 1,
            retained: Vec::new(),
        }
    }

    /// Readers keep the current snapshot (dropping one if 8 are held); the level moves on.
    pub fn take(&mut self, rng: &mut Rng) {
        if self.retained.len() == 8 {
            let i = rng.index(8);
            self.retained.remove(i);
        }
        self.retained.push(self.current);
        self.current += 1;
    }

    pub fn drop_one(&mut self, rng: &mut Rng) {
        if !self.retained.is_empty() {
            let i = rng.index(self.retained.len());
            self.retained.remove(i);
        }
    }

    /// A snapshot worth querying: latest, current, a retained one, or any issued one.
    pub fn any(&self, rng: &mut Rng) -> u64 {
        match rng.below(4) {
            0 => SNAPSHOT_LATEST,
            1 => self.current,
            2 if !self.retained.is_empty() => *rng.pick(&self.retained),
            _ => rng.between(1, self.current),
        }
    }
}

/// Grows a level and its model by `steps` random inserts, retirements, snapshot bumps and
/// removals of invisible tables, keeping the level invariant. No deep checks.
pub fn evolve<K: TestKey>(
    rng: &mut Rng,
    level: &mut ManifestLevel<'_, K>,
    model: &mut Model<K>,
    tables: &mut TableGen,
    snapshots: &mut Snapshots,
    steps: usize,
) {
    for _ in 0..steps {
        match rng.weighted(&[8, 3, 2, 1]) {
            0 => {
                if level.len() < level.capacity() {
                    if let Some(t) = tables.make(rng, model, snapshots.current) {
                        level.insert_table(t).expect("insert");
                        model.insert(t);
                    }
                }
            }
            1 => {
                let live: Vec<TableInfo<K>> = model.visible(SNAPSHOT_LATEST);
                if !live.is_empty() {
                    let t = *rng.pick(&live);
                    let (reference, _) = level.find(&t).expect("live table is there");
                    level
                        .set_snapshot_max(snapshots.current, reference)
                        .expect("retire");
                    let at = model.position(&t).unwrap();
                    model.tables[at].snapshot_max = snapshots.current;
                }
            }
            2 => snapshots.take(rng),
            _ => {
                let dead = model.query(
                    Visibility::Invisible,
                    &snapshots.retained,
                    Direction::Ascending,
                    None,
                );
                if !dead.is_empty() {
                    let t = *rng.pick(&dead);
                    level.remove_table(&t).expect("remove");
                    model.remove(&t);
                }
            }
        }
    }
}

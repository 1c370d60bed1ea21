//! Baselines for the benchmarks: the per-level table indexes a user would pick instead of
//! [`ManifestLevel`], with the same semantics, plus the common [`LevelOps`] interface the
//! benchmarks (and `tests/baselines.rs`, which checks that every baseline answers exactly
//! like the real level) drive all of them through.
//!
//! - [`SortedVecLevel`]: a `Vec<TableInfo>` ordered by `(key_max, snapshot_min)`, binary
//!   search, `Vec::insert`/`Vec::remove` (fjall's runs, RocksDB's `LevelFilesBrief`).
//! - [`BTreeMapLevel`]: `std::collections::BTreeMap<(key_max, snapshot_min), TableInfo>`.
//! - [`IndexSetLevel`]: `indexset::BTreeMap<(key_max, snapshot_min), TableInfo>`, an
//!   order-statistic B-tree (sorted nodes plus a Fenwick tree of node lengths).
//!
//! All three share one generic [`BaselineLevel`]: the query logic (where a range starts,
//! when it stops, visibility filtering, `next_table`, overlap and least-overlap sweeps) is
//! the real level's algorithm, written once over each structure's own positioned
//! iterators, so the comparison measures the data structures and nothing else. The
//! visible-to-latest counters and `key_range_latest` are maintained exactly as the real
//! level does.
//!
//! This file is included by the benchmark (`benches/level.rs`) and by a test; not every
//! item is used by both.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ops::Bound;

use manifest_level::{
    Direction, KeyRange, LeastOverlap, ManifestLevel, NextTable, Overlap, Query, TableInfo,
    Visibility, GROWTH_FACTOR, SNAPSHOT_LATEST,
};

/// The table type all benchmarks use: `u64` keys.
pub type Table = TableInfo<u64>;

/// The benchmarks' generator ([`Rng::multiply_shift`]), shared with the tests.
#[path = "../../tests/common/rng.rs"]
mod rng;
pub use rng::Rng;

/// What an overlap query answers: the intersecting tables (ascending) and the query range
/// widened to cover them.
pub trait OverlapView {
    /// The intersecting tables, ascending.
    fn tables(&self) -> &[Table];
    /// The widened range.
    fn key_range(&self) -> KeyRange<u64>;
}

impl OverlapView for Overlap<u64> {
    #[inline]
    fn tables(&self) -> &[Table] {
        Overlap::tables(self)
    }
    #[inline]
    fn key_range(&self) -> KeyRange<u64> {
        Overlap::key_range(self)
    }
}

/// The baselines' overlap answer, laid out like the real level's [`Overlap`] (a fixed
/// array, no allocation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BaselineOverlap {
    tables: [Table; GROWTH_FACTOR],
    count: usize,
    key_range: KeyRange<u64>,
}

impl OverlapView for BaselineOverlap {
    #[inline]
    fn tables(&self) -> &[Table] {
        &self.tables[..self.count]
    }
    #[inline]
    fn key_range(&self) -> KeyRange<u64> {
        self.key_range
    }
}

/// The operations the benchmarks time, on the real level and on every baseline alike.
///
/// Arguments a caller can get wrong panic here: the benchmarks never do.
pub trait LevelOps {
    /// The answer of [`LevelOps::overlapping`].
    type Overlap: OverlapView;

    /// Inserts a table.
    fn insert(&mut self, table: Table);
    /// Retires the live table with `table`'s identity at `snapshot` (looks it up first, as
    /// a caller holding only the `TableInfo` would).
    fn retire(&mut self, table: &Table, snapshot: u64);
    /// Removes the table equal to `table`.
    fn remove(&mut self, table: &Table);
    /// Empties the structure and refills it with `sorted` (ascending order).
    fn rebuild_sorted(&mut self, sorted: &[Table]);
    /// Lays the structure out for reads (`ManifestLevel::compact`); nothing for the
    /// baselines, whose layout is what it is.
    fn compact(&mut self) {}
    /// Calls `f` on every table `query` yields, in its order.
    fn for_each(&self, query: Query<'_, u64>, f: impl FnMut(&Table));
    /// The first table `query` yields.
    fn first(&self, query: Query<'_, u64>) -> Option<&Table>;
    /// The table with `table`'s identity (`find`).
    fn find(&self, table: &Table) -> Option<&Table>;
    /// `next_table`.
    fn next_table(&self, args: NextTable<u64>) -> Option<&Table>;
    /// `tables_overlapping_with_key_range`.
    fn overlapping(
        &self,
        key_range: KeyRange<u64>,
        snapshot: u64,
        max: usize,
    ) -> Option<Self::Overlap>;
    /// `table_with_least_overlap` with `self` as level A and `other` as level B.
    fn least_overlap(
        &self,
        other: &Self,
        snapshot: u64,
        max: usize,
    ) -> Option<(Table, Self::Overlap)>;
    /// Number of tables.
    fn len(&self) -> usize;
    /// `(table_count_visible, value_count_visible, key_range_latest)`.
    fn counters(&self) -> (u32, u64, Option<KeyRange<u64>>);

    /// The tables `query` yields, collected (for tests).
    fn collect(&self, query: Query<'_, u64>) -> Vec<Table> {
        let mut tables = Vec::new();
        self.for_each(query, |table| tables.push(*table));
        tables
    }
}

impl LevelOps for ManifestLevel<'_, u64> {
    type Overlap = Overlap<u64>;

    #[inline]
    fn insert(&mut self, table: Table) {
        self.insert_table(table).expect("insert");
    }

    #[inline]
    fn retire(&mut self, table: &Table, snapshot: u64) {
        let (reference, _) = self.find(table).expect("retire: table present");
        self.set_snapshot_max(snapshot, reference).expect("retire");
    }

    #[inline]
    fn remove(&mut self, table: &Table) {
        self.remove_table(table).expect("remove");
    }

    fn rebuild_sorted(&mut self, sorted: &[Table]) {
        self.reset();
        for table in sorted {
            self.insert_table(*table).expect("rebuild");
        }
    }

    fn compact(&mut self) {
        ManifestLevel::compact(self);
    }

    #[inline]
    fn for_each(&self, query: Query<'_, u64>, mut f: impl FnMut(&Table)) {
        for (_, table) in self.iter(query) {
            f(table);
        }
    }

    #[inline]
    fn first(&self, query: Query<'_, u64>) -> Option<&Table> {
        self.iter(query).next().map(|(_, table)| table)
    }

    #[inline]
    fn find(&self, table: &Table) -> Option<&Table> {
        ManifestLevel::find(self, table).map(|(_, table)| table)
    }

    #[inline]
    fn next_table(&self, args: NextTable<u64>) -> Option<&Table> {
        ManifestLevel::next_table(self, args).map(|(_, table)| table)
    }

    #[inline]
    fn overlapping(
        &self,
        key_range: KeyRange<u64>,
        snapshot: u64,
        max: usize,
    ) -> Option<Overlap<u64>> {
        self.tables_overlapping_with_key_range(key_range, snapshot, max)
            .expect("overlapping")
    }

    #[inline]
    fn least_overlap(
        &self,
        other: &Self,
        snapshot: u64,
        max: usize,
    ) -> Option<(Table, Overlap<u64>)> {
        self.table_with_least_overlap(other, snapshot, max)
            .expect("least overlap")
            .map(|LeastOverlap { table, overlap, .. }| (table, overlap))
    }

    #[inline]
    fn len(&self) -> usize {
        ManifestLevel::len(self) as usize
    }

    fn counters(&self) -> (u32, u64, Option<KeyRange<u64>>) {
        (
            self.table_count_visible(),
            self.value_count_visible(),
            self.key_range_latest(),
        )
    }
}

/// The storage a baseline level is built on: tables ordered by `(key_max, snapshot_min)`
/// (unique under the level invariant), with iterators positioned by `key_max`.
pub trait Store {
    /// Ascending iterator.
    type Asc<'a>: Iterator<Item = &'a Table>
    where
        Self: 'a;
    /// Descending iterator.
    type Desc<'a>: Iterator<Item = &'a Table>
    where
        Self: 'a;
    /// The structure's name in benchmark ids.
    const NAME: &'static str;
    /// An empty store for up to `capacity` tables.
    fn with_capacity(capacity: usize) -> Self;
    /// Number of tables.
    fn len(&self) -> usize;
    /// Removes every table.
    fn clear(&mut self);
    /// Appends `table`, which sorts after every table present (bulk build).
    fn push_sorted(&mut self, table: Table) {
        self.insert(table);
    }
    /// Inserts `table` at its position.
    fn insert(&mut self, table: Table);
    /// The table with this sort key.
    fn get(&self, key_max: u64, snapshot_min: u64) -> Option<&Table>;
    /// The table with this sort key, mutably.
    fn get_mut(&mut self, key_max: u64, snapshot_min: u64) -> Option<&mut Table>;
    /// Removes and returns the table with this sort key.
    fn remove(&mut self, key_max: u64, snapshot_min: u64) -> Option<Table>;
    /// The tables whose `key_max` lies in `(start, ∞)` (by `start`'s bound), ascending.
    fn asc(&self, start: Bound<u64>) -> Self::Asc<'_>;
    /// The tables whose `key_max` lies in `(-∞, end)` (by `end`'s bound), descending.
    fn desc(&self, end: Bound<u64>) -> Self::Desc<'_>;
}

/// A baseline level: a [`Store`] plus the level's counters, answering every query with the
/// real level's algorithm.
#[derive(Clone, Debug)]
pub struct BaselineLevel<S> {
    store: S,
    table_count_visible: u32,
    value_count_visible: u64,
    key_range_latest: Option<KeyRange<u64>>,
}

/// `Vec<TableInfo>` ordered by `(key_max, snapshot_min)`.
pub type SortedVecLevel = BaselineLevel<SortedVec>;
/// `std::collections::BTreeMap<(key_max, snapshot_min), TableInfo>`.
pub type BTreeMapLevel = BaselineLevel<StdBTreeMap>;
/// `indexset::BTreeMap<(key_max, snapshot_min), TableInfo>`.
pub type IndexSetLevel = BaselineLevel<IndexSetMap>;

impl<S: Store> BaselineLevel<S> {
    /// An empty level for up to `capacity` tables.
    pub fn new(capacity: usize) -> Self {
        BaselineLevel {
            store: S::with_capacity(capacity),
            table_count_visible: 0,
            value_count_visible: 0,
            key_range_latest: None,
        }
    }

    /// The structure's name.
    pub fn name(&self) -> &'static str {
        S::NAME
    }

    /// The store (for memory accounting).
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The tables `query` yields, as the real level's iterator yields them.
    #[inline]
    pub fn iter<'a, 's>(&'a self, query: Query<'s, u64>) -> BaselineIter<'a, 's, S> {
        let single_snapshot = query.visibility == Visibility::Visible && query.snapshots.len() == 1;
        let positioned = match (query.key_range, query.direction) {
            (None, Direction::Ascending) => Positioned::Asc(self.store.asc(Bound::Unbounded)),
            (None, Direction::Descending) => {
                Positioned::Desc(None.into_iter().chain(self.store.desc(Bound::Unbounded)))
            }
            (Some(range), Direction::Ascending) => {
                Positioned::Asc(self.store.asc(Bound::Included(range.key_min())))
            }
            (Some(range), Direction::Descending) if single_snapshot => {
                // Past every table with key_max <= range.key_max, plus the first table
                // visible to the snapshot beyond them if it reaches into the range.
                let snapshot = query.snapshots[0];
                let beyond = self
                    .store
                    .asc(Bound::Excluded(range.key_max()))
                    .find(|table| table.visible(snapshot))
                    .filter(|table| table.key_min <= range.key_max());
                Positioned::Desc(
                    beyond
                        .into_iter()
                        .chain(self.store.desc(Bound::Included(range.key_max()))),
                )
            }
            (Some(_), Direction::Descending) => {
                Positioned::Desc(None.into_iter().chain(self.store.desc(Bound::Unbounded)))
            }
        };
        BaselineIter {
            positioned,
            query,
            stop_early: single_snapshot,
            done: false,
        }
    }

    fn key_range_shrink(&mut self, gone: &Table) {
        let range = self
            .key_range_latest
            .expect("a visible table was in the range");
        let latest = [SNAPSHOT_LATEST];
        let mut key_min = range.key_min();
        let mut key_max = range.key_max();
        if gone.key_min == key_min {
            let first = self.iter(Query::visible(&latest)).next().map(|t| t.key_min);
            match first {
                Some(first) => key_min = first,
                None => {
                    self.key_range_latest = None;
                    return;
                }
            }
        }
        if gone.key_max == key_max {
            let last = self
                .iter(Query::visible(&latest).descending())
                .next()
                .map(|t| t.key_max);
            match last {
                Some(last) => key_max = last,
                None => {
                    self.key_range_latest = None;
                    return;
                }
            }
        }
        self.key_range_latest = Some(KeyRange::new(key_min, key_max).expect("ordered edges"));
    }
}

/// A store's iterator in the query's direction.
pub enum Positioned<'a, S: Store + 'a> {
    /// Ascending.
    Asc(S::Asc<'a>),
    /// Descending, possibly preceded by one table past the range's end.
    Desc(core::iter::Chain<core::option::IntoIter<&'a Table>, S::Desc<'a>>),
}

/// [`BaselineLevel::iter`]: the real level's `LevelIter` logic over a store's iterator.
pub struct BaselineIter<'a, 's, S: Store + 'a> {
    positioned: Positioned<'a, S>,
    query: Query<'s, u64>,
    stop_early: bool,
    done: bool,
}

impl<'a, S: Store + 'a> Iterator for BaselineIter<'a, '_, S> {
    type Item = &'a Table;

    // `always`, as the real level's iterator: without it the call is not inlined and costs
    // more than the work per table.
    #[inline(always)]
    fn next(&mut self) -> Option<&'a Table> {
        if self.done {
            return None;
        }
        loop {
            let table = match &mut self.positioned {
                Positioned::Asc(iter) => iter.next()?,
                Positioned::Desc(iter) => iter.next()?,
            };
            if let Some(range) = self.query.key_range {
                match self.query.direction {
                    Direction::Ascending => {
                        if table.key_min > range.key_max() {
                            if self.stop_early && self.query.matches_visibility(table) {
                                self.done = true;
                                return None;
                            }
                            continue;
                        }
                    }
                    Direction::Descending => {
                        if table.key_max < range.key_min() {
                            self.done = true;
                            return None;
                        }
                        if table.key_min > range.key_max() {
                            continue;
                        }
                    }
                }
            }
            if !self.query.matches_visibility(table) {
                continue;
            }
            return Some(table);
        }
    }
}

impl<S: Store> LevelOps for BaselineLevel<S> {
    type Overlap = BaselineOverlap;

    #[inline]
    fn insert(&mut self, table: Table) {
        table.validate().expect("valid table");
        self.store.insert(table);
        if table.visible(SNAPSHOT_LATEST) {
            self.table_count_visible += 1;
            self.value_count_visible += u64::from(table.value_count);
            let range = table.key_range();
            self.key_range_latest = Some(match self.key_range_latest {
                Some(current) => current.union(&range),
                None => range,
            });
        }
    }

    #[inline]
    fn retire(&mut self, table: &Table, snapshot: u64) {
        assert!(snapshot < SNAPSHOT_LATEST);
        let existing = self
            .store
            .get_mut(table.key_max, table.snapshot_min)
            .filter(|existing| existing.same_identity(table))
            .expect("retire: table present");
        assert!(existing.is_live(), "retire: already retired");
        assert!(snapshot >= existing.snapshot_min);
        let before = *existing;
        existing.snapshot_max = snapshot;
        if before.visible(SNAPSHOT_LATEST) {
            self.table_count_visible -= 1;
            self.value_count_visible -= u64::from(before.value_count);
            self.key_range_shrink(&before);
        }
    }

    #[inline]
    fn remove(&mut self, table: &Table) {
        table.validate().expect("valid table");
        let present = self.store.get(table.key_max, table.snapshot_min) == Some(table);
        assert!(present, "remove: table not present");
        let removed = self
            .store
            .remove(table.key_max, table.snapshot_min)
            .expect("present");
        if removed.visible(SNAPSHOT_LATEST) {
            self.table_count_visible -= 1;
            self.value_count_visible -= u64::from(removed.value_count);
            self.key_range_shrink(&removed);
        }
    }

    fn rebuild_sorted(&mut self, sorted: &[Table]) {
        self.store.clear();
        self.table_count_visible = 0;
        self.value_count_visible = 0;
        self.key_range_latest = None;
        for table in sorted {
            if table.visible(SNAPSHOT_LATEST) {
                self.table_count_visible += 1;
                self.value_count_visible += u64::from(table.value_count);
                let range = table.key_range();
                self.key_range_latest = Some(match self.key_range_latest {
                    Some(current) => current.union(&range),
                    None => range,
                });
            }
            self.store.push_sorted(*table);
        }
    }

    #[inline]
    fn for_each(&self, query: Query<'_, u64>, mut f: impl FnMut(&Table)) {
        for table in self.iter(query) {
            f(table);
        }
    }

    #[inline]
    fn first(&self, query: Query<'_, u64>) -> Option<&Table> {
        self.iter(query).next()
    }

    #[inline]
    fn find(&self, table: &Table) -> Option<&Table> {
        self.store
            .get(table.key_max, table.snapshot_min)
            .filter(|existing| existing.same_identity(table))
    }

    #[inline]
    fn next_table(&self, args: NextTable<u64>) -> Option<&Table> {
        let snapshots = [args.snapshot];
        let Some(exclusive) = args.key_exclusive else {
            let query = Query::visible(&snapshots)
                .direction(args.direction)
                .within(args.key_range);
            return self.iter(query).next();
        };
        let range = args.key_range;
        let narrowed = match args.direction {
            Direction::Ascending if exclusive <= range.key_max() => {
                KeyRange::new(exclusive.max(range.key_min()), range.key_max())
            }
            Direction::Descending if exclusive >= range.key_min() => {
                KeyRange::new(range.key_min(), exclusive.min(range.key_max()))
            }
            _ => return None,
        }
        .expect("narrowed range is ordered");
        let query = Query::visible(&snapshots)
            .direction(args.direction)
            .within(narrowed);
        self.iter(query).find(|table| match args.direction {
            Direction::Ascending => table.key_min > exclusive,
            Direction::Descending => table.key_max < exclusive,
        })
    }

    #[inline]
    fn overlapping(
        &self,
        key_range: KeyRange<u64>,
        snapshot: u64,
        max: usize,
    ) -> Option<BaselineOverlap> {
        assert!(max <= GROWTH_FACTOR);
        let snapshots = [snapshot];
        let mut overlap = BaselineOverlap {
            tables: [Table::default(); GROWTH_FACTOR],
            count: 0,
            key_range,
        };
        for table in self.iter(Query::visible(&snapshots).within(key_range)) {
            if overlap.count == max {
                return None;
            }
            overlap.tables[overlap.count] = *table;
            overlap.count += 1;
            overlap.key_range = overlap.key_range.union(&table.key_range());
        }
        Some(overlap)
    }

    fn least_overlap(
        &self,
        other: &Self,
        snapshot: u64,
        max: usize,
    ) -> Option<(Table, BaselineOverlap)> {
        assert!(max <= GROWTH_FACTOR);
        let snapshots = [snapshot];
        let mut low = other.iter(Query::visible(&snapshots)).peekable();
        let mut high = other.iter(Query::visible(&snapshots)).peekable();
        let (mut low_passed, mut high_passed) = (0u32, 0u32);
        let mut best: Option<(u32, Table)> = None;
        for table in self.iter(Query::visible(&snapshots)) {
            while low.next_if(|b| b.key_max < table.key_min).is_some() {
                low_passed += 1;
            }
            while high.next_if(|b| b.key_min <= table.key_max).is_some() {
                high_passed += 1;
            }
            let count = high_passed.saturating_sub(low_passed);
            if count as usize > max {
                continue;
            }
            if best.is_none_or(|(best_count, _)| count < best_count) {
                best = Some((count, *table));
            }
            if count == 0 {
                break;
            }
        }
        let (_, table) = best?;
        let overlap = other
            .overlapping(table.key_range(), snapshot, max)
            .expect("the sweep counted at most max overlapping tables");
        Some((table, overlap))
    }

    #[inline]
    fn len(&self) -> usize {
        self.store.len()
    }

    fn counters(&self) -> (u32, u64, Option<KeyRange<u64>>) {
        (
            self.table_count_visible,
            self.value_count_visible,
            self.key_range_latest,
        )
    }
}

// ---------------------------------------------------------------------------------------
// Sorted Vec

/// `Vec<TableInfo>` ordered by `(key_max, snapshot_min)`: binary search, `Vec::insert` and
/// `Vec::remove`.
#[derive(Clone, Debug, Default)]
pub struct SortedVec(pub Vec<Table>);

impl SortedVec {
    #[inline]
    fn position(&self, key_max: u64, snapshot_min: u64) -> Result<usize, usize> {
        self.0.binary_search_by(|table| {
            (table.key_max, table.snapshot_min).cmp(&(key_max, snapshot_min))
        })
    }
}

impl Store for SortedVec {
    type Asc<'a> = core::slice::Iter<'a, Table>;
    type Desc<'a> = core::iter::Rev<core::slice::Iter<'a, Table>>;
    const NAME: &'static str = "sorted_vec";

    fn with_capacity(capacity: usize) -> Self {
        SortedVec(Vec::with_capacity(capacity))
    }

    #[inline]
    fn len(&self) -> usize {
        self.0.len()
    }

    fn clear(&mut self) {
        self.0.clear();
    }

    fn push_sorted(&mut self, table: Table) {
        debug_assert!(self.0.last().is_none_or(
            |last| (last.key_max, last.snapshot_min) < (table.key_max, table.snapshot_min)
        ));
        self.0.push(table);
    }

    #[inline]
    fn insert(&mut self, table: Table) {
        let index = self
            .position(table.key_max, table.snapshot_min)
            .expect_err("sort key already present");
        self.0.insert(index, table);
    }

    #[inline]
    fn get(&self, key_max: u64, snapshot_min: u64) -> Option<&Table> {
        let index = self.position(key_max, snapshot_min).ok()?;
        Some(&self.0[index])
    }

    #[inline]
    fn get_mut(&mut self, key_max: u64, snapshot_min: u64) -> Option<&mut Table> {
        let index = self.position(key_max, snapshot_min).ok()?;
        Some(&mut self.0[index])
    }

    #[inline]
    fn remove(&mut self, key_max: u64, snapshot_min: u64) -> Option<Table> {
        let index = self.position(key_max, snapshot_min).ok()?;
        Some(self.0.remove(index))
    }

    #[inline]
    fn asc(&self, start: Bound<u64>) -> Self::Asc<'_> {
        let index = match start {
            Bound::Unbounded => 0,
            Bound::Included(key) => self.0.partition_point(|table| table.key_max < key),
            Bound::Excluded(key) => self.0.partition_point(|table| table.key_max <= key),
        };
        self.0[index..].iter()
    }

    #[inline]
    fn desc(&self, end: Bound<u64>) -> Self::Desc<'_> {
        let index = match end {
            Bound::Unbounded => self.0.len(),
            Bound::Included(key) => self.0.partition_point(|table| table.key_max <= key),
            Bound::Excluded(key) => self.0.partition_point(|table| table.key_max < key),
        };
        self.0[..index].iter().rev()
    }
}

// ---------------------------------------------------------------------------------------
// B-trees

/// The values of a map iterator yielding `(&K, &V)`.
#[derive(Clone, Debug)]
pub struct Values<I>(I);

impl<'a, K: 'a, I: Iterator<Item = (&'a K, &'a Table)>> Iterator for Values<I> {
    type Item = &'a Table;
    #[inline]
    fn next(&mut self) -> Option<&'a Table> {
        self.0.next().map(|(_, table)| table)
    }
}

impl<'a, K: 'a, I: DoubleEndedIterator<Item = (&'a K, &'a Table)>> DoubleEndedIterator
    for Values<I>
{
    #[inline]
    fn next_back(&mut self) -> Option<&'a Table> {
        self.0.next_back().map(|(_, table)| table)
    }
}

type SortKey = (u64, u64);

#[inline]
fn start_bound(start: Bound<u64>) -> Bound<SortKey> {
    match start {
        Bound::Unbounded => Bound::Unbounded,
        Bound::Included(key) => Bound::Included((key, 0)),
        Bound::Excluded(key) => Bound::Excluded((key, u64::MAX)),
    }
}

#[inline]
fn end_bound(end: Bound<u64>) -> Bound<SortKey> {
    match end {
        Bound::Unbounded => Bound::Unbounded,
        Bound::Included(key) => Bound::Included((key, u64::MAX)),
        Bound::Excluded(key) => Bound::Excluded((key, 0)),
    }
}

/// `std::collections::BTreeMap<(key_max, snapshot_min), TableInfo>`.
#[derive(Clone, Debug, Default)]
pub struct StdBTreeMap(pub BTreeMap<SortKey, Table>);

impl Store for StdBTreeMap {
    type Asc<'a> = Values<std::collections::btree_map::Range<'a, SortKey, Table>>;
    type Desc<'a> = core::iter::Rev<Values<std::collections::btree_map::Range<'a, SortKey, Table>>>;
    const NAME: &'static str = "btreemap";

    fn with_capacity(_capacity: usize) -> Self {
        StdBTreeMap(BTreeMap::new())
    }

    #[inline]
    fn len(&self) -> usize {
        self.0.len()
    }

    fn clear(&mut self) {
        self.0.clear();
    }

    #[inline]
    fn insert(&mut self, table: Table) {
        let previous = self.0.insert((table.key_max, table.snapshot_min), table);
        assert!(previous.is_none(), "sort key already present");
    }

    #[inline]
    fn get(&self, key_max: u64, snapshot_min: u64) -> Option<&Table> {
        self.0.get(&(key_max, snapshot_min))
    }

    #[inline]
    fn get_mut(&mut self, key_max: u64, snapshot_min: u64) -> Option<&mut Table> {
        self.0.get_mut(&(key_max, snapshot_min))
    }

    #[inline]
    fn remove(&mut self, key_max: u64, snapshot_min: u64) -> Option<Table> {
        self.0.remove(&(key_max, snapshot_min))
    }

    #[inline]
    fn asc(&self, start: Bound<u64>) -> Self::Asc<'_> {
        Values(self.0.range((start_bound(start), Bound::Unbounded)))
    }

    #[inline]
    fn desc(&self, end: Bound<u64>) -> Self::Desc<'_> {
        Values(self.0.range((Bound::Unbounded, end_bound(end)))).rev()
    }
}

/// `indexset::BTreeMap<(key_max, snapshot_min), TableInfo>` with its default node size.
#[derive(Clone, Debug, Default)]
pub struct IndexSetMap(pub indexset::BTreeMap<SortKey, Table>);

impl Store for IndexSetMap {
    type Asc<'a> = Values<indexset::RangeMap<'a, SortKey, Table>>;
    type Desc<'a> = core::iter::Rev<Values<indexset::RangeMap<'a, SortKey, Table>>>;
    const NAME: &'static str = "indexset";

    fn with_capacity(_capacity: usize) -> Self {
        IndexSetMap(indexset::BTreeMap::new())
    }

    #[inline]
    fn len(&self) -> usize {
        self.0.len()
    }

    fn clear(&mut self) {
        self.0.clear();
    }

    #[inline]
    fn insert(&mut self, table: Table) {
        let previous = self.0.insert((table.key_max, table.snapshot_min), table);
        assert!(previous.is_none(), "sort key already present");
    }

    #[inline]
    fn get(&self, key_max: u64, snapshot_min: u64) -> Option<&Table> {
        self.0.get(&(key_max, snapshot_min))
    }

    #[inline]
    fn get_mut(&mut self, key_max: u64, snapshot_min: u64) -> Option<&mut Table> {
        self.0.get_mut(&(key_max, snapshot_min))
    }

    #[inline]
    fn remove(&mut self, key_max: u64, snapshot_min: u64) -> Option<Table> {
        self.0.remove(&(key_max, snapshot_min))
    }

    #[inline]
    fn asc(&self, start: Bound<u64>) -> Self::Asc<'_> {
        Values(self.0.range((start_bound(start), Bound::Unbounded)))
    }

    #[inline]
    fn desc(&self, end: Bound<u64>) -> Self::Desc<'_> {
        Values(self.0.range((Bound::Unbounded, end_bound(end)))).rev()
    }
}

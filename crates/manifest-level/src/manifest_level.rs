//! [`ManifestLevel`]: the tables of one LSM level, sorted by `(key_max, snapshot_min)`.

use core::sync::atomic::{AtomicU32, Ordering};

use crate::error::Error;
#[cfg(feature = "fault-injection")]
use crate::fault::Fault;
use crate::node_pool::NodePool;
use crate::segmented_array::{self, Cursor, SegmentedArray};
use crate::table_info::{Key, KeyRange, TableInfo, SNAPSHOT_LATEST};

/// The LSM growth factor: the most tables a compaction may take from the next level, and
/// the largest `max` accepted by the overlap queries.
pub const GROWTH_FACTOR: usize = 8;

/// A [`TableRef`]'s node hint when it has none: no node has this number.
const NO_NODE: u32 = u32::MAX;

/// Source of level ids, so a reference taken from one level is rejected by another.
static NEXT_LEVEL_ID: AtomicU32 = AtomicU32::new(1);

/// A reference to a table of a level, valid until the level next inserts or removes.
///
/// Handed out by iteration and lookups; accepted by [`ManifestLevel::set_snapshot_max`] and
/// [`ManifestLevel::get`]. Retiring a table does not change the level's generation, so one
/// can collect references and retire them all.
///
/// A reference names its table by the level, the generation and the table's index; it
/// also remembers the node the table was found in, so that using it costs a check of that
/// node's bounds instead of a search for the index. The node is only a hint: equality and
/// hashing ignore it, and a hint that no longer holds (after [`ManifestLevel::compact`]
/// moved the table) costs the search and nothing else.
#[derive(Clone, Copy, Debug, Default)]
pub struct TableRef {
    level: u32,
    generation: u32,
    index: u32,
    node: u32,
}

impl PartialEq for TableRef {
    fn eq(&self, other: &Self) -> bool {
        (self.level, self.generation, self.index) == (other.level, other.generation, other.index)
    }
}

impl Eq for TableRef {}

impl core::hash::Hash for TableRef {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        (self.level, self.generation, self.index).hash(state);
    }
}

impl TableRef {
    /// The level generation the reference was taken at.
    #[inline]
    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// The table's position in the level (ascending order) when the reference was taken.
    #[inline]
    pub fn index(&self) -> u32 {
        self.index
    }
}

/// Which tables an iteration yields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Visibility {
    /// Tables visible to at least one of the query's snapshots.
    Visible,
    /// Tables that no reader sees: invisible to [`SNAPSHOT_LATEST`] and to every one of
    /// the query's snapshots (see [`TableInfo::invisible`]).
    Invisible,
}

/// Iteration order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// By `(key_max, snapshot_min)`, smallest first.
    #[default]
    Ascending,
    /// By `(key_max, snapshot_min)`, largest first.
    Descending,
}

impl Direction {
    /// The other direction.
    pub fn reverse(self) -> Direction {
        match self {
            Direction::Ascending => Direction::Descending,
            Direction::Descending => Direction::Ascending,
        }
    }
}

/// What [`ManifestLevel::iter`] yields: a visibility class for a set of snapshots, a
/// direction, and optionally a key range the tables must intersect.
///
/// ```
/// use manifest_level::{Direction, KeyRange, Query, Visibility};
/// let query = Query::visible(&[7]).descending().within(KeyRange::new(10u64, 20).unwrap());
/// assert_eq!(query.visibility, Visibility::Visible);
/// assert_eq!(query.direction, Direction::Descending);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Query<'s, K> {
    /// Visible to any of `snapshots`, or invisible to all of them and to latest.
    pub visibility: Visibility,
    /// The snapshots the visibility refers to.
    pub snapshots: &'s [u64],
    /// Iteration order.
    pub direction: Direction,
    /// When set, only tables intersecting this range.
    pub key_range: Option<KeyRange<K>>,
}

impl<'s, K: Key> Query<'s, K> {
    /// Tables visible to at least one of `snapshots`, ascending, any key.
    pub fn visible(snapshots: &'s [u64]) -> Self {
        Query {
            visibility: Visibility::Visible,
            snapshots,
            direction: Direction::Ascending,
            key_range: None,
        }
    }

    /// Tables invisible to latest and to all of `snapshots`, ascending, any key.
    pub fn invisible(snapshots: &'s [u64]) -> Self {
        Query {
            visibility: Visibility::Invisible,
            ..Query::visible(snapshots)
        }
    }

    /// The same query, in descending order.
    pub fn descending(self) -> Self {
        Query {
            direction: Direction::Descending,
            ..self
        }
    }

    /// The same query, in the given order.
    pub fn direction(self, direction: Direction) -> Self {
        Query { direction, ..self }
    }

    /// The same query, restricted to tables intersecting `key_range`.
    pub fn within(self, key_range: KeyRange<K>) -> Self {
        Query {
            key_range: Some(key_range),
            ..self
        }
    }

    /// Whether `table` passes the visibility filter.
    #[inline]
    pub fn matches_visibility(&self, table: &TableInfo<K>) -> bool {
        match self.visibility {
            Visibility::Visible => table.visible_to_any(self.snapshots),
            Visibility::Invisible => table.invisible(self.snapshots),
        }
    }

    /// Whether `table` passes both the visibility and the key range filters.
    #[inline]
    pub fn matches(&self, table: &TableInfo<K>) -> bool {
        self.matches_visibility(table) && self.key_range.is_none_or(|r| table.intersects(&r))
    }
}

/// Arguments of [`ManifestLevel::next_table`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NextTable<K> {
    /// The table must be visible to this snapshot.
    pub snapshot: u64,
    /// The table must intersect this range.
    pub key_range: KeyRange<K>,
    /// When set, the table must lie strictly past this key: `key_min > key_exclusive`
    /// ascending, `key_max < key_exclusive` descending. Any key is accepted.
    pub key_exclusive: Option<K>,
    /// Which end to search from.
    pub direction: Direction,
}

/// The tables of a level that intersect a key range (at most [`GROWTH_FACTOR`]), and the
/// query range widened to cover them all. Returned by
/// [`ManifestLevel::tables_overlapping_with_key_range`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Overlap<K> {
    tables: [TableInfo<K>; GROWTH_FACTOR],
    references: [TableRef; GROWTH_FACTOR],
    count: u8,
    key_range: KeyRange<K>,
}

impl<K: Key> Overlap<K> {
    fn new(key_range: KeyRange<K>) -> Self {
        Overlap {
            tables: [TableInfo::default(); GROWTH_FACTOR],
            references: [TableRef::default(); GROWTH_FACTOR],
            count: 0,
            key_range,
        }
    }

    /// The intersecting tables, ascending.
    pub fn tables(&self) -> &[TableInfo<K>] {
        &self.tables[..self.count as usize]
    }

    /// References to [`Overlap::tables`], in the same order.
    pub fn references(&self) -> &[TableRef] {
        &self.references[..self.count as usize]
    }

    /// The query range widened to cover every intersecting table.
    pub fn key_range(&self) -> KeyRange<K> {
        self.key_range
    }

    /// Number of intersecting tables.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// Whether no table intersects.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// The answer of [`ManifestLevel::table_with_least_overlap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeastOverlap<K> {
    /// The chosen table of level A.
    pub table: TableInfo<K>,
    /// A reference to it in level A.
    pub reference: TableRef,
    /// The tables of level B it overlaps, with the range covering them and `table`.
    pub overlap: Overlap<K>,
}

/// The tables of one level of an LSM tree, with snapshot visibility.
///
/// See the [crate documentation](crate) for the model. One segmented array on a shared
/// [`NodePool`] holds the [`TableInfo`]s, ordered by `(key_max, snapshot_min)`; its fence
/// keys (the `key_max` of each node's first table, contiguous) are the searched key index.
///
/// TigerBeetle keeps a second, parallel array of the tables' `key_max`es to search. Here the
/// fences already give a search over contiguous keys down to one node, and the search then
/// reads `key_max` in that node, the node an insert or remove must touch anyway; a second
/// array would double every insert's and remove's work and need absolute indexes to find a
/// table from its key (BENCHMARKS.md has the measurements).
///
/// ```
/// use manifest_level::{ManifestLevel, NodePool, Query, TableInfo, SNAPSHOT_LATEST};
///
/// let pool = NodePool::new(1024, ManifestLevel::<u64>::nodes_needed(1024, 100).unwrap()).unwrap();
/// let mut level = ManifestLevel::<u64>::new(&pool, 100).unwrap();
/// level.insert_table(TableInfo::new(1, 11, 1, 0, 9, 64)).unwrap();
/// level.insert_table(TableInfo::new(2, 12, 1, 10, 19, 64)).unwrap();
/// assert_eq!(level.table_count_visible(), 2);
///
/// // Retire the first table at snapshot 5: readers of snapshots 1..=5 still see it.
/// let (reference, _) = level.iter(Query::visible(&[SNAPSHOT_LATEST])).next().unwrap();
/// level.set_snapshot_max(5, reference).unwrap();
/// assert_eq!(level.iter(Query::visible(&[5])).count(), 2);
/// assert_eq!(level.iter(Query::visible(&[SNAPSHOT_LATEST])).count(), 1);
/// assert_eq!(level.key_range_latest().unwrap().key_min(), 10);
/// ```
pub struct ManifestLevel<'pool, K: Key> {
    tables: SegmentedArray<'pool, TableInfo<K>>,
    table_count_visible: u32,
    value_count_visible: u64,
    key_range_latest: Option<KeyRange<K>>,
    generation: u32,
    id: u32,
    auto_verify: bool,
    #[cfg(feature = "fault-injection")]
    fault: Option<Fault>,
}

impl<K: Key> core::fmt::Debug for ManifestLevel<'_, K> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ManifestLevel")
            .field("len", &self.len())
            .field("table_count_visible", &self.table_count_visible)
            .field("value_count_visible", &self.value_count_visible)
            .field("key_range_latest", &self.key_range_latest)
            .field("generation", &self.generation)
            .finish()
    }
}

impl<'pool, K: Key> ManifestLevel<'pool, K> {
    /// Worst-case pool nodes one level of `table_count_max` tables needs with nodes of
    /// `node_size` bytes (every node half full).
    pub fn nodes_needed(node_size: usize, table_count_max: u32) -> Result<u32, Error> {
        SegmentedArray::<TableInfo<K>>::nodes_needed(node_size, table_count_max)
    }

    /// An empty level of at most `table_count_max` tables on nodes of `pool`.
    ///
    /// Allocates its side tables now; nothing allocates afterwards. The pool may be smaller
    /// than [`ManifestLevel::nodes_needed`]; running out is then a runtime error.
    pub fn new(pool: &'pool NodePool, table_count_max: u32) -> Result<Self, Error> {
        Ok(ManifestLevel {
            tables: SegmentedArray::new(pool, table_count_max)?,
            table_count_visible: 0,
            value_count_visible: 0,
            key_range_latest: None,
            generation: 0,
            id: NEXT_LEVEL_ID.fetch_add(1, Ordering::Relaxed),
            auto_verify: true,
            #[cfg(feature = "fault-injection")]
            fault: None,
        })
    }

    /// Plants `fault` (or removes it with `None`): for tests of the fuzzer only.
    #[cfg(feature = "fault-injection")]
    pub fn inject_fault(&mut self, fault: Option<Fault>) {
        self.fault = fault;
        self.tables.fault_search_off_by_one = fault == Some(Fault::SearchOffByOneAtNodeBoundary);
        self.tables.fault_index_offsets_stale = fault == Some(Fault::IndexStalePastFirstBlock);
        self.tables.fault_group_fences_stale = fault == Some(Fault::GroupFencesStaleAfterShift);
        self.tables.fault_merge_leaks_node = fault == Some(Fault::MergeLeaksNode);
    }

    #[inline(always)]
    #[allow(unused_variables)]
    fn faulty(&self, fault: FaultName) -> bool {
        #[cfg(feature = "fault-injection")]
        {
            self.fault == Some(fault)
        }
        #[cfg(not(feature = "fault-injection"))]
        {
            false
        }
    }

    // Fault-injection-only code lives in `fault_only_*` helpers, which
    // `.cargo/mutants.toml` leaves out of mutation testing: without a planted fault they
    // are the identity (or a constant), so a mutant inside them changes only the shape of a
    // planted bug, never the library's behaviour.

    /// Where `remove_table` removes: the table it found at `(cursor, index)`, or with
    /// `Fault::RemoveTakesNeighbour` planted, the table after it when there is one.
    #[inline(always)]
    fn fault_only_remove_target(&self, cursor: Cursor, index: u32) -> (Cursor, u32) {
        #[cfg(feature = "fault-injection")]
        if self.faulty(FaultName::RemoveTakesNeighbour) && index + 1 < self.len() {
            return (self.tables.cursor(index + 1), index + 1);
        }
        (cursor, index)
    }

    /// With `Fault::RetiredInsertCountsVisible` planted: an insert counts every table as
    /// visible to latest.
    #[inline(always)]
    fn fault_only_retired_insert_counts(&self) -> bool {
        self.faulty(FaultName::RetiredInsertCountsVisible)
    }

    /// With `Fault::ExhaustedInsertCountsTable` planted: an insert the pool refused has
    /// already counted `table` as visible (a half-applied change behind the error).
    #[inline(always)]
    #[allow(unused_variables)]
    fn fault_only_count_refused_insert(&mut self, table: &TableInfo<K>, error: &Error) {
        if self.faulty(FaultName::ExhaustedInsertCountsTable)
            && matches!(error, Error::NodePoolExhausted { .. })
        {
            self.table_count_visible += 1;
            self.value_count_visible += u64::from(table.value_count);
        }
    }

    /// `range.contains(key)`, or with `Fault::KeyRangeContainsHighHalf` planted and keys
    /// wider than 64 bits, the same test on the keys' upper 64 bits only.
    #[inline(always)]
    fn fault_only_range_contains(&self, range: &KeyRange<K>, key: K) -> bool {
        if self.faulty(FaultName::KeyRangeContainsHighHalf)
            && K::MAX.to_u128() > u128::from(u64::MAX)
        {
            let high = |key: K| key.to_u128() >> 64;
            return high(range.key_min()) <= high(key) && high(key) <= high(range.key_max());
        }
        range.contains(key)
    }

    /// Where an iteration over `start..end` starts: `inner` from `start`, or for a
    /// descending one with `Fault::DescendingSkipsFirstNode` planted and more than one node,
    /// past the first node (so the iteration never reaches it).
    #[inline(always)]
    #[allow(unused_variables)]
    fn fault_only_descending_start<'a>(
        &'a self,
        direction: Direction,
        inner: segmented_array::Iter<'a, TableInfo<K>>,
        start: u32,
        end: u32,
    ) -> (segmented_array::Iter<'a, TableInfo<K>>, u32) {
        #[cfg(feature = "fault-injection")]
        if direction == Direction::Descending
            && self.faulty(FaultName::DescendingSkipsFirstNode)
            && self.tables.node_count() > 1
        {
            let start = self.tables.node_len(0).min(end);
            return (self.tables.range(start, end), start);
        }
        (inner, start)
    }

    /// With the `verify` feature, whether every mutation ends with a full
    /// [`ManifestLevel::verify`] (on by default), including the structural check of the
    /// segmented array after each of its own mutations. Without the feature this does
    /// nothing.
    pub fn set_auto_verify(&mut self, on: bool) {
        self.auto_verify = on;
        self.tables.set_auto_verify(on);
    }

    /// Number of tables, of every visibility.
    #[inline]
    pub fn len(&self) -> u32 {
        self.tables.len()
    }

    /// Whether the level holds no table.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// The most tables the level accepts.
    #[inline]
    pub fn capacity(&self) -> u32 {
        self.tables.capacity()
    }

    /// The pool the level's nodes come from.
    #[inline]
    pub fn pool(&self) -> &'pool NodePool {
        self.tables.pool()
    }

    /// Number of tables visible to [`SNAPSHOT_LATEST`].
    #[inline]
    pub fn table_count_visible(&self) -> u32 {
        self.table_count_visible
    }

    /// Sum of `value_count` over the tables visible to [`SNAPSHOT_LATEST`].
    #[inline]
    pub fn value_count_visible(&self) -> u64 {
        self.value_count_visible
    }

    /// The key range covered by the tables visible to [`SNAPSHOT_LATEST`], if any.
    #[inline]
    pub fn key_range_latest(&self) -> Option<KeyRange<K>> {
        self.key_range_latest
    }

    /// Bumped (wrapping) by every insert, remove and reset; references carry it.
    #[inline]
    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// Number of pool nodes the level holds now.
    pub fn node_count(&self) -> u32 {
        self.tables.node_count()
    }

    /// How many tables one node holds (set by the pool's node size).
    pub fn node_capacity(&self) -> u32 {
        self.tables.node_capacity()
    }

    /// The tables of node `node` (of [`ManifestLevel::node_count`]), in level order.
    ///
    /// For tools that look at the layout (a fuzzer's coverage, a dump of the level); reads
    /// and compaction never need it.
    ///
    /// # Panics
    ///
    /// When `node >= node_count`.
    ///
    /// ```
    /// use manifest_level::{ManifestLevel, NodePool, TableInfo};
    /// let pool = NodePool::new(256, 8).unwrap();
    /// let mut level = ManifestLevel::<u64>::new(&pool, 16).unwrap();
    /// for key in [30u64, 10, 20] {
    ///     level.insert_table(TableInfo::new(1, key + 1, 1, key, key + 5, 100)).unwrap();
    /// }
    /// assert_eq!(level.node_count(), 1);
    /// let key_mins: Vec<u64> = level.node_tables(0).iter().map(|t| t.key_min).collect();
    /// assert_eq!(key_mins, [10, 20, 30]);
    /// assert_eq!(level.node_start(0), 0);
    /// ```
    pub fn node_tables(&self, node: u32) -> &[TableInfo<K>] {
        assert!(
            node < self.node_count(),
            "node {node} of {}",
            self.node_count()
        );
        self.tables.node_elements(node)
    }

    /// The level index of node `node`'s first table.
    ///
    /// # Panics
    ///
    /// When `node >= node_count`.
    pub fn node_start(&self, node: u32) -> u32 {
        assert!(
            node < self.node_count(),
            "node {node} of {}",
            self.node_count()
        );
        self.tables.node_start(node)
    }

    /// How often the level's array changed its node layout (splits, merges, packing) since
    /// the level's creation; see [`LayoutEvents`](segmented_array::LayoutEvents).
    pub fn layout_events(&self) -> segmented_array::LayoutEvents {
        self.tables.layout_events()
    }

    /// Inserts `table` in `(key_max, snapshot_min)` order (after tables with the same
    /// `key_max` and a smaller or equal `snapshot_min`) and returns a reference to it.
    ///
    /// The caller keeps the level invariant: the tables visible to any one snapshot have
    /// disjoint key ranges.
    ///
    /// Errors, changing nothing: [`Error::InvalidTable`], [`Error::CapacityExhausted`],
    /// [`Error::NodePoolExhausted`].
    pub fn insert_table(&mut self, table: TableInfo<K>) -> Result<TableRef, Error> {
        table.validate()?;
        let len = self.len();
        if len >= self.capacity() {
            return Err(Error::CapacityExhausted {
                capacity: self.capacity(),
            });
        }
        // After the tables with the same key_max and a smaller or equal snapshot_min.
        let start = self.tables.lower_bound_cursor(table.key_max);
        let (cursor, index) = self.tables.seek(start, |existing| {
            existing.key_max != table.key_max || existing.snapshot_min > table.snapshot_min
        });
        // The array checks the pool itself, before changing anything.
        let node = match self.tables.insert_at(cursor, table) {
            Ok(node) => node,
            Err(error) => {
                self.fault_only_count_refused_insert(&table, &error);
                return Err(error);
            }
        };

        if table.visible(SNAPSHOT_LATEST) || self.fault_only_retired_insert_counts() {
            self.table_count_visible += 1;
            self.value_count_visible += u64::from(table.value_count);
            let range = table.key_range();
            self.key_range_latest = Some(match self.key_range_latest {
                Some(current) => current.union(&range),
                None => range,
            });
        }
        self.generation = self.generation.wrapping_add(1);
        self.after_mutation();
        Ok(self.reference(index, node))
    }

    /// A reference to the table at `index`, found in node `node` (a hint, see [`TableRef`]).
    #[inline]
    fn reference(&self, index: u32, node: u32) -> TableRef {
        TableRef {
            level: self.id,
            generation: self.generation,
            index,
            node,
        }
    }

    /// The cursor of the table behind a reference [`ManifestLevel::check_reference`]
    /// accepted, from the node the reference remembers when that still holds it.
    #[inline]
    fn referenced_cursor(&self, reference: TableRef) -> Cursor {
        self.tables.cursor_hinted(reference.index, reference.node)
    }

    /// Checks that `reference` was taken from this level at its current generation.
    fn check_reference(&self, reference: TableRef) -> Result<u32, Error> {
        if reference.level != self.id || reference.generation != self.generation {
            return Err(Error::StaleReference {
                reference: reference.generation,
                level: self.generation,
            });
        }
        if reference.index >= self.len() {
            return Err(Error::TableNotFound);
        }
        Ok(reference.index)
    }

    /// The table `reference` points to.
    pub fn get(&self, reference: TableRef) -> Result<&TableInfo<K>, Error> {
        self.check_reference(reference)?;
        let cursor = self.referenced_cursor(reference);
        Ok(self.tables.element_at(cursor).expect("index checked"))
    }

    /// Retires the live table behind `reference` at `snapshot`: sets its `snapshot_max`.
    ///
    /// The table stays visible to snapshots up to `snapshot` and disappears for
    /// [`SNAPSHOT_LATEST`]; the visible counters and `key_range_latest` shrink accordingly.
    /// The order does not change, and neither does the generation.
    ///
    /// Errors, changing nothing: [`Error::StaleReference`], [`Error::TableNotFound`],
    /// [`Error::InvalidSnapshot`] (`snapshot >= SNAPSHOT_LATEST`, or below the table's
    /// `snapshot_min`), [`Error::TableAlreadyRetired`].
    pub fn set_snapshot_max(&mut self, snapshot: u64, reference: TableRef) -> Result<(), Error> {
        let index = self.check_reference(reference)?;
        if snapshot >= SNAPSHOT_LATEST {
            return Err(Error::InvalidSnapshot {
                snapshot,
                reason: "must be below SNAPSHOT_LATEST",
            });
        }
        // One lookup for both the checks and the change.
        let cursor = self.referenced_cursor(reference);
        let table = *self.tables.element_at(cursor).expect("index checked");
        if !table.is_live() {
            return Err(Error::TableAlreadyRetired {
                snapshot_max: table.snapshot_max,
            });
        }
        if snapshot < table.snapshot_min {
            return Err(Error::InvalidSnapshot {
                snapshot,
                reason: "below the table's snapshot_min",
            });
        }
        // Live and created at or before `snapshot < SNAPSHOT_LATEST`: latest sees it.
        assert!(table.visible(SNAPSHOT_LATEST));
        self.tables
            .update_at(cursor, |table| table.snapshot_max = snapshot);
        if !self.faulty(FaultName::RetireKeepsCounters) {
            self.table_count_visible -= 1;
            self.value_count_visible -= u64::from(table.value_count);
        }
        self.key_range_shrink(&table, index, Some(cursor));
        self.after_mutation();
        Ok(())
    }

    /// Removes the table equal to `table` (all seven fields).
    ///
    /// Errors, changing nothing: [`Error::InvalidTable`], [`Error::TableNotFound`].
    pub fn remove_table(&mut self, table: &TableInfo<K>) -> Result<(), Error> {
        table.validate()?;
        // An equal table has the same key_max: the scan starts at the first table with that
        // key_max (the same answer as starting from `key_min`, minus the tables in between).
        let start = self.tables.lower_bound_cursor(table.key_max);
        let (cursor, index) = self.tables.seek(start, |existing| {
            existing.key_max > table.key_max || existing == table
        });
        if self.tables.element_at(cursor) != Some(table) {
            return Err(Error::TableNotFound);
        }
        let (cursor, index) = self.fault_only_remove_target(cursor, index);
        let removed = self.tables.remove_at(cursor);

        if removed.visible(SNAPSHOT_LATEST) {
            self.table_count_visible -= 1;
            if !self.faulty(FaultName::RemoveKeepsValueCount) {
                self.value_count_visible -= u64::from(removed.value_count);
            }
            self.key_range_shrink(&removed, index, None);
        }
        if !self.faulty(FaultName::RemoveKeepsGeneration) {
            self.generation = self.generation.wrapping_add(1);
        }
        self.after_mutation();
        Ok(())
    }

    /// After `gone` (which was visible to latest) was retired or removed at `index`:
    /// recomputes each edge of `key_range_latest` that `gone` contributed, from the first
    /// table still visible to latest in that direction.
    ///
    /// By the level invariant the tables visible to latest are disjoint, so in
    /// `(key_max, snapshot_min)` order none comes before an edge table at the low end, nor
    /// after it at the high end: each scan starts at `index` instead of at the level's end,
    /// which keeps retiring or removing a run of edge tables linear instead of quadratic.
    /// (When that finds nothing, the whole level is scanned, so even a caller who broke the
    /// invariant never loses the range while visible tables remain.) `at` is the cursor of
    /// `index` when the caller has it (a retire, which moves nothing), so that neither scan
    /// searches for its start; a remove may have moved tables between nodes, so it passes
    /// `None`.
    fn key_range_shrink(&mut self, gone: &TableInfo<K>, index: u32, at: Option<Cursor>) {
        if self.faulty(FaultName::KeyRangeNotShrunk) {
            return;
        }
        let range = self
            .key_range_latest
            .expect("a visible table was in the range");
        let len = self.len();
        let (mut key_min, mut key_max) = (range.key_min(), range.key_max());
        let visible = |table: &&TableInfo<K>| table.visible(SNAPSHOT_LATEST);
        if gone.key_min == key_min {
            let mut from = match at {
                Some(cursor) => self.tables.range_at(cursor, index, len),
                None => self.tables.range(index.min(len), len),
            };
            // Only a caller breaking the level invariant leaves visible tables before
            // `index`; then look from the start, as the definition says.
            let first = from
                .find(visible)
                .or_else(|| self.tables.iter().find(visible));
            match first {
                Some(first) => key_min = first.key_min,
                None => {
                    self.key_range_latest = None;
                    return;
                }
            }
        }
        if gone.key_max == key_max {
            let through = match at {
                Some(cursor) => self.tables.range_to(Cursor {
                    relative: cursor.relative + 1,
                    ..cursor
                }),
                None => self.tables.range(0, (index + 1).min(len)),
            };
            let last = through
                .rev()
                .find(visible)
                .or_else(|| self.tables.iter().rev().find(visible));
            match last {
                Some(last) => key_max = last.key_max,
                None => {
                    self.key_range_latest = None;
                    return;
                }
            }
        }
        self.key_range_latest = Some(KeyRange::new(key_min, key_max).expect("ordered edges"));
    }

    /// Whether `key` may be in the level for `snapshot`.
    ///
    /// For [`SNAPSHOT_LATEST`] the answer is exact (from `key_range_latest`). For older
    /// snapshots retired tables may still hold the key, so the answer is always `true`.
    pub fn key_range_contains(&self, snapshot: u64, key: K) -> bool {
        if snapshot == SNAPSHOT_LATEST {
            self.key_range_latest
                .is_some_and(|range| self.fault_only_range_contains(&range, key))
        } else {
            true
        }
    }

    /// The tables matching `query`, in its direction.
    ///
    /// With a key range, iteration starts by binary search and stops as soon as no later
    /// table can match; the answer is exact (every table intersecting the range and
    /// passing the visibility filter) as long as the level invariant holds.
    pub fn iter<'a, 's>(&'a self, query: Query<'s, K>) -> LevelIter<'a, 's, K> {
        let len = self.len();
        let single_snapshot = query.visibility == Visibility::Visible && query.snapshots.len() == 1;
        // One key search names the node an end starts in: the iterator does not search again.
        let (inner, start, end) = match (query.key_range, query.direction) {
            (None, _) => (self.tables.range(0, len), 0, len),
            (Some(range), Direction::Ascending) => {
                let (cursor, start) = self.tables.lower_bound_indexed(range.key_min());
                (self.tables.range_at(cursor, start, len), start, len)
            }
            (Some(range), Direction::Descending) if single_snapshot => {
                let (cursor, end) = self.descending_end(range, query.snapshots[0]);
                (self.tables.range_to(cursor), 0, end)
            }
            (Some(_), Direction::Descending) => (self.tables.range(0, len), 0, len),
        };
        let (inner, start) = self.fault_only_descending_start(query.direction, inner, start, end);
        LevelIter {
            inner,
            front: start,
            back: end,
            query,
            stop_early: single_snapshot,
            done: false,
            level: self.id,
            generation: self.generation,
            #[cfg(feature = "fault-injection")]
            fault_invisible_max_exclusive: self.faulty(FaultName::InvisibleSnapshotMaxExclusive),
        }
    }

    /// Where a descending single-snapshot range iteration starts (exclusive end, as a
    /// cursor and an index): past every table with `key_max == range.key_max`, and past the
    /// first table visible to `snapshot` beyond them if it reaches into the range.
    fn descending_end(&self, range: KeyRange<K>, snapshot: u64) -> (Cursor, u32) {
        let from = self.tables.lower_bound_cursor(range.key_max());
        let (past_equal, end) = self
            .tables
            .seek(from, |table| table.key_max != range.key_max());
        let (visible, index) = self
            .tables
            .seek(past_equal, |table| table.visible(snapshot));
        match self.tables.element_at(visible) {
            Some(table) if table.key_min <= range.key_max() => {
                let after = Cursor {
                    node: visible.node,
                    relative: visible.relative + 1,
                };
                (after, index + 1)
            }
            _ => (past_equal, end),
        }
    }

    /// The table with the same `(key_max, snapshot_min)`, `address` and `checksum` as
    /// `table` (its `snapshot_max` may differ), if present.
    pub fn find(&self, table: &TableInfo<K>) -> Option<(TableRef, &TableInfo<K>)> {
        let start = self.tables.lower_bound_cursor(table.key_max);
        let (cursor, index, existing) = self.tables.seek_element(start, |existing| {
            existing.key_max != table.key_max || existing.same_identity(table)
        })?;
        existing
            .same_identity(table)
            .then(|| (self.reference(index, cursor.node), existing))
    }

    /// Whether a table equal to `table` (all seven fields) is present.
    pub fn contains(&self, table: &TableInfo<K>) -> bool {
        self.find(table).is_some_and(|(_, found)| found == table)
    }

    /// The first table visible to `args.snapshot` that intersects `args.key_range` (and lies
    /// strictly past `args.key_exclusive` when given), searching in `args.direction`.
    ///
    /// Stepping with `key_exclusive` set to the previous answer's `key_max` (ascending) or
    /// `key_min` (descending) walks the visible tables of a range one by one; an exclusive
    /// key beyond the range's far end simply yields `None`.
    pub fn next_table(&self, args: NextTable<K>) -> Option<(TableRef, &TableInfo<K>)> {
        let snapshots = [args.snapshot];
        let range = args.key_range;
        let Some(exclusive) = args.key_exclusive else {
            let query = Query::visible(&snapshots)
                .direction(args.direction)
                .within(range);
            return self.iter(query).next();
        };
        // Only tables past `exclusive` qualify, so the search range shrinks to the part of
        // `range` on the far side of it (inclusive: a table may start before `exclusive`
        // in the other direction's terms and still intersect).
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
        let inclusive = self.faulty(FaultName::NextTableInclusive);
        let query = Query::visible(&snapshots)
            .direction(args.direction)
            .within(narrowed);
        for (reference, table) in self.iter(query) {
            // A table found in the narrowed range may still start before the original
            // range (it then intersects the original range too, as it reaches `narrowed`).
            let past = match args.direction {
                Direction::Ascending => {
                    table.key_min > exclusive
                        || fault_only_touching_counts(inclusive, table.key_min, exclusive)
                }
                Direction::Descending => {
                    table.key_max < exclusive
                        || fault_only_touching_counts(inclusive, table.key_max, exclusive)
                }
            };
            if past {
                return Some((reference, table));
            }
        }
        None
    }

    /// The tables visible to `snapshot` that intersect `key_range`, ascending, with the
    /// range widened to cover them; `None` when more than `max` intersect.
    ///
    /// Errors: [`Error::InvalidArgument`] when `max > GROWTH_FACTOR`.
    pub fn tables_overlapping_with_key_range(
        &self,
        key_range: KeyRange<K>,
        snapshot: u64,
        max: usize,
    ) -> Result<Option<Overlap<K>>, Error> {
        if max > GROWTH_FACTOR {
            return Err(Error::InvalidArgument("max above GROWTH_FACTOR"));
        }
        let snapshots = [snapshot];
        let mut overlap = Overlap::new(key_range);
        for (reference, table) in self.iter(Query::visible(&snapshots).within(key_range)) {
            if overlap.len() == max {
                return Ok(None);
            }
            let slot = overlap.len();
            overlap.tables[slot] = *table;
            overlap.references[slot] = reference;
            overlap.count += 1;
            overlap.key_range = overlap.key_range.union(&table.key_range());
        }
        Ok(Some(overlap))
    }

    /// The table of this level (A), visible to `snapshot`, whose key range intersects the
    /// fewest tables of `other` (B) visible to `snapshot`, among those intersecting at most
    /// `max`. Ties go to the smaller key. Stops at the first table with no overlap.
    ///
    /// One merge-like sweep over both levels: O(n_a + n_b). `None` when A has no visible
    /// table or every one overlaps more than `max` tables of B.
    ///
    /// Errors: [`Error::InvalidArgument`] when `max > GROWTH_FACTOR`.
    pub fn table_with_least_overlap(
        &self,
        other: &ManifestLevel<'_, K>,
        snapshot: u64,
        max: usize,
    ) -> Result<Option<LeastOverlap<K>>, Error> {
        if max > GROWTH_FACTOR {
            return Err(Error::InvalidArgument("max above GROWTH_FACTOR"));
        }
        let prefer_last = self.faulty(FaultName::LeastOverlapPrefersLast);
        // Two cursors over B's visible tables (sorted by key_min and key_max alike, by the
        // level invariant): `low` at the first whose key_max >= a.key_min, `high` at the
        // first whose key_min > a.key_max. Both only move forward as A's keys grow, and the
        // tables between them are exactly those intersecting A's table.
        // The sweep walks the raw arrays with a single-snapshot filter: the same tables as
        // `iter(Query::visible(&[snapshot]))` in the same order, without the general
        // iterator's per-table bookkeeping (references, key ranges, several snapshots).
        let visible = |b: &&TableInfo<K>| b.visible(snapshot);
        let mut low = other.tables.iter().filter(visible).peekable();
        let mut high = other.tables.iter().filter(visible).peekable();
        let (mut low_passed, mut high_passed) = (0u32, 0u32);
        let mut best: Option<(u32, TableRef, TableInfo<K>)> = None;
        for (index, table) in self.tables.iter().enumerate() {
            if !table.visible(snapshot) {
                continue;
            }
            // No node at hand: the reference's first use searches for it.
            let reference = self.reference(index as u32, NO_NODE);
            // Each cursor passes every table of B at most once over the whole sweep.
            while low.next_if(|b| b.key_max < table.key_min).is_some() {
                low_passed += 1;
                debug_assert!(low_passed <= other.len());
            }
            while high.next_if(|b| b.key_min <= table.key_max).is_some() {
                high_passed += 1;
                debug_assert!(high_passed <= other.len());
            }
            let count = high_passed.saturating_sub(low_passed);
            if count as usize > max {
                continue;
            }
            let better = match best {
                None => true,
                Some((best_count, _, _)) => {
                    count < best_count || fault_only_tie_goes_last(prefer_last, count, best_count)
                }
            };
            if better {
                best = Some((count, reference, *table));
            }
            // Nothing beats a table overlapping no table of B (ties go to the smaller key).
            if count == 0 && fault_only_stops_at_no_overlap(prefer_last) {
                break;
            }
        }
        let Some((count, reference, table)) = best else {
            return Ok(None);
        };
        let overlap = other
            .tables_overlapping_with_key_range(table.key_range(), snapshot, max)?
            .expect("the sweep counted at most max overlapping tables");
        debug_assert_eq!(overlap.len(), count as usize);
        Ok(Some(LeastOverlap {
            table,
            reference,
            overlap,
        }))
    }

    /// Packs the level's tables into nodes filled to at least 15/16 of their slots, laid out
    /// in ascending pool order ([`SegmentedArray::defragment`], then
    /// [`SegmentedArray::pack`]), and returns the nodes this frees to the pool: a full
    /// iteration, a least-overlap sweep or a long range then streams through memory much as
    /// through one sorted slice.
    ///
    /// Inserting in random order leaves a level's nodes about 70% full and scattered over
    /// the pool. Call this after a bulk load, or after compacting into a level that is read
    /// far more than written; the 1/16 left free in the nodes it fills takes the next
    /// inserts without splits (nodes already fuller than that keep their tables, see
    /// [`SegmentedArray::pack`]). The tables, their order and the visible counters do not
    /// change, and neither does the generation: references taken before stay valid.
    /// O(nodes × node size), no allocation; 6–9 ms at 262,144 tables (BENCHMARKS.md).
    ///
    /// ```
    /// use manifest_level::{ManifestLevel, NodePool, TableInfo};
    /// let pool = NodePool::new(1024, ManifestLevel::<u64>::nodes_needed(1024, 1_000).unwrap())
    ///     .unwrap();
    /// let mut level = ManifestLevel::<u64>::new(&pool, 1_000).unwrap();
    /// for i in 0..1_000u64 {
    ///     let key = (i * 7919) % 1_000; // an order far from sorted
    ///     level.insert_table(TableInfo::new(1, key + 1, 1, key * 10, key * 10 + 5, 100)).unwrap();
    /// }
    /// let used = pool.acquired_count();
    /// let table = TableInfo::new(1, 501, 1, 5_000, 5_005, 100);
    /// let (reference, _) = level.find(&table).unwrap();
    /// level.compact();
    /// assert!(pool.acquired_count() < used);
    /// assert_eq!(level.get(reference), Ok(&table));
    /// ```
    pub fn compact(&mut self) {
        self.tables.defragment();
        self.tables.pack();
        self.after_mutation();
    }

    /// Removes every table and returns every node to the pool; bumps the generation.
    pub fn reset(&mut self) {
        self.tables.clear();
        self.table_count_visible = 0;
        self.value_count_visible = 0;
        self.key_range_latest = None;
        self.generation = self.generation.wrapping_add(1);
        self.after_mutation();
    }

    #[inline]
    fn after_mutation(&self) {
        #[cfg(any(test, feature = "verify"))]
        if self.auto_verify {
            self.verify();
        }
    }

    /// Checks every invariant from scratch; panics on the first violation. O(n).
    ///
    /// The array's structure; `(key_max, snapshot_min)` order;
    /// every table well formed; the visible counters and `key_range_latest` recomputed.
    /// Assumes the level invariant for [`SNAPSHOT_LATEST`] (disjoint visible tables).
    pub fn verify(&self) {
        self.tables.verify();
        assert!(self.len() <= self.capacity());
        let mut count = 0u32;
        let mut values = 0u64;
        let mut range: Option<KeyRange<K>> = None;
        let mut previous: Option<&TableInfo<K>> = None;
        for table in self.tables.iter() {
            assert!(table.validate().is_ok(), "malformed table {table:?}");
            if let Some(previous) = previous {
                assert!(
                    (previous.key_max, previous.snapshot_min)
                        <= (table.key_max, table.snapshot_min),
                    "tables out of order: {previous:?} before {table:?}"
                );
            }
            previous = Some(table);
            if table.visible(SNAPSHOT_LATEST) {
                count += 1;
                values += u64::from(table.value_count);
                range = Some(match range {
                    Some(range) => range.union(&table.key_range()),
                    None => table.key_range(),
                });
            }
        }
        assert_eq!(count, self.table_count_visible, "table_count_visible");
        assert_eq!(values, self.value_count_visible, "value_count_visible");
        assert_eq!(range, self.key_range_latest, "key_range_latest");
    }
}

/// For `table_with_least_overlap`: whether a table overlapping `count` tables of B beats
/// the best so far, which overlaps `best_count`, on a tie. Never, unless
/// `Fault::LeastOverlapPrefersLast` is planted (`prefer_last`). See the `fault_only_*`
/// methods.
#[inline(always)]
fn fault_only_tie_goes_last(prefer_last: bool, count: u32, best_count: u32) -> bool {
    prefer_last && count == best_count
}

/// For `table_with_least_overlap`: whether the sweep stops at a table overlapping nothing.
/// Always, unless `Fault::LeastOverlapPrefersLast` is planted (`prefer_last`: a later
/// table overlapping nothing would win the tie).
#[inline(always)]
fn fault_only_stops_at_no_overlap(prefer_last: bool) -> bool {
    !prefer_last
}

/// For `next_table`: whether a table whose near edge is `edge` lies past `exclusive`
/// although it touches it. Never, unless `Fault::NextTableInclusive` is planted
/// (`inclusive`). See the `fault_only_*` methods.
#[inline(always)]
fn fault_only_touching_counts<K: Key>(inclusive: bool, edge: K, exclusive: K) -> bool {
    inclusive && edge == exclusive
}

#[cfg(feature = "fault-injection")]
type FaultName = Fault;

/// Stand-in for the fault names when faults are compiled out, so call sites need no `cfg`.
#[cfg(not(feature = "fault-injection"))]
#[derive(Clone, Copy)]
#[allow(dead_code)]
enum FaultName {
    RetireKeepsCounters,
    RemoveTakesNeighbour,
    DescendingSkipsFirstNode,
    KeyRangeNotShrunk,
    RemoveKeepsValueCount,
    NextTableInclusive,
    LeastOverlapPrefersLast,
    RemoveKeepsGeneration,
    RetiredInsertCountsVisible,
    InvisibleSnapshotMaxExclusive,
    ExhaustedInsertCountsTable,
    KeyRangeContainsHighHalf,
}

/// The iterator of [`ManifestLevel::iter`]: yields a reference and the table.
pub struct LevelIter<'a, 's, K: Key> {
    inner: segmented_array::Iter<'a, TableInfo<K>>,
    /// Absolute index of the next table from the front, and one past the next from the back.
    front: u32,
    back: u32,
    query: Query<'s, K>,
    /// Whether the single-snapshot level invariant lets ascending iteration stop at the
    /// first visible table starting past the range.
    stop_early: bool,
    /// Set once no further table can match.
    done: bool,
    level: u32,
    generation: u32,
    /// `Fault::InvisibleSnapshotMaxExclusive` is planted: see
    /// [`LevelIter::fault_only_invisible_at_snapshot_max`].
    #[cfg(feature = "fault-injection")]
    fault_invisible_max_exclusive: bool,
}

impl<K: Key> LevelIter<'_, '_, K> {
    /// Never, unless `Fault::InvisibleSnapshotMaxExclusive` is planted: then, in an
    /// invisible query, whether `table` is invisible when `snapshot_max` is read as
    /// exclusive (so a table retired at one of the query's snapshots, and seen by no other
    /// nor by latest, passes too). See the `fault_only_*` methods of [`ManifestLevel`].
    #[inline(always)]
    #[allow(unused_variables)]
    fn fault_only_invisible_at_snapshot_max(&self, table: &TableInfo<K>) -> bool {
        #[cfg(feature = "fault-injection")]
        if self.fault_invisible_max_exclusive && self.query.visibility == Visibility::Invisible {
            let sees =
                |snapshot: u64| table.snapshot_min <= snapshot && snapshot < table.snapshot_max;
            return !table.visible(SNAPSHOT_LATEST)
                && !self.query.snapshots.iter().any(|&s| sees(s));
        }
        false
    }
}

impl<'a, K: Key> Iterator for LevelIter<'a, '_, K> {
    type Item = (TableRef, &'a TableInfo<K>);

    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        // Each round takes one of the `back - front` tables left in `inner`; the last round
        // may find none.
        let rounds_max = self.back - self.front + 1;
        let mut rounds = 0;
        loop {
            rounds += 1;
            debug_assert!(rounds <= rounds_max);
            // The table, its index, and the node it is in (the reference's hint).
            let (index, table, node) = match self.query.direction {
                Direction::Ascending => {
                    let table = self.inner.next()?;
                    self.front += 1;
                    (self.front - 1, table, self.inner.front_node())
                }
                Direction::Descending => {
                    let table = self.inner.next_back()?;
                    self.back -= 1;
                    (self.back, table, self.inner.back_node())
                }
            };
            if let Some(range) = self.query.key_range {
                match self.query.direction {
                    Direction::Ascending => {
                        debug_assert!(range.key_min() <= table.key_max);
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
                            // key_max only falls from here on: nothing further intersects.
                            self.done = true;
                            return None;
                        }
                        if table.key_min > range.key_max() {
                            continue;
                        }
                    }
                }
            }
            if !self.query.matches_visibility(table)
                && !self.fault_only_invisible_at_snapshot_max(table)
            {
                continue;
            }
            let reference = TableRef {
                level: self.level,
                generation: self.generation,
                index,
                node,
            };
            return Some((reference, table));
        }
    }
}

impl<K: Key> core::iter::FusedIterator for LevelIter<'_, '_, K> {}

/// The level's own checks: a level whose counters are wrong must fail
/// [`ManifestLevel::verify`], and every mutation must run it (unless turned off). Only code
/// inside the module can break a level, so these are unit tests (see MUTANTS.md: a skipped
/// check passes every test that only feeds it valid levels).
#[cfg(test)]
mod tests {
    use super::*;
    use std::panic::{catch_unwind, AssertUnwindSafe};

    fn panics(f: impl FnOnce()) -> bool {
        catch_unwind(AssertUnwindSafe(f)).is_err()
    }

    /// Whether `reference`'s node hint names the node that holds its table.
    fn hint_is_exact(level: &ManifestLevel<'_, u64>, reference: TableRef) -> bool {
        let (node, index) = (reference.node, reference.index);
        node < level.node_count()
            && level.tables.node_start(node) <= index
            && index < level.tables.node_start(node) + level.tables.node_len(node)
    }

    /// Every reference the level hands out names the node of its table: from an insert
    /// (also one that split its node), from `find`, and from iteration in both directions,
    /// over the whole level and over key ranges, visible and invisible. (A wrong hint would
    /// cost a search only, so no other test can tell.)
    #[test]
    fn references_name_the_node_of_their_table() {
        let pool =
            NodePool::new(256, ManifestLevel::<u64>::nodes_needed(256, 300).unwrap()).unwrap();
        let mut level = ManifestLevel::<u64>::new(&pool, 300).unwrap();
        let mut tables = Vec::new();
        for i in 0..300u64 {
            let slot = (i * 7919) % 300; // an order far from sorted: splits all over
            let table = TableInfo::new(u128::from(slot), slot + 1, 1, slot * 10, slot * 10 + 5, 10);
            let reference = level.insert_table(table).unwrap();
            assert!(hint_is_exact(&level, reference), "insert of {table:?}");
            tables.push(table);
        }
        assert!(level.layout_events().splits > 50);
        for table in tables.iter().step_by(3) {
            let (reference, _) = level.find(table).unwrap();
            level.set_snapshot_max(2, reference).unwrap();
        }
        for table in &tables {
            let (reference, _) = level.find(table).unwrap();
            assert!(hint_is_exact(&level, reference), "find of {table:?}");
        }
        let (latest, older) = ([SNAPSHOT_LATEST], [1, 2]);
        let ranges = [
            None,
            KeyRange::new(0, 1_000).ok(),
            KeyRange::new(1_234, 2_345).ok(),
        ];
        for direction in [Direction::Ascending, Direction::Descending] {
            for range in ranges {
                for query in [
                    Query::visible(&latest),
                    Query::visible(&older),
                    Query::invisible(&latest),
                ] {
                    let query = query.direction(direction);
                    let query = match range {
                        Some(range) => query.within(range),
                        None => query,
                    };
                    for (reference, _) in level.iter(query) {
                        assert!(hint_is_exact(&level, reference), "{query:?}");
                    }
                }
            }
        }
    }

    /// Two references to the same table are equal and hash alike whatever node they
    /// remember; references to different tables or generations differ.
    #[test]
    fn reference_equality_and_hash_ignore_the_node_hint() {
        use std::hash::{BuildHasher, RandomState};
        let hasher = RandomState::new();
        let a = TableRef {
            level: 1,
            generation: 2,
            index: 3,
            node: 0,
        };
        for node in [1, 3, NO_NODE] {
            let b = TableRef { node, ..a };
            assert_eq!(a, b);
            assert_eq!(hasher.hash_one(a), hasher.hash_one(b));
        }
        assert_ne!(a, TableRef { index: 4, ..a });
        assert_ne!(a, TableRef { generation: 3, ..a });
        assert_ne!(a, TableRef { level: 2, ..a });
    }

    #[test]
    fn verify_rejects_wrong_counters_and_mutations_run_it() {
        let pool = NodePool::new(256, ManifestLevel::<u64>::nodes_needed(256, 8).unwrap()).unwrap();
        let mut level = ManifestLevel::<u64>::new(&pool, 8).unwrap();
        level
            .insert_table(TableInfo::new(1, 1, 1, 0, 9, 10))
            .unwrap();
        level.verify();
        level.table_count_visible += 1;
        assert!(
            panics(|| level.verify()),
            "table_count_visible is off by one"
        );
        // The next mutation checks the level (unit tests always do, as `verify` builds do).
        assert!(panics(|| {
            level
                .insert_table(TableInfo::new(2, 2, 1, 10, 19, 10))
                .unwrap();
        }));
    }
}

//! The reference model (docs/SEMANTICS.md §4.4): the tables the level should hold, in a plain sorted
//! `Vec`, and the generator of new tables that never overlap it.
//!
//! Every table the fuzzer creates is disjoint from every table already in the model
//! (visible or retired), so the model's order by `key_min` is also the level's order by
//! `(key_max, snapshot_min)`, and the level invariant holds for every snapshot.
//!
//! The extended op set ([`Model::extended`]) relaxes this to the level invariant itself:
//! tables visible to *one* snapshot are disjoint, but a compaction's replacements overlap
//! the tables they replace, and a new table may overlap tables retired before the current
//! snapshot. The model then orders tables by `(key_max, snapshot_min)`, as the level does
//! (for disjoint tables that is the same order), and looks them up by that pair.
//!
//! Removal is mark-and-purge: an op marks the tables it removes (address 0, which no real
//! table has) while it still needs to look tables up by key, then [`Model::purge`] drops
//! the marked ones in one O(n) pass into a scratch buffer that is swapped in.
//!
//! Why a `Vec`: an insert or removal shifts the tail, O(n), but a contiguous shift is
//! cheap next to everything else an op does, and every lookup is one bisection over one
//! slice. Measured against an ordered sequence of the model's own (sorted chunks of at
//! most 128 tables with a Fenwick tree over their lengths, O(128 + log n) per update),
//! back to back: on a level grown to 61,168 tables the shifts are about 5% of a run, and
//! the chunked model made runs 5-19% slower at every size tried (the seed workload, 60,000
//! and 250,000 tables), since each access by index then costs a tree descent.

use manifest_level::{KeyRange, TableInfo, SNAPSHOT_LATEST};

use crate::level::oracle;
use crate::support::prng::Prng;

/// The model's key type. The level's may be wider: the environment embeds these keys into
/// it (the `level::key` module, which builds on the model, not the other way).
pub type Key = u64;

/// A table of the fuzzer's level.
pub type Table = TableInfo<Key>;

/// Batches of at most this many tables [`Model::insert_sorted_batch`] inserts one by one
/// (the shifts cost less than a merge of the whole model).
pub const BATCH_ONE_BY_ONE_MAX: usize = 16;

/// The most touched places [`Model::touched`] keeps per op: the first ones, and the
/// latest in the last slot.
pub const TOUCHED_MAX: usize = 2;

/// `value_count` of every generated table (the seed's constant).
pub const VALUE_COUNT: u32 = 64;

/// The most keys a new table starts after the previous one: its gap is `1..=GAP_MAX`.
pub const GAP_MAX: u64 = 31;

/// The widest new table: `key_max - key_min` is at most this.
pub const WIDTH_MAX: u64 = 32;

/// Keys per table of the start-key range: an insert starts at a random key in
/// `0..=table_count_max * KEY_SPACE_PER_TABLE`.
pub const KEY_SPACE_PER_TABLE: u64 = 64;

/// The reference model: tables sorted by `key_min`, pairwise disjoint (or, when
/// [extended](Model::extended), sorted by `(key_max, snapshot_min)` and disjoint per
/// snapshot).
#[derive(Clone, Debug, Default)]
pub struct Model {
    tables: Vec<Table>,
    scratch: Vec<Table>,
    marked: usize,
    /// Whether tables of different snapshots may overlap (extended op set).
    extended: bool,
    /// The tables wider than [`WIDTH_MAX`] (a compaction's replacements), as
    /// `(key_max, snapshot_min, key_min)` in level order: every other table ending at
    /// `key_max` starts at `key_max - WIDTH_MAX` or later (for range scans).
    wide: Vec<(Key, u64, Key)>,
    /// Where tables were inserted, retired or removed since [`Model::begin_op`] (see
    /// [`Model::touched`]).
    touched: [(Key, u64); TOUCHED_MAX],
    touched_len: usize,
}

impl Model {
    /// An empty model with room for `capacity` tables (no allocation up to that).
    pub fn with_capacity(capacity: usize) -> Model {
        Model {
            tables: Vec::with_capacity(capacity),
            scratch: Vec::with_capacity(capacity),
            marked: 0,
            extended: false,
            wide: Vec::with_capacity(capacity),
            touched: [(0, 0); TOUCHED_MAX],
            touched_len: 0,
        }
    }

    /// An empty model for the extended op set: tables of different snapshots may overlap;
    /// order and lookups by `(key_max, snapshot_min)`.
    pub fn extended(capacity: usize) -> Model {
        Model {
            extended: true,
            ..Model::with_capacity(capacity)
        }
    }

    /// Whether this is an [extended](Model::extended) model.
    pub fn is_extended(&self) -> bool {
        self.extended
    }

    /// Forgets the touched places: the next op's start.
    pub fn begin_op(&mut self) {
        self.touched_len = 0;
    }

    /// The `(key_max, snapshot_min)` of some tables the op changed since
    /// [`Model::begin_op`] (inserted, retired or removed): the first
    /// [`TOUCHED_MAX`]` - 1` of them and the latest. In level order these are the places
    /// the op changed ([`Model::lower_bound`] finds them again, a removed table's at its
    /// successor); the deep checks look at the level's nodes there.
    pub fn touched(&self) -> &[(Key, u64)] {
        &self.touched[..self.touched_len]
    }

    /// Notes `table`'s place as touched (O(1)).
    fn touch(&mut self, table: &Table) {
        let slot = self.touched_len.min(TOUCHED_MAX - 1);
        self.touched[slot] = place(table);
        self.touched_len = (slot + 1).max(self.touched_len);
    }

    /// The tables wider than [`WIDTH_MAX`] that end past `key_max`, as `(key_max,
    /// snapshot_min, key_min)` in level order (purged tables only). A key range ending at
    /// `key_max - WIDTH_MAX` can reach back only into these among the tables past it.
    pub fn wide_after(&self, key_max: Key) -> &[(Key, u64, Key)] {
        debug_assert_eq!(self.marked, 0);
        let start = self.wide.partition_point(|&(end, _, _)| end <= key_max);
        &self.wide[start..]
    }

    /// The index of the table with `table`'s `(key_max, snapshot_min)`, `address` and
    /// `checksum` (the level's [`find`](manifest_level::ManifestLevel::find)), by binary
    /// search. Only for models without marked tables.
    pub fn find_identity(&self, table: &Table) -> Option<usize> {
        let index = self.lower_bound(table.key_max, table.snapshot_min);
        let found = self.tables.get(index)?;
        oracle::same_identity(found, table).then_some(index)
    }

    /// The index of the first table at or after `(key_max, snapshot_min)` in level order.
    pub fn lower_bound(&self, key_max: Key, snapshot_min: u64) -> usize {
        lower_bound(&self.tables, (key_max, snapshot_min))
    }

    /// Removes the table at `index` at once (no marking). O(n).
    pub fn remove(&mut self, index: usize) -> Table {
        debug_assert_eq!(self.marked, 0);
        let table = self.tables.remove(index);
        self.touch(&table);
        forget_wide(&mut self.wide, &table);
        table
    }

    /// The tables, sorted by `key_min` (marked ones included until [`Model::purge`]).
    pub fn tables(&self) -> &[Table] {
        &self.tables
    }

    /// Number of tables (marked ones included until [`Model::purge`]).
    pub fn len(&self) -> usize {
        self.tables.len()
    }

    /// Whether the model holds no table.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// The table at `index`.
    pub fn get(&self, index: usize) -> &Table {
        &self.tables[index]
    }

    /// Sets the `snapshot_max` of the table at `index` (retiring it).
    pub fn set_snapshot_max(&mut self, index: usize, snapshot_max: u64) {
        self.tables[index].snapshot_max = snapshot_max;
        let table = self.tables[index];
        self.touch(&table);
    }

    /// The index of the table with `table`'s `key_min` and `key_max`, by binary search on
    /// `key_min` (spec's `find_exact`). The caller compares the other fields.
    ///
    /// An [extended](Model::extended) model searches by `(key_max, snapshot_min)` and
    /// matches `key_min`.
    pub fn find_exact(&self, table: &Table) -> Option<usize> {
        if self.extended {
            let index = self.lower_bound(table.key_max, table.snapshot_min);
            let found = self.tables.get(index)?;
            return (found.key_max == table.key_max
                && found.snapshot_min == table.snapshot_min
                && found.key_min == table.key_min)
                .then_some(index);
        }
        let index = self
            .tables
            .binary_search_by_key(&table.key_min, |t| t.key_min)
            .ok()?;
        (self.tables[index].key_max == table.key_max).then_some(index)
    }

    /// Inserts `table` at its sorted position and returns that position.
    ///
    /// # Panics
    ///
    /// If `table` overlaps a table of the model (a bug of the generator, not the level);
    /// for an [extended](Model::extended) model, a table some snapshot also sees (checked
    /// in builds with debug assertions).
    pub fn insert(&mut self, table: Table) -> usize {
        note_wide(&mut self.wide, &table);
        self.touch(&table);
        if self.extended {
            #[cfg(debug_assertions)]
            for other in &self.tables {
                let shared_snapshot = other.snapshot_min <= table.snapshot_max
                    && table.snapshot_min <= other.snapshot_max;
                assert!(
                    !(shared_snapshot && oracle::tables_intersect(other, &table)),
                    "generated {table:?} overlaps {other:?}, and a snapshot sees both"
                );
            }
            let index = self.lower_bound(table.key_max, table.snapshot_min);
            self.tables.insert(index, table);
            return index;
        }
        let index = self.tables.partition_point(|t| t.key_min < table.key_min);
        assert!(
            index == self.tables.len() || self.tables[index].key_min > table.key_max,
            "generated {table:?} overlaps the next model table"
        );
        assert!(
            index == 0 || self.tables[index - 1].key_max < table.key_min,
            "generated {table:?} overlaps the previous model table"
        );
        self.tables.insert(index, table);
        index
    }

    /// Inserts `tables`, sorted by `(key_max, snapshot_min)` and each overlapping nothing
    /// the model holds (as [`Model::insert`] requires), in one merge from the back: O(n +
    /// k) moves instead of k shifts of the tail. The model must have no marked table.
    ///
    /// # Panics
    ///
    /// If `tables` is not sorted, or (checked in builds with debug assertions, for
    /// batches of a few tables) a table overlaps one of the model.
    pub fn insert_sorted_batch(&mut self, tables: impl ExactSizeIterator<Item = Table>) {
        debug_assert_eq!(self.marked, 0);
        if tables.len() <= BATCH_ONE_BY_ONE_MAX {
            tables.for_each(|table| {
                self.insert(table);
            });
            return;
        }
        self.scratch.clear();
        self.scratch.extend(tables);
        let order = |t: &Table| (t.key_max, t.snapshot_min);
        for pair in self.scratch.windows(2) {
            assert!(
                order(&pair[0]) < order(&pair[1]),
                "batch not sorted: {pair:?}"
            );
        }
        for table in &self.scratch {
            note_wide(&mut self.wide, table);
        }
        if let (Some(&first), Some(&last)) = (self.scratch.first(), self.scratch.last()) {
            self.touch(&first);
            self.touch(&last);
        }
        let old_len = self.tables.len();
        self.tables.extend_from_slice(&self.scratch);
        // Merge from the back: `read` walks the old tables, `batch` the new ones, and
        // `write` the slot both compete for; every step fills one slot.
        let (mut read, mut batch, mut write) = (old_len, self.scratch.len(), self.tables.len());
        while batch > 0 {
            write -= 1;
            if read > 0 && order(&self.tables[read - 1]) > order(&self.scratch[batch - 1]) {
                read -= 1;
                self.tables[write] = self.tables[read];
            } else {
                batch -= 1;
                self.tables[write] = self.scratch[batch];
            }
        }
        debug_assert_eq!(read, write);
        if !self.extended {
            self.assert_disjoint_from(read);
        }
    }

    /// The tables from `start` on are sorted by `key_min` and pairwise disjoint, and so
    /// is the one before `start` with the first of them (the non-extended invariant).
    fn assert_disjoint_from(&self, start: usize) {
        let from = start.saturating_sub(1);
        for pair in self.tables[from..].windows(2) {
            assert!(
                pair[0].key_max < pair[1].key_min,
                "generated tables overlap: {pair:?}"
            );
        }
    }

    /// Marks the table at `index` as removed (address 0). O(1).
    pub fn mark_removed(&mut self, index: usize) {
        debug_assert_ne!(self.tables[index].address, 0, "marked twice");
        let table = self.tables[index];
        self.touch(&table);
        self.tables[index].address = 0;
        self.marked += 1;
    }

    /// Drops every marked table: copies the others into the scratch buffer and swaps the
    /// two. O(n), no allocation (the buffers keep their capacity).
    pub fn purge(&mut self) {
        if self.marked == 0 {
            return;
        }
        self.scratch.clear();
        self.scratch
            .extend(self.tables.iter().filter(|table| table.address != 0));
        debug_assert_eq!(self.scratch.len() + self.marked, self.tables.len());
        core::mem::swap(&mut self.tables, &mut self.scratch);
        self.marked = 0;
        // The wide index keeps the tables still held (a marked table has address 0).
        let tables = &self.tables;
        self.wide.retain(|&(key_max, snapshot_min, _)| {
            let held = tables.get(lower_bound(tables, (key_max, snapshot_min)));
            held.is_some_and(|table| place(table) == (key_max, snapshot_min))
        });
    }

    /// Empties the model.
    pub fn clear(&mut self) {
        self.tables.clear();
        self.marked = 0;
        self.wide.clear();
    }

    /// The key range covered by the tables visible to [`SNAPSHOT_LATEST`]: from the
    /// `key_min` of the first to the `key_max` of the last, found by scanning in from both
    /// ends (tables are disjoint and sorted, so these are the extremes).
    pub fn key_range_latest(&self) -> Option<KeyRange<Key>> {
        let first = self
            .tables
            .iter()
            .find(|t| oracle::sees(SNAPSHOT_LATEST, t))?;
        let last = self
            .tables
            .iter()
            .rev()
            .find(|t| oracle::sees(SNAPSHOT_LATEST, t))
            .expect("the first visible table is also found from the back");
        Some(KeyRange::new(first.key_min, last.key_max).expect("sorted, disjoint tables"))
    }

    /// A new live table created at `snapshot` that overlaps no table of the model and
    /// lies entirely after `after` (docs/SEMANTICS.md §4.4).
    ///
    /// `key_min` is `after + 1..=31`, pushed past the end of any model table it lands in;
    /// `key_max` is `key_min + 0..=min(32, room)`, where `room` keeps it before the next
    /// model table. Checksum and address are random (address never 0); `value_count` is
    /// [`VALUE_COUNT`]. Draws, in order: gap, width, checksum (two draws), address.
    ///
    /// The model must have no marked table.
    pub fn generate_non_overlapping_table(
        &self,
        prng: &mut Prng,
        after: Key,
        snapshot: u64,
    ) -> Table {
        debug_assert_eq!(self.marked, 0);
        generate_table_avoiding(&self.tables, prng, after, snapshot)
    }
}

/// A new live table created at `snapshot`, lying entirely after `after` and overlapping
/// none of `avoid` (sorted, pairwise disjoint): the algorithm and draws of
/// [`Model::generate_non_overlapping_table`], which calls it with every model table.
///
/// The extended op set passes only the tables the new one could share a snapshot with
/// (live tables and tables retired at the current snapshot), so new tables may overlap
/// older retired ones, as in a real LSM tree.
pub fn generate_table_avoiding(
    avoid: &[Table],
    prng: &mut Prng,
    after: Key,
    snapshot: u64,
) -> Table {
    let mut key_min = after + prng.range_inclusive(1, GAP_MAX);
    // The first table that does not end before key_min: key_min lands in it when it
    // starts at or before key_min; then step past it (and past any adjacent one).
    let mut next = avoid.partition_point(|t| t.key_max < key_min);
    while let Some(table) = avoid.get(next) {
        if table.key_min > key_min {
            break;
        }
        key_min = table.key_max + 1;
        next += 1;
    }
    let room = match avoid.get(next) {
        Some(table) => table.key_min - key_min - 1,
        None => WIDTH_MAX,
    };
    let key_max = key_min + prng.int_inclusive(room.min(WIDTH_MAX));
    let checksum = prng.u128();
    let address = prng.range_inclusive(1, u64::MAX);
    Table::new(checksum, address, snapshot, key_min, key_max, VALUE_COUNT)
}

/// A table's place in level order: `(key_max, snapshot_min)`.
fn place(table: &Table) -> (Key, u64) {
    (table.key_max, table.snapshot_min)
}

/// Notes `table` in the wide index `wide` (see [`Model::wide_after`]) if it is wider than
/// [`WIDTH_MAX`].
fn note_wide(wide: &mut Vec<(Key, u64, Key)>, table: &Table) {
    if table.key_max - table.key_min > WIDTH_MAX {
        let index = wide.partition_point(|&(k, s, _)| (k, s) < place(table));
        wide.insert(index, (table.key_max, table.snapshot_min, table.key_min));
    }
}

/// Drops `table` from the wide index `wide`, if it is there.
fn forget_wide(wide: &mut Vec<(Key, u64, Key)>, table: &Table) {
    if let Ok(index) = wide.binary_search_by(|&(k, s, _)| (k, s).cmp(&place(table))) {
        wide.remove(index);
    }
}

/// The index of the first of `tables` (in level order) at or after `place`.
fn lower_bound(tables: &[Table], place_wanted: (Key, u64)) -> usize {
    tables.partition_point(|table| place(table) < place_wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(key_min: Key, key_max: Key) -> Table {
        Table::new(u128::from(key_min), key_min + 1, 1, key_min, key_max, 64)
    }

    #[test]
    fn the_wide_index_holds_the_wide_tables_held() {
        let mut model = Model::extended(16);
        let wide = |key_min, key_max, snapshot| TableInfo {
            snapshot_min: snapshot,
            ..table(key_min, key_max)
        };
        model.insert(table(0, 10));
        model.insert(wide(20, 200, 1));
        model.insert(wide(300, 400, 2));
        // Only the tables wider than WIDTH_MAX, ending past the key asked about.
        assert_eq!(model.wide_after(0), [(200, 1, 20), (400, 2, 300)]);
        assert_eq!(model.wide_after(200), [(400, 2, 300)]);
        // A removal at once and a purge of a marked table both leave the index.
        model.remove(model.lower_bound(200, 1));
        assert_eq!(model.wide_after(0), [(400, 2, 300)]);
        model.mark_removed(model.lower_bound(400, 2));
        model.purge();
        assert!(model.wide_after(0).is_empty());
        model.insert(wide(500, 600, 3));
        model.clear();
        assert!(model.wide_after(0).is_empty());
        assert_eq!(model.touched().len(), TOUCHED_MAX);
        model.begin_op();
        assert!(model.touched().is_empty());
    }

    #[test]
    fn find_exact_mark_and_purge() {
        let mut model = Model::with_capacity(8);
        for (min, max) in [(20, 29), (0, 9), (10, 10), (40, 50)] {
            model.insert(table(min, max));
        }
        let keys: Vec<_> = model.tables().iter().map(|t| t.key_min).collect();
        assert_eq!(keys, [0, 10, 20, 40]);
        assert_eq!(model.find_exact(&table(10, 10)), Some(1));
        assert_eq!(model.find_exact(&table(10, 11)), None);
        assert_eq!(model.find_exact(&table(11, 11)), None);
        model.mark_removed(1);
        model.mark_removed(3);
        assert_eq!(model.len(), 4);
        model.purge();
        let keys: Vec<_> = model.tables().iter().map(|t| t.key_min).collect();
        assert_eq!(keys, [0, 20]);
        assert_eq!(model.key_range_latest(), KeyRange::new(0, 29).ok());
        model.set_snapshot_max(0, 3);
        assert_eq!(model.key_range_latest(), KeyRange::new(20, 29).ok());
        model.set_snapshot_max(1, 3);
        assert_eq!(model.key_range_latest(), None);
    }

    #[test]
    #[should_panic(expected = "overlaps")]
    fn insert_rejects_overlap() {
        let mut model = Model::with_capacity(2);
        model.insert(table(10, 20));
        model.insert(table(20, 30));
    }

    #[test]
    fn generated_tables_never_overlap() {
        let mut prng = Prng::from_seed(3);
        let mut model = Model::with_capacity(4096);
        for round in 0..400 {
            let mut key = prng.int_inclusive(256 * KEY_SPACE_PER_TABLE);
            for _ in 0..1 + round % 10 {
                let table = model.generate_non_overlapping_table(&mut prng, key, 5);
                assert!(table.key_min > key);
                assert!(table.key_max - table.key_min <= WIDTH_MAX);
                assert_ne!(table.address, 0);
                assert!(oracle::sees(5, &table) && oracle::sees(SNAPSHOT_LATEST, &table));
                model.insert(table); // panics on overlap
                key = table.key_max;
            }
        }
        // Tables got packed: some pushes past a table and some zero-room widths happened.
        let adjacent = model
            .tables()
            .windows(2)
            .filter(|w| w[0].key_max + 1 == w[1].key_min)
            .count();
        assert!(adjacent > 0);
    }
}

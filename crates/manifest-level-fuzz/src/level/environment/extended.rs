//! Execution of the extended op set: every public method of the level under
//! random interleavings, each checked against the model.
//!
//! - **Retained snapshots** ([`FuzzOp::RetainSnapshot`], [`FuzzOp::ReleaseSnapshot`]):
//!   readers holding old snapshots. [`FuzzOp::RemoveInvisible`] then asks the level for
//!   the tables invisible to latest, the current snapshot *and every retained one*
//!   (`Query::invisible(&[retained.., current])`), checks each against the model, and
//!   removes only those retired before the oldest snapshot still read (see
//!   [`crate::level::generate`] for why).
//! - **Compaction** ([`FuzzOp::Compact`]): retires a run of consecutive live tables at the
//!   current snapshot, takes a snapshot, and inserts replacements that cover exactly the
//!   run's key range, cut at random points or at the old tables' boundaries. The old
//!   tables stay (visible to older snapshots) and overlap their replacements; the last
//!   replacement shares `key_max` with the last old table, so the level's ordering by
//!   `snapshot_min` among equal keys is exercised. Then `ManifestLevel::compact` lays the
//!   level out (the checks after the op see it, and a reference from before still
//!   resolves).
//! - **Queries**: [`FuzzOp::NextTableWalk`] walks a random range with `next_table` and
//!   `key_exclusive`, then probes exclusive keys at table edges; [`FuzzOp::OverlapQuery`]
//!   runs `tables_overlapping_with_key_range` (including the `None` answer above `max`
//!   and the widened range); [`FuzzOp::LeastOverlap`] runs `table_with_least_overlap`
//!   against level B and compares with a brute force over both models (ties to the
//!   smaller key, then the smaller snapshot). Level B has its own model and ops
//!   ([`FuzzOp::InsertTablesB`], [`FuzzOp::RemoveTablesB`]); its tables are live tables
//!   created at the current snapshot, started near the level's own tables half the time
//!   (and then, half of those times, with exactly the key ranges of consecutive tables of
//!   the level) so that overlaps and ties are common.
//! - **[`FuzzOp::Reset`]**: the level empties, returns every node and bumps the
//!   generation; the model empties too.
//! - **[`FuzzOp::Rebuild`]**: what a manifest replay does: reset, then every model table
//!   inserted again in random order, retired ones included (whose inserts must move
//!   neither the visible counters nor `key_range_latest`); then the whole level against
//!   the model.
//! - **Misuse**: stale references, removing an absent table, retiring a retired table,
//!   malformed tables, a full level, snapshots out of range. Each must return the right
//!   typed [`Error`] and leave the level as it was: its length, generation, node count,
//!   counters and `key_range_latest` every time, and its whole contents (hashed) while
//!   it is small and at exponentially spaced misuse ops.
//!
//! Random choices that change the state (which tables a compaction takes, the contents of
//! new tables) come from the environment's table stream; the choices of read-only and
//! misuse ops come from a separate query stream.

use manifest_level::{
    Direction, Error, KeyRange, LeastOverlap, ManifestLevel, NextTable, NodePool, Query, TableInfo,
    TableRef, GROWTH_FACTOR, SNAPSHOT_LATEST, SNAPSHOT_MAX_LIVE,
};

use crate::level::environment::{
    check, check_eq, insert_table, observe, Check, CheckFailure, Environment,
};
use crate::level::generate::{Params, RETAINED_MAX};
use crate::level::key::{embed_bounds, embed_range, embed_table, project_table, FuzzKey};
use crate::level::model::{Key, Model, Table, VALUE_COUNT};
use crate::level::ops::{FuzzOp, WalkDirection};
use crate::level::oracle;
use crate::level::sample::{pick_edge_key, pick_range, pick_snapshot};
use crate::level::states::{State, StateCounts};
use crate::support::prng::Prng;

/// The most `next_table` steps one walk takes.
pub const WALK_STEPS_MAX: usize = 64;

/// `key_exclusive` probes after each walk: the near edge of a table the walk met, a key on
/// or next to a random table's edge, a random key around the range.
pub const WALK_PROBES: usize = 3;

/// Which mutation a stale reference was taken before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StaleSlot {
    /// An insert (or a compaction, which inserts).
    Insert = 0,
    /// A removal.
    Remove = 1,
    /// A reset.
    Reset = 2,
}

/// Up to this many tables, every misuse op hashes the whole level before and after
/// (the deep checker's full-check size).
pub const MISUSE_HASHED_TABLES: usize = 32;

/// The extended op set's part of the environment.
pub(crate) struct Extended<'pool, K: FuzzKey> {
    /// Retained snapshots, in retain order.
    pub(crate) retained: Vec<u64>,
    /// The second level, for `table_with_least_overlap`.
    pub(crate) level_b: ManifestLevel<'pool, K>,
    /// Level B's model (disjoint live tables).
    pub(crate) model_b: Model,
    /// The third level on the same pool, when the run has one ([`Params::third_level`]):
    /// level B's inserts and removals then go to B or C, and the least-overlap op also
    /// asks B about C.
    pub(crate) level_c: Option<ManifestLevel<'pool, K>>,
    /// Level C's model (disjoint live tables; empty without level C).
    pub(crate) model_c: Model,
    /// Draws the choices of read-only and misuse ops.
    pub(crate) query: Prng,
    /// References taken just before the last insert, remove and reset of a non-empty
    /// level: stale ever since.
    pub(crate) stale: [Option<TableRef>; 3],
    /// Scratch: the tables a new table must not overlap.
    pub(crate) avoid: Vec<Table>,
    /// Misuse ops run so far (which of them hash the whole level: see
    /// [`Environment::misuse`]).
    pub(crate) misuses: u64,
}

impl<'pool, K: FuzzKey> Extended<'pool, K> {
    pub(crate) fn new(
        pool: &'pool NodePool,
        params: &Params,
        query: Prng,
    ) -> Result<Extended<'pool, K>, Error> {
        let capacity_b = params.level_b_capacity();
        let mut level_b = ManifestLevel::new(pool, capacity_b)?;
        level_b.set_auto_verify(false);
        let capacity_c = if params.third_level { capacity_b } else { 0 };
        let level_c = if params.third_level {
            let mut level_c = ManifestLevel::new(pool, capacity_c)?;
            level_c.set_auto_verify(false);
            Some(level_c)
        } else {
            None
        };
        Ok(Extended {
            retained: Vec::with_capacity(RETAINED_MAX),
            level_b,
            model_b: Model::with_capacity(capacity_b as usize),
            level_c,
            model_c: Model::with_capacity(capacity_c as usize),
            query,
            stale: [None; 3],
            avoid: Vec::with_capacity(params.table_count_max as usize),
            misuses: 0,
        })
    }

    /// Level B and its model, or with `c` level C and its model (the run has a third
    /// level when `c` is drawn).
    pub(crate) fn lower_mut(&mut self, c: bool) -> (&mut ManifestLevel<'pool, K>, &mut Model) {
        if c {
            let level = self.level_c.as_mut().expect("a third level");
            (level, &mut self.model_c)
        } else {
            (&mut self.level_b, &mut self.model_b)
        }
    }

    /// Takes a reference to a table of a non-empty level (the model's middle table)
    /// before a mutation, for [`FuzzOp::MisuseStaleReference`].
    pub(crate) fn capture_stale(
        &mut self,
        level: &ManifestLevel<'_, K>,
        model: &Model,
        slot: StaleSlot,
    ) -> Result<(), CheckFailure> {
        if model.is_empty() {
            return Ok(());
        }
        let table = embed_table::<K>(model.get(model.len() / 2));
        match level.find(&table) {
            Some((reference, found)) if *found == table => {
                self.stale[slot as usize] = Some(reference);
                Ok(())
            }
            found => Err(CheckFailure::new(
                Check::Find,
                table,
                found.map(|(_, found)| *found),
            )),
        }
    }
}

/// Brute force: the first table of `model` (in `direction`) visible to `snapshot`,
/// intersecting `range`, and strictly past `exclusive` (ascending: `key_min >
/// exclusive`; descending: `key_max < exclusive`), with its model index.
fn model_next_table(
    model: &Model,
    snapshot: u64,
    range: KeyRange<Key>,
    exclusive: Option<Key>,
    direction: Direction,
) -> Option<(usize, Table)> {
    let matches = |table: &Table| {
        oracle::sees(snapshot, table)
            && oracle::intersects(table, &range)
            && match (exclusive, direction) {
                (None, _) => true,
                (Some(key), Direction::Ascending) => table.key_min > key,
                (Some(key), Direction::Descending) => table.key_max < key,
            }
    };
    let tables = model.tables();
    match direction {
        Direction::Ascending => tables
            .iter()
            .enumerate()
            .find(|(_, table)| matches(table))
            .map(|(index, table)| (index, *table)),
        Direction::Descending => tables
            .iter()
            .enumerate()
            .rev()
            .find(|(_, table)| matches(table))
            .map(|(index, table)| (index, *table)),
    }
}

/// Checks that `reference` was handed out by `level` now and points at `index`.
fn check_reference<K: FuzzKey>(
    level: &ManifestLevel<'_, K>,
    reference: TableRef,
    index: usize,
    table: &TableInfo<K>,
) -> Result<(), CheckFailure> {
    check!(
        reference.generation() == level.generation() && reference.index() as usize == index,
        Check::Reference,
        format!(
            "generation {} and index {index} for {table:?}",
            level.generation()
        ),
        format!(
            "generation {} and index {}",
            reference.generation(),
            reference.index()
        ),
    );
    Ok(())
}

/// Chooses `count` distinct cut points, ascending, into `cuts`: with `candidates` given,
/// among them (selection sampling); otherwise in `low..=high`.
fn choose_cuts(
    prng: &mut Prng,
    count: usize,
    candidates: Option<&[Key]>,
    low: Key,
    high: Key,
    cuts: &mut [Key; 8],
) {
    debug_assert!(count < cuts.len());
    if count == 0 {
        return;
    }
    match candidates {
        Some(candidates) => {
            debug_assert!(candidates.len() >= count);
            let mut chosen = 0;
            for (i, &candidate) in candidates.iter().enumerate() {
                let left = (candidates.len() - i) as u64;
                if prng.int_inclusive(left - 1) < (count - chosen) as u64 {
                    cuts[chosen] = candidate;
                    chosen += 1;
                }
            }
            debug_assert_eq!(chosen, count);
        }
        None => {
            debug_assert!(high - low + 1 >= count as u64);
            // Rejection: draw until `count` distinct values (few retries: the range is
            // at least `count` wide and usually much wider).
            let mut chosen = 0;
            while chosen < count {
                let cut = prng.range_inclusive(low, high);
                if !cuts[..chosen].contains(&cut) {
                    cuts[chosen] = cut;
                    chosen += 1;
                }
            }
            cuts[..count].sort_unstable();
        }
    }
}

impl<'pool, K: FuzzKey> Environment<'pool, K> {
    /// Runs an extended op. Every table it touches is checked; the after-op checks are
    /// [`Environment::apply`]'s.
    ///
    /// # Panics
    ///
    /// In an environment of the faithful op set, or on a faithful op.
    pub(crate) fn apply_extended(&mut self, op: &FuzzOp) -> Result<(), CheckFailure> {
        let mut ext = self
            .ext
            .take()
            .unwrap_or_else(|| panic!("{op} needs an environment of the extended op set"));
        let result = self.apply_extended_with(&mut ext, op);
        self.ext = Some(ext);
        result
    }

    fn apply_extended_with(
        &mut self,
        ext: &mut Extended<'pool, K>,
        op: &FuzzOp,
    ) -> Result<(), CheckFailure> {
        match *op {
            FuzzOp::RetainSnapshot => {
                assert!(ext.retained.len() < RETAINED_MAX, "too many retained");
                ext.retained.push(self.snapshot);
                Ok(())
            }
            FuzzOp::ReleaseSnapshot { index } => {
                ext.retained.remove(index as usize);
                Ok(())
            }
            FuzzOp::Compact { inputs, outputs } => self.compact(ext, inputs, outputs),
            FuzzOp::NextTableWalk { direction } => self.next_table_walk(ext, direction),
            FuzzOp::OverlapQuery => self.overlap_query(ext),
            FuzzOp::LeastOverlap => self.least_overlap(ext),
            FuzzOp::InsertTablesB { count } => self.insert_tables_b(ext, count),
            FuzzOp::RemoveTablesB { count } => self.remove_tables_b(ext, count),
            FuzzOp::Reset => self.reset(ext),
            FuzzOp::Rebuild => self.rebuild(ext),
            FuzzOp::MisuseStaleReference
            | FuzzOp::MisuseRemoveAbsent
            | FuzzOp::MisuseRetireRetired
            | FuzzOp::MisuseInvalidTable
            | FuzzOp::MisuseCapacityExhausted
            | FuzzOp::MisuseInvalidSnapshot => self.misuse(ext, op),
            FuzzOp::InsertTables { .. }
            | FuzzOp::UpdateTables { .. }
            | FuzzOp::TakeSnapshot
            | FuzzOp::RemoveInvisible { .. }
            | FuzzOp::RemoveVisible { .. } => unreachable!("{op} is a faithful op"),
        }
    }

    /// [`FuzzOp::RemoveInvisible`] with retained snapshots: the level's tables invisible to
    /// latest, the current and every retained snapshot, descending, each checked against
    /// the model; the first `count` retired before the oldest snapshot still read are
    /// removed.
    pub(crate) fn remove_invisible_retained(&mut self, count: u32) -> Result<(), CheckFailure> {
        let ext = self.ext.as_ref().expect("extended op set");
        let mut snapshots = [0u64; RETAINED_MAX + 1];
        let len = ext.retained.len();
        snapshots[..len].copy_from_slice(&ext.retained);
        snapshots[len] = self.snapshot;
        let snapshots = &snapshots[..=len];
        let floor = snapshots.iter().copied().min().expect("non-empty");
        self.collect_where(
            Query::invisible(snapshots).descending(),
            count,
            |table| oracle::invisible(snapshots, table),
            |table| table.snapshot_max < floor,
        )?;
        self.remove_collected()
    }

    /// [`FuzzOp::Compact`].
    fn compact(
        &mut self,
        ext: &mut Extended<'pool, K>,
        inputs: u32,
        outputs: u32,
    ) -> Result<(), CheckFailure> {
        ext.capture_stale(&self.level, &self.model, StaleSlot::Insert)?;
        let live = self.live_count;
        debug_assert!(inputs >= 1 && inputs <= live && outputs >= 1 && outputs <= inputs);
        let start = self.prng.int_inclusive(u64::from(live - inputs)) as u32;
        self.collect_compaction_run(start, inputs)?;

        // Retire them at the current snapshot.
        self.retire_collected()?;
        let mut boundaries = [0 as Key; 8];
        for (i, &(_, table, _)) in self.scratch.iter().enumerate().skip(1) {
            boundaries[i - 1] = table.key_min;
        }
        let low = self.scratch[0].1.key_min;
        let high = self.scratch[inputs as usize - 1].1.key_max;
        self.live_count -= inputs;
        self.live_values -= self.scratch_values();

        self.take_snapshot()?;

        let boundaries = &boundaries[..inputs as usize - 1];
        let last = self.insert_replacements(boundaries, outputs, low, high)?;
        // An engine lays a level out after compacting into it: `ManifestLevel::compact` packs
        // the tables into fewer nodes and changes nothing else, so the checks after this op
        // must see the same level, and a reference taken before must still resolve to its
        // table.
        self.level.compact();
        if let Some((reference, table)) = last {
            self.check_resolves(reference, &table)?;
        }
        Ok(())
    }

    /// The run a compaction takes, into the scratch buffer: the live tables
    /// `start..start + inputs`, ascending, each checked (visible to latest, disjoint from
    /// the one before, equal to its model table); and that there are `inputs` of them.
    fn collect_compaction_run(&mut self, start: u32, inputs: u32) -> Result<(), CheckFailure> {
        let latest = [SNAPSHOT_LATEST];
        self.scratch.clear();
        let mut previous: Option<TableInfo<K>> = None;
        for (position, (reference, table)) in self.level.iter(Query::visible(&latest)).enumerate() {
            check!(
                oracle::sees(SNAPSHOT_LATEST, table),
                Check::IteratorFilter,
                "visible to latest".into(),
                format!("{table:?}"),
            );
            if let Some(previous) = previous {
                check!(
                    previous.key_max < table.key_min,
                    Check::IteratorOrder,
                    format!("after {previous:?}, disjoint"),
                    format!("{table:?}"),
                );
            }
            previous = Some(*table);
            if (position as u32) < start {
                continue;
            }
            let index = self.model_index(table)?;
            self.scratch
                .push((reference, *self.model.get(index), index));
            if self.scratch.len() == inputs as usize {
                break;
            }
        }
        check_eq!(Check::EnoughTables, expected: inputs as usize, found: self.scratch.len());
        Ok(())
    }

    /// A compaction's `outputs` replacements, created at the current snapshot, covering
    /// `low..=high` exactly: cut at random keys or (on a coin flip) at the old tables'
    /// `boundaries`. Inserts each into the level and the model, checks its reference, and
    /// returns the last one with its reference.
    fn insert_replacements(
        &mut self,
        boundaries: &[Key],
        outputs: u32,
        low: Key,
        high: Key,
    ) -> Result<Option<(TableRef, Table)>, CheckFailure> {
        let cut_count = outputs as usize - 1;
        let mut cuts = [0 as Key; 8];
        let at_boundaries = self.prng.boolean();
        let candidates = at_boundaries.then_some(boundaries);
        choose_cuts(
            &mut self.prng,
            cut_count,
            candidates,
            low + 1,
            high,
            &mut cuts,
        );
        let snapshot = self.snapshot;
        let mut key_min = low;
        let mut last = None;
        // Each replacement ends just before the next cut; the last at the run's end.
        for &end in cuts[..cut_count]
            .iter()
            .chain(core::iter::once(&(high + 1)))
        {
            let key_max = end - 1;
            let checksum = self.prng.u128();
            let address = self.prng.range_inclusive(1, u64::MAX);
            let value_count = self.prng.range_inclusive(1, 2 * u64::from(VALUE_COUNT)) as u32;
            let table = Table::new(checksum, address, snapshot, key_min, key_max, value_count);
            let inserted = insert_table(
                &mut self.level,
                &mut self.ballast,
                &mut self.states,
                embed_table(&table),
            )?;
            let reference = match inserted {
                Ok(reference) => reference,
                Err(error) => {
                    return Err(CheckFailure::new(
                        Check::Compaction,
                        embed_table::<K>(&table),
                        error,
                    ))
                }
            };
            self.generation = self.generation.wrapping_add(1);
            self.check_resolves(reference, &table)?;
            self.model.insert(table);
            self.live_count += 1;
            self.live_values += u64::from(value_count);
            key_min = key_max + 1;
            last = Some((reference, table));
        }
        Ok(last)
    }

    /// [`FuzzOp::NextTableWalk`].
    fn next_table_walk(
        &mut self,
        ext: &mut Extended<'pool, K>,
        direction: WalkDirection,
    ) -> Result<(), CheckFailure> {
        let query = &mut ext.query;
        let snapshot = pick_snapshot(query, self.snapshot, &ext.retained);
        let range = pick_range(query, self.model.tables(), self.key_space());
        let direction = direction.to_level();
        let args = |key_exclusive| NextTable {
            snapshot,
            key_range: range,
            key_exclusive,
            direction,
        };

        // The walk: each step excludes the previous answer. One of the tables it meets
        // (reservoir-sampled) is probed again below.
        let mut exclusive = None;
        let mut met: Option<Table> = None;
        let mut previous_node = None;
        for step in 0..WALK_STEPS_MAX {
            let Some((index, table)) = self.check_next_table(args(exclusive), step)? else {
                break;
            };
            let node = observe::node_of(&self.level, index);
            self.states.note_if(
                previous_node.is_some_and(|previous| previous != node),
                State::NextTableCrossedNode,
            );
            previous_node = Some(node);
            if query.index(step + 1) == 0 {
                met = Some(table);
            }
            exclusive = Some(match direction {
                Direction::Ascending => table.key_max,
                Direction::Descending => table.key_min,
            });
        }
        // Probes: the near edge of a table the walk met (the answer must be the table
        // after it, never the table itself), a key on or next to any table's edge, and a
        // key anywhere around the range.
        for probe in 0..WALK_PROBES {
            let key = match (probe, met) {
                (0, Some(table)) => match direction {
                    Direction::Ascending => table.key_min,
                    Direction::Descending => table.key_max,
                },
                (0 | 1, _) => pick_edge_key(query, self.model.tables()),
                _ => query.range_inclusive(
                    range.key_min().saturating_sub(2),
                    range.key_max().saturating_add(2),
                ),
            };
            self.check_next_table(args(Some(key)), WALK_STEPS_MAX + probe)?;
        }
        Ok(())
    }

    /// `next_table(args)` against the model's brute force, with its reference; `step`
    /// (of the walk, or past [`WALK_STEPS_MAX`] for a probe) is for the report. Returns
    /// the table found, with its index.
    ///
    /// The range goes to the level through [`embed_bounds`], the exclusive key through
    /// [`FuzzKey::embed`]; the answer is compared with the embedded model table.
    fn check_next_table(
        &self,
        args: NextTable<Key>,
        step: usize,
    ) -> Result<Option<(u32, Table)>, CheckFailure> {
        let level_args = NextTable {
            snapshot: args.snapshot,
            key_range: embed_bounds::<K>(args.key_range),
            key_exclusive: args.key_exclusive.map(K::embed),
            direction: args.direction,
        };
        let found = self.level.next_table(level_args);
        let expected = model_next_table(
            &self.model,
            args.snapshot,
            args.key_range,
            args.key_exclusive,
            args.direction,
        );
        match (found, expected) {
            (None, None) => Ok(None),
            (Some((reference, found)), Some((index, expected)))
                if *found == embed_table::<K>(&expected) =>
            {
                check_reference(&self.level, reference, index, found)?;
                Ok(Some((index as u32, expected)))
            }
            (found, expected) => Err(CheckFailure::described(
                Check::NextTable,
                format!(
                    "{:?} (step {step} of a walk: {level_args:?})",
                    expected.map(|(_, table)| embed_table::<K>(&table))
                ),
                format!("{:?}", found.map(|(_, table)| *table)),
            )),
        }
    }

    /// [`FuzzOp::OverlapQuery`].
    fn overlap_query(&mut self, ext: &mut Extended<'pool, K>) -> Result<(), CheckFailure> {
        let query = &mut ext.query;
        let snapshot = pick_snapshot(query, self.snapshot, &ext.retained);
        let range = pick_range(query, self.model.tables(), self.key_space());
        let max = pick_overlap_max(query);
        let model_range = range;
        let range = embed_bounds::<K>(model_range);
        let found = self
            .level
            .tables_overlapping_with_key_range(range, snapshot, max);
        let describe =
            || format!("tables_overlapping_with_key_range({range:?}, {snapshot}, {max})");
        if max > GROWTH_FACTOR {
            check!(
                matches!(found, Err(Error::InvalidArgument(_))),
                Check::OverlapQuery,
                format!("InvalidArgument from {}", describe()),
                format!("{found:?}"),
            );
            return Ok(());
        }
        let expected = || {
            self.model.tables().iter().enumerate().filter(|(_, table)| {
                oracle::sees(snapshot, table) && oracle::intersects(table, &model_range)
            })
        };
        let count = expected().count();
        let widened = expected().fold(range, |widened, (_, table)| {
            oracle::cover(widened, &embed_table(table))
        });
        let overlap = match found {
            Ok(Some(overlap)) if count <= max => overlap,
            Ok(None) if count > max => return Ok(()),
            found => {
                return Err(CheckFailure::described(
                    Check::OverlapQuery,
                    format!("{count} table(s) (max {max}) from {}", describe()),
                    format!("{found:?}"),
                ))
            }
        };
        check!(
            overlap.len() == count
                && overlap.is_empty() == (count == 0)
                && overlap.key_range() == widened
                && overlap
                    .tables()
                    .iter()
                    .zip(expected())
                    .all(|(a, (_, b))| *a == embed_table(b)),
            Check::OverlapQuery,
            format!(
                "{:?} widened to {widened:?}, from {}",
                expected()
                    .map(|(_, table)| embed_table::<K>(table))
                    .collect::<Vec<_>>(),
                describe()
            ),
            format!(
                "{:?} widened to {:?}",
                overlap.tables(),
                overlap.key_range()
            ),
        );
        for (reference, (index, table)) in overlap.references().iter().zip(expected()) {
            check_reference(&self.level, *reference, index, &embed_table(table))?;
        }
        Ok(())
    }

    /// [`FuzzOp::LeastOverlap`]: level A against level B and, with a third level, B
    /// against C, for a random snapshot and `max`.
    fn least_overlap(&mut self, ext: &mut Extended<'pool, K>) -> Result<(), CheckFailure> {
        let query = &mut ext.query;
        let snapshot = pick_snapshot(query, self.snapshot, &ext.retained);
        let max = pick_overlap_max(query);
        let upper = (&self.level, &self.model);
        let lower = (&ext.level_b, &ext.model_b);
        check_least_overlap(upper, lower, snapshot, max, &mut self.states, "A, B")?;
        if let Some(level_c) = &ext.level_c {
            let lower = (level_c, &ext.model_c);
            check_least_overlap(
                (&ext.level_b, &ext.model_b),
                lower,
                snapshot,
                max,
                &mut self.states,
                "B, C",
            )?;
        }
        Ok(())
    }

    /// [`FuzzOp::InsertTablesB`]: `count` new tables in level B (or, with a third level,
    /// in B or C, drawn per op), starting at a random key or (half the time) just before
    /// a random table of level A, so the two overlap.
    fn insert_tables_b(
        &mut self,
        ext: &mut Extended<'pool, K>,
        count: u32,
    ) -> Result<(), CheckFailure> {
        let into_c = ext.level_c.is_some() && self.prng.boolean();
        let near = !self.model.is_empty() && self.prng.boolean();
        // Aligned: B's tables take the key ranges of consecutive tables of A (where
        // overlap counts are decided: a B table ending exactly where an A table starts).
        let mut aligned = (near && self.prng.boolean()).then(|| self.prng.index(self.model.len()));
        let mut key = if near {
            let table = self.model.get(self.prng.index(self.model.len()));
            table.key_min.saturating_sub(self.prng.int_inclusive(64))
        } else {
            self.prng.int_inclusive(self.key_space())
        };
        let (level, model) = ext.lower_mut(into_c);
        for _ in 0..count {
            let edges = aligned.and_then(|index| self.model.tables().get(index));
            let snapshot = self.snapshot;
            let table = match edges.and_then(|a| aligned_table(model, a, snapshot, &mut self.prng))
            {
                Some(table) => table,
                None => model.generate_non_overlapping_table(&mut self.prng, key, self.snapshot),
            };
            aligned = aligned.map(|index| index + 1);
            key = table.key_max;
            let inserted = insert_table(
                level,
                &mut self.ballast,
                &mut self.states,
                embed_table(&table),
            )?;
            if let Err(error) = inserted {
                return Err(CheckFailure::new(Check::LevelB, table, error));
            }
            model.insert(table);
        }
        if into_c {
            let holding = [self.level.node_count(), ext.level_b.node_count()];
            self.states.note_if(
                holding.iter().all(|&nodes| nodes > 0),
                State::ThreeLevelsOnOnePool,
            );
        }
        check_level_b(ext)
    }

    /// [`FuzzOp::RemoveTablesB`]: `count` random tables out of level B (with a third
    /// level, out of B and C: each a random table of the two).
    fn remove_tables_b(
        &mut self,
        ext: &mut Extended<'pool, K>,
        count: u32,
    ) -> Result<(), CheckFailure> {
        for _ in 0..count {
            let in_b = ext.model_b.len();
            let index = self.prng.index(in_b + ext.model_c.len());
            let in_c = index >= in_b;
            let (level, model) = ext.lower_mut(in_c);
            let table = model.remove(if in_c { index - in_b } else { index });
            if let Err(error) = level.remove_table(&embed_table(&table)) {
                return Err(CheckFailure::new(Check::LevelB, table, error));
            }
        }
        check_level_b(ext)
    }

    /// [`FuzzOp::Rebuild`]: `reset()`, then every model table inserted again in an order
    /// drawn from the query stream. Each live insert raises the visible counters by one
    /// table; each retired one leaves them, and `key_range_latest`, where they were. At the
    /// end the level holds the model's tables again (compared whole), with the counters it
    /// had before and the generation bumped once per insert and once for the reset.
    fn rebuild(&mut self, ext: &mut Extended<'pool, K>) -> Result<(), CheckFailure> {
        ext.capture_stale(&self.level, &self.model, StaleSlot::Reset)?;
        let before = visible_counters(&self.level);
        self.scratch.clear();
        let tables = self.model.tables().iter().enumerate();
        self.scratch
            .extend(tables.map(|(index, table)| (TableRef::default(), *table, index)));
        ext.query.shuffle(&mut self.scratch);
        self.level.reset();
        self.generation = self.generation.wrapping_add(1);
        for index in 0..self.scratch.len() {
            let table = self.scratch[index].1;
            self.reinsert(&table)?;
        }
        check_eq!(Check::Rebuild, expected: before, found: visible_counters(&self.level));
        self.check_full_contents()
    }

    /// One insert of [`Environment::rebuild`]: the level takes `table` back; a retired one
    /// moves no visible counter and not `key_range_latest`.
    fn reinsert(&mut self, table: &Table) -> Result<(), CheckFailure> {
        let before = visible_counters(&self.level);
        let inserted = insert_table(
            &mut self.level,
            &mut self.ballast,
            &mut self.states,
            embed_table(table),
        )?;
        let reference = match inserted {
            Ok(reference) => reference,
            Err(error) => return Err(CheckFailure::new(Check::InsertAccepted, table, error)),
        };
        self.generation = self.generation.wrapping_add(1);
        self.check_resolves(reference, table)?;
        if !oracle::sees(SNAPSHOT_LATEST, table) {
            check_eq!(Check::Rebuild, expected: before, found: visible_counters(&self.level));
            self.states.note(State::RetiredTableInserted);
        }
        Ok(())
    }

    /// [`FuzzOp::Reset`].
    fn reset(&mut self, ext: &mut Extended<'pool, K>) -> Result<(), CheckFailure> {
        ext.capture_stale(&self.level, &self.model, StaleSlot::Reset)?;
        let generation = self.level.generation();
        self.level.reset();
        self.generation = self.generation.wrapping_add(1);
        let found = (
            self.level.len(),
            self.level.table_count_visible(),
            self.level.value_count_visible(),
            self.level.key_range_latest(),
            self.level.node_count(),
            self.level.generation(),
        );
        check_eq!(
            Check::Reset,
            expected: (0, 0, 0, None, 0, generation.wrapping_add(1)),
            found: found,
        );
        self.model.clear();
        self.retired_now.clear();
        self.live_count = 0;
        self.live_values = 0;
        Ok(())
    }

    /// The misuse ops: the level must answer with the right error and change nothing.
    ///
    /// "Nothing" is the level's length, generation, node count, counters and
    /// `key_range_latest` after every misuse op, and also its whole contents (hashed) while
    /// the level holds at most [`MISUSE_HASHED_TABLES`] tables and at misuse ops 1, 2, 4,
    /// 8, ...: a table changed in place shows there, or at the latest in the run's final
    /// full comparison with the model (which the misuse op does not change).
    fn misuse(&mut self, ext: &mut Extended<'pool, K>, op: &FuzzOp) -> Result<(), CheckFailure> {
        ext.misuses += 1;
        let whole =
            self.level.len() as usize <= MISUSE_HASHED_TABLES || ext.misuses.is_power_of_two();
        let fingerprint = |env: &Environment<'_, K>| {
            if whole {
                env.fingerprint()
            } else {
                env.fingerprint_without_contents()
            }
        };
        let before = fingerprint(self);
        let model_len = self.model.len();
        match *op {
            FuzzOp::MisuseStaleReference => self.misuse_stale_reference(ext)?,
            FuzzOp::MisuseRemoveAbsent => self.misuse_remove_absent(ext)?,
            FuzzOp::MisuseRetireRetired => self.misuse_retire_retired(ext)?,
            FuzzOp::MisuseInvalidTable => self.misuse_invalid_table(ext)?,
            FuzzOp::MisuseCapacityExhausted => self.misuse_capacity_exhausted(ext)?,
            FuzzOp::MisuseInvalidSnapshot => self.misuse_invalid_snapshot(ext)?,
            _ => unreachable!("{op} is not a misuse op"),
        }
        let after = fingerprint(self);
        check!(
            before == after && model_len == self.model.len(),
            Check::MisuseUnchanged,
            format!("{before:?}"),
            format!("{after:?}"),
        );
        Ok(())
    }

    /// Checks that `found` is the error `expected` describes.
    fn expect_error<T: core::fmt::Debug>(
        what: core::fmt::Arguments<'_>,
        found: Result<T, Error>,
        expected: impl Fn(&Error) -> bool,
        expected_text: impl core::fmt::Debug,
    ) -> Result<(), CheckFailure> {
        match found {
            Err(error) if expected(&error) => Ok(()),
            found => Err(CheckFailure::described(
                Check::MisuseError,
                format!("{expected_text:?} from {what}"),
                format!("{found:?}"),
            )),
        }
    }

    fn misuse_stale_reference(&mut self, ext: &mut Extended<'pool, K>) -> Result<(), CheckFailure> {
        // A reference of level B, when it has a table.
        let from_b = ext
            .model_b
            .tables()
            .first()
            .and_then(|table| ext.level_b.find(&embed_table(table)))
            .map(|(reference, _)| reference);
        let mut tried = 0;
        for reference in ext.stale.iter().chain(core::iter::once(&from_b)).flatten() {
            tried += 1;
            let expected = Error::StaleReference {
                reference: reference.generation(),
                level: self.level.generation(),
            };
            Self::expect_error(
                format_args!("get({reference:?})"),
                self.level.get(*reference).copied(),
                |error| *error == expected,
                expected,
            )?;
            Self::expect_error(
                format_args!("set_snapshot_max({}, {reference:?})", self.snapshot),
                self.level.set_snapshot_max(self.snapshot, *reference),
                |error| *error == expected,
                expected,
            )?;
        }
        check!(
            tried > 0,
            Check::MisuseError,
            "a stale reference to try".into(),
            "none was taken".into(),
        );
        Ok(())
    }

    fn misuse_remove_absent(&mut self, ext: &mut Extended<'pool, K>) -> Result<(), CheckFailure> {
        let query = &mut ext.query;
        let mut table = if !self.model.is_empty() && query.chance(3, 4) {
            let mut table = *self.model.get(query.index(self.model.len()));
            match query.int_inclusive(5) {
                0 => table.address = table.address.wrapping_add(1).max(1),
                1 => table.checksum ^= 1 << query.int_inclusive(127),
                2 => {
                    table.snapshot_max = if oracle::is_live(&table) {
                        self.snapshot
                    } else {
                        SNAPSHOT_MAX_LIVE
                    }
                }
                3 => table.key_max = table.key_max.saturating_add(1),
                4 if table.key_min > 0 => table.key_min -= 1,
                _ => table.value_count ^= 1,
            }
            table
        } else {
            let key_min = query.int_inclusive(self.key_space());
            Table::new(
                query.u128(),
                query.range_inclusive(1, u64::MAX),
                self.snapshot,
                key_min,
                key_min + query.int_inclusive(32),
                VALUE_COUNT,
            )
        };
        // Make sure it really is absent (the perturbations above almost always make it
        // so; a changed address makes it so for sure).
        while self
            .model
            .find_identity(&table)
            .is_some_and(|index| *self.model.get(index) == table)
        {
            table.address = table.address.wrapping_add(1).max(1);
        }
        let table = embed_table::<K>(&table);
        Self::expect_error(
            format_args!("remove_table({table:?})"),
            self.level.remove_table(&table),
            |error| *error == Error::TableNotFound,
            Error::TableNotFound,
        )
    }

    fn misuse_retire_retired(&mut self, ext: &mut Extended<'pool, K>) -> Result<(), CheckFailure> {
        let query = &mut ext.query;
        let retired = self.model.len() - self.live_count as usize;
        check!(
            retired > 0,
            Check::MisuseError,
            "a retired table".into(),
            "none in the model".into(),
        );
        let pick = query.index(retired);
        let table = *self
            .model
            .tables()
            .iter()
            .filter(|table| !oracle::is_live(table))
            .nth(pick)
            .expect("counted");
        let Some((reference, _)) = self.level.find(&embed_table(&table)) else {
            return Err(CheckFailure::new(Check::Find, table, None::<Table>));
        };
        let snapshot = query.int_inclusive(self.snapshot + 1);
        let expected = Error::TableAlreadyRetired {
            snapshot_max: table.snapshot_max,
        };
        Self::expect_error(
            format_args!("set_snapshot_max({snapshot}, {table:?})"),
            self.level.set_snapshot_max(snapshot, reference),
            |error| *error == expected,
            expected,
        )
    }

    fn misuse_invalid_table(&mut self, ext: &mut Extended<'pool, K>) -> Result<(), CheckFailure> {
        let query = &mut ext.query;
        let mut table = if !self.model.is_empty() && query.boolean() {
            *self.model.get(query.index(self.model.len()))
        } else {
            let key_min = query.int_inclusive(self.key_space());
            Table::new(
                query.u128(),
                query.range_inclusive(1, u64::MAX),
                self.snapshot,
                key_min,
                key_min + query.int_inclusive(32),
                VALUE_COUNT,
            )
        };
        match query.int_inclusive(2) {
            0 => table.address = 0,
            1 => {
                let width = table.key_max - table.key_min;
                table.key_max = table.key_min.saturating_sub(1 + query.int_inclusive(width));
                if table.key_min == 0 {
                    table.key_min = 1;
                    table.key_max = 0;
                }
            }
            _ => {
                if table.snapshot_min == 0 {
                    table.snapshot_min = 1;
                }
                table.snapshot_max = query.int_inclusive(table.snapshot_min - 1);
            }
        }
        let invalid = |error: &Error| matches!(error, Error::InvalidTable(_));
        // The embedding keeps the order, so a table with its keys reversed stays invalid.
        let table = embed_table::<K>(&table);
        if query.boolean() {
            Self::expect_error(
                format_args!("insert_table({table:?})"),
                self.level.insert_table(table),
                invalid,
                "InvalidTable",
            )
        } else {
            Self::expect_error(
                format_args!("remove_table({table:?})"),
                self.level.remove_table(&table),
                invalid,
                "InvalidTable",
            )
        }
    }

    fn misuse_capacity_exhausted(
        &mut self,
        ext: &mut Extended<'pool, K>,
    ) -> Result<(), CheckFailure> {
        let query = &mut ext.query;
        let capacity = self.params.table_count_max;
        check_eq!(Check::MisuseError, expected: capacity as usize, found: self.model.len());
        // A valid table past every key (overlapping nothing).
        let key_min = self
            .model
            .tables()
            .iter()
            .map(|table| table.key_max)
            .max()
            .unwrap_or(0)
            .saturating_add(1 + query.int_inclusive(31))
            .min(Key::MAX - 32);
        let table = Table::new(
            query.u128(),
            query.range_inclusive(1, u64::MAX),
            self.snapshot,
            key_min,
            key_min + query.int_inclusive(32),
            VALUE_COUNT,
        );
        let expected = Error::CapacityExhausted { capacity };
        let table = embed_table::<K>(&table);
        Self::expect_error(
            format_args!("insert_table({table:?}) into a full level"),
            self.level.insert_table(table),
            |error| *error == expected,
            expected,
        )
    }

    fn misuse_invalid_snapshot(
        &mut self,
        ext: &mut Extended<'pool, K>,
    ) -> Result<(), CheckFailure> {
        let query = &mut ext.query;
        let table = *self.model.get(query.index(self.model.len()));
        let Some((reference, _)) = self.level.find(&embed_table(&table)) else {
            return Err(CheckFailure::new(Check::Find, table, None::<Table>));
        };
        let variant = query.int_inclusive(2);
        let snapshot = match variant {
            0 => SNAPSHOT_LATEST,
            1 => u64::MAX,
            // Below a live table's snapshot_min (every snapshot_min is at least 1).
            _ if oracle::is_live(&table) => query.int_inclusive(table.snapshot_min - 1),
            _ => SNAPSHOT_LATEST,
        };
        Self::expect_error(
            format_args!("set_snapshot_max({snapshot}, {table:?})"),
            self.level.set_snapshot_max(snapshot, reference),
            |error| matches!(*error, Error::InvalidSnapshot { snapshot: s, .. } if s == snapshot),
            format_args!("InvalidSnapshot {{ snapshot: {snapshot}, .. }}"),
        )
    }
}

/// The `max` argument of an overlap query: mostly `0..=GROWTH_FACTOR`, one time in 16
/// above it (which the level must reject).
fn pick_overlap_max(query: &mut Prng) -> usize {
    if query.chance(1, 16) {
        GROWTH_FACTOR + 1 + query.index(4)
    } else {
        query.int_inclusive(GROWTH_FACTOR as u64) as usize
    }
}

/// Brute force `table_with_least_overlap`: the first table of `model` (in level order:
/// smaller key, then smaller snapshot) visible to `snapshot` with the fewest overlapping
/// tables of `model_b`, among those with at most `max`, and whether a later one ties it.
fn model_least_overlap(
    model: &Model,
    model_b: &Model,
    snapshot: u64,
    max: usize,
) -> Option<ModelLeastOverlap> {
    let mut best: Option<(usize, usize)> = None;
    let mut tied = false;
    for (index, table) in model.tables().iter().enumerate() {
        if !oracle::sees(snapshot, table) {
            continue;
        }
        let count = overlapping_b(model_b, snapshot, table)
            .take(max + 1)
            .count();
        if count > max {
            continue;
        }
        match best {
            Some((best_count, _)) if count == best_count => tied = true,
            Some((best_count, _)) if count > best_count => {}
            _ => {
                best = Some((count, index));
                tied = false;
            }
        }
    }
    best.map(|(count, index)| ModelLeastOverlap { count, index, tied })
}

/// A level and its model.
type Pair<'a, 'pool, K> = (&'a ManifestLevel<'pool, K>, &'a Model);

/// `table_with_least_overlap` of `upper` against `lower` for `snapshot` and `max`, against
/// the brute force over both models; `names` names the two levels in a failure.
fn check_least_overlap<K: FuzzKey>(
    (upper, upper_model): Pair<'_, '_, K>,
    lower: Pair<'_, '_, K>,
    snapshot: u64,
    max: usize,
    states: &mut StateCounts,
    names: &str,
) -> Result<(), CheckFailure> {
    let found = upper.table_with_least_overlap(lower.0, snapshot, max);
    let describe = || format!("table_with_least_overlap({names}, {snapshot}, {max})");
    if max > GROWTH_FACTOR {
        check!(
            matches!(found, Err(Error::InvalidArgument(_))),
            Check::LeastOverlap,
            format!("InvalidArgument from {}", describe()),
            format!("{found:?}"),
        );
        return Ok(());
    }
    let model = model_least_overlap(upper_model, lower.1, snapshot, max);
    if let Some(model) = model {
        states.note_if(model.tied, State::LeastOverlapTie);
        states.note_if(model.count == 0, State::LeastOverlapZero);
    }
    let best = model.map(|model| (model.count, model.index));
    let answer = match (found, best) {
        (Ok(None), None) => return Ok(()),
        (Ok(Some(answer)), Some((count, index)))
            if answer.table == embed_table(upper_model.get(index))
                && answer.overlap.len() == count
                && answer.overlap.is_empty() == (count == 0) =>
        {
            answer
        }
        (found, best) => {
            return Err(CheckFailure::described(
                Check::LeastOverlap,
                format!(
                    "{:?} from {}",
                    best.map(|(count, index)| (embed_table::<K>(upper_model.get(index)), count)),
                    describe()
                ),
                format!(
                    "{:?}",
                    found.map(|answer| answer.map(|a| (a.table, a.overlap.len())))
                ),
            ))
        }
    };
    let (_, index) = best.expect("matched above");
    check_reference(upper, answer.reference, index, &answer.table)?;
    check_least_overlap_lower(lower, snapshot, &answer, describe)
}

/// The model's answer to `table_with_least_overlap`.
#[derive(Clone, Copy, Debug)]
struct ModelLeastOverlap {
    /// Tables of B the answer overlaps.
    count: usize,
    /// The answer's index in the model: the first table with the least overlap.
    index: usize,
    /// Whether a later table has the same overlap (the first one must win).
    tied: bool,
}

/// The `Overlap` of the lower level in a `table_with_least_overlap` answer (for
/// `snapshot`; `describe` names the call): its tables that intersect the answer's table,
/// in order, with their references, and the range widened over them and the table.
fn check_least_overlap_lower<K: FuzzKey>(
    (level, model): Pair<'_, '_, K>,
    snapshot: u64,
    answer: &LeastOverlap<K>,
    describe: impl Fn() -> String,
) -> Result<(), CheckFailure> {
    // The lower level's tables visible to `snapshot` that intersect `table` (its model is
    // disjoint and sorted, so they are contiguous from the first that ends at or after
    // `table.key_min`).
    let model_table = project_table(&answer.table);
    let overlapping = || overlapping_b(model, snapshot, &model_table);
    let widened = overlapping().fold(oracle::table_range(&answer.table), |range, (_, b)| {
        oracle::cover(range, &embed_table(b))
    });
    check!(
        answer.overlap.key_range() == widened
            && answer
                .overlap
                .tables()
                .iter()
                .zip(overlapping())
                .all(|(a, (_, b))| *a == embed_table(b)),
        Check::LeastOverlap,
        format!(
            "lower tables {:?} widened to {widened:?}, from {}",
            overlapping()
                .map(|(_, b)| embed_table::<K>(b))
                .collect::<Vec<_>>(),
            describe()
        ),
        format!(
            "{:?} widened to {:?}",
            answer.overlap.tables(),
            answer.overlap.key_range()
        ),
    );
    for (reference, (index, table)) in answer.overlap.references().iter().zip(overlapping()) {
        check_reference(level, *reference, index, &embed_table(table))?;
    }
    Ok(())
}

/// What a retired table's insert must not move: `table_count_visible`,
/// `value_count_visible` and `key_range_latest`.
fn visible_counters<K: FuzzKey>(level: &ManifestLevel<'_, K>) -> (u32, u64, Option<KeyRange<K>>) {
    (
        level.table_count_visible(),
        level.value_count_visible(),
        level.key_range_latest(),
    )
}

/// A table of B created at `snapshot` with `a`'s key range (a random checksum and
/// address), or `None` when it would overlap one of B's tables (B's tables are disjoint).
fn aligned_table(model_b: &Model, a: &Table, snapshot: u64, prng: &mut Prng) -> Option<Table> {
    let tables = model_b.tables();
    let next = tables.partition_point(|b| b.key_max < a.key_min);
    if tables.get(next).is_some_and(|b| b.key_min <= a.key_max) {
        return None;
    }
    let checksum = prng.u128();
    let address = prng.range_inclusive(1, u64::MAX);
    Some(Table::new(
        checksum,
        address,
        snapshot,
        a.key_min,
        a.key_max,
        VALUE_COUNT,
    ))
}

/// The tables of `model_b` visible to `snapshot` that intersect `table`, with their
/// indexes (B's model is disjoint and sorted, so they are contiguous from the first that
/// ends at or after `table.key_min`).
fn overlapping_b<'a>(
    model_b: &'a Model,
    snapshot: u64,
    table: &Table,
) -> impl Iterator<Item = (usize, &'a Table)> + 'a {
    let (key_min, key_max) = (table.key_min, table.key_max);
    let start = model_b.tables().partition_point(|b| b.key_max < key_min);
    model_b.tables()[start..]
        .iter()
        .enumerate()
        .take_while(move |(_, b)| b.key_min <= key_max)
        .filter(move |(_, b)| oracle::sees(snapshot, b))
        .map(move |(offset, b)| (start + offset, b))
}

/// Level B, and level C when the run has one, against their models.
pub(crate) fn check_level_b<K: FuzzKey>(ext: &Extended<'_, K>) -> Result<(), CheckFailure> {
    check_lower_level(&ext.level_b, &ext.model_b)?;
    match &ext.level_c {
        Some(level_c) => check_lower_level(level_c, &ext.model_c),
        None => Ok(()),
    }
}

/// A lower level (B or C) against its model: size, counters, and every table in order.
fn check_lower_level<K: FuzzKey>(
    level: &ManifestLevel<'_, K>,
    model: &Model,
) -> Result<(), CheckFailure> {
    let values: u64 = model
        .tables()
        .iter()
        .map(|table| u64::from(table.value_count))
        .sum();
    check_eq!(
        Check::LevelB,
        expected: (
            model.len() as u32,
            model.len() as u32,
            values,
            model.key_range_latest().map(embed_range::<K>)
        ),
        found: (
            level.len(),
            level.table_count_visible(),
            level.value_count_visible(),
            level.key_range_latest()
        ),
    );
    let latest = [SNAPSHOT_LATEST];
    let mut found = level.iter(Query::visible(&latest));
    for (index, expected) in model.tables().iter().enumerate() {
        match found.next() {
            Some((reference, table))
                if *table == embed_table(expected) && reference.index() as usize == index => {}
            found => {
                return Err(CheckFailure::new(
                    Check::LevelB,
                    (index, embed_table::<K>(expected)),
                    found.map(|(reference, table)| (reference.index(), *table)),
                ))
            }
        }
    }
    check!(
        found.next().is_none(),
        Check::LevelB,
        format!("{} tables", model.len()),
        "more".into(),
    );
    Ok(())
}

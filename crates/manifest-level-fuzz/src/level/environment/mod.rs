//! The environment (docs/SEMANTICS.md §4.4 and §4.5): a [`ManifestLevel`] under test, the reference
//! [`Model`], and the current snapshot; it executes [`FuzzOp`]s on both and checks that
//! they agree.
//!
//! Every check returns a [`CheckFailure`] (what was checked, what was expected, what was
//! found) instead of panicking, so the runner can report the op that failed. Checks cost
//! O(1) or O(log n) per table an op touches, plus, after every op, the level's counters
//! and `key_range_latest` against the model (the latter scans in from both ends of the
//! model to the first live table).
//!
//! With the extended op set ([`Environment::new_extended`]) the environment also keeps
//! the retained snapshots, a second level B with its own model, a stream of random
//! choices for read-only ops, and references taken before mutations (for the misuse
//! ops); the extended ops run in [`crate::level::environment::extended`]. The deep checks after every op are
//! in [`crate::level::environment::deep`].

pub mod ballast;
pub mod deep;
pub mod extended;
pub mod nodes;
mod observe;
pub mod predicates;

use core::fmt;

use manifest_level::{
    KeyRange, ManifestLevel, NodePool, Query, TableInfo, TableRef, SNAPSHOT_LATEST,
};
use serde::{Deserialize, Serialize};

use crate::level::environment::ballast::Ballast;
use crate::level::environment::extended::{Extended, StaleSlot};
use crate::level::generate::Params;
use crate::level::key::{embed_range, embed_table, project_table, FuzzKey, KeyWidth};
use crate::level::model::{
    generate_table_avoiding, Key, Model, Table, KEY_SPACE_PER_TABLE, VALUE_COUNT,
};
use crate::level::ops::{FuzzOp, OpSet};
use crate::level::oracle;
use crate::level::states::{State, StateCounts};
use crate::support::prng::Prng;

/// What a failed check was checking. Stable names (see [`Check::name`]) for reports and
/// for comparing failures (a shrunk reproducer must fail the same check).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Check {
    /// `insert_table` returned an error for a valid table with room for it.
    InsertAccepted,
    /// A new table is visible to the current snapshot and to latest.
    InsertedVisible,
    /// The reference `insert_table` returned points at the inserted table.
    InsertedReference,
    /// A table an iteration yielded passes the iteration's visibility filter.
    IteratorFilter,
    /// Descending iteration yields strictly decreasing `key_max`.
    IteratorOrder,
    /// A level table is in the model (`find_exact`).
    InModel,
    /// A level table equals its model table in all seven fields.
    EqualsModel,
    /// An op found as many tables to update or remove as its count.
    EnoughTables,
    /// `set_snapshot_max` accepted a live table and a current snapshot.
    RetireAccepted,
    /// A retired table is visible to the current snapshot and not to latest, in the
    /// level and in the model.
    RetiredVisibility,
    /// The tables retired at the previous snapshot are invisible after a snapshot bump.
    SnapshotHidesRetired,
    /// The snapshot stays below `SNAPSHOT_LATEST`.
    SnapshotRange,
    /// A table chosen for removal may be removed: `remove_invisible` only takes tables
    /// that neither latest nor the current snapshot sees, `remove_visible` only tables
    /// that both see.
    RemovalAllowed,
    /// `remove_table` accepted a table the level holds.
    RemoveAccepted,
    /// A removed table is gone from the level.
    RemovedGone,
    /// The level holds as many tables as the model.
    TableCount,
    /// `table_count_visible` equals the number of live tables.
    TableCountVisible,
    /// `value_count_visible` equals the sum of the live tables' value counts.
    ValueCountVisible,
    /// `key_range_latest` equals the model's range of live tables.
    KeyRangeLatest,
    /// Deep: the level's generation counts every insert, remove and reset.
    Generation,
    /// Deep: an iteration of a visibility class (whole, a window, or a key range) yields
    /// exactly the model's tables, in order.
    Iteration,
    /// Deep: a reference handed out carries the level's generation and its table's index.
    Reference,
    /// Deep: `find` answers like the model (present tables and perturbed copies).
    Find,
    /// Deep: `contains` answers like the model.
    Contains,
    /// Deep: `key_range_contains` answers like `key_range_latest` for latest, `true`
    /// for any other snapshot.
    KeyRangeContains,
    /// Extended: `next_table` returns the model's next visible table.
    NextTable,
    /// Extended: `tables_overlapping_with_key_range` answers like the model.
    OverlapQuery,
    /// Extended: `table_with_least_overlap` answers like the brute force over both models.
    LeastOverlap,
    /// Extended: the tables a compaction picks are consecutive live tables, and its
    /// replacements are accepted.
    Compaction,
    /// Extended: level B (and level C, with a third level) agrees with its model.
    LevelB,
    /// Extended: `reset` empties the level, returns its nodes and bumps the generation.
    Reset,
    /// Extended: a misuse op got the right typed error.
    MisuseError,
    /// Extended: a misuse op left the level unchanged.
    MisuseUnchanged,
    /// A rebuild (reset, then every table again) left the visible counters or
    /// `key_range_latest` elsewhere than they were, or a retired table's insert moved them.
    Rebuild,
    /// The node pool has handed out exactly the nodes its levels (and the ballast) hold:
    /// a leaked or double-released node shows at the op that caused it, not when the
    /// pool runs dry.
    PoolAccounting,
    /// An insert that found the pool exhausted changed the level or the pool.
    PoolExhausted,
    /// Deep: a predicate of the library (`TableInfo`, `KeyRange`, `Query`, `Direction`)
    /// answered otherwise than the oracle.
    Predicate,
    /// Deep: a node holds its node size over a table's size (rounded down to even)
    /// tables, and the pool reserves its nodes' bytes.
    NodeShape,
    /// Deep: a node starts where the one before it ends, holds between half its capacity
    /// (unless it is the last) and its capacity, and holds the model's tables at its
    /// level indexes ([`nodes`]).
    NodeContents,
}

impl Check {
    /// The snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            Check::InsertAccepted => "insert_accepted",
            Check::InsertedVisible => "inserted_visible",
            Check::InsertedReference => "inserted_reference",
            Check::IteratorFilter => "iterator_filter",
            Check::IteratorOrder => "iterator_order",
            Check::InModel => "in_model",
            Check::EqualsModel => "equals_model",
            Check::EnoughTables => "enough_tables",
            Check::RetireAccepted => "retire_accepted",
            Check::RetiredVisibility => "retired_visibility",
            Check::SnapshotHidesRetired => "snapshot_hides_retired",
            Check::SnapshotRange => "snapshot_range",
            Check::RemovalAllowed => "removal_allowed",
            Check::RemoveAccepted => "remove_accepted",
            Check::RemovedGone => "removed_gone",
            Check::TableCount => "table_count",
            Check::TableCountVisible => "table_count_visible",
            Check::ValueCountVisible => "value_count_visible",
            Check::KeyRangeLatest => "key_range_latest",
            Check::Generation => "generation",
            Check::Iteration => "iteration",
            Check::Reference => "reference",
            Check::Find => "find",
            Check::Contains => "contains",
            Check::KeyRangeContains => "key_range_contains",
            Check::NextTable => "next_table",
            Check::OverlapQuery => "overlap_query",
            Check::LeastOverlap => "least_overlap",
            Check::Compaction => "compaction",
            Check::LevelB => "level_b",
            Check::Reset => "reset",
            Check::MisuseError => "misuse_error",
            Check::MisuseUnchanged => "misuse_unchanged",
            Check::PoolAccounting => "pool_accounting",
            Check::PoolExhausted => "pool_exhausted",
            Check::Predicate => "predicate",
            Check::NodeShape => "node_shape",
            Check::NodeContents => "node_contents",
            Check::Rebuild => "rebuild",
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A failed check: the level and the model disagree, or the level broke a rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckFailure {
    /// What was checked.
    pub what: Check,
    /// What the model (or the rule) says.
    pub expected: String,
    /// What the level did.
    pub found: String,
}

impl CheckFailure {
    /// A failure of `what`, formatting `expected` and `found` with `Debug`.
    pub fn new(what: Check, expected: impl fmt::Debug, found: impl fmt::Debug) -> CheckFailure {
        CheckFailure {
            what,
            expected: format!("{expected:?}"),
            found: format!("{found:?}"),
        }
    }

    /// A failure of `what` with `expected` and `found` already described in words.
    pub fn described(what: Check, expected: String, found: String) -> CheckFailure {
        CheckFailure {
            what,
            expected,
            found,
        }
    }
}

impl fmt::Display for CheckFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "check {} failed: expected {}, found {}",
            self.what, self.expected, self.found
        )
    }
}

impl std::error::Error for CheckFailure {}

/// Returns a [`CheckFailure`] from the enclosing function unless `condition` holds.
/// `expected` and `found` are `String`s, only evaluated on failure.
macro_rules! check {
    ($condition:expr, $what:expr, $expected:expr, $found:expr $(,)?) => {
        if !$condition {
            return Err(CheckFailure::described($what, $expected, $found));
        }
    };
}

/// Checks `level == model` for one value, reporting the model's value as expected.
macro_rules! check_eq {
    ($what:expr, expected: $expected:expr, found: $found:expr $(,)?) => {{
        let (expected, found) = ($expected, $found);
        if expected != found {
            return Err(CheckFailure::new($what, expected, found));
        }
    }};
}

pub(crate) use {check, check_eq};

/// The level under test, its model, and the state the seed's fuzzer keeps.
///
/// The level's key type `K` is the run's ([`crate::level::key`]); the model keeps `u64`
/// keys, embedded into `K` for the level and compared in `K`.
pub struct Environment<'pool, K: FuzzKey = u64> {
    pub(crate) level: ManifestLevel<'pool, K>,
    pub(crate) model: Model,
    /// The tables an op works on: generated (insert) or collected from an iteration
    /// (update, remove), with their level reference and model index (the model's copy of
    /// the table, in model keys). Reused, never
    /// reallocated past `table_count_max`.
    pub(crate) scratch: Vec<(TableRef, Table, usize)>,
    /// Tables retired at the current snapshot, to check they are invisible after the next
    /// snapshot bump.
    pub(crate) retired_now: Vec<Table>,
    /// The current snapshot; starts at 1 (0 is reserved).
    pub(crate) snapshot: u64,
    /// Draws the tables' keys, checksums and addresses (and, in the extended op set,
    /// every other choice that changes the state).
    pub(crate) prng: Prng,
    pub(crate) params: Params,
    /// Number and value sum of the live tables, kept by the ops.
    pub(crate) live_count: u32,
    pub(crate) live_values: u64,
    peak_tables: usize,
    /// The most nodes the level held at once.
    pub(crate) peak_nodes: u32,
    /// The states the run reached ([`crate::level::states`]).
    pub(crate) states: StateCounts,
    /// The generation the level should be at: one per insert and remove, one per reset.
    pub(crate) generation: u32,
    /// The extended op set's state (`None` for the faithful op set).
    pub(crate) ext: Option<Box<Extended<'pool, K>>>,
    /// Pool nodes held back from the levels ([`ballast`]); `None` without ballast.
    pub(crate) ballast: Option<Ballast<'pool>>,
}

impl<K: FuzzKey> fmt::Debug for Environment<'_, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Environment")
            .field("level", &self.level)
            .field("model_len", &self.model.len())
            .field("snapshot", &self.snapshot)
            .field("live_count", &self.live_count)
            .finish()
    }
}

impl<'pool, K: FuzzKey> Environment<'pool, K> {
    /// Pool nodes an environment with these parameters needs for nodes of `node_size`.
    pub fn nodes_needed(node_size: usize, params: &Params) -> Result<u32, manifest_level::Error> {
        ManifestLevel::<K>::nodes_needed(node_size, params.table_count_max)
    }

    /// Pool nodes an environment for `op_set` needs: the level's, plus level B's (and
    /// level C's, as big as B's, with [`Params::third_level`]) for the extended op set
    /// (the levels share the pool).
    pub fn nodes_needed_for(
        node_size: usize,
        params: &Params,
        op_set: OpSet,
    ) -> Result<u32, manifest_level::Error> {
        let level = Environment::<K>::nodes_needed(node_size, params)?;
        match op_set {
            OpSet::Faithful => Ok(level),
            OpSet::Extended => {
                let b = ManifestLevel::<K>::nodes_needed(node_size, params.level_b_capacity())?;
                let lower_levels = 1 + u32::from(params.third_level);
                Ok(level + lower_levels * b)
            }
        }
    }

    /// An empty environment: a level of `params.table_count_max` tables on `pool`, an
    /// empty model, snapshot 1. `prng` draws the contents of new tables.
    ///
    /// Turns the level's automatic `verify()` off: the faithful mode checks through the
    /// model only (the `verify` feature may be on in workspace test builds).
    pub fn new(
        pool: &'pool NodePool,
        params: &Params,
        prng: Prng,
    ) -> Result<Environment<'pool, K>, manifest_level::Error> {
        let mut level = ManifestLevel::new(pool, params.table_count_max)?;
        level.set_auto_verify(false);
        let capacity = params.table_count_max as usize;
        let mut states = StateCounts::default();
        states.note_if(K::WIDTH == KeyWidth::U128, State::U128Keys);
        Ok(Environment {
            level,
            model: Model::with_capacity(capacity),
            scratch: Vec::with_capacity(capacity),
            retired_now: Vec::with_capacity(capacity),
            snapshot: 1,
            prng,
            params: *params,
            live_count: 0,
            live_values: 0,
            peak_tables: 0,
            peak_nodes: 0,
            states,
            generation: 0,
            ext: None,
            ballast: None,
        })
    }

    /// An empty environment for the extended op set: the level, an extended model, level
    /// B (of [`Params::level_b_capacity`] tables) on the same `pool` (which needs
    /// [`Environment::nodes_needed_for`] nodes), no retained snapshot. `prng` draws
    /// everything that changes the state (table contents, which tables a compaction
    /// takes, ...); `query_prng` draws the choices of read-only and misuse ops, so that
    /// dropping one of those from a run (when shrinking) leaves the tables of the others
    /// unchanged.
    pub fn new_extended(
        pool: &'pool NodePool,
        params: &Params,
        prng: Prng,
        query_prng: Prng,
    ) -> Result<Environment<'pool, K>, manifest_level::Error> {
        let mut env = Environment::new(pool, params, prng)?;
        env.model = Model::extended(params.table_count_max as usize);
        env.ext = Some(Box::new(Extended::new(pool, params, query_prng)?));
        Ok(env)
    }

    /// The op set the environment runs.
    pub fn op_set(&self) -> OpSet {
        if self.ext.is_some() {
            OpSet::Extended
        } else {
            OpSet::Faithful
        }
    }

    /// The retained snapshots, in retain order (always empty for the faithful op set).
    pub fn retained(&self) -> &[u64] {
        self.ext.as_ref().map_or(&[], |ext| &ext.retained)
    }

    /// Level B and its model (extended op set only).
    pub fn level_b(&self) -> Option<(&ManifestLevel<'pool, K>, &Model)> {
        self.ext.as_ref().map(|ext| (&ext.level_b, &ext.model_b))
    }

    /// The generation the level should be at: the number of inserts, removes and resets
    /// so far (wrapping).
    pub fn expected_generation(&self) -> u32 {
        self.generation
    }

    /// Number of tables visible to latest, as the ops counted them.
    pub fn live_count(&self) -> u32 {
        self.live_count
    }

    /// Sum of `value_count` over the tables visible to latest, as the ops counted it.
    pub fn live_values(&self) -> u64 {
        self.live_values
    }

    /// The key range new tables start in: `0..=table_count_max * 64`.
    pub fn key_space(&self) -> Key {
        u64::from(self.params.table_count_max) * KEY_SPACE_PER_TABLE
    }

    /// The level under test.
    pub fn level(&self) -> &ManifestLevel<'pool, K> {
        &self.level
    }

    /// The level under test, mutably (to plant a fault, or for extended ops).
    pub fn level_mut(&mut self) -> &mut ManifestLevel<'pool, K> {
        &mut self.level
    }

    /// The reference model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The current snapshot.
    pub fn snapshot(&self) -> u64 {
        self.snapshot
    }

    /// The parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The most tables the level held at once so far.
    pub fn peak_tables(&self) -> usize {
        self.peak_tables
    }

    /// The most nodes the level held at once.
    pub fn peak_nodes(&self) -> u32 {
        self.peak_nodes
    }

    /// The states the run reached so far ([`crate::level::states`]).
    pub fn states(&self) -> &StateCounts {
        &self.states
    }

    /// Executes `op` on the level and the model and checks them (docs/SEMANTICS.md §4.4, §4.5).
    ///
    /// The op must be valid in the current state (as generated, or checked with
    /// [`GenerateContext::apply`](crate::level::generate::GenerateContext::apply)); otherwise
    /// it reports a failure like a bug would (for example [`Check::EnoughTables`]).
    ///
    /// # Panics
    ///
    /// On an extended op in an environment of the faithful op set.
    pub fn apply(&mut self, op: &FuzzOp) -> Result<(), CheckFailure> {
        let before = observe::Counters::of(self);
        self.model.begin_op();
        match *op {
            FuzzOp::InsertTables { count } => self.insert_tables(count)?,
            FuzzOp::UpdateTables { count } => self.update_tables(count)?,
            FuzzOp::TakeSnapshot => self.take_snapshot()?,
            FuzzOp::RemoveInvisible { count } => self.remove_invisible(count)?,
            FuzzOp::RemoveVisible { count } => self.remove_visible(count)?,
            _ => self.apply_extended(op)?,
        }
        self.observe(op, before);
        self.check_after_op()
    }

    /// Generates `count` tables that overlap nothing in the model, starting at a random
    /// key, inserts them into the level, then into the model.
    ///
    /// This and the other op methods check the tables the op touches, but not the
    /// after-op checks; [`Environment::apply`] runs both.
    pub fn insert_tables(&mut self, count: u32) -> Result<(), CheckFailure> {
        debug_assert!(count > 0);
        self.scratch.clear();
        let key_space = u64::from(self.params.table_count_max) * KEY_SPACE_PER_TABLE;
        let mut key = self.prng.int_inclusive(key_space);
        if let Some(ext) = &mut self.ext {
            // New tables must not overlap what the current snapshot or latest sees
            // (live tables and tables retired now); older retired tables they may.
            ext.capture_stale(&self.level, &self.model, StaleSlot::Insert)?;
            let snapshot = self.snapshot;
            ext.avoid.clear();
            ext.avoid.extend(
                self.model
                    .tables()
                    .iter()
                    .filter(|t| t.snapshot_max >= snapshot),
            );
            for _ in 0..count {
                let table = generate_table_avoiding(&ext.avoid, &mut self.prng, key, snapshot);
                key = table.key_max;
                self.scratch.push((TableRef::default(), table, 0));
            }
        } else {
            for _ in 0..count {
                let table =
                    self.model
                        .generate_non_overlapping_table(&mut self.prng, key, self.snapshot);
                key = table.key_max;
                self.scratch.push((TableRef::default(), table, 0));
            }
        }

        for (_, table, _) in &self.scratch {
            check!(
                oracle::sees(self.snapshot, table) && oracle::sees(SNAPSHOT_LATEST, table),
                Check::InsertedVisible,
                format!("visible to snapshot {} and to latest", self.snapshot),
                format!("{table:?}"),
            );
            let embedded = embed_table::<K>(table);
            let inserted = insert_table(
                &mut self.level,
                &mut self.ballast,
                &mut self.states,
                embedded,
            )?;
            let reference = match inserted {
                Ok(reference) => reference,
                Err(error) => {
                    return Err(CheckFailure::new(Check::InsertAccepted, embedded, error))
                }
            };
            self.generation = self.generation.wrapping_add(1);
            self.check_resolves(reference, table)?;
        }
        self.model
            .insert_sorted_batch(self.scratch.iter().map(|(_, table, _)| *table));
        self.live_count += count;
        self.live_values += u64::from(count) * u64::from(VALUE_COUNT);
        Ok(())
    }

    /// Retires the last `count` live tables (descending order) at the current snapshot,
    /// in the level and in the model.
    pub fn update_tables(&mut self, count: u32) -> Result<(), CheckFailure> {
        debug_assert!(count > 0);
        let latest = [SNAPSHOT_LATEST];
        self.collect(Query::visible(&latest).descending(), count, |table| {
            oracle::sees(SNAPSHOT_LATEST, table)
        })?;

        self.retire_collected()?;
        self.live_count -= count;
        self.live_values -= self.scratch_values();
        Ok(())
    }

    /// Retires every collected table at the current snapshot, in the level and in the
    /// model, checking each answer (used by `update_tables` and the extended compaction).
    /// The caller adjusts the live counters.
    pub(crate) fn retire_collected(&mut self) -> Result<(), CheckFailure> {
        let snapshot = self.snapshot;
        for slot in 0..self.scratch.len() {
            let (reference, table, index) = self.scratch[slot];
            if let Err(error) = self.level.set_snapshot_max(snapshot, reference) {
                return Err(CheckFailure::new(
                    Check::RetireAccepted,
                    (snapshot, table),
                    error,
                ));
            }
            self.model.set_snapshot_max(index, snapshot);
            let expected = *self.model.get(index);
            check!(
                oracle::sees(snapshot, &expected) && !oracle::sees(SNAPSHOT_LATEST, &expected),
                Check::RetiredVisibility,
                format!("visible to snapshot {snapshot}, not to latest"),
                format!("{expected:?}"),
            );
            let embedded = embed_table::<K>(&expected);
            match self.level.get(reference) {
                Ok(found) if *found == embedded => {}
                found => return Err(CheckFailure::new(Check::EqualsModel, embedded, found)),
            }
            self.retired_now.push(expected);
        }
        Ok(())
    }

    /// The sum of `value_count` over the collected tables (`count * 64` in the faithful
    /// op set; compaction's replacements vary).
    pub(crate) fn scratch_values(&self) -> u64 {
        self.scratch
            .iter()
            .map(|(_, table, _)| u64::from(table.value_count))
            .sum()
    }

    /// Advances the current snapshot; the tables retired at the old one become invisible.
    pub fn take_snapshot(&mut self) -> Result<(), CheckFailure> {
        check!(
            self.snapshot + 1 < SNAPSHOT_LATEST,
            Check::SnapshotRange,
            format!("a snapshot below {SNAPSHOT_LATEST}"),
            format!("{}", self.snapshot + 1),
        );
        self.snapshot += 1;
        if let Some(ballast) = &mut self.ballast {
            ballast.fill();
        }
        let snapshots = [self.snapshot];
        for retired in &self.retired_now {
            let retired = embed_table::<K>(retired);
            match self.level.find(&retired) {
                Some((_, found)) if *found == retired && oracle::invisible(&snapshots, found) => {}
                found => {
                    return Err(CheckFailure::described(
                        Check::SnapshotHidesRetired,
                        format!("{retired:?}, invisible to snapshot {}", self.snapshot),
                        format!("{:?}", found.map(|(_, table)| table)),
                    ))
                }
            }
        }
        self.retired_now.clear();
        Ok(())
    }

    /// Removes the last `count` tables (descending order) that neither latest nor the
    /// current snapshot sees.
    ///
    /// With retained snapshots (extended op set), the tables must also be invisible to
    /// every retained snapshot, and only those retired before the oldest snapshot still
    /// read are taken (see [`crate::level::generate`]).
    pub fn remove_invisible(&mut self, count: u32) -> Result<(), CheckFailure> {
        if let Some(ext) = &mut self.ext {
            ext.capture_stale(&self.level, &self.model, StaleSlot::Remove)?;
            if !ext.retained.is_empty() {
                return self.remove_invisible_retained(count);
            }
        }
        let snapshots = [self.snapshot];
        self.collect(Query::invisible(&snapshots).descending(), count, |table| {
            oracle::invisible(&snapshots, table)
        })?;
        self.remove_collected()
    }

    /// Removes the last `count` live tables (descending order).
    pub fn remove_visible(&mut self, count: u32) -> Result<(), CheckFailure> {
        if let Some(ext) = &mut self.ext {
            ext.capture_stale(&self.level, &self.model, StaleSlot::Remove)?;
        }
        let latest = [SNAPSHOT_LATEST];
        self.collect(Query::visible(&latest).descending(), count, |table| {
            oracle::sees(SNAPSHOT_LATEST, table)
        })?;
        let values = self.scratch_values();
        self.remove_collected()?;
        self.live_count -= count;
        self.live_values -= values;
        Ok(())
    }

    /// Collects the first `count` tables of `query` into the scratch buffer, checking each
    /// passes `filter` (the query's own visibility rule, restated), comes in descending
    /// order, and equals its model table; and that there are `count` of them.
    pub(crate) fn collect(
        &mut self,
        query: Query<'_, K>,
        count: u32,
        filter: impl Fn(&TableInfo<K>) -> bool,
    ) -> Result<(), CheckFailure> {
        debug_assert!(count > 0);
        self.collect_where(query, count, filter, |_| true)
    }

    /// [`Environment::collect`], keeping only the tables `take` accepts (the others are
    /// still checked, then skipped; `take` sees the model's copy).
    pub(crate) fn collect_where(
        &mut self,
        query: Query<'_, K>,
        count: u32,
        filter: impl Fn(&TableInfo<K>) -> bool,
        take: impl Fn(&Table) -> bool,
    ) -> Result<(), CheckFailure> {
        self.scratch.clear();
        let mut previous: Option<&TableInfo<K>> = None;
        for (reference, table) in self.level.iter(query) {
            if self.scratch.len() == count as usize {
                break;
            }
            check!(
                filter(table),
                Check::IteratorFilter,
                format!("{:?} to {:?}", query.visibility, query.snapshots),
                format!("{table:?}"),
            );
            if let Some(previous) = previous {
                // Tables of different snapshots may share key_max in the extended op set:
                // the order is by (key_max, snapshot_min) there; the seed's tables never
                // share keys, so its order is strictly by key_max.
                let descending = if self.ext.is_some() {
                    (table.key_max, table.snapshot_min) < (previous.key_max, previous.snapshot_min)
                } else {
                    table.key_max < previous.key_max
                };
                check!(
                    descending,
                    Check::IteratorOrder,
                    format!("below {previous:?}"),
                    format!("{table:?}"),
                );
            }
            previous = Some(table);
            let index = self.model_index(table)?;
            let expected = *self.model.get(index);
            if take(&expected) {
                self.scratch.push((reference, expected, index));
            }
        }
        check_eq!(Check::EnoughTables, expected: count as usize, found: self.scratch.len());
        Ok(())
    }

    /// The model index of level table `table`, which must equal the model's table there
    /// (compared in the level's key type): [`Check::InModel`], [`Check::EqualsModel`].
    pub(crate) fn model_index(&self, table: &TableInfo<K>) -> Result<usize, CheckFailure> {
        let Some(index) = self.model.find_exact(&project_table(table)) else {
            return Err(CheckFailure::described(
                Check::InModel,
                "a model table with the same keys".into(),
                format!("{table:?}"),
            ));
        };
        check_eq!(
            Check::EqualsModel,
            expected: embed_table::<K>(self.model.get(index)),
            found: *table,
        );
        Ok(index)
    }

    /// Checks that `reference` (from an insert) still resolves to model table `table`
    /// ([`Check::InsertedReference`]).
    pub(crate) fn check_resolves(
        &self,
        reference: TableRef,
        table: &Table,
    ) -> Result<(), CheckFailure> {
        let expected = embed_table::<K>(table);
        match self.level.get(reference) {
            Ok(found) if *found == expected => Ok(()),
            found => Err(CheckFailure::new(Check::InsertedReference, expected, found)),
        }
    }

    /// Removes the collected tables from the level and marks them in the model, then
    /// purges the model.
    pub(crate) fn remove_collected(&mut self) -> Result<(), CheckFailure> {
        let snapshot = self.snapshot;
        for &(_, table, index) in &self.scratch {
            // A table may go once no reader sees it (invisible to latest and to the
            // current snapshot), or while both latest and the current snapshot see it;
            // never while the current snapshot sees it but latest does not (retired at
            // the current snapshot: a reader of that snapshot may still need it).
            // Retained snapshots are readers too (extended op set).
            let retained = self.ext.as_ref().map_or(&[][..], |ext| &ext.retained);
            let invisible =
                oracle::invisible(&[snapshot], &table) && oracle::invisible(retained, &table);
            let visible_to_both =
                oracle::sees(SNAPSHOT_LATEST, &table) && oracle::sees(snapshot, &table);
            check!(
                invisible || visible_to_both,
                Check::RemovalAllowed,
                format!("invisible, or visible to latest and snapshot {snapshot}"),
                format!("{table:?}"),
            );
            let embedded = embed_table::<K>(&table);
            if let Err(error) = self.level.remove_table(&embedded) {
                return Err(CheckFailure::new(Check::RemoveAccepted, embedded, error));
            }
            self.generation = self.generation.wrapping_add(1);
            check!(
                !self.level.contains(&embedded),
                Check::RemovedGone,
                format!("{table:?} gone"),
                "still in the level".into(),
            );
            self.model.mark_removed(index);
        }
        self.model.purge();
        Ok(())
    }

    /// The checks after every op: table count, the visible counters and
    /// `key_range_latest` against the model, and the pool's accounting.
    pub fn check_after_op(&self) -> Result<(), CheckFailure> {
        self.check_pool_accounting()?;
        check_eq!(
            Check::TableCount,
            expected: self.model.len(),
            found: self.level.len() as usize,
        );
        check_eq!(
            Check::TableCountVisible,
            expected: self.live_count,
            found: self.level.table_count_visible(),
        );
        check_eq!(
            Check::ValueCountVisible,
            expected: self.live_values,
            found: self.level.value_count_visible(),
        );
        check_eq!(
            Check::KeyRangeLatest,
            expected: self.model.key_range_latest().map(embed_range::<K>),
            found: self.level.key_range_latest(),
        );
        Ok(())
    }

    /// The level's whole contents equal the model's, table by table and field by field,
    /// in level order; with the extended op set, level B's (and level C's) too. O(n), no
    /// allocation (the runner calls it at the end of every run).
    pub fn check_full_contents(&self) -> Result<(), CheckFailure> {
        compare_contents(Check::EqualsModel, &self.level, &self.model)?;
        if let Some(ext) = &self.ext {
            compare_contents(Check::LevelB, &ext.level_b, &ext.model_b)?;
            if let Some(level_c) = &ext.level_c {
                compare_contents(Check::LevelB, level_c, &ext.model_c)?;
            }
        }
        Ok(())
    }

    /// The pool's acquired count equals the sum of its levels' node counts (level A, and
    /// levels B and C in the extended op set: the pool is theirs alone). O(1).
    pub fn check_pool_accounting(&self) -> Result<(), CheckFailure> {
        let level_a = self.level.node_count();
        let level_b = self.ext.as_ref().map_or(0, |ext| {
            let level_c = ext.level_c.as_ref().map_or(0, ManifestLevel::node_count);
            ext.level_b.node_count() + level_c
        });
        let ballast = self.ballast.as_ref().map_or(0, Ballast::nodes);
        check_eq!(
            Check::PoolAccounting,
            expected: u64::from(level_a) + u64::from(level_b) + u64::from(ballast),
            found: u64::from(self.level.pool().acquired_count()),
        );
        Ok(())
    }

    /// A 64-bit FNV-1a digest of the level's contents (every table, in order), its
    /// counters and the current snapshot. Stable across versions and platforms, so two
    /// runs can be compared by digest. O(n), no allocation.
    pub fn digest(&self) -> u64 {
        let mut digest = Fnv1a::new();
        digest.write_u64(self.snapshot);
        digest.write_u64(u64::from(self.level.len()));
        digest.write_u64(u64::from(self.level.table_count_visible()));
        digest.write_u64(self.level.value_count_visible());
        if let Some(range) = self.level.key_range_latest() {
            digest.write_key(range.key_min());
            digest.write_key(range.key_max());
        }
        for_each_table(&self.level, |table| {
            digest.write_u128(table.checksum);
            digest.write_u64(table.address);
            digest.write_u64(table.snapshot_min);
            digest.write_u64(table.snapshot_max);
            digest.write_key(table.key_min);
            digest.write_key(table.key_max);
            digest.write_u64(u64::from(table.value_count));
        });
        digest.finish()
    }

    /// Everything observable about the level, for "nothing changed" checks: the
    /// [digest](Environment::digest) plus the generation and the node count.
    pub fn fingerprint(&self) -> Fingerprint<K> {
        Fingerprint {
            digest: Some(self.digest()),
            ..self.fingerprint_without_contents()
        }
    }

    /// [`Environment::fingerprint`] without hashing the tables (`digest` `None`): the
    /// counters, length, generation, node count and `key_range_latest`. O(1).
    pub fn fingerprint_without_contents(&self) -> Fingerprint<K> {
        Fingerprint {
            digest: None,
            table_count_visible: self.level.table_count_visible(),
            value_count_visible: self.level.value_count_visible(),
            len: self.level.len(),
            generation: self.level.generation(),
            node_count: self.level.node_count(),
            key_range_latest: self.level.key_range_latest(),
        }
    }

    /// Every table of the level, in level order (`(key_max, snapshot_min)`).
    ///
    /// The level has no unfiltered iterator, so this merges its two complementary
    /// classes: the tables visible to latest and the ones invisible to latest (the
    /// invisible class with no retained snapshot). O(n); allocates the result.
    pub fn level_tables(&self) -> Vec<TableInfo<K>> {
        let mut tables = Vec::with_capacity(self.level.len() as usize);
        for_each_table(&self.level, |table| tables.push(*table));
        tables
    }
}

/// `level`'s tables against `model`'s, in order and field by field: the first
/// difference, or a length mismatch, fails `what`. No allocation.
fn compare_contents<K: FuzzKey>(
    what: Check,
    level: &ManifestLevel<'_, K>,
    model: &Model,
) -> Result<(), CheckFailure> {
    check_eq!(what, expected: model.len(), found: level.len() as usize);
    let expected = model.tables();
    let mut position = 0;
    let mut mismatch = None;
    for_each_table(level, |table| {
        let same = expected
            .get(position)
            .is_some_and(|model_table| oracle::same_fields(table, &embed_table(model_table)));
        if mismatch.is_none() && !same {
            mismatch = Some((position, *table));
        }
        position += 1;
    });
    if let Some((position, table)) = mismatch {
        return Err(CheckFailure::described(
            what,
            format!(
                "table {position} of the model: {:?}",
                expected.get(position).map(embed_table::<K>)
            ),
            format!("{table:?}"),
        ));
    }
    // The level's iteration yields as many tables as it counts.
    check_eq!(what, expected: model.len(), found: position);
    Ok(())
}

/// `level.insert_table(table)`, where an exhausted pool with ballast to give back is not
/// the answer: the error must be true (it needed more nodes than the pool has free) and
/// the failed insert must have changed nothing (length, generation, nodes, the visible
/// counters, `key_range_latest`, the pool's count; and `verify()` holds: exhaustion is
/// rare, so the O(n) check costs little), then the ballast is released and the insert
/// retried ([`ballast`]). Any other answer is returned as it is. An insert that went
/// through is observed where it landed ([`observe::note_insert_at`]).
pub(crate) fn insert_table<K: FuzzKey>(
    level: &mut ManifestLevel<'_, K>,
    ballast: &mut Option<Ballast<'_>>,
    states: &mut StateCounts,
    table: TableInfo<K>,
) -> Result<Result<TableRef, manifest_level::Error>, CheckFailure> {
    let answer = insert_past_ballast(level, ballast, states, table)?;
    if let Ok(reference) = answer {
        observe::note_insert_at(states, level, reference.index());
    }
    Ok(answer)
}

/// [`insert_table`] but the observation: the insert, and its retry once the ballast lets
/// go of its nodes.
fn insert_past_ballast<K: FuzzKey>(
    level: &mut ManifestLevel<'_, K>,
    ballast: &mut Option<Ballast<'_>>,
    states: &mut StateCounts,
    table: TableInfo<K>,
) -> Result<Result<TableRef, manifest_level::Error>, CheckFailure> {
    let observed = |level: &ManifestLevel<'_, K>| {
        let counters = (level.len(), level.generation(), level.node_count());
        let visible = (level.table_count_visible(), level.value_count_visible());
        let pool = level.pool().acquired_count();
        (counters, visible, level.key_range_latest(), pool)
    };
    // Without ballast to give back (every run but ballast ones) this is the plain insert.
    let Some(ballast) = ballast.as_mut().filter(|ballast| ballast.nodes() > 0) else {
        return Ok(level.insert_table(table));
    };
    let before = observed(level);
    let answer = level.insert_table(table);
    let Err(manifest_level::Error::NodePoolExhausted { needed, free }) = answer else {
        return Ok(answer);
    };
    let pool_free = level.pool().free_count();
    check!(
        free == pool_free && needed > free,
        Check::PoolExhausted,
        format!("NodePoolExhausted only when more nodes are needed than the {pool_free} free"),
        format!("needed {needed}, free {free}"),
    );
    let after = observed(level);
    check!(
        after == before,
        Check::PoolExhausted,
        format!("an insert that exhausted the pool to change nothing: {before:?}"),
        format!("{after:?}"),
    );
    level.verify();
    states.note(State::PoolExhausted);
    ballast.release();
    Ok(level.insert_table(table))
}

/// Calls `f` with every table of `level`, in level order, by merging its two complementary
/// classes (visible to latest, invisible with no retained snapshot). No allocation.
pub fn for_each_table<K: FuzzKey>(level: &ManifestLevel<'_, K>, mut f: impl FnMut(&TableInfo<K>)) {
    let latest = [SNAPSHOT_LATEST];
    let mut live = level.iter(Query::visible(&latest)).peekable();
    let mut retired = level.iter(Query::invisible(&[])).peekable();
    // Each round yields one table, so the level's count (plus the final round) bounds it.
    let rounds_max = level.len() as usize + 1;
    for round in 0.. {
        assert!(
            round < rounds_max,
            "the two classes yield more tables than the level holds"
        );
        let take_live = match (live.peek(), retired.peek()) {
            (Some((_, a)), Some((_, b))) => {
                (a.key_max, a.snapshot_min) <= (b.key_max, b.snapshot_min)
            }
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        let next = if take_live {
            live.next()
        } else {
            retired.next()
        };
        f(next.expect("peeked").1);
    }
}

/// What [`Environment::fingerprint`] captures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fingerprint<K = u64> {
    /// [`Environment::digest`], or `None` for
    /// [`Environment::fingerprint_without_contents`].
    pub digest: Option<u64>,
    /// `table_count_visible`.
    pub table_count_visible: u32,
    /// `value_count_visible`.
    pub value_count_visible: u64,
    /// Number of tables.
    pub len: u32,
    /// The level's generation.
    pub generation: u32,
    /// Pool nodes the level holds.
    pub node_count: u32,
    /// `key_range_latest`.
    pub key_range_latest: Option<KeyRange<K>>,
}

/// FNV-1a, 64-bit: a tiny, fixed hash for digests (unlike `DefaultHasher`, whose output
/// may change between Rust releases).
struct Fnv1a(u64);

impl Fnv1a {
    fn new() -> Fnv1a {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.write(&value.to_le_bytes());
    }

    fn write_u128(&mut self, value: u128) {
        self.write(&value.to_le_bytes());
    }

    /// A key as its type's bytes: 8 for `u64` (the seed's digest), 16 for `u128`.
    fn write_key<K: FuzzKey>(&mut self, key: K) {
        match K::WIDTH {
            KeyWidth::U64 => self.write_u64(key.to_u128() as u64),
            KeyWidth::U128 => self.write_u128(key.to_u128()),
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use manifest_level::TableInfo;

    use super::*;

    fn with_env(test: impl FnOnce(&mut Environment<'_>)) {
        let params = Params::with_table_count_max(64);
        let nodes = Environment::<u64>::nodes_needed(256, &params).unwrap();
        let pool = NodePool::new(256, nodes).unwrap();
        let mut env = Environment::new(&pool, &params, Prng::from_seed(1)).unwrap();
        env.apply(&FuzzOp::InsertTables { count: 10 }).unwrap();
        env.apply(&FuzzOp::InsertTables { count: 10 }).unwrap();
        test(&mut env);
    }

    #[test]
    fn a_node_acquired_behind_the_levels_back_is_caught() {
        let params = Params::with_table_count_max(64);
        let nodes = Environment::<u64>::nodes_needed(256, &params).unwrap();
        let pool = NodePool::new(256, nodes + 1).unwrap();
        let mut env = Environment::<u64>::new(&pool, &params, Prng::from_seed(1)).unwrap();
        env.apply(&FuzzOp::InsertTables { count: 10 }).unwrap();
        // A level the environment does not know of takes a node from the same pool.
        let mut stray = ManifestLevel::<Key>::new(&pool, 8).unwrap();
        stray
            .insert_table(TableInfo::new(1, 1, 1, 0, 0, 1))
            .unwrap();
        let failure = env.check_after_op().unwrap_err();
        assert_eq!(failure.what, Check::PoolAccounting, "{failure}");
        // Once the stray level gives its node back, the accounting holds again.
        drop(stray);
        env.check_after_op().unwrap();
    }

    /// Runs `test` on an extended environment with a third level whose level B and C
    /// both hold tables, on a pool of exactly the nodes the three levels may need.
    fn with_three_levels(test: impl FnOnce(&mut Environment<'_>)) {
        let params = Params {
            third_level: true,
            ..Params::with_table_count_max(64)
        };
        let nodes = Environment::<u64>::nodes_needed_for(256, &params, OpSet::Extended).unwrap();
        let two_levels = Params {
            third_level: false,
            ..params
        };
        let fewer = Environment::<u64>::nodes_needed_for(256, &two_levels, OpSet::Extended);
        assert!(nodes > fewer.unwrap(), "level C's nodes are counted");
        let pool = NodePool::new(256, nodes).unwrap();
        let mut env =
            Environment::new_extended(&pool, &params, Prng::from_seed(1), Prng::from_seed(2))
                .unwrap();
        env.apply(&FuzzOp::InsertTables { count: 10 }).unwrap();
        // Inserts go to B or C by a coin flip per op: both fill within a few ops.
        for _ in 0..8 {
            env.apply(&FuzzOp::InsertTablesB { count: 4 }).unwrap();
            env.check_after_op().unwrap();
        }
        let ext = env.ext.as_ref().unwrap();
        assert!(!ext.model_b.is_empty() && !ext.model_c.is_empty());
        assert!(env.states.get(State::ThreeLevelsOnOnePool) > 0);
        test(&mut env);
    }

    #[test]
    fn three_levels_share_the_pool_and_each_answers_for_itself() {
        with_three_levels(|env| {
            for op in [
                FuzzOp::LeastOverlap,
                FuzzOp::RemoveTablesB { count: 20 },
                FuzzOp::LeastOverlap,
                FuzzOp::InsertTablesB { count: 20 },
                FuzzOp::LeastOverlap,
            ] {
                env.apply(&op)
                    .unwrap_or_else(|failure| panic!("{op}: {failure}"));
                env.check_after_op().unwrap();
            }
            env.check_full_contents().unwrap();
        });
    }

    #[test]
    fn a_table_in_level_c_the_model_does_not_hold_is_caught() {
        with_three_levels(|env| {
            let ext = env.ext.as_mut().unwrap();
            let level_c = ext.level_c.as_mut().unwrap();
            let last = *ext.model_c.get(ext.model_c.len() - 1);
            let key = last.key_max + 1;
            let stray = TableInfo::new(1, 7, 1, key, key, 1);
            level_c.insert_table(stray).unwrap();
            let failure = extended::check_level_b(env.ext.as_ref().unwrap()).unwrap_err();
            assert_eq!(failure.what, Check::LevelB, "{failure}");
            let failure = env.check_full_contents().unwrap_err();
            assert_eq!(failure.what, Check::LevelB, "{failure}");
        });
    }

    #[test]
    fn nodes_level_c_holds_are_counted_by_the_pool_accounting() {
        with_three_levels(|env| {
            env.check_pool_accounting().unwrap();
            let ext = env.ext.as_mut().unwrap();
            // Level C's nodes stay acquired while the environment stops counting them.
            let level_c = ext.level_c.take().unwrap();
            assert!(level_c.node_count() > 0);
            let failure = env.check_pool_accounting().unwrap_err();
            assert_eq!(failure.what, Check::PoolAccounting, "{failure}");
            env.ext.as_mut().unwrap().level_c = Some(level_c);
            env.check_pool_accounting().unwrap();
        });
    }

    #[test]
    fn a_faithful_sequence_passes() {
        with_env(|env| {
            for op in [
                FuzzOp::UpdateTables { count: 5 },
                FuzzOp::RemoveVisible { count: 3 },
                FuzzOp::TakeSnapshot,
                FuzzOp::RemoveInvisible { count: 4 },
                FuzzOp::UpdateTables { count: 12 },
                FuzzOp::TakeSnapshot,
                FuzzOp::RemoveInvisible { count: 13 },
            ] {
                env.apply(&op)
                    .unwrap_or_else(|failure| panic!("{op}: {failure}"));
            }
            assert_eq!(env.level().len(), 0);
            assert_eq!(env.snapshot(), 3);
            assert_eq!(env.peak_tables(), 20);
            assert!(env.level_tables().is_empty());
        });
    }

    #[test]
    fn level_tables_lists_live_and_retired_in_order() {
        with_env(|env| {
            env.apply(&FuzzOp::UpdateTables { count: 7 }).unwrap();
            env.apply(&FuzzOp::TakeSnapshot).unwrap();
            assert_eq!(env.level_tables(), env.model().tables());
        });
    }

    #[test]
    fn full_contents_catch_a_retirement_the_counters_miss() {
        with_env(|env| {
            env.check_full_contents().unwrap();
            let latest = [SNAPSHOT_LATEST];
            // A table in the middle, so `key_range_latest` stays as it was.
            let (reference, table) = env.level().iter(Query::visible(&latest)).nth(5).unwrap();
            let table = *table;
            env.level_mut().set_snapshot_max(1, reference).unwrap();
            // Pretend the model retired it too, so every counter agrees ...
            env.live_count -= 1;
            env.live_values -= u64::from(table.value_count);
            env.check_after_op().unwrap();
            // ... but the model's table still says live: only the field compare sees it.
            let failure = env.check_full_contents().unwrap_err();
            assert_eq!(failure.what, Check::EqualsModel, "{failure}");
            assert!(failure.found.contains("snapshot_max: 1"), "{failure}");
        });
    }

    #[test]
    fn a_retirement_behind_the_models_back_is_caught() {
        with_env(|env| {
            let latest = [SNAPSHOT_LATEST];
            let (reference, _) = env.level().iter(Query::visible(&latest)).next().unwrap();
            env.level_mut().set_snapshot_max(1, reference).unwrap();
            let failure = env.check_after_op().unwrap_err();
            assert_eq!(failure.what, Check::TableCountVisible);
            assert_eq!(
                (failure.expected.as_str(), failure.found.as_str()),
                ("20", "19")
            );
        });
    }

    #[test]
    fn a_table_missing_from_the_model_is_caught() {
        with_env(|env| {
            // A table past every generated key, in the level only.
            let stray = TableInfo::new(1, 1, 1, 1 << 40, 1 << 40, VALUE_COUNT);
            env.level_mut().insert_table(stray).unwrap();
            assert_eq!(env.check_after_op().unwrap_err().what, Check::TableCount);
            // Descending iteration meets it first.
            let failure = env.apply(&FuzzOp::UpdateTables { count: 1 }).unwrap_err();
            assert_eq!(failure.what, Check::InModel);
        });
    }

    #[test]
    fn a_table_removed_behind_the_models_back_is_caught() {
        with_env(|env| {
            let latest = [SNAPSHOT_LATEST];
            let (_, last) = env
                .level()
                .iter(Query::visible(&latest).descending())
                .next()
                .unwrap();
            let last = *last;
            env.level_mut().remove_table(&last).unwrap();
            let failure = env.check_after_op().unwrap_err();
            assert_eq!(failure.what, Check::TableCount);
            // Asking for every live table now finds one too few.
            let failure = env.apply(&FuzzOp::RemoveVisible { count: 20 }).unwrap_err();
            assert_eq!(failure.what, Check::EnoughTables);
            assert_eq!(
                (failure.expected.as_str(), failure.found.as_str()),
                ("20", "19")
            );
        });
    }

    #[test]
    fn digest_is_stable_and_sensitive() {
        let digest = |ops: &[FuzzOp]| {
            let params = Params::with_table_count_max(64);
            let pool = NodePool::new(
                1024,
                Environment::<u64>::nodes_needed(1024, &params).unwrap(),
            )
            .unwrap();
            let mut env = Environment::<u64>::new(&pool, &params, Prng::from_seed(2)).unwrap();
            for op in ops {
                env.apply(op).unwrap();
            }
            env.digest()
        };
        let insert = FuzzOp::InsertTables { count: 3 };
        assert_eq!(digest(&[insert]), digest(&[insert]));
        assert_ne!(digest(&[insert]), digest(&[insert, FuzzOp::TakeSnapshot]));
        assert_ne!(
            digest(&[insert]),
            digest(&[insert, FuzzOp::UpdateTables { count: 1 }])
        );
    }
}

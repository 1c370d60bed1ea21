//! Op generation (docs/SEMANTICS.md §4.3): turning weighted draws into a valid op sequence.
//!
//! Generation runs entirely ahead of execution and needs no level: the
//! [`GenerateContext`] tracks how many tables are inserted, updated (retired at the current
//! snapshot) and invisible (retired at an earlier snapshot), and turns a drawn
//! [`OpKind`] into an op that can apply in that state, falling back to another kind when
//! it cannot. The same context validates explicit op lists
//! ([`GenerateContext::apply`], [`validate_ops`]), so a trace or a shrunk sequence is
//! accepted only if every op can apply.
//!
//! # The extended op set
//!
//! With [`OpSet::Extended`] the context also tracks the snapshot, the retained snapshots,
//! level B's table count and whether a stale reference exists. Retained snapshots make
//! "invisible" depend on which snapshots readers hold, and the context knows tables only
//! by count, not by key, so it cannot tell which retired tables a retained snapshot still
//! sees (that depends on each table's `snapshot_min`, and which live tables an update
//! retires depends on their keys). It therefore classifies retired tables by their
//! `snapshot_max` alone, against the *floor*: the oldest snapshot still read (the smallest
//! retained snapshot, or the current one when none is retained, or both).
//!
//! - `updated`: retired at the current snapshot;
//! - `pinned`: retired at `m` with `floor <= m < current`: perhaps still seen by a
//!   retained snapshot, never removed;
//! - `invisible`: retired at `m < floor`: no reader can see them (every retained snapshot
//!   and the current one are past `m`). [`FuzzOp::RemoveInvisible`] removes only these
//!   (the environment skips other invisible tables, after checking them), so the count is
//!   exact. The floor never falls (retaining takes the current snapshot, which is at
//!   least the floor), so a table in this class stays in it until removed.
//!
//! Without retained snapshots the floor is the current snapshot and `pinned` is empty:
//! exactly the seed's three counters.

use core::fmt;

use serde::{Deserialize, Serialize};

use crate::level::ops::{FuzzOp, OpKind, OpSet, WalkDirection, Weights};
use crate::support::prng::Prng;

/// The seed's table limit per level.
pub const TABLE_COUNT_MAX_DEFAULT: u32 = 1024;

/// The most tables one [`FuzzOp::InsertTables`] inserts.
pub const INSERT_COUNT_MAX: u32 = 10;

/// The most snapshots readers retain at once ([`FuzzOp::RetainSnapshot`]).
pub const RETAINED_MAX: usize = 8;

/// The most tables one [`FuzzOp::Compact`] retires.
pub const COMPACT_INPUTS_MAX: u32 = 8;

/// The most tables level B (of the extended op set) holds: the level's capacity, capped
/// at this.
pub const LEVEL_B_TABLE_COUNT_MAX: u32 = 256;

/// Generation parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Params {
    /// The most tables in the level at any time (the level's capacity).
    pub table_count_max: u32,
    /// The most tables one insert op generates ([`INSERT_COUNT_MAX`] in the seed).
    pub insert_count_max: u32,
    /// The growth phase's target: until the level first holds this many tables, drawn
    /// removals (and resets and compactions) insert instead. 0: no growth phase (the
    /// seed).
    #[serde(default)]
    pub growth_tables: u32,
    /// Whether a third level C shares the node pool (extended op set): level B's inserts
    /// and removals then go to B or C, each C as big as B.
    #[serde(default, skip_serializing_if = "core::ops::Not::not")]
    pub third_level: bool,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            table_count_max: TABLE_COUNT_MAX_DEFAULT,
            insert_count_max: INSERT_COUNT_MAX,
            growth_tables: 0,
            third_level: false,
        }
    }
}

impl Params {
    /// The seed's parameters with another table limit.
    pub fn with_table_count_max(table_count_max: u32) -> Params {
        Params {
            table_count_max,
            ..Params::default()
        }
    }

    /// The capacity of level B (extended op set): `min(table_count_max,`
    /// [`LEVEL_B_TABLE_COUNT_MAX`]`)`.
    pub fn level_b_capacity(&self) -> u32 {
        self.table_count_max.min(LEVEL_B_TABLE_COUNT_MAX)
    }
}

/// How often each fallback of [`GenerateContext::next`] was taken: a drawn kind that could
/// not apply and was replaced by another.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FallbackCounts {
    /// Insert with no room left, some invisible tables: remove invisible instead.
    pub insert_to_remove_invisible: u64,
    /// Insert with no room left, no invisible table: remove visible instead.
    pub insert_to_remove_visible: u64,
    /// Update with no table visible to latest: insert instead.
    pub update_to_insert: u64,
    /// Remove invisible with no invisible table and nothing inserted: insert instead.
    pub remove_invisible_to_insert: u64,
    /// Remove invisible with no invisible table and nothing updated: update instead.
    pub remove_invisible_to_update: u64,
    /// Remove invisible with no invisible table but some updated: take a snapshot instead.
    pub remove_invisible_to_take_snapshot: u64,
    /// Remove visible with no table visible to latest and room left: insert instead.
    pub remove_visible_to_insert: u64,
    /// Remove visible with no table visible to latest and no room: remove invisible
    /// instead.
    pub remove_visible_to_remove_invisible: u64,
}

impl FallbackCounts {
    /// Every counter with its name, in declaration order.
    pub fn named(&self) -> [(&'static str, u64); 8] {
        [
            (
                "insert_to_remove_invisible",
                self.insert_to_remove_invisible,
            ),
            ("insert_to_remove_visible", self.insert_to_remove_visible),
            ("update_to_insert", self.update_to_insert),
            (
                "remove_invisible_to_insert",
                self.remove_invisible_to_insert,
            ),
            (
                "remove_invisible_to_update",
                self.remove_invisible_to_update,
            ),
            (
                "remove_invisible_to_take_snapshot",
                self.remove_invisible_to_take_snapshot,
            ),
            ("remove_visible_to_insert", self.remove_visible_to_insert),
            (
                "remove_visible_to_remove_invisible",
                self.remove_visible_to_remove_invisible,
            ),
        ]
    }

    /// Adds `other`'s counts to these.
    pub fn merge(&mut self, other: &FallbackCounts) {
        self.insert_to_remove_invisible += other.insert_to_remove_invisible;
        self.insert_to_remove_visible += other.insert_to_remove_visible;
        self.update_to_insert += other.update_to_insert;
        self.remove_invisible_to_insert += other.remove_invisible_to_insert;
        self.remove_invisible_to_update += other.remove_invisible_to_update;
        self.remove_invisible_to_take_snapshot += other.remove_invisible_to_take_snapshot;
        self.remove_visible_to_insert += other.remove_visible_to_insert;
        self.remove_visible_to_remove_invisible += other.remove_visible_to_remove_invisible;
    }
}

/// An op of an explicit list that cannot apply in the state the ops before it leave.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvalidOp {
    /// Index of the op in the list.
    pub index: usize,
    /// The op.
    pub op: FuzzOp,
    /// Why it cannot apply.
    pub reason: String,
}

impl fmt::Display for InvalidOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "op {} ({}) cannot apply: {}",
            self.index, self.op, self.reason
        )
    }
}

impl std::error::Error for InvalidOp {}

/// The generator's view of the level (docs/SEMANTICS.md §4.3): counts only, no tables.
///
/// - `inserted`: tables in the level;
/// - `updated`: tables retired at the current snapshot (still visible to it);
/// - `invisible`: tables retired at an earlier snapshot (visible to nobody);
/// - `visible_latest = inserted - invisible - updated - pinned`: live tables.
///
/// (`pinned`, always 0 in the faithful op set, is explained in the [module
/// docs](self).)
///
/// Invariants after every op: `invisible <= inserted` and
/// `invisible + updated + pinned <= inserted`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenerateContext {
    params: Params,
    inserted: u32,
    updated: u32,
    invisible: u32,
    fallbacks: FallbackCounts,
    /// The op set explicit ops must belong to.
    op_set: OpSet,
    /// The current snapshot (starts at 1, as in the environment).
    snapshot: u64,
    /// Retained snapshots, in retain order.
    retained: Vec<u64>,
    /// `(snapshot_max, count)` of the pinned tables, ascending by snapshot.
    pinned: Vec<(u64, u32)>,
    pinned_total: u32,
    /// Tables in level B.
    inserted_b: u32,
    /// Whether the environment holds a stale reference (one was taken before a mutation
    /// of a non-empty level).
    stale_reference: bool,
    /// Whether the growth phase is on: [`Params::growth_tables`] is set and the level
    /// has not reached it yet.
    growing: bool,
}

impl GenerateContext {
    /// The context of an empty level.
    ///
    /// # Panics
    ///
    /// If `params.table_count_max` or `params.insert_count_max` is 0 (generation could
    /// never make progress).
    pub fn new(params: &Params) -> GenerateContext {
        assert!(
            params.table_count_max > 0,
            "table_count_max must be positive"
        );
        assert!(
            params.insert_count_max > 0,
            "insert_count_max must be positive"
        );
        GenerateContext {
            params: *params,
            inserted: 0,
            updated: 0,
            invisible: 0,
            fallbacks: FallbackCounts::default(),
            op_set: OpSet::Faithful,
            snapshot: 1,
            retained: Vec::with_capacity(RETAINED_MAX),
            pinned: Vec::new(),
            pinned_total: 0,
            inserted_b: 0,
            stale_reference: false,
            growing: params.growth_tables > 0,
        }
    }

    /// The context of an empty level for `op_set`: explicit ops outside the set are
    /// rejected by [`GenerateContext::apply`].
    ///
    /// # Panics
    ///
    /// As [`GenerateContext::new`].
    pub fn for_op_set(params: &Params, op_set: OpSet) -> GenerateContext {
        GenerateContext {
            op_set,
            ..GenerateContext::new(params)
        }
    }

    /// The op set.
    pub fn op_set(&self) -> OpSet {
        self.op_set
    }

    /// The current snapshot (1 before any [`FuzzOp::TakeSnapshot`]).
    pub fn snapshot(&self) -> u64 {
        self.snapshot
    }

    /// The retained snapshots, in retain order.
    pub fn retained(&self) -> &[u64] {
        &self.retained
    }

    /// Retired tables that a retained snapshot may still see (see the [module
    /// docs](self)).
    pub fn pinned(&self) -> u32 {
        self.pinned_total
    }

    /// Tables in level B.
    pub fn inserted_b(&self) -> u32 {
        self.inserted_b
    }

    /// Whether a stale reference is available to [`FuzzOp::MisuseStaleReference`].
    pub fn has_stale_reference(&self) -> bool {
        self.stale_reference
    }

    /// The oldest snapshot a reader still holds: the smallest retained snapshot, or the
    /// current one.
    pub fn floor(&self) -> u64 {
        self.retained.iter().copied().fold(self.snapshot, u64::min)
    }

    /// Retired tables, of every class.
    fn retired(&self) -> u32 {
        self.updated + self.pinned_total + self.invisible
    }

    /// The parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Tables in the level.
    pub fn inserted(&self) -> u32 {
        self.inserted
    }

    /// Tables retired at the current snapshot.
    pub fn updated(&self) -> u32 {
        self.updated
    }

    /// Tables retired at an earlier snapshot.
    pub fn invisible(&self) -> u32 {
        self.invisible
    }

    /// Live tables: `inserted - invisible - updated - pinned`.
    pub fn visible_latest(&self) -> u32 {
        self.inserted - self.invisible - self.updated - self.pinned_total
    }

    /// How often each fallback was taken so far.
    pub fn fallbacks(&self) -> &FallbackCounts {
        &self.fallbacks
    }

    /// Turns the drawn `kind` into a valid op, falling back to another kind when it
    /// cannot apply (docs/SEMANTICS.md §4.3), and updates the counts.
    pub fn next(&mut self, prng: &mut Prng, kind: OpKind) -> FuzzOp {
        let kind = self.during_growth(kind);
        let op = self.choose(prng, kind);
        self.effect(&op);
        self.assert_invariants();
        op
    }

    /// Whether the growth phase is still on.
    pub fn is_growing(&self) -> bool {
        self.growing
    }

    /// `kind`, or an insert in its place while the growth phase is on and `kind` would
    /// shrink the level. The phase ends, for good, when the level first holds
    /// [`Params::growth_tables`] tables.
    fn during_growth(&mut self, kind: OpKind) -> OpKind {
        if self.growing && self.inserted >= self.params.growth_tables {
            self.growing = false;
        }
        let shrinks = matches!(
            kind,
            OpKind::RemoveVisible | OpKind::RemoveInvisible | OpKind::Reset | OpKind::Compact
        );
        if self.growing && shrinks {
            OpKind::InsertTables
        } else {
            kind
        }
    }

    /// Picks a valid op for the drawn `kind` (drawing its counts), without changing the
    /// counts.
    fn choose(&mut self, prng: &mut Prng, mut kind: OpKind) -> FuzzOp {
        // The fallbacks never cycle: the longest faithful chain is update -> insert (full)
        // -> remove visible (all retired) -> remove invisible (none yet) -> take snapshot;
        // with retained snapshots, remove invisible may end at release snapshot instead
        // (every retired table pinned, none live: some snapshot must be retained). The
        // extended kinds fall back to faithful kinds, to release/retain (which always
        // apply to each other), or to a misuse op that always applies.
        for _ in 0..OpKind::ALL.len() {
            match self.try_kind(prng, kind) {
                Pick::Op(op) => return op,
                Pick::FallBack(next) => kind = next,
            }
        }
        unreachable!("op kind fallbacks cycle (last tried: {kind:?})");
    }

    /// One step of [`GenerateContext::choose`]: the op for `kind` (drawing its counts),
    /// or the kind to try instead when `kind` cannot apply.
    fn try_kind(&mut self, prng: &mut Prng, kind: OpKind) -> Pick {
        match kind {
            OpKind::InsertTables => self.pick_insert(prng),
            OpKind::UpdateTables => self.pick_update(prng),
            OpKind::TakeSnapshot => Pick::Op(FuzzOp::TakeSnapshot),
            OpKind::RemoveInvisible => self.pick_remove_invisible(prng),
            OpKind::RemoveVisible => self.pick_remove_visible(prng),
            OpKind::RetainSnapshot => self.pick_retain(),
            OpKind::ReleaseSnapshot => self.pick_release(prng),
            OpKind::Compact => self.pick_compact(prng),
            OpKind::NextTableWalk => pick_next_table_walk(prng),
            OpKind::OverlapQuery => Pick::Op(FuzzOp::OverlapQuery),
            OpKind::LeastOverlap => Pick::Op(FuzzOp::LeastOverlap),
            OpKind::InsertTablesB => self.pick_insert_b(prng),
            OpKind::RemoveTablesB => self.pick_remove_b(prng),
            OpKind::Reset => Pick::Op(FuzzOp::Reset),
            OpKind::Rebuild => Pick::Op(FuzzOp::Rebuild),
            OpKind::MisuseStaleReference
            | OpKind::MisuseRemoveAbsent
            | OpKind::MisuseRetireRetired
            | OpKind::MisuseInvalidTable
            | OpKind::MisuseCapacityExhausted
            | OpKind::MisuseInvalidSnapshot => self.pick_misuse(kind),
        }
    }

    /// [`OpKind::InsertTables`]: `1..=min(room, insert_count_max)` tables; when full,
    /// a removal instead (of invisible tables if there are any).
    fn pick_insert(&mut self, prng: &mut Prng) -> Pick {
        let room = self.room();
        let insertable = room.min(self.params.insert_count_max);
        if insertable == 0 {
            // Full: some table must go first.
            if self.invisible > 0 {
                self.fallbacks.insert_to_remove_invisible += 1;
                return Pick::FallBack(OpKind::RemoveInvisible);
            }
            self.fallbacks.insert_to_remove_visible += 1;
            return Pick::FallBack(OpKind::RemoveVisible);
        }
        let count = prng.range_inclusive(1, u64::from(insertable)) as u32;
        Pick::Op(FuzzOp::InsertTables { count })
    }

    /// [`OpKind::UpdateTables`]: all or some live tables; with none, an insert instead.
    fn pick_update(&mut self, prng: &mut Prng) -> Pick {
        let visible_latest = self.visible_latest();
        if visible_latest == 0 {
            // Nothing live to retire: make more tables (when full, the insert fallback
            // removes or snapshots instead).
            self.fallbacks.update_to_insert += 1;
            return Pick::FallBack(OpKind::InsertTables);
        }
        let count = all_or_some(prng, visible_latest);
        Pick::Op(FuzzOp::UpdateTables { count })
    }

    /// [`OpKind::RemoveInvisible`]: all or some invisible tables; with none, whatever
    /// op makes some (insert, update, take a snapshot, or release a snapshot).
    fn pick_remove_invisible(&mut self, prng: &mut Prng) -> Pick {
        if self.invisible > 0 {
            let count = all_or_some(prng, self.invisible);
            return Pick::Op(FuzzOp::RemoveInvisible { count });
        }
        if self.inserted == 0 {
            // Empty level: insert (there is room).
            self.fallbacks.remove_invisible_to_insert += 1;
            Pick::FallBack(OpKind::InsertTables)
        } else if self.updated == 0 {
            if self.visible_latest() > 0 {
                // Everything is live: retire some.
                self.fallbacks.remove_invisible_to_update += 1;
                Pick::FallBack(OpKind::UpdateTables)
            } else {
                // Every table is pinned by a retained snapshot (extended op set only): a
                // reader must let go.
                Pick::FallBack(OpKind::ReleaseSnapshot)
            }
        } else {
            // Retired tables exist: a snapshot makes them invisible.
            self.fallbacks.remove_invisible_to_take_snapshot += 1;
            Pick::FallBack(OpKind::TakeSnapshot)
        }
    }

    /// [`OpKind::RemoveVisible`]: all or some live tables; with none, an insert (or,
    /// when full, a removal of invisible tables) instead.
    fn pick_remove_visible(&mut self, prng: &mut Prng) -> Pick {
        let visible_latest = self.visible_latest();
        if visible_latest == 0 {
            if self.inserted < self.params.table_count_max {
                self.fallbacks.remove_visible_to_insert += 1;
                return Pick::FallBack(OpKind::InsertTables);
            }
            // Full of retired tables: remove invisible ones (or, if all are updated,
            // that falls back to taking a snapshot).
            self.fallbacks.remove_visible_to_remove_invisible += 1;
            return Pick::FallBack(OpKind::RemoveInvisible);
        }
        let count = all_or_some(prng, visible_latest);
        Pick::Op(FuzzOp::RemoveVisible { count })
    }

    /// [`OpKind::RetainSnapshot`], or a release when [`RETAINED_MAX`] are retained.
    fn pick_retain(&self) -> Pick {
        if self.retained.len() == RETAINED_MAX {
            return Pick::FallBack(OpKind::ReleaseSnapshot);
        }
        Pick::Op(FuzzOp::RetainSnapshot)
    }

    /// [`OpKind::ReleaseSnapshot`] of the oldest (half the time) or a random retained
    /// snapshot, or a retain when none is retained.
    fn pick_release(&self, prng: &mut Prng) -> Pick {
        if self.retained.is_empty() {
            return Pick::FallBack(OpKind::RetainSnapshot);
        }
        // Readers mostly let go in the order they came (half the time the oldest), so
        // the floor keeps moving.
        let index = if prng.boolean() {
            0
        } else {
            prng.index(self.retained.len()) as u32
        };
        Pick::Op(FuzzOp::ReleaseSnapshot { index })
    }

    /// [`OpKind::Compact`]: `1..=min(live, COMPACT_INPUTS_MAX)` inputs into
    /// `1..=min(inputs, room)` outputs; with no live table an insert, with no room a
    /// removal of invisible tables instead.
    fn pick_compact(&self, prng: &mut Prng) -> Pick {
        let live = self.visible_latest();
        let room = self.room();
        if live == 0 {
            return Pick::FallBack(OpKind::InsertTables);
        }
        if room == 0 {
            return Pick::FallBack(OpKind::RemoveInvisible);
        }
        let inputs = prng.range_inclusive(1, u64::from(live.min(COMPACT_INPUTS_MAX)));
        let outputs = prng.range_inclusive(1, inputs.min(u64::from(room)));
        Pick::Op(FuzzOp::Compact {
            inputs: inputs as u32,
            outputs: outputs as u32,
        })
    }

    /// [`OpKind::InsertTablesB`]: `1..=min(room in B, insert_count_max)` tables, or a
    /// removal from B when it is full.
    fn pick_insert_b(&self, prng: &mut Prng) -> Pick {
        let room = self.params.level_b_capacity() - self.inserted_b;
        if room == 0 {
            return Pick::FallBack(OpKind::RemoveTablesB);
        }
        let insertable = room.min(self.params.insert_count_max);
        let count = prng.range_inclusive(1, u64::from(insertable)) as u32;
        Pick::Op(FuzzOp::InsertTablesB { count })
    }

    /// [`OpKind::RemoveTablesB`]: all or some of B's tables, or an insert into B when it
    /// is empty.
    fn pick_remove_b(&self, prng: &mut Prng) -> Pick {
        if self.inserted_b == 0 {
            return Pick::FallBack(OpKind::InsertTablesB);
        }
        let count = all_or_some(prng, self.inserted_b);
        Pick::Op(FuzzOp::RemoveTablesB { count })
    }

    /// A misuse op (no draws): the op itself when the state allows it, else a misuse op
    /// that always applies.
    fn pick_misuse(&self, kind: OpKind) -> Pick {
        let (applies, op, fallback) = match kind {
            OpKind::MisuseStaleReference => (
                self.stale_reference,
                FuzzOp::MisuseStaleReference,
                OpKind::MisuseRemoveAbsent,
            ),
            OpKind::MisuseRemoveAbsent => {
                (true, FuzzOp::MisuseRemoveAbsent, OpKind::MisuseRemoveAbsent)
            }
            OpKind::MisuseRetireRetired => (
                self.retired() > 0,
                FuzzOp::MisuseRetireRetired,
                OpKind::MisuseInvalidTable,
            ),
            OpKind::MisuseInvalidTable => {
                (true, FuzzOp::MisuseInvalidTable, OpKind::MisuseInvalidTable)
            }
            OpKind::MisuseCapacityExhausted => (
                self.inserted >= self.params.table_count_max,
                FuzzOp::MisuseCapacityExhausted,
                OpKind::MisuseInvalidTable,
            ),
            OpKind::MisuseInvalidSnapshot => (
                self.inserted > 0,
                FuzzOp::MisuseInvalidSnapshot,
                OpKind::MisuseInvalidTable,
            ),
            _ => unreachable!("{kind} is not a misuse kind"),
        };
        if applies {
            Pick::Op(op)
        } else {
            Pick::FallBack(fallback)
        }
    }

    /// Why `op` cannot apply in the current state, if it cannot.
    fn check(&self, op: &FuzzOp) -> Result<(), String> {
        if op.is_extended() && self.op_set == OpSet::Faithful {
            return Err("an extended op in a run of the faithful op set (--ops extended)".into());
        }
        if op.count() == Some(0) {
            return Err("count must be at least 1".into());
        }
        match *op {
            FuzzOp::InsertTables { count } => self.check_room(count),
            FuzzOp::UpdateTables { count } | FuzzOp::RemoveVisible { count } => {
                self.check_visible_latest(count)
            }
            FuzzOp::RemoveInvisible { count } => self.check_invisible(count),
            FuzzOp::RetainSnapshot | FuzzOp::ReleaseSnapshot { .. } => self.check_retained(op),
            FuzzOp::Compact { inputs, outputs } => self.check_compact(inputs, outputs),
            FuzzOp::InsertTablesB { .. } | FuzzOp::RemoveTablesB { .. } => self.check_level_b(op),
            FuzzOp::MisuseStaleReference
            | FuzzOp::MisuseRetireRetired
            | FuzzOp::MisuseCapacityExhausted
            | FuzzOp::MisuseInvalidSnapshot => self.check_misuse(op),
            FuzzOp::TakeSnapshot
            | FuzzOp::NextTableWalk { .. }
            | FuzzOp::OverlapQuery
            | FuzzOp::LeastOverlap
            | FuzzOp::Reset
            | FuzzOp::Rebuild
            | FuzzOp::MisuseRemoveAbsent
            | FuzzOp::MisuseInvalidTable => Ok(()),
        }
    }

    /// Tables the level still has room for.
    fn room(&self) -> u32 {
        self.params.table_count_max - self.inserted
    }

    /// Whether `count` more tables fit in the level.
    fn check_room(&self, count: u32) -> Result<(), String> {
        let room = self.room();
        if count > room {
            return Err(format!(
                "only room for {room} more table(s) (table_count_max {})",
                self.params.table_count_max
            ));
        }
        Ok(())
    }

    /// Whether `count` live tables exist (to retire or remove).
    fn check_visible_latest(&self, count: u32) -> Result<(), String> {
        let visible_latest = self.visible_latest();
        if count > visible_latest {
            return Err(format!("only {visible_latest} table(s) visible to latest"));
        }
        Ok(())
    }

    /// Whether `count` invisible tables exist (to remove).
    fn check_invisible(&self, count: u32) -> Result<(), String> {
        if count > self.invisible {
            return Err(format!("only {} invisible table(s)", self.invisible));
        }
        Ok(())
    }

    /// [`FuzzOp::RetainSnapshot`] below [`RETAINED_MAX`], [`FuzzOp::ReleaseSnapshot`] of a
    /// retained snapshot.
    fn check_retained(&self, op: &FuzzOp) -> Result<(), String> {
        match *op {
            FuzzOp::RetainSnapshot if self.retained.len() == RETAINED_MAX => {
                Err(format!("already {RETAINED_MAX} retained snapshots"))
            }
            FuzzOp::ReleaseSnapshot { index } if index as usize >= self.retained.len() => {
                Err(format!("only {} retained snapshot(s)", self.retained.len()))
            }
            _ => Ok(()),
        }
    }

    /// [`FuzzOp::Compact`]: at most [`COMPACT_INPUTS_MAX`] live inputs, `1..=inputs`
    /// outputs that fit in the level.
    fn check_compact(&self, inputs: u32, outputs: u32) -> Result<(), String> {
        let room = self.room();
        let visible_latest = self.visible_latest();
        if inputs > COMPACT_INPUTS_MAX || inputs > visible_latest {
            return Err(format!(
                "{inputs} inputs: at most {COMPACT_INPUTS_MAX}, and only \
                 {visible_latest} table(s) visible to latest"
            ));
        }
        if outputs == 0 || outputs > inputs || outputs > room {
            return Err(format!(
                "{outputs} outputs: must be 1..=inputs, and only room for {room}"
            ));
        }
        Ok(())
    }

    /// [`FuzzOp::InsertTablesB`] that fits in level B, [`FuzzOp::RemoveTablesB`] of tables
    /// it holds.
    fn check_level_b(&self, op: &FuzzOp) -> Result<(), String> {
        match *op {
            FuzzOp::InsertTablesB { count } => {
                let room_b = self.params.level_b_capacity() - self.inserted_b;
                if count > room_b {
                    return Err(format!("only room for {room_b} more table(s) in level B"));
                }
            }
            FuzzOp::RemoveTablesB { count } if count > self.inserted_b => {
                return Err(format!("only {} table(s) in level B", self.inserted_b));
            }
            _ => {}
        }
        Ok(())
    }

    /// The state a misuse op needs: a stale reference, a retired table, a full level, a
    /// table to retire.
    fn check_misuse(&self, op: &FuzzOp) -> Result<(), String> {
        match *op {
            FuzzOp::MisuseStaleReference if !self.stale_reference => {
                Err("no reference taken before a mutation yet".into())
            }
            FuzzOp::MisuseRetireRetired if self.retired() == 0 => Err("no retired table".into()),
            FuzzOp::MisuseCapacityExhausted if self.room() > 0 => {
                Err(format!("the level is not full (room for {})", self.room()))
            }
            FuzzOp::MisuseInvalidSnapshot if self.inserted == 0 => Err("no table to retire".into()),
            _ => Ok(()),
        }
    }

    /// Applies the counts of a valid op.
    fn effect(&mut self, op: &FuzzOp) {
        match *op {
            FuzzOp::InsertTables { count } => {
                self.note_mutation();
                self.inserted += count;
            }
            FuzzOp::UpdateTables { count } => self.updated += count,
            FuzzOp::TakeSnapshot => self.take_snapshot(),
            FuzzOp::RemoveInvisible { count } => {
                self.note_mutation();
                self.inserted -= count;
                self.invisible -= count;
            }
            FuzzOp::RemoveVisible { count } => {
                self.note_mutation();
                self.inserted -= count;
            }
            FuzzOp::RetainSnapshot => self.retained.push(self.snapshot),
            FuzzOp::ReleaseSnapshot { index } => {
                self.retained.remove(index as usize);
                self.unpin();
            }
            FuzzOp::Compact { inputs, outputs } => {
                self.note_mutation();
                self.updated += inputs;
                self.take_snapshot();
                self.inserted += outputs;
            }
            FuzzOp::InsertTablesB { count } => self.inserted_b += count,
            FuzzOp::RemoveTablesB { count } => self.inserted_b -= count,
            FuzzOp::Reset => {
                self.note_mutation();
                self.inserted = 0;
                self.updated = 0;
                self.invisible = 0;
                self.pinned.clear();
                self.pinned_total = 0;
            }
            // The same tables again: only the references change.
            FuzzOp::Rebuild => self.note_mutation(),
            FuzzOp::NextTableWalk { .. }
            | FuzzOp::OverlapQuery
            | FuzzOp::LeastOverlap
            | FuzzOp::MisuseStaleReference
            | FuzzOp::MisuseRemoveAbsent
            | FuzzOp::MisuseRetireRetired
            | FuzzOp::MisuseInvalidTable
            | FuzzOp::MisuseCapacityExhausted
            | FuzzOp::MisuseInvalidSnapshot => {}
        }
    }

    /// An op that bumps the level's generation is about to run: if the level holds a
    /// table, the environment takes a reference first, which is stale afterwards.
    fn note_mutation(&mut self) {
        if self.inserted > 0 {
            self.stale_reference = true;
        }
    }

    /// `snapshot += 1`: the tables retired at the old snapshot become invisible, or
    /// pinned when a retained snapshot is at or before it.
    fn take_snapshot(&mut self) {
        let retired_at = self.snapshot;
        self.snapshot += 1;
        if self.updated > 0 {
            if self.floor() <= retired_at {
                self.pinned.push((retired_at, self.updated));
                self.pinned_total += self.updated;
            } else {
                self.invisible += self.updated;
            }
            self.updated = 0;
        }
        self.unpin();
    }

    /// Moves the pinned tables retired before the floor to `invisible`.
    fn unpin(&mut self) {
        let floor = self.floor();
        let keep = self
            .pinned
            .partition_point(|&(snapshot, _)| snapshot < floor);
        for (_, count) in self.pinned.drain(..keep) {
            self.pinned_total -= count;
            self.invisible += count;
        }
    }

    /// Applies an explicit op to the counts, or explains why it cannot apply (count 0,
    /// more tables than the state has for it, an extended op in a faithful run, ...).
    /// `index` is only used in the error. On error the context is unchanged.
    pub fn apply(&mut self, index: usize, op: &FuzzOp) -> Result<(), InvalidOp> {
        if let Err(reason) = self.check(op) {
            return Err(InvalidOp {
                index,
                op: *op,
                reason,
            });
        }
        self.effect(op);
        self.assert_invariants();
        Ok(())
    }

    /// Panics unless `invisible <= inserted`, `invisible + updated + pinned <= inserted`
    /// and `inserted <= table_count_max`.
    pub fn assert_invariants(&self) {
        assert!(
            self.invisible <= self.inserted,
            "invisible {} > inserted {}",
            self.invisible,
            self.inserted
        );
        assert!(
            self.invisible + self.updated + self.pinned_total <= self.inserted,
            "invisible {} + updated {} + pinned {} > inserted {}",
            self.invisible,
            self.updated,
            self.pinned_total,
            self.inserted
        );
        assert!(
            self.inserted <= self.params.table_count_max,
            "inserted {} > table_count_max {}",
            self.inserted,
            self.params.table_count_max
        );
    }
}

/// One step of choosing an op: the op, or the kind to try instead.
enum Pick {
    /// The drawn kind applies: this op.
    Op(FuzzOp),
    /// The drawn kind cannot apply: try this kind.
    FallBack(OpKind),
}

/// [`OpKind::NextTableWalk`] in a direction drawn on a coin flip.
fn pick_next_table_walk(prng: &mut Prng) -> Pick {
    let direction = if prng.boolean() {
        WalkDirection::Descending
    } else {
        WalkDirection::Ascending
    };
    Pick::Op(FuzzOp::NextTableWalk { direction })
}

/// `n` itself or a uniform count in `1..=n`, on a coin flip (the seed's "all or some").
fn all_or_some(prng: &mut Prng, n: u32) -> u32 {
    debug_assert!(n > 0);
    if prng.boolean() {
        n
    } else {
        prng.range_inclusive(1, u64::from(n)) as u32
    }
}

/// Generates `count` ops: for each, draws a kind with `weights` and lets a fresh
/// [`GenerateContext`] turn it into a valid op. Weights with an extended kind switched on
/// generate for the extended op set.
pub fn generate_ops(
    prng: &mut Prng,
    count: usize,
    params: &Params,
    weights: &Weights,
) -> Vec<FuzzOp> {
    let op_set = if weights.has_extended() {
        OpSet::Extended
    } else {
        OpSet::Faithful
    };
    let mut context = GenerateContext::for_op_set(params, op_set);
    generate_more(&mut context, prng, count, weights)
}

/// Generates `count` more ops with an existing context (to inspect its counters after).
pub fn generate_more(
    context: &mut GenerateContext,
    prng: &mut Prng,
    count: usize,
    weights: &Weights,
) -> Vec<FuzzOp> {
    let mut ops = Vec::with_capacity(count);
    for _ in 0..count {
        let kind = weights.draw(prng);
        ops.push(context.next(prng, kind));
    }
    ops
}

/// Checks that every op of `ops` can apply in order, starting from an empty level; the op
/// set is the extended one when some op belongs to it.
pub fn validate_ops(params: &Params, ops: &[FuzzOp]) -> Result<(), InvalidOp> {
    let op_set = if ops.iter().any(FuzzOp::is_extended) {
        OpSet::Extended
    } else {
        OpSet::Faithful
    };
    validate_ops_for(params, op_set, ops)
}

/// Checks that every op of `ops` belongs to `op_set` and can apply in order, starting from
/// an empty level.
pub fn validate_ops_for(params: &Params, op_set: OpSet, ops: &[FuzzOp]) -> Result<(), InvalidOp> {
    let mut context = GenerateContext::for_op_set(params, op_set);
    for (index, op) in ops.iter().enumerate() {
        context.apply(index, op)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ops_validate() {
        for seed in 0..20 {
            let params = Params::with_table_count_max(1 + seed as u32 * 7);
            let mut prng = Prng::from_seed(seed);
            let ops = generate_ops(&mut prng, 2_000, &params, &Weights::SEED);
            assert_eq!(ops.len(), 2_000);
            validate_ops(&params, &ops).unwrap();
        }
    }

    #[test]
    fn apply_rejects_impossible_ops() {
        let params = Params::with_table_count_max(4);
        let mut context = GenerateContext::new(&params);
        let before = context.clone();
        for op in [
            FuzzOp::UpdateTables { count: 1 },
            FuzzOp::RemoveVisible { count: 1 },
            FuzzOp::RemoveInvisible { count: 1 },
            FuzzOp::InsertTables { count: 5 },
            FuzzOp::InsertTables { count: 0 },
        ] {
            let error = context.apply(3, &op).unwrap_err();
            assert_eq!((error.index, error.op), (3, op));
            assert_eq!(context, before);
        }
        context
            .apply(0, &FuzzOp::InsertTables { count: 4 })
            .unwrap();
        context
            .apply(1, &FuzzOp::UpdateTables { count: 3 })
            .unwrap();
        assert!(context
            .apply(2, &FuzzOp::RemoveInvisible { count: 1 })
            .is_err());
        context.apply(2, &FuzzOp::TakeSnapshot).unwrap();
        assert_eq!(
            (context.inserted(), context.updated(), context.invisible()),
            (4, 0, 3)
        );
        assert!(context
            .apply(3, &FuzzOp::RemoveVisible { count: 2 })
            .is_err());
        context
            .apply(3, &FuzzOp::RemoveVisible { count: 1 })
            .unwrap();
        context
            .apply(4, &FuzzOp::RemoveInvisible { count: 3 })
            .unwrap();
        assert_eq!(context.inserted(), 0);
    }

    #[test]
    fn extended_generation_validates_and_terminates() {
        for seed in 0..40 {
            let params = Params::with_table_count_max(1 + seed as u32 * 13);
            let mut prng = Prng::from_seed(seed);
            let ops = generate_ops(&mut prng, 3_000, &params, &Weights::EXTENDED);
            validate_ops_for(&params, OpSet::Extended, &ops).unwrap();
            validate_ops(&params, &ops).unwrap();
            if ops.iter().any(FuzzOp::is_extended) {
                assert!(validate_ops_for(&params, OpSet::Faithful, &ops).is_err());
            }
        }
    }

    #[test]
    fn retained_snapshots_pin_retired_tables() {
        let params = Params::with_table_count_max(20);
        let mut context = GenerateContext::for_op_set(&params, OpSet::Extended);
        let ops = [
            FuzzOp::InsertTables { count: 6 },
            FuzzOp::UpdateTables { count: 2 },
            FuzzOp::RetainSnapshot, // retains 1, which sees the two retired tables
            FuzzOp::TakeSnapshot,   // now 2
            FuzzOp::UpdateTables { count: 1 },
            FuzzOp::TakeSnapshot, // now 3
        ];
        for (index, op) in ops.iter().enumerate() {
            context.apply(index, op).unwrap();
        }
        assert_eq!(context.snapshot(), 3);
        assert_eq!(context.retained(), &[1]);
        assert_eq!((context.pinned(), context.invisible()), (3, 0));
        assert_eq!(context.visible_latest(), 3);
        let before = context.clone();
        assert!(context
            .apply(6, &FuzzOp::RemoveInvisible { count: 1 })
            .is_err());
        assert_eq!(context, before);
        // The reader lets go: every retired table is now invisible.
        context
            .apply(6, &FuzzOp::ReleaseSnapshot { index: 0 })
            .unwrap();
        assert_eq!((context.pinned(), context.invisible()), (0, 3));
        context
            .apply(7, &FuzzOp::RemoveInvisible { count: 3 })
            .unwrap();
        // Compaction: retire 2, snapshot, 1 replacement.
        context
            .apply(
                8,
                &FuzzOp::Compact {
                    inputs: 2,
                    outputs: 1,
                },
            )
            .unwrap();
        assert_eq!(context.snapshot(), 4);
        assert_eq!((context.inserted(), context.invisible()), (4, 2));
        assert!(context.has_stale_reference());
        context.apply(9, &FuzzOp::Reset).unwrap();
        assert_eq!(context.inserted(), 0);
        for op in [
            FuzzOp::ReleaseSnapshot { index: 0 },
            FuzzOp::Compact {
                inputs: 1,
                outputs: 1,
            },
            FuzzOp::MisuseRetireRetired,
            FuzzOp::MisuseInvalidSnapshot,
            FuzzOp::MisuseCapacityExhausted,
            FuzzOp::RemoveTablesB { count: 1 },
            FuzzOp::InsertTablesB { count: 21 },
        ] {
            assert!(context.apply(10, &op).is_err(), "{op}");
        }
        let mut faithful = GenerateContext::new(&params);
        assert!(faithful.apply(0, &FuzzOp::RetainSnapshot).is_err());
    }

    #[test]
    fn every_retained_snapshot_pinned_falls_back_to_release() {
        // A full level whose tables are all retired and pinned: only a release helps.
        let params = Params::with_table_count_max(2);
        let mut context = GenerateContext::for_op_set(&params, OpSet::Extended);
        for (index, op) in [
            FuzzOp::InsertTables { count: 2 },
            FuzzOp::RetainSnapshot,
            FuzzOp::UpdateTables { count: 2 },
            FuzzOp::TakeSnapshot,
        ]
        .iter()
        .enumerate()
        {
            context.apply(index, op).unwrap();
        }
        let mut prng = Prng::from_seed(3);
        for kind in [
            OpKind::InsertTables,
            OpKind::RemoveVisible,
            OpKind::RemoveInvisible,
        ] {
            let mut copy = context.clone();
            let op = copy.next(&mut prng, kind);
            assert_eq!(op, FuzzOp::ReleaseSnapshot { index: 0 }, "{kind}");
        }
    }

    #[test]
    fn full_level_falls_back_to_removal() {
        let params = Params::with_table_count_max(2);
        let mut context = GenerateContext::new(&params);
        context
            .apply(0, &FuzzOp::InsertTables { count: 2 })
            .unwrap();
        let mut prng = Prng::from_seed(7);
        let op = context.next(&mut prng, OpKind::InsertTables);
        assert_eq!(op.kind(), OpKind::RemoveVisible);
        assert_eq!(context.fallbacks().insert_to_remove_visible, 1);
    }
}

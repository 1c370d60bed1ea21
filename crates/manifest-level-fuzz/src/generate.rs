//! Op generation (spec §4.3): turning weighted draws into a valid op sequence.
//!
//! Generation runs entirely ahead of execution and needs no level: the
//! [`GenerateContext`] tracks how many tables are inserted, updated (retired at the current
//! snapshot) and invisible (retired at an earlier snapshot), and turns a drawn
//! [`OpKind`] into an op that can apply in that state, falling back to another kind when
//! it cannot. The same context validates explicit op lists
//! ([`GenerateContext::apply`], [`validate_ops`]), so a trace or a shrunk sequence is
//! accepted only if every op can apply.

use core::fmt;

use serde::{Deserialize, Serialize};

use crate::ops::{FuzzOp, OpKind, Weights};
use crate::prng::Prng;

/// The seed's table limit per level.
pub const TABLE_COUNT_MAX_DEFAULT: u32 = 1024;

/// The most tables one [`FuzzOp::InsertTables`] inserts.
pub const INSERT_COUNT_MAX: u32 = 10;

/// Generation parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Params {
    /// The most tables in the level at any time (the level's capacity).
    pub table_count_max: u32,
    /// The most tables one insert op generates ([`INSERT_COUNT_MAX`] in the seed).
    pub insert_count_max: u32,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            table_count_max: TABLE_COUNT_MAX_DEFAULT,
            insert_count_max: INSERT_COUNT_MAX,
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

/// The generator's view of the level (spec §4.3): counts only, no tables.
///
/// - `inserted`: tables in the level;
/// - `updated`: tables retired at the current snapshot (still visible to it);
/// - `invisible`: tables retired at an earlier snapshot (visible to nobody);
/// - `visible_latest = inserted - invisible - updated`: live tables.
///
/// Invariants after every op: `invisible <= inserted` and
/// `invisible + updated <= inserted`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenerateContext {
    params: Params,
    inserted: u32,
    updated: u32,
    invisible: u32,
    fallbacks: FallbackCounts,
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
        }
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

    /// Live tables: `inserted - invisible - updated`.
    pub fn visible_latest(&self) -> u32 {
        self.inserted - self.invisible - self.updated
    }

    /// How often each fallback was taken so far.
    pub fn fallbacks(&self) -> &FallbackCounts {
        &self.fallbacks
    }

    /// Turns the drawn `kind` into a valid op, falling back to another kind when it
    /// cannot apply (spec §4.3), and updates the counts.
    pub fn next(&mut self, prng: &mut Prng, kind: OpKind) -> FuzzOp {
        let op = self.choose(prng, kind);
        self.assert_invariants();
        op
    }

    fn choose(&mut self, prng: &mut Prng, mut kind: OpKind) -> FuzzOp {
        // The fallbacks never cycle: the longest chain is update -> insert (full) ->
        // remove visible (all retired) -> remove invisible (none yet) -> take snapshot.
        loop {
            match kind {
                OpKind::InsertTables => {
                    let room = self.params.table_count_max - self.inserted;
                    let insertable = room.min(self.params.insert_count_max);
                    if insertable == 0 {
                        // Full: some table must go first.
                        if self.invisible > 0 {
                            self.fallbacks.insert_to_remove_invisible += 1;
                            kind = OpKind::RemoveInvisible;
                        } else {
                            self.fallbacks.insert_to_remove_visible += 1;
                            kind = OpKind::RemoveVisible;
                        }
                        continue;
                    }
                    let count = prng.range_inclusive(1, u64::from(insertable)) as u32;
                    self.inserted += count;
                    return FuzzOp::InsertTables { count };
                }
                OpKind::UpdateTables => {
                    let visible_latest = self.visible_latest();
                    if visible_latest == 0 {
                        // Nothing live to retire: make more tables (when full, the
                        // insert fallback removes or snapshots instead).
                        self.fallbacks.update_to_insert += 1;
                        kind = OpKind::InsertTables;
                        continue;
                    }
                    let count = all_or_some(prng, visible_latest);
                    self.updated += count;
                    return FuzzOp::UpdateTables { count };
                }
                OpKind::TakeSnapshot => {
                    self.invisible += self.updated;
                    self.updated = 0;
                    return FuzzOp::TakeSnapshot;
                }
                OpKind::RemoveInvisible => {
                    if self.invisible == 0 {
                        if self.inserted == 0 {
                            // Empty level: insert (there is room).
                            self.fallbacks.remove_invisible_to_insert += 1;
                            kind = OpKind::InsertTables;
                        } else if self.updated == 0 {
                            // Everything is live: retire some (visible_latest > 0).
                            self.fallbacks.remove_invisible_to_update += 1;
                            kind = OpKind::UpdateTables;
                        } else {
                            // Retired tables exist: a snapshot makes them invisible.
                            self.fallbacks.remove_invisible_to_take_snapshot += 1;
                            kind = OpKind::TakeSnapshot;
                        }
                        continue;
                    }
                    let count = all_or_some(prng, self.invisible);
                    self.inserted -= count;
                    self.invisible -= count;
                    return FuzzOp::RemoveInvisible { count };
                }
                OpKind::RemoveVisible => {
                    let visible_latest = self.visible_latest();
                    if visible_latest == 0 {
                        if self.inserted < self.params.table_count_max {
                            self.fallbacks.remove_visible_to_insert += 1;
                            kind = OpKind::InsertTables;
                        } else {
                            // Full of retired tables: remove invisible ones (or, if all
                            // are updated, that falls back to taking a snapshot).
                            self.fallbacks.remove_visible_to_remove_invisible += 1;
                            kind = OpKind::RemoveInvisible;
                        }
                        continue;
                    }
                    let count = all_or_some(prng, visible_latest);
                    self.inserted -= count;
                    return FuzzOp::RemoveVisible { count };
                }
            }
        }
    }

    /// Applies an explicit op to the counts, or explains why it cannot apply (count 0,
    /// or more tables than the state has for it). `index` is only used in the error.
    /// On error the context is unchanged.
    pub fn apply(&mut self, index: usize, op: &FuzzOp) -> Result<(), InvalidOp> {
        let invalid = |reason: String| InvalidOp {
            index,
            op: *op,
            reason,
        };
        if op.count() == Some(0) {
            return Err(invalid("count must be at least 1".into()));
        }
        match *op {
            FuzzOp::InsertTables { count } => {
                let room = self.params.table_count_max - self.inserted;
                if count > room {
                    return Err(invalid(format!(
                        "only room for {room} more table(s) (table_count_max {})",
                        self.params.table_count_max
                    )));
                }
                self.inserted += count;
            }
            FuzzOp::UpdateTables { count } => {
                let visible_latest = self.visible_latest();
                if count > visible_latest {
                    return Err(invalid(format!(
                        "only {visible_latest} table(s) visible to latest"
                    )));
                }
                self.updated += count;
            }
            FuzzOp::TakeSnapshot => {
                self.invisible += self.updated;
                self.updated = 0;
            }
            FuzzOp::RemoveInvisible { count } => {
                if count > self.invisible {
                    return Err(invalid(format!(
                        "only {} invisible table(s)",
                        self.invisible
                    )));
                }
                self.inserted -= count;
                self.invisible -= count;
            }
            FuzzOp::RemoveVisible { count } => {
                let visible_latest = self.visible_latest();
                if count > visible_latest {
                    return Err(invalid(format!(
                        "only {visible_latest} table(s) visible to latest"
                    )));
                }
                self.inserted -= count;
            }
        }
        self.assert_invariants();
        Ok(())
    }

    /// Panics unless `invisible <= inserted`, `invisible + updated <= inserted` and
    /// `inserted <= table_count_max`.
    pub fn assert_invariants(&self) {
        assert!(
            self.invisible <= self.inserted,
            "invisible {} > inserted {}",
            self.invisible,
            self.inserted
        );
        assert!(
            self.invisible + self.updated <= self.inserted,
            "invisible {} + updated {} > inserted {}",
            self.invisible,
            self.updated,
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
/// [`GenerateContext`] turn it into a valid op.
pub fn generate_ops(
    prng: &mut Prng,
    count: usize,
    params: &Params,
    weights: &Weights,
) -> Vec<FuzzOp> {
    let mut context = GenerateContext::new(params);
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

/// Checks that every op of `ops` can apply in order, starting from an empty level.
pub fn validate_ops(params: &Params, ops: &[FuzzOp]) -> Result<(), InvalidOp> {
    let mut context = GenerateContext::new(params);
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

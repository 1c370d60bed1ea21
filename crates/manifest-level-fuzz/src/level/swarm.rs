//! Swarm testing (`--swarm`): every seed draws its own op weights.
//!
//! Fixed weights make every run look alike: the same mix of ops, the same typical level
//! sizes and shapes. Swarm testing (Groce et al., "Swarm Testing", ISSTA 2012) gives each
//! seed its own configuration, switching some ops off entirely, so that some runs reach
//! states the fixed mix rarely reaches (a level that only grows, snapshots that are never
//! taken, retained snapshots that pile up, ...).
//!
//! For each kind of the op set, in [`OpKind::ALL`] order, [`swarm_weights`] draws a weight
//! `1..=10` (times [`SWARM_SCALE`], 100, for every kind but [`OpKind::Reset`] and
//! [`OpKind::Rebuild`]: a reset empties the level, and at the others' weights it would
//! keep every level tiny; a rebuild costs O(n log n)), then
//! switches the kind off with probability 1/3. Two kinds are forced on:
//!
//! - [`OpKind::InsertTables`]: without inserts a run would mostly run the generator's
//!   fallbacks on an empty level (it stays valid, but degenerate);
//! - [`OpKind::InsertTablesB`] when [`OpKind::LeastOverlap`] or [`OpKind::RemoveTablesB`]
//!   is on: against an always empty level B, `table_with_least_overlap` would only ever
//!   see zero overlaps.
//!
//! So the weights are never all zero. Kinds that are off may still run when the
//! generator falls back to them (an update with nothing live inserts instead, ...).
//! The draws come from the seed's own swarm stream, so the weights are a function of the
//! seed and the op set alone, and do not disturb the draws of the ops or the tables.

use crate::level::ops::{OpKind, OpSet, Weights, KIND_COUNT};
use crate::support::prng::Prng;

/// The largest weight a swarm draws, before scaling.
pub const SWARM_WEIGHT_MAX: u64 = 10;

/// What every drawn weight but [`OpKind::Reset`]'s is multiplied by.
pub const SWARM_SCALE: u64 = 100;

/// The scale of `kind`'s drawn weight.
fn scale(kind: OpKind) -> u64 {
    if matches!(kind, OpKind::Reset | OpKind::Rebuild) {
        1
    } else {
        SWARM_SCALE
    }
}

/// The weights of one swarm run of `op_set`, drawn from `prng` (see the [module
/// docs](self)). Kinds outside the op set get weight 0.
pub fn swarm_weights(prng: &mut Prng, op_set: OpSet) -> Weights {
    let mut weights = [0u64; KIND_COUNT];
    for &kind in op_set.kinds() {
        let weight = prng.range_inclusive(1, SWARM_WEIGHT_MAX) * scale(kind);
        let off = prng.chance(1, 3);
        weights[kind.index()] = if off { 0 } else { weight };
    }
    let mut force_on = |kind: OpKind, weights: &mut [u64; KIND_COUNT]| {
        if weights[kind.index()] == 0 {
            weights[kind.index()] = prng.range_inclusive(1, SWARM_WEIGHT_MAX) * scale(kind);
        }
    };
    force_on(OpKind::InsertTables, &mut weights);
    if op_set == OpSet::Extended
        && (weights[OpKind::LeastOverlap.index()] > 0 || weights[OpKind::RemoveTablesB.index()] > 0)
    {
        force_on(OpKind::InsertTablesB, &mut weights);
    }
    Weights::from_all(weights)
}

/// `on: insert_tables=7 take_snapshot=2 ...; off: update_tables, ...`: which kinds of
/// `op_set` a run's weights switch on and off.
pub fn describe(weights: &Weights, op_set: OpSet) -> String {
    let mut on = Vec::new();
    let mut off = Vec::new();
    for &kind in op_set.kinds() {
        match weights.get(kind) {
            0 => off.push(kind.name().to_string()),
            weight => on.push(format!("{kind}={weight}")),
        }
    }
    let off = if off.is_empty() {
        "none".to_string()
    } else {
        off.join(", ")
    };
    format!("on: {}; off: {off}", on.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forced_kinds_and_describe() {
        for seed in 0..200 {
            for op_set in [OpSet::Faithful, OpSet::Extended] {
                let weights = swarm_weights(&mut Prng::from_seed(seed), op_set);
                assert!(weights.is_valid());
                assert!(weights.insert_tables > 0);
                assert_eq!(weights.has_extended(), op_set == OpSet::Extended);
                if weights.least_overlap > 0 || weights.remove_tables_b > 0 {
                    assert!(weights.insert_tables_b > 0);
                }
                assert!(weights
                    .all()
                    .iter()
                    .all(|&w| w <= SWARM_WEIGHT_MAX * SWARM_SCALE));
                assert!(weights.reset <= SWARM_WEIGHT_MAX);
                assert!(weights.rebuild <= SWARM_WEIGHT_MAX);
            }
        }
        let weights = Weights::from_faithful([3, 0, 1, 0, 2]);
        assert_eq!(
            describe(&weights, OpSet::Faithful),
            "on: insert_tables=3 take_snapshot=1 remove_visible=2; off: update_tables, remove_invisible"
        );
        assert_eq!(
            describe(&Weights::SEED, OpSet::Faithful),
            "on: insert_tables=8 update_tables=5 take_snapshot=3 remove_invisible=3 remove_visible=3; off: none"
        );
    }
}

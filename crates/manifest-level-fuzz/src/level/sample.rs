//! Random choices shared by the extended ops and the deep checks: a snapshot to query at,
//! a key range to query, a key to probe. Each takes the stream to draw from, so the
//! extended ops (their own query stream) and the deep checks (theirs) never disturb the
//! draws that decide the run's tables.

use manifest_level::{KeyRange, SNAPSHOT_LATEST};

use crate::level::model::{Key, Table};
use crate::support::prng::Prng;

/// A snapshot to query at: latest, the current one, a retained one, or any snapshot
/// issued so far (`1..=current`), with equal probability (a retained one only when some
/// is retained; the current one instead).
pub fn pick_snapshot(prng: &mut Prng, current: u64, retained: &[u64]) -> u64 {
    match prng.int_inclusive(3) {
        0 => SNAPSHOT_LATEST,
        1 => current,
        2 if !retained.is_empty() => retained[prng.index(retained.len())],
        2 => current,
        _ => prng.range_inclusive(1, current),
    }
}

/// A key range to query, biased toward the edges of existing tables (where off-by-one
/// bugs live): around one table, a point on or next to a table edge, the span between two
/// tables, or a random range of the key space (`0..=key_space`, usually narrow, sometimes
/// wide). `tables` may be empty.
pub fn pick_range(prng: &mut Prng, tables: &[Table], key_space: Key) -> KeyRange<Key> {
    let mut kind = prng.int_inclusive(3);
    if tables.is_empty() {
        kind = 3;
    }
    let (a, b) = match kind {
        0 => {
            let table = &tables[prng.index(tables.len())];
            let below = nudge(prng);
            let above = nudge(prng);
            (
                table.key_min.saturating_sub(below),
                table.key_max.saturating_add(above),
            )
        }
        1 => {
            let key = pick_edge_key(prng, tables);
            (key, key)
        }
        2 => {
            let first = &tables[prng.index(tables.len())];
            let second = &tables[prng.index(tables.len())];
            (first.key_max, second.key_min)
        }
        _ => {
            let start = prng.int_inclusive(key_space + 64);
            let width = if prng.chance(1, 8) {
                prng.int_inclusive(key_space)
            } else {
                prng.int_inclusive(64)
            };
            (start, start.saturating_add(width))
        }
    };
    KeyRange::new(a.min(b), a.max(b)).expect("ordered")
}

/// A key on or next to an edge of a random table (or a random key of `0..=4096` when
/// there is no table).
pub fn pick_edge_key(prng: &mut Prng, tables: &[Table]) -> Key {
    if tables.is_empty() {
        return prng.int_inclusive(4096);
    }
    let table = &tables[prng.index(tables.len())];
    let edge = if prng.boolean() {
        table.key_min
    } else {
        table.key_max
    };
    match prng.int_inclusive(3) {
        0 => edge.saturating_sub(1),
        1 => edge.saturating_add(1),
        _ => edge,
    }
}

/// 0 (half the time), 1, or up to 64.
fn nudge(prng: &mut Prng) -> Key {
    match prng.int_inclusive(3) {
        0 | 1 => 0,
        2 => 1,
        _ => prng.int_inclusive(64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_stay_in_their_domains() {
        let mut prng = Prng::from_seed(5);
        let tables = [
            Table::new(1, 1, 1, 0, 0, 64),
            Table::new(2, 2, 1, 10, 20, 64),
            Table::new(3, 3, 2, u64::MAX - 1, u64::MAX, 64),
        ];
        let mut kinds = [false; 3];
        for _ in 0..2_000 {
            let snapshot = pick_snapshot(&mut prng, 7, &[3, 5]);
            assert!(snapshot == SNAPSHOT_LATEST || (1..=7).contains(&snapshot));
            kinds[0] |= snapshot == SNAPSHOT_LATEST;
            kinds[1] |= snapshot == 3;
            let range = pick_range(&mut prng, &tables, 1_000);
            assert!(range.key_min() <= range.key_max());
            kinds[2] |= range.key_min() == range.key_max();
            let snapshot = pick_snapshot(&mut prng, 1, &[]);
            assert!(snapshot == SNAPSHOT_LATEST || snapshot == 1);
            assert!(pick_range(&mut prng, &[], 0).key_min() <= 64);
        }
        assert_eq!(kinds, [true; 3]);
    }
}

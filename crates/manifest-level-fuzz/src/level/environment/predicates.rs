//! The library's own predicates, asked directly and held to the oracle's answers.
//!
//! The checkers never take an expected answer from the library's predicates
//! (`TableInfo::visible`, `Query::matches`, `KeyRange::intersects`, ...): they compute it
//! with [`crate::level::oracle`]. The predicates are public API all the same, and a
//! storage engine calls them, so after every deep-checked op [`check_predicates`] asks
//! them about [`TABLES_PER_OP`] random model tables, random snapshots, a random key range
//! and a random key, and compares each answer with the oracle's. The level's key type is
//! used throughout (the model's keys embedded), so `u128` keys are asked too.
//!
//! Their random choices come from a stream of their own, so adding them moved none of the
//! deep checker's other draws.

use manifest_level::{Direction, Key as LevelKey, KeyRange, Query, TableInfo};

use super::{Check, CheckFailure, Environment};
use crate::level::key::{embed_range, embed_table, FuzzKey};
use crate::level::oracle;
use crate::level::sample::{pick_edge_key, pick_range, pick_snapshot};
use crate::support::prng::Prng;

/// Model tables whose predicates are asked per op.
pub const TABLES_PER_OP: usize = 2;

/// A failed predicate: what was asked, the oracle's answer and the library's.
fn disagree(
    asked: String,
    oracle: impl core::fmt::Debug,
    library: impl core::fmt::Debug,
) -> CheckFailure {
    CheckFailure::described(
        Check::Predicate,
        format!("{oracle:?} for {asked}"),
        format!("{library:?}"),
    )
}

/// Asks the library's predicates about [`TABLES_PER_OP`] random tables of `env`'s model
/// (see the [module docs](self)).
pub fn check_predicates<K: FuzzKey>(
    prng: &mut Prng,
    env: &Environment<'_, K>,
) -> Result<(), CheckFailure> {
    check_directions()?;
    check_key_ranges::<K>(prng, env)?;
    let tables = env.model().tables();
    if tables.is_empty() {
        return Ok(());
    }
    for _ in 0..TABLES_PER_OP {
        let table = embed_table::<K>(&tables[prng.index(tables.len())]);
        let other = embed_table::<K>(&tables[prng.index(tables.len())]);
        let snapshots = [
            pick_snapshot(prng, env.snapshot(), env.retained()),
            pick_snapshot(prng, env.snapshot(), env.retained()),
        ];
        let range = embed_range::<K>(pick_range(prng, tables, env.key_space()));
        check_table(&table, &other, &snapshots, &range)?;
        check_query(&table, &snapshots, &range)?;
    }
    Ok(())
}

/// `Direction::reverse` swaps the two directions.
fn check_directions() -> Result<(), CheckFailure> {
    for direction in [Direction::Ascending, Direction::Descending] {
        let reversed = direction.reverse();
        if reversed == direction || reversed.reverse() != direction {
            return Err(disagree(
                format!("{direction:?}.reverse()"),
                "the other direction",
                reversed,
            ));
        }
    }
    Ok(())
}

/// `KeyRange`'s constructors and predicates on two random keys (a table edge or next to
/// one) and a random range.
fn check_key_ranges<K: FuzzKey>(
    prng: &mut Prng,
    env: &Environment<'_, K>,
) -> Result<(), CheckFailure> {
    let tables = env.model().tables();
    let a = K::embed(pick_edge_key(prng, tables));
    let b = K::embed(pick_edge_key(prng, tables));
    let built = KeyRange::new(a, b);
    if built.is_ok() != (a <= b) || built.is_ok_and(|r| (r.key_min(), r.key_max()) != (a, b)) {
        return Err(disagree(
            format!("KeyRange::new({a:?}, {b:?})"),
            a <= b,
            built,
        ));
    }
    let point = KeyRange::point(a);
    let full = KeyRange::<K>::full();
    let edges = [
        (point.key_min(), point.key_max()),
        (full.key_min(), full.key_max()),
    ];
    if edges != [(a, a), (K::MIN, K::MAX)] {
        return Err(disagree(
            format!("KeyRange::point({a:?}), KeyRange::full()"),
            [(a, a), (K::MIN, K::MAX)],
            edges,
        ));
    }
    let range = embed_range::<K>(pick_range(prng, tables, env.key_space()));
    let other = KeyRange::new(a.min(b), a.max(b)).expect("ordered");
    let expected = (
        oracle::range_contains(&range, a),
        oracle::range_contains(&point, a),
        range.key_min() <= other.key_max() && other.key_min() <= range.key_max(),
        (
            range.key_min().min(other.key_min()),
            range.key_max().max(other.key_max()),
        ),
    );
    let union = range.union(&other);
    let found = (
        range.contains(a),
        point.contains(a),
        range.intersects(&other),
        (union.key_min(), union.key_max()),
    );
    if found != expected {
        return Err(disagree(
            format!(
                "contains({a:?}), point contains, intersects and union of {range:?} and {other:?}"
            ),
            expected,
            found,
        ));
    }
    // `from_u64` then `to_u128` keeps a key that fits the type.
    let key = u64::from(prng.next_u32());
    let back = K::from_u64(key).to_u128();
    if back != u128::from(key) {
        return Err(disagree(format!("from_u64({key}).to_u128()"), key, back));
    }
    Ok(())
}

/// `TableInfo`'s predicates on `table`, against `other` (another model table, maybe the
/// same), two snapshots and a key range.
fn check_table<K: LevelKey>(
    table: &TableInfo<K>,
    other: &TableInfo<K>,
    snapshots: &[u64; 2],
    range: &KeyRange<K>,
) -> Result<(), CheckFailure> {
    let mut changed = *table;
    changed.address = changed.address.wrapping_add(1).max(1);
    let expected = (
        snapshots.map(|snapshot| oracle::sees(snapshot, table)),
        oracle::seen_by_any(snapshots, table),
        oracle::invisible(snapshots, table),
        oracle::is_live(table),
        oracle::intersects(table, range),
        (table.key_min, table.key_max),
        (
            oracle::same_fields(table, other),
            oracle::same_fields(table, &changed),
        ),
        oracle::same_identity(table, other),
    );
    let key_range = table.key_range();
    let found = (
        snapshots.map(|snapshot| table.visible(snapshot)),
        table.visible_to_any(snapshots),
        table.invisible(snapshots),
        table.is_live(),
        table.intersects(range),
        (key_range.key_min(), key_range.key_max()),
        (table.equal(other), table.equal(&changed)),
        table.same_identity(other),
    );
    if found != expected || table.validate().is_err() {
        return Err(disagree(
            format!("the predicates of {table:?} (snapshots {snapshots:?}, range {range:?}, other {other:?})"),
            expected,
            found,
        ));
    }
    Ok(())
}

/// `Query::matches` and `matches_visibility` of both visibilities of `snapshots`, with
/// and without `range`.
fn check_query<K: LevelKey>(
    table: &TableInfo<K>,
    snapshots: &[u64; 2],
    range: &KeyRange<K>,
) -> Result<(), CheckFailure> {
    for query in [Query::visible(snapshots), Query::invisible(snapshots)] {
        for query in [query, query.within(*range)] {
            let expected = (
                oracle::query_matches(&query, table),
                oracle::in_class(query.visibility, query.snapshots, table),
            );
            let found = (query.matches(table), query.matches_visibility(table));
            if found != expected {
                return Err(disagree(format!("{query:?} on {table:?}"), expected, found));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use manifest_level::SNAPSHOT_LATEST;

    fn table(snapshot_min: u64, snapshot_max: u64, key_min: u64, key_max: u64) -> TableInfo<u64> {
        TableInfo {
            checksum: 9,
            address: 7,
            snapshot_min,
            snapshot_max,
            key_min,
            key_max,
            value_count: 3,
        }
    }

    #[test]
    fn the_library_agrees_with_the_oracle_on_random_tables() {
        let mut prng = Prng::from_seed(5);
        for _ in 0..2_000 {
            let key_min = prng.int_inclusive(100);
            let snapshot_min = prng.range_inclusive(1, 20);
            let snapshot_max = match prng.int_inclusive(2) {
                0 => manifest_level::SNAPSHOT_MAX_LIVE,
                _ => prng.range_inclusive(snapshot_min, 30),
            };
            let a = table(
                snapshot_min,
                snapshot_max,
                key_min,
                key_min + prng.int_inclusive(10),
            );
            let b = table(
                snapshot_min,
                snapshot_max,
                key_min,
                key_min + prng.int_inclusive(10),
            );
            let snapshots = [prng.range_inclusive(1, 30), SNAPSHOT_LATEST];
            let low = prng.int_inclusive(110);
            let range = KeyRange::new(low, low + prng.int_inclusive(20)).unwrap();
            check_table(&a, &b, &snapshots, &range).unwrap();
            check_query(&a, &snapshots, &range).unwrap();
        }
        check_directions().unwrap();
    }

    #[test]
    fn a_malformed_table_fails_the_check() {
        let range = KeyRange::new(0, 10).unwrap();
        let malformed = TableInfo {
            address: 0,
            ..table(1, 5, 2, 3)
        };
        let failure = check_table(&malformed, &malformed, &[1, 2], &range).unwrap_err();
        assert_eq!(failure.what, Check::Predicate, "{failure}");
    }
}

//! The model's own answers to the level's predicates: visibility, key-range intersection,
//! identity.
//!
//! The checkers compute what the level *should* answer with these functions, never with
//! the library's own predicates (`TableInfo::visible`, `TableInfo::invisible`,
//! `Query::matches`, `KeyRange::contains`, `KeyRange::intersects`, ...): a bug in one of
//! those would otherwise sit on both sides of the comparison and go unseen. Each function
//! restates one rule of docs/SEMANTICS.md from the table's fields alone. The library's
//! types are used as plain data only (fields and accessors, and `KeyRange::new` to build
//! an expected range).

use manifest_level::{
    Key, KeyRange, Query, TableInfo, Visibility, SNAPSHOT_LATEST, SNAPSHOT_MAX_LIVE,
};

/// Whether snapshot `snapshot` sees `table`: `snapshot_min <= snapshot <= snapshot_max`,
/// both ends inclusive (a table retired at `m` is still seen by snapshot `m`).
pub fn sees<K>(snapshot: u64, table: &TableInfo<K>) -> bool {
    table.snapshot_min <= snapshot && snapshot <= table.snapshot_max
}

/// Whether at least one of `snapshots` sees `table` (never, for an empty set).
pub fn seen_by_any<K>(snapshots: &[u64], table: &TableInfo<K>) -> bool {
    snapshots.iter().any(|&snapshot| sees(snapshot, table))
}

/// Whether no reader sees `table`: neither [`SNAPSHOT_LATEST`] nor any of `snapshots`
/// (with an empty set: latest does not see it). Only such a table may be removed.
pub fn invisible<K>(snapshots: &[u64], table: &TableInfo<K>) -> bool {
    !sees(SNAPSHOT_LATEST, table) && !seen_by_any(snapshots, table)
}

/// Whether `table` belongs to the visibility class `visibility` of `snapshots`: seen by
/// one of them ([`Visibility::Visible`]) or by no reader ([`Visibility::Invisible`]).
pub fn in_class<K>(visibility: Visibility, snapshots: &[u64], table: &TableInfo<K>) -> bool {
    match visibility {
        Visibility::Visible => seen_by_any(snapshots, table),
        Visibility::Invisible => invisible(snapshots, table),
    }
}

/// Whether `table` was never retired: `snapshot_max` is [`SNAPSHOT_MAX_LIVE`].
pub fn is_live<K>(table: &TableInfo<K>) -> bool {
    table.snapshot_max == SNAPSHOT_MAX_LIVE
}

/// Whether `key` lies in `range`, both ends inclusive.
pub fn range_contains<K: Key>(range: &KeyRange<K>, key: K) -> bool {
    range.key_min() <= key && key <= range.key_max()
}

/// Whether `table`'s keys `[key_min, key_max]` and `range` share a key.
pub fn intersects<K: Key>(table: &TableInfo<K>, range: &KeyRange<K>) -> bool {
    table.key_min <= range.key_max() && range.key_min() <= table.key_max
}

/// Whether the keys of tables `a` and `b` share a key.
pub fn tables_intersect<K: Key>(a: &TableInfo<K>, b: &TableInfo<K>) -> bool {
    a.key_min <= b.key_max && b.key_min <= a.key_max
}

/// Whether `table` passes `query`'s filters: its visibility class and, when set, its key
/// range. The query is read as data (its fields), not asked.
pub fn query_matches<K: Key>(query: &Query<'_, K>, table: &TableInfo<K>) -> bool {
    in_class(query.visibility, query.snapshots, table)
        && query
            .key_range
            .is_none_or(|range| intersects(table, &range))
}

/// `table`'s keys as a range.
///
/// # Panics
///
/// If `key_min > key_max` (a malformed table).
pub fn table_range<K: Key>(table: &TableInfo<K>) -> KeyRange<K> {
    KeyRange::new(table.key_min, table.key_max).expect("a well-formed table")
}

/// The smallest range covering `range` and `table`'s keys.
pub fn cover<K: Key>(range: KeyRange<K>, table: &TableInfo<K>) -> KeyRange<K> {
    let key_min = range.key_min().min(table.key_min);
    let key_max = range.key_max().max(table.key_max);
    KeyRange::new(key_min, key_max).expect("min <= max")
}

/// Whether `a` and `b` are the same table up to `snapshot_max` (what `find` matches on):
/// same `key_max`, `snapshot_min`, `address` and `checksum`.
pub fn same_identity<K: Key>(a: &TableInfo<K>, b: &TableInfo<K>) -> bool {
    a.key_max == b.key_max
        && a.snapshot_min == b.snapshot_min
        && a.address == b.address
        && a.checksum == b.checksum
}

/// Whether `a` and `b` agree in all seven fields (the model's own comparison, not the
/// library's `PartialEq`).
pub fn same_fields<K: Key>(a: &TableInfo<K>, b: &TableInfo<K>) -> bool {
    same_identity(a, b)
        && a.key_min == b.key_min
        && a.snapshot_max == b.snapshot_max
        && a.value_count == b.value_count
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table of keys `key_min..=key_max`, created at `snapshot_min`, retired at
    /// `snapshot_max`.
    fn table(key_min: u64, key_max: u64, snapshot_min: u64, snapshot_max: u64) -> TableInfo<u64> {
        TableInfo {
            checksum: 7,
            address: 9,
            snapshot_min,
            snapshot_max,
            key_min,
            key_max,
            value_count: 64,
        }
    }

    fn range(key_min: u64, key_max: u64) -> KeyRange<u64> {
        KeyRange::new(key_min, key_max).unwrap()
    }

    #[test]
    fn a_snapshot_sees_a_table_from_creation_to_retirement_inclusive() {
        let retired = table(10, 20, 3, 5);
        assert!(!sees(2, &retired));
        assert!(sees(3, &retired) && sees(4, &retired) && sees(5, &retired));
        assert!(!sees(6, &retired) && !sees(SNAPSHOT_LATEST, &retired));
        let live = table(10, 20, 3, SNAPSHOT_MAX_LIVE);
        assert!(is_live(&live) && !is_live(&retired));
        assert!(sees(SNAPSHOT_LATEST, &live) && sees(1_000, &live) && !sees(2, &live));
        // A table retired at its own creation snapshot is seen by that snapshot alone.
        let brief = table(0, 0, 4, 4);
        assert!(sees(4, &brief) && !sees(3, &brief) && !sees(5, &brief));
    }

    #[test]
    fn visible_means_seen_by_any_of_the_snapshots() {
        let retired = table(10, 20, 3, 5);
        assert!(!seen_by_any(&[], &retired));
        assert!(seen_by_any(&[1, 4], &retired));
        assert!(!seen_by_any(&[1, 2, 6], &retired));
        assert!(in_class(Visibility::Visible, &[6, 5], &retired));
        assert!(!in_class(Visibility::Visible, &[SNAPSHOT_LATEST], &retired));
    }

    #[test]
    fn invisible_means_no_reader_sees_it() {
        let retired = table(10, 20, 3, 5);
        // Latest never sees a retired table; the set decides.
        assert!(invisible(&[], &retired));
        assert!(invisible(&[6], &retired) && invisible(&[1, 2, 6, 7], &retired));
        assert!(!invisible(&[6, 5], &retired) && !invisible(&[3], &retired));
        // A live table is never invisible, whatever the set.
        let live = table(10, 20, 3, SNAPSHOT_MAX_LIVE);
        assert!(!invisible(&[], &live) && !invisible(&[1, 2], &live));
        assert!(in_class(Visibility::Invisible, &[6], &retired));
        assert!(!in_class(Visibility::Invisible, &[], &live));
        // The two classes of the same set are disjoint, and together with "seen by latest
        // but none of the set" cover every table.
        for t in [retired, live, table(0, 1, 1, 1), table(0, 1, 6, 9)] {
            for set in [&[][..], &[4], &[6], &[2, 5], &[1, 7, 10]] {
                let visible = in_class(Visibility::Visible, set, &t);
                let hidden = in_class(Visibility::Invisible, set, &t);
                assert!(!(visible && hidden), "{t:?} {set:?}");
                assert_eq!(visible || hidden, !sees(SNAPSHOT_LATEST, &t) || visible);
            }
        }
    }

    #[test]
    fn key_ranges_are_inclusive_at_both_ends() {
        let r = range(10, 20);
        assert!(range_contains(&r, 10) && range_contains(&r, 15) && range_contains(&r, 20));
        assert!(!range_contains(&r, 9) && !range_contains(&r, 21));
        let t = table(10, 20, 1, SNAPSHOT_MAX_LIVE);
        // Touching at one key intersects; one key apart does not.
        assert!(intersects(&t, &range(20, 30)) && intersects(&t, &range(0, 10)));
        assert!(!intersects(&t, &range(21, 30)) && !intersects(&t, &range(0, 9)));
        assert!(intersects(&t, &range(12, 13)) && intersects(&t, &range(0, 100)));
        assert!(intersects(&t, &range(15, 15)));
        assert!(tables_intersect(&t, &table(20, 25, 1, 1)));
        assert!(tables_intersect(&table(20, 25, 1, 1), &t));
        assert!(!tables_intersect(&t, &table(21, 25, 1, 1)));
        assert_eq!(table_range(&t), range(10, 20));
        assert_eq!(cover(range(12, 13), &t), range(10, 20));
        assert_eq!(cover(range(15, 40), &t), range(10, 40));
        assert_eq!(cover(range(0, 3), &t), range(0, 20));
    }

    #[test]
    fn a_query_matches_its_class_within_its_range() {
        let snapshots = [4];
        let t = table(10, 20, 3, 5);
        let visible = Query::visible(&snapshots);
        assert!(query_matches(&visible, &t));
        assert!(query_matches(&visible.within(range(20, 20)), &t));
        assert!(!query_matches(&visible.within(range(21, 22)), &t));
        assert!(!query_matches(&Query::invisible(&snapshots), &t));
        assert!(query_matches(&Query::invisible(&[6]), &t));
        assert!(!query_matches(&Query::visible(&[]), &t));
    }

    #[test]
    fn identity_ignores_snapshot_max_key_min_and_value_count() {
        let t = table(10, 20, 3, SNAPSHOT_MAX_LIVE);
        let mut other = TableInfo {
            snapshot_max: 5,
            key_min: 11,
            value_count: 1,
            ..t
        };
        assert!(same_identity(&t, &other));
        other.key_max = 21;
        assert!(!same_identity(&t, &other));
        for change in 0..3 {
            let mut other = t;
            match change {
                0 => other.snapshot_min = 2,
                1 => other.address += 1,
                _ => other.checksum ^= 1,
            }
            assert!(!same_identity(&t, &other), "{other:?}");
        }
    }
}

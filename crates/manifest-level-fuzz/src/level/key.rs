//! The level's key type, a per-run choice (`--key u64|u128`), and the embedding of the
//! model's `u64` keys into it.
//!
//! The model ([`crate::level::model`]) always works with `u64` keys. The environment runs a
//! level of any [`FuzzKey`] and converts every model value it hands the level with
//! [`FuzzKey::embed`]: the identity for `u64`; for `u128` a strictly order-preserving,
//! injective map that puts information in both halves (the model key in the high half, a
//! scramble of it in the low half), so a level that truncates keys to 64 bits or compares
//! only the low half orders or finds tables wrongly. The environment compares the level's
//! answers with the embedded model values, in the level's key domain, so no projection
//! can hide a corrupted key.

use core::fmt;

use manifest_level::{Key, KeyRange, Query, TableInfo};
use serde::{Deserialize, Serialize};

use crate::level::model::Table;

/// The key type of a run's level.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyWidth {
    /// `u64` keys (the seed's): the model's keys as they are.
    #[default]
    U64,
    /// `u128` keys: the model's keys embedded by [`FuzzKey::embed`].
    U128,
}

impl KeyWidth {
    /// Every width, in the order `--help` lists them.
    pub const ALL: [KeyWidth; 2] = [KeyWidth::U64, KeyWidth::U128];

    /// The width called `name` (see [`KeyWidth::name`]).
    pub fn from_name(name: &str) -> Option<KeyWidth> {
        KeyWidth::ALL.into_iter().find(|width| width.name() == name)
    }

    /// `u64` or `u128`.
    pub fn name(self) -> &'static str {
        match self {
            KeyWidth::U64 => "u64",
            KeyWidth::U128 => "u128",
        }
    }
}

impl fmt::Display for KeyWidth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The low half's constant of the `u128` embedding.
const LOW_HALF_MIX: u64 = 0x9E37_79B9_7F4A_7C15;

/// A level key type the fuzzer runs: the model's `u64` keys embed into it.
pub trait FuzzKey: Key {
    /// The [`KeyWidth`] naming this type.
    const WIDTH: KeyWidth;

    /// The level key of model key `key`: strictly order-preserving and injective.
    fn embed(key: u64) -> Self;

    /// The model key this level key embeds (exact on [`FuzzKey::embed`]'s image; other
    /// keys map to the model key of their high half, for `u128`).
    fn project(self) -> u64;

    /// A key next to `self` outside the embedding's image, when there is one (none for
    /// `u64`, where every key is a model key): no level table has it.
    fn off_image(self) -> Option<Self>;
}

impl FuzzKey for u64 {
    const WIDTH: KeyWidth = KeyWidth::U64;

    #[inline]
    fn embed(key: u64) -> u64 {
        key
    }

    #[inline]
    fn project(self) -> u64 {
        self
    }

    #[inline]
    fn off_image(self) -> Option<u64> {
        None
    }
}

impl FuzzKey for u128 {
    const WIDTH: KeyWidth = KeyWidth::U128;

    /// `key` in the high half (so the order is the model's), `key` rotated and mixed in
    /// the low half (so both halves carry the key).
    #[inline]
    fn embed(key: u64) -> u128 {
        (u128::from(key) << 64) | u128::from(key.rotate_left(23) ^ LOW_HALF_MIX)
    }

    #[inline]
    fn project(self) -> u64 {
        (self >> 64) as u64
    }

    /// The same high half with the lowest bit flipped: the high half names one model key,
    /// whose embedding has the other low half.
    #[inline]
    fn off_image(self) -> Option<u128> {
        Some(self ^ 1)
    }
}

/// Model table `table` in the level's key type (every other field as it is).
#[inline]
pub fn embed_table<K: FuzzKey>(table: &Table) -> TableInfo<K> {
    TableInfo {
        checksum: table.checksum,
        address: table.address,
        snapshot_min: table.snapshot_min,
        snapshot_max: table.snapshot_max,
        key_min: K::embed(table.key_min),
        key_max: K::embed(table.key_max),
        value_count: table.value_count,
    }
}

/// Level table `table` as a model table ([`FuzzKey::project`] of its keys), to look it up
/// in the model; compare it with the model's table only after [`embed_table`].
#[inline]
pub fn project_table<K: FuzzKey>(table: &TableInfo<K>) -> Table {
    TableInfo {
        checksum: table.checksum,
        address: table.address,
        snapshot_min: table.snapshot_min,
        snapshot_max: table.snapshot_max,
        key_min: table.key_min.project(),
        key_max: table.key_max.project(),
        value_count: table.value_count,
    }
}

/// A model range of table keys (`key_range_latest`, a widened overlap) in the level's key
/// type, end by end.
#[inline]
pub fn embed_range<K: FuzzKey>(range: KeyRange<u64>) -> KeyRange<K> {
    KeyRange::new(K::embed(range.key_min()), K::embed(range.key_max())).expect("order kept")
}

/// A model query range in the level's key type, its unbounded ends widened: a `key_min`
/// of 0 becomes `K::MIN` and a `key_max` of `u64::MAX` becomes `K::MAX` (no model key lies
/// between, so the range intersects the same tables).
#[inline]
pub fn embed_bounds<K: FuzzKey>(range: KeyRange<u64>) -> KeyRange<K> {
    let key_min = match range.key_min() {
        0 => K::MIN,
        key => K::embed(key),
    };
    let key_max = match range.key_max() {
        u64::MAX => K::MAX,
        key => K::embed(key),
    };
    KeyRange::new(key_min, key_max).expect("order kept")
}

/// A model query in the level's key type (its range through [`embed_bounds`]).
#[inline]
pub fn embed_query<'s, K: FuzzKey>(query: &Query<'s, u64>) -> Query<'s, K> {
    Query {
        visibility: query.visibility,
        snapshots: query.snapshots,
        direction: query.direction,
        key_range: query.key_range.map(embed_bounds),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::support::prng::Prng;

    #[test]
    fn names_round_trip() {
        for width in KeyWidth::ALL {
            assert_eq!(KeyWidth::from_name(width.name()), Some(width));
        }
        assert_eq!(KeyWidth::from_name("u32"), None);
        assert_eq!(KeyWidth::default(), KeyWidth::U64);
    }

    #[test]
    fn u64_embedding_is_the_identity() {
        for key in [0, 1, 77, u64::MAX - 1, u64::MAX] {
            assert_eq!(<u64 as FuzzKey>::embed(key), key);
            assert_eq!(key.project(), key);
        }
    }

    #[test]
    fn u128_embedding_round_trips_and_fills_both_halves() {
        let mut prng = Prng::from_seed(3);
        for _ in 0..1_000 {
            let key = prng.next_u64();
            let embedded = u128::embed(key);
            assert_eq!(embedded.project(), key);
            let off = embedded.off_image().unwrap();
            assert_ne!(u128::embed(off.project()), off);
        }
    }
}

//! [`TableInfo`]: the metadata of one table, and the snapshot visibility rules.

use core::fmt::Debug;
use core::hash::Hash;

use crate::error::Error;
use crate::segmented_array::Element;

/// The snapshot that reads "the latest state": greater than every snapshot ever issued.
///
/// Snapshot 0 is reserved and never issued; `u64::MAX` marks a live table's `snapshot_max`.
pub const SNAPSHOT_LATEST: u64 = u64::MAX - 1;

/// `snapshot_max` of a table that has not been retired yet.
pub const SNAPSHOT_MAX_LIVE: u64 = u64::MAX;

/// A key type of a level: an unsigned integer (implemented for `u8` through `u128`).
///
/// A key is also a segmented-array [`Element`] keyed by itself.
pub trait Key:
    Copy + Ord + Hash + Debug + Default + Send + Sync + 'static + Element<Key = Self>
{
    /// The smallest key.
    const MIN: Self;
    /// The largest key.
    const MAX: Self;
    /// Converts a `u64` (truncating for narrower types); used by generators and tests.
    fn from_u64(value: u64) -> Self;
    /// Converts to `u128`, losslessly.
    fn to_u128(self) -> u128;
}

macro_rules! impl_key {
    ($($ty:ty),*) => {$(
        impl Key for $ty {
            const MIN: Self = <$ty>::MIN;
            const MAX: Self = <$ty>::MAX;
            #[inline]
            fn from_u64(value: u64) -> Self {
                value as $ty
            }
            #[inline]
            fn to_u128(self) -> u128 {
                self as u128
            }
        }
    )*};
}
impl_key!(u8, u16, u32, u64, u128);

/// An inclusive key range `[key_min, key_max]`; never empty (`key_min <= key_max`).
///
/// ```
/// use manifest_level::KeyRange;
/// let range = KeyRange::new(10u64, 20).unwrap();
/// assert!(range.contains(15));
/// assert!(KeyRange::new(20u64, 10).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KeyRange<K> {
    key_min: K,
    key_max: K,
}

impl<K: Key> KeyRange<K> {
    /// The range `[key_min, key_max]`, or [`Error::InvalidKeyRange`] when `key_min > key_max`.
    pub fn new(key_min: K, key_max: K) -> Result<Self, Error> {
        if key_min > key_max {
            return Err(Error::InvalidKeyRange);
        }
        Ok(KeyRange { key_min, key_max })
    }

    /// The range holding the single key `key`.
    pub fn point(key: K) -> Self {
        KeyRange {
            key_min: key,
            key_max: key,
        }
    }

    /// The whole key space.
    pub fn full() -> Self {
        KeyRange {
            key_min: K::MIN,
            key_max: K::MAX,
        }
    }

    /// The smallest key of the range.
    #[inline]
    pub fn key_min(&self) -> K {
        self.key_min
    }

    /// The largest key of the range.
    #[inline]
    pub fn key_max(&self) -> K {
        self.key_max
    }

    /// Whether `key` lies in the range.
    #[inline]
    pub fn contains(&self, key: K) -> bool {
        self.key_min <= key && key <= self.key_max
    }

    /// Whether the two ranges share at least one key.
    #[inline]
    pub fn intersects(&self, other: &KeyRange<K>) -> bool {
        self.key_min <= other.key_max && other.key_min <= self.key_max
    }

    /// The smallest range covering both.
    #[inline]
    pub fn union(&self, other: &KeyRange<K>) -> KeyRange<K> {
        KeyRange {
            key_min: self.key_min.min(other.key_min),
            key_max: self.key_max.max(other.key_max),
        }
    }
}

/// The metadata of one table of a level.
///
/// A table is created at `snapshot_min` and seen by every snapshot up to `snapshot_max`
/// (both inclusive). While it is live, `snapshot_max` is [`SNAPSHOT_MAX_LIVE`]; compaction
/// retires it by setting `snapshot_max` to the snapshot at which it stops being visible.
///
/// Equality (`==`) compares all seven fields, as `equal` in docs/SEMANTICS.md §1 does.
///
/// ```
/// use manifest_level::{TableInfo, SNAPSHOT_LATEST};
/// let table = TableInfo::<u64>::new(0xC0FFEE, 7, 3, 10, 20, 64);
/// assert!(table.visible(3) && table.visible(SNAPSHOT_LATEST));
/// assert!(!table.visible(2));
/// assert!(!table.invisible(&[1])); // a live table is never invisible
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct TableInfo<K> {
    /// Checksum of the table's index block.
    pub checksum: u128,
    /// Address of the table's index block; 0 is never a valid table.
    pub address: u64,
    /// First snapshot that sees the table (inclusive).
    pub snapshot_min: u64,
    /// Last snapshot that sees the table (inclusive); [`SNAPSHOT_MAX_LIVE`] while live.
    pub snapshot_max: u64,
    /// Smallest key in the table.
    pub key_min: K,
    /// Largest key in the table.
    pub key_max: K,
    /// Number of values in the table.
    pub value_count: u32,
}

impl<K: Key> TableInfo<K> {
    /// A live table (`snapshot_max` = [`SNAPSHOT_MAX_LIVE`]) created at `snapshot_min`.
    pub fn new(
        checksum: u128,
        address: u64,
        snapshot_min: u64,
        key_min: K,
        key_max: K,
        value_count: u32,
    ) -> Self {
        TableInfo {
            checksum,
            address,
            snapshot_min,
            snapshot_max: SNAPSHOT_MAX_LIVE,
            key_min,
            key_max,
            value_count,
        }
    }

    /// Checks the table is well formed: `address != 0`, `key_min <= key_max`,
    /// `snapshot_min <= snapshot_max`.
    pub fn validate(&self) -> Result<(), Error> {
        if self.address == 0 {
            return Err(Error::InvalidTable("address is 0"));
        }
        if self.key_min > self.key_max {
            return Err(Error::InvalidTable("key_min > key_max"));
        }
        if self.snapshot_min > self.snapshot_max {
            return Err(Error::InvalidTable("snapshot_min > snapshot_max"));
        }
        Ok(())
    }

    /// Whether snapshot `snapshot` sees the table: `snapshot_min <= snapshot <= snapshot_max`.
    #[inline]
    pub fn visible(&self, snapshot: u64) -> bool {
        self.snapshot_min <= snapshot && snapshot <= self.snapshot_max
    }

    /// Whether the table is visible to at least one of `snapshots`.
    #[inline]
    pub fn visible_to_any(&self, snapshots: &[u64]) -> bool {
        snapshots.iter().any(|&snapshot| self.visible(snapshot))
    }

    /// Whether no reader can see the table: not visible to [`SNAPSHOT_LATEST`] nor to any
    /// of `snapshots`. Such a table may be removed from the level.
    #[inline]
    pub fn invisible(&self, snapshots: &[u64]) -> bool {
        !self.visible(SNAPSHOT_LATEST) && !self.visible_to_any(snapshots)
    }

    /// Whether the table is still live (never retired).
    #[inline]
    pub fn is_live(&self) -> bool {
        self.snapshot_max == SNAPSHOT_MAX_LIVE
    }

    /// Whether all seven fields are equal (the same as `==`).
    #[inline]
    pub fn equal(&self, other: &TableInfo<K>) -> bool {
        self == other
    }

    /// The table's key range. Only meaningful for a validated table.
    #[inline]
    pub fn key_range(&self) -> KeyRange<K> {
        debug_assert!(self.key_min <= self.key_max);
        KeyRange {
            key_min: self.key_min,
            key_max: self.key_max,
        }
    }

    /// Whether the table shares a key with `range`.
    #[inline]
    pub fn intersects(&self, range: &KeyRange<K>) -> bool {
        self.key_min <= range.key_max && range.key_min <= self.key_max
    }

    /// Whether `other` is the same table as `self` up to `snapshot_max`: same
    /// `(key_max, snapshot_min)`, `address` and `checksum` (what [`find`] matches on).
    ///
    /// [`find`]: crate::ManifestLevel::find
    #[inline]
    pub fn same_identity(&self, other: &TableInfo<K>) -> bool {
        self.key_max == other.key_max
            && self.snapshot_min == other.snapshot_min
            && self.address == other.address
            && self.checksum == other.checksum
    }
}

/// A table is keyed by `key_max`, the first part of its level's `(key_max, snapshot_min)`
/// order.
impl<K: Key> Element for TableInfo<K> {
    type Key = K;
    #[inline]
    fn key(&self) -> K {
        self.key_max
    }
}

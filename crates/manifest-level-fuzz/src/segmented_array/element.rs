//! The element types the array is fuzzed with, and how each is made from a key.

use std::fmt;

use manifest_level::Element;
use serde::{Deserialize, Serialize};

/// The smallest node size a [`Setup`](crate::segmented_array::Setup) uses, in bytes.
pub const NODE_SIZE_MIN: u32 = 32;

/// The largest node size a [`Setup`](crate::segmented_array::Setup) uses, in bytes.
pub const NODE_SIZE_MAX: u32 = 4096;

/// The largest array capacity a [`Setup`](crate::segmented_array::Setup) uses: room for
/// more than 512 nodes of small elements, while the full model comparison after every op
/// stays a few hundred microseconds at most.
pub const CAPACITY_MAX: u32 = 1 << 16;

/// The element type of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ElementKind {
    /// `u32`, its own key.
    U32,
    /// `u64`, its own key.
    U64,
    /// `u128`, its own key.
    U128,
    /// [`Record24`]: 24 bytes, keyed by a `u64`.
    Record24,
    /// [`Record64`]: 64 bytes, 16-aligned, keyed by a `u128`.
    Record64,
}

impl ElementKind {
    /// Every element kind, in declaration order.
    pub const ALL: [ElementKind; 5] = [
        ElementKind::U32,
        ElementKind::U64,
        ElementKind::U128,
        ElementKind::Record24,
        ElementKind::Record64,
    ];

    /// The element's size in bytes.
    pub fn size(self) -> usize {
        match self {
            ElementKind::U32 => 4,
            ElementKind::U64 => 8,
            ElementKind::U128 => 16,
            ElementKind::Record24 => 24,
            ElementKind::Record64 => 64,
        }
    }

    /// The largest key of the kind's key domain (the fuzzer draws keys as `u64`).
    pub fn key_max(self) -> u64 {
        match self {
            ElementKind::U32 => u64::from(u32::MAX),
            _ => u64::MAX,
        }
    }

    /// The smallest node size (a multiple of 16, at least [`NODE_SIZE_MIN`]) that holds two
    /// elements of this kind.
    pub fn node_size_min(self) -> u32 {
        let two = 2 * self.size() as u32;
        two.next_multiple_of(16).max(NODE_SIZE_MIN)
    }

    /// Lower-case name, as the CLI spells it.
    pub fn name(self) -> &'static str {
        match self {
            ElementKind::U32 => "u32",
            ElementKind::U64 => "u64",
            ElementKind::U128 => "u128",
            ElementKind::Record24 => "record24",
            ElementKind::Record64 => "record64",
        }
    }

    /// The kind named `name` (as [`ElementKind::name`] spells it).
    pub fn from_name(name: &str) -> Option<ElementKind> {
        ElementKind::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
    }
}

impl fmt::Display for ElementKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A 24-byte element keyed by a `u64`; the payload tells equal keys apart, so the fuzzer
/// checks the exact order of runs of equal keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Record24 {
    /// The sort key.
    pub key: u64,
    /// Which insert made this element (unique within a run).
    pub serial: u64,
    /// A value derived from `key` and `serial`, to catch torn copies.
    pub check: u64,
}

impl Element for Record24 {
    type Key = u64;
    #[inline]
    fn key(&self) -> u64 {
        self.key
    }
}

/// A 64-byte, 16-aligned element keyed by a `u128` (the widest alignment a node pool
/// accepts).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct Record64 {
    /// The sort key.
    pub key: u128,
    /// Which insert made this element (unique within a run).
    pub serial: u64,
    /// Values derived from `serial`, to catch torn copies.
    pub payload: [u64; 5],
}

impl Element for Record64 {
    type Key = u128;
    #[inline]
    fn key(&self) -> u128 {
        self.key
    }
}

/// A cheap bijective mix for payloads and keys (one SplitMix64 output).
#[inline]
pub(super) fn mix(x: u64) -> u64 {
    crate::support::prng::splitmix64_output(x)
}

/// Maps a `u64` domain key to a `u128` key, preserving order and using the high bits.
#[inline]
pub(super) fn wide(key: u64) -> u128 {
    (u128::from(key) << 64) | u128::from(key)
}

/// What the fuzzer needs of an element type beyond [`Element`].
pub(super) trait FuzzElement: Element + PartialEq {
    /// A new element with domain key `key` (at most the kind's key max) made by insert
    /// number `serial`.
    fn make(key: u64, serial: u64) -> Self;
    /// The array key of domain key `key` (saturating for narrow keys).
    fn key_of(key: u64) -> Self::Key;
    /// The element's domain key.
    fn domain_key(&self) -> u64;
}

impl FuzzElement for u32 {
    fn make(key: u64, _: u64) -> u32 {
        key as u32
    }
    fn key_of(key: u64) -> u32 {
        key.min(u64::from(u32::MAX)) as u32
    }
    fn domain_key(&self) -> u64 {
        u64::from(*self)
    }
}

impl FuzzElement for u64 {
    fn make(key: u64, _: u64) -> u64 {
        key
    }
    fn key_of(key: u64) -> u64 {
        key
    }
    fn domain_key(&self) -> u64 {
        *self
    }
}

impl FuzzElement for u128 {
    fn make(key: u64, _: u64) -> u128 {
        wide(key)
    }
    fn key_of(key: u64) -> u128 {
        wide(key)
    }
    fn domain_key(&self) -> u64 {
        (*self >> 64) as u64
    }
}

impl FuzzElement for Record24 {
    fn make(key: u64, serial: u64) -> Record24 {
        Record24 {
            key,
            serial,
            check: mix(key ^ mix(serial)),
        }
    }
    fn key_of(key: u64) -> u64 {
        key
    }
    fn domain_key(&self) -> u64 {
        self.key
    }
}

impl FuzzElement for Record64 {
    fn make(key: u64, serial: u64) -> Record64 {
        let mut payload = [0; 5];
        for (i, word) in payload.iter_mut().enumerate() {
            *word = mix(serial.wrapping_add(i as u64));
        }
        Record64 {
            key: wide(key),
            serial,
            payload,
        }
    }
    fn key_of(key: u64) -> u128 {
        wide(key)
    }
    fn domain_key(&self) -> u64 {
        (self.key >> 64) as u64
    }
}

const _: () = assert!(core::mem::size_of::<Record24>() == 24);
const _: () = assert!(core::mem::size_of::<Record64>() == 64);
const _: () = assert!(core::mem::align_of::<Record64>() == 16);

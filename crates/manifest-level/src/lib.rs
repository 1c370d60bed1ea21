//! The per-level table index of an LSM-tree storage engine, in fixed memory.
//!
//! An LSM tree keeps its data in immutable sorted runs called *tables*, grouped in levels.
//! The *manifest* records, for every level, the metadata of each table ([`TableInfo`]):
//! its key range, where it lives, and which snapshots can see it. This crate is that
//! per-level index: [`ManifestLevel`].
//!
//! # Snapshots and visibility
//!
//! Readers and compaction work against a *snapshot*, a `u64` issued in increasing order
//! (0 is reserved). A table is created at `snapshot_min` and, when compaction replaces it,
//! retired by setting `snapshot_max`; until then `snapshot_max` is `u64::MAX`. A table is
//! *visible* to snapshot `s` when `snapshot_min <= s <= snapshot_max`, so readers holding
//! an old snapshot keep seeing the tables that existed then. [`SNAPSHOT_LATEST`]
//! (`u64::MAX - 1`) compares greater than every issued snapshot: it sees exactly the live
//! tables. A table is *invisible* for a set of retained snapshots when neither latest nor
//! any of them sees it: only then may it be removed.
//!
//! # The level invariant
//!
//! For any one snapshot, the tables visible to it have pairwise disjoint key ranges (the
//! caller's discipline, as compaction keeps it). Tables seen by *different* snapshots may
//! overlap and may even share `key_max`. The level orders tables by
//! `(key_max, snapshot_min)`; for a single snapshot that order is also the order of
//! `key_min`, which lets range queries start with a binary search and stop early.
//!
//! # Memory
//!
//! A level keeps its tables in one [`SegmentedArray`]: fixed-size nodes of sorted tables,
//! with contiguous side tables (each node's first key, its length, and a two-level index
//! of node starts) that make a search a few short counted rounds over contiguous keys and
//! one inside a node, and an insert or remove a shift inside one node plus
//! O(128 + nodes / 128) index updates (a split or merge also shifts the side tables:
//! O(nodes), once per many inserts). The nodes come from a [`NodePool`]
//! reserved up front and shared by every level of a tree. Constructing a level allocates
//! its small side tables for the worst case; afterwards no operation allocates. Running
//! out of nodes or capacity is an [`Error`], never a crash, and a failed operation changes
//! nothing.
//!
//! Node size is the main tuning knob: 1 KiB nodes (16 tables of 64 bytes) suit levels of
//! a few thousand tables; at 262,144 tables 2 KiB nodes insert and remove about 1.5×
//! faster (fewer nodes to shift in the side tables on a split). See BENCHMARKS.md.
//!
//! A level filled in random order has its nodes about 70% full and scattered over the
//! pool. [`ManifestLevel::compact`] packs its tables into nodes filled to 15/16 (nodes
//! already fuller keep their tables), laid out in pool order, without changing its tables
//! or references: a full iteration or a least-overlap sweep then streams through memory
//! like a sorted `Vec`, the level takes about 69 bytes per table instead of 93, and the
//! free 1/16 absorbs the next inserts without splits. Call it after a bulk load, or after
//! compacting into a read-mostly level (at 262,144 tables it takes 6–9 ms). See
//! BENCHMARKS.md.
//!
//! # Example
//!
//! ```
//! use manifest_level::{KeyRange, ManifestLevel, NodePool, Query, TableInfo, SNAPSHOT_LATEST};
//!
//! let tables_max = 1_000;
//! let nodes = ManifestLevel::<u64>::nodes_needed(1024, tables_max)?;
//! let pool = NodePool::new(1024, nodes)?;
//! let mut level = ManifestLevel::<u64>::new(&pool, tables_max)?;
//!
//! // Three tables written at snapshot 1.
//! for (i, keys) in [(0, 99), (100, 199), (200, 299)].into_iter().enumerate() {
//!     level.insert_table(TableInfo::new(i as u128, 1 + i as u64, 1, keys.0, keys.1, 64))?;
//! }
//! // Compaction retires the middle one at snapshot 4 and writes its replacement at 5.
//! let middle = TableInfo::new(1, 2, 1, 100, 199, 64);
//! let (reference, _) = level.find(&middle).unwrap();
//! level.set_snapshot_max(4, reference)?;
//! level.insert_table(TableInfo::new(9, 10, 5, 100, 199, 80))?;
//!
//! // A reader at snapshot 3 still sees the old table; latest sees the new one.
//! let range = KeyRange::new(150, 160)?;
//! let old: Vec<_> = level.iter(Query::visible(&[3]).within(range)).map(|(_, t)| t.address).collect();
//! let new: Vec<_> = level.iter(Query::visible(&[SNAPSHOT_LATEST]).within(range)).map(|(_, t)| t.address).collect();
//! assert_eq!((old, new), (vec![2], vec![10]));
//! // Once no reader holds snapshot 3, the retired table is invisible and can go.
//! let dead: Vec<_> = level.iter(Query::invisible(&[])).map(|(_, t)| *t).collect();
//! for table in &dead {
//!     level.remove_table(table)?;
//! }
//! assert_eq!(level.len(), 3);
//! # Ok::<(), manifest_level::Error>(())
//! ```
//!
//! # Features
//!
//! - `verify`: every mutation ends with [`ManifestLevel::verify`], a from-scratch check
//!   of all invariants (O(n)). Tests and the fuzzer's deep mode use it.
//! - `fault-injection`: `ManifestLevel::inject_fault` plants a known bug, so tests can
//!   prove that the fuzzer notices it. Never for production.

#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

mod error;
#[cfg(feature = "fault-injection")]
mod fault;
mod manifest_level;
mod node_pool;
mod segmented_array;
mod table_info;

pub use error::Error;
#[cfg(feature = "fault-injection")]
pub use fault::Fault;
pub use manifest_level::{
    Direction, LeastOverlap, LevelIter, ManifestLevel, NextTable, Overlap, Query, TableRef,
    Visibility, GROWTH_FACTOR,
};
pub use node_pool::{NodePool, NODE_ALIGN, NODE_COUNT_MAX, NODE_SIZE_MAX};
pub use segmented_array::{Cursor, Element, Iter, LayoutEvents, SegmentedArray};
pub use table_info::{Key, KeyRange, TableInfo, SNAPSHOT_LATEST, SNAPSHOT_MAX_LIVE};

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

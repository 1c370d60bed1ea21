//! The fuzzer's operations ([`FuzzOp`]), their kinds ([`OpKind`]) and the weights they are
//! drawn with ([`Weights`]).
//!
//! An op is plain data: a run is a list of ops, generated from a seed
//! ([`generate`](super::generate)) or given explicitly (a recorded trace, a shrunk
//! reproducer), and executed by the [`Environment`](super::environment::Environment).
//! Ops serialize with `serde` as internally tagged objects, one per JSON line in a trace:
//!
//! ```text
//! {"op":"insert_tables","count":3}
//! {"op":"take_snapshot"}
//! {"op":"compact","inputs":3,"outputs":2}
//! {"op":"next_table_walk","direction":"descending"}
//! {"op":"misuse_stale_reference"}
//! ```
//!
//! The seed's five ops form the faithful op set ([`OpSet::Faithful`], weights
//! [`Weights::SEED`]); the extended op set ([`OpSet::Extended`], weights
//! [`Weights::EXTENDED`]) adds fifteen more (see [`FuzzOp`]).

use core::fmt;

use serde::{Deserialize, Serialize};

use crate::support::prng::Prng;

/// One step of a fuzz run.
///
/// The first five variants are the seed's op set (docs/SEMANTICS.md §4.2), the *faithful* set; the
/// rest form the *extended* set ([`OpSet::Extended`]), which puts every public
/// method of the level under fuzz: retained snapshots, compaction, `next_table` walks,
/// the compaction queries against a second level B, `reset`, and misuse that must fail
/// with the right typed error and change nothing.
///
/// Counts are always at least 1; which counts are valid depends on the state the earlier
/// ops left (see [`GenerateContext::apply`](super::generate::GenerateContext::apply)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum FuzzOp {
    /// Insert `count` new, non-overlapping tables created at the current snapshot.
    InsertTables {
        /// Number of tables.
        count: u32,
    },
    /// Retire the last `count` tables visible to latest (descending order) at the current
    /// snapshot.
    UpdateTables {
        /// Number of tables.
        count: u32,
    },
    /// Advance the current snapshot by one: the tables retired so far become invisible
    /// (unless a retained snapshot still sees them).
    TakeSnapshot,
    /// Remove the last `count` tables invisible to latest, to the current snapshot and to
    /// every retained snapshot (among those retired before the oldest snapshot still
    /// read: see [`GenerateContext`](super::generate::GenerateContext)).
    RemoveInvisible {
        /// Number of tables.
        count: u32,
    },
    /// Remove the last `count` tables visible to latest.
    RemoveVisible {
        /// Number of tables.
        count: u32,
    },
    /// Extended: a reader retains the current snapshot (at most
    /// [`RETAINED_MAX`](super::generate::RETAINED_MAX) at once); tables it sees may not be
    /// removed until it is released.
    RetainSnapshot,
    /// Extended: the reader holding the `index`-th retained snapshot (in retain order)
    /// releases it.
    ReleaseSnapshot {
        /// Position in the retained list.
        index: u32,
    },
    /// Extended: compaction. Retires `inputs` consecutive live tables at the current
    /// snapshot, takes a snapshot, and inserts `outputs` replacement tables covering
    /// exactly the same key range (the last shares `key_max` with the last input).
    Compact {
        /// Number of tables retired (at most
        /// [`COMPACT_INPUTS_MAX`](super::generate::COMPACT_INPUTS_MAX)).
        inputs: u32,
        /// Number of replacement tables, `1..=inputs`.
        outputs: u32,
    },
    /// Extended: walks a random key range with `next_table` and `key_exclusive` for a
    /// random snapshot, then probes random exclusive keys, against the model.
    NextTableWalk {
        /// The walk's direction.
        direction: WalkDirection,
    },
    /// Extended: `tables_overlapping_with_key_range` on a random range, snapshot and
    /// `max`, against the model.
    OverlapQuery,
    /// Extended: `table_with_least_overlap` of the level against level B, for a random
    /// snapshot and `max`, against a brute-force answer.
    LeastOverlap,
    /// Extended: insert `count` new tables into level B.
    InsertTablesB {
        /// Number of tables.
        count: u32,
    },
    /// Extended: remove `count` random tables from level B.
    RemoveTablesB {
        /// Number of tables.
        count: u32,
    },
    /// Extended: `reset()` the level (the model empties, the generation bumps).
    Reset,
    /// Extended: rebuild the level as a manifest replay does: `reset()`, then insert every
    /// table of the model again, live and retired, in random order. Retired inserts must
    /// leave the visible counters and `key_range_latest` where they are.
    Rebuild,
    /// Misuse: `set_snapshot_max` and `get` with references taken before an insert, a
    /// remove or a reset (and one from level B) must fail with `StaleReference`.
    MisuseStaleReference,
    /// Misuse: removing a table that is not in the level must fail with `TableNotFound`.
    MisuseRemoveAbsent,
    /// Misuse: retiring a retired table must fail with `TableAlreadyRetired`.
    MisuseRetireRetired,
    /// Misuse: inserting or removing a malformed table (address 0, `key_min > key_max`,
    /// `snapshot_min > snapshot_max`) must fail with `InvalidTable`.
    MisuseInvalidTable,
    /// Misuse: inserting into a full level must fail with `CapacityExhausted`.
    MisuseCapacityExhausted,
    /// Misuse: retiring at a snapshot `>= SNAPSHOT_LATEST`, or below a live table's
    /// `snapshot_min`, must fail with `InvalidSnapshot`.
    MisuseInvalidSnapshot,
}

/// The direction of a [`FuzzOp::NextTableWalk`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WalkDirection {
    /// Smallest keys first.
    Ascending,
    /// Largest keys first.
    Descending,
}

impl WalkDirection {
    /// The level's [`Direction`](manifest_level::Direction).
    pub fn to_level(self) -> manifest_level::Direction {
        match self {
            WalkDirection::Ascending => manifest_level::Direction::Ascending,
            WalkDirection::Descending => manifest_level::Direction::Descending,
        }
    }

    /// `ascending` or `descending`.
    pub fn name(self) -> &'static str {
        match self {
            WalkDirection::Ascending => "ascending",
            WalkDirection::Descending => "descending",
        }
    }
}

impl FuzzOp {
    /// The op's kind.
    pub fn kind(&self) -> OpKind {
        match self {
            FuzzOp::InsertTables { .. } => OpKind::InsertTables,
            FuzzOp::UpdateTables { .. } => OpKind::UpdateTables,
            FuzzOp::TakeSnapshot => OpKind::TakeSnapshot,
            FuzzOp::RemoveInvisible { .. } => OpKind::RemoveInvisible,
            FuzzOp::RemoveVisible { .. } => OpKind::RemoveVisible,
            FuzzOp::RetainSnapshot => OpKind::RetainSnapshot,
            FuzzOp::ReleaseSnapshot { .. } => OpKind::ReleaseSnapshot,
            FuzzOp::Compact { .. } => OpKind::Compact,
            FuzzOp::NextTableWalk { .. } => OpKind::NextTableWalk,
            FuzzOp::OverlapQuery => OpKind::OverlapQuery,
            FuzzOp::LeastOverlap => OpKind::LeastOverlap,
            FuzzOp::InsertTablesB { .. } => OpKind::InsertTablesB,
            FuzzOp::RemoveTablesB { .. } => OpKind::RemoveTablesB,
            FuzzOp::Reset => OpKind::Reset,
            FuzzOp::Rebuild => OpKind::Rebuild,
            FuzzOp::MisuseStaleReference => OpKind::MisuseStaleReference,
            FuzzOp::MisuseRemoveAbsent => OpKind::MisuseRemoveAbsent,
            FuzzOp::MisuseRetireRetired => OpKind::MisuseRetireRetired,
            FuzzOp::MisuseInvalidTable => OpKind::MisuseInvalidTable,
            FuzzOp::MisuseCapacityExhausted => OpKind::MisuseCapacityExhausted,
            FuzzOp::MisuseInvalidSnapshot => OpKind::MisuseInvalidSnapshot,
        }
    }

    /// The op's table count (for [`FuzzOp::Compact`], its `inputs`), or `None` for ops
    /// without one.
    pub fn count(&self) -> Option<u32> {
        match *self {
            FuzzOp::InsertTables { count }
            | FuzzOp::UpdateTables { count }
            | FuzzOp::RemoveInvisible { count }
            | FuzzOp::RemoveVisible { count }
            | FuzzOp::InsertTablesB { count }
            | FuzzOp::RemoveTablesB { count } => Some(count),
            FuzzOp::Compact { inputs, .. } => Some(inputs),
            _ => None,
        }
    }

    /// The same op with its count replaced by `count` (no change for ops without one).
    /// For [`FuzzOp::Compact`] it sets `inputs` and caps `outputs` at it. For shrinking.
    #[must_use]
    pub fn with_count(self, count: u32) -> FuzzOp {
        match self {
            FuzzOp::InsertTables { .. } => FuzzOp::InsertTables { count },
            FuzzOp::UpdateTables { .. } => FuzzOp::UpdateTables { count },
            FuzzOp::RemoveInvisible { .. } => FuzzOp::RemoveInvisible { count },
            FuzzOp::RemoveVisible { .. } => FuzzOp::RemoveVisible { count },
            FuzzOp::InsertTablesB { .. } => FuzzOp::InsertTablesB { count },
            FuzzOp::RemoveTablesB { .. } => FuzzOp::RemoveTablesB { count },
            FuzzOp::Compact { outputs, .. } => FuzzOp::Compact {
                inputs: count,
                outputs: outputs.min(count),
            },
            op => op,
        }
    }

    /// Whether the op belongs to the extended op set only.
    pub fn is_extended(&self) -> bool {
        self.kind().is_extended()
    }
}

/// `insert_tables(3)`, `take_snapshot`, `compact(3->2)`, `release_snapshot(#1)`,
/// `next_table_walk(descending)`, ...
impl fmt::Display for FuzzOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            FuzzOp::Compact { inputs, outputs } => write!(f, "compact({inputs}->{outputs})"),
            FuzzOp::ReleaseSnapshot { index } => write!(f, "release_snapshot(#{index})"),
            FuzzOp::NextTableWalk { direction } => {
                write!(f, "next_table_walk({})", direction.name())
            }
            op => match op.count() {
                Some(count) => write!(f, "{}({count})", op.kind()),
                None => write!(f, "{}", op.kind()),
            },
        }
    }
}

/// Which ops a run draws from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpSet {
    /// The seed's five ops ([`OpKind::FAITHFUL`]), exactly as docs/SEMANTICS.md §4 describes them.
    #[default]
    Faithful,
    /// Every op ([`OpKind::ALL`]): the faithful ones plus retained snapshots, compaction,
    /// `next_table` walks, overlap queries against a second level, reset and misuse.
    Extended,
}

impl OpSet {
    /// Every op set, in the order `--help` lists them.
    pub const ALL: [OpSet; 2] = [OpSet::Faithful, OpSet::Extended];

    /// The set called `name` (see [`OpSet::name`]).
    pub fn from_name(name: &str) -> Option<OpSet> {
        OpSet::ALL.into_iter().find(|set| set.name() == name)
    }

    /// The kinds of the set.
    pub fn kinds(self) -> &'static [OpKind] {
        match self {
            OpSet::Faithful => &OpKind::FAITHFUL,
            OpSet::Extended => &OpKind::ALL,
        }
    }

    /// The set's default weights: [`Weights::SEED`] or [`Weights::EXTENDED`].
    pub fn default_weights(self) -> Weights {
        match self {
            OpSet::Faithful => Weights::SEED,
            OpSet::Extended => Weights::EXTENDED,
        }
    }

    /// `faithful` or `extended`.
    pub fn name(self) -> &'static str {
        match self {
            OpSet::Faithful => "faithful",
            OpSet::Extended => "extended",
        }
    }
}

impl fmt::Display for OpSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Number of op kinds, faithful and extended.
pub const KIND_COUNT: usize = 21;

/// Declares [`OpKind`] and [`Weights`] from one list, so the two stay in step.
macro_rules! op_kinds {
    (
        faithful: [$(($fk:ident, $ff:ident, $fname:literal)),* $(,)?],
        extended: [$(($ek:ident, $ef:ident, $ename:literal)),* $(,)?] $(,)?
    ) => {
        /// The kind of a [`FuzzOp`], without its arguments: what the weighted draw picks.
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
        )]
        #[serde(rename_all = "snake_case")]
        pub enum OpKind {
            $(
                #[doc = concat!("[`FuzzOp::", stringify!($fk), "`].")]
                $fk,
            )*
            $(
                #[doc = concat!("[`FuzzOp::", stringify!($ek), "`] (extended).")]
                $ek,
            )*
        }

        impl OpKind {
            /// Every kind, in declaration order (the order of [`Weights::all`]): the five
            /// faithful ones first, then the extended ones.
            pub const ALL: [OpKind; KIND_COUNT] = [$(OpKind::$fk,)* $(OpKind::$ek,)*];

            /// The snake_case name, as in traces and logs.
            pub fn name(self) -> &'static str {
                match self {
                    $(OpKind::$fk => $fname,)*
                    $(OpKind::$ek => $ename,)*
                }
            }
        }

        /// The relative weight of each [`OpKind`] in the draw.
        ///
        /// The seed's fuzzer uses [`Weights::SEED`] (8/5/3/3/3, every extended kind 0)
        /// for every run; the extended op set uses [`Weights::EXTENDED`]. Swarm testing
        /// replaces them per seed, possibly switching kinds off (weight 0); the
        /// generator's fallbacks may still produce a switched-off kind when the drawn one
        /// cannot apply.
        ///
        /// The extended weights are left out of the serde form when zero, so the
        /// faithful weights serialize exactly as before the extended set existed.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub struct Weights {
            $(
                #[doc = concat!("Weight of [`OpKind::", stringify!($fk), "`].")]
                pub $ff: u64,
            )*
            $(
                #[doc = concat!("Weight of [`OpKind::", stringify!($ek), "`] (extended).")]
                #[serde(default, skip_serializing_if = "is_zero")]
                pub $ef: u64,
            )*
        }

        impl Weights {
            /// Every kind's weight, ordered as [`OpKind::ALL`].
            pub fn all(&self) -> [u64; KIND_COUNT] {
                [$(self.$ff,)* $(self.$ef,)*]
            }

            /// Weights from an array ordered as [`OpKind::ALL`].
            pub fn from_all(weights: [u64; KIND_COUNT]) -> Weights {
                let [$($ff,)* $($ef,)*] = weights;
                Weights { $($ff,)* $($ef,)* }
            }
        }
    };
}

op_kinds! {
    faithful: [
        (InsertTables, insert_tables, "insert_tables"),
        (UpdateTables, update_tables, "update_tables"),
        (TakeSnapshot, take_snapshot, "take_snapshot"),
        (RemoveInvisible, remove_invisible, "remove_invisible"),
        (RemoveVisible, remove_visible, "remove_visible"),
    ],
    extended: [
        (RetainSnapshot, retain_snapshot, "retain_snapshot"),
        (ReleaseSnapshot, release_snapshot, "release_snapshot"),
        (Compact, compact, "compact"),
        (NextTableWalk, next_table_walk, "next_table_walk"),
        (OverlapQuery, overlap_query, "overlap_query"),
        (LeastOverlap, least_overlap, "least_overlap"),
        (InsertTablesB, insert_tables_b, "insert_tables_b"),
        (RemoveTablesB, remove_tables_b, "remove_tables_b"),
        (Reset, reset, "reset"),
        (Rebuild, rebuild, "rebuild"),
        (MisuseStaleReference, misuse_stale_reference, "misuse_stale_reference"),
        (MisuseRemoveAbsent, misuse_remove_absent, "misuse_remove_absent"),
        (MisuseRetireRetired, misuse_retire_retired, "misuse_retire_retired"),
        (MisuseInvalidTable, misuse_invalid_table, "misuse_invalid_table"),
        (MisuseCapacityExhausted, misuse_capacity_exhausted, "misuse_capacity_exhausted"),
        (MisuseInvalidSnapshot, misuse_invalid_snapshot, "misuse_invalid_snapshot"),
    ],
}

fn is_zero(weight: &u64) -> bool {
    *weight == 0
}

impl OpKind {
    /// The seed's five kinds (the faithful op set), in declaration order (the order of
    /// [`Weights::as_array`]).
    pub const FAITHFUL: [OpKind; 5] = [
        OpKind::InsertTables,
        OpKind::UpdateTables,
        OpKind::TakeSnapshot,
        OpKind::RemoveInvisible,
        OpKind::RemoveVisible,
    ];

    /// Position in [`OpKind::ALL`] (the faithful kinds are `0..5`).
    pub fn index(self) -> usize {
        self as usize
    }

    /// Whether the kind belongs to the extended op set only.
    pub fn is_extended(self) -> bool {
        self.index() >= OpKind::FAITHFUL.len()
    }

    /// Whether the kind is a misuse op (must fail with a typed error, change nothing).
    pub fn is_misuse(self) -> bool {
        self >= OpKind::MisuseStaleReference
    }
}

impl fmt::Display for OpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Weights {
    /// The seed's weights: insert 8, update 5, take snapshot 3, remove invisible 3,
    /// remove visible 3; every extended kind 0.
    pub const SEED: Weights = Weights::from_faithful([8, 5, 3, 3, 3]);

    /// The extended op set's weights: the seed's ratios (times a hundred) for the
    /// faithful kinds (2,200 in all), then retain 60, release 100 (readers let go a little
    /// faster than they come, so retained snapshots do not pin most of the level), compact
    /// 200, next-table walk 150, overlap query 150, least overlap 100, insert into B 100,
    /// remove from B 50, each misuse op 20, and reset and rebuild 1 each (about once in
    /// 3,200 ops, so the level still grows large between resets, and a rebuild's O(n log
    /// n) stays rare).
    pub const EXTENDED: Weights = {
        let mut weights = Weights::from_faithful([800, 500, 300, 300, 300]);
        weights.retain_snapshot = 60;
        weights.release_snapshot = 100;
        weights.compact = 200;
        weights.next_table_walk = 150;
        weights.overlap_query = 150;
        weights.least_overlap = 100;
        weights.insert_tables_b = 100;
        weights.remove_tables_b = 50;
        weights.reset = 1;
        weights.rebuild = 1;
        weights.misuse_stale_reference = 20;
        weights.misuse_remove_absent = 20;
        weights.misuse_retire_retired = 20;
        weights.misuse_invalid_table = 20;
        weights.misuse_capacity_exhausted = 20;
        weights.misuse_invalid_snapshot = 20;
        weights
    };

    /// The faithful kinds' weights from an array ordered as [`OpKind::FAITHFUL`]; every
    /// extended kind 0.
    pub const fn from_faithful(weights: [u64; 5]) -> Weights {
        let [insert_tables, update_tables, take_snapshot, remove_invisible, remove_visible] =
            weights;
        let mut all = [0; KIND_COUNT];
        all[0] = insert_tables;
        all[1] = update_tables;
        all[2] = take_snapshot;
        all[3] = remove_invisible;
        all[4] = remove_visible;
        Weights::from_all_const(all)
    }

    const fn from_all_const(all: [u64; KIND_COUNT]) -> Weights {
        Weights {
            insert_tables: all[0],
            update_tables: all[1],
            take_snapshot: all[2],
            remove_invisible: all[3],
            remove_visible: all[4],
            retain_snapshot: all[5],
            release_snapshot: all[6],
            compact: all[7],
            next_table_walk: all[8],
            overlap_query: all[9],
            least_overlap: all[10],
            insert_tables_b: all[11],
            remove_tables_b: all[12],
            reset: all[13],
            rebuild: all[14],
            misuse_stale_reference: all[15],
            misuse_remove_absent: all[16],
            misuse_retire_retired: all[17],
            misuse_invalid_table: all[18],
            misuse_capacity_exhausted: all[19],
            misuse_invalid_snapshot: all[20],
        }
    }

    /// The faithful kinds' weights from an array ordered as [`OpKind::FAITHFUL`] (every
    /// extended kind 0). The same as [`Weights::from_faithful`].
    pub fn from_array(weights: [u64; 5]) -> Weights {
        Weights::from_faithful(weights)
    }

    /// The faithful kinds' weights as an array ordered as [`OpKind::FAITHFUL`] (see
    /// [`Weights::all`] for every kind).
    pub fn as_array(&self) -> [u64; 5] {
        [
            self.insert_tables,
            self.update_tables,
            self.take_snapshot,
            self.remove_invisible,
            self.remove_visible,
        ]
    }

    /// The weight of `kind`.
    pub fn get(&self, kind: OpKind) -> u64 {
        self.all()[kind.index()]
    }

    /// The same weights with `kind`'s set to `weight`.
    #[must_use]
    pub fn with(self, kind: OpKind, weight: u64) -> Weights {
        let mut all = self.all();
        all[kind.index()] = weight;
        Weights::from_all(all)
    }

    /// Whether some extended kind has a non-zero weight (so the run needs the extended
    /// op set).
    pub fn has_extended(&self) -> bool {
        self.all()[OpKind::FAITHFUL.len()..].iter().any(|&w| w > 0)
    }

    /// Whether the weights can be drawn from: their sum is non-zero and fits a `u64`.
    pub fn is_valid(&self) -> bool {
        self.all()
            .iter()
            .try_fold(0u64, |sum, &weight| sum.checked_add(weight))
            .is_some_and(|sum| sum > 0)
    }

    /// Draws a kind with probability proportional to its weight (one
    /// [`Prng::weighted`] call over every kind; the zero weights of the extended kinds
    /// leave the seed's draws unchanged).
    ///
    /// # Panics
    ///
    /// If the weights are not [valid](Weights::is_valid).
    pub fn draw(&self, prng: &mut Prng) -> OpKind {
        OpKind::ALL[prng.weighted(&self.all())]
    }
}

impl Default for Weights {
    fn default() -> Self {
        Weights::SEED
    }
}

/// `insert_tables=8 update_tables=5 take_snapshot=3 remove_invisible=3 remove_visible=3`,
/// followed by every extended kind when any has a non-zero weight.
impl fmt::Display for Weights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kinds: &[OpKind] = if self.has_extended() {
            &OpKind::ALL
        } else {
            &OpKind::FAITHFUL
        };
        for (i, kind) in kinds.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{kind}={}", self.get(*kind))?;
        }
        Ok(())
    }
}

/// How many ops of each kind a run executed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OpCounts([u64; KIND_COUNT]);

impl OpCounts {
    /// Counts one op of `kind`.
    pub fn add(&mut self, kind: OpKind) {
        self.0[kind.index()] += 1;
    }

    /// The number of ops of `kind`.
    pub fn get(&self, kind: OpKind) -> u64 {
        self.0[kind.index()]
    }

    /// The total over all kinds.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }
}

/// `insert_tables=12 update_tables=7 ...`: the five faithful kinds always, the extended
/// ones when they ran.
impl fmt::Display for OpCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for kind in OpKind::ALL {
            if kind.is_extended() && self.get(kind) == 0 {
                continue;
            }
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            write!(f, "{kind}={}", self.get(kind))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_kind() {
        assert_eq!(
            FuzzOp::InsertTables { count: 3 }.to_string(),
            "insert_tables(3)"
        );
        assert_eq!(FuzzOp::TakeSnapshot.to_string(), "take_snapshot");
        assert_eq!(
            FuzzOp::RemoveVisible { count: 1 }.kind(),
            OpKind::RemoveVisible
        );
        assert_eq!(
            FuzzOp::UpdateTables { count: 9 }.with_count(2),
            FuzzOp::UpdateTables { count: 2 }
        );
        assert_eq!(FuzzOp::TakeSnapshot.with_count(2), FuzzOp::TakeSnapshot);
        for (i, kind) in OpKind::ALL.into_iter().enumerate() {
            assert_eq!(kind.index(), i);
        }
    }

    #[test]
    fn extended_ops() {
        assert_eq!(
            FuzzOp::Compact {
                inputs: 3,
                outputs: 2
            }
            .to_string(),
            "compact(3->2)"
        );
        assert_eq!(
            FuzzOp::Compact {
                inputs: 5,
                outputs: 4
            }
            .with_count(2),
            FuzzOp::Compact {
                inputs: 2,
                outputs: 2
            }
        );
        assert_eq!(
            FuzzOp::ReleaseSnapshot { index: 1 }.to_string(),
            "release_snapshot(#1)"
        );
        assert_eq!(
            FuzzOp::NextTableWalk {
                direction: WalkDirection::Descending
            }
            .to_string(),
            "next_table_walk(descending)"
        );
        assert_eq!(
            FuzzOp::InsertTablesB { count: 4 }.to_string(),
            "insert_tables_b(4)"
        );
        assert_eq!(FuzzOp::Reset.count(), None);
        assert_eq!(FuzzOp::Reset.with_count(3), FuzzOp::Reset);
        assert!(FuzzOp::MisuseStaleReference.is_extended());
        assert!(OpKind::MisuseStaleReference.is_misuse());
        assert!(!OpKind::Reset.is_misuse() && OpKind::Reset.is_extended());
        assert!(!FuzzOp::TakeSnapshot.is_extended());
        assert_eq!(OpKind::ALL.len(), KIND_COUNT);
        assert_eq!(&OpKind::ALL[..5], &OpKind::FAITHFUL);
        assert_eq!(OpSet::Extended.kinds().len(), KIND_COUNT);
        let mut names: Vec<_> = OpKind::ALL.iter().map(|kind| kind.name()).collect();
        names.dedup();
        assert_eq!(names.len(), KIND_COUNT);
    }

    #[test]
    fn weights() {
        assert_eq!(Weights::SEED.as_array(), [8, 5, 3, 3, 3]);
        assert_eq!(Weights::from_array([8, 5, 3, 3, 3]), Weights::default());
        assert_eq!(
            Weights::SEED.to_string(),
            "insert_tables=8 update_tables=5 take_snapshot=3 remove_invisible=3 remove_visible=3"
        );
        assert!(Weights::SEED.is_valid());
        assert!(!Weights::from_array([0; 5]).is_valid());
        assert!(!Weights::from_array([u64::MAX, 1, 0, 0, 0]).is_valid());
        assert!(!Weights::SEED.has_extended() && Weights::EXTENDED.has_extended());
        assert_eq!(Weights::EXTENDED.as_array(), [800, 500, 300, 300, 300]);
        assert_eq!(
            Weights::from_all(Weights::EXTENDED.all()),
            Weights::EXTENDED
        );
        assert_eq!(Weights::SEED.with(OpKind::Reset, 2).reset, 2);
        assert!(Weights::EXTENDED
            .to_string()
            .ends_with("misuse_invalid_snapshot=20"));
        // Zero extended weights draw exactly as the seed's five did.
        let (mut a, mut b) = (Prng::from_seed(9), Prng::from_seed(9));
        for _ in 0..1_000 {
            let kind = Weights::SEED.draw(&mut a);
            assert_eq!(
                kind.index(),
                b.weighted(&Weights::SEED.as_array()),
                "same draws"
            );
        }
        let only_snapshots = Weights::from_array([0, 0, 1, 0, 0]);
        let mut prng = Prng::from_seed(1);
        for _ in 0..100 {
            assert_eq!(only_snapshots.draw(&mut prng), OpKind::TakeSnapshot);
        }
    }
}

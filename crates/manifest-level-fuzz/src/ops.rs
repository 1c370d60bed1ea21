//! The fuzzer's operations ([`FuzzOp`]), their kinds ([`OpKind`]) and the weights they are
//! drawn with ([`Weights`]).
//!
//! An op is plain data: a run is a list of ops, generated from a seed
//! ([`generate`](crate::generate)) or given explicitly (a recorded trace, a shrunk
//! reproducer), and executed by the [`Environment`](crate::environment::Environment).
//! Ops serialize with `serde` as internally tagged objects, one per JSON line in a trace:
//!
//! ```text
//! {"op":"insert_tables","count":3}
//! {"op":"take_snapshot"}
//! ```

use core::fmt;

use serde::{Deserialize, Serialize};

use crate::prng::Prng;

/// One step of a fuzz run, as spec §4.2 lists them.
///
/// Counts are always at least 1; which counts are valid depends on the state the earlier
/// ops left (see [`GenerateContext::apply`](crate::generate::GenerateContext::apply)).
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
    /// Advance the current snapshot by one: the tables retired so far become invisible.
    TakeSnapshot,
    /// Remove the last `count` tables invisible to latest and to the current snapshot.
    RemoveInvisible {
        /// Number of tables.
        count: u32,
    },
    /// Remove the last `count` tables visible to latest.
    RemoveVisible {
        /// Number of tables.
        count: u32,
    },
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
        }
    }

    /// The op's table count, or `None` for [`FuzzOp::TakeSnapshot`].
    pub fn count(&self) -> Option<u32> {
        match *self {
            FuzzOp::InsertTables { count }
            | FuzzOp::UpdateTables { count }
            | FuzzOp::RemoveInvisible { count }
            | FuzzOp::RemoveVisible { count } => Some(count),
            FuzzOp::TakeSnapshot => None,
        }
    }

    /// The same op with its count replaced by `count` (no change for
    /// [`FuzzOp::TakeSnapshot`]). For shrinking.
    #[must_use]
    pub fn with_count(self, count: u32) -> FuzzOp {
        match self {
            FuzzOp::InsertTables { .. } => FuzzOp::InsertTables { count },
            FuzzOp::UpdateTables { .. } => FuzzOp::UpdateTables { count },
            FuzzOp::TakeSnapshot => FuzzOp::TakeSnapshot,
            FuzzOp::RemoveInvisible { .. } => FuzzOp::RemoveInvisible { count },
            FuzzOp::RemoveVisible { .. } => FuzzOp::RemoveVisible { count },
        }
    }
}

/// `insert_tables(3)`, `take_snapshot`, ...
impl fmt::Display for FuzzOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.count() {
            Some(count) => write!(f, "{}({count})", self.kind()),
            None => write!(f, "{}", self.kind()),
        }
    }
}

/// The kind of a [`FuzzOp`], without its count: what the weighted draw picks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    /// [`FuzzOp::InsertTables`].
    InsertTables,
    /// [`FuzzOp::UpdateTables`].
    UpdateTables,
    /// [`FuzzOp::TakeSnapshot`].
    TakeSnapshot,
    /// [`FuzzOp::RemoveInvisible`].
    RemoveInvisible,
    /// [`FuzzOp::RemoveVisible`].
    RemoveVisible,
}

impl OpKind {
    /// Every kind, in declaration order (the order of [`Weights::as_array`]).
    pub const ALL: [OpKind; 5] = [
        OpKind::InsertTables,
        OpKind::UpdateTables,
        OpKind::TakeSnapshot,
        OpKind::RemoveInvisible,
        OpKind::RemoveVisible,
    ];

    /// Position in [`OpKind::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The snake_case name, as in traces and logs.
    pub fn name(self) -> &'static str {
        match self {
            OpKind::InsertTables => "insert_tables",
            OpKind::UpdateTables => "update_tables",
            OpKind::TakeSnapshot => "take_snapshot",
            OpKind::RemoveInvisible => "remove_invisible",
            OpKind::RemoveVisible => "remove_visible",
        }
    }
}

impl fmt::Display for OpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The relative weight of each [`OpKind`] in the draw.
///
/// The seed's fuzzer uses [`Weights::SEED`] (8/5/3/3/3) for every run. Swarm testing
/// replaces them per seed, possibly switching kinds off (weight 0); the generator's
/// fallbacks may still produce a switched-off kind when the drawn one cannot apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Weights {
    /// Weight of [`OpKind::InsertTables`].
    pub insert_tables: u64,
    /// Weight of [`OpKind::UpdateTables`].
    pub update_tables: u64,
    /// Weight of [`OpKind::TakeSnapshot`].
    pub take_snapshot: u64,
    /// Weight of [`OpKind::RemoveInvisible`].
    pub remove_invisible: u64,
    /// Weight of [`OpKind::RemoveVisible`].
    pub remove_visible: u64,
}

impl Weights {
    /// The seed's weights: insert 8, update 5, take snapshot 3, remove invisible 3,
    /// remove visible 3.
    pub const SEED: Weights = Weights {
        insert_tables: 8,
        update_tables: 5,
        take_snapshot: 3,
        remove_invisible: 3,
        remove_visible: 3,
    };

    /// Weights from an array ordered as [`OpKind::ALL`].
    pub fn from_array(weights: [u64; 5]) -> Weights {
        let [insert_tables, update_tables, take_snapshot, remove_invisible, remove_visible] =
            weights;
        Weights {
            insert_tables,
            update_tables,
            take_snapshot,
            remove_invisible,
            remove_visible,
        }
    }

    /// The weights as an array ordered as [`OpKind::ALL`].
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
        self.as_array()[kind.index()]
    }

    /// Whether the weights can be drawn from: their sum is non-zero and fits a `u64`.
    pub fn is_valid(&self) -> bool {
        self.as_array()
            .iter()
            .try_fold(0u64, |sum, &weight| sum.checked_add(weight))
            .is_some_and(|sum| sum > 0)
    }

    /// Draws a kind with probability proportional to its weight (one
    /// [`Prng::weighted`] call).
    ///
    /// # Panics
    ///
    /// If the weights are not [valid](Weights::is_valid).
    pub fn draw(&self, prng: &mut Prng) -> OpKind {
        OpKind::ALL[prng.weighted(&self.as_array())]
    }
}

impl Default for Weights {
    fn default() -> Self {
        Weights::SEED
    }
}

/// `insert_tables=8 update_tables=5 take_snapshot=3 remove_invisible=3 remove_visible=3`
impl fmt::Display for Weights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, kind) in OpKind::ALL.into_iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{kind}={}", self.get(kind))?;
        }
        Ok(())
    }
}

/// How many ops of each kind a run executed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OpCounts([u64; 5]);

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

/// `insert_tables=12 update_tables=7 ...`
impl fmt::Display for OpCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, kind) in OpKind::ALL.into_iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
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
        let only_snapshots = Weights::from_array([0, 0, 1, 0, 0]);
        let mut prng = Prng::from_seed(1);
        for _ in 0..100 {
            assert_eq!(only_snapshots.draw(&mut prng), OpKind::TakeSnapshot);
        }
    }
}

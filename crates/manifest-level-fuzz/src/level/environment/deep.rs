//! Deep checking (`--check deep`): after every op, the level against the model, whole or in
//! rotating windows (see the sampling policy below).
//!
//! The faithful mode checks the tables an op touches and, after the op, the counters and
//! `key_range_latest`. A [`DeepChecker`] runs after those checks and compares everything
//! observable:
//!
//! - **visibility classes**, each iterated in both directions and compared table by table
//!   (and reference by reference: generation and index) with the model: visible to
//!   latest, to the current snapshot, to a random snapshot issued so far; invisible to
//!   `[]` and to the current snapshot; and with retained snapshots (extended op set): the
//!   set of all of them, and that set with the current one, each as a visible class (seen
//!   by any snapshot of the set) and an invisible one (seen by none of them, nor by
//!   latest), and visible to one of them alone (the next one in turn each op, so every
//!   retained snapshot is covered within as many ops as there are retained snapshots).
//!   The model's side of every class is [`crate::level::oracle`]'s, not the
//!   library's `Query::matches`;
//! - **key ranges**: random ranges (around tables, on their edges, between two tables,
//!   anywhere), each for a random class and direction;
//! - **counters**: `len`, `table_count_visible`, `value_count_visible`,
//!   `key_range_latest` recomputed from the model, and `generation` against the number
//!   of inserts, removes and resets;
//! - **lookups**: `find` and `contains` for present tables and for perturbed copies
//!   (another address, checksum, `snapshot_max`, `key_max`, `snapshot_min` or value
//!   count: absent, or found but not equal), and with `u128` keys a copy whose `key_max`
//!   has the other low half (off the embedding's image: absent);
//! - **`key_range_contains`** on random keys and on the edges of `key_range_latest` (with
//!   `u128` keys, also the key next to each off the embedding's image): exactly
//!   `key_range_latest` for `SNAPSHOT_LATEST`, always `true` for other snapshots;
//! - **nodes**: each node checked starts where the one before it ends, is filled within
//!   its bounds and holds the model's tables at its level indexes ([`nodes`]);
//! - **`verify()`**, the level's own from-scratch check of its structure (it panics on a
//!   violation, which the runner reports like any panic), the node capacity its node size
//!   gives, and level B (and C) against its model (extended op set);
//! - **the library's predicates** (`TableInfo`, `KeyRange`, `Query`, `Direction`) on
//!   random tables, snapshots, ranges and keys, against the oracle's answers
//!   ([`predicates`]).
//!
//! # Sampling policy (bounded cost)
//!
//! With `n` tables in the level in `c` nodes of at most `capacity` tables, every op gets,
//! whatever `n`:
//!
//! - **Where the op changed the level:** the nodes at the places of the first and the
//!   latest table it inserted, retired or removed (the model's [touched
//!   places](crate::level::model::Model::touched)), with the node before when the place
//!   starts its node (a removal at a node's end shrank that one) and both neighbours when
//!   the op changed the level's layout (a split, merge or borrow), held to the layout
//!   rules and to the model table by table ([`nodes`]: start, fill, contents), and
//!   `find` of each such node's first table (a search that ends at a node boundary).
//!   For an op that changes one or two places, this and the faithful checks of its
//!   tables are what the level's `verify()` would say about the part it changed;
//!   an op that changes many places (an update or removal of several tables, a
//!   compaction, which also packs the whole level, a rebuild) has its other nodes left
//!   to the rotation and the full checks.
//! - **One node in rotation**, held to the same rules, so every node is checked within
//!   `c` ops.
//! - **One window** for the next (class, direction) pair in rotation: the key range of
//!   the next [`WINDOW`] (16) model tables from where that pair's previous window stopped
//!   (wrapping around at the end), every table of the class in that range compared, so
//!   every class is covered whole in both directions over `n / WINDOW` of its turns.
//! - **One lookup**, `find` of a table and of a perturbed copy (and `contains` of both,
//!   a thin predicate over `find`, on two ops in every `2 * PREDICATES_EVERY`, one of
//!   each kind): on even ops the next model table in rotation (every table within `2n`
//!   ops), on odd ones a random one.
//! - **One random key range**, every table of its class in it compared (a range spanning
//!   more than [`RANGE_TABLES_MAX`] model tables is cut there, from the end its direction
//!   starts at: most drawn ranges are narrow and end before that), and [`KEYS_PER_OP`]
//!   keys for `key_range_contains`.
//! - **The counters**: `table_count_visible` and `value_count_visible` as the
//!   environment tracked them op by op (recomputed from the model only in full checks),
//!   `len`, the generation, and `key_range_latest` (the model's first and last live
//!   tables, found by walking in from both ends).
//! - **The library's predicates** on every [`PREDICATES_EVERY`]th op.
//!
//! **Full check** at the checker's ops 1, 2, 4, 8, ... (exponentially spaced, so every
//! run gets some early and some late), every [`full_interval`]`(n)` ops, and as the run's
//! last check ([`DeepChecker::finish`]): every class whole in both directions,
//! `find`/`contains` for every table, the counters recomputed from the model, the level's
//! own `verify()`, and levels B and C. O(n) times the number of classes (5 to 10);
//! [`full_interval`]`(n)` is [`FULL_EVERY`] (32) times `n / WINDOW`, about `2n` ops, so
//! amortized it stays about one table per class and direction per op at any size.
//!
//! **Scanning classes.** The level answers a key range of a class other than "visible to
//! one snapshot" by scanning to its end, and one of a snapshot that sees few tables (a
//! historic or a retained one) by scanning to the first table that snapshot sees past
//! the range. Every class but the two dense ones (visible to latest, to the current
//! snapshot) therefore takes one window turn and one random range in `n /`
//! [`SCAN_TABLES`] (32); its other turns go to the next dense class, its other ranges to
//! a dense class drawn at random. Its full checks keep their schedule.
//!
//! So an op costs O(`capacity` + [`WINDOW`] + [`RANGE_TABLES_MAX`] + log n) table visits
//! for the dense classes, about [`SCAN_TABLES`] more, amortized, for the others (the
//! model's walk also reaches [`WIDTH_MAX`] past a range, and to the wider tables beyond it
//! that reach back into it), and the
//! full checks' O(n) every `2n` ops: bounded, whatever the level's size.
//!
//! **Detection delay.** A corruption in the nodes checked at an op's places is seen at
//! that op. One elsewhere (a stale index entry, a node the op changed beyond its first
//! and latest place, a node it did not touch) is seen by the rotations:
//! its node within `c` ops, its table's lookup within `2n` ops, its class and direction
//! within `n / WINDOW` turns of that pair (a turn every `2 * classes` ops, and only one
//! round in `n / SCAN_TABLES` for a scanning class), and in any case at the next full
//! check: within [`full_interval`]`(n)` ops (about `2n`), and at the latest at the end
//! of the run. The planted faults' tests (`tests/deep_faults.rs`) hold the deep mode to
//! catching every fault no later than the faithful mode, and the latent ones (a
//! descending iteration that skips a node, a search off by one at node boundaries, an
//! invisible class off by one at `snapshot_max`) strictly earlier, on each of their
//! seeds.
//!
//! The checker allocates nothing per op: the snapshot sets live in fixed arrays on the
//! stack and both sides are compared while iterating.
//!
//! # Determinism
//!
//! Every random choice comes from the checker's own stream (a fork of the run's seed), so
//! a deep run executes exactly the same ops on exactly the same tables as a faithful run
//! of the same seed: their op indexes are comparable, and a failure the faithful checks
//! find at op `i` is found by the deep checks at op `i` or earlier.

use core::fmt;

use manifest_level::{
    Direction, KeyRange, LayoutEvents, ManifestLevel, Query, TableInfo, Visibility,
    SNAPSHOT_LATEST, SNAPSHOT_MAX_LIVE,
};
use serde::{Deserialize, Serialize};

use crate::level::environment::extended::check_level_b;
use crate::level::environment::{check, check_eq, Check, CheckFailure, Environment};
use crate::level::environment::{nodes, predicates};
use crate::level::generate::RETAINED_MAX;
use crate::level::key::{embed_query, embed_range, embed_table, FuzzKey};
use crate::level::model::{Key, Model, Table, TOUCHED_MAX, WIDTH_MAX};
use crate::level::oracle;
use crate::level::sample::{pick_edge_key, pick_range, pick_snapshot};
use crate::support::prng::Prng;

/// How much a run checks after every op.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckMode {
    /// The seed's checks: the tables each op touches, then the counters and
    /// `key_range_latest`.
    #[default]
    Faithful,
    /// The faithful checks plus a [`DeepChecker`] after every op.
    Deep,
}

impl CheckMode {
    /// Every mode, in the order `--help` lists them.
    pub const ALL: [CheckMode; 2] = [CheckMode::Faithful, CheckMode::Deep];

    /// The mode called `name` (see [`CheckMode::name`]).
    pub fn from_name(name: &str) -> Option<CheckMode> {
        CheckMode::ALL.into_iter().find(|mode| mode.name() == name)
    }

    /// `faithful` or `deep`.
    pub fn name(self) -> &'static str {
        match self {
            CheckMode::Faithful => "faithful",
            CheckMode::Deep => "deep",
        }
    }
}

impl fmt::Display for CheckMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Every this many ops, times `n / WINDOW`, get a full check (besides ops 1, 2, 4, ...).
pub const FULL_EVERY: u64 = 32;

/// Model tables a window of a sampled check spans.
pub const WINDOW: usize = 16;

/// Windows per sampled check.
pub const WINDOWS_PER_OP: usize = 1;

/// The most model tables one random key range spans.
pub const RANGE_TABLES_MAX: usize = 2 * WINDOW;

/// The library's predicates are checked on every this many ops ([`predicates`]; they are
/// free functions of their arguments, so the ops between lose nothing the level holds);
/// so is `contains` on the op's lookup (a thin predicate over `find`, which every lookup
/// checks; see [`DeepChecker::lookup`]).
pub const PREDICATES_EVERY: u64 = 8;

/// Random keys for `key_range_contains` per op.
pub const KEYS_PER_OP: usize = 6;

/// The most visibility classes checked per op.
const CLASSES_MAX: usize = 10;

/// The level answers a key range of a class other than "visible to one snapshot" by
/// scanning to its end (no other class lets it stop early), and one of a snapshot that
/// sees few tables (a historic or retained one) by scanning to the first table that
/// snapshot sees past the range, often far. Above this many tables such a *scanning*
/// class takes one window turn and one random range in every `n / SCAN_TABLES` (its
/// other turns go to the next dense class, its other ranges to a dense class drawn at
/// random), so those scans cost about this many tables per op, amortized.
pub const SCAN_TABLES: usize = 32;

/// The classes [`DeepChecker::classes`] puts first, the *dense* ones: visible to latest
/// and to the current snapshot (each sees most tables, so a key range of either stops
/// right past its end).
const DENSE_CLASSES: usize = 2;

/// A visibility class: a visibility and its snapshot set, in a fixed array.
#[derive(Clone, Copy)]
struct Class {
    visibility: Visibility,
    snapshots: [u64; RETAINED_MAX + 1],
    len: usize,
    /// Whether a key range of this class may make the level scan far past it.
    scans: bool,
}

impl Class {
    fn new(visibility: Visibility, snapshots: &[u64], extra: Option<u64>) -> Class {
        let mut class = Class {
            visibility,
            snapshots: [0; RETAINED_MAX + 1],
            len: snapshots.len(),
            scans: true,
        };
        class.snapshots[..snapshots.len()].copy_from_slice(snapshots);
        if let Some(extra) = extra {
            class.snapshots[class.len] = extra;
            class.len += 1;
        }
        class
    }

    fn snapshots(&self) -> &[u64] {
        &self.snapshots[..self.len]
    }

    /// This class, marked dense: a key range of it stops right past its end.
    fn dense(self) -> Class {
        debug_assert!(self.visibility == Visibility::Visible && self.len == 1);
        Class {
            scans: false,
            ..self
        }
    }

    /// Whether a key range of this class may make the level scan far past it (see
    /// [`SCAN_TABLES`]): every class but the [`DENSE_CLASSES`].
    fn scans(&self) -> bool {
        self.scans
    }

    fn query(&self) -> Query<'_, Key> {
        match self.visibility {
            Visibility::Visible => Query::visible(self.snapshots()),
            Visibility::Invisible => Query::invisible(self.snapshots()),
        }
    }
}

/// The visibility classes of one op, in a fixed array.
struct Classes {
    classes: [Class; CLASSES_MAX],
    len: usize,
}

impl Classes {
    /// No class yet.
    fn new() -> Classes {
        Classes {
            classes: [Class::new(Visibility::Visible, &[], None); CLASSES_MAX],
            len: 0,
        }
    }

    /// Adds `class` (at most [`CLASSES_MAX`] in all).
    fn push(&mut self, class: Class) {
        self.classes[self.len] = class;
        self.len += 1;
    }

    /// The classes added so far.
    fn as_slice(&self) -> &[Class] {
        &self.classes[..self.len]
    }
}

/// The counters of `env`'s level: `len`, `generation` and `is_empty`; the visible
/// counters recomputed from the model when `full`, else as the ops tracked them; and
/// `key_range_latest`, which it returns (the model's).
fn check_counters<K: FuzzKey>(
    env: &Environment<'_, K>,
    full: bool,
) -> Result<Option<KeyRange<Key>>, CheckFailure> {
    let level = env.level();
    let model = env.model();
    let n = model.len();
    check_eq!(Check::TableCount, expected: n, found: level.len() as usize);
    check_eq!(Check::Generation, expected: env.expected_generation(), found: level.generation());
    check_eq!(Check::TableCount, expected: n == 0, found: level.is_empty());
    if full {
        let (count, values) = model
            .tables()
            .iter()
            .filter(|table| oracle::sees(SNAPSHOT_LATEST, table))
            .fold((0u32, 0u64), |(count, values), table| {
                (count + 1, values + u64::from(table.value_count))
            });
        check_eq!(Check::TableCountVisible, expected: count, found: level.table_count_visible());
        check_eq!(Check::ValueCountVisible, expected: values, found: level.value_count_visible());
    } else {
        check_eq!(Check::TableCountVisible, expected: env.live_count(), found: level.table_count_visible());
        check_eq!(Check::ValueCountVisible, expected: env.live_values(), found: level.value_count_visible());
    }
    let key_range_latest = model.key_range_latest();
    check_eq!(
        Check::KeyRangeLatest,
        expected: key_range_latest.map(embed_range::<K>),
        found: level.key_range_latest(),
    );
    Ok(key_range_latest)
}

/// How many checks of each kind a [`DeepChecker`] ran.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeepStats {
    /// Ops checked.
    pub ops: u64,
    /// Full checks (see the [module docs](self)).
    pub full: u64,
    /// Sampled checks.
    pub sampled: u64,
    /// Iterations compared (whole classes, windows and ranges).
    pub iterations: u64,
    /// Tables compared during those iterations.
    pub tables_compared: u64,
    /// `find`/`contains` lookups.
    pub lookups: u64,
    /// Nodes held to the layout rules and the model ([`nodes`]).
    pub nodes: u64,
}

/// The deep checks of one run. See the [module docs](self).
#[derive(Clone, Debug)]
pub struct DeepChecker {
    prng: Prng,
    stats: DeepStats,
    /// The next (class, direction) pair a window checks.
    rotation: usize,
    /// Where each pair's next window starts (a key: ascending windows run up from it,
    /// descending ones down).
    cursors: [Key; 2 * CLASSES_MAX],
    /// Ops since the last full check.
    since_full: u64,
    /// The node the next op checks in rotation (modulo the level's node count).
    node_cursor: u32,
    /// The model index the next op looks up in rotation (modulo the model's length).
    lookup_cursor: usize,
    /// The level's layout events as the previous op left them.
    layout_events: LayoutEvents,
    /// The stream of [`predicates`]' choices (its own, so the others' draws are as they
    /// were without it).
    predicates: Prng,
}

/// A node holds its node size over a table's size, rounded down to even, tables; the pool
/// reserves at least its nodes' bytes.
fn check_node_shape<K: FuzzKey>(level: &ManifestLevel<'_, K>) -> Result<(), CheckFailure> {
    let pool = level.pool();
    let per_node = pool.node_size() / core::mem::size_of::<TableInfo<K>>();
    check_eq!(
        Check::NodeShape,
        expected: (per_node as u32 & !1, true),
        found: (
            level.node_capacity(),
            pool.memory_bytes() >= pool.node_size() * pool.node_count() as usize
        ),
    );
    Ok(())
}

/// Mixed into the deep stream's first output to seed the [`predicates`] stream.
const PREDICATES_STREAM: u64 = 0x5052_4544_4943_4154;

/// How many ops apart the scheduled full checks of a level of `n` tables are (besides
/// the checker's ops 1, 2, 4, ...): [`FULL_EVERY`] times `n / WINDOW` (rounded up), so
/// that their cost, amortized over the ops in between, stays bounded whatever the
/// level's size.
pub fn full_interval(n: usize) -> u64 {
    FULL_EVERY * n.div_ceil(WINDOW) as u64
}

impl DeepChecker {
    /// A checker drawing its random choices from `prng` (the run's deep stream).
    pub fn new(prng: Prng) -> DeepChecker {
        let mut cursors = [0; 2 * CLASSES_MAX];
        for pair in (1..cursors.len()).step_by(2) {
            cursors[pair] = Key::MAX;
        }
        let predicates = Prng::from_seed(prng.clone().next_u64() ^ PREDICATES_STREAM);
        DeepChecker {
            prng,
            stats: DeepStats::default(),
            rotation: 0,
            cursors,
            since_full: 0,
            node_cursor: 0,
            lookup_cursor: 0,
            layout_events: LayoutEvents::default(),
            predicates,
        }
    }

    /// What the checker did so far.
    pub fn stats(&self) -> &DeepStats {
        &self.stats
    }

    /// Checks the whole level of `env` against its model (full or sampled, see the
    /// [module docs](self)).
    pub fn check<K: FuzzKey>(&mut self, env: &Environment<'_, K>) -> Result<(), CheckFailure> {
        let n = env.model().len();
        self.stats.ops += 1;
        self.since_full += 1;
        let scheduled = self.since_full >= full_interval(n) || self.stats.ops.is_power_of_two();
        if scheduled {
            self.since_full = 0;
        }
        let key_range_latest = check_counters(env, scheduled)?;
        let classes = self.classes(env);
        let classes = classes.as_slice();
        if scheduled {
            self.full_check(env, classes)?;
        } else {
            self.sampled_check(env, classes)?;
        }
        self.check_nodes(env)?;
        self.check_range(env, classes)?;
        self.check_key_range_contains(env, key_range_latest)?;
        if self.stats.ops % PREDICATES_EVERY == 0 {
            predicates::check_predicates(&mut self.predicates, env)?;
        }
        Ok(())
    }

    /// The visibility classes of this op (see the [module docs](self)); draws the
    /// historic snapshot.
    fn classes<K: FuzzKey>(&mut self, env: &Environment<'_, K>) -> Classes {
        let current = env.snapshot();
        let retained = env.retained();
        let historic = self.prng.range_inclusive(1, current);
        let mut classes = Classes::new();
        classes.push(Class::new(Visibility::Visible, &[SNAPSHOT_LATEST], None).dense());
        classes.push(Class::new(Visibility::Visible, &[current], None).dense());
        debug_assert_eq!(classes.len, DENSE_CLASSES);
        classes.push(Class::new(Visibility::Visible, &[historic], None));
        classes.push(Class::new(Visibility::Invisible, &[], None));
        classes.push(Class::new(Visibility::Invisible, &[current], None));
        if !retained.is_empty() {
            classes.push(Class::new(Visibility::Visible, retained, Some(current)));
            classes.push(Class::new(Visibility::Invisible, retained, Some(current)));
            classes.push(Class::new(Visibility::Invisible, retained, None));
            if retained.len() > 1 {
                classes.push(Class::new(Visibility::Visible, retained, None));
            }
            // One retained snapshot alone per op, in rotation (the single-snapshot
            // code paths are the same for every snapshot; the sets above cover all).
            let snapshot = retained[(self.stats.ops % retained.len() as u64) as usize];
            classes.push(Class::new(Visibility::Visible, &[snapshot], None));
        }
        classes
    }

    /// A full check: every class whole in both directions, `find`/`contains` for every
    /// table, the op's lookup of a perturbed copy, `verify()`, and level B.
    fn full_check<K: FuzzKey>(
        &mut self,
        env: &Environment<'_, K>,
        classes: &[Class],
    ) -> Result<(), CheckFailure> {
        let level = env.level();
        let model = env.model();
        self.stats.full += 1;
        self.compare_classes(env, classes, &[Direction::Ascending, Direction::Descending])?;
        for (index, table) in model.tables().iter().enumerate() {
            self.lookup(level, model, index, table, false)?;
        }
        self.lookups(env)?;
        level.verify();
        check_node_shape(level)?;
        if let Some(ext) = &env.ext {
            ext.level_b.verify();
            if let Some(level_c) = &ext.level_c {
                level_c.verify();
            }
            check_level_b(ext)?;
        }
        Ok(())
    }

    /// Every class whole, in each of `directions`.
    fn compare_classes<K: FuzzKey>(
        &mut self,
        env: &Environment<'_, K>,
        classes: &[Class],
        directions: &[Direction],
    ) -> Result<(), CheckFailure> {
        for class in classes {
            for &direction in directions {
                self.compare(env.level(), env.model(), class.query().direction(direction))?;
            }
        }
        Ok(())
    }

    /// `find` (and at times `contains`: [`DeepChecker::lookup`]) for one table and a
    /// perturbed copy of it: on even ops the next model table in rotation (so every table
    /// is looked up within `2n` ops), on odd ones a random table.
    fn lookups<K: FuzzKey>(&mut self, env: &Environment<'_, K>) -> Result<(), CheckFailure> {
        let model = env.model();
        if model.is_empty() {
            return Ok(());
        }
        let index = if self.stats.ops % 2 == 0 {
            let index = self.lookup_cursor % model.len();
            self.lookup_cursor = index + 1;
            index
        } else {
            self.prng.index(model.len())
        };
        self.lookup(env.level(), model, index, model.get(index), true)
    }

    /// A sampled check: [`WINDOWS_PER_OP`] windows and the lookups.
    fn sampled_check<K: FuzzKey>(
        &mut self,
        env: &Environment<'_, K>,
        classes: &[Class],
    ) -> Result<(), CheckFailure> {
        self.stats.sampled += 1;
        for _ in 0..WINDOWS_PER_OP {
            self.window(env.level(), env.model(), classes)?;
        }
        self.lookups(env)
    }

    /// The nodes at the places the op touched ([`Model::touched`]), each with the node
    /// before it when the place starts its node (a removal at a node's end shrank that
    /// one) and with both neighbours when the op changed the level's layout (a split
    /// leaves the lower half behind, a merge or a borrow takes from the next node); each
    /// with `find` of its first table (a search that ends at a node boundary);
    /// and the next node in rotation: all held to the layout rules and the model
    /// ([`nodes`]). At most `3 * TOUCHED_MAX + 1` nodes, none twice.
    fn check_nodes<K: FuzzKey>(&mut self, env: &Environment<'_, K>) -> Result<(), CheckFailure> {
        let level = env.level();
        let model = env.model();
        let events = level.layout_events();
        let relaid = events != self.layout_events;
        self.layout_events = events;
        let mut seen = [u32::MAX; 3 * TOUCHED_MAX + 1];
        let mut seen_len = 0;
        let mut visit = |node: u32, stats: &mut DeepStats| {
            let fresh = node < level.node_count() && !seen[..seen_len].contains(&node);
            if fresh {
                seen[seen_len] = node;
                seen_len += 1;
                stats.nodes += 1;
                nodes::check_node(level, model, node)?;
            }
            Ok(fresh)
        };
        for &touched in model.touched() {
            let Some((node, first)) = nodes::place(level, model, touched)? else {
                continue;
            };
            let before = (first || relaid).then(|| node.checked_sub(1)).flatten();
            let after = relaid.then_some(node + 1);
            for node in [Some(node), before, after].into_iter().flatten() {
                if visit(node, &mut self.stats)? {
                    self.stats.lookups += 1;
                    let start = level.node_start(node) as usize;
                    find_present(level, start, &embed_table(model.get(start)))?;
                }
            }
        }
        if level.node_count() > 0 {
            let node = self.node_cursor % level.node_count();
            self.node_cursor = node.wrapping_add(1);
            visit(node, &mut self.stats)?;
        }
        Ok(())
    }

    /// The run's last check: a full one (see the [module docs](self)), whatever the
    /// schedule, so every run ends with every class, every lookup and `verify()`.
    pub fn finish<K: FuzzKey>(&mut self, env: &Environment<'_, K>) -> Result<(), CheckFailure> {
        check_counters(env, true)?;
        let classes = self.classes(env);
        self.full_check(env, classes.as_slice())
    }

    /// A random key range for a random class and direction, every table of the class in
    /// the range compared. A range spanning more than
    /// [`RANGE_TABLES_MAX`] model tables is cut there, from the end its direction starts
    /// at; most drawn ranges are narrow and end before that.
    fn check_range<K: FuzzKey>(
        &mut self,
        env: &Environment<'_, K>,
        classes: &[Class],
    ) -> Result<(), CheckFailure> {
        let level = env.level();
        let model = env.model();
        let key_space = env.key_space();
        let mut class = &classes[self.prng.index(classes.len())];
        if class.scans() && self.stats.ops % scan_spacing(model.len()) != 0 {
            class = &classes[self.prng.index(DENSE_CLASSES)];
        }
        let direction = if self.prng.boolean() {
            Direction::Descending
        } else {
            Direction::Ascending
        };
        let range = pick_range(&mut self.prng, model.tables(), key_space);
        let range = cut_range(model.tables(), range, direction, RANGE_TABLES_MAX);
        let query = class.query().direction(direction).within(range);
        self.compare(level, model, query)
    }

    /// `key_range_contains` for [`KEYS_PER_OP`] keys (the edges of `key_range_latest`,
    /// the model's, then keys on or next to table edges): at latest exactly
    /// `key_range_latest`, at another snapshot always `true`.
    ///
    /// The model's keys are embedded into the level's key type; with `u128` keys each
    /// probe also asks for the key next to it outside the embedding's image.
    fn check_key_range_contains<K: FuzzKey>(
        &mut self,
        env: &Environment<'_, K>,
        key_range_latest: Option<KeyRange<Key>>,
    ) -> Result<(), CheckFailure> {
        let model = env.model();
        let range = key_range_latest.map(embed_range::<K>);
        for i in 0..KEYS_PER_OP {
            let key = match (i, key_range_latest) {
                (0, Some(range)) => range.key_min().saturating_sub(1),
                (1, Some(range)) => range.key_max().saturating_add(1),
                (2, Some(range)) => range.key_min(),
                (3, Some(range)) => range.key_max(),
                _ => pick_edge_key(&mut self.prng, model.tables()),
            };
            let key = K::embed(key);
            let snapshot = pick_snapshot(&mut self.prng, env.snapshot(), env.retained());
            for key in core::iter::once(key).chain(key.off_image()) {
                check_key_range_contains_at(env, range, key, snapshot)?;
            }
        }
        Ok(())
    }

    /// One window of a sampled check: the next (class, direction) pair in rotation, over
    /// the key range of the next [`WINDOW`] model tables from that pair's cursor key
    /// ([`window_range`]), every table of the class in that range compared. The window
    /// is bounded by the tables it spans, not by the tables of the class it finds, so a
    /// sparse class (the invisible ones) costs no more than a dense one.
    fn window<K: FuzzKey>(
        &mut self,
        level: &ManifestLevel<'_, K>,
        model: &Model,
        classes: &[Class],
    ) -> Result<(), CheckFailure> {
        let spacing = scan_spacing(model.len());
        let mut pair = self.rotation % (2 * classes.len());
        let round = (self.rotation / (2 * classes.len())) as u64;
        self.rotation = self.rotation.wrapping_add(1);
        // A scanning class's turn, off its one turn in `spacing` rounds, goes to the next
        // dense class (class 0, visible to latest, is one, so this ends within one round).
        for _ in 0..classes.len() {
            if !classes[pair / 2].scans() || round % spacing == 0 {
                break;
            }
            pair = (pair + 2) % (2 * classes.len());
        }
        assert!(!classes[pair / 2].scans() || round % spacing == 0);
        let class = &classes[pair / 2];
        let cursor = self.cursors[pair];
        let direction = if pair % 2 == 0 {
            Direction::Ascending
        } else {
            Direction::Descending
        };
        let (range, at_end) = window_range(model.tables(), cursor, direction, WINDOW);
        let query = class.query().direction(direction).within(range);
        self.compare(level, model, query)?;
        self.cursors[pair] = match (at_end, direction) {
            // The end: wrap around.
            (true, Direction::Ascending) => 0,
            (true, Direction::Descending) => Key::MAX,
            // Continue past the range: every table with a key_max in it was compared.
            (false, Direction::Ascending) => range.key_max().saturating_add(1),
            (false, Direction::Descending) => range.key_min().saturating_sub(1),
        };
        Ok(())
    }

    /// Compares `level.iter(query)` with the model's tables matching `query`, in order,
    /// with their references, then sees that the level yields nothing more.
    fn compare<K: FuzzKey>(
        &mut self,
        level: &ManifestLevel<'_, K>,
        model: &Model,
        query: Query<'_, Key>,
    ) -> Result<(), CheckFailure> {
        self.stats.iterations += 1;
        let generation = level.generation();
        let level_query = embed_query::<K>(&query);
        let mut found = level.iter(level_query);
        let mut compared = 0usize;
        visit_model_matches(model, &query, |index, expected| {
            let embedded = embed_table::<K>(expected);
            match found.next() {
                Some((reference, table))
                    if *table == embedded
                        && reference.index() as usize == index
                        && reference.generation() == generation => {}
                other => {
                    return Err(iteration_failure(
                        &level_query,
                        compared,
                        Some((index, &embedded)),
                        other.map(|(reference, table)| (reference, *table)),
                    ))
                }
            }
            compared += 1;
            Ok(())
        })?;
        self.stats.tables_compared += compared as u64;
        // Past the model's last table the level yields nothing, and asked again, still
        // nothing: an exhausted iterator stays exhausted.
        if let Some((reference, table)) = found.next().or_else(|| found.next()) {
            return Err(iteration_failure(
                &level_query,
                compared,
                None,
                Some((reference, *table)),
            ));
        }
        Ok(())
    }

    /// `find` and `contains` for the model's table at `index`, and with `perturb` (the
    /// one lookup per op of [`DeepChecker::lookups`], in sampled and full checks alike)
    /// for a perturbed copy and the off-image key too. Those check `contains` (a thin
    /// predicate over `find`) on two ops in every `2 * PREDICATES_EVERY` only, as the
    /// library's other predicates; lookups without `perturb` (every table of a full check)
    /// always do.
    fn lookup<K: FuzzKey>(
        &mut self,
        level: &ManifestLevel<'_, K>,
        model: &Model,
        index: usize,
        table: &Table,
        perturb: bool,
    ) -> Result<(), CheckFailure> {
        self.stats.lookups += 1;
        // Ops 2k and 2k + 1 for k a multiple of PREDICATES_EVERY: a rotation lookup and a
        // random one alike (the two alternate by op parity).
        let contains = !perturb || (self.stats.ops / 2) % PREDICATES_EVERY == 0;
        lookup_present(level, index, &embed_table(table), contains)?;
        if !perturb {
            return Ok(());
        }
        let copy = self.perturb(table);
        lookup_perturbed(level, model, &copy, contains)?;
        lookup_off_image(level, table, contains)
    }

    /// A copy of `table` with one field changed (drawn): another address, checksum,
    /// `snapshot_max`, `key_max`, `snapshot_min` or value count.
    fn perturb(&mut self, table: &Table) -> Table {
        let mut copy = *table;
        match self.prng.int_inclusive(5) {
            0 => copy.address = copy.address.wrapping_add(1).max(1),
            1 => copy.checksum ^= 1 << self.prng.int_inclusive(127),
            2 => {
                copy.snapshot_max = if oracle::is_live(&copy) {
                    copy.snapshot_min
                } else {
                    SNAPSHOT_MAX_LIVE
                }
            }
            3 => copy.key_max = copy.key_max.saturating_add(1),
            4 => copy.snapshot_min = copy.snapshot_min.saturating_sub(1),
            _ => copy.value_count ^= 1,
        }
        copy
    }
}

/// One turn in how many goes to a class the level answers by scanning ([`SCAN_TABLES`]).
fn scan_spacing(n: usize) -> u64 {
    n.div_ceil(SCAN_TABLES).max(1) as u64
}

/// The key range of the `count` model tables (by `key_max`, in `direction`) from
/// `cursor` on: from `cursor` to the `count`-th one's `key_max` (ascending) or from it
/// to `cursor` (descending), and whether the range reaches the end of the level (then it
/// runs to the end of the key space).
fn window_range(
    tables: &[Table],
    cursor: Key,
    direction: Direction,
    count: usize,
) -> (KeyRange<Key>, bool) {
    assert!(count > 0);
    let (range, at_end) = match direction {
        Direction::Ascending => {
            let first = tables.partition_point(|table| table.key_max < cursor);
            match tables.get(first + count - 1) {
                // The last table of the level ends the sweep: nothing is left past it.
                Some(last) if first + count < tables.len() => {
                    (KeyRange::new(cursor, last.key_max), false)
                }
                _ => (KeyRange::new(cursor, Key::MAX), true),
            }
        }
        Direction::Descending => {
            let end = tables.partition_point(|table| table.key_max <= cursor);
            match end.checked_sub(count) {
                Some(first) if end > count => (KeyRange::new(tables[first].key_max, cursor), false),
                _ => (KeyRange::new(0, cursor), true),
            }
        }
    };
    let range = range.expect("a window's ends are ordered");
    // A window that reaches an end of the key space holds every table past its cursor.
    let at_end = at_end
        || match direction {
            Direction::Ascending => range.key_max() == Key::MAX,
            Direction::Descending => range.key_min() == 0,
        };
    (range, at_end)
}

/// `range` cut to the key range of its first `count` model tables in `direction` (by
/// `key_max`), when it spans more.
fn cut_range(
    tables: &[Table],
    range: KeyRange<Key>,
    direction: Direction,
    count: usize,
) -> KeyRange<Key> {
    let cursor = match direction {
        Direction::Ascending => range.key_min(),
        Direction::Descending => range.key_max(),
    };
    let (window, _) = window_range(tables, cursor, direction, count);
    let cut = KeyRange::new(
        range.key_min().max(window.key_min()),
        range.key_max().min(window.key_max()),
    );
    cut.expect("a range and its window share their starting end")
}

/// The model's tables matching `query`, in the query's direction, each passed to `visit`
/// with its index (the first error stops the walk). With a key range the walk covers the
/// tables ending in it or at most [`WIDTH_MAX`] past it, then (from the model's wide
/// index) the wider tables ending further out that still reach back into it: every table
/// that can intersect the range, and few others.
fn visit_model_matches(
    model: &Model,
    query: &Query<'_, Key>,
    mut visit: impl FnMut(usize, &Table) -> Result<(), CheckFailure>,
) -> Result<(), CheckFailure> {
    let tables = model.tables();
    let mut offer = |index: usize, table: &Table| {
        if oracle::query_matches(query, table) {
            visit(index, table)?;
        }
        Ok(())
    };
    let Some(range) = query.key_range else {
        match query.direction {
            Direction::Ascending => tables.iter().enumerate().try_for_each(|(i, t)| offer(i, t)),
            Direction::Descending => {
                (tables.iter().enumerate().rev()).try_for_each(|(i, t)| offer(i, t))
            }
        }?;
        return Ok(());
    };
    let regular_end = range.key_max().saturating_add(WIDTH_MAX);
    let end = tables.partition_point(|table| table.key_max <= regular_end);
    let start = tables.partition_point(|table| table.key_max < range.key_min());
    let regular = start.min(end)..end;
    // The wide tables past `regular_end` that reach back into the range, in level order.
    let wide = model
        .wide_after(regular_end)
        .iter()
        .filter(|&&(_, _, key_min)| key_min <= range.key_max())
        .map(|&(key_max, snapshot_min, _)| model.lower_bound(key_max, snapshot_min));
    match query.direction {
        Direction::Ascending => {
            for index in regular.chain(wide) {
                offer(index, &tables[index])?;
            }
        }
        Direction::Descending => {
            for index in wide.rev().chain(regular.rev()) {
                offer(index, &tables[index])?;
            }
        }
    }
    Ok(())
}

/// `find` for `table`, the model's table at `index`: found, equal, at `index`, with the
/// level's generation; and with `contains`, that `contains` holds for it.
fn lookup_present<K: FuzzKey>(
    level: &ManifestLevel<'_, K>,
    index: usize,
    table: &TableInfo<K>,
    contains: bool,
) -> Result<(), CheckFailure> {
    find_present(level, index, table)?;
    check!(
        !contains || level.contains(table),
        Check::Contains,
        format!("true for {table:?}"),
        "false".into(),
    );
    Ok(())
}

/// `find` for `table`, the model's table at `index`: found, equal, at `index`, with the
/// level's generation.
fn find_present<K: FuzzKey>(
    level: &ManifestLevel<'_, K>,
    index: usize,
    table: &TableInfo<K>,
) -> Result<(), CheckFailure> {
    let generation = level.generation();
    match level.find(table) {
        Some((reference, found))
            if found == table
                && reference.index() as usize == index
                && reference.generation() == generation => {}
        found => {
            return Err(CheckFailure::new(
                Check::Find,
                (index, table),
                found.map(|(reference, table)| (reference, *table)),
            ))
        }
    }
    Ok(())
}

/// `find` and, with `check_contains`, `contains` for a perturbed `copy` of a model
/// table: `find` answers the model's table of the same identity, if any (at its index),
/// and `contains` holds only when that table equals `copy`.
fn lookup_perturbed<K: FuzzKey>(
    level: &ManifestLevel<'_, K>,
    model: &Model,
    copy: &Table,
    check_contains: bool,
) -> Result<(), CheckFailure> {
    let expected = model
        .find_identity(copy)
        .map(|index| (index, embed_table::<K>(model.get(index))));
    let copy = &embed_table::<K>(copy);
    let found = level.find(copy);
    let agrees = match (expected, found) {
        (None, None) => true,
        (Some((index, expected)), Some((reference, found))) => {
            *found == expected && reference.index() as usize == index
        }
        _ => false,
    };
    if !agrees {
        return Err(CheckFailure::new(
            Check::Find,
            (copy, expected),
            found.map(|(reference, table)| (reference, *table)),
        ));
    }
    let contains = expected.is_some_and(|(_, expected)| expected == *copy);
    check!(
        !check_contains || level.contains(copy) == contains,
        Check::Contains,
        format!("{contains} for {copy:?}"),
        format!("{}", !contains),
    );
    Ok(())
}

/// The failure of an iteration: which query, where, what the model expected and what the
/// level yielded.
fn iteration_failure<K: FuzzKey>(
    query: &Query<'_, K>,
    position: usize,
    expected: Option<(usize, &TableInfo<K>)>,
    found: Option<(manifest_level::TableRef, TableInfo<K>)>,
) -> CheckFailure {
    CheckFailure::described(
        Check::Iteration,
        format!(
            "{:?} to {:?}, {:?}, range {:?}: at position {position}, {}",
            query.visibility,
            query.snapshots,
            query.direction,
            query.key_range,
            match expected {
                Some((index, table)) => format!("table {index} {table:?}"),
                None => "the end".into(),
            }
        ),
        match found {
            Some((reference, table)) => format!(
                "table {} (generation {}) {table:?}",
                reference.index(),
                reference.generation()
            ),
            None => "the end".into(),
        },
    )
}

/// `key_range_contains` for level key `key` against the model's `key_range_latest` in the
/// level's key type (`range`): at latest exactly `range`, at `snapshot` (when not latest)
/// always `true`.
fn check_key_range_contains_at<K: FuzzKey>(
    env: &Environment<'_, K>,
    range: Option<KeyRange<K>>,
    key: K,
    snapshot: u64,
) -> Result<(), CheckFailure> {
    let level = env.level();
    let expected = range.is_some_and(|range| oracle::range_contains(&range, key));
    let found = level.key_range_contains(SNAPSHOT_LATEST, key);
    check!(
        found == expected,
        Check::KeyRangeContains,
        format!("{expected} for key {key:?} at latest ({range:?})"),
        format!("{found}"),
    );
    if snapshot != SNAPSHOT_LATEST {
        check!(
            level.key_range_contains(snapshot, key),
            Check::KeyRangeContains,
            format!("true for key {key:?} at snapshot {snapshot}"),
            "false".into(),
        );
    }
    Ok(())
}

/// With `u128` keys: `find` and (with `contains`) `contains` for model table `table`
/// with its `key_max` moved off the embedding's image (same high half, other low half):
/// no level table has that key, so both must miss. A level that compares only the high
/// half finds the table. Nothing to do for `u64` keys.
fn lookup_off_image<K: FuzzKey>(
    level: &ManifestLevel<'_, K>,
    table: &Table,
    contains: bool,
) -> Result<(), CheckFailure> {
    let mut copy = embed_table::<K>(table);
    let Some(key_max) = copy.key_max.off_image() else {
        return Ok(());
    };
    copy.key_max = key_max;
    // A one-key table whose off-image key falls below it: both ends move there.
    copy.key_min = copy.key_min.min(copy.key_max);
    let found = level.find(&copy);
    check!(
        found.is_none(),
        Check::Find,
        format!("nothing for {copy:?}"),
        format!("{:?}", found.map(|(_, table)| *table)),
    );
    check!(
        !contains || !level.contains(&copy),
        Check::Contains,
        format!("false for {copy:?}"),
        "true".into(),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tables with the given `key_max`es (sorted), each one key wide.
    fn tables(key_maxes: &[Key]) -> Vec<Table> {
        key_maxes
            .iter()
            .enumerate()
            .map(|(index, &key_max)| Table {
                checksum: index as u128,
                address: index as u64 + 1,
                snapshot_min: 1,
                snapshot_max: SNAPSHOT_MAX_LIVE,
                key_min: key_max,
                key_max,
                value_count: 1,
            })
            .collect()
    }

    /// The tables whose `key_max` lies in `range`.
    fn spanned(tables: &[Table], range: KeyRange<Key>) -> usize {
        let inside = |t: &&Table| range.key_min() <= t.key_max && t.key_max <= range.key_max();
        tables.iter().filter(inside).count()
    }

    #[test]
    fn windows_span_count_tables_and_sweep_the_level_in_both_directions() {
        let mut prng = Prng::from_seed(7);
        for _ in 0..200 {
            let n = prng.index(60);
            let mut keys: Vec<Key> = (0..n).map(|_| prng.range_inclusive(0, 40)).collect();
            keys.sort_unstable();
            let tables = tables(&keys);
            let count = 1 + prng.index(8);
            for direction in [Direction::Ascending, Direction::Descending] {
                // Windows from one end to the other see every table exactly once.
                let mut cursor = if direction == Direction::Ascending {
                    0
                } else {
                    Key::MAX
                };
                let mut seen = 0;
                for _ in 0..=n {
                    let (range, at_end) = window_range(&tables, cursor, direction, count);
                    let spans = spanned(&tables, range);
                    seen += spans;
                    if at_end {
                        break;
                    }
                    // Equal key_max runs may make a window longer, never shorter.
                    assert!(spans >= count, "{keys:?} {range:?}");
                    cursor = match direction {
                        Direction::Ascending => range.key_max() + 1,
                        Direction::Descending => range.key_min() - 1,
                    };
                }
                assert_eq!(seen, n, "{keys:?} count {count} {direction:?}");
            }
        }
    }

    #[test]
    fn cut_ranges_keep_their_starting_end_and_span_count_tables() {
        let keys: Vec<Key> = (0..100).map(|key| key * 2).collect();
        let tables = tables(&keys);
        let range = KeyRange::new(10, 150).unwrap();
        let ascending = cut_range(&tables, range, Direction::Ascending, 8);
        assert_eq!((ascending.key_min(), ascending.key_max()), (10, 24));
        assert_eq!(spanned(&tables, ascending), 8);
        let descending = cut_range(&tables, range, Direction::Descending, 8);
        assert_eq!((descending.key_min(), descending.key_max()), (136, 150));
        assert_eq!(spanned(&tables, descending), 8);
        let narrow = KeyRange::new(10, 14).unwrap();
        assert_eq!(cut_range(&tables, narrow, Direction::Ascending, 8), narrow);
    }
}

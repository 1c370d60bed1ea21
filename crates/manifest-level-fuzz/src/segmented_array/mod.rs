//! A deterministic fuzzer of [`SegmentedArray`] alone, against a `Vec` model.
//!
//! TigerBeetle fuzzes its segmented array on its own, apart from the manifest level built
//! on it; so do we. One `u64` seed picks a [`Setup`] (element type, node size, capacity,
//! pool size, sorted or positional mode, key domain) and then a stream of [`Op`]s, each
//! applied to the array and to a plain `Vec<T>` that is the model. After every op the
//! array's own [`SegmentedArray::verify`] runs, the whole contents are compared with the
//! model in both directions, and the node pool's accounting is checked.
//!
//! What it exercises:
//!
//! - random batches of inserts and removes ([`SegmentedArray::insert_slice`],
//!   [`SegmentedArray::remove_range`], single [`SegmentedArray::insert`] and
//!   [`SegmentedArray::remove`]) at random positions, up to about two node capacities per
//!   batch, often aimed at node boundaries ([`Position::Boundary`]), in phases that fill
//!   the array to capacity and drain it again;
//! - sorted mode: [`SegmentedArray::insert_sorted`] with keys from a small domain, so runs
//!   of equal keys cross node boundaries; [`SegmentedArray::lower_bound`] is compared with
//!   `Vec::partition_point`, and [`SegmentedArray::verify_sorted`] runs after every op;
//! - cursors: absolute index → [`Cursor`] → index round trips, `element_at`, `get`,
//!   `end_cursor`;
//! - range iteration, interleaving `next` and `next_back` by a random pattern;
//! - five element types (`u32`, `u64`, `u128`, the 24-byte [`Record24`] and the 64-byte,
//!   16-aligned [`Record64`]) and node sizes from 32 to 4096 bytes;
//! - error paths, each of which must leave the contents unchanged: a deliberately small
//!   node pool ([`Error::NodePoolExhausted`]), a second array sharing the pool
//!   ([`Op::Sibling`]), capacity exhausted ([`Error::CapacityExhausted`]) and indexes past
//!   the end ([`Error::IndexOutOfBounds`]).
//!
//! A run is either a seed ([`run`]) or an explicit op list ([`run_ops`]); the seed-driven
//! generator only ever emits [`Op`]s, so every seed run can be recorded
//! ([`SegmentedArrayFuzzConfig::record`]) and replayed. Ops are total: any op is valid in
//! any state (positions are resolved against the current length when the op runs, and
//! out-of-range ones test the error paths), so byte-decoded ops from a coverage-guided
//! fuzzer ([`Trace::from_fuzz_input`], feature `arbitrary`) run through the same code.
//! [`Trace::to_fuzz_input`] is the inverse, used to seed a libFuzzer corpus from seed
//! runs.

// A `Failure` is returned at most once per run, at its end: its size costs nothing, and
// boxing it would only make callers' matches clumsier.
#![allow(clippy::result_large_err)]

use std::fmt;
use std::panic::{self, AssertUnwindSafe};

use manifest_level::{Cursor, Element, Error, NodePool, SegmentedArray};

use crate::support::prng::Prng;

/// The smallest node size a [`Setup`] uses, in bytes.
pub const NODE_SIZE_MIN: u32 = 32;
/// The largest node size a [`Setup`] uses, in bytes.
pub const NODE_SIZE_MAX: u32 = 4096;
/// The largest array capacity a [`Setup`] uses (keeps the full model comparison after
/// every op cheap).
pub const CAPACITY_MAX: u32 = 4096;
/// The most ops a fuzz input decodes to ([`Trace::from_fuzz_input`]).
pub const INPUT_OPS_MAX: usize = 256;
/// The largest capacity a fuzz input decodes to: the checks after every op are linear in
/// the length, and libFuzzer wants thousands of inputs a second.
pub const INPUT_CAPACITY_MAX: u32 = 512;

/// The element type of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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

const _: () = assert!(core::mem::size_of::<Record24>() == 24);
const _: () = assert!(core::mem::size_of::<Record64>() == 64);
const _: () = assert!(core::mem::align_of::<Record64>() == 16);

/// The SplitMix64 finalizer: a cheap bijective mix for payloads and keys.
#[inline]
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Maps a `u64` domain key to a `u128` key, preserving order and using the high bits.
#[inline]
fn wide(key: u64) -> u128 {
    (u128::from(key) << 64) | u128::from(key)
}

/// What the fuzzer needs of an element type beyond [`Element`].
trait FuzzElement: Element + PartialEq {
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

/// The fixed parameters of one run. Any value is accepted: [`Setup::normalized`] clamps
/// every field into its domain, and runs always use the normalized form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Setup {
    /// The element type.
    pub element: ElementKind,
    /// Node size in bytes: a multiple of 16 in `element.node_size_min()..=NODE_SIZE_MAX`.
    pub node_size: u32,
    /// The array's element capacity (`element_count_max`), `1..=CAPACITY_MAX`.
    pub capacity: u32,
    /// Capacity of a second `SegmentedArray<u64>` sharing the pool, `0..=capacity`
    /// (0: no second array).
    pub sibling_capacity: u32,
    /// Nodes in the shared pool, at most [`Setup::pool_nodes_full`]; fewer makes the
    /// pool run out (an error path).
    pub pool_nodes: u32,
    /// Sorted mode: inserts keep the array sorted and `lower_bound` is checked. Otherwise
    /// positional mode: inserts go anywhere and keys are arbitrary.
    pub sorted: bool,
    /// Keys are drawn from `0..=key_max` (at most `element.key_max()`); small values make
    /// long runs of equal keys.
    pub key_max: u64,
}

fn nodes_needed(node_capacity: u32, capacity: u32) -> u32 {
    capacity.div_ceil(node_capacity / 2)
}

impl Setup {
    /// Elements per node of the main array.
    pub fn node_capacity(&self) -> u32 {
        let slots = self.node_size as usize / self.element.size();
        (slots as u32 & !1).max(2)
    }

    /// Pool nodes that both arrays need in the worst case (every node half full).
    pub fn pool_nodes_full(&self) -> u32 {
        let sibling_node_capacity = (self.node_size / 8) & !1;
        nodes_needed(self.node_capacity(), self.capacity)
            + nodes_needed(sibling_node_capacity, self.sibling_capacity)
    }

    /// The same setup with every field clamped into its domain. Idempotent.
    pub fn normalized(self) -> Setup {
        let element = self.element;
        let node_size = self.node_size.clamp(element.node_size_min(), NODE_SIZE_MAX) / 16 * 16;
        let mut setup = Setup {
            element,
            node_size,
            capacity: self.capacity.clamp(1, CAPACITY_MAX),
            sibling_capacity: 0,
            pool_nodes: 0,
            sorted: self.sorted,
            key_max: self.key_max.min(element.key_max()),
        };
        setup.sibling_capacity = self.sibling_capacity.min(setup.capacity);
        setup.pool_nodes = self.pool_nodes.min(setup.pool_nodes_full());
        setup
    }

    /// The setup a fuzz input with this setup runs: capacity at most
    /// [`INPUT_CAPACITY_MAX`], normalized.
    pub fn for_fuzz_input(self) -> Setup {
        Setup {
            capacity: self.capacity.min(INPUT_CAPACITY_MAX),
            ..self
        }
        .normalized()
    }

    /// Draws a setup from `prng`: biased toward small nodes (many node boundaries), a full
    /// pool three times in four, sorted mode every other run.
    pub fn draw(prng: &mut Prng) -> Setup {
        let element = ElementKind::ALL[prng.index(ElementKind::ALL.len())];
        let sixteens = match prng.weighted(&[5, 3, 2]) {
            0 => prng.range_inclusive(2, 16),
            1 => prng.range_inclusive(17, 64),
            _ => prng.range_inclusive(65, 256),
        };
        let node_size = (sixteens * 16) as u32;
        let mut setup = Setup {
            element,
            node_size,
            capacity: 1,
            sibling_capacity: 0,
            pool_nodes: 0,
            sorted: false,
            key_max: 0,
        }
        .normalized();
        let node_capacity = u64::from(setup.node_capacity());
        setup.capacity = match prng.weighted(&[1, 4, 4, 2]) {
            0 => prng.range_inclusive(1, node_capacity),
            1 => prng.range_inclusive(node_capacity, 4 * node_capacity),
            2 => prng.range_inclusive(4 * node_capacity, 16 * node_capacity),
            _ => prng.range_inclusive(16 * node_capacity, 64 * node_capacity),
        }
        .min(u64::from(CAPACITY_MAX)) as u32;
        setup.sibling_capacity = if prng.boolean() {
            0
        } else {
            prng.range_inclusive(1, u64::from(setup.capacity)) as u32
        };
        setup.sorted = prng.boolean();
        setup.key_max = match prng.weighted(&[3, 3, 4]) {
            0 => prng.int_inclusive(3),
            1 => prng.range_inclusive(4, 255),
            _ => element.key_max(),
        };
        let full = setup.pool_nodes_full();
        setup.pool_nodes = if prng.chance(3, 4) {
            full
        } else {
            prng.int_inclusive(u64::from(full)) as u32
        };
        setup.normalized()
    }
}

impl fmt::Display for Setup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} elements, node {} B ({} per node), capacity {}, {} mode, keys 0..={}, \
             pool {}/{} nodes, sibling capacity {}",
            self.element,
            self.node_size,
            self.node_capacity(),
            self.capacity,
            if self.sorted { "sorted" } else { "positional" },
            self.key_max,
            self.pool_nodes,
            self.pool_nodes_full(),
            self.sibling_capacity,
        )
    }
}

/// Where an op acts, resolved against the array when the op runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Position {
    /// Index 0.
    Start,
    /// Index `len` (one past the last element).
    End,
    /// Index `i % (len + 1)`.
    Index(u32),
    /// The first element of node `node % node_count`, moved by `delta` and clamped to
    /// `0..=len` (0 when the array is empty).
    Boundary {
        /// The node, modulo the node count.
        node: u16,
        /// Offset from the node's first element.
        delta: i8,
    },
    /// Index `len + 1 + n`: out of bounds, for the error paths.
    Past(u8),
}

/// One step of a run. Every op is valid in every state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// One [`SegmentedArray::insert`] at `at` (in sorted mode with a key that keeps the
    /// order: the key of the element at `at`, else of the last one).
    Insert {
        /// Where.
        at: Position,
    },
    /// One [`SegmentedArray::insert_slice`] of `count` new elements at `at` (in sorted
    /// mode, all with the key [`Op::Insert`] would use).
    InsertSlice {
        /// Where.
        at: Position,
        /// How many.
        count: u16,
    },
    /// `count` calls of [`SegmentedArray::insert_sorted`], keys in
    /// `key..=key + spread` (clamped to the key domain). In positional mode the elements
    /// are appended instead.
    InsertSorted {
        /// How many.
        count: u16,
        /// The smallest key.
        key: u64,
        /// Width of the key window; 0 inserts one key `count` times.
        spread: u32,
    },
    /// One [`SegmentedArray::remove`] at `at`.
    Remove {
        /// Where.
        at: Position,
    },
    /// One [`SegmentedArray::remove_range`] of `count` elements from `at`.
    RemoveRange {
        /// Where.
        at: Position,
        /// How many.
        count: u16,
    },
    /// [`SegmentedArray::lower_bound`] of `key` against the model's `partition_point`
    /// (sorted mode); in positional mode, `get(key % (len + 1))` against the model.
    LowerBound {
        /// The domain key.
        key: u64,
    },
    /// Index → cursor → index round trips, `element_at` and `get`, for `count + 1`
    /// consecutive indexes from `at` (up to `len`).
    Cursors {
        /// The first index.
        at: Position,
        /// How many more.
        count: u16,
    },
    /// [`SegmentedArray::range`] over `len` elements from `start`, stepping from the front
    /// or the back by the bits of `pattern`.
    Iterate {
        /// The first index.
        start: Position,
        /// The range's length (clamped to the end).
        len: u16,
        /// Bit `i % 64` set: step `i` takes from the back.
        pattern: u64,
    },
    /// On the second array of the pool (if the setup has one): insert `count` elements in
    /// its middle (`grow`) or remove up to `count` from its front.
    Sibling {
        /// Insert or remove.
        grow: bool,
        /// How many.
        count: u16,
    },
    /// [`SegmentedArray::clear`].
    Clear,
}

impl Op {
    /// Number of op variants.
    pub const KINDS: usize = 10;

    /// The op's variant index (`0..KINDS`), in declaration order.
    pub fn kind_index(&self) -> usize {
        match self {
            Op::Insert { .. } => 0,
            Op::InsertSlice { .. } => 1,
            Op::InsertSorted { .. } => 2,
            Op::Remove { .. } => 3,
            Op::RemoveRange { .. } => 4,
            Op::LowerBound { .. } => 5,
            Op::Cursors { .. } => 6,
            Op::Iterate { .. } => 7,
            Op::Sibling { .. } => 8,
            Op::Clear => 9,
        }
    }

    /// The names of the op variants, by [`Op::kind_index`].
    pub const KIND_NAMES: [&'static str; Op::KINDS] = [
        "insert",
        "insert_slice",
        "insert_sorted",
        "remove",
        "remove_range",
        "lower_bound",
        "cursors",
        "iterate",
        "sibling",
        "clear",
    ];
}

/// An explicit run: a setup and its ops.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Trace {
    /// The setup (normalized when run).
    pub setup: Setup,
    /// The ops, in order.
    pub ops: Vec<Op>,
}

/// Planted bugs, to prove the fuzzer catches them (need the `fault-injection` feature).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Faults {
    /// `lower_bound` skips one element when its answer is the first of a node
    /// (`SegmentedArray::inject_search_fault`).
    pub search_off_by_one: bool,
}

/// A seed run's parameters. `Default` is seed 0, 10,000 ops, everything drawn from the
/// seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SegmentedArrayFuzzConfig {
    /// Everything derives from this seed.
    pub seed: u64,
    /// Number of ops to run.
    pub ops: u64,
    /// Use this element type instead of the drawn one (the rest is drawn as usual).
    pub element: Option<ElementKind>,
    /// Use this node size instead of the drawn one (normalized).
    pub node_size: Option<u32>,
    /// Force sorted (`Some(true)`) or positional (`Some(false)`) mode.
    pub sorted: Option<bool>,
    /// Keep every op in [`Report::trace`] (for replay and corpus seeding).
    pub record: bool,
    /// Planted bugs; setting any without the `fault-injection` feature panics.
    pub faults: Faults,
}

impl Default for SegmentedArrayFuzzConfig {
    fn default() -> Self {
        SegmentedArrayFuzzConfig {
            seed: 0,
            ops: 10_000,
            element: None,
            node_size: None,
            sorted: None,
            record: false,
            faults: Faults::default(),
        }
    }
}

/// What a passing run did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The seed, for seed runs.
    pub seed: Option<u64>,
    /// The setup the run used (normalized).
    pub setup: Setup,
    /// Ops run.
    pub ops: u64,
    /// Ops run per kind, by [`Op::kind_index`].
    pub op_counts: [u64; Op::KINDS],
    /// Elements inserted into the main array.
    pub inserted: u64,
    /// Elements removed from the main array (including by `clear`).
    pub removed: u64,
    /// Operations that returned [`Error::CapacityExhausted`], as expected.
    pub capacity_errors: u64,
    /// Operations that returned [`Error::NodePoolExhausted`], as allowed.
    pub pool_errors: u64,
    /// Operations that returned [`Error::IndexOutOfBounds`], as expected.
    pub bounds_errors: u64,
    /// `lower_bound` checks against the model.
    pub searches: u64,
    /// The largest length the array reached.
    pub len_max: u32,
    /// The largest node count the array reached.
    pub node_count_max: u32,
    /// The array's length at the end.
    pub len_final: u32,
    /// Every op, when [`SegmentedArrayFuzzConfig::record`] was set.
    pub trace: Option<Trace>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(seed) = self.seed {
            write!(f, "seed {seed}: ")?;
        }
        writeln!(f, "{} ops passed on {}", self.ops, self.setup)?;
        write!(f, "  ops:")?;
        for (name, count) in Op::KIND_NAMES.iter().zip(self.op_counts) {
            if count > 0 {
                write!(f, " {name} {count}")?;
            }
        }
        writeln!(f)?;
        write!(
            f,
            "  {} inserted, {} removed, {} searches; length max {}, final {}; nodes max {}; \
             errors as expected: {} capacity, {} pool, {} bounds",
            self.inserted,
            self.removed,
            self.searches,
            self.len_max,
            self.len_final,
            self.node_count_max,
            self.capacity_errors,
            self.pool_errors,
            self.bounds_errors,
        )
    }
}

/// A failed check: where, what was expected, what was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The seed, for seed runs.
    pub seed: Option<u64>,
    /// The setup the run used (normalized).
    pub setup: Setup,
    /// Index of the failing op (0-based).
    pub op_index: u64,
    /// The failing op, with what its positions resolved to.
    pub op: String,
    /// Which check failed.
    pub check: String,
    /// What the model expected.
    pub expected: String,
    /// What the array did.
    pub found: String,
    /// The ops up to and including the failing one: replay with [`run_ops`].
    pub trace: Trace,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "segmented array fuzz failure")?;
        if let Some(seed) = self.seed {
            write!(f, ", seed {seed}")?;
        }
        writeln!(f, ", op {}: {}", self.op_index, self.op)?;
        writeln!(f, "  setup: {}", self.setup)?;
        writeln!(f, "  check: {}", self.check)?;
        writeln!(f, "  expected: {}", self.expected)?;
        write!(f, "  found:    {}", self.found)
    }
}

impl std::error::Error for Failure {}

/// Runs `config.ops` seed-drawn ops and checks every one.
///
/// # Panics
///
/// When `config.faults` plants a fault and the `fault-injection` feature is off.
pub fn run(config: SegmentedArrayFuzzConfig) -> Result<Report, Failure> {
    let mut prng = Prng::from_seed(config.seed);
    let mut setup = Setup::draw(&mut prng);
    let full_pool = setup.pool_nodes == setup.pool_nodes_full();
    if let Some(element) = config.element {
        setup.element = element;
    }
    if let Some(node_size) = config.node_size {
        setup.node_size = node_size;
    }
    if let Some(sorted) = config.sorted {
        setup.sorted = sorted;
    }
    let mut setup = setup.normalized();
    if full_pool {
        setup.pool_nodes = setup.pool_nodes_full();
    }
    let generator = Generator::new(prng.fork());
    execute(
        setup,
        Source::Seed {
            generator,
            remaining: config.ops,
        },
        config.faults,
        Some(config.seed),
        config.record,
    )
}

/// Runs an explicit op list (a recorded run, a shrunk one, or one decoded from fuzzer
/// bytes) and checks every op.
///
/// # Panics
///
/// When `faults` plants a fault and the `fault-injection` feature is off.
pub fn run_ops(setup: Setup, ops: &[Op], faults: Faults) -> Result<Report, Failure> {
    execute(
        setup.normalized(),
        Source::Ops(ops.iter()),
        faults,
        None,
        false,
    )
}

impl Trace {
    /// A ready-to-paste Rust test (for `crates/manifest-level-fuzz/tests/`) that replays
    /// this trace with [`run_ops`] and fails with the fuzzer's message while the bug is
    /// there. The ops are printed with `Debug`, which is valid Rust with the variants of
    /// [`ElementKind`], [`Op`] and [`Position`] in scope, as the test imports them.
    /// `faults` are the planted bugs to replay with (`Faults::default()` for a real bug).
    pub fn regression_test(&self, name: &str, faults: Faults) -> String {
        let mut text = String::new();
        text.push_str("#[test]\n");
        text.push_str(&format!("fn {name}() {{\n"));
        text.push_str("    #[allow(unused_imports)]\n");
        text.push_str("    use manifest_level_fuzz::segmented_array::{\n");
        text.push_str("        run_ops, ElementKind::*, Faults, Op, Op::*, Position::*, Setup,\n");
        text.push_str("    };\n");
        text.push_str(&format!("    let setup = {:?};\n", self.setup));
        text.push_str("    let ops: &[Op] = &[\n");
        for op in &self.ops {
            text.push_str(&format!("        {op:?},\n"));
        }
        text.push_str("    ];\n");
        text.push_str(&format!("    let faults = {faults:?};\n"));
        text.push_str("    if let Err(failure) = run_ops(setup, ops, faults) {\n");
        text.push_str("        panic!(\"{failure}\");\n");
        text.push_str("    }\n");
        text.push_str("}\n");
        text
    }

    /// Encodes the trace as the bytes [`Trace::from_fuzz_input`] decodes back to it: the
    /// setup's fields, then each op, as fixed-width little-endian integers with one tag
    /// byte per enum. The setup should be normalized (normalized setups fit the field
    /// widths exactly).
    pub fn to_fuzz_input(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        let setup = &self.setup;
        let element = ElementKind::ALL
            .iter()
            .position(|&kind| kind == setup.element)
            .expect("listed");
        bytes.push(element as u8);
        bytes.extend((setup.node_size.min(u32::from(u16::MAX)) as u16).to_le_bytes());
        bytes.extend((setup.capacity.min(u32::from(u16::MAX)) as u16).to_le_bytes());
        bytes.extend((setup.sibling_capacity.min(u32::from(u16::MAX)) as u16).to_le_bytes());
        bytes.extend(setup.pool_nodes.to_le_bytes());
        bytes.push(u8::from(setup.sorted));
        bytes.extend(setup.key_max.to_le_bytes());
        for op in &self.ops {
            encode_op(op, &mut bytes);
        }
        bytes
    }

    /// Decodes fuzzer bytes: a [`Setup`] (passed through [`Setup::for_fuzz_input`]), then
    /// ops until the bytes or [`INPUT_OPS_MAX`] run out. Every byte string decodes
    /// (missing bytes read as zero).
    #[cfg(feature = "arbitrary")]
    pub fn from_fuzz_input(bytes: &[u8]) -> Trace {
        let mut input = arbitrary::Unstructured::new(bytes);
        decode_trace(&mut input)
    }
}

fn encode_position(position: &Position, bytes: &mut Vec<u8>) {
    match *position {
        Position::Start => bytes.push(0),
        Position::End => bytes.push(1),
        Position::Index(index) => {
            bytes.push(2);
            bytes.extend(index.to_le_bytes());
        }
        Position::Boundary { node, delta } => {
            bytes.push(3);
            bytes.extend(node.to_le_bytes());
            bytes.extend(delta.to_le_bytes());
        }
        Position::Past(n) => {
            bytes.push(4);
            bytes.push(n);
        }
    }
}

fn encode_op(op: &Op, bytes: &mut Vec<u8>) {
    bytes.push(op.kind_index() as u8);
    match *op {
        Op::Insert { at } | Op::Remove { at } => encode_position(&at, bytes),
        Op::InsertSlice { at, count }
        | Op::RemoveRange { at, count }
        | Op::Cursors { at, count } => {
            encode_position(&at, bytes);
            bytes.extend(count.to_le_bytes());
        }
        Op::InsertSorted { count, key, spread } => {
            bytes.extend(count.to_le_bytes());
            bytes.extend(key.to_le_bytes());
            bytes.extend(spread.to_le_bytes());
        }
        Op::LowerBound { key } => bytes.extend(key.to_le_bytes()),
        Op::Iterate {
            start,
            len,
            pattern,
        } => {
            encode_position(&start, bytes);
            bytes.extend(len.to_le_bytes());
            bytes.extend(pattern.to_le_bytes());
        }
        Op::Sibling { grow, count } => {
            bytes.push(u8::from(grow));
            bytes.extend(count.to_le_bytes());
        }
        Op::Clear => {}
    }
}

#[cfg(feature = "arbitrary")]
mod decode {
    //! Hand-written `Arbitrary` impls, so that [`Trace::to_fuzz_input`] can invert them
    //! exactly (a unit test checks the round trip).

    use arbitrary::{Arbitrary, Result, Unstructured};

    use super::{ElementKind, Op, Position, Setup, Trace, INPUT_OPS_MAX};

    impl<'a> Arbitrary<'a> for Setup {
        fn arbitrary(u: &mut Unstructured<'a>) -> Result<Setup> {
            let element = ElementKind::ALL[usize::from(u8::arbitrary(u)?) % 5];
            Ok(Setup {
                element,
                node_size: u32::from(u16::arbitrary(u)?),
                capacity: u32::from(u16::arbitrary(u)?),
                sibling_capacity: u32::from(u16::arbitrary(u)?),
                pool_nodes: u32::arbitrary(u)?,
                sorted: bool::arbitrary(u)?,
                key_max: u64::arbitrary(u)?,
            })
        }
    }

    impl<'a> Arbitrary<'a> for Position {
        fn arbitrary(u: &mut Unstructured<'a>) -> Result<Position> {
            Ok(match u8::arbitrary(u)? % 5 {
                0 => Position::Start,
                1 => Position::End,
                2 => Position::Index(u32::arbitrary(u)?),
                3 => Position::Boundary {
                    node: u16::arbitrary(u)?,
                    delta: i8::arbitrary(u)?,
                },
                _ => Position::Past(u8::arbitrary(u)?),
            })
        }
    }

    impl<'a> Arbitrary<'a> for Op {
        fn arbitrary(u: &mut Unstructured<'a>) -> Result<Op> {
            Ok(match usize::from(u8::arbitrary(u)?) % Op::KINDS {
                0 => Op::Insert {
                    at: Position::arbitrary(u)?,
                },
                1 => Op::InsertSlice {
                    at: Position::arbitrary(u)?,
                    count: u16::arbitrary(u)?,
                },
                2 => Op::InsertSorted {
                    count: u16::arbitrary(u)?,
                    key: u64::arbitrary(u)?,
                    spread: u32::arbitrary(u)?,
                },
                3 => Op::Remove {
                    at: Position::arbitrary(u)?,
                },
                4 => Op::RemoveRange {
                    at: Position::arbitrary(u)?,
                    count: u16::arbitrary(u)?,
                },
                5 => Op::LowerBound {
                    key: u64::arbitrary(u)?,
                },
                6 => Op::Cursors {
                    at: Position::arbitrary(u)?,
                    count: u16::arbitrary(u)?,
                },
                7 => Op::Iterate {
                    start: Position::arbitrary(u)?,
                    len: u16::arbitrary(u)?,
                    pattern: u64::arbitrary(u)?,
                },
                8 => Op::Sibling {
                    grow: bool::arbitrary(u)?,
                    count: u16::arbitrary(u)?,
                },
                _ => Op::Clear,
            })
        }
    }

    pub(super) fn decode_trace(u: &mut Unstructured<'_>) -> Trace {
        // Integers read from exhausted input are zero, so none of these fail.
        let setup = Setup::arbitrary(u)
            .expect("decoding never fails")
            .for_fuzz_input();
        let mut ops = Vec::new();
        while !u.is_empty() && ops.len() < INPUT_OPS_MAX {
            ops.push(Op::arbitrary(u).expect("decoding never fails"));
        }
        Trace { setup, ops }
    }

    impl<'a> Arbitrary<'a> for Trace {
        fn arbitrary(u: &mut Unstructured<'a>) -> Result<Trace> {
            Ok(decode_trace(u))
        }

        fn arbitrary_take_rest(mut u: Unstructured<'a>) -> Result<Trace> {
            Ok(decode_trace(&mut u))
        }
    }
}

#[cfg(feature = "arbitrary")]
use decode::decode_trace;

/// A check that failed inside one op.
struct Mismatch {
    check: String,
    expected: String,
    found: String,
}

fn mismatch(
    check: impl Into<String>,
    expected: impl fmt::Debug,
    found: impl fmt::Debug,
) -> Mismatch {
    Mismatch {
        check: check.into(),
        expected: format!("{expected:?}"),
        found: format!("{found:?}"),
    }
}

fn ensure_eq<V: PartialEq + fmt::Debug>(
    check: &str,
    expected: V,
    found: V,
) -> Result<(), Mismatch> {
    if expected == found {
        Ok(())
    } else {
        Err(mismatch(check, expected, found))
    }
}

/// The pool's state before an insert, for judging a `NodePoolExhausted`.
#[derive(Clone, Copy)]
struct PoolBefore {
    /// Free nodes.
    free: u32,
    /// The most nodes the insert can acquire.
    bound: u64,
    /// Whether a single insert at the index must acquire a node.
    single_needs_node: bool,
}

/// Where ops come from.
enum Source<'a> {
    Seed {
        generator: Generator,
        remaining: u64,
    },
    Ops(std::slice::Iter<'a, Op>),
}

impl Source<'_> {
    fn next<T: FuzzElement>(&mut self, harness: &Harness<'_, T>) -> Option<Op> {
        match self {
            Source::Seed {
                generator,
                remaining,
            } => {
                if *remaining == 0 {
                    return None;
                }
                *remaining -= 1;
                Some(generator.next(harness))
            }
            Source::Ops(ops) => ops.next().copied(),
        }
    }
}

fn execute(
    setup: Setup,
    source: Source<'_>,
    faults: Faults,
    seed: Option<u64>,
    record: bool,
) -> Result<Report, Failure> {
    match setup.element {
        ElementKind::U32 => execute_typed::<u32>(setup, source, faults, seed, record),
        ElementKind::U64 => execute_typed::<u64>(setup, source, faults, seed, record),
        ElementKind::U128 => execute_typed::<u128>(setup, source, faults, seed, record),
        ElementKind::Record24 => execute_typed::<Record24>(setup, source, faults, seed, record),
        ElementKind::Record64 => execute_typed::<Record64>(setup, source, faults, seed, record),
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "(non-string panic payload)".to_string()
    }
}

fn execute_typed<T: FuzzElement>(
    setup: Setup,
    mut source: Source<'_>,
    faults: Faults,
    seed: Option<u64>,
    record: bool,
) -> Result<Report, Failure> {
    let pool = NodePool::new(setup.node_size as usize, setup.pool_nodes)
        .expect("a normalized setup makes a valid pool");
    let mut harness = Harness::<T>::new(&pool, setup);
    harness.plant(faults);
    let mut ops: Vec<Op> = Vec::new();
    let mut op_index = 0u64;
    // Check the empty array once before the first op.
    let initial = panic::catch_unwind(AssertUnwindSafe(|| harness.check_all()));
    let mut outcome: Result<(), (Op, String, Mismatch)> = match initial {
        Ok(Ok(())) => Ok(()),
        Ok(Err(found)) => Err((Op::Clear, "(before the first op)".into(), found)),
        Err(payload) => Err((
            Op::Clear,
            "(before the first op)".into(),
            mismatch("no panic", "", panic_message(&*payload)),
        )),
    };
    while outcome.is_ok() {
        let Some(op) = source.next(&harness) else {
            break;
        };
        ops.push(op);
        let step = panic::catch_unwind(AssertUnwindSafe(|| {
            harness.resolved.clear();
            harness.progress = None;
            harness.apply(op)?;
            harness.check_all()
        }));
        match step {
            Ok(Ok(())) => op_index += 1,
            Ok(Err(found)) => outcome = Err((op, harness.describe(), found)),
            Err(payload) => {
                let message = panic_message(&*payload);
                outcome = Err((
                    op,
                    harness.describe(),
                    Mismatch {
                        check: "no panic".into(),
                        expected: "the op and the checks complete".into(),
                        found: format!("panic: {message}"),
                    },
                ));
            }
        }
    }
    match outcome {
        Ok(()) => {
            let mut report = harness.report.clone();
            report.seed = seed;
            report.ops = op_index;
            report.len_final = harness.array.len();
            if record {
                report.trace = Some(Trace { setup, ops });
            }
            Ok(report)
        }
        Err((op, resolved, found)) => {
            // After a panic the array may be inconsistent; dropping it could panic again.
            std::mem::forget(harness);
            Err(Failure {
                seed,
                setup,
                op_index,
                op: if resolved.is_empty() {
                    format!("{op:?}")
                } else {
                    format!("{op:?} [{resolved}]")
                },
                check: found.check,
                expected: found.expected,
                found: found.found,
                trace: Trace { setup, ops },
            })
        }
    }
}

/// The array, its model, and the second array sharing the pool.
struct Harness<'pool, T: FuzzElement> {
    setup: Setup,
    pool: &'pool NodePool,
    array: SegmentedArray<'pool, T>,
    model: Vec<T>,
    sibling: Option<SegmentedArray<'pool, u64>>,
    sibling_model: Vec<u64>,
    /// Next insert serial number.
    serial: u64,
    /// What the current op's positions resolved to, for failure messages.
    resolved: String,
    /// Which element of a batch of single inserts the current op is at.
    progress: Option<u16>,
    report: Report,
}

impl<'pool, T: FuzzElement> Harness<'pool, T> {
    fn new(pool: &'pool NodePool, setup: Setup) -> Self {
        // The harness runs `verify()` after every op itself; with the library's `verify`
        // feature on (workspace test builds), per-mutation checks would only repeat it
        // once per element of a batch.
        let mut array = SegmentedArray::<T>::new(pool, setup.capacity)
            .expect("a normalized setup makes a valid array");
        array.set_auto_verify(false);
        let sibling = (setup.sibling_capacity > 0).then(|| {
            let mut sibling = SegmentedArray::<u64>::new(pool, setup.sibling_capacity)
                .expect("a normalized setup makes a valid sibling array");
            sibling.set_auto_verify(false);
            sibling
        });
        Harness {
            setup,
            pool,
            array,
            model: Vec::new(),
            sibling,
            sibling_model: Vec::new(),
            serial: 0,
            resolved: String::new(),
            progress: None,
            report: Report {
                seed: None,
                setup,
                ops: 0,
                op_counts: [0; Op::KINDS],
                inserted: 0,
                removed: 0,
                capacity_errors: 0,
                pool_errors: 0,
                bounds_errors: 0,
                searches: 0,
                len_max: 0,
                node_count_max: 0,
                len_final: 0,
                trace: None,
            },
        }
    }

    /// What the current op resolved to, and how far a batch got.
    fn describe(&self) -> String {
        match self.progress {
            Some(i) => format!("{}, at element {i}", self.resolved),
            None => self.resolved.clone(),
        }
    }

    fn plant(&mut self, faults: Faults) {
        #[cfg(feature = "fault-injection")]
        self.array.inject_search_fault(faults.search_off_by_one);
        #[cfg(not(feature = "fault-injection"))]
        assert!(
            faults == Faults::default(),
            "planting faults needs the `fault-injection` feature"
        );
    }

    fn len(&self) -> u32 {
        self.model.len() as u32
    }

    fn resolve(&self, position: Position) -> u32 {
        let len = self.array.len();
        match position {
            Position::Start => 0,
            Position::End => len,
            Position::Index(index) => index % (len + 1),
            Position::Boundary { node, delta } => {
                let node_count = self.array.node_count();
                if node_count == 0 {
                    return 0;
                }
                let node = u32::from(node) % node_count;
                let start = self.array.index(Cursor { node, relative: 0 });
                (i64::from(start) + i64::from(delta)).clamp(0, i64::from(len)) as u32
            }
            Position::Past(n) => len + 1 + u32::from(n),
        }
    }

    fn new_element(&mut self, key: u64) -> T {
        let serial = self.serial;
        self.serial += 1;
        T::make(key.min(self.setup.key_max), serial)
    }

    /// A random-looking key for positional mode.
    fn positional_key(&self) -> u64 {
        let value = mix(self.serial ^ 0x5EED);
        match self.setup.key_max.checked_add(1) {
            Some(range) => value % range,
            None => value,
        }
    }

    /// The key a positional insert at `index` uses: in sorted mode one that keeps the order.
    fn key_for_position(&self, index: u32) -> u64 {
        if !self.setup.sorted {
            return self.positional_key();
        }
        let index = index as usize;
        if let Some(element) = self.model.get(index) {
            element.domain_key()
        } else if let Some(last) = self.model.last() {
            last.domain_key()
        } else {
            self.setup.key_max / 2
        }
    }

    fn note_error(&mut self, error: &Error) {
        match error {
            Error::CapacityExhausted { .. } => self.report.capacity_errors += 1,
            Error::NodePoolExhausted { .. } => self.report.pool_errors += 1,
            Error::IndexOutOfBounds { .. } => self.report.bounds_errors += 1,
            _ => {}
        }
    }

    /// What the pool allows an insert of `count` elements at `index` before it runs.
    fn pool_before_insert(&self, index: u32, count: u32) -> PoolBefore {
        let half = self.array.node_capacity() / 2;
        // Inserts never merge nodes, and every state keeps `node_count <= ceil(len / half)`,
        // so the array never holds more than `ceil((len + count) / half)` nodes on the way.
        let bound = (u64::from(self.array.len()) + u64::from(count))
            .div_ceil(u64::from(half))
            .saturating_sub(u64::from(self.array.node_count()));
        // One insert needs a node only for a first node or to split a full one.
        let len = self.array.len();
        let single_needs_node = self.array.is_empty()
            || (index <= len && {
                let node = if index == len {
                    self.array.node_count() - 1
                } else {
                    self.array.cursor(index).node
                };
                self.array.node_len(node) == self.array.node_capacity()
            });
        PoolBefore {
            free: self.pool.free_count(),
            bound,
            single_needs_node,
        }
    }

    /// Checks an insert's result against what the model allows; returns whether the model
    /// must apply the insert.
    fn judge_insert(
        &mut self,
        result: Result<(), Error>,
        index: u32,
        count: u32,
        before: PoolBefore,
        single: bool,
    ) -> Result<bool, Mismatch> {
        let len = self.len();
        let capacity = self.setup.capacity;
        if index > len {
            return match result {
                Err(error @ Error::IndexOutOfBounds { len: reported, .. }) if reported == len => {
                    self.note_error(&error);
                    Ok(false)
                }
                other => Err(mismatch(
                    "insert past the end fails",
                    format!("Err(IndexOutOfBounds {{ len: {len}, .. }})"),
                    other,
                )),
            };
        }
        if u64::from(count) > u64::from(capacity - len) {
            return match result {
                Err(error @ Error::CapacityExhausted { capacity: reported })
                    if reported == capacity =>
                {
                    self.note_error(&error);
                    Ok(false)
                }
                other => Err(mismatch(
                    "insert over capacity fails",
                    format!("Err(CapacityExhausted {{ capacity: {capacity} }})"),
                    other,
                )),
            };
        }
        match result {
            Ok(()) => Ok(true),
            Err(error @ Error::NodePoolExhausted { needed, free }) => {
                let PoolBefore {
                    free: free_before,
                    bound,
                    single_needs_node,
                } = before;
                if u64::from(free_before) >= bound {
                    return Err(mismatch(
                        "no pool exhaustion while the pool has enough nodes",
                        format!("Ok (pool has {free_before} free, insert needs at most {bound})"),
                        error,
                    ));
                }
                if needed <= free {
                    return Err(mismatch(
                        "pool error reports needed > free",
                        "needed > free",
                        error,
                    ));
                }
                if single && (!single_needs_node || free_before != 0) {
                    return Err(mismatch(
                        "a single insert runs out of nodes only when it must acquire one and none is free",
                        format!("Ok (free {free_before}, needs a node: {single_needs_node})"),
                        error,
                    ));
                }
                self.note_error(&error);
                Ok(false)
            }
            Err(other) => Err(mismatch(
                "insert succeeds",
                "Ok or NodePoolExhausted",
                other,
            )),
        }
    }

    fn judge_remove(
        &mut self,
        result: Result<(), Error>,
        index: u32,
        count: u32,
    ) -> Result<bool, Mismatch> {
        let len = self.len();
        let in_bounds = index.checked_add(count).is_some_and(|end| end <= len);
        match result {
            Ok(()) if in_bounds => Ok(true),
            Err(error @ Error::IndexOutOfBounds { len: reported, .. })
                if !in_bounds && reported == len =>
            {
                self.note_error(&error);
                Ok(false)
            }
            other => Err(mismatch(
                "remove result",
                if in_bounds {
                    "Ok".to_string()
                } else {
                    format!("Err(IndexOutOfBounds {{ len: {len}, .. }})")
                },
                other,
            )),
        }
    }

    fn apply(&mut self, op: Op) -> Result<(), Mismatch> {
        self.report.op_counts[op.kind_index()] += 1;
        match op {
            Op::Insert { at } => {
                let index = self.resolve(at);
                let element = self.new_element(self.key_for_position(index));
                self.resolved = format!("index {index}, element {element:?}");
                let before = self.pool_before_insert(index, 1);
                let result = self.array.insert(index, element);
                if self.judge_insert(result, index, 1, before, true)? {
                    self.model.insert(index as usize, element);
                    self.report.inserted += 1;
                }
            }
            Op::InsertSlice { at, count } => {
                let index = self.resolve(at);
                let key = self.key_for_position(index);
                let elements: Vec<T> = (0..count)
                    .map(|_| {
                        let key = if self.setup.sorted {
                            key
                        } else {
                            self.positional_key()
                        };
                        self.new_element(key)
                    })
                    .collect();
                self.resolved = format!("index {index}, {count} elements");
                let before = self.pool_before_insert(index, u32::from(count));
                let result = self.array.insert_slice(index, &elements);
                if self.judge_insert(result, index, u32::from(count), before, false)? {
                    let at = index as usize;
                    self.model.splice(at..at, elements);
                    self.report.inserted += u64::from(count);
                }
            }
            Op::InsertSorted { count, key, spread } => {
                self.resolved = if self.setup.sorted {
                    format!("{count} sorted inserts")
                } else {
                    format!("{count} appends (positional mode)")
                };
                for i in 0..count {
                    let offset = match u64::from(spread).checked_add(1) {
                        Some(range) => mix(self.serial) % range,
                        None => mix(self.serial),
                    };
                    let element = self.new_element(key.saturating_add(offset));
                    if !self.setup.sorted {
                        // Positional mode: append.
                        let index = self.len();
                        self.progress = Some(i);
                        let before = self.pool_before_insert(index, 1);
                        let result = self.array.insert(index, element);
                        if !self.judge_insert(result, index, 1, before, true)? {
                            break;
                        }
                        self.model.push(element);
                    } else {
                        let expected_index =
                            self.model.partition_point(|e| e.key() < element.key()) as u32;
                        self.progress = Some(i);
                        let before = self.pool_before_insert(expected_index, 1);
                        let result = self.array.insert_sorted(element);
                        let plain = result.map(|index| (index != expected_index).then_some(index));
                        if let Ok(Some(found)) = plain {
                            return Err(mismatch(
                                "insert_sorted index (the model's partition_point)",
                                expected_index,
                                found,
                            ));
                        }
                        let result = plain.map(|_| ());
                        if !self.judge_insert(result, expected_index, 1, before, true)? {
                            break;
                        }
                        self.model.insert(expected_index as usize, element);
                    }
                    self.report.inserted += 1;
                }
            }
            Op::Remove { at } => {
                let len = self.len();
                let index = match at {
                    // Aim inside the array: `Index` resolves modulo `len`, not `len + 1`.
                    Position::Index(index) if len > 0 => index % len,
                    other => self.resolve(other),
                };
                self.resolved = format!("index {index}");
                let result = self.array.remove(index);
                match result {
                    Ok(element) if index < len => {
                        let expected = self.model.remove(index as usize);
                        ensure_eq("removed element", expected, element)?;
                        self.report.removed += 1;
                    }
                    other => {
                        let other = other.map(|_| ());
                        self.judge_remove(other, index, 1)?;
                    }
                }
            }
            Op::RemoveRange { at, count } => {
                let index = self.resolve(at);
                let count = u32::from(count);
                self.resolved = format!("index {index}, count {count}");
                let result = self.array.remove_range(index, count);
                if self.judge_remove(result, index, count)? {
                    let at = index as usize;
                    self.model.drain(at..at + count as usize);
                    self.report.removed += u64::from(count);
                }
            }
            Op::LowerBound { key } => {
                if self.setup.sorted {
                    let array_key = T::key_of(key);
                    let expected = self.model.partition_point(|e| e.key() < array_key) as u32;
                    self.resolved = format!("key {array_key:?}");
                    self.report.searches += 1;
                    ensure_eq(
                        "lower_bound (the model's partition_point)",
                        expected,
                        self.array.lower_bound(array_key),
                    )?;
                } else {
                    let index = (key % (u64::from(self.len()) + 1)) as u32;
                    self.resolved = format!("get({index})");
                    ensure_eq("get", self.model.get(index as usize), self.array.get(index))?;
                }
            }
            Op::Cursors { at, count } => {
                let len = self.len();
                let first = self.resolve(at).min(len);
                let last = first.saturating_add(u32::from(count)).min(len);
                self.resolved = format!("indexes {first}..={last}");
                let mut previous: Option<Cursor> = None;
                for index in first..=last {
                    let cursor = self.array.cursor(index);
                    ensure_eq("index(cursor(i)) == i", index, self.array.index(cursor))?;
                    let expected = self.model.get(index as usize);
                    ensure_eq(
                        "element_at(cursor(i))",
                        expected,
                        self.array.element_at(cursor),
                    )?;
                    ensure_eq("get(i)", expected, self.array.get(index))?;
                    if index == len {
                        ensure_eq(
                            "cursor(len) == end_cursor()",
                            self.array.end_cursor(),
                            cursor,
                        )?;
                    } else if cursor.relative >= self.array.node_len(cursor.node) {
                        return Err(mismatch(
                            "cursor inside its node",
                            "relative < node_len",
                            cursor,
                        ));
                    }
                    if let Some(previous) = previous {
                        if index < len {
                            let next_in_node = Cursor {
                                node: previous.node,
                                relative: previous.relative + 1,
                            };
                            let next_node = Cursor {
                                node: previous.node + 1,
                                relative: 0,
                            };
                            if cursor != next_in_node && cursor != next_node {
                                return Err(mismatch(
                                    "consecutive cursors step by one element",
                                    format!("{next_in_node:?} or {next_node:?}"),
                                    cursor,
                                ));
                            }
                        }
                    }
                    previous = Some(cursor);
                }
            }
            Op::Iterate {
                start,
                len: range_len,
                pattern,
            } => {
                let len = self.len();
                let start = self.resolve(start).min(len);
                let end = start.saturating_add(u32::from(range_len)).min(len);
                self.resolved = format!("range {start}..{end}");
                let expected = &self.model[start as usize..end as usize];
                let mut iter = self.array.range(start, end);
                let (mut front, mut back) = (0usize, expected.len());
                for step in 0.. {
                    ensure_eq("iterator len", back - front, iter.len())?;
                    if front == back {
                        break;
                    }
                    if (pattern >> (step % 64)) & 1 == 1 {
                        back -= 1;
                        ensure_eq("next_back()", Some(&expected[back]), iter.next_back())?;
                    } else {
                        ensure_eq("next()", Some(&expected[front]), iter.next())?;
                        front += 1;
                    }
                }
                ensure_eq("next() when exhausted", None, iter.next())?;
                ensure_eq("next_back() when exhausted", None, iter.next_back())?;
            }
            Op::Sibling { grow, count } => {
                let Some(sibling) = self.sibling.as_mut() else {
                    self.resolved = "no sibling array".into();
                    return Ok(());
                };
                let len = sibling.len();
                if grow {
                    let index = len / 2;
                    let elements: Vec<u64> = (0..u64::from(count))
                        .map(|i| mix(self.serial.wrapping_add(i) ^ 0x51B))
                        .collect();
                    self.serial += u64::from(count);
                    let room = sibling.capacity() - len;
                    let free = self.pool.free_count();
                    let half = u64::from(sibling.node_capacity() / 2);
                    let bound = (u64::from(len) + u64::from(count))
                        .div_ceil(half)
                        .saturating_sub(u64::from(sibling.node_count()));
                    self.resolved = format!("sibling insert {count} at {index}");
                    match sibling.insert_slice(index, &elements) {
                        Ok(()) if u32::from(count) <= room => {
                            let at = index as usize;
                            self.sibling_model.splice(at..at, elements);
                        }
                        Err(Error::CapacityExhausted { .. }) if u32::from(count) > room => {
                            self.report.capacity_errors += 1;
                        }
                        Err(Error::NodePoolExhausted { .. })
                            if u32::from(count) <= room && u64::from(free) < bound =>
                        {
                            self.report.pool_errors += 1;
                        }
                        other => {
                            return Err(mismatch(
                                "sibling insert_slice result",
                                format!("room {room}, free nodes {free}, bound {bound}"),
                                other,
                            ))
                        }
                    }
                } else {
                    let count = u32::from(count).min(len);
                    self.resolved = format!("sibling remove {count} from 0");
                    let result = sibling.remove_range(0, count);
                    ensure_eq("sibling remove_range", Ok(()), result)?;
                    self.sibling_model.drain(..count as usize);
                }
            }
            Op::Clear => {
                self.array.clear();
                self.report.removed += self.model.len() as u64;
                self.model.clear();
            }
        }
        Ok(())
    }

    /// Compares everything with the model. Called after every op.
    fn check_all(&mut self) -> Result<(), Mismatch> {
        self.array.verify();
        ensure_eq("len", self.len(), self.array.len())?;
        ensure_eq("is_empty", self.model.is_empty(), self.array.is_empty())?;
        compare("contents, forward", self.model.iter(), self.array.iter())?;
        compare(
            "contents, backward",
            self.model.iter().rev(),
            self.array.iter().rev(),
        )?;
        if self.setup.sorted {
            self.array.verify_sorted();
        }
        let node_count = self.array.node_count();
        let mut acquired = node_count;
        if let Some(sibling) = &self.sibling {
            sibling.verify();
            compare(
                "sibling contents",
                self.sibling_model.iter(),
                sibling.iter(),
            )?;
            acquired += sibling.node_count();
        }
        ensure_eq(
            "pool nodes acquired == nodes of both arrays",
            acquired,
            self.pool.acquired_count(),
        )?;
        let half = self.array.node_capacity() / 2;
        let bound = self.array.len().div_ceil(half);
        if node_count > bound {
            return Err(mismatch(
                "node count <= ceil(len / half)",
                bound,
                node_count,
            ));
        }
        self.report.len_max = self.report.len_max.max(self.array.len());
        self.report.node_count_max = self.report.node_count_max.max(node_count);
        Ok(())
    }
}

/// Compares two sequences element by element; reports the first difference.
fn compare<'a, V: PartialEq + fmt::Debug + 'a>(
    check: &str,
    expected: impl ExactSizeIterator<Item = &'a V>,
    found: impl ExactSizeIterator<Item = &'a V>,
) -> Result<(), Mismatch> {
    ensure_eq(&format!("{check}: length"), expected.len(), found.len())?;
    for (position, (e, f)) in expected.zip(found).enumerate() {
        if e != f {
            return Err(mismatch(format!("{check}: element {position}"), e, f));
        }
    }
    Ok(())
}

/// The seed-driven op generator: reads the harness's state, emits one op at a time.
struct Generator {
    prng: Prng,
    /// Growing (inserts weigh more) or shrinking (removes weigh more).
    growing: bool,
    /// Ops left in the current phase.
    phase_left: u64,
}

impl Generator {
    fn new(prng: Prng) -> Generator {
        // The first op flips this to a growing phase.
        Generator {
            prng,
            growing: false,
            phase_left: 0,
        }
    }

    fn next<T: FuzzElement>(&mut self, harness: &Harness<'_, T>) -> Op {
        let len = harness.len();
        let capacity = harness.setup.capacity;
        let sorted = harness.setup.sorted;
        let prng = &mut self.prng;
        if self.phase_left == 0 {
            self.growing = !self.growing;
            self.phase_left = prng.range_inclusive(5, 60);
        }
        self.phase_left -= 1;
        // At the edges: one op into the wall (an error path), then turn around.
        if self.growing && (len == capacity || harness.pool.free_count() == 0) && prng.chance(1, 2)
        {
            self.phase_left = 0;
            return Op::Insert {
                at: self.position(harness, false),
            };
        }
        if !self.growing && len == 0 {
            self.phase_left = 0;
        }
        let (grow, shrink) = if self.growing { (6, 2) } else { (2, 6) };
        let sibling = u64::from(harness.sibling.is_some());
        let weights: [u64; Op::KINDS] = if sorted {
            // insert, slice, sorted, remove, range, lower_bound, cursors, iterate, sibling, clear
            [
                grow,
                grow,
                3 * grow,
                shrink,
                2 * shrink,
                6,
                2,
                2,
                sibling * 2,
                1,
            ]
        } else {
            [
                2 * grow,
                3 * grow,
                0,
                2 * shrink,
                3 * shrink,
                1,
                2,
                2,
                sibling * 2,
                1,
            ]
        };
        let kind = self.prng.weighted(&weights);
        // Clear rarely: one in eight of the draws above.
        if kind == 9 && !self.prng.chance(1, 8) {
            return Op::Cursors {
                at: self.position(harness, false),
                count: self.prng.int_inclusive(4) as u16,
            };
        }
        match kind {
            0 => Op::Insert {
                at: self.position(harness, false),
            },
            1 => Op::InsertSlice {
                at: self.position(harness, false),
                count: self.count(harness, capacity - len),
            },
            2 => {
                let key_max = harness.setup.key_max;
                let key = if len > 0 && self.prng.boolean() {
                    harness.model[self.prng.index(len as usize)].domain_key()
                } else {
                    self.prng.int_inclusive(key_max)
                };
                let spread = match self.prng.weighted(&[4, 3, 3]) {
                    0 => 0,
                    1 => self.prng.range_inclusive(1, 8) as u32,
                    _ => key_max.min(u64::from(u32::MAX)) as u32,
                };
                Op::InsertSorted {
                    count: self.count(harness, capacity - len),
                    key,
                    spread,
                }
            }
            3 => Op::Remove {
                at: self.position(harness, true),
            },
            4 => {
                let at = self.position(harness, true);
                let index = harness.resolve(at);
                let mut count = self.count(harness, len.saturating_sub(index));
                if count == 0 {
                    count = 1;
                }
                Op::RemoveRange { at, count }
            }
            5 => Op::LowerBound {
                key: self.search_key(harness),
            },
            6 => Op::Cursors {
                at: self.position(harness, false),
                count: self.count(harness, u32::MAX),
            },
            7 => Op::Iterate {
                start: self.position(harness, false),
                len: self.count(harness, u32::MAX),
                pattern: match self.prng.weighted(&[1, 1, 3]) {
                    0 => 0,
                    1 => u64::MAX,
                    _ => self.prng.next_u64(),
                },
            },
            8 => Op::Sibling {
                grow: self.prng.boolean(),
                count: self.count(harness, u32::MAX),
            },
            _ => Op::Clear,
        }
    }

    /// A position: often a node boundary, sometimes the ends, rarely out of bounds.
    fn position<T: FuzzElement>(&mut self, harness: &Harness<'_, T>, remove: bool) -> Position {
        let len = harness.len();
        let prng = &mut self.prng;
        match prng.weighted(&[2, 2, 8, 7, 1]) {
            0 => Position::Start,
            1 if !remove => Position::End,
            2 | 1 => {
                let bound = if remove { len.max(1) } else { len + 1 };
                Position::Index(prng.int_inclusive(u64::from(bound - 1)) as u32)
            }
            3 => {
                let node_count = harness.array.node_count().max(1);
                Position::Boundary {
                    node: prng.int_inclusive(u64::from(node_count - 1)) as u16,
                    delta: prng.range_inclusive(0, 4) as i8 - 2,
                }
            }
            _ => Position::Past(prng.int_inclusive(2) as u8),
        }
    }

    /// A batch size up to about two node capacities, often at the node-size thresholds;
    /// clamped to `room` nine times in ten (else it may overrun: an error path).
    fn count<T: FuzzElement>(&mut self, harness: &Harness<'_, T>, room: u32) -> u16 {
        let node_capacity = u64::from(harness.array.node_capacity());
        let half = node_capacity / 2;
        let prng = &mut self.prng;
        let count = match prng.weighted(&[7, 6, 7]) {
            0 => prng.range_inclusive(1, 4),
            1 => {
                let thresholds = [
                    half.saturating_sub(1).max(1),
                    half,
                    half + 1,
                    node_capacity - 1,
                    node_capacity,
                    node_capacity + 1,
                ];
                thresholds[prng.index(thresholds.len())]
            }
            _ => prng.range_inclusive(1, 2 * node_capacity),
        };
        let count = if prng.chance(9, 10) {
            count.min(u64::from(room))
        } else {
            count
        };
        count.min(u64::from(u16::MAX)) as u16
    }

    /// A key for `lower_bound`: present keys, node fences, their neighbours, the extremes.
    fn search_key<T: FuzzElement>(&mut self, harness: &Harness<'_, T>) -> u64 {
        let len = harness.len();
        let prng = &mut self.prng;
        let key_max = harness.setup.key_max;
        match prng.weighted(&[3, 3, 2, 2, 1, 1]) {
            0 if len > 0 => harness.model[prng.index(len as usize)].domain_key(),
            1 if len > 0 => {
                let node = prng.index(harness.array.node_count() as usize) as u32;
                harness.array.node_elements(node)[0].domain_key()
            }
            2 if len > 0 => {
                let key = harness.model[prng.index(len as usize)].domain_key();
                if prng.boolean() {
                    key.saturating_add(1)
                } else {
                    key.saturating_sub(1)
                }
            }
            4 => 0,
            5 => u64::MAX,
            _ => prng.int_inclusive(key_max),
        }
    }
}

/// What makes two failures "the same" for shrinking: the failed check, without the
/// details after a `:` (an element position, which moves as ops are dropped).
pub fn failure_signature(failure: &Failure) -> &str {
    failure.check.split(':').next().unwrap_or(&failure.check)
}

/// Simpler variants of one op, simplest first (for shrinking): smaller counts, plainer
/// positions, narrower key windows.
fn simpler_ops(op: &Op) -> Vec<Op> {
    fn smaller(count: u16) -> Vec<u16> {
        let mut counts = Vec::new();
        for candidate in [1, count / 2, count - count / 4] {
            if candidate >= 1 && candidate < count && !counts.contains(&candidate) {
                counts.push(candidate);
            }
        }
        counts
    }
    fn plainer(at: Position) -> Vec<Position> {
        [Position::Start, Position::End]
            .into_iter()
            .filter(|&plain| plain != at)
            .collect()
    }
    let mut simpler = Vec::new();
    match *op {
        Op::Insert { at } | Op::Remove { at } => {
            for at in plainer(at) {
                simpler.push(match op {
                    Op::Insert { .. } => Op::Insert { at },
                    _ => Op::Remove { at },
                });
            }
        }
        Op::InsertSlice { at, count } => {
            simpler.extend(
                smaller(count)
                    .into_iter()
                    .map(|count| Op::InsertSlice { at, count }),
            );
            simpler.extend(
                plainer(at)
                    .into_iter()
                    .map(|at| Op::InsertSlice { at, count }),
            );
        }
        Op::RemoveRange { at, count } => {
            simpler.extend(
                smaller(count)
                    .into_iter()
                    .map(|count| Op::RemoveRange { at, count }),
            );
            simpler.extend(
                plainer(at)
                    .into_iter()
                    .map(|at| Op::RemoveRange { at, count }),
            );
        }
        Op::InsertSorted { count, key, spread } => {
            simpler.extend(smaller(count).into_iter().map(|count| Op::InsertSorted {
                count,
                key,
                spread,
            }));
            if spread > 0 {
                simpler.push(Op::InsertSorted {
                    count,
                    key,
                    spread: 0,
                });
            }
        }
        Op::Cursors { at, count } => {
            simpler.extend(
                smaller(count)
                    .into_iter()
                    .map(|count| Op::Cursors { at, count }),
            );
        }
        Op::Iterate {
            start,
            len,
            pattern,
        } => {
            simpler.extend(smaller(len).into_iter().map(|len| Op::Iterate {
                start,
                len,
                pattern,
            }));
            if pattern != 0 {
                simpler.push(Op::Iterate {
                    start,
                    len,
                    pattern: 0,
                });
            }
        }
        Op::Sibling { grow, count } => {
            simpler.extend(
                smaller(count)
                    .into_iter()
                    .map(|count| Op::Sibling { grow, count }),
            );
        }
        Op::LowerBound { .. } | Op::Clear => {}
    }
    simpler
}

/// Shrinks a failure's op list (deterministic delta debugging, [`crate::support::shrink::shrink`])
/// to a locally minimal one that still fails the same check ([`failure_signature`]), and
/// returns the shrunk trace with its failure. Every op list is valid, so every candidate
/// is a real run.
pub fn shrink_failure(
    failure: &Failure,
    faults: Faults,
    limits: crate::support::shrink::ShrinkLimits,
) -> (Trace, Failure) {
    let setup = failure.trace.setup;
    let signature = failure_signature(failure).to_string();
    let fails = |ops: &[Op]| match run_ops(setup, ops, faults) {
        Err(found) => failure_signature(&found) == signature,
        Ok(_) => false,
    };
    let shrunk = crate::support::shrink::shrink(
        failure.trace.ops.clone(),
        limits,
        fails,
        simpler_ops,
        |_, _| {},
    );
    let shrunk_failure = match run_ops(setup, &shrunk.ops, faults) {
        Err(found) => Failure {
            seed: failure.seed,
            ..found
        },
        Ok(_) => unreachable!("shrinking keeps a failing sequence"),
    };
    (
        Trace {
            setup,
            ops: shrunk.ops,
        },
        shrunk_failure,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setups_are_normalized_and_valid() {
        let mut prng = Prng::from_seed(7);
        for _ in 0..2_000 {
            let setup = Setup::draw(&mut prng);
            assert_eq!(setup, setup.normalized(), "normalize is idempotent");
            assert_eq!(setup.node_size % 16, 0);
            assert!(setup.node_capacity() >= 2);
            assert!(setup.node_size as usize / setup.element.size() >= 2);
            assert!(setup.pool_nodes <= setup.pool_nodes_full());
        }
    }

    #[test]
    fn arbitrary_setups_normalize() {
        let raw = Setup {
            element: ElementKind::Record64,
            node_size: 17,
            capacity: 0,
            sibling_capacity: 99_999,
            pool_nodes: u32::MAX,
            sorted: true,
            key_max: u64::MAX,
        };
        let setup = raw.normalized();
        assert_eq!(setup.node_size, 128);
        assert_eq!(setup.capacity, 1);
        assert_eq!(setup.sibling_capacity, 1);
        assert_eq!(setup.pool_nodes, setup.pool_nodes_full());
        assert_eq!(setup, setup.normalized());
        let narrow = Setup {
            element: ElementKind::U32,
            ..raw
        }
        .normalized();
        assert_eq!(narrow.key_max, u64::from(u32::MAX));
        assert_eq!(narrow.node_size, 32);
    }

    #[cfg(feature = "arbitrary")]
    #[test]
    fn fuzz_input_round_trips() {
        for seed in 0..20 {
            let config = SegmentedArrayFuzzConfig {
                seed,
                ops: 300,
                record: true,
                ..Default::default()
            };
            let trace = run(config).expect("passes").trace.expect("recorded");
            let decoded = Trace::from_fuzz_input(&trace.to_fuzz_input());
            assert_eq!(decoded.setup, trace.setup.for_fuzz_input());
            assert!(decoded.setup.capacity <= INPUT_CAPACITY_MAX);
            assert_eq!(decoded.ops, trace.ops[..INPUT_OPS_MAX]);
        }
        // Arbitrary bytes decode, and re-encode to a prefix-equivalent input.
        let mut prng = Prng::from_seed(3);
        for _ in 0..200 {
            let bytes: Vec<u8> = (0..prng.int_inclusive(300))
                .map(|_| prng.next_u64() as u8)
                .collect();
            let trace = Trace::from_fuzz_input(&bytes);
            let again = Trace::from_fuzz_input(&trace.to_fuzz_input());
            assert_eq!(again, trace);
        }
    }
}

//! Runs a seed or an explicit op list to a [`Report`] or a [`Failure`].

use std::fmt;

use manifest_level::NodePool;

use super::element::{ElementKind, FuzzElement, Record24, Record64};
use super::generate::Generator;
use super::harness::{mismatch, Harness, Mismatch};
use super::ops::Op;
use super::setup::Setup;
use crate::support::panic::catch_panic;
use crate::support::prng::Prng;

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

/// Where ops come from.
pub(super) enum Source<'a> {
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

pub(super) fn execute(
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

/// Runs `step` with panics caught: a panic becomes a [`Mismatch`] of the check
/// `no panic`, with the panic's message and location.
fn guarded(step: impl FnOnce() -> Result<(), Mismatch>) -> Result<(), Mismatch> {
    catch_panic(step).unwrap_or_else(|caught| {
        let location = caught
            .location
            .map(|l| format!(" at {l}"))
            .unwrap_or_default();
        Err(mismatch(
            "no panic",
            "the op and the checks complete",
            format!("panic: {}{location}", caught.message),
        ))
    })
}

pub(super) fn execute_typed<T: FuzzElement>(
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
    // Check the empty array once before the first op.
    if let Err(found) = guarded(|| harness.check_all()) {
        std::mem::forget(harness);
        let before = (Op::Clear, "(before the first op)".to_string(), found);
        return Err(failed(setup, seed, 0, ops, before));
    }
    while let Some(op) = source.next(&harness) {
        ops.push(op);
        let step = guarded(|| {
            harness.resolved.clear();
            harness.progress = None;
            harness.apply(op)?;
            harness.check_all()
        });
        if let Err(found) = step {
            let resolved = harness.describe();
            // After a panic the array may be inconsistent; dropping it could panic again.
            std::mem::forget(harness);
            let op_index = ops.len() as u64 - 1;
            return Err(failed(setup, seed, op_index, ops, (op, resolved, found)));
        }
    }
    let mut report = harness.report.clone();
    report.seed = seed;
    report.ops = ops.len() as u64;
    report.len_final = harness.array.len();
    if record {
        report.trace = Some(Trace { setup, ops });
    }
    Ok(report)
}

/// The [`Failure`] of op `op_index` (`ops` ends with it): the op, what its positions
/// resolved to, and the check it failed.
fn failed(
    setup: Setup,
    seed: Option<u64>,
    op_index: u64,
    ops: Vec<Op>,
    (op, resolved, found): (Op, String, Mismatch),
) -> Failure {
    Failure {
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
    }
}

//! Runs a seed or an explicit op list to a [`Report`] or a [`Failure`].

use manifest_level::NodePool;

use super::element::{ElementKind, FuzzElement, Record24, Record64};
use super::faults::Faults;
use super::generate::Generator;
use super::harness::{mismatch, Harness, Mismatch};
use super::ops::Op;
use super::report::{Failure, Report};
use super::setup::Setup;
use super::trace::Trace;
use crate::support::panic::catch_panic;
use crate::support::prng::Prng;

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

impl SegmentedArrayFuzzConfig {
    /// The command line that reruns this seed alone.
    pub fn reproduce_command(&self) -> String {
        let features = if self.faults == Faults::default() {
            ""
        } else {
            " --features fault-injection"
        };
        let mut command = format!(
            "cargo run --release -p manifest-level-fuzz{features} -- segmented-array --seed {} \
             --ops {}",
            self.seed, self.ops
        );
        if let Some(element) = self.element {
            command.push_str(&format!(" --element {element}"));
        }
        if let Some(node_size) = self.node_size {
            command.push_str(&format!(" --node-size {node_size}"));
        }
        match self.sorted {
            Some(true) => command.push_str(" --sorted"),
            Some(false) => command.push_str(" --positional"),
            None => {}
        }
        if self.faults.search_off_by_one {
            command.push_str(" --inject-search-fault");
        }
        command
    }
}

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
            .as_ref()
            .map(|l| format!(" at {l}"))
            .unwrap_or_default();
        Err(Mismatch {
            panic: Some(caught.clone()),
            ..mismatch(
                "no panic",
                "the op and the checks complete",
                format!("panic: {}{location}", caught.message),
            )
        })
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
    // Check the constructors' refusals and the empty array once before the first op.
    if let Err(found) = guarded(|| {
        super::harness::check_constructor_refusals()?;
        harness.check_all()
    }) {
        std::mem::forget(harness);
        let before = (Op::Clear, "(before the first op)".to_string(), found);
        return Err(failed(setup, faults, seed, (0, ops), before));
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
            let failure = failed(setup, faults, seed, (op_index, ops), (op, resolved, found));
            return Err(failure);
        }
    }
    let mut report = harness.report.clone();
    report.seed = seed;
    report.ops = ops.len() as u64;
    report.len_final = harness.array.len();
    if record {
        report.trace = Some(Trace::of(setup, faults, ops));
    }
    Ok(report)
}

/// The [`Failure`] of op `op_index` (`ops` ends with it): the op, what its positions
/// resolved to, and the check it failed.
fn failed(
    setup: Setup,
    faults: Faults,
    seed: Option<u64>,
    (op_index, ops): (u64, Vec<Op>),
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
        detail: found.detail,
        expected: found.expected,
        found: found.found,
        panic: found.panic,
        trace: Trace::of(setup, faults, ops),
    }
}

//! Shrinking turns each planted fault's failure into at most 10 ops that still fail the
//! same check, deterministically, and the shrunk ops replay to the same failure: the eight
//! faults the seed's op set catches, under the seed's fuzzer, and the four only the
//! extended op set reaches, under `RunConfig::deep` (extended ops, deep checks). The two
//! that only bite in levels of more than 128 nodes are not shrunk here.
//!
//! Run with `--nocapture` to see the table (fault, seed, ops before -> after, runs).

use manifest_level::Fault;
use manifest_level_fuzz::level::ops::FuzzOp;
use manifest_level_fuzz::level::reduce::{reduce, FailureSignature, Reduced};
use manifest_level_fuzz::level::runner::{fault_name, plan, run, run_ops, RunConfig};
use manifest_level_fuzz::level::trace::Trace;
use manifest_level_fuzz::support::shrink::ShrinkLimits;

/// The faults the faithful op set catches (see `tests/faults.rs`).
const FAITHFUL: [Fault; 8] = [
    Fault::RetireKeepsCounters,
    Fault::RemoveTakesNeighbour,
    Fault::DescendingSkipsFirstNode,
    Fault::KeyRangeNotShrunk,
    Fault::SearchOffByOneAtNodeBoundary,
    Fault::RemoveKeepsValueCount,
    Fault::MergeLeaksNode,
    Fault::InvisibleSnapshotMaxExclusive,
];

const MAX_SHRUNK_OPS: usize = 10;

/// 256-byte nodes: 4 tables per node, so node boundaries (where
/// `SearchOffByOneAtNodeBoundary` bites) appear after one insert. With the default
/// 1024-byte nodes (16 tables per node) the first boundary needs more than 16 tables, that
/// is at least 2 inserts of at most 10 tables (see `search_fault_at_default_node_size`).
const NODE_SIZE: usize = 256;

fn config(seed: u64, fault: Fault) -> RunConfig {
    config_with(seed, fault, NODE_SIZE)
}

fn config_with(seed: u64, fault: Fault, node_size: usize) -> RunConfig {
    let base = match fault {
        _ if EXTENDED_ONLY.contains(&fault) => RunConfig::deep(seed),
        // A small level under ballast: the pool runs dry within a few inserts.
        Fault::ExhaustedInsertCountsTable => RunConfig {
            ballast_percent: 85,
            table_count_max: 64,
            ..RunConfig::deep(seed)
        },
        Fault::KeyRangeContainsHighHalf => RunConfig {
            key: manifest_level_fuzz::level::key::KeyWidth::U128,
            ..RunConfig::deep(seed)
        },
        _ => RunConfig::new(seed),
    };
    RunConfig {
        events_max: Some(20_000),
        node_size,
        fault: Some(fault),
        ..base
    }
}

/// Finds the first failing seed for `fault` and shrinks it.
fn shrink_fault(fault: Fault) -> (Vec<FuzzOp>, Reduced) {
    shrink_fault_with(fault, NODE_SIZE)
}

fn shrink_fault_with(fault: Fault, node_size: usize) -> (Vec<FuzzOp>, Reduced) {
    let (config, failure) = (1..=20)
        .find_map(|seed| {
            let config = config_with(seed, fault, node_size);
            run(&config).err().map(|failure| (config, failure))
        })
        .unwrap_or_else(|| panic!("{fault:?} is not caught"));
    let ops = plan(&config).ops;
    let mut steps = 0;
    let reduced = reduce(&config, &ops, &failure, ShrinkLimits::default(), |_, _| {
        steps += 1;
    })
    .unwrap_or_else(|error| panic!("{fault:?}: {error}"));
    assert!(steps > 0, "{fault:?}: no step logged");
    println!(
        "{:30} {node_size:4}-byte nodes, seed {:2}: {:5} ops (failing at op {:5}) -> {} ops in {:4} runs, {:.3}s: {}",
        fault_name(fault),
        config.seed,
        ops.len(),
        failure.op_index.unwrap(),
        reduced.ops.len(),
        reduced.attempts,
        reduced.elapsed.as_secs_f64(),
        reduced.signature
    );
    (ops, reduced)
}

fn assert_shrinks_extended(fault: Fault) {
    assert!(EXTENDED_ONLY.contains(&fault));
    let (ops, reduced) = assert_shrinks(fault);
    assert!(reduced.config.check == manifest_level_fuzz::level::environment::deep::CheckMode::Deep);
    // The reproducer needs extended ops (the faithful op set never fails this way).
    assert!(
        reduced.ops.iter().any(FuzzOp::is_extended),
        "{:?}",
        reduced.ops
    );
    assert!(reduced.ops.len() < ops.len());
}

fn assert_shrinks(fault: Fault) -> (Vec<FuzzOp>, Reduced) {
    let (ops, reduced) = shrink_fault(fault);
    assert!(
        reduced.ops.len() <= MAX_SHRUNK_OPS,
        "{fault:?}: shrunk to {} ops: {:?}",
        reduced.ops.len(),
        reduced.ops
    );
    assert!(!reduced.truncated, "{fault:?}: shrinking hit a limit");
    assert!(reduced.ops.len() < ops.len());
    // The shrunk ops still fail the same check, at their last op.
    let failure = run_ops(&reduced.config, &reduced.ops).unwrap_err();
    assert_eq!(
        FailureSignature::of(&failure),
        Some(reduced.signature.clone())
    );
    assert_eq!(failure.op_index, Some(reduced.ops.len() - 1), "{fault:?}");
    assert_eq!(failure, reduced.failure);
    // Without the fault they pass: the shrunk ops are a reproducer of the fault.
    let clean = RunConfig {
        fault: None,
        ..reduced.config.clone()
    };
    run_ops(&clean, &reduced.ops).unwrap_or_else(|f| panic!("{fault:?}: fails clean:\n{f}"));
    // Through a trace too.
    let trace = Trace::new(&reduced.config, reduced.ops.clone())
        .with_failure(Some(reduced.signature.clone()));
    let back = Trace::parse(&trace.to_json_lines()).unwrap();
    assert_eq!(run_ops(back.config(), &back.ops).unwrap_err(), failure);
    (ops, reduced)
}

#[test]
fn shrinks_retire_keeps_counters() {
    assert_shrinks(Fault::RetireKeepsCounters);
}

#[test]
fn shrinks_remove_takes_neighbour() {
    assert_shrinks(Fault::RemoveTakesNeighbour);
}

#[test]
fn shrinks_descending_skips_first_node() {
    assert_shrinks(Fault::DescendingSkipsFirstNode);
}

#[test]
fn shrinks_key_range_not_shrunk() {
    assert_shrinks(Fault::KeyRangeNotShrunk);
}

#[test]
fn shrinks_search_off_by_one_at_node_boundary() {
    assert_shrinks(Fault::SearchOffByOneAtNodeBoundary);
}

#[test]
fn shrinks_remove_keeps_value_count() {
    assert_shrinks(Fault::RemoveKeepsValueCount);
}

#[test]
fn shrinks_merge_leaks_node() {
    assert_shrinks(Fault::MergeLeaksNode);
}

#[test]
fn shrinks_invisible_snapshot_max_exclusive() {
    assert_shrinks(Fault::InvisibleSnapshotMaxExclusive);
}

/// The faults only the extended op set reaches (see `tests/faults.rs`).
const EXTENDED_ONLY: [Fault; 4] = [
    Fault::NextTableInclusive,
    Fault::LeastOverlapPrefersLast,
    Fault::RemoveKeepsGeneration,
    Fault::RetiredInsertCountsVisible,
];

/// The faults that only bite past 128 or 512 nodes (see `tests/faults.rs`): not shrunk
/// here, since no run of at most [`MAX_SHRUNK_OPS`] ops builds such a level at this node
/// size (`deep_faults.rs` shows the campaign catching them).
const BIG_LEVELS_ONLY: [Fault; 2] = [
    Fault::IndexStalePastFirstBlock,
    Fault::GroupFencesStaleAfterShift,
];

/// The faults in paths the faithful shape never takes (see `tests/faults.rs`): a refused
/// insert (shrunk under ballast on a small level) and `u128` keys.
const OTHER_SHAPES_ONLY: [Fault; 2] = [
    Fault::ExhaustedInsertCountsTable,
    Fault::KeyRangeContainsHighHalf,
];

#[test]
fn shrinks_exhausted_insert_counts_table() {
    let (_, reduced) = assert_shrinks(Fault::ExhaustedInsertCountsTable);
    assert_eq!(reduced.config.ballast_percent, 85);
}

#[test]
fn shrinks_key_range_contains_high_half() {
    let (_, reduced) = assert_shrinks(Fault::KeyRangeContainsHighHalf);
    assert_eq!(reduced.ops.len(), 1, "{:?}", reduced.ops);
}

#[test]
fn every_fault_is_listed() {
    for fault in Fault::ALL {
        let lists = [
            FAITHFUL.contains(&fault),
            EXTENDED_ONLY.contains(&fault),
            BIG_LEVELS_ONLY.contains(&fault),
            OTHER_SHAPES_ONLY.contains(&fault),
        ];
        assert_eq!(
            lists.iter().filter(|&&listed| listed).count(),
            1,
            "list {fault:?} once"
        );
    }
}

#[test]
fn shrinks_next_table_inclusive() {
    assert_shrinks_extended(Fault::NextTableInclusive);
}

#[test]
fn shrinks_least_overlap_prefers_last() {
    assert_shrinks_extended(Fault::LeastOverlapPrefersLast);
}

#[test]
fn shrinks_remove_keeps_generation() {
    assert_shrinks_extended(Fault::RemoveKeepsGeneration);
}

#[test]
fn shrinks_retired_insert_counts_visible() {
    assert_shrinks_extended(Fault::RetiredInsertCountsVisible);
}

#[test]
fn shrinking_is_deterministic() {
    let (_, a) = shrink_fault(Fault::SearchOffByOneAtNodeBoundary);
    let (_, b) = shrink_fault(Fault::SearchOffByOneAtNodeBoundary);
    assert_eq!(a.ops, b.ops);
    assert_eq!(a.attempts, b.attempts);
}

#[test]
fn search_fault_at_default_node_size() {
    // A node boundary exists only once the first node (16 tables of 64 bytes in 1024 bytes)
    // has split: the reproducer must insert more than 16 tables, and stays small.
    let (ops, reduced) = shrink_fault_with(Fault::SearchOffByOneAtNodeBoundary, 1024);
    let inserted: u32 = reduced
        .ops
        .iter()
        .map(|op| match op {
            FuzzOp::InsertTables { count } => *count,
            _ => 0,
        })
        .sum();
    assert!(inserted > 16, "{:?}", reduced.ops);
    assert!(reduced.ops.len() <= MAX_SHRUNK_OPS, "{:?}", reduced.ops);
    assert!(reduced.ops.len() < ops.len());
}

#[test]
fn other_failing_seeds_shrink_too() {
    // Not just the first catch: every failing seed of 2..=6 shrinks to at most 10 ops.
    for fault in FAITHFUL {
        for seed in 2..=6 {
            let config = config(seed, fault);
            let Err(failure) = run(&config) else {
                continue;
            };
            let ops = plan(&config).ops;
            let reduced = reduce(&config, &ops, &failure, ShrinkLimits::default(), |_, _| {})
                .unwrap_or_else(|error| panic!("{fault:?} seed {seed}: {error}"));
            println!(
                "{:30} seed {seed}: failing at op {:5} -> {} ops",
                fault_name(fault),
                failure.op_index.unwrap(),
                reduced.ops.len()
            );
            assert!(
                reduced.ops.len() <= MAX_SHRUNK_OPS,
                "{fault:?} seed {seed}: {:?}",
                reduced.ops
            );
        }
    }
}

//! The fuzzer must catch bugs: each fault the faithful op set can reach is reported
//! within 20 seeds of at most 20,000 ops each; the faults only the extended op set can
//! reach are not, nor are those that only bite in levels of more than 128 nodes (the
//! faithful level, 1,024 tables in 1,024-byte nodes, never gets there). The campaign
//! default catches both kinds (`deep_faults.rs`).
//!
//! Run with `--nocapture` to see the catch table (fault, first seed, op index, check).

use manifest_level::Fault;
use manifest_level_fuzz::level::runner::{fault_name, run, FailureCause, RunConfig, RunFailure};

/// Faults in code the faithful op set runs: insert, retire, remove, descending iteration
/// (visible and invisible, which picks the tables to remove), find/contains, the
/// counters, `key_range_latest` and the segmented array's merges (whose nodes the pool
/// accounting counts after every op).
const REACHABLE: [Fault; 8] = [
    Fault::RetireKeepsCounters,
    Fault::RemoveTakesNeighbour,
    Fault::DescendingSkipsFirstNode,
    Fault::KeyRangeNotShrunk,
    Fault::SearchOffByOneAtNodeBoundary,
    Fault::RemoveKeepsValueCount,
    Fault::MergeLeaksNode,
    Fault::InvisibleSnapshotMaxExclusive,
];

/// Faults in code the faithful op set never calls (`next_table`,
/// `table_with_least_overlap`) or never observes (the faithful mode never uses a
/// reference after a removal, so a generation that stays put goes unnoticed; it never
/// inserts a retired table: only the extended op set's rebuild does).
const EXTENDED_ONLY: [Fault; 4] = [
    Fault::NextTableInclusive,
    Fault::LeastOverlapPrefersLast,
    Fault::RemoveKeepsGeneration,
    Fault::RetiredInsertCountsVisible,
];

/// Faults in the parts of the segmented array built for big levels: the node-start index
/// past its first block (128 nodes) and the group fences past the first group (512
/// nodes). The faithful level holds at most 1,024 tables in nodes of 16, at least 8 each
/// but the last: 128 nodes at most.
const BIG_LEVELS_ONLY: [Fault; 2] = [
    Fault::IndexStalePastFirstBlock,
    Fault::GroupFencesStaleAfterShift,
];

/// Faults in paths the faithful shape never takes: a refused insert (its pool holds the
/// level's worst case, so no insert meets an exhausted pool) and keys wider than 64 bits
/// (its keys are `u64`). The ballast and `u128` keys of the campaign default reach them
/// (`ballast.rs`, `wide_keys.rs`, `deep_faults.rs`).
const OTHER_SHAPES_ONLY: [Fault; 2] = [
    Fault::ExhaustedInsertCountsTable,
    Fault::KeyRangeContainsHighHalf,
];

const SEEDS: core::ops::RangeInclusive<u64> = 1..=20;
const EVENTS_MAX: u64 = 20_000;

fn config(seed: u64, fault: Option<Fault>) -> RunConfig {
    RunConfig {
        events_max: Some(EVENTS_MAX),
        fault,
        ..RunConfig::new(seed)
    }
}

/// The first failing run over [`SEEDS`], if any.
fn first_catch(fault: Fault) -> Option<RunFailure> {
    SEEDS
        .into_iter()
        .find_map(|seed| run(&config(seed, Some(fault))).err())
}

fn assert_caught(fault: Fault) {
    let failure = first_catch(fault).unwrap_or_else(|| {
        panic!("{fault:?} was not caught in seeds {SEEDS:?} at {EVENTS_MAX} ops")
    });
    let index = failure.op_index.expect("a failure while running ops");
    let what = match &failure.cause {
        FailureCause::Check(check) => check.what.to_string(),
        FailureCause::Panic { message, .. } => format!("panic: {message}"),
        cause => panic!("{fault:?}: not a detection: {cause}"),
    };
    println!(
        "fault {:30} caught: seed {:2}, op index {:5} ({}), {}",
        fault_name(fault),
        failure.seed(),
        index,
        failure.op.unwrap(),
        what
    );
    // The same ops without the fault pass: the fault, not the run, is what failed.
    let clean = RunConfig {
        events_max: Some(index as u64 + 1),
        ..config(failure.seed(), None)
    };
    if let Err(clean) = run(&clean) {
        panic!("{fault:?}: the run fails without the fault too:\n{clean}");
    }
    // And the failure reproduces exactly.
    let again = run(&failure.config).unwrap_err();
    assert_eq!(again, failure, "{fault:?}: the failure does not reproduce");
    assert!(failure
        .reproduce_command()
        .ends_with(&format!("--inject-fault {}", fault_name(fault))));
}

fn assert_missed(fault: Fault) {
    if let Some(failure) = first_catch(fault) {
        panic!("{fault:?} is caught by the faithful mode after all:\n{failure}");
    }
    println!(
        "fault {:30} not caught by the faithful mode (seeds {SEEDS:?}, {EVENTS_MAX} ops)",
        fault_name(fault)
    );
}

#[test]
fn every_fault_is_classified() {
    for fault in Fault::ALL {
        let lists = [
            REACHABLE.contains(&fault),
            EXTENDED_ONLY.contains(&fault),
            BIG_LEVELS_ONLY.contains(&fault),
            OTHER_SHAPES_ONLY.contains(&fault),
        ];
        assert_eq!(
            lists.iter().filter(|&&x| x).count(),
            1,
            "classify {fault:?} as reachable by the faithful mode or not"
        );
    }
    assert!(REACHABLE.len() >= 6);
}

#[test]
fn catches_retire_keeps_counters() {
    assert_caught(Fault::RetireKeepsCounters);
}

#[test]
fn catches_remove_takes_neighbour() {
    assert_caught(Fault::RemoveTakesNeighbour);
}

#[test]
fn catches_descending_skips_first_node() {
    assert_caught(Fault::DescendingSkipsFirstNode);
}

#[test]
fn catches_key_range_not_shrunk() {
    assert_caught(Fault::KeyRangeNotShrunk);
}

#[test]
fn catches_search_off_by_one_at_node_boundary() {
    assert_caught(Fault::SearchOffByOneAtNodeBoundary);
}

#[test]
fn catches_remove_keeps_value_count() {
    assert_caught(Fault::RemoveKeepsValueCount);
}

#[test]
fn catches_merge_leaks_node() {
    assert_caught(Fault::MergeLeaksNode);
}

#[test]
fn catches_invisible_snapshot_max_exclusive() {
    assert_caught(Fault::InvisibleSnapshotMaxExclusive);
}

#[test]
fn misses_next_table_inclusive() {
    assert_missed(Fault::NextTableInclusive);
}

#[test]
fn misses_least_overlap_prefers_last() {
    assert_missed(Fault::LeastOverlapPrefersLast);
}

#[test]
fn misses_remove_keeps_generation() {
    assert_missed(Fault::RemoveKeepsGeneration);
}

#[test]
fn misses_retired_insert_counts_visible() {
    assert_missed(Fault::RetiredInsertCountsVisible);
}

#[test]
fn misses_index_stale_past_first_block() {
    assert_missed(Fault::IndexStalePastFirstBlock);
}

#[test]
fn misses_group_fences_stale_after_shift() {
    assert_missed(Fault::GroupFencesStaleAfterShift);
}

#[test]
fn misses_exhausted_insert_counts_table() {
    assert_missed(Fault::ExhaustedInsertCountsTable);
}

#[test]
fn misses_key_range_contains_high_half() {
    assert_missed(Fault::KeyRangeContainsHighHalf);
}

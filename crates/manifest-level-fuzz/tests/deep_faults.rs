//! Deep checking and the extended op set against the deliberately broken levels.
//!
//! - Every fault the faithful mode catches (see `faults.rs`) is caught by the deep mode,
//!   on the same seeds, at the same op or earlier: a deep run executes exactly the
//!   faithful run's ops on the same tables, so the op indexes compare directly. Faults
//!   that can hide in the level while the faithful checks look elsewhere (a descending
//!   iteration that skips a node, a search that is off by one at node boundaries, an
//!   invisible class that takes in tables retired at one of its snapshots) are caught
//!   strictly earlier. For the others, when both modes catch at the same op, the
//!   test proves no checker could have done better: before that op, the broken level's
//!   state is exactly the correct level's.
//! - The faults only the extended op set reaches (`next_table`,
//!   `table_with_least_overlap`, a generation that removals do not bump) are caught by the
//!   extended op set with deep checks within 20 seeds of 20,000 ops (the faithful mode
//!   misses them: `faults.rs`).
//! - The campaign default (extended ops, deep checks, swarm weights and level shapes)
//!   catches every fault within 20 seeds, those in the parts built for big levels (the
//!   node-start index past 128 nodes, the group fences past 512) included; those stay
//!   silent on every seed whose level never gets that big.
//!
//! Run with `--nocapture` to see the tables of numbers.

use manifest_level::Fault;
use manifest_level_fuzz::level::environment::deep::CheckMode;
use manifest_level_fuzz::level::ops::OpSet;
use manifest_level_fuzz::level::runner::{
    fault_name, plan, run, run_ops, FailureCause, RunConfig, RunFailure,
};

const SEEDS: core::ops::RangeInclusive<u64> = 1..=5;
const EVENTS_MAX: u64 = 20_000;

/// Faults that can stay hidden in the level for a while: the faithful checks only see
/// them when an op happens to depend on the broken path.
const LATENT: [Fault; 3] = [
    Fault::DescendingSkipsFirstNode,
    Fault::SearchOffByOneAtNodeBoundary,
    Fault::InvisibleSnapshotMaxExclusive,
];

fn config(seed: u64, fault: Fault, check: CheckMode) -> RunConfig {
    RunConfig {
        events_max: Some(EVENTS_MAX),
        fault: Some(fault),
        check,
        ..RunConfig::new(seed)
    }
}

fn describe(failure: &RunFailure) -> String {
    match &failure.cause {
        FailureCause::Check(check) => check.what.to_string(),
        FailureCause::Panic { message, .. } => format!("panic: {message}"),
        cause => panic!("not a detection: {cause}"),
    }
}

fn compare(fault: Fault) {
    let mut both = 0;
    for seed in SEEDS {
        let faithful = run(&config(seed, fault, CheckMode::Faithful)).err();
        let deep = run(&config(seed, fault, CheckMode::Deep)).err();
        let (Some(faithful), Some(deep)) = (&faithful, &deep) else {
            assert!(
                faithful.is_none(),
                "{fault:?} seed {seed}: caught by the faithful mode, missed by the deep one"
            );
            println!(
                "{:30} seed {seed}: faithful -, deep {:?}",
                fault_name(fault),
                deep.as_ref().map(|d| d.op_index)
            );
            continue;
        };
        both += 1;
        let (f, d) = (faithful.op_index.unwrap(), deep.op_index.unwrap());
        println!(
            "{:30} seed {seed}: faithful op {f:5} ({}), deep op {d:5} ({})",
            fault_name(fault),
            describe(faithful),
            describe(deep)
        );
        assert!(
            d <= f,
            "{fault:?} seed {seed}: deep at {d}, faithful at {f}"
        );
        if LATENT.contains(&fault) {
            assert!(d < f, "{fault:?} seed {seed}: deep at {d}, not before {f}");
        } else if d == f {
            // Nothing observable differed before op f: the broken level's state after
            // the ops before it is the correct level's.
            let ops = plan(&config(seed, fault, CheckMode::Faithful)).ops;
            let broken = run_ops(&config(seed, fault, CheckMode::Faithful), &ops[..f]).unwrap();
            let clean = run_ops(
                &RunConfig {
                    fault: None,
                    ..config(seed, fault, CheckMode::Faithful)
                },
                &ops[..f],
            )
            .unwrap();
            assert_eq!(broken.digest, clean.digest, "{fault:?} seed {seed}");
        }
    }
    assert!(
        both >= 3,
        "{fault:?}: caught by both modes in only {both} seeds"
    );
}

#[test]
fn deep_catches_retire_keeps_counters_no_later() {
    compare(Fault::RetireKeepsCounters);
}

#[test]
fn deep_catches_remove_takes_neighbour_no_later() {
    compare(Fault::RemoveTakesNeighbour);
}

#[test]
fn deep_catches_descending_skips_first_node_earlier() {
    compare(Fault::DescendingSkipsFirstNode);
}

#[test]
fn deep_catches_key_range_not_shrunk_no_later() {
    compare(Fault::KeyRangeNotShrunk);
}

#[test]
fn deep_catches_search_off_by_one_at_node_boundary_earlier() {
    compare(Fault::SearchOffByOneAtNodeBoundary);
}

#[test]
fn deep_catches_remove_keeps_value_count_no_later() {
    compare(Fault::RemoveKeepsValueCount);
}

#[test]
fn deep_catches_merge_leaks_node_no_later() {
    compare(Fault::MergeLeaksNode);
}

#[test]
fn deep_catches_invisible_snapshot_max_exclusive_no_later() {
    compare(Fault::InvisibleSnapshotMaxExclusive);
}

/// The first of 20 seeds of at most 20,000 ops where the extended op set with deep
/// checks catches `fault`; prints it next to the extended op set with faithful checks.
fn assert_extended_catches(fault: Fault) {
    let extended = |seed: u64, check: CheckMode| RunConfig {
        events_max: Some(EVENTS_MAX),
        fault: Some(fault),
        check,
        ..RunConfig::new(seed).with_ops(OpSet::Extended)
    };
    let (seed, failure) = (1..=20)
        .find_map(|seed| {
            run(&extended(seed, CheckMode::Deep))
                .err()
                .map(|failure| (seed, failure))
        })
        .unwrap_or_else(|| panic!("{fault:?} not caught by the extended op set in 20 seeds"));
    let shallow = run(&extended(seed, CheckMode::Faithful)).err();
    println!(
        "{:30} seed {seed}: extended+deep op {:5} ({}: {}), extended+faithful checks {}",
        fault_name(fault),
        failure.op_index.unwrap(),
        failure.op.unwrap(),
        describe(&failure),
        match &shallow {
            Some(shallow) => format!(
                "op {} ({}: {})",
                shallow.op_index.unwrap(),
                shallow.op.unwrap(),
                describe(shallow)
            ),
            None => "-".into(),
        }
    );
    assert!(failure.op_index.is_some());
    // The failure reproduces from its config alone.
    assert_eq!(run(&failure.config).unwrap_err(), failure);
}

#[test]
fn extended_catches_next_table_inclusive() {
    assert_extended_catches(Fault::NextTableInclusive);
}

#[test]
fn extended_catches_least_overlap_prefers_last() {
    assert_extended_catches(Fault::LeastOverlapPrefersLast);
}

#[test]
fn extended_catches_remove_keeps_generation() {
    assert_extended_catches(Fault::RemoveKeepsGeneration);
}

#[test]
fn extended_catches_retired_insert_counts_visible() {
    assert_extended_catches(Fault::RetiredInsertCountsVisible);
}

/// A campaign seed as the campaign runs it by default (extended op set, deep checks,
/// swarm weights and a drawn level shape), of at most [`EVENTS_MAX`] ops.
fn campaign_seed(seed: u64, fault: Option<Fault>) -> RunConfig {
    use manifest_level_fuzz::level::configuration::ConfigurationOverrides;
    RunConfig {
        events_max: Some(EVENTS_MAX),
        fault,
        swarm: true,
        ..RunConfig::deep(seed)
    }
    .with_drawn_configuration(ConfigurationOverrides::default())
}

/// The campaign default (extended op set, deep checks, swarm weights and level shapes)
/// catches every planted fault within 20 seeds; prints the ops each took.
#[test]
fn the_default_campaign_mode_catches_every_fault_within_20_seeds() {
    for fault in Fault::ALL {
        let (seed, failure) = (0..20)
            .find_map(|seed| {
                run(&campaign_seed(seed, Some(fault)))
                    .err()
                    .map(|failure| (seed, failure))
            })
            .unwrap_or_else(|| panic!("{fault:?} not caught in 20 campaign seeds"));
        assert!(
            matches!(
                failure.cause,
                FailureCause::Check(_) | FailureCause::Panic { .. }
            ),
            "{failure}"
        );
        println!(
            "{:30} seed {seed}: op {:5} ({})",
            fault_name(fault),
            failure.op_index.unwrap(),
            describe(&failure)
        );
    }
}

/// The faults in the parts of the segmented array built for big levels change nothing on
/// the campaign seeds whose level never passes the node count they need (a second index
/// block past 128 nodes, a second group past 512), and the campaign default catches each
/// on a seed whose level does; prints each seed's peak.
#[test]
fn big_level_faults_bite_only_in_big_levels() {
    let peaks: Vec<u32> = (0..20)
        .map(|seed| run(&campaign_seed(seed, None)).unwrap().peak_nodes)
        .collect();
    for (fault, nodes_max_silent) in [
        (Fault::IndexStalePastFirstBlock, 128),
        (Fault::GroupFencesStaleAfterShift, 512),
    ] {
        let mut caught = Vec::new();
        for (seed, &peak) in (0..20).zip(&peaks) {
            let outcome = run(&campaign_seed(seed, Some(fault)));
            if peak <= nodes_max_silent {
                assert!(
                    outcome.is_ok(),
                    "{fault:?} seed {seed}: caught at a peak of {peak} nodes"
                );
            } else if let Err(failure) = outcome {
                caught.push(format!(
                    "seed {seed} (peak {peak} nodes) at op {} ({})",
                    failure.op_index.unwrap(),
                    describe(&failure)
                ));
            }
        }
        println!("{:30} caught on {}", fault_name(fault), caught.join(", "));
        assert!(
            !caught.is_empty(),
            "{fault:?}: no seed passes {nodes_max_silent} nodes and catches it"
        );
    }
}

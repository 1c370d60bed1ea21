//! The extended op set (`--ops extended`): it passes on the correct level over bounded
//! multi-seed runs and runs every kind; explicit lists are validated; retained snapshots
//! protect what they see; compaction makes tables of different snapshots overlap and
//! share `key_max`; and every misuse op gets its typed error and changes nothing.

use manifest_level::{Fault, Query};
use manifest_level_fuzz::level::environment::deep::CheckMode;
use manifest_level_fuzz::level::environment::Check;
use manifest_level_fuzz::level::generate::validate_ops_for;
use manifest_level_fuzz::level::ops::{FuzzOp, OpCounts, OpKind, OpSet, WalkDirection};
use manifest_level_fuzz::level::runner::{
    plan, run, run_ops, run_ops_then, FailureCause, RunConfig,
};

fn extended(seed: u64, events_max: u64) -> RunConfig {
    RunConfig {
        events_max: Some(events_max),
        ..RunConfig::new(seed).with_ops(OpSet::Extended)
    }
}

#[test]
fn extended_runs_pass_and_run_every_kind() {
    let mut counts = [0u64; OpKind::ALL.len()];
    let mut add = |op_counts: &OpCounts| {
        for kind in OpKind::ALL {
            counts[kind.index()] += op_counts.get(kind);
        }
    };
    let mut peak = 0;
    for seed in 1..=8 {
        let report = run(&extended(seed, 4_000)).unwrap_or_else(|failure| panic!("{failure}"));
        assert_eq!(report.op_counts.total(), report.ops_run as u64);
        peak = peak.max(report.peak_tables);
        add(&report.op_counts);
    }
    // Small levels fill up: the full-level misuse and the fallbacks run.
    for (seed, table_count_max, node_size) in [
        (1, 8, 128),
        (2, 16, 128),
        (3, 33, 128),
        (4, 64, 256),
        (5, 1, 128),
    ] {
        let config = RunConfig {
            table_count_max,
            node_size,
            ..extended(seed, 4_000)
        };
        let report = run(&config).unwrap_or_else(|failure| panic!("{failure}"));
        assert_eq!(report.peak_tables, table_count_max as usize, "{config:?}");
        add(&report.op_counts);
    }
    for kind in OpKind::ALL {
        assert!(counts[kind.index()] > 0, "{kind} never ran");
    }
    // Retained snapshots pin tables: extended levels grow past the faithful ones.
    assert!(peak > 256, "peak {peak}");
}

#[test]
fn same_seed_same_extended_run() {
    for seed in [0, 7, u64::MAX] {
        let config = extended(seed, 3_000);
        let (a, b) = (plan(&config), plan(&config));
        assert_eq!(a, b);
        validate_ops_for(&config.params(), OpSet::Extended, &a.ops).unwrap();
        assert_eq!(run(&config).unwrap().digest, run(&config).unwrap().digest);
    }
    assert_ne!(plan(&extended(1, 500)).ops, plan(&extended(2, 500)).ops);
    // The faithful op set's plans are unchanged by the extended kinds' existence.
    assert!(plan(&RunConfig::new(1))
        .ops
        .iter()
        .all(|op| !op.is_extended()));
}

#[test]
fn explicit_lists_are_validated() {
    let config = extended(1, 100);
    for ops in [
        &[FuzzOp::ReleaseSnapshot { index: 0 }][..],
        &[FuzzOp::MisuseStaleReference],
        &[
            FuzzOp::InsertTables { count: 3 },
            FuzzOp::MisuseCapacityExhausted,
        ],
        &[
            FuzzOp::InsertTables { count: 3 },
            FuzzOp::Compact {
                inputs: 4,
                outputs: 1,
            },
        ],
        &[
            FuzzOp::InsertTables { count: 3 },
            FuzzOp::Compact {
                inputs: 2,
                outputs: 3,
            },
        ],
        &[FuzzOp::MisuseRetireRetired],
        &[FuzzOp::RemoveTablesB { count: 1 }],
    ] {
        let failure = run_ops(&config, ops).unwrap_err();
        assert!(
            matches!(failure.cause, FailureCause::InvalidOp(_)),
            "{ops:?}: {failure}"
        );
    }
    // Extended ops need the extended op set.
    let failure = run_ops(&RunConfig::new(1), &[FuzzOp::RetainSnapshot]).unwrap_err();
    assert!(matches!(failure.cause, FailureCause::InvalidOp(_)));
    // And extended weights need it too.
    let mut config = RunConfig::new(1).with_ops(OpSet::Extended);
    config.ops = OpSet::Faithful;
    assert!(config.validate().is_err());
}

#[test]
fn retained_snapshots_protect_what_they_see() {
    let config = extended(3, 100);
    let setup = [
        FuzzOp::InsertTables { count: 8 },
        FuzzOp::RetainSnapshot,
        FuzzOp::UpdateTables { count: 5 },
        FuzzOp::TakeSnapshot,
        FuzzOp::TakeSnapshot,
    ];
    // Snapshot 1 is retained and sees the five retired tables: none may go.
    let (_, invisible) = run_ops_then(&config, &setup, |env| {
        let snapshots = [1, env.snapshot()];
        let level = env.level();
        (
            level.iter(Query::invisible(&snapshots)).count(),
            level.iter(Query::invisible(&[env.snapshot()])).count(),
        )
    })
    .unwrap();
    assert_eq!(invisible, (0, 5));
    let mut ops = setup.to_vec();
    ops.push(FuzzOp::RemoveInvisible { count: 1 });
    assert!(matches!(
        run_ops(&config, &ops).unwrap_err().cause,
        FailureCause::InvalidOp(_)
    ));
    // Once released, they are invisible and go.
    ops.pop();
    ops.push(FuzzOp::ReleaseSnapshot { index: 0 });
    ops.push(FuzzOp::RemoveInvisible { count: 5 });
    let report = run_ops(&config, &ops).unwrap();
    assert_eq!(report.final_tables, 3);
}

#[test]
fn compaction_overlaps_old_tables_and_shares_key_max() {
    let config = RunConfig {
        check: CheckMode::Deep,
        ..extended(11, 100)
    };
    let mut ops = vec![FuzzOp::InsertTables { count: 10 }, FuzzOp::RetainSnapshot];
    ops.extend(
        [FuzzOp::Compact {
            inputs: 3,
            outputs: 3,
        }; 6],
    );
    let (report, (shared, overlapping)) = run_ops_then(&config, &ops, |env| {
        let tables = env.level_tables();
        let shared = tables
            .windows(2)
            .filter(|pair| pair[0].key_max == pair[1].key_max)
            .count();
        let overlapping = tables
            .iter()
            .filter(|a| {
                tables
                    .iter()
                    .any(|b| !std::ptr::eq(*a, b) && a.intersects(&b.key_range()))
            })
            .count();
        (shared, overlapping)
    })
    .unwrap_or_else(|failure| panic!("{failure}"));
    assert_eq!(report.final_snapshot, 7);
    assert!(
        shared >= 6,
        "{shared} tables share key_max with their neighbour"
    );
    assert!(overlapping > 10, "{overlapping} overlapping tables");
}

/// A state where every misuse op applies: a full level of 8 tables (4 retired, 4 live),
/// a reference taken before an insert and a remove, level B non-empty.
fn misuse_setup() -> Vec<FuzzOp> {
    vec![
        FuzzOp::InsertTables { count: 6 },
        FuzzOp::InsertTablesB { count: 3 },
        FuzzOp::UpdateTables { count: 4 },
        FuzzOp::TakeSnapshot,
        FuzzOp::RemoveVisible { count: 1 },
        FuzzOp::InsertTables { count: 3 },
    ]
}

#[test]
fn every_misuse_op_gets_its_error_and_changes_nothing() {
    let misuse = [
        FuzzOp::MisuseStaleReference,
        FuzzOp::MisuseRemoveAbsent,
        FuzzOp::MisuseRetireRetired,
        FuzzOp::MisuseInvalidTable,
        FuzzOp::MisuseCapacityExhausted,
        FuzzOp::MisuseInvalidSnapshot,
    ];
    let kinds: Vec<_> = misuse.iter().map(FuzzOp::kind).collect();
    let expected: Vec<_> = OpKind::ALL
        .into_iter()
        .filter(|kind| kind.is_misuse())
        .collect();
    assert_eq!(kinds, expected, "a misuse op without a test");
    for check in [CheckMode::Faithful, CheckMode::Deep] {
        let config = RunConfig {
            table_count_max: 8,
            check,
            ..extended(5, 100)
        };
        let state = |ops: &[FuzzOp]| {
            run_ops_then(&config, ops, |env| {
                (env.fingerprint(), env.model().tables().to_vec())
            })
            .unwrap_or_else(|failure| panic!("{failure}"))
            .1
        };
        let before = state(&misuse_setup());
        assert_eq!(before.1.len(), 8, "a full level");
        for op in misuse {
            // Each op checks its own error (several variants, drawn from the query
            // stream): repeat it so most variants run, then compare the whole state.
            let mut ops = misuse_setup();
            ops.extend([op; 12]);
            let after = state(&ops);
            assert_eq!(before, after, "{op} changed the level or the model");
        }
    }
}

#[test]
fn misuse_checks_fire_on_a_level_that_gets_it_wrong() {
    // A level whose removals keep the generation accepts a reference taken before a
    // removal: the stale-reference misuse op must notice.
    let config = RunConfig {
        fault: Some(Fault::RemoveKeepsGeneration),
        ..extended(5, 100)
    };
    let ops = [
        FuzzOp::InsertTables { count: 6 },
        FuzzOp::RemoveVisible { count: 2 },
        FuzzOp::MisuseStaleReference,
    ];
    let failure = run_ops(&config, &ops).unwrap_err();
    assert_eq!(failure.op_index, Some(2));
    assert_eq!(
        failure.check().unwrap().what,
        Check::MisuseError,
        "{failure}"
    );
    // Without the fault the same list passes.
    run_ops(&extended(5, 100), &ops).unwrap();
}

#[test]
fn queries_run_against_every_snapshot_kind() {
    // Walks, overlap and least-overlap queries over a level with retained snapshots,
    // compactions and a populated level B, with deep checks.
    let config = RunConfig {
        check: CheckMode::Deep,
        ..extended(21, 100)
    };
    let mut ops = vec![
        FuzzOp::InsertTables { count: 10 },
        FuzzOp::InsertTables { count: 10 },
        FuzzOp::InsertTablesB { count: 10 },
        FuzzOp::InsertTablesB { count: 10 },
        FuzzOp::RetainSnapshot,
        FuzzOp::Compact {
            inputs: 5,
            outputs: 3,
        },
        FuzzOp::RetainSnapshot,
        FuzzOp::UpdateTables { count: 4 },
        FuzzOp::TakeSnapshot,
    ];
    for _ in 0..40 {
        ops.extend([
            FuzzOp::NextTableWalk {
                direction: WalkDirection::Ascending,
            },
            FuzzOp::NextTableWalk {
                direction: WalkDirection::Descending,
            },
            FuzzOp::OverlapQuery,
            FuzzOp::LeastOverlap,
        ]);
    }
    ops.extend([FuzzOp::Reset, FuzzOp::LeastOverlap, FuzzOp::OverlapQuery]);
    let report = run_ops(&config, &ops).unwrap_or_else(|failure| panic!("{failure}"));
    assert_eq!(report.final_tables, 0);
}

#[test]
fn extended_ops_serialize_as_tagged_objects() {
    let cases = [
        (FuzzOp::RetainSnapshot, r#"{"op":"retain_snapshot"}"#),
        (
            FuzzOp::ReleaseSnapshot { index: 1 },
            r#"{"op":"release_snapshot","index":1}"#,
        ),
        (
            FuzzOp::Compact {
                inputs: 3,
                outputs: 2,
            },
            r#"{"op":"compact","inputs":3,"outputs":2}"#,
        ),
        (
            FuzzOp::NextTableWalk {
                direction: WalkDirection::Descending,
            },
            r#"{"op":"next_table_walk","direction":"descending"}"#,
        ),
        (FuzzOp::OverlapQuery, r#"{"op":"overlap_query"}"#),
        (FuzzOp::LeastOverlap, r#"{"op":"least_overlap"}"#),
        (
            FuzzOp::InsertTablesB { count: 4 },
            r#"{"op":"insert_tables_b","count":4}"#,
        ),
        (
            FuzzOp::RemoveTablesB { count: 2 },
            r#"{"op":"remove_tables_b","count":2}"#,
        ),
        (FuzzOp::Reset, r#"{"op":"reset"}"#),
        (
            FuzzOp::MisuseStaleReference,
            r#"{"op":"misuse_stale_reference"}"#,
        ),
        (
            FuzzOp::MisuseCapacityExhausted,
            r#"{"op":"misuse_capacity_exhausted"}"#,
        ),
    ];
    for (op, json) in cases {
        assert_eq!(serde_json::to_string(&op).unwrap(), json);
        assert_eq!(serde_json::from_str::<FuzzOp>(json).unwrap(), op);
    }
    // Configs: the faithful defaults stay out of the serde form (old traces still load);
    // the extended ones are written.
    let faithful = serde_json::to_string(&RunConfig::new(1)).unwrap();
    assert!(!faithful.contains("check") && !faithful.contains("\"ops\""));
    let deep = serde_json::to_string(&RunConfig::deep(1)).unwrap();
    assert!(deep.contains(r#""check":"deep""#) && deep.contains(r#""ops":"extended""#));
    assert_eq!(
        serde_json::from_str::<RunConfig>(&deep).unwrap(),
        RunConfig::deep(1)
    );
}

//! The segmented-array fuzzer: bounded multi-seed runs, determinism, error paths, and proof
//! that it catches a planted bug.

use manifest_level::{Error, NodePool, SegmentedArray};
use manifest_level_fuzz::segmented_array::{
    run, run_ops, ElementKind, Faults, Op, Position, Record24, Record64, Report,
    SegmentedArrayFuzzConfig, Setup, Trace,
};

fn config(seed: u64, ops: u64) -> SegmentedArrayFuzzConfig {
    SegmentedArrayFuzzConfig {
        seed,
        ops,
        ..Default::default()
    }
}

fn pass(config: SegmentedArrayFuzzConfig) -> Report {
    match run(config) {
        Ok(report) => report,
        Err(failure) => panic!("{failure}"),
    }
}

/// Many seeds, each a different setup, all pass; together they reach every op, both modes,
/// every element type, several nodes, and every error path.
#[test]
fn bounded_multi_seed_run() {
    let mut kinds = Vec::new();
    let (mut sorted, mut positional) = (0, 0);
    let mut op_counts = [0u64; Op::KINDS];
    let (mut capacity_errors, mut pool_errors, mut bounds_errors, mut searches) = (0, 0, 0, 0);
    let mut node_count_max = 0;
    for seed in 0..40 {
        let report = pass(config(seed, 1_000));
        assert_eq!(report.ops, 1_000);
        if !kinds.contains(&report.setup.element) {
            kinds.push(report.setup.element);
        }
        if report.setup.sorted {
            sorted += 1;
        } else {
            positional += 1;
        }
        for (total, count) in op_counts.iter_mut().zip(report.op_counts) {
            *total += count;
        }
        capacity_errors += report.capacity_errors;
        pool_errors += report.pool_errors;
        bounds_errors += report.bounds_errors;
        searches += report.searches;
        node_count_max = node_count_max.max(report.node_count_max);
    }
    assert_eq!(
        kinds.len(),
        ElementKind::ALL.len(),
        "element kinds seen: {kinds:?}"
    );
    assert!(
        sorted > 5 && positional > 5,
        "{sorted} sorted, {positional} positional"
    );
    for (name, count) in Op::KIND_NAMES.iter().zip(op_counts) {
        assert!(count > 0, "op {name} never ran");
    }
    assert!(capacity_errors > 0 && pool_errors > 0 && bounds_errors > 0);
    assert!(searches > 1_000, "{searches} searches");
    assert!(node_count_max >= 16, "at most {node_count_max} nodes");
}

/// Every element type on small, odd and large nodes.
#[test]
fn every_element_kind_and_node_size() {
    for (i, kind) in ElementKind::ALL.into_iter().enumerate() {
        for (j, node_size) in [32, 48, 80, 128, 1024, 4096].into_iter().enumerate() {
            for sorted in [false, true] {
                let report = pass(SegmentedArrayFuzzConfig {
                    element: Some(kind),
                    node_size: Some(node_size),
                    sorted: Some(sorted),
                    ..config((i * 100 + j) as u64, 300)
                });
                assert_eq!(report.setup.element, kind);
                assert_eq!(report.setup.sorted, sorted);
                assert_eq!(
                    report.setup.node_size,
                    node_size.max(kind.node_size_min()),
                    "{kind}"
                );
            }
        }
    }
}

/// The same seed gives the same run; a recorded run replays to the same result.
#[test]
fn deterministic_and_replayable() {
    for seed in [1, 77, 12_345] {
        let recorded = SegmentedArrayFuzzConfig {
            record: true,
            ..config(seed, 800)
        };
        let first = pass(recorded);
        let second = pass(recorded);
        assert_eq!(first, second, "seed {seed} is not deterministic");
        let trace = first.trace.clone().expect("recorded");
        assert_eq!(trace.ops.len(), 800);
        let replay = run_ops(trace.setup(), &trace.ops, Faults::default()).expect("replay passes");
        assert_eq!(
            Report {
                seed: Some(seed),
                trace: Some(trace),
                ..replay
            },
            first
        );
    }
    let a = pass(SegmentedArrayFuzzConfig {
        record: true,
        ..config(5, 200)
    });
    let b = pass(SegmentedArrayFuzzConfig {
        record: true,
        ..config(6, 200)
    });
    assert_ne!(a.trace, b.trace);
}

/// With the planted off-by-one in `lower_bound`, every sorted-mode seed that can reach
/// the bug (at least two nodes and two distinct keys) fails, quickly, at a search or a
/// sorted insert; without it the same seeds pass; and the failure's trace replays to the
/// same failure.
#[test]
fn catches_planted_search_fault() {
    let faults = Faults {
        search_off_by_one: true,
    };
    let mut ops_to_catch = Vec::new();
    for seed in 0.. {
        let base = SegmentedArrayFuzzConfig {
            sorted: Some(true),
            ..config(seed, 3_000)
        };
        let clean = pass(base);
        if clean.node_count_max < 2 || clean.setup.key_max == 0 {
            // A single node has no boundary to be off by one at; one key has no search
            // that ends at a boundary.
            continue;
        }
        let failure = run(SegmentedArrayFuzzConfig { faults, ..base })
            .expect_err("the planted search fault is caught");
        assert_eq!(failure.seed, Some(seed));
        assert!(
            failure.check.contains("lower_bound") || failure.check.contains("insert_sorted"),
            "seed {seed} failed another check: {failure}"
        );
        assert_eq!(failure.trace.ops.len() as u64, failure.op_index + 1);
        let text = failure.to_string();
        assert!(text.contains(&format!("seed {seed}")) && text.contains("expected"));
        ops_to_catch.push(failure.op_index + 1);

        let replay = run_ops(failure.trace.setup(), &failure.trace.ops, faults)
            .expect_err("the trace replays the failure");
        assert_eq!(
            (
                replay.op_index,
                &replay.check,
                &replay.expected,
                &replay.found
            ),
            (
                failure.op_index,
                &failure.check,
                &failure.expected,
                &failure.found
            )
        );
        if ops_to_catch.len() == 12 {
            break;
        }
    }
    ops_to_catch.sort_unstable();
    let median = ops_to_catch[ops_to_catch.len() / 2];
    assert!(median <= 200, "ops to catch the fault: {ops_to_catch:?}");
}

fn small_setup(element: ElementKind, capacity: u32, pool_nodes: u32) -> Setup {
    Setup {
        element,
        node_size: 64,
        capacity,
        sibling_capacity: 0,
        pool_nodes,
        sorted: false,
        key_max: u64::MAX,
    }
}

/// A pool too small for the array: inserts fail with `NodePoolExhausted` and the harness
/// checks that contents, structure and pool accounting are unchanged after each failure.
#[test]
fn pool_exhaustion_changes_nothing() {
    // u64 on 64-byte nodes: 8 per node; 3 nodes hold at most 24 elements.
    let setup = small_setup(ElementKind::U64, 200, 3);
    let mut ops = vec![Op::InsertSlice {
        at: Position::End,
        count: 20,
    }];
    for i in 0..40 {
        ops.push(Op::InsertSlice {
            at: Position::Index(i * 7),
            count: 1 + (i % 9) as u16,
        });
        ops.push(Op::Insert {
            at: Position::Boundary {
                node: i as u16,
                delta: (i % 3) as i8 - 1,
            },
        });
        if i % 10 == 9 {
            ops.push(Op::RemoveRange {
                at: Position::Start,
                count: 5,
            });
        }
    }
    let report = run_ops(setup, &ops, Faults::default()).expect("passes");
    assert!(report.pool_errors >= 10, "{report}");
    assert!(report.len_max <= 24);

    // A pool shared with a second array (`u64`, 8 per node) that takes nodes away, then
    // gives them back.
    let shared = Setup {
        sibling_capacity: 40,
        ..small_setup(ElementKind::U64, 100, 6)
    };
    let ops = [
        Op::Sibling {
            grow: true,
            count: 16,
        },
        Op::InsertSlice {
            at: Position::End,
            count: 20,
        },
        Op::Sibling {
            grow: false,
            count: 40,
        },
        Op::InsertSlice {
            at: Position::End,
            count: 20,
        },
    ];
    let report = run_ops(shared, &ops, Faults::default()).expect("passes");
    assert_eq!(report.pool_errors, 1, "{report}");
    assert_eq!(report.len_final, 20);
}

/// The same, straight against the library: a failed batch insert restores the contents.
#[test]
fn library_rolls_back_a_failed_batch() {
    let pool = NodePool::new(64, 2).unwrap(); // 8 u64 per node, 16 at most.
    let mut array = SegmentedArray::<u64>::new(&pool, 100).unwrap();
    array
        .insert_slice(0, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
        .unwrap();
    let before: Vec<u64> = array.iter().copied().collect();
    let batch: Vec<u64> = (100..120).collect();
    let error = array.insert_slice(3, &batch).unwrap_err();
    assert!(
        matches!(error, Error::NodePoolExhausted { .. }),
        "{error:?}"
    );
    array.verify();
    assert_eq!(array.iter().copied().collect::<Vec<_>>(), before);
    assert_eq!(pool.acquired_count(), array.node_count());
}

/// A full array refuses inserts with `CapacityExhausted` and stays as it was.
#[test]
fn capacity_exhaustion_changes_nothing() {
    for element in [ElementKind::U32, ElementKind::Record64] {
        let mut setup = small_setup(element, 10, u32::MAX);
        setup.node_size = 256;
        let ops = [
            Op::InsertSlice {
                at: Position::End,
                count: 7,
            },
            Op::InsertSlice {
                at: Position::Start,
                count: 4,
            },
            Op::InsertSlice {
                at: Position::Start,
                count: 3,
            },
            Op::Insert { at: Position::End },
            Op::InsertSorted {
                count: 5,
                key: 0,
                spread: 0,
            },
            Op::Insert {
                at: Position::Past(3),
            },
            Op::RemoveRange {
                at: Position::Index(9),
                count: 2,
            },
            Op::Remove { at: Position::End },
        ];
        let report = run_ops(setup, &ops, Faults::default()).expect("passes");
        assert_eq!(report.len_final, 10);
        assert_eq!(report.capacity_errors, 3, "{report}");
        assert_eq!(report.bounds_errors, 3, "{report}");
    }
}

/// Sorted mode with a single key: every element equal, runs spanning many nodes, and
/// `lower_bound` answers 0 below, at and `len` above it.
#[test]
fn runs_of_equal_keys_across_nodes() {
    let setup = Setup {
        element: ElementKind::Record24,
        node_size: 96, // 4 per node
        capacity: 200,
        sibling_capacity: 0,
        pool_nodes: u32::MAX,
        sorted: true,
        key_max: 2,
    };
    let mut ops = Vec::new();
    for i in 0..30u16 {
        ops.push(Op::InsertSorted {
            count: 1 + i % 7,
            key: u64::from(i % 3),
            spread: u32::from(i % 2),
        });
        ops.push(Op::LowerBound {
            key: u64::from(i % 4),
        });
        ops.push(Op::InsertSlice {
            at: Position::Boundary {
                node: i,
                delta: (i % 5) as i8 - 2,
            },
            count: 3,
        });
        ops.push(Op::Cursors {
            at: Position::Start,
            count: 300,
        });
        ops.push(Op::Iterate {
            start: Position::Index(u32::from(i)),
            len: 100,
            pattern: 0xA5A5_0F0F_3C3C_FF00,
        });
        if i % 6 == 5 {
            ops.push(Op::RemoveRange {
                at: Position::Boundary { node: i, delta: 1 },
                count: 9,
            });
        }
    }
    let report = run_ops(setup, &ops, Faults::default()).expect("passes");
    assert!(report.node_count_max >= 20, "{report}");
    assert_eq!(report.searches, 30);
}

#[test]
fn record_types_have_the_documented_layout() {
    assert_eq!(std::mem::size_of::<Record24>(), 24);
    assert_eq!(std::mem::size_of::<Record64>(), 64);
    assert_eq!(std::mem::align_of::<Record64>(), 16);
    for kind in ElementKind::ALL {
        assert_eq!(ElementKind::from_name(kind.name()), Some(kind));
    }
}

/// Printed verbatim by `Trace::regression_test` for the shortest failure the planted
/// search fault gives over seeds 0..200 (seed 176, caught at op 0): the generated code
/// compiles and reproduces the failure.
#[test]
#[should_panic(expected = "insert_sorted index")]
fn planted_fault_regression() {
    #[allow(unused_imports)]
    use manifest_level_fuzz::segmented_array::{
        run_ops, ElementKind::*, Faults, Op, Op::*, Position::*, Setup,
    };
    let setup = Setup {
        element: U128,
        node_size: 496,
        capacity: 361,
        sibling_capacity: 0,
        pool_nodes: 25,
        sorted: true,
        key_max: 18446744073709551615,
    };
    let ops: &[Op] = &[InsertSorted {
        count: 60,
        key: 3735991784959440630,
        spread: 4294967295,
    }];
    let faults = Faults {
        search_off_by_one: true,
    };
    if let Err(failure) = run_ops(setup, ops, faults) {
        panic!("{failure}");
    }
}

/// Shrinking a planted-fault failure keeps the failed check and ends with a few ops (at
/// most 10, or a quarter of the original), which replay to the same failure and pass
/// without the fault.
#[test]
fn shrinks_planted_fault_failures() {
    use manifest_level_fuzz::segmented_array::{failure_signature, shrink_failure};
    use manifest_level_fuzz::support::shrink::ShrinkLimits;

    let faults = Faults {
        search_off_by_one: true,
    };
    let mut sizes = Vec::new();
    for seed in [7, 9, 11, 12] {
        let failure = run(SegmentedArrayFuzzConfig {
            sorted: Some(true),
            faults,
            ..config(seed, 3_000)
        })
        .expect_err("caught");
        let (trace, shrunk) = shrink_failure(&failure, ShrinkLimits::default());
        assert_eq!(failure_signature(&shrunk), failure_signature(&failure));
        assert!(trace.ops.len() <= failure.trace.ops.len());
        let replay = run_ops(trace.setup(), &trace.ops, faults).expect_err("still fails");
        assert_eq!(replay.check, shrunk.check);
        assert!(run_ops(trace.setup(), &trace.ops, Faults::default()).is_ok());
        // The shrunk trace carries its faults and its failure, and survives the file format.
        assert_eq!(trace.faults(), faults);
        assert_eq!(trace.header.failure, Some(failure_signature(&failure)));
        assert_eq!(Trace::parse(&trace.to_json_lines()).unwrap(), trace);
        sizes.push((failure.trace.ops.len(), trace.ops.len()));
    }
    // Here: 88 -> 3, 12 -> 2, 27 -> 4 and 606 -> 5.
    assert!(
        sizes
            .iter()
            .all(|&(before, shrunk)| shrunk <= 10 || 4 * shrunk <= before),
        "ops before -> after shrinking: {sizes:?}"
    );
    assert!(
        sizes.iter().filter(|&&(_, shrunk)| shrunk <= 3).count() >= 2,
        "{sizes:?}"
    );
}

/// Seed runs record into the shared trace format: the file replays to the same report, a
/// level trace or a bad setup is rejected with a clear error, and so is a level reader
/// given a segmented-array trace.
#[test]
fn traces_round_trip_through_the_shared_format() {
    use manifest_level_fuzz::support::trace_file::TraceError;
    for seed in 0..6 {
        let report = pass(SegmentedArrayFuzzConfig {
            record: true,
            ..config(seed, 2_000)
        });
        let trace = report.trace.clone().expect("recorded");
        let text = trace.to_json_lines();
        assert!(text.starts_with(r#"{"format_version":1,"target":"segmented-array","#));
        assert_eq!(text.lines().count(), trace.ops.len() + 1);
        let parsed = Trace::parse(&text).expect("parses");
        assert_eq!(parsed, trace);
        let replay = run_ops(parsed.setup(), &parsed.ops, parsed.faults()).expect("passes");
        assert_eq!(
            (replay.len_final, replay.len_max, replay.op_counts),
            (report.len_final, report.len_max, report.op_counts)
        );
        let as_level = manifest_level_fuzz::level::trace::Trace::parse(&text).unwrap_err();
        assert!(
            matches!(as_level, TraceError::WrongTarget { .. }),
            "{as_level}"
        );
    }
    let level = manifest_level_fuzz::level::trace::Trace::new(
        &manifest_level_fuzz::level::runner::RunConfig::new(1),
        Vec::new(),
    );
    let error = Trace::parse(&level.to_json_lines())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains(r#"target "level", not "segmented-array""#),
        "{error}"
    );
    let trace = pass(SegmentedArrayFuzzConfig {
        record: true,
        ..config(3, 100)
    })
    .trace
    .unwrap();
    let text = trace.to_json_lines();
    let bad = text.replacen(
        &format!(r#""node_size":{}"#, trace.setup().node_size),
        r#""node_size":17"#,
        1,
    );
    let error = Trace::parse(&bad).unwrap_err().to_string();
    assert!(error.contains("not normalized"), "{error}");
}

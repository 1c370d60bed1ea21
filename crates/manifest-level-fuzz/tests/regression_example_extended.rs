//! A regression test exactly as the fuzzer printed it for a failure of the extended op set
//! under deep checks, checked in to prove that printed tests of such runs (their config's
//! op set and check mode, extended ops) compile and fail while the bug is there.
//!
//! It was printed by
//! `cargo run --release -p manifest-level-fuzz --features fault-injection -- --seed 1
//! --ops extended --check deep --inject-fault NextTableInclusive`: a level whose
//! `next_table` with `key_exclusive` returns a table touching the exclusive key. See
//! `regression_example.rs` for the seed's op set; `printed_test_is_current` regenerates
//! the text between the markers and compares.

#![cfg(feature = "fault-injection")]

#[should_panic(expected = "check:    next_table")]
// BEGIN PRINTED
/// Shrunk by manifest-level-fuzz from a 190811-op run of seed 1: check next_table.
#[test]
fn manifest_level_regression_seed_1() {
    use manifest_level_fuzz::level::ops::FuzzOp;
    use manifest_level_fuzz::level::runner::{run_ops, RunConfig};

    let config = RunConfig {
        check: manifest_level_fuzz::level::environment::deep::CheckMode::Deep,
        fault: Some(manifest_level::Fault::NextTableInclusive),
        ..RunConfig::new(1).with_ops(manifest_level_fuzz::level::ops::OpSet::Extended)
    };
    let ops: &[FuzzOp] = &[
        FuzzOp::InsertTables { count: 1 },
        FuzzOp::NextTableWalk {
            direction: manifest_level_fuzz::level::ops::WalkDirection::Ascending,
        },
    ];
    if let Err(failure) = run_ops(&config, ops) {
        panic!("{failure}");
    }
}
// END PRINTED

#[test]
fn printed_test_is_current() {
    use manifest_level::Fault;
    use manifest_level_fuzz::level::reduce::reduce;
    use manifest_level_fuzz::level::regression::regression_test_for;
    use manifest_level_fuzz::level::runner::{plan, run, RunConfig};
    use manifest_level_fuzz::support::shrink::ShrinkLimits;

    let config = RunConfig {
        fault: Some(Fault::NextTableInclusive),
        ..RunConfig::deep(1)
    };
    let failure = run(&config).unwrap_err();
    let reduced = reduce(
        &config,
        &plan(&config).ops,
        &failure,
        ShrinkLimits::default(),
        |_, _| {},
    )
    .unwrap();
    let printed = regression_test_for(&reduced);

    let file = include_str!("regression_example_extended.rs");
    let begin = file.find("// BEGIN PRINTED\n").unwrap() + "// BEGIN PRINTED\n".len();
    let end = file.find("// END PRINTED\n").unwrap();
    assert_eq!(
        &file[begin..end],
        printed,
        "the printer's output changed: paste it between the markers"
    );
}

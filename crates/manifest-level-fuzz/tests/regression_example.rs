//! A regression test exactly as the fuzzer printed it, checked in to prove the printed
//! code compiles and fails while the bug is there.
//!
//! It was printed by
//! `cargo run --release -p manifest-level-fuzz --features fault-injection -- --seed 1
//! --inject-fault RemoveTakesNeighbour` (the README's worked example): a level whose
//! `remove_table` removes the neighbouring table. Here the bug is planted, so the test
//! must fail (`should_panic`); a real bug's printed test goes in without that attribute
//! and passes once the bug is fixed. `printed_test_is_current` regenerates the text
//! between the markers and compares, so the printer and this file cannot drift apart.

#![cfg(feature = "fault-injection")]

#[should_panic(expected = "check:    removed_gone")]
// BEGIN PRINTED
/// Shrunk by manifest-level-fuzz from a 190811-op run of seed 1: check removed_gone.
#[test]
fn manifest_level_regression_seed_1() {
    use manifest_level_fuzz::level::ops::FuzzOp;
    use manifest_level_fuzz::level::runner::{run_ops, RunConfig};

    let config = RunConfig {
        fault: Some(manifest_level::Fault::RemoveTakesNeighbour),
        ..RunConfig::new(1)
    };
    let ops: &[FuzzOp] = &[
        FuzzOp::InsertTables { count: 1 },
        FuzzOp::UpdateTables { count: 1 },
        FuzzOp::InsertTables { count: 1 },
        FuzzOp::TakeSnapshot,
        FuzzOp::RemoveInvisible { count: 1 },
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
        fault: Some(Fault::RemoveTakesNeighbour),
        ..RunConfig::new(1)
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

    let file = include_str!("regression_example.rs");
    let begin = file.find("// BEGIN PRINTED\n").unwrap() + "// BEGIN PRINTED\n".len();
    let end = file.find("// END PRINTED\n").unwrap();
    assert_eq!(
        &file[begin..end],
        printed,
        "the printer's output changed: paste it between the markers"
    );
}

//! Ballast (`--ballast-percent`): a share of the node pool held back from the levels, so
//! inserts meet an exhausted pool. Each such insert must fail with the typed error and
//! change nothing, then succeed once the ballast lets go: the run executes the same ops on
//! the same tables as without ballast (same digest), reaches `pool_exhausted`, still
//! catches a leaked node, and refuses ballast outside the extended op set or above 90%.

use manifest_level::Fault;
use manifest_level_fuzz::level::environment::Check;
use manifest_level_fuzz::level::runner::{run, FailureCause, RunConfig, BALLAST_PERCENT_MAX};
use manifest_level_fuzz::level::states::State;

mod common;
use common::{run_in, scratch, stderr};

fn with_ballast(seed: u64, percent: u8) -> RunConfig {
    RunConfig {
        events_max: Some(20_000),
        ballast_percent: percent,
        ..RunConfig::deep(seed)
    }
}

#[test]
fn exhausted_pools_change_nothing_and_the_run_is_the_same_run() {
    let mut exhausted = 0;
    for seed in 1..=4 {
        let plain = run(&with_ballast(seed, 0)).unwrap_or_else(|f| panic!("{f}"));
        let tight = run(&with_ballast(seed, 85)).unwrap_or_else(|f| panic!("{f}"));
        assert_eq!(
            tight.digest, plain.digest,
            "seed {seed}: ballast changed the run"
        );
        assert_eq!(tight.ops_run, plain.ops_run);
        assert_eq!(plain.states.get(State::PoolExhausted), 0);
        exhausted += tight.states.get(State::PoolExhausted);
    }
    assert!(
        exhausted >= 4,
        "only {exhausted} exhausted inserts in 4 seeds"
    );
}

#[test]
fn a_leaked_node_is_caught_with_ballast_too() {
    let config = RunConfig {
        fault: Some(Fault::MergeLeaksNode),
        ..with_ballast(1, 60)
    };
    let failure = run(&config).expect_err("a leaked node is caught");
    match &failure.cause {
        FailureCause::Check(check) => assert_eq!(check.what, Check::PoolAccounting, "{failure}"),
        cause => panic!("not a check failure: {cause}"),
    }
}

#[test]
fn swarm_seeds_draw_ballast_on_some_seeds_and_a_flag_pins_it() {
    use manifest_level_fuzz::level::configuration::ConfigurationOverrides;
    let drawn: Vec<u8> = (0..60)
        .map(|seed| {
            RunConfig {
                swarm: true,
                ..RunConfig::deep(seed)
            }
            .with_drawn_configuration(ConfigurationOverrides::default())
            .ballast_percent
        })
        .collect();
    let with = drawn.iter().filter(|percent| **percent > 0).count();
    assert!(
        (10..=35).contains(&with),
        "{with} of 60 seeds drew ballast: {drawn:?}"
    );
    assert!(drawn.iter().all(|percent| *percent <= BALLAST_PERCENT_MAX));
    let pinned = ConfigurationOverrides {
        ballast_percent: Some(0),
        ..ConfigurationOverrides::default()
    };
    for seed in 0..60 {
        let config = RunConfig {
            swarm: true,
            ..RunConfig::deep(seed)
        };
        let free = config
            .clone()
            .with_drawn_configuration(ConfigurationOverrides::default());
        let none = config.with_drawn_configuration(pinned);
        assert_eq!(none.ballast_percent, 0);
        assert_eq!(
            (none.table_count_max, none.node_size),
            (free.table_count_max, free.node_size)
        );
    }
}

#[test]
fn ballast_outside_the_extended_op_set_or_above_its_limit_is_refused() {
    let faithful = RunConfig {
        ballast_percent: 50,
        ..RunConfig::new(1)
    };
    let error = faithful
        .validate()
        .expect_err("the seed's op set takes no ballast");
    assert!(error.to_string().contains("extended op set"), "{error}");
    let dir = scratch("ballast", "bad-flags");
    for args in [
        &["--seed", "1", "--ballast-percent", "50"][..],
        &[
            "--seed",
            "1",
            "--ops",
            "extended",
            "--ballast-percent",
            "91",
        ][..],
        &["--seed", "1", "--ops", "extended", "--ballast-percent", "x"][..],
    ] {
        let output = run_in(&dir, args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}

/// The `pool_exhausted` check can fail: a level whose refused insert has already counted
/// its table (a half-applied change behind the typed error) is caught by that check at
/// the first exhausted insert, and the same seeds without ballast never see it.
#[test]
fn a_refused_insert_that_changed_the_level_is_caught() {
    let failure = (1..=4)
        .find_map(|seed| {
            run(&RunConfig {
                fault: Some(Fault::ExhaustedInsertCountsTable),
                ..with_ballast(seed, 85)
            })
            .err()
        })
        .expect("a half-applied refused insert is caught within 4 seeds");
    match &failure.cause {
        FailureCause::Check(check) => assert_eq!(check.what, Check::PoolExhausted, "{failure}"),
        cause => panic!("not a check failure: {cause}"),
    }
    let unballasted = RunConfig {
        fault: Some(Fault::ExhaustedInsertCountsTable),
        ..with_ballast(failure.seed(), 0)
    };
    run(&unballasted).unwrap_or_else(|f| panic!("no pool ran dry, yet: {f}"));
}

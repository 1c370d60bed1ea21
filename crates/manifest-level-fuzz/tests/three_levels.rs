//! A third level (`--levels 3`): levels A, B and C on one node pool. Runs with it pass and
//! reach the `three_levels_on_one_pool` state; swarm seeds draw it on about half of the
//! extended runs, a flag pins it, and it is refused outside the extended op set.

use manifest_level_fuzz::level::configuration::ConfigurationOverrides;
use manifest_level_fuzz::level::ops::OpSet;
use manifest_level_fuzz::level::runner::{run, RunConfig};
use manifest_level_fuzz::level::states::State;

mod common;
use common::{run_in, scratch, stderr};

fn three_levels(seed: u64) -> RunConfig {
    RunConfig {
        events_max: Some(20_000),
        third_level: true,
        ..RunConfig::deep(seed)
    }
}

#[test]
fn runs_on_three_levels_pass_and_all_three_hold_nodes() {
    for seed in 1..=4 {
        let config = three_levels(seed);
        assert_eq!(config.levels(), 3);
        let report = run(&config).unwrap_or_else(|failure| panic!("{failure}"));
        assert!(
            report.states.get(State::ThreeLevelsOnOnePool) > 0,
            "seed {seed}: level C never held nodes beside A and B"
        );
        let two = RunConfig {
            third_level: false,
            ..config
        };
        let report = run(&two).unwrap_or_else(|failure| panic!("{failure}"));
        assert_eq!(report.states.get(State::ThreeLevelsOnOnePool), 0);
    }
}

#[test]
fn swarm_seeds_draw_a_third_level_on_about_half_and_a_flag_pins_it() {
    let drawn = |seed, ops: OpSet, overrides| {
        RunConfig {
            swarm: true,
            ..RunConfig::new(seed).with_ops(ops)
        }
        .with_drawn_configuration(overrides)
    };
    let with = (0..100)
        .filter(|&seed| drawn(seed, OpSet::Extended, ConfigurationOverrides::default()).third_level)
        .count();
    assert!(
        (30..=70).contains(&with),
        "{with} of 100 seeds drew a third level"
    );
    for seed in 0..40 {
        let faithful = drawn(seed, OpSet::Faithful, ConfigurationOverrides::default());
        assert_eq!(faithful.levels(), 1);
        for pinned in [false, true] {
            let overrides = ConfigurationOverrides {
                third_level: Some(pinned),
                ..ConfigurationOverrides::default()
            };
            let config = drawn(seed, OpSet::Extended, overrides);
            assert_eq!(config.third_level, pinned);
            let free = drawn(seed, OpSet::Extended, ConfigurationOverrides::default());
            assert_eq!(
                (config.table_count_max, config.node_size, config.key),
                (free.table_count_max, free.node_size, free.key)
            );
        }
    }
}

#[test]
fn a_third_level_outside_the_extended_op_set_or_a_bad_count_is_refused() {
    let faithful = RunConfig {
        third_level: true,
        ..RunConfig::new(1)
    };
    let error = faithful
        .validate()
        .expect_err("the seed's op set runs one level");
    assert!(error.to_string().contains("extended op set"), "{error}");
    let dir = scratch("three_levels", "bad-flags");
    for args in [
        &["--seed", "1", "--levels", "3"][..],
        &["--seed", "1", "--ops", "extended", "--levels", "4"][..],
        &["--seed", "1", "--ops", "extended", "--levels", "1"][..],
        &[
            "campaign",
            "--seeds",
            "0..1",
            "--target",
            "segmented-array",
            "--levels",
            "3",
        ][..],
    ] {
        let output = run_in(&dir, args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    let output = run_in(
        &dir,
        &[
            "--seed",
            "1",
            "--ops",
            "extended",
            "--levels",
            "3",
            "--events-max",
            "500",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

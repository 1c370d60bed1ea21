//! Swarm testing (`--swarm`): per-seed weights, deterministic, different across seeds,
//! with kinds switched off; swarm runs pass; the CLI reports which ops were on.

use std::collections::HashSet;
use std::process::Command;

use manifest_level_fuzz::level::environment::deep::CheckMode;
use manifest_level_fuzz::level::ops::{OpKind, OpSet, Weights};
use manifest_level_fuzz::level::runner::{plan, run, streams, RunConfig};
use manifest_level_fuzz::level::swarm::{swarm_weights, SWARM_SCALE, SWARM_WEIGHT_MAX};

fn swarm(seed: u64, op_set: OpSet) -> RunConfig {
    RunConfig {
        swarm: true,
        events_max: Some(2_000),
        ..RunConfig::new(seed).with_ops(op_set)
    }
}

#[test]
fn weights_are_deterministic_per_seed_and_differ_across_seeds() {
    for op_set in [OpSet::Faithful, OpSet::Extended] {
        let mut distinct = HashSet::new();
        let mut off_somewhere = [false; OpKind::ALL.len()];
        let mut runs_with_a_kind_off = 0;
        for seed in 0..200 {
            let config = swarm(seed, op_set);
            let weights = config.effective_weights();
            // Deterministic: the same seed always draws the same weights, from its own
            // stream.
            assert_eq!(weights, swarm(seed, op_set).effective_weights());
            assert_eq!(
                weights,
                swarm_weights(&mut streams(seed).swarm, op_set),
                "seed {seed}"
            );
            assert_eq!(plan(&config).weights, weights);
            assert!(weights.is_valid());
            assert!(weights.insert_tables > 0, "inserts are forced on");
            assert!(weights
                .all()
                .iter()
                .all(|&w| w <= SWARM_WEIGHT_MAX * SWARM_SCALE));
            assert!(weights.reset <= SWARM_WEIGHT_MAX);
            let mut any_off = false;
            for &kind in op_set.kinds() {
                if weights.get(kind) == 0 {
                    off_somewhere[kind.index()] = true;
                    any_off = true;
                }
            }
            runs_with_a_kind_off += usize::from(any_off);
            if op_set == OpSet::Faithful {
                assert!(!weights.has_extended());
            }
            distinct.insert(weights);
        }
        // Different seeds, different weights (almost always).
        assert!(
            distinct.len() > 190,
            "{op_set}: {} distinct",
            distinct.len()
        );
        // Every kind but the forced one is off for some seed; most runs switch some off.
        for &kind in op_set.kinds() {
            assert_eq!(
                off_somewhere[kind.index()],
                kind != OpKind::InsertTables,
                "{op_set}: {kind}"
            );
        }
        assert!(runs_with_a_kind_off > 150, "{runs_with_a_kind_off}");
    }
}

#[test]
fn swarm_changes_the_weights_not_the_tables() {
    // The swarm stream is separate: the op count of a seed is the same with and without.
    for seed in 1..=5 {
        let plain = plan(&RunConfig {
            events_max: Some(2_000),
            ..RunConfig::new(seed)
        });
        let swarmed = plan(&swarm(seed, OpSet::Faithful));
        assert_eq!(plain.ops.len(), swarmed.ops.len());
        assert_eq!(plain.weights, Weights::SEED);
    }
}

#[test]
fn swarm_runs_pass() {
    for seed in 1..=8 {
        for op_set in [OpSet::Faithful, OpSet::Extended] {
            let config = RunConfig {
                check: CheckMode::Deep,
                events_max: Some(1_500),
                ..swarm(seed, op_set)
            };
            run(&config).unwrap_or_else(|failure| panic!("{failure}"));
            assert!(config.reproduce_command().contains("--swarm"));
        }
    }
}

#[test]
fn the_cli_reports_which_ops_were_on() {
    let output = Command::new(env!("CARGO_BIN_EXE_manifest-level-fuzz"))
        .args([
            "--seed",
            "3",
            "--events-max",
            "300",
            "--swarm",
            "--ops",
            "extended",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    let weights = swarm(3, OpSet::Extended).effective_weights();
    let line = stdout
        .lines()
        .find(|line| line.starts_with("swarm: on: "))
        .unwrap_or_else(|| panic!("no swarm line in {stdout}"));
    assert_eq!(
        line,
        format!(
            "swarm: {}",
            manifest_level_fuzz::level::swarm::describe(&weights, OpSet::Extended)
        )
    );
    assert!(stdout.contains("ops=extended"), "{stdout}");
}

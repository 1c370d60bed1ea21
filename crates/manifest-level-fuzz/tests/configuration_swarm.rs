//! Configuration swarm and growth: swarm seeds draw their level's shape (and reproduce
//! it from their command), growth phases make big levels big, and the states a run
//! reaches are counted; `campaign --require-states` fails when one is never reached.

use std::collections::HashSet;

use manifest_level_fuzz::level::configuration::ConfigurationOverrides;
use manifest_level_fuzz::level::generate::{GenerateContext, Params};
use manifest_level_fuzz::level::ops::{FuzzOp, OpKind, OpSet, Weights};
use manifest_level_fuzz::level::runner::{run, RunConfig};
use manifest_level_fuzz::level::states::State;
use manifest_level_fuzz::support::prng::Prng;

mod common;
use common::{run_in, scratch, stderr, stdout};

#[test]
fn growth_holds_removals_back_until_the_target_then_lets_them_run() {
    let params = Params {
        table_count_max: 2_000,
        insert_count_max: 50,
        growth_tables: 1_500,
        ..Params::default()
    };
    let mut context = GenerateContext::for_op_set(&params, OpSet::Extended);
    let mut prng = Prng::from_seed(3);
    let weights = Weights::EXTENDED;
    let (mut reached_at, mut removals_after) = (None, 0);
    for index in 0..20_000 {
        let kind = OpKind::ALL[prng.weighted(&weights.all())];
        let inserted_before = context.inserted();
        let op = context.next(&mut prng, kind);
        let shrinks = matches!(
            op,
            FuzzOp::RemoveVisible { .. }
                | FuzzOp::RemoveInvisible { .. }
                | FuzzOp::Reset
                | FuzzOp::Compact { .. }
        );
        match reached_at {
            None if inserted_before >= params.growth_tables => reached_at = Some(index),
            None => assert!(!shrinks, "op {index}: {op} before the level grew"),
            Some(_) => removals_after += usize::from(shrinks),
        }
        assert!(context.inserted() <= params.table_count_max);
    }
    assert!(
        reached_at.is_some_and(|index| index < 2_000),
        "{reached_at:?}"
    );
    assert!(!context.is_growing());
    assert!(removals_after > 1_000, "{removals_after}");
}

#[test]
fn swarm_seeds_draw_their_shape_and_reproduce_it_from_their_command() {
    let mut capacities = HashSet::new();
    let mut nodes = HashSet::new();
    for seed in 0..100 {
        let base = RunConfig {
            swarm: true,
            ..RunConfig::new(seed).with_ops(OpSet::Extended)
        };
        let drawn = base
            .clone()
            .with_drawn_configuration(ConfigurationOverrides::default());
        drawn
            .validate()
            .unwrap_or_else(|error| panic!("seed {seed}: {error}"));
        capacities.insert(drawn.table_count_max);
        nodes.insert(drawn.node_size);
        // Every drawn value is in the command, and pinning them all changes nothing.
        let command = drawn.reproduce_command();
        if drawn.growth_tables > 0 {
            assert!(command.contains(&format!("--growth-tables {}", drawn.growth_tables)));
        }
        let pinned = base
            .clone()
            .with_drawn_configuration(ConfigurationOverrides {
                table_count_max: Some(drawn.table_count_max),
                node_size: Some(drawn.node_size),
                insert_count_max: Some(drawn.insert_count_max),
                growth_tables: Some(drawn.growth_tables),
                key: Some(drawn.key),
                ballast_percent: Some(drawn.ballast_percent),
                third_level: Some(drawn.third_level),
            });
        assert_eq!(pinned, drawn);
        if drawn.third_level {
            assert!(command.contains("--levels 3"), "{command}");
        }
        // One pinned value replaces its draw only.
        let one = base.with_drawn_configuration(ConfigurationOverrides {
            node_size: Some(512),
            ..ConfigurationOverrides::default()
        });
        assert_eq!(
            (one.node_size, one.table_count_max),
            (512, drawn.table_count_max)
        );
    }
    assert!(
        capacities.len() > 90 && nodes.len() > 40,
        "{capacities:?} {nodes:?}"
    );
    // Without --swarm nothing is drawn: the seed mode keeps its defaults.
    let plain = RunConfig::new(5);
    assert_eq!(
        plain
            .clone()
            .with_drawn_configuration(ConfigurationOverrides::default()),
        plain
    );
}

#[test]
fn a_growing_level_passes_512_nodes_and_counts_its_states() {
    let config = RunConfig {
        events_max: Some(2_500),
        table_count_max: 4_096,
        node_size: 128,
        insert_count_max: 256,
        growth_tables: 3_000,
        ..RunConfig::new(11).with_ops(OpSet::Extended)
    };
    let report = run(&config).unwrap_or_else(|failure| panic!("{failure}"));
    assert!(report.peak_tables >= 3_000, "{report}");
    assert!(report.peak_nodes > 512, "{report}");
    for state in [
        State::NodeAcquired,
        State::NodesPast128,
        State::OpPast512Nodes,
    ] {
        assert!(report.states.get(state) > 0, "{state}: {report}");
    }
}

#[test]
fn require_states_passes_a_covering_campaign_and_fails_a_narrow_one() {
    let dir = scratch("configuration-swarm", "require-states");
    let covering = run_in(
        &dir,
        &[
            "campaign",
            "--seeds",
            "0..24",
            "--events-max",
            "4000",
            // Four tables per node for either key type (64 bytes with u64 keys, 80 with
            // u128 keys): small nodes, so levels pass 512 nodes within the budget, and
            // big enough to borrow (a node of two never does).
            "--node-size",
            "320",
            "--jobs",
            "2",
            "--no-progress",
            "--require-states",
        ],
    );
    let out = stdout(&covering);
    assert_eq!(
        covering.status.code(),
        Some(0),
        "{out}{}",
        stderr(&covering)
    );
    assert!(
        out.contains("states (seeds that reached each, of 24):"),
        "{out}"
    );
    for name in State::NAMES {
        assert!(out.contains(name), "{name} missing from\n{out}");
    }
    let findings = std::fs::read_to_string(dir.join("campaign-findings.jsonl")).unwrap();
    let seed_line = findings.lines().next().unwrap();
    for field in [
        "\"config\":",
        "\"table_count_max\":",
        "\"key\":\"u",
        "\"peak_tables\":",
        "\"peak_nodes\":",
        "\"states\":",
    ] {
        assert!(
            seed_line.contains(field),
            "{field} missing from {seed_line}"
        );
    }

    // A fixed 64-table level never passes 128 nodes, nor 4,096 tables.
    let narrow = run_in(
        &dir,
        &[
            "campaign",
            "--seeds",
            "0..2",
            "--events-max",
            "500",
            "--no-swarm",
            "--table-count-max",
            "64",
            "--findings",
            "narrow.jsonl",
            "--no-progress",
            "--require-states",
        ],
    );
    let out = stdout(&narrow);
    assert_eq!(narrow.status.code(), Some(1), "{out}{}", stderr(&narrow));
    assert!(out.contains("--require-states: no seed reached"), "{out}");
    assert!(
        out.contains("nodes_past_128") && out.contains("never"),
        "{out}"
    );
}

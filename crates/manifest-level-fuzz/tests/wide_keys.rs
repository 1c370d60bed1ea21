//! The level fuzzer with `u128` keys (`--key u128`): the model's `u64` keys embed into the
//! level's key type, order kept, with information in both halves. A `u128` run executes
//! the same ops on the same model as the `u64` run of its seed, passes in every mode,
//! catches planted faults, records and replays, and counts the `u128_keys` state.

use std::collections::HashSet;

use manifest_level::{Fault, NodePool, TableInfo};
use manifest_level_fuzz::level::configuration::ConfigurationOverrides;
use manifest_level_fuzz::level::environment::deep::CheckMode;
use manifest_level_fuzz::level::environment::{Check, Environment};
use manifest_level_fuzz::level::generate::Params;
use manifest_level_fuzz::level::key::{embed_table, project_table, FuzzKey, KeyWidth};
use manifest_level_fuzz::level::ops::FuzzOp;
use manifest_level_fuzz::level::ops::OpSet;
use manifest_level_fuzz::level::runner::{
    plan, run, run_ops, run_ops_then, run_ops_then_keyed, FailureCause, RunConfig,
};
use manifest_level_fuzz::level::states::State;
use manifest_level_fuzz::level::trace::Trace;
use manifest_level_fuzz::support::prng::Prng;

mod common;
use common::{stderr, stdout};

fn wide(config: RunConfig) -> RunConfig {
    RunConfig {
        key: KeyWidth::U128,
        ..config
    }
}

/// Seeds 1..=4 of the faithful, deep and extended+deep modes, with `u128` keys: each
/// passes, runs the ops of its `u64` twin on the same model (same counts, same final
/// size), ends in another digest (the keys are other bytes), and counts `u128_keys` once.
#[test]
fn u128_runs_pass_in_every_mode() {
    let modes = [
        (OpSet::Faithful, CheckMode::Faithful),
        (OpSet::Faithful, CheckMode::Deep),
        (OpSet::Extended, CheckMode::Deep),
    ];
    for seed in 1..=4 {
        for (ops, check) in modes {
            let narrow = RunConfig {
                events_max: Some(3_000),
                check,
                ..RunConfig::new(seed).with_ops(ops)
            };
            let config = wide(narrow.clone());
            let report = run(&config).unwrap_or_else(|failure| panic!("{failure}"));
            let twin = run(&narrow).unwrap_or_else(|failure| panic!("{failure}"));
            assert_eq!(
                (
                    report.op_counts,
                    report.peak_tables,
                    report.final_tables,
                    report.final_snapshot
                ),
                (
                    twin.op_counts,
                    twin.peak_tables,
                    twin.final_tables,
                    twin.final_snapshot
                ),
                "seed {seed} {ops} {check}"
            );
            assert_ne!(report.digest, twin.digest, "seed {seed} {ops} {check}");
            assert_eq!(report.states.get(State::U128Keys), 1);
            assert_eq!(twin.states.get(State::U128Keys), 0);
        }
    }
}

/// The level of a `u128` run holds exactly the embedded model tables, with keys that use
/// both halves; the `u64` inspector refuses a `u128` run.
#[test]
fn the_level_holds_the_embedded_model_tables() {
    let config = wide(RunConfig {
        events_max: Some(2_000),
        ..RunConfig::deep(7)
    });
    let ops = plan(&config).ops;
    let (_, (level, model)) = run_ops_then_keyed::<u128, _>(&config, &ops, |env| {
        (env.level_tables(), env.model().tables().to_vec())
    })
    .unwrap();
    assert!(!model.is_empty());
    let embedded: Vec<_> = model.iter().map(embed_table::<u128>).collect();
    assert_eq!(level, embedded);
    let projected: Vec<_> = level.iter().map(project_table).collect();
    assert_eq!(projected, model);
    assert!(level
        .iter()
        .all(|table| (table.key_max >> 64) != 0 && (table.key_max as u64) != 0));
    let failure = run_ops_then(&config, &ops, |_| ()).unwrap_err();
    assert!(
        matches!(failure.cause, FailureCause::Config(_)),
        "{failure}"
    );
}

/// The embedding against a model of sorted `u64` keys: random keys, their neighbours and
/// the edges of the key space embed strictly increasing (so injective), project back,
/// and keep distinct low halves whose order is not the keys' (a level that truncated keys
/// to their low half would misorder them). The key next to each embedded one, off the
/// image, lies strictly between its neighbours' embeddings.
#[test]
fn u128_embedding_is_strictly_monotone_and_injective() {
    let mut keys = vec![
        0,
        1,
        2,
        (1 << 23) - 1,
        1 << 23,
        u64::from(u32::MAX),
        1 << 32,
        (1 << 41) + 1,
        (1 << 63) - 1,
        1 << 63,
        u64::MAX - 1,
        u64::MAX,
    ];
    let mut prng = Prng::from_seed(11);
    for _ in 0..20_000 {
        let key = match prng.int_inclusive(2) {
            0 => prng.next_u64(),
            1 => prng.int_inclusive(1 << 20),
            _ => u64::MAX - prng.int_inclusive(1 << 20),
        };
        keys.extend([key, key.wrapping_add(1), key.wrapping_sub(1)]);
    }
    keys.sort_unstable();
    keys.dedup();
    let embedded: Vec<u128> = keys.iter().map(|&key| u128::embed(key)).collect();
    for (pair, keys) in embedded.windows(2).zip(keys.windows(2)) {
        assert!(pair[0] < pair[1], "{keys:?} embed to {pair:x?}");
    }
    for (&key, &wide) in keys.iter().zip(&embedded) {
        assert_eq!(wide.project(), key);
        assert_eq!(<u64 as FuzzKey>::embed(key), key);
    }
    let low: HashSet<u64> = embedded.iter().map(|&wide| wide as u64).collect();
    assert_eq!(low.len(), keys.len(), "distinct low halves");
    let misordered = embedded
        .windows(2)
        .filter(|pair| pair[0] as u64 > pair[1] as u64)
        .count();
    assert!(
        misordered > keys.len() / 20,
        "{misordered} of {}",
        keys.len()
    );
    for (index, &wide) in embedded.iter().enumerate() {
        let off = wide.off_image().expect("u128 has keys off the image");
        assert_ne!(u128::embed(off.project()), off);
        if index > 0 {
            assert!(embedded[index - 1] < off);
        }
        if let Some(&next) = embedded.get(index + 1) {
            assert!(off < next);
        }
    }
    assert_eq!(7u64.off_image(), None);
}

/// The first seed of 1..=20 (up to 20,000 ops) whose run with `fault` fails.
fn first_catch(
    config: impl Fn(u64) -> RunConfig,
) -> Option<manifest_level_fuzz::level::runner::RunFailure> {
    (1..=20).find_map(|seed| run(&config(seed)).err())
}

/// Planted faults are caught with `u128` keys as with `u64` keys, and the failure
/// reproduces with `--key u128`.
#[test]
fn planted_faults_are_caught_with_u128_keys() {
    for fault in [
        Fault::SearchOffByOneAtNodeBoundary,
        Fault::RemoveTakesNeighbour,
        Fault::KeyRangeNotShrunk,
    ] {
        let failure = first_catch(|seed| {
            wide(RunConfig {
                events_max: Some(20_000),
                fault: Some(fault),
                ..RunConfig::new(seed)
            })
        })
        .unwrap_or_else(|| panic!("{fault:?} not caught with u128 keys"));
        assert_eq!(failure.config.key, KeyWidth::U128);
        let command = failure.reproduce_command();
        assert!(command.contains(" --key u128"), "{command}");
        // The same failure again, from the seed alone.
        let again = run(&failure.config).unwrap_err();
        assert_eq!(
            (again.op_index, &again.cause),
            (failure.op_index, &failure.cause)
        );
    }
}

/// The off-image probes can fail: a level whose `key_range_contains` compares only the
/// upper 64 bits of `u128` keys answers every on-image key right (the high half carries
/// the model's order), so only the probes next to the edges of `key_range_latest` catch
/// it, with deep checks and `u128` keys; `u64` keys never see it.
#[test]
fn a_level_that_compares_high_halves_only_is_caught_by_the_off_image_probes() {
    let config = |seed, key| RunConfig {
        events_max: Some(2_000),
        fault: Some(Fault::KeyRangeContainsHighHalf),
        key,
        ..RunConfig::deep(seed)
    };
    for seed in 1..=3 {
        let failure = run(&config(seed, KeyWidth::U128)).expect_err("caught with u128 keys");
        match &failure.cause {
            FailureCause::Check(check) => {
                assert_eq!(check.what, Check::KeyRangeContains, "{failure}");
            }
            cause => panic!("not a check failure: {cause}"),
        }
        run(&config(seed, KeyWidth::U64)).unwrap_or_else(|f| panic!("u64 keys: {f}"));
    }
}

/// A `u128` trace names its key type in the header and replays to the same run, or to
/// the same failure.
#[test]
fn library_record_replay_of_u128_runs() {
    for config in [
        wide(RunConfig {
            events_max: Some(2_000),
            ..RunConfig::deep(3)
        }),
        wide(RunConfig {
            events_max: Some(5_000),
            fault: Some(Fault::RemoveTakesNeighbour),
            ..RunConfig::new(2)
        }),
    ] {
        let text = Trace::new(&config, plan(&config).ops).to_json_lines();
        assert!(text.lines().next().unwrap().contains(r#""key":"u128""#));
        let back = Trace::parse(&text).unwrap();
        assert_eq!(back.config(), &config);
        match (run(&config), run_ops(back.config(), &back.ops)) {
            (Ok(recorded), Ok(replayed)) => {
                assert_eq!(
                    (replayed.op_counts, replayed.digest),
                    (recorded.op_counts, recorded.digest)
                );
            }
            (Err(recorded), Err(replayed)) => {
                assert_eq!(
                    (replayed.op_index, &replayed.cause),
                    (recorded.op_index, &recorded.cause)
                );
            }
            (recorded, replayed) => panic!("{recorded:?} replayed as {replayed:?}"),
        }
    }
    // A u64 trace's header stays as it was: no key field.
    let narrow = RunConfig::new(1);
    let text = Trace::new(&narrow, plan(&narrow).ops).to_json_lines();
    assert!(!text.lines().next().unwrap().contains("\"key\""));
}

#[test]
fn cli_records_and_replays_a_u128_run() {
    let dir = common::scratch("wide-keys", "record");
    let recorded = common::run_in(
        &dir,
        &[
            "--seed",
            "5",
            "--events-max",
            "2000",
            "--key",
            "u128",
            "--check",
            "deep",
            "--record",
            "run.jsonl",
        ],
    );
    assert_eq!(recorded.status.code(), Some(0), "{}", stderr(&recorded));
    let out = stdout(&recorded);
    assert!(out.contains("keys: u128"), "{out}");
    let replayed = common::run_in(&dir, &["--replay", "run.jsonl"]);
    assert_eq!(replayed.status.code(), Some(0), "{}", stderr(&replayed));
    let digest = |out: &str| {
        out.split(", ")
            .find(|part| part.starts_with("digest "))
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("no digest in {out}"))
    };
    assert_eq!(digest(&stdout(&replayed)), digest(&out));
    // The key type comes from the trace: `--key` cannot be given with `--replay`.
    let conflict = common::run_in(&dir, &["--replay", "run.jsonl", "--key", "u64"]);
    assert_eq!(conflict.status.code(), Some(2), "{}", stderr(&conflict));
    assert!(stderr(&conflict).contains("--key"), "{}", stderr(&conflict));
    // The u64 run of the seed ends elsewhere.
    let narrow = common::run_in(&dir, &["--seed", "5", "--events-max", "2000"]);
    assert_ne!(digest(&stdout(&narrow)), digest(&out));
}

#[test]
fn a_bad_key_is_a_usage_error() {
    let dir = common::scratch("wide-keys", "bad");
    for args in [
        &["--seed", "1", "--key", "u32"][..],
        &["--seed", "1", "--key", "U128x"][..],
        &["bench", "--seeds", "1..2", "--key", "i64"][..],
        &[
            "campaign",
            "--seeds",
            "0..1",
            "--key",
            "u256",
            "--no-progress",
        ][..],
    ] {
        let output = common::run_in(&dir, args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        let error = stderr(&output);
        assert!(error.contains("--key"), "{args:?}: {error}");
        assert!(error.contains("u64") && error.contains("u128"), "{error}");
    }
    // The segmented array has no keys to choose.
    let output = common::run_in(
        &dir,
        &[
            "campaign",
            "--target",
            "segmented-array",
            "--seeds",
            "0..1",
            "--key",
            "u128",
            "--no-progress",
        ],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("--key"), "{}", stderr(&output));
}

/// Swarm seeds draw `u128` keys on about a quarter of the seeds, after every other draw:
/// pinning the key leaves the other values as drawn (the node size only rises to hold
/// 2 tables of the key type), and `--key` replaces the draw.
#[test]
fn swarm_draws_the_key_last() {
    let mut wide_seeds = 0;
    for seed in 0..400 {
        let base = RunConfig {
            swarm: true,
            ..RunConfig::deep(seed)
        };
        let drawn = base
            .clone()
            .with_drawn_configuration(ConfigurationOverrides::default());
        for key in KeyWidth::ALL {
            let pinned = base
                .clone()
                .with_drawn_configuration(ConfigurationOverrides {
                    key: Some(key),
                    ..ConfigurationOverrides::default()
                });
            assert_eq!(pinned.key, key);
            assert_eq!(
                (
                    pinned.table_count_max,
                    pinned.insert_count_max,
                    pinned.growth_tables
                ),
                (
                    drawn.table_count_max,
                    drawn.insert_count_max,
                    drawn.growth_tables
                )
            );
            if key == drawn.key {
                assert_eq!(pinned, drawn);
            }
            assert!(pinned.validate().is_ok(), "{pinned:?}");
        }
        wide_seeds += u32::from(drawn.key == KeyWidth::U128);
    }
    assert!((60..=140).contains(&wide_seeds), "{wide_seeds} of 400");
}

/// A campaign with `--key u128` runs every seed with `u128` keys: its records say so and
/// its state table counts `u128_keys` for every seed.
#[test]
fn a_u128_campaign_records_its_key() {
    let dir = common::scratch("wide-keys", "campaign");
    let output = common::run_in(
        &dir,
        &[
            "campaign",
            "--seeds",
            "0..3",
            "--events-max",
            "1000",
            "--key",
            "u128",
            "--no-progress",
        ],
    );
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{out}{}", stderr(&output));
    assert!(out.contains("u128_keys"), "{out}");
    let findings = std::fs::read_to_string(dir.join("campaign-findings.jsonl")).unwrap();
    let seeds: Vec<&str> = findings
        .lines()
        .filter(|line| line.contains("\"peak_tables\""))
        .collect();
    assert_eq!(seeds.len(), 3, "{findings}");
    assert!(
        seeds.iter().all(|line| line.contains(r#""key":"u128""#)),
        "{findings}"
    );
}

/// A level key corrupted in its low half alone (what a level that keeps only the high
/// half, or truncates and restores it wrongly, would hand back) is caught: the
/// environment compares in `u128`, where the projection to the model's keys would see
/// nothing wrong.
#[test]
fn a_key_corrupted_in_its_low_half_is_caught() {
    let params = Params::with_table_count_max(64);
    let nodes = Environment::<u128>::nodes_needed(512, &params).unwrap();
    let pool = NodePool::new(512, nodes).unwrap();
    let mut env = Environment::<u128>::new(&pool, &params, Prng::from_seed(5)).unwrap();
    for _ in 0..3 {
        env.apply(&FuzzOp::InsertTables { count: 8 }).unwrap();
    }
    env.check_full_contents().unwrap();
    // A table in the middle, so key_range_latest stays; its key_min loses its low half
    // (still above the previous table, whose keys have a smaller high half).
    let original = env.level_tables()[10];
    let corrupted = TableInfo {
        key_min: original.key_min & !u128::from(u64::MAX),
        ..original
    };
    assert_ne!(corrupted, original);
    assert_eq!(project_table(&corrupted), project_table(&original));
    env.level_mut().remove_table(&original).unwrap();
    env.level_mut().insert_table(corrupted).unwrap();
    env.check_after_op().unwrap();
    let failure = env.check_full_contents().unwrap_err();
    assert_eq!(failure.what, Check::EqualsModel, "{failure}");
    // An op that walks over the table sees it too.
    let failure = env.apply(&FuzzOp::UpdateTables { count: 20 }).unwrap_err();
    assert_eq!(failure.what, Check::EqualsModel, "{failure}");
}

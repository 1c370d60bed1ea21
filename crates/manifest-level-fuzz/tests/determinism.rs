//! Same seed, same run: identical op lists and identical final level contents. Different
//! seeds, different runs.

use manifest_level_fuzz::level::model::Table;
use manifest_level_fuzz::level::ops::FuzzOp;
use manifest_level_fuzz::level::runner::{plan, run, run_ops_then, RunConfig, RunReport};

fn config(seed: u64) -> RunConfig {
    RunConfig {
        events_max: Some(3_000),
        ..RunConfig::new(seed)
    }
}

/// Runs `config`'s ops and returns the report with the level's and the model's final
/// tables.
fn final_state(config: &RunConfig) -> (Vec<FuzzOp>, RunReport, Vec<Table>, Vec<Table>) {
    let ops = plan(config).ops;
    let (report, (level, model)) = run_ops_then(config, &ops, |env| {
        (env.level_tables(), env.model().tables().to_vec())
    })
    .expect("the faithful level passes");
    (ops, report, level, model)
}

#[test]
fn same_seed_same_ops_and_final_contents() {
    for seed in [0, 1, 42, u64::MAX] {
        let (ops_a, report_a, level_a, model_a) = final_state(&config(seed));
        let (ops_b, report_b, level_b, model_b) = final_state(&config(seed));
        assert_eq!(ops_a, ops_b, "seed {seed}: op lists differ");
        assert_eq!(level_a, level_b, "seed {seed}: final level contents differ");
        assert_eq!(report_a.digest, report_b.digest);
        assert_eq!(
            (
                report_a.op_counts,
                report_a.peak_tables,
                report_a.final_snapshot
            ),
            (
                report_b.op_counts,
                report_b.peak_tables,
                report_b.final_snapshot
            )
        );
        // And the level ends equal to its model.
        assert_eq!(level_a, model_a, "seed {seed}: level and model differ");
        assert_eq!(level_b, model_b);
        assert_eq!(report_a.final_tables as usize, level_a.len());
        // `run` is `plan` + `run_ops`.
        assert_eq!(run(&config(seed)).unwrap().digest, report_a.digest);
    }
}

#[test]
fn different_seeds_differ() {
    let runs: Vec<_> = (1..=8).map(|seed| final_state(&config(seed))).collect();
    for (i, a) in runs.iter().enumerate() {
        for b in &runs[i + 1..] {
            assert_ne!(a.0, b.0, "two seeds generated the same ops");
            assert_ne!(a.1.digest, b.1.digest, "two seeds ended in the same state");
            assert_ne!(a.2, b.2);
        }
    }
}

#[test]
fn digest_tracks_contents() {
    let (_, report, level, _) = final_state(&config(7));
    assert!(!level.is_empty(), "pick a seed that ends with tables");
    // One op fewer: a different final state, a different digest.
    let mut ops = plan(&config(7)).ops;
    ops.pop();
    let (shorter, ()) = run_ops_then(&config(7), &ops, |_| ()).unwrap();
    assert_ne!(shorter.digest, report.digest);
}

#[test]
fn a_smaller_events_max_runs_a_prefix() {
    let long = plan(&RunConfig {
        events_max: Some(2_000),
        ..RunConfig::new(5)
    });
    let short = plan(&RunConfig {
        events_max: Some(500),
        ..RunConfig::new(5)
    });
    assert_eq!(short.ops.len(), 500);
    assert_eq!(short.ops[..], long.ops[..500]);
    // Table contents come from their own stream, so the prefix runs identically too.
    let (_, a) = run_ops_then(&config(5), &long.ops[..500], |env| env.level_tables()).unwrap();
    let (_, b) = run_ops_then(&config(5), &short.ops, |env| env.level_tables()).unwrap();
    assert_eq!(a, b);
}

#[test]
fn op_list_is_pinned() {
    // The first ops of seed 1, pinned: a change here means recorded seeds no longer
    // reproduce (the generator or the PRNG changed). Update only deliberately.
    let ops = plan(&config(1)).ops;
    let head: Vec<String> = ops.iter().take(8).map(ToString::to_string).collect();
    assert_eq!(head, PINNED_SEED_1_HEAD, "seed 1's ops changed");
    // The final state pins the table contents (keys, checksums, addresses) as well.
    let report = run(&config(1)).unwrap();
    assert_eq!(
        report.digest, 0x40c6_251a_9921_2cb3,
        "seed 1's final state changed"
    );
}

const PINNED_SEED_1_HEAD: [&str; 8] = [
    "insert_tables(9)",
    "remove_visible(5)",
    "insert_tables(8)",
    "update_tables(12)",
    "insert_tables(6)",
    "take_snapshot",
    "remove_invisible(7)",
    "take_snapshot",
];

/// `--check-determinism` agrees with itself on real seeds, and reports the planted
/// nondeterminism (table contents drawn from the clock) as a difference of outcomes,
/// directly and through a campaign job.
#[cfg(feature = "fault-injection")]
#[test]
fn the_determinism_check_sees_planted_nondeterminism() {
    use manifest_level_fuzz::campaign::level_job::FuzzSeedJob;
    use manifest_level_fuzz::campaign::SeedJob;
    use manifest_level_fuzz::level::determinism::{check_determinism, Nondeterminism};

    for seed in 1..=3 {
        let config = RunConfig {
            swarm: true,
            ..RunConfig::deep(seed)
        };
        let config = RunConfig {
            events_max: Some(2_000),
            ..config
        };
        let agreed = check_determinism(&config).expect("a seed agrees with itself");
        assert_eq!(agreed.unwrap().digest, run(&config).unwrap().digest);
    }

    let planted = RunConfig {
        plant_nondeterminism: true,
        ..config(4)
    };
    match check_determinism(&planted) {
        Err(Nondeterminism::Outcome { first, second }) => {
            assert_ne!(first, second);
            assert!(
                first.contains("digest") && second.contains("digest"),
                "{first}"
            );
        }
        other => panic!("planted nondeterminism not reported: {other:?}"),
    }

    let dir = std::env::temp_dir().join(format!("determinism-job-{}", std::process::id()));
    let mut job = FuzzSeedJob::new(planted, None, dir);
    job.determinism_every = Some(2);
    let checked = job.run(6);
    let failure = checked
        .failure
        .expect("seed 6 is checked twice and differs");
    assert!(
        failure.starts_with("nondeterministic: the same ops ended differently"),
        "{failure}"
    );
    assert!(checked.reproduce.ends_with("--check-determinism"));
    // Seed 7 is not one of the checked seeds: it runs once and passes.
    assert_eq!(job.run(7).failure, None);
}

//! The command line, through the built binary: both seed forms, bad arguments (exit 2),
//! the smoke run (exit 0), and a failing run (exit 1) with its reproduce command.

use std::process::Output;
use std::time::{Duration, Instant};

mod common;
use common::{stderr, stdout};

fn fuzz(args: &[&str]) -> Output {
    // A failing run writes its shrunk trace to the working directory: not the crate's.
    let dir = std::env::temp_dir().join("manifest-level-fuzz-cli-tests");
    std::fs::create_dir_all(&dir).unwrap();
    common::run_in(&dir, args)
}

#[test]
fn decimal_seed() {
    let output = fuzz(&["--seed", "42", "--events-max", "300"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(out.contains("seed=42 op_count=300"), "{out}");
    assert!(out.contains("weights: insert_tables=8 update_tables=5 take_snapshot=3 remove_invisible=3 remove_visible=3"));
    let summary = out.lines().last().unwrap();
    assert!(
        summary.starts_with("ok: seed 42 ran 300 ops (insert_tables="),
        "{summary}"
    );
    assert!(
        summary.contains("peak") && summary.contains("ops/s"),
        "{summary}"
    );
}

#[test]
fn commit_hash_seed() {
    // A git commit hash: the seed is its low 64 bits (the last 16 hex digits).
    let hash = "9fceb02d0ae598e95dc970b74767f19372d61af8";
    let output = fuzz(&["--seed", hash, "--events-max", "100"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let seed = u64::from_str_radix(&hash[24..], 16).unwrap();
    assert!(stdout(&output).contains(&format!("seed={seed} ")));
    // Upper case too, and it is the same run as the decimal seed.
    let upper = fuzz(&["--seed", &hash.to_uppercase(), "--events-max", "100"]);
    let decimal = fuzz(&["--seed", &seed.to_string(), "--events-max", "100"]);
    let digest = |output: &Output| {
        let out = stdout(output);
        let line = out.lines().last().unwrap().to_string();
        line.split("digest ").nth(1).unwrap()[..16].to_string()
    };
    assert_eq!(digest(&output), digest(&upper));
    assert_eq!(digest(&output), digest(&decimal));
}

#[test]
fn drawn_seed_is_printed_first() {
    let output = fuzz(&["--events-max", "50"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = stdout(&output);
    let first = out.lines().next().unwrap();
    let seed: u64 = first
        .strip_prefix("seed: ")
        .unwrap_or_else(|| panic!("first line {first:?}"))
        .parse()
        .unwrap();
    assert!(out.contains(&format!("seed={seed} ")));
}

#[test]
fn bad_arguments_exit_2() {
    let cases: &[(&[&str], &str)] = &[
        (&["--seed=-1"], "invalid character"),
        (&["--seed", "12ab"], "40"),
        (&["--seed", "18446744073709551616"], "larger than"),
        (&["--seed", "0x2a"], "invalid character"),
        (&["--seed"], "--seed"),
        (&["--events-max", "0"], "--events-max"),
        (&["--events-max", "many"], "--events-max"),
        (&["--table-count-max", "0"], "--table-count-max"),
        (&["--table-count-max=-5"], "--table-count-max"),
        (&["--table-count-max", "4194305"], "--table-count-max"),
        (&["--node-size", "1000"], "multiple of 16"),
        (&["--node-size", "0"], "--node-size"),
        // Valid alone, but a 64-byte node cannot hold two 64-byte tables.
        (&["--node-size", "64", "--seed", "1"], "too small"),
        (&["--smoke", "--seed", "1"], "cannot be used"),
        (&["--inject-fault", "NoSuchFault"], "unknown fault"),
        (&["--insert-count-max", "0"], "--insert-count-max"),
        (
            &["--growth-tables", "2000", "--seed", "1"],
            "growth target 2000",
        ),
        (
            &["--insert-count-max", "5000", "--seed", "1"],
            "insert count max 5000",
        ),
        (&["bench", "--node-size", "1000"], "multiple of 16"),
        (&["bench", "--table-count-max", "0"], "--table-count-max"),
        (
            &["campaign", "--seeds", "0..2", "--swarm", "--no-swarm"],
            "cannot be used",
        ),
        (&["--frobnicate"], "unexpected argument"),
        (&["frobnicate-subcommand"], "unrecognized subcommand"),
    ];
    for (args, message) in cases {
        let output = fuzz(args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        let err = stderr(&output);
        assert!(err.contains(message), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn smoke_run_passes_fast() {
    let start = Instant::now();
    let output = fuzz(&["--smoke"]);
    let elapsed = start.elapsed();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("ok: seed 42 ran 5000 ops"));
    // Well under a second in release; generous for an unoptimized test build.
    assert!(
        elapsed < Duration::from_secs(10),
        "smoke run took {elapsed:?}"
    );
}

#[test]
fn run_subcommand_is_the_default_run() {
    let a = fuzz(&["--seed", "3", "--events-max", "200"]);
    let b = fuzz(&["run", "--seed", "3", "--events-max", "200"]);
    assert_eq!(b.status.code(), Some(0));
    let last = |o: &Output| {
        stdout(o)
            .lines()
            .last()
            .unwrap()
            .split(", ")
            .take(4)
            .collect::<Vec<_>>()
            .join(", ")
    };
    assert_eq!(last(&a), last(&b));
}

#[test]
fn verbose_logs_every_op() {
    let output = fuzz(&["--seed", "1", "--events-max", "20", "-v"]);
    assert_eq!(output.status.code(), Some(0));
    let err = stderr(&output);
    assert!(err.contains("op[0/20] = insert_tables(9)"), "{err}");
    assert!(err.contains("op[19/20] = "), "{err}");
}

#[test]
fn failing_run_exits_1_with_reproduce_command() {
    let args = [
        "--seed",
        "1",
        "--events-max",
        "2000",
        "--inject-fault",
        "retire-keeps-counters",
    ];
    let output = fuzz(&args);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let err = stderr(&output);
    assert!(
        err.contains("FAILED: seed 1 at op 3 of 2000: update_tables("),
        "{err}"
    );
    assert!(err.contains("check:    table_count_visible"), "{err}");
    assert!(
        err.contains("expected: ") && err.contains("found:    "),
        "{err}"
    );
    let command = err
        .lines()
        .find_map(|line| line.strip_prefix("reproduce: "))
        .unwrap_or_else(|| panic!("no reproduce line: {err}"));
    assert_eq!(
        command,
        "cargo run --release -p manifest-level-fuzz --features fault-injection -- \
         --seed 1 --events-max 2000 --inject-fault RetireKeepsCounters"
    );
    // The command's arguments reproduce the same failure.
    let again: Vec<&str> = command.split(" -- ").nth(1).unwrap().split(' ').collect();
    let output = fuzz(&again);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stderr(&output), err);
}

/// The segmented-array fuzzer records, replays and shrinks through the shared trace
/// format: a recorded seed replays (exit 0); a planted fault shrinks to a trace that
/// replays to the same failure (exit 1); a bad trace is a usage error (exit 2).
#[cfg(feature = "fault-injection")]
#[test]
fn segmented_array_traces_record_replay_and_shrink() {
    let dir = std::env::temp_dir().join(format!("mlf-sa-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let run = |args: &[&str]| common::run_in(&dir, args);
    let recorded = run(&[
        "segmented-array",
        "--seed",
        "5",
        "--ops",
        "500",
        "--record",
        "sa.jsonl",
    ]);
    assert_eq!(recorded.status.code(), Some(0), "{}", stderr(&recorded));
    assert!(stdout(&recorded).contains("recorded: sa.jsonl"));
    let replayed = run(&["segmented-array", "--replay", "sa.jsonl"]);
    assert_eq!(replayed.status.code(), Some(0), "{}", stderr(&replayed));
    assert!(
        stdout(&replayed).contains("500 ops passed"),
        "{}",
        stdout(&replayed)
    );

    let failing = [
        "segmented-array",
        "--seed",
        "7",
        "--ops",
        "3000",
        "--sorted",
        "--inject-search-fault",
        "--shrink-out",
        "shrunk.jsonl",
    ];
    let failed = run(&failing);
    assert_eq!(failed.status.code(), Some(1), "{}", stdout(&failed));
    assert!(
        stdout(&failed).contains("shrunk trace: shrunk.jsonl"),
        "{}",
        stdout(&failed)
    );
    let again = run(&["segmented-array", "--replay", "shrunk.jsonl", "--no-shrink"]);
    assert_eq!(again.status.code(), Some(1), "{}", stdout(&again));
    assert!(
        stderr(&again).contains("replay: reproduced the recorded failure: check insert_sorted"),
        "{}",
        stderr(&again)
    );

    std::fs::write(dir.join("bad.jsonl"), "{\"format_version\":9}\n").unwrap();
    for args in [
        &["segmented-array", "--replay", "bad.jsonl"][..],
        &["segmented-array", "--replay", "missing.jsonl"],
        &["segmented-array", "--replay", "sa.jsonl", "--seed", "3"],
        &["--replay", "sa.jsonl"],
    ] {
        let output = run(args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    let level_reader = run(&["--replay", "sa.jsonl"]);
    assert!(stderr(&level_reader).contains("segmented-array --replay"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn check_determinism_runs_the_seed_twice() {
    let output = fuzz(&[
        "--seed",
        "3",
        "--events-max",
        "300",
        "--ops",
        "extended",
        "--check-determinism",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(
        out.contains("determinism: two runs agree (same ops, digest "),
        "{out}"
    );
    let single = fuzz(&["--seed", "3", "--events-max", "300", "--ops", "extended"]);
    let digest = |text: &str| text.split("digest ").last().unwrap()[..16].to_string();
    assert_eq!(digest(&out), digest(&stdout(&single)));
}

//! Traces: record -> replay gives the same run (same digest and report, or the same
//! failure), a shrunk trace replays to its failure, and bad traces or conflicting flags
//! are usage errors (exit 2). Through the library and through the binary.

use std::path::{Path, PathBuf};
use std::process::Output;

use manifest_level::Fault;
use manifest_level_fuzz::level::ops::{FuzzOp, Weights};
use manifest_level_fuzz::level::reduce::FailureSignature;
use manifest_level_fuzz::level::runner::{plan, run, run_ops, RunConfig};
use manifest_level_fuzz::level::trace::{Trace, FORMAT_VERSION};

mod common;
use common::{stderr, stdout};

/// A fresh directory for one test's files.
fn scratch(name: &str) -> PathBuf {
    common::scratch("trace", name)
}

fn fuzz(dir: &Path, args: &[&str]) -> Output {
    common::run_in(dir, args)
}

/// The summary line without its timing: `ok: seed .. ran .. ops (..), peak .., final ..,
/// digest ..` (the digest hashes the whole final state).
fn summary_without_timing(out: &str) -> String {
    let line = out
        .lines()
        .find(|line| line.starts_with("ok: "))
        .unwrap_or_else(|| panic!("no summary in {out}"));
    let kept: Vec<&str> = line.split(", ").take(4).collect();
    assert!(kept[3].starts_with("digest "), "{line}");
    kept.join(", ")
}

#[test]
fn library_record_replay_is_identical() {
    for seed in 1..=4 {
        let config = RunConfig {
            events_max: Some(3_000),
            node_size: [1024, 256][seed as usize % 2],
            weights: if seed == 3 {
                Weights::from_array([5, 5, 1, 2, 2])
            } else {
                Weights::SEED
            },
            ..RunConfig::new(seed)
        };
        let recorded = run(&config).unwrap();
        let trace = Trace::new(&config, plan(&config).ops);
        let text = trace.to_json_lines();
        let back = Trace::parse(&text).unwrap();
        assert_eq!(back, trace);
        assert_eq!(back.config(), &config);
        let replayed = run_ops(back.config(), &back.ops).unwrap();
        assert_eq!(
            (replayed.ops_run, replayed.op_counts, replayed.peak_tables),
            (recorded.ops_run, recorded.op_counts, recorded.peak_tables)
        );
        assert_eq!(
            (
                replayed.final_tables,
                replayed.final_snapshot,
                replayed.digest
            ),
            (
                recorded.final_tables,
                recorded.final_snapshot,
                recorded.digest
            ),
            "seed {seed}"
        );
        // Bit for bit: writing the parsed trace gives the same text.
        assert_eq!(back.to_json_lines(), text);
    }
}

#[test]
fn library_record_replay_of_extended_deep_and_swarm_runs() {
    for (seed, swarm) in [(11, false), (12, true), (13, true)] {
        let config = RunConfig {
            events_max: Some(1_500),
            swarm,
            ..RunConfig::deep(seed)
        };
        let recorded = run(&config).unwrap();
        let text = Trace::new(&config, plan(&config).ops).to_json_lines();
        assert!(text
            .lines()
            .next()
            .unwrap()
            .contains(r#""check":"deep","ops":"extended""#));
        let back = Trace::parse(&text).unwrap();
        assert_eq!(back.config(), &config);
        assert!(back.ops.iter().any(FuzzOp::is_extended));
        let replayed = run_ops(back.config(), &back.ops).unwrap();
        assert_eq!(
            (replayed.op_counts, replayed.final_tables, replayed.digest),
            (recorded.op_counts, recorded.final_tables, recorded.digest),
            "seed {seed}"
        );
    }
}

#[test]
fn library_record_replay_of_a_failure_is_the_same_failure() {
    for fault in [Fault::RemoveTakesNeighbour, Fault::KeyRangeNotShrunk] {
        let config = RunConfig {
            events_max: Some(5_000),
            fault: Some(fault),
            ..RunConfig::new(2)
        };
        let recorded = run(&config).unwrap_err();
        let back = Trace::parse(&Trace::new(&config, plan(&config).ops).to_json_lines()).unwrap();
        let replayed = run_ops(back.config(), &back.ops).unwrap_err();
        assert_eq!(
            (replayed.op_index, replayed.op, &replayed.cause),
            (recorded.op_index, recorded.op, &recorded.cause)
        );
        assert_eq!(replayed.config, recorded.config);
    }
}

#[test]
fn header_format() {
    let config = RunConfig {
        fault: Some(Fault::RetireKeepsCounters),
        ..RunConfig::new(1)
    };
    let trace = Trace::new(&config, vec![FuzzOp::InsertTables { count: 1 }]).with_failure(Some(
        FailureSignature::Check {
            check: manifest_level_fuzz::level::environment::Check::TableCountVisible,
        },
    ));
    let text = trace.to_json_lines();
    let header = text.lines().next().unwrap();
    let expected = format!(
        concat!(
            r#"{{"format_version":{},"target":"level","generator":"manifest-level-fuzz {}","#,
            r#""config":{{"seed":1,"events_max":null,"table_count_max":1024,"node_size":1024,"#,
            r#""weights":{{"insert_tables":8,"update_tables":5,"take_snapshot":3,"#,
            r#""remove_invisible":3,"remove_visible":3}},"fault":"RetireKeepsCounters"}},"#,
            r#""op_count":1,"failure":{{"kind":"check","check":"table_count_visible"}}}}"#
        ),
        FORMAT_VERSION,
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(header, expected);
    assert_eq!(
        text.lines().nth(1),
        Some(r#"{"op":"insert_tables","count":1}"#)
    );
}

#[test]
fn cli_record_then_replay_passing_run() {
    let dir = scratch("pass");
    let recorded = fuzz(
        &dir,
        &[
            "--seed",
            "5",
            "--events-max",
            "2000",
            "--record",
            "run.jsonl",
        ],
    );
    assert_eq!(recorded.status.code(), Some(0), "{}", stderr(&recorded));
    assert!(stdout(&recorded).contains("recorded: run.jsonl"));
    let text = std::fs::read_to_string(dir.join("run.jsonl")).unwrap();
    assert_eq!(text.lines().count(), 2001);

    let replayed = fuzz(&dir, &["--replay", "run.jsonl"]);
    assert_eq!(replayed.status.code(), Some(0), "{}", stderr(&replayed));
    let out = stdout(&replayed);
    assert!(
        out.starts_with("replay: run.jsonl: 2000 ops, config {\"seed\":5,"),
        "{out}"
    );
    assert_eq!(
        summary_without_timing(&out),
        summary_without_timing(&stdout(&recorded))
    );
    // `run --replay` and -v are fine too.
    let verbose = fuzz(&dir, &["run", "--replay", "run.jsonl", "-v"]);
    assert_eq!(verbose.status.code(), Some(0));
    assert!(stderr(&verbose).contains("op[1999/2000] = "));
    assert_eq!(
        summary_without_timing(&stdout(&verbose)),
        summary_without_timing(&out)
    );
}

#[test]
fn cli_record_then_replay_failing_run() {
    let dir = scratch("fail");
    let args = [
        "--seed",
        "1",
        "--events-max",
        "2000",
        "--inject-fault",
        "RemoveTakesNeighbour",
        "--no-shrink",
    ];
    let recorded = fuzz(&dir, &[&args[..], &["--record", "fail.jsonl"]].concat());
    assert_eq!(recorded.status.code(), Some(1), "{}", stderr(&recorded));
    let replayed = fuzz(&dir, &["--replay", "fail.jsonl", "--no-shrink"]);
    assert_eq!(replayed.status.code(), Some(1), "{}", stderr(&replayed));
    // The same report, line for line, except how to reproduce it.
    let report = |output: &Output| -> Vec<String> {
        stderr(output)
            .lines()
            .take_while(|line| {
                !line.starts_with("reproduce:") && !line.contains("explicit op list")
            })
            .map(String::from)
            .collect()
    };
    assert!(report(&recorded)[0].starts_with("FAILED: seed 1 at op 11 of 2000: remove_invisible("));
    assert_eq!(report(&replayed), report(&recorded));
}

#[test]
fn cli_shrunk_trace_replays_to_the_failure() {
    let dir = scratch("shrunk");
    let output = fuzz(
        &dir,
        &[
            "--seed",
            "1",
            "--inject-fault",
            "SearchOffByOneAtNodeBoundary",
            "--node-size",
            "1024",
            "--shrink-out",
            "min.jsonl",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(out.contains("shrunk trace: min.jsonl (replay: cargo run --release -p manifest-level-fuzz --features fault-injection -- --replay min.jsonl)"), "{out}");
    assert!(
        out.contains("#[test]\nfn manifest_level_regression_seed_1() {"),
        "{out}"
    );
    let err = stderr(&output);
    assert!(
        err.contains("shrinking (--no-shrink skips this): "),
        "{err}"
    );
    assert!(err.contains("shrink: dropped "), "{err}");
    assert!(err.contains("shrink: round 1 done: "), "{err}");

    let trace = Trace::read(&dir.join("min.jsonl")).unwrap();
    assert!(trace.ops.len() <= 10, "{:?}", trace.ops);
    let signature = trace
        .header
        .failure
        .clone()
        .expect("a shrunk trace records its failure");
    assert_eq!(trace.config().node_size, 1024);

    let replayed = fuzz(&dir, &["--replay", "min.jsonl", "--no-shrink"]);
    assert_eq!(replayed.status.code(), Some(1), "{}", stderr(&replayed));
    let err = stderr(&replayed);
    assert!(
        err.contains(&format!(
            "replay: reproduced the recorded failure: {signature}"
        )),
        "{err}"
    );
    assert!(err.contains(&format!(
        "at op {} of {}",
        trace.ops.len() - 1,
        trace.ops.len()
    )));
    // Shrinking a shrunk trace again changes nothing (a fixed point).
    let again = fuzz(
        &dir,
        &["--replay", "min.jsonl", "--shrink-out", "min2.jsonl"],
    );
    assert_eq!(again.status.code(), Some(1));
    let twice = Trace::read(&dir.join("min2.jsonl")).unwrap();
    assert_eq!(twice.ops, trace.ops);
}

#[test]
fn cli_record_then_replay_deep_swarm_run() {
    let dir = scratch("deep");
    let recorded = fuzz(
        &dir,
        &[
            "--seed",
            "21",
            "--events-max",
            "1000",
            "--ops",
            "extended",
            "--check",
            "deep",
            "--swarm",
            "--record",
            "deep.jsonl",
        ],
    );
    assert_eq!(recorded.status.code(), Some(0), "{}", stderr(&recorded));
    let replayed = fuzz(&dir, &["--replay", "deep.jsonl"]);
    assert_eq!(replayed.status.code(), Some(0), "{}", stderr(&replayed));
    let out = stdout(&replayed);
    assert!(
        out.contains(r#""check":"deep","ops":"extended","swarm":true"#),
        "{out}"
    );
    assert_eq!(
        summary_without_timing(&out),
        summary_without_timing(&stdout(&recorded))
    );
}

#[test]
fn cli_bad_traces_exit_2() {
    let dir = scratch("bad");
    let good =
        Trace::new(&RunConfig::new(3), vec![FuzzOp::InsertTables { count: 2 }]).to_json_lines();
    let (header, op) = good.split_once('\n').unwrap();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "version.jsonl",
            format!(
                "{}\n{op}",
                header.replace("\"format_version\":1", "\"format_version\":99")
            ),
            "unsupported trace format_version 99: this fuzzer reads version 1",
        ),
        (
            "op.jsonl",
            format!("{header}\n{{\"op\":\"insert_tables\",\"count\":\"two\"}}\n"),
            "line 2: not an op",
        ),
        (
            "json.jsonl",
            format!("{header}\nnot json\n"),
            "line 2: not an op",
        ),
        (
            "truncated.jsonl",
            format!("{}\n", header.replace("\"op_count\":1", "\"op_count\":3")) + op,
            "announces 3 ops but 1 follow",
        ),
        ("empty.jsonl", String::new(), "empty trace"),
        (
            "invalid.jsonl",
            format!("{header}\n{{\"op\":\"remove_invisible\",\"count\":1}}\n"),
            "cannot apply",
        ),
    ];
    for (name, text, message) in &cases {
        std::fs::write(dir.join(name), text).unwrap();
        let output = fuzz(&dir, &["--replay", name]);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(message), "{name}: {message:?} not in {err}");
        assert!(err.contains(&format!("--replay {name}: ")), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
    }
    let missing = fuzz(&dir, &["--replay", "nope.jsonl"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("nope.jsonl"));
}

#[test]
fn cli_replay_rejects_config_flags() {
    let dir = scratch("flags");
    Trace::new(&RunConfig::new(3), vec![FuzzOp::InsertTables { count: 2 }])
        .write(&dir.join("t.jsonl"))
        .unwrap();
    for args in [
        &["--replay", "t.jsonl", "--seed", "4"][..],
        &["--replay", "t.jsonl", "--events-max", "4"],
        &["--replay", "t.jsonl", "--table-count-max", "64"],
        &["--replay", "t.jsonl", "--node-size", "1024"],
        &["--replay", "t.jsonl", "--inject-fault", "KeyRangeNotShrunk"],
        &["--replay", "t.jsonl", "--check", "deep"],
        &["--replay", "t.jsonl", "--ops", "extended"],
        &["--replay", "t.jsonl", "-v", "--swarm"],
        &["run", "--replay", "t.jsonl", "--seed", "4"],
    ] {
        let output = fuzz(&dir, args);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("--replay takes the run's configuration from the trace header"),
            "{args:?}: {err}"
        );
        let flag = args.iter().rev().find(|arg| arg.starts_with("--")).unwrap();
        assert!(
            err.contains(&format!("{flag} cannot be given with it")),
            "{args:?}: {err}"
        );
    }
    let smoke = fuzz(&dir, &["--replay", "t.jsonl", "--smoke"]);
    assert_eq!(smoke.status.code(), Some(2));
    // Flags that do not change the run are fine.
    let output = fuzz(
        &dir,
        &[
            "--replay",
            "t.jsonl",
            "-v",
            "--no-shrink",
            "--record",
            "copy.jsonl",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        std::fs::read_to_string(dir.join("copy.jsonl")).unwrap(),
        std::fs::read_to_string(dir.join("t.jsonl")).unwrap()
    );
}

//! `manifest-level-fuzz campaign`, through the built binary: a campaign killed with
//! SIGKILL keeps every result it wrote, a planted fault gives failures with shrunk traces
//! (exit 1), shards cover a range exactly once, and bad arguments exit 2.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use manifest_level_fuzz::campaign::level_job::ShrunkRecord;
use manifest_level_fuzz::campaign::{Finding, SeedStatus};

mod common;
use common::{stderr, stdout, BIN};

/// A fresh directory for one test's files.
fn scratch(name: &str) -> PathBuf {
    common::scratch("campaign", name)
}

fn campaign(dir: &Path, args: &[&str]) -> Output {
    let mut all = vec!["campaign"];
    all.extend_from_slice(args);
    common::run_in(dir, &all)
}

fn read_findings(path: &Path) -> Vec<Finding> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

fn seeds_of(findings: &[Finding]) -> Vec<(u64, SeedStatus)> {
    findings
        .iter()
        .filter_map(|finding| match finding {
            Finding::Seed { seed, status, .. } => Some((*seed, *status)),
            _ => None,
        })
        .collect()
}

#[test]
fn killed_campaign_keeps_every_result() {
    const LINES: usize = 60;
    let dir = scratch("kill");
    let path = dir.join("findings.jsonl");
    let mut child = Command::new(BIN)
        .args([
            "campaign",
            "--seeds",
            "0..100000",
            "--events-max",
            "300",
            "--jobs",
            "2",
            "--no-progress",
            "--findings",
            "findings.jsonl",
            "--target",
            "level",
            // The seed's small level: a drawn one may be big, and slow to set up in a
            // debug build.
            "--no-swarm",
        ])
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let before = loop {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if text.lines().count() >= LINES {
            break text;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the campaign ended before it was killed: {status}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no {LINES} findings in 60 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    child.kill().unwrap(); // SIGKILL on Unix: no destructor, no flush, no summary.
    let status = child.wait().unwrap();
    assert!(!status.success(), "{status}");
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "{status}");
    }

    let after = std::fs::read_to_string(&path).unwrap();
    // Everything read before the kill is still there, unchanged (append only).
    let complete_before = &before[..before.rfind('\n').unwrap() + 1];
    assert!(after.starts_with(complete_before));
    // Every complete line parses; the seeds are distinct; no summary (it was killed).
    let complete = &after[..after.rfind('\n').unwrap() + 1];
    assert_eq!(complete.len(), after.len(), "a partial line after the kill");
    let findings: Vec<Finding> = complete
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert!(findings.len() >= LINES);
    assert!(findings.len() < 100_000);
    let seeds = seeds_of(&findings);
    assert_eq!(seeds.len(), findings.len(), "only seed records");
    let distinct: BTreeSet<u64> = seeds.iter().map(|(seed, _)| *seed).collect();
    assert_eq!(distinct.len(), seeds.len(), "a seed recorded twice");
    assert!(seeds.iter().all(|(_, status)| *status == SeedStatus::Pass));
    // Each seed's line is complete and carries its reproduce command.
    for finding in &findings {
        let Finding::Seed {
            seed, reproduce, ..
        } = finding
        else {
            unreachable!()
        };
        assert!(reproduce.contains(&format!("--seed {seed} --events-max 300")));
    }
}

#[test]
fn planted_fault_is_recorded_and_shrunk() {
    let dir = scratch("fault");
    let output = campaign(
        &dir,
        &[
            "--seeds",
            "1..=4",
            "--events-max",
            "3000",
            "--inject-fault",
            "RemoveTakesNeighbour",
            "--no-progress",
            "--jobs",
            "2",
            // A growth phase holds removals back (and a removal bug with them) until the
            // level is big; without one, every seed shrinks within the debug build's
            // attempt limit.
            "--growth-tables",
            "0",
            "--target",
            "level",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(out.starts_with("campaign: level seeds 1..5, shard 0/1, 2 jobs, findings campaign-findings.jsonl, config {\"seed\":0,"), "{out}");
    assert!(out.contains("campaign: 4 seeds, 4 failed, "), "{out}");
    assert!(out.contains("ops/s"), "{out}");
    // Campaigns default to the extended op set with deep checks, and swarm.
    assert!(
        out.contains(r#""check":"deep","ops":"extended","swarm":true"#),
        "{out}"
    );
    let err = stderr(&output);
    let prefix = "seed 1: Fail: FAILED: seed 1 at op ";
    let at = err
        .split(prefix)
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|index| index.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no `{prefix}N` in {err}"));

    let findings = read_findings(&dir.join("campaign-findings.jsonl"));
    // The line printed and the seed's record agree: it ran up to and including op `at`.
    assert!(findings
        .iter()
        .any(|f| matches!(f, Finding::Seed { seed: 1, ops, .. } if *ops == at + 1)));
    let mut seeds = seeds_of(&findings);
    seeds.sort_unstable_by_key(|(seed, _)| *seed);
    assert_eq!(
        seeds,
        (1..=4)
            .map(|seed| (seed, SeedStatus::Fail))
            .collect::<Vec<_>>()
    );
    for (index, finding) in findings.iter().enumerate() {
        let Finding::Shrunk { seed, result } = finding else {
            continue;
        };
        // Recorded after the seed's own line.
        assert!(findings[..index]
            .iter()
            .any(|f| matches!(f, Finding::Seed { seed: s, .. } if s == seed)));
        let record: ShrunkRecord = serde_json::from_value(result.clone()).unwrap();
        assert!(record.ops_after <= 10 && record.ops_after == record.ops.len());
        assert_eq!(record.ops_before, 3000);
        assert_eq!(record.signature.to_string(), "check removed_gone");
        let trace = record.trace.expect("trace written");
        assert_eq!(
            trace,
            format!("campaign-findings-traces/manifest-level-fuzz-{seed}-shrunk.jsonl")
        );
        // The shrunk trace replays to the failure.
        let replay = Command::new(BIN)
            .args(["--replay", &trace, "--no-shrink"])
            .current_dir(&dir)
            .output()
            .unwrap();
        assert_eq!(replay.status.code(), Some(1));
        assert!(
            stderr(&replay).contains("replay: reproduced the recorded failure: check removed_gone")
        );
    }
    let shrunk = findings
        .iter()
        .filter(|f| matches!(f, Finding::Shrunk { .. }))
        .count();
    assert_eq!(shrunk, 4);
    assert!(matches!(
        findings.last(),
        Some(Finding::Summary {
            seeds: 4,
            failures: 4,
            ..
        })
    ));

    // --no-shrink records the failures only; the seed's own fuzzer on request.
    let output = campaign(
        &dir,
        &[
            "--seeds",
            "1..3",
            "--events-max",
            "3000",
            "--inject-fault",
            "RemoveTakesNeighbour",
            "--no-shrink",
            "--check",
            "faithful",
            "--ops",
            "faithful",
            "--no-swarm",
            "--findings",
            "plain.jsonl",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("seed 1: Fail: FAILED: seed 1 at op 11 of 3000"));
    let plain = read_findings(&dir.join("plain.jsonl"));
    assert_eq!(plain.len(), 3);
    assert!(!plain.iter().any(|f| matches!(f, Finding::Shrunk { .. })));
}

#[test]
fn shards_cover_the_range_exactly_once() {
    let dir = scratch("shards");
    let mut all = Vec::new();
    for shard in 0..3 {
        let findings_file = format!("shard-{shard}.jsonl");
        let output = campaign(
            &dir,
            &[
                "--seeds",
                "10..40",
                "--events-max",
                "50",
                "--shard",
                &format!("{shard}/3"),
                "--findings",
                &findings_file,
                "--no-progress",
            ],
        );
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert!(stdout(&output).contains("campaign: 10 seeds, 0 failed, "));
        let findings = read_findings(&dir.join(&findings_file));
        assert!(matches!(
            findings.last(),
            Some(Finding::Summary {
                seeds: 10,
                failures: 0,
                ..
            })
        ));
        let seeds = seeds_of(&findings);
        assert!(seeds.iter().all(|(seed, _)| seed % 3 == (10 + shard) % 3));
        all.extend(seeds.into_iter().map(|(seed, _)| seed));
    }
    all.sort_unstable();
    assert_eq!(all, (10..40).collect::<Vec<_>>());
}

#[test]
fn duration_campaign_stops_and_passes() {
    let dir = scratch("duration");
    let started = Instant::now();
    let output = campaign(
        &dir,
        &[
            "--duration",
            "1s",
            "--start",
            "1000",
            "--events-max",
            "100",
            "--jobs",
            "1",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(stdout(&output).contains("seeds from 1000 for 1s"));
    let findings = read_findings(&dir.join("campaign-findings.jsonl"));
    let seeds: Vec<u64> = seeds_of(&findings).iter().map(|(seed, _)| *seed).collect();
    // One job: seeds in order from --start.
    assert!(!seeds.is_empty());
    assert_eq!(seeds, (1000..1000 + seeds.len() as u64).collect::<Vec<_>>());
}

#[test]
fn bad_campaign_arguments_exit_2() {
    let dir = scratch("bad");
    let cases: &[(&[&str], &str)] = &[
        (&[], "--seeds"),
        (
            &["--seeds", "0..5", "--duration", "1m"],
            "cannot be used with",
        ),
        (&["--seeds", "5..3"], "empty seed range"),
        (&["--seeds", "1-3"], "expected a seed range"),
        (&["--seeds", "a..3"], "bad seed"),
        (&["--duration", "soon"], "expected a duration"),
        (&["--duration", "0s"], "expected a duration"),
        (&["--seeds", "0..5", "--shard", "3/3"], "expected a shard"),
        (&["--seeds", "0..5", "--shard", "1"], "expected a shard"),
        (&["--seeds", "0..5", "--jobs", "0"], "--jobs"),
        (&["--seeds", "0..5", "--start", "4"], "cannot be used with"),
        (
            &["--seeds", "0..5", "--node-size", "1000"],
            "multiple of 16",
        ),
        (
            &["--seeds", "0..5", "--table-count-max", "0"],
            "table count max 0",
        ),
        (&["--seeds", "0..5", "--events-max", "0"], "--events-max"),
        (
            &["--seeds", "0..5", "--inject-fault", "Nope"],
            "unknown fault",
        ),
        (
            &["--seeds", "0..5", "--findings", "no/such/dir/f.jsonl"],
            "findings file no/such/dir/f.jsonl",
        ),
    ];
    for (args, message) in cases {
        let output = campaign(&dir, args);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(message), "{args:?}: {message:?} not in {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

/// `--target segmented-array` runs the array fuzzer as a campaign: a clean range passes
/// (exit 0); with the planted search fault every failing seed is recorded, shrunk into a
/// trace that replays to the same failure, and the summary counts it (exit 1); level-only
/// flags are refused (exit 2).
#[cfg(feature = "fault-injection")]
#[test]
fn segmented_array_campaign_records_and_shrinks() {
    use manifest_level_fuzz::campaign::segmented_array_job::ShrunkArrayRecord;
    let dir = scratch("segmented-array");
    let target = [
        "--target",
        "segmented-array",
        "--no-progress",
        "--jobs",
        "2",
    ];
    let clean = campaign(
        &dir,
        &[&target[..], &["--seeds", "0..6", "--events-max", "2000"]].concat(),
    );
    assert_eq!(clean.status.code(), Some(0), "{}", stderr(&clean));
    assert!(
        stdout(&clean).contains("campaign: 6 seeds, 0 failed"),
        "{}",
        stdout(&clean)
    );

    let findings_file = "faulty.jsonl";
    let args = [
        "--seeds",
        "7..13",
        "--events-max",
        "3000",
        "--inject-search-fault",
        "--findings",
        findings_file,
    ];
    let faulty = campaign(&dir, &[&target[..], &args[..]].concat());
    assert_eq!(faulty.status.code(), Some(1), "{}", stdout(&faulty));
    let findings = read_findings(&dir.join(findings_file));
    let failed: Vec<u64> = seeds_of(&findings)
        .into_iter()
        .filter(|(_, status)| *status == SeedStatus::Fail)
        .map(|(seed, _)| seed)
        .collect();
    assert!(!failed.is_empty(), "the planted fault is found");
    let mut shrunk = 0;
    for finding in &findings {
        let Finding::Shrunk { seed, result } = finding else {
            continue;
        };
        shrunk += 1;
        assert!(failed.contains(seed));
        let record: ShrunkArrayRecord = serde_json::from_value(result.clone()).unwrap();
        assert!(record.ops_after <= record.ops_before && record.ops_after == record.ops.len());
        let trace = record.trace.expect("trace written");
        let replay = common::run_in(
            &dir,
            &["segmented-array", "--replay", &trace, "--no-shrink"],
        );
        assert_eq!(replay.status.code(), Some(1), "{}", stdout(&replay));
        assert!(
            stderr(&replay).contains("replay: reproduced the recorded failure"),
            "{}",
            stderr(&replay)
        );
    }
    assert_eq!(shrunk, failed.len());

    let refused = campaign(
        &dir,
        &[&target[..], &["--seeds", "0..2", "--swarm"]].concat(),
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("--swarm cannot be given with --target segmented-array"));
}

/// The default target runs the segmented-array fuzzer on one seed in 8 and the level
/// fuzzer on the others, each with its own reproduce command; a fault planted in the level
/// fails the level's seeds only.
#[test]
fn the_default_target_runs_both_fuzzers() {
    let dir = scratch("all");
    let output = campaign(
        &dir,
        &[
            "--seeds",
            "0..16",
            "--events-max",
            "2000",
            "--inject-fault",
            "RetireKeepsCounters",
            "--no-shrink",
            "--no-progress",
            "--jobs",
            "2",
            "--growth-tables",
            "0",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(out.starts_with("campaign: all seeds 0..16"), "{out}");
    assert!(out.contains(r#""array_seed_every":8"#), "{out}");
    let text = std::fs::read_to_string(dir.join("campaign-findings.jsonl")).unwrap();
    let findings: Vec<Finding> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let mut array_seeds = Vec::new();
    for finding in &findings {
        let Finding::Seed {
            seed,
            status,
            reproduce,
            ..
        } = finding
        else {
            continue;
        };
        if reproduce.contains(" segmented-array ") {
            assert_eq!(*status, SeedStatus::Pass, "{finding:?}");
            array_seeds.push(*seed);
        } else {
            assert!(reproduce.contains("--inject-fault"), "{reproduce}");
        }
    }
    array_seeds.sort_unstable();
    assert_eq!(array_seeds, [7, 15]);
    assert!(out.contains("campaign: 16 seeds, "), "{out}");
}

//! The failure database: the repository's checked-in traces replay clean, and a campaign
//! stores its failures, replays them first, and reports still-failing, fixed and
//! unreadable traces.

mod common;

use std::path::{Path, PathBuf};

use common::{run_in, scratch, stderr, stdout};
use manifest_level_fuzz::campaign::regressions::{file_name, replay_stored, Replayed};

/// The repository's `regressions/` folder.
fn checked_in() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../regressions")
}

#[test]
fn checked_in_traces_replay_clean() {
    let dir = checked_in();
    assert!(dir.is_dir(), "{} is missing", dir.display());
    let stored = replay_stored(&dir);
    println!("{stored}");
    assert_eq!(stored.folder_error, None);
    for (path, replayed) in &stored.traces {
        assert_eq!(replayed, &Replayed::Fixed, "{}", path.display());
    }
}

/// The stored traces of `dir`, sorted.
fn stored_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    files
}

const FAULTY: [&str; 9] = [
    "campaign",
    "--seeds",
    "1..=2",
    "--events-max",
    "3000",
    "--no-progress",
    "--jobs",
    "2",
    "--inject-fault",
];

#[test]
fn campaign_stores_replays_and_reports_failures() {
    let dir = scratch("regressions", "store");
    let output = run_in(&dir, &[&FAULTY[..], &["RemoveTakesNeighbour"]].concat());
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stdout(&output).contains("replayed 0 stored failures: 0 still failing, 0 fixed"));
    let db = dir.join("campaign-regressions");
    let files = stored_files(&db);
    // Both seeds fail the same way: one signature, one file, named by its hash.
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_str().unwrap();
    assert!(
        name.starts_with("failure-") && name.ends_with(".jsonl"),
        "{name}"
    );

    // The stored trace carries the fault: a clean campaign replays it first, and fails.
    let clean = [
        "campaign",
        "--seeds",
        "1..=2",
        "--events-max",
        "300",
        "--no-progress",
    ];
    let output = run_in(&dir, &clean);
    let out = stdout(&output);
    assert!(
        out.contains("replayed 1 stored failures: 1 still failing, 0 fixed"),
        "{out}"
    );
    assert!(
        out.contains(&format!("{name}: still failing: FAILED:")),
        "{out}"
    );
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(matches!(
        replay_stored(&db).traces[0].1,
        Replayed::StillFailing(_)
    ));

    // Without the fault in its header, the trace passes: reported fixed, and kept.
    let text = std::fs::read_to_string(&files[0]).unwrap();
    let fixed = text.replacen(",\"fault\":\"RemoveTakesNeighbour\"", "", 1);
    assert_ne!(fixed, text);
    std::fs::write(&files[0], fixed).unwrap();
    // A trace of another format version is an error for that trace, named.
    let future = text.replacen("\"format_version\":1", "\"format_version\":99", 1);
    std::fs::write(db.join("failure-0000000000000000.jsonl"), future).unwrap();
    let output = run_in(&dir, &clean);
    let out = stdout(&output);
    assert!(
        out.contains("replayed 2 stored failures: 0 still failing, 1 fixed, 1 unreadable"),
        "{out}"
    );
    assert!(out.contains(&format!("{name}: fixed")), "{out}");
    let err = stderr(&output);
    assert!(
        err.contains("failure-0000000000000000.jsonl: ") && err.contains("99"),
        "{err}"
    );
    assert_eq!(output.status.code(), Some(0), "{out}{err}");
    assert_eq!(stored_files(&db).len(), 2);
}

#[test]
fn regressions_must_be_a_directory() {
    let dir = scratch("regressions", "bad");
    std::fs::write(dir.join("file"), "").unwrap();
    let args = ["campaign", "--seeds", "0..1", "--regressions", "file"];
    let output = run_in(&dir, &args);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--regressions file: not a directory"));
}

#[test]
fn file_names_are_stable_hashes_of_the_signature() {
    let signature = serde_json::json!({ "kind": "check", "check": "len" });
    let name = file_name("level", &signature);
    assert_eq!(name, file_name("level", &signature));
    assert_ne!(name, file_name("segmented-array", &signature));
    let other = serde_json::json!({ "kind": "check", "check": "order" });
    assert_ne!(name, file_name("level", &other));
    assert_eq!(name.len(), "failure-.jsonl".len() + 16);
}

//! The failure database: every failure a campaign finds is kept as its shrunk trace, one
//! file per distinct failure signature, and every campaign replays the stored traces
//! before its first seed.
//!
//! A stored trace is named `failure-<hash>.jsonl`, `<hash>` being the FNV-1a 64 hash (in
//! hex) of the fuzz target's name and the signature's JSON: stable across runs, machines
//! and Rust versions, so the same bug found twice is stored once. A trace whose failure
//! no longer happens is reported as fixed and kept (remove the file when the fix is
//! done). A trace that cannot be read (another format version, bad JSON, unknown target)
//! is reported as an error for that trace, never skipped silently.

use core::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::level;
use crate::segmented_array;
use crate::support::trace_file::{read_text, target_of};

/// Most stored traces one replay reads (a bound on the loop; far above any real count).
pub const STORED_TRACES_MAX: usize = 100_000;

/// The file name a failure with `signature` (its JSON) of `target` is stored under.
pub fn file_name(target: &str, signature: &serde_json::Value) -> String {
    let text = format!("{target}\n{signature}");
    // FNV-1a 64: a fixed, documented hash (std's hasher may change between releases).
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("failure-{hash:016x}.jsonl")
}

/// Stores the shrunk trace at `trace` in `dir` under its signature's name, unless a trace
/// of that signature is stored already. Returns the stored path when it is new.
pub fn store(
    dir: &Path,
    target: &str,
    signature: &serde_json::Value,
    trace: &Path,
) -> io::Result<Option<PathBuf>> {
    fs::create_dir_all(dir)?;
    let path = dir.join(file_name(target, signature));
    if path.exists() {
        return Ok(None);
    }
    fs::copy(trace, &path)?;
    Ok(Some(path))
}

/// What replaying one stored trace gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Replayed {
    /// It failed again (the first line of the failure).
    StillFailing(String),
    /// Every check held: its bug is fixed.
    Fixed,
    /// It could not be read or run (why).
    Error(String),
}

/// The replay of every stored trace of a folder.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoredReplay {
    /// Each trace, by path (sorted), with what replaying it gave.
    pub traces: Vec<(PathBuf, Replayed)>,
    /// Why the folder itself could not be read, if so.
    pub folder_error: Option<String>,
}

impl StoredReplay {
    /// Traces that failed again.
    pub fn still_failing(&self) -> usize {
        self.count(|r| matches!(r, Replayed::StillFailing(_)))
    }

    /// Traces that no longer fail.
    pub fn fixed(&self) -> usize {
        self.count(|r| matches!(r, Replayed::Fixed))
    }

    /// Traces that could not be read or run (plus one for an unreadable folder).
    pub fn errors(&self) -> usize {
        self.count(|r| matches!(r, Replayed::Error(_))) + usize::from(self.folder_error.is_some())
    }

    fn count(&self, what: impl Fn(&Replayed) -> bool) -> usize {
        self.traces.iter().filter(|(_, r)| what(r)).count()
    }
}

/// `replayed 3 stored failures: 1 still failing, 2 fixed` (`, 1 unreadable` when so).
impl fmt::Display for StoredReplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "replayed {} stored failures: {} still failing, {} fixed",
            self.traces.len(),
            self.still_failing(),
            self.fixed()
        )?;
        match self.errors() {
            0 => Ok(()),
            errors => write!(f, ", {errors} unreadable"),
        }
    }
}

/// Replays every `*.jsonl` trace in `dir` (none when `dir` does not exist).
pub fn replay_stored(dir: &Path) -> StoredReplay {
    let mut replay = StoredReplay::default();
    let paths = match trace_paths(dir) {
        Ok(paths) => paths,
        Err(error) => {
            replay.folder_error = Some(format!("{}: {error}", dir.display()));
            return replay;
        }
    };
    for path in paths {
        let result = replay_one(&path);
        replay.traces.push((path, result));
    }
    replay
}

/// The sorted `*.jsonl` files of `dir`; empty when `dir` does not exist.
fn trace_paths(dir: &Path) -> io::Result<Vec<PathBuf>> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let mut paths = Vec::new();
    for entry in fs::read_dir(dir)?.take(STORED_TRACES_MAX) {
        let path = entry?.path();
        if path.extension().is_some_and(|ext| ext == "jsonl") {
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths)
}

/// Replays one stored trace of either target.
pub fn replay_one(path: &Path) -> Replayed {
    let text = match read_text(path) {
        Ok(text) => text,
        Err(error) => return Replayed::Error(error.to_string()),
    };
    let target = match target_of(&text) {
        Ok(target) => target,
        Err(error) => return Replayed::Error(error.to_string()),
    };
    let first_line = |failure: String| failure.lines().next().unwrap_or("").to_string();
    match target.as_str() {
        "level" => match level::trace::Trace::parse(&text) {
            Err(error) => Replayed::Error(error.to_string()),
            Ok(trace) => match level::runner::run_ops(trace.config(), &trace.ops) {
                Ok(_) => Replayed::Fixed,
                Err(failure) => Replayed::StillFailing(first_line(failure.to_string())),
            },
        },
        "segmented-array" => match segmented_array::Trace::parse(&text) {
            Err(error) => Replayed::Error(error.to_string()),
            Ok(trace) => {
                match segmented_array::run_ops(trace.setup(), &trace.ops, trace.faults()) {
                    Ok(_) => Replayed::Fixed,
                    Err(failure) => Replayed::StillFailing(first_line(failure.to_string())),
                }
            }
        },
        other => Replayed::Error(format!("unknown fuzz target {other:?}")),
    }
}

/// Stores the shrunk trace at `trace` (of `target`, failing with `signature`) in `dir`
/// when there is one; a failure to store is said on stderr (the trace itself is kept
/// where the campaign wrote it).
pub fn keep(dir: Option<&Path>, target: &str, signature: &impl serde::Serialize, trace: &Path) {
    let Some(dir) = dir else { return };
    let signature = serde_json::to_value(signature).expect("a signature serializes");
    match store(dir, target, &signature, trace) {
        Ok(Some(stored)) => eprintln!("regressions: stored {}", stored.display()),
        Ok(None) => {}
        Err(error) => eprintln!(
            "regressions: could not store {} in {}: {error}",
            trace.display(),
            dir.display()
        ),
    }
}

//! Traces: a run's configuration and ops as JSON lines, to replay it bit for bit.
//!
//! A trace is a text file. Its first line is a [`TraceHeader`] object, every further line
//! one [`FuzzOp`] in its `serde` form:
//!
//! ```text
//! {"format_version":1,"generator":"manifest-level-fuzz 0.1.0","config":{"seed":1,"events_max":2000,"table_count_max":1024,"node_size":1024,"weights":{...},"fault":"RetireKeepsCounters"},"op_count":2,"failure":{"kind":"check","check":"table_count_visible"}}
//! {"op":"insert_tables","count":1}
//! {"op":"update_tables","count":1}
//! ```
//!
//! - `format_version` is [`FORMAT_VERSION`]; any other version is rejected (a reader never
//!   guesses at a format it does not know).
//! - `config` is the whole [`RunConfig`] (the seed gives the tables' contents, the other
//!   fields the level's parameters and mode), so a replay needs nothing else. A planted
//!   fault is written by name; reading one needs the `fault-injection` feature.
//! - `op_count` is the number of op lines that follow (a truncated trace is an error).
//! - `failure`, when present, is the failure the trace is known to produce (a shrunk
//!   trace records the check it still fails), so a replay can say whether it reproduced.
//!
//! Replaying runs the ops with [`run_ops`](super::runner::run_ops) under the header's
//! config: the same tables, the same checks, the same digest as the recorded run.

use core::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::level::ops::FuzzOp;
use crate::level::reduce::FailureSignature;
use crate::level::runner::RunConfig;

/// The trace format this fuzzer writes and reads.
pub const FORMAT_VERSION: u64 = 1;

/// The first line of a trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceHeader {
    /// [`FORMAT_VERSION`].
    pub format_version: u64,
    /// The program that wrote the trace (informational).
    #[serde(default)]
    pub generator: String,
    /// The run's whole configuration.
    pub config: RunConfig,
    /// The number of op lines after the header.
    pub op_count: usize,
    /// The failure the ops are known to produce, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<FailureSignature>,
}

/// A run as data: its configuration and its ops.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    /// The header (configuration, op count, known failure).
    pub header: TraceHeader,
    /// The ops, in order.
    pub ops: Vec<FuzzOp>,
}

/// Why a trace could not be read.
#[derive(Debug)]
pub enum TraceError {
    /// The file could not be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        error: io::Error,
    },
    /// The trace has no header line.
    Empty,
    /// The header declares a format version this fuzzer does not know.
    UnsupportedVersion {
        /// The version found.
        found: String,
    },
    /// The header needs the `fault-injection` feature (it plants a fault).
    NeedsFaultInjection {
        /// The fault's name.
        fault: String,
    },
    /// A line is not what the format says (`line` counts from 1; the header is line 1).
    Malformed {
        /// The line number.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
    /// The number of op lines differs from the header's `op_count`.
    OpCount {
        /// The header's count.
        expected: usize,
        /// The op lines found.
        found: usize,
    },
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            TraceError::Empty => write!(f, "empty trace: no header line"),
            TraceError::UnsupportedVersion { found } => write!(
                f,
                "unsupported trace format_version {found}: this fuzzer reads version \
                 {FORMAT_VERSION}"
            ),
            TraceError::NeedsFaultInjection { fault } => write!(
                f,
                "the trace plants the fault {fault}: replay it with a build that has \
                 `--features fault-injection`"
            ),
            TraceError::Malformed { line, message } => write!(f, "line {line}: {message}"),
            TraceError::OpCount { expected, found } => write!(
                f,
                "the header announces {expected} ops but {found} follow (truncated trace?)"
            ),
        }
    }
}

impl std::error::Error for TraceError {}

impl Trace {
    /// A trace of `ops` run with `config`, with no known failure.
    pub fn new(config: &RunConfig, ops: Vec<FuzzOp>) -> Trace {
        Trace {
            header: TraceHeader {
                format_version: FORMAT_VERSION,
                generator: concat!("manifest-level-fuzz ", env!("CARGO_PKG_VERSION")).into(),
                config: RunConfig {
                    log_ops: false,
                    ..config.clone()
                },
                op_count: ops.len(),
                failure: None,
            },
            ops,
        }
    }

    /// The same trace, recording the failure its ops produce.
    #[must_use]
    pub fn with_failure(mut self, failure: Option<FailureSignature>) -> Trace {
        self.header.failure = failure;
        self
    }

    /// The run's configuration.
    pub fn config(&self) -> &RunConfig {
        &self.header.config
    }

    /// The trace as JSON lines (header first), each ending in a newline.
    pub fn to_json_lines(&self) -> String {
        let header = TraceHeader {
            op_count: self.ops.len(),
            ..self.header.clone()
        };
        let mut text = serde_json::to_string(&header).expect("a header serializes");
        text.push('\n');
        for op in &self.ops {
            text.push_str(&serde_json::to_string(op).expect("an op serializes"));
            text.push('\n');
        }
        text
    }

    /// Parses a trace (see the [module docs](self) for the format).
    pub fn parse(text: &str) -> Result<Trace, TraceError> {
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(index, line)| (index + 1, line));
        let (_, first) = lines.next().ok_or(TraceError::Empty)?;
        if first.trim().is_empty() {
            return Err(TraceError::Empty);
        }
        let header = parse_header(first)?;
        let mut ops = Vec::with_capacity(header.op_count.min(1 << 20));
        for (line, text) in lines {
            if text.trim().is_empty() {
                return Err(TraceError::Malformed {
                    line,
                    message: "empty line (expected one op per line)".into(),
                });
            }
            let op =
                serde_json::from_str::<FuzzOp>(text).map_err(|error| TraceError::Malformed {
                    line,
                    message: format!("not an op: {error}: {}", excerpt(text)),
                })?;
            ops.push(op);
        }
        if ops.len() != header.op_count {
            return Err(TraceError::OpCount {
                expected: header.op_count,
                found: ops.len(),
            });
        }
        Ok(Trace { header, ops })
    }

    /// Reads and parses the trace at `path`.
    pub fn read(path: &Path) -> Result<Trace, TraceError> {
        let text = fs::read_to_string(path).map_err(|error| TraceError::Io {
            path: path.to_path_buf(),
            error,
        })?;
        Trace::parse(&text)
    }

    /// Writes the trace to `path` (replacing it).
    pub fn write(&self, path: &Path) -> Result<(), TraceError> {
        fs::write(path, self.to_json_lines()).map_err(|error| TraceError::Io {
            path: path.to_path_buf(),
            error,
        })
    }
}

/// The header line: the version is checked before anything else, so a trace of another
/// version gets that message rather than a confusing one about its fields.
fn parse_header(text: &str) -> Result<TraceHeader, TraceError> {
    let malformed = |message: String| TraceError::Malformed { line: 1, message };
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|error| malformed(format!("the header is not JSON: {error}")))?;
    let object = value
        .as_object()
        .ok_or_else(|| malformed("the header is not a JSON object".into()))?;
    match object.get("format_version") {
        None => return Err(malformed("the header has no format_version".into())),
        Some(version) if version.as_u64() != Some(FORMAT_VERSION) => {
            return Err(TraceError::UnsupportedVersion {
                found: version.to_string(),
            })
        }
        Some(_) => {}
    }
    #[cfg(not(feature = "fault-injection"))]
    if let Some(fault) = object
        .get("config")
        .and_then(|config| config.get("fault"))
        .filter(|fault| !fault.is_null())
    {
        return Err(TraceError::NeedsFaultInjection {
            fault: fault
                .as_str()
                .map_or_else(|| fault.to_string(), String::from),
        });
    }
    let header: TraceHeader =
        serde_json::from_value(value).map_err(|error| malformed(format!("bad header: {error}")))?;
    header
        .config
        .validate()
        .map_err(|error| malformed(format!("bad config: {error}")))?;
    Ok(header)
}

/// The command that replays the trace at `path` (with `--features fault-injection` when
/// the config plants a fault).
pub fn replay_command(config: &RunConfig, path: &Path) -> String {
    let mut command = String::from("cargo run --release -p manifest-level-fuzz");
    #[cfg(feature = "fault-injection")]
    if config.fault.is_some() {
        command.push_str(" --features fault-injection");
    }
    #[cfg(not(feature = "fault-injection"))]
    let _ = config;
    command.push_str(&format!(" -- --replay {}", path.display()));
    command
}

/// The start of a line, for error messages.
fn excerpt(text: &str) -> String {
    const MAX: usize = 80;
    match text.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::level::runner::{plan, RunConfig};

    fn sample() -> Trace {
        let config = RunConfig {
            events_max: Some(50),
            ..RunConfig::new(7)
        };
        Trace::new(&config, plan(&config).ops)
    }

    #[test]
    fn round_trips() {
        let trace = sample();
        let text = trace.to_json_lines();
        assert_eq!(text.lines().count(), 51);
        assert!(text.starts_with(r#"{"format_version":1,"generator":"manifest-level-fuzz "#));
        assert_eq!(Trace::parse(&text).unwrap(), trace);
        let shrunk = trace.with_failure(Some(FailureSignature::Check {
            check: crate::level::environment::Check::TableCountVisible,
        }));
        assert_eq!(Trace::parse(&shrunk.to_json_lines()).unwrap(), shrunk);
    }

    #[test]
    fn rejects_bad_traces() {
        let text = sample().to_json_lines();
        let (header, ops) = text.split_once('\n').unwrap();
        let cases = [
            (String::new(), "empty trace"),
            (
                format!(
                    "{}\n{ops}",
                    header.replace(r#""format_version":1"#, r#""format_version":2"#)
                ),
                "unsupported trace format_version 2",
            ),
            (
                format!("{}\n{ops}", header.replace(r#""format_version":1,"#, "")),
                "no format_version",
            ),
            ("[1]\n".into(), "not a JSON object"),
            ("{nope\n".into(), "not JSON"),
            (
                format!(
                    "{}\n{ops}",
                    header.replace(r#""seed":7"#, r#""seed":7,"colour":"red""#)
                ),
                "unknown field `colour`",
            ),
            (
                format!(
                    "{}\n{ops}",
                    header.replace(r#""node_size":1024"#, r#""node_size":1000"#)
                ),
                "bad config",
            ),
            (
                format!("{header}\n{{\"op\":\"compact\"}}\n"),
                "line 2: not an op",
            ),
            (format!("{header}\n\n{ops}"), "line 2: empty line"),
            (
                text.lines().take(10).collect::<Vec<_>>().join("\n"),
                "announces 50 ops but 9 follow",
            ),
        ];
        for (text, message) in cases {
            let error = Trace::parse(&text).unwrap_err().to_string();
            assert!(error.contains(message), "{message:?} not in {error:?}");
        }
    }

    #[cfg(feature = "fault-injection")]
    #[test]
    fn faults_by_name() {
        use manifest_level::Fault;
        let config = RunConfig {
            fault: Some(Fault::KeyRangeNotShrunk),
            ..RunConfig::new(3)
        };
        let json = serde_json::to_string(&config).unwrap();
        assert!(json.ends_with(r#""fault":"KeyRangeNotShrunk"}"#), "{json}");
        assert_eq!(serde_json::from_str::<RunConfig>(&json).unwrap(), config);
        let no_fault = serde_json::to_string(&RunConfig::new(3)).unwrap();
        assert!(!no_fault.contains("fault"), "{no_fault}");
        let bad = json.replace("KeyRangeNotShrunk", "NoSuchFault");
        assert!(serde_json::from_str::<RunConfig>(&bad).is_err());
    }
}

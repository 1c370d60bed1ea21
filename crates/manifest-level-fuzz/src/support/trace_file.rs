//! The trace file format, shared by every fuzz target: a run's configuration and ops as
//! JSON lines, to replay it bit for bit.
//!
//! A trace is a text file. Its first line is a [`TraceHeader`] object, every further line
//! one op of the target's op model in its `serde` form:
//!
//! ```text
//! {"format_version":1,"target":"level","generator":"manifest-level-fuzz 0.1.0","config":{...},"op_count":2,"failure":{"kind":"check","check":"table_count_visible"}}
//! {"op":"insert_tables","count":1}
//! {"op":"update_tables","count":1}
//! ```
//!
//! - `format_version` is [`FORMAT_VERSION`]; any other version is rejected (a reader never
//!   guesses at a format it does not know). It is checked before anything else.
//! - `target` names the op model ([`TraceTarget::NAME`]: `level`, `segmented-array`);
//!   absent means `level`. A reader of one target rejects a trace of another.
//! - `config` is the target's whole run configuration, so a replay needs nothing else. A
//!   planted fault is written by name; reading one needs the `fault-injection` feature.
//! - `op_count` is the number of op lines that follow (a truncated trace is an error).
//! - `failure`, when present, is the [`FailureSignature`] the trace is known to produce (a
//!   shrunk trace records the failure it still has), so a replay can say whether it
//!   reproduced.

use core::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::signature::FailureSignature;

/// The trace format this crate writes and reads.
pub const FORMAT_VERSION: u64 = 1;

/// The target a header without `target` belongs to (traces written before there was more
/// than one).
pub const DEFAULT_TARGET: &str = "level";

/// A fuzz target's part of the format: its name, configuration, ops and checks. Implemented
/// by a marker type (the bounds let headers and traces derive `Clone`, `Debug`, `Eq`).
pub trait TraceTarget: Clone + fmt::Debug + PartialEq + Eq {
    /// The name in the header's `target` field.
    const NAME: &'static str;
    /// The whole configuration of a run.
    type Config: Clone + fmt::Debug + Eq + Serialize + DeserializeOwned;
    /// One op of the target's op model.
    type Op: Clone + fmt::Debug + Eq + Serialize + DeserializeOwned;
    /// The target's check names, for [`FailureSignature`].
    type Check: Clone + fmt::Debug + Eq + Serialize + DeserializeOwned;

    /// Whether a parsed configuration is one the target can run.
    fn validate(config: &Self::Config) -> Result<(), String>;

    /// The name of the fault `config` plants, if any (read from the raw JSON, so a build
    /// without `fault-injection` can say what it lacks).
    fn planted_fault(config: &serde_json::Value) -> Option<String>;

    /// The configuration as a trace records it (for example without logging switches).
    fn recorded(config: &Self::Config) -> Self::Config {
        config.clone()
    }
}

/// The first line of a trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, bound = "")]
pub struct TraceHeader<T: TraceTarget> {
    /// [`FORMAT_VERSION`].
    pub format_version: u64,
    /// [`TraceTarget::NAME`].
    #[serde(default = "default_target")]
    pub target: String,
    /// The program that wrote the trace (informational).
    #[serde(default)]
    pub generator: String,
    /// The run's whole configuration.
    pub config: T::Config,
    /// The number of op lines after the header.
    pub op_count: usize,
    /// The failure the ops are known to produce, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<FailureSignature<T::Check>>,
}

fn default_target() -> String {
    DEFAULT_TARGET.to_string()
}

/// A run as data: its configuration and its ops.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace<T: TraceTarget> {
    /// The header (configuration, op count, known failure).
    pub header: TraceHeader<T>,
    /// The ops, in order.
    pub ops: Vec<T::Op>,
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
    /// The trace is of another fuzz target than the one reading it.
    WrongTarget {
        /// The target the trace names.
        found: String,
        /// The target of the reader.
        expected: &'static str,
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
            TraceError::WrongTarget { found, expected } => {
                write!(f, "the trace is of the target {found:?}, not {expected:?}")
            }
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

impl<T: TraceTarget> Trace<T> {
    /// A trace of `ops` run with `config`, with no known failure.
    pub fn new(config: &T::Config, ops: Vec<T::Op>) -> Trace<T> {
        Trace {
            header: TraceHeader {
                format_version: FORMAT_VERSION,
                target: T::NAME.to_string(),
                generator: concat!("manifest-level-fuzz ", env!("CARGO_PKG_VERSION")).into(),
                config: T::recorded(config),
                op_count: ops.len(),
                failure: None,
            },
            ops,
        }
    }

    /// The same trace, recording the failure its ops produce.
    #[must_use]
    pub fn with_failure(mut self, failure: Option<FailureSignature<T::Check>>) -> Trace<T> {
        self.header.failure = failure;
        self
    }

    /// The run's configuration.
    pub fn config(&self) -> &T::Config {
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
    pub fn parse(text: &str) -> Result<Trace<T>, TraceError> {
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(index, line)| (index + 1, line));
        let (_, first) = lines.next().ok_or(TraceError::Empty)?;
        if first.trim().is_empty() {
            return Err(TraceError::Empty);
        }
        let header = parse_header::<T>(first)?;
        let mut ops = Vec::with_capacity(header.op_count.min(1 << 20));
        for (line, text) in lines {
            if text.trim().is_empty() {
                return Err(TraceError::Malformed {
                    line,
                    message: "empty line (expected one op per line)".into(),
                });
            }
            let op =
                serde_json::from_str::<T::Op>(text).map_err(|error| TraceError::Malformed {
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
    pub fn read(path: &Path) -> Result<Trace<T>, TraceError> {
        Trace::parse(&read_text(path)?)
    }

    /// Writes the trace to `path` (replacing it).
    pub fn write(&self, path: &Path) -> Result<(), TraceError> {
        fs::write(path, self.to_json_lines()).map_err(|error| TraceError::Io {
            path: path.to_path_buf(),
            error,
        })
    }
}

/// The text of the file at `path`.
pub fn read_text(path: &Path) -> Result<String, TraceError> {
    fs::read_to_string(path).map_err(|error| TraceError::Io {
        path: path.to_path_buf(),
        error,
    })
}

/// The `target` a trace's text names (its header's, [`DEFAULT_TARGET`] when absent),
/// after checking the format version: what a reader of any target calls first to know
/// which target's [`Trace::parse`] to call.
pub fn target_of(text: &str) -> Result<String, TraceError> {
    let first = text.lines().next().filter(|line| !line.trim().is_empty());
    let object = header_object(first.ok_or(TraceError::Empty)?)?;
    Ok(object
        .get("target")
        .and_then(|target| target.as_str())
        .unwrap_or(DEFAULT_TARGET)
        .to_string())
}

/// The header line as a JSON object whose version is [`FORMAT_VERSION`]: the version is
/// checked before anything else, so a trace of another version gets that message rather
/// than a confusing one about its fields.
fn header_object(text: &str) -> Result<serde_json::Map<String, serde_json::Value>, TraceError> {
    let malformed = |message: String| TraceError::Malformed { line: 1, message };
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|error| malformed(format!("the header is not JSON: {error}")))?;
    let serde_json::Value::Object(object) = value else {
        return Err(malformed("the header is not a JSON object".into()));
    };
    match object.get("format_version") {
        None => Err(malformed("the header has no format_version".into())),
        Some(version) if version.as_u64() != Some(FORMAT_VERSION) => {
            Err(TraceError::UnsupportedVersion {
                found: version.to_string(),
            })
        }
        Some(_) => Ok(object),
    }
}

/// The header line of a trace of `T`: version, target, fault, then the typed fields.
fn parse_header<T: TraceTarget>(text: &str) -> Result<TraceHeader<T>, TraceError> {
    let malformed = |message: String| TraceError::Malformed { line: 1, message };
    let object = header_object(text)?;
    let target = object
        .get("target")
        .map_or(Some(DEFAULT_TARGET), |target| target.as_str());
    if target != Some(T::NAME) {
        return Err(TraceError::WrongTarget {
            found: object.get("target").map_or_else(String::new, |t| {
                t.as_str().map_or_else(|| t.to_string(), String::from)
            }),
            expected: T::NAME,
        });
    }
    #[cfg(not(feature = "fault-injection"))]
    if let Some(fault) = object.get("config").and_then(T::planted_fault) {
        return Err(TraceError::NeedsFaultInjection { fault });
    }
    let header: TraceHeader<T> = serde_json::from_value(serde_json::Value::Object(object))
        .map_err(|error| malformed(format!("bad header: {error}")))?;
    T::validate(&header.config).map_err(|error| malformed(format!("bad config: {error}")))?;
    Ok(header)
}

/// The start of a line, for error messages.
fn excerpt(text: &str) -> String {
    const MAX: usize = 80;
    match text.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_string(),
    }
}

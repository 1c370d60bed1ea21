//! The level's traces: its [`RunConfig`] and [`FuzzOp`]s in the shared trace format
//! ([`crate::support::trace_file`], target `level`).
//!
//! ```text
//! {"format_version":1,"target":"level","generator":"manifest-level-fuzz 0.1.0","config":{"seed":1,"events_max":2000,"table_count_max":1024,"node_size":1024,"weights":{...},"fault":"RetireKeepsCounters"},"op_count":2,"failure":{"kind":"check","check":"table_count_visible"}}
//! {"op":"insert_tables","count":1}
//! {"op":"update_tables","count":1}
//! ```
//!
//! `config` is the whole [`RunConfig`] (the seed gives the tables' contents, the other
//! fields the level's parameters and mode). Replaying runs the ops with
//! [`run_ops`](super::runner::run_ops) under the header's config: the same tables, the
//! same checks, the same digest as the recorded run.

use std::path::Path;

use crate::level::environment::Check;
use crate::level::ops::FuzzOp;
use crate::level::runner::RunConfig;
use crate::support::trace_file::{self, TraceTarget};

pub use crate::support::trace_file::{TraceError, FORMAT_VERSION};

/// The level's part of the trace format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LevelTarget;

impl TraceTarget for LevelTarget {
    const NAME: &'static str = "level";
    type Config = RunConfig;
    type Op = FuzzOp;
    type Check = Check;

    fn validate(config: &RunConfig) -> Result<(), String> {
        config
            .validate()
            .map(|_| ())
            .map_err(|error| error.to_string())
    }

    fn planted_fault(config: &serde_json::Value) -> Option<String> {
        let fault = config.get("fault").filter(|fault| !fault.is_null())?;
        Some(
            fault
                .as_str()
                .map_or_else(|| fault.to_string(), String::from),
        )
    }

    fn recorded(config: &RunConfig) -> RunConfig {
        RunConfig {
            log_ops: false,
            ..config.clone()
        }
    }
}

/// A level run as data: its configuration and its ops.
pub type Trace = trace_file::Trace<LevelTarget>;

/// The first line of a level trace.
pub type TraceHeader = trace_file::TraceHeader<LevelTarget>;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::level::reduce::FailureSignature;
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
        assert!(text.starts_with(
            r#"{"format_version":1,"target":"level","generator":"manifest-level-fuzz "#
        ));
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

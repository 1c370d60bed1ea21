//! The segmented array's traces: a [`Setup`], the planted [`Faults`] and the [`Op`]s, in
//! the shared trace format ([`crate::support::trace_file`], target `segmented-array`). The
//! header is one line in a file, wrapped here:
//!
//! ```text
//! {"format_version":1,"target":"segmented-array","generator":"manifest-level-fuzz 0.1.0",
//!   "config":{"setup":{"element":"u64","node_size":64,...},"faults":{"search_off_by_one":false}},
//!   "op_count":2}
//! {"op":"insert_sorted","count":3,"key":7,"spread":2}
//! {"op":"lower_bound","key":8}
//! ```
//!
//! The in-memory form is the same type: seed runs record into it, shrinking produces it,
//! libFuzzer inputs decode to it, and [`run_ops`](super::runner::run_ops) replays it.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::faults::Faults;
use super::ops::Op;
use super::setup::Setup;
use crate::support::trace_file::{self, TraceTarget};

/// What a segmented-array run needs besides its ops.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceConfig {
    /// The setup (normalized).
    pub setup: Setup,
    /// The planted bugs (none for a real failure).
    #[serde(default)]
    pub faults: Faults,
}

/// The segmented array's part of the trace format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentedArrayTarget;

impl TraceTarget for SegmentedArrayTarget {
    const NAME: &'static str = "segmented-array";
    type Config = TraceConfig;
    type Op = Op;
    type Check = String;

    fn validate(config: &TraceConfig) -> Result<(), String> {
        if config.setup.normalized() == config.setup {
            Ok(())
        } else {
            Err(format!(
                "the setup is not normalized (as normalized: {:?})",
                config.setup.normalized()
            ))
        }
    }

    fn planted_fault(config: &serde_json::Value) -> Option<String> {
        let planted = config.get("faults")?.get("search_off_by_one")?;
        (planted.as_bool() == Some(true)).then(|| "search_off_by_one".to_string())
    }
}

/// A segmented-array run as data: its setup, planted faults and ops.
pub type Trace = trace_file::Trace<SegmentedArrayTarget>;

impl Trace {
    /// The trace of `ops` on `setup` (normalized), with `faults` planted.
    pub fn of(setup: Setup, faults: Faults, ops: Vec<Op>) -> Trace {
        let config = TraceConfig {
            setup: setup.normalized(),
            faults,
        };
        Trace::new(&config, ops)
    }

    /// The run's setup.
    pub fn setup(&self) -> Setup {
        self.header.config.setup
    }

    /// The run's planted faults.
    pub fn faults(&self) -> Faults {
        self.header.config.faults
    }
}

/// The command that replays the trace at `path` (with `--features fault-injection` when
/// it plants a fault).
pub fn replay_command(trace: &Trace, path: &Path) -> String {
    let features = if trace.faults() == Faults::default() {
        ""
    } else {
        " --features fault-injection"
    };
    format!(
        "cargo run --release -p manifest-level-fuzz{features} -- segmented-array --replay {}",
        path.display()
    )
}

//! The bugs the segmented-array fuzzer can plant in the array, to prove it catches them.

use serde::{Deserialize, Serialize};

/// Planted bugs, to prove the fuzzer catches them (need the `fault-injection` feature).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// `lower_bound` skips one element when its answer is the first of a node
    /// (`SegmentedArray::inject_search_fault`).
    pub search_off_by_one: bool,
}

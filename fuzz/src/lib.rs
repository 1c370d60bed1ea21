//! Input formats of the cargo-fuzz targets, shared by the targets and by the examples
//! (`examples/seed_corpus.rs`, `examples/crash_to_trace.rs`).
//!
//! - `segmented_array`: [`Trace::from_fuzz_input`] of the segmented-array fuzzer
//!   (`manifest_level_fuzz::segmented_array`), encoded by [`Trace::to_fuzz_input`].
//! - `manifest_level`: [`decode_manifest_level`], encoded by [`encode_manifest_level`]:
//!   the format of [`manifest_level_fuzz::level::fuzz_input`] (the extended op set with deep
//!   checks, at most [`OPS_MAX`] ops), plus the fault the `plant-*-fault` features plant.
//!
//! [`Trace::from_fuzz_input`]: manifest_level_fuzz::segmented_array::Trace::from_fuzz_input
//! [`Trace::to_fuzz_input`]: manifest_level_fuzz::segmented_array::Trace::to_fuzz_input

#![deny(missing_docs)]

use manifest_level_fuzz::level::fuzz_input;
pub use manifest_level_fuzz::level::fuzz_input::{
    encode_manifest_level, NODE_SIZES, OPS_MAX, TABLE_COUNT_MAX,
};
use manifest_level_fuzz::level::ops::FuzzOp;
use manifest_level_fuzz::level::runner::RunConfig;

#[cfg(all(feature = "plant-level-fault", feature = "plant-next-table-fault"))]
compile_error!("plant-level-fault and plant-next-table-fault each plant a fault: pick one");

/// The fault `plant-level-fault` plants in every `manifest_level` run:
/// `Fault::RemoveTakesNeighbour` (`remove_table` removes the next table), which the
/// faithful op set finds too.
#[cfg(feature = "plant-level-fault")]
pub const PLANTED_FAULT: Option<manifest_level::Fault> =
    Some(manifest_level::Fault::RemoveTakesNeighbour);

/// The fault `plant-next-table-fault` plants in every `manifest_level` run:
/// `Fault::NextTableInclusive` (`next_table` with `key_exclusive` returns a table touching
/// the exclusive key), which only the extended op set's `next_table` walks can see.
#[cfg(feature = "plant-next-table-fault")]
pub const PLANTED_FAULT: Option<manifest_level::Fault> =
    Some(manifest_level::Fault::NextTableInclusive);

/// Decodes a `manifest_level` input with
/// [`manifest_level_fuzz::level::fuzz_input::decode_manifest_level`]: a run configuration of the
/// extended op set with deep checks (seed, `table_count_max`, node size from the input)
/// and at most [`OPS_MAX`] ops, each valid where it stands. With a `plant-*-fault`
/// feature, the configuration also plants that fault (`PLANTED_FAULT`), which a trace
/// made from it keeps.
pub fn decode_manifest_level(data: &[u8]) -> (RunConfig, Vec<FuzzOp>) {
    #[allow(unused_mut)]
    let (mut config, ops) = fuzz_input::decode_manifest_level(data);
    #[cfg(any(feature = "plant-level-fault", feature = "plant-next-table-fault"))]
    {
        config.fault = PLANTED_FAULT;
    }
    (config, ops)
}

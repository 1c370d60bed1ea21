//! Input formats of the cargo-fuzz targets, shared by the targets and by the corpus seeder
//! (`examples/seed_corpus.rs`).
//!
//! - `segmented_array`: [`Trace::from_fuzz_input`] of the segmented-array fuzzer
//!   (`manifest_level_fuzz::segmented_array_fuzz`), encoded by [`Trace::to_fuzz_input`].
//! - `manifest_level`: [`decode_manifest_level`], encoded by [`encode_manifest_level`].
//!
//! [`Trace::from_fuzz_input`]: manifest_level_fuzz::segmented_array_fuzz::Trace::from_fuzz_input
//! [`Trace::to_fuzz_input`]: manifest_level_fuzz::segmented_array_fuzz::Trace::to_fuzz_input

#![deny(missing_docs)]

use arbitrary::{Arbitrary, Unstructured};
use manifest_level_fuzz::generate::GenerateContext;
use manifest_level_fuzz::ops::{FuzzOp, OpKind};
use manifest_level_fuzz::prng::Prng;
use manifest_level_fuzz::runner::RunConfig;

/// The most ops one `manifest_level` input decodes to.
pub const OPS_MAX: usize = 256;

/// The largest `table_count_max` a `manifest_level` input decodes to.
pub const TABLE_COUNT_MAX: u32 = 1024;

/// Node sizes a `manifest_level` input picks from (a `TableInfo<u64>` is 64 bytes, so 128
/// holds two).
pub const NODE_SIZES: [usize; 6] = [128, 256, 512, 1024, 2048, 4096];

/// Decodes a `manifest_level` input: an environment seed (`u64`), `table_count_max - 1`
/// (`u16`, modulo 1024), a node-size index (`u8`), then per op a kind byte and a 16-bit
/// count seed, which the seed fuzzer's [`GenerateContext`] turns into an op that is valid
/// where it stands. At most [`OPS_MAX`] ops; every byte string decodes (missing bytes
/// read as zero). With the `plant-level-fault` feature, the configuration plants
/// `Fault::RemoveTakesNeighbour`.
pub fn decode_manifest_level(data: &[u8]) -> (RunConfig, Vec<FuzzOp>) {
    let mut input = Unstructured::new(data);
    let seed = u64::arbitrary(&mut input).unwrap_or(0);
    let table_count_max = 1 + u32::from(u16::arbitrary(&mut input).unwrap_or(0)) % TABLE_COUNT_MAX;
    let node_size =
        NODE_SIZES[usize::from(u8::arbitrary(&mut input).unwrap_or(0)) % NODE_SIZES.len()];
    let config = RunConfig {
        events_max: Some(OPS_MAX as u64),
        table_count_max,
        node_size,
        // The demo feature plants a known bug in every run.
        #[cfg(feature = "plant-level-fault")]
        fault: Some(manifest_level::Fault::RemoveTakesNeighbour),
        ..RunConfig::new(seed)
    };
    let mut context = GenerateContext::new(&config.params());
    let mut ops = Vec::new();
    while !input.is_empty() && ops.len() < OPS_MAX {
        let kind = OpKind::ALL[usize::from(u8::arbitrary(&mut input).unwrap_or(0)) % 5];
        let count_seed = u16::arbitrary(&mut input).unwrap_or(0);
        ops.push(context.next(&mut Prng::from_seed(u64::from(count_seed)), kind));
    }
    (config, ops)
}

/// Encodes a valid op list of a seed run as a `manifest_level` input that
/// [`decode_manifest_level`] turns back into the same configuration and ops (the first
/// [`OPS_MAX`]). Each op's count seed is found by search. `None` when the configuration
/// is outside the input format (`table_count_max` above [`TABLE_COUNT_MAX`], another node
/// size) or an op cannot be reproduced.
pub fn encode_manifest_level(config: &RunConfig, ops: &[FuzzOp]) -> Option<Vec<u8>> {
    if config.table_count_max == 0 || config.table_count_max > TABLE_COUNT_MAX {
        return None;
    }
    let node_index = NODE_SIZES
        .iter()
        .position(|&size| size == config.node_size)?;
    let mut bytes = Vec::new();
    bytes.extend(config.seed.to_le_bytes());
    bytes.extend(((config.table_count_max - 1) as u16).to_le_bytes());
    bytes.push(node_index as u8);
    let mut context = GenerateContext::new(&config.params());
    for op in ops.iter().take(OPS_MAX) {
        let kind = op.kind();
        let count_seed = (0..=u16::MAX).find(|&count_seed| {
            let mut trial = context.clone();
            trial.next(&mut Prng::from_seed(u64::from(count_seed)), kind) == *op
        })?;
        context.next(&mut Prng::from_seed(u64::from(count_seed)), kind);
        bytes.push(kind.index() as u8);
        bytes.extend(count_seed.to_le_bytes());
    }
    Some(bytes)
}

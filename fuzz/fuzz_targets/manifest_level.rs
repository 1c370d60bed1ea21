//! libFuzzer target: the `ManifestLevel` under the seed-faithful op model.
//!
//! The input decodes ([`decode_manifest_level`]) into a run configuration (environment
//! seed, `table_count_max`, node size) and at most 256 ops, each a kind and a count that
//! the seed fuzzer's `GenerateContext` makes valid where it stands, so libFuzzer steers
//! the op sequence while every op stays applicable. The ops run through the seed
//! fuzzer's own runner (`runner::run_ops`): the same environment, model and checks after
//! every op.
//!
//! A crash converts into a trace for `manifest-level-fuzz --replay` (which shrinks it and
//! prints a regression test) with `examples/crash_to_trace.rs`. With the
//! `plant-level-fault` feature every run plants `Fault::RemoveTakesNeighbour`, to watch the
//! whole path work (docs/fuzzing.md).
//!
//! This is the faithful op model (spec §4). When the extended op set and deep checks of
//! the deep-fuzzer issue land, this target moves to them.

#![no_main]

use libfuzzer_sys::fuzz_target;
use manifest_level_cargo_fuzz::decode_manifest_level;
use manifest_level_fuzz::runner::run_ops;

fuzz_target!(|data: &[u8]| {
    let (config, ops) = decode_manifest_level(data);
    if config.validate().is_err() {
        return;
    }
    if let Err(failure) = run_ops(&config, &ops) {
        let ops: Vec<String> = ops.iter().map(ToString::to_string).collect();
        panic!(
            "{failure}\n\nconfig: seed {} table_count_max {} node_size {}\nops: {}",
            config.seed,
            config.table_count_max,
            config.node_size,
            ops.join(" ")
        );
    }
});

//! libFuzzer target: the `ManifestLevel` under the op model of a campaign's seed runs,
//! the extended op set with deep checks.
//!
//! The input decodes ([`decode_manifest_level`], the format of
//! `manifest_level_fuzz::level::fuzz_input`) into a run configuration (environment seed,
//! `table_count_max` up to 256, node size 128 to 4096, `u64` or `u128` keys, two or three
//! levels on the pool; the extended op set, deep checks)
//! and at most 64 ops of all twenty kinds, misuse included, each a kind and a count that
//! the seed fuzzer's `GenerateContext` makes valid where it stands, so libFuzzer steers
//! the op sequence while every op stays applicable. The ops run through the seed fuzzer's
//! own runner (`runner::run_ops`): the same environment, model, per-op checks and
//! `DeepChecker` as `manifest-level-fuzz --ops extended --check deep`.
//!
//! A crash converts into a trace for `manifest-level-fuzz --replay` (which shrinks it and
//! prints a regression test) with `examples/crash_to_trace.rs`; the trace's config records
//! the op set and check mode, so the replay is the same run. With the `plant-level-fault`
//! feature every run plants `Fault::RemoveTakesNeighbour`, with `plant-next-table-fault`
//! `Fault::NextTableInclusive` (which only the extended ops see), to watch the whole path
//! work (docs/fuzzing.md).

#![no_main]

use libfuzzer_sys::fuzz_target;
use manifest_level_cargo_fuzz::decode_manifest_level;
use manifest_level_fuzz::level::runner::run_ops;

fuzz_target!(|data: &[u8]| {
    let (config, ops) = decode_manifest_level(data);
    if config.validate().is_err() {
        return;
    }
    if let Err(failure) = run_ops(&config, &ops) {
        let ops: Vec<String> = ops.iter().map(ToString::to_string).collect();
        panic!(
            "{failure}\n\nconfig: seed {} table_count_max {} node_size {} ops {} check {}\nops: {}",
            config.seed,
            config.table_count_max,
            config.node_size,
            config.ops,
            config.check,
            ops.join(" ")
        );
    }
});
